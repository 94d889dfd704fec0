//! Evaluation on labelled examples: reading JSON Lines like `dev.jsonl`, scoring a guard (precision,
//! recall, F1 with *block* as the positive class, per-category counts) and printing the report.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Guard;

/// One labelled text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    /// Identifier (reported when misclassified).
    pub id: String,
    /// The text to scan.
    pub text: String,
    /// Whether the text should be blocked.
    pub block: bool,
    /// Free-form category used to break the figures down.
    pub category: String,
}

/// A line of the JSON Lines file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

#[derive(Deserialize)]
struct Line {
    id: serde_json::Value,
    text: String,
    label: String,
    #[serde(default)]
    category: Option<String>,
}

/// Reads JSON Lines of the form `{"id": …, "text": …, "label": "block"|"allow", "category": …}`;
/// other fields are ignored, blank lines skipped, a missing category reads as `"uncategorised"`, and
/// `id` may be a string or a number.
///
/// # Errors
/// The first line that is not valid JSON, lacks `id`/`text`/`label`, or has a label other than
/// `block`/`allow`.
pub fn parse_jsonl(input: &str) -> Result<Vec<Example>, ParseError> {
    let mut out = Vec::new();
    for (i, raw) in input.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let parsed: Line = serde_json::from_str(raw).map_err(|e| ParseError {
            line,
            message: e.to_string(),
        })?;
        let block = match parsed.label.as_str() {
            "block" => true,
            "allow" => false,
            other => {
                return Err(ParseError {
                    line,
                    message: format!("label must be \"block\" or \"allow\", not {other:?}"),
                });
            }
        };
        let id = match parsed.id {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        out.push(Example {
            id,
            text: parsed.text,
            block,
            category: parsed
                .category
                .unwrap_or_else(|| "uncategorised".to_owned()),
        });
    }
    Ok(out)
}

/// Counts for one category.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CategoryStats {
    /// Examples in the category.
    pub total: usize,
    /// Examples labelled block.
    pub positives: usize,
    /// Labelled block and blocked.
    pub true_positives: usize,
    /// Labelled allow but blocked.
    pub false_positives: usize,
    /// Labelled block but allowed.
    pub false_negatives: usize,
    /// `true_positives / positives`, `None` for a category without positives.
    pub recall: Option<f64>,
}

/// The evaluation of a guard on a set of examples (block = positive).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// Examples evaluated.
    pub total: usize,
    /// Blocked and labelled block.
    pub true_positives: usize,
    /// Blocked but labelled allow.
    pub false_positives: usize,
    /// Allowed and labelled allow.
    pub true_negatives: usize,
    /// Allowed but labelled block.
    pub false_negatives: usize,
    /// `tp / (tp + fp)`; 1.0 when nothing was blocked.
    pub precision: f64,
    /// `tp / (tp + fn)`; 1.0 when there are no positives.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Per-category counts, by category name.
    pub categories: BTreeMap<String, CategoryStats>,
    /// Ids labelled allow but blocked, in input order.
    pub false_positive_ids: Vec<String>,
    /// Ids labelled block but allowed, in input order.
    pub false_negative_ids: Vec<String>,
}

impl Report {
    /// All misclassified ids (false positives then false negatives).
    pub fn misclassified(&self) -> Vec<&str> {
        self.false_positive_ids
            .iter()
            .chain(&self.false_negative_ids)
            .map(String::as_str)
            .collect()
    }

    /// The lowest recall among categories with positives (`None` if there are none).
    pub fn min_category_recall(&self) -> Option<(&str, f64)> {
        self.categories
            .iter()
            .filter_map(|(name, c)| c.recall.map(|r| (name.as_str(), r)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        1.0
    } else {
        num as f64 / den as f64
    }
}

/// Scans every example and scores the verdicts.
pub fn evaluate(guard: &Guard, examples: &[Example]) -> Report {
    let mut r = Report {
        total: examples.len(),
        ..Report::default()
    };
    for ex in examples {
        let blocked = guard.scan(&ex.text).is_block();
        let cat = r.categories.entry(ex.category.clone()).or_default();
        cat.total += 1;
        if ex.block {
            cat.positives += 1;
        }
        match (ex.block, blocked) {
            (true, true) => {
                r.true_positives += 1;
                cat.true_positives += 1;
            }
            (false, true) => {
                r.false_positives += 1;
                cat.false_positives += 1;
                r.false_positive_ids.push(ex.id.clone());
            }
            (true, false) => {
                r.false_negatives += 1;
                cat.false_negatives += 1;
                r.false_negative_ids.push(ex.id.clone());
            }
            (false, false) => r.true_negatives += 1,
        }
    }
    for cat in r.categories.values_mut() {
        cat.recall = (cat.positives > 0).then(|| ratio(cat.true_positives, cat.positives));
    }
    r.precision = ratio(r.true_positives, r.true_positives + r.false_positives);
    r.recall = ratio(r.true_positives, r.true_positives + r.false_negatives);
    r.f1 = if r.precision + r.recall > 0.0 {
        2.0 * r.precision * r.recall / (r.precision + r.recall)
    } else {
        0.0
    };
    r
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "examples {}  tp {}  fp {}  tn {}  fn {}",
            self.total,
            self.true_positives,
            self.false_positives,
            self.true_negatives,
            self.false_negatives
        )?;
        writeln!(
            f,
            "precision {:.3}  recall {:.3}  f1 {:.3}",
            self.precision, self.recall, self.f1
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<34} {:>5} {:>5} {:>5} {:>5} {:>7}",
            "category", "n", "pos", "fp", "fn", "recall"
        )?;
        for (name, c) in &self.categories {
            let recall = c
                .recall
                .map_or_else(|| "-".to_owned(), |r| format!("{r:.3}"));
            writeln!(
                f,
                "{:<34} {:>5} {:>5} {:>5} {:>5} {:>7}",
                name, c.total, c.positives, c.false_positives, c.false_negatives, recall
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "false positives: {}",
            if self.false_positive_ids.is_empty() {
                "none".to_owned()
            } else {
                self.false_positive_ids.join(" ")
            }
        )?;
        write!(
            f,
            "false negatives: {}",
            if self.false_negative_ids.is_empty() {
                "none".to_owned()
            } else {
                self.false_negative_ids.join(" ")
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_lines_are_parsed_with_labels_and_categories() {
        let input = "{\"id\":\"a\",\"text\":\"x\",\"label\":\"block\",\"category\":\"c\",\"note\":\"n\"}\n\n{\"id\":7,\"text\":\"y\",\"label\":\"allow\"}\n";
        let got = parse_jsonl(input);
        assert_eq!(
            got,
            Ok(vec![
                Example {
                    id: "a".into(),
                    text: "x".into(),
                    block: true,
                    category: "c".into()
                },
                Example {
                    id: "7".into(),
                    text: "y".into(),
                    block: false,
                    category: "uncategorised".into()
                },
            ])
        );
    }

    #[test]
    fn a_bad_label_or_bad_json_reports_its_line() {
        let bad = parse_jsonl("{\"id\":\"a\",\"text\":\"x\",\"label\":\"maybe\"}");
        assert_eq!(bad.map_err(|e| e.line), Err(1));
        let bad = parse_jsonl("\n{oops");
        assert_eq!(bad.map_err(|e| e.line), Err(2));
    }

    #[test]
    fn the_report_counts_and_names_the_misclassified_examples() {
        let guard = Guard::default();
        let examples = vec![
            Example {
                id: "p1".into(),
                text: "090-0000-4821".into(),
                block: true,
                category: "phone".into(),
            },
            Example {
                id: "p2".into(),
                text: "よろしくお願いします".into(),
                block: true,
                category: "phone".into(),
            },
            Example {
                id: "n1".into(),
                text: "ガイドラインに沿って修正しました".into(),
                block: false,
                category: "neg".into(),
            },
            Example {
                id: "n2".into(),
                text: "sato@example.com".into(),
                block: false,
                category: "neg".into(),
            },
        ];
        let r = evaluate(&guard, &examples);
        assert_eq!(
            (
                r.true_positives,
                r.false_positives,
                r.true_negatives,
                r.false_negatives
            ),
            (1, 1, 1, 1)
        );
        assert_eq!(r.misclassified(), vec!["n2", "p2"]);
        assert_eq!(r.categories["phone"].recall, Some(0.5));
        assert_eq!(r.categories["neg"].recall, None);
        assert_eq!(r.min_category_recall(), Some(("phone", 0.5)));
        assert!((r.precision - 0.5).abs() < 1e-9);
        let shown = r.to_string();
        assert!(shown.contains("precision 0.500"));
        assert!(shown.contains("false negatives: p2"));
    }
}
