//! Regulating: water conservation (水源涵养), valued at the reservoir storage cost (shadow
//! project), V = Q × P_reservoir (methodology §2.2). Q by water balance,
//! Q = Σ_class (P − R − ET) × A with R = P × α_class, when the 气象 sheet gives P and ET; else by
//! per-hectare rates, Q = Σ_class A × q_class. A 实物量 row replaces either for its county.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::Line;
use super::overrides::Overrides;
use super::rated::Lines;
use super::{LandCover, Texts};
use crate::coefficients::Coefficients;
use crate::error::{Error, Result};
use crate::schema::col;
use crate::validate::Inputs;

/// One line per county and land class (or one override line per county).
///
/// # Errors
/// [`crate::Error::Invalid`] when a land class has no rate or runoff coefficient, or the
/// reservoir price is missing.
pub(crate) fn lines(
    inputs: &Inputs,
    coef: &Coefficients,
    overrides: &Overrides,
    land: &LandCover,
    texts: &mut Texts,
) -> Result<Vec<Line>> {
    let given = overrides.for_key("water_conservation");
    let price = super::required_price(coef, "reservoir_storage")?;
    let mut extra = Lines::default();
    for (county, o) in given
        .iter()
        .flat_map(|(c, parts)| parts.iter().map(move |o| (c, o)))
    {
        extra.push_override(
            "water_conservation",
            "m³",
            "实物量".into(),
            county,
            o,
            Some(price),
            "reservoir_storage",
            "V = Q × P_reservoir",
        );
    }
    if let Some(climate) = &inputs.climate {
        water_balance(coef, land, climate, price, &given, &mut extra, texts)?;
        Ok(extra.into_vec())
    } else {
        let hectares = texts.get("公顷");
        let rate_unit = texts.get("m³/ha/yr");
        let method = texts.get("Q = A × q_class; V = Q × P_reservoir");
        let formula = texts.get("{input}*{coefficient}");
        let cubic_metres = texts.get("m³");
        let price_key = texts.get("reservoir_storage");
        let mut out = Vec::new();
        for row in land.class_rates(coef, "water_conservation", texts)? {
            if given.contains_key(&**row.county) {
                continue;
            }
            let quantity = row.area_ha * row.rate;
            out.push(Line {
                county_code: row.county.clone(),
                indicator: "water_conservation",
                component: row.class.clone(),
                source_ref: row.source_ref.clone(),
                input_amount: row.area_ha,
                input_unit: hectares.clone(),
                coefficient_ref: row.rate_ref,
                coefficient: Some(row.rate),
                coefficient_unit: rate_unit.clone(),
                method: method.clone(),
                quantity_formula: formula.clone(),
                quantity: Some(quantity),
                quantity_unit: cubic_metres.clone(),
                price_key: price_key.clone(),
                price_cny_per_unit: Some(price),
                value_cny: quantity * price,
            });
        }
        out.extend(extra.into_vec());
        Ok(out)
    }
}

/// A value read from the 气象 sheet and its cell.
type Reading = (f64, String);

/// Water-balance lines: per class (P − P·α − ET) × 10 m³/ha per mm × A; a class whose balance is
/// negative conserves nothing (0, said on the line).
fn water_balance(
    coef: &Coefficients,
    land: &LandCover,
    climate: &DataFrame,
    price: f64,
    given: &BTreeMap<String, Vec<super::overrides::Override>>,
    out: &mut Lines,
    texts: &mut Texts,
) -> Result<()> {
    if !coef
        .rates
        .iter()
        .any(|r| r.indicator == "runoff_coefficient")
    {
        return Err(Error::invalid(
            "service_rates.csv",
            "the 气象 sheet asks for water-balance water conservation, which needs a runoff_coefficient for every valuation class",
        ));
    }
    let mut weather: BTreeMap<String, (Option<Reading>, Option<Reading>)> = BTreeMap::new();
    for r in super::long_rows(climate)? {
        let entry = weather.entry(r.county).or_default();
        let v = Some((r.amount, r.source_ref));
        match r.item.as_str() {
            col::PRECIPITATION_MM => entry.0 = v,
            col::EVAPOTRANSPIRATION_MM => entry.1 = v,
            _ => {}
        }
    }
    for row in land.class_rates(coef, "runoff_coefficient", texts)? {
        let county: &str = row.county;
        if given.contains_key(county) {
            continue;
        }
        let Some((Some((p, p_at)), Some((et, et_at)))) = weather.get(county) else {
            continue; // coverage of the 气象 sheet is checked on reading
        };
        let alpha = row.rate;
        let depth_mm = p - p * alpha - et;
        let area = row.area_ha;
        let quantity = depth_mm.max(0.0) * 10.0 * area;
        out.push(Line {
            county_code: row.county.clone(),
            indicator: "water_conservation",
            component: row.class.clone(),
            source_ref: format!("{}; P {p_at}; ET {et_at}", row.source_ref).into(),
            input_amount: area,
            input_unit: "公顷".into(),
            coefficient_ref: row.rate_ref.clone(),
            coefficient: Some(alpha),
            coefficient_unit: "runoff coefficient α".into(),
            method: (format!(
                "water balance: Q = (P − P·α − ET) × 10 × A = ({p} − {p}×{alpha} − {et}) mm × 10 m³/ha/mm × A{}; V = Q × P_reservoir",
                if depth_mm < 0.0 { " (negative balance: 0)" } else { "" }
            )).into(),
            quantity_formula: (if depth_mm < 0.0 {
                "0*{input}".into()
            } else {
                format!("({p}-{p}*{{coefficient}}-{et})*10*{{input}}")
            }).into(),
            quantity: Some(quantity),
            quantity_unit: "m³".into(),
            price_key: "reservoir_storage".into(),
            price_cny_per_unit: Some(price),
            value_cny: quantity * price,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::testing::{inputs, total};

    /// The family's lines with the land rows read for it (as `compute` shares them).
    fn lines(
        inputs: &Inputs,
        coef: &Coefficients,
        overrides: &Overrides,
        texts: &mut Texts,
    ) -> Result<Vec<Line>> {
        let land = LandCover::new(inputs, coef, texts)?;
        super::lines(inputs, coef, overrides, &land, texts)
    }

    /// The water-conservation lines of `inputs` under `coef`, as a frame.
    fn frame_of(inputs: &Inputs, coef: &Coefficients) -> DataFrame {
        let lines = lines(inputs, coef, &Overrides::default(), &mut Texts::default());
        Line::frame(&lines.unwrap()).unwrap()
    }

    #[test]
    fn water_conservation_is_area_times_rate_times_reservoir_cost() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let rate = |class: &str| {
            coef.rates
                .iter()
                .find(|r| r.valuation_class == class && r.indicator == "water_conservation")
                .unwrap()
                .rate_base
        };
        let price = coef.price("reservoir_storage").unwrap().value;
        let lines = frame_of(&inputs(), &coef);
        // 140105: 100 ha 乔木林地 (forest) + 50 ha 天然牧草地 (grassland).
        let q = 100.0 * rate("forest") + 50.0 * rate("grassland");
        assert!((total(&lines, "140105", "water_conservation", "quantity") - q).abs() < 1e-9);
        assert!(
            (total(&lines, "140105", "water_conservation", "value_cny") - q * price).abs() < 1e-6
        );
        // Hand check with the Shanxi set: 63.75 mm = 637.5 m³/ha; 100 ha → 63,750 m³ (+ grassland 0).
        assert!((rate("forest") - 637.5).abs() < 1e-9);
        let q107 = 10.0 * rate("shrub");
        assert!((total(&lines, "140107", "water_conservation", "quantity") - q107).abs() < 1e-9);
        assert!((q107 - 4486.0).abs() < 1e-9);
    }

    #[test]
    fn a_class_without_rate_is_an_error_naming_the_class_and_cell() {
        let mut coef = crate::account::registry::load_coefficients(None, false).unwrap();
        coef.rates
            .retain(|r| !(r.valuation_class == "farmland" && r.indicator == "water_conservation"));
        let err = lines(
            &inputs(),
            &coef,
            &Overrides::default(),
            &mut Texts::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(
                "t [土地利用!E6]: no water_conservation rate for valuation class \"farmland\""
            ),
            "{err}"
        );
    }

    fn with_climate() -> Inputs {
        let mut i = inputs();
        i.climate = Some(
            df!(
                col::CODE => ["140105", "140105", "140106", "140106", "140107", "140107"],
                "item" => ["precipitation_mm", "evapotranspiration_mm", "precipitation_mm", "evapotranspiration_mm", "precipitation_mm", "evapotranspiration_mm"],
                "amount" => [500.0, 350.0, 400.0, 420.0, 450.0, 300.0],
                "source_ref" => ["t [气象!C5]", "t [气象!D5]", "t [气象!C6]", "t [气象!D6]", "t [气象!C7]", "t [气象!D7]"],
            )
            .unwrap(),
        );
        i
    }

    fn with_runoff(mut coef: Coefficients) -> Coefficients {
        for (class, alpha) in [
            ("forest", 0.05),
            ("shrub", 0.08),
            ("orchard", 0.1),
            ("grassland", 0.1),
            ("farmland", 0.2),
            ("wetland", 0.0),
            ("water", 0.0),
            ("built_up", 0.8),
            ("bare", 0.3),
        ] {
            coef.rates.push(crate::coefficients::Rate {
                valuation_class: class.into(),
                indicator: "runoff_coefficient".into(),
                rate: alpha,
                unit: "1".into(),
                year: String::new(),
                scope: "test".into(),
                source: "test".into(),
                status: "U".into(),
                low: None,
                high: None,
                rate_base: alpha,
            });
        }
        coef
    }

    #[test]
    fn water_balance_is_precipitation_minus_runoff_minus_et_times_area() {
        let coef = with_runoff(crate::account::registry::load_coefficients(None, false).unwrap());
        let price = coef.price("reservoir_storage").unwrap().value;
        let lines = frame_of(&with_climate(), &coef);
        // 140105: forest (500 − 25 − 350) mm × 10 × 100 ha + grassland (500 − 50 − 350) × 10 × 50.
        let q = 125.0 * 10.0 * 100.0 + 100.0 * 10.0 * 50.0;
        assert!((total(&lines, "140105", "water_conservation", "quantity") - q).abs() < 1e-9);
        assert!(
            (total(&lines, "140105", "water_conservation", "value_cny") - q * price).abs() < 1e-6
        );
        // 140106: ET exceeds precipitation: nothing conserved (never negative).
        assert_eq!(
            total(&lines, "140106", "water_conservation", "quantity"),
            0.0
        );
        // 140107: shrub (450 − 36 − 300) × 10 × 10 ha.
        assert!(
            (total(&lines, "140107", "water_conservation", "quantity") - 11_400.0).abs() < 1e-9
        );
    }

    #[test]
    fn water_balance_without_runoff_coefficients_is_an_error() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let err = lines(
            &with_climate(),
            &coef,
            &Overrides::default(),
            &mut Texts::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("service_rates.csv: the 气象 sheet asks for water-balance"),
            "{err}"
        );
    }

    #[test]
    fn an_override_replaces_the_county_estimate() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let mut o = Overrides::default();
        o.insert(
            "water_conservation",
            "140105",
            crate::account::overrides::Override {
                component: None,
                quantity: 1.0e6,
                source: "InVEST".into(),
                source_ref: "t [实物量!D3]".into(),
            },
        );
        let lines =
            Line::frame(&lines(&inputs(), &coef, &o, &mut Texts::default()).unwrap()).unwrap();
        assert_eq!(
            total(&lines, "140105", "water_conservation", "quantity"),
            1.0e6
        );
        assert!((total(&lines, "140107", "water_conservation", "quantity") - 4486.0).abs() < 1e-9);
    }
}
