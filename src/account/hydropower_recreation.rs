//! Provisioning and cultural services from the economy sheet: hydropower (生态能源,
//! V = generation × tariff, methodology §2.1) and recreation (休闲旅游, §2.12) as tourism revenue
//! or as visits × travel cost per visit, per the set's `recreation_basis` switch.

use super::Line;
use super::rated::Lines;
use crate::coefficients::Coefficients;
use crate::error::{Error, Result};
use crate::schema::col;
use crate::validate::Inputs;

/// The economy rows of `item` with a non-zero amount: (county, amount, cell).
fn items(inputs: &Inputs, item: &str) -> Result<Vec<(String, f64, String)>> {
    Ok(super::long_rows(&inputs.economy)?
        .into_iter()
        .filter(|r| r.item == item && r.amount != 0.0)
        .map(|r| (r.county, r.amount, r.source_ref))
        .collect())
}

fn price(coef: &Coefficients, key: &str, needed_by: &str) -> Result<f64> {
    coef.price(key).map(|p| p.value).ok_or_else(|| {
        Error::invalid(
            "prices.toml",
            format!("{needed_by} needs the price [prices.{key}]"),
        )
    })
}

/// Hydropower lines: one per county that reports generation.
///
/// # Errors
/// [`Error::Invalid`] when generation is reported and the set has no `hydropower` price.
pub fn hydropower_lines(inputs: &Inputs, coef: &Coefficients) -> Result<Vec<Line>> {
    let rows = items(inputs, col::HYDROPOWER_KWH)?;
    let mut lines = Lines::default();
    if !rows.is_empty() {
        let p = price(
            coef,
            "hydropower",
            "hydropower generation on the economy sheet",
        )?;
        for (county, kwh, at) in rows {
            lines.push(Line {
                county_code: (county).into(),
                indicator: "hydropower",
                component: "水电".into(),
                source_ref: at.into(),
                input_amount: kwh,
                input_unit: "kWh".into(),
                coefficient_ref: (String::new()).into(),
                coefficient: None,
                coefficient_unit: (String::new()).into(),
                method: "V = generation × tariff".into(),
                quantity_formula: "{input}".into(),
                quantity: Some(kwh),
                quantity_unit: "kWh".into(),
                price_key: "hydropower".into(),
                price_cny_per_unit: Some(p),
                value_cny: kwh * p,
            });
        }
    }
    Ok(lines.into_vec())
}

/// Recreation lines: tourism revenue as reported, or visits × travel cost per visit.
///
/// # Errors
/// [`Error::Invalid`] when the travel-cost basis is chosen and the set has no `travel_cost`.
pub fn recreation_lines(inputs: &Inputs, coef: &Coefficients) -> Result<Vec<Line>> {
    let mut lines = Lines::default();
    let basis = coef.manifest.switches.recreation_basis.as_str();
    let switch = format!("manifest.toml switches.recreation_basis = {basis}");
    if basis == "travel_cost" {
        let rows = items(inputs, col::TOURIST_VISITS)?;
        if !rows.is_empty() {
            let p = price(coef, "travel_cost", "recreation_basis = \"travel_cost\"")?;
            for (county, visits, at) in rows {
                lines.push(Line {
                    county_code: (county).into(),
                    indicator: "recreation",
                    component: "游客人次 × 旅行费用".into(),
                    source_ref: at.into(),
                    input_amount: visits,
                    input_unit: "人次".into(),
                    coefficient_ref: (switch.clone()).into(),
                    coefficient: None,
                    coefficient_unit: (String::new()).into(),
                    method: "travel cost: V = visits × cost per visit".into(),
                    quantity_formula: "{input}".into(),
                    quantity: Some(visits),
                    quantity_unit: "人次".into(),
                    price_key: "travel_cost".into(),
                    price_cny_per_unit: Some(p),
                    value_cny: visits * p,
                });
            }
        }
    } else {
        for (county, revenue, at) in items(inputs, col::TOURISM_REVENUE_CNY)? {
            lines.push(Line {
                county_code: (county).into(),
                indicator: "recreation",
                component: "旅游总收入".into(),
                source_ref: at.into(),
                input_amount: revenue,
                input_unit: "元".into(),
                coefficient_ref: (switch.clone()).into(),
                coefficient: None,
                coefficient_unit: (String::new()).into(),
                method: "revenue: V = reported tourism revenue".into(),
                quantity_formula: (String::new()).into(),
                quantity: Some(0.0),
                quantity_unit: "".into(),
                price_key: (String::new()).into(),
                price_cny_per_unit: None,
                value_cny: revenue,
            });
        }
    }
    Ok(lines.into_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::testing::{inputs, total};
    use polars::prelude::*;

    fn with_economy(rows: &[(&str, &str, f64)]) -> Inputs {
        let mut i = inputs();
        let extra = df!(
            col::CODE => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "item" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            "amount" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            "source_ref" => rows.iter().map(|_| "t [经济社会!K5]").collect::<Vec<_>>(),
        )
        .unwrap();
        i.economy.vstack_mut(&extra).unwrap();
        i
    }

    #[test]
    fn hydropower_is_generation_times_tariff() {
        let mut coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let mut p = coef.price("electricity").unwrap().clone();
        p.value = 0.3;
        coef.prices.insert("hydropower".into(), p);
        // 2 亿kWh read as 2e8 kWh at the boundary.
        let i = with_economy(&[("140105", col::HYDROPOWER_KWH, 2.0e8)]);
        let lines = Line::frame(&hydropower_lines(&i, &coef).unwrap()).unwrap();
        assert_eq!(total(&lines, "140105", "hydropower", "quantity"), 2.0e8);
        assert!((total(&lines, "140105", "hydropower", "value_cny") - 6.0e7).abs() < 1e-6);
    }

    #[test]
    fn recreation_is_revenue_or_visits_times_travel_cost_as_switched() {
        let mut coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let i = with_economy(&[
            ("140105", col::TOURISM_REVENUE_CNY, 5.0e8),
            ("140105", col::TOURIST_VISITS, 1.0e6),
        ]);
        coef.manifest.switches.recreation_basis = "revenue".into();
        let lines = Line::frame(&recreation_lines(&i, &coef).unwrap()).unwrap();
        assert_eq!(total(&lines, "140105", "recreation", "value_cny"), 5.0e8);
        coef.manifest.switches.recreation_basis = "travel_cost".into();
        let mut p = coef.price("electricity").unwrap().clone();
        p.value = 1970.0;
        p.unit = "元/人次".into();
        coef.prices.insert("travel_cost".into(), p);
        let lines = Line::frame(&recreation_lines(&i, &coef).unwrap()).unwrap();
        assert!((total(&lines, "140105", "recreation", "value_cny") - 1.97e9).abs() < 1e-3);
    }
}
