//! Time as the engine sees it. Every rule that depends on "now" reads a [`Clock`], never the system
//! time directly, so tests and `serve --dev-clock` can move time forward deterministically.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

/// Milliseconds since the Unix epoch, the unit every stored timestamp uses.
pub type Millis = i64;

/// One hour in milliseconds.
pub const HOUR_MS: Millis = 3_600_000;
/// One day in milliseconds.
pub const DAY_MS: Millis = 24 * HOUR_MS;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current time in milliseconds since the Unix epoch.
    fn now_ms(&self) -> Millis;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> Millis {
        Utc::now().timestamp_millis()
    }
}

/// A clock that only moves when told to. Starts at the system time of its creation.
#[derive(Debug)]
pub struct ManualClock {
    now_ms: AtomicI64,
}

impl ManualClock {
    /// A manual clock starting at `start_ms`.
    pub fn starting_at(start_ms: Millis) -> Self {
        Self {
            now_ms: AtomicI64::new(start_ms),
        }
    }

    /// The latest time a manual clock reaches: 3000-01-01T00:00:00Z. Every date computed from
    /// "now" (deadlines, months, pay dates) stays far inside what the calendar code and RFC 3339
    /// can express.
    pub const MAX_MS: Millis = 32_503_680_000_000;

    /// Moves the clock forward by `ms` (never backwards: negative values are ignored) and returns
    /// the new time; `None`, leaving the clock alone, when that would pass [`Self::MAX_MS`].
    pub fn advance_ms(&self, ms: i64) -> Option<Millis> {
        let step = ms.max(0);
        self.now_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                now.checked_add(step).filter(|t| *t <= Self::MAX_MS)
            })
            .ok()
            .map(|before| before + step)
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> Millis {
        self.now_ms.load(Ordering::SeqCst)
    }
}

/// The clock handed to services: either the system clock or a manual one that can be advanced.
#[derive(Clone)]
pub enum AppClock {
    /// Production time.
    System(SystemClock),
    /// Test and `--dev-clock` time.
    Manual(Arc<ManualClock>),
}

impl AppClock {
    /// The current time in milliseconds.
    pub fn now_ms(&self) -> Millis {
        match self {
            AppClock::System(c) => c.now_ms(),
            AppClock::Manual(c) => c.now_ms(),
        }
    }

    /// The manual clock, when this is one.
    pub fn manual(&self) -> Option<&Arc<ManualClock>> {
        match self {
            AppClock::System(_) => None,
            AppClock::Manual(c) => Some(c),
        }
    }
}

/// Japan Standard Time (UTC+9, no daylight saving), the zone every user-facing time is shown in.
pub const JST: FixedOffset = match FixedOffset::east_opt(9 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+9 is a valid offset"), // evaluated at compile time
};

/// Formats stored milliseconds as an RFC 3339 string in JST (`2026-11-23T18:00:00+09:00`).
pub fn to_rfc3339(ms: Millis) -> String {
    match JST.timestamp_millis_opt(ms).single() {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        None => String::new(),
    }
}

/// A JST calendar date for people: `2026年12月1日`.
pub fn jst_date(ms: Millis) -> String {
    match JST.timestamp_millis_opt(ms).single() {
        Some(t) => t.format("%Y年%-m月%-d日").to_string(),
        None => String::new(),
    }
}

/// A JST date and time for people: `2026年12月1日 18:00`.
pub fn jst_datetime(ms: Millis) -> String {
    match JST.timestamp_millis_opt(ms).single() {
        Some(t) => t.format("%Y年%-m月%-d日 %H:%M").to_string(),
        None => String::new(),
    }
}

/// Parses an RFC 3339 string with offset into milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<Millis> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_forward() {
        let c = ManualClock::starting_at(1_000);
        assert_eq!(c.advance_ms(500), Some(1_500));
        assert_eq!(c.advance_ms(-10_000), Some(1_500));
        assert_eq!(c.advance_ms(i64::MAX), None);
        assert_eq!(c.advance_ms(ManualClock::MAX_MS), None);
        assert_eq!(c.now_ms(), 1_500);
        assert_eq!(
            c.advance_ms(ManualClock::MAX_MS - 1_500),
            Some(ManualClock::MAX_MS)
        );
        assert_eq!(c.advance_ms(1), None);
        assert_eq!(c.now_ms(), ManualClock::MAX_MS);
    }

    #[test]
    fn times_are_shown_in_japan_time_and_parse_back() {
        let ms = 1_795_424_400_000; // 2026-11-23T09:00:00Z
        let s = to_rfc3339(ms);
        assert_eq!(s, "2026-11-23T18:00:00+09:00");
        assert_eq!(parse_rfc3339(&s), Some(ms));
        assert_eq!(parse_rfc3339("2026-11-23T09:00:00Z"), Some(ms));
        assert_eq!(parse_rfc3339("tomorrow"), None);
    }
}
