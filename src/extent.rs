//! Stage 4d, extent account (SEEA EA ch. 4): the previous and this year's land cover by
//! valuation class → opening, additions, reductions, net change and closing area per county.
//! From two area totals the flows are net (a class's gain or loss); gross flows need a change
//! matrix, which the workbooks do not give.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::{DataFrame, PlHashMap};

use crate::coefficients::Coefficients;
use crate::error::Result;
use crate::schema::col;

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
}

fn areas(land: &DataFrame, coef: &Coefficients) -> Result<BTreeMap<(String, String), f64>> {
    let class_of: PlHashMap<&str, &str> = coef
        .land_classes
        .iter()
        .map(|c| (c.land_class.as_str(), c.valuation_class.as_str()))
        .collect();
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
/// the previous land cover.
///
/// # Errors
/// Polars failures only (both land covers are validated).
pub fn compute(
    land: &DataFrame,
    previous: Option<(i32, &DataFrame)>,
    coef: &Coefficients,
) -> Result<Option<Extent>> {
    let Some((opening_year, previous)) = previous else {
        return Ok(None);
    };
    let closing = areas(land, coef)?;
    let opening = areas(previous, coef)?;
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
        let e = compute(&now, Some((2020, &before)), &coef)
            .unwrap()
            .unwrap();
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
}
