//! geep.toml: the GEEP settings of a coefficient set (`crate::account::geep` computes the terms).

use std::collections::BTreeMap;

use serde::Deserialize;

/// geep.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Valuation basis of degradation, in words.
    pub basis: String,
    /// Whether resource depletion is deducted (sources disagree).
    pub deduct_resource_depletion: bool,
    /// Valuation classes whose area loss is ecological damage.
    pub damage_classes: Vec<String>,
    /// Unit cost per emission item (key = environment column key).
    pub unit_costs: BTreeMap<String, UnitCost>,
    /// Cost per hectare of land newly subsided by mining (元/ha), for the 环境 sheet's
    /// 采煤沉陷面积; needed only when that column is given.
    #[serde(default)]
    pub subsidence_cost: Option<UnitCost>,
}

/// A unit cost of a pollutant (or of subsided land).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct UnitCost {
    /// The value used: as written, or brought to the base year when indexed.
    pub value: f64,
    pub unit: String,
    pub year: i32,
    pub source: String,
    pub status: String,
    /// Series of deflators.csv that brings the cost to the set's price base year.
    #[serde(default)]
    pub deflator: Option<String>,
    /// Why the cost is used as published in another year than the base year.
    #[serde(default)]
    pub not_indexed: Option<String>,
    /// Set on load: the published value and the index applied.
    #[serde(skip)]
    pub indexed: Option<super::Indexed>,
}
