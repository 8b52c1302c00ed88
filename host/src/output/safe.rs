//! What reaches the terminal from programs devloop does not control (pod logs, build output,
//! hooks and plugins): colours may pass, nothing else that a terminal would act on. A log line
//! could otherwise set the window title, move the cursor over earlier output, write to the
//! clipboard (OSC 52) or ring the bell.

use std::borrow::Cow;

/// ESC, shown in place of an escape sequence that is not a colour.
const SHOWN_ESCAPE: char = '\u{241B}';

/// `text` with every control character made inert: `ESC [ … m` colour sequences are kept
/// when `colours` (dropped otherwise), any other escape shows as `␛`, other control characters
/// (but tab and newline) as `�`.
pub fn terminal_safe(text: &str, colours: bool) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(ch) = rest.chars().next() {
        if ch == '\u{1b}'
            && let Some(len) = colour_sequence(rest)
        {
            if colours {
                out.push_str(&rest[..len]);
            }
            rest = &rest[len..];
            continue;
        }
        out.push(match ch {
            '\u{1b}' => SHOWN_ESCAPE,
            c if is_control(c) => '\u{FFFD}',
            c => c,
        });
        rest = &rest[ch.len_utf8()..];
    }
    Cow::Owned(out)
}

/// Control characters but tab and newline (devloop's own messages span lines; a container's
/// output comes line by line, so a newline never comes from it).
fn is_control(c: char) -> bool {
    c != '\t' && c != '\n' && c.is_control()
}

/// The length of an SGR sequence (`ESC [` digits and `;` then `m`) at the start of `text`.
fn colour_sequence(text: &str) -> Option<usize> {
    let body = text.strip_prefix("\u{1b}[")?;
    let params = body
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    (body.as_bytes().get(params) == Some(&b'm')).then_some(2 + params + 1)
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn colours_pass_and_other_sequences_are_inert() {
        let red = "\u{1b}[31mred\u{1b}[0m";
        assert_eq!(terminal_safe(red, true), red);
        assert_eq!(terminal_safe(red, false), "red");
        // Window title (OSC 0), clipboard (OSC 52), cursor up, clear screen, bell.
        let hostile = "a\u{1b}]0;owned\u{7}b\u{1b}]52;c;ZXZpbA==\u{7}c\u{1b}[2Ad\u{1b}[2Je";
        let safe = terminal_safe(hostile, true);
        assert!(
            !safe.contains('\u{1b}') && !safe.contains('\u{7}'),
            "{safe:?}"
        );
        assert!(safe.starts_with("a\u{241B}]0;owned\u{FFFD}b"), "{safe:?}");
        assert_eq!(
            terminal_safe("tab\tand \u{9b}c1", false),
            "tab\tand \u{FFFD}c1"
        );
        assert_eq!(terminal_safe("plain", true), "plain");
        assert_eq!(terminal_safe("two\nlines\r", true), "two\nlines\u{FFFD}");
    }
}
