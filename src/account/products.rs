//! Provisioning: agricultural, forestry, animal-husbandry and fishery products, valued at the
//! output value reported on the economy sheet (gross output or value added, per the set's
//! `provisioning_basis` switch). Market-value method; no physical quantity.

use polars::prelude::*;

use super::line_select;
use crate::coefficients::Coefficients;
use crate::error::Result;
use crate::schema::col;
use crate::validate::Inputs;

/// Economy column → indicator, per basis.
const ITEMS: &[(&str, &str, &str)] = &[
    (
        col::AGRICULTURE_OUTPUT_CNY,
        col::AGRICULTURE_VA_CNY,
        "agriculture_products",
    ),
    (
        col::FORESTRY_OUTPUT_CNY,
        col::FORESTRY_VA_CNY,
        "forestry_products",
    ),
    (
        col::HUSBANDRY_OUTPUT_CNY,
        col::HUSBANDRY_VA_CNY,
        "husbandry_products",
    ),
    (
        col::FISHERY_OUTPUT_CNY,
        col::FISHERY_VA_CNY,
        "fishery_products",
    ),
];

/// Lines of the four product indicators: value = reported output value (元).
///
/// # Errors
/// Only polars failures (inputs are validated).
pub fn lines(inputs: &Inputs, coef: &Coefficients) -> Result<DataFrame> {
    let value_added = coef.manifest.switches.provisioning_basis == "value_added";
    let basis_label = if value_added {
        "增加值 value added"
    } else {
        "总产值 gross output"
    };
    let mut mapping = lit(NULL).cast(DataType::String);
    let mut items = Vec::new();
    for (gross, va, indicator) in ITEMS.iter().rev() {
        let item = if value_added { *va } else { *gross };
        items.push(item);
        mapping = when(col("item").eq(lit(item)))
            .then(lit(*indicator))
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
}
