//! Stage 4d, equivalent-factor account (当量因子法, Xie et al.): land cover → ecosystem-service
//! value ESV = Σ_k A_k · e_kf · E_a · adjustment_f per county and service. A separate account,
//! never added to GEP (it counts supporting services; methodology §1.1, §3, §9.2).

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::Deserialize;

use crate::coefficients::Coefficients;
use crate::error::{Error, Issues, Result};
use crate::validate::Inputs;

/// Services of the Xie 2015 table, in order: key, Chinese label, adjustment group.
pub const SERVICES: &[(&str, &str, Adjustment)] = &[
    ("food", "食物生产", Adjustment::Npp),
    ("raw", "原料生产", Adjustment::Npp),
    ("water", "水资源供给", Adjustment::Precipitation),
    ("gas", "气体调节", Adjustment::Npp),
    ("climate", "气候调节", Adjustment::Npp),
    ("purification", "净化环境", Adjustment::Npp),
    ("hydrology", "水文调节", Adjustment::Precipitation),
    ("soil", "土壤保持", Adjustment::Soil),
    ("nutrient", "维持养分循环", Adjustment::Npp),
    ("biodiversity", "生物多样性", Adjustment::Npp),
    ("aesthetics", "美学景观", Adjustment::Npp),
];

/// Columns of equivalent_factors.csv.
pub const FACTOR_COLUMNS: &[&str] = &[
    "xie_type",
    "first_level",
    "food",
    "raw",
    "water",
    "gas",
    "climate",
    "purification",
    "hydrology",
    "soil",
    "nutrient",
    "biodiversity",
    "aesthetics",
    "status",
    "source",
];

/// Which spatial adjustment factor scales a service (Xie 2015 dynamic method).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adjustment {
    /// NPP factor (B_region / B_national).
    Npp,
    /// Precipitation factor.
    Precipitation,
    /// Soil-conservation factor.
    Soil,
}

/// One row of the equivalent-factor table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct FactorRow {
    pub xie_type: String,
    pub first_level: String,
    pub food: f64,
    pub raw: f64,
    pub water: f64,
    pub gas: f64,
    pub climate: f64,
    pub purification: f64,
    pub hydrology: f64,
    pub soil: f64,
    pub nutrient: f64,
    pub biodiversity: f64,
    pub aesthetics: f64,
    pub status: String,
    pub source: String,
}

impl FactorRow {
    /// Factors in [`SERVICES`] order.
    pub fn factors(&self) -> [f64; 11] {
        [
            self.food,
            self.raw,
            self.water,
            self.gas,
            self.climate,
            self.purification,
            self.hydrology,
            self.soil,
            self.nutrient,
            self.biodiversity,
            self.aesthetics,
        ]
    }
}

/// esv.toml: the standard equivalent and the adjustment factors.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Settings {
    pub table: String,
    pub standard_equivalent_cny_per_ha: f64,
    pub standard_equivalent_year: i32,
    pub standard_equivalent_basis: String,
    pub standard_equivalent_source: String,
    pub standard_equivalent_status: String,
    pub npp_factor: f64,
    pub precipitation_factor: f64,
    pub soil_factor: f64,
    pub adjustment_source: String,
}

impl Settings {
    fn factor(&self, a: Adjustment) -> f64 {
        match a {
            Adjustment::Npp => self.npp_factor,
            Adjustment::Precipitation => self.precipitation_factor,
            Adjustment::Soil => self.soil_factor,
        }
    }
}

/// Value per hectare of a type for each service (元/hm²): e_kf × E_a × adjustment_f.
pub fn value_per_ha(row: &FactorRow, s: &Settings) -> [f64; 11] {
    let f = row.factors();
    std::array::from_fn(|i| f[i] * s.standard_equivalent_cny_per_ha * s.factor(SERVICES[i].2))
}

/// ESV per county: code → value per service (元), in [`SERVICES`] order.
#[derive(Debug, Clone, Default)]
pub struct Esv {
    /// County values.
    pub counties: BTreeMap<String, [f64; 11]>,
}

/// Computes the ESV account: land cover joined (polars) to the crosswalk's Xie type, then to the
/// per-hectare value table; rolled up per county.
///
/// # Errors
/// [`Error::Invalid`] when the set has no ESV settings; polars failures.
pub fn compute(inputs: &Inputs, coef: &Coefficients) -> Result<Esv> {
    let Some(settings) = &coef.esv else {
        let mut issues = Issues::new();
        issues.error(
            "esv.toml",
            "missing: the equivalent-factor account needs it",
        );
        issues.into_result()?;
        return Err(Error::Internal("no ESV settings".into()));
    };
    let crosswalk = DataFrame::new_infer_height(vec![
        Column::new(
            "land_class".into(),
            coef.land_classes
                .iter()
                .map(|c| c.land_class.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "xie_type".into(),
            coef.land_classes
                .iter()
                .map(|c| c.xie_type.clone())
                .collect::<Vec<_>>(),
        ),
    ])?;
    let mut table_cols = vec![Column::new(
        "xie_type".into(),
        coef.equivalent_factors
            .iter()
            .map(|r| r.xie_type.clone())
            .collect::<Vec<_>>(),
    )];
    for (i, (key, _, _)) in SERVICES.iter().enumerate() {
        table_cols.push(Column::new(
            format!("vc_{key}").into(),
            coef.equivalent_factors
                .iter()
                .map(|r| value_per_ha(r, settings)[i])
                .collect::<Vec<_>>(),
        ));
    }
    let table = DataFrame::new_infer_height(table_cols)?;
    let mut aggs = Vec::new();
    for (key, _, _) in SERVICES {
        aggs.push(
            (col("area_ha") * col(format!("vc_{key}")).fill_null(lit(0.0)))
                .sum()
                .alias(*key),
        );
    }
    let df = inputs
        .land
        .clone()
        .lazy()
        .left_join(crosswalk.lazy(), col("land_class"), col("land_class"))
        .left_join(table.lazy(), col("xie_type"), col("xie_type"))
        .group_by([col("county_code")])
        .agg(aggs)
        .collect()?;
    let codes = df.column("county_code")?.str()?.clone();
    let mut counties = BTreeMap::new();
    let mut columns = Vec::new();
    for (key, _, _) in SERVICES {
        columns.push(df.column(key)?.f64()?.clone());
    }
    for (i, code) in codes.iter().enumerate() {
        let values: [f64; 11] = std::array::from_fn(|k| columns[k].get(i).unwrap_or(0.0));
        counties.insert(code.unwrap_or_default().to_string(), values);
    }
    Ok(Esv { counties })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn national() -> Settings {
        Settings {
            table: "xie2015".into(),
            standard_equivalent_cny_per_ha: 3406.5,
            standard_equivalent_year: 2010,
            standard_equivalent_basis: "net profit".into(),
            standard_equivalent_source: "Xie 2015".into(),
            standard_equivalent_status: "V2".into(),
            npp_factor: 1.0,
            precipitation_factor: 1.0,
            soil_factor: 1.0,
            adjustment_source: "unadjusted".into(),
        }
    }

    #[test]
    fn per_hectare_values_of_the_xie_2015_table_are_exact() {
        let coef = Coefficients::load(None, false).unwrap();
        let s = national();
        let vc = |t: &str| -> f64 {
            value_per_ha(
                coef.equivalent_factors
                    .iter()
                    .find(|r| r.xie_type == t)
                    .unwrap(),
                &s,
            )
            .iter()
            .sum()
        };
        // Σ e_kf × 3406.5, to 0.001 元/hm².
        for (t, sum) in [
            ("水田", 3.89),
            ("针阔混交", 23.09),
            ("阔叶", 22.95),
            ("灌木", 15.22),
            ("湿地", 52.02),
            ("水系", 125.61),
            ("裸地", 0.20),
        ] {
            assert!(
                (vc(t) - sum * 3406.5).abs() < 1e-3,
                "{t}: {} vs {}",
                vc(t),
                sum * 3406.5
            );
        }
        // The paddy water-supply factor stays negative.
        let paddy = coef
            .equivalent_factors
            .iter()
            .find(|r| r.xie_type == "水田")
            .unwrap();
        assert!((value_per_ha(paddy, &s)[2] - (-2.63 * 3406.5)).abs() < 1e-9);
    }

    #[test]
    fn a_land_cover_change_moves_esv_by_the_area_change_times_vc() {
        use crate::account::testing::inputs;
        let mut coef = Coefficients::load(None, false).unwrap();
        coef.esv = Some(national());
        let before = compute(&inputs(), &coef).unwrap();
        let mut changed = inputs();
        // 140106: 200 ha 旱地 → 150 ha 旱地 + 50 ha 乔木林地.
        changed.land = df!(
            "county_code" => ["140105", "140105", "140106", "140106", "140107"],
            "land_class" => ["乔木林地", "天然牧草地", "旱地", "乔木林地", "灌木林地"],
            "area_ha" => [100.0, 50.0, 150.0, 50.0, 10.0],
            "source_ref" => ["a", "b", "c", "d", "e"],
        )
        .unwrap();
        let after = compute(&changed, &coef).unwrap();
        let s = national();
        let vc = |t: &str| -> f64 {
            value_per_ha(
                coef.equivalent_factors
                    .iter()
                    .find(|r| r.xie_type == t)
                    .unwrap(),
                &s,
            )
            .iter()
            .sum()
        };
        let delta: f64 = after.counties["140106"].iter().sum::<f64>()
            - before.counties["140106"].iter().sum::<f64>();
        assert!((delta - (50.0 * vc("针阔混交") - 50.0 * vc("旱地"))).abs() < 1e-6);
        // Built-up land has no value; adjustment factors scale by service group.
        coef.esv = Some(Settings {
            npp_factor: 0.5,
            ..national()
        });
        let half = compute(&inputs(), &coef).unwrap();
        let water = |e: &Esv| e.counties["140105"][2];
        assert!(
            (water(&half) - water(&before)).abs() < 1e-9,
            "water supply uses the precipitation factor"
        );
        assert!((half.counties["140105"][0] - before.counties["140105"][0] * 0.5).abs() < 1e-9);
    }
}
