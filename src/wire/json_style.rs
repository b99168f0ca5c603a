//! A small JSON writer whose formatting is a generated choice: ECR stores manifest bytes exactly as
//! pushed, so the same manifest in two formats is two images, and an endpoint that re-serialises
//! manifests must be caught. The writer is here, below the model and generation, so that the
//! canonical examples write manifests as generation does; the choice of a style is generation's
//! (`generate::json_style::style`).

/// A JSON value whose object members keep the order they are built in.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Object(Vec<(String, Json)>),
    Array(Vec<Json>),
    String(String),
    Number(u64),
}

impl Json {
    pub fn object<const N: usize>(members: [(&str, Json); N]) -> Json {
        Json::Object(members.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }
    pub fn str(s: impl Into<String>) -> Json {
        Json::String(s.into())
    }
}

/// How a manifest is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// None: compact; Some(n): pretty with n spaces (tabs when 0).
    pub indent: Option<u8>,
    /// Members of each object are rotated by this much (0 keeps the canonical order).
    pub rotate_keys: u8,
    pub space_after_colon: bool,
    pub trailing_newline: bool,
}

impl Style {
    pub const COMPACT: Style = Style {
        indent: None,
        rotate_keys: 0,
        space_after_colon: false,
        trailing_newline: false,
    };
}

pub fn write(value: &Json, style: Style) -> String {
    let mut out = String::new();
    write_value(value, style, 0, &mut out);
    if style.trailing_newline {
        out.push('\n');
    }
    out
}

fn newline(style: Style, depth: usize, out: &mut String) {
    if let Some(n) = style.indent {
        out.push('\n');
        for _ in 0..depth {
            if n == 0 {
                out.push('\t');
            } else {
                out.extend(std::iter::repeat_n(' ', usize::from(n)));
            }
        }
    }
}

fn write_value(value: &Json, style: Style, depth: usize, out: &mut String) {
    match value {
        Json::String(s) => out.push_str(&serde_json::Value::String(s.clone()).to_string()),
        Json::Number(n) => out.push_str(&n.to_string()),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(style, depth + 1, out);
                write_value(item, style, depth + 1, out);
            }
            if !items.is_empty() {
                newline(style, depth, out);
            }
            out.push(']');
        }
        Json::Object(members) => {
            out.push('{');
            let n = members.len();
            let shift = if n == 0 { 0 } else { usize::from(style.rotate_keys) % n };
            for i in 0..n {
                let (k, v) = &members[(i + shift) % n];
                if i > 0 {
                    out.push(',');
                }
                newline(style, depth + 1, out);
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push(':');
                if style.space_after_colon || style.indent.is_some() {
                    out.push(' ');
                }
                write_value(v, style, depth + 1, out);
            }
            if n > 0 {
                newline(style, depth, out);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_style_writes_the_same_json_value() {
        let v = Json::object([
            ("schemaVersion", Json::Number(2)),
            ("mediaType", Json::str("x\"y")),
            (
                "layers",
                Json::Array(vec![Json::object([("digest", Json::str("sha256:0"))])]),
            ),
        ]);
        let canonical: serde_json::Value = serde_json::from_str(&write(&v, Style::COMPACT)).expect("json");
        for indent in [None, Some(0), Some(2), Some(3)] {
            for rotate_keys in 0..3 {
                let s = Style {
                    indent,
                    rotate_keys,
                    space_after_colon: true,
                    trailing_newline: true,
                };
                let text = write(&v, s);
                let parsed: serde_json::Value = serde_json::from_str(&text).expect("json");
                assert_eq!(parsed, canonical, "{text}");
            }
        }
        assert_eq!(
            write(&v, Style::COMPACT),
            r#"{"schemaVersion":2,"mediaType":"x\"y","layers":[{"digest":"sha256:0"}]}"#
        );
    }
}
