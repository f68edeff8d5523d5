//! `gep explain`: the chain behind one number — for one county and indicator, every valuation
//! line with its input cell, coefficient (file, key, value, grade, source), formula and result.

use std::fmt::Write as _;

use crate::account::{Accounts, Line, Service};
use crate::coefficients::{Coefficients, Region};
use crate::error::{Error, Result};
use crate::suggest;

/// Finds an indicator by key (`water_conservation`) or label (水源涵养, Water conservation).
fn find_indicator(name: &str, services: &[&'static Service]) -> Option<&'static Service> {
    let key = crate::units::fold(name);
    services.iter().copied().find(|i| {
        crate::units::fold(i.key) == key
            || crate::units::fold(i.label_zh) == key
            || crate::units::fold(i.label_en) == key
    })
}

fn thousands(v: f64) -> String {
    let s = format!("{:.2}", v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{}{out}.{frac}", if v < 0.0 { "-" } else { "" })
}

/// The county (code, or a name unique in the set) and the indicator (key or label) asked for.
///
/// # Errors
/// [`Error::Usage`] naming what is unknown or ambiguous, with "did you mean" when a name is close.
pub fn resolve<'a>(
    coef: &'a Coefficients,
    county: &str,
    indicator: &str,
) -> Result<(&'a Region, &'static Service)> {
    let mut problems = Vec::new();
    let wanted = county.trim();
    let matches: Vec<&Region> = coef
        .regions
        .iter()
        .filter(|r| r.code == wanted || r.name == wanted)
        .collect();
    let region = match matches.as_slice() {
        [one] => Some(*one),
        [] => {
            let names = coef.regions.iter().map(|r| r.name.as_str());
            let codes = coef.regions.iter().map(|r| r.code.as_str());
            let hint = suggest::did_you_mean(wanted, names.chain(codes))
                .map_or_else(String::new, |c| format!("; did you mean \"{c}\"?"));
            problems.push(format!(
                "--county: no county \"{wanted}\" in {}/regions.csv (give a 6-digit code or a county name){hint}",
                coef.manifest.name
            ));
            None
        }
        several => {
            let codes: Vec<String> = several
                .iter()
                .map(|r| format!("{} ({})", r.code, r.prefecture))
                .collect();
            problems.push(format!(
                "--county: \"{wanted}\" names {} counties: {}; give the code",
                several.len(),
                codes.join(", ")
            ));
            None
        }
    };
    let services = crate::account::registry::services(coef);
    let service = find_indicator(indicator, &services);
    if service.is_none() {
        let keys = services.iter().map(|s| s.key);
        let labels = services.iter().map(|s| s.label_zh);
        let hint = suggest::hint(indicator, keys.chain(labels));
        let known: Vec<String> = services
            .iter()
            .map(|i| format!("{} ({})", i.key, i.label_zh))
            .collect();
        problems.push(format!(
            "--indicator: unknown indicator \"{indicator}\"{hint}; known: {}",
            known.join(", ")
        ));
    }
    match (region, service) {
        (Some(r), Some(s)) if problems.is_empty() => Ok((r, s)),
        _ => Err(Error::Usage(problems.join("\n"))),
    }
}

/// The price a line used, as the set states it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PriceUsed {
    /// prices.toml key.
    pub key: String,
    /// Value as written.
    pub value: f64,
    /// Unit as written.
    pub unit: String,
    /// Year of the price.
    pub year: i32,
    /// Scope (`derived` for a price computed on loading).
    pub scope: String,
    /// Evidence grade.
    pub status: String,
    /// Source.
    pub source: String,
    /// How the price was brought to the set's base year (`× cpi_national 2011→2021 = 1.2260
    /// (deflators.csv)`), or `None` when used as written.
    pub index: Option<String>,
}

/// One line of an explanation: the valuation line, and the price as the set states it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExplainedLine {
    /// The valuation line.
    #[serde(flatten)]
    pub line: Line,
    /// The price as the set states it, when it is a prices.toml (or derived) price.
    pub price: Option<PriceUsed>,
}

/// The chain behind one county's value of one indicator.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Explanation {
    /// Accounting year.
    pub year: i32,
    /// County code.
    pub county_code: String,
    /// County name.
    pub county_name: String,
    /// Prefecture name.
    pub prefecture: String,
    /// Indicator key.
    pub indicator: String,
    /// Chinese label.
    pub indicator_zh: String,
    /// English label.
    pub indicator_en: String,
    /// Category key.
    pub category: String,
    /// Where the formula is documented.
    pub doc: String,
    /// Valued in this run.
    pub valued: bool,
    /// Why not (English; empty when valued).
    pub not_valued_reason: String,
    /// Why not (Chinese).
    pub not_valued_reason_zh: String,
    /// Value, 元 (`None` when not valued).
    pub value_cny: Option<f64>,
    /// Quantity (`None` when not valued or value-only).
    pub quantity: Option<f64>,
    /// Unit of the quantity.
    pub quantity_unit: Option<String>,
    /// The valuation lines.
    pub lines: Vec<ExplainedLine>,
    /// Warnings of the run that made the number (reading, audits, valuation).
    #[serde(skip)]
    pub warnings: Vec<crate::error::Issue>,
}

/// The explanation of `indicator` for `county` (code or name).
///
/// # Errors
/// [`Error::Usage`] when the county or indicator is unknown.
pub fn explanation(
    accounts: &Accounts,
    coef: &Coefficients,
    county: &str,
    indicator: &str,
) -> Result<Explanation> {
    let (region, ind) = resolve(coef, county, indicator)?;
    if !accounts
        .level(crate::account::Level::County)
        .any(|r| r.code == region.code)
    {
        return Err(Error::Usage(format!(
            "--county: {} {} is outside the counties of this run{}",
            region.code,
            region.name,
            accounts
                .scope
                .as_ref()
                .map_or_else(String::new, |s| format!(" ({s})"))
        )));
    }
    let coverage = accounts
        .indicators
        .iter()
        .position(|i| i.key == ind.key)
        .map(|k| accounts.coverage[k].clone())
        // Not among the accounted indicators at all: a switch of the set leaves it out.
        .unwrap_or_else(|| crate::account::Coverage {
            valued: false,
            reason_en: format!(
                "left out of the accounts by the coefficient set's switches ({}/manifest.toml)",
                coef.manifest.name
            ),
            reason_zh: format!(
                "系数集开关未将其纳入核算（{}/manifest.toml）",
                coef.manifest.name
            ),
        });
    let valued = coverage.valued;
    let lines: Vec<&Line> = accounts
        .lines
        .iter()
        .filter(|l| *l.county_code == *region.code && l.indicator == ind.key)
        .collect();
    let explained: Vec<ExplainedLine> = lines
        .iter()
        .map(|l| ExplainedLine {
            line: (*l).clone(),
            price: l
                .price_cny_per_unit
                .and(coef.price(&l.price_key))
                .map(|p| PriceUsed {
                    key: l.price_key.to_string(),
                    value: p.indexed.as_ref().map_or(p.value, |i| i.published),
                    index: p.indexed.as_ref().map(crate::coefficients::Indexed::text),
                    unit: p.unit.clone(),
                    year: p.year,
                    scope: p.scope.clone(),
                    status: p.status.clone(),
                    source: p.source.clone(),
                }),
        })
        .collect();
    Ok(Explanation {
        year: accounts.year,
        county_code: region.code.clone(),
        county_name: region.name.clone(),
        prefecture: region.prefecture.clone(),
        indicator: ind.key.into(),
        indicator_zh: ind.label_zh.into(),
        indicator_en: ind.label_en.into(),
        category: ind.category.key().into(),
        doc: ind.doc.into(),
        valued,
        not_valued_reason: coverage.reason_en,
        not_valued_reason_zh: coverage.reason_zh,
        value_cny: valued.then(|| lines.iter().map(|l| l.value_cny).sum()),
        quantity: (valued && ind.quantity_unit.is_some())
            .then(|| lines.iter().filter_map(|l| l.quantity).sum()),
        quantity_unit: ind.quantity_unit.map(str::to_string),
        lines: explained,
        warnings: accounts.warnings.all().to_vec(),
    })
}

/// The explanation as text.
///
/// # Errors
/// As [`explanation`].
pub fn explain(
    accounts: &Accounts,
    coef: &Coefficients,
    county: &str,
    indicator: &str,
) -> Result<String> {
    Ok(render(&explanation(accounts, coef, county, indicator)?))
}

/// An explanation as the text `gep explain` prints.
pub fn render(x: &Explanation) -> String {
    let category = crate::account::Category::ALL
        .iter()
        .find(|c| c.key() == x.category)
        .map_or("", |c| c.label_zh());
    let header = format!(
        "{} {} ({}) — {} {} [{}], {}",
        x.county_code, x.county_name, x.prefecture, x.indicator_zh, x.indicator, category, x.year
    );
    // An indicator the run did not value is said to be not valued, with the reason — never 0.
    if !x.valued {
        return format!(
            "{header}\nNOT VALUED (未核算) in this run: {}\n{}\nIt is left out of GEP and shown blank in the book, not as 0.\nformula and sources: {}\n",
            x.not_valued_reason, x.not_valued_reason_zh, x.doc
        );
    }
    let mut out = String::new();
    let total = x.value_cny.unwrap_or_default();
    let _ = writeln!(out, "{header}");
    let _ = writeln!(
        out,
        "value: {} 元 ({} 万元) = Σ of {} line(s)",
        thousands(total),
        thousands(total / 1e4),
        x.lines.len()
    );
    if let (Some(unit), Some(q)) = (&x.quantity_unit, x.quantity) {
        let _ = writeln!(out, "quantity: {} {unit}", thousands(q));
    }
    let _ = writeln!(out, "formula and sources: {}", x.doc);
    for (n, l) in x.lines.iter().enumerate() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:>3}. {} — {}",
            n + 1,
            l.line.component,
            l.line.method
        );
        let _ = writeln!(
            out,
            "     input: {} = {} {}",
            l.line.source_ref,
            thousands(l.line.input_amount),
            l.line.input_unit
        );
        if !l.line.coefficient_ref.is_empty() {
            let value = l.line.coefficient.map_or(String::new(), |c| {
                format!(" → {c} {}", l.line.coefficient_unit)
            });
            let _ = writeln!(out, "     coefficient: {}{value}", l.line.coefficient_ref);
        }
        if let Some(q) = l.line.quantity {
            let _ = writeln!(
                out,
                "     quantity: {} {}",
                thousands(q),
                l.line.quantity_unit
            );
        }
        if let (Some(p), Some(price)) = (l.line.price_cny_per_unit, &l.price) {
            let _ = writeln!(
                out,
                "     price: {} [{}] = {} {} ({}, {}, status {}; {}){} → {p} 元 per {}",
                if price.scope == "derived" {
                    "derived price"
                } else {
                    "prices.toml"
                },
                price.key,
                price.value,
                price.unit,
                price.year,
                price.scope,
                price.status,
                price.source,
                price
                    .index
                    .as_ref()
                    .map_or(String::new(), |i| format!(" {i}")),
                l.line.quantity_unit
            );
        }
        let _ = writeln!(out, "     value: {} 元", thousands(l.line.value_cny));
    }
    if x.lines.is_empty() {
        let _ = writeln!(
            out,
            "\n(no valuation lines: the county reports nothing for this indicator, so its value is 0)"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{compute, testing::inputs};

    #[test]
    fn explain_lists_inputs_coefficients_and_the_total() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let acc = compute(&inputs(), &coef).unwrap();
        let text = explain(&acc, &coef, "140105", "水源涵养").unwrap();
        assert!(
            text.contains("140105 小店区 (太原市) — 水源涵养 water_conservation"),
            "{text}"
        );
        assert!(
            text.contains("input: t [土地利用!C5] = 100.00 公顷"),
            "{text}"
        );
        assert!(
            text.contains(
                "service_rates.csv: forest/water_conservation = 63.75 mm/yr [D] → 637.5 m³/ha/yr"
            ),
            "{text}"
        );
        // 63,750 m³ × 7.53 元/m³ (2011) × CPI 2011→2021 (1.2259786) = 588,515.68 元.
        assert!(
            (63_750.0 * 7.53 * crate::account::testing::cpi_to_2021(2011) - 588_515.68).abs()
                < 0.01
        );
        assert!(text.contains("value: 588,515.68 元"), "{text}");
        let err = explain(&acc, &coef, "999999", "nothing").unwrap_err();
        assert_eq!(err.exit_code(), 2, "a usage error");
        let err = err.to_string();
        assert!(
            err.contains("no county \"999999\"") && err.contains("unknown indicator \"nothing\""),
            "{err}"
        );
        // By name, with a suggestion for a typo.
        assert!(explain(&acc, &coef, "小店区", "water_conservation").is_ok());
        let err = explain(&acc, &coef, "小店", "water_conservaton")
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean \"小店区\"?"), "{err}");
        assert!(
            err.contains("did you mean \"water_conservation\"?"),
            "{err}"
        );
    }
}
