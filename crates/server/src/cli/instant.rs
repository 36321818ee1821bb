//! Times on the command line: Unix milliseconds (the API's unit) shown as UTC dates, and
//! RFC 3339 or milliseconds read from options — without a date library, by the civil-date
//! algorithms of Howard Hinnant.

use serde_json::Value;

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC` (empty when absent), without a
/// date library: the civil-from-days conversion of Howard Hinnant's algorithms.
pub(crate) fn time(v: &Value) -> String {
    let Some(ms) = v.as_i64() else {
        return String::new();
    };
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// RFC 3339 (`2030-01-31T18:00:00Z`, `…+02:00`, fractions of a second; a bare date is
/// midnight UTC) or Unix milliseconds, as Unix milliseconds.
pub(crate) fn parse_instant(raw: &str) -> std::result::Result<i64, String> {
    let s = raw.trim();
    let bad = || {
        format!(
            "{raw:?} is neither an RFC 3339 time (such as 2030-01-31T18:00:00Z) nor Unix milliseconds"
        )
    };
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().map_err(|_| bad());
    }
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        s.get(from..from + len)
            .filter(|d| d.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|d| d.parse().ok())
    };
    let (Some(year), Some(b'-'), Some(month), Some(b'-'), Some(day)) =
        (num(0, 4), b.get(4), num(5, 2), b.get(7), num(8, 2))
    else {
        return Err(bad());
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(bad());
    }
    let days = days_from_civil(year, month, day);
    if b.len() == 10 {
        return Ok(days * 86_400_000);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return Err(bad());
    }
    let (Some(hour), Some(b':'), Some(minute), Some(b':'), Some(second)) =
        (num(11, 2), b.get(13), num(14, 2), b.get(16), num(17, 2))
    else {
        return Err(bad());
    };
    // 60 is a leap second, which Unix time folds into 59.
    if hour > 23 || minute > 59 || second > 60 {
        return Err(bad());
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
        let frac = &s[start..i.min(start + 3)];
        millis = format!("{frac:0<3}").parse::<i64>().map_err(|_| bad())?;
    }
    let offset_minutes = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) => match (num(i + 1, 2), b.get(i + 3), num(i + 4, 2)) {
            (Some(h), Some(b':'), Some(m)) if i + 6 == b.len() && h < 24 && m < 60 => {
                if *sign == b'-' {
                    -(h * 60 + m)
                } else {
                    h * 60 + m
                }
            }
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    };
    let secs = hour * 3600 + minute * 60 + second.min(59) - offset_minutes * 60;
    Ok(days * 86_400_000 + secs * 1000 + millis)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_are_utc_dates() {
        assert_eq!(time(&json!(0)), "1970-01-01 00:00:00 UTC");
        assert_eq!(
            time(&json!(1_709_210_096_000_i64)),
            "2024-02-29 12:34:56 UTC"
        );
        assert_eq!(time(&Value::Null), "");
    }

    #[test]
    fn instants_in_rfc3339_or_millis() {
        let at = 1_709_210_096_000_i64; // 2024-02-29 12:34:56 UTC
        assert_eq!(parse_instant("2024-02-29T12:34:56Z"), Ok(at));
        assert_eq!(parse_instant("2024-02-29t12:34:56z"), Ok(at));
        assert_eq!(parse_instant("2024-02-29T14:34:56.5+02:00"), Ok(at + 500));
        assert_eq!(
            parse_instant("2024-02-29 10:04:56.123456-02:30"),
            Ok(at + 123)
        );
        assert_eq!(parse_instant(" 1709210096000 "), Ok(at));
        assert_eq!(parse_instant("1970-01-01"), Ok(0));
        assert_eq!(parse_instant("1969-12-31T23:59:59Z"), Ok(-1000));
        assert_eq!(
            time(&json!(parse_instant("2000-03-01").ok())),
            "2000-03-01 00:00:00 UTC"
        );
        for bad in [
            "",
            "tomorrow",
            "2023-02-29",
            "2024-13-01",
            "2024-02-29T12:34:56",
            "2024-02-29T12:34Z",
            "2024-02-29T24:00:00Z",
            "2024-02-29T12:34:56.Z",
            "2024-02-29T12:34:56+0200",
            "2024-02-29T12:34:56Zjunk",
            "-5",
        ] {
            assert!(parse_instant(bad).is_err(), "{bad:?}");
        }
    }
}
