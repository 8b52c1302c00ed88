//! `.dockerignore` matching with Docker's own rules (moby/patternmatcher): patterns are
//! cleaned paths relative to the context, `*` and `?` stop at `/`, `**` spans directories,
//! a pattern that matches a directory excludes everything below it, `!` re-includes, and the
//! last matching pattern wins.

use regex::Regex;
use std::path::Path;

/// The parsed patterns of one `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone)]
struct Pattern {
    exclusion: bool,
    /// The cleaned pattern text, for messages.
    text: String,
    regex: Regex,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: invalid pattern `{pattern}`: {reason}")]
pub struct PatternError {
    pub file: String,
    pub line: usize,
    pub pattern: String,
    pub reason: String,
}

impl DockerIgnore {
    /// Reads `<context>/.dockerignore`; no file means nothing is ignored.
    pub fn load(context: &Path) -> Result<Self, PatternError> {
        let path = context.join(".dockerignore");
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text, &path.display().to_string()),
            Err(_) => Ok(Self::default()),
        }
    }

    /// Parses the text of a `.dockerignore`; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, PatternError> {
        let mut patterns = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exclusion, body) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let cleaned = clean(body.trim_start_matches('/'));
            if cleaned.is_empty() {
                continue;
            }
            let regex = compile(&cleaned).map_err(|reason| PatternError {
                file: origin.to_string(),
                line: i + 1,
                pattern: line.to_string(),
                reason,
            })?;
            patterns.push(Pattern {
                exclusion,
                text: cleaned,
                regex,
            });
        }
        Ok(DockerIgnore { patterns })
    }

    /// Re-includes the files Docker always sends whatever `.dockerignore` says (the CLI adds
    /// these exceptions too): the Dockerfile and the `.dockerignore` itself.
    pub fn keep(&mut self, relative: &str) {
        let cleaned = clean(relative);
        if let Ok(regex) = compile(&cleaned) {
            self.patterns.push(Pattern {
                exclusion: true,
                text: cleaned,
                regex,
            });
        }
    }

    /// Whether `relative` (a `/`-separated path inside the context) is left out of the
    /// build context. Called for every file of a walk (100k in a large context), so an
    /// already clean path is matched as it is, and the directories above it are slices of
    /// it rather than new strings.
    pub fn is_excluded(&self, relative: &str) -> bool {
        if self.patterns.is_empty() {
            return false;
        }
        let cleaned;
        let path = if is_clean(relative) {
            relative
        } else {
            cleaned = clean(relative);
            cleaned.as_str()
        };
        let mut matched = false;
        for p in &self.patterns {
            // A later pattern can only change the outcome in one direction.
            if p.exclusion != matched {
                continue;
            }
            // A file below a matching directory is matched too.
            let hit = p.regex.is_match(path)
                || path
                    .match_indices('/')
                    .any(|(end, _)| p.regex.is_match(&path[..end]));
            if hit {
                matched = !p.exclusion;
            }
        }
        matched
    }

    /// Whether any pattern could re-include something below an excluded directory: then a
    /// walk must still descend into excluded directories.
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }

    /// The pattern texts, in order (exceptions prefixed with `!`).
    pub fn patterns(&self) -> Vec<String> {
        self.patterns
            .iter()
            .map(|p| format!("{}{}", if p.exclusion { "!" } else { "" }, p.text))
            .collect()
    }
}

/// Whether `clean` would return `path` unchanged: no empty, `.` or `..` part.
fn is_clean(path: &str) -> bool {
    path.split('/').all(|part| !matches!(part, "" | "." | ".."))
}

/// Go's `filepath.Clean` for `/`-separated relative paths.
fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// Translates a pattern into an anchored regular expression, as patternmatcher does.
fn compile(pattern: &str) -> Result<Regex, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut re = String::from("^");
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                i += 1;
                // `**/` is treated as `**`: the slash is eaten.
                if chars.get(i + 1) == Some(&'/') {
                    i += 1;
                }
                if i + 1 >= chars.len() {
                    re.push_str(".*");
                } else {
                    re.push_str("(.*/)?");
                }
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '\\' => {
                i += 1;
                let next = chars
                    .get(i)
                    .ok_or_else(|| "a trailing `\\` escapes nothing".to_string())?;
                re.push_str(&regex::escape(&next.to_string()));
            }
            '[' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&ch| ch == ']')
                    .ok_or_else(|| "`[` without a closing `]`".to_string())?;
                let mut class: String = chars[i + 1..i + 1 + end].iter().collect();
                if let Some(rest) = class.strip_prefix('^') {
                    class = format!("^{rest}");
                }
                re.push('[');
                re.push_str(&class.replace('\\', "\\\\"));
                re.push(']');
                i += end + 1;
            }
            _ => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    re.push('$');
    Regex::new(&re).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignore(text: &str) -> DockerIgnore {
        DockerIgnore::parse(text, ".dockerignore").unwrap()
    }

    #[test]
    fn plain_patterns_and_directories() {
        let d = ignore("# comment\n*.log\nbuild/\n/tmp\n");
        assert!(d.is_excluded("app.log"));
        assert!(!d.is_excluded("src/app.log"), "* does not cross /");
        assert!(d.is_excluded("build"));
        assert!(
            d.is_excluded("build/out/bin"),
            "below an excluded directory"
        );
        assert!(d.is_excluded("tmp/x"));
        assert!(!d.is_excluded("src/main.c"));
    }

    #[test]
    fn double_star() {
        let d = ignore("**/*.o\ndocs/**\n");
        assert!(d.is_excluded("a.o"));
        assert!(d.is_excluded("x/y/z.o"));
        assert!(d.is_excluded("docs/a/b.md"));
        assert!(!d.is_excluded("src/z.c"));
    }

    #[test]
    fn exceptions_last_match_wins() {
        let d = ignore("*.md\n!README.md\nREADME*.md\n!README-keep.md\n");
        assert!(d.is_excluded("CHANGES.md"));
        assert!(d.is_excluded("README.md"), "re-excluded by a later pattern");
        assert!(!d.is_excluded("README-keep.md"));
        let e = ignore("secrets\n!secrets/public.pem\n");
        assert!(e.is_excluded("secrets/key"));
        assert!(!e.is_excluded("secrets/public.pem"));
        assert!(e.has_exceptions());
    }

    #[test]
    fn question_mark_classes_and_escapes() {
        let d = ignore("file?.txt\n[ab].c\nlit\\*\n");
        assert!(d.is_excluded("file1.txt"));
        assert!(!d.is_excluded("file10.txt"));
        assert!(d.is_excluded("a.c"));
        assert!(!d.is_excluded("c.c"));
        assert!(d.is_excluded("lit*"));
        assert!(!d.is_excluded("litx"));
    }

    #[test]
    fn unclean_paths_match_as_their_clean_form() {
        let d = ignore("build\n!build/keep\n");
        for path in [
            "build/x",
            "./build/x",
            "build//x",
            "src/../build/x",
            "/build/x",
        ] {
            assert!(d.is_excluded(path), "{path}");
        }
        for path in [
            "build/keep",
            "./build/keep",
            "build/./keep",
            "src/../build/keep",
        ] {
            assert!(!d.is_excluded(path), "{path}");
        }
        assert!(!d.is_excluded("builder/x"));
        assert!(is_clean("a/b.c") && !is_clean("a//b") && !is_clean("./a") && !is_clean("a/"));
    }

    #[test]
    fn keep_overrides_exclusion() {
        let mut d = ignore("*\n");
        d.keep("Dockerfile");
        assert!(!d.is_excluded("Dockerfile"));
        assert!(d.is_excluded("main.c"));
    }

    #[test]
    fn bad_pattern_names_the_line() {
        let err = DockerIgnore::parse("ok\n[abc\n", "ctx/.dockerignore").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.to_string().contains("ctx/.dockerignore:2"));
    }
}
