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
    /// GEP with the value × (1 − range), or at its own `low`, 元.
    pub low_cny: f64,
    /// GEP with the value × (1 + range), or at its own `high`, 元.
    pub high_cny: f64,
    /// True when the coefficient's own `low`/`high` were used instead of ± the range.
    pub own_band: bool,
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

/// One coefficient to move: where it is, its label, its value, and the factors to its own
/// `low`/`high` when the set gives them (else ± the range).
struct Movable {
    key: Key,
    label: String,
    value: f64,
    band: Option<(f64, f64)>,
}

fn keys(coef: &Coefficients) -> Vec<Movable> {
    let mut out = Vec::new();
    for (k, p) in &coef.prices {
        // Derived prices follow their parts (derived again after each move).
        if p.scope != "derived" {
            out.push(Movable {
                key: Key::Price(k.clone()),
                label: format!("prices.toml [prices.{k}]"),
                value: p.value,
                band: p.band_factors(),
            });
        }
    }
    for (k, p) in &coef.parameters {
        out.push(Movable {
            key: Key::Parameter(k.clone()),
            label: format!("prices.toml [parameters.{k}]"),
            value: p.value,
            band: p.band_factors(),
        });
    }
    for (i, r) in coef.rates.iter().enumerate() {
        if r.rate_base != 0.0 {
            out.push(Movable {
                key: Key::Rate(i),
                label: format!("service_rates.csv {}/{}", r.valuation_class, r.indicator),
                value: r.rate_base,
                band: r.band_factors(),
            });
        }
    }
    out
}

fn moved(coef: &Coefficients, key: &Key, factor: f64) -> Coefficients {
    let mut c = coef.clone();
    move_one(&mut c, key, factor);
    derive_again(&mut c);
    c
}

fn move_one(c: &mut Coefficients, key: &Key, factor: f64) {
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
}

/// Derived prices (soil retention, sand fixation) follow their moved parts.
fn derive_again(c: &mut Coefficients) {
    for d in &crate::account::registry::demand().derived {
        if let Some(p) = (d.derive)(&c.prices, &c.parameters) {
            c.prices.insert(d.key.to_string(), p);
        }
    }
}

/// A thread pool whose threads have room for deep polars plans (debug builds overflow rayon's
/// default stack).
fn pool() -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .stack_size(64 << 20)
        .build()
        .map_err(|e| Error::Internal(format!("thread pool: {e}")))
}

/// SplitMix64: a small, fully specified generator, so that a seed gives the same draws on
/// every machine and in every version.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The 5th, 50th and 95th percentiles of one unit's GEP over the draws, 元.
#[derive(Debug, Clone, Serialize)]
pub struct Band {
    /// county, prefecture, province or national.
    pub level: &'static str,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// GEP at the set's values.
    pub point_cny: f64,
    /// 5th percentile.
    pub p5_cny: f64,
    /// Median.
    pub p50_cny: f64,
    /// 95th percentile.
    pub p95_cny: f64,
}

/// Monte Carlo bands of every unit.
#[derive(Debug, Clone, Serialize)]
pub struct Bands {
    /// Draws.
    pub draws: usize,
    /// Seed.
    pub seed: u64,
    /// The relative range of the uniform draws (0.1 = ±10 %).
    pub range: f64,
    /// Coefficients drawn per run.
    pub coefficients: usize,
    /// One band per unit, in account order (counties, subtotals, top unit last).
    pub units: Vec<Band>,
}

/// Linear-interpolated percentile (`q` in 0…1) of sorted values.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let h = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Monte Carlo: `draws` runs, each with every price, parameter and non-zero rate × an
/// independent uniform factor in [1 − range, 1 + range] (uniform in [low, high] where the set
/// gives them) (draw i uses the generator seeded with
/// `seed` and i, so the result does not depend on the number of threads); P5, P50 and P95 of
/// every unit's GEP.
///
/// # Errors
/// [`Error::Usage`] for a range outside (0, 1) or no draws; as [`crate::prepare`] and valuation.
pub fn monte_carlo(request: &crate::Request, range: f64, draws: usize, seed: u64) -> Result<Bands> {
    if !(range > 0.0 && range < 1.0) || draws == 0 {
        return Err(Error::Usage(format!(
            "--range {range} and --monte-carlo {draws}: give a fraction between 0 and 1 and at least one draw"
        )));
    }
    let (coef, inputs) = crate::prepare(request)?;
    let base = crate::account::compute(&inputs, &coef)?;
    let keys = keys(&coef);
    crate::progress::stage("Monte Carlo draws");
    crate::progress::steps(draws as u64);
    let runs: Vec<Result<Vec<f64>>> = pool()?.install(|| {
        use rayon::prelude::*;
        (0..draws)
            .into_par_iter()
            .map(|i| {
                let mut rng = SplitMix64(seed ^ (i as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
                let mut c = coef.clone();
                for m in &keys {
                    let u = rng.next_f64();
                    let (lo, hi) = m.band.unwrap_or((1.0 - range, 1.0 + range));
                    move_one(&mut c, &m.key, lo + (hi - lo) * u);
                }
                derive_again(&mut c);
                let acc = crate::account::compute(&inputs, &c)?;
                crate::progress::advance(1);
                Ok(acc.rows.iter().map(|r| r.gep_cny).collect())
            })
            .collect()
    });
    let runs = runs.into_iter().collect::<Result<Vec<_>>>()?;
    let units = base
        .rows
        .iter()
        .enumerate()
        .map(|(k, row)| {
            let mut v: Vec<f64> = runs.iter().filter_map(|r| r.get(k).copied()).collect();
            v.sort_by(f64::total_cmp);
            Band {
                level: row.level.key(),
                code: row.code.clone(),
                name: row.name.clone(),
                point_cny: row.gep_cny,
                p5_cny: percentile(&v, 0.05),
                p50_cny: percentile(&v, 0.5),
                p95_cny: percentile(&v, 0.95),
            }
        })
        .collect();
    Ok(Bands {
        draws,
        seed,
        range,
        coefficients: keys.len(),
        units,
    })
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
    let bars: Vec<Result<Bar>> = pool()?.install(|| {
        use rayon::prelude::*;
        keys.par_iter()
            .map(|m| {
                let gep = |factor: f64| -> Result<f64> {
                    let c = moved(&coef, &m.key, factor);
                    let acc = crate::account::compute(&inputs, &c)?;
                    Ok(gep_of(&acc, county.as_deref()).map_or(0.0, |g| g.1))
                };
                let (lo, hi) = m.band.unwrap_or((1.0 - range, 1.0 + range));
                let bar = Bar {
                    coefficient: m.label.clone(),
                    value: m.value,
                    low_cny: gep(lo)?,
                    high_cny: gep(hi)?,
                    own_band: m.band.is_some(),
                };
                crate::progress::advance(1);
                Ok(bar)
            })
            .collect()
    });
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

/// The bands as terminal lines: the top unit, then the `top` counties with the widest band.
pub fn bands_text(b: &Bands, top: usize) -> Vec<String> {
    let line = |u: &Band| {
        format!(
            "  {} {:<10} GEP {:>10.2} 亿元; P5 {:>10.2}  P50 {:>10.2}  P95 {:>10.2}",
            u.code,
            u.name,
            u.point_cny / 1e8,
            u.p5_cny / 1e8,
            u.p50_cny / 1e8,
            u.p95_cny / 1e8
        )
    };
    let mut out = vec![format!(
        "Monte Carlo: {} draws (seed {}), {} coefficients each × uniform [1 − {r}, 1 + {r}], independent:",
        b.draws,
        b.seed,
        b.coefficients,
        r = b.range
    )];
    if let Some(t) = b.units.last() {
        out.push(line(t));
    }
    let mut widest: Vec<&Band> = b
        .units
        .iter()
        .take(b.units.len().saturating_sub(1))
        .collect();
    widest.sort_by(|x, y| (y.p95_cny - y.p5_cny).total_cmp(&(x.p95_cny - x.p5_cny)));
    if !widest.is_empty() && top > 0 {
        out.push(format!(
            "counties with the widest band (P95 − P5), top {top}:"
        ));
        out.extend(widest.into_iter().take(top).map(line));
    }
    out
}

/// The bands as a workbook: one row per unit (point, P5, P50, P95).
///
/// # Errors
/// [`Error::Book`] when the workbook cannot be written.
pub fn write_bands(b: &Bands, path: &Path) -> Result<()> {
    use rust_xlsxwriter::{Format, Workbook};
    let book_error = |source| Error::Book {
        path: path.to_path_buf(),
        source,
    };
    let build = || -> std::result::Result<Workbook, rust_xlsxwriter::XlsxError> {
        let mut wb = Workbook::new();
        let header = Format::new().set_bold().set_background_color("#DDEBF7");
        let money = Format::new().set_num_format("#,##0.00");
        let ws = wb.add_worksheet().set_name("不确定性")?;
        ws.write_string(
            0,
            0,
            format!(
                "GEP 不确定性（元）：{} 次抽样（种子 {}），{} 个系数各 × 均匀分布 [1 − {r}, 1 + {r}]，相互独立 / Monte Carlo",
                b.draws,
                b.seed,
                b.coefficients,
                r = b.range
            ),
        )?;
        ws.write_row_with_format(
            2,
            0,
            [
                "代码 code",
                "名称 name",
                "点估计 point (元)",
                "P5 (元)",
                "P50 (元)",
                "P95 (元)",
            ],
            &header,
        )?;
        for (r, u) in (3u32..).zip(&b.units) {
            ws.write_string(r, 0, &u.code)?;
            ws.write_string(r, 1, &u.name)?;
            for (c, v) in [u.point_cny, u.p5_cny, u.p50_cny, u.p95_cny]
                .iter()
                .enumerate()
            {
                ws.write_number_with_format(r, 2 + c as u16, *v, &money)?;
            }
        }
        ws.set_column_width(1, 16)?;
        for c in 2..=5 {
            ws.set_column_width(c, 22)?;
        }
        Ok(wb)
    };
    let mut wb = build().map_err(book_error)?;
    wb.save(path).map_err(book_error)?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_sorted_values() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&v, 0.5), 3.0);
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&v, 1.0), 5.0);
        assert!((percentile(&v, 0.05) - 1.2).abs() < 1e-12);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    /// SplitMix64's published first output for seed 0 (Steele, Lea and Flood 2014; the
    /// reference code of Vigna's xoshiro page): the draws do not depend on a crate version.
    #[test]
    fn the_generator_is_splitmix64() {
        let mut g = SplitMix64(0);
        assert_eq!(g.next_u64(), 0xE220_A839_7B1D_CDAF);
        let mut g = SplitMix64(42);
        let u: Vec<f64> = (0..1000).map(|_| g.next_f64()).collect();
        assert!(u.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = u.iter().sum::<f64>() / u.len() as f64;
        assert!((mean - 0.5).abs() < 0.05, "{mean}");
    }
}
