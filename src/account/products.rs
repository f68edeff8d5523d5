//! Provisioning: agricultural, forestry, animal-husbandry and fishery products, valued at the
//! output value reported on the economy sheet (gross output, value added or net output, per the
//! set's `provisioning_basis` switch). Market-value method; no physical quantity.

use super::{Line, Text, Texts, long_row_refs, present};
use crate::coefficients::Coefficients;
use crate::error::Result;
use crate::validate::Inputs;

use crate::schema::{PRODUCT_INDICATORS as INDICATORS, product_basis as basis};

/// Lines of the four product indicators: value = reported output value (元), one per 经济社会 row
/// of the basis' columns, in the frame's order. Read row by row: a polars query's fixed cost was
/// most of this family's time on a province.
///
/// # Errors
/// Only an amount missing after validation (internal).
pub fn lines(inputs: &Inputs, coef: &Coefficients, texts: &mut Texts) -> Result<Vec<Line>> {
    let basis = basis(&coef.manifest.switches.provisioning_basis);
    let coefficient_ref = texts.get(&format!(
        "manifest.toml switches.provisioning_basis = {}",
        coef.manifest.switches.provisioning_basis
    ));
    let method = texts.get(&format!("market value: V = reported {}", basis.label));
    let (yuan, empty) = (texts.get("元"), Text::new());
    // Each basis column with its indicator and its text (the component).
    let items: Vec<(&str, &'static str, Text)> = basis
        .columns
        .iter()
        .zip(INDICATORS)
        .map(|(item, indicator)| (*item, indicator, texts.get(item)))
        .collect();
    let mut out = Vec::new();
    let mut county: Option<(&str, Text)> = None;
    for row in long_row_refs(&inputs.economy)? {
        let Some((_, indicator, component)) = items.iter().find(|(i, _, _)| *i == row.item) else {
            continue;
        };
        let amount = present(row.amount, "an amount", Some(row.source_ref))?;
        let county_code = match &county {
            Some((c, t)) if *c == row.county => t.clone(),
            _ => {
                let t = texts.get(row.county);
                county = Some((row.county, t.clone()));
                t
            }
        };
        out.push(Line {
            county_code,
            indicator,
            component: component.clone(),
            source_ref: row.source_ref.into(),
            input_amount: amount,
            input_unit: yuan.clone(),
            coefficient_ref: coefficient_ref.clone(),
            coefficient: None,
            coefficient_unit: empty.clone(),
            method: method.clone(),
            quantity_formula: empty.clone(),
            quantity: None,
            quantity_unit: empty.clone(),
            price_key: empty.clone(),
            price_cny_per_unit: None,
            value_cny: amount,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::testing::{inputs, total};
    use crate::schema::col;
    use polars::prelude::*;

    /// The family's lines as a frame (as the other families' tests read them).
    fn lines(inputs: &Inputs, coef: &Coefficients) -> DataFrame {
        Line::frame(&super::lines(inputs, coef, &mut Texts::default()).unwrap()).unwrap()
    }

    #[test]
    fn products_take_the_reported_output_value() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let lines = lines(&inputs(), &coef);
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
        let lines = lines(&inp, &coef);
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
        let lines = lines(&inp, &coef);
        assert_eq!(
            total(&lines, "140105", "agriculture_products", "value_cny"),
            1.5e8
        );
        assert_eq!(lines.height(), 1);
    }
}
