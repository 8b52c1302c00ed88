//! Reads a Dockerfile for the files it takes from the build context: the sources of `COPY`
//! and `ADD` (not `COPY --from`, which copies from another stage or image, and not remote
//! `ADD` URLs), with `ARG` values substituted as the builder would.

use std::collections::BTreeMap;

/// A source pattern of a `COPY`/`ADD`, relative to the context, with the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySource {
    pub pattern: String,
    pub line: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct DockerfileError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

/// The context sources that `text` (a Dockerfile named `origin` in errors) copies, given the
/// build args (a `None` value means "declared but unset").
pub fn copy_sources(
    text: &str,
    origin: &str,
    build_args: &BTreeMap<String, Option<String>>,
) -> Result<Vec<CopySource>, DockerfileError> {
    let escape = escape_char(text);
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let mut sources = Vec::new();
    for (line, instruction) in instructions(text, escape) {
        let err = |reason: String| DockerfileError {
            file: origin.to_string(),
            line,
            reason,
        };
        let (keyword, rest) = match instruction.split_once(char::is_whitespace) {
            Some((k, r)) => (k.to_ascii_uppercase(), r.trim()),
            None => (instruction.to_ascii_uppercase(), ""),
        };
        match keyword.as_str() {
            "ARG" => {
                for decl in rest.split_whitespace() {
                    let (name, default) = match decl.split_once('=') {
                        Some((n, d)) => (n, Some(unquote(d))),
                        None => (decl, None),
                    };
                    let value = match build_args.get(name) {
                        Some(Some(v)) => Some(v.clone()),
                        _ => default.map(|d| expand(&d, &vars)),
                    };
                    if let Some(v) = value {
                        vars.insert(name.to_string(), v);
                    }
                }
            }
            "COPY" | "ADD" => {
                let (flags, args) = split_flags(rest);
                if flags.iter().any(|f| f.starts_with("--from")) {
                    continue;
                }
                let mut args = if args.starts_with('[') {
                    serde_json::from_str::<Vec<String>>(args)
                        .map_err(|e| err(format!("{keyword}: invalid JSON array form: {e}")))?
                } else {
                    args.split_whitespace().map(str::to_string).collect()
                };
                if args.len() < 2 {
                    return Err(err(format!(
                        "{keyword} needs at least one source and a destination"
                    )));
                }
                args.pop();
                for src in args {
                    if src.starts_with("<<") {
                        continue;
                    }
                    let src = expand(&src, &vars);
                    let remote = ["http://", "https://", "git@", "git://"]
                        .iter()
                        .any(|p| src.starts_with(p));
                    if keyword == "ADD" && remote {
                        continue;
                    }
                    sources.push(CopySource { pattern: src, line });
                }
            }
            _ => {}
        }
    }
    Ok(sources)
}

/// The instructions a Dockerfile may hold.
const KEYWORDS: &[&str] = &[
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

/// Whether `text` reads as a Dockerfile: it starts with `FROM` (or `ARG`s before the first
/// `FROM`) and every instruction is one Docker knows. Instructions after the first heredoc
/// are not checked, since heredoc bodies are not instructions.
pub fn is_dockerfile(text: &str) -> bool {
    let mut seen_from = false;
    for (_, instruction) in instructions(text, escape_char(text)) {
        let keyword = instruction
            .split(char::is_whitespace)
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        if !KEYWORDS.contains(&keyword.as_str()) {
            return false;
        }
        if keyword == "FROM" {
            seen_from = true;
        } else if !seen_from && keyword != "ARG" {
            return false;
        }
        if instruction.contains("<<") {
            break;
        }
    }
    seen_from
}

/// The escape character from a leading `# escape=` parser directive.
fn escape_char(text: &str) -> char {
    for line in text.lines() {
        let t = line.trim();
        let Some(directive) = t.strip_prefix('#') else {
            break;
        };
        let directive = directive.trim();
        if let Some((k, v)) = directive.split_once('=')
            && k.trim().eq_ignore_ascii_case("escape")
        {
            return v.trim().chars().next().unwrap_or('\\');
        }
    }
    '\\'
}

/// Logical instructions with their first line number: continuation lines joined, comments
/// and blank lines dropped.
fn instructions(text: &str, escape: char) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_none()) {
            continue;
        }
        let (body, continues) = match trimmed.strip_suffix(escape) {
            Some(b) => (b, true),
            None => (trimmed, false),
        };
        let entry = current.get_or_insert_with(|| (i + 1, String::new()));
        if !entry.1.is_empty() {
            entry.1.push(' ');
        }
        entry.1.push_str(body.trim());
        if !continues && let Some(done) = current.take() {
            out.push(done);
        }
    }
    if let Some(done) = current {
        out.push(done);
    }
    out
}

/// Leading `--flag[=value]` words, and the rest.
fn split_flags(rest: &str) -> (Vec<&str>, &str) {
    let mut flags = Vec::new();
    let mut rest = rest.trim_start();
    while rest.starts_with("--") {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        flags.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    (flags, rest)
}

fn unquote(s: &str) -> String {
    let t = s.trim();
    if t.len() >= 2
        && ((t.starts_with('"') && t.ends_with('"')) || (t.starts_with('\'') && t.ends_with('\'')))
    {
        t[1..t.len() - 1].to_string()
    } else {
        t.to_string()
    }
}

/// Substitutes `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR:+alternative}`; unknown
/// variables become empty, as in the builder.
fn expand(s: &str, vars: &BTreeMap<String, String>) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' || i + 1 >= chars.len() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        if chars[i + 1] == '{' {
            let Some(len) = chars[i + 2..].iter().position(|&c| c == '}') else {
                out.push(chars[i]);
                i += 1;
                continue;
            };
            let inner: String = chars[i + 2..i + 2 + len].iter().collect();
            let value = if let Some((name, default)) = inner.split_once(":-") {
                vars.get(name)
                    .filter(|v| !v.is_empty())
                    .cloned()
                    .unwrap_or_else(|| default.to_string())
            } else if let Some((name, alt)) = inner.split_once(":+") {
                if vars.get(name).is_some_and(|v| !v.is_empty()) {
                    alt.to_string()
                } else {
                    String::new()
                }
            } else {
                vars.get(&inner).cloned().unwrap_or_default()
            };
            out.push_str(&value);
            i += 3 + len;
        } else if chars[i + 1].is_ascii_alphabetic() || chars[i + 1] == '_' {
            let len = chars[i + 1..]
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
                .unwrap_or(chars.len() - i - 1);
            let name: String = chars[i + 1..i + 1 + len].iter().collect();
            out.push_str(vars.get(&name).map(String::as_str).unwrap_or(""));
            i += 1 + len;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(text: &str, args: &[(&str, Option<&str>)]) -> Vec<String> {
        let args = args
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect();
        copy_sources(text, "Dockerfile", &args)
            .unwrap()
            .into_iter()
            .map(|s| s.pattern)
            .collect()
    }

    #[test]
    fn recognises_dockerfiles_and_rejects_other_text() {
        assert!(is_dockerfile(
            "# syntax=docker/dockerfile:1\nFROM alpine\nRUN echo hi\n"
        ));
        assert!(is_dockerfile("ARG BASE=alpine\nFROM $BASE\nCOPY . /\n"));
        assert!(is_dockerfile(
            "FROM alpine\nRUN <<EOF\necho one\nset -e\nEOF\nCMD [\"x\"]\n"
        ));
        assert!(!is_dockerfile("RUN echo hi\nFROM alpine\n"));
        assert!(!is_dockerfile(
            "# just notes about the Dockerfile\nsee README\n"
        ));
        assert!(!is_dockerfile("FROM alpine\nfoo bar\n"));
        assert!(!is_dockerfile(""));
    }

    #[test]
    fn multi_stage_copy_from_is_not_a_file_dependency() {
        let text = "FROM devloop-test/busybox:v1 AS build\nCOPY src/ /src/\nRUN make\n\
                    FROM scratch\nCOPY --from=build /out/app /app\nCOPY --chown=1:1 conf.txt /etc/\n";
        assert_eq!(patterns(text, &[]), vec!["src/", "conf.txt"]);
    }

    #[test]
    fn arg_substitution_with_defaults_and_build_args() {
        let text = "ARG DIR=assets\nFROM scratch\nARG NAME\nARG FLAVOR=${NAME:-plain}\n\
                    COPY $DIR/${NAME}.txt ${FLAVOR}.cfg /\n";
        assert_eq!(patterns(text, &[]), vec!["assets/.txt", "plain.cfg"]);
        assert_eq!(
            patterns(text, &[("NAME", Some("x")), ("DIR", Some("d"))]),
            vec!["d/x.txt", "x.cfg"]
        );
    }

    #[test]
    fn continuation_json_form_and_remote_add() {
        let text = "FROM scratch\n# comment\nCOPY a.txt \\\n  # inner comment\n  b.txt /dst/\n\
                    COPY [\"with space.txt\", \"/x\"]\nADD https://example.com/f.tgz /\n\
                    ADD local.tgz /\n";
        assert_eq!(
            patterns(text, &[]),
            vec!["a.txt", "b.txt", "with space.txt", "local.tgz"]
        );
    }

    #[test]
    fn escape_directive() {
        let text = "# escape=`\nFROM scratch\nCOPY a `\n  b /\n";
        assert_eq!(patterns(text, &[]), vec!["a", "b"]);
    }

    #[test]
    fn errors_name_the_line() {
        let err = copy_sources(
            "FROM scratch\n\nCOPY onlyone\n",
            "ctx/Dockerfile",
            &BTreeMap::new(),
        )
        .unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.to_string().starts_with("ctx/Dockerfile:3:"));
    }
}
