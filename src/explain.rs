//! `gep explain`: the chain behind one number — for one county and indicator, every valuation
//! line with its input cell, coefficient (file, key, value, grade, source), formula and result.

use std::fmt::Write as _;

use crate::account::{Accounts, SERVICES, Service};
use crate::coefficients::Coefficients;
use crate::error::{Error, Issues, Result};

/// Finds an indicator by key (`water_conservation`) or label (水源涵养, Water conservation).
fn find_indicator(name: &str) -> Option<&'static Service> {
    let key = name.trim().to_lowercase();
    SERVICES
        .iter()
        .find(|i| i.key == key || i.label_zh == name.trim() || i.label_en.to_lowercase() == key)
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

/// The explanation of `indicator` for `county` (code or name) as text.
///
/// # Errors
/// [`Error::Invalid`] when the county or indicator is unknown.
pub fn explain(
    accounts: &Accounts,
    coef: &Coefficients,
    county: &str,
    indicator: &str,
) -> Result<String> {
    let mut issues = Issues::new();
    let region = coef
        .regions
        .iter()
        .find(|r| r.code == county.trim() || r.name == county.trim());
    let ind = find_indicator(indicator);
    if region.is_none() {
        issues.error(
            "--county",
            format!(
                "no county \"{county}\" in {}/regions.csv",
                coef.manifest.name
            ),
        );
    }
    if ind.is_none() {
        let known: Vec<String> = SERVICES
            .iter()
            .map(|i| format!("{} ({})", i.key, i.label_zh))
            .collect();
        issues.error(
            "--indicator",
            format!(
                "unknown indicator \"{indicator}\"; known: {}",
                known.join(", ")
            ),
        );
    }
    issues.into_result()?;
    let (Some(region), Some(ind)) = (region, ind) else {
        return Err(Error::Internal(
            "explain without county or indicator".into(),
        ));
    };
    let header = format!(
        "{} {} ({}) — {} {} [{}], {}",
        region.code,
        region.name,
        region.prefecture,
        ind.label_zh,
        ind.key,
        ind.category.label_zh(),
        accounts.year
    );
    // An indicator the run did not value is said to be not valued, with the reason — never 0.
    if let Some(k) = accounts.indicators.iter().position(|i| i.key == ind.key)
        && !accounts.valued(k)
    {
        return Ok(format!(
            "{header}\nNOT VALUED (未核算) in this run: {}\n{}\nIt is left out of GEP and shown blank in the book, not as 0.\nformula and sources: {}\n",
            accounts.coverage[k].reason_en, accounts.coverage[k].reason_zh, ind.doc
        ));
    }
    let lines: Vec<&crate::account::Line> = accounts
        .lines
        .iter()
        .filter(|l| l.county_code == region.code && l.indicator == ind.key)
        .collect();
    let mut out = String::new();
    let total: f64 = lines.iter().map(|l| l.value_cny).sum();
    let quantity: f64 = lines.iter().filter_map(|l| l.quantity).sum();
    let _ = writeln!(out, "{header}");
    let _ = writeln!(
        out,
        "value: {} 元 ({} 万元) = Σ of {} line(s)",
        thousands(total),
        thousands(total / 1e4),
        lines.len()
    );
    if let Some(unit) = ind.quantity_unit {
        let _ = writeln!(out, "quantity: {} {unit}", thousands(quantity));
    }
    let _ = writeln!(out, "formula and sources: {}", ind.doc);
    for (n, l) in lines.iter().enumerate() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{:>3}. {} — {}", n + 1, l.component, l.method);
        let _ = writeln!(
            out,
            "     input: {} = {} {}",
            l.source_ref,
            thousands(l.input_amount),
            l.input_unit
        );
        if !l.coefficient_ref.is_empty() {
            let value = l
                .coefficient
                .map_or(String::new(), |c| format!(" → {c} {}", l.coefficient_unit));
            let _ = writeln!(out, "     coefficient: {}{value}", l.coefficient_ref);
        }
        if let Some(q) = l.quantity {
            let _ = writeln!(out, "     quantity: {} {}", thousands(q), l.quantity_unit);
        }
        if let (Some(p), Some(price)) = (l.price_cny_per_unit, coef.price(&l.price_key)) {
            let _ = writeln!(
                out,
                "     price: {} [{}] = {} {} ({}, {}, status {}; {}) → {p} 元 per {}",
                if price.scope == "derived" {
                    "derived price"
                } else {
                    "prices.toml"
                },
                l.price_key,
                price.value,
                price.unit,
                price.year,
                price.scope,
                price.status,
                price.source,
                l.quantity_unit
            );
        }
        let _ = writeln!(out, "     value: {} 元", thousands(l.value_cny));
    }
    if lines.is_empty() {
        let _ = writeln!(
            out,
            "\n(no valuation lines: the county reports nothing for this indicator, so its value is 0)"
        );
    }
    Ok(out)
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
        // 63,750 m³ × 7.53 元/m³ = 480,037.50 元.
        assert!(text.contains("value: 480,037.50 元"), "{text}");
        let err = explain(&acc, &coef, "999999", "nothing")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no county \"999999\"") && err.contains("unknown indicator \"nothing\""),
            "{err}"
        );
    }
}
