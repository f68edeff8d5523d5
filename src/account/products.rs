//! Provisioning: agricultural, forestry, animal-husbandry and fishery products, valued at the
//! output value reported on the economy sheet (gross output, value added or net output, per the
//! set's `provisioning_basis` switch). Market-value method; no physical quantity.

use polars::prelude::*;

use super::line_select;
use crate::coefficients::Coefficients;
use crate::error::Result;
use crate::validate::Inputs;

use crate::schema::{PRODUCT_INDICATORS as INDICATORS, product_basis as basis};

/// Lines of the four product indicators: value = reported output value (元).
///
/// # Errors
/// Only polars failures (inputs are validated).
pub fn lines(inputs: &Inputs, coef: &Coefficients) -> Result<DataFrame> {
    let basis = basis(&coef.manifest.switches.provisioning_basis);
    let basis_label = basis.label;
    let mut mapping = lit(NULL).cast(DataType::String);
    let items = basis.columns;
    for (item, indicator) in items.iter().zip(INDICATORS) {
        mapping = when(col("item").eq(lit(*item)))
            .then(lit(indicator))
            .otherwise(mapping);
    }
    let filter = items
        .iter()
        .map(|i| col("item").eq(lit(*i)))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    let lf = inputs.economy.clone().lazy().filter(filter).with_columns([
        mapping.alias("indicator"),
        col("item").alias("component"),
        col("amount").alias("input_amount"),
        lit("元").alias("input_unit"),
        lit(format!(
            "manifest.toml switches.provisioning_basis = {}",
            coef.manifest.switches.provisioning_basis
        ))
        .alias("coefficient_ref"),
        lit(NULL).cast(DataType::Float64).alias("coefficient"),
        lit("").alias("coefficient_unit"),
        lit(format!("market value: V = reported {basis_label}")).alias("method"),
        lit("").alias("quantity_formula"),
        lit(NULL).cast(DataType::Float64).alias("quantity"),
        lit("").alias("quantity_unit"),
        lit("").alias("price_key"),
        lit(NULL)
            .cast(DataType::Float64)
            .alias("price_cny_per_unit"),
        col("amount").alias("value_cny"),
    ]);
    Ok(line_select(lf).collect()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::testing::{inputs, total};
    use crate::schema::col;

    #[test]
    fn products_take_the_reported_output_value() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let lines = lines(&inputs(), &coef).unwrap();
        assert_eq!(
            total(&lines, "140105", "agriculture_products", "value_cny"),
            3.0e8
        );
        assert_eq!(
            total(&lines, "140105", "fishery_products", "value_cny"),
            1.0e6
        );
        assert_eq!(
            total(&lines, "140106", "forestry_products", "value_cny"),
            2.0e6
        );
        // GDP is not a product.
        assert_eq!(lines.height(), 3);
    }

    #[test]
    fn value_added_basis_reads_the_value_added_columns() {
        let mut coef = crate::account::registry::load_coefficients(None, false).unwrap();
        coef.manifest.switches.provisioning_basis = "value_added".into();
        let mut inp = inputs();
        inp.economy = df!(
            col::CODE => ["140105", "140105"],
            "item" => ["agriculture_output_cny", "agriculture_value_added_cny"],
            "amount" => [3.0e8, 1.8e8],
            "source_ref" => ["a", "b"],
        )
        .unwrap();
        let lines = lines(&inp, &coef).unwrap();
        assert_eq!(
            total(&lines, "140105", "agriculture_products", "value_cny"),
            1.8e8
        );
        assert_eq!(lines.height(), 1);
    }

    #[test]
    fn net_output_basis_reads_the_net_output_columns() {
        let mut coef = crate::account::registry::load_coefficients(None, false).unwrap();
        coef.manifest.switches.provisioning_basis = "net_output".into();
        let mut inp = inputs();
        inp.economy = df!(
            col::CODE => ["140105", "140105", "140105"],
            "item" => [col::AGRICULTURE_OUTPUT_CNY, col::AGRICULTURE_VA_CNY, col::AGRICULTURE_NET_CNY],
            "amount" => [3.0e8, 1.8e8, 1.5e8],
            "source_ref" => ["a", "b", "c"],
        )
        .unwrap();
        let lines = lines(&inp, &coef).unwrap();
        assert_eq!(
            total(&lines, "140105", "agriculture_products", "value_cny"),
            1.5e8
        );
        assert_eq!(lines.height(), 1);
    }
}
