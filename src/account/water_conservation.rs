//! Regulating: water conservation (水源涵养) by per-hectare rates, Q = Σ_class A × q_class,
//! valued at the reservoir storage cost (shadow project), V = Q × P_reservoir (methodology §2.2).
//! The water-balance form Q = Σ (P − R − ET)·A comes with the climate sheet.

use polars::prelude::*;

use super::{apply_prices, land_with_rates};
use crate::coefficients::Coefficients;
use crate::error::Result;
use crate::validate::Inputs;

/// One line per county and land class.
///
/// # Errors
/// [`crate::Error::Invalid`] when a land class has no rate or the reservoir price is missing.
pub fn lines(inputs: &Inputs, coef: &Coefficients) -> Result<DataFrame> {
    let lf = land_with_rates(inputs, coef, "water_conservation")?
        .lazy()
        .with_columns([
            lit("water_conservation").alias("indicator"),
            col("land_class").alias("component"),
            col("area_ha").alias("input_amount"),
            lit("公顷").alias("input_unit"),
            col("rate_ref").alias("coefficient_ref"),
            col("rate").alias("coefficient"),
            lit("m³/ha/yr").alias("coefficient_unit"),
            lit("Q = A × q_class; V = Q × P_reservoir").alias("method"),
            lit("{input}*{coefficient}").alias("quantity_formula"),
            (col("area_ha") * col("rate")).alias("quantity"),
            lit("m³").alias("quantity_unit"),
            lit("reservoir_storage").alias("price_key"),
        ]);
    apply_prices(lf, coef)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::testing::{inputs, total};

    #[test]
    fn water_conservation_is_area_times_rate_times_reservoir_cost() {
        let coef = Coefficients::load(None, false).unwrap();
        let rate = |class: &str| {
            coef.rates
                .iter()
                .find(|r| r.valuation_class == class && r.indicator == "water_conservation")
                .unwrap()
                .rate_base
        };
        let price = coef.price("reservoir_storage").unwrap().value;
        let lines = lines(&inputs(), &coef).unwrap();
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
        let mut coef = Coefficients::load(None, false).unwrap();
        coef.rates
            .retain(|r| !(r.valuation_class == "farmland" && r.indicator == "water_conservation"));
        let err = lines(&inputs(), &coef).unwrap_err().to_string();
        assert!(
            err.contains(
                "t [土地利用!E6]: no water_conservation rate for valuation class \"farmland\""
            ),
            "{err}"
        );
    }
}
