//! Stage 4, account: valuation lines → county accounts, prefecture and province totals, GEP by
//! category; the identities (GEP = Σ indicators, province = Σ prefectures = Σ counties) are checked
//! on every run.

use polars::prelude::*;

use super::{Category, Line, Service};
use crate::coefficients::Coefficients;
use crate::error::{Error, Issues, Result};
use crate::schema::col;
use crate::validate::Inputs;

/// Relative tolerance of the accounting identities.
pub const IDENTITY_TOLERANCE: f64 = 1e-9;

/// Level of an account row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// County-level unit (县/县级市/市辖区).
    County,
    /// Prefecture-level city (地级市) subtotal.
    Prefecture,
    /// Province total (the top row of a one-province set, a subtotal in a national set).
    Province,
    /// National total of a set covering several provinces.
    National,
}

impl Level {
    /// Machine key.
    pub fn key(self) -> &'static str {
        match self {
            Level::County => "county",
            Level::Prefecture => "prefecture",
            Level::Province => "province",
            Level::National => "national",
        }
    }
}

/// One row of the accounts: a county, a prefecture subtotal or the province total.
#[derive(Debug, Clone)]
pub struct AccountRow {
    /// County, prefecture or province.
    pub level: Level,
    /// 6-digit code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Prefecture code (its own code for a prefecture row).
    pub prefecture_code: String,
    /// Prefecture name.
    pub prefecture: String,
    /// Physical quantity per indicator (aligned with [`Accounts::indicators`]); `None` when the
    /// indicator has only a value.
    pub quantities: Vec<Option<f64>>,
    /// Value per indicator, yuan.
    pub values_cny: Vec<f64>,
    /// Value per category (provisioning, regulating, cultural), yuan.
    pub category_cny: [f64; 3],
    /// GEP, yuan.
    pub gep_cny: f64,
    /// GDP, yuan.
    pub gdp_cny: f64,
    /// Resident population, persons.
    pub population: f64,
    /// Land area (km²): regions.csv where published, else the land-cover total.
    pub area_km2: Option<f64>,
}

/// The accounts of one run.
#[derive(Debug, Clone)]
pub struct Accounts {
    /// Accounting year.
    pub year: i32,
    /// Indicators accounted, in book order.
    pub indicators: Vec<&'static Service>,
    /// Every valuation line, sorted by county, indicator and component.
    pub lines: Vec<Line>,
    /// Counties grouped by prefecture, each prefecture followed by its subtotal; the province last.
    pub rows: Vec<AccountRow>,
    /// Warnings from valuation, for the Checks sheet.
    pub warnings: Issues,
    /// What a run restricted by `--only` covers (太原市); `None` for the whole set. The total
    /// row is then the total of that scope, named by it.
    pub scope: Option<String>,
    /// Per indicator (aligned with [`Accounts::indicators`]): valued in this run, or why not.
    pub coverage: Vec<super::Coverage>,
}

impl Accounts {
    /// True when indicator `k` (an index into [`Accounts::indicators`]) was valued.
    pub fn valued(&self, k: usize) -> bool {
        self.coverage.get(k).is_none_or(|c| c.valued)
    }
}

impl Accounts {
    /// The top row: the province, or the national total of a set covering several provinces.
    pub fn province(&self) -> Option<&AccountRow> {
        self.rows.last()
    }

    /// True when the accounts cover several provinces (province subtotals and a national row).
    pub fn national(&self) -> bool {
        self.rows.iter().any(|r| r.level == Level::National)
    }

    /// The county codes a row sums: itself, a prefecture's or a province's counties, or all.
    pub fn members<'a>(&'a self, row: &'a AccountRow) -> Vec<&'a str> {
        let counties = self.level(Level::County);
        match row.level {
            Level::County => vec![row.code.as_str()],
            Level::Prefecture => counties
                .filter(|c| c.prefecture_code == row.code)
                .map(|c| c.code.as_str())
                .collect(),
            Level::Province if self.national() => {
                let province = row.code.get(..2).unwrap_or_default();
                counties
                    .filter(|c| c.code.starts_with(province))
                    .map(|c| c.code.as_str())
                    .collect()
            }
            Level::Province | Level::National => counties.map(|c| c.code.as_str()).collect(),
        }
    }

    /// Rows of `level`.
    pub fn level(&self, level: Level) -> impl Iterator<Item = &AccountRow> {
        self.rows.iter().filter(move |r| r.level == level)
    }
}

/// Σ quantity and Σ value of the lines by (`key`, service).
type Sums<'a> = PlHashMap<SumKey<'a>, (f64, f64)>;

/// The sums of rows `parts` (prefectures or provinces) under `code`.
fn sum_rows<'a>(code: &'a str, parts: &[AccountRow], indicators: &[&'static Service]) -> Sums<'a> {
    let mut sums = Sums::default();
    for (k, ind) in indicators.iter().enumerate() {
        let q: f64 = parts.iter().filter_map(|r| r.quantities[k]).sum();
        let v: f64 = parts.iter().map(|r| r.values_cny[k]).sum();
        sums.insert((code, ind.key), (q, v));
    }
    sums
}

/// A sum's key: (county or prefecture code, indicator).
type SumKey<'a> = (&'a str, &'a str);

/// What the roll-up needs to sum lines: the account's services, each county's prefecture and
/// each service's category slot. Built once from the set and shared by the valuation families,
/// which sum their own lines ([`LineSums`]).
pub(crate) struct RollUpKeys<'c> {
    indicators: Vec<&'static Service>,
    prefecture_of: PlHashMap<&'c str, &'c str>,
    slot_of: PlHashMap<&'static str, usize>,
}

impl<'c> RollUpKeys<'c> {
    pub(crate) fn new(coef: &'c Coefficients) -> Self {
        let indicators: Vec<&'static Service> = super::registry::services(coef)
            .into_iter()
            .filter(|i| i.key != "oxygen_release" || coef.manifest.switches.include_oxygen)
            .collect();
        let prefecture_of = coef
            .regions
            .iter()
            .map(|r| (r.code.as_str(), r.prefecture_code.as_str()))
            .collect();
        let slot_of = indicators
            .iter()
            .map(|ind| {
                let slot = Category::ALL
                    .iter()
                    .position(|c| *c == ind.category)
                    .unwrap_or(0);
                (ind.key, slot)
            })
            .collect();
        RollUpKeys {
            indicators,
            prefecture_of,
            slot_of,
        }
    }
}

/// What the roll-up reads from the valuation lines, gathered in one pass over each family's
/// lines by the family's own thread (a pass over millions of lines is ~0.1 s of memory traffic
/// at national scale) and merged: Σ quantity and Σ value by (county, service) and by
/// (prefecture, service), Σ value by (county, category slot) for the category identity, and the
/// services present. A family's lines come in runs of one county and service, each summed before
/// one hash update per map. Keys are the set's codes, so the sums borrow no line.
#[derive(Default)]
pub(crate) struct LineSums<'c> {
    county: Sums<'c>,
    prefecture: Sums<'c>,
    category: PlHashMap<(&'c str, usize), f64>,
    present: PlHashSet<&'static str>,
}

impl<'c> LineSums<'c> {
    /// The sums of `lines` (a service switched off has no category slot and is not summed by
    /// category).
    ///
    /// # Errors
    /// [`Error::Internal`] for a line whose county is not in regions.csv (validation refuses
    /// such codes: its value would reach no account row).
    pub(crate) fn of(lines: &[Line], keys: &RollUpKeys<'c>) -> Result<Self> {
        let mut out = LineSums::default();
        // The current run: county, service and its (quantity, value) sum.
        let mut run: Option<(&str, &'static str, (f64, f64))> = None;
        for line in lines {
            let add = (line.quantity.unwrap_or(0.0), line.value_cny);
            match &mut run {
                Some((county, service, sum))
                    if super::same_text(county, &line.county_code)
                        && *service == line.indicator =>
                {
                    sum.0 += add.0;
                    sum.1 += add.1;
                }
                _ => {
                    if let Some(done) = run.replace((&line.county_code, line.indicator, add)) {
                        out.add_run(done, keys)?;
                    }
                }
            }
        }
        if let Some(done) = run {
            out.add_run(done, keys)?;
        }
        Ok(out)
    }

    fn add_run(
        &mut self,
        (county, service, (q, v)): (&str, &'static str, (f64, f64)),
        keys: &RollUpKeys<'c>,
    ) -> Result<()> {
        let Some((&county, &prefecture)) = keys.prefecture_of.get_key_value(county) else {
            return Err(Error::Internal(format!(
                "a {service} line of county {county} not in regions.csv"
            )));
        };
        for (sums, key) in [
            (&mut self.county, county),
            (&mut self.prefecture, prefecture),
        ] {
            let total = sums.entry((key, service)).or_insert((0.0, 0.0));
            total.0 += q;
            total.1 += v;
        }
        if let Some(&slot) = keys.slot_of.get(service) {
            *self.category.entry((county, slot)).or_insert(0.0) += v;
        }
        self.present.insert(service);
        Ok(())
    }

    /// Adds the sums of another family's lines (taken whole into empty sums: the same numbers,
    /// as 0 + x = x).
    pub(crate) fn merge(&mut self, other: LineSums<'c>) {
        if self.county.is_empty()
            && self.prefecture.is_empty()
            && self.category.is_empty()
            && self.present.is_empty()
        {
            *self = other;
            return;
        }
        for (mine, theirs) in [
            (&mut self.county, other.county),
            (&mut self.prefecture, other.prefecture),
        ] {
            for (key, (q, v)) in theirs {
                let total = mine.entry(key).or_insert((0.0, 0.0));
                total.0 += q;
                total.1 += v;
            }
        }
        for (key, v) in other.category {
            *self.category.entry(key).or_insert(0.0) += v;
        }
        self.present.extend(other.present);
    }
}

/// Σ of each of `N` 经济社会 items per county, all in one pass over the economy rows (which hold
/// every item of every county; a missing amount adds nothing, the county is listed all the same).
fn economy_by_county<const N: usize>(
    inputs: &Inputs,
    items: [&str; N],
) -> Result<[PlHashMap<String, f64>; N]> {
    let mut sums: [PlHashMap<&str, crate::sum::KahanSum>; N] =
        std::array::from_fn(|_| PlHashMap::default());
    for row in super::long_row_refs(&inputs.economy)? {
        if let Some(k) = items.iter().position(|i| *i == row.item) {
            sums[k]
                .entry(row.county)
                .or_default()
                .add(row.amount.unwrap_or(0.0));
        }
    }
    Ok(sums.map(|item| {
        item.into_iter()
            .map(|(county, sum)| (county.to_string(), sum.sum()))
            .collect()
    }))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= IDENTITY_TOLERANCE * a.abs().max(b.abs()).max(1.0)
}

/// Rolls the lines up to counties, prefectures (regions.csv) and provinces from the families'
/// merged `sums`, while the lines are sorted by county, service and component on the other core.
///
/// # Errors
/// [`Error::Internal`] when an identity fails; polars failures.
pub(crate) fn roll_up(
    inputs: &Inputs,
    coef: &Coefficients,
    keys: &RollUpKeys<'_>,
    mut lines: Vec<Line>,
    sums: LineSums<'_>,
    warnings: Issues,
) -> Result<Accounts> {
    let ((), rows) = rayon::join(
        || crate::timed_part("  value: sort the lines", || super::sort_lines(&mut lines)),
        || crate::timed_part("  value: roll up", || rows(inputs, coef, keys, sums)),
    );
    let (rows, coverage) = rows?;
    Ok(Accounts {
        year: inputs.year,
        indicators: keys.indicators.clone(),
        lines,
        rows,
        warnings,
        scope: inputs.scope.label(coef),
        coverage,
    })
}

/// The account rows (counties, prefectures, provinces, the top row) from the line sums, with
/// every identity checked, and each service's coverage.
fn rows(
    inputs: &Inputs,
    coef: &Coefficients,
    keys: &RollUpKeys<'_>,
    sums: LineSums<'_>,
) -> Result<(Vec<AccountRow>, Vec<super::Coverage>)> {
    let indicators = &keys.indicators;
    let LineSums {
        county,
        prefecture,
        category: from_lines,
        present,
    } = sums;
    let [gdp, population] = economy_by_county(inputs, [col::GDP_CNY, col::POPULATION])?;
    // Land area: the published area of regions.csv, else the county's land-cover total.
    let land_ha = inputs.land_area_by_county()?;

    let make_row = |level: Level,
                    code: &str,
                    name: &str,
                    pcode: &str,
                    pname: &str,
                    sums: &Sums<'_>,
                    members: &[&str]| {
        let mut quantities = Vec::new();
        let mut values = Vec::new();
        let mut category = [0.0; 3];
        for ind in indicators {
            let (q, v) = sums.get(&(code, ind.key)).copied().unwrap_or((0.0, 0.0));
            quantities.push(ind.quantity_unit.map(|_| q));
            values.push(v);
            let slot = Category::ALL
                .iter()
                .position(|c| *c == ind.category)
                .unwrap_or(0);
            category[slot] += v;
        }
        let area: Option<f64> = members
            .iter()
            .map(|m| {
                coef.region(m)
                    .and_then(|r| r.area_km2)
                    .or_else(|| land_ha.get(*m).map(|ha| ha / 100.0))
            })
            .sum::<Option<f64>>();
        AccountRow {
            level,
            code: code.to_string(),
            name: name.to_string(),
            prefecture_code: pcode.to_string(),
            prefecture: pname.to_string(),
            quantities,
            gep_cny: values.iter().sum(),
            values_cny: values,
            category_cny: category,
            gdp_cny: members.iter().filter_map(|m| gdp.get(*m)).sum(),
            population: members.iter().filter_map(|m| population.get(*m)).sum(),
            area_km2: area,
        }
    };

    let mut rows = Vec::new();
    // Prefectures in regions.csv order, each with its counties in the run (one pass, hashed).
    let in_run: PlHashSet<&str> = inputs.counties.iter().map(String::as_str).collect();
    let mut prefecture_codes: Vec<(String, String)> = Vec::new();
    let mut members_of: PlHashMap<&str, Vec<&str>> = PlHashMap::default();
    for r in coef
        .regions
        .iter()
        .filter(|r| in_run.contains(r.code.as_str()))
    {
        let members = members_of.entry(r.prefecture_code.as_str()).or_default();
        if members.is_empty() {
            prefecture_codes.push((r.prefecture_code.clone(), r.prefecture.clone()));
        }
        members.push(r.code.as_str());
    }
    // Provinces in order of first appearance (a national set covers several: province
    // subtotals, then a national total; a one-province set ends with its province row).
    let mut provinces: Vec<&str> = Vec::new();
    for (pcode, _) in &prefecture_codes {
        let p = pcode.get(..2).unwrap_or_default();
        if !provinces.contains(&p) {
            provinces.push(p);
        }
    }
    let national = provinces.len() > 1;
    // A row summing `parts` (prefecture or province rows), checked against `counties`.
    let check_counties = |row: &AccountRow, counties: &[&AccountRow]| -> Result<()> {
        for (k, ind) in indicators.iter().enumerate() {
            let sum: f64 = counties.iter().map(|r| r.values_cny[k]).sum();
            if !close(sum, row.values_cny[k]) {
                return Err(Error::Internal(format!(
                    "{} {}: total {} ≠ Σ counties {sum}",
                    row.code, ind.key, row.values_cny[k]
                )));
            }
        }
        Ok(())
    };
    let mut province_rows = Vec::new();
    let mut all_prefecture_rows = Vec::new();
    for province in &provinces {
        let mut prefecture_rows = Vec::new();
        let first_row = rows.len();
        for (pcode, pname) in prefecture_codes
            .iter()
            .filter(|(c, _)| c.starts_with(province))
        {
            let members: Vec<&str> = members_of.get(pcode.as_str()).cloned().unwrap_or_default();
            let mut county_rows = Vec::new();
            for m in &members {
                let region = coef
                    .region(m)
                    .ok_or_else(|| Error::Internal(format!("region {m} vanished")))?;
                county_rows.push(make_row(
                    Level::County,
                    m,
                    &region.name,
                    pcode,
                    pname,
                    &county,
                    &[m],
                ));
            }
            let subtotal = make_row(
                Level::Prefecture,
                pcode,
                pname,
                pcode,
                pname,
                &prefecture,
                &members,
            );
            // Identity: prefecture (group_by) = Σ its counties, per indicator.
            for (k, ind) in indicators.iter().enumerate() {
                let sum: f64 = county_rows.iter().map(|r| r.values_cny[k]).sum();
                if !close(sum, subtotal.values_cny[k]) {
                    return Err(Error::Internal(format!(
                        "{pname} {}: prefecture total {} ≠ Σ counties {sum}",
                        ind.key, subtotal.values_cny[k]
                    )));
                }
            }
            rows.extend(county_rows);
            prefecture_rows.push(subtotal.clone());
            rows.push(subtotal);
        }
        if national {
            let code = format!("{province}0000");
            let name = coef
                .manifest
                .provinces
                .get(&code)
                .cloned()
                .unwrap_or_else(|| code.clone());
            let members: Vec<&str> = rows[first_row..]
                .iter()
                .filter(|r| r.level == Level::County)
                .map(|r| r.code.as_str())
                .collect();
            let row = make_row(
                Level::Province,
                &code,
                &name,
                &code,
                &name,
                &sum_rows(&code, &prefecture_rows, indicators),
                &members,
            );
            let counties: Vec<&AccountRow> = rows[first_row..]
                .iter()
                .filter(|r| r.level == Level::County)
                .collect();
            check_counties(&row, &counties)?;
            province_rows.push(row.clone());
            rows.push(row);
        }
        all_prefecture_rows.extend(prefecture_rows);
    }
    // The top row from the prefectures (one province) or the provinces, checked against the counties.
    let all_members: Vec<&str> = inputs.counties.iter().map(String::as_str).collect();
    let total_name = inputs
        .scope
        .label(coef)
        .unwrap_or_else(|| coef.manifest.province.clone());
    let top_code = coef.manifest.province_code.clone();
    let province = make_row(
        if national {
            Level::National
        } else {
            Level::Province
        },
        &top_code,
        &total_name,
        &top_code,
        &coef.manifest.province,
        &sum_rows(
            &top_code,
            if national {
                &province_rows
            } else {
                &all_prefecture_rows
            },
            indicators,
        ),
        &all_members,
    );
    let counties: Vec<&AccountRow> = rows.iter().filter(|r| r.level == Level::County).collect();
    check_counties(&province, &counties)?;
    rows.push(province);
    // Identity: each county's category = Σ of its lines whose indicator is in that category,
    // summed from the valuation lines by category slot (not from the rows' per-indicator values).
    for row in rows.iter().filter(|r| r.level == Level::County) {
        for (slot, category) in Category::ALL.iter().enumerate() {
            let want = from_lines
                .get(&(row.code.as_str(), slot))
                .copied()
                .unwrap_or(0.0);
            if !close(want, row.category_cny[slot]) {
                return Err(Error::Internal(format!(
                    "{} {}: category {} ≠ Σ its lines {want}",
                    row.code,
                    category.key(),
                    row.category_cny[slot]
                )));
            }
        }
    }
    drop(from_lines);
    for row in &rows {
        let sum: f64 = row.values_cny.iter().sum();
        let by_category: f64 = row.category_cny.iter().sum();
        if !close(sum, row.gep_cny) || !close(by_category, row.gep_cny) {
            return Err(Error::Internal(format!(
                "{}: GEP {} ≠ Σ indicators {sum}",
                row.code, row.gep_cny
            )));
        }
    }
    // Coverage: an indicator with no valuation line in the run was not valued.
    let coverage = indicators
        .iter()
        .map(|ind| {
            if present.contains(ind.key) {
                super::Coverage {
                    valued: true,
                    reason_en: String::new(),
                    reason_zh: String::new(),
                }
            } else {
                let (reason_en, reason_zh) = super::not_valued_reason(ind.key, coef);
                super::Coverage {
                    valued: false,
                    reason_en,
                    reason_zh,
                }
            }
        })
        .collect();
    Ok((rows, coverage))
}

#[cfg(test)]
mod tests {
    use crate::account::{Line, compute, testing::inputs};

    #[test]
    fn sums_of_two_families_merged_equal_the_sums_of_all_their_lines() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let keys = super::RollUpKeys::new(&coef);
        let line = |county: &str, service: &'static str, value: f64| {
            Line::for_test(county.into(), service, "x", value)
        };
        // Water supply in one family, carbon in another; 140105 in both (one category slot).
        let water = vec![
            line("140105", "water_supply", 1.0),
            line("140105", "water_supply", 2.0),
            line("140106", "water_supply", 4.0),
        ];
        let carbon = vec![
            line("140106", "carbon_sequestration", 8.0),
            line("140105", "carbon_sequestration", 16.0),
        ];
        let mut merged = super::LineSums::of(&water, &keys).unwrap();
        merged.merge(super::LineSums::of(&carbon, &keys).unwrap());
        let all: Vec<Line> = water.into_iter().chain(carbon).collect();
        let whole = super::LineSums::of(&all, &keys).unwrap();
        for sums in [&merged, &whole] {
            assert_eq!(sums.county[&("140105", "water_supply")].1, 3.0);
            assert_eq!(sums.county[&("140105", "carbon_sequestration")].1, 16.0);
            assert_eq!(sums.prefecture[&("140100", "water_supply")].1, 7.0);
            assert_eq!(sums.prefecture[&("140100", "carbon_sequestration")].1, 24.0);
            assert_eq!(sums.present.len(), 2);
        }
        assert_eq!(merged.category, whole.category);
    }

    #[test]
    fn a_line_of_a_county_outside_the_regions_is_an_internal_error() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let keys = super::RollUpKeys::new(&coef);
        let lines = [Line::for_test("999999".into(), "water_supply", "x", 1.0)];
        let err = super::LineSums::of(&lines, &keys)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("999999"), "{err}");
    }

    #[test]
    fn three_counties_roll_up_to_taiyuan_and_the_province() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let acc = compute(&inputs(), &coef).unwrap();
        let counties: Vec<_> = acc.level(super::Level::County).collect();
        assert_eq!(counties.len(), 3);
        let taiyuan = acc.level(super::Level::Prefecture).next().unwrap();
        assert_eq!(taiyuan.code, "140100");
        let province = acc.province().unwrap();
        let gep: f64 = counties.iter().map(|r| r.gep_cny).sum();
        assert!((taiyuan.gep_cny - gep).abs() < 1e-6);
        assert!((province.gep_cny - gep).abs() < 1e-6);
        assert_eq!(province.gdp_cny, 9.0e9);
        // 140105: agriculture 3e8 + fishery 1e6 dominate provisioning.
        let c105 = counties.iter().find(|r| r.code == "140105").unwrap();
        assert!(c105.category_cny[0] > 3.01e8);
        assert!((c105.gep_cny - c105.values_cny.iter().sum::<f64>()).abs() < 1e-6);
    }
}
