//! The Go-template subset Skaffold evaluates in config values (`envTemplate` tags, Helm
//! `setValueTemplates`, docker `buildArgs`, hook commands, ...).
//!
//! Supported: literal text; `{{.VAR}}`; `{{default "x" .VAR}}` and `{{.VAR | default "x"}}`
//! (the default is used when the variable is missing or empty); string literals (`"..."` with
//! Go escapes, or `` `raw` ``); the trim markers `{{-` and `-}}`; comments `{{/* ... */}}`.
//! Anything else (other functions, `if`/`range`, ...) is an error naming the template and the
//! column, never a silent wrong value. A missing variable renders as `<no value>`, as Go's
//! `text/template` does for Skaffold's `map[string]string` data.
//!
//! Variables come from the environment ([`environment`], plus `skaffold.env`) and from the
//! caller: [`image_variables`] builds the `IMAGE_*` set for one built image. An environment
//! variable whose value is not UTF-8 is kept by name only: a template that uses it is an error
//! naming the template and the variable; one that does not is unaffected.

use indexmap::IndexMap;
use std::collections::BTreeMap;
use std::ffi::OsString;

/// Template variables: name → value (a map, through `Deref`), plus the names of environment
/// variables that are set but not UTF-8, which a template may not use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars {
    values: IndexMap<String, String>,
    not_utf8: BTreeMap<String, OsString>,
}

impl Vars {
    pub fn new() -> Self {
        Vars::default()
    }

    /// Whether `name` is set in the environment to a value that is not UTF-8 (and no
    /// UTF-8 value was given for it).
    pub fn is_not_utf8(&self, name: &str) -> bool {
        !self.values.contains_key(name) && self.not_utf8.contains_key(name)
    }

    /// Records that `name` is set to `value`, which is not UTF-8.
    pub fn insert_not_utf8(&mut self, name: impl Into<String>, value: OsString) {
        self.not_utf8.insert(name.into(), value);
    }

    /// The variables whose values are not UTF-8, as they are: for a program that gets the
    /// whole environment (a custom build), which should see them unchanged.
    pub fn not_utf8(&self) -> impl Iterator<Item = (&String, &OsString)> {
        self.not_utf8
            .iter()
            .filter(|(name, _)| !self.values.contains_key(*name))
    }
}

impl std::ops::Deref for Vars {
    type Target = IndexMap<String, String>;
    fn deref(&self) -> &Self::Target {
        &self.values
    }
}

impl std::ops::DerefMut for Vars {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.values
    }
}

impl FromIterator<(String, String)> for Vars {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Vars {
            values: iter.into_iter().collect(),
            not_utf8: BTreeMap::new(),
        }
    }
}

impl<const N: usize> From<[(String, String); N]> for Vars {
    fn from(pairs: [(String, String); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl From<IndexMap<String, String>> for Vars {
    fn from(values: IndexMap<String, String>) -> Self {
        Vars {
            values,
            not_utf8: BTreeMap::new(),
        }
    }
}

impl IntoIterator for Vars {
    type Item = (String, String);
    type IntoIter = indexmap::map::IntoIter<String, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.values.into_iter()
    }
}

impl<'a> IntoIterator for &'a Vars {
    type Item = (&'a String, &'a String);
    type IntoIter = indexmap::map::Iter<'a, String, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.values.iter()
    }
}

impl Extend<(String, String)> for Vars {
    fn extend<I: IntoIterator<Item = (String, String)>>(&mut self, iter: I) {
        self.values.extend(iter);
    }
}

/// A template that cannot be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("template `{template}`: column {column}: {message}")]
pub struct TemplateError {
    pub template: String,
    /// 1-based character column in the template text.
    pub column: usize,
    pub message: String,
}

const SUPPORTED: &str =
    "supported are {{.VAR}}, {{default \"x\" .VAR}}, {{.VAR | default \"x\"}} and literal text";

/// Evaluates `text` with `vars`.
pub fn render_template(text: &str, vars: &Vars) -> Result<String, TemplateError> {
    let fail = |offset: usize, message: String| TemplateError {
        template: text.to_string(),
        column: text[..offset.min(text.len())].chars().count() + 1,
        message,
    };
    let mut out = String::new();
    let mut rest_start = 0;
    let mut trim_next = false;
    while let Some(found) = text[rest_start..].find("{{") {
        let open = rest_start + found;
        let mut literal = &text[rest_start..open];
        if trim_next {
            literal = literal.trim_start();
        }
        let mut inner_start = open + 2;
        let after = &text[inner_start..];
        if after.starts_with('-') && after[1..].starts_with(char::is_whitespace) {
            literal = literal.trim_end();
            inner_start += 1;
        }
        out.push_str(literal);
        let Some(close_rel) = text[inner_start..].find("}}") else {
            return Err(fail(open, "unclosed action: missing `}}`".into()));
        };
        let mut inner_end = inner_start + close_rel;
        trim_next = false;
        let inner = &text[inner_start..inner_end];
        if inner.ends_with('-') && inner[..inner.len() - 1].ends_with(char::is_whitespace) {
            inner_end -= 1;
            trim_next = true;
        }
        let action = &text[inner_start..inner_end];
        out.push_str(&evaluate(action, inner_start, vars).map_err(|(o, m)| fail(o, m))?);
        rest_start = inner_start + close_rel + 2;
    }
    let mut literal = &text[rest_start..];
    if trim_next {
        literal = literal.trim_start();
    }
    out.push_str(literal);
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Field(String),
    Str(String),
    Ident(String),
    Pipe,
}

/// Splits an action into tokens with their byte offsets in the template.
fn tokenize(action: &str, base: usize) -> Result<Vec<(usize, Token)>, (usize, String)> {
    let mut tokens = Vec::new();
    let bytes = action.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let at = base + i;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'|' {
            tokens.push((at, Token::Pipe));
            i += 1;
        } else if c == b'.' {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
                end += 1;
            }
            if end == start {
                return Err((
                    at,
                    format!("`.` alone (the whole data map) is not supported; {SUPPORTED}"),
                ));
            }
            if end < bytes.len() && bytes[end] == b'.' {
                return Err((at, format!("nested fields are not supported; {SUPPORTED}")));
            }
            tokens.push((at, Token::Field(action[start..end].to_string())));
            i = end;
        } else if c == b'"' {
            let mut value = String::new();
            let mut j = i + 1;
            let mut closed = false;
            let chars: Vec<(usize, char)> = action[j..].char_indices().collect();
            let mut k = 0;
            while k < chars.len() {
                let (off, ch) = chars[k];
                if ch == '"' {
                    j = i + 1 + off + 1;
                    closed = true;
                    break;
                }
                if ch == '\\' {
                    k += 1;
                    let Some(&(_, esc)) = chars.get(k) else { break };
                    value.push(match esc {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '\\' => '\\',
                        '"' => '"',
                        other => {
                            return Err((
                                at,
                                format!("unsupported escape `\\{other}` in string literal"),
                            ));
                        }
                    });
                } else {
                    value.push(ch);
                }
                k += 1;
            }
            if !closed {
                return Err((at, "unterminated string literal".into()));
            }
            tokens.push((at, Token::Str(value)));
            i = j;
        } else if c == b'`' {
            let Some(end) = action[i + 1..].find('`') else {
                return Err((at, "unterminated raw string literal".into()));
            };
            tokens.push((at, Token::Str(action[i + 1..i + 1 + end].to_string())));
            i = i + 1 + end + 1;
        } else if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric()
                    || bytes[i] == b'_'
                    || bytes[i] == b'-'
                    || bytes[i] == b'.')
            {
                i += 1;
            }
            let word = &action[start..i];
            if word.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                // A number literal: its text is its value.
                tokens.push((at, Token::Str(word.to_string())));
            } else {
                tokens.push((at, Token::Ident(word.to_string())));
            }
        } else {
            let ch = action[i..].chars().next().unwrap_or('?');
            return Err((at, format!("unexpected `{ch}`; {SUPPORTED}")));
        }
    }
    Ok(tokens)
}

/// A value in a pipeline: `None` is Go's "no value" (a missing map key).
type Val = Option<String>;

fn evaluate(action: &str, base: usize, vars: &Vars) -> Result<String, (usize, String)> {
    let trimmed = action.trim();
    if trimmed.starts_with("/*") {
        if trimmed.ends_with("*/") {
            return Ok(String::new());
        }
        return Err((base, "unclosed comment".into()));
    }
    let tokens = tokenize(action, base)?;
    if tokens.is_empty() {
        return Err((base, "empty action `{{}}`".into()));
    }
    let mut commands: Vec<Vec<(usize, Token)>> = vec![vec![]];
    for (at, token) in tokens {
        if token == Token::Pipe {
            if commands.last().is_some_and(Vec::is_empty) {
                return Err((at, "missing command before `|`".into()));
            }
            commands.push(vec![]);
        } else if let Some(last) = commands.last_mut() {
            last.push((at, token));
        }
    }
    if commands.last().is_some_and(Vec::is_empty) {
        return Err((base + action.len(), "missing command after `|`".into()));
    }
    let mut piped: Option<Val> = None;
    for command in commands {
        piped = Some(run_command(&command, piped, vars)?);
    }
    Ok(piped.flatten().unwrap_or_else(|| "<no value>".to_string()))
}

fn operand(token: &(usize, Token), vars: &Vars) -> Result<Val, (usize, String)> {
    match &token.1 {
        Token::Field(name) if vars.is_not_utf8(name) => Err((
            token.0,
            format!(
                "the environment variable `{name}` is set but its value is not UTF-8; set it to \
                 UTF-8 text or leave it unset"
            ),
        )),
        Token::Field(name) => Ok(vars.get(name).cloned()),
        Token::Str(s) => Ok(Some(s.clone())),
        Token::Ident(name) => Err((token.0, unsupported_function(name))),
        Token::Pipe => Err((token.0, "unexpected `|`".into())),
    }
}

fn unsupported_function(name: &str) -> String {
    format!("function `{name}` is not supported; {SUPPORTED}")
}

fn run_command(
    command: &[(usize, Token)],
    piped: Option<Val>,
    vars: &Vars,
) -> Result<Val, (usize, String)> {
    let (at, head) = &command[0];
    match head {
        Token::Ident(name) if name == "default" => {
            let mut args = command[1..]
                .iter()
                .map(|t| operand(t, vars))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(value) = piped {
                args.push(value);
            }
            if args.len() != 2 {
                return Err((
                    *at,
                    format!(
                        "`default` takes 2 arguments (the default, then the value), got {}",
                        args.len()
                    ),
                ));
            }
            let value = args.pop().flatten();
            let fallback = args.pop().flatten();
            Ok(match value {
                Some(v) if !v.is_empty() => Some(v),
                _ => fallback,
            })
        }
        Token::Ident(name) => Err((*at, unsupported_function(name))),
        _ => {
            if command.len() > 1 || piped.is_some() {
                return Err((
                    command.get(1).map_or(*at, |t| t.0),
                    format!("a value cannot take arguments; {SUPPORTED}"),
                ));
            }
            operand(&command[0], vars)
        }
    }
}

/// The process environment as template variables. Read with `vars_os`: a name or value that
/// is not UTF-8 never stops devloop; such a variable is only an error where a template uses
/// it (a name that is not UTF-8 cannot be written in a template at all).
pub fn environment() -> Vars {
    from_os(std::env::vars_os())
}

fn from_os(pairs: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>) -> Vars {
    let mut vars = Vars::new();
    for (name, value) in pairs {
        let Ok(name) = name.into_string() else {
            continue;
        };
        match value.into_string() {
            Ok(value) => {
                vars.insert(name, value);
            }
            Err(value) => vars.insert_not_utf8(name, value),
        }
    }
    vars
}

/// The suffix of the per-image variables: the image name with `/`, `-`, `.` and `:`
/// replaced by `_` (`gcr.io/app-1` → `gcr_io_app_1`).
pub fn image_suffix(image: &str) -> String {
    super::upgrade::sanitize_image_name(image)
}

/// The parts of an image reference, as Skaffold's `docker.ParseReference` splits it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageParts {
    /// Name without tag and digest (`gcr.io/p/app`).
    pub repo: String,
    pub tag: String,
    /// `sha256:...` or empty.
    pub digest: String,
    /// The first path component when the name has a `/` (`gcr.io`), else empty.
    pub domain: String,
    /// `repo` without the domain (`p/app`).
    pub repo_no_domain: String,
}

/// Splits `reference` (`[domain/]path[:tag][@digest]`).
pub fn split_reference(reference: &str) -> ImageParts {
    let (name_tag, digest) = match reference.split_once('@') {
        Some((n, d)) => (n, d.to_string()),
        None => (reference, String::new()),
    };
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (repo, tag) = match name_tag[last_slash..].rfind(':') {
        Some(i) => (
            name_tag[..last_slash + i].to_string(),
            name_tag[last_slash + i + 1..].to_string(),
        ),
        None => (name_tag.to_string(), String::new()),
    };
    let (domain, repo_no_domain) = match repo.split_once('/') {
        Some((d, rest)) => (d.to_string(), rest.to_string()),
        None => (String::new(), repo.clone()),
    };
    ImageParts {
        repo,
        tag,
        digest,
        domain,
        repo_no_domain,
    }
}

/// The template variables of one built image: `IMAGE_REPO_<x>`, `IMAGE_TAG_<x>`,
/// `IMAGE_DIGEST_<x>`, `IMAGE_FULLY_QUALIFIED_<x>`, `IMAGE_DOMAIN_<x>` and
/// `IMAGE_REPO_NO_DOMAIN_<x>`, where `<x>` is [`image_suffix`] of the artifact's `image`
/// name and the values come from `reference` (the final image reference, e.g.
/// `localhost:5000/app:v1@sha256:...`). With `unsuffixed`, the same six variables without
/// the suffix are added too (for single-artifact contexts such as an artifact's own
/// build args or hooks).
pub fn image_variables(artifact_image: &str, reference: &str, unsuffixed: bool) -> Vars {
    let parts = split_reference(reference);
    let suffix = image_suffix(artifact_image);
    let values = [
        ("IMAGE_REPO", parts.repo),
        ("IMAGE_TAG", parts.tag),
        ("IMAGE_DIGEST", parts.digest),
        ("IMAGE_FULLY_QUALIFIED", reference.to_string()),
        ("IMAGE_DOMAIN", parts.domain),
        ("IMAGE_REPO_NO_DOMAIN", parts.repo_no_domain),
    ];
    let mut vars = Vars::new();
    for (name, value) in &values {
        vars.insert(format!("{name}_{suffix}"), value.clone());
    }
    if unsuffixed {
        for (name, value) in values {
            vars.insert(name.to_string(), value);
        }
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fields_defaults_pipes_and_literals() {
        let v = vars(&[("USER", "ada"), ("EMPTY", "")]);
        assert_eq!(render_template("hi {{.USER}}!", &v).unwrap(), "hi ada!");
        assert_eq!(render_template("{{.NOPE}}", &v).unwrap(), "<no value>");
        assert_eq!(
            render_template(
                "{{default \"x\" .NOPE}}-{{default \"y\" .EMPTY}}-{{default \"z\" .USER}}",
                &v
            )
            .unwrap(),
            "x-y-ada"
        );
        assert_eq!(
            render_template("{{.NOPE | default `raw`}}", &v).unwrap(),
            "raw"
        );
        assert_eq!(render_template("{{\"lit\\n\"}}", &v).unwrap(), "lit\n");
        assert_eq!(render_template("no actions", &v).unwrap(), "no actions");
        assert_eq!(render_template("{{/* note */}}x", &v).unwrap(), "x");
    }

    #[test]
    fn trim_markers_remove_adjacent_whitespace() {
        let v = vars(&[("A", "1")]);
        assert_eq!(render_template("a  {{- .A -}}  b", &v).unwrap(), "a1b");
        assert_eq!(render_template("a  {{.A -}}\n b", &v).unwrap(), "a  1b");
    }

    #[test]
    fn unsupported_constructs_name_template_and_column() {
        let v = vars(&[]);
        assert_eq!(
            render_template("v-{{.A | upper}}", &v)
                .unwrap_err()
                .to_string(),
            "template `v-{{.A | upper}}`: column 10: function `upper` is not supported; supported are {{.VAR}}, {{default \"x\" .VAR}}, {{.VAR | default \"x\"}} and literal text"
        );
        let err = render_template("{{if .A}}x{{end}}", &v).unwrap_err();
        assert_eq!(err.column, 3);
        assert!(err.message.contains("`if`"), "{}", err.message);
        assert_eq!(
            render_template("{{.A", &v).unwrap_err().message,
            "unclosed action: missing `}}`"
        );
        assert_eq!(render_template("{{.A.B}}", &v).unwrap_err().column, 3);
        assert!(render_template("{{default .A}}", &v).is_err());
    }

    #[test]
    fn a_variable_that_is_not_utf8_is_an_error_only_where_used() {
        use std::os::unix::ffi::OsStringExt;
        let env = from_os([
            (OsString::from("BAD"), OsString::from_vec(vec![b'a', 0xff])),
            (OsString::from_vec(vec![0xfe]), OsString::from("x")),
            (OsString::from("GOOD"), OsString::from("ok")),
        ]);
        assert_eq!(render_template("{{.GOOD}}", &env).unwrap(), "ok");
        assert_eq!(render_template("plain", &env).unwrap(), "plain");
        let err = render_template("v-{{.BAD}}", &env).unwrap_err();
        assert_eq!(err.template, "v-{{.BAD}}");
        assert_eq!(err.column, 5);
        assert!(
            err.message.contains("`BAD`") && err.message.contains("not UTF-8"),
            "{}",
            err.message
        );
        assert!(render_template("{{default \"x\" .BAD}}", &env).is_err());
        // A UTF-8 value given later (skaffold.env, a flag) is used as such.
        let mut env = env;
        env.insert("BAD".into(), "fine".into());
        assert_eq!(render_template("{{.BAD}}", &env).unwrap(), "fine");
    }

    #[test]
    fn image_variables_split_the_reference() {
        let v = image_variables(
            "gcr.io/k8s-skaffold/app",
            "localhost:5000/team/app:v1@sha256:abc",
            true,
        );
        let s = "gcr_io_k8s_skaffold_app";
        assert_eq!(v[&format!("IMAGE_REPO_{s}")], "localhost:5000/team/app");
        assert_eq!(v[&format!("IMAGE_TAG_{s}")], "v1");
        assert_eq!(v[&format!("IMAGE_DIGEST_{s}")], "sha256:abc");
        assert_eq!(v[&format!("IMAGE_DOMAIN_{s}")], "localhost:5000");
        assert_eq!(v[&format!("IMAGE_REPO_NO_DOMAIN_{s}")], "team/app");
        assert_eq!(
            v[&format!("IMAGE_FULLY_QUALIFIED_{s}")],
            "localhost:5000/team/app:v1@sha256:abc"
        );
        assert_eq!(v["IMAGE_TAG"], "v1");
        let plain = split_reference("app");
        assert_eq!(plain.repo, "app");
        assert_eq!(plain.domain, "");
        assert_eq!(plain.tag, "");
        let template =
            "{{.IMAGE_REPO_gcr_io_k8s_skaffold_app}}:{{.IMAGE_TAG_gcr_io_k8s_skaffold_app}}";
        assert_eq!(
            render_template(template, &v).unwrap(),
            "localhost:5000/team/app:v1"
        );
    }
}
