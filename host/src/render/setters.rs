//! `# from-param: ${name}` setters: a line whose comment names parameters gets its value
//! replaced when every named parameter has a value (`--set key=value`,
//! `--set-value-file FILE`). Works on the YAML text, since parsing drops comments.

use indexmap::IndexMap;
use regex::Regex;
use std::sync::LazyLock;

static REFERENCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$\{([^}]+)\}").expect("static regex"));
const MARKER: &str = "# from-param:";

/// Parameter values by name, in the order they were given.
pub type Params = IndexMap<String, String>;

/// Applies every setter comment of `text` whose parameters are all set.
pub fn apply_setters(text: &str, params: &Params) -> String {
    if params.is_empty() || !text.contains(MARKER) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        match set_line(body, params) {
            Some(new) => out.push_str(&new),
            None => out.push_str(body),
        }
        out.push_str(newline);
    }
    out
}

fn set_line(line: &str, params: &Params) -> Option<String> {
    let marker_at = line.find(MARKER)?;
    let pattern = line[marker_at + MARKER.len()..].trim();
    let mut missing = false;
    let value = REFERENCE.replace_all(pattern, |c: &regex::Captures| match params.get(&c[1]) {
        Some(v) => v.clone(),
        None => {
            missing = true;
            String::new()
        }
    });
    if missing || !REFERENCE.is_match(pattern) {
        return None;
    }
    let before = &line[..marker_at];
    let trimmed = before.trim_end();
    let value_start = value_start(trimmed)?;
    let old = &trimmed[value_start..];
    let quoted = old.starts_with('"') || old.starts_with('\'');
    let new_value = scalar(&value, quoted);
    Some(format!(
        "{}{} {}",
        &trimmed[..value_start],
        new_value,
        &line[marker_at..]
    ))
}

/// Byte offset where the scalar value of a `key: value` or `- value` line starts.
fn value_start(line: &str) -> Option<usize> {
    let indent = line.len() - line.trim_start().len();
    let mut at = indent;
    let rest = &line[at..];
    if let Some(item) = rest.strip_prefix("- ") {
        at += 2 + (item.len() - item.trim_start().len());
    }
    let rest = &line[at..];
    if let Some(colon) = key_separator(rest) {
        let after = &rest[colon + 1..];
        at += colon + 1 + (after.len() - after.trim_start().len());
    }
    if at >= line.len() { None } else { Some(at) }
}

/// Position of the `:` that ends a mapping key (followed by a space), outside quotes.
fn key_separator(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut quote: Option<u8> = None;
    for (i, &b) in bytes.iter().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if i == 0 && (b == b'"' || b == b'\'') => quote = Some(b),
            None if b == b':' && bytes.get(i + 1).is_none_or(|n| *n == b' ') => return Some(i),
            None => {}
        }
    }
    None
}

fn scalar(value: &str, quoted: bool) -> String {
    let needs_quotes = quoted
        || value.is_empty()
        || value.contains(": ")
        || value.contains(" #")
        || value.ends_with(':')
        || value.starts_with(|c: char| "{}[]*&!|>'\"%@`#,?-".contains(c) || c.is_whitespace())
        || value.ends_with(char::is_whitespace);
    if needs_quotes {
        serde_json::to_string(value).unwrap_or_else(|_| format!("\"{value}\""))
    } else {
        value.to_string()
    }
}

/// Parses `--set key=value` entries.
pub fn parse_set(entries: &[String]) -> Result<Params, String> {
    let mut params = Params::new();
    for e in entries {
        let (k, v) = e
            .split_once('=')
            .ok_or_else(|| format!("--set {e:?}: expected key=value"))?;
        if k.trim().is_empty() {
            // The value may be a secret: only the missing key is worth showing.
            return Err(format!(
                "--set {:?}: the key is empty",
                format!("={}", crate::redact::REDACTED)
            ));
        }
        params.insert(k.trim().to_string(), v.to_string());
    }
    Ok(params)
}

/// Parses a `--set-value-file`: one `KEY=VALUE` per line; blank lines and `#` comments are
/// skipped. `name` is used in error messages.
pub fn parse_value_file(text: &str, name: &str) -> Result<Params, String> {
    let mut params = Params::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| format!("{name}:{}:1: expected KEY=VALUE, found {line:?}", i + 1))?;
        params.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn replaces_value_when_param_is_set() {
        let text = "metadata:\n  labels:\n    a: hhhh # from-param: ${app1}\n    b: x\n";
        let out = apply_setters(text, &params(&[("app1", "from-file")]));
        assert_eq!(
            out,
            "metadata:\n  labels:\n    a: from-file # from-param: ${app1}\n    b: x\n"
        );
    }

    #[test]
    fn unset_param_leaves_line() {
        let text = "  replicas: 2 # from-param: ${count}\n";
        assert_eq!(apply_setters(text, &params(&[("other", "1")])), text);
    }

    #[test]
    fn number_stays_plain_and_pattern_is_expanded() {
        let text = "  replicas: 2 # from-param: ${count}\n  name: x # from-param: app-${env}-1\n";
        let out = apply_setters(text, &params(&[("count", "6"), ("env", "dev")]));
        assert!(out.contains("replicas: 6 #"), "{out}");
        assert!(out.contains("name: app-dev-1 #"), "{out}");
    }

    #[test]
    fn quoted_value_stays_quoted_and_odd_values_are_quoted() {
        let out = apply_setters("  a: \"x\" # from-param: ${v}\n", &params(&[("v", "y")]));
        assert_eq!(out, "  a: \"y\" # from-param: ${v}\n");
        let out = apply_setters("  a: x # from-param: ${v}\n", &params(&[("v", "a: b")]));
        assert_eq!(out, "  a: \"a: b\" # from-param: ${v}\n");
    }

    #[test]
    fn sequence_items_are_set() {
        let out = apply_setters("  - old # from-param: ${v}\n", &params(&[("v", "new")]));
        assert_eq!(out, "  - new # from-param: ${v}\n");
    }

    #[test]
    fn value_file_and_set_flags_parse() {
        let p = parse_value_file("# c\napp1=from-file\n\nx = y\n", "values.env").unwrap();
        assert_eq!(p["app1"], "from-file");
        assert_eq!(p["x"], "y");
        let err = parse_value_file("novalue\n", "values.env").unwrap_err();
        assert!(err.contains("values.env:1"), "{err}");
        let s = parse_set(&["a=1=2".to_string()]).unwrap();
        assert_eq!(s["a"], "1=2");
        assert!(parse_set(&["nokey".to_string()]).is_err());
    }
}
