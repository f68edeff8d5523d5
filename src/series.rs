//! Stage 6b, series: several complete yearly workbooks → every unit's GEP by year at current
//! prices and at the first year's prices (chain-linked year to year with the set's price lines,
//! as the 变化 sheet links two years; a year with a set of its own is linked by valuing its
//! quantities with the year before's set), its growth, a workbook with a line chart and a CSV.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::account::Accounts;
use crate::change::YearValues;
use crate::error::{Error, Result};

/// One unit in one year.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// Year.
    pub year: i32,
    /// GEP at current prices, 元.
    pub current_cny: f64,
    /// GEP at the first year's prices (chain-linked), 元; `None` after a year with GEP 0.
    pub constant_cny: Option<f64>,
}

/// One unit's series.
#[derive(Debug, Clone, Serialize)]
pub struct UnitSeries {
    /// county, prefecture, province, national.
    pub level: &'static str,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Its years, in order.
    pub points: Vec<Point>,
}

/// The series of every unit.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    /// The years, in order (the first is the price base of the constant-price series).
    pub years: Vec<i32>,
    /// The workbooks, in year order.
    pub workbooks: Vec<PathBuf>,
    /// Units in the last year's account order.
    pub units: Vec<UnitSeries>,
}

/// Values each workbook as `gep run` would (one complete year each) and links the years.
///
/// # Errors
/// [`Error::Usage`] for fewer than two workbooks or two of the same year; as
/// [`crate::evaluate`] for each workbook and [`crate::change::compare`] for each link.
pub fn series(
    request: &crate::Request,
    workbooks: &[PathBuf],
    sets: &std::collections::BTreeMap<i32, PathBuf>,
) -> Result<Series> {
    if workbooks.len() < 2 {
        return Err(Error::Usage(
            "a series needs at least two yearly workbooks".into(),
        ));
    }
    let value = |wb: &PathBuf, set: Option<&PathBuf>| {
        crate::evaluate(
            &crate::Request {
                data: vec![wb.clone()],
                coefficients: set.cloned().or_else(|| request.coefficients.clone()),
                ..request.clone()
            },
            None,
            None,
        )
    };
    let mut years: Vec<(i32, PathBuf, Accounts, crate::coefficients::Coefficients)> = Vec::new();
    for wb in workbooks {
        let mut e = value(wb, None)?;
        // A year with a set of its own (`--set-for YEAR=DIR`) is valued with it.
        if let Some(set) = sets.get(&e.accounts.year) {
            e = value(wb, Some(set))?;
        }
        if let Some((y, other, _, _)) = years.iter().find(|(y, ..)| *y == e.accounts.year) {
            return Err(Error::Usage(format!(
                "{} and {} are both {y}: one workbook per year",
                other.display(),
                wb.display()
            )));
        }
        years.push((e.accounts.year, wb.clone(), e.accounts, e.coef));
    }
    years.sort_by_key(|(y, ..)| *y);
    let Some((_, _, last, _)) = years.last() else {
        return Err(Error::Internal("no year".into()));
    };
    let mut units: Vec<UnitSeries> = last
        .rows
        .iter()
        .map(|r| UnitSeries {
            level: r.level.key(),
            code: r.code.clone(),
            name: r.name.clone(),
            points: Vec::new(),
        })
        .collect();
    // The first year: constant = current. Then K_t = K_{t−1} × V_t(at t−1 prices) / V_{t−1}.
    let mut constant: std::collections::BTreeMap<String, Option<f64>> = Default::default();
    for (i, (year, _, acc, coef)) in years.iter().enumerate() {
        let links = match i {
            0 => None,
            _ => {
                let (prev_year, _, prev_acc, prev_coef) = &years[i - 1];
                let previous = YearValues::from_accounts(prev_acc);
                if sets.get(year) == sets.get(prev_year) {
                    Some(crate::change::compare(acc, &previous, coef)?)
                } else {
                    // Another set this year: this year's quantities valued with last year's set
                    // give this year at last year's prices.
                    let (_, path, ..) = &years[i];
                    let at_previous = value(path, sets.get(prev_year))?;
                    Some(crate::change::compare(
                        &at_previous.accounts,
                        &previous,
                        prev_coef,
                    )?)
                }
            }
        };
        for row in &acc.rows {
            let k = match &links {
                None => Some(row.gep_cny),
                Some(rows) => {
                    let link = rows
                        .iter()
                        .find(|c| c.code == row.code && c.level == row.level)
                        .filter(|c| c.gep.v0_current != 0.0)
                        .map(|c| c.gep.v1_constant / c.gep.v0_current);
                    constant
                        .get(&row.code)
                        .copied()
                        .flatten()
                        .zip(link)
                        .map(|(k, l)| k * l)
                }
            };
            constant.insert(row.code.clone(), k);
            if let Some(u) = units.iter_mut().find(|u| u.code == row.code) {
                u.points.push(Point {
                    year: *year,
                    current_cny: row.gep_cny,
                    constant_cny: k,
                });
            }
        }
    }
    Ok(Series {
        years: years.iter().map(|(y, ..)| *y).collect(),
        workbooks: years.iter().map(|(_, p, ..)| p.clone()).collect(),
        units,
    })
}

/// Growth from the point before, `None` for the first year or from 0.
fn growth(now: Option<f64>, before: Option<f64>) -> Option<f64> {
    match (now, before) {
        (Some(a), Some(b)) if b != 0.0 => Some(a / b - 1.0),
        _ => None,
    }
}

/// `series.csv`: level, code, name, year, gep_current_cny, gep_constant_cny (at the first year's
/// prices), growth_current, growth_constant.
///
/// # Errors
/// [`Error::Io`] when the file cannot be written.
pub fn write_csv(s: &Series, path: &Path) -> Result<()> {
    let mut text = String::from(
        "level,code,name,year,gep_current_cny,gep_constant_cny,growth_current,growth_constant\n",
    );
    let opt = |v: Option<f64>| v.map_or(String::new(), |x| x.to_string());
    for u in &s.units {
        for (i, p) in u.points.iter().enumerate() {
            let before = i.checked_sub(1).map(|j| &u.points[j]);
            text.push_str(&format!(
                "{},{},{},{},{},{},{},{}\n",
                u.level,
                u.code,
                u.name,
                p.year,
                p.current_cny,
                opt(p.constant_cny),
                opt(growth(Some(p.current_cny), before.map(|b| b.current_cny))),
                opt(growth(p.constant_cny, before.and_then(|b| b.constant_cny))),
            ));
        }
    }
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

/// The 序列 workbook: every unit × year at current and constant prices (亿元), growth, and a
/// line chart of the top unit and the prefectures.
///
/// # Errors
/// [`Error::Book`] when the workbook cannot be written.
pub fn write_book(s: &Series, path: &Path) -> Result<()> {
    use rust_xlsxwriter::{Chart, ChartType, Format, Workbook};
    let book_error = |source| Error::Book {
        path: path.to_path_buf(),
        source,
    };
    let build = || -> std::result::Result<Workbook, rust_xlsxwriter::XlsxError> {
        let mut wb = Workbook::new();
        let header = Format::new().set_bold().set_background_color("#DDEBF7");
        let money = Format::new().set_num_format("#,##0.00");
        let percent = Format::new().set_num_format("+0.0%;-0.0%;0.0%");
        let ws = wb.add_worksheet().set_name("序列")?;
        let base = s.years.first().copied().unwrap_or_default();
        ws.write_string(
            0,
            0,
            format!(
                "生态产品总值 GEP 序列（亿元）：现价与 {base} 年不变价（逐年链接，价格线见 manifest.toml [price_lines]） / GEP by year, current and {base} prices"
            ),
        )?;
        let n = s.years.len() as u16;
        let mut headers = vec!["代码 code".to_string(), "名称 name".to_string()];
        headers.extend(s.years.iter().map(|y| format!("{y} 现价 current")));
        headers.extend(s.years.iter().map(|y| format!("{y} 不变价 constant")));
        headers.extend(
            s.years
                .iter()
                .skip(1)
                .map(|y| format!("{y} 不变价增长 growth")),
        );
        ws.write_row_with_format(2, 0, headers, &header)?;
        for (r, u) in (3u32..).zip(&s.units) {
            ws.write_string(r, 0, &u.code)?;
            ws.write_string(r, 1, &u.name)?;
            for (k, p) in u.points.iter().enumerate() {
                ws.write_number_with_format(r, 2 + k as u16, p.current_cny / 1e8, &money)?;
                if let Some(c) = p.constant_cny {
                    ws.write_number_with_format(r, 2 + n + k as u16, c / 1e8, &money)?;
                }
                let before = k.checked_sub(1).and_then(|j| u.points[j].constant_cny);
                if let Some(g) = growth(p.constant_cny, before) {
                    ws.write_number_with_format(r, 2 + 2 * n + k as u16 - 1, g, &percent)?;
                }
            }
        }
        ws.set_column_width(1, 16)?;
        // Line chart: the top unit and the prefectures, at constant prices.
        let mut chart = Chart::new(ChartType::Line);
        let last_row = 2 + s.units.len() as u32;
        for (r, u) in (3u32..).zip(&s.units) {
            if u.level == "county" {
                continue;
            }
            chart
                .add_series()
                .set_name(("序列", r, 1))
                .set_categories(("序列", 2, 2 + n, 2, 2 + 2 * n - 1))
                .set_values(("序列", r, 2 + n, r, 2 + 2 * n - 1));
        }
        chart
            .title()
            .set_name(&format!("GEP（{base} 年不变价，亿元）"));
        chart.set_width(900).set_height(480);
        ws.insert_chart(last_row + 2, 0, &chart)?;
        Ok(wb)
    };
    let mut wb = build().map_err(book_error)?;
    wb.save(path).map_err(book_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_needs_a_previous_value_other_than_zero() {
        assert_eq!(growth(Some(110.0), Some(100.0)), Some(0.10000000000000009));
        assert_eq!(growth(Some(1.0), Some(0.0)), None);
        assert_eq!(growth(Some(1.0), None), None);
    }
}
