//! Provisioning: water supply (水资源供给), V = Σ_sector Q_sector × P_sector
//! (methodology §2.1/§6), Q from the water-supply sheet's use columns, P from prices.toml `water_<sector>`.

use super::{Line, Text, Texts, present, prices_by_key};
use crate::coefficients::Coefficients;
use crate::error::{Issues, Result};
use crate::schema::col;
use crate::validate::Inputs;

/// One line per county and use sector, in the 供水 frame's order: Q = the sector's volume, P =
/// the set's `water_<sector>` price. Read row by row (a polars query's fixed cost was most of this
/// family's time on a province).
///
/// # Errors
/// [`crate::Error::Invalid`] naming every cell whose sector has no price (all in one pass).
pub fn lines(inputs: &Inputs, coef: &Coefficients, texts: &mut Texts) -> Result<Vec<Line>> {
    let prices = prices_by_key(coef)?;
    let (cubic_metres, empty) = (texts.get("m³"), Text::new());
    let method = texts.get("V = Q_sector × P_sector");
    let formula = texts.get("{input}");
    let df = &inputs.water_use;
    let codes = df.column(col::CODE)?.str()?;
    let sectors = df.column("sector")?.str()?;
    let volumes = df.column("volume_m3")?.f64()?;
    let refs = df.column("source_ref")?.str()?;
    let mut out = Vec::with_capacity(df.height());
    let mut missing = Issues::new();
    for (((code, sector), volume), at) in codes
        .iter()
        .zip(sectors.iter())
        .zip(volumes.iter())
        .zip(refs.iter())
    {
        let sector = sector.unwrap_or_default();
        let price_key = format!("water_{sector}");
        let Some(&price) = prices.get(price_key.as_str()) else {
            missing.error(
                at.unwrap_or_default(),
                format!(
                    "no price \"{price_key}\" in {}/prices.toml",
                    coef.manifest.name
                ),
            );
            continue;
        };
        let volume = present(volume, "a volume", at)?;
        out.push(Line {
            county_code: texts.get(code.unwrap_or_default()),
            indicator: "water_supply",
            component: texts.get(sector),
            source_ref: at.unwrap_or_default().into(),
            input_amount: volume,
            input_unit: cubic_metres.clone(),
            coefficient_ref: empty.clone(),
            coefficient: None,
            coefficient_unit: empty.clone(),
            method: method.clone(),
            quantity_formula: formula.clone(),
            quantity: Some(volume),
            quantity_unit: cubic_metres.clone(),
            price_key: texts.get(&price_key),
            price_cny_per_unit: Some(price),
            value_cny: volume * price,
        });
    }
    missing.into_result()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::testing::{inputs, total};
    use polars::prelude::*;

    /// The family's lines as a frame (as the other families' tests read them).
    fn lines(inputs: &Inputs, coef: &Coefficients) -> Result<DataFrame> {
        let lines = super::lines(inputs, coef, &mut Texts::default())?;
        Line::frame(&lines)
    }

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
