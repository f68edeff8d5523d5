//! Stage 4c, carbon-stock account (SEEA EA ch. 4 style): land cover × carbon densities per pool
//! (`carbon_pools.csv`, InVEST's columns) → the stock of each county, class and pool, and its
//! change against the previous year's land cover. A stock, not a flow: never part of GEP.

use std::collections::BTreeMap;

use polars::prelude::PlHashMap;

use crate::coefficients::Coefficients;
use crate::error::Result;
use crate::schema::col;

/// The carbon pools, in InVEST's order, with their column keys and labels.
pub const POOLS: [(&str, &str, &str); 4] = [
    ("c_above", "地上生物量碳", "above-ground biomass"),
    ("c_below", "地下生物量碳", "below-ground biomass"),
    ("c_soil", "土壤有机碳", "soil organic carbon"),
    ("c_dead", "枯落物碳", "dead organic matter"),
];

/// Area and stock of one valuation class.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClassStock {
    /// Area, ha.
    pub area_ha: f64,
    /// Stock per pool, t C.
    pub stock_t_c: [f64; 4],
}

impl ClassStock {
    fn add(&mut self, other: &ClassStock) {
        self.area_ha += other.area_ha;
        for (a, b) in self.stock_t_c.iter_mut().zip(other.stock_t_c) {
            *a += b;
        }
    }

    /// Stock over the four pools, t C.
    pub fn total_t_c(&self) -> f64 {
        self.stock_t_c.iter().sum()
    }
}

/// Stock by county and valuation class, t C, this year and (with `--previous`) the previous year.
#[derive(Debug, Clone, Default)]
pub struct CarbonStock {
    /// This year: county → valuation class → stock.
    pub now: BTreeMap<String, BTreeMap<String, ClassStock>>,
    /// The previous year's land cover with the same densities, when given.
    pub previous: Option<BTreeMap<String, BTreeMap<String, ClassStock>>>,
}

impl CarbonStock {
    /// The stock by class of several counties (a prefecture's, the province's).
    pub fn by_class<'a>(
        table: &BTreeMap<String, BTreeMap<String, ClassStock>>,
        counties: impl IntoIterator<Item = &'a str>,
    ) -> BTreeMap<String, ClassStock> {
        let mut out: BTreeMap<String, ClassStock> = BTreeMap::new();
        for county in counties {
            for (class, s) in table.get(county).into_iter().flatten() {
                out.entry(class.clone()).or_default().add(s);
            }
        }
        out
    }

    /// The total over classes of several counties.
    pub fn total<'a>(
        table: &BTreeMap<String, BTreeMap<String, ClassStock>>,
        counties: impl IntoIterator<Item = &'a str>,
    ) -> ClassStock {
        let mut out = ClassStock::default();
        for s in Self::by_class(table, counties).values() {
            out.add(s);
        }
        out
    }
}

/// Stock = Σ area × density per pool, by county and valuation class (InVEST's carbon model on
/// the same classes and areas: each pixel's area × its class's densities, summed).
fn stocks(
    land: &polars::prelude::DataFrame,
    coef: &Coefficients,
    pools: &[crate::coefficients::CarbonPool],
) -> Result<BTreeMap<String, BTreeMap<String, ClassStock>>> {
    let density: PlHashMap<&str, [f64; 4]> = pools
        .iter()
        .map(|p| (p.valuation_class.as_str(), p.pools()))
        .collect();
    let class_of: PlHashMap<&str, &str> = coef
        .land_classes
        .iter()
        .map(|c| (c.land_class.as_str(), c.valuation_class.as_str()))
        .collect();
    let codes = land.column(col::CODE)?.str()?;
    let classes = land.column("land_class")?.str()?;
    let areas = land.column("area_ha")?.f64()?;
    let mut out: BTreeMap<String, BTreeMap<String, ClassStock>> = BTreeMap::new();
    for ((code, class), area) in codes.iter().zip(classes.iter()).zip(areas.iter()) {
        let (Some(code), Some(class), Some(area)) = (code, class, area) else {
            continue;
        };
        // Every class has a valuation class (validated) and every valuation class densities
        // (checked on loading).
        let Some(vclass) = class_of.get(class) else {
            continue;
        };
        let d = density.get(vclass).copied().unwrap_or_default();
        out.entry(code.to_string())
            .or_default()
            .entry((*vclass).to_string())
            .or_default()
            .add(&ClassStock {
                area_ha: area,
                stock_t_c: d.map(|x| x * area),
            });
    }
    Ok(out)
}

/// The carbon-stock account, or `None` when the set has no `carbon_pools.csv`.
///
/// # Errors
/// Polars failures only (inputs and densities are validated).
pub fn compute(
    land: &polars::prelude::DataFrame,
    previous_land: Option<&polars::prelude::DataFrame>,
    coef: &Coefficients,
) -> Result<Option<CarbonStock>> {
    let Some(pools) = &coef.carbon_pools else {
        return Ok(None);
    };
    Ok(Some(CarbonStock {
        now: stocks(land, coef, pools)?,
        previous: previous_land.map(|p| stocks(p, coef, pools)).transpose()?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coefficients::CarbonPool;
    use polars::prelude::*;

    fn pool(class: &str, d: [f64; 4]) -> CarbonPool {
        CarbonPool {
            lucode: 0,
            lulc_name: class.into(),
            c_above: d[0],
            c_below: d[1],
            c_soil: d[2],
            c_dead: d[3],
            valuation_class: class.into(),
            year: "2020".into(),
            scope: "test".into(),
            source: "test".into(),
            status: "U".into(),
        }
    }

    /// Issue 17, item 6: a 3-class case by hand (InVEST's formula: area × Σ pools per class).
    #[test]
    fn stock_is_area_times_densities_and_its_change_follows_the_land() {
        let mut coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let pools = vec![
            pool("forest", [60.0, 15.0, 100.0, 5.0]),
            pool("grassland", [2.0, 8.0, 80.0, 0.5]),
            pool("built_up", [0.0, 0.0, 20.0, 0.0]),
        ];
        coef.carbon_pools = Some(pools);
        let land = df!(
            col::CODE => ["140105", "140105", "140105"],
            "land_class" => ["乔木林地", "天然牧草地", "城镇村及工矿用地"],
            "area_ha" => [100.0, 50.0, 10.0],
            "source_ref" => ["a", "b", "c"],
        )
        .unwrap();
        // Previous year: 10 ha more forest, 10 ha less built-up.
        let previous = df!(
            col::CODE => ["140105", "140105", "140105"],
            "land_class" => ["乔木林地", "天然牧草地", "城镇村及工矿用地"],
            "area_ha" => [110.0, 50.0, 0.0],
            "source_ref" => ["a", "b", "c"],
        )
        .unwrap();
        let s = compute(&land, Some(&previous), &coef).unwrap().unwrap();
        let now = &s.now["140105"];
        assert_eq!(now["forest"].stock_t_c, [6000.0, 1500.0, 10000.0, 500.0]);
        assert_eq!(now["grassland"].total_t_c(), 50.0 * 90.5);
        assert_eq!(now["built_up"].total_t_c(), 200.0);
        let total = CarbonStock::total(&s.now, ["140105"]).total_t_c();
        assert_eq!(total, 100.0 * 180.0 + 50.0 * 90.5 + 10.0 * 20.0);
        let before = CarbonStock::total(s.previous.as_ref().unwrap(), ["140105"]).total_t_c();
        // Change: −10 ha forest × 180 + 10 ha built-up × 20 = −1600 t C.
        assert_eq!(total - before, -1600.0);
    }
}
