//! Stage 4d, extent account (SEEA EA ch. 4): the previous and this year's land cover by
//! valuation class → opening, additions, reductions, net change and closing area per county.
//! From two area totals the flows are net (a class's gain or loss); a 土地转移 change matrix,
//! checked against both land covers, gives gross flows and the transition table.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::{DataFrame, PlHashMap};

use crate::coefficients::Coefficients;
use crate::error::{Check, Issues, Result, Severity};
use crate::schema::col;

/// One cell of a change matrix as written on the 土地转移 sheet: a county's area that was
/// `from_class` at the start of the period and is `to_class` at its end (land classes of the
/// crosswalk; equal classes are the unchanged area).
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// County code.
    pub county_code: String,
    /// Land class at the start (crosswalk name).
    pub from_class: String,
    /// Land class at the end (crosswalk name).
    pub to_class: String,
    /// Area, ha.
    pub area_ha: f64,
    /// The input cell (`file [sheet!A1]`).
    pub source_ref: String,
}

/// Valuation class → valuation class → area, ha: a change matrix.
pub type Matrix = BTreeMap<(String, String), f64>;

/// One class's extent account, ha. A county's additions and reductions are its net gain or
/// loss; a unit's are the sums over its counties (so a prefecture shows what its counties gained
/// and lost, not only the balance).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClassExtent {
    /// Area at the start (the previous year's land cover).
    pub opening_ha: f64,
    /// Additions over the period.
    pub additions_ha: f64,
    /// Reductions over the period.
    pub reductions_ha: f64,
    /// Closing area (this year's land cover).
    pub closing_ha: f64,
}

impl ClassExtent {
    /// A county's class: net flows from its two areas.
    fn of(opening_ha: f64, closing_ha: f64) -> Self {
        ClassExtent {
            opening_ha,
            additions_ha: (closing_ha - opening_ha).max(0.0),
            reductions_ha: (opening_ha - closing_ha).max(0.0),
            closing_ha,
        }
    }

    /// Net change = additions − reductions (= closing − opening).
    pub fn net_change_ha(&self) -> f64 {
        self.additions_ha - self.reductions_ha
    }

    fn add(&mut self, other: &ClassExtent) {
        self.opening_ha += other.opening_ha;
        self.additions_ha += other.additions_ha;
        self.reductions_ha += other.reductions_ha;
        self.closing_ha += other.closing_ha;
    }
}

/// The extent account: county → valuation class → extent.
#[derive(Debug, Clone, Default)]
pub struct Extent {
    /// By county and valuation class.
    pub by_county: BTreeMap<String, BTreeMap<String, ClassExtent>>,
    /// Year of the opening land cover.
    pub opening_year: i32,
    /// By county, the change matrix in valuation classes (from, to) → ha, when the workbook gives
    /// a 土地转移 sheet: additions and reductions are then gross flows.
    pub transitions: Option<BTreeMap<String, Matrix>>,
}

impl Extent {
    /// The extent by class of several counties (a unit's), summed class by class.
    pub fn by_class<'a>(
        &self,
        counties: impl IntoIterator<Item = &'a str>,
    ) -> BTreeMap<String, ClassExtent> {
        let mut out: BTreeMap<String, ClassExtent> = BTreeMap::new();
        for county in counties {
            for (class, e) in self.by_county.get(county).into_iter().flatten() {
                out.entry(class.clone()).or_default().add(e);
            }
        }
        out
    }

    /// The change matrix of several counties (a unit's), summed; `None` without a 土地转移 sheet.
    pub fn matrix<'a>(&self, counties: impl IntoIterator<Item = &'a str>) -> Option<Matrix> {
        let by_county = self.transitions.as_ref()?;
        let mut out = Matrix::new();
        for county in counties {
            for (pair, area) in by_county.get(county).into_iter().flatten() {
                *out.entry(pair.clone()).or_default() += area;
            }
        }
        Some(out)
    }
}

/// The matrix's sheet, for problems with no cell of their own: `file [土地转移]`.
fn sheet_of(transitions: &[Transition]) -> String {
    transitions
        .first()
        .and_then(|t| t.source_ref.split_once('!'))
        .map_or_else(|| "土地转移".to_string(), |(sheet, _)| format!("{sheet}]"))
}

/// Areas that differ by more than this are not the same area: 0.1 % of the larger, at least
/// 0.5 ha (a matrix and a land cover rounded to 0.01 ha or converted from 亩 still agree).
fn same_area(a: f64, b: f64) -> bool {
    (a - b).abs() <= (1e-3 * a.abs().max(b.abs())).max(0.5)
}

/// The extent from a change matrix: per county and valuation class, opening = what the matrix
/// moves out of the class plus what stays, closing = what it moves in plus what stays, additions
/// and reductions the gross flows between valuation classes (a move between two land classes of
/// one valuation class is no flow). Both sums must equal the land covers of the two years (errors
/// at the matrix's cells otherwise), and every county of the run needs its matrix.
fn from_matrix(
    transitions: &[Transition],
    opening: &BTreeMap<(String, String), f64>,
    closing: &BTreeMap<(String, String), f64>,
    counties: &[String],
    coef: &Coefficients,
    issues: &mut Issues,
) -> (
    BTreeMap<String, BTreeMap<String, ClassExtent>>,
    BTreeMap<String, Matrix>,
) {
    let valuation = valuation_of(coef);
    let mut matrices: BTreeMap<String, Matrix> = BTreeMap::new();
    // (county, valuation class) → first cell moving out of it / into it.
    let mut first_out: BTreeMap<(String, String), &str> = BTreeMap::new();
    let mut first_in: BTreeMap<(String, String), &str> = BTreeMap::new();
    for t in transitions {
        let (Some(from), Some(to)) = (
            valuation.get(t.from_class.as_str()),
            valuation.get(t.to_class.as_str()),
        ) else {
            continue; // classes are resolved in the crosswalk by validation
        };
        *matrices
            .entry(t.county_code.clone())
            .or_default()
            .entry(((*from).to_string(), (*to).to_string()))
            .or_default() += t.area_ha;
        first_out
            .entry((t.county_code.clone(), (*from).to_string()))
            .or_insert(&t.source_ref);
        first_in
            .entry((t.county_code.clone(), (*to).to_string()))
            .or_insert(&t.source_ref);
    }
    let sheet = sheet_of(transitions);
    let mut by_county: BTreeMap<String, BTreeMap<String, ClassExtent>> = BTreeMap::new();
    for county in counties {
        let Some(matrix) = matrices.get(county) else {
            issues.audit(
                Check::Balance,
                Severity::Error,
                sheet.as_str(),
                format!(
                    "county {county} has no rows in the change matrix (土地转移): give every county of the run, or leave the sheet out for net flows"
                ),
                format!("县 {county} 在土地转移表中没有数据：请给出本次核算的每个县，或删除该表（只计净变化）"),
            );
            continue;
        };
        let mut classes: BTreeMap<String, ClassExtent> = BTreeMap::new();
        for ((from, to), area) in matrix {
            classes.entry(from.clone()).or_default().opening_ha += area;
            classes.entry(to.clone()).or_default().closing_ha += area;
            if from != to {
                classes.entry(from.clone()).or_default().reductions_ha += area;
                classes.entry(to.clone()).or_default().additions_ha += area;
            }
        }
        // The county's classes in either land cover (a range of the sorted keys, not a scan of
        // every county's: national runs have thousands of counties).
        let from = (county.clone(), String::new());
        for cover in [opening, closing] {
            for (c, class) in cover.range(from.clone()..).map(|(k, _)| k) {
                if c != county {
                    break;
                }
                classes.entry(class.clone()).or_default();
            }
        }
        for (class, e) in &classes {
            let key = (county.clone(), class.clone());
            for (written, land, year_en, year_zh, side, first) in [
                (
                    e.opening_ha,
                    opening.get(&key),
                    "the previous year's",
                    "上年",
                    "out of",
                    &first_out,
                ),
                (
                    e.closing_ha,
                    closing.get(&key),
                    "this year's",
                    "本年",
                    "into",
                    &first_in,
                ),
            ] {
                let land = land.copied().unwrap_or(0.0);
                if !same_area(written, land) {
                    issues.audit(
                        Check::Balance,
                        Severity::Error,
                        first.get(&key).copied().unwrap_or(sheet.as_str()),
                        format!(
                            "county {county} {class}: the change matrix moves {written:.2} ha {side} {class} (unchanged area included), {year_en} land cover has {land:.2} ha"
                        ),
                        format!(
                            "县 {county} {class}：土地转移表合计 {written:.2} 公顷（含未变化面积），{year_zh}土地利用为 {land:.2} 公顷"
                        ),
                    );
                }
            }
        }
        by_county.insert(county.clone(), classes);
    }
    (by_county, matrices)
}

/// Land class → valuation class of the crosswalk.
fn valuation_of(coef: &Coefficients) -> PlHashMap<&str, &str> {
    coef.land_classes
        .iter()
        .map(|c| (c.land_class.as_str(), c.valuation_class.as_str()))
        .collect()
}

fn areas(land: &DataFrame, coef: &Coefficients) -> Result<BTreeMap<(String, String), f64>> {
    let class_of = valuation_of(coef);
    let codes = land.column(col::CODE)?.str()?;
    let classes = land.column("land_class")?.str()?;
    let areas = land.column("area_ha")?.f64()?;
    let mut out = BTreeMap::new();
    for ((code, class), area) in codes.iter().zip(classes.iter()).zip(areas.iter()) {
        let (Some(code), Some(class), Some(area)) = (code, class, area) else {
            continue;
        };
        if let Some(v) = class_of.get(class) {
            *out.entry((code.to_string(), (*v).to_string())).or_default() += area;
        }
    }
    Ok(out)
}

/// The extent account from this year's and the previous year's land cover, or `None` without
/// the previous land cover. With a change matrix (`transitions`, the 土地转移 sheet) the flows
/// are gross and its sums are checked against both land covers (errors in `issues`); without the
/// previous land cover a matrix is not used (a warning says so).
///
/// # Errors
/// Polars failures only (both land covers are validated).
pub fn compute(
    land: &DataFrame,
    previous: Option<(i32, &DataFrame)>,
    transitions: Option<&[Transition]>,
    counties: &[String],
    coef: &Coefficients,
    issues: &mut Issues,
) -> Result<Option<Extent>> {
    let Some((opening_year, previous)) = previous else {
        if let Some(transitions) = transitions {
            issues.warn(
                Check::Balance,
                sheet_of(transitions),
                "the change matrix (土地转移) is not used without --previous: the extent account needs the previous year's land cover to check it against",
                "未给出 --previous（上年土地利用）：土地转移表无法核对，未使用",
            );
        }
        return Ok(None);
    };
    let closing = areas(land, coef)?;
    let opening = areas(previous, coef)?;
    if let Some(transitions) = transitions {
        let (by_county, matrices) =
            from_matrix(transitions, &opening, &closing, counties, coef, issues);
        return Ok(Some(Extent {
            by_county,
            opening_year,
            transitions: Some(matrices),
        }));
    }
    let keys: BTreeSet<&(String, String)> = closing.keys().chain(opening.keys()).collect();
    let mut by_county: BTreeMap<String, BTreeMap<String, ClassExtent>> = BTreeMap::new();
    for key in keys {
        by_county.entry(key.0.clone()).or_default().insert(
            key.1.clone(),
            ClassExtent::of(
                opening.get(key).copied().unwrap_or(0.0),
                closing.get(key).copied().unwrap_or(0.0),
            ),
        );
    }
    Ok(Some(Extent {
        by_county,
        opening_year,
        transitions: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    /// Issue 17, item 5: opening + additions − reductions = closing for every class and county.
    #[test]
    fn opening_plus_additions_minus_reductions_is_closing() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let now = df!(
            col::CODE => ["140105", "140105", "140106"],
            "land_class" => ["乔木林地", "天然牧草地", "乔木林地"],
            "area_ha" => [100.0, 60.0, 30.0],
            "source_ref" => ["a", "b", "c"],
        )
        .unwrap();
        let before = df!(
            col::CODE => ["140105", "140105", "140106", "140106"],
            "land_class" => ["乔木林地", "天然牧草地", "乔木林地", "城镇村及工矿用地"],
            "area_ha" => [110.0, 50.0, 30.0, 5.0],
            "source_ref" => ["a", "b", "c", "d"],
        )
        .unwrap();
        let counties = vec!["140105".to_string(), "140106".to_string()];
        let mut issues = Issues::new();
        let e = compute(
            &now,
            Some((2020, &before)),
            None,
            &counties,
            &coef,
            &mut issues,
        )
        .unwrap()
        .unwrap();
        assert!(issues.is_empty());
        let forest = e.by_county["140105"]["forest"];
        assert_eq!((forest.opening_ha, forest.closing_ha), (110.0, 100.0));
        assert_eq!((forest.additions_ha, forest.reductions_ha), (0.0, 10.0));
        assert_eq!(e.by_county["140105"]["grassland"].additions_ha, 10.0);
        // A class gone by this year closes at 0.
        let built = e.by_county["140106"]["built_up"];
        assert_eq!((built.closing_ha, built.reductions_ha), (0.0, 5.0));
        for classes in e.by_county.values() {
            for c in classes.values() {
                assert_eq!(
                    c.opening_ha + c.additions_ha - c.reductions_ha,
                    c.closing_ha
                );
            }
        }
        let sum = e.by_class(["140105", "140106"]);
        assert_eq!(sum["forest"].net_change_ha(), -10.0);
        let all = sum["forest"];
        assert_eq!(
            all.opening_ha + all.additions_ha - all.reductions_ha,
            all.closing_ha
        );
    }

    fn t(code: &str, from: &str, to: &str, area_ha: f64) -> Transition {
        Transition {
            county_code: code.into(),
            from_class: from.into(),
            to_class: to.into(),
            area_ha,
            source_ref: format!("w.xlsx [土地转移!E{}]", area_ha as u32),
        }
    }

    /// Issue 17, item 5: with a change matrix the flows are gross (a swap shows both ways), a move
    /// within one valuation class is no flow, and the identity holds for every class.
    #[test]
    fn a_change_matrix_gives_gross_flows_that_balance() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let land = |forest: f64, shrub: f64| {
            df!(
                col::CODE => ["140105", "140105"],
                "land_class" => ["乔木林地", "灌木林地"],
                "area_ha" => [forest, shrub],
                "source_ref" => ["a", "b"],
            )
            .unwrap()
        };
        let before = land(100.0, 50.0);
        let matrix = vec![
            t("140105", "乔木林地", "乔木林地", 70.0),
            t("140105", "乔木林地", "竹林地", 10.0), // forest → forest: no flow
            t("140105", "乔木林地", "灌木林地", 20.0),
            t("140105", "灌木林地", "灌木林地", 40.0),
            t("140105", "灌木林地", "乔木林地", 10.0),
        ];
        let counties = vec!["140105".to_string()];
        let mut issues = Issues::new();
        // 竹林地 is forest too: this year's forest is 90 = 70 + 10 + 10.
        let now = df!(
            col::CODE => ["140105", "140105", "140105"],
            "land_class" => ["乔木林地", "竹林地", "灌木林地"],
            "area_ha" => [80.0, 10.0, 60.0],
            "source_ref" => ["a", "b", "c"],
        )
        .unwrap();
        let e = compute(
            &now,
            Some((2020, &before)),
            Some(&matrix),
            &counties,
            &coef,
            &mut issues,
        )
        .unwrap()
        .unwrap();
        assert!(issues.is_empty(), "{:?}", issues.all());
        let forest = e.by_county["140105"]["forest"];
        assert_eq!(
            (
                forest.opening_ha,
                forest.additions_ha,
                forest.reductions_ha,
                forest.closing_ha
            ),
            (100.0, 10.0, 20.0, 90.0)
        );
        let shrub = e.by_county["140105"]["shrub"];
        assert_eq!((shrub.additions_ha, shrub.reductions_ha), (20.0, 10.0));
        let m = e.matrix(["140105"]).unwrap();
        assert_eq!(m[&("forest".to_string(), "forest".to_string())], 80.0);
        assert_eq!(m[&("forest".to_string(), "shrub".to_string())], 20.0);
        // A matrix that does not add up to a land cover is an error at its first cell.
        let mut issues = Issues::new();
        let e = compute(
            &land(90.0, 60.0),
            Some((2020, &before)),
            Some(&matrix[..4]),
            &counties,
            &coef,
            &mut issues,
        )
        .unwrap();
        assert!(e.is_some());
        let errors: Vec<_> = issues
            .all()
            .iter()
            .map(|i| (&i.location, &i.message))
            .collect();
        assert!(
            errors
                .iter()
                .any(|(at, m)| at.as_str() == "w.xlsx [土地转移!E40]"
                    && m.contains(
                        "county 140105 shrub: the change matrix moves 40.00 ha out of shrub"
                    )
                    && m.contains("the previous year's land cover has 50.00 ha")),
            "{errors:?}"
        );
        // A county of the run without rows is named.
        let mut issues = Issues::new();
        let two = vec!["140105".to_string(), "140106".to_string()];
        let _ = compute(
            &now,
            Some((2020, &before)),
            Some(&matrix),
            &two,
            &coef,
            &mut issues,
        );
        assert!(
            issues
                .all()
                .iter()
                .any(|i| i.message.contains("county 140106 has no rows")
                    && i.location == "w.xlsx [土地转移]")
        );
    }
}
