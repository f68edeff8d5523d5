//! Provisioning: water supply (水资源供给), V = Σ_sector Q_sector × P_sector
//! (methodology §2.1/§6), Q from the water-supply sheet's use columns, P from prices.toml `water_<sector>`.

use polars::prelude::*;

use super::apply_prices;
use crate::coefficients::Coefficients;
use crate::error::Result;
use crate::validate::Inputs;

/// One line per county and use sector.
///
/// # Errors
/// [`crate::Error::Invalid`] when a sector has no price.
pub fn lines(inputs: &Inputs, coef: &Coefficients) -> Result<DataFrame> {
    let lf = inputs.water_use.clone().lazy().with_columns([
        lit("water_supply").alias("indicator"),
        col("sector").alias("component"),
        col("volume_m3").alias("input_amount"),
        lit("m³").alias("input_unit"),
        lit("").alias("coefficient_ref"),
        lit(NULL).cast(DataType::Float64).alias("coefficient"),
        lit("").alias("coefficient_unit"),
        lit("V = Q_sector × P_sector").alias("method"),
        lit("{input}").alias("quantity_formula"),
        col("volume_m3").alias("quantity"),
        lit("m³").alias("quantity_unit"),
        concat_str([lit("water_"), col("sector")], "", false).alias("price_key"),
    ]);
    apply_prices(lf, coef)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::testing::{inputs, total};

    #[test]
    fn water_supply_is_volume_times_sector_price() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let p = |k: &str| coef.price(k).unwrap().value;
        let lines = lines(&inputs(), &coef).unwrap();
        let expected = 1_000_000.0 * p("water_agriculture") + 200_000.0 * p("water_household");
        assert!((total(&lines, "140105", "water_supply", "value_cny") - expected).abs() < 1e-6);
        assert_eq!(
            total(&lines, "140105", "water_supply", "quantity"),
            1_200_000.0
        );
        assert!(
            (total(&lines, "140106", "water_supply", "value_cny") - 50_000.0 * p("water_industry"))
                .abs()
                < 1e-6
        );
    }

    #[test]
    fn a_sector_without_price_is_an_error_naming_key_and_cell() {
        let mut coef = crate::account::registry::load_coefficients(None, false).unwrap();
        coef.prices.remove("water_household");
        let err = lines(&inputs(), &coef).unwrap_err().to_string();
        assert!(
            err.contains("t [供水!H5]: no price \"water_household\""),
            "{err}"
        );
    }
}
