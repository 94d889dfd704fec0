//! Tests of the code's shape, read from the source tree: the top-level modules form no import
//! cycle except the documented two-way service calls, and no file holds more than ~600 lines of
//! non-test code (house style: split by sub-feature before that).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Cycles that remain, each documented. One: `reputation` is the sellers' read model; `orders`
/// and `reviews` mark a seller for a refresh (`reputation::refresh_later`), `listings` refreshes
/// at once after a seller's own edit and settles pending refreshes before showing scores, and
/// `reputation` reads the order model's states and faults to count them (and `orders` reads the
/// listing it sells).
const ALLOWED_CYCLES: &[&[&str]] = &[&["listings", "orders", "reputation"]];

/// Non-test lines a file may hold ("~600" in the house style).
const MAX_LINES: usize = 650;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The file's code before its test module, without comments.
fn code_of(text: &str) -> Vec<&str> {
    let mut lines = vec![];
    let all: Vec<&str> = text.lines().collect();
    for (i, line) in all.iter().enumerate() {
        let t = line.trim_start();
        let next = all.get(i + 1).map(|l| l.trim_start()).unwrap_or_default();
        // An inline test module (`#[cfg(test)] mod tests {`) ends the code; a declaration of a
        // test module file (`#[cfg(test)] mod props;`) does not.
        let inline = |l: &str| l.starts_with("mod ") && l.trim_end().ends_with('{');
        if t.starts_with("#[cfg(test)]")
            && (inline(next) || inline(t.trim_start_matches("#[cfg(test)]").trim()))
        {
            break;
        }
        if t.starts_with("//") {
            continue;
        }
        lines.push(*line);
    }
    lines
}

/// The top-level modules named after `crate::` in `code` (paths and `use crate::{…}` groups).
fn references(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group: those at brace depth 0 before `::`, `,` or `}`.
            let mut depth = 0;
            let mut word = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    c if depth == 0 && (c.is_alphanumeric() || c == '_') => word.push(c),
                    _ => {
                        if depth == 0 && modules.contains(&word) {
                            found.insert(word.clone());
                        }
                        word.clear();
                    }
                }
            }
            if modules.contains(&word) {
                found.insert(word);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if modules.contains(&name) {
                found.insert(name);
            }
        }
    }
    found
}

fn top_module(path: &Path) -> String {
    let rel = path.strip_prefix(src()).expect("under src");
    let first = rel.components().next().expect("a component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_string()
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = vec![];
    rust_files(&src(), &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|p| top_module(p))
        .filter(|m| m != "main" && m != "lib" && m != "layout_tests")
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = modules
        .iter()
        .map(|m| (m.clone(), BTreeSet::new()))
        .collect();
    for f in &files {
        let from = top_module(f);
        let Some(out) = edges.get_mut(&from) else {
            continue;
        };
        let text = std::fs::read_to_string(f).expect("source");
        let code = code_of(&text).join("\n");
        for to in references(&code, &modules) {
            if to != from {
                out.insert(to);
            }
        }
    }
    edges
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        for w in &t.edges[v] {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let l = t.low[w].min(t.low[v]);
                t.low.insert(v, l);
            } else if t.on.contains(w) {
                let l = t.index[w].min(t.low[v]);
                t.low.insert(v, l);
            }
        }
        if t.low[v] == t.index[v] {
            let mut scc = vec![];
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                scc.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                t.out.push(scc);
            }
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: vec![],
        on: BTreeSet::new(),
        next: 0,
        out: vec![],
    };
    for v in edges.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out.sort();
    t.out
}

#[test]
fn code_ends_at_an_inline_test_module_but_not_at_a_test_module_declaration() {
    let text = "use a;\n#[cfg(test)]\nmod props;\nuse b;\n// note\n#[cfg(test)]\nmod tests {\n    use c;\n}\n";
    assert_eq!(
        code_of(text),
        vec!["use a;", "#[cfg(test)]", "mod props;", "use b;"]
    );
}

#[test]
fn the_reference_reader_sees_paths_and_use_groups() {
    let modules: BTreeSet<String> = ["orders", "guard", "clock"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let found = references(
        "use crate::{clock::Millis, orders::{self, Order}};\nlet x = crate::guard::screen();",
        &modules,
    );
    assert_eq!(found, modules);
}

#[test]
fn cycle_finding_reports_a_loop_and_nothing_else() {
    let e = |pairs: &[(&str, &[&str])]| -> BTreeMap<String, BTreeSet<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    };
    let g = e(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &["a"])]);
    assert_eq!(cycles(&g), vec![vec!["a", "b", "c"]]);
    assert!(cycles(&e(&[("a", &["b"]), ("b", &[])])).is_empty());
}

#[test]
fn the_module_graph_has_no_cycle_but_the_documented_two_way_calls() {
    let found = cycles(&graph());
    let allowed: Vec<Vec<String>> = ALLOWED_CYCLES
        .iter()
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect();
    assert_eq!(
        found, allowed,
        "import cycles between top-level modules changed; break the new one or document it"
    );
}

#[test]
fn no_source_file_holds_more_than_about_600_lines_of_non_test_code() {
    let mut files = vec![];
    rust_files(&src(), &mut files);
    let long: Vec<String> = files
        .iter()
        // `orders/props/` is a test module folder (`#[cfg(test)] mod props;`): all test code.
        .filter(|f| !f.components().any(|c| c.as_os_str() == "props"))
        .filter_map(|f| {
            let text = std::fs::read_to_string(f).expect("source");
            let n = code_of(&text).len();
            (n > MAX_LINES).then(|| format!("{} ({n} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "split by sub-feature: {long:?}");
}
