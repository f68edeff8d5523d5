//! Input contract: the sheets of the yearly workbook, their Chinese and English aliases,
//! canonical column keys with their dimension, and header-text normalisation.
//! Human headers map to canonical keys in exactly one place: the tables below.

use crate::units::Dimension;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// The 6-digit 区划代码 that keys every table.
    Code,
    /// Free text (county name, forest type, land class).
    Text,
    /// A number in a unit of this dimension.
    Number(Dimension),
}

/// What an empty or "—" cell means in a numeric column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blank {
    /// "None reported" counts as 0 (and is counted on the Checks sheet).
    Zero,
    /// The value stays missing (an optional figure).
    Missing,
    /// A value is required.
    Error,
}

/// One canonical column.
#[derive(Debug)]
pub struct ColumnSpec {
    /// Canonical key, with its unit where it has one (`area_ha`).
    pub key: &'static str,
    /// Header texts that mean this column, already normalised (see [`normalise_header`]).
    pub aliases: &'static [&'static str],
    /// Content type.
    pub kind: ColumnKind,
    /// Must the column be present?
    pub required: bool,
    /// Meaning of an empty cell.
    pub blank: Blank,
}

/// Which input table a sheet is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SheetKind {
    /// 土地利用 / land cover, wide or long.
    LandCover,
    /// 森林资源 / forest stock by forest type, accounting year.
    ForestStock,
    /// 森林资源(上年) / forest stock of an earlier year, for stock change.
    ForestStockPrevious,
    /// 供水 / water supply by source and use.
    WaterSupply,
    /// 经济社会 / economy and population.
    Economy,
    /// 环境 / emissions and resource depletion (for GEEP; optional).
    Environment,
    /// 气象 / precipitation and evapotranspiration (water-balance water conservation; optional).
    Climate,
    /// 实物量 / physical quantities modelled elsewhere (RUSLE, RWEQ, …) that override the
    /// rate-based estimate for a county and indicator (optional).
    Physical,
    /// 土地转移 / land-cover change matrix: area from one land class to another since the
    /// previous year, per county (optional; the extent account's gross flows).
    Transition,
}

/// One input sheet.
#[derive(Debug)]
pub struct SheetSpec {
    /// Which table.
    pub kind: SheetKind,
    /// Chinese label used in messages and the book.
    pub label: &'static str,
    /// Normalised sheet names that mean this table.
    pub aliases: &'static [&'static str],
    /// Must a run have it?
    pub required: bool,
    /// Its columns.
    pub columns: &'static [ColumnSpec],
}

/// Canonical column keys, so that no key is spelled twice.
pub mod col {
    /// 区划代码.
    pub const CODE: &str = "county_code";
    /// 县(市、区)名称.
    pub const NAME: &str = "county_name";
    /// Land class in long-form land cover.
    pub const LAND_CLASS: &str = "land_class";
    /// Area in hectares.
    pub const AREA_HA: &str = "area_ha";
    /// 优势树种组.
    pub const FOREST_TYPE: &str = "forest_type";
    /// 蓄积量, m³.
    pub const STOCK_M3: &str = "stock_m3";
    /// 年生长量, m³ per year.
    pub const GROWTH_M3: &str = "growth_m3";
    /// Water from surface sources, m³.
    pub const SUPPLY_SURFACE_M3: &str = "supply_surface_m3";
    /// Water from groundwater, m³.
    pub const SUPPLY_GROUND_M3: &str = "supply_ground_m3";
    /// Water from other sources (reclaimed, rain harvesting…), m³.
    pub const SUPPLY_OTHER_M3: &str = "supply_other_m3";
    /// Agricultural water use, m³.
    pub const USE_AGRICULTURE_M3: &str = "use_agriculture_m3";
    /// Industrial water use, m³.
    pub const USE_INDUSTRY_M3: &str = "use_industry_m3";
    /// Household (生活) water use, m³.
    pub const USE_HOUSEHOLD_M3: &str = "use_household_m3";
    /// Ecological (生态环境补水) water use, m³.
    pub const USE_ECOLOGY_M3: &str = "use_ecology_m3";
    /// Resident population, persons.
    pub const POPULATION: &str = "population";
    /// GDP, yuan.
    pub const GDP_CNY: &str = "gdp_cny";
    /// Agriculture gross output value, yuan.
    pub const AGRICULTURE_OUTPUT_CNY: &str = "agriculture_output_cny";
    /// Forestry gross output value, yuan.
    pub const FORESTRY_OUTPUT_CNY: &str = "forestry_output_cny";
    /// Animal husbandry gross output value, yuan.
    pub const HUSBANDRY_OUTPUT_CNY: &str = "husbandry_output_cny";
    /// Fishery gross output value, yuan.
    pub const FISHERY_OUTPUT_CNY: &str = "fishery_output_cny";
    /// Agriculture value added, yuan.
    pub const AGRICULTURE_VA_CNY: &str = "agriculture_value_added_cny";
    /// Forestry value added, yuan.
    pub const FORESTRY_VA_CNY: &str = "forestry_value_added_cny";
    /// Animal husbandry value added, yuan.
    pub const HUSBANDRY_VA_CNY: &str = "husbandry_value_added_cny";
    /// Fishery value added, yuan.
    pub const FISHERY_VA_CNY: &str = "fishery_value_added_cny";
    /// Agriculture net output value (净产值: value added less depreciation), yuan.
    pub const AGRICULTURE_NET_CNY: &str = "agriculture_net_output_cny";
    /// Forestry net output value, yuan.
    pub const FORESTRY_NET_CNY: &str = "forestry_net_output_cny";
    /// Animal husbandry net output value, yuan.
    pub const HUSBANDRY_NET_CNY: &str = "husbandry_net_output_cny";
    /// Fishery net output value, yuan.
    pub const FISHERY_NET_CNY: &str = "fishery_net_output_cny";
    /// SO₂ emissions, t.
    pub const SO2_T: &str = "so2_t";
    /// NOₓ emissions, t.
    pub const NOX_T: &str = "nox_t";
    /// Particulate (颗粒物/烟粉尘) emissions, t.
    pub const PARTICULATES_T: &str = "particulates_t";
    /// COD discharge, t.
    pub const COD_T: &str = "cod_t";
    /// NH₃-N discharge, t.
    pub const NH3N_T: &str = "nh3n_t";
    /// Total phosphorus discharge, t.
    pub const TP_T: &str = "tp_t";
    /// Resource depletion cost, yuan.
    pub const RESOURCE_DEPLETION_CNY: &str = "resource_depletion_cny";
    /// Land newly subsided by coal mining in the year, ha.
    pub const SUBSIDENCE_AREA_HA: &str = "subsidence_area_ha";
    /// Environmental degradation cost given directly, yuan (instead of emissions × unit costs).
    pub const DEGRADATION_COST_CNY: &str = "degradation_cost_cny";
    /// Ecological damage cost given directly, yuan (instead of area loss × ESV per hectare).
    pub const DAMAGE_COST_CNY: &str = "damage_cost_cny";
    /// Total storage capacity of the county's reservoirs, m³ (flood regulation).
    pub const RESERVOIR_CAPACITY_M3: &str = "reservoir_capacity_m3";
    /// Hydropower generation, kWh.
    pub const HYDROPOWER_KWH: &str = "hydropower_kwh";
    /// Tourism revenue, yuan.
    pub const TOURISM_REVENUE_CNY: &str = "tourism_revenue_cny";
    /// Tourist visits, person-trips (人次).
    pub const TOURIST_VISITS: &str = "tourist_visits";
    /// Annual precipitation, mm.
    pub const PRECIPITATION_MM: &str = "precipitation_mm";
    /// Annual evapotranspiration, mm.
    pub const EVAPOTRANSPIRATION_MM: &str = "evapotranspiration_mm";
    /// Indicator key or label (实物量 sheet).
    pub const INDICATOR: &str = "indicator";
    /// Physical quantity in the row's own unit (实物量 sheet).
    pub const QUANTITY: &str = "quantity";
    /// Unit of the row (实物量 sheet).
    pub const UNIT: &str = "unit";
    /// Where the quantity comes from (实物量 sheet).
    pub const SOURCE: &str = "source";
    /// Land class at the start of the period (土地转移 sheet).
    pub const FROM_CLASS: &str = "from_class";
    /// Land class at the end of the period (土地转移 sheet).
    pub const TO_CLASS: &str = "to_class";
}

const CODE_ALIASES: &[&str] = &[
    "区划代码",
    "行政区划代码",
    "代码",
    "县代码",
    "区县代码",
    "地区代码",
    "统计用区划代码",
    "code",
    "countycode",
    "county_code",
    "adcode",
];

const fn code() -> ColumnSpec {
    ColumnSpec {
        key: col::CODE,
        aliases: CODE_ALIASES,
        kind: ColumnKind::Code,
        required: true,
        blank: Blank::Error,
    }
}

const fn name() -> ColumnSpec {
    ColumnSpec {
        key: col::NAME,
        aliases: &[
            "县(市、区)",
            "县(市,区)",
            "县市区",
            "县(市区)",
            "地区",
            "名称",
            "区划名称",
            "县名",
            "单位名称",
            "行政区",
            "name",
            "county",
            "countyname",
            "county_name",
        ],
        kind: ColumnKind::Text,
        required: false,
        blank: Blank::Missing,
    }
}

const fn number(
    key: &'static str,
    aliases: &'static [&'static str],
    dimension: Dimension,
    required: bool,
    blank: Blank,
) -> ColumnSpec {
    ColumnSpec {
        key,
        aliases,
        kind: ColumnKind::Number(dimension),
        required,
        blank,
    }
}

const FOREST_COLUMNS: &[ColumnSpec] = &[
    code(),
    name(),
    ColumnSpec {
        key: col::FOREST_TYPE,
        aliases: &[
            "优势树种组",
            "优势树种",
            "树种组",
            "树种",
            "森林类型",
            "foresttype",
            "forest_type",
        ],
        kind: ColumnKind::Text,
        required: true,
        blank: Blank::Error,
    },
    number(
        col::AREA_HA,
        &["面积", "林分面积", "乔木林面积", "森林面积", "area"],
        Dimension::Area,
        true,
        Blank::Error,
    ),
    number(
        col::STOCK_M3,
        &[
            "蓄积量",
            "蓄积",
            "森林蓄积量",
            "森林蓄积",
            "林分蓄积量",
            "活立木蓄积量",
            "stock",
            "stockvolume",
            "growingstock",
        ],
        Dimension::Volume,
        true,
        Blank::Error,
    ),
    number(
        col::GROWTH_M3,
        &[
            "年生长量",
            "年净生长量",
            "蓄积年生长量",
            "annualgrowth",
            "growth",
            "increment",
        ],
        Dimension::Volume,
        false,
        Blank::Missing,
    ),
];

/// Every input sheet the engine reads.
const CLIMATE: SheetSpec = SheetSpec {
    kind: SheetKind::Climate,
    label: "气象",
    aliases: &["气象", "气候", "降水蒸散", "水量平衡", "climate", "weather"],
    required: false,
    columns: &[
        code(),
        name(),
        number(
            col::PRECIPITATION_MM,
            &["降水量", "年降水量", "降水", "precipitation"],
            Dimension::Depth,
            true,
            Blank::Error,
        ),
        number(
            col::EVAPOTRANSPIRATION_MM,
            &[
                "蒸散量",
                "蒸散发",
                "实际蒸散发",
                "实际蒸散量",
                "年蒸散量",
                "evapotranspiration",
                "et",
            ],
            Dimension::Depth,
            true,
            Blank::Error,
        ),
    ],
};

const PHYSICAL: SheetSpec = SheetSpec {
    kind: SheetKind::Physical,
    label: "实物量",
    aliases: &[
        "实物量",
        "实物量核算",
        "模型实物量",
        "physical",
        "physicalquantities",
    ],
    required: false,
    columns: &[
        code(),
        name(),
        ColumnSpec {
            key: col::INDICATOR,
            aliases: &["指标", "核算指标", "服务", "indicator"],
            kind: ColumnKind::Text,
            required: true,
            blank: Blank::Error,
        },
        number(
            col::QUANTITY,
            &["实物量", "数量", "quantity"],
            Dimension::Free,
            true,
            Blank::Error,
        ),
        ColumnSpec {
            key: col::UNIT,
            aliases: &["单位", "计量单位", "unit"],
            kind: ColumnKind::Text,
            required: true,
            blank: Blank::Error,
        },
        ColumnSpec {
            key: col::SOURCE,
            aliases: &["来源", "数据来源", "模型", "source"],
            kind: ColumnKind::Text,
            required: true,
            blank: Blank::Error,
        },
    ],
};

const TRANSITION: SheetSpec = SheetSpec {
    kind: SheetKind::Transition,
    label: "土地转移",
    aliases: &[
        "土地转移",
        "土地利用转移",
        "土地利用转移矩阵",
        "地类转移",
        "转移矩阵",
        "landcoverchange",
        "land_cover_change",
        "transition",
        "transitions",
    ],
    required: false,
    columns: &[
        code(),
        name(),
        ColumnSpec {
            key: col::FROM_CLASS,
            aliases: &[
                "原地类",
                "期初地类",
                "转出地类",
                "上年地类",
                "from",
                "fromclass",
            ],
            kind: ColumnKind::Text,
            required: true,
            blank: Blank::Error,
        },
        ColumnSpec {
            key: col::TO_CLASS,
            aliases: &[
                "现地类",
                "期末地类",
                "转入地类",
                "本年地类",
                "to",
                "toclass",
            ],
            kind: ColumnKind::Text,
            required: true,
            blank: Blank::Error,
        },
        number(
            col::AREA_HA,
            &["面积", "转移面积", "area"],
            Dimension::Area,
            true,
            Blank::Error,
        ),
    ],
};

pub const SHEETS: &[SheetSpec] = &[
    ENVIRONMENT,
    CLIMATE,
    PHYSICAL,
    TRANSITION,
    SheetSpec {
        kind: SheetKind::LandCover,
        label: "土地利用",
        aliases: &[
            "土地利用",
            "土地覆被",
            "土地利用现状",
            "土地利用现状表",
            "土地",
            "地类面积",
            "landcover",
            "land_cover",
            "landuse",
            "land_use",
        ],
        required: true,
        columns: &[
            code(),
            name(),
            ColumnSpec {
                key: col::LAND_CLASS,
                aliases: &[
                    "地类",
                    "地类名称",
                    "土地类型",
                    "landclass",
                    "land_class",
                    "class",
                ],
                kind: ColumnKind::Text,
                required: false,
                blank: Blank::Error,
            },
            number(
                col::AREA_HA,
                &["面积", "地类面积", "area"],
                Dimension::Area,
                false,
                Blank::Zero,
            ),
        ],
    },
    SheetSpec {
        kind: SheetKind::ForestStock,
        label: "森林资源",
        aliases: &[
            "森林资源",
            "森林蓄积",
            "森林资源蓄积",
            "林木蓄积",
            "foreststock",
            "forest_stock",
            "forest",
        ],
        required: true,
        columns: FOREST_COLUMNS,
    },
    SheetSpec {
        kind: SheetKind::ForestStockPrevious,
        label: "森林资源(上年)",
        aliases: &[
            "森林资源(上年)",
            "上年森林资源",
            "森林资源上年",
            "森林资源_上年",
            "森林资源(上期)",
            "foreststockprevious",
            "forest_stock_previous",
        ],
        required: false,
        columns: FOREST_COLUMNS,
    },
    SheetSpec {
        kind: SheetKind::WaterSupply,
        label: "供水",
        aliases: &[
            "供水",
            "供用水",
            "供水量",
            "供用水量",
            "水资源",
            "watersupply",
            "water_supply",
            "water",
        ],
        required: true,
        columns: &[
            code(),
            name(),
            number(
                col::SUPPLY_SURFACE_M3,
                &[
                    "地表水",
                    "地表水源",
                    "地表水供水量",
                    "surface",
                    "surfacewater",
                ],
                Dimension::Volume,
                true,
                Blank::Zero,
            ),
            number(
                col::SUPPLY_GROUND_M3,
                &[
                    "地下水",
                    "地下水源",
                    "地下水供水量",
                    "ground",
                    "groundwater",
                ],
                Dimension::Volume,
                true,
                Blank::Zero,
            ),
            number(
                col::SUPPLY_OTHER_M3,
                &[
                    "其他",
                    "其他水源",
                    "其他水源供水量",
                    "非常规水源",
                    "other",
                    "othersources",
                ],
                Dimension::Volume,
                false,
                Blank::Zero,
            ),
            number(
                col::USE_AGRICULTURE_M3,
                &[
                    "农业",
                    "农业用水",
                    "农业用水量",
                    "agriculture",
                    "agricultural",
                ],
                Dimension::Volume,
                true,
                Blank::Zero,
            ),
            number(
                col::USE_INDUSTRY_M3,
                &["工业", "工业用水", "工业用水量", "industry", "industrial"],
                Dimension::Volume,
                true,
                Blank::Zero,
            ),
            number(
                col::USE_HOUSEHOLD_M3,
                &[
                    "生活",
                    "生活用水",
                    "生活用水量",
                    "居民生活",
                    "household",
                    "domestic",
                ],
                Dimension::Volume,
                true,
                Blank::Zero,
            ),
            number(
                col::RESERVOIR_CAPACITY_M3,
                &["水库总库容", "水库库容", "总库容", "reservoircapacity"],
                Dimension::Volume,
                false,
                Blank::Zero,
            ),
            number(
                col::USE_ECOLOGY_M3,
                &[
                    "生态",
                    "生态用水",
                    "生态环境",
                    "生态环境用水",
                    "人工生态环境补水",
                    "生态环境补水",
                    "ecology",
                    "ecological",
                ],
                Dimension::Volume,
                false,
                Blank::Zero,
            ),
        ],
    },
    SheetSpec {
        kind: SheetKind::Economy,
        label: "经济社会",
        aliases: &[
            "经济社会",
            "社会经济",
            "经济",
            "国民经济",
            "economy",
            "socioeconomic",
        ],
        required: true,
        columns: &[
            code(),
            name(),
            number(
                col::POPULATION,
                &["常住人口", "年末常住人口", "人口", "population"],
                Dimension::People,
                true,
                Blank::Error,
            ),
            number(
                col::GDP_CNY,
                &["地区生产总值", "生产总值", "gdp", "国内生产总值"],
                Dimension::Money,
                true,
                Blank::Error,
            ),
            number(
                col::AGRICULTURE_OUTPUT_CNY,
                &["农业总产值", "农业产值", "agricultureoutput"],
                Dimension::Money,
                false,
                Blank::Zero,
            ),
            number(
                col::FORESTRY_OUTPUT_CNY,
                &["林业总产值", "林业产值", "forestryoutput"],
                Dimension::Money,
                false,
                Blank::Zero,
            ),
            number(
                col::HUSBANDRY_OUTPUT_CNY,
                &[
                    "牧业总产值",
                    "畜牧业总产值",
                    "牧业产值",
                    "畜牧业产值",
                    "husbandryoutput",
                ],
                Dimension::Money,
                false,
                Blank::Zero,
            ),
            number(
                col::FISHERY_OUTPUT_CNY,
                &["渔业总产值", "渔业产值", "fisheryoutput"],
                Dimension::Money,
                false,
                Blank::Zero,
            ),
            number(
                col::AGRICULTURE_VA_CNY,
                &["农业增加值", "agriculturevalueadded"],
                Dimension::Money,
                false,
                Blank::Zero,
            ),
            number(
                col::FORESTRY_VA_CNY,
                &["林业增加值", "forestryvalueadded"],
                Dimension::Money,
                false,
                Blank::Zero,
            ),
            number(
                col::HUSBANDRY_VA_CNY,
                &["牧业增加值", "畜牧业增加值", "husbandryvalueadded"],
                Dimension::Money,
                false,
                Blank::Zero,
            ),
            number(
                col::FISHERY_VA_CNY,
                &["渔业增加值", "fisheryvalueadded"],
                Dimension::Money,
                false,
                Blank::Zero,
            ),
            number(
                col::AGRICULTURE_NET_CNY,
                &["农业净产值", "agriculturenetoutput"],
                Dimension::Money,
                false,
                Blank::Zero,
            ),
            number(
                col::FORESTRY_NET_CNY,
                &["林业净产值", "forestrynetoutput"],
                Dimension::Money,
                false,
                Blank::Zero,
            ),
            number(
                col::HUSBANDRY_NET_CNY,
                &["牧业净产值", "畜牧业净产值", "husbandrynetoutput"],
                Dimension::Money,
                false,
                Blank::Zero,
            ),
            number(
                col::FISHERY_NET_CNY,
                &["渔业净产值", "fisherynetoutput"],
                Dimension::Money,
                false,
                Blank::Zero,
            ),
            number(
                col::HYDROPOWER_KWH,
                &["水电发电量", "水力发电量", "水电", "hydropower"],
                Dimension::Energy,
                false,
                Blank::Zero,
            ),
            number(
                col::TOURISM_REVENUE_CNY,
                &["旅游总收入", "旅游收入", "旅游总花费", "tourismrevenue"],
                Dimension::Money,
                false,
                Blank::Zero,
            ),
            number(
                col::TOURIST_VISITS,
                &[
                    "接待游客",
                    "接待游客人次",
                    "游客人次",
                    "旅游人次",
                    "接待旅游人次",
                    "touristvisits",
                ],
                Dimension::People,
                false,
                Blank::Zero,
            ),
        ],
    },
];

const ENVIRONMENT: SheetSpec = SheetSpec {
    kind: SheetKind::Environment,
    label: "环境",
    aliases: &[
        "环境",
        "环境统计",
        "污染物排放",
        "排放",
        "environment",
        "emissions",
    ],
    required: false,
    columns: &[
        code(),
        name(),
        number(
            col::SO2_T,
            &["二氧化硫", "二氧化硫排放量", "so2", "sulphurdioxide"],
            Dimension::Mass,
            true,
            Blank::Zero,
        ),
        number(
            col::NOX_T,
            &["氮氧化物", "氮氧化物排放量", "nox", "nitrogenoxides"],
            Dimension::Mass,
            true,
            Blank::Zero,
        ),
        number(
            col::PARTICULATES_T,
            &[
                "颗粒物",
                "颗粒物排放量",
                "烟粉尘",
                "烟(粉)尘",
                "粉尘",
                "particulates",
                "dust",
            ],
            Dimension::Mass,
            true,
            Blank::Zero,
        ),
        number(
            col::COD_T,
            &["化学需氧量", "化学需氧量排放量", "cod"],
            Dimension::Mass,
            true,
            Blank::Zero,
        ),
        number(
            col::NH3N_T,
            &["氨氮", "氨氮排放量", "nh3-n", "nh3n", "ammonianitrogen"],
            Dimension::Mass,
            true,
            Blank::Zero,
        ),
        number(
            col::TP_T,
            &["总磷", "总磷排放量", "tp", "totalphosphorus"],
            Dimension::Mass,
            false,
            Blank::Zero,
        ),
        number(
            col::SUBSIDENCE_AREA_HA,
            &[
                "采煤沉陷面积",
                "采煤沉陷区面积",
                "新增采煤沉陷面积",
                "沉陷面积",
                "塌陷面积",
                "subsidencearea",
                "subsidence",
            ],
            Dimension::Area,
            false,
            Blank::Zero,
        ),
        number(
            col::RESOURCE_DEPLETION_CNY,
            &["资源耗减成本", "资源耗减", "resourcedepletion"],
            Dimension::Money,
            false,
            Blank::Zero,
        ),
        number(
            col::DEGRADATION_COST_CNY,
            &[
                "环境退化成本",
                "环境退化价值",
                "环境退化",
                "environmentaldegradationcost",
                "degradationcost",
            ],
            Dimension::Money,
            false,
            Blank::Missing,
        ),
        number(
            col::DAMAGE_COST_CNY,
            &[
                "生态破坏成本",
                "生态破坏损失",
                "生态破坏",
                "ecologicaldamagecost",
                "damagecost",
            ],
            Dimension::Money,
            false,
            Blank::Missing,
        ),
    ],
};

/// Prefix of the keys of declared 经济社会 columns (`declared:reed`).
pub const DECLARED_COLUMN_PREFIX: &str = "declared:";

/// A column a coefficient set declares on the 经济社会 sheet (`column = "芦苇产量"` of a declared
/// service): its header and the dimension of its unit.
#[derive(Debug, Clone)]
pub struct DeclaredColumn {
    /// Canonical key (`declared:reed`).
    pub key: String,
    /// The header as written (normalised when matched).
    pub header: String,
    /// Dimension of its values (converted to the base unit when read).
    pub dimension: Dimension,
}

/// The schema's sheets with `declared` columns added to the 经济社会 sheet (leaked: built once
/// per run). Without declared columns, the schema itself.
pub fn with_declared_columns(declared: &[DeclaredColumn]) -> &'static [SheetSpec] {
    adapted(declared, false)
}

/// The schema for a run: [`with_declared_columns`], and for a GEEP study (`--accounts geep`)
/// population and the 供水 sheet not required.
pub fn for_run(declared: &[DeclaredColumn], geep_only: bool) -> &'static [SheetSpec] {
    adapted(declared, geep_only)
}

fn adapted(declared: &[DeclaredColumn], geep_only: bool) -> &'static [SheetSpec] {
    if declared.is_empty() && !geep_only {
        return SHEETS;
    }
    let text = |t: &str| -> &'static str { Box::leak(t.to_string().into_boxed_str()) };
    let sheets: Vec<SheetSpec> = SHEETS
        .iter()
        .map(|spec| {
            let mut columns: Vec<ColumnSpec> = spec
                .columns
                .iter()
                .map(|c| ColumnSpec {
                    key: c.key,
                    aliases: c.aliases,
                    kind: c.kind,
                    required: c.required && !(geep_only && c.key == col::POPULATION),
                    blank: c.blank,
                })
                .collect();
            if spec.kind == SheetKind::Economy {
                for d in declared {
                    let alias: &'static str = text(&normalise_header(&d.header).0);
                    columns.push(ColumnSpec {
                        key: text(&d.key),
                        aliases: Box::leak(vec![alias].into_boxed_slice()),
                        kind: ColumnKind::Number(d.dimension),
                        required: false,
                        blank: Blank::Missing,
                    });
                }
            }
            SheetSpec {
                kind: spec.kind,
                label: spec.label,
                aliases: spec.aliases,
                required: spec.required && !(geep_only && spec.kind == SheetKind::WaterSupply),
                columns: Box::leak(columns.into_boxed_slice()),
            }
        })
        .collect();
    Box::leak(sheets.into_boxed_slice())
}

/// The spec of `kind`.
pub fn sheet(kind: SheetKind) -> &'static SheetSpec {
    // SHEETS lists every kind exactly once (checked by a unit test).
    SHEETS.iter().find(|s| s.kind == kind).unwrap_or(&SHEETS[0])
}

/// Sheets that belong to a workbook but are not input tables (instructions, code lists): read silently.
pub const AUXILIARY_SHEETS: &[&str] = &[
    "填表说明",
    "代码表",
    "说明",
    "目录",
    "instructions",
    "readme",
    "lists",
];

/// Header texts of total columns in wide land-cover tables, which are not land classes.
pub const TOTAL_HEADERS: &[&str] = &[
    "合计",
    "总计",
    "总面积",
    "土地总面积",
    "小计",
    "total",
    "土地调查面积",
];

/// Words that mark a row as a subtotal (prefecture, province) rather than a county.
pub const SUBTOTAL_WORDS: &[&str] = &["合计", "总计", "全省", "小计", "全市", "市辖区", "total"];

/// Words that open a footnote row below the data.
pub const FOOTNOTE_PREFIXES: &[&str] = &[
    "注",
    "说明",
    "资料来源",
    "数据来源",
    "备注",
    "note",
    "source",
];

/// The header an analyst writes for a canonical column key (its first alias), or the key.
pub fn header_for(key: &str) -> &str {
    SHEETS
        .iter()
        .flat_map(|sheet| sheet.columns)
        .find(|c| c.key == key)
        .and_then(|c| c.aliases.first().copied())
        .unwrap_or(key)
}

/// A basis of the product values (manifest.toml `switches.provisioning_basis`): the economy
/// columns it reads, in the order of [`PRODUCT_INDICATORS`].
pub struct ProductBasis {
    /// Switch value.
    pub key: &'static str,
    /// Label on the lines.
    pub label: &'static str,
    /// Economy columns of agriculture, forestry, husbandry, fishery.
    pub columns: [&'static str; 4],
}

/// The product indicators, in the order of [`ProductBasis::columns`].
pub const PRODUCT_INDICATORS: [&str; 4] = [
    "agriculture_products",
    "forestry_products",
    "husbandry_products",
    "fishery_products",
];

/// Every basis: gross output (总产值), value added (增加值), net output (净产值 = value added less
/// depreciation; the Garzê 2010 account, methodology §9.4).
pub const PRODUCT_BASES: &[ProductBasis] = &[
    ProductBasis {
        key: "gross_output",
        label: "总产值 gross output",
        columns: [
            col::AGRICULTURE_OUTPUT_CNY,
            col::FORESTRY_OUTPUT_CNY,
            col::HUSBANDRY_OUTPUT_CNY,
            col::FISHERY_OUTPUT_CNY,
        ],
    },
    ProductBasis {
        key: "value_added",
        label: "增加值 value added",
        columns: [
            col::AGRICULTURE_VA_CNY,
            col::FORESTRY_VA_CNY,
            col::HUSBANDRY_VA_CNY,
            col::FISHERY_VA_CNY,
        ],
    },
    ProductBasis {
        key: "net_output",
        label: "净产值 net output",
        columns: [
            col::AGRICULTURE_NET_CNY,
            col::FORESTRY_NET_CNY,
            col::HUSBANDRY_NET_CNY,
            col::FISHERY_NET_CNY,
        ],
    },
];

/// The product basis of the switch value `key` (gross output for an unknown value, which the
/// set's check refuses on loading).
pub fn product_basis(key: &str) -> &'static ProductBasis {
    PRODUCT_BASES
        .iter()
        .find(|b| b.key == key)
        .unwrap_or(&PRODUCT_BASES[0])
}

/// Emissions valued at a unit cost (geep.toml `[unit_costs]`) for the degradation term; required
/// on the 环境 sheet unless the degradation cost is given directly.
pub const EMISSION_ITEMS: &[&str] = &[
    col::SO2_T,
    col::NOX_T,
    col::PARTICULATES_T,
    col::COD_T,
    col::NH3N_T,
    col::TP_T,
];

/// Environment columns carried into the GEEP account: the emissions, then the items taken as
/// they are (money in yuan, area in ha).
pub const ENVIRONMENT_ITEMS: &[&str] = &[
    col::SO2_T,
    col::NOX_T,
    col::PARTICULATES_T,
    col::COD_T,
    col::NH3N_T,
    col::TP_T,
    col::RESOURCE_DEPLETION_CNY,
    col::SUBSIDENCE_AREA_HA,
    col::DEGRADATION_COST_CNY,
    col::DAMAGE_COST_CNY,
];

/// Normalises a header cell: half-width, no spaces or line breaks, ASCII lower case, and the
/// unit split off when it is written in brackets (`面积(万亩)`) or after a slash (`面积/公顷`).
///
/// Returns the name and the unit text, if any.
pub fn normalise_header(text: &str) -> (String, Option<String>) {
    // Most texts (county names, land classes as written, already-normalised keys) are unchanged:
    // no space, full-width or upper-case character, no unit in a trailing bracket or after '/'.
    if !text.ends_with([')', ']'])
        && !text.chars().any(|c| {
            c.is_whitespace()
                || c.is_ascii_uppercase()
                || c == '/'
                || ('\u{FF01}'..='\u{FF5E}').contains(&c)
        })
    {
        return (text.to_string(), None);
    }
    let half = crate::units::to_half_width(text);
    let mut s: String = half
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let mut unit = None;
    // 面积(万亩) / 面积[公顷] / 面积(单位:万亩): a trailing bracket holding a unit.
    for (open, close) in [('(', ')'), ('[', ']')] {
        if s.ends_with(close)
            && let Some(pos) = s.rfind(open)
        {
            let inner = s[pos + open.len_utf8()..s.len() - close.len_utf8()].to_string();
            let stripped = inner
                .trim_start_matches("单位:")
                .trim_start_matches("单位")
                .to_string();
            if crate::units::parse(&stripped).is_some() || looks_like_unit(&stripped) {
                unit = Some(stripped);
                s.truncate(pos);
            }
        }
    }
    if unit.is_none()
        && let Some(pos) = s.rfind('/')
    {
        let tail = &s[pos + 1..];
        if crate::units::parse(tail).is_some() {
            unit = Some(tail.to_string());
            s.truncate(pos);
        }
    }
    (s, unit)
}

/// True for text that is meant as a unit even if the engine does not know it (`英亩`, `吨`),
/// so that it is reported as an unknown unit instead of becoming part of a column name.
fn looks_like_unit(text: &str) -> bool {
    const UNIT_HINTS: &[&str] = &[
        "亩", "顷", "米", "m3", "m2", "元", "人", "吨", "公里", "km", "ha",
    ];
    !text.is_empty() && text.chars().count() <= 6 && UNIT_HINTS.iter().any(|h| text.contains(h))
}

/// Normalises a sheet name for alias lookup (trailing spaces, full-width brackets, case).
pub fn normalise_sheet_name(text: &str) -> String {
    normalise_header(text).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_lose_spaces_and_width_and_keep_their_unit() {
        assert_eq!(
            normalise_header(" 面积（万亩） "),
            ("面积".into(), Some("万亩".into()))
        );
        assert_eq!(
            normalise_header("蓄积量\n(万m³)"),
            ("蓄积量".into(), Some("万m³".into()))
        );
        assert_eq!(
            normalise_header("面积/公顷"),
            ("面积".into(), Some("公顷".into()))
        );
        assert_eq!(normalise_header("County Code"), ("countycode".into(), None));
        assert_eq!(normalise_header("ＧＤＰ"), ("gdp".into(), None));
        assert_eq!(
            normalise_header("面积(单位:公顷)"),
            ("面积".into(), Some("公顷".into()))
        );
    }

    #[test]
    fn an_unknown_unit_in_brackets_is_still_split_off() {
        assert_eq!(
            normalise_header("面积(英亩)"),
            ("面积".into(), Some("英亩".into()))
        );
        // A bracket that is part of the name stays.
        assert_eq!(normalise_header("县(市、区)").0, "县(市、区)");
    }

    #[test]
    fn every_sheet_kind_has_one_spec_and_aliases_are_normalised() {
        for kind in [
            SheetKind::LandCover,
            SheetKind::ForestStock,
            SheetKind::ForestStockPrevious,
            SheetKind::WaterSupply,
            SheetKind::Economy,
            SheetKind::Environment,
            SheetKind::Climate,
            SheetKind::Physical,
            SheetKind::Transition,
        ] {
            assert_eq!(SHEETS.iter().filter(|s| s.kind == kind).count(), 1);
            assert_eq!(sheet(kind).kind, kind);
        }
        for spec in SHEETS {
            for alias in spec.aliases {
                assert_eq!(&normalise_sheet_name(alias), alias, "sheet alias {alias}");
            }
            for column in spec.columns {
                for alias in column.aliases {
                    assert_eq!(&normalise_header(alias).0, alias, "column alias {alias}");
                }
            }
        }
    }
}
