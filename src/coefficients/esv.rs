//! The equivalent-factor table and esv.toml (Xie et al.): the types the coefficient set holds for
//! the ESV account (`crate::esv` values it).

use serde::Deserialize;

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
    /// E_a, 元/hm²: as given, or computed on loading from the grain figures (see
    /// [`Settings::resolve`]).
    #[serde(default)]
    pub standard_equivalent_cny_per_ha: f64,
    /// `given` (default), `grain_output` (E_a = 1/7 × yield × price, Xie 2008 convention) or
    /// `grain_net_profit` (E_a = grain net profit per hm², Xie 2015 convention).
    #[serde(default = "default_method")]
    pub standard_equivalent_method: String,
    /// Grain yield, kg/hm² (for `grain_output`).
    #[serde(default)]
    pub grain_yield_kg_per_ha: Option<f64>,
    /// Grain price, 元/kg (for `grain_output`).
    #[serde(default)]
    pub grain_price_cny_per_kg: Option<f64>,
    /// Grain net profit, 元/hm² (for `grain_net_profit`).
    #[serde(default)]
    pub grain_net_profit_cny_per_ha: Option<f64>,
    /// E_a computed from the grain figures, when a value was also written (set by
    /// [`Settings::resolve`]; the written value is used).
    #[serde(skip)]
    pub computed_cny_per_ha: Option<f64>,
    pub standard_equivalent_year: i32,
    pub standard_equivalent_basis: String,
    pub standard_equivalent_source: String,
    pub standard_equivalent_status: String,
    pub npp_factor: f64,
    pub precipitation_factor: f64,
    pub soil_factor: f64,
    pub adjustment_source: String,
}

/// Relative difference between a written and a computed E_a beyond which a warning is given
/// (0.1 %: wider than the rounding of a published E_a to 0.01 元/hm², narrower than a typo).
pub const EQUIVALENT_TOLERANCE: f64 = 0.001;

fn default_method() -> String {
    "given".into()
}

impl Settings {
    /// Computes E_a when the method asks for it: `grain_output` → yield × price / 7;
    /// `grain_net_profit` → the net profit; `given` → the value as written. When a value is
    /// written next to the grain figures, the written value is used (a publication's rounded
    /// E_a is what its tables multiply by) and the computed one is kept for the book; a
    /// difference beyond [`EQUIVALENT_TOLERANCE`] is returned as a warning.
    ///
    /// # Errors
    /// A message when an input is missing or not positive.
    pub fn resolve(&mut self) -> std::result::Result<Option<String>, String> {
        let computed = match self.standard_equivalent_method.as_str() {
            "given" => None,
            "grain_output" => match (self.grain_yield_kg_per_ha, self.grain_price_cny_per_kg) {
                (Some(y), Some(p)) if y > 0.0 && p > 0.0 => Some(y * p / 7.0),
                _ => {
                    return Err("standard_equivalent_method = \"grain_output\" needs grain_yield_kg_per_ha and grain_price_cny_per_kg (> 0)".into());
                }
            },
            "grain_net_profit" => match self.grain_net_profit_cny_per_ha {
                Some(n) if n > 0.0 => Some(n),
                _ => {
                    return Err("standard_equivalent_method = \"grain_net_profit\" needs grain_net_profit_cny_per_ha (> 0)".into());
                }
            },
            other => {
                return Err(format!(
                    "standard_equivalent_method must be \"given\", \"grain_output\" or \"grain_net_profit\", found \"{other}\""
                ));
            }
        };
        self.computed_cny_per_ha = computed;
        let given = self.standard_equivalent_cny_per_ha;
        match computed {
            Some(c) if given > 0.0 => Ok(((given - c).abs() > EQUIVALENT_TOLERANCE * c).then(|| {
                    format!(
                        "standard_equivalent_cny_per_ha {given} differs from the {c:.2} computed by {} by {:.2} % (more than {} %); the written value is used",
                        self.standard_equivalent_method,
                        (given - c) / c * 100.0,
                        EQUIVALENT_TOLERANCE * 100.0
                    )
                })),
            Some(c) => {
                self.standard_equivalent_cny_per_ha = c;
                Ok(None)
            }
            None if given > 0.0 => Ok(None),
            None => Err("standard_equivalent_cny_per_ha must be > 0 (or computed: standard_equivalent_method)".into()),
        }
    }

    /// How E_a was obtained, for the book: computed, given, or given next to a computed value
    /// (then both, and which one is used).
    pub fn equivalent_derivation(&self) -> String {
        let computed = match self.standard_equivalent_method.as_str() {
            "grain_output" => Some(format!(
                "1/7 × {} kg/hm² × {} 元/kg",
                self.grain_yield_kg_per_ha.unwrap_or_default(),
                self.grain_price_cny_per_kg.unwrap_or_default(),
            )),
            "grain_net_profit" => Some("grain net profit".to_string()),
            _ => None,
        };
        let given = self.standard_equivalent_cny_per_ha;
        match (computed, self.computed_cny_per_ha) {
            (Some(how), Some(c)) if c != given => {
                format!("E_a = {given} 元/hm² (given, used; computed {how} = {c:.2} 元/hm²)")
            }
            (Some(how), _) if how.starts_with("grain net") => {
                format!("E_a = {how} {given:.2} 元/hm²")
            }
            (Some(how), _) => format!("E_a = {how} = {given:.2} 元/hm²"),
            (None, _) => format!("E_a = {given} 元/hm² (given)"),
        }
    }

    /// The adjustment factor of group `a`.
    pub fn factor(&self, a: Adjustment) -> f64 {
        match a {
            Adjustment::Npp => self.npp_factor,
            Adjustment::Precipitation => self.precipitation_factor,
            Adjustment::Soil => self.soil_factor,
        }
    }
}

/// The Xie types a crosswalk entry names: one type, or several joined by `+` whose mean is used
/// (orchards are often valued as the mean of forest and grassland).
pub fn mapping_parts(xie_type: &str) -> Vec<&str> {
    xie_type
        .split('+')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}
