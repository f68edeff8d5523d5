//! Stage 2, validate: the sheets read from every workbook → [`Inputs`], typed long tables
//! (polars DataFrames) for valuation. Checks codes, names, coverage, duplicates, signs, land
//! classes, subtotals, water balance and the year, collecting every problem before failing.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use crate::coefficients::Coefficients;
use crate::error::{Check, Issues, Result, Severity};
use crate::read::{Record, SheetTable, Source, Value};
use crate::schema::{SheetKind, col, normalise_header};

/// Relative gap between a subtotal row and the sum of its counties above which a warning is kept…
pub const SUBTOTAL_TOLERANCE: f64 = 0.005;
/// … and above which the workbook is refused (a county row is wrong or missing).
pub const SUBTOTAL_ERROR_TOLERANCE: f64 = 0.05;
/// Relative gap between water supply by source and by use above which the table is refused.
pub const WATER_BALANCE_TOLERANCE: f64 = 0.005;
/// Relative gap between a county's land-cover total and its area in regions.csv: warning above…
pub const AREA_WARNING_TOLERANCE: f64 = 0.01;
/// … and error above.
pub const AREA_ERROR_TOLERANCE: f64 = 0.10;
/// Largest plausible growing stock per hectare (m³/ha).
pub const MAX_STOCK_PER_HA: f64 = 1500.0;

/// Options that decide what a run covers.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Accounting year from `--year`; otherwise read from the workbook.
    pub year: Option<i32>,
    /// Code prefixes (`1401`, `140521`) of the counties to account; empty = the whole province.
    pub only: Vec<String>,
    /// The accounts asked for (`--accounts`); `Auto` = as the sheets given allow.
    pub accounts: AccountsAsked,
}

/// The accounts a run is asked for (`--accounts gep,esv,geep`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AccountsAsked {
    /// As the sheets allow: a workbook with land cover and none of the GEP sheets (森林资源,
    /// 供水, 经济社会) is an equivalent-factor (ESV) study; otherwise every GEP sheet is needed.
    #[default]
    Auto,
    /// GEP (with GEEP when there is a 环境 sheet, and ESV): every GEP sheet is required.
    Gep,
    /// GEP and GEEP: the 环境 sheet is required too.
    Geep,
    /// GEEP (GDP − costs + regulating services) without the rest of GEP: the 供水 sheet,
    /// population and the product columns are not needed (those indicators are not valued).
    GeepOnly,
    /// The equivalent-factor account only: land cover is the one sheet needed.
    EsvOnly,
}

impl AccountsAsked {
    /// From the `--accounts` list (`gep`, `esv`, `geep`, any order); an empty list is `Auto`.
    ///
    /// # Errors
    /// [`crate::Error::Usage`] for a name that is none of these.
    pub fn parse(names: &[String]) -> Result<Self> {
        let (mut gep, mut esv, mut geep) = (false, false, false);
        for name in names {
            match name.trim().to_ascii_lowercase().as_str() {
                "gep" => gep = true,
                "geep" => geep = true,
                "esv" => esv = true,
                other => {
                    return Err(crate::Error::Usage(format!(
                        "--accounts: unknown account \"{other}\" (expected gep, esv, geep)"
                    )));
                }
            }
        }
        Ok(match (gep, geep, esv) {
            (true, true, _) => AccountsAsked::Geep,
            (true, false, _) => AccountsAsked::Gep,
            (false, true, _) => AccountsAsked::GeepOnly,
            (false, false, true) => AccountsAsked::EsvOnly,
            (false, false, false) => AccountsAsked::Auto,
        })
    }
}

/// The sheets only the GEP account reads (land cover is read by ESV too).
const GEP_ONLY_SHEETS: [SheetKind; 3] = [
    SheetKind::ForestStock,
    SheetKind::WaterSupply,
    SheetKind::Economy,
];

impl Scope {
    /// True when county `code` is in the run.
    pub fn covers(&self, code: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| code.starts_with(p.as_str()))
    }

    /// Checks every `--only` entry against the coefficient set: a province (2 digits), a
    /// prefecture (4 digits, or its 6-digit code ending in 00) or a county (6 digits) of the
    /// set. A prefix that is none of these (14010) would silently select an arbitrary group.
    /// Prefecture codes written with 6 digits are shortened to their 4-digit prefix.
    ///
    /// # Errors
    /// [`crate::Error::Usage`] naming the entries that are not whole codes.
    pub fn normalised(&self, coef: &Coefficients) -> Result<Scope> {
        let mut only = Vec::new();
        let mut bad = Vec::new();
        for entry in &self.only {
            let e = entry.trim();
            let digits = e.chars().all(|c| c.is_ascii_digit());
            let county = e.len() == 6 && coef.region(e).is_some();
            let prefecture = |p: &str| {
                coef.regions
                    .iter()
                    .any(|r| r.prefecture_code.starts_with(p))
            };
            let accepted = match e.len() {
                2 => digits && coef.regions.iter().any(|r| r.code.starts_with(e)),
                4 => digits && prefecture(e),
                6 => digits && (county || (e.ends_with("00") && prefecture(&e[..4]))),
                _ => false,
            };
            if !accepted {
                bad.push(e.to_string());
            } else if e.len() == 6 && !county {
                only.push(e[..4].to_string());
            } else {
                only.push(e.to_string());
            }
        }
        if !bad.is_empty() {
            return Err(crate::Error::Usage(format!(
                "--only {}: not a whole province (2 digits), prefecture (4 digits or xxxx00) or county code (6 digits) of {}",
                bad.join(","),
                coef.manifest.name
            )));
        }
        Ok(Scope {
            year: self.year,
            only,
            accounts: self.accounts,
        })
    }

    /// What a scoped run covers, for titles, the total row and the terminal: the prefecture or
    /// county names (太原市, 小店区、迎泽区); `None` for the whole set.
    pub fn label(&self, coef: &Coefficients) -> Option<String> {
        if self.only.is_empty() {
            return None;
        }
        let names: Vec<String> = self
            .only
            .iter()
            .map(|p| match p.len() {
                6 => coef.region(p).map_or_else(|| p.clone(), |r| r.name.clone()),
                4 => coef
                    .regions
                    .iter()
                    .find(|r| r.prefecture_code.starts_with(p.as_str()))
                    .map_or_else(|| p.clone(), |r| r.prefecture.clone()),
                _ => p.clone(),
            })
            .collect();
        Some(names.join("、"))
    }
}

/// An input file as recorded on the About sheet.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// File name.
    pub name: String,
    /// Full path, or "built-in demo".
    pub path: String,
    /// Hex SHA-256.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: usize,
}

/// Validated inputs: long tables in base units, each row with the cell it came from.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// An equivalent-factor study: only the ESV account is computed (no GEP sheets read).
    pub esv_only: bool,
    /// Accounting year.
    pub year: i32,
    /// Counties in the run (codes, in regions.csv order).
    pub counties: Vec<String>,
    /// county_code, land_class, area_ha, source_ref.
    pub land: DataFrame,
    /// county_code, forest_type, area_ha, stock_m3, growth_m3 (nullable), source_ref.
    pub forest: DataFrame,
    /// Earlier forest stock (same columns) and its year, when given.
    pub forest_previous: Option<(i32, DataFrame)>,
    /// county_code, sector, volume_m3, source_ref.
    pub water_use: DataFrame,
    /// county_code, item, amount, source_ref (population in persons, money in yuan).
    pub economy: DataFrame,
    /// county_code, item (`reservoir_capacity_m3`), amount, source_ref: reservoirs' total
    /// capacity from the 供水 sheet (empty without that column).
    pub reservoirs: DataFrame,
    /// county_code, item, amount, source_ref (emissions in t, depletion in yuan); `None` without a 环境 sheet.
    pub environment: Option<DataFrame>,
    /// county_code, item (precipitation_mm, evapotranspiration_mm), amount, source_ref; `None`
    /// without a 气象 sheet.
    pub climate: Option<DataFrame>,
    /// county_code, indicator (as written), quantity, unit (as written), source (as written),
    /// source_ref; `None` without a 实物量 sheet. Resolved against indicators by the account stage.
    pub physical: Option<DataFrame>,
    /// The land-cover change matrix (土地转移), one entry per county × from-class × to-class in
    /// land classes of the crosswalk; `None` without the sheet.
    pub transitions: Option<Vec<crate::extent::Transition>>,
    /// The files read.
    pub files: Vec<InputFile>,
    /// What the run covers (`--only`, checked and normalised).
    pub scope: Scope,
    /// Warnings and notes for the Checks sheet.
    pub warnings: Issues,
}

impl Inputs {
    /// Land-cover area per county (ha), from the land-cover table.
    ///
    /// # Errors
    /// Polars failures only.
    pub fn land_area_by_county(&self) -> Result<BTreeMap<String, f64>> {
        let codes = self.land.column(col::CODE)?.str()?;
        let areas = self.land.column(col::AREA_HA)?.f64()?;
        let mut sums: PlHashMap<&str, crate::sum::KahanSum> = PlHashMap::default();
        for (code, area) in codes.iter().zip(areas.iter()) {
            sums.entry(code.unwrap_or_default())
                .or_default()
                .add(area.unwrap_or(0.0));
        }
        let out = sums
            .into_iter()
            .map(|(c, a)| (c.to_string(), a.sum()))
            .collect();
        Ok(out)
    }
}

/// Water-use sectors: column key → sector key (price key is `water_<sector>`).
pub const WATER_SECTORS: &[(&str, &str)] = &[
    (col::USE_AGRICULTURE_M3, "agriculture"),
    (col::USE_INDUSTRY_M3, "industry"),
    (col::USE_HOUSEHOLD_M3, "household"),
    (col::USE_ECOLOGY_M3, "ecology"),
];

const WATER_SOURCES: &[&str] = &[
    col::SUPPLY_SURFACE_M3,
    col::SUPPLY_GROUND_M3,
    col::SUPPLY_OTHER_M3,
];

/// Climate columns carried into water-balance water conservation.
pub const CLIMATE_ITEMS: &[&str] = &[col::PRECIPITATION_MM, col::EVAPOTRANSPIRATION_MM];

/// Economy columns carried into valuation.
pub const ECONOMY_ITEMS: &[&str] = &[
    col::POPULATION,
    col::GDP_CNY,
    col::AGRICULTURE_OUTPUT_CNY,
    col::FORESTRY_OUTPUT_CNY,
    col::HUSBANDRY_OUTPUT_CNY,
    col::FISHERY_OUTPUT_CNY,
    col::AGRICULTURE_VA_CNY,
    col::FORESTRY_VA_CNY,
    col::HUSBANDRY_VA_CNY,
    col::FISHERY_VA_CNY,
    col::AGRICULTURE_NET_CNY,
    col::FORESTRY_NET_CNY,
    col::HUSBANDRY_NET_CNY,
    col::FISHERY_NET_CNY,
    col::HYDROPOWER_KWH,
    col::TOURISM_REVENUE_CNY,
    col::TOURIST_VISITS,
];

/// Checks every sheet read and builds [`Inputs`], returned with every problem found so far
/// (those collected while reading included) so that the audits can add theirs to one list.
///
/// # Errors
/// [`crate::Error::Invalid`] with every problem found when the frames cannot be built.
pub fn inputs(
    sources: &[Source],
    tables: Vec<SheetTable>,
    coef: &Coefficients,
    scope: &Scope,
    mut issues: Issues,
) -> Result<(Inputs, Issues)> {
    let files = sources
        .iter()
        .map(|s| InputFile {
            name: s.name.clone(),
            path: s.path.as_ref().map_or_else(
                || "built-in demo workbook (synthetic)".to_string(),
                |p| p.display().to_string(),
            ),
            sha256: s.sha256.clone(),
            bytes: s.bytes.len(),
        })
        .collect();
    // A 气象 sheet without rows (as the template gives it) is no 气象 sheet: water conservation
    // stays on the set's per-hectare rates.
    let mut tables = tables;
    let empty_climate: Vec<String> = tables
        .iter()
        .filter(|t| t.kind == SheetKind::Climate && t.rows.is_empty())
        .map(SheetTable::sheet_location)
        .collect();
    if !empty_climate.is_empty() {
        tables.retain(|t| !(t.kind == SheetKind::Climate && t.rows.is_empty()));
        issues.warn(
            Check::Reading,
            empty_climate.join(", "),
            "the 气象 sheet has no rows: ignored — water conservation from the set's rates, not the water balance",
            "气象表无数据：已忽略——水源涵养按系数集单位面积服务量计算，不用水量平衡法",
        );
    }
    // An equivalent-factor study: asked for, or land cover without any GEP sheet.
    let has = |kind: SheetKind| tables.iter().any(|t| t.kind == kind);
    let has_land = has(SheetKind::LandCover);
    let esv_only = match scope.accounts {
        AccountsAsked::EsvOnly => true,
        AccountsAsked::Auto => has_land && !GEP_ONLY_SHEETS.iter().any(|k| has(*k)),
        AccountsAsked::Gep | AccountsAsked::Geep | AccountsAsked::GeepOnly => false,
    };
    if esv_only {
        // The GEP sheets are not read: an ESV-only run values none of their numbers.
        tables.retain(|t| {
            !GEP_ONLY_SHEETS.contains(&t.kind) && t.kind != SheetKind::ForestStockPrevious
        });
        if scope.accounts == AccountsAsked::Auto {
            issues.warn(
                Check::Reading,
                sources.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
                "no 森林资源, 供水 or 经济社会 sheet: an equivalent-factor (ESV) study — GEP and GEEP are not computed (give those sheets for GEP; --accounts esv says this on purpose)",
                "无森林资源、供水、经济社会表：按当量因子法（ESV）研究处理——不核算 GEP 与 GEEP（核算 GEP 需给出这些表；--accounts esv 可明确指定）",
            );
        }
    }
    let by_kind = |kind: SheetKind| -> Vec<&SheetTable> {
        tables.iter().filter(|t| t.kind == kind).collect()
    };
    let geep_only = scope.accounts == AccountsAsked::GeepOnly;
    if geep_only {
        issues.warn(
            Check::Reading,
            sources.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
            "--accounts geep: a GEEP study — water supply, the products and population are not needed and not valued; GEP in the book is the sum of the services valued",
            "--accounts geep：GEEP 研究——不需要也不核算水资源供给、物质产品与人口；账户中的 GEP 为已核算服务之和",
        );
    }
    if matches!(
        scope.accounts,
        AccountsAsked::Geep | AccountsAsked::GeepOnly
    ) && by_kind(SheetKind::Environment).is_empty()
        && !sources.is_empty()
    {
        issues.error(
            sources.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
            "missing sheet 环境 (--accounts geep: the GEEP account needs GDP from 经济社会 and the costs or emissions of 环境)",
        );
    }
    for spec in crate::schema::SHEETS.iter().filter(|s| s.required) {
        if esv_only && GEP_ONLY_SHEETS.contains(&spec.kind) {
            continue;
        }
        if geep_only && spec.kind == SheetKind::WaterSupply {
            continue;
        }
        if by_kind(spec.kind).is_empty() && !sources.is_empty() {
            let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
            issues.error(
                names.join(", "),
                format!(
                    "missing sheet {} (expected a sheet named one of: {})",
                    spec.label,
                    spec.aliases.join(", ")
                ),
            );
        }
    }
    let year = resolve_year(&tables, scope, &mut issues);
    let counties: Vec<String> = coef
        .regions
        .iter()
        .filter(|r| scope.covers(&r.code))
        .map(|r| r.code.clone())
        .collect();
    if counties.is_empty() {
        issues.error(
            "--only",
            format!(
                "no county of {} matches {:?}",
                coef.manifest.name, scope.only
            ),
        );
    }
    // Three independent parts run side by side, their problems kept in this order: the checks
    // over all sheets (codes, signs, subtotals, coverage); the land and forest sheets (forest
    // checked against the land totals); the other sheets.
    let all_sheet_checks = || {
        let mut issues = Issues::new();
        let codes_and_signs = std::time::Instant::now();
        for table in &tables {
            check_codes(table, coef, &mut issues);
            check_signs(table, &mut issues);
            if table.placeholders > 0 {
                issues.warn(
                    Check::Reading,
                    table.sheet_location(),
                    format!(
                        "{} cells were empty or \"—\"/\"/\" and are counted as 0 (none reported)",
                        table.placeholders
                    ),
                    format!(
                        "{} 个单元格为空或为「—」「/」，按 0 计（未填报）",
                        table.placeholders
                    ),
                );
            }
        }
        crate::timed_part_end("  validate: codes and signs", codes_and_signs);
        let before = issues.len();
        crate::timed_part("  validate: subtotals", || {
            check_subtotals(&tables, coef, &mut issues);
        });
        issues.tag_from(before, Check::Balance);
        let coverage = std::time::Instant::now();
        for kind in [
            SheetKind::LandCover,
            SheetKind::ForestStock,
            SheetKind::ForestStockPrevious,
            SheetKind::WaterSupply,
            SheetKind::Economy,
            SheetKind::Environment,
            SheetKind::Climate,
        ] {
            check_coverage(&by_kind(kind), kind, &counties, scope, &mut issues);
        }
        crate::timed_part_end("  validate: coverage and duplicates", coverage);
        issues
    };
    let (all_sheet_issues, (land_half, other_half)) = rayon::join(all_sheet_checks, || {
        rayon::join(
            || {
                let mut issues = Issues::new();
                let mut land_totals = BTreeMap::new();
                let land = crate::timed_part("  validate: land cover", || {
                    land_frame(
                        &by_kind(SheetKind::LandCover),
                        coef,
                        scope,
                        &mut land_totals,
                        &mut issues,
                    )
                });
                // This year's and the previous year's forest stock both check against the land
                // totals, not against each other: side by side.
                let (forest_part, previous_part) = rayon::join(
                    || {
                        let mut issues = Issues::new();
                        let forest = crate::timed_part("  validate: forest stock", || {
                            forest_frame(
                                &by_kind(SheetKind::ForestStock),
                                coef,
                                scope,
                                &land_totals,
                                &mut issues,
                            )
                        });
                        (forest, issues)
                    },
                    || {
                        let mut issues = Issues::new();
                        let forest_previous =
                            crate::timed_part("  validate: previous forest stock", || {
                                previous_forest(
                                    &by_kind(SheetKind::ForestStockPrevious),
                                    year,
                                    coef,
                                    scope,
                                    &land_totals,
                                    &mut issues,
                                )
                            });
                        (forest_previous, issues)
                    },
                );
                let (forest, forest_issues) = forest_part;
                let (forest_previous, previous_issues) = previous_part;
                issues.extend(forest_issues);
                issues.extend(previous_issues);
                (land, forest, forest_previous, issues)
            },
            || {
                let mut issues = Issues::new();
                let before = issues.len();
                let water_use = crate::timed_part("  validate: water supply", || {
                    water_frame(&by_kind(SheetKind::WaterSupply), scope, &mut issues)
                });
                issues.tag_from(before, Check::Balance);
                let reservoirs = long_frame(
                    &by_kind(SheetKind::WaterSupply),
                    &[col::RESERVOIR_CAPACITY_M3],
                    scope,
                );
                let economy = crate::timed_part("  validate: economy", || {
                    economy_frame(
                        &by_kind(SheetKind::Economy),
                        coef,
                        scope,
                        !geep_only,
                        &mut issues,
                    )
                });
                let environment_tables = by_kind(SheetKind::Environment);
                let environment = match (!environment_tables.is_empty()).then(|| {
                    long_frame(&environment_tables, crate::schema::ENVIRONMENT_ITEMS, scope)
                }) {
                    // A 环境 sheet left blank (as in the template) is no 环境 sheet: zero emissions everywhere
                    // would cap purification at 0 and compute a GEEP without degradation.
                    Some(Ok(df)) if all_zero(&df) => {
                        issues.warn(
                        Check::Reading,
                        environment_tables
                            .iter()
                            .map(|t| t.sheet_location())
                            .collect::<Vec<_>>()
                            .join(", "),
                        "the 环境 sheet is empty (no emissions reported): ignored — no GEEP, purification not capped",
                        "环境表为空（未填报排放量）：已忽略——不计算 GEEP，净化量不设上限",
                    );
                        None
                    }
                    other => other,
                };
                let climate_tables = by_kind(SheetKind::Climate);
                let climate = (!climate_tables.is_empty())
                    .then(|| long_frame(&climate_tables, CLIMATE_ITEMS, scope));
                let physical_tables = by_kind(SheetKind::Physical);
                let physical = (!physical_tables.is_empty())
                    .then(|| physical_frame(&physical_tables, scope, &mut issues));
                let transition_tables = by_kind(SheetKind::Transition);
                // A 土地转移 sheet left blank (as in the template) is no 土地转移 sheet.
                let transitions = Some(transitions(&transition_tables, coef, scope, &mut issues))
                    .filter(|t| !t.is_empty());
                (
                    water_use,
                    reservoirs,
                    economy,
                    environment,
                    climate,
                    physical,
                    transitions,
                    issues,
                )
            },
        )
    });
    let (land, forest, forest_previous, land_issues) = land_half;
    let (water_use, reservoirs, economy, environment, climate, physical, transitions, other_issues) =
        other_half;
    issues.extend(all_sheet_issues);
    issues.extend(land_issues);
    issues.extend(other_issues);
    let inputs = Inputs {
        esv_only,
        year: year.unwrap_or_default(),
        counties,
        land: land?,
        forest: forest?,
        forest_previous: match forest_previous {
            Some((y, df)) => Some((y, df?)),
            None => None,
        },
        water_use: water_use?,
        economy: economy?,
        reservoirs: reservoirs?,
        environment: environment.transpose()?,
        climate: climate.transpose()?,
        physical: physical.transpose()?,
        transitions,
        files,
        scope: scope.clone(),
        warnings: Issues::new(),
    };
    crate::drop_in_background(tables);
    Ok((inputs, issues))
}

/// The earliest accounting year accepted (GEP accounting in China starts in the 2000s; an earlier
/// year is a typing mistake such as 1021 or 1800).
pub const EARLIEST_YEAR: i32 = 2000;

/// Logic check: an accounting year before [`EARLIEST_YEAR`] or after next year is refused.
fn check_year_plausible(year: i32, location: &str, what: &str, issues: &mut Issues) {
    let latest = crate::clock::current_year() + 1;
    if !(EARLIEST_YEAR..=latest).contains(&year) {
        issues.audit(
            Check::Logic,
            Severity::Error,
            location,
            format!(
                "{what} {year} is not a plausible accounting year (expected {EARLIEST_YEAR}–{latest}: not before {EARLIEST_YEAR}, not after next year)"
            ),
            format!("{what}{year} 不是合理的核算年份（应在 {EARLIEST_YEAR}–{latest} 之间：不早于 {EARLIEST_YEAR} 年，不晚于明年）"),
        );
    }
}

fn resolve_year(tables: &[SheetTable], scope: &Scope, issues: &mut Issues) -> Option<i32> {
    let found: Vec<_> = tables
        .iter()
        .filter(|t| t.kind != SheetKind::ForestStockPrevious)
        .filter_map(|t| t.year.clone())
        .collect();
    for f in &found {
        check_year_plausible(f.year, &f.location, "the year", issues);
    }
    if let Some(y) = scope.year {
        check_year_plausible(y, "--year", "--year", issues);
        for f in &found {
            if f.year != y {
                issues.audit(
                    Check::Logic,
                    Severity::Error,
                    &f.location,
                    format!("the sheet says {}, but --year is {y}", f.year),
                    format!("该表年份为 {}，但 --year 为 {y}", f.year),
                );
            }
        }
        return Some(y);
    }
    let Some(first) = found.first() else {
        if !tables.is_empty() {
            issues.error(
                "",
                "no accounting year found: put it in a title (\"2021年…\") or a 年份 cell, or give --year",
            );
        }
        return None;
    };
    for f in &found[1..] {
        if f.year != first.year {
            issues.audit(
                Check::Logic,
                Severity::Error,
                &f.location,
                format!(
                    "year {} differs from {} found at {}",
                    f.year, first.year, first.location
                ),
                format!(
                    "年份 {} 与 {}（{}）不一致",
                    f.year, first.year, first.location
                ),
            );
        }
    }
    Some(first.year)
}

fn check_codes(table: &SheetTable, coef: &Coefficients, issues: &mut Issues) {
    let code_col = table.column(col::CODE).map_or(0, |i| table.columns[i].col);
    let name_col = table.column(col::NAME).map(|i| table.columns[i].col);
    for record in &table.rows {
        let Some(code) = &record.code else { continue };
        match coef.region(code) {
            None => issues.error(
                table.at(record.row, code_col),
                format!(
                    "unknown county code {code} (not in {} regions.csv)",
                    coef.manifest.name
                ),
            ),
            Some(region) => {
                if let (Some(name), Some(c)) = (&record.name, name_col)
                    && *name != region.name
                {
                    let written = normalise_header(name).0;
                    let known = normalise_header(&region.name).0;
                    if written != known && !written.ends_with(&known) {
                        issues.error(
                            table.at(record.row, c),
                            format!(
                                "code {code} is {} in regions.csv, but the row says \"{name}\"",
                                region.name
                            ),
                        );
                    }
                }
            }
        }
    }
}

fn check_signs(table: &SheetTable, issues: &mut Issues) {
    for record in table.rows.iter().chain(&table.subtotals) {
        for (i, column) in table.columns.iter().enumerate() {
            if let Some(v) = record.number(i)
                && v < 0.0
            {
                let written = v / column.unit.map_or(1.0, |u| u.to_base);
                let message = format!("{} is negative ({written})", column.header);
                if column.key == col::GROWTH_M3 {
                    issues.warn(
                        Check::Logic,
                        table.at(record.row, column.col),
                        message,
                        format!("{} 为负值（{written}）", column.header),
                    );
                } else {
                    issues.error(
                        table.at(record.row, column.col),
                        format!("{message}; expected a number ≥ 0"),
                    );
                }
            }
        }
    }
}

/// The key that must be unique per sheet kind: the county, or county and type/class in long tables.
fn row_key(table: &SheetTable, record: &Record) -> Option<String> {
    let code = record.code.clone()?;
    let second = [col::FOREST_TYPE, col::LAND_CLASS, col::INDICATOR]
        .iter()
        .find_map(|k| table.column(k).and_then(|i| record.text(i)))
        .map(|t| normalise_header(t).0);
    Some(match second {
        Some(s) => format!("{code}/{s}"),
        None => code,
    })
}

fn check_coverage(
    tables: &[&SheetTable],
    kind: SheetKind,
    counties: &[String],
    scope: &Scope,
    issues: &mut Issues,
) {
    if tables.is_empty() {
        return;
    }
    // key → (table, row) of its first row; the location is written out only for a duplicate.
    let mut seen: PlHashMap<String, (usize, u32)> = PlHashMap::default();
    let mut present: PlHashSet<&str> = PlHashSet::default();
    let code_col = |table: &SheetTable| table.column(col::CODE).map_or(0, |i| table.columns[i].col);
    for (t, table) in tables.iter().enumerate() {
        for record in &table.rows {
            let Some(key) = row_key(table, record) else {
                continue;
            };
            if let Some(code) = &record.code {
                present.insert(code);
            }
            if let Some(&(ft, fr)) = seen.get(&key) {
                let first_at = tables[ft].at(fr, code_col(tables[ft]));
                issues.error(
                    table.at(record.row, code_col(table)),
                    format!("duplicate row for {key} (first at {first_at})"),
                );
            } else {
                seen.insert(key, (t, record.row));
            }
        }
    }
    let missing: Vec<&String> = counties
        .iter()
        .filter(|c| !present.contains(c.as_str()))
        .collect();
    // Forest stock is reported where there is forest: a county without rows is not missing.
    if !missing.is_empty()
        && !matches!(
            kind,
            SheetKind::ForestStock | SheetKind::ForestStockPrevious
        )
    {
        let label = crate::schema::sheet(kind).label;
        let list: Vec<&str> = missing.iter().take(20).map(|s| s.as_str()).collect();
        issues.error(
            tables.iter().map(|t| t.sheet_location()).collect::<Vec<_>>().join(", "),
            format!(
                "{} count{} missing from {label}: {}{}{}",
                missing.len(),
                if missing.len() == 1 { "y is" } else { "ies are" },
                list.join(", "),
                if missing.len() > 20 { ", …" } else { "" },
                if scope.only.is_empty() { " (to account part of the province, use --only with a prefecture or county code)" } else { "" }
            ),
        );
    }
}

/// Subtotal rows: each numeric column against the sum of the counties it covers.
fn check_subtotals(tables: &[SheetTable], coef: &Coefficients, issues: &mut Issues) {
    for table in tables {
        if table.kind == SheetKind::Transition {
            // A change matrix's subtotal rows (per class pair or per county) are not used: the
            // matrix is checked against both years' land cover instead (extent stage).
            continue;
        }
        let type_col = table
            .column(col::FOREST_TYPE)
            .or_else(|| table.column(col::LAND_CLASS));
        // County rows of the set grouped once by prefecture prefix (4 digits): each subtotal
        // then reads only its own counties — linear in the rows, not rows × subtotals.
        let known: Vec<&Record> = table
            .rows
            .iter()
            .filter(|r| r.code.as_deref().is_some_and(|c| coef.region(c).is_some()))
            .collect();
        let mut by_prefix: std::collections::HashMap<&str, Vec<&Record>> =
            std::collections::HashMap::new();
        for r in &known {
            if let Some(p) = r.code.as_deref().and_then(|c| c.get(..4)) {
                by_prefix.entry(p).or_default().push(r);
            }
        }
        for subtotal in &table.subtotals {
            // PP0000 is the subtotal of province PP's counties, PPQQ00 of prefecture PPQQ's;
            // a codeless 合计/全国合计 row of every county.
            let group: Option<&str> = match &subtotal.code {
                Some(c) if c.ends_with("0000") => Some(c.get(..2).unwrap_or(c)),
                Some(c) => Some(c.get(..4).unwrap_or(c)),
                None => {
                    // Without a code only a province total (合计, 总计, 全省) can be placed; a
                    // codeless 小计 or 市辖区 row covers counties we cannot tell: not checked.
                    let code_text = table
                        .column(col::CODE)
                        .and_then(|i| subtotal.text(i))
                        .unwrap_or_default();
                    let label = normalise_header(&format!(
                        "{}{code_text}",
                        subtotal.name.clone().unwrap_or_default()
                    ))
                    .0;
                    let province = ["合计", "总计", "全省", "total"]
                        .iter()
                        .any(|w| label.contains(w));
                    if !province || label.contains("小计") || label.contains("市辖区") {
                        continue;
                    }
                    None
                }
            };
            let subtotal_type = type_col
                .and_then(|i| subtotal.text(i))
                .map(|t| normalise_header(t).0);
            let in_province: Vec<&Record>;
            let candidates: &[&Record] = match group {
                None => &known,
                Some(g) if g.len() == 2 => {
                    in_province = known
                        .iter()
                        .copied()
                        .filter(|r| r.code.as_deref().is_some_and(|c| c.starts_with(g)))
                        .collect();
                    &in_province
                }
                Some(g) => by_prefix.get(g).map_or(&[], Vec::as_slice),
            };
            let members: Vec<&Record> = candidates
                .iter()
                .copied()
                .filter(|r| match (&subtotal_type, type_col) {
                    (Some(t), Some(i)) => {
                        r.text(i).map(|x| normalise_header(x).0).as_ref() == Some(t)
                    }
                    _ => true,
                })
                .collect();
            for (i, column) in table.columns.iter().enumerate() {
                let Some(stated) = subtotal.number(i) else {
                    continue;
                };
                let sum: f64 = members.iter().filter_map(|r| r.number(i)).sum();
                let gap = (stated - sum).abs() / sum.abs().max(stated.abs()).max(1e-9);
                if gap > SUBTOTAL_TOLERANCE {
                    let message = format!(
                        "subtotal {} of {} differs from the sum of its {} counties ({}) by {:.2}% (subtotals are checked, never added)",
                        fmt_num(stated / column.unit.map_or(1.0, |u| u.to_base)),
                        column.header,
                        members.len(),
                        fmt_num(sum / column.unit.map_or(1.0, |u| u.to_base)),
                        gap * 100.0
                    );
                    let at = table.at(subtotal.row, column.col);
                    if gap > SUBTOTAL_ERROR_TOLERANCE {
                        issues.error(
                            at,
                            format!(
                                "{message}; above {:.0}% a county row is wrong or missing",
                                SUBTOTAL_ERROR_TOLERANCE * 100.0
                            ),
                        );
                    } else {
                        issues.warn(
                            Check::Balance,
                            at,
                            message,
                            format!(
                                "{} 的小计 {} 与所辖 {} 个县之和（{}）相差 {:.2}%（小计只核对，不相加）",
                                column.header,
                                fmt_num(stated / column.unit.map_or(1.0, |u| u.to_base)),
                                members.len(),
                                fmt_num(sum / column.unit.map_or(1.0, |u| u.to_base)),
                                gap * 100.0
                            ),
                        );
                    }
                }
            }
        }
    }
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    }
}

/// The previous year's forest-stock sheet (森林资源(上年)), when the workbook has one: its year
/// (written on the sheet, else the year before) checked, its rows validated as this year's.
fn previous_forest(
    previous_tables: &[&SheetTable],
    year: Option<i32>,
    coef: &Coefficients,
    scope: &Scope,
    land_totals: &BTreeMap<String, f64>,
    issues: &mut Issues,
) -> Option<(i32, Result<DataFrame>)> {
    if previous_tables.is_empty() {
        return None;
    }
    let prev_year = previous_tables
        .iter()
        .find_map(|t| t.year.as_ref().map(|y| y.year))
        .unwrap_or_else(|| {
            issues.warn(
                Check::Logic,
                previous_tables[0].sheet_location(),
                "no year found on the previous forest-stock sheet; assumed one year before the accounting year",
                "上年森林资源表未写年份：按核算年份的前一年处理",
            );
            year.unwrap_or(0) - 1
        });
    if let Some(found) = previous_tables.iter().find_map(|t| t.year.as_ref()) {
        check_year_plausible(found.year, &found.location, "the previous year", issues);
    }
    if let Some(y) = year
        && prev_year >= y
    {
        issues.audit(
            Check::Logic,
            Severity::Error,
            previous_tables[0].sheet_location(),
            format!("previous forest stock is for {prev_year}, not before the accounting year {y}"),
            format!("上年森林资源表的年份为 {prev_year}，不早于核算年份 {y}"),
        );
    }
    Some((
        prev_year,
        forest_frame(previous_tables, coef, scope, land_totals, issues),
    ))
}

fn land_frame(
    tables: &[&SheetTable],
    coef: &Coefficients,
    scope: &Scope,
    totals: &mut BTreeMap<String, f64>,
    issues: &mut Issues,
) -> Result<DataFrame> {
    let (mut codes, mut classes, mut areas, mut refs): (Vec<String>, Vec<&str>, _, _) =
        (vec![], vec![], vec![], vec![]);
    // county → (location of its first row, [(class, parent, area_ha, cell)]); classes borrowed
    // from the set.
    type Entry<'c> = (&'c str, &'c str, f64, String);
    let mut by_county: BTreeMap<String, (String, Vec<Entry<'_>>)> = BTreeMap::new();
    for table in tables {
        // Class columns (wide) must be in the crosswalk; parents given with children are subtotals.
        let class_columns: Vec<(usize, String)> = table
            .columns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.key.strip_prefix("class:").map(|n| (i, n.to_string())))
            .collect();
        let mut wide_known = Vec::new();
        for (i, name) in &class_columns {
            let column = &table.columns[*i];
            match coef.land_class(name) {
                Some(lc) => wide_known.push((*i, lc.land_class.as_str(), lc.parent.as_str())),
                None => issues.error(
                    table.at(column.header_row, column.col),
                    format!(
                        "land class \"{name}\" is not in the crosswalk {}/land_classes.csv (三调 first- or second-level class expected)",
                        coef.manifest.name
                    ),
                ),
            }
        }
        let class_col = table.column(col::LAND_CLASS);
        let area_col = table.column(col::AREA_HA);
        for record in &table.rows {
            let Some(code) = record.code.clone() else {
                continue;
            };
            if !scope.covers(&code) || coef.region(&code).is_none() {
                continue;
            }
            let mut entries: Vec<Entry<'_>> = Vec::new();
            if let (Some(ci), Some(ai)) = (class_col, area_col) {
                let Some(name) = record.text(ci) else {
                    issues.error(
                        table.at(record.row, table.columns[ci].col),
                        "missing land class",
                    );
                    continue;
                };
                match coef.land_class(name) {
                    Some(lc) => entries.push((
                        lc.land_class.as_str(),
                        lc.parent.as_str(),
                        record.number(ai).unwrap_or(0.0),
                        table.at(record.row, table.columns[ai].col),
                    )),
                    None => issues.error(
                        table.at(record.row, table.columns[ci].col),
                        unknown_land_class(name, coef),
                    ),
                }
            } else {
                for (i, class, parent) in &wide_known {
                    entries.push((
                        class,
                        parent,
                        record.number(*i).unwrap_or(0.0),
                        table.at(record.row, table.columns[*i].col),
                    ));
                }
            }
            let county = by_county.entry(code).or_insert_with(|| {
                let code_col = table.columns[table.column(col::CODE).unwrap_or(0)].col;
                (table.at(record.row, code_col), Vec::new())
            });
            county.1.extend(entries);
        }
    }
    // Per county (a long-form county spans many rows): first-level classes given together with
    // their second-level classes are subtotals; the total is checked against the region's area.
    for (code, (at, entries)) in by_county {
        let mut dropped = BTreeSet::new();
        for (i, (class, ..)) in entries.iter().enumerate() {
            let kids: Vec<usize> = (0..entries.len())
                .filter(|&k| entries[k].1 == *class)
                .collect();
            if kids.is_empty() {
                continue;
            }
            let sum: f64 = kids.iter().map(|k| entries[*k].2).sum();
            let stated = entries[i].2;
            let gap = (stated - sum).abs() / sum.max(stated).max(1e-9);
            if gap > SUBTOTAL_TOLERANCE {
                issues.warn(
                    Check::Balance,
                    &entries[i].3,
                    format!("{class} {stated:.2} ha differs from the sum of its second-level classes {sum:.2} ha by {:.2}%; the second-level classes are used", gap * 100.0),
                    format!("{class} {stated:.2} 公顷与其二级地类之和 {sum:.2} 公顷相差 {:.2}%：采用二级地类", gap * 100.0),
                );
            }
            dropped.insert(i);
        }
        let total: f64 = entries
            .iter()
            .enumerate()
            .filter(|(i, _)| !dropped.contains(i))
            .map(|(_, e)| e.2)
            .sum();
        totals.insert(code.clone(), total);
        if let Some(area_km2) = coef.region(&code).and_then(|r| r.area_km2) {
            let area_ha = area_km2 * 100.0;
            let gap = (total - area_ha).abs() / area_ha;
            let message = format!(
                "land cover of {code} sums to {total:.0} ha, its area in regions.csv is {area_ha:.0} ha ({:+.1}%)",
                (total - area_ha) / area_ha * 100.0
            );
            if gap > AREA_ERROR_TOLERANCE {
                issues.error(
                    &at,
                    format!(
                        "{message}; a land area off by more than {:.0}% is refused",
                        AREA_ERROR_TOLERANCE * 100.0
                    ),
                );
            } else if gap > AREA_WARNING_TOLERANCE {
                issues.warn(
                    Check::Balance,
                    &at,
                    message,
                    format!(
                        "{code} 土地利用合计 {total:.0} 公顷，regions.csv 面积 {area_ha:.0} 公顷（{:+.1}%）",
                        (total - area_ha) / area_ha * 100.0
                    ),
                );
            }
        }
        for (i, (class, _, area, cell)) in entries.into_iter().enumerate() {
            if dropped.contains(&i) {
                continue;
            }
            codes.push(code.clone());
            classes.push(class);
            areas.push(area);
            refs.push(cell);
        }
    }
    Ok(DataFrame::new_infer_height(vec![
        Column::new(col::CODE.into(), codes),
        Column::new(col::LAND_CLASS.into(), classes),
        Column::new(col::AREA_HA.into(), areas),
        Column::new("source_ref".into(), refs),
    ])?)
}

fn forest_frame(
    tables: &[&SheetTable],
    coef: &Coefficients,
    scope: &Scope,
    land_totals: &BTreeMap<String, f64>,
    issues: &mut Issues,
) -> Result<DataFrame> {
    let (mut codes, mut types, mut areas, mut stocks, mut growths, mut refs) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    // county → (forest area, first row's location)
    let mut forest_area: BTreeMap<String, (f64, String)> = BTreeMap::new();
    for table in tables {
        let (Some(ti), Some(ai), Some(si)) = (
            table.column(col::FOREST_TYPE),
            table.column(col::AREA_HA),
            table.column(col::STOCK_M3),
        ) else {
            continue;
        };
        let gi = table.column(col::GROWTH_M3);
        for record in &table.rows {
            let Some(code) = record.code.clone() else {
                continue;
            };
            if !scope.covers(&code) || coef.region(&code).is_none() {
                continue;
            }
            let type_at = || table.at(record.row, table.columns[ti].col);
            let Some(name) = record.text(ti) else {
                issues.error(type_at(), "missing forest type (优势树种组)");
                continue;
            };
            let Some(ft) = coef.forest_type(name) else {
                issues.error(
                    type_at(),
                    format!(
                        "forest type \"{name}\" is not in {}/forest_types.csv",
                        coef.manifest.name
                    ),
                );
                continue;
            };
            let (Some(area), Some(stock)) = (record.number(ai), record.number(si)) else {
                continue;
            };
            if area <= 0.0 && stock > 0.0 {
                issues.error(
                    table.at(record.row, table.columns[ai].col),
                    format!("forest stock {stock:.0} m³ without area: the continuous BEF needs the area of {name}"),
                );
                continue;
            }
            if area > 0.0 && stock / area > MAX_STOCK_PER_HA {
                issues.error(
                    table.at(record.row, table.columns[si].col),
                    format!("{:.0} m³/ha is not a plausible growing stock (limit {MAX_STOCK_PER_HA}); check the units", stock / area),
                );
            }
            let entry = forest_area
                .entry(code.clone())
                .or_insert_with(|| (0.0, table.at(record.row, table.columns[ai].col)));
            entry.0 += area;
            codes.push(code);
            types.push(ft.forest_type.clone());
            areas.push(area);
            stocks.push(stock);
            growths.push(gi.and_then(|g| record.number(g)));
            refs.push(format!(
                "{} [{}!{}:{}]",
                table.file,
                table.sheet,
                crate::error::a1(record.row, table.columns[0].col.min(table.columns[ti].col)),
                crate::error::a1(
                    record.row,
                    table.columns.iter().map(|c| c.col).max().unwrap_or(0)
                )
            ));
        }
    }
    for (code, (area, at)) in &forest_area {
        let land = coef
            .region(code)
            .and_then(|r| r.area_km2.map(|a| a * 100.0))
            .or_else(|| land_totals.get(code).copied());
        if let Some(land) = land.filter(|l| *area > l * 1.001) {
            issues.audit(
                Check::Logic,
                Severity::Error,
                at,
                format!(
                    "forest area of {code} ({area:.0} ha) exceeds its land area ({land:.0} ha): forest coverage {:.0}% > 100%",
                    area / land * 100.0
                ),
                format!(
                    "{code} 森林面积 {area:.0} 公顷超过其土地面积 {land:.0} 公顷：森林覆盖率 {:.0}% > 100%",
                    area / land * 100.0
                ),
            );
        }
    }
    Ok(DataFrame::new_infer_height(vec![
        Column::new(col::CODE.into(), codes),
        Column::new(col::FOREST_TYPE.into(), types),
        Column::new(col::AREA_HA.into(), areas),
        Column::new(col::STOCK_M3.into(), stocks),
        Column::new(col::GROWTH_M3.into(), growths),
        Column::new("source_ref".into(), refs),
    ])?)
}

fn water_frame(tables: &[&SheetTable], scope: &Scope, issues: &mut Issues) -> Result<DataFrame> {
    let (mut codes, mut sectors, mut volumes, mut refs) = (vec![], vec![], vec![], vec![]);
    for table in tables {
        for record in &table.rows {
            let Some(code) = record.code.clone() else {
                continue;
            };
            if !scope.covers(&code) {
                continue;
            }
            let supply: f64 = WATER_SOURCES
                .iter()
                .filter_map(|k| table.column(k).and_then(|i| record.number(i)))
                .sum();
            let mut used = 0.0;
            for (key, sector) in WATER_SECTORS {
                let Some(i) = table.column(key) else { continue };
                let v = record.number(i).unwrap_or(0.0);
                used += v;
                codes.push(code.clone());
                sectors.push(sector.to_string());
                volumes.push(v);
                refs.push(table.at(record.row, table.columns[i].col));
            }
            let gap = (supply - used).abs() / supply.max(used).max(1e-9);
            if gap > WATER_BALANCE_TOLERANCE {
                issues.error(
                    table.at(record.row, table.columns[table.column(col::CODE).unwrap_or(0)].col),
                    format!(
                        "water supply by source ({:.2} 万m³) differs from use by sector ({:.2} 万m³) by {:.2}% (limit {:.1}%)",
                        supply / 1e4,
                        used / 1e4,
                        gap * 100.0,
                        WATER_BALANCE_TOLERANCE * 100.0
                    ),
                );
            }
        }
    }
    Ok(DataFrame::new_infer_height(vec![
        Column::new(col::CODE.into(), codes),
        Column::new("sector".into(), sectors),
        Column::new("volume_m3".into(), volumes),
        Column::new("source_ref".into(), refs),
    ])?)
}

fn economy_frame(
    tables: &[&SheetTable],
    coef: &Coefficients,
    scope: &Scope,
    products_required: bool,
    issues: &mut Issues,
) -> Result<DataFrame> {
    let needed = crate::schema::product_basis(&coef.manifest.switches.provisioning_basis).columns;
    for table in tables.iter().filter(|_| products_required) {
        for key in needed {
            if table.column(key).is_none() {
                issues.error(
                    table.sheet_location(),
                    format!(
                        "missing column \"{}\" ({key}): the coefficient set's provisioning_basis is {}",
                        crate::schema::header_for(key),
                        coef.manifest.switches.provisioning_basis
                    ),
                );
            }
        }
    }
    // Columns the set's declared services read (`declared:KEY`), read like the others.
    let declared: Vec<String> = coef
        .manifest
        .services
        .keys()
        .map(|k| format!("{}{k}", crate::schema::DECLARED_COLUMN_PREFIX))
        .collect();
    let items: Vec<&str> = ECONOMY_ITEMS
        .iter()
        .copied()
        .chain(declared.iter().map(String::as_str))
        .collect();
    long_frame(tables, &items, scope)
}

/// Whether every amount of a long frame is 0 (blank cells read as 0).
fn all_zero(df: &DataFrame) -> bool {
    df.column("amount")
        .ok()
        .and_then(|c| {
            c.f64()
                .ok()
                .map(|a| a.iter().all(|v| v.unwrap_or(0.0) == 0.0))
        })
        .unwrap_or(false)
}

/// The 实物量 rows: one per county and indicator, with the unit and source as written. A county
/// and indicator given twice is an error naming both cells.
fn physical_frame(tables: &[&SheetTable], scope: &Scope, issues: &mut Issues) -> Result<DataFrame> {
    let (mut codes, mut indicators, mut quantities, mut units_, mut sources, mut refs) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut seen: BTreeMap<(String, String), String> = BTreeMap::new();
    for table in tables {
        let (Some(ind), Some(qty), Some(unit), Some(source)) = (
            table.column(col::INDICATOR),
            table.column(col::QUANTITY),
            table.column(col::UNIT),
            table.column(col::SOURCE),
        ) else {
            continue; // missing columns are reported by the reader
        };
        for record in &table.rows {
            let Some(code) = record.code.clone() else {
                continue;
            };
            if !scope.covers(&code) {
                continue;
            }
            let Some(Value::Number(q)) = record.values.get(qty) else {
                continue;
            };
            let indicator = record.text(ind).unwrap_or_default().trim().to_string();
            let at = table.at(record.row, table.columns[qty].col);
            if let Some(first) = seen.get(&(code.clone(), indicator.clone())) {
                issues.error(
                    &at,
                    format!("{code} {indicator} given twice in 实物量 (first at {first})"),
                );
                continue;
            }
            seen.insert((code.clone(), indicator.clone()), at.clone());
            codes.push(code);
            indicators.push(indicator);
            quantities.push(*q);
            units_.push(record.text(unit).unwrap_or_default().trim().to_string());
            sources.push(record.text(source).unwrap_or_default().trim().to_string());
            refs.push(at);
        }
    }
    Ok(DataFrame::new_infer_height(vec![
        Column::new(col::CODE.into(), codes),
        Column::new("indicator".into(), indicators),
        Column::new("quantity".into(), quantities),
        Column::new("unit".into(), units_),
        Column::new("source".into(), sources),
        Column::new("source_ref".into(), refs),
    ])?)
}

/// The error for a land class the crosswalk does not know.
fn unknown_land_class(name: &str, coef: &Coefficients) -> String {
    format!(
        "land class \"{name}\" is not in the crosswalk {}/land_classes.csv",
        coef.manifest.name
    )
}

/// The 土地转移 rows of the run's counties: each from- and to-class resolved in the crosswalk, a
/// county × from × to given once.
fn transitions(
    tables: &[&SheetTable],
    coef: &Coefficients,
    scope: &Scope,
    issues: &mut Issues,
) -> Vec<crate::extent::Transition> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<(String, String, String), String> = BTreeMap::new();
    for table in tables {
        let (Some(from), Some(to), Some(area)) = (
            table.column(col::FROM_CLASS),
            table.column(col::TO_CLASS),
            table.column(col::AREA_HA),
        ) else {
            continue; // missing columns are reported by the reader
        };
        for record in &table.rows {
            let Some(code) = record.code.clone() else {
                continue;
            };
            if !scope.covers(&code) || coef.region(&code).is_none() {
                continue;
            }
            let mut class = |i: usize| {
                let at = table.at(record.row, table.columns[i].col);
                let name = record.text(i).unwrap_or_default().trim().to_string();
                match coef.land_class(&name) {
                    Some(lc) => Some(lc.land_class.clone()),
                    None => {
                        issues.error(at, unknown_land_class(&name, coef));
                        None
                    }
                }
            };
            let (Some(from_class), Some(to_class)) = (class(from), class(to)) else {
                continue;
            };
            let Some(area_ha) = record.number(area) else {
                continue; // a blank or non-number cell is reported by the reader
            };
            let at = table.at(record.row, table.columns[area].col);
            let key = (code.clone(), from_class.clone(), to_class.clone());
            if let Some(first) = seen.get(&key) {
                issues.error(
                    &at,
                    format!(
                        "{code} {from_class} → {to_class} given twice in 土地转移 (first at {first})"
                    ),
                );
                continue;
            }
            seen.insert(key, at.clone());
            out.push(crate::extent::Transition {
                county_code: code,
                from_class,
                to_class,
                area_ha,
                source_ref: at,
            });
        }
    }
    out
}

/// The numeric columns `items` of county rows as a long frame: county_code, item, amount, source_ref.
fn long_frame(tables: &[&SheetTable], items: &[&str], scope: &Scope) -> Result<DataFrame> {
    let (mut codes, mut names, mut amounts, mut refs): (Vec<&str>, Vec<&str>, _, _) =
        (vec![], vec![], vec![], vec![]);
    for table in tables {
        let columns: Vec<(&str, usize)> = items
            .iter()
            .filter_map(|item| table.column(item).map(|i| (*item, i)))
            .collect();
        for record in &table.rows {
            let Some(code) = record.code.as_deref() else {
                continue;
            };
            if !scope.covers(code) {
                continue;
            }
            for &(item, i) in &columns {
                let Some(Value::Number(v)) = record.values.get(i) else {
                    continue;
                };
                codes.push(code);
                names.push(item);
                amounts.push(*v);
                refs.push(table.at(record.row, table.columns[i].col));
            }
        }
    }
    Ok(DataFrame::new_infer_height(vec![
        Column::new(col::CODE.into(), codes),
        Column::new("item".into(), names),
        Column::new("amount".into(), amounts),
        Column::new("source_ref".into(), refs),
    ])?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::FoundColumn;
    use crate::schema::ColumnKind;

    fn record(row: u32, code: &str, gdp: f64) -> Record {
        Record {
            row,
            code: Some(code.to_string()),
            name: None,
            values: vec![Value::Text(code.to_string()), Value::Number(gdp)],
        }
    }

    /// Regression (national workbooks): a province subtotal PP0000 covers the counties of
    /// province PP, not every county of the set.
    #[test]
    fn a_province_subtotal_covers_its_own_counties() {
        let mut coef = crate::account::registry::load_coefficients(None, false).unwrap();
        coef.regions.push(crate::coefficients::Region {
            code: "150102".into(),
            name: "新城区".into(),
            prefecture_code: "150100".into(),
            prefecture: "呼和浩特市".into(),
            kind: "市辖区".into(),
            area_km2: None,
            area_source: String::new(),
        });
        let table = |subtotals: Vec<Record>| SheetTable {
            kind: SheetKind::Economy,
            file: "w.xlsx".into(),
            sheet: "经济社会".into(),
            year: None,
            columns: vec![
                FoundColumn {
                    key: col::CODE.into(),
                    header: "区划代码".into(),
                    col: 0,
                    header_row: 0,
                    kind: ColumnKind::Code,
                    unit: None,
                },
                FoundColumn {
                    key: col::GDP_CNY.into(),
                    header: "地区生产总值".into(),
                    col: 1,
                    header_row: 0,
                    kind: ColumnKind::Number(crate::units::Dimension::Money),
                    unit: None,
                },
            ],
            rows: vec![
                record(3, "140105", 10.0),
                record(4, "140106", 20.0),
                record(5, "150102", 5.0),
            ],
            subtotals,
            placeholders: 0,
        };
        let mut issues = Issues::new();
        check_subtotals(
            &[table(vec![
                record(1, "140000", 30.0),
                record(2, "150000", 5.0),
            ])],
            &coef,
            &mut issues,
        );
        assert!(issues.is_empty(), "{:?}", issues.all());
        check_subtotals(
            &[table(vec![record(2, "150000", 35.0)])],
            &coef,
            &mut issues,
        );
        assert!(
            issues
                .all()
                .iter()
                .any(|i| i.location == "w.xlsx [经济社会!B3]"
                    && i.message.contains("its 1 counties")),
            "{:?}",
            issues.all()
        );
    }
}
