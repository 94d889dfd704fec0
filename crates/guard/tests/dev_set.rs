//! Runs the labelled development set (`shared/guard/dev.jsonl`) and checks the accuracy targets:
//! precision ≥ 0.98, recall ≥ 0.95 (block = positive), and no category below 0.85 recall.

use guard::{Guard, Policy, evaluate, parse_jsonl};

const DEV_SET: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/guard/dev.jsonl"
);

#[test]
fn the_dev_set_meets_the_precision_and_recall_targets() {
    let Ok(input) = std::fs::read_to_string(DEV_SET) else {
        println!("skipping: {DEV_SET} is absent");
        return;
    };
    let examples = match parse_jsonl(&input) {
        Ok(e) => e,
        Err(e) => panic!("{DEV_SET}: {e}"),
    };
    assert!(!examples.is_empty(), "the dev set is empty");
    let guard = Guard::new(Policy::default());
    let report = evaluate(&guard, &examples);
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
    if let Some((name, recall)) = report.min_category_recall() {
        assert!(
            recall >= 0.85,
            "category {name} recall {recall:.3} < 0.85\n{report}"
        );
    }
}
