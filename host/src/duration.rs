//! Durations as users write them, in config fields (a plugin's `timeout:`,
//! `statusCheckDeadlineSeconds`, `timeoutSeconds`) and flags (`--status-check-deadline`): one
//! grammar, and one bound, so that no value can overflow a clock or a timer.
//!
//! The grammar: a number of seconds (`90`, `0.5`), or one or more number-unit pairs with the
//! units `ms`, `s`, `m` and `h` (`500ms`, `30s`, `1.5h`, `1m30s`). Negative, not-a-number and
//! values above [`MAX`] are errors that say what to write instead; callers add the field or
//! flag (the config loader adds file, line and column).

use std::time::Duration;

/// The longest duration devloop accepts anywhere: a year. Longer waits are a typo, and
/// instants this far ahead are still far from overflowing.
pub const MAX: Duration = Duration::from_secs(365 * 24 * 3600);

const GRAMMAR: &str = "write seconds (90), or e.g. 500ms, 30s, 5m, 1h, 1m30s";

/// Reads `text` (see the module documentation). Zero is allowed; callers that need more say so.
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.starts_with('-') {
        return Err(format!("`{text}`: a duration cannot be negative"));
    }
    let bad = || format!("`{text}` is not a duration; {GRAMMAR}");
    if t.is_empty() {
        return Err(bad());
    }
    // A bare number is seconds.
    if t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return seconds(number(t).ok_or_else(bad)?, text);
    }
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let n = number(&rest[..digits]).ok_or_else(bad)?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let scale = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => {
                return Err(format!(
                    "`{text}`: unknown unit `{unit}`; use ms, s, m or h ({GRAMMAR})"
                ));
            }
        };
        total += n * scale;
        rest = &rest[unit_len..];
    }
    seconds(total, text)
}

/// `value` seconds as a duration, refusing what is not finite, negative or above [`MAX`].
/// `text` is what the user wrote, for the message.
pub fn seconds(value: f64, text: &str) -> Result<Duration, String> {
    if value.is_nan() {
        return Err(format!("`{text}` is not a duration; {GRAMMAR}"));
    }
    if value < 0.0 {
        return Err(format!("`{text}`: a duration cannot be negative"));
    }
    if !value.is_finite() || value > MAX.as_secs_f64() {
        return Err(format!(
            "`{text}` is too long: at most {}h (a year)",
            MAX.as_secs() / 3600
        ));
    }
    Ok(Duration::from_secs_f64(value))
}

/// A whole number of seconds from a config field (`statusCheckDeadlineSeconds: 600`).
pub fn whole_seconds(value: i64) -> Result<Duration, String> {
    match u64::try_from(value) {
        Err(_) => Err(format!("`{value}`: a duration cannot be negative")),
        Ok(s) if s > MAX.as_secs() => Err(format!(
            "`{value}` seconds is too long: at most {} (a year)",
            MAX.as_secs()
        )),
        Ok(s) => Ok(Duration::from_secs(s)),
    }
}

/// Serde: an optional whole number of seconds, bounded as [`whole_seconds`] bounds it (the
/// config keeps the number; this only refuses what no clock can wait for).
pub fn de_whole_seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let value = <Option<i64> as serde::Deserialize>::deserialize(d)?;
    if let Some(v) = value {
        whole_seconds(v).map_err(serde::de::Error::custom)?;
    }
    Ok(value)
}

/// A decimal number without sign or exponent (`30`, `0.5`, `.5`).
fn number(text: &str) -> Option<f64> {
    if text.is_empty() || text == "." || text.matches('.').count() > 1 {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_seconds_units_and_sequences() {
        assert_eq!(parse("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse(" 30s "), Ok(Duration::from_secs(30)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("8760h"), Ok(MAX));
    }

    #[test]
    fn refuses_malformed_negative_and_huge_values() {
        for bad in [
            "",
            "m",
            "5x",
            "5m3",
            "1..2s",
            ".",
            "s5",
            "NaN",
            "inf",
            "1e400",
            "3 fortnights",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(parse("5x").unwrap_err().contains("unknown unit `x`"));
        assert_eq!(
            parse("-5s").unwrap_err(),
            "`-5s`: a duration cannot be negative"
        );
        for huge in [
            "100000000000000000000s",
            "100000000000000000000",
            "9999999999999999999h",
            "8761h",
        ] {
            let err = parse(huge).unwrap_err();
            assert!(err.contains("too long"), "{huge}: {err}");
        }
        assert!(seconds(f64::NAN, "NaN").is_err());
        assert!(
            seconds(f64::INFINITY, "inf")
                .unwrap_err()
                .contains("too long")
        );
        assert!(seconds(-0.5, "-0.5").unwrap_err().contains("negative"));
    }

    #[test]
    fn whole_seconds_are_bounded() {
        assert_eq!(whole_seconds(600), Ok(Duration::from_secs(600)));
        assert!(whole_seconds(-1).unwrap_err().contains("negative"));
        assert!(whole_seconds(i64::MAX).unwrap_err().contains("too long"));
    }

    #[test]
    fn config_seconds_fields_are_bounded_at_their_line() {
        let load = |yaml: &str| {
            crate::config::load_str(
                &format!("apiVersion: skaffold/v4beta14\nkind: Config\n{yaml}"),
                std::path::Path::new("skaffold.yaml"),
                std::path::Path::new("."),
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
        };
        let err = load("deploy:\n  statusCheckDeadlineSeconds: 9223372036854775807\n").unwrap_err();
        assert!(err.starts_with("skaffold.yaml:4:31: "), "{err}");
        assert!(err.contains("too long"), "{err}");
        let err = load("test:\n- image: a\n  custom:\n  - command: x\n    timeoutSeconds: -3\n")
            .unwrap_err();
        assert!(err.starts_with("skaffold.yaml:7:21: "), "{err}");
        assert!(err.contains("negative"), "{err}");
        assert!(load("deploy:\n  statusCheckDeadlineSeconds: 600\n").is_ok());
    }
}
