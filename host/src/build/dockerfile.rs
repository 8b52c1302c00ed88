//! The one Dockerfile reader: the stages of a Dockerfile with their `COPY`/`ADD` instructions
//! and working directories, variables expanded as the builder expands them (`ARG` with build
//! args and defaults, global `ARG`s only where a stage re-declares them, `ENV` over `ARG`,
//! stage-local `ARG`s reset at every `FROM`, `ENV` inherited from a parent stage). The build
//! stage asks it which context files an image is built from; `sync.infer` asks it where a
//! context file lands in the final image.

use crate::sync::paths::normalize_container_path;
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

/// One `COPY` or `ADD`, variables expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    pub line: usize,
    /// `ADD` (which also takes URLs and unpacks archives) rather than `COPY`.
    pub add: bool,
    /// `--from=...`: copies out of another stage or image, not out of the context.
    pub from: Option<String>,
    /// The sources as written (heredocs `<<EOF` left out).
    pub sources: Vec<String>,
    /// The destination as written.
    pub dest: String,
    /// The working directory in force at this instruction (absolute, normalised): a relative
    /// destination is relative to it.
    pub workdir: String,
}

impl Copy {
    /// The destination as an absolute, normalised container path.
    pub fn absolute_dest(&self) -> String {
        if self.dest.starts_with('/') {
            normalize_container_path(&self.dest)
        } else {
            normalize_container_path(&format!("{}/{}", self.workdir, self.dest))
        }
    }

    /// The sources that are files of the build context: not a `--from` copy, not a remote
    /// `ADD` URL.
    pub fn context_sources(&self) -> impl Iterator<Item = &str> {
        let from_context = self.from.is_none();
        self.sources
            .iter()
            .map(String::as_str)
            .filter(move |s| from_context && !is_remote(s))
    }
}

fn is_remote(source: &str) -> bool {
    source.contains("://") || source.starts_with("git@")
}

/// One build stage (`FROM ...` up to the next `FROM`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// The `AS name`, lowercased.
    pub name: Option<String>,
    /// The earlier stage this one is built `FROM`, if any (index into the stages).
    pub parent: Option<usize>,
    pub copies: Vec<Copy>,
    /// The working directory at the end of the stage.
    pub workdir: String,
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dockerfile {
    pub stages: Vec<Stage>,
}

impl Dockerfile {
    /// Parses `text` (a Dockerfile named `origin` in errors) with the build args (a `None`
    /// value means "declared but unset"). A text with no `FROM` has no stages.
    pub fn parse(
        text: &str,
        origin: &str,
        build_args: &BTreeMap<String, Option<String>>,
    ) -> Result<Dockerfile, DockerfileError> {
        let mut parser = Parser {
            build_args,
            global_args: BTreeMap::new(),
            stages: Vec::new(),
            stage_env: Vec::new(),
            env: Vars::new(),
            args: Vars::new(),
        };
        for (line, instruction) in instructions(text, escape_char(text)) {
            parser
                .instruction(line, &instruction)
                .map_err(|reason| DockerfileError {
                    file: origin.to_string(),
                    line,
                    reason,
                })?;
        }
        Ok(Dockerfile {
            stages: parser.stages,
        })
    }

    /// The final stage and the stages it is built `FROM`, root first.
    pub fn final_chain(&self) -> Vec<&Stage> {
        let mut chain = Vec::new();
        let mut next = self.stages.len().checked_sub(1);
        while let Some(i) = next {
            chain.push(&self.stages[i]);
            // A parent always comes earlier, so this ends.
            next = self.stages[i].parent.filter(|p| *p < i);
        }
        chain.reverse();
        chain
    }
}

/// Variables in scope: name → value.
type Vars = BTreeMap<String, String>;

struct Parser<'a> {
    build_args: &'a BTreeMap<String, Option<String>>,
    /// `ARG`s declared before the first `FROM` (with build args applied); None when unset.
    global_args: BTreeMap<String, Option<String>>,
    stages: Vec<Stage>,
    /// The `ENV` at the end of each finished stage, for the stages built `FROM` it.
    stage_env: Vec<Vars>,
    /// The current stage's `ENV` (inherited from its parent stage).
    env: Vars,
    /// The current stage's `ARG`s.
    args: Vars,
}

impl Parser<'_> {
    /// What `$NAME` means at this point: `ENV` wins over `ARG`.
    fn scope(&self) -> Vars {
        let mut vars = self.args.clone();
        vars.extend(self.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        vars
    }

    fn global_scope(&self) -> Vars {
        self.global_args
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
            .collect()
    }

    fn instruction(&mut self, line: usize, instruction: &str) -> Result<(), String> {
        let (keyword, rest) = match instruction.split_once(char::is_whitespace) {
            Some((k, r)) => (k.to_ascii_uppercase(), r.trim()),
            None => (instruction.to_ascii_uppercase(), ""),
        };
        let in_stage = !self.stages.is_empty();
        match keyword.as_str() {
            "ARG" => self.arg(rest, in_stage),
            "FROM" => self.from(rest),
            "ENV" if in_stage => self.set_env(rest),
            "WORKDIR" if in_stage => {
                let dir = expand(&unquote(rest), &self.scope());
                let stage = self.stages.last_mut().expect("in a stage");
                stage.workdir = if dir.starts_with('/') {
                    normalize_container_path(&dir)
                } else {
                    normalize_container_path(&format!("{}/{dir}", stage.workdir))
                };
                Ok(())
            }
            "COPY" | "ADD" if in_stage => self.copy(line, &keyword, rest),
            _ => Ok(()),
        }
    }

    fn arg(&mut self, rest: &str, in_stage: bool) -> Result<(), String> {
        for decl in words(rest)? {
            let (name, default) = match decl.split_once('=') {
                Some((n, d)) => (n.to_string(), Some(d.to_string())),
                None => (decl, None),
            };
            let scope = if in_stage {
                self.scope()
            } else {
                self.global_scope()
            };
            let value = match self.build_args.get(&name) {
                Some(Some(v)) => Some(v.clone()),
                _ => match default {
                    Some(d) => Some(expand(&d, &scope)),
                    // `ARG NAME` inside a stage brings the global ARG of that name in.
                    None if in_stage => self.global_args.get(&name).cloned().flatten(),
                    None => None,
                },
            };
            if in_stage {
                match value {
                    Some(v) => self.args.insert(name, v),
                    None => self.args.remove(&name),
                };
            } else {
                self.global_args.insert(name, value);
            }
        }
        Ok(())
    }

    fn from(&mut self, rest: &str) -> Result<(), String> {
        let (_, rest) = split_flags(rest);
        let args: Vec<&str> = rest.split_whitespace().collect();
        let Some(base) = args.first() else {
            return Err("FROM needs an image or a stage name".to_string());
        };
        let base = expand(base, &self.global_scope()).to_ascii_lowercase();
        let name = match args.as_slice() {
            [_, as_, name, ..] if as_.eq_ignore_ascii_case("as") => Some(name.to_ascii_lowercase()),
            _ => None,
        };
        let parent = self
            .stages
            .iter()
            .rposition(|s| s.name.as_deref() == Some(base.as_str()));
        if !self.stages.is_empty() {
            self.stage_env.push(std::mem::take(&mut self.env));
        }
        let (env, workdir) = match parent {
            Some(p) => (self.stage_env[p].clone(), self.stages[p].workdir.clone()),
            None => (Vars::new(), "/".to_string()),
        };
        self.env = env;
        self.args = Vars::new();
        self.stages.push(Stage {
            name,
            parent,
            copies: Vec::new(),
            workdir,
        });
        Ok(())
    }

    fn set_env(&mut self, rest: &str) -> Result<(), String> {
        let scope = self.scope();
        let words = words(rest)?;
        // `ENV NAME value with spaces` is the old one-variable form.
        if let Some(first) = words.first()
            && !first.contains('=')
        {
            let value = rest.trim_start()[first.len()..].trim();
            self.env
                .insert(first.clone(), expand(&unquote(value), &scope));
            return Ok(());
        }
        for word in words {
            let Some((name, value)) = word.split_once('=') else {
                return Err(format!("ENV `{word}`: expected NAME=value"));
            };
            self.env.insert(name.to_string(), expand(value, &scope));
        }
        Ok(())
    }

    fn copy(&mut self, line: usize, keyword: &str, rest: &str) -> Result<(), String> {
        let (flags, args) = split_flags(rest);
        let scope = self.scope();
        let from = flags
            .iter()
            .find_map(|f| f.strip_prefix("--from="))
            .map(|f| expand(f, &scope));
        let mut args = if args.starts_with('[') {
            serde_json::from_str::<Vec<String>>(args)
                .map_err(|e| format!("{keyword}: invalid JSON array form: {e}"))?
        } else {
            args.split_whitespace().map(str::to_string).collect()
        };
        if args.len() < 2 {
            return Err(format!(
                "{keyword} needs at least one source and a destination"
            ));
        }
        let dest = expand(&args.pop().unwrap_or_default(), &scope);
        let sources = args
            .iter()
            .filter(|s| !s.starts_with("<<"))
            .map(|s| expand(s, &scope))
            .collect();
        let stage = self.stages.last_mut().expect("in a stage");
        stage.copies.push(Copy {
            line,
            add: keyword == "ADD",
            from,
            sources,
            dest,
            workdir: stage.workdir.clone(),
        });
        Ok(())
    }
}

/// The context sources that `text` (a Dockerfile named `origin` in errors) copies in any of
/// its stages, given the build args (a `None` value means "declared but unset").
pub fn copy_sources(
    text: &str,
    origin: &str,
    build_args: &BTreeMap<String, Option<String>>,
) -> Result<Vec<CopySource>, DockerfileError> {
    let dockerfile = Dockerfile::parse(text, origin, build_args)?;
    Ok(dockerfile
        .stages
        .iter()
        .flat_map(|s| &s.copies)
        .flat_map(|c| {
            c.context_sources().map(|pattern| CopySource {
                pattern: pattern.to_string(),
                line: c.line,
            })
        })
        .collect())
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

/// The words of an `ARG` or `ENV` line: split at unquoted white space, quotes removed, a
/// backslash keeping the next character as it is.
fn words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                words.extend(word.take());
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => word.get_or_insert_with(String::new).push(c),
            (_, '\\') => {
                let next = chars.next().unwrap_or('\\');
                word.get_or_insert_with(String::new).push(next);
            }
            (_, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    if let Some(q) = quote {
        return Err(format!("unterminated {q} quote in `{text}`"));
    }
    words.extend(word);
    Ok(words)
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
fn expand(s: &str, vars: &Vars) -> String {
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
        let text = "ARG DIR=assets\nFROM scratch\nARG DIR\nARG NAME\nARG FLAVOR=${NAME:-plain}\n\
                    COPY $DIR/${NAME}.txt ${FLAVOR}.cfg /\n";
        assert_eq!(patterns(text, &[]), vec!["assets/.txt", "plain.cfg"]);
        assert_eq!(
            patterns(text, &[("NAME", Some("x")), ("DIR", Some("d"))]),
            vec!["d/x.txt", "x.cfg"]
        );
        // Without `ARG DIR` in the stage, the global ARG is not in scope there (Docker's rule).
        let undeclared = text.replace("ARG DIR\n", "");
        assert_eq!(patterns(&undeclared, &[]), vec!["/.txt", "plain.cfg"]);
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

    #[test]
    fn env_is_expanded_and_wins_over_arg() {
        let text = "FROM scratch\nARG DIR=from-arg\nENV DIR=from-env OTHER=\"two words\"\n\
                    ENV LEGACY some value\nCOPY $DIR/a ${OTHER}/b /\n";
        assert_eq!(patterns(text, &[]), vec!["from-env/a", "two words/b"]);
        let df = Dockerfile::parse(text, "Dockerfile", &BTreeMap::new()).unwrap();
        assert_eq!(df.stages[0].copies[0].line, 5);
    }

    #[test]
    fn stage_args_reset_at_from_and_global_args_need_redeclaring() {
        // `SRC` of the first stage is gone in the second; the global `TOP` is visible in a
        // stage only after `ARG TOP`.
        let text = "ARG TOP=top\nFROM scratch AS one\nARG SRC=one\nCOPY $SRC$TOP /\n\
                    FROM scratch\nCOPY x$SRC y$TOP /\nARG TOP\nCOPY z$TOP /\n";
        assert_eq!(patterns(text, &[]), vec!["one", "x", "y", "ztop"]);
        assert_eq!(
            patterns(text, &[("TOP", Some("flag"))]),
            vec!["one", "x", "y", "zflag"]
        );
    }

    #[test]
    fn env_and_workdir_are_inherited_from_the_parent_stage() {
        let text = "FROM scratch AS base\nENV APP=/srv/app\nWORKDIR $APP\nARG GONE=x\n\
                    FROM base\nCOPY $APP.conf $GONE.txt ./\n";
        let df = Dockerfile::parse(text, "Dockerfile", &BTreeMap::new()).unwrap();
        let chain = df.final_chain();
        assert_eq!(chain.len(), 2);
        let copy = &chain[1].copies[0];
        assert_eq!(copy.sources, vec!["/srv/app.conf", ".txt"]);
        assert_eq!(copy.absolute_dest(), "/srv/app");
    }

    #[test]
    fn from_takes_global_args_and_bad_quotes_are_errors() {
        let text = "ARG BASE=Builder\nFROM scratch AS builder\nCOPY a /\nFROM ${BASE}\nCOPY b /\n";
        let df = Dockerfile::parse(text, "Dockerfile", &BTreeMap::new()).unwrap();
        assert_eq!(df.stages[1].parent, Some(0));
        let err = Dockerfile::parse("FROM x\nENV A=\"open\n", "D", &BTreeMap::new()).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.reason.contains("unterminated"), "{err}");
    }
}
