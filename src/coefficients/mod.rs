//! Stage 0, coefficients: a coefficient set folder (manifest.toml, regions.csv,
//! land_classes.csv, service_rates.csv, forest_types.csv, prices.toml) → typed, validated
//! [`Coefficients`], each value with unit, year and source; every problem reported with file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub mod esv;
pub mod geep;
pub mod transfer;

use crate::error::{Error, Issues, Result};
use crate::files::sha256_hex;

/// Files of a coefficient set, in the order they are loaded.
pub const FILES: &[&str] = &[
    "regions.csv",
    "land_classes.csv",
    "service_rates.csv",
    "forest_types.csv",
    "prices.toml",
    "transfer_policy.toml",
    "deflators.csv",
    "equivalent_factors.csv",
    "esv.toml",
    "geep.toml",
];

/// Files a set may have: recorded in `[files]` and checked like the others when present.
/// `carbon_pools.csv`: carbon densities per valuation class in InVEST's carbon-pool columns
/// (the carbon-stock account).
pub const OPTIONAL_FILES: &[&str] = &["carbon_pools.csv"];

/// Carbon densities of one valuation class (t C/ha per pool). The columns follow InVEST's
/// carbon model biophysical table (`lucode, lulc_name, c_above, c_below, c_soil, c_dead`), so
/// one table drives both tools; `valuation_class` links it to this set's crosswalk.
#[derive(Debug, Clone, Deserialize)]
pub struct CarbonPool {
    /// InVEST land-use code (the raster's class value).
    pub lucode: i64,
    /// Name.
    pub lulc_name: String,
    /// Above-ground biomass carbon, t C/ha.
    pub c_above: f64,
    /// Below-ground biomass carbon, t C/ha.
    pub c_below: f64,
    /// Soil organic carbon, t C/ha.
    pub c_soil: f64,
    /// Dead organic matter carbon, t C/ha.
    pub c_dead: f64,
    /// The set's valuation class.
    pub valuation_class: String,
    /// Year of the source data.
    pub year: String,
    /// SX, LP, N or other.
    pub scope: String,
    /// Citation.
    pub source: String,
    /// Evidence grade.
    pub status: String,
}

impl CarbonPool {
    /// The four pools, in InVEST's order.
    pub fn pools(&self) -> [f64; 4] {
        [self.c_above, self.c_below, self.c_soil, self.c_dead]
    }
}

/// Loads `carbon_pools.csv`: every valuation class of the crosswalk once, densities in
/// 0…2000 t C/ha, unique lucodes, a source and a grade.
fn load_carbon_pools(text: &str, classes: &[LandClass], issues: &mut Issues) -> Vec<CarbonPool> {
    const FILE: &str = "carbon_pools.csv";
    let rows: Vec<(u64, CarbonPool)> = parse_csv(
        text,
        FILE,
        &[
            "lucode",
            "lulc_name",
            "c_above",
            "c_below",
            "c_soil",
            "c_dead",
            "valuation_class",
            "year",
            "scope",
            "source",
            "status",
        ],
        issues,
    );
    let wanted: BTreeSet<&str> = classes.iter().map(|c| c.valuation_class.as_str()).collect();
    let mut seen = BTreeSet::new();
    let mut codes = BTreeSet::new();
    for (line, p) in &rows {
        let at = format!("{FILE}:{line}");
        if !wanted.contains(p.valuation_class.as_str()) {
            issues.error(
                &at,
                format!(
                    "valuation class \"{}\" is not in land_classes.csv",
                    p.valuation_class
                ),
            );
        }
        if !seen.insert(p.valuation_class.clone()) {
            issues.error(&at, format!("{} listed twice", p.valuation_class));
        }
        if !codes.insert(p.lucode) {
            issues.error(&at, format!("lucode {} listed twice", p.lucode));
        }
        if p.pools().iter().any(|d| !(0.0..=2000.0).contains(d)) {
            issues.error(
                &at,
                "densities must be 0…2000 t C/ha (InVEST's unit: Mg C/ha)",
            );
        }
        if p.source.trim().is_empty() {
            issues.error(&at, "source is empty");
        }
        check_status(&p.status, &at, issues);
    }
    for class in wanted.iter().filter(|c| !seen.contains(**c)) {
        issues.error(
            FILE,
            format!("no densities for valuation class \"{class}\" (write 0 with a source note if it stores none)"),
        );
    }
    rows.into_iter().map(|(_, p)| p).collect()
}

/// The default Shanxi set, embedded so that `gep run` works from any folder.
pub const EMBEDDED_SHANXI: &[(&str, &str)] = &[
    (
        "manifest.toml",
        include_str!("../../coefficients/shanxi/manifest.toml"),
    ),
    (
        "regions.csv",
        include_str!("../../coefficients/shanxi/regions.csv"),
    ),
    (
        "land_classes.csv",
        include_str!("../../coefficients/shanxi/land_classes.csv"),
    ),
    (
        "service_rates.csv",
        include_str!("../../coefficients/shanxi/service_rates.csv"),
    ),
    (
        "forest_types.csv",
        include_str!("../../coefficients/shanxi/forest_types.csv"),
    ),
    (
        "prices.toml",
        include_str!("../../coefficients/shanxi/prices.toml"),
    ),
    (
        "transfer_policy.toml",
        include_str!("../../coefficients/shanxi/transfer_policy.toml"),
    ),
    (
        "deflators.csv",
        include_str!("../../coefficients/shanxi/deflators.csv"),
    ),
    (
        "equivalent_factors.csv",
        include_str!("../../coefficients/shanxi/equivalent_factors.csv"),
    ),
    (
        "esv.toml",
        include_str!("../../coefficients/shanxi/esv.toml"),
    ),
    (
        "geep.toml",
        include_str!("../../coefficients/shanxi/geep.toml"),
    ),
];

/// Evidence grade of a coefficient (methodology.md legend).
pub const STATUSES: &[&str] = &["V", "V2", "V-low", "D", "U"];

/// A per-hectare rate a service reads from service_rates.csv (its `indicator` column).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateSpec {
    /// Key in service_rates.csv (`soil_retention`, `air_purification.so2`).
    pub key: &'static str,
    /// Accepted units with the factor to the engine's unit (per ha and year).
    pub units: &'static [(&'static str, f64)],
    /// Upper bound of a plausible rate, per hectare and year, in the engine's unit.
    pub max: f64,
    /// Every valuation class must have one; otherwise a set that gives it for one class must
    /// give it for all.
    pub required: bool,
    /// A fraction of 1 (runoff coefficient): a percentage (24 for 0.24) is refused with a hint.
    pub share: bool,
}

/// A price a service reads from prices.toml `[prices.KEY]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriceSpec {
    /// Key.
    pub key: &'static str,
    /// Accepted units (normalised: `元/m3`, `元/tco2`).
    pub units: &'static [&'static str],
    /// Plausible range in 元 per any accepted unit: outside it, a unit or a decimal point is wrong.
    pub range: (f64, f64),
    /// Every set must give it.
    pub required: bool,
}

/// A physical or valuation parameter (prices.toml `[parameters.*]`): accepted units with the
/// factor to the engine's value (fractions for `%`), and its plausible range in the engine's
/// unit. A share (a fraction of 1) written as a percentage (24 for 0.24) is refused with a hint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParameterSpec {
    /// Key.
    pub key: &'static str,
    /// Accepted units and factors.
    pub units: &'static [(&'static str, f64)],
    /// Plausible range (inclusive) in the engine's unit.
    pub range: (f64, f64),
    /// A fraction of 1 (shares, contents, ratios of parts to a whole).
    pub share: bool,
    /// The value used when the set does not give one (a physical constant or a conventional
    /// factor), listed on 系数 like a value of the set.
    pub default: Option<ParameterDefault>,
}

/// The engine's value of a parameter a set may leave out, with its source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParameterDefault {
    /// Value in the parameter's first unit.
    pub value: f64,
    /// That unit, as shown.
    pub unit: &'static str,
    /// Year of the source.
    pub year: i32,
    /// Where it comes from.
    pub source: &'static str,
    /// Evidence grade.
    pub status: &'static str,
}

/// Accepted units of a share: a fraction of 1, or a percentage.
pub const SHARE_UNITS: &[(&str, f64)] = &[("1", 1.0), ("%", 0.01)];

/// A price computed from other prices and parameters when a set is loaded (the per-tonne price of
/// soil retained from dredging cost and nutrient prices): listed on 系数 with its arithmetic.
#[derive(Debug, Clone, Copy)]
pub struct DerivedPrice {
    /// Key of the derived price.
    pub key: &'static str,
    /// The price from the set's prices and parameters, `None` when a part is missing.
    pub derive: Derive,
}

/// How a derived price is computed: (prices, parameters) → the price, `None` when a part is missing.
pub type Derive = fn(&BTreeMap<String, Price>, &BTreeMap<String, Price>) -> Option<Price>;

/// What the engine's services read from a coefficient set: the rates, prices and parameters
/// they declare (`crate::account::registry` builds it from the service registry). Loading
/// refuses a key no service declares and checks each value's unit and range against it.
#[derive(Debug, Clone, Default)]
pub struct Demand {
    /// Per-hectare rates.
    pub rates: Vec<RateSpec>,
    /// Prices.
    pub prices: Vec<PriceSpec>,
    /// Parameters.
    pub parameters: Vec<ParameterSpec>,
    /// Prices derived on loading.
    pub derived: Vec<DerivedPrice>,
    /// Keys of the engine's services (a declared service may not reuse one).
    pub services: Vec<&'static str>,
    /// Names a 实物量 row may use for the engine's services (normalised by `name_key`) → key.
    pub names: BTreeMap<String, &'static str>,
    /// How 实物量 names are normalised.
    pub name_key: Option<fn(&str) -> String>,
    /// 经济社会 headers the engine reads (normalised) → column key.
    pub economy_headers: BTreeMap<String, &'static str>,
}

impl Demand {
    /// The rate with `key`.
    pub fn rate(&self, key: &str) -> Option<&RateSpec> {
        self.rates.iter().find(|r| r.key == key)
    }

    /// The price with `key`.
    pub fn price(&self, key: &str) -> Option<&PriceSpec> {
        self.prices.iter().find(|p| p.key == key)
    }

    /// The parameter with `key`.
    pub fn parameter(&self, key: &str) -> Option<&ParameterSpec> {
        self.parameters.iter().find(|p| p.key == key)
    }
}

/// The message for a share written as a percentage (24 for 0.24), when it looks like one.
pub fn percentage_hint(value: f64) -> Option<String> {
    (value > 1.0 && value <= 100.0).then(|| {
        format!(
            "a percentage? write {} (a fraction of 1), or give unit = \"%\"",
            value / 100.0
        )
    })
}

/// A service a coefficient set declares (`[services.KEY]` in manifest.toml): valued as a quantity
/// of the 实物量 sheet × a price of prices.toml, or as a money value given there directly.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredService {
    /// Chinese label (also a name a 实物量 row may use).
    pub label_zh: String,
    /// English label.
    pub label_en: String,
    /// `provisioning`, `regulating` or `cultural`.
    pub category: String,
    /// `quantity_price` (quantity × `price`) or `money` (a value in 元, 万元, 亿元).
    pub valuation: String,
    /// Unit of the quantity (`quantity_price`): t, m³, kWh, 公顷 … (rows are converted to it).
    #[serde(default)]
    pub quantity_unit: Option<String>,
    /// prices.toml key of its price, 元 per `quantity_unit` (`quantity_price`).
    #[serde(default)]
    pub price: Option<String>,
    /// A column of the 经济社会 sheet that gives it per county (`芦苇产量`), besides the 实物量
    /// sheet (whose row wins for its county).
    #[serde(default)]
    pub column: Option<String>,
    /// How the quantity or value is obtained, with its source (shown in the book and explain).
    pub method: String,
}

/// Identity, versions and switches of a coefficient set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Short name (`shanxi`).
    pub name: String,
    /// Human title.
    pub title: String,
    /// Version of the set; bumped when a value changes.
    pub version: String,
    /// The set and version this one was edited from (`shanxi 0.1.0`), written by
    /// `gep coefficients rehash --version`.
    #[serde(default)]
    pub derived_from: Option<String>,
    /// When it was last edited (YYYY-MM-DD), written by `rehash`.
    #[serde(default)]
    pub edited: Option<String>,
    /// Province covered.
    pub province: String,
    /// Province code (`140000`); for a set covering several provinces, the code of the top
    /// (national) row, such as `000000`.
    pub province_code: String,
    /// Names of the provinces of a set covering several (`"150000" = "内蒙古自治区"`); optional,
    /// the code stands in for a missing name.
    #[serde(default)]
    pub provinces: BTreeMap<String, String>,
    /// Year whose prices the set is meant to represent.
    pub price_base_year: i32,
    /// Currency unit of prices.
    pub currency: String,
    /// Who maintains it.
    #[serde(default)]
    pub authors: Vec<String>,
    /// Method switches.
    pub switches: Switches,
    /// Deflator series (deflators.csv) per indicator key, for constant-price change.
    #[serde(default)]
    pub price_lines: BTreeMap<String, String>,
    /// Land classes prefilled per county in the blank template (`gep template`); empty = all
    /// second-level classes and first-level classes without children.
    #[serde(default)]
    pub template_land_classes: Vec<String>,
    /// Services the set declares besides the engine's (`[services.KEY]`), fed from the 实物量
    /// sheet; see docs/coefficients.md.
    #[serde(default)]
    pub services: BTreeMap<String, DeclaredService>,
    /// SHA-256 of each file when the version was made.
    pub files: BTreeMap<String, String>,
}

/// Method choices that sources disagree on (methodology §9), made explicit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Switches {
    /// `gross_output` (总产值), `value_added` (增加值) or `net_output` (净产值) for
    /// agriculture/forestry/husbandry/fishery.
    pub provisioning_basis: String,
    /// Whether oxygen release is a GEP line.
    pub include_oxygen: bool,
    /// Air and water purification: `capacity` (area × rate) or `emissions` (capacity capped at
    /// the county's emissions from the 环境 sheet, as Garzê 2010 did). Methodology §9.6.
    #[serde(default = "default_purification_cap")]
    pub purification_cap: String,
    /// Climate regulation: divide the water-surface evaporation energy by the air-conditioner
    /// efficiency as the vegetation term is (some guides), or not (Garzê 2010). Methodology §9.12.
    #[serde(default)]
    pub water_surface_divided_by_ac_efficiency: bool,
    /// Carbon and oxygen: `carbon` (C × 44/12 and × 32/12) or `dry_matter` (1.63 and 1.19 per t of
    /// dry matter: forest biomass change, `npp_dry_matter` rates elsewhere). Methodology §2.8.
    #[serde(default = "default_carbon_route")]
    pub carbon_route: String,
    /// Recreation: `revenue` (tourism revenue) or `travel_cost` (visits × cost per visit).
    #[serde(default = "default_recreation_basis")]
    pub recreation_basis: String,
}

fn default_purification_cap() -> String {
    "capacity".into()
}

fn default_carbon_route() -> String {
    "carbon".into()
}

fn default_recreation_basis() -> String {
    "revenue".into()
}

/// A county-level unit of the province.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// 6-digit code.
    pub code: String,
    /// Name.
    pub name: String,
    /// 6-digit prefecture code (xx00).
    pub prefecture_code: String,
    /// Prefecture name.
    pub prefecture: String,
    /// 市辖区 / 县级市 / 县.
    pub kind: String,
    /// Administrative land area, when published.
    pub area_km2: Option<f64>,
    /// Where the area comes from.
    #[serde(default)]
    pub area_source: String,
}

/// One row of the land-class crosswalk.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LandClass {
    /// Class name as written in workbooks (三调 name).
    pub land_class: String,
    /// 1 = first-level, 2 = second-level.
    pub level: u8,
    /// First-level parent of a second-level class.
    #[serde(default)]
    pub parent: String,
    /// Valuation class used to look up rates.
    pub valuation_class: String,
    /// Remarks.
    #[serde(default)]
    pub note: String,
    /// Other names of the class in workbooks (e.g. English), separated by `;`.
    #[serde(default)]
    pub aliases: String,
    /// Row of equivalent_factors.csv for the ESV account; empty = none.
    #[serde(default)]
    pub xie_type: String,
}

impl LandClass {
    /// The class name and its aliases, normalised for header matching.
    pub fn names(&self) -> impl Iterator<Item = String> + '_ {
        std::iter::once(self.land_class.as_str())
            .chain(
                self.aliases
                    .split(';')
                    .map(str::trim)
                    .filter(|a| !a.is_empty()),
            )
            .map(|n| crate::schema::normalise_header(n).0)
    }
}

/// A per-hectare service rate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// Valuation class.
    pub valuation_class: String,
    /// Indicator key.
    pub indicator: String,
    /// Value as written.
    pub rate: f64,
    /// Unit as written.
    pub unit: String,
    /// Year of the source data.
    pub year: String,
    /// SX, LP, TH, N or other.
    pub scope: String,
    /// Citation.
    pub source: String,
    /// Evidence grade.
    pub status: String,
    /// The low end of its plausible range, in `unit` (optional column, for `gep sensitivity`).
    #[serde(default)]
    pub low: Option<f64>,
    /// The high end of its plausible range, in `unit` (optional column).
    #[serde(default)]
    pub high: Option<f64>,
    /// Set on load: the rate in the engine's unit (m³/ha/yr or t C/ha/yr).
    #[serde(skip)]
    pub rate_base: f64,
}

impl Rate {
    /// The factors that bring the rate to its `low` and `high` (rate × factor), when given.
    pub fn band_factors(&self) -> Option<(f64, f64)> {
        band_factors(self.low, self.high, self.rate)
    }
}

/// Volume → biomass → carbon parameters of one forest type (优势树种组).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForestType {
    /// Name as written in workbooks.
    pub forest_type: String,
    /// `bef_continuous` (B = a·V/A + b per ha, roots included) or `bcef` (V·BCEF·(1+R)).
    pub method: String,
    /// Slope a of the continuous BEF function (t/m³).
    pub a: Option<f64>,
    /// Intercept b of the continuous BEF function (t/ha).
    pub b: Option<f64>,
    /// Biomass conversion and expansion factor (t/m³).
    pub bcef: Option<f64>,
    /// Root:shoot ratio R.
    pub root_shoot: Option<f64>,
    /// Carbon fraction of dry biomass (t C/t).
    pub carbon_fraction: f64,
    /// Scope of the sources.
    pub scope: String,
    /// Citation.
    pub source: String,
    /// Evidence grade.
    pub status: String,
}

/// One year of a price-index series (previous year = 100).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deflator {
    /// Series name (`cpi_national`).
    pub series: String,
    /// Year.
    pub year: i32,
    /// Index with the previous year = 100.
    pub index_prev_year_100: f64,
    /// Citation.
    pub source: String,
    /// Evidence grade.
    pub status: String,
}

/// How a price of another year was brought to the set's price base year.
#[derive(Debug, Clone, PartialEq)]
pub struct Indexed {
    /// The value as published (in its own year).
    pub published: f64,
    /// The chained index from the price year to the base year.
    pub factor: f64,
    /// Series of deflators.csv.
    pub series: String,
    /// Price year.
    pub from: i32,
    /// Base year.
    pub to: i32,
}

impl Indexed {
    /// `× cpi_national 2010→2021 = 1.3127` for the book.
    pub fn text(&self) -> String {
        format!(
            "× {} {}→{} = {:.4} (deflators.csv)",
            self.series, self.from, self.to, self.factor
        )
    }
}

/// A unit price.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Value as written.
    pub value: f64,
    /// Unit as written (`元/m³`, `元/t CO2`).
    pub unit: String,
    /// Price year.
    pub year: i32,
    /// SX, N, other.
    pub scope: String,
    /// Citation.
    pub source: String,
    /// Evidence grade.
    pub status: String,
    /// Remarks (why this value, caveats).
    #[serde(default)]
    pub note: String,
    /// Series of deflators.csv that brings the price from its year to the set's
    /// `price_base_year` (prices only; parameters are physical).
    #[serde(default)]
    pub deflator: Option<String>,
    /// Why the price is used as published although its year is not the base year.
    #[serde(default)]
    pub not_indexed: Option<String>,
    /// The low end of its plausible range, as published (for `gep sensitivity`; in the year of
    /// `value`).
    #[serde(default)]
    pub low: Option<f64>,
    /// The high end of its plausible range, as published.
    #[serde(default)]
    pub high: Option<f64>,
    /// Set on load: the published value and the index applied (`value` is then the indexed one).
    #[serde(skip)]
    pub indexed: Option<Indexed>,
}

/// `low` ≤ value ≤ `high`, both or neither.
fn check_band(p: &Price, at: &str, issues: &mut Issues) {
    check_range(p.low, p.value, p.high, at, issues);
}

/// The factors that bring `value` (as written) to `low` and `high`, when both are given.
fn band_factors(low: Option<f64>, high: Option<f64>, value: f64) -> Option<(f64, f64)> {
    match (low, high) {
        (Some(lo), Some(hi)) if value > 0.0 => Some((lo / value, hi / value)),
        _ => None,
    }
}

/// `low` ≤ `value` ≤ `high` with `low` ≥ 0, both bounds or neither (prices, parameters, rates).
fn check_range(low: Option<f64>, value: f64, high: Option<f64>, at: &str, issues: &mut Issues) {
    match (low, high) {
        (None, None) => {}
        (Some(lo), Some(hi)) if lo <= value && value <= hi && lo >= 0.0 => {}
        (Some(lo), Some(hi)) => issues.error(
            at,
            format!("low {lo} ≤ value {value} ≤ high {hi} does not hold"),
        ),
        _ => issues.error(at, "give both low and high, or neither"),
    }
}

impl Price {
    /// The factors that bring the value to its `low` and `high` (value × factor), when given.
    pub fn band_factors(&self) -> Option<(f64, f64)> {
        let published = self.indexed.as_ref().map_or(self.value, |i| i.published);
        band_factors(self.low, self.high, published)
    }
}

/// The chained index of `series` from year `from` to year `to` (Π index/100 of the years after
/// `from` up to `to`; the inverse backwards).
///
/// # Errors
/// A message naming the series or the missing year.
pub fn chain_index(
    deflators: &[Deflator],
    series: &str,
    from: i32,
    to: i32,
) -> std::result::Result<f64, String> {
    if !deflators.iter().any(|d| d.series == series) {
        let known: BTreeSet<&str> = deflators.iter().map(|d| d.series.as_str()).collect();
        return Err(format!(
            "deflator series \"{series}\" is not in deflators.csv (known: {})",
            known.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    let (lo, hi) = (from.min(to), from.max(to));
    let mut factor = 1.0;
    for year in lo + 1..=hi {
        let Some(d) = deflators
            .iter()
            .find(|d| d.series == series && d.year == year)
        else {
            return Err(format!(
                "deflators.csv: {series} has no {year} (needed to bring a {from} price to {to})"
            ));
        };
        factor *= d.index_prev_year_100 / 100.0;
    }
    Ok(if from <= to { factor } else { 1.0 / factor })
}

/// What a price or cost says about its year: the value, the year, its deflator series or a
/// reason not to index.
struct Indexation<'a> {
    value: f64,
    year: i32,
    deflator: Option<&'a str>,
    not_indexed: bool,
}

impl Indexation<'_> {
    /// The index to apply, if any: with a series, the chain to the base year (an error when the
    /// series lacks a year); without a series or a reason, a warning at `at`.
    fn apply(
        &self,
        key: &str,
        deflators: &[Deflator],
        base_year: i32,
        at: &str,
        issues: &mut Issues,
    ) -> Option<Indexed> {
        match (self.deflator, self.not_indexed) {
            (Some(_), true) => {
                issues.error(at, "give deflator or not_indexed, not both");
                None
            }
            (Some(series), false) => match chain_index(deflators, series, self.year, base_year) {
                Ok(factor) => (self.year != base_year).then(|| Indexed {
                    published: self.value,
                    factor,
                    series: series.to_string(),
                    from: self.year,
                    to: base_year,
                }),
                Err(message) => {
                    issues.error(at, message);
                    None
                }
            },
            (None, _) if self.not_indexed || self.year == base_year => None,
            (None, _) => {
                issues.warning(
                    at,
                    format!(
                        "{key}: a {} value in a set whose price base year is {base_year}, used as published: write deflator = \"<series of deflators.csv>\" to index it, or not_indexed = \"<why>\"",
                        self.year
                    ),
                );
                None
            }
        }
    }
}

/// Brings every price whose year is not the base year to it with its `deflator` series, or
/// keeps it with its `not_indexed` reason; a price with neither is a warning (used as
/// published). Derived prices are derived again from the indexed ones.
fn index_prices(
    text: &str,
    prices: &mut BTreeMap<String, Price>,
    parameters: &BTreeMap<String, Price>,
    deflators: &[Deflator],
    base_year: i32,
    demand: &Demand,
    issues: &mut Issues,
) {
    const FILE: &str = "prices.toml";
    let derived: Vec<&str> = demand.derived.iter().map(|d| d.key).collect();
    for (key, p) in prices.iter_mut() {
        if derived.contains(&key.as_str()) {
            continue;
        }
        let header = format!("[prices.{key}]");
        let at = text
            .lines()
            .position(|l| l.trim() == header)
            .map_or(FILE.to_string(), |i| format!("{FILE}:{}", i + 1));
        let asked = Indexation {
            value: p.value,
            year: p.year,
            deflator: p.deflator.as_deref(),
            not_indexed: p.not_indexed.is_some(),
        };
        if let Some(i) = asked.apply(key, deflators, base_year, &at, issues) {
            p.value *= i.factor;
            p.indexed = Some(i);
        }
    }
    for d in &demand.derived {
        if let Some(price) = (d.derive)(prices, parameters) {
            prices.insert(d.key.to_string(), price);
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PricesFile {
    prices: BTreeMap<String, Price>,
    #[serde(default)]
    parameters: BTreeMap<String, Price>,
}

/// A loaded, validated coefficient set.
#[derive(Debug, Clone)]
pub struct Coefficients {
    /// Folder it came from (`None` for the embedded default).
    pub dir: Option<PathBuf>,
    /// Identity, version, switches.
    pub manifest: Manifest,
    /// County-level units.
    pub regions: Vec<Region>,
    /// Land-class crosswalk.
    pub land_classes: Vec<LandClass>,
    /// Per-hectare rates.
    pub rates: Vec<Rate>,
    /// Forest-type parameters.
    pub forest_types: Vec<ForestType>,
    /// Unit prices by key (with the derived per-tonne prices of soil retention and sand fixation).
    pub prices: BTreeMap<String, Price>,
    /// Physical and valuation parameters by key (prices.toml `[parameters.*]`).
    pub parameters: BTreeMap<String, Price>,
    /// Equivalent factors (ESV account).
    pub equivalent_factors: Vec<esv::FactorRow>,
    /// ESV settings (standard equivalent, adjustment factors).
    pub esv: Option<esv::Settings>,
    /// GEEP settings (unit costs, switches).
    pub geep: Option<geep::Settings>,
    /// Price indices by series and year.
    pub deflators: Vec<Deflator>,
    /// Carbon densities per valuation class (`carbon_pools.csv`), when the set has them.
    pub carbon_pools: Option<Vec<CarbonPool>>,
    /// Transfer-payment allocation rule.
    pub transfer_policy: Option<transfer::Policy>,
    /// SHA-256 of the whole set (manifest and files, in order).
    pub set_sha256: String,
    /// Files whose hash differs from the manifest.
    pub modified_files: Vec<String>,
    /// Warnings found while loading.
    pub warnings: Issues,
    /// Position of each region in `regions` by code: lookups are O(1) with a fast hash, not a scan (national
    /// runs look up every county many times).
    region_index: polars::prelude::PlHashMap<String, usize>,
    /// Position and name of each land class by every normalised name and alias.
    land_class_index: polars::prelude::PlHashMap<String, (usize, String)>,
    /// Position and name of each forest type by its normalised name.
    forest_type_index: polars::prelude::PlHashMap<String, (usize, String)>,
}

/// Where the files of a set come from.
#[derive(Debug, Clone, Copy)]
pub enum SetSource<'a> {
    /// A folder on disk.
    Dir(&'a Path),
    /// The default set built into the binary.
    Embedded,
    /// Texts held in memory (tests, fuzzing): file name → content; a missing file is empty.
    Memory(&'a [(&'a str, String)]),
}

/// Reads one file of a set.
/// An optional file's text, or `None` when the set does not have it.
fn optional_text(source: SetSource<'_>, name: &str) -> Result<Option<String>> {
    match source {
        SetSource::Dir(d) => {
            let path = d.join(name);
            if path.exists() {
                std::fs::read_to_string(&path)
                    .map(Some)
                    .map_err(|e| Error::io(path, e))
            } else {
                Ok(None)
            }
        }
        SetSource::Embedded => Ok(EMBEDDED_SHANXI
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| (*t).to_string())),
        SetSource::Memory(files) => Ok(files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.clone())),
    }
}

fn file_text(source: SetSource<'_>, name: &str) -> Result<String> {
    match source {
        SetSource::Dir(d) => {
            let path = d.join(name);
            std::fs::read_to_string(&path).map_err(|e| Error::io(path, e))
        }
        SetSource::Embedded => Ok(EMBEDDED_SHANXI
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| (*t).to_string())
            .unwrap_or_default()),
        SetSource::Memory(files) => Ok(files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()),
    }
}

/// Normalises a unit string for comparison ([`crate::units::fold`]: no spaces, ASCII lower
/// case, m³ → m3).
pub fn unit_key(unit: &str) -> String {
    crate::units::fold(unit)
}

fn parse_csv<T: for<'de> Deserialize<'de>>(
    text: &str,
    file: &str,
    expected: &[&str],
    issues: &mut Issues,
) -> Vec<(u64, T)> {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    match reader.headers() {
        Ok(h) => {
            for name in h.iter() {
                if !expected.iter().any(|e| e.trim_start_matches('?') == name) {
                    issues.error(
                        format!("{file}:1"),
                        format!(
                            "unknown column \"{name}\" (expected {})",
                            expected
                                .iter()
                                .map(|e| match e.strip_prefix('?') {
                                    Some(optional) => format!("{optional} (optional)"),
                                    None => (*e).to_string(),
                                })
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                }
            }
            for name in expected {
                if !h.iter().any(|x| x == *name) && !name.starts_with('?') {
                    issues.error(format!("{file}:1"), format!("missing column \"{name}\""));
                }
            }
        }
        Err(e) => issues.error(file, format!("cannot read header: {e}")),
    }
    let mut out = Vec::new();
    for result in reader.deserialize::<T>() {
        match result {
            Ok(row) => out.push((0, row)),
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                issues.error(format!("{file}:{line}"), csv_error_text(&e).to_string());
            }
        }
    }
    // Recover line numbers: the csv reader skips comments, so number the data lines here.
    let mut data_lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, _)| i as u64 + 1)
        .skip(1);
    for item in &mut out {
        item.0 = data_lines.next().unwrap_or(0);
    }
    out
}

fn csv_error_text(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => {
            let field = err
                .field()
                .map(|f| format!("field {}: ", f + 1))
                .unwrap_or_default();
            format!("{field}{}", err.kind())
        }
        _ => e.to_string(),
    }
}

fn toml_location(file: &str, text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("{file}:{line}")
        }
        None => file.to_string(),
    }
}

impl Coefficients {
    /// Loads and validates a set from `dir`, or the embedded Shanxi set when `dir` is `None`.
    ///
    /// `strict` turns "file modified since the manifest's version" into an error.
    ///
    /// # Errors
    /// [`Error::Invalid`] listing every problem with file and line; [`Error::Io`] when a file
    /// cannot be read.
    pub fn load(dir: Option<&Path>, strict: bool, demand: &Demand) -> Result<Self> {
        let source = match dir {
            Some(d) => SetSource::Dir(d),
            None => SetSource::Embedded,
        };
        Self::load_from(source, strict, demand)
    }

    /// Loads and validates a set from any [`SetSource`].
    ///
    /// # Errors
    /// As [`Coefficients::load`].
    pub fn load_from(source: SetSource<'_>, strict: bool, demand: &Demand) -> Result<Self> {
        let dir = match source {
            SetSource::Dir(d) => Some(d),
            _ => None,
        };
        let mut issues = Issues::new();
        let manifest_text = file_text(source, "manifest.toml")?;
        let manifest: Option<Manifest> = match toml::from_str(&manifest_text) {
            Ok(m) => Some(m),
            Err(e) => {
                issues.error(
                    toml_location("manifest.toml", &manifest_text, &e),
                    e.message().to_string(),
                );
                None
            }
        };
        let mut texts = BTreeMap::new();
        for name in FILES {
            texts.insert(*name, file_text(source, name)?);
        }
        let mut present: Vec<&'static str> = FILES.to_vec();
        for name in OPTIONAL_FILES {
            match optional_text(source, name)? {
                Some(text) => {
                    texts.insert(*name, text);
                    present.push(name);
                }
                None => {
                    if manifest
                        .as_ref()
                        .is_some_and(|m| m.files.contains_key(*name))
                    {
                        issues.error(*name, "listed in manifest.toml [files] but not in the set");
                    }
                }
            }
        }
        let mut set_hasher_input = manifest_text.clone().into_bytes();
        let mut modified_files = Vec::new();
        for name in &present {
            let text = &texts[name];
            set_hasher_input.extend_from_slice(text.as_bytes());
            let actual = sha256_hex(text.as_bytes());
            if let Some(m) = &manifest {
                match m.files.get(*name) {
                    Some(recorded) if recorded == &actual => {}
                    Some(_) => {
                        modified_files.push((*name).to_string());
                        let message = format!(
                            "modified since version {} (SHA-256 differs from manifest.toml; run `gep coefficients rehash` to record an edit on purpose)",
                            m.version
                        );
                        if strict {
                            issues.error(*name, message);
                        } else {
                            issues.warn(
                                crate::error::Check::Coefficients,
                                *name,
                                message,
                                format!(
                                    "自版本 {} 以来已改动（SHA-256 与 manifest.toml 不符；如系有意修改，运行 gep coefficients rehash 记录）",
                                    m.version
                                ),
                            );
                        }
                    }
                    None => {
                        issues.error("manifest.toml", format!("[files] has no entry for {name}"))
                    }
                }
            }
        }
        if let Some(m) = &manifest {
            for key in m.files.keys() {
                if !FILES.contains(&key.as_str()) && !OPTIONAL_FILES.contains(&key.as_str()) {
                    issues.error(
                        "manifest.toml",
                        format!("[files] lists unknown file \"{key}\""),
                    );
                }
            }
            for (name, value, allowed) in [
                (
                    "purification_cap",
                    &m.switches.purification_cap,
                    &["capacity", "emissions"],
                ),
                (
                    "recreation_basis",
                    &m.switches.recreation_basis,
                    &["revenue", "travel_cost"],
                ),
                (
                    "carbon_route",
                    &m.switches.carbon_route,
                    &["carbon", "dry_matter"],
                ),
            ] {
                if !allowed.contains(&value.as_str()) {
                    issues.error(
                        "manifest.toml",
                        format!(
                            "switches.{name} must be \"{}\" or \"{}\", found \"{value}\"",
                            allowed[0], allowed[1]
                        ),
                    );
                }
            }
            if !crate::schema::PRODUCT_BASES
                .iter()
                .any(|b| b.key == m.switches.provisioning_basis)
            {
                issues.error(
                    "manifest.toml",
                    format!(
                        "switches.provisioning_basis must be \"gross_output\", \"value_added\" or \"net_output\", found \"{}\"",
                        m.switches.provisioning_basis
                    ),
                );
            }
        }
        let regions = load_regions(&texts["regions.csv"], &mut issues);
        let land_classes = load_land_classes(&texts["land_classes.csv"], &mut issues);
        let carbon_pools = texts
            .get("carbon_pools.csv")
            .map(|t| load_carbon_pools(t, &land_classes, &mut issues));
        let mut rates = load_rates(
            &texts["service_rates.csv"],
            &land_classes,
            demand,
            &mut issues,
        );
        let forest_types = load_forest_types(&texts["forest_types.csv"], &mut issues);
        // Declared services: checked here; their prices join what prices.toml may hold.
        let mut demand = demand.clone();
        if let Some(m) = &manifest {
            check_declared(&m.services, &mut demand, &mut issues);
        }
        let demand = &demand;
        let (mut prices, parameters) = load_prices(&texts["prices.toml"], demand, &mut issues);
        if let Some(m) = &manifest {
            for (key, s) in &m.services {
                if let Some(p) = s.price.as_deref().filter(|p| !prices.contains_key(*p)) {
                    issues.error(
                        "prices.toml",
                        format!(
                            "[services.{key}] is valued at price \"{p}\": missing [prices.{p}]"
                        ),
                    );
                }
            }
        }
        transpiration_to_kwh(&mut rates, &parameters, &mut issues);
        let deflators = load_deflators(&texts["deflators.csv"], &mut issues);
        if let Some(m) = &manifest {
            index_prices(
                &texts["prices.toml"],
                &mut prices,
                &parameters,
                &deflators,
                m.price_base_year,
                demand,
                &mut issues,
            );
        }
        let equivalent_factors: Vec<esv::FactorRow> = parse_csv(
            &texts["equivalent_factors.csv"],
            "equivalent_factors.csv",
            esv::FACTOR_COLUMNS,
            &mut issues,
        )
        .into_iter()
        .map(|(line, row): (u64, esv::FactorRow)| {
            check_status(
                &row.status,
                &format!("equivalent_factors.csv:{line}"),
                &mut issues,
            );
            row
        })
        .collect();
        for lc in &land_classes {
            // A class may map to the mean of several types: "阔叶+灌草丛".
            for part in esv::mapping_parts(&lc.xie_type) {
                if !equivalent_factors.iter().any(|f| f.xie_type == part) {
                    issues.error(
                        "land_classes.csv",
                        format!(
                            "xie_type \"{part}\" of {} is not a row of equivalent_factors.csv",
                            lc.land_class
                        ),
                    );
                }
            }
        }
        let geep = match toml::from_str::<geep::Settings>(&texts["geep.toml"]) {
            Ok(mut s) => {
                // Unit costs at the base year, as prices are.
                if let Some(m) = &manifest {
                    let costs = s
                        .unit_costs
                        .iter_mut()
                        .map(|(k, c)| (format!("unit_costs.{k}"), c))
                        .chain(
                            s.subsidence_cost
                                .as_mut()
                                .map(|c| ("subsidence_cost".to_string(), c)),
                        );
                    for (key, cost) in costs {
                        let asked = Indexation {
                            value: cost.value,
                            year: cost.year,
                            deflator: cost.deflator.as_deref(),
                            not_indexed: cost.not_indexed.is_some(),
                        };
                        let at = format!("geep.toml [{key}]");
                        if let Some(i) =
                            asked.apply(&key, &deflators, m.price_base_year, &at, &mut issues)
                        {
                            cost.value *= i.factor;
                            cost.indexed = Some(i);
                        }
                    }
                }
                for (key, cost) in &s.unit_costs {
                    if !crate::schema::EMISSION_ITEMS.contains(&key.as_str()) {
                        issues.error("geep.toml", format!("unknown unit cost [unit_costs.{key}]"));
                    }
                    if unit_key(&cost.unit) != "元/t" || !cost.value.is_finite() || cost.value < 0.0
                    {
                        issues.error(
                            "geep.toml",
                            format!("[unit_costs.{key}] needs a value ≥ 0 in 元/t"),
                        );
                    }
                    check_status(&cost.status, "geep.toml", &mut issues);
                }
                Some(s)
            }
            Err(e) => {
                issues.error(
                    toml_location("geep.toml", &texts["geep.toml"], &e),
                    e.message().to_string(),
                );
                None
            }
        };
        let esv = match toml::from_str::<esv::Settings>(&texts["esv.toml"]) {
            Ok(mut s) => {
                match s.resolve() {
                    Ok(Some(warning)) => issues.warning("esv.toml", warning),
                    Ok(None) => {}
                    Err(message) => issues.error("esv.toml", message),
                }
                Some(s)
            }
            Err(e) => {
                issues.error(
                    toml_location("esv.toml", &texts["esv.toml"], &e),
                    e.message().to_string(),
                );
                None
            }
        };
        let transfer_policy = match transfer::Policy::parse(&texts["transfer_policy.toml"]) {
            Ok(p) => Some(p),
            Err(Error::Invalid { issues: found }) => {
                for i in found {
                    issues.error(i.location, i.message);
                }
                None
            }
            Err(other) => return Err(other),
        };
        let warnings = issues.into_result()?;
        let Some(manifest) = manifest else {
            return Err(Error::Internal("manifest missing without an error".into()));
        };
        let region_index = regions_index(&regions);
        let mut land_class_index = polars::prelude::PlHashMap::default();
        for (i, c) in land_classes.iter().enumerate() {
            for n in c.names() {
                land_class_index
                    .entry(n)
                    .or_insert_with(|| (i, c.land_class.clone()));
            }
        }
        let mut forest_type_index = polars::prelude::PlHashMap::default();
        for (i, t) in forest_types.iter().enumerate() {
            forest_type_index
                .entry(crate::schema::normalise_header(&t.forest_type).0)
                .or_insert_with(|| (i, t.forest_type.clone()));
        }
        Ok(Coefficients {
            dir: dir.map(Path::to_path_buf),
            manifest,
            regions,
            land_classes,
            rates,
            forest_types,
            prices,
            parameters,
            deflators,
            equivalent_factors,
            esv,
            geep,
            transfer_policy,
            carbon_pools,
            set_sha256: sha256_hex(&set_hasher_input),
            modified_files,
            warnings,
            region_index,
            land_class_index,
            forest_type_index,
        })
    }

    /// Where the set came from, for messages and the About sheet.
    pub fn origin(&self) -> String {
        match &self.dir {
            Some(d) => d.display().to_string(),
            None => format!("built-in {}", self.manifest.name),
        }
    }

    /// The region with `code`.
    pub fn region(&self, code: &str) -> Option<&Region> {
        // The index is built at load; a set whose regions were edited since falls back to a scan.
        match self
            .region_index
            .get(code)
            .and_then(|&i| self.regions.get(i))
        {
            Some(r) if r.code == code => Some(r),
            _ => self.regions.iter().find(|r| r.code == code),
        }
    }

    /// The crosswalk row of a land class as written in a workbook.
    pub fn land_class(&self, name: &str) -> Option<&LandClass> {
        let key = crate::schema::normalise_header(name).0;
        // Indexed at load (every name and alias); a set edited since (the class at the indexed
        // position is another one) falls back to a scan.
        match self
            .land_class_index
            .get(&key)
            .and_then(|(i, indexed)| Some((self.land_classes.get(*i)?, indexed)))
        {
            Some((c, indexed)) if c.land_class == *indexed => Some(c),
            _ => self
                .land_classes
                .iter()
                .find(|c| c.names().any(|n| n == key)),
        }
    }

    /// The parameters of a forest type as written in a workbook.
    pub fn forest_type(&self, name: &str) -> Option<&ForestType> {
        let key = crate::schema::normalise_header(name).0;
        let matches = |t: &&ForestType| crate::schema::normalise_header(&t.forest_type).0 == key;
        match self
            .forest_type_index
            .get(&key)
            .and_then(|(i, indexed)| Some((self.forest_types.get(*i)?, indexed)))
        {
            Some((t, indexed)) if t.forest_type == *indexed => Some(t),
            _ => self.forest_types.iter().find(matches),
        }
    }

    /// A price by key.
    pub fn price(&self, key: &str) -> Option<&Price> {
        self.prices.get(key)
    }

    /// Price per t CO₂ of the `carbon` price, whatever unit it is written in.
    pub fn carbon_price_per_t_co2(&self) -> Option<f64> {
        let p = self.price("carbon")?;
        match unit_key(&p.unit).as_str() {
            "元/tco2" => Some(p.value),
            "元/tc" => Some(p.value * 12.0 / 44.0),
            _ => None,
        }
    }
}

fn regions_index(regions: &[Region]) -> polars::prelude::PlHashMap<String, usize> {
    regions
        .iter()
        .enumerate()
        .map(|(i, r)| (r.code.clone(), i))
        .collect()
}

fn check_status(status: &str, at: &str, issues: &mut Issues) {
    if !STATUSES.contains(&status) {
        issues.error(
            at,
            format!("status \"{status}\" is not one of {}", STATUSES.join(", ")),
        );
    }
}

fn load_regions(text: &str, issues: &mut Issues) -> Vec<Region> {
    const FILE: &str = "regions.csv";
    let rows: Vec<(u64, Region)> = parse_csv(
        text,
        FILE,
        &[
            "code",
            "name",
            "prefecture_code",
            "prefecture",
            "kind",
            "area_km2",
            "area_source",
        ],
        issues,
    );
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (line, r) in rows {
        let at = format!("{FILE}:{line}");
        let six = |s: &str| s.len() == 6 && s.chars().all(|c| c.is_ascii_digit());
        if !six(&r.code) || r.code.ends_with("00") {
            issues.error(
                &at,
                format!("code \"{}\" is not a 6-digit county code", r.code),
            );
        }
        if !six(&r.prefecture_code)
            || !r.prefecture_code.ends_with("00")
            || r.code.get(..4) != r.prefecture_code.get(..4)
        {
            issues.error(
                &at,
                format!(
                    "prefecture_code \"{}\" does not match county {}",
                    r.prefecture_code, r.code
                ),
            );
        }
        if let Some(a) = r.area_km2 {
            if !(a > 0.0 && a < 100_000.0) {
                issues.error(&at, format!("area_km2 {a} out of range (0, 100000)"));
            }
            if r.area_source.is_empty() {
                issues.error(&at, "area_km2 given without area_source");
            }
        }
        if !seen.insert(r.code.clone()) {
            issues.error(&at, format!("code {} listed twice", r.code));
        }
        out.push(r);
    }
    if out.is_empty() {
        issues.error(FILE, "no regions");
    }
    out
}

fn load_land_classes(text: &str, issues: &mut Issues) -> Vec<LandClass> {
    const FILE: &str = "land_classes.csv";
    let rows: Vec<(u64, LandClass)> = parse_csv(
        text,
        FILE,
        &[
            "land_class",
            "level",
            "parent",
            "valuation_class",
            "note",
            "aliases",
            "xie_type",
        ],
        issues,
    );
    let names: BTreeSet<String> = rows.iter().map(|(_, c)| c.land_class.clone()).collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (line, c) in rows {
        let at = format!("{FILE}:{line}");
        let own: BTreeSet<String> = c.names().collect();
        for name in own {
            if !seen.insert(name.clone()) {
                issues.error(&at, format!("land class or alias \"{name}\" listed twice"));
            }
        }
        match c.level {
            1 if !c.parent.is_empty() => issues.error(&at, "a first-level class has no parent"),
            2 if !names.contains(&c.parent) => issues.error(
                &at,
                format!(
                    "parent \"{}\" of \"{}\" is not a listed class",
                    c.parent, c.land_class
                ),
            ),
            1 | 2 => {}
            other => issues.error(&at, format!("level must be 1 or 2, found {other}")),
        }
        if c.valuation_class.is_empty() {
            issues.error(&at, "valuation_class is empty");
        }
        out.push(c);
    }
    out
}

fn load_rates(
    text: &str,
    classes: &[LandClass],
    demand: &Demand,
    issues: &mut Issues,
) -> Vec<Rate> {
    const FILE: &str = "service_rates.csv";
    let rows: Vec<(u64, Rate)> = parse_csv(
        text,
        FILE,
        &[
            "valuation_class",
            "indicator",
            "rate",
            "unit",
            "year",
            "scope",
            "source",
            "status",
            "?low",
            "?high",
        ],
        issues,
    );
    let valuation_classes: BTreeSet<&str> =
        classes.iter().map(|c| c.valuation_class.as_str()).collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (line, mut r) in rows {
        let at = format!("{FILE}:{line}");
        let Some(spec) = demand.rate(&r.indicator) else {
            issues.error(
                &at,
                format!(
                    "unknown indicator \"{}\" (rate-based indicators: {})",
                    r.indicator,
                    demand
                        .rates
                        .iter()
                        .map(|u| u.key)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            continue;
        };
        let units = spec.units;
        match units.iter().find(|(u, _)| *u == unit_key(&r.unit)) {
            Some((_, factor)) => r.rate_base = r.rate * factor,
            None => issues.error(
                &at,
                format!(
                    "unit \"{}\" not accepted for {} (use one of {})",
                    r.unit,
                    r.indicator,
                    units.iter().map(|u| u.0).collect::<Vec<_>>().join(", ")
                ),
            ),
        }
        let max = spec.max;
        if spec.share
            && unit_key(&r.unit) == "1"
            && let Some(hint) = percentage_hint(r.rate)
        {
            issues.error(&at, format!("{} {}: {hint}", r.indicator, r.rate));
        } else if !(0.0..=max).contains(&r.rate_base) {
            issues.error(
                &at,
                format!("rate {} {} out of range [0, {max}] per ha", r.rate, r.unit),
            );
        }
        if !valuation_classes.contains(r.valuation_class.as_str()) {
            issues.error(
                &at,
                format!(
                    "valuation class \"{}\" is not used in land_classes.csv",
                    r.valuation_class
                ),
            );
        }
        if r.source.trim().is_empty() {
            issues.error(
                &at,
                "source is empty: say where the value comes from, or that none was found",
            );
        }
        check_status(&r.status, &at, issues);
        check_range(r.low, r.rate, r.high, &at, issues);
        if !seen.insert((r.valuation_class.clone(), r.indicator.clone())) {
            issues.error(
                &at,
                format!("{} / {} listed twice", r.valuation_class, r.indicator),
            );
        }
        out.push(r);
    }
    let given: BTreeSet<String> = seen.iter().map(|(_, i)| i.clone()).collect();
    for spec in &demand.rates {
        let indicator = spec.key;
        if !spec.required && !given.contains(indicator) {
            continue; // not valued by this set
        }
        for class in &valuation_classes {
            if !seen.contains(&((*class).to_string(), (*indicator).to_string())) {
                issues.error(
                    FILE,
                    format!("no {indicator} rate for valuation class \"{class}\" (write 0 with a source note if it provides none)"),
                );
            }
        }
    }
    out
}

fn load_forest_types(text: &str, issues: &mut Issues) -> Vec<ForestType> {
    const FILE: &str = "forest_types.csv";
    let rows: Vec<(u64, ForestType)> = parse_csv(
        text,
        FILE,
        &[
            "forest_type",
            "method",
            "a",
            "b",
            "bcef",
            "root_shoot",
            "carbon_fraction",
            "scope",
            "source",
            "status",
        ],
        issues,
    );
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (line, t) in rows {
        let at = format!("{FILE}:{line}");
        match t.method.as_str() {
            "bef_continuous" => {
                if !matches!(t.a, Some(a) if a > 0.0 && a < 3.0)
                    || !matches!(t.b, Some(b) if (0.0..200.0).contains(&b))
                {
                    issues.error(
                        &at,
                        "bef_continuous needs a in (0, 3) t/m³ and b in [0, 200) t/ha",
                    );
                }
            }
            "bcef" => {
                if !matches!(t.bcef, Some(v) if v > 0.0 && v < 5.0)
                    || !matches!(t.root_shoot, Some(r) if (0.0..2.0).contains(&r))
                {
                    issues.error(
                        &at,
                        "bcef needs bcef in (0, 5) t/m³ and root_shoot in [0, 2)",
                    );
                }
            }
            other => issues.error(
                &at,
                format!("method \"{other}\" is not bef_continuous or bcef"),
            ),
        }
        if !(0.3..=0.6).contains(&t.carbon_fraction) {
            issues.error(
                &at,
                format!(
                    "carbon_fraction {} out of range [0.3, 0.6]",
                    t.carbon_fraction
                ),
            );
        }
        if t.source.trim().is_empty() {
            issues.error(&at, "source is empty");
        }
        check_status(&t.status, &at, issues);
        if !seen.insert(crate::schema::normalise_header(&t.forest_type).0) {
            issues.error(
                &at,
                format!("forest type \"{}\" listed twice", t.forest_type),
            );
        }
        out.push(t);
    }
    out
}

fn load_deflators(text: &str, issues: &mut Issues) -> Vec<Deflator> {
    const FILE: &str = "deflators.csv";
    let rows: Vec<(u64, Deflator)> = parse_csv(
        text,
        FILE,
        &["series", "year", "index_prev_year_100", "source", "status"],
        issues,
    );
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (line, d) in rows {
        let at = format!("{FILE}:{line}");
        if !(50.0..=200.0).contains(&d.index_prev_year_100) {
            issues.error(
                &at,
                format!(
                    "index {} out of range [50, 200] (previous year = 100)",
                    d.index_prev_year_100
                ),
            );
        }
        if !seen.insert((d.series.clone(), d.year)) {
            issues.error(&at, format!("{} {} listed twice", d.series, d.year));
        }
        check_status(&d.status, &at, issues);
        out.push(d);
    }
    out
}

/// Converts transpiration heat rates (EPP, kJ/m²/d) to air-conditioning electricity per hectare
/// and year: EPP × 10⁴ m²/ha × d / 3600 kJ/kWh / r (methodology §2.9), with d = `ac_days` and
/// r = `ac_efficiency` from `[parameters]`.
fn transpiration_to_kwh(
    rates: &mut [Rate],
    parameters: &BTreeMap<String, Price>,
    issues: &mut Issues,
) {
    let epp: Vec<&mut Rate> = rates
        .iter_mut()
        .filter(|r| {
            r.indicator == "climate_regulation.vegetation" && unit_key(&r.unit) == "kj/m2/d"
        })
        .collect();
    if epp.is_empty() {
        return;
    }
    let (Some(days), Some(r)) = (parameters.get("ac_days"), parameters.get("ac_efficiency")) else {
        issues.error(
            "prices.toml",
            "climate_regulation.vegetation rates in kJ/m²/d need [parameters.ac_days] and [parameters.ac_efficiency]",
        );
        return;
    };
    for rate in epp {
        rate.rate_base = rate.rate * 1e4 * days.value / 3600.0 / r.value;
    }
}

/// Prices and parameters of prices.toml, with the derived per-tonne prices added.
type PricesAndParameters = (BTreeMap<String, Price>, BTreeMap<String, Price>);

fn load_prices(text: &str, demand: &Demand, issues: &mut Issues) -> PricesAndParameters {
    const FILE: &str = "prices.toml";
    let parsed: PricesFile = match toml::from_str(text) {
        Ok(p) => p,
        Err(e) => {
            issues.error(toml_location(FILE, text, &e), e.message().to_string());
            return (BTreeMap::new(), BTreeMap::new());
        }
    };
    let line_of = |key: &str| {
        let header = format!("[prices.{key}]");
        text.lines()
            .position(|l| l.trim() == header)
            .map_or(FILE.to_string(), |i| format!("{FILE}:{}", i + 1))
    };
    for (key, price) in &parsed.prices {
        let at = line_of(key);
        let spec = demand.price(key);
        match spec {
            None => issues.error(
                &at,
                format!(
                    "unknown price key \"{key}\" (known: {})",
                    demand
                        .prices
                        .iter()
                        .map(|p| p.key)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            Some(spec) => {
                if !spec.units.contains(&unit_key(&price.unit).as_str()) {
                    issues.error(
                        &at,
                        format!(
                            "unit \"{}\" not accepted for {key} (use {})",
                            price.unit,
                            spec.units.join(" or ")
                        ),
                    );
                }
            }
        }
        match spec.map(|s| s.range) {
            Some((lo, hi)) if !(lo..=hi).contains(&price.value) => issues.error(
                &at,
                format!(
                    "value {} {} is outside the plausible range {lo}–{hi} for {key}: check the unit and the decimal point",
                    price.value, price.unit
                ),
            ),
            _ => {}
        }
        if price.source.trim().is_empty() {
            issues.error(&at, "source is empty");
        }
        check_status(&price.status, &at, issues);
        check_band(price, &at, issues);
    }
    for key in demand.prices.iter().filter(|p| p.required).map(|p| p.key) {
        if !parsed.prices.contains_key(key) {
            issues.error(FILE, format!("missing price [prices.{key}]"));
        }
    }
    let mut parameters = BTreeMap::new();
    for (key, p) in &parsed.parameters {
        let header = format!("[parameters.{key}]");
        let at = text
            .lines()
            .position(|l| l.trim() == header)
            .map_or(FILE.to_string(), |i| format!("{FILE}:{}", i + 1));
        let Some(spec) = demand.parameter(key) else {
            issues.error(
                &at,
                format!(
                    "unknown parameter \"{key}\" (known: {})",
                    demand
                        .parameters
                        .iter()
                        .map(|p| p.key)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            continue;
        };
        let Some((unit, factor)) = spec.units.iter().find(|(u, _)| *u == unit_key(&p.unit)) else {
            issues.error(
                &at,
                format!(
                    "unit \"{}\" not accepted for {key} (use {})",
                    p.unit,
                    spec.units
                        .iter()
                        .map(|u| u.0)
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            );
            continue;
        };
        let (lo, hi) = spec.range;
        let value = p.value * factor;
        if spec.share
            && *unit == "1"
            && let Some(hint) = percentage_hint(p.value)
        {
            issues.error(&at, format!("{key} = {}: {hint}", p.value));
        } else if !(value > 0.0 && (lo..=hi).contains(&value)) {
            issues.error(
                &at,
                format!(
                    "{key} = {} {} is outside its plausible range {lo}–{hi}{}",
                    p.value,
                    p.unit,
                    if spec.share { " (a fraction of 1)" } else { "" }
                ),
            );
        }
        if p.source.trim().is_empty() {
            issues.error(&at, "source is empty");
        }
        check_status(&p.status, &at, issues);
        check_band(p, &at, issues);
        let mut p = p.clone();
        p.value *= factor;
        p.low = p.low.map(|x| x * factor);
        p.high = p.high.map(|x| x * factor);
        parameters.insert(key.clone(), p);
    }
    // Parameters the set leaves out that have a default: the engine's value, said as such.
    for spec in &demand.parameters {
        if let (Some(d), false) = (spec.default, parameters.contains_key(spec.key)) {
            parameters.insert(
                spec.key.to_string(),
                Price {
                    value: d.value,
                    unit: d.unit.to_string(),
                    year: d.year,
                    scope: "engine default".into(),
                    source: d.source.to_string(),
                    status: d.status.to_string(),
                    note: "not in the set's prices.toml: the engine's default value".into(),
                    ..Price::default()
                },
            );
        }
    }
    let mut prices = parsed.prices;
    for derived in &demand.derived {
        if let Some(price) = (derived.derive)(&prices, &parameters) {
            prices.insert(derived.key.to_string(), price);
        }
    }
    (prices, parameters)
}

/// Checks the services a set declares and adds their prices to what prices.toml may hold.
fn check_declared(
    services: &BTreeMap<String, DeclaredService>,
    demand: &mut Demand,
    issues: &mut Issues,
) {
    let mut declared_prices: Vec<&'static str> = Vec::new();
    // Names and columns a declared service answers to must be its own: a 实物量 row naming
    // 土壤保持, or a header such as 旅游总收入, would otherwise go to the engine, silently.
    let norm = demand.name_key.unwrap_or(unit_key);
    let mut names: BTreeMap<String, String> = demand
        .names
        .iter()
        .map(|(n, k)| (n.clone(), (*k).to_string()))
        .collect();
    let mut headers: BTreeMap<String, String> = demand
        .economy_headers
        .iter()
        .map(|(h, k)| (h.clone(), (*k).to_string()))
        .collect();
    for (key, s) in services {
        let at = format!("manifest.toml [services.{key}]");
        for name in [key.as_str(), s.label_zh.as_str(), s.label_en.as_str()] {
            match names.get(&norm(name)) {
                Some(owner) if owner != key => issues.error(
                    &at,
                    format!("\"{name}\" already names {owner}: a 实物量 row could not tell them apart; choose another"),
                ),
                _ => {
                    names.insert(norm(name), key.clone());
                }
            }
        }
        if let Some(column) = &s.column {
            let header = crate::schema::normalise_header(column).0;
            match headers.get(&header) {
                Some(owner) => issues.error(
                    &at,
                    format!("column \"{column}\" is already read as {owner}; name the service's own column"),
                ),
                None => {
                    headers.insert(header, format!("the declared service {key}"));
                }
            }
        }
        if !key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            || key.is_empty()
        {
            issues.error(&at, "a service key is lower-case letters, digits and _");
        }
        if demand.services.contains(&key.as_str()) {
            issues.error(
                &at,
                format!("\"{key}\" is a service of the engine; choose another key"),
            );
        }
        if !["provisioning", "regulating", "cultural"].contains(&s.category.as_str()) {
            issues.error(
                &at,
                format!(
                    "category \"{}\": expected provisioning, regulating or cultural",
                    s.category
                ),
            );
        }
        if s.method.trim().is_empty() {
            issues.error(
                &at,
                "method is empty: say how the quantity or value is obtained, with its source",
            );
        }
        match (s.valuation.as_str(), &s.quantity_unit, &s.price) {
            ("money", None, None) => {}
            ("money", _, _) => issues.error(
                &at,
                "a money-valued service has no quantity_unit or price (the 实物量 rows give 元, 万元 or 亿元)",
            ),
            ("quantity_price", Some(unit), Some(price)) => {
                if crate::units::parse(unit).is_none_or(|u| u.dimension == crate::units::Dimension::Money) {
                    issues.error(
                        &at,
                        format!("quantity_unit \"{unit}\" is not a unit of quantity the engine knows"),
                    );
                }
                let wanted = unit_key(&format!("元/{unit}"));
                if demand.services.contains(&price.as_str())
                    || demand.derived.iter().any(|d| d.key == price)
                    || demand.price(price).is_some_and(|p| !declared_prices.contains(&p.key))
                {
                    issues.error(
                        &at,
                        format!(
                            "price \"{price}\" is a price of the engine's services; give the declared service a price key of its own"
                        ),
                    );
                } else if let Some(p) = demand.price(price) {
                    if !p.units.contains(&wanted.as_str()) {
                        issues.error(
                            &at,
                            format!(
                                "price \"{price}\" is shared with another declared service measured in another unit ({}); give each its own price",
                                p.units.join(", ")
                            ),
                        );
                    }
                } else {
                    // Leaked once per load: a declared price key lives as long as the run.
                    let key: &'static str = Box::leak(price.clone().into_boxed_str());
                    declared_prices.push(key);
                    let unit: &'static str = Box::leak(wanted.into_boxed_str());
                    let units: &'static [&'static str] = Box::leak(vec![unit].into_boxed_slice());
                    demand.prices.push(PriceSpec {
                        key,
                        units,
                        range: (1e-6, 1e12),
                        required: false,
                    });
                }
            }
            ("quantity_price", _, _) => issues.error(
                &at,
                "a quantity_price service needs quantity_unit and price",
            ),
            (other, _, _) => issues.error(
                &at,
                format!("valuation \"{other}\": expected quantity_price or money"),
            ),
        }
    }
}

/// Records the current SHA-256 of every file in `dir/manifest.toml` (an edit made on purpose).
/// When a file changed since the recorded hashes, the edit must get a new version: `version`
/// (different from the manifest's) is written, with `derived_from = "<name> <old version>"`
/// (kept from an earlier edit if there is one) and `edited = <today>`, so that a book made
/// with the edited set says so. Without changes the hashes are rewritten as they are.
///
/// The `[files]` table must be the last table of the manifest; it is rewritten in place.
///
/// # Errors
/// [`Error::Usage`] when files changed and no new `version` is given; [`Error::Io`] when a file
/// cannot be read or the manifest written; [`Error::Invalid`] when the manifest has no `[files]`
/// table or cannot be read.
pub fn rehash(dir: &Path, version: Option<&str>, today: &str) -> Result<Vec<(String, String)>> {
    let manifest_path = dir.join("manifest.toml");
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| Error::io(&manifest_path, e))?;
    let Some(pos) = text.find("\n[files]") else {
        let mut issues = Issues::new();
        issues.error("manifest.toml", "no [files] table to rewrite");
        issues.into_result()?;
        return Ok(Vec::new());
    };
    let manifest: Manifest = toml::from_str(&text).map_err(|e| {
        Error::invalid(
            toml_location("manifest.toml", &text, &e),
            e.message().to_string(),
        )
    })?;
    let mut hashes = Vec::new();
    let mut changed = Vec::new();
    let optional = OPTIONAL_FILES.iter().filter(|n| dir.join(n).exists());
    for name in FILES.iter().chain(optional) {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let hash = sha256_hex(&bytes);
        if manifest.files.get(*name) != Some(&hash) {
            changed.push(*name);
        }
        hashes.push(((*name).to_string(), hash));
    }
    let mut head = text[..pos].to_string();
    match version {
        Some(v) if v == manifest.version => {
            return Err(Error::Usage(format!(
                "--version {v} is the set's current version; give a new one for the edit"
            )));
        }
        Some(v) => {
            let origin = manifest
                .derived_from
                .clone()
                .unwrap_or_else(|| format!("{} {}", manifest.name, manifest.version));
            let mut lines: Vec<String> = Vec::new();
            for line in head.lines() {
                let key = line.split('=').next().unwrap_or_default().trim();
                match key {
                    "version" => {
                        lines.push(format!("version = \"{v}\""));
                        lines.push(format!("derived_from = \"{origin}\""));
                        lines.push(format!("edited = \"{today}\""));
                    }
                    "derived_from" | "edited" => {}
                    _ => lines.push(line.to_string()),
                }
            }
            head = lines.join("\n");
        }
        None if !changed.is_empty() => {
            return Err(Error::Usage(format!(
                "{} changed since version {}: record the edit with a new version (gep coefficients rehash {} --version X.Y.Z)",
                changed.join(", "),
                manifest.version,
                dir.display()
            )));
        }
        None => {}
    }
    let mut out = head;
    out.push_str("\n[files]\n");
    for (name, hash) in &hashes {
        out.push_str(&format!("\"{name}\" = \"{hash}\"\n"));
    }
    crate::files::write_atomically(&manifest_path, |f| {
        use std::io::Write as _;
        f.write_all(out.as_bytes())
    })?;
    Ok(hashes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_shanxi_set_loads_without_warnings() {
        let c = crate::account::registry::load_coefficients(None, true).unwrap();
        assert_eq!(c.regions.len(), 117);
        assert!(c.modified_files.is_empty());
        assert!(c.price("carbon").is_some());
        assert!(c.land_class("乔木林地").is_some());
        assert!(c.forest_type("油松").is_some());
    }

    /// Regression: a share written as a percentage (24 for 0.24) multiplied soil retention by
    /// 100 without a word.
    #[test]
    fn a_share_written_as_a_percentage_is_refused_with_a_hint() {
        let text = include_str!("../../coefficients/shanxi/prices.toml").replacen(
            "[parameters.sediment_ratio]\nvalue = 0.24",
            "[parameters.sediment_ratio]\nvalue = 24",
            1,
        );
        assert!(text.contains("value = 24\n"));
        let mut issues = Issues::new();
        load_prices(&text, &crate::account::registry::demand(), &mut issues);
        let found: Vec<String> = issues.all().iter().map(ToString::to_string).collect();
        assert!(
            found.iter().any(|m| m.contains("prices.toml:")
                && m.contains("sediment_ratio = 24: a percentage? write 0.24")),
            "{found:?}"
        );
        // The same value with unit "%" is a fraction of 0.24: accepted.
        let text = text.replacen("value = 24\nunit = \"1\"", "value = 24\nunit = \"%\"", 1);
        let mut issues = Issues::new();
        load_prices(&text, &crate::account::registry::demand(), &mut issues);
        assert!(!issues.has_errors(), "{:?}", issues.all());
    }

    #[test]
    fn a_price_outside_its_plausible_range_is_refused() {
        let text = include_str!("../../coefficients/shanxi/prices.toml");
        let start = text.find("[prices.water_household]").unwrap();
        let value_at = start + text[start..].find("value = ").unwrap();
        let line_end = value_at + text[value_at..].find('\n').unwrap();
        let edited = format!("{}value = 4500{}", &text[..value_at], &text[line_end..]);
        let mut issues = Issues::new();
        load_prices(&edited, &crate::account::registry::demand(), &mut issues);
        assert!(
            issues.all().iter().any(|i| i
                .message
                .contains("outside the plausible range 0.01–100 for water_household")),
            "{:?}",
            issues.all()
        );
    }

    #[test]
    fn carbon_price_converts_between_t_c_and_t_co2() {
        let mut c = crate::account::registry::load_coefficients(None, false).unwrap();
        let p = c.prices.get_mut("carbon").unwrap();
        p.unit = "元/t C".into();
        p.value = 440.0;
        assert!((c.carbon_price_per_t_co2().unwrap() - 120.0).abs() < 1e-9);
        let p = c.prices.get_mut("carbon").unwrap();
        p.unit = "元/t CO₂".into();
        assert!((c.carbon_price_per_t_co2().unwrap() - 440.0).abs() < 1e-9);
    }

    #[test]
    fn rate_units_convert_to_engine_units() {
        let classes = vec![LandClass {
            land_class: "乔木林地".into(),
            level: 2,
            parent: String::new(),
            valuation_class: "forest".into(),
            note: String::new(),
            aliases: String::new(),
            xie_type: String::new(),
        }];
        let text = "valuation_class,indicator,rate,unit,year,scope,source,status\n\
                    forest,water_conservation,63.75,mm/yr,2017,TH,x,D\n\
                    forest,carbon_sequestration,390.1,g C/m2/yr,2015,SX,y,V\n\
                    forest,flood_regulation,300,mm/yr,2014,N,z,D\n\
                    forest,air_purification.dust,10110,kg/ha/yr,2005,N,w,V2\n\
                    forest,soil_retention,41610,t/km2/yr,2019,SX,v,U\n\
                    forest,npp_dry_matter,820,g DM/m2/yr,2015,SX,u,U\n\
                    forest,climate_regulation.water_surface,1000,mm/yr,2010,N,t,U\n";
        let mut issues = Issues::new();
        let rates = load_rates(
            text,
            &classes,
            &crate::account::registry::demand(),
            &mut issues,
        );
        assert!(!issues.has_errors(), "{issues:?}");
        let base: Vec<f64> = rates.iter().map(|r| r.rate_base).collect();
        let want = [637.5, 3.901, 3000.0, 10.11, 416.1, 8.2, 10_000.0];
        for (got, want) in base.iter().zip(want) {
            assert!((got - want).abs() < 1e-9, "{base:?}");
        }
    }

    #[test]
    fn transpiration_heat_converts_to_kwh_with_days_and_efficiency() {
        let mut rates = vec![Rate {
            valuation_class: "forest".into(),
            indicator: "climate_regulation.vegetation".into(),
            rate: 360.0,
            unit: "kJ/m2/d".into(),
            year: String::new(),
            scope: "N".into(),
            source: "s".into(),
            status: "U".into(),
            low: None,
            high: None,
            rate_base: 360.0,
        }];
        let param = |v: f64, unit: &str| Price {
            value: v,
            unit: unit.into(),
            year: 2017,
            scope: "N".into(),
            source: "s".into(),
            status: "V".into(),
            note: String::new(),
            ..Price::default()
        };
        let mut issues = Issues::new();
        transpiration_to_kwh(&mut rates, &BTreeMap::new(), &mut issues);
        assert!(issues.has_errors());
        let parameters = BTreeMap::from([
            ("ac_days".to_string(), param(90.0, "d")),
            ("ac_efficiency".to_string(), param(3.0, "1")),
        ]);
        let mut issues = Issues::new();
        transpiration_to_kwh(&mut rates, &parameters, &mut issues);
        assert!(!issues.has_errors());
        // 360 kJ/m²/d × 10⁴ m²/ha × 90 d / 3600 / 3 = 30,000 kWh/ha/yr.
        assert!((rates[0].rate_base - 30_000.0).abs() < 1e-9);
    }

    #[test]
    fn parameters_convert_percent_and_derive_per_tonne_prices() {
        let text = r#"
[prices.soil_dredging]
value = 10
unit = "元/m³"
year = 2010
scope = "N"
source = "s"
status = "V"

[parameters.sediment_ratio]
value = 24
unit = "%"
year = 1999
scope = "N"
source = "s"
status = "V"

[parameters.soil_bulk_density]
value = 1.2
unit = "t/m³"
year = 2011
scope = "N"
source = "s"
status = "V2"
"#;
        let mut issues = Issues::new();
        let (prices, parameters) =
            load_prices(text, &crate::account::registry::demand(), &mut issues);
        // Only the missing required prices are reported.
        assert!(
            issues
                .all()
                .iter()
                .all(|i| i.message.starts_with("missing price"))
        );
        assert!((parameters["sediment_ratio"].value - 0.24).abs() < 1e-12);
        // 0.24 / 1.2 × 10 = 2 元/t soil; no N and P terms without their prices; grade V2, year 2011.
        let soil = &prices["soil_retention"];
        assert!((soil.value - 2.0).abs() < 1e-12);
        assert_eq!((soil.status.as_str(), soil.year), ("V2", 2011));
        assert!(soil.source.starts_with("derived: sediment_ratio 0.24"));
        assert!(!prices.contains_key("sand_fixation"));
    }

    #[test]
    fn missing_rate_coverage_and_bad_units_name_file_and_line() {
        let classes = vec![LandClass {
            land_class: "草地".into(),
            level: 1,
            parent: String::new(),
            valuation_class: "grassland".into(),
            note: String::new(),
            aliases: String::new(),
            xie_type: String::new(),
        }];
        let text = "valuation_class,indicator,rate,unit,year,scope,source,status\n\
                    grassland,water_conservation,10,acre-feet,2017,N,x,V\n";
        let mut issues = Issues::new();
        load_rates(
            text,
            &classes,
            &crate::account::registry::demand(),
            &mut issues,
        );
        let all: Vec<String> = issues.all().iter().map(|i| i.to_string()).collect();
        assert!(
            all.iter()
                .any(|m| m.contains("service_rates.csv:2") && m.contains("acre-feet")),
            "{all:?}"
        );
        assert!(
            all.iter()
                .any(|m| m
                    .contains("no carbon_sequestration rate for valuation class \"grassland\"")),
            "{all:?}"
        );
    }

    /// Issue 12, item 3: a price of another year is brought to the base year with a named
    /// deflator series, shown with its arithmetic; one without a series or a reason is warned.
    #[test]
    fn prices_of_another_year_are_indexed_to_the_base_year_with_their_series() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        // Water (2010): 2.6 元/m³ × the national CPI 2011…2021 (NBS, previous year = 100).
        let p = coef.price("water_household").unwrap();
        let i = p.indexed.as_ref().unwrap();
        let by_hand = crate::account::testing::cpi_to_2021(2010);
        assert_eq!((i.published, i.from, i.to), (2.6, 2010, 2021));
        assert!((i.factor - by_hand).abs() < 1e-12);
        assert!((p.value - 2.6 * by_hand).abs() < 1e-12);
        assert!(i.text().starts_with("× cpi_national 2010→2021 = 1.29"));
        // Carbon is a 2021 price: not indexed.
        assert!(coef.price("carbon").unwrap().indexed.is_none());
        let d = &coef.deflators;
        assert!(
            (chain_index(d, "cpi_national", 2021, 2010).unwrap() * by_hand - 1.0).abs() < 1e-12
        );
        assert!(
            chain_index(d, "cpi_national", 2005, 2021)
                .unwrap_err()
                .contains("has no 2006")
        );
        assert!(
            chain_index(d, "ppi", 2010, 2021)
                .unwrap_err()
                .contains("not in deflators.csv")
        );
    }

    #[test]
    fn a_price_of_another_year_without_series_or_reason_is_warned() {
        let demand = crate::account::registry::demand();
        let text = "[prices.water_household]\nvalue = 2.6\nunit = \"元/m³\"\nyear = 2010\nscope = \"s\"\nsource = \"s\"\nstatus = \"V\"\n\n[prices.water_industry]\nvalue = 3.6\nunit = \"元/m³\"\nyear = 2010\nscope = \"s\"\nsource = \"s\"\nstatus = \"V\"\nnot_indexed = \"a 2021 tariff\"\ndeflator = \"cpi_national\"\n";
        let mut issues = Issues::new();
        let (mut prices, parameters) = load_prices(text, &demand, &mut issues);
        index_prices(
            text,
            &mut prices,
            &parameters,
            &[],
            2021,
            &demand,
            &mut issues,
        );
        let all: Vec<String> = issues.all().iter().map(|i| i.to_string()).collect();
        assert!(
            all.iter()
                .any(|m| m.contains("prices.toml:1") && m.contains("used as published")),
            "{all:?}"
        );
        assert!(
            all.iter()
                .any(|m| m.contains("prices.toml:9") && m.contains("not both")),
            "{all:?}"
        );
        assert_eq!(prices["water_household"].value, 2.6);
    }
}
