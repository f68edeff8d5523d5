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

/// Price keys the accounts of this version need.
pub const REQUIRED_PRICES: &[(&str, &[&str])] = &[
    ("water_agriculture", &["元/m3"]),
    ("water_industry", &["元/m3"]),
    ("water_household", &["元/m3"]),
    ("water_ecology", &["元/m3"]),
    ("reservoir_storage", &["元/m3"]),
    ("carbon", &["元/tc", "元/tco2"]),
    ("oxygen", &["元/to2", "元/t"]),
];

/// Price keys an indicator uses when the set values it (units accepted).
pub const OPTIONAL_PRICES: &[(&str, &[&str])] = &[
    ("soil_dredging", &["元/m3"]),
    ("soil_nitrogen", &["元/t"]),
    ("soil_phosphorus", &["元/t"]),
    ("sand_control", &["元/m2"]),
    ("so2_treatment", &["元/t"]),
    ("nox_treatment", &["元/t"]),
    ("dust_treatment", &["元/t"]),
    ("cod_treatment", &["元/t"]),
    ("nh3n_treatment", &["元/t"]),
    ("tp_treatment", &["元/t"]),
    ("electricity", &["元/kwh"]),
    ("hydropower", &["元/kwh"]),
    ("travel_cost", &["元/人次"]),
];

/// A physical or valuation parameter (prices.toml `[parameters.*]`): accepted units with the
/// factor to the engine's value (fractions for `%`), and its plausible range in the engine's
/// unit. A share (a fraction of 1) written as a percentage (24 for 0.24) is refused with a hint.
#[derive(Debug, Clone, Copy)]
pub struct ParameterSpec {
    /// Key.
    pub key: &'static str,
    /// Accepted units and factors.
    pub units: &'static [(&'static str, f64)],
    /// Plausible range (inclusive) in the engine's unit.
    pub range: (f64, f64),
    /// A fraction of 1 (shares, contents, ratios of parts to a whole).
    pub share: bool,
}

const SHARE_UNITS: &[(&str, f64)] = &[("1", 1.0), ("%", 0.01)];

/// The parameters the formulas use.
pub const PARAMETERS: &[ParameterSpec] = &[
    ParameterSpec {
        key: "sediment_ratio",
        units: SHARE_UNITS,
        range: (0.0, 1.0),
        share: true,
    },
    ParameterSpec {
        key: "soil_bulk_density",
        units: &[("t/m3", 1.0)],
        range: (0.5, 2.5),
        share: false,
    },
    ParameterSpec {
        key: "soil_n_content",
        units: SHARE_UNITS,
        range: (0.0, 0.2),
        share: true,
    },
    ParameterSpec {
        key: "soil_p_content",
        units: SHARE_UNITS,
        range: (0.0, 0.2),
        share: true,
    },
    ParameterSpec {
        key: "sand_bulk_density",
        units: &[("t/m3", 1.0)],
        range: (0.5, 2.5),
        share: false,
    },
    ParameterSpec {
        key: "sand_cover_depth",
        units: &[("m", 1.0)],
        range: (0.001, 2.0),
        share: false,
    },
    // Air-conditioner energy-efficiency ratio (EER): a ratio of energies, not a share.
    ParameterSpec {
        key: "ac_efficiency",
        units: &[("1", 1.0)],
        range: (1.0, 10.0),
        share: false,
    },
    ParameterSpec {
        key: "latent_heat",
        units: &[("j/g", 1.0)],
        range: (2000.0, 2600.0),
        share: false,
    },
    ParameterSpec {
        key: "humidifier_energy",
        units: &[("kwh/m3", 1.0)],
        range: (1.0, 1000.0),
        share: false,
    },
    ParameterSpec {
        key: "reservoir_flood_share",
        units: SHARE_UNITS,
        range: (0.0, 1.0),
        share: true,
    },
    ParameterSpec {
        key: "ac_days",
        units: &[("d", 1.0), ("d/yr", 1.0)],
        range: (1.0, 366.0),
        share: false,
    },
];

/// Plausible range of a price (元 per its accepted units), wide enough for every accepted unit
/// (元/t C and 元/t CO₂): outside it, a unit or a decimal point is wrong.
pub fn price_range(key: &str) -> Option<(f64, f64)> {
    Some(match key {
        "water_agriculture" | "water_industry" | "water_household" | "water_ecology" => {
            (0.01, 100.0)
        }
        "reservoir_storage" => (0.1, 100.0),
        "carbon" => (1.0, 10_000.0),
        "oxygen" => (10.0, 10_000.0),
        "soil_dredging" => (0.1, 1000.0),
        "soil_nitrogen" | "soil_phosphorus" => (100.0, 100_000.0),
        "sand_control" => (0.01, 1000.0),
        "so2_treatment" | "nox_treatment" | "dust_treatment" | "cod_treatment"
        | "nh3n_treatment" | "tp_treatment" => (10.0, 100_000.0),
        "electricity" | "hydropower" => (0.01, 10.0),
        "travel_cost" => (1.0, 100_000.0),
        _ => return None,
    })
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

/// Rate-based indicators and the units their per-hectare rates may be written in,
/// with the factor to the engine's unit (m³/ha/yr; t C/ha/yr).
pub const RATE_UNITS: &[(&str, &[(&str, f64)])] = &[
    (
        "water_conservation",
        &[("m3/ha/yr", 1.0), ("mm/yr", 10.0), ("m3/km2/yr", 0.01)],
    ),
    (
        "carbon_sequestration",
        &[
            ("tc/ha/yr", 1.0),
            ("gc/m2/yr", 0.01),
            ("tco2/ha/yr", 12.0 / 44.0),
        ],
    ),
    ("runoff_coefficient", &[("1", 1.0)]),
    ("npp_dry_matter", &[("tdm/ha/yr", 1.0), ("gdm/m2/yr", 0.01)]),
    ("soil_retention", &[("t/ha/yr", 1.0), ("t/km2/yr", 0.01)]),
    ("sand_fixation", &[("t/ha/yr", 1.0), ("t/km2/yr", 0.01)]),
    (
        "flood_regulation",
        &[("m3/ha/yr", 1.0), ("mm/yr", 10.0), ("m/yr", 10_000.0)],
    ),
    (
        "air_purification.so2",
        &[("kg/ha/yr", 1e-3), ("t/ha/yr", 1.0)],
    ),
    (
        "air_purification.nox",
        &[("kg/ha/yr", 1e-3), ("t/ha/yr", 1.0)],
    ),
    (
        "air_purification.dust",
        &[("kg/ha/yr", 1e-3), ("t/ha/yr", 1.0)],
    ),
    (
        "water_purification.cod",
        &[("kg/ha/yr", 1e-3), ("t/ha/yr", 1.0)],
    ),
    (
        "water_purification.nh3n",
        &[("kg/ha/yr", 1e-3), ("t/ha/yr", 1.0)],
    ),
    (
        "water_purification.tp",
        &[("kg/ha/yr", 1e-3), ("t/ha/yr", 1.0)],
    ),
    // kJ/m²/d (heat of transpiration EPP) is converted with [parameters] ac_days and ac_efficiency.
    (
        "climate_regulation.vegetation",
        &[("kwh/ha/yr", 1.0), ("kj/m2/d", 1.0)],
    ),
    (
        "climate_regulation.water_surface",
        &[("mm/yr", 10.0), ("m3/ha/yr", 1.0)],
    ),
    ("pest_control", &[("元/ha/yr", 1.0)]),
    ("biodiversity", &[("元/ha/yr", 1.0)]),
];

/// Rate indicators every valuation class must have; the others are optional, but a set that
/// gives one for any class must give it for all.
pub const REQUIRED_RATES: &[&str] = &["water_conservation", "carbon_sequestration"];

/// Upper bound of a plausible rate, per hectare and year, in the engine's unit; every
/// indicator of [`RATE_UNITS`] has one (tested), so no rate is bounded by a silent default.
pub fn rate_max(indicator: &str) -> Option<f64> {
    Some(match indicator {
        "water_conservation" => 20_000.0,
        "flood_regulation" | "climate_regulation.water_surface" => 50_000.0,
        "runoff_coefficient" => 1.0,
        "soil_retention" | "sand_fixation" => 5_000.0,
        "climate_regulation.vegetation" => 1e8,
        "pest_control" | "biodiversity" => 1e6,
        // t C/ha/yr and t dry matter/ha/yr: the most productive forests fix ~15 t C/ha/yr.
        "carbon_sequestration" | "npp_dry_matter" => 50.0,
        // t/ha/yr of pollutant retained or dust captured.
        "air_purification.so2"
        | "air_purification.nox"
        | "air_purification.dust"
        | "water_purification.cod"
        | "water_purification.nh3n"
        | "water_purification.tp" => 50.0,
        _ => return None,
    })
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
    /// SHA-256 of each file when the version was made.
    pub files: BTreeMap<String, String>,
}

/// Method choices that sources disagree on (methodology §9), made explicit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Switches {
    /// `gross_output` (总产值) or `value_added` (增加值) for agriculture/forestry/husbandry/fishery.
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
    /// Set on load: the rate in the engine's unit (m³/ha/yr or t C/ha/yr).
    #[serde(skip)]
    pub rate_base: f64,
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

/// A unit price.
#[derive(Debug, Clone, Deserialize)]
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
    /// Transfer-payment allocation rule.
    pub transfer_policy: Option<transfer::Policy>,
    /// SHA-256 of the whole set (manifest and files, in order).
    pub set_sha256: String,
    /// Files whose hash differs from the manifest.
    pub modified_files: Vec<String>,
    /// Warnings found while loading.
    pub warnings: Issues,
    /// Position of each region in `regions` by code: lookups are O(1), not a scan (national
    /// runs look up every county many times).
    region_index: std::collections::HashMap<String, usize>,
    /// Position of each land class by every normalised name and alias.
    land_class_index: std::collections::HashMap<String, usize>,
    /// Position of each forest type by its normalised name.
    forest_type_index: std::collections::HashMap<String, usize>,
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

/// Normalises a unit string for comparison: no spaces, ASCII lower case, ³ → 3.
pub fn unit_key(unit: &str) -> String {
    crate::units::to_half_width(unit)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '·')
        .map(|c| match c {
            '³' => '3',
            '²' | '₂' => '2',
            c => c.to_ascii_lowercase(),
        })
        .collect()
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
                if !expected.contains(&name) {
                    issues.error(
                        format!("{file}:1"),
                        format!(
                            "unknown column \"{name}\" (expected {})",
                            expected.join(", ")
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
    pub fn load(dir: Option<&Path>, strict: bool) -> Result<Self> {
        let source = match dir {
            Some(d) => SetSource::Dir(d),
            None => SetSource::Embedded,
        };
        Self::load_from(source, strict)
    }

    /// Loads and validates a set from any [`SetSource`].
    ///
    /// # Errors
    /// As [`Coefficients::load`].
    pub fn load_from(source: SetSource<'_>, strict: bool) -> Result<Self> {
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
        let mut set_hasher_input = manifest_text.clone().into_bytes();
        let mut modified_files = Vec::new();
        for name in FILES {
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
                if !FILES.contains(&key.as_str()) {
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
            if !["gross_output", "value_added"].contains(&m.switches.provisioning_basis.as_str()) {
                issues.error(
                    "manifest.toml",
                    format!(
                        "switches.provisioning_basis must be \"gross_output\" or \"value_added\", found \"{}\"",
                        m.switches.provisioning_basis
                    ),
                );
            }
        }
        let regions = load_regions(&texts["regions.csv"], &mut issues);
        let land_classes = load_land_classes(&texts["land_classes.csv"], &mut issues);
        let mut rates = load_rates(&texts["service_rates.csv"], &land_classes, &mut issues);
        let forest_types = load_forest_types(&texts["forest_types.csv"], &mut issues);
        let (prices, parameters) = load_prices(&texts["prices.toml"], &mut issues);
        transpiration_to_kwh(&mut rates, &parameters, &mut issues);
        let deflators = load_deflators(&texts["deflators.csv"], &mut issues);
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
            Ok(s) => {
                for (key, cost) in &s.unit_costs {
                    if !crate::schema::ENVIRONMENT_ITEMS.contains(&key.as_str()) {
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
                if let Err(message) = s.resolve() {
                    issues.error("esv.toml", message);
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
        let mut land_class_index = std::collections::HashMap::new();
        for (i, c) in land_classes.iter().enumerate() {
            for n in c.names() {
                land_class_index.entry(n).or_insert(i);
            }
        }
        let mut forest_type_index = std::collections::HashMap::new();
        for (i, t) in forest_types.iter().enumerate() {
            forest_type_index
                .entry(crate::schema::normalise_header(&t.forest_type).0)
                .or_insert(i);
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
        // Indexed at load (every name and alias); a set edited since falls back to a scan.
        match self
            .land_class_index
            .get(&key)
            .and_then(|&i| self.land_classes.get(i))
        {
            Some(c) if c.names().any(|n| n == key) => Some(c),
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
            .and_then(|&i| self.forest_types.get(i))
        {
            Some(t) if matches(&t) => Some(t),
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

fn regions_index(regions: &[Region]) -> std::collections::HashMap<String, usize> {
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

fn load_rates(text: &str, classes: &[LandClass], issues: &mut Issues) -> Vec<Rate> {
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
        ],
        issues,
    );
    let valuation_classes: BTreeSet<&str> =
        classes.iter().map(|c| c.valuation_class.as_str()).collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (line, mut r) in rows {
        let at = format!("{FILE}:{line}");
        let Some((_, units)) = RATE_UNITS.iter().find(|(k, _)| *k == r.indicator) else {
            issues.error(
                &at,
                format!(
                    "unknown indicator \"{}\" (rate-based indicators: {})",
                    r.indicator,
                    RATE_UNITS
                        .iter()
                        .map(|u| u.0)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            continue;
        };
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
        let max = rate_max(&r.indicator).unwrap_or(0.0);
        if r.indicator == "runoff_coefficient"
            && unit_key(&r.unit) == "1"
            && let Some(hint) = percentage_hint(r.rate)
        {
            issues.error(&at, format!("runoff coefficient {}: {hint}", r.rate));
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
        if !seen.insert((r.valuation_class.clone(), r.indicator.clone())) {
            issues.error(
                &at,
                format!("{} / {} listed twice", r.valuation_class, r.indicator),
            );
        }
        out.push(r);
    }
    let given: BTreeSet<String> = seen.iter().map(|(_, i)| i.clone()).collect();
    for (indicator, _) in RATE_UNITS {
        if !REQUIRED_RATES.contains(indicator) && !given.contains(*indicator) {
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

fn load_prices(text: &str, issues: &mut Issues) -> PricesAndParameters {
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
        match REQUIRED_PRICES
            .iter()
            .chain(OPTIONAL_PRICES)
            .find(|(k, _)| k == key)
        {
            None => issues.error(
                &at,
                format!(
                    "unknown price key \"{key}\" (known: {})",
                    REQUIRED_PRICES
                        .iter()
                        .chain(OPTIONAL_PRICES)
                        .map(|p| p.0)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            Some((_, units)) => {
                if !units.contains(&unit_key(&price.unit).as_str()) {
                    issues.error(
                        &at,
                        format!(
                            "unit \"{}\" not accepted for {key} (use {})",
                            price.unit,
                            units.join(" or ")
                        ),
                    );
                }
            }
        }
        match price_range(key) {
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
    }
    for (key, _) in REQUIRED_PRICES {
        if !parsed.prices.contains_key(*key) {
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
        let Some(spec) = PARAMETERS.iter().find(|p| p.key == key) else {
            issues.error(
                &at,
                format!(
                    "unknown parameter \"{key}\" (known: {})",
                    PARAMETERS
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
        let mut p = p.clone();
        p.value *= factor;
        parameters.insert(key.clone(), p);
    }
    let mut prices = parsed.prices;
    derive_prices(&mut prices, &parameters);
    (prices, parameters)
}

/// The per-tonne prices of soil retention and sand fixation, derived from their parts
/// (methodology §2.3, §2.4): soil = λ/ρ × c_dredging + C_N × P_N + C_P × P_P (元/t soil);
/// sand = P_sand-control / (ρ_s × h) (元/t sand). Added as prices with status D and the
/// arithmetic as source, so that the book links them like any price.
fn derive_prices(prices: &mut BTreeMap<String, Price>, parameters: &BTreeMap<String, Price>) {
    let worst = |parts: &[&Price]| {
        parts
            .iter()
            .map(|p| p.status.as_str())
            .max_by_key(|s| STATUSES.iter().position(|x| x == s))
            .unwrap_or("D")
            .to_string()
    };
    let year = |parts: &[&Price]| parts.iter().map(|p| p.year).max().unwrap_or_default();
    if let (Some(c), Some(l), Some(rho)) = (
        prices.get("soil_dredging"),
        parameters.get("sediment_ratio"),
        parameters.get("soil_bulk_density"),
    ) {
        let mut value = l.value / rho.value * c.value;
        let mut text = format!(
            "derived: sediment_ratio {} / soil_bulk_density {} t/m³ × soil_dredging {} 元/m³",
            l.value, rho.value, c.value
        );
        let mut parts = vec![c, l, rho];
        for (content, price, label) in [
            ("soil_n_content", "soil_nitrogen", "N"),
            ("soil_p_content", "soil_phosphorus", "P"),
        ] {
            if let (Some(k), Some(p)) = (parameters.get(content), prices.get(price)) {
                value += k.value * p.value;
                text.push_str(&format!(
                    " + {content} {} × {price} {} 元/t ({label})",
                    k.value, p.value
                ));
                parts.push(k);
                parts.push(p);
            }
        }
        let derived = Price {
            value,
            unit: "元/t".into(),
            year: year(&parts),
            scope: "derived".into(),
            source: text,
            status: worst(&parts),
            note: "price per tonne of soil retained (prices.toml and its [parameters])".into(),
        };
        prices.insert("soil_retention".into(), derived);
    }
    if let (Some(c), Some(rho), Some(h)) = (
        prices.get("sand_control"),
        parameters.get("sand_bulk_density"),
        parameters.get("sand_cover_depth"),
    ) {
        let derived = Price {
            value: c.value / (rho.value * h.value),
            unit: "元/t".into(),
            year: year(&[c, rho, h]),
            scope: "derived".into(),
            source: format!(
                "derived: sand_control {} 元/m² / (sand_bulk_density {} t/m³ × sand_cover_depth {} m)",
                c.value, rho.value, h.value
            ),
            status: worst(&[c, rho, h]),
            note: "price per tonne of sand fixed (prices.toml and its [parameters])".into(),
        };
        prices.insert("sand_fixation".into(), derived);
    }
}

/// Records the current SHA-256 of every file in `dir/manifest.toml` (an edit made on purpose).
///
/// The `[files]` table must be the last table of the manifest; it is rewritten in place.
///
/// # Errors
/// [`Error::Io`] when a file cannot be read or the manifest written; [`Error::Invalid`] when the
/// manifest has no `[files]` table.
pub fn rehash(dir: &Path) -> Result<Vec<(String, String)>> {
    let manifest_path = dir.join("manifest.toml");
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| Error::io(&manifest_path, e))?;
    let Some(pos) = text.find("\n[files]") else {
        let mut issues = Issues::new();
        issues.error("manifest.toml", "no [files] table to rewrite");
        issues.into_result()?;
        return Ok(Vec::new());
    };
    let mut out = text[..pos].to_string();
    out.push_str("\n[files]\n");
    let mut hashes = Vec::new();
    for name in FILES {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let hash = sha256_hex(&bytes);
        out.push_str(&format!("\"{name}\" = \"{hash}\"\n"));
        hashes.push(((*name).to_string(), hash));
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
        let c = Coefficients::load(None, true).unwrap();
        assert_eq!(c.regions.len(), 117);
        assert!(c.modified_files.is_empty());
        assert!(c.price("carbon").is_some());
        assert!(c.land_class("乔木林地").is_some());
        assert!(c.forest_type("油松").is_some());
    }

    #[test]
    fn every_rate_indicator_has_a_plausible_range() {
        for (indicator, _) in RATE_UNITS {
            assert!(rate_max(indicator).is_some(), "{indicator} has no range");
        }
        for (key, _) in REQUIRED_PRICES.iter().chain(OPTIONAL_PRICES) {
            assert!(price_range(key).is_some(), "price {key} has no range");
        }
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
        load_prices(&text, &mut issues);
        let found: Vec<String> = issues.all().iter().map(ToString::to_string).collect();
        assert!(
            found.iter().any(|m| m.contains("prices.toml:")
                && m.contains("sediment_ratio = 24: a percentage? write 0.24")),
            "{found:?}"
        );
        // The same value with unit "%" is a fraction of 0.24: accepted.
        let text = text.replacen("value = 24\nunit = \"1\"", "value = 24\nunit = \"%\"", 1);
        let mut issues = Issues::new();
        load_prices(&text, &mut issues);
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
        load_prices(&edited, &mut issues);
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
        let mut c = Coefficients::load(None, false).unwrap();
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
        let rates = load_rates(text, &classes, &mut issues);
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
        let (prices, parameters) = load_prices(text, &mut issues);
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
        load_rates(text, &classes, &mut issues);
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
}
