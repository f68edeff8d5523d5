//! Stage 4e, GEEP (经济生态生产总值, CAEP): GDP − environmental degradation − ecological damage
//! [− resource depletion] + regulating-service value, each term per county with its inputs
//! (methodology §5). Needs the 环境 sheet; ecological damage needs the previous year's land cover.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::{Accounts, Category, Level};
use crate::coefficients::Coefficients;
use crate::error::{Issues, Result};
use crate::schema::col;
use crate::validate::Inputs;

pub use crate::coefficients::geep::{Settings, UnitCost};

/// The GEEP terms of one county (yuan).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Terms {
    /// GDP.
    pub gdp: f64,
    /// Environmental degradation cost.
    pub degradation: f64,
    /// Ecological damage cost (`None` when the previous land cover is unknown).
    pub damage: Option<f64>,
    /// Ecological damage from mining subsidence: newly subsided area × cost per ha.
    pub subsidence: f64,
    /// Resource depletion cost as reported (deducted only when the switch says so).
    pub depletion: f64,
    /// Regulating-service value.
    pub regulating: f64,
}

impl Terms {
    /// GEEP = GDP − degradation − damage − [depletion] + regulating.
    pub fn geep(&self, deduct_depletion: bool) -> f64 {
        self.gdp
            - self.degradation
            - self.damage.unwrap_or(0.0)
            - self.subsidence
            - if deduct_depletion {
                self.depletion
            } else {
                0.0
            }
            + self.regulating
    }
}

/// GEEP terms per county, or `None` when the workbook has no 环境 sheet.
///
/// # Errors
/// [`crate::Error::Invalid`] when an emission has no unit cost; polars failures.
pub fn compute(
    accounts: &Accounts,
    inputs: &Inputs,
    previous_land: Option<&DataFrame>,
    coef: &Coefficients,
) -> Result<Option<BTreeMap<String, Terms>>> {
    let (Some(environment), Some(settings)) = (&inputs.environment, &coef.geep) else {
        return Ok(None);
    };
    let costs = DataFrame::new_infer_height(vec![
        Column::new(
            "item".into(),
            settings.unit_costs.keys().cloned().collect::<Vec<_>>(),
        ),
        Column::new(
            "unit_cost".into(),
            settings
                .unit_costs
                .values()
                .map(|c| c.value)
                .collect::<Vec<_>>(),
        ),
    ])?;
    let emissions = environment
        .clone()
        .lazy()
        .filter(
            col("item")
                .neq(lit(crate::schema::col::RESOURCE_DEPLETION_CNY))
                .and(col("item").neq(lit(crate::schema::col::SUBSIDENCE_AREA_HA))),
        )
        .left_join(costs.lazy(), col("item"), col("item"))
        .collect()?;
    if emissions.column("unit_cost")?.null_count() > 0 {
        let mut issues = Issues::new();
        let items = emissions.column("item")?.str()?.clone();
        let costs = emissions.column("unit_cost")?.f64()?.clone();
        for (i, c) in items.iter().zip(costs.iter()) {
            if c.is_none() {
                issues.error(
                    "geep.toml",
                    format!("no [unit_costs.{}]", i.unwrap_or_default()),
                );
            }
        }
        issues.into_result()?;
    }
    let degradation = sum_by_county(
        emissions
            .lazy()
            .with_column((col("amount") * col("unit_cost")).alias("value")),
    )?;
    let depletion = sum_by_county(
        environment
            .clone()
            .lazy()
            .filter(col("item").eq(lit(crate::schema::col::RESOURCE_DEPLETION_CNY)))
            .with_column(col("amount").alias("value")),
    )?;
    let subsided = sum_by_county(
        environment
            .clone()
            .lazy()
            .filter(col("item").eq(lit(crate::schema::col::SUBSIDENCE_AREA_HA)))
            .with_column(col("amount").alias("value")),
    )?;
    let subsidence_cost = match (
        &settings.subsidence_cost,
        subsided.values().any(|a| *a > 0.0),
    ) {
        (Some(c), _) => c.value,
        (None, false) => 0.0,
        (None, true) => {
            return Err(crate::Error::invalid(
                "geep.toml",
                "the 环境 sheet gives 采煤沉陷面积 but geep.toml has no [subsidence_cost] (元/ha, with its source): ecological damage from subsidence cannot be valued",
            ));
        }
    };
    let damage = match previous_land {
        Some(prev) => Some(damage_by_county(&inputs.land, prev, coef, settings)?),
        None => None,
    };
    let regulating = Category::ALL
        .iter()
        .position(|c| *c == Category::Regulating)
        .unwrap_or(1);
    Ok(Some(
        accounts
            .level(Level::County)
            .map(|row| {
                let terms = Terms {
                    gdp: row.gdp_cny,
                    degradation: degradation.get(&row.code).copied().unwrap_or(0.0),
                    damage: damage
                        .as_ref()
                        .map(|d| d.get(&row.code).copied().unwrap_or(0.0)),
                    subsidence: subsided.get(&row.code).copied().unwrap_or(0.0) * subsidence_cost,
                    depletion: depletion.get(&row.code).copied().unwrap_or(0.0),
                    regulating: row.category_cny[regulating],
                };
                (row.code.clone(), terms)
            })
            .collect(),
    ))
}

fn sum_by_county(lf: LazyFrame) -> Result<BTreeMap<String, f64>> {
    let df = lf
        .group_by([col(col::CODE)])
        .agg([col("value").sum()])
        .collect()?;
    let codes = df.column(col::CODE)?.str()?.clone();
    let values = df.column("value")?.f64()?.clone();
    Ok(codes
        .iter()
        .zip(values.iter())
        .map(|(c, v)| (c.unwrap_or_default().to_string(), v.unwrap_or(0.0)))
        .collect())
}

/// Σ over land classes of the damage classes: max(0, A_prev − A_now) × the class's ESV per hectare.
fn damage_by_county(
    now: &DataFrame,
    previous: &DataFrame,
    coef: &Coefficients,
    settings: &Settings,
) -> Result<BTreeMap<String, f64>> {
    let per_ha = |class: &str| -> f64 {
        let (Some(lc), Some(esv)) = (coef.land_class(class), &coef.esv) else {
            return 0.0;
        };
        if !settings.damage_classes.contains(&lc.valuation_class) {
            return 0.0;
        }
        crate::esv::value_per_ha_of_mapping(&lc.xie_type, &coef.equivalent_factors, esv)
            .map_or(0.0, |v| v.iter().sum())
    };
    let areas = |df: &DataFrame| -> Result<BTreeMap<(String, String), f64>> {
        let codes = df.column(col::CODE)?.str()?.clone();
        let classes = df.column("land_class")?.str()?.clone();
        let areas = df.column("area_ha")?.f64()?.clone();
        let mut out = BTreeMap::new();
        for ((c, k), a) in codes.iter().zip(classes.iter()).zip(areas.iter()) {
            *out.entry((
                c.unwrap_or_default().to_string(),
                k.unwrap_or_default().to_string(),
            ))
            .or_insert(0.0) += a.unwrap_or(0.0);
        }
        Ok(out)
    };
    let (a1, a0) = (areas(now)?, areas(previous)?);
    let mut out = BTreeMap::new();
    for ((code, class), before) in &a0 {
        let after = a1
            .get(&(code.clone(), class.clone()))
            .copied()
            .unwrap_or(0.0);
        let loss = (before - after).max(0.0);
        *out.entry(code.clone()).or_insert(0.0) += loss * per_ha(class);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{compute as compute_accounts, testing::inputs};

    #[test]
    fn geep_terms_add_up_on_a_hand_computed_case() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let inp = inputs();
        let acc = compute_accounts(&inp, &coef).unwrap();
        // Previous year: 140105 had 120 ha 乔木林地 (now 100): 20 ha lost.
        let previous = df!(
            col::CODE => ["140105", "140105"],
            "land_class" => ["乔木林地", "天然牧草地"],
            "area_ha" => [120.0, 50.0],
            "source_ref" => ["p", "q"],
        )
        .unwrap();
        let terms = compute(&acc, &inp, Some(&previous), &coef)
            .unwrap()
            .unwrap();
        let t = &terms["140105"];
        // Degradation: 100 t SO₂ × 1200 + 50 t COD × 700 = 155,000 元.
        assert!((t.degradation - 155_000.0).abs() < 1e-6);
        // Damage: 20 ha × ESV per ha of 针阔混交 (Σ 23.09 equivalents × 1412.6 with NPP/precipitation adjustments).
        let esv = coef.esv.as_ref().unwrap();
        let row = coef
            .equivalent_factors
            .iter()
            .find(|r| r.xie_type == "针阔混交")
            .unwrap();
        let per_ha: f64 = crate::esv::value_per_ha(row, esv).iter().sum();
        assert!((t.damage.unwrap() - 20.0 * per_ha).abs() < 1e-6);
        assert_eq!(t.depletion, 2.0e6);
        let row = acc.rows.iter().find(|r| r.code == "140105").unwrap();
        assert!(
            (t.geep(false) - (row.gdp_cny - 155_000.0 - 20.0 * per_ha + row.category_cny[1])).abs()
                < 1e-6
        );
        assert!((t.geep(true) - t.geep(false) + 2.0e6).abs() < 1e-6);
        // Without the previous land cover the damage is unknown, not 0.
        let no_prev = compute(&acc, &inp, None, &coef).unwrap().unwrap();
        assert_eq!(no_prev["140105"].damage, None);
    }

    #[test]
    fn mining_subsidence_is_area_times_cost_and_needs_a_cost() {
        let mut coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let mut inp = inputs();
        let extra = df!(
            col::CODE => ["140105"],
            "item" => [crate::schema::col::SUBSIDENCE_AREA_HA],
            "amount" => [5.0],
            "source_ref" => ["t [环境!J5]"],
        )
        .unwrap();
        inp.environment
            .as_mut()
            .unwrap()
            .vstack_mut(&extra)
            .unwrap();
        let acc = compute_accounts(&inp, &coef).unwrap();
        let err = compute(&acc, &inp, None, &coef).unwrap_err().to_string();
        assert!(
            err.contains("geep.toml: the 环境 sheet gives 采煤沉陷面积"),
            "{err}"
        );
        coef.geep.as_mut().unwrap().subsidence_cost = Some(UnitCost {
            value: 100_000.0,
            unit: "元/ha".into(),
            year: 2021,
            source: "test".into(),
            status: "U".into(),
        });
        let terms = compute(&acc, &inp, None, &coef).unwrap().unwrap();
        let t = &terms["140105"];
        assert_eq!(t.subsidence, 500_000.0);
        // Subsidence is not an emission: degradation is still 100 t SO₂ × 1200 + 50 t COD × 700.
        assert!((t.degradation - 155_000.0).abs() < 1e-6);
        let without = Terms {
            subsidence: 0.0,
            ..t.clone()
        };
        assert!((without.geep(false) - t.geep(false) - 500_000.0).abs() < 1e-6);
    }
}
