//! Stage 6, sensitivity: one-at-a-time ± range on every price, parameter and per-hectare rate of
//! the coefficient set → the change of the top unit's (or one county's) GEP, largest swing first
//! (a tornado table), in the terminal and as a workbook with a chart.

use std::path::Path;

use serde::Serialize;

use crate::account::{Accounts, Level};
use crate::coefficients::Coefficients;
use crate::error::{Error, Result};

/// One coefficient moved down and up by the range.
#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    /// `prices.toml [prices.carbon]`, `prices.toml [parameters.sediment_ratio]`,
    /// `service_rates.csv forest/water_conservation`.
    pub coefficient: String,
    /// Its value as used (engine unit).
    pub value: f64,
    /// GEP with the value × (1 − range), 元.
    pub low_cny: f64,
    /// GEP with the value × (1 + range), 元.
    pub high_cny: f64,
}

impl Bar {
    /// |high − low|, 元.
    pub fn swing_cny(&self) -> f64 {
        (self.high_cny - self.low_cny).abs()
    }
}

/// A tornado: the base GEP and one bar per coefficient that moves it, largest swing first.
#[derive(Debug, Clone, Serialize)]
pub struct Tornado {
    /// The unit whose GEP is shown (code and name).
    pub unit: String,
    /// The relative range (0.1 = ±10 %).
    pub range: f64,
    /// GEP at the set's values, 元.
    pub base_cny: f64,
    /// Coefficients whose change moves the GEP, largest swing first.
    pub bars: Vec<Bar>,
    /// How many coefficients were moved.
    pub tried: usize,
}

/// Where one coefficient sits in the set, to move it.
#[derive(Clone)]
enum Key {
    Price(String),
    Parameter(String),
    Rate(usize),
}

fn keys(coef: &Coefficients) -> Vec<(Key, String, f64)> {
    let mut out = Vec::new();
    for (k, p) in &coef.prices {
        // Derived prices follow their parts (derived again after each move).
        if p.scope != "derived" {
            out.push((
                Key::Price(k.clone()),
                format!("prices.toml [prices.{k}]"),
                p.value,
            ));
        }
    }
    for (k, p) in &coef.parameters {
        out.push((
            Key::Parameter(k.clone()),
            format!("prices.toml [parameters.{k}]"),
            p.value,
        ));
    }
    for (i, r) in coef.rates.iter().enumerate() {
        if r.rate_base != 0.0 {
            out.push((
                Key::Rate(i),
                format!("service_rates.csv {}/{}", r.valuation_class, r.indicator),
                r.rate_base,
            ));
        }
    }
    out
}

fn moved(coef: &Coefficients, key: &Key, factor: f64) -> Coefficients {
    let mut c = coef.clone();
    match key {
        Key::Price(k) => {
            if let Some(p) = c.prices.get_mut(k) {
                p.value *= factor;
            }
        }
        Key::Parameter(k) => {
            if let Some(p) = c.parameters.get_mut(k) {
                p.value *= factor;
            }
        }
        Key::Rate(i) => {
            if let Some(r) = c.rates.get_mut(*i) {
                r.rate_base *= factor;
            }
        }
    }
    for d in &crate::account::registry::demand().derived {
        if let Some(p) = (d.derive)(&c.prices, &c.parameters) {
            c.prices.insert(d.key.to_string(), p);
        }
    }
    c
}

fn gep_of(accounts: &Accounts, county: Option<&str>) -> Option<(String, f64)> {
    let row = match county {
        Some(code) => accounts
            .rows
            .iter()
            .find(|r| r.level == Level::County && r.code == code)?,
        None => accounts.rows.last()?,
    };
    Some((format!("{} {}", row.code, row.name), row.gep_cny))
}

/// The tornado of `request`'s workbooks: every price, parameter and non-zero rate moved by
/// ± `range` one at a time (derived prices derived again), the GEP of the top unit or of
/// `county`.
///
/// # Errors
/// [`Error::Usage`] for a range outside (0, 1) or an unknown county; as [`crate::prepare`] and
/// valuation.
pub fn tornado(request: &crate::Request, range: f64, county: Option<&str>) -> Result<Tornado> {
    if !(range > 0.0 && range < 1.0) {
        return Err(Error::Usage(format!(
            "--range {range}: give a fraction between 0 and 1 (0.1 for ±10 %)"
        )));
    }
    let (coef, inputs) = crate::prepare(request)?;
    let county = match county {
        Some(c) => Some(coef.region(c).map(|r| r.code.clone()).ok_or_else(|| {
            Error::Usage(format!("--county {c}: no county with this code in the set"))
        })?),
        None => None,
    };
    let base = crate::account::compute(&inputs, &coef)?;
    let (unit, base_cny) =
        gep_of(&base, county.as_deref()).ok_or_else(|| Error::Internal("no account row".into()))?;
    let keys = keys(&coef);
    crate::progress::stage("sensitivity: coefficients moved");
    crate::progress::steps(keys.len() as u64);
    // One coefficient after another: each valuation already values its services in parallel
    // (and deep polars plans need the main thread's stack in debug builds).
    let bars: Vec<Result<Bar>> = keys
        .iter()
        .map(|(key, label, value)| {
            let gep = |factor: f64| -> Result<f64> {
                let c = moved(&coef, key, factor);
                let acc = crate::account::compute(&inputs, &c)?;
                Ok(gep_of(&acc, county.as_deref()).map_or(0.0, |g| g.1))
            };
            let bar = Bar {
                coefficient: label.clone(),
                value: *value,
                low_cny: gep(1.0 - range)?,
                high_cny: gep(1.0 + range)?,
            };
            crate::progress::advance(1);
            Ok(bar)
        })
        .collect();
    let tried = bars.len();
    let mut bars: Vec<Bar> = bars
        .into_iter()
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .filter(|b| b.swing_cny() > 1e-9 * base_cny.abs().max(1.0))
        .collect();
    bars.sort_by(|a, b| {
        b.swing_cny()
            .total_cmp(&a.swing_cny())
            .then_with(|| a.coefficient.cmp(&b.coefficient))
    });
    Ok(Tornado {
        unit,
        range,
        base_cny,
        bars,
        tried,
    })
}

/// The tornado as terminal lines, the `top` largest bars.
pub fn text(t: &Tornado, top: usize) -> Vec<String> {
    let mut out = vec![format!(
        "{} GEP {:.2} 亿元; each coefficient × (1 ∓ {}) one at a time ({} moved, {} move the GEP):",
        t.unit,
        t.base_cny / 1e8,
        t.range,
        t.tried,
        t.bars.len()
    )];
    for b in t.bars.iter().take(top) {
        out.push(format!(
            "  {:<58} {:>+9.2} / {:>+9.2} 亿元 ({:>+6.2}% / {:>+6.2}%)",
            b.coefficient,
            (b.low_cny - t.base_cny) / 1e8,
            (b.high_cny - t.base_cny) / 1e8,
            100.0 * (b.low_cny - t.base_cny) / t.base_cny,
            100.0 * (b.high_cny - t.base_cny) / t.base_cny,
        ));
    }
    out
}

/// The tornado as a workbook: the table (coefficient, value, GEP low and high, changes) and a
/// bar chart of the changes of the largest 20.
///
/// # Errors
/// [`Error::Book`] when the workbook cannot be written.
pub fn write_book(t: &Tornado, path: &Path) -> Result<()> {
    use rust_xlsxwriter::{Chart, ChartType, Format, Workbook};
    let book_error = |source| Error::Book {
        path: path.to_path_buf(),
        source,
    };
    let build = || -> std::result::Result<Workbook, rust_xlsxwriter::XlsxError> {
        let mut wb = Workbook::new();
        let header = Format::new().set_bold().set_background_color("#DDEBF7");
        let money = Format::new().set_num_format("#,##0.00");
        let ws = wb.add_worksheet().set_name("敏感性")?;
        ws.write_string(
            0,
            0,
            format!(
                "{} 生态产品总值 GEP 对系数的敏感性：逐一 × (1 ∓ {})，其余不变（元） / one at a time",
                t.unit, t.range
            ),
        )?;
        ws.write_string(1, 0, "基准 GEP base (元)")?;
        ws.write_number_with_format(1, 1, t.base_cny, &money)?;
        ws.write_row_with_format(
            3,
            0,
            [
                "系数 coefficient",
                "取值 value",
                "GEP 下限 low (元)",
                "GEP 上限 high (元)",
                "下限变化 low − base (元)",
                "上限变化 high − base (元)",
            ],
            &header,
        )?;
        for (r, b) in (4u32..).zip(&t.bars) {
            let n = r + 1;
            ws.write_string(r, 0, &b.coefficient)?;
            ws.write_number(r, 1, b.value)?;
            ws.write_number_with_format(r, 2, b.low_cny, &money)?;
            ws.write_number_with_format(r, 3, b.high_cny, &money)?;
            ws.write_formula_with_format(
                r,
                4,
                rust_xlsxwriter::Formula::new(format!("=C{n}-$B$2"))
                    .set_result((b.low_cny - t.base_cny).to_string()),
                &money,
            )?;
            ws.write_formula_with_format(
                r,
                5,
                rust_xlsxwriter::Formula::new(format!("=D{n}-$B$2"))
                    .set_result((b.high_cny - t.base_cny).to_string()),
                &money,
            )?;
        }
        ws.set_column_width(0, 58)?;
        for c in 1..=5 {
            ws.set_column_width(c, 20)?;
        }
        let shown = t.bars.len().min(20) as u32;
        if shown > 0 {
            let mut chart = Chart::new(ChartType::Bar);
            for (c, name) in [(4u16, "下限 low"), (5u16, "上限 high")] {
                chart
                    .add_series()
                    .set_name(name)
                    .set_categories(("敏感性", 4, 0, 3 + shown, 0))
                    .set_values(("敏感性", 4, c, 3 + shown, c))
                    .set_overlap(100);
            }
            chart.title().set_name("GEP 敏感性（龙卷风图）/ tornado");
            chart.y_axis().set_reverse();
            chart.set_width(900).set_height(40 + 28 * shown);
            ws.insert_chart(4, 7, &chart)?;
        }
        Ok(wb)
    };
    let mut wb = build().map_err(book_error)?;
    wb.save(path).map_err(book_error)?;
    Ok(())
}
