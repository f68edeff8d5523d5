//! Stage 2b, audit (数据审核): logic, ratio and trend checks on validated inputs, as statistics
//! bureaus audit every table; balance checks (subtotals, source = use) run in `validate`.
//! Every check, threshold and rationale is listed in docs/checks.md.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::coefficients::Coefficients;
use crate::error::{Check, Issues, Result, Severity};
use crate::schema::col;
use crate::validate::Inputs;

/// Logic: the 森林资源 stand area may exceed the 乔木林地 of the land survey by this share
/// (two surveys of different dates) before a warning…
pub const STAND_OVER_TREE_LAND_TOLERANCE: f64 = 0.05;
/// … and the whole 林地 by this share before an error.
pub const STAND_OVER_FOREST_LAND_TOLERANCE: f64 = 0.01;
/// Ratio: a county's intensity is compared with the run's counties when at least this many have one.
pub const MIN_PEERS: usize = 10;
/// Ratio: warning when log10(value) lies further from the median than this many robust standard
/// deviations (1.4826 × MAD)…
pub const PEER_SPREAD_FACTOR: f64 = 4.0;
/// … and never closer than this many decades (a factor of 10^0.5 ≈ 3.2).
pub const PEER_MIN_DECADES: f64 = 0.5;
/// Trend: stand area or growing stock changing by more than this factor in a year.
pub const FOREST_TREND_FACTOR: f64 = 1.5;
/// Trend: any other county value changing by more than this factor from the previous year.
pub const TREND_FACTOR: f64 = 3.0;
/// Trend: land classes (and indicators) smaller than this share of the county are not compared.
pub const TREND_MIN_SHARE: f64 = 0.01;

/// A county quantity: its value (base units) and the first cell it came from.
#[derive(Debug, Clone)]
struct Quantity {
    value: f64,
    at: String,
}

type ByCounty = BTreeMap<String, Quantity>;

/// One county sum over a frame: the rows `keep` keeps by their key column (every row without a
/// `keep`), of one value column.
struct Sum<'a> {
    keep: Option<&'a dyn Fn(&str) -> bool>,
    value: &'a str,
}

impl<'a> Sum<'a> {
    /// `value` over every row.
    fn all(value: &'a str) -> Self {
        Sum { keep: None, value }
    }

    /// `value` over the rows `keep` keeps.
    fn of(keep: &'a dyn Fn(&str) -> bool, value: &'a str) -> Self {
        Sum {
            keep: Some(keep),
            value,
        }
    }
}

/// Several county sums over one frame in one pass (`key` names the column the sums' `keep`s
/// read). A county has an entry in a sum once a kept row gives it a value; the entry keeps that
/// row's cell, and its total adds the kept values in sheet order.
fn sums_by_county<const N: usize>(
    df: &DataFrame,
    key: Option<&str>,
    sums: [Sum<'_>; N],
) -> Result<[ByCounty; N]> {
    let codes = df.column(col::CODE)?.str()?;
    let refs = df.column("source_ref")?.str()?;
    let keys = match key {
        Some(k) => Some(df.column(k)?.str()?),
        None => None,
    };
    let mut values = Vec::with_capacity(sums.len());
    for sum in &sums {
        values.push(df.column(sum.value)?.f64()?.iter());
    }
    let mut keys = keys.map(|k| k.iter());
    // Counties in order of appearance; per sum and county: (total, first cell).
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut counties: Vec<&str> = Vec::new();
    let mut totals: [Vec<Option<(f64, &str)>>; N] = std::array::from_fn(|_| Vec::new());
    // Rows come in runs of one county: its index is looked up once a run.
    let mut run: Option<(&str, usize)> = None;
    for (code, at) in codes.iter().zip(refs.iter()) {
        let key = keys.as_mut().and_then(|k| k.next().flatten());
        let row: [Option<f64>; N] = std::array::from_fn(|k| values[k].next().flatten());
        let Some(code) = code else {
            continue;
        };
        let county = match run {
            Some((c, i)) if c == code => i,
            _ => {
                let next = counties.len();
                let i = *index.entry(code).or_insert(next);
                if i == next {
                    counties.push(code);
                    for t in &mut totals {
                        t.push(None);
                    }
                }
                run = Some((code, i));
                i
            }
        };
        for ((sum, value), total) in sums.iter().zip(row).zip(totals.iter_mut()) {
            let kept = match sum.keep {
                Some(keep) => key.is_some_and(keep),
                None => true,
            };
            if let (Some(v), true) = (value, kept) {
                match &mut total[county] {
                    Some((t, _)) => *t += v,
                    empty => *empty = Some((0.0 + v, at.unwrap_or_default())),
                }
            }
        }
    }
    Ok(totals.map(|total| {
        counties
            .iter()
            .zip(total)
            .filter_map(|(code, t)| {
                t.map(|(value, at)| {
                    (
                        (*code).to_string(),
                        Quantity {
                            value,
                            at: at.to_string(),
                        },
                    )
                })
            })
            .collect()
    }))
}

/// Sums `value` by county over the rows whose `key` column satisfies `keep` (every row without
/// a `key`): [`sums_by_county`] with one sum.
fn sum_by_county(
    df: &DataFrame,
    key: Option<&str>,
    keep: impl Fn(&str) -> bool,
    value: &str,
) -> Result<ByCounty> {
    let sum = match key {
        Some(_) => Sum::of(&keep, value),
        None => Sum::all(value),
    };
    let [sums] = sums_by_county(df, key, [sum])?;
    Ok(sums)
}

/// The county quantities the audits use.
#[derive(Clone)]
struct Facts {
    name: BTreeMap<String, String>,
    land_ha: ByCounty,
    tree_land_ha: ByCounty,
    forest_land_ha: ByCounty,
    farmland_ha: ByCounty,
    stand_ha: ByCounty,
    stock_m3: ByCounty,
    growth_m3: ByCounty,
    water_m3: ByCounty,
    economy: BTreeMap<&'static str, ByCounty>,
    so2_t: ByCounty,
}

impl Facts {
    fn of(inputs: &Inputs, coef: &Coefficients) -> Result<Self> {
        let parent_is = |class: &str, first: &str| {
            class == first
                || coef
                    .land_class(class)
                    .is_some_and(|c| c.parent == first || c.land_class == first)
        };
        // A class's parent is looked up once per class, not once per row.
        let parent_memo = |first: &'static str| {
            let known: std::cell::RefCell<std::collections::HashMap<String, bool>> =
                std::cell::RefCell::default();
            move |class: &str| -> bool {
                if let Some(&is) = known.borrow().get(class) {
                    return is;
                }
                let is = parent_is(class, first);
                known.borrow_mut().insert(class.to_string(), is);
                is
            }
        };
        let (in_forest_land, in_farmland) = (parent_memo("林地"), parent_memo("耕地"));
        let is_tree_land = |c: &str| c == "乔木林地";
        let [land_ha, tree_land_ha, forest_land_ha, farmland_ha] = sums_by_county(
            &inputs.land,
            Some(col::LAND_CLASS),
            [
                Sum::all(col::AREA_HA),
                Sum::of(&is_tree_land, col::AREA_HA),
                Sum::of(&in_forest_land, col::AREA_HA),
                Sum::of(&in_farmland, col::AREA_HA),
            ],
        )?;
        let [stand_ha, stock_m3, growth_m3] = sums_by_county(
            &inputs.forest,
            None,
            [
                Sum::all(col::AREA_HA),
                Sum::all(col::STOCK_M3),
                Sum::all(col::GROWTH_M3),
            ],
        )?;
        let economy_items = [
            col::POPULATION,
            col::GDP_CNY,
            col::AGRICULTURE_OUTPUT_CNY,
            col::AGRICULTURE_VA_CNY,
            col::TOURISM_REVENUE_CNY,
            col::TOURIST_VISITS,
        ];
        let item_is = economy_items.map(|item| move |i: &str| i == item);
        let economy_sums: [Sum<'_>; 6] = std::array::from_fn(|k| Sum::of(&item_is[k], "amount"));
        let economy = economy_items
            .into_iter()
            .zip(sums_by_county(&inputs.economy, Some("item"), economy_sums)?)
            .collect();
        let so2_t = match &inputs.environment {
            Some(env) => sum_by_county(env, Some("item"), |i| i == col::SO2_T, "amount")?,
            None => ByCounty::new(),
        };
        Ok(Facts {
            name: coef
                .regions
                .iter()
                .map(|r| (r.code.clone(), r.name.clone()))
                .collect(),
            land_ha,
            tree_land_ha,
            forest_land_ha,
            farmland_ha,
            stand_ha,
            stock_m3,
            growth_m3,
            water_m3: sum_by_county(&inputs.water_use, None, |_| true, "volume_m3")?,
            economy,
            so2_t,
        })
    }

    /// An urban district (市辖区): its name ends in 区.
    fn is_district(&self, code: &str) -> bool {
        self.name.get(code).is_some_and(|n| n.ends_with('区'))
    }

    fn county(&self, code: &str) -> String {
        match self.name.get(code) {
            Some(n) => format!("{code} {n}"),
            None => code.to_string(),
        }
    }
}

/// Runs the logic, ratio and within-workbook trend audits, adding located problems to `issues`.
///
/// # Errors
/// Polars failures only (the frames are built by `validate`).
pub fn audit(inputs: &Inputs, coef: &Coefficients, issues: &mut Issues) -> Result<()> {
    let facts = Facts::of(inputs, coef)?;
    logic(&facts, issues);
    ratios(&facts, issues);
    if let Some((year, previous)) = &inputs.forest_previous {
        forest_trend(&facts, inputs.year, *year, previous, issues)?;
    }
    Ok(())
}

/// How far `value` exceeds `limit`, as a percentage ("575.0%"; "∞" over a limit of 0).
fn excess(value: f64, limit: f64) -> String {
    if limit > 0.0 {
        format!("{:.1}%", (value / limit - 1.0) * 100.0)
    } else {
        "∞ (no 林地 at all)".to_string()
    }
}

/// Logic (逻辑审核): stand area ≤ 乔木林地 ≤ 林地.
fn logic(f: &Facts, issues: &mut Issues) {
    for (code, stand) in &f.stand_ha {
        if let Some(forest) = f.forest_land_ha.get(code)
            && stand.value > forest.value * (1.0 + STAND_OVER_FOREST_LAND_TOLERANCE)
        {
            issues.audit(
                Check::Logic,
                Severity::Error,
                &stand.at,
                format!(
                    "{}: forest stand area {:.0} ha (森林资源) exceeds all its 林地 {:.0} ha ({}) by {} (tolerance {:.0}%): an area in 亩 under a 公顷 header, or a wrong county row?",
                    f.county(code),
                    stand.value,
                    forest.value,
                    forest.at,
                    excess(stand.value, forest.value),
                    STAND_OVER_FOREST_LAND_TOLERANCE * 100.0
                ),
                format!(
                    "{}：森林资源林分面积 {:.0} 公顷超过其全部林地 {:.0} 公顷（{}）{}（容差 {:.0}%）：是否把亩填在公顷表头下，或串行？",
                    f.county(code),
                    stand.value,
                    forest.value,
                    forest.at,
                    excess(stand.value, forest.value),
                    STAND_OVER_FOREST_LAND_TOLERANCE * 100.0
                ),
            );
        } else if let Some(tree) = f.tree_land_ha.get(code)
            && stand.value > tree.value * (1.0 + STAND_OVER_TREE_LAND_TOLERANCE)
        {
            issues.audit(
                Check::Logic,
                Severity::Warning,
                &stand.at,
                format!(
                    "{}: forest stand area {:.0} ha (森林资源) exceeds its 乔木林地 {:.0} ha ({}) by {:.1}% (tolerance {:.0}%)",
                    f.county(code),
                    stand.value,
                    tree.value,
                    tree.at,
                    (stand.value / tree.value - 1.0) * 100.0,
                    STAND_OVER_TREE_LAND_TOLERANCE * 100.0
                ),
                format!(
                    "{}：森林资源林分面积 {:.0} 公顷超过其乔木林地 {:.0} 公顷（{}）{:.1}%（容差 {:.0}%）",
                    f.county(code),
                    stand.value,
                    tree.value,
                    tree.at,
                    (stand.value / tree.value - 1.0) * 100.0,
                    STAND_OVER_TREE_LAND_TOLERANCE * 100.0
                ),
            );
        }
    }
}

/// One intensity compared across counties (比例审核).
struct Ratio {
    en: &'static str,
    zh: &'static str,
    /// Display unit and the factor from base units (numerator base / denominator base).
    unit: &'static str,
    display: f64,
    /// Hard physical upper bound in display units: an error above it.
    hard_max: f64,
}

/// The intensities audited: (ratio, numerator, denominator) over the county facts.
fn ratio_table(f: &Facts) -> Vec<(Ratio, &ByCounty, &ByCounty)> {
    let e = |k: &str| &f.economy[k];
    let agriculture = if e(col::AGRICULTURE_OUTPUT_CNY).is_empty() {
        e(col::AGRICULTURE_VA_CNY)
    } else {
        e(col::AGRICULTURE_OUTPUT_CNY)
    };
    vec![
        (
            Ratio {
                en: "growing stock per hectare of stand",
                zh: "单位林分面积蓄积量",
                unit: "m³/ha",
                display: 1.0,
                hard_max: crate::validate::MAX_STOCK_PER_HA,
            },
            &f.stock_m3,
            &f.stand_ha,
        ),
        (
            Ratio {
                en: "forest stand area as a share of 乔木林地",
                zh: "林分面积占乔木林地比例",
                unit: "%",
                display: 100.0,
                // Above 100 % is the logic check's (stand ≤ 乔木林地 ≤ 林地).
                hard_max: f64::INFINITY,
            },
            &f.stand_ha,
            &f.tree_land_ha,
        ),
        (
            Ratio {
                en: "annual growth as a share of stock",
                zh: "年生长量占蓄积量比例",
                unit: "%",
                display: 100.0,
                hard_max: 30.0,
            },
            &f.growth_m3,
            &f.stock_m3,
        ),
        (
            Ratio {
                en: "water use per capita",
                zh: "人均用水量",
                unit: "m³/人",
                display: 1.0,
                hard_max: 20_000.0,
            },
            &f.water_m3,
            e(col::POPULATION),
        ),
        (
            Ratio {
                en: "GDP per capita",
                zh: "人均地区生产总值",
                unit: "元/人",
                display: 1.0,
                hard_max: 5_000_000.0,
            },
            e(col::GDP_CNY),
            e(col::POPULATION),
        ),
        (
            Ratio {
                en: "population density",
                zh: "人口密度",
                unit: "人/km²",
                display: 100.0,
                hard_max: 100_000.0,
            },
            e(col::POPULATION),
            &f.land_ha,
        ),
        (
            Ratio {
                en: "agricultural output per hectare of farmland",
                zh: "单位耕地农业产值",
                unit: "元/公顷",
                display: 1.0,
                hard_max: 5_000_000.0,
            },
            agriculture,
            &f.farmland_ha,
        ),
        (
            Ratio {
                en: "tourism revenue per visit",
                zh: "人均旅游消费（每人次）",
                unit: "元/人次",
                display: 1.0,
                hard_max: 50_000.0,
            },
            e(col::TOURISM_REVENUE_CNY),
            e(col::TOURIST_VISITS),
        ),
        (
            Ratio {
                en: "SO₂ emissions per unit of GDP",
                zh: "单位地区生产总值二氧化硫排放",
                unit: "t/亿元",
                display: 1e8,
                hard_max: 5_000.0,
            },
            &f.so2_t,
            e(col::GDP_CNY),
        ),
    ]
}

/// Median of a non-empty slice (sorted in place).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// A county whose intensity lies outside the robust spread of the run's counties.
#[derive(Debug, Clone, PartialEq)]
pub struct Outlier {
    /// Index into the values given.
    pub index: usize,
    /// The county's value over the median.
    pub times_median: f64,
    /// The median.
    pub median: f64,
    /// The accepted range (low, high).
    pub range: (f64, f64),
}

/// Counties whose value lies further than max([`PEER_SPREAD_FACTOR`] × 1.4826 × MAD,
/// [`PEER_MIN_DECADES`]) from the median in log10 space; nothing with fewer than
/// [`MIN_PEERS`] positive values.
pub fn outliers(values: &[f64]) -> Vec<Outlier> {
    let logs: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .filter(|(_, v)| **v > 0.0 && v.is_finite())
        .map(|(i, v)| (i, v.log10()))
        .collect();
    if logs.len() < MIN_PEERS {
        return Vec::new();
    }
    let mut l: Vec<f64> = logs.iter().map(|x| x.1).collect();
    let m = median(&mut l);
    let mut deviations: Vec<f64> = logs.iter().map(|x| (x.1 - m).abs()).collect();
    let sigma = 1.4826 * median(&mut deviations);
    let limit = (PEER_SPREAD_FACTOR * sigma).max(PEER_MIN_DECADES);
    logs.iter()
        .filter(|(_, x)| (x - m).abs() > limit)
        .map(|&(index, x)| Outlier {
            index,
            times_median: 10f64.powf(x - m),
            median: 10f64.powf(m),
            range: (10f64.powf(m - limit), 10f64.powf(m + limit)),
        })
        .collect()
}

fn fmt(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

/// Ratio (比例审核): hard bounds (errors) and peers (warnings).
fn ratios(f: &Facts, issues: &mut Issues) {
    for (ratio, numerator, denominator) in ratio_table(f) {
        let mut codes = Vec::new();
        let mut values = Vec::new();
        // The physical bound is not applied to a sliver of a denominator (a district with a few
        // hectares of 耕地 and greenhouse output): under 1 % of the run's median.
        let mut denominators: Vec<f64> = denominator
            .values()
            .map(|d| d.value)
            .filter(|v| *v > 0.0)
            .collect();
        let sliver = if denominators.is_empty() {
            0.0
        } else {
            median(&mut denominators) * 0.01
        };
        for (code, n) in numerator {
            let Some(d) = denominator.get(code).filter(|d| d.value > 0.0) else {
                continue;
            };
            let value = n.value / d.value * ratio.display;
            if value > ratio.hard_max && d.value >= sliver {
                issues.audit(
                    Check::Ratio,
                    Severity::Error,
                    &n.at,
                    format!(
                        "{}: {} is {} {}, above the physical limit {} {} ({} ÷ {}): check the units of both cells",
                        f.county(code),
                        ratio.en,
                        fmt(value),
                        ratio.unit,
                        fmt(ratio.hard_max),
                        ratio.unit,
                        n.at,
                        d.at
                    ),
                    format!(
                        "{}：{}为 {} {}，超过物理上限 {} {}（{} ÷ {}）：请核对两个单元格的单位",
                        f.county(code),
                        ratio.zh,
                        fmt(value),
                        ratio.unit,
                        fmt(ratio.hard_max),
                        ratio.unit,
                        n.at,
                        d.at
                    ),
                );
            }
            codes.push((code, n, d));
            values.push(value);
        }
        // Peers: urban districts (市辖区, names ending in 区) and counties (县, 县级市, 旗) have
        // different intensities (density, output per hectare); each is compared with its own
        // kind when there are enough of them, otherwise with all counties of the run.
        let mut found = Vec::new();
        for district in [true, false] {
            let members: Vec<usize> = (0..codes.len())
                .filter(|&i| f.is_district(codes[i].0) == district)
                .collect();
            let own_kind = members.len() >= MIN_PEERS;
            let group: Vec<usize> = if own_kind {
                members
            } else {
                (0..codes.len()).collect()
            };
            let group_values: Vec<f64> = group.iter().map(|&i| values[i]).collect();
            for mut o in outliers(&group_values) {
                o.index = group[o.index];
                if f.is_district(codes[o.index].0) == district {
                    found.push((o, group.len(), own_kind));
                }
            }
        }
        found.sort_by_key(|(o, _, _)| o.index);
        for (o, peers, own_kind) in found {
            let (code, n, d) = codes[o.index];
            let value = values[o.index];
            let (kind_en, kind_zh) = match (own_kind, f.is_district(code)) {
                (false, _) => ("county-level units", "县级单位"),
                (true, true) => ("districts", "市辖区"),
                (true, false) => ("counties", "县（市）"),
            };
            let (cells_en, cells_zh) = if n.at == d.at {
                (n.at.clone(), n.at.clone())
            } else {
                (
                    format!("{} or {}", n.at, d.at),
                    format!("{} 或 {}", n.at, d.at),
                )
            };
            issues.audit(
                Check::Ratio,
                Severity::Warning,
                &n.at,
                format!(
                    "{}: {} is {} {}, {}× the median of the {peers} {kind_en} compared in this run ({} {}; accepted {}–{}): a unit slip in {cells_en}?",
                    f.county(code),
                    ratio.en,
                    fmt(value),
                    ratio.unit,
                    fmt(o.times_median),
                    fmt(o.median),
                    ratio.unit,
                    fmt(o.range.0),
                    fmt(o.range.1),
                ),
                format!(
                    "{}：{}为 {} {}，是本次比较的 {peers} 个{kind_zh}中位数（{} {}）的 {} 倍（可接受范围 {}–{}）：{cells_zh} 的单位是否有误？",
                    f.county(code),
                    ratio.zh,
                    fmt(value),
                    ratio.unit,
                    fmt(o.median),
                    ratio.unit,
                    fmt(o.times_median),
                    fmt(o.range.0),
                    fmt(o.range.1),
                ),
            );
        }
    }
}

/// Trend (趋势审核) within the workbook: the previous forest-stock sheet against this year's.
fn forest_trend(
    f: &Facts,
    year: i32,
    previous_year: i32,
    previous: &DataFrame,
    issues: &mut Issues,
) -> Result<()> {
    let [prev_stand, prev_stock] = sums_by_county(
        previous,
        None,
        [Sum::all(col::AREA_HA), Sum::all(col::STOCK_M3)],
    )?;
    // A copy of this year's sheet: every county's area and stock equal.
    let compared = f
        .stock_m3
        .iter()
        .filter(|(c, _)| prev_stock.contains_key(*c))
        .count();
    let identical = compared > 0
        && f.stock_m3.len() == prev_stock.len()
        && f.stock_m3.iter().all(|(c, q)| {
            prev_stock.get(c).is_some_and(|p| p.value == q.value)
                && prev_stand
                    .get(c)
                    .zip(f.stand_ha.get(c))
                    .is_some_and(|(a, b)| a.value == b.value)
        });
    if identical {
        let at = prev_stock
            .values()
            .next()
            .map_or(String::new(), |q| q.at.clone());
        issues.audit(
            Check::Trend,
            Severity::Error,
            at,
            format!(
                "the {previous_year} forest-stock sheet is identical to the {year} one ({compared} counties, every area and stock equal): a copy of this year's sheet? Enter the previous inventory or remove the sheet"
            ),
            format!(
                "{previous_year} 年森林资源表与 {year} 年完全相同（{compared} 个县的面积与蓄积量均相等）：是否复制了本年表？请填写上年清查数据或删除该表"
            ),
        );
        return Ok(());
    }
    for (code, now) in &f.stock_m3 {
        let Some(before) = prev_stock.get(code) else {
            continue;
        };
        let reported_growth = f.growth_m3.get(code).is_some_and(|g| g.value > 0.0);
        if reported_growth && now.value < before.value {
            issues.audit(
                Check::Trend,
                Severity::Warning,
                &now.at,
                format!(
                    "{}: growing stock fell from {:.0} m³ ({previous_year}, {}) to {:.0} m³ ({year}) while growth is reported: harvest or disturbance, or a wrong year's sheet?",
                    f.county(code),
                    before.value,
                    before.at,
                    now.value
                ),
                format!(
                    "{}：蓄积量由 {:.0} 立方米（{previous_year} 年，{}）降至 {:.0} 立方米（{year} 年），同时填报了年生长量：是否有采伐或灾害，或年份表填错？",
                    f.county(code),
                    before.value,
                    before.at,
                    now.value
                ),
            );
        }
        let mut pairs = vec![("growing stock", "蓄积量", now, before)];
        if let (Some(a), Some(b)) = (f.stand_ha.get(code), prev_stand.get(code)) {
            pairs.push(("stand area", "林分面积", a, b));
        }
        // 1.5× for one year; inventories years apart may change more (compounded per year).
        let gap = (year - previous_year).max(1);
        let limit = FOREST_TREND_FACTOR.powi(gap);
        for (en, zh, a, b) in pairs {
            if let Some(factor) = change_factor(a.value, b.value)
                && factor > limit
            {
                issues.audit(
                    Check::Trend,
                    Severity::Warning,
                    &a.at,
                    format!(
                        "{}: {en} {:.0} ({year}) against {:.0} ({previous_year}, {}): a change by a factor of {:.2} in {gap} year(s) (limit {limit:.2})",
                        f.county(code),
                        a.value,
                        b.value,
                        b.at,
                        factor
                    ),
                    format!(
                        "{}：{zh} {:.0}（{year} 年）与 {:.0}（{previous_year} 年，{}）相比 {gap} 年内变化 {:.2} 倍（上限 {limit:.2}）",
                        f.county(code),
                        a.value,
                        b.value,
                        b.at,
                        factor
                    ),
                );
            }
        }
    }
    Ok(())
}

/// max(a, b) / min(a, b) for two positive values.
fn change_factor(a: f64, b: f64) -> Option<f64> {
    (a > 0.0 && b > 0.0).then(|| a.max(b) / a.min(b))
}

/// Trend (趋势审核) against a previous year's workbook (`--previous`): every county quantity of
/// both years (land classes, forest, water, economy, emissions) changing by more than
/// [`TREND_FACTOR`]; land classes under [`TREND_MIN_SHARE`] of the county are not compared.
///
/// # Errors
/// Polars failures only.
pub fn trend_against_inputs(
    now: &Inputs,
    before: &Inputs,
    coef: &Coefficients,
    issues: &mut Issues,
) -> Result<()> {
    let land_now = inputs_by_item(&now.land, col::LAND_CLASS, col::AREA_HA)?;
    let land_before = inputs_by_item(&before.land, col::LAND_CLASS, col::AREA_HA)?;
    let total_now = sum_by_county(&now.land, None, |_| true, col::AREA_HA)?;
    let mut pairs: Vec<(String, ByItem, ByItem, bool)> =
        vec![("land".into(), land_now, land_before, true)];
    pairs.push((
        "economy".into(),
        inputs_by_item(&now.economy, "item", "amount")?,
        inputs_by_item(&before.economy, "item", "amount")?,
        false,
    ));
    pairs.push((
        "water".into(),
        inputs_by_item(&now.water_use, "sector", "volume_m3")?,
        inputs_by_item(&before.water_use, "sector", "volume_m3")?,
        false,
    ));
    if let (Some(a), Some(b)) = (&now.environment, &before.environment) {
        pairs.push((
            "environment".into(),
            inputs_by_item(a, "item", "amount")?,
            inputs_by_item(b, "item", "amount")?,
            false,
        ));
    }
    let stock_now = sum_by_county(&now.forest, None, |_| true, col::STOCK_M3)?;
    let stock_before = sum_by_county(&before.forest, None, |_| true, col::STOCK_M3)?;
    let mut forest_now = ByItem::new();
    let mut forest_before = ByItem::new();
    for (c, q) in stock_now {
        forest_now.insert((c, col::STOCK_M3.to_string()), q);
    }
    for (c, q) in stock_before {
        forest_before.insert((c, col::STOCK_M3.to_string()), q);
    }
    pairs.push(("forest".into(), forest_now, forest_before, false));
    let names: BTreeMap<&str, &str> = coef
        .regions
        .iter()
        .map(|r| (r.code.as_str(), r.name.as_str()))
        .collect();
    for (_, a, b, is_land) in pairs {
        for ((code, item), q) in &a {
            let Some(p) = b.get(&(code.clone(), item.clone())) else {
                continue;
            };
            if is_land
                && total_now
                    .get(code)
                    .is_some_and(|t| q.value.max(p.value) < t.value * TREND_MIN_SHARE)
            {
                continue;
            }
            let Some(factor) = change_factor(q.value, p.value) else {
                continue;
            };
            if factor > TREND_FACTOR {
                let county = format!("{code} {}", names.get(code.as_str()).unwrap_or(&""));
                issues.audit(
                    Check::Trend,
                    Severity::Warning,
                    &q.at,
                    format!(
                        "{county}: {item} is {} in {} and {} in {} ({}): a change by a factor of {:.1} (limit {TREND_FACTOR}); a unit slip in either year?",
                        fmt(q.value),
                        now.year,
                        fmt(p.value),
                        before.year,
                        p.at,
                        factor
                    ),
                    format!(
                        "{county}：{item} {} 年为 {}，{} 年为 {}（{}），变化 {:.1} 倍（上限 {TREND_FACTOR}）：是否某一年单位有误？",
                        now.year,
                        fmt(q.value),
                        before.year,
                        fmt(p.value),
                        p.at,
                        factor
                    ),
                );
            }
        }
    }
    Ok(())
}

type ByItem = BTreeMap<(String, String), Quantity>;

fn inputs_by_item(df: &DataFrame, item: &str, value: &str) -> Result<ByItem> {
    let codes = df.column(col::CODE)?.str()?;
    let items = df.column(item)?.str()?;
    let values = df.column(value)?.f64()?;
    let refs = df.column("source_ref")?.str()?;
    let mut out = ByItem::new();
    for i in 0..df.height() {
        let (Some(c), Some(k), Some(v)) = (codes.get(i), items.get(i), values.get(i)) else {
            continue;
        };
        let q = out
            .entry((c.to_string(), k.to_string()))
            .or_insert_with(|| Quantity {
                value: 0.0,
                at: refs.get(i).unwrap_or_default().to_string(),
            });
        q.value += v;
    }
    Ok(out)
}

/// Trend (趋势审核) against a previous book (`--previous BOOK`): each county indicator value
/// changing by more than [`TREND_FACTOR`]; indicators under [`TREND_MIN_SHARE`] of the county's
/// GEP in both years are not compared.
pub fn trend_against_values(
    now: &crate::change::YearValues,
    before: &crate::change::YearValues,
    counties: &[String],
    issues: &mut Issues,
) {
    for code in counties {
        let (Some(a), Some(b)) = (now.values.get(code), before.values.get(code)) else {
            continue;
        };
        let total_a: f64 = a.values().sum();
        let total_b: f64 = b.values().sum();
        for (indicator, va) in a {
            let Some(vb) = b.get(indicator) else { continue };
            if *va < total_a * TREND_MIN_SHARE && *vb < total_b * TREND_MIN_SHARE {
                continue;
            }
            if let Some(factor) = change_factor(*va, *vb)
                && factor > TREND_FACTOR
            {
                issues.audit(
                    Check::Trend,
                    Severity::Warning,
                    code,
                    format!(
                        "{code}: {indicator} is {:.0} 元 in {} and {:.0} 元 in {}: a change by a factor of {factor:.1} (limit {TREND_FACTOR}); a unit slip in either year's inputs?",
                        va, now.year, vb, before.year
                    ),
                    format!(
                        "{code}：{indicator} {} 年为 {:.0} 元，{} 年为 {:.0} 元，变化 {factor:.1} 倍（上限 {TREND_FACTOR}）：是否某一年输入单位有误？",
                        now.year, va, before.year, vb
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_by_county_add_every_kept_row_and_keep_the_first_cell_when_a_county_comes_twice() {
        // 140105 in two runs (rows 2-3 and 5); a row of another class between them is not kept.
        let df = df!(
            col::CODE => ["140105", "140105", "140106", "140105", "140105"],
            "class" => ["林地", "林地", "林地", "草地", "林地"],
            col::AREA_HA => [1.0, 2.0, 4.0, 8.0, 16.0],
            "source_ref" => ["a [土地利用!C2]", "a [土地利用!C3]", "a [土地利用!C4]", "a [土地利用!C5]", "a [土地利用!C6]"],
        )
        .unwrap();
        let sums = sum_by_county(&df, Some("class"), |c| c == "林地", col::AREA_HA).unwrap();
        assert_eq!(sums.len(), 2);
        assert_eq!(sums["140105"].value, 19.0);
        assert_eq!(sums["140105"].at, "a [土地利用!C2]");
        assert_eq!(sums["140106"].value, 4.0);
        let all = sum_by_county(&df, None, |_| false, col::AREA_HA).unwrap();
        assert_eq!(all["140105"].value, 27.0);
    }

    #[test]
    fn sums_in_one_pass_equal_each_sum_alone() {
        // Nulls in the key and in one value column; 140105 in two runs.
        let df = df!(
            col::CODE => [Some("140105"), Some("140106"), None, Some("140105"), Some("140107")],
            "class" => [Some("林地"), None, Some("林地"), Some("草地"), Some("林地")],
            col::AREA_HA => [Some(1.0), Some(2.0), Some(4.0), Some(8.0), None],
            col::STOCK_M3 => [Some(0.5), None, Some(1.5), Some(-0.0), Some(3.0)],
            "source_ref" => ["a!C2", "a!C3", "a!C4", "a!C5", "a!C6"],
        )
        .unwrap();
        let forest = |c: &str| c == "林地";
        let [area, forest_area, stock] = sums_by_county(
            &df,
            Some("class"),
            [
                Sum::all(col::AREA_HA),
                Sum::of(&forest, col::AREA_HA),
                Sum::all(col::STOCK_M3),
            ],
        )
        .unwrap();
        let alone =
            |key, keep: &dyn Fn(&str) -> bool, value| sum_by_county(&df, key, keep, value).unwrap();
        let pairs = |m: &ByCounty| -> Vec<(String, f64, String)> {
            m.iter()
                .map(|(c, q)| (c.clone(), q.value, q.at.clone()))
                .collect()
        };
        assert_eq!(pairs(&area), pairs(&alone(None, &|_| true, col::AREA_HA)));
        assert_eq!(
            pairs(&forest_area),
            pairs(&alone(Some("class"), &forest, col::AREA_HA))
        );
        assert_eq!(pairs(&stock), pairs(&alone(None, &|_| true, col::STOCK_M3)));
        // 140106 has no class: no forest entry; 140107 has no area: no area entry.
        assert_eq!(forest_area.keys().collect::<Vec<_>>(), ["140105"]);
        assert_eq!(area.keys().collect::<Vec<_>>(), ["140105", "140106"]);
        assert_eq!(area["140105"].value, 9.0);
        assert_eq!(stock["140107"].at, "a!C6");
    }

    #[test]
    fn a_tenfold_value_among_peers_is_an_outlier() {
        let mut values: Vec<f64> = (0..30).map(|i| 100.0 + f64::from(i) * 3.0).collect();
        assert!(outliers(&values).is_empty());
        values[7] *= 10.0;
        let found = outliers(&values);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].index, 7);
        assert!(found[0].times_median > 5.0);
    }

    /// The raw county inputs of the ratios, by the unit slip that would change them: one
    /// column each, except the land-cover row, whose every class cell carries the same unit.
    fn raw_inputs(f: &mut Facts) -> Vec<(&'static str, &mut ByCounty)> {
        let mut out: Vec<(&'static str, &mut ByCounty)> = vec![
            ("stand_ha", &mut f.stand_ha),
            ("stock_m3", &mut f.stock_m3),
            ("growth_m3", &mut f.growth_m3),
            ("water_m3", &mut f.water_m3),
            ("land row", &mut f.land_ha),
            ("land row", &mut f.farmland_ha),
            ("land row", &mut f.tree_land_ha),
            ("land row", &mut f.forest_land_ha),
            ("so2_t", &mut f.so2_t),
        ];
        for (k, v) in f.economy.iter_mut() {
            // Value added is not read when gross output is given (the demo's basis).
            if !v.is_empty() && *k != col::AGRICULTURE_VA_CNY {
                out.push((k, v));
            }
        }
        out
    }

    /// Regression: a 10× unit slip (either way) in any one county's value of any input that an
    /// intensity uses is flagged for that county, on the demo's 117 counties.
    #[test]
    fn a_tenfold_slip_in_any_county_is_caught_on_the_demo() {
        let (coef, inputs) = crate::prepare(&crate::Request::default()).unwrap();
        let facts = Facts::of(&inputs, &coef).unwrap();
        let mut clean = Issues::new();
        ratios(&facts, &mut clean);
        assert!(clean.is_empty(), "{:?}", clean.all());
        let mut names = Vec::new();
        {
            let mut f = facts.clone();
            for (name, map) in raw_inputs(&mut f) {
                if !names.iter().any(|(n, _)| *n == name) {
                    names.push((name, map.keys().cloned().collect::<Vec<_>>()));
                }
            }
        }
        let mut missed = Vec::new();
        let mut tried = 0;
        for (name, codes) in &names {
            for code in codes {
                for factor in [10.0, 0.1] {
                    let mut f = facts.clone();
                    for (n, map) in raw_inputs(&mut f) {
                        if n == *name
                            && let Some(q) = map.get_mut(code)
                        {
                            q.value *= factor;
                        }
                    }
                    let mut issues = Issues::new();
                    ratios(&f, &mut issues);
                    tried += 1;
                    if !issues
                        .all()
                        .iter()
                        .any(|i| i.message.starts_with(code.as_str()))
                    {
                        missed.push(format!("{name} {code} ×{factor}"));
                    }
                }
            }
        }
        assert!(
            missed.is_empty(),
            "{} of {tried} slips missed: {missed:?}",
            missed.len()
        );
    }

    /// One of each hard bound: a numerator a million times too large is an error naming the
    /// intensity, the county and the limit.
    #[test]
    fn every_intensity_above_its_physical_bound_is_an_error() {
        let (coef, inputs) = crate::prepare(&crate::Request::default()).unwrap();
        let facts = Facts::of(&inputs, &coef).unwrap();
        let count = ratio_table(&facts).len();
        let mut bounded = 0;
        for i in 0..count {
            let mut f = facts.clone();
            let (hard, en, numerator, code) = {
                let table = ratio_table(&f);
                let (ratio, n, _) = &table[i];
                let code = n.keys().next().unwrap().clone();
                (ratio.hard_max, ratio.en, *n as *const ByCounty, code)
            };
            if !hard.is_finite() {
                continue;
            }
            for (_, map) in raw_inputs(&mut f) {
                if std::ptr::eq(map as *const ByCounty, numerator) {
                    map.get_mut(&code).unwrap().value *= 1e6;
                }
            }
            let mut issues = Issues::new();
            ratios(&f, &mut issues);
            assert!(
                issues.all().iter().any(|x| x.severity == Severity::Error
                    && x.check == Check::Ratio
                    && x.message.starts_with(code.as_str())
                    && x.message.contains(en)
                    && x.message.contains("above the physical limit")),
                "{en}: {:?}",
                issues.all()
            );
            bounded += 1;
        }
        assert_eq!(
            bounded,
            count - 1,
            "every intensity but the stand share has a hard bound"
        );
    }

    #[test]
    fn too_few_peers_are_not_compared() {
        let values = [1.0, 1.0, 1.0, 100.0];
        assert!(outliers(&values).is_empty());
    }

    #[test]
    fn change_factor_is_symmetric() {
        assert_eq!(change_factor(10.0, 100.0), Some(10.0));
        assert_eq!(change_factor(100.0, 10.0), Some(10.0));
        assert_eq!(change_factor(0.0, 10.0), None);
    }
}
