//! The two ways JavaScript writes a date that the admin protocol carries: `toISOString()`
//! (event timestamps) and `toString()` in UTC (`handshake.time`).

use std::time::{SystemTime, UNIX_EPOCH};

/// A point in time broken down in UTC, to the millisecond.
struct Utc {
    year: i64,
    month: u32,
    day: u32,
    weekday: u32,
    hour: u64,
    minute: u64,
    second: u64,
    millis: u64,
}

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// Milliseconds since the Unix epoch (JavaScript's `+new Date()`); 0 before it.
pub(crate) fn epoch_millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Utc {
    fn at(at: SystemTime) -> Utc {
        let millis = epoch_millis(at);
        let secs = millis / 1000;
        let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
        let (year, month, day) = civil_from_days(days);
        Utc {
            year,
            month,
            day,
            // 1970-01-01 was a Thursday.
            weekday: u32::try_from((days + 4).rem_euclid(7)).unwrap_or(0),
            hour: secs % 86_400 / 3600,
            minute: secs % 3600 / 60,
            second: secs % 60,
            millis: millis % 1000,
        }
    }
}

/// The (year, month 1–12, day 1–31) of the `days`-th day after 1970-01-01, in the proleptic
/// Gregorian calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, u32::try_from(month).unwrap_or(1), u32::try_from(day).unwrap_or(1))
}

/// `at` as JavaScript's `Date.prototype.toISOString()`: `2024-02-29T13:05:09.042Z`.
pub(crate) fn iso(at: SystemTime) -> String {
    let t = Utc::at(at);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second, t.millis
    )
}

/// `at` as JavaScript's `String(new Date())` on a server whose time zone is UTC:
/// `Thu Feb 29 2024 13:05:09 GMT+0000 (Coordinated Universal Time)`.
pub(crate) fn js_string(at: SystemTime) -> String {
    let t = Utc::at(at);
    let weekday = WEEKDAYS.get(t.weekday as usize).copied().unwrap_or("Sun");
    let month = MONTHS.get(t.month.saturating_sub(1) as usize).copied().unwrap_or("Jan");
    format!(
        "{weekday} {month} {:02} {:04} {:02}:{:02}:{:02} GMT+0000 (Coordinated Universal Time)",
        t.day, t.year, t.hour, t.minute, t.second
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(millis)
    }

    #[test]
    fn formats_as_javascript_does() {
        // new Date(0), new Date(951782400000) (a leap day), new Date(1709211909042)
        assert_eq!(iso(at(0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            js_string(at(0)),
            "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)"
        );
        assert_eq!(iso(at(951_782_400_000)), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso(at(1_709_211_909_042)), "2024-02-29T13:05:09.042Z");
        assert_eq!(
            js_string(at(1_709_211_909_042)),
            "Thu Feb 29 2024 13:05:09 GMT+0000 (Coordinated Universal Time)"
        );
        assert_eq!(iso(at(4_102_444_799_999)), "2099-12-31T23:59:59.999Z");
        assert_eq!(epoch_millis(at(1_709_211_909_042)), 1_709_211_909_042);
    }
}
