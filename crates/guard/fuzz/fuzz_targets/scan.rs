//! Fuzz target: scanning any UTF-8 text never panics, every finding's span lies inside the text
//! (`start < end <= char count`), its excerpt is exactly the original chars `[start, end)`, findings
//! are sorted, the action agrees with the findings, and a second scan gives the same verdict.
//!
//! From `crates/guard`: `RUSTC_BOOTSTRAP=1 cargo fuzz run scan -- -max_total_time=300` (cargo-fuzz
//! wants nightly flags; `RUSTC_BOOTSTRAP=1` lets the stable toolchain accept them). The build has
//! debug assertions on, so each scan also checks the phrase rules' literal gates and anchored searches
//! against a plain search (see `src/rules/phrases.rs`).

#![no_main]

use std::sync::OnceLock;

use guard::{Action, Guard, Policy};
use libfuzzer_sys::fuzz_target;

fn guard() -> &'static Guard {
    static GUARD: OnceLock<Guard> = OnceLock::new();
    GUARD.get_or_init(|| Guard::new(Policy::default()))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let verdict = guard().scan(text);
    let chars: Vec<char> = text.chars().collect();
    assert_eq!(verdict.action == Action::Block, !verdict.findings.is_empty());
    for f in &verdict.findings {
        assert!(f.start < f.end, "empty span {f:?}");
        assert!(f.end <= chars.len(), "span {f:?} past {} chars", chars.len());
        let excerpt: String = chars[f.start..f.end].iter().collect();
        assert_eq!(f.excerpt, excerpt);
    }
    assert!(verdict.findings.windows(2).all(|w| w[0].start <= w[1].start));
    assert_eq!(guard().scan(text), verdict);
});
