//! The equivalent-factor account by ecosystem type × service against a published table:
//! 宋永永, 薛东前, 代兰海, 夏四友, 黄小刚, 晋陕蒙典型化石能源开发区土地利用变化及其生态响应,
//! 干旱区地理 (preprint ChinaXiv:201809.00013), 表1 — the value per hm² of each land type and
//! service (元·hm⁻²·a⁻¹) from the Xie 2015 factors and a standard equivalent of 1014.74 元/hm²
//! (3088.33 kg/hm² × 2.30 元/kg ÷ 7), unadjusted. Its 2015 areas (表2, km²) enter as one synthetic
//! county's land cover (the paper prints no ESV totals, so the per-hectare values are what is
//! reproduced: every cell of 表1, to its 0.01 元).

use std::collections::BTreeMap;

use calamine::Data;

use crate::util::*;

/// 表1, 元·hm⁻²·a⁻¹, services in the paper's order (食物生产 … 美学景观); 建设用地 is 0.
const SERVICES: [&str; 11] = [
    "food",
    "raw",
    "water",
    "gas",
    "climate",
    "purification",
    "hydrology",
    "soil",
    "nutrient",
    "biodiversity",
    "aesthetics",
];
const TABLE_1: &[(&str, [f64; 11], f64)] = &[
    (
        "旱地", // 耕地
        [
            862.53, 405.90, 20.29, 679.88, 365.31, 101.47, 273.98, 1045.18, 121.77, 131.92, 60.88,
        ],
        4069.11,
    ),
    (
        "阔叶", // 林地
        [
            294.27, 669.73, 345.01, 2201.99, 6595.81, 1958.45, 4809.87, 2689.06, 202.95, 2445.52,
            1075.62,
        ],
        23288.28,
    ),
    (
        "草原", // 草地
        [
            101.47, 142.06, 81.18, 517.52, 1359.75, 446.49, 994.45, 629.14, 50.74, 568.25, 253.69,
        ],
        5144.74,
    ),
    (
        "水系", // 水域
        [
            811.79, 233.39, 8412.19, 781.35, 2323.75, 5631.81, 103747.02, 943.71, 71.03, 2587.59,
            1917.86,
        ],
        127461.49,
    ),
    (
        "裸地", // 未利用地
        [
            0.00, 0.00, 0.00, 20.29, 0.00, 101.47, 30.44, 20.29, 0.00, 20.29, 10.15,
        ],
        202.95,
    ),
];

#[test]
fn the_esv_by_type_and_service_reproduces_a_published_per_hectare_table() {
    let dir = workdir("esv_published");
    // The paper's standard equivalent, unadjusted, and its type mapping (林地 → 阔叶, 草地 → 草原,
    // 未利用地 → 裸地; 耕地 → 旱地 and 水域 → 水系 as in the Shanxi crosswalk; 建设用地 no type).
    let set = edited_set(&dir, |name, t| match name {
        "esv.toml" => t
            .lines()
            .map(|l| match l.split('=').next().map(str::trim) {
                Some("standard_equivalent_cny_per_ha") => {
                    "standard_equivalent_cny_per_ha = 1014.74".to_string()
                }
                Some("npp_factor" | "precipitation_factor" | "soil_factor") => {
                    format!("{} = 1.0", l.split('=').next().unwrap().trim())
                }
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        "land_classes.csv" => t
            .replace("forest land,针阔混交", "forest land,阔叶")
            .replace(",grassland,灌草丛", ",grassland,草原")
            .replace(
                "三调 first-level 12,other land,荒漠",
                "三调 first-level 12,other land,裸地",
            ),
        // The study area is one synthetic county without a published area (no area check).
        "regions.csv" => t.replace(
            "140105,小店区,140100,太原市,市辖区,295,",
            "140105,小店区,140100,太原市,市辖区,,",
        ),
        _ => t,
    });
    let s = |t: &str| Data::String(t.into());
    let b = Book {
        sheets: vec![(
            "土地利用".into(),
            vec![
                vec![s(
                    "2015年晋陕蒙接壤区土地利用（宋永永等 表2 面积，合成为一个县；非官方统计）",
                )],
                [
                    "区划代码",
                    "县(市、区)",
                    "耕地",
                    "林地",
                    "草地",
                    "水域及水利设施用地",
                    "城镇村及工矿用地",
                    "其他土地",
                ]
                .map(s)
                .to_vec(),
                ["单位", "", "km²", "km²", "km²", "km²", "km²", "km²"]
                    .map(s)
                    .to_vec(),
                vec![
                    s("140105"),
                    s("小店区"),
                    Data::Float(13416.0),
                    Data::Float(3954.0),
                    Data::Float(26561.0),
                    Data::Float(1334.0),
                    Data::Float(1676.0),
                    Data::Float(7335.0),
                ],
            ],
        )],
        merges: Vec::new(),
    };
    b.save(&dir.join("jsm-2015.xlsx"));
    let out = gep(
        &dir,
        &[
            "run",
            "--coefficients",
            set.to_str().unwrap(),
            "--data",
            "jsm-2015.xlsx",
            "--only",
            "140105",
            "--out",
            "book.xlsx",
            "--csv",
            "csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let (head, rows) = read_csv(&dir.join("csv/esv.csv"));
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    // ecosystem type → service → value per hm².
    let mut per_ha: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r[col("level")] == "county") {
        if r[col("ecosystem_type")].is_empty() {
            // 建设用地 (no ecosystem type): its area is listed, its value left empty — not 0.
            assert_eq!(r[col("value_cny")], "", "{r:?}");
            assert_eq!(r[col("area_ha")], "167600.0");
            continue;
        }
        let area: f64 = r[col("area_ha")].parse().unwrap();
        let value: f64 = r[col("value_cny")].parse().unwrap();
        per_ha
            .entry(r[col("ecosystem_type")].clone())
            .or_default()
            .insert(r[col("service")].clone(), value / area);
    }
    for (xie_type, printed, printed_total) in TABLE_1 {
        let got = &per_ha[*xie_type];
        for (service, want) in SERVICES.iter().zip(printed) {
            let v = got[*service];
            assert!(
                (v - want).abs() <= 0.005 + 1e-9,
                "{xie_type} {service}: {v:.4} 元/hm² vs published {want}"
            );
        }
        // The printed total is the sum of its rounded cells (裸地 202.93 → 202.95 printed): to
        // the rounding of eleven cells.
        let total: f64 = got.values().sum();
        assert!(
            (total - printed_total).abs() <= 11.0 * 0.005 + 0.005,
            "{xie_type} total {total} vs published {printed_total}"
        );
    }
    assert_eq!(per_ha.len(), TABLE_1.len(), "{:?}", per_ha.keys());
}
