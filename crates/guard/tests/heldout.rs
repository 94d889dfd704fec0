//! Runs the held-out set (`tests/fixtures/heldout.jsonl`): messages written independently of the dev set
//! and of the rules' own examples — unseen obfuscations of every kind (IDs before the service name,
//! IDs after a full-width 「！」, kana numerals, look-alike symbols, other messengers and meeting tools)
//! and unseen ordinary business Japanese (オンライン/ガイドライン, LINE as a topic, dates, prices, order
//! numbers, placeholders, reference URLs, refusals, platform features, templates). Targets: precision
//! ≥ 0.98 and recall ≥ 0.95 (block = positive).

use guard::{Guard, Policy, evaluate, parse_jsonl};

const HELD_OUT: &str = include_str!("fixtures/heldout.jsonl");

#[test]
fn the_held_out_set_meets_the_precision_and_recall_targets() {
    let examples = match parse_jsonl(HELD_OUT) {
        Ok(e) => e,
        Err(e) => panic!("tests/fixtures/heldout.jsonl: {e}"),
    };
    assert!(examples.len() >= 150, "the held-out set is too small");
    let positives = examples.iter().filter(|e| e.block).count();
    assert!(
        positives * 3 >= examples.len() && positives * 3 <= 2 * examples.len(),
        "the held-out set should be roughly balanced"
    );
    let report = evaluate(&Guard::new(Policy::default()), &examples);
    println!("{report}");
    assert!(
        report.precision >= 0.98,
        "precision {:.3} < 0.98\n{report}",
        report.precision
    );
    assert!(
        report.recall >= 0.95,
        "recall {:.3} < 0.95\n{report}",
        report.recall
    );
}
