//! Evaluates the guard on a labelled JSON Lines file and prints the report.
//!
//! `cargo run -p guard --release --example eval -- FILE.jsonl [--verbose]` — with `--verbose` every
//! misclassified text is printed with its findings.

use guard::{Guard, Policy, evaluate, parse_jsonl};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: eval FILE.jsonl [--verbose]")?;
    let verbose = args.any(|a| a == "--verbose");
    let examples = parse_jsonl(&std::fs::read_to_string(&path)?)?;
    let guard = Guard::new(Policy::default());
    let report = evaluate(&guard, &examples);
    println!("{report}");
    if verbose {
        let wrong = report.misclassified();
        for ex in examples.iter().filter(|e| wrong.contains(&e.id.as_str())) {
            let v = guard.scan(&ex.text);
            println!(
                "\n[{}] {} expected {}: {}",
                ex.id,
                ex.category,
                if ex.block { "block" } else { "allow" },
                ex.text
            );
            for f in &v.findings {
                println!(
                    "    {} {} {}..{} {:?}",
                    f.kind, f.rule, f.start, f.end, f.excerpt
                );
            }
        }
    }
    Ok(())
}
