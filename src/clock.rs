//! Dates: today's calendar date for the book (honouring `SOURCE_DATE_EPOCH` for reproducible
//! books) and the real calendar year for the plausible-year check.

/// `SOURCE_DATE_EPOCH`, when set: the book's date, for byte-identical books.
pub fn source_date_epoch() -> Option<i64> {
    std::env::var("SOURCE_DATE_EPOCH").ok()?.trim().parse().ok()
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's civil_from_days).
pub fn civil_date(epoch_seconds: i64) -> (i64, i64, i64) {
    let z = epoch_seconds.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn system_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The calendar year before today (or before `SOURCE_DATE_EPOCH`).
pub fn last_year() -> i32 {
    civil_date(source_date_epoch().unwrap_or_else(system_seconds)).0 as i32 - 1
}

/// Today as `YYYY-MM-DD` (or the date of `SOURCE_DATE_EPOCH`).
pub fn today() -> String {
    let (y, m, d) = civil_date(source_date_epoch().unwrap_or_else(system_seconds));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The real calendar year of the system clock (never `SOURCE_DATE_EPOCH`, which dates a build,
/// not the data): the latest plausible accounting year is the next one.
pub fn current_year() -> i32 {
    civil_date(system_seconds()).0 as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_are_right() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(1_700_000_000), (2023, 11, 14));
        assert_eq!(civil_date(951_782_400), (2000, 2, 29));
    }
}
