//! Stage 4c, change: this year's accounts against a previous year's, at current prices and at
//! the previous year's prices, with growth rates and the split of the change into a quantity and
//! a price effect.
//!
//! Current prices of each year are that year's account values, exactly what its 汇总 shows (an
//! identity checked on every run). Constant prices are the previous year's (base t0): product
//! values, reported at current prices, are brought to t0 with the price line's deflator,
//! V1_const = V1 × D(t0)/D(t1); lines valued at the coefficient set's unit prices have the same
//! price in both years (one set values both), so V1_const = V1. Quantity effect =
//! V1_const − V0; price effect = V1 − V1_const; they add up to V1 − V0 exactly.

use std::collections::BTreeMap;

use crate::account::{Accounts, Level};
use crate::coefficients::Coefficients;
use crate::error::{Issues, Result};

/// Per-indicator values of one unit in one year (yuan), as the engine computes them.
#[derive(Debug, Clone, Default)]
pub struct YearValues {
    /// Accounting year.
    pub year: i32,
    /// code → indicator key → engine value (yuan).
    pub values: BTreeMap<String, BTreeMap<String, f64>>,
    /// code → GEP (yuan) as that year's account states it: the identity current-price GEP =
    /// that year's 汇总 is checked against it.
    pub gep: BTreeMap<String, f64>,
}

impl YearValues {
    /// The values of `accounts`, every level.
    pub fn from_accounts(accounts: &Accounts) -> Self {
        let mut values = BTreeMap::new();
        for row in &accounts.rows {
            let map: BTreeMap<String, f64> = accounts
                .indicators
                .iter()
                .zip(&row.values_cny)
                .map(|(i, v)| (i.key.to_string(), *v))
                .collect();
            values.insert(row.code.clone(), map);
        }
        YearValues {
            year: accounts.year,
            values,
            gep: accounts
                .rows
                .iter()
                .map(|r| (r.code.clone(), r.gep_cny))
                .collect(),
        }
    }
}

/// Reads the engine values of an account book written by `gep run` (价值量 sheet, 说明 year),
/// recognising the columns of `services` (the engine's and those the set declares); `None` when
/// `source` is not such a book.
pub fn values_from_book(
    source: &crate::read::Source,
    services: &[&'static crate::account::Service],
) -> Option<YearValues> {
    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
    let mut wb: Xlsx<_> =
        open_workbook_from_rs(std::io::Cursor::new(source.bytes.as_slice())).ok()?;
    let names = wb.sheet_names();
    // Chinese or English book (`--lang en`).
    let (about_name, value_name) = [("说明", "价值量"), ("About", "Value")]
        .into_iter()
        .find(|(a, v)| names.iter().any(|n| n == a) && names.iter().any(|n| n == v))?;
    let about = wb.worksheet_range(about_name).ok()?;
    let year = about.rows().find_map(|r| {
        let label = r.first()?.to_string();
        // "核算年份 Year" in a Chinese book, "Year" in an English one.
        if !(label.starts_with("核算年份") || label == "Year") {
            return None;
        }
        r.get(1)?.to_string().trim().parse::<i32>().ok()
    })?;
    let sheet = wb.worksheet_range(value_name).ok()?;
    let header = 2usize;
    // Indicator columns by their label (Chinese or English), each with its money unit (the book
    // is in 万元 by default, in 元 with `--money yuan`).
    let mut columns = Vec::new();
    let mut gep_column = None;
    for c in 4..sheet.width() {
        let text = sheet
            .get((header, c))
            .map(|d| d.to_string())
            .unwrap_or_default();
        if let Some(unit) = text.strip_prefix("GEP\n") {
            gep_column = match unit {
                "(万元)" | "(10k yuan)" => Some((c, 1e4)),
                "(元)" | "(yuan)" => Some((c, 1.0)),
                _ => gep_column,
            };
            continue;
        }
        let mut parts = text.split('\n');
        let label = parts.nth(1).unwrap_or_default().to_string();
        let unit = parts.next().unwrap_or_default();
        let scale = match unit {
            "(万元)" | "(10k yuan)" => 1e4,
            "(元)" | "(yuan)" => 1.0,
            _ => continue,
        };
        if let Some(ind) = services
            .iter()
            .find(|i| i.label_zh == label || i.label_en == label)
        {
            columns.push((c, ind.key, scale));
        }
    }
    let mut values = BTreeMap::new();
    let mut gep = BTreeMap::new();
    for r in header + 1..sheet.height() {
        let Some(Data::String(code)) = sheet.get((r, 0)) else {
            continue;
        };
        if let Some((c, scale)) = gep_column
            && let Some(Data::Float(v)) = sheet.get((r, c))
        {
            gep.insert(code.clone(), v * scale);
        }
        let map: BTreeMap<String, f64> = columns
            .iter()
            .filter_map(|(c, key, scale)| match sheet.get((r, *c)) {
                Some(Data::Float(v)) => Some(((*key).to_string(), v * scale)),
                _ => None,
            })
            .collect();
        values.insert(code.clone(), map);
    }
    Some(YearValues { year, values, gep })
}

/// Change of one indicator (or GEP) for one unit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Change {
    /// Previous year, current prices.
    pub v0_current: f64,
    /// This year, current prices.
    pub v1_current: f64,
    /// Previous year, constant (base-year) prices.
    pub v0_constant: f64,
    /// This year, constant prices.
    pub v1_constant: f64,
    /// Part of the current-price change due to quantities.
    pub quantity_effect: f64,
    /// Part due to prices.
    pub price_effect: f64,
}

impl Change {
    /// Growth at current prices (`None` when the previous value is 0).
    pub fn growth_current(&self) -> Option<f64> {
        (self.v0_current != 0.0).then(|| self.v1_current / self.v0_current - 1.0)
    }

    /// Growth at constant prices.
    pub fn growth_constant(&self) -> Option<f64> {
        (self.v0_constant != 0.0).then(|| self.v1_constant / self.v0_constant - 1.0)
    }

    /// Adds `o` to this change (a sum over indicators).
    pub fn add(&mut self, o: &Change) {
        self.v0_current += o.v0_current;
        self.v1_current += o.v1_current;
        self.v0_constant += o.v0_constant;
        self.v1_constant += o.v1_constant;
        self.quantity_effect += o.quantity_effect;
        self.price_effect += o.price_effect;
    }
}

/// One row of the 变化 sheet.
#[derive(Debug, Clone)]
pub struct ChangeRow {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Level.
    pub level: Level,
    /// Per indicator, in accounts order.
    pub indicators: Vec<Change>,
    /// GEP.
    pub gep: Change,
}

/// Chained price level of `series` in `year` relative to `base` (D(year)/D(base)).
///
/// # Errors
/// [`crate::Error::Invalid`] when a year between the two is missing from deflators.csv.
pub fn relative_level(coef: &Coefficients, series: &str, year: i32, base: i32) -> Result<f64> {
    let mut issues = Issues::new();
    let index = |y: i32| {
        coef.deflators
            .iter()
            .find(|d| d.series == series && d.year == y)
            .map(|d| d.index_prev_year_100 / 100.0)
    };
    let mut level = 1.0;
    let (from, to, invert) = if year >= base {
        (base, year, false)
    } else {
        (year, base, true)
    };
    for y in from + 1..=to {
        match index(y) {
            Some(i) => level *= i,
            None => issues.error(
                "deflators.csv",
                format!("series {series} has no index for {y} (needed between {from} and {to})"),
            ),
        }
    }
    issues.into_result()?;
    Ok(if invert { 1.0 / level } else { level })
}

/// Compares this year's accounts with `previous`.
///
/// # Errors
/// [`crate::Error::Invalid`] when a price line or deflator year is missing.
pub fn compare(
    current: &Accounts,
    previous: &YearValues,
    coef: &Coefficients,
) -> Result<Vec<ChangeRow>> {
    let (t0, t1) = (previous.year, current.year);
    let mut factors = Vec::new();
    let mut issues = Issues::new();
    for (k, ind) in current.indicators.iter().enumerate() {
        let Some(series) = coef.manifest.price_lines.get(ind.key) else {
            // A service the set does not value needs no price series (its value is blank).
            if !current.valued(k) {
                factors.push((1.0, false));
                continue;
            }
            issues.error(
                "manifest.toml",
                format!("[price_lines] has no series for {}", ind.key),
            );
            continue;
        };
        // D(t1)/D(t0): this year's price level relative to the previous year's.
        let level = relative_level(coef, series, t1, t0)?;
        let reported_at_current = ind.quantity_unit.is_none();
        factors.push((level, reported_at_current));
    }
    issues.into_result()?;
    let mut rows = Vec::new();
    for row in &current.rows {
        let before = previous.values.get(&row.code);
        let mut changes = Vec::new();
        let mut gep = Change::default();
        for (k, ind) in current.indicators.iter().enumerate() {
            let (level, at_current) = factors[k];
            let e0 = before.and_then(|m| m.get(ind.key)).copied().unwrap_or(0.0);
            let e1 = row.values_cny[k];
            // This year's value at the previous year's prices.
            let v1k = if at_current { e1 / level } else { e1 };
            let c = Change {
                v0_current: e0,
                v1_current: e1,
                v0_constant: e0,
                v1_constant: v1k,
                quantity_effect: v1k - e0,
                price_effect: e1 - v1k,
            };
            gep.add(&c);
            changes.push(c);
        }
        // Identity: current-price GEP of each year = that year's account (its 汇总): this year's
        // rows, and the previous year's GEP as its own book or accounts state it (a column of a
        // previous book that was not read would show here).
        if let Some(stated) = previous.gep.get(&row.code)
            && (gep.v0_current - stated).abs() > 1e-6 * stated.abs().max(1.0)
        {
            return Err(crate::Error::invalid(
                "--previous",
                format!(
                    "the previous year's GEP of {} is {stated:.2} 元 on its 汇总, but its indicator columns that were read sum to {:.2} 元: a column of that book was not recognised",
                    row.code, gep.v0_current
                ),
            ));
        }
        let gep0: f64 = before.map_or(0.0, |m| {
            current.indicators.iter().filter_map(|i| m.get(i.key)).sum()
        });
        for (what, got, want) in [
            (t1, gep.v1_current, row.gep_cny),
            (t0, gep.v0_current, gep0),
        ] {
            if (got - want).abs() > 1e-9 * want.abs().max(1.0) {
                return Err(crate::Error::Internal(format!(
                    "change: current-price GEP {what} of {} is {got}, its account says {want}",
                    row.code
                )));
            }
        }
        rows.push(ChangeRow {
            code: row.code.clone(),
            name: row.name.clone(),
            level: row.level,
            indicators: changes,
            gep,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{compute, testing::inputs};

    #[test]
    fn two_counties_two_years_at_constant_prices() {
        let mut coef = crate::account::registry::load_coefficients(None, false).unwrap();
        coef.manifest.price_base_year = 2021;
        let current = compute(&inputs(), &coef).unwrap();
        // Previous year (2020): 140105 water supply was 1,000,000 元 at base prices, agriculture 2.5e8 元 reported.
        let mut previous = YearValues {
            year: 2020,
            values: BTreeMap::new(),
            gep: BTreeMap::new(),
        };
        previous.values.insert(
            "140105".into(),
            [
                ("water_supply".to_string(), 1_000_000.0),
                ("agriculture_products".to_string(), 2.5e8),
            ]
            .into_iter()
            .collect(),
        );
        let rows = compare(&current, &previous, &coef).unwrap();
        let c105 = rows.iter().find(|r| r.code == "140105").unwrap();
        let k = |key: &str| {
            current
                .indicators
                .iter()
                .position(|i| i.key == key)
                .unwrap()
        };
        // Water is valued at the set's unit price in both years: current = constant = the account.
        let w = c105.indicators[k("water_supply")];
        let v1 = current
            .rows
            .iter()
            .find(|r| r.code == "140105")
            .unwrap()
            .values_cny[k("water_supply")];
        assert_eq!(w.v0_current, 1_000_000.0);
        assert_eq!(w.v1_current, v1);
        assert_eq!(w.v1_constant, v1);
        assert_eq!(w.price_effect, 0.0);
        // Agriculture: 3e8 reported in 2021, 2.5e8 in 2020; CPI 2021 = 100.9 (2020 = 100), so
        // 2021 at 2020 prices = 3e8 / 1.009.
        let a = c105.indicators[k("agriculture_products")];
        assert_eq!(a.v0_constant, 2.5e8);
        assert!((a.v1_constant - 3.0e8 / 1.009).abs() < 1e-3);
        assert!((a.growth_constant().unwrap() - (3.0e8 / 1.009 / 2.5e8 - 1.0)).abs() < 1e-12);
        assert!((a.growth_current().unwrap() - 0.2).abs() < 1e-12);
        // Current-price GEP equals each year's account.
        let row105 = current.rows.iter().find(|r| r.code == "140105").unwrap();
        assert_eq!(c105.gep.v1_current, row105.gep_cny);
        assert_eq!(c105.gep.v0_current, 1_000_000.0 + 2.5e8);
        // Quantity + price effects add up to the current-price change.
        for c in c105.indicators.iter().chain([&c105.gep]) {
            assert!(
                (c.quantity_effect + c.price_effect - (c.v1_current - c.v0_current)).abs() < 1e-6
            );
        }
        // 140106 had nothing the year before: growth undefined, not infinite.
        let c106 = rows.iter().find(|r| r.code == "140106").unwrap();
        assert_eq!(c106.gep.growth_constant(), None);
    }

    #[test]
    fn chained_levels_cover_several_years_and_report_gaps() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let l = relative_level(&coef, "cpi_national", 2023, 2021).unwrap();
        assert!((l - 1.02 * 1.002).abs() < 1e-12);
        assert!(
            (relative_level(&coef, "cpi_national", 2019, 2021).unwrap() - 1.0 / (1.025 * 1.009))
                .abs()
                < 1e-12
        );
        let err = relative_level(&coef, "cpi_national", 2030, 2021)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("series cpi_national has no index for 2025"),
            "{err}"
        );
    }
}
