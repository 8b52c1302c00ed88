//! Where a followed log stream is, so that one cut off (the API server restarted, the
//! network failed) resumes exactly: the lines are asked for with their timestamps, the new
//! stream starts at the second of the last line shown, and the lines of that second that
//! were shown already are not shown again. Nothing is lost between the cut and the resume:
//! the container's lines of that time come with the new stream.

use jiff::Timestamp;

/// A line as the API gives it with `timestamps=true`: its stamp and its text.
pub fn split_stamp(line: &str) -> (Option<Timestamp>, &str) {
    let (stamp, text) = line.split_once(' ').unwrap_or((line, ""));
    match stamp.parse::<Timestamp>() {
        Ok(t) => (Some(t), text),
        Err(_) => (None, line),
    }
}

/// The lines of one container shown so far, by their stamps.
#[derive(Debug, Default)]
pub struct Shown {
    /// The stamp of the last line shown, and how many shown lines carry it.
    last: Option<(Timestamp, usize)>,
    /// After a resume: the lines stamped before this, and the first `n` stamped with it, were
    /// shown before the cut.
    replaying: Option<(Timestamp, usize)>,
}

impl Shown {
    /// Whether the line stamped `stamp` is to be shown (one without a stamp always is), and
    /// counts it when it is.
    pub fn admit(&mut self, stamp: Option<Timestamp>) -> bool {
        let Some(stamp) = stamp else { return true };
        if let Some((at, n)) = &mut self.replaying {
            if stamp < *at {
                return false;
            }
            if stamp == *at && *n > 0 {
                *n -= 1;
                return false;
            }
            self.replaying = None;
        }
        match &mut self.last {
            Some((at, n)) if *at == stamp => *n += 1,
            _ => self.last = Some((stamp, 1)),
        }
        true
    }

    /// The stream was cut off: where the next one starts (the second of the last line shown,
    /// as `sinceTime` has whole seconds; `None` when nothing was shown, and the stream starts
    /// where the first one did).
    pub fn resume(&mut self) -> Option<Timestamp> {
        self.replaying = self.last;
        let (at, _) = self.last?;
        Timestamp::from_second(at.as_second()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_stamp_is_split_from_the_text() {
        let (stamp, text) = split_stamp("2026-12-05T10:19:10.123456789Z tick 4");
        assert_eq!(stamp, Some(t("2026-12-05T10:19:10.123456789Z")));
        assert_eq!(text, "tick 4");
        assert_eq!(
            split_stamp("2026-12-05T10:19:10Z "),
            (Some(t("2026-12-05T10:19:10Z")), "")
        );
        assert_eq!(split_stamp("no stamp here"), (None, "no stamp here"));
        assert_eq!(split_stamp(""), (None, ""));
    }

    /// A stream cut after the second line of 10:00:01 resumes from 10:00:01: those two
    /// lines and the earlier ones come again and are not shown; a third line of the same
    /// stamp and everything later is.
    #[test]
    fn a_resumed_stream_shows_each_line_once() {
        let mut shown = Shown::default();
        for s in ["10:00:00.5", "10:00:01.25", "10:00:01.25"] {
            assert!(shown.admit(Some(t(&format!("2026-12-05T{s}Z")))));
        }
        assert_eq!(shown.resume(), Some(t("2026-12-05T10:00:01Z")));
        let again: Vec<bool> = [
            "10:00:00.5",
            "10:00:01.25",
            "10:00:01.25",
            "10:00:01.25",
            "10:00:02",
        ]
        .iter()
        .map(|s| shown.admit(Some(t(&format!("2026-12-05T{s}Z")))))
        .collect();
        assert_eq!(again, [false, false, false, true, true]);
        // Cut again right away: the third line of 10:00:01.25 was shown, 10:00:02 too.
        assert_eq!(shown.resume(), Some(t("2026-12-05T10:00:02Z")));
        assert!(!shown.admit(Some(t("2026-12-05T10:00:02Z"))));
        assert!(shown.admit(Some(t("2026-12-05T10:00:02.1Z"))));
        assert!(shown.admit(None));
    }

    #[test]
    fn a_stream_that_showed_nothing_starts_again_where_it_did() {
        let mut shown = Shown::default();
        assert_eq!(shown.resume(), None);
        assert!(shown.admit(Some(t("2026-12-05T10:00:00Z"))));
    }
}
