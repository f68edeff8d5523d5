//! The service registry: everything the engine knows about one ecosystem service — labels,
//! category, unit, the input columns, rates, prices and parameters it reads, and how it is
//! valued. Coefficient loading, the checks, `explain`, the book and the docs' list derive from it.

use std::collections::BTreeMap;

use super::overrides::Overrides;
use super::rated::{Component, Valuation};
use super::{
    Category, Line, hydropower_recreation, products, rated, water_conservation, water_supply,
};
use crate::coefficients::{
    Coefficients, Demand, DerivedPrice, ParameterDefault, ParameterSpec, PriceSpec, RateSpec,
    SHARE_UNITS,
};
use crate::error::{Issues, Result};
use crate::schema::{DECLARED_COLUMN_PREFIX as DECLARED_COLUMN, col};
use crate::validate::Inputs;

/// What a family's valuation function sees.
pub struct Context<'a> {
    /// The validated inputs.
    pub inputs: &'a Inputs,
    /// The coefficient set.
    pub coef: &'a Coefficients,
    /// The 实物量 sheet, resolved.
    pub overrides: &'a Overrides,
    /// Warnings of the valuation (kept on the Checks sheet).
    pub warnings: &'a mut Issues,
    /// The shared texts of the lines (one copy of each county code, unit, method …).
    pub texts: super::Texts,
    /// The land-cover rows with their valuation classes, read once for every family.
    pub(crate) land: &'a super::LandCover,
}

/// A valuation function that values one or more services of the registry together (the four
/// product indicators come from one economy table), returning lines in
/// [`super::LINE_COLUMNS`] for exactly the services that name it.
pub struct Family {
    /// Name, for messages and tests.
    pub name: &'static str,
    /// The lines.
    pub lines: fn(&mut Context<'_>) -> Result<Vec<Line>>,
}

impl std::fmt::Debug for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// How a service is valued.
#[derive(Debug)]
pub enum ValuedBy {
    /// Area × per-hectare rate of each component × price (or a value per hectare); the rated
    /// family values every such service, and the 实物量 sheet can replace its estimate.
    Rates {
        /// Formula shown on each line.
        formula: &'static str,
        /// Its physical components, each with its rate.
        components: &'static [Component],
    },
    /// A family function.
    Family(&'static Family),
}

/// One ecosystem service (an indicator of the GEP account).
#[derive(Debug)]
pub struct Service {
    /// Machine key, also the golden-CSV column stem.
    pub key: &'static str,
    /// Chinese label.
    pub label_zh: &'static str,
    /// English label.
    pub label_en: &'static str,
    /// GEP category.
    pub category: Category,
    /// Unit of the physical quantity; `None` when the account has only a value.
    pub quantity_unit: Option<&'static str>,
    /// Anchor of the formula in docs/methodology.md.
    pub doc: &'static str,
    /// Input columns it reads (canonical keys of `schema::col`; each is in the schema and the
    /// template, tested).
    pub inputs: &'static [&'static str],
    /// Per-hectare rates it reads besides its components' (service_rates.csv).
    pub rates: &'static [RateSpec],
    /// Prices it reads (prices.toml).
    pub prices: &'static [PriceSpec],
    /// Parameters it reads (prices.toml `[parameters]`).
    pub parameters: &'static [ParameterSpec],
    /// Prices derived on loading from its prices and parameters.
    pub derived_prices: &'static [DerivedPrice],
    /// A 实物量 row may give its quantity for a county, replacing the estimate (a service valued
    /// by rates always may, per component; a family service when its family reads them).
    pub physical_rows: bool,
    /// Why it has no line when it has none (English, Chinese); `None` for the generic reason.
    /// Rate-based services compute theirs from their rates.
    pub missing: Option<(&'static str, &'static str)>,
    /// How it is valued.
    pub valued_by: ValuedBy,
}

impl Service {
    /// The family that values it.
    pub fn family(&self) -> &'static Family {
        match self.valued_by {
            ValuedBy::Rates { .. } => &RATED,
            ValuedBy::Family(f) => f,
        }
    }

    /// Its rate components (empty unless valued by rates).
    pub fn components(&self) -> &'static [Component] {
        match self.valued_by {
            ValuedBy::Rates { components, .. } => components,
            ValuedBy::Family(_) => &[],
        }
    }

    /// Every rate it reads: its components' and its own.
    pub fn all_rates(&self) -> Vec<&'static RateSpec> {
        let components = self.components();
        let own = self.rates;
        components
            .iter()
            .map(|c| &c.rate)
            .chain(own.iter())
            .collect()
    }
}

// ---- valuation families -------------------------------------------------------------------

static PRODUCTS: Family = Family {
    name: "products",
    lines: |c| products::lines(c.inputs, c.coef, &mut c.texts),
};
static WATER_SUPPLY: Family = Family {
    name: "water_supply",
    lines: |c| water_supply::lines(c.inputs, c.coef, &mut c.texts),
};
static HYDROPOWER: Family = Family {
    name: "hydropower",
    lines: |c| hydropower_recreation::hydropower_lines(c.inputs, c.coef),
};
static WATER_CONSERVATION: Family = Family {
    name: "water_conservation",
    lines: |c| water_conservation::lines(c.inputs, c.coef, c.overrides, c.land, &mut c.texts),
};
static CARBON: Family = Family {
    name: "carbon",
    lines: |c| {
        let lines = super::carbon::lines(c.inputs, c.coef, c.land, c.warnings, &mut c.texts)?;
        super::carbon::with_overrides(lines, c.overrides, c.coef)
    },
};
static RECREATION: Family = Family {
    name: "recreation",
    lines: |c| hydropower_recreation::recreation_lines(c.inputs, c.coef),
};
/// Every service valued by rates ([`ValuedBy::Rates`]).
pub static RATED: Family = Family {
    name: "rated",
    lines: |c| {
        rated::lines(
            c.inputs,
            c.coef,
            c.overrides,
            c.land,
            c.warnings,
            &mut c.texts,
        )
    },
};

// ---- shared specifications ----------------------------------------------------------------

const fn price(key: &'static str, units: &'static [&'static str], range: (f64, f64)) -> PriceSpec {
    PriceSpec {
        key,
        units,
        range,
        required: false,
    }
}

const fn required_price(
    key: &'static str,
    units: &'static [&'static str],
    range: (f64, f64),
) -> PriceSpec {
    PriceSpec {
        key,
        units,
        range,
        required: true,
    }
}

const fn rate(key: &'static str, units: &'static [(&'static str, f64)], max: f64) -> RateSpec {
    RateSpec {
        key,
        units,
        max,
        required: false,
        share: false,
    }
}

const fn parameter(
    key: &'static str,
    units: &'static [(&'static str, f64)],
    range: (f64, f64),
) -> ParameterSpec {
    ParameterSpec {
        key,
        units,
        range,
        share: false,
        default: None,
    }
}

const fn share(key: &'static str, range: (f64, f64)) -> ParameterSpec {
    ParameterSpec {
        key,
        units: SHARE_UNITS,
        range,
        share: true,
        default: None,
    }
}

/// A stoichiometric factor of the carbon and oxygen formulas, with the engine's default
/// (`unit`: accepted spelling and the one shown).
const fn factor(
    key: &'static str,
    unit: (&'static [(&'static str, f64)], &'static str),
    range: (f64, f64),
    value: f64,
    source: &'static str,
) -> ParameterSpec {
    ParameterSpec {
        key,
        units: unit.0,
        range,
        share: false,
        default: Some(ParameterDefault {
            value,
            unit: unit.1,
            year: 2008,
            source,
            status: "V",
        }),
    }
}

/// The stoichiometric factors of carbon sequestration and oxygen release: every one a named
/// parameter a set may change (some published accounts use 1.2 t O₂ per t of dry matter).
const CARBON_FACTORS: &[ParameterSpec] = &[
    factor(
        "co2_per_carbon",
        (&[("tco2/tc", 1.0)], "t CO₂/t C"),
        (3.6, 3.7),
        44.0 / 12.0,
        "molar masses: CO₂ 44, C 12 (44/12)",
    ),
    factor(
        "o2_per_carbon",
        (&[("to2/tc", 1.0)], "t O₂/t C"),
        (2.6, 2.7),
        32.0 / 12.0,
        "molar masses: O₂ 32, C 12 (32/12)",
    ),
    factor(
        "co2_per_dry_matter",
        (&[("tco2/tdm", 1.0)], "t CO₂/t DM"),
        (1.5, 1.8),
        1.63,
        "photosynthesis 6CO₂ + 6H₂O → C₆H₁₂O₆ + 6O₂: 264/162 = 1.63 t CO₂ per t of dry matter, as in LY/T 1721-2008",
    ),
    factor(
        "o2_per_dry_matter",
        (&[("to2/tdm", 1.0)], "t O₂/t DM"),
        (1.0, 1.4),
        1.19,
        "photosynthesis: 192/162 = 1.19 t O₂ per t of dry matter, as in LY/T 1721-2008 (some accounts use 1.2)",
    ),
];

const WATER_PRICE_RANGE: (f64, f64) = (0.01, 100.0);
const RESERVOIR_STORAGE: PriceSpec = required_price("reservoir_storage", &["元/m3"], (0.1, 100.0));
const ELECTRICITY: PriceSpec = price("electricity", &["元/kwh"], (0.01, 10.0));
const TREATMENT_RANGE: (f64, f64) = (10.0, 100_000.0);
/// t/ha/yr of pollutant retained or dust captured.
const POLLUTANT_UNITS: &[(&str, f64)] = &[("kg/ha/yr", 1e-3), ("t/ha/yr", 1.0)];
const POLLUTANT_MAX: f64 = 50.0;
const SOIL_UNITS: &[(&str, f64)] = &[("t/ha/yr", 1.0), ("t/km2/yr", 0.01)];
/// t C/ha/yr and t dry matter/ha/yr: the most productive forests fix ~15 t C/ha/yr.
const PRODUCTION_MAX: f64 = 50.0;
const NPP_DRY_MATTER: RateSpec = rate(
    "npp_dry_matter",
    &[("tdm/ha/yr", 1.0), ("gdm/m2/yr", 0.01)],
    PRODUCTION_MAX,
);
const CARBON_RATE: RateSpec = RateSpec {
    key: "carbon_sequestration",
    units: &[
        ("tc/ha/yr", 1.0),
        ("gc/m2/yr", 0.01),
        ("tco2/ha/yr", 12.0 / 44.0),
    ],
    max: PRODUCTION_MAX,
    required: true,
    share: false,
};
/// Soil carbon sequestration per hectare (GB/T 38582-2020 §7.4, LY/T 1721-2008: G_soil = A ×
/// F_soil), added to carbon only (it releases no oxygen); optional: a set without it has no
/// soil term.
const SOIL_CARBON_RATE: RateSpec = RateSpec {
    key: "soil_carbon_sequestration",
    units: &[
        ("tc/ha/yr", 1.0),
        ("gc/m2/yr", 0.01),
        ("tco2/ha/yr", 12.0 / 44.0),
    ],
    max: PRODUCTION_MAX,
    required: false,
    share: false,
};
const FOREST_INPUTS: &[&str] = &[
    col::AREA_HA,
    col::LAND_CLASS,
    col::FOREST_TYPE,
    col::STOCK_M3,
    col::GROWTH_M3,
];
const LAND: &[&str] = &[col::LAND_CLASS, col::AREA_HA];

const fn one(rate: RateSpec, rate_unit: &'static str, valuation: Valuation) -> Component {
    Component {
        rate,
        label_zh: "",
        label_en: "",
        rate_unit,
        valuation,
        cap_item: None,
    }
}

const fn pollutant(
    rate_key: &'static str,
    (label_zh, label_en): (&'static str, &'static str),
    price: &'static str,
    cap_item: &'static str,
) -> Component {
    Component {
        rate: rate(rate_key, POLLUTANT_UNITS, POLLUTANT_MAX),
        label_zh,
        label_en,
        rate_unit: "t/ha/yr",
        valuation: Valuation::Price(price),
        cap_item: Some(cap_item),
    }
}

const fn product(
    key: &'static str,
    (label_zh, label_en): (&'static str, &'static str),
    inputs: &'static [&'static str],
) -> Service {
    Service {
        key,
        label_zh,
        label_en,
        category: Category::Provisioning,
        quantity_unit: None,
        doc: "docs/methodology.md#provisioning-products",
        inputs,
        rates: &[],
        prices: &[],
        parameters: &[],
        derived_prices: &[],
        missing: None,
        physical_rows: false,
        valued_by: ValuedBy::Family(&PRODUCTS),
    }
}

/// The services of this version, in book order. Adding one: an entry here, its coefficient
/// rows, a methodology section (docs/architecture.md).
pub const SERVICES: &[Service] = &[
    product(
        "agriculture_products",
        ("农业产品", "Agricultural products"),
        &[
            col::AGRICULTURE_OUTPUT_CNY,
            col::AGRICULTURE_VA_CNY,
            col::AGRICULTURE_NET_CNY,
        ],
    ),
    product(
        "forestry_products",
        ("林业产品", "Forestry products"),
        &[
            col::FORESTRY_OUTPUT_CNY,
            col::FORESTRY_VA_CNY,
            col::FORESTRY_NET_CNY,
        ],
    ),
    product(
        "husbandry_products",
        ("畜牧业产品", "Animal husbandry products"),
        &[
            col::HUSBANDRY_OUTPUT_CNY,
            col::HUSBANDRY_VA_CNY,
            col::HUSBANDRY_NET_CNY,
        ],
    ),
    product(
        "fishery_products",
        ("渔业产品", "Fishery products"),
        &[
            col::FISHERY_OUTPUT_CNY,
            col::FISHERY_VA_CNY,
            col::FISHERY_NET_CNY,
        ],
    ),
    Service {
        key: "water_supply",
        label_zh: "水资源供给",
        label_en: "Water supply",
        category: Category::Provisioning,
        quantity_unit: Some("m³"),
        doc: "docs/methodology.md#water-supply",
        inputs: &[
            col::USE_AGRICULTURE_M3,
            col::USE_INDUSTRY_M3,
            col::USE_HOUSEHOLD_M3,
            col::USE_ECOLOGY_M3,
        ],
        rates: &[],
        prices: &[
            required_price("water_agriculture", &["元/m3"], WATER_PRICE_RANGE),
            required_price("water_industry", &["元/m3"], WATER_PRICE_RANGE),
            required_price("water_household", &["元/m3"], WATER_PRICE_RANGE),
            required_price("water_ecology", &["元/m3"], WATER_PRICE_RANGE),
        ],
        parameters: &[],
        derived_prices: &[],
        missing: None,
        physical_rows: false,
        valued_by: ValuedBy::Family(&WATER_SUPPLY),
    },
    Service {
        key: "hydropower",
        label_zh: "生态能源(水电)",
        label_en: "Hydropower",
        category: Category::Provisioning,
        quantity_unit: Some("kWh"),
        doc: "docs/methodology.md#hydropower",
        inputs: &[col::HYDROPOWER_KWH],
        rates: &[],
        prices: &[price("hydropower", &["元/kwh"], (0.01, 10.0))],
        parameters: &[],
        derived_prices: &[],
        missing: Some((
            "the workbook has no hydropower generation column",
            "输入表没有水电发电量列",
        )),
        physical_rows: false,
        valued_by: ValuedBy::Family(&HYDROPOWER),
    },
    Service {
        key: "water_conservation",
        label_zh: "水源涵养",
        label_en: "Water conservation",
        category: Category::Regulating,
        quantity_unit: Some("m³"),
        doc: "docs/methodology.md#water-conservation",
        inputs: &[
            col::LAND_CLASS,
            col::AREA_HA,
            col::PRECIPITATION_MM,
            col::EVAPOTRANSPIRATION_MM,
        ],
        rates: &[
            RateSpec {
                key: "water_conservation",
                units: &[("m3/ha/yr", 1.0), ("mm/yr", 10.0), ("m3/km2/yr", 0.01)],
                max: 20_000.0,
                required: true,
                share: false,
            },
            RateSpec {
                key: "runoff_coefficient",
                units: &[("1", 1.0)],
                max: 1.0,
                required: false,
                share: true,
            },
        ],
        prices: &[RESERVOIR_STORAGE],
        parameters: &[],
        derived_prices: &[],
        missing: None,
        physical_rows: true,
        valued_by: ValuedBy::Family(&WATER_CONSERVATION),
    },
    Service {
        key: "soil_retention",
        label_zh: "土壤保持",
        label_en: "Soil retention",
        category: Category::Regulating,
        quantity_unit: Some("t"),
        doc: "docs/methodology.md#soil-retention",
        inputs: LAND,
        rates: &[],
        prices: &[
            price("soil_dredging", &["元/m3"], (0.1, 1000.0)),
            price("soil_nitrogen", &["元/t"], (100.0, 100_000.0)),
            price("soil_phosphorus", &["元/t"], (100.0, 100_000.0)),
        ],
        parameters: &[
            share("sediment_ratio", (0.0, 1.0)),
            parameter("soil_bulk_density", &[("t/m3", 1.0)], (0.5, 2.5)),
            share("soil_n_content", (0.0, 0.2)),
            share("soil_p_content", (0.0, 0.2)),
        ],
        derived_prices: &[DerivedPrice {
            key: "soil_retention",
            derive: rated::soil_retention_price,
        }],
        missing: None,
        physical_rows: true,
        valued_by: ValuedBy::Rates {
            formula: "SC = A × sc_class; V = SC × (λ/ρ × c_dredging + C_N × P_N + C_P × P_P)",
            components: &[one(
                rate("soil_retention", SOIL_UNITS, 5_000.0),
                "t/ha/yr",
                Valuation::Price("soil_retention"),
            )],
        },
    },
    Service {
        key: "sand_fixation",
        label_zh: "防风固沙",
        label_en: "Windbreak and sand fixation",
        category: Category::Regulating,
        quantity_unit: Some("t"),
        doc: "docs/methodology.md#windbreak-and-sand-fixation",
        inputs: LAND,
        rates: &[],
        prices: &[price("sand_control", &["元/m2"], (0.01, 1000.0))],
        parameters: &[
            parameter("sand_bulk_density", &[("t/m3", 1.0)], (0.5, 2.5)),
            parameter("sand_cover_depth", &[("m", 1.0)], (0.001, 2.0)),
        ],
        derived_prices: &[DerivedPrice {
            key: "sand_fixation",
            derive: rated::sand_fixation_price,
        }],
        missing: None,
        physical_rows: true,
        valued_by: ValuedBy::Rates {
            formula: "Q = A × q_class; V = Q / (ρ_s × h) × P_sand-control",
            components: &[one(
                rate("sand_fixation", SOIL_UNITS, 5_000.0),
                "t/ha/yr",
                Valuation::Price("sand_fixation"),
            )],
        },
    },
    Service {
        key: "flood_regulation",
        label_zh: "洪水调蓄",
        label_en: "Flood regulation",
        category: Category::Regulating,
        quantity_unit: Some("m³"),
        doc: "docs/methodology.md#flood-regulation",
        inputs: &[col::LAND_CLASS, col::AREA_HA, col::RESERVOIR_CAPACITY_M3],
        rates: &[],
        prices: &[RESERVOIR_STORAGE],
        parameters: &[share("reservoir_flood_share", (0.0, 1.0))],
        derived_prices: &[],
        missing: None,
        physical_rows: true,
        valued_by: ValuedBy::Rates {
            formula: "C = A × storage_class (marsh 0.3 m); V = C × P_reservoir",
            components: &[one(
                rate(
                    "flood_regulation",
                    &[("m3/ha/yr", 1.0), ("mm/yr", 10.0), ("m/yr", 10_000.0)],
                    50_000.0,
                ),
                "m³/ha/yr",
                Valuation::Price("reservoir_storage"),
            )],
        },
    },
    Service {
        key: "air_purification",
        label_zh: "空气净化",
        label_en: "Air purification",
        category: Category::Regulating,
        quantity_unit: Some("t"),
        doc: "docs/methodology.md#air-and-water-purification",
        inputs: &[
            col::LAND_CLASS,
            col::AREA_HA,
            col::SO2_T,
            col::NOX_T,
            col::PARTICULATES_T,
        ],
        rates: &[],
        prices: &[
            price("so2_treatment", &["元/t"], TREATMENT_RANGE),
            price("nox_treatment", &["元/t"], TREATMENT_RANGE),
            price("dust_treatment", &["元/t"], TREATMENT_RANGE),
        ],
        parameters: &[],
        derived_prices: &[],
        missing: None,
        physical_rows: true,
        valued_by: ValuedBy::Rates {
            formula: "Q_j = A × q_class,j [capped at emissions]; V = Σ_j Q_j × c_j",
            components: &[
                pollutant(
                    "air_purification.so2",
                    ("二氧化硫", "SO₂"),
                    "so2_treatment",
                    col::SO2_T,
                ),
                pollutant(
                    "air_purification.nox",
                    ("氮氧化物", "NOₓ"),
                    "nox_treatment",
                    col::NOX_T,
                ),
                pollutant(
                    "air_purification.dust",
                    ("颗粒物(滞尘)", "dust"),
                    "dust_treatment",
                    col::PARTICULATES_T,
                ),
            ],
        },
    },
    Service {
        key: "water_purification",
        label_zh: "水质净化",
        label_en: "Water purification",
        category: Category::Regulating,
        quantity_unit: Some("t"),
        doc: "docs/methodology.md#air-and-water-purification",
        inputs: &[
            col::LAND_CLASS,
            col::AREA_HA,
            col::COD_T,
            col::NH3N_T,
            col::TP_T,
        ],
        rates: &[],
        prices: &[
            price("cod_treatment", &["元/t"], TREATMENT_RANGE),
            price("nh3n_treatment", &["元/t"], TREATMENT_RANGE),
            price("tp_treatment", &["元/t"], TREATMENT_RANGE),
        ],
        parameters: &[],
        derived_prices: &[],
        missing: None,
        physical_rows: true,
        valued_by: ValuedBy::Rates {
            formula: "Q_j = A × q_class,j [capped at discharges]; V = Σ_j Q_j × c_j",
            components: &[
                pollutant(
                    "water_purification.cod",
                    ("化学需氧量", "COD"),
                    "cod_treatment",
                    col::COD_T,
                ),
                pollutant(
                    "water_purification.nh3n",
                    ("氨氮", "NH₃-N"),
                    "nh3n_treatment",
                    col::NH3N_T,
                ),
                pollutant(
                    "water_purification.tp",
                    ("总磷", "TP"),
                    "tp_treatment",
                    col::TP_T,
                ),
            ],
        },
    },
    Service {
        key: "carbon_sequestration",
        label_zh: "固碳",
        label_en: "Carbon sequestration",
        category: Category::Regulating,
        quantity_unit: Some("t CO₂"),
        doc: "docs/methodology.md#carbon-sequestration-and-oxygen-release",
        inputs: FOREST_INPUTS,
        rates: &[CARBON_RATE, NPP_DRY_MATTER, SOIL_CARBON_RATE],
        prices: &[required_price(
            "carbon",
            &["元/tc", "元/tco2"],
            (1.0, 10_000.0),
        )],
        parameters: CARBON_FACTORS,
        derived_prices: &[],
        missing: None,
        physical_rows: true,
        valued_by: ValuedBy::Family(&CARBON),
    },
    Service {
        key: "oxygen_release",
        label_zh: "释氧",
        label_en: "Oxygen release",
        category: Category::Regulating,
        quantity_unit: Some("t O₂"),
        doc: "docs/methodology.md#carbon-sequestration-and-oxygen-release",
        inputs: FOREST_INPUTS,
        rates: &[CARBON_RATE, NPP_DRY_MATTER],
        prices: &[required_price(
            "oxygen",
            &["元/to2", "元/t"],
            (10.0, 10_000.0),
        )],
        parameters: CARBON_FACTORS,
        derived_prices: &[],
        missing: None,
        physical_rows: true,
        valued_by: ValuedBy::Family(&CARBON),
    },
    Service {
        key: "climate_regulation",
        label_zh: "气候调节",
        label_en: "Climate regulation",
        category: Category::Regulating,
        quantity_unit: Some("kWh"),
        doc: "docs/methodology.md#climate-regulation",
        inputs: LAND,
        rates: &[],
        prices: &[ELECTRICITY],
        parameters: &[
            // Air-conditioner energy-efficiency ratio (EER): a ratio of energies, not a share.
            parameter("ac_efficiency", &[("1", 1.0)], (1.0, 10.0)),
            parameter("latent_heat", &[("j/g", 1.0)], (2000.0, 2600.0)),
            parameter("humidifier_energy", &[("kwh/m3", 1.0)], (1.0, 1000.0)),
            parameter("ac_days", &[("d", 1.0), ("d/yr", 1.0)], (1.0, 366.0)),
        ],
        derived_prices: &[],
        missing: None,
        physical_rows: true,
        valued_by: ValuedBy::Rates {
            formula: "E = A × e_class (transpiration, kWh) + A × evaporation × (q/3.6 + γ)[/r] (water surface); V = E × P_electricity",
            components: &[
                Component {
                    // kJ/m²/d (heat of transpiration EPP) is converted with [parameters] ac_days
                    // and ac_efficiency.
                    rate: rate(
                        "climate_regulation.vegetation",
                        &[("kwh/ha/yr", 1.0), ("kj/m2/d", 1.0)],
                        1e8,
                    ),
                    label_zh: "植被蒸腾",
                    label_en: "transpiration",
                    rate_unit: "kWh/ha/yr",
                    valuation: Valuation::Price("electricity"),
                    cap_item: None,
                },
                Component {
                    rate: rate(
                        "climate_regulation.water_surface",
                        &[("mm/yr", 10.0), ("m3/ha/yr", 1.0)],
                        50_000.0,
                    ),
                    label_zh: "水面蒸发",
                    label_en: "water-surface evaporation",
                    rate_unit: "m³/ha/yr",
                    valuation: Valuation::Price("electricity"),
                    cap_item: None,
                },
            ],
        },
    },
    Service {
        key: "pest_control",
        label_zh: "病虫害控制",
        label_en: "Pest control",
        category: Category::Regulating,
        quantity_unit: Some("ha"),
        doc: "docs/methodology.md#pest-control-and-biodiversity",
        inputs: LAND,
        rates: &[],
        prices: &[],
        parameters: &[],
        derived_prices: &[],
        missing: None,
        physical_rows: true,
        valued_by: ValuedBy::Rates {
            formula: "A = area that controls pests itself; V = A × cost per ha",
            components: &[one(
                rate("pest_control", &[("元/ha/yr", 1.0)], 1e6),
                "元/ha/yr",
                Valuation::PerHectare,
            )],
        },
    },
    Service {
        key: "biodiversity",
        label_zh: "物种保育(生物多样性)",
        label_en: "Species conservation (biodiversity)",
        category: Category::Regulating,
        quantity_unit: Some("ha"),
        doc: "docs/methodology.md#pest-control-and-biodiversity",
        inputs: LAND,
        rates: &[],
        prices: &[],
        parameters: &[],
        derived_prices: &[],
        missing: None,
        physical_rows: true,
        valued_by: ValuedBy::Rates {
            formula: "A = habitat area; V = A × value per ha (Shannon-index class)",
            components: &[one(
                rate("biodiversity", &[("元/ha/yr", 1.0)], 1e6),
                "元/ha/yr",
                Valuation::PerHectare,
            )],
        },
    },
    Service {
        key: "negative_air_ions",
        label_zh: "提供负离子",
        label_en: "Negative air ions",
        category: Category::Regulating,
        quantity_unit: Some("10¹⁸ ions"),
        doc: "docs/methodology.md#negative-air-ions",
        inputs: LAND,
        rates: &[],
        prices: &[price(
            "negative_air_ions",
            &["元/10^18个", "元/10^18ions"],
            (0.1, 1000.0),
        )],
        parameters: &[],
        derived_prices: &[],
        missing: None,
        physical_rows: true,
        valued_by: ValuedBy::Rates {
            formula: "G = A × 5.256×10¹⁵ × (Q − 600) × H / L (per class); V = G × K",
            components: &[one(
                rate(
                    "negative_air_ions",
                    &[
                        ("10^18个/ha/yr", 1.0),
                        ("10^18ions/ha/yr", 1.0),
                        ("个/ha/yr", 1e-18),
                    ],
                    2_000.0,
                ),
                "10¹⁸ ions/ha/yr",
                Valuation::Price("negative_air_ions"),
            )],
        },
    },
    Service {
        key: "recreation",
        label_zh: "休闲旅游",
        label_en: "Recreation and tourism",
        category: Category::Cultural,
        quantity_unit: None,
        doc: "docs/methodology.md#cultural-services",
        inputs: &[col::TOURISM_REVENUE_CNY, col::TOURIST_VISITS],
        rates: &[],
        prices: &[price("travel_cost", &["元/人次"], (1.0, 100_000.0))],
        // The nature-based share of tourism (optional): without it all tourism counts.
        parameters: &[share("recreation_nature_share", (0.0, 1.0))],
        derived_prices: &[],
        missing: Some((
            "the workbook gives no tourism revenue or visits column for the set's recreation_basis",
            "输入表没有与系数集 recreation_basis 对应的旅游总收入或接待游客列",
        )),
        physical_rows: false,
        valued_by: ValuedBy::Family(&RECREATION),
    },
];

/// The service with `key`.
pub fn service(key: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|s| s.key == key)
}

/// The rate component with `rate_key`, and its service.
pub fn component(rate_key: &str) -> Option<(&'static Service, &'static Component)> {
    SERVICES.iter().find_map(|s| {
        s.components()
            .iter()
            .find(|c| c.rate.key == rate_key)
            .map(|c| (s, c))
    })
}

/// Every service of a run: the engine's, then those the coefficient set declares
/// (`[services.KEY]` in manifest.toml), in the set's order.
pub fn services(coef: &Coefficients) -> Vec<&'static Service> {
    SERVICES
        .iter()
        .chain(
            coef.manifest
                .services
                .iter()
                .map(|(key, d)| declared(key, d)),
        )
        .collect()
}

/// A declared service as a registry entry (leaked: it lives as long as the run).
/// Built once per distinct declaration: `services` is called at several stages of a run, and
/// each call returns the same entries instead of leaking new ones.
fn declared(key: &str, d: &crate::coefficients::DeclaredService) -> &'static Service {
    static MADE: std::sync::Mutex<BTreeMap<String, &'static Service>> =
        std::sync::Mutex::new(BTreeMap::new());
    let id = format!(
        "{key}\u{0}{}\u{0}{}\u{0}{}\u{0}{:?}",
        d.label_zh, d.label_en, d.category, d.quantity_unit
    );
    let mut made = MADE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    made.entry(id).or_insert_with(|| make_declared(key, d))
}

fn make_declared(key: &str, d: &crate::coefficients::DeclaredService) -> &'static Service {
    let text = |t: &str| -> &'static str { Box::leak(t.to_string().into_boxed_str()) };
    let category = match d.category.as_str() {
        "provisioning" => Category::Provisioning,
        "cultural" => Category::Cultural,
        _ => Category::Regulating,
    };
    Box::leak(Box::new(Service {
        key: text(key),
        label_zh: text(&d.label_zh),
        label_en: text(&d.label_en),
        category,
        quantity_unit: d.quantity_unit.as_deref().map(text),
        doc: "docs/coefficients.md#services-a-set-declares",
        inputs: &[col::INDICATOR, col::QUANTITY, col::UNIT, col::SOURCE],
        rates: &[],
        prices: &[],
        parameters: &[],
        derived_prices: &[],
        missing: Some((
            "the 实物量 sheet gives no row for this service the set declares",
            "实物量表未给出系数集声明的该项服务",
        )),
        physical_rows: true,
        valued_by: ValuedBy::Family(&DECLARED),
    }))
}

/// The 经济社会 columns the set's declared services read, for the reader.
pub fn declared_columns(coef: &Coefficients) -> Vec<crate::schema::DeclaredColumn> {
    coef.manifest
        .services
        .iter()
        .filter_map(|(key, d)| {
            let header = d.column.clone()?;
            let dimension = match &d.quantity_unit {
                Some(unit) => crate::units::parse(unit)?.dimension,
                None => crate::units::Dimension::Money,
            };
            Some(crate::schema::DeclaredColumn {
                key: format!("{DECLARED_COLUMN}{key}"),
                header,
                dimension,
            })
        })
        .collect()
}

/// The services a coefficient set declares, from their 实物量 rows and 经济社会 column.
static DECLARED: Family = Family {
    name: "declared",
    lines: declared_lines,
};

fn declared_lines(c: &mut Context<'_>) -> Result<Vec<Line>> {
    let mut out = rated::Lines::default();
    for service in services(c.coef)
        .into_iter()
        .filter(|s| std::ptr::eq(s.family(), &DECLARED))
    {
        let Some(d) = c.coef.manifest.services.get(service.key) else {
            continue;
        };
        let mut given = c.overrides.for_key(service.key);
        // The 经济社会 column, in base units, converted to the service's unit; a 实物量 row wins.
        let to_unit = d
            .quantity_unit
            .as_deref()
            .and_then(crate::units::parse)
            .map_or(1.0, |u| u.to_base);
        let item = format!("{DECLARED_COLUMN}{}", service.key);
        for row in super::long_rows(&c.inputs.economy)?
            .into_iter()
            .filter(|r| r.item == item)
        {
            given.entry(row.county).or_insert_with(|| {
                vec![super::overrides::Override {
                    component: None,
                    quantity: row.amount / to_unit,
                    source: format!("经济社会 {}", d.column.as_deref().unwrap_or_default()),
                    source_ref: row.source_ref,
                }]
            });
        }
        for (county, o) in given
            .into_iter()
            .flat_map(|(c, parts)| parts.into_iter().map(move |o| (c.clone(), o)))
        {
            let line = match (&d.quantity_unit, &d.price) {
                (Some(unit), Some(key)) => {
                    let price = c.coef.price(key).map(|p| p.value).ok_or_else(|| {
                        crate::Error::invalid(
                            "prices.toml",
                            format!("[services.{}] needs [prices.{key}]", service.key),
                        )
                    })?;
                    super::Line {
                        county_code: (county).into(),
                        indicator: service.key,
                        component: o
                            .component
                            .as_ref()
                            .map_or_else(|| "实物量".to_string(), |p| format!("实物量 · {p}"))
                            .into(),
                        source_ref: o.source_ref.as_str().into(),
                        input_amount: o.quantity,
                        input_unit: (unit.clone()).into(),
                        coefficient_ref: (String::new()).into(),
                        coefficient: None,
                        coefficient_unit: (String::new()).into(),
                        method: (format!("{} ({}); V = Q × P", d.method, o.source)).into(),
                        quantity_formula: "{input}".into(),
                        quantity: Some(o.quantity),
                        quantity_unit: (unit.clone()).into(),
                        price_key: (key.clone()).into(),
                        price_cny_per_unit: Some(price),
                        value_cny: o.quantity * price,
                    }
                }
                _ => super::Line {
                    county_code: (county).into(),
                    indicator: service.key,
                    component: "价值量".into(),
                    source_ref: o.source_ref.as_str().into(),
                    input_amount: o.quantity,
                    input_unit: "元".into(),
                    coefficient_ref: (String::new()).into(),
                    coefficient: None,
                    coefficient_unit: (String::new()).into(),
                    method: (format!("{} ({}); value given", d.method, o.source)).into(),
                    quantity_formula: (String::new()).into(),
                    quantity: None,
                    quantity_unit: (String::new()).into(),
                    price_key: (String::new()).into(),
                    price_cny_per_unit: None,
                    value_cny: o.quantity,
                },
            };
            out.push(line);
        }
    }
    Ok(out.into_vec())
}

/// The valuation families of a run, each once, in registry order.
pub fn families_of(coef: &Coefficients) -> Vec<&'static Family> {
    let mut out: Vec<&'static Family> = Vec::new();
    for s in services(coef) {
        let f = s.family();
        if !out.iter().any(|g| std::ptr::eq(*g, f)) {
            out.push(f);
        }
    }
    out
}

/// What the services read from a coefficient set (each key once; a key several services
/// declare must be declared alike, tested).
pub fn demand() -> Demand {
    let mut d = Demand::default();
    for s in SERVICES {
        for r in s.all_rates() {
            if d.rate(r.key).is_none() {
                d.rates.push(*r);
            }
        }
        for p in s.prices {
            if d.price(p.key).is_none() {
                d.prices.push(*p);
            }
        }
        for p in s.parameters {
            if d.parameter(p.key).is_none() {
                d.parameters.push(*p);
            }
        }
        for p in s.derived_prices {
            d.derived.push(*p);
        }
        d.services.push(s.key);
        // The names a 实物量 row may use for it: a declared service may not answer to them.
        let norm = super::overrides::normalise;
        for name in [s.key, s.label_zh, s.label_en] {
            d.names.insert(norm(name), s.key);
        }
        for c in s.components() {
            d.names.insert(norm(c.rate.key), s.key);
            if !c.label_zh.is_empty() {
                d.names.insert(norm(c.label_zh), s.key);
                d.names
                    .insert(norm(&format!("{}{}", s.label_zh, c.label_zh)), s.key);
            }
        }
    }
    d.name_key = Some(super::overrides::normalise);
    for c in crate::schema::sheet(crate::schema::SheetKind::Economy).columns {
        for alias in c.aliases {
            d.economy_headers.insert((*alias).to_string(), c.key);
        }
    }
    d
}

/// Loads a coefficient set for the services of this registry (`None` = the built-in Shanxi set).
///
/// # Errors
/// [`crate::Error::Usage`] when the folder does not exist; otherwise as [`Coefficients::load`].
pub fn load_coefficients(dir: Option<&std::path::Path>, strict: bool) -> Result<Coefficients> {
    if let Some(d) = dir.filter(|d| !d.is_dir()) {
        return Err(crate::Error::Usage(format!(
            "--coefficients: no coefficient set folder {}",
            d.display()
        )));
    }
    Coefficients::load(dir, strict, &demand())
}

/// docs/services.md: the registry as tables (kept identical to the registry by a test).
pub fn services_markdown() -> String {
    let mut out = String::from(
        "# Services\n\n\
         Generated from the service registry (`src/account/registry.rs`) by\n\
         `UPDATE_DOCS=1 cargo test --lib services_doc`; a test fails when the two differ.\n\
         Each service: what it reads from the workbook (input columns, see docs/input-workbook.md)\n\
         and from the coefficient set (rates in service_rates.csv, prices and parameters in\n\
         prices.toml, see docs/coefficients.md), and where its formula is (docs/methodology.md).\n\n\
         | key | 指标 | indicator | category | quantity unit | valued by | formula |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for s in SERVICES {
        let anchor = s.doc.trim_start_matches("docs/");
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | [methodology]({anchor}) |\n",
            s.key,
            s.label_zh,
            s.label_en,
            s.category.key(),
            s.quantity_unit.unwrap_or("— (value only)"),
            match s.valued_by {
                ValuedBy::Rates { components, .. }
                    if components
                        .iter()
                        .all(|c| c.valuation == super::rated::Valuation::PerHectare) =>
                {
                    "area × value per hectare of each class".to_string()
                }
                ValuedBy::Rates { .. } => "area × rate (实物量 sheet may replace it)".to_string(),
                ValuedBy::Family(f) if s.physical_rows => {
                    format!("`{}` (实物量 sheet may replace it)", f.name)
                }
                ValuedBy::Family(f) => format!("`{}`", f.name),
            },
        ));
    }
    out.push_str("\n## What each service reads\n\n| key | input columns | rates (accepted units; max per ha·yr) | prices (accepted units; plausible range) | parameters (units; range) |\n|---|---|---|---|---|\n");
    let join = |items: Vec<String>| {
        if items.is_empty() {
            "—".to_string()
        } else {
            items.join("<br>")
        }
    };
    for s in SERVICES {
        let rates = s
            .all_rates()
            .iter()
            .map(|r| {
                let units: Vec<&str> = r.units.iter().map(|u| u.0).collect();
                format!(
                    "`{}`{} ({}; ≤ {})",
                    r.key,
                    if r.required { " (required)" } else { "" },
                    units.join(", "),
                    r.max
                )
            })
            .collect();
        let prices = s
            .prices
            .iter()
            .map(|p| {
                format!(
                    "`{}`{} ({}; {}–{})",
                    p.key,
                    if p.required { " (required)" } else { "" },
                    p.units.join(", "),
                    p.range.0,
                    p.range.1
                )
            })
            .chain(
                s.derived_prices
                    .iter()
                    .map(|d| format!("`{}` (derived on loading)", d.key)),
            )
            .collect();
        let parameters = s
            .parameters
            .iter()
            .map(|p| {
                let units: Vec<&str> = p.units.iter().map(|u| u.0).collect();
                let default = p
                    .default
                    .map_or_else(String::new, |d| format!("; default {} {}", d.value, d.unit));
                format!(
                    "`{}` ({}; {}–{}{default})",
                    p.key,
                    units.join(", "),
                    p.range.0,
                    p.range.1
                )
            })
            .collect();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            s.key,
            join(s.inputs.iter().map(|i| format!("`{i}`")).collect()),
            join(rates),
            join(prices),
            join(parameters),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for s in SERVICES {
            assert!(seen.insert(s.key), "{} twice", s.key);
        }
    }

    #[test]
    fn a_key_declared_by_several_services_is_declared_alike() {
        for a in SERVICES {
            for b in SERVICES {
                for x in a.all_rates() {
                    for y in b.all_rates().into_iter().filter(|y| y.key == x.key) {
                        assert_eq!(x, y, "{} / {}: rate {}", a.key, b.key, x.key);
                    }
                }
                for x in a.prices {
                    for y in b.prices.iter().filter(|y| y.key == x.key) {
                        assert_eq!(x, y, "{} / {}: price {}", a.key, b.key, x.key);
                    }
                }
                for x in a.parameters {
                    for y in b.parameters.iter().filter(|y| y.key == x.key) {
                        assert_eq!(x, y, "{} / {}: parameter {}", a.key, b.key, x.key);
                    }
                }
            }
        }
    }

    #[test]
    fn every_price_a_component_uses_is_declared_or_derived_by_its_service() {
        for s in SERVICES {
            for c in s.components() {
                if let Valuation::Price(key) = c.valuation {
                    assert!(
                        s.prices.iter().any(|p| p.key == key)
                            || s.derived_prices.iter().any(|p| p.key == key),
                        "{}: price {key} not declared",
                        s.key
                    );
                }
            }
        }
    }

    #[test]
    fn every_rate_and_price_is_ranged() {
        let d = demand();
        for r in &d.rates {
            assert!(r.max > 0.0 && !r.units.is_empty(), "{}", r.key);
        }
        for p in &d.prices {
            assert!(
                p.range.0 > 0.0 && p.range.0 < p.range.1 && !p.units.is_empty(),
                "{}",
                p.key
            );
        }
        for p in &d.parameters {
            assert!(p.range.0 < p.range.1 && !p.units.is_empty(), "{}", p.key);
        }
    }

    #[test]
    fn every_input_column_is_in_the_schema() {
        for s in SERVICES {
            for key in s.inputs {
                assert!(
                    crate::schema::SHEETS
                        .iter()
                        .any(|sheet| sheet.columns.iter().any(|c| c.key == *key)),
                    "{}: input column {key} is in no sheet of the schema",
                    s.key
                );
            }
        }
    }

    /// Every key the built-in sets use is declared by a service (loading would refuse it), and
    /// every declared key is used by some set or is optional.
    #[test]
    fn the_built_in_set_loads_against_the_registry() {
        let coef = load_coefficients(None, true).unwrap();
        let d = demand();
        for r in &coef.rates {
            assert!(d.rate(&r.indicator).is_some(), "{}", r.indicator);
        }
    }

    #[test]
    fn services_doc_is_the_registry() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/services.md");
        let expected = services_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, &expected).unwrap();
            panic!(
                "UPDATE_DOCS: rewrote docs/services.md; review `git diff`, then run without UPDATE_DOCS"
            );
        }
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            written == expected,
            "docs/services.md differs from the registry: run `UPDATE_DOCS=1 cargo test --lib services_doc` and review the diff"
        );
    }
}
