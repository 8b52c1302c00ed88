//! Hiding secrets in what devloop shows: the one place that decides what a command line, a
//! URL or a program's output may say in an error, an event (text or JSON) or debug output.
//!
//! Hidden: the values of Helm's `--set`, `--set-string`, `--set-json` and `--set-literal`
//! (`--set db.password=x` shows as `--set db.password=<redacted>`: a value may come from a
//! secret through `setValueTemplates`), the value of `--password`/`--token`-style flags, the
//! user information of URLs (`https://user:pass@host` → `https://<redacted>@host`), and
//! `Authorization`/`Bearer`/`Basic` credentials. Keys, flags and hosts stay, so a message
//! still says what failed.

use std::ffi::OsStr;
use std::sync::LazyLock;

/// What stands in for a hidden value.
pub const REDACTED: &str = "<redacted>";

/// Flags whose argument is `key=value[,key=value...]`.
const SET_FLAGS: &[&str] = &["--set", "--set-string", "--set-json", "--set-literal"];

/// Flags whose argument is a secret as a whole.
const SECRET_FLAGS: &[&str] = &[
    "--password",
    "--pass",
    "--token",
    "--creds",
    "--registry-password",
    "--access-token",
];

/// `args` as text to show, with secret values hidden.
pub fn args<S: AsRef<OsStr>>(args: &[S]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut after: Option<Flag> = None;
    for arg in args {
        let arg = arg.as_ref().to_string_lossy();
        let a: &str = &arg;
        let shown = match after.take() {
            Some(Flag::Set) => set_value(a),
            Some(Flag::Secret) => REDACTED.to_string(),
            None => match (flag(a), a.split_once('=')) {
                (Some(f), _) => {
                    after = Some(f);
                    a.to_string()
                }
                (None, Some((name, value))) => match flag(name) {
                    Some(Flag::Set) => format!("{name}={}", set_value(value)),
                    Some(Flag::Secret) => format!("{name}={REDACTED}"),
                    None => text(a),
                },
                (None, None) => text(a),
            },
        };
        out.push(shown);
    }
    out
}

/// What a flag's value is.
#[derive(Clone, Copy)]
enum Flag {
    /// `key=value` pairs whose values are hidden.
    Set,
    /// A secret as a whole.
    Secret,
}

fn flag(name: &str) -> Option<Flag> {
    if SET_FLAGS.contains(&name) {
        Some(Flag::Set)
    } else if SECRET_FLAGS.contains(&name) {
        Some(Flag::Secret)
    } else {
        None
    }
}

/// `program args...` as one line to show: secrets hidden, arguments with spaces or quotes
/// quoted.
pub fn command_line<S: AsRef<OsStr>>(program: &str, arguments: &[S]) -> String {
    let mut line = text(program);
    for a in args(arguments) {
        line.push(' ');
        if a.is_empty() || a.contains([' ', '"', '\'']) {
            line.push_str(&format!("{a:?}"));
        } else {
            line.push_str(&a);
        }
    }
    line
}

/// What a program printed, to show after running it with `arguments`: [`text`], and every
/// secret value passed in `arguments` hidden wherever the program repeats it.
pub fn output<S: AsRef<OsStr>>(printed: &str, arguments: &[S]) -> String {
    let mut shown = text(printed);
    for value in secret_values(arguments) {
        // Very short values ("1", "on") would hide half of any message and are no secret.
        if value.chars().count() >= 4 {
            shown = shown.replace(&value, REDACTED);
        }
    }
    shown
}

/// Free text (an error, a log line, a JSON event): URL user information, credentials after
/// `Authorization:`, `Bearer` and `Basic`, and `--set key=value` values are hidden.
pub fn text(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    if !s.contains("://")
        && !s.contains("--")
        && !lower.contains("bearer")
        && !lower.contains("authorization")
    {
        return s.to_string();
    }
    let s = USERINFO.replace_all(s, format!("${{scheme}}{REDACTED}@"));
    let s = AUTHORIZATION.replace_all(&s, format!("${{lead}}{REDACTED}"));
    let s = BEARER.replace_all(&s, format!("${{lead}}{REDACTED}"));
    let s = SET_IN_TEXT.replace_all(&s, |c: &regex::Captures| {
        format!("{}{}", &c["flag"], set_value(&c["value"]))
    });
    let s = SECRET_FLAG_IN_TEXT.replace_all(&s, format!("${{flag}}{REDACTED}"));
    s.into_owned()
}

/// `a=1,b.c=2` → `a=<redacted>,b.c=<redacted>` (a pair without `=` is kept: it has no value).
fn set_value(value: &str) -> String {
    split_pairs(value)
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) => format!("{key}={REDACTED}"),
            None => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Splits Helm's `--set` text at commas that are not escaped (`a=x\,y,b=z`).
fn split_pairs(value: &str) -> Vec<String> {
    let mut pairs = vec![String::new()];
    let mut escaped = false;
    for c in value.chars() {
        if c == ',' && !escaped {
            pairs.push(String::new());
            continue;
        }
        escaped = c == '\\' && !escaped;
        if let Some(last) = pairs.last_mut() {
            last.push(c);
        }
    }
    pairs
}

/// The secret values in `arguments`: every `--set`-style value and every secret flag's value.
fn secret_values<S: AsRef<OsStr>>(arguments: &[S]) -> Vec<String> {
    let mut values = Vec::new();
    let mut after: Option<Flag> = None;
    for arg in arguments {
        let arg = arg.as_ref().to_string_lossy();
        let a: &str = &arg;
        match after.take() {
            Some(Flag::Set) => values.extend(pair_values(a)),
            Some(Flag::Secret) => values.push(a.to_string()),
            None => match (flag(a), a.split_once('=')) {
                (Some(f), _) => after = Some(f),
                (None, Some((name, value))) => match flag(name) {
                    Some(Flag::Set) => values.extend(pair_values(value)),
                    Some(Flag::Secret) => values.push(value.to_string()),
                    None => {}
                },
                (None, None) => {}
            },
        }
    }
    values
}

fn pair_values(value: &str) -> Vec<String> {
    split_pairs(value)
        .into_iter()
        .filter_map(|p| p.split_once('=').map(|(_, v)| v.to_string()))
        .filter(|v| !v.is_empty())
        .collect()
}

static USERINFO: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@"'\\<>]+@"#)
        .expect("a valid pattern")
});

/// An `Authorization` header's credentials, whatever the scheme.
static AUTHORIZATION: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#"(?i)(?P<lead>\bauthorization:\s*(?:(?:bearer|basic|token)\s+)?)[^\s"]+"#)
        .expect("a valid pattern")
});

/// A bearer token quoted anywhere: long enough to be one (`Bearer realm="..."`, a challenge,
/// and prose such as "no bearer token" stay).
static BEARER: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#"(?i)(?P<lead>\bbearer\s+)[A-Za-z0-9\-._~+/]{16,}=*"#)
        .expect("a valid pattern")
});

static SET_IN_TEXT: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#"(?P<flag>--set(?:-string|-json|-literal)?(?:=|\s+)"?)(?P<value>[^\s"]+)"#)
        .expect("a valid pattern")
});

static SECRET_FLAG_IN_TEXT: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r#"(?P<flag>--(?:password|pass|token|creds|registry-password|access-token)(?:=|\s+))[^\s"]+"#,
    )
    .expect("a valid pattern")
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_values_and_secret_flags_are_hidden_keys_stay() {
        let line = command_line(
            "helm",
            &[
                "template",
                "web",
                "chart",
                "--set",
                "db.password=hunter2-SECRET,db.user=app",
                "--set-string=token=abc123",
                "--password",
                "pw-SECRET",
                "--set-file",
                "cert=/tmp/cert.pem",
                "--repo",
                "https://user:pa55@charts.example.com/x",
            ],
        );
        assert_eq!(
            line,
            "helm template web chart --set db.password=<redacted>,db.user=<redacted> \
             --set-string=token=<redacted> --password <redacted> --set-file cert=/tmp/cert.pem \
             --repo https://<redacted>@charts.example.com/x"
        );
    }

    #[test]
    fn escaped_commas_stay_inside_one_value() {
        assert_eq!(
            args(&["--set", r"a=x\,y,b=z"]),
            vec!["--set", "a=<redacted>,b=<redacted>"]
        );
    }

    #[test]
    fn urls_and_credentials_in_text() {
        assert_eq!(
            text("cannot reach https://ann:s3cret@registry.example.com/v2/ (oci://u@h/x)"),
            "cannot reach https://<redacted>@registry.example.com/v2/ (oci://<redacted>@h/x)"
        );
        assert_eq!(
            text("Authorization: Bearer eyJhbGciOi.abc-def_ghi"),
            "Authorization: Bearer <redacted>"
        );
        assert_eq!(
            text(r#"{"token":"x","h":"bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"}"#),
            r#"{"token":"x","h":"bearer <redacted>"}"#
        );
        assert_eq!(
            text("the registry sent no bearer token"),
            "the registry sent no bearer token"
        );
        assert_eq!(
            text("Authorization: Basic YW5uOnB3ZA=="),
            "Authorization: Basic <redacted>"
        );
        assert_eq!(
            text(r#"www-authenticate: Bearer realm="https://auth.example.com/token""#),
            r#"www-authenticate: Bearer realm="https://auth.example.com/token""#
        );
        assert_eq!(
            text("`helm template web chart --set db.password=hunter2 -f v.yaml` failed"),
            "`helm template web chart --set db.password=<redacted> -f v.yaml` failed"
        );
        assert_eq!(
            text("--token=abc --pass x"),
            "--token=<redacted> --pass <redacted>"
        );
        assert_eq!(text("nothing to hide: a=b"), "nothing to hide: a=b");
        assert_eq!(
            text("helm --set a=<redacted>,b=<redacted> failed parsing --set data: bad"),
            "helm --set a=<redacted>,b=<redacted> failed parsing --set data: bad"
        );
        assert_eq!(
            text("no user: https://host/x@y"),
            "no user: https://host/x@y"
        );
    }

    #[test]
    fn a_program_repeating_a_secret_value_is_hidden_too() {
        let args = ["template", "--set", "db.password=hunter2-SECRET,replicas=1"];
        assert_eq!(
            output("Error: bad value hunter2-SECRET for replicas 1", &args),
            "Error: bad value <redacted> for replicas 1"
        );
    }
}
