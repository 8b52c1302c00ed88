//! `dateTime`: the tag is the build time, formatted with a Go time layout (Skaffold passes the
//! format to Go's `time.Format`, so the reference date `Mon Jan 2 15:04:05 MST 2006` spells
//! the layout) in the configured time zone.

use super::{DateTime, TagError, TagInput};
use jiff::Zoned;
use jiff::tz::TimeZone;

/// Skaffold's default layout.
const DEFAULT_FORMAT: &str = "2006-01-02_15-04-05.999_MST";

pub(super) fn tag(settings: &DateTime, input: &TagInput) -> Result<String, TagError> {
    let zone = time_zone(settings.timezone.as_deref().unwrap_or("Local"))?;
    let now = input.now.to_zoned(zone);
    Ok(format_go_layout(
        &now,
        settings.format.as_deref().unwrap_or(DEFAULT_FORMAT),
    ))
}

fn time_zone(name: &str) -> Result<TimeZone, TagError> {
    match name {
        "" | "Local" => Ok(TimeZone::system()),
        "UTC" => Ok(TimeZone::UTC),
        other => TimeZone::get(other).map_err(|e| TagError::TimeZone {
            zone: other.to_string(),
            reason: e.to_string(),
        }),
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Formats `t` as Go's `time.Time.Format(layout)` would. Text that is not a layout element is
/// copied as is.
pub fn format_go_layout(t: &Zoned, layout: &str) -> String {
    let mut out = String::new();
    let mut rest = layout;
    while !rest.is_empty() {
        let (n, text) = element(t, rest);
        if n == 0 {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            rest = &rest[c.len_utf8()..];
        } else {
            out.push_str(&text);
            rest = &rest[n..];
        }
    }
    out
}

/// The layout element at the start of `s`: its length in bytes and its formatted value, or
/// length 0 when `s` does not start with one. The order of the checks follows Go's
/// `nextStdChunk` so that ambiguous prefixes resolve the same way.
fn element(t: &Zoned, s: &str) -> (usize, String) {
    let month = t.month() as usize;
    let weekday = t.weekday().to_monday_zero_offset() as usize;
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let offset_secs = t.offset().seconds();
    let starts = |p: &str| s.starts_with(p);
    let b = s.as_bytes();
    match b[0] {
        b'J' if starts("January") => (7, MONTHS[month - 1].to_string()),
        b'J' if starts("Jan") => (3, MONTHS[month - 1][..3].to_string()),
        b'M' if starts("Monday") => (6, DAYS[weekday].to_string()),
        b'M' if starts("Mon") => (3, DAYS[weekday][..3].to_string()),
        b'M' if starts("MST") => (3, zone_abbreviation(t)),
        b'0' if starts("002") => (3, format!("{:03}", t.day_of_year())),
        b'0' if b.len() > 1 && (b'1'..=b'6').contains(&b[1]) => (
            2,
            match b[1] {
                b'1' => format!("{month:02}"),
                b'2' => format!("{:02}", t.day()),
                b'3' => format!("{hour12:02}"),
                b'4' => format!("{:02}", t.minute()),
                b'5' => format!("{:02}", t.second()),
                _ => format!("{:02}", t.year().rem_euclid(100)),
            },
        ),
        b'1' if starts("15") => (2, format!("{:02}", t.hour())),
        b'1' => (1, month.to_string()),
        b'2' if starts("2006") => (4, format!("{:04}", t.year())),
        b'2' => (1, t.day().to_string()),
        b'_' if starts("_2006") => (5, format!("_{:04}", t.year())),
        b'_' if starts("__2") => (3, format!("{:>3}", t.day_of_year())),
        b'_' if starts("_2") => (2, format!("{:>2}", t.day())),
        b'3' => (1, hour12.to_string()),
        b'4' => (1, t.minute().to_string()),
        b'5' => (1, t.second().to_string()),
        b'P' if starts("PM") => (2, if t.hour() >= 12 { "PM" } else { "AM" }.into()),
        b'p' if starts("pm") => (2, if t.hour() >= 12 { "pm" } else { "am" }.into()),
        b'-' | b'Z' => zone_offset(s, offset_secs),
        b'.' | b',' => fraction(t, s),
        _ => (0, String::new()),
    }
}

fn zone_abbreviation(t: &Zoned) -> String {
    let abbr = t.strftime("%Z").to_string();
    if abbr.is_empty() || abbr.starts_with('+') || abbr.starts_with('-') {
        // Go prints a numeric offset when the zone has no abbreviation.
        let o = t.offset().seconds();
        let sign = if o < 0 { '-' } else { '+' };
        format!("{sign}{:02}{:02}", o.abs() / 3600, o.abs() % 3600 / 60)
    } else {
        abbr
    }
}

fn zone_offset(s: &str, offset: i32) -> (usize, String) {
    // Longest layouts first, as Go checks them.
    const LAYOUTS: [&str; 5] = ["070000", "07:00:00", "0700", "07:00", "07"];
    let z = s.as_bytes()[0] == b'Z';
    for l in LAYOUTS {
        if s[1..].starts_with(l) {
            let n = 1 + l.len();
            if z && offset == 0 {
                return (n, "Z".into());
            }
            let sign = if offset < 0 { '-' } else { '+' };
            let a = offset.abs();
            let (h, m, sec) = (a / 3600, a % 3600 / 60, a % 60);
            let text = match l {
                "070000" => format!("{sign}{h:02}{m:02}{sec:02}"),
                "07:00:00" => format!("{sign}{h:02}:{m:02}:{sec:02}"),
                "0700" => format!("{sign}{h:02}{m:02}"),
                "07:00" => format!("{sign}{h:02}:{m:02}"),
                _ => format!("{sign}{h:02}"),
            };
            return (n, text);
        }
    }
    (0, String::new())
}

/// `.000` (fixed digits) or `.999` (trailing zeros dropped, and the dot with them when all
/// are zero) — only when the run of digits is not followed by another digit, as in Go.
fn fraction(t: &Zoned, s: &str) -> (usize, String) {
    let b = s.as_bytes();
    if b.len() < 2 || (b[1] != b'0' && b[1] != b'9') {
        return (0, String::new());
    }
    let digit = b[1];
    let mut n = 1;
    while n < b.len() && b[n] == digit {
        n += 1;
    }
    if n < b.len() && b[n].is_ascii_digit() {
        return (0, String::new());
    }
    let places = (n - 1).min(9);
    let nanos = format!("{:09}", t.subsec_nanosecond());
    let mut digits = nanos[..places].to_string();
    if digit == b'9' {
        while digits.ends_with('0') {
            digits.pop();
        }
        if digits.is_empty() {
            return (n, String::new());
        }
    }
    (n, format!("{}{digits}", b[0] as char))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Vars;

    fn at(ts: &str, zone: &str) -> Zoned {
        ts.parse::<jiff::Timestamp>()
            .unwrap()
            .to_zoned(TimeZone::get(zone).unwrap())
    }

    #[test]
    fn default_layout_in_utc() {
        let t = at("2024-03-05T07:08:09.120Z", "UTC");
        assert_eq!(
            format_go_layout(&t, DEFAULT_FORMAT),
            "2024-03-05_07-08-09.12_UTC"
        );
        let whole = at("2024-03-05T07:08:09Z", "UTC");
        assert_eq!(
            format_go_layout(&whole, DEFAULT_FORMAT),
            "2024-03-05_07-08-09_UTC"
        );
    }

    #[test]
    fn named_zone_and_twelve_hour_clock() {
        let t = at("2024-07-01T15:04:05Z", "Europe/Paris");
        assert_eq!(
            format_go_layout(&t, "Mon Jan 2 03:04:05PM -07:00 MST 2006"),
            "Mon Jul 1 05:04:05PM +02:00 CEST 2024"
        );
        assert_eq!(format_go_layout(&t, "20060102.000"), "20240701.000");
        assert_eq!(
            format_go_layout(&t, "002 January Monday"),
            "183 July Monday"
        );
    }

    #[test]
    fn unknown_timezone_is_an_error() {
        let env = Vars::new();
        let input = TagInput {
            image: "app",
            context: std::path::Path::new("."),
            env: &env,
            input_digest: None,
            now: "2024-01-01T00:00:00Z".parse().unwrap(),
        };
        let settings = DateTime {
            format: Some("2006".into()),
            timezone: Some("Mars/Olympus".into()),
        };
        assert!(matches!(
            tag(&settings, &input),
            Err(TagError::TimeZone { .. })
        ));
        let utc = DateTime {
            format: Some("2006-01-02T15Z07:00".into()),
            timezone: Some("UTC".into()),
        };
        assert_eq!(tag(&utc, &input).unwrap(), "2024-01-01T00Z");
    }
}
