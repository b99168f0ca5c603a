//! `ecr-conformance rules`: the rule catalogue ([`crate::rules::RULES`]) as a plain-text table,
//! a Markdown table or JSON. It is the reference a user reads to know what a rule id in a report
//! means, so it prints every field of the catalogue and adds nothing of its own.

use crate::rules::{Level, RULES, Rule};
use serde::Serialize;
use std::fmt::Write as _;

/// How `rules` prints the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One rule per line, columns aligned: for a terminal and for grep.
    Text,
    /// A GitHub-flavoured Markdown table.
    Markdown,
    /// An array of objects, one per rule, in the catalogue's order.
    Json,
}

/// A rule as `rules --format json` writes it. The names are the [`Rule`] struct's own (and those
/// of `report.json`'s `rules`), so one vocabulary serves both files.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    id: &'static str,
    level: Level,
    text_level: Level,
    /// What a gate rule's evidence covers (id shape / stored type / accepted list, `;` between
    /// blocks); outside it a deviation is advisory. An advisory rule's: `advisory everywhere`.
    covers: String,
    source: &'static str,
    summary: &'static str,
}

impl From<&Rule> for Entry {
    fn from(r: &Rule) -> Self {
        Entry {
            id: r.id,
            level: r.level,
            text_level: r.text_level,
            covers: covers(r),
            source: r.source,
            summary: r.summary,
        }
    }
}

const HEADERS: [&str; 6] = ["id", "level", "text level", "covers", "source", "summary"];

fn covers(r: &Rule) -> String {
    match r.level {
        Level::Gate => r.covers.to_string(),
        Level::Advisory => "advisory everywhere".to_string(),
    }
}

fn cells(r: &Rule) -> [String; 6] {
    [
        r.id.to_string(),
        r.level.as_str().to_string(),
        r.text_level.as_str().to_string(),
        covers(r),
        r.source.to_string(),
        r.summary.to_string(),
    ]
}

/// The catalogue in `format`, ending with a newline.
pub fn render(format: Format) -> String {
    render_rules(RULES, format)
}

fn render_rules(rules: &[Rule], format: Format) -> String {
    match format {
        Format::Text => text(rules),
        Format::Markdown => markdown(rules),
        // Serialising plain strings and unit enums cannot fail; an empty array would still be JSON.
        Format::Json => {
            let entries: Vec<Entry> = rules.iter().map(Entry::from).collect();
            let mut s = serde_json::to_string_pretty(&entries).unwrap_or_else(|_| "[]".into());
            s.push('\n');
            s
        }
    }
}

fn text(rules: &[Rule]) -> String {
    let mut widths = HEADERS.map(str::len);
    for r in rules {
        for (w, c) in widths.iter_mut().zip(cells(r)) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut s = String::new();
    let mut line = |row: [&str; 6]| {
        let mut l = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                // The last column is not padded: no trailing blanks.
                l.push_str(cell);
            } else {
                let _ = write!(l, "{cell:<w$}  ");
            }
        }
        s.push_str(l.trim_end());
        s.push('\n');
    };
    line(HEADERS);
    for r in rules {
        let c = cells(r);
        line(c.each_ref().map(String::as_str));
    }
    s
}

fn markdown(rules: &[Rule]) -> String {
    // A `|` inside a cell would end it; nothing else in the catalogue is Markdown syntax that
    // changes the table's shape.
    let esc = |c: &str| c.replace('|', "\\|");
    let mut s = format!("| {} |\n|{}\n", HEADERS.join(" | "), "---|".repeat(HEADERS.len()));
    for r in rules {
        let [id, level, text_level, covers, source, summary] = cells(r);
        let _ = writeln!(
            s,
            "| `{id}` | {level} | {text_level} | {} | {} | {} |",
            esc(&covers),
            esc(&source),
            esc(&summary)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIPE: Rule = Rule {
        id: "X-PIPE",
        level: Level::Gate,
        text_level: Level::Advisory,
        source: "DOC | OBS",
        summary: "a | b",
        covers: crate::rules::Covers::Requests,
    };

    #[test]
    fn text_has_a_header_and_one_aligned_line_per_rule() {
        let t = render(Format::Text);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), RULES.len() + 1);
        assert!(
            lines[0].starts_with("id ") && lines[0].ends_with("summary"),
            "{}",
            lines[0]
        );
        let level_column = lines[0].find("level").expect("a level column");
        for (line, rule) in lines[1..].iter().zip(RULES) {
            assert!(line.starts_with(rule.id), "{line}");
            assert!(line[level_column..].starts_with(rule.level.as_str()), "{line}");
            assert!(line.ends_with(rule.summary), "{line}");
            assert!(line.contains(rule.source), "{line}");
        }
    }

    #[test]
    fn markdown_escapes_pipes_so_every_row_has_six_cells() {
        let t = render_rules(&[PIPE], Format::Markdown);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "| id | level | text level | covers | source | summary |");
        assert_eq!(lines[1], "|---|---|---|---|---|---|");
        assert_eq!(
            lines[2],
            "| `X-PIPE` | gate | advisory | every request | DOC \\| OBS | a \\| b |"
        );
    }

    #[test]
    fn json_holds_every_field_of_every_rule() {
        let v: serde_json::Value = serde_json::from_str(&render(Format::Json)).expect("JSON");
        let list = v.as_array().expect("an array");
        assert_eq!(list.len(), RULES.len());
        for (entry, rule) in list.iter().zip(RULES) {
            assert_eq!(entry["id"], rule.id);
            assert_eq!(entry["level"], rule.level.as_str());
            assert_eq!(entry["textLevel"], rule.text_level.as_str());
            assert_eq!(entry["source"], rule.source);
            assert_eq!(entry["summary"], rule.summary);
            assert_eq!(entry["covers"], covers(rule));
        }
    }

    #[test]
    fn a_gate_rule_prints_what_its_evidence_covers() {
        let t = render(Format::Text);
        let line = t.lines().find(|l| l.starts_with("M-BY-DIGEST ")).expect("M-BY-DIGEST");
        assert!(line.contains("digest / docker-v2 / schema1-only"), "{line}");
        let line = t.lines().find(|l| l.starts_with("I-DUP-ONCE ")).expect("I-DUP-ONCE");
        assert!(line.contains("advisory everywhere"), "{line}");
    }
}
