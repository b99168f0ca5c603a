//! The crate's house rules, read from its sources: no cycle among its top-level modules (a folder
//! is one module), and the pure core does no I/O (no `tokio`, `reqwest`, `std::fs`, `axum`, and no
//! path into the shell that does). Parsed with std only: comments, strings and `#[cfg(test)]`
//! items are left out, then every `crate::X`, `use crate::{X, ...}` and `super::X` that leaves its
//! module is an edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The modules that must stay pure: the model, the generators, the comparer and what only reads
/// their results. They may use each other, nothing else of the crate.
const PURE: &[&str] = &[
    "model",
    "generate",
    "judge",
    "rules",
    "wire",
    "classes",
    "canonical",
    "coverage",
    "gate",
    "outcome",
    "exit",
    "defaults",
];

/// What a pure module must not name.
const IMPURE: &[&str] = &["tokio", "reqwest", "std::fs", "axum"];

/// Edges left in place for now, each with why. An edge here is not part of the graph the cycle
/// check sees: every entry is a debt to pay, not a rule.
const ALLOWED_EDGES: &[(&str, &str, &str)] = &[];

/// A pure module's edges into the shell, left for now (same terms as [`ALLOWED_EDGES`]).
const ALLOWED_IMPURE_EDGES: &[(&str, &str, &str)] = &[];

/// One source file: its module path (`["run", "case"]`) and its text without comments, strings
/// and test-only items.
struct Source {
    path: PathBuf,
    module: Vec<String>,
    code: String,
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every library source file (the binary's `main.rs` and `cli.rs` name the crate from outside),
/// but those a `#[cfg(test)] mod x;` makes test-only.
fn sources() -> Vec<Source> {
    let root = src();
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    let mut test_only: BTreeSet<PathBuf> = BTreeSet::new();
    let mut out = Vec::new();
    for path in files {
        let rel = path.strip_prefix(&root).expect("under src").to_path_buf();
        let name = rel.to_string_lossy().replace('\\', "/");
        if name == "main.rs" || name == "cli.rs" || name == "lib.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a readable source file");
        let (code, test_mods) = strip(&text);
        let module = module_of(&name);
        // `#[cfg(test)] mod x;` in `a/mod.rs` or `a.rs` is `a/x.rs` or `a/x/mod.rs`.
        let dir = root.join(module.join("/"));
        for m in test_mods {
            test_only.insert(dir.join(format!("{m}.rs")));
            test_only.insert(dir.join(&m).join("mod.rs"));
        }
        out.push(Source { path, module, code });
    }
    out.retain(|s| !test_only.contains(&s.path) && !s.path.components().any(|c| c.as_os_str() == "tests"));
    out
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// `run/case.rs` is `["run", "case"]`, `run/mod.rs` and `run.rs` are `["run"]`.
fn module_of(relative: &str) -> Vec<String> {
    let stem = relative.strip_suffix(".rs").unwrap_or(relative);
    let mut parts: Vec<String> = stem.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The text with comments and string and char literals blanked, and every item under
/// `#[cfg(test)]` left out; the names of the test-only file modules (`#[cfg(test)] mod x;`).
fn strip(text: &str) -> (String, Vec<String>) {
    let code = blank_comments_and_strings(text);
    let mut out = String::with_capacity(code.len());
    let mut test_mods = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let item = after.trim_start();
        let semi = item.find(';');
        let brace = item.find('{');
        match (semi, brace) {
            (Some(s), b) if b.is_none_or(|b| s < b) => {
                if let Some(name) = item[..s].trim().strip_prefix("mod ").or_else(|| {
                    item[..s]
                        .trim()
                        .strip_prefix("pub(crate) mod ")
                        .or_else(|| item[..s].trim().strip_prefix("pub mod "))
                }) {
                    test_mods.push(name.trim().to_string());
                }
                rest = &item[s + 1..];
            }
            (_, Some(b)) => rest = &item[matching_brace(item, b)..],
            _ => rest = "",
        }
    }
    out.push_str(rest);
    (out, test_mods)
}

/// The index just past the brace that closes the one at `open`.
fn matching_brace(text: &str, open: usize) -> usize {
    let mut depth = 0usize;
    for (i, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return open + i + 1;
                }
            }
            _ => {}
        }
    }
    text.len()
}

/// Comments (line, doc, nested block) and the insides of string, raw string and char literals
/// replaced by spaces, so that no path in them is read as code. Lifetimes stay as they are.
fn blank_comments_and_strings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&chars, i) {
            // A raw string: r"...", r#"..."#, ...
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            out.push_str(&" ".repeat(j + 1 - i));
            i = j + 1;
            while i < chars.len() {
                if chars[i] == '"' && (0..hashes).all(|k| chars.get(i + 1 + k) == Some(&'#')) {
                    out.push_str(&" ".repeat(hashes + 1));
                    i += hashes + 1;
                    break;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}'), or a lifetime ('a), left as it is.
            let close = if next == Some('\\') {
                (i + 2..chars.len().min(i + 12)).find(|&k| chars[k] == '\'')
            } else {
                (chars.get(i + 2) == Some(&'\'')).then_some(i + 2)
            };
            match close {
                Some(end) => {
                    out.push_str(&" ".repeat(end + 1 - i));
                    i = end + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_before(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// The top-level modules a source names outside its own: `crate::X`, `use crate::{X, Y::..}`,
/// and `super::X` where `super` climbs out of its top-level module.
fn references(s: &Source) -> BTreeSet<String> {
    let own = &s.module[0];
    let mut named = BTreeSet::new();
    let code = &s.code;
    for (at, _) in code.match_indices("crate::") {
        if code[..at]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
        {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            named.extend(group_heads(group));
        } else {
            named.extend(first_segment(rest));
        }
    }
    for (at, _) in code.match_indices("super::") {
        let before = &code[..at];
        if before.ends_with("super::") || before.chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        // super::super::...: how many levels up, then what is named there.
        let mut rest = &code[at..];
        let mut up = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            up += 1;
            rest = r.trim_start();
        }
        if up < s.module.len() {
            continue; // still inside this top-level module
        }
        if let Some(group) = rest.strip_prefix('{') {
            named.extend(group_heads(group));
        } else {
            named.extend(first_segment(rest));
        }
    }
    named.remove(own);
    named.retain(|n| n != "self" && n != "super" && n != "crate" && !n.is_empty());
    named
}

fn first_segment(text: &str) -> Option<String> {
    let name: String = text.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then_some(name)
}

/// The first segment of each path in a `{a, b::c, d::{e, f}}` group (the text after its `{`).
fn group_heads(text: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0usize;
    let mut at_start = true;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => at_start = true,
            c if at_start && !c.is_whitespace() => {
                at_start = false;
                heads.extend(first_segment(&text[i..]));
            }
            _ => {}
        }
    }
    heads
}

/// The graph of top-level modules: each edge with a file that makes it.
fn graph(sources: &[Source]) -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    let modules: BTreeSet<String> = sources.iter().map(|s| s.module[0].clone()).collect();
    let mut g: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    for s in sources {
        let from = &s.module[0];
        let edges = g.entry(from.clone()).or_default();
        for to in references(s) {
            if modules.contains(&to) {
                edges.entry(to).or_insert_with(|| s.path.clone());
            }
        }
    }
    g
}

/// A cycle in `g` (its modules in order, the first again at the end), if there is one.
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in g.get(node).into_iter().flatten() {
            match state.get(next).copied() {
                Some(1) => {
                    let start = stack.iter().position(|n| n == next).unwrap_or(0);
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(next, g, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in g.keys() {
        if !state.contains_key(node) {
            let mut stack = Vec::new();
            if let Some(c) = visit(node, g, &mut state, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn the_top_level_modules_have_no_cycle() {
    let g = graph(&sources());
    let allowed: BTreeSet<(&str, &str)> = ALLOWED_EDGES.iter().map(|(a, b, _)| (*a, *b)).collect();
    for (from, to) in &allowed {
        assert!(
            g.get(*from).is_some_and(|e| e.contains_key(*to)),
            "the allowed edge {from} -> {to} is gone: take it off ALLOWED_EDGES"
        );
    }
    let plain: BTreeMap<String, BTreeSet<String>> = g
        .iter()
        .map(|(from, edges)| {
            let to = edges
                .keys()
                .filter(|to| !allowed.contains(&(from.as_str(), to.as_str())))
                .cloned()
                .collect();
            (from.clone(), to)
        })
        .collect();
    if let Some(cycle) = find_cycle(&plain) {
        let how: Vec<String> = cycle
            .windows(2)
            .map(|w| format!("  {} -> {} ({})", w[0], w[1], g[&w[0]][&w[1]].display()))
            .collect();
        panic!(
            "a cycle among the top-level modules: {}\n{}",
            cycle.join(" -> "),
            how.join("\n")
        );
    }
}

#[test]
fn the_pure_modules_do_no_io() {
    let sources = sources();
    let allowed: BTreeSet<(&str, &str)> = ALLOWED_IMPURE_EDGES.iter().map(|(a, b, _)| (*a, *b)).collect();
    let mut problems = Vec::new();
    for s in sources.iter().filter(|s| PURE.contains(&s.module[0].as_str())) {
        for word in IMPURE {
            let used = s.code.match_indices(word).any(|(at, _)| {
                let before = s.code[..at].chars().last();
                let after = s.code[at + word.len()..].chars().next();
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
            if used {
                problems.push(format!("{} uses {word}", s.path.display()));
            }
        }
        for to in references(s) {
            if !PURE.contains(&to.as_str()) && !allowed.contains(&(s.module[0].as_str(), to.as_str())) {
                problems.push(format!("{} names the shell's {to}", s.path.display()));
            }
        }
    }
    assert!(problems.is_empty(), "the pure core does I/O:\n{}", problems.join("\n"));
}

#[test]
fn the_parser_reads_paths_and_not_comments_or_strings() {
    let text = r##"
//! crate::nope in a doc comment
use crate::{alpha, beta::{x, y}, gamma::Z};
use super::delta;
/* crate::nope2 /* nested */ */
let s = "crate::nope3"; let r = r#"crate::nope4"#; let c = '"'; let l: &'a str = x;
fn f() { crate::epsilon::go(); }
#[cfg(test)]
mod tests { use crate::nope5; }
#[cfg(test)]
mod more;
"##;
    let (code, test_mods) = strip(text);
    let s = Source {
        path: PathBuf::from("src/zeta/inner.rs"),
        module: vec!["zeta".into(), "inner".into()],
        code,
    };
    let named = references(&s);
    assert_eq!(
        named,
        ["alpha", "beta", "epsilon", "gamma"]
            .into_iter()
            .map(String::from)
            .collect(),
        "{}",
        s.code
    );
    assert_eq!(test_mods, ["more"]);
    let top = Source {
        path: PathBuf::from("src/zeta/mod.rs"),
        module: vec!["zeta".into()],
        code: "use super::omega;".into(),
    };
    assert!(
        references(&top).contains("omega"),
        "super:: from a folder's mod.rs leaves it"
    );
}
