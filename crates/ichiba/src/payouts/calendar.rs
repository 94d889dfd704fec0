//! Bank business days in Japan (銀行営業日): not a Saturday or Sunday, not a public holiday
//! (国民の祝日, including substitute holidays 振替休日 and citizens' holidays 国民の休日), and not the
//! banks' year-end break (31 December to 3 January).
//!
//! The holidays come from `reference/holidays/jp.tsv`, generated from the MIT-licensed `holidays`
//! package on PyPI by `scripts/refresh-holidays.sh`, embedded at compile time and parsed once. The
//! file states the years it covers; asking about a year outside them is an error rather than a
//! silent guess.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, Weekday};

static HOLIDAYS_TSV: &str = include_str!("../../reference/holidays/jp.tsv");

/// The parsed holiday table: the years it covers and each holiday's name.
#[derive(Debug)]
struct HolidayTable {
    first_year: i32,
    last_year: i32,
    days: BTreeMap<NaiveDate, String>,
}

static TABLE: LazyLock<Result<HolidayTable, String>> = LazyLock::new(|| parse(HOLIDAYS_TSV));

/// Why a date could not be classified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The bundled file is unreadable (a broken refresh; caught by the unit tests).
    #[error("the bundled holiday data is unreadable: {0}")]
    Corrupt(String),
    /// The date's year is outside the years the bundled file covers: refresh the data.
    #[error("the bundled holiday data covers {first}..={last}, not {year}")]
    NotCovered {
        /// The year asked about.
        year: i32,
        /// First covered year.
        first: i32,
        /// Last covered year.
        last: i32,
    },
}

fn parse(text: &str) -> Result<HolidayTable, String> {
    let mut range = None;
    let mut days = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if let Some(rest) = line.strip_prefix("# range\t") {
            let (a, b) = rest
                .split_once('\t')
                .ok_or_else(|| format!("line {}: bad range", n + 1))?;
            let a = a
                .parse::<i32>()
                .map_err(|e| format!("line {}: {e}", n + 1))?;
            let b = b
                .parse::<i32>()
                .map_err(|e| format!("line {}: {e}", n + 1))?;
            range = Some((a, b));
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (date, name) = line
            .split_once('\t')
            .ok_or_else(|| format!("line {}: expected DATE<TAB>NAME", n + 1))?;
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|e| format!("line {}: {e}", n + 1))?;
        days.insert(date, name.to_string());
    }
    let (first_year, last_year) = range.ok_or("no `# range` line")?;
    Ok(HolidayTable {
        first_year,
        last_year,
        days,
    })
}

fn table() -> Result<&'static HolidayTable, CalendarError> {
    TABLE
        .as_ref()
        .map_err(|e| CalendarError::Corrupt(e.clone()))
}

/// The public holiday's Japanese name, or `None` on an ordinary day.
///
/// Errors: [`CalendarError`] when the data is unreadable or does not cover the year.
pub fn holiday_name(date: NaiveDate) -> Result<Option<&'static str>, CalendarError> {
    let t = table()?;
    if date.year() < t.first_year || date.year() > t.last_year {
        return Err(CalendarError::NotCovered {
            year: date.year(),
            first: t.first_year,
            last: t.last_year,
        });
    }
    Ok(t.days.get(&date).map(String::as_str))
}

/// True when banks are open: not a weekend, a public holiday, or 31 December–3 January.
///
/// Errors: [`CalendarError`] as for [`holiday_name`].
pub fn is_business_day(date: NaiveDate) -> Result<bool, CalendarError> {
    let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
    let year_end = matches!((date.month(), date.day()), (12, 31) | (1, 1..=3));
    Ok(!weekend && !year_end && holiday_name(date)?.is_none())
}

/// The date itself when it is a business day, else the next one.
///
/// Errors: [`CalendarError`] as for [`holiday_name`] (also when the search runs past the data).
pub fn business_day_on_or_after(date: NaiveDate) -> Result<NaiveDate, CalendarError> {
    let mut d = date;
    // Japan never has more than ~10 closed days in a row (Golden Week, the year end), so the
    // loop is short; the coverage check above bounds it in any case.
    loop {
        if is_business_day(d)? {
            return Ok(d);
        }
        d = d.succ_opt().ok_or(CalendarError::NotCovered {
            year: d.year(),
            first: d.year(),
            last: d.year(),
        })?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_bundled_data_parses_and_covers_the_coming_years() {
        let t = table().unwrap();
        assert!(t.first_year <= 2020);
        assert!(t.last_year >= 2040, "refresh reference/holidays/jp.tsv");
        assert!(t.days.len() > 500);
    }

    #[test]
    fn substitute_and_citizens_holidays_are_holidays() {
        assert_eq!(holiday_name(d(2026, 5, 6)).unwrap(), Some("振替休日"));
        assert_eq!(holiday_name(d(2026, 9, 22)).unwrap(), Some("国民の休日"));
        assert_eq!(holiday_name(d(2021, 7, 22)).unwrap(), Some("海の日"));
        assert_eq!(holiday_name(d(2026, 9, 24)).unwrap(), None);
    }

    #[test]
    fn weekends_holidays_and_the_year_end_are_closed() {
        assert!(is_business_day(d(2026, 11, 20)).unwrap()); // Friday
        assert!(!is_business_day(d(2026, 11, 21)).unwrap()); // Saturday
        assert!(!is_business_day(d(2026, 11, 23)).unwrap()); // 勤労感謝の日
        assert!(!is_business_day(d(2026, 12, 31)).unwrap());
        assert!(!is_business_day(d(2027, 1, 2)).unwrap());
        assert!(!is_business_day(d(2027, 1, 3)).unwrap());
        assert!(is_business_day(d(2027, 1, 4)).unwrap());
        assert_eq!(
            business_day_on_or_after(d(2026, 12, 31)).unwrap(),
            d(2027, 1, 4)
        );
        // Silver Week 2026: 敬老の日 (Mon 21), 国民の休日 (Tue 22), 秋分の日 (Wed 23).
        assert_eq!(
            business_day_on_or_after(d(2026, 9, 19)).unwrap(),
            d(2026, 9, 24)
        );
    }

    #[test]
    fn a_year_outside_the_data_is_an_error_not_a_guess() {
        assert!(matches!(
            holiday_name(d(1990, 1, 1)),
            Err(CalendarError::NotCovered { year: 1990, .. })
        ));
    }
}
