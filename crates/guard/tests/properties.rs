//! Property tests on arbitrary input: scanning never panics, every finding's span lies inside the text
//! (`start < end <= char count`), its excerpt is exactly the original chars `[start, end)`, findings are
//! sorted, the action agrees with the findings, and scanning is deterministic.

use std::sync::OnceLock;

use guard::{Action, Guard, Policy, Verdict};
use proptest::prelude::*;

fn guard() -> &'static Guard {
    static GUARD: OnceLock<Guard> = OnceLock::new();
    GUARD.get_or_init(|| Guard::new(Policy::default()))
}

fn check(text: &str, v: &Verdict) -> Result<(), TestCaseError> {
    let chars: Vec<char> = text.chars().collect();
    prop_assert_eq!(v.action == Action::Block, !v.findings.is_empty());
    for f in &v.findings {
        prop_assert!(f.start < f.end, "empty span {f:?}");
        prop_assert!(
            f.end <= chars.len(),
            "span {f:?} past {} chars",
            chars.len()
        );
        let excerpt: String = chars[f.start..f.end].iter().collect();
        prop_assert_eq!(&f.excerpt, &excerpt);
        prop_assert!(!f.rule.is_empty());
    }
    prop_assert!(v.findings.windows(2).all(|w| w[0].start <= w[1].start));
    Ok(())
}

/// Pieces that steer generated text towards the detector's interesting paths.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9０-９〇一二三四五六七八九⓪①②❶ -ー()の、\n]{0,24}",
        "[a-zA-Z0-9_.@ ]{0,24}",
        Just("LINE".to_owned()),
        Just("ら い ん".to_owned()),
        Just("ライン".to_owned()),
        Just("オンライン".to_owned()),
        Just("インスタのDMで".to_owned()),
        Just("あっと".to_owned()),
        Just("どっと".to_owned()),
        Just("＠".to_owned()),
        Just("ｶﾞ".to_owned()),
        Just("\u{20E3}\u{FE0F}".to_owned()),
        Just("\u{3099}".to_owned()),
        Just("https://".to_owned()),
        Just("line(.)me/".to_owned()),
        Just("ぜろきゅうぜろ".to_owned()),
        Just("交換しましょう".to_owned()),
        Just("規約で禁止".to_owned()),
        Just("直接".to_owned()),
        Just("PayPay".to_owned()),
        Just("。".to_owned()),
        Just("İ".to_owned()),
        Just("㈱".to_owned()),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..8).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn scanning_arbitrary_unicode_never_panics_and_spans_match_the_text(s in any::<String>()) {
        let v = guard().scan(&s);
        check(&s, &v)?;
    }

    #[test]
    fn scanning_mixed_fragments_keeps_spans_exact(s in text()) {
        let v = guard().scan(&s);
        check(&s, &v)?;
    }

    #[test]
    fn scanning_is_deterministic(s in text()) {
        prop_assert_eq!(guard().scan(&s), guard().scan(&s));
    }
}
