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
    Ok(super::long_rows_of(&inputs.economy, item)?
        .into_iter()
        .filter(|r| r.amount != 0.0)
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
    // The nature-based share of tourism: a coefficient with its source, or all tourism (said).
    let share = coef.parameters.get("recreation_nature_share");
    let (factor, share_ref, share_text) = match share {
        Some(s) => (
            s.value,
            format!(
                "prices.toml [parameters.recreation_nature_share] = {} [{}] ({})",
                s.value, s.status, s.source
            ),
            format!(" × nature-based share {}", s.value),
        ),
        None => (
            1.0,
            format!("manifest.toml switches.recreation_basis = {basis}"),
            " (all tourism: the set gives no nature-based share)".to_string(),
        ),
    };
    let coefficient = share.map(|s| s.value);
    let coefficient_unit = if share.is_some() { "1" } else { "" };
    let switch = share_ref;
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
                    coefficient,
                    coefficient_unit: coefficient_unit.into(),
                    method: format!("travel cost: V = visits × cost per visit{share_text}").into(),
                    quantity_formula: if share.is_some() {
                        "{input}*{coefficient}"
                    } else {
                        "{input}"
                    }
                    .into(),
                    quantity: Some(visits * factor),
                    quantity_unit: "人次".into(),
                    price_key: "travel_cost".into(),
                    price_cny_per_unit: Some(p),
                    value_cny: visits * factor * p,
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
                coefficient,
                coefficient_unit: coefficient_unit.into(),
                method: format!("revenue: V = reported tourism revenue{share_text}").into(),
                quantity_formula: (String::new()).into(),
                quantity: Some(0.0),
                quantity_unit: "".into(),
                price_key: (String::new()).into(),
                price_cny_per_unit: None,
                value_cny: revenue * factor,
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

    /// Issue 12, item 4: only the nature-based part of tourism is an ecosystem service; a set
    /// that gives the share (with its source) values that part, on either basis, and says so.
    #[test]
    fn a_nature_based_share_values_only_that_part_of_tourism() {
        let mut coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let i = with_economy(&[("140105", col::TOURISM_REVENUE_CNY, 5.0e8)]);
        coef.manifest.switches.recreation_basis = "revenue".into();
        let lines = recreation_lines(&i, &coef).unwrap();
        assert!(
            lines[0]
                .method
                .contains("all tourism: the set gives no nature-based share")
        );
        let mut share = coef.parameters["co2_per_carbon"].clone();
        share.value = 0.4;
        share.unit = "1".into();
        share.source = "test survey".into();
        coef.parameters
            .insert("recreation_nature_share".into(), share);
        let lines = recreation_lines(&i, &coef).unwrap();
        assert!((lines[0].value_cny - 2.0e8).abs() < 1e-6);
        assert_eq!(lines[0].coefficient, Some(0.4));
        assert!(lines[0].method.contains("× nature-based share 0.4"));
        assert!(lines[0].coefficient_ref.contains("(test survey)"));
    }
}
