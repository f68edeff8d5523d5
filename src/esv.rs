//! Stage 4d, equivalent-factor account (当量因子法, Xie et al.): land cover → ecosystem-service
//! value ESV = Σ_k A_k · e_kf · E_a · adjustment_f per county and service. A separate account,
//! never added to GEP (it counts supporting services; methodology §1.1, §3, §9.2).

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::coefficients::Coefficients;
use crate::error::{Error, Issues, Result};
use crate::schema::col;
use crate::validate::Inputs;

pub use crate::coefficients::esv::{
    Adjustment, FACTOR_COLUMNS, FactorRow, SERVICES, Settings, mapping_parts,
};

/// Value per hectare of a type for each service (元/hm²): e_kf × E_a × adjustment_f.
pub fn value_per_ha(row: &FactorRow, s: &Settings) -> [f64; 11] {
    let f = row.factors();
    std::array::from_fn(|i| f[i] * s.standard_equivalent_cny_per_ha * s.factor(SERVICES[i].2))
}

/// Value per hectare (元/hm²) for a crosswalk entry: the type's values, or the mean over the
/// types of a `+` mapping. `None` when a type is not in the table or the entry is empty.
pub fn value_per_ha_of_mapping(
    xie_type: &str,
    table: &[FactorRow],
    s: &Settings,
) -> Option<[f64; 11]> {
    let parts = mapping_parts(xie_type);
    if parts.is_empty() {
        return None;
    }
    let mut sum = [0.0; 11];
    for part in &parts {
        let row = table.iter().find(|r| r.xie_type == *part)?;
        for (acc, v) in sum.iter_mut().zip(value_per_ha(row, s)) {
            *acc += v;
        }
    }
    Some(sum.map(|v| v / parts.len() as f64))
}

/// The ESV of one ecosystem type in one county: its area and value per service.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TypeValue {
    /// Land-cover area mapped to the type (hm²).
    pub area_ha: f64,
    /// Value per service (元), in [`SERVICES`] order.
    pub values_cny: [f64; 11],
}

impl TypeValue {
    fn add(&mut self, other: &TypeValue) {
        self.area_ha += other.area_ha;
        for (a, b) in self.values_cny.iter_mut().zip(other.values_cny) {
            *a += b;
        }
    }
}

/// The ESV account: per county, per ecosystem type (the crosswalk's Xie type, or a `+` mean)
/// and service. Land classes mapped to no type are kept under the empty type, with their area
/// and no value.
#[derive(Debug, Clone, Default)]
pub struct Esv {
    /// County code → ecosystem type → area and values.
    pub by_type: BTreeMap<String, BTreeMap<String, TypeValue>>,
}

impl Esv {
    /// Values per service (元) summed over the given counties' ecosystem types.
    pub fn values<'a>(&self, counties: impl IntoIterator<Item = &'a str>) -> [f64; 11] {
        self.by_ecosystem(counties)
            .values()
            .fold([0.0; 11], |mut acc, t| {
                for (a, v) in acc.iter_mut().zip(t.values_cny) {
                    *a += v;
                }
                acc
            })
    }

    /// Area and values per ecosystem type, summed over the given counties.
    pub fn by_ecosystem<'a>(
        &self,
        counties: impl IntoIterator<Item = &'a str>,
    ) -> BTreeMap<String, TypeValue> {
        let mut out: BTreeMap<String, TypeValue> = BTreeMap::new();
        for code in counties {
            for (xie_type, v) in self.by_type.get(code).into_iter().flatten() {
                out.entry(xie_type.clone()).or_default().add(v);
            }
        }
        out
    }
}

/// Computes the ESV account: each land-cover row's area × the per-hectare values of its class's
/// Xie type (crosswalk), summed per county and type.
///
/// # Errors
/// [`Error::Invalid`] when the set has no ESV settings; polars failures.
pub fn compute(inputs: &Inputs, coef: &Coefficients) -> Result<Esv> {
    let Some(settings) = &coef.esv else {
        let mut issues = Issues::new();
        issues.error(
            "esv.toml",
            "missing: the equivalent-factor account needs it",
        );
        issues.into_result()?;
        return Err(Error::Internal("no ESV settings".into()));
    };
    // Per crosswalk entry (a type or a `+` mean of types), the value per hectare.
    let mut per_ha: PlHashMap<&str, (&str, Option<[f64; 11]>)> = PlHashMap::new();
    for class in &coef.land_classes {
        let values = value_per_ha_of_mapping(&class.xie_type, &coef.equivalent_factors, settings);
        per_ha.insert(class.land_class.as_str(), (class.xie_type.as_str(), values));
    }
    let codes = inputs.land.column(col::CODE)?.str()?;
    let classes = inputs.land.column("land_class")?.str()?;
    let areas = inputs.land.column("area_ha")?.f64()?;
    let mut by_type: BTreeMap<String, BTreeMap<String, TypeValue>> = BTreeMap::new();
    for ((code, class), area) in codes.iter().zip(classes.iter()).zip(areas.iter()) {
        let (Some(code), Some(class), Some(area)) = (code, class, area) else {
            continue;
        };
        let (xie_type, values) = per_ha.get(class).copied().unwrap_or(("", None));
        let row = TypeValue {
            area_ha: area,
            values_cny: values.map_or([0.0; 11], |v| v.map(|x| x * area)),
        };
        let xie_type = if values.is_some() {
            mapping_parts(xie_type).join("+")
        } else {
            String::new()
        };
        by_type
            .entry(code.to_string())
            .or_default()
            .entry(xie_type)
            .or_default()
            .add(&row);
    }
    Ok(Esv { by_type })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn national() -> Settings {
        Settings {
            table: "xie2015".into(),
            standard_equivalent_cny_per_ha: 3406.5,
            standard_equivalent_year: 2010,
            standard_equivalent_basis: "net profit".into(),
            standard_equivalent_source: "Xie 2015".into(),
            standard_equivalent_status: "V2".into(),
            standard_equivalent_method: "given".into(),
            grain_yield_kg_per_ha: None,
            grain_price_cny_per_kg: None,
            grain_net_profit_cny_per_ha: None,
            computed_cny_per_ha: None,
            npp_factor: 1.0,
            precipitation_factor: 1.0,
            soil_factor: 1.0,
            adjustment_source: "unadjusted".into(),
        }
    }

    #[test]
    fn per_hectare_values_of_the_xie_2015_table_are_exact() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let s = national();
        let vc = |t: &str| -> f64 {
            value_per_ha(
                coef.equivalent_factors
                    .iter()
                    .find(|r| r.xie_type == t)
                    .unwrap(),
                &s,
            )
            .iter()
            .sum()
        };
        // Σ e_kf × 3406.5, to 0.001 元/hm².
        for (t, sum) in [
            ("水田", 3.89),
            ("针阔混交", 23.09),
            ("阔叶", 22.95),
            ("灌木", 15.22),
            ("湿地", 52.02),
            ("水系", 125.61),
            ("裸地", 0.20),
        ] {
            assert!(
                (vc(t) - sum * 3406.5).abs() < 1e-3,
                "{t}: {} vs {}",
                vc(t),
                sum * 3406.5
            );
        }
        // The paddy water-supply factor stays negative.
        let paddy = coef
            .equivalent_factors
            .iter()
            .find(|r| r.xie_type == "水田")
            .unwrap();
        assert!((value_per_ha(paddy, &s)[2] - (-2.63 * 3406.5)).abs() < 1e-9);
    }

    #[test]
    fn a_land_cover_change_moves_esv_by_the_area_change_times_vc() {
        use crate::account::testing::inputs;
        let mut coef = crate::account::registry::load_coefficients(None, false).unwrap();
        coef.esv = Some(national());
        let before = compute(&inputs(), &coef).unwrap();
        let mut changed = inputs();
        // 140106: 200 ha 旱地 → 150 ha 旱地 + 50 ha 乔木林地.
        changed.land = df!(
            col::CODE => ["140105", "140105", "140106", "140106", "140107"],
            "land_class" => ["乔木林地", "天然牧草地", "旱地", "乔木林地", "灌木林地"],
            "area_ha" => [100.0, 50.0, 150.0, 50.0, 10.0],
            "source_ref" => ["a", "b", "c", "d", "e"],
        )
        .unwrap();
        let after = compute(&changed, &coef).unwrap();
        let s = national();
        let vc = |t: &str| -> f64 {
            value_per_ha(
                coef.equivalent_factors
                    .iter()
                    .find(|r| r.xie_type == t)
                    .unwrap(),
                &s,
            )
            .iter()
            .sum()
        };
        let delta: f64 = after.values(["140106"]).iter().sum::<f64>()
            - before.values(["140106"]).iter().sum::<f64>();
        assert!((delta - (50.0 * vc("针阔混交") - 50.0 * vc("旱地"))).abs() < 1e-6);
        // Built-up land has no value; adjustment factors scale by service group.
        coef.esv = Some(Settings {
            npp_factor: 0.5,
            ..national()
        });
        let half = compute(&inputs(), &coef).unwrap();
        let water = |e: &Esv| e.values(["140105"])[2];
        assert!(
            (water(&half) - water(&before)).abs() < 1e-9,
            "water supply uses the precipitation factor"
        );
        assert!((half.values(["140105"])[0] - before.values(["140105"])[0] * 0.5).abs() < 1e-9);
    }

    /// The Xie 2008 table shipped in coefficients/tables/, read as a set's equivalent_factors.csv.
    /// Issue 11, item 10: glaciers and permanent snow (冰川及永久积雪 in the 三调 crosswalk) map
    /// to Xie 2015's 冰川积雪 row and are valued by it (its water-supply and hydrological
    /// factors), in the table by ecosystem type too.
    #[test]
    fn glaciers_map_to_the_xie_glacier_row_and_are_valued() {
        use crate::account::testing::inputs;
        let mut coef = crate::account::registry::load_coefficients(None, false).unwrap();
        coef.esv = Some(national());
        let mut i = inputs();
        i.land = df!(
            col::CODE => ["140105"],
            "land_class" => ["冰川及永久积雪"],
            "area_ha" => [10.0],
            "source_ref" => ["a"],
        )
        .unwrap();
        let e = compute(&i, &coef).unwrap();
        let row = coef
            .equivalent_factors
            .iter()
            .find(|r| r.xie_type == "冰川积雪")
            .unwrap();
        let per_ha: f64 = value_per_ha(row, &national()).iter().sum();
        assert!(per_ha > 0.0);
        let by_type = e.by_ecosystem(["140105"]);
        assert!((by_type["冰川积雪"].values_cny.iter().sum::<f64>() - 10.0 * per_ha).abs() < 1e-6);
        assert_eq!(by_type["冰川积雪"].area_ha, 10.0);
    }

    fn xie2008() -> Vec<FactorRow> {
        let text = include_str!("../coefficients/tables/xie2008_equivalent_factors.csv");
        let body: String = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        csv::Reader::from_reader(body.as_bytes())
            .deserialize()
            .collect::<std::result::Result<Vec<FactorRow>, _>>()
            .unwrap()
    }

    #[test]
    fn a_computed_equivalent_reproduces_the_published_dezhou_table_with_xie_2008() {
        // 魏慧 et al. 2017 (Dezhou): 10701.16 kg/hm² × 2.61 元/kg / 7 = 3990.00 元/hm².
        let mut s = Settings {
            standard_equivalent_cny_per_ha: 0.0,
            standard_equivalent_method: "grain_output".into(),
            grain_yield_kg_per_ha: Some(10_701.16),
            grain_price_cny_per_kg: Some(2.61),
            ..national()
        };
        s.resolve().unwrap();
        assert!((s.standard_equivalent_cny_per_ha - 3990.0).abs() < 0.005);
        assert!(
            s.equivalent_derivation()
                .starts_with("E_a = 1/7 × 10701.16 kg/hm² × 2.61 元/kg")
        );
        let rows = xie2008();
        assert_eq!(rows.len(), 6);
        let forest = value_per_ha(rows.iter().find(|r| r.xie_type == "森林").unwrap(), &s);
        // Published: gas regulation 4.32 × 3990.00 = 17236.80; Σ 28.12 × 3990.00 = 112198.80.
        assert!((forest[3] - 17_236.80).abs() < 0.02, "{}", forest[3]);
        assert!((forest.iter().sum::<f64>() - 112_198.80).abs() < 0.2);
        for (row, sum) in rows.iter().zip([28.12, 11.67, 7.90, 54.77, 45.35, 1.39]) {
            assert!(
                (row.factors().iter().sum::<f64>() - sum).abs() < 1e-9,
                "{} Σ",
                row.xie_type
            );
        }
    }

    #[test]
    fn a_written_equivalent_is_used_and_a_differing_computed_one_is_warned() {
        // 魏慧 et al. 2017 print E_a = 3990.00 (computed 3990.0039): the written value is used,
        // silently, and the book says both.
        let mut s = Settings {
            standard_equivalent_cny_per_ha: 3990.0,
            standard_equivalent_method: "grain_output".into(),
            grain_yield_kg_per_ha: Some(10_701.16),
            grain_price_cny_per_kg: Some(2.61),
            ..national()
        };
        assert_eq!(s.resolve().unwrap(), None);
        assert_eq!(s.standard_equivalent_cny_per_ha, 3990.0);
        assert_eq!(
            s.equivalent_derivation(),
            "E_a = 3990 元/hm² (given, used; computed 1/7 × 10701.16 kg/hm² × 2.61 元/kg = 3990.00 元/hm²)"
        );
        // A typo (3500) is used as written, with a warning saying by how much it differs.
        s.standard_equivalent_cny_per_ha = 3500.0;
        let warning = s.resolve().unwrap().unwrap();
        assert!(
            warning.contains("differs from the 3990.00") && warning.contains("-12.28 %"),
            "{warning}"
        );
        assert_eq!(s.standard_equivalent_cny_per_ha, 3500.0);
        let mut s = Settings {
            standard_equivalent_method: "grain_net_profit".into(),
            ..national()
        };
        assert!(
            s.resolve()
                .unwrap_err()
                .contains("grain_net_profit_cny_per_ha")
        );
        s.grain_net_profit_cny_per_ha = Some(3406.5);
        assert_eq!(s.resolve().unwrap(), None);
        assert_eq!(s.standard_equivalent_cny_per_ha, 3406.5);
    }

    #[test]
    fn a_class_mapped_to_two_types_takes_their_mean() {
        let mut coef = crate::account::registry::load_coefficients(None, false).unwrap();
        coef.esv = Some(national());
        let s = national();
        let row = |t: &str| {
            coef.equivalent_factors
                .iter()
                .find(|r| r.xie_type == t)
                .unwrap()
                .clone()
        };
        let (a, b) = (row("阔叶"), row("灌草丛"));
        let mean: f64 = value_per_ha(&a, &s)
            .iter()
            .zip(value_per_ha(&b, &s))
            .map(|(x, y)| (x + y) / 2.0)
            .sum();
        for lc in coef.land_classes.iter_mut() {
            if lc.land_class == "灌木林地" {
                lc.xie_type = "阔叶 + 灌草丛".into();
            }
        }
        let esv = compute(&crate::account::testing::inputs(), &coef).unwrap();
        // 140107: 10 ha 灌木林地.
        let got: f64 = esv.values(["140107"]).iter().sum();
        assert!((got - 10.0 * mean).abs() < 1e-6, "{got} vs {}", 10.0 * mean);
        assert_eq!(mapping_parts(" 阔叶+灌草丛 "), ["阔叶", "灌草丛"]);
    }
}
