//! The second coefficient set (coefficients/example-national/): a region other than Shanxi, the
//! national method with the Garzê 2010 prices, and the national Xie 2015 equivalent. A synthetic
//! Garzê 2010 workbook (the published prefecture totals split evenly over the 18 counties) must
//! reproduce the published Garzê account — 白玛卓嘎, 肖燚, 欧阳志云, 王莉雁 2017, 甘孜藏族自治州
//! 生态系统生产总值核算研究, 生态学报 37(19): 6302–6312, 表3 (2010年甘孜州生态系统服务功能量与
//! 价值量): every line of 表3 and the GEP total 7,545.59 亿元, each to the rounding of the printed
//! quantities (the table's values were computed from unrounded quantities). Carbon and oxygen are
//! entered independently, flood regulation in its three parts (lakes, reservoirs, marsh).

use std::collections::BTreeMap;

use calamine::Data;

use crate::util::*;

const COUNTIES: &[(&str, &str)] = &[
    ("513301", "康定市"),
    ("513322", "泸定县"),
    ("513323", "丹巴县"),
    ("513324", "九龙县"),
    ("513325", "雅江县"),
    ("513326", "道孚县"),
    ("513327", "炉霍县"),
    ("513328", "甘孜县"),
    ("513329", "新龙县"),
    ("513330", "德格县"),
    ("513331", "白玉县"),
    ("513332", "石渠县"),
    ("513333", "色达县"),
    ("513334", "理塘县"),
    ("513335", "巴塘县"),
    ("513336", "乡城县"),
    ("513337", "稻城县"),
    ("513338", "得荣县"),
];

fn s(t: &str) -> Data {
    Data::String(t.into())
}

fn f(v: f64) -> Data {
    Data::Float(v)
}

/// A wide sheet: title, header, one row per county with `values` (prefecture totals) split evenly.
fn wide(title: &str, headers: &[&str], totals: &[f64]) -> Vec<Vec<Data>> {
    let mut grid = vec![
        vec![s(title)],
        headers.iter().map(|h| s(h)).collect::<Vec<_>>(),
    ];
    for (code, name) in COUNTIES {
        let mut row = vec![s(code), s(name)];
        row.extend(totals.iter().map(|t| f(t / COUNTIES.len() as f64)));
        grid.push(row);
    }
    grid
}

/// The synthetic Garzê 2010 workbook.
fn garze_2010() -> Book {
    let n = COUNTIES.len() as f64;
    let title = "2010年甘孜州（合成示例：CX-GARZE 全州数值平均分到各县，非官方统计）";
    let mut sheets = vec![
        (
            "土地利用".to_string(),
            // Self-recovering forest and grassland areas of the pest-control account.
            wide(
                title,
                &["区划代码", "县(市、区)", "森林(公顷)", "草地(公顷)"],
                &[158.0e4, 711.13e4],
            ),
        ),
        ("供水".to_string(), {
            wide(
                title,
                &[
                    "区划代码",
                    "县(市、区)",
                    "地表水(亿m³)",
                    "地下水(亿m³)",
                    "农业(亿m³)",
                    "工业(亿m³)",
                    "生活(亿m³)",
                ],
                // Published use (表3 水资源): 农业 17.31, 工业 150.17, 生活 1.36 亿m³; the source
                // split is not published: all of it as surface water (supply = use).
                &[17.31 + 150.17 + 1.36, 0.0, 17.31, 150.17, 1.36],
            )
        }),
        (
            "经济社会".to_string(),
            wide(
                title,
                &[
                    "区划代码",
                    "县(市、区)",
                    "常住人口(万人)",
                    "地区生产总值(亿元)",
                    "农业净产值(亿元)",
                    "林业净产值(亿元)",
                    "牧业净产值(亿元)",
                    "渔业净产值(亿元)",
                    "水电发电量(亿kWh)",
                    "接待游客(万人次)",
                ],
                // Population and GDP are placeholders (not part of the checked account); the
                // rest: 农林牧渔净产值, hydropower and visitors as published.
                &[
                    100.0, 150.0, 12.2875, 2.3777, 22.0760, 0.0356, 95.30, 358.68,
                ],
            ),
        ),
        (
            "环境".to_string(),
            wide(
                title,
                &[
                    "区划代码",
                    "县(市、区)",
                    "二氧化硫(吨)",
                    "氮氧化物(吨)",
                    "颗粒物(吨)",
                    "化学需氧量(吨)",
                    "氨氮(吨)",
                ],
                &[1137.0, 2772.0, 941.0, 5424.0, 625.0],
            ),
        ),
    ];
    let mut forest = vec![
        vec![s(title)],
        [
            "区划代码",
            "县(市、区)",
            "优势树种组",
            "面积(公顷)",
            "蓄积量(m³)",
            "年生长量(m³)",
        ]
        .iter()
        .map(|h| s(h))
        .collect(),
    ];
    let mut physical = vec![
        vec![s(title)],
        ["区划代码", "县(市、区)", "指标", "实物量", "单位", "来源"]
            .iter()
            .map(|h| s(h))
            .collect(),
    ];
    for (code, name) in COUNTIES {
        forest.push(vec![
            s(code),
            s(name),
            s("云杉"),
            f(1000.0),
            f(1.0e5),
            f(0.0),
        ]);
        for (indicator, total, unit) in [
            ("土壤保持", 38.86, "亿吨"),
            ("防风固沙", 779.42, "万吨"),
            ("空气净化二氧化硫", 1137.0, "吨"),
            ("空气净化氮氧化物", 2772.0, "吨"),
            ("空气净化颗粒物(滞尘)", 941.0, "吨"),
            ("水质净化化学需氧量", 5424.0, "吨"),
            ("水质净化氨氮", 625.0, "吨"),
            ("气候调节植被蒸腾", 2799.10, "亿kWh"),
            ("气候调节水面蒸发", 1272.35, "亿kWh"),
            ("水源涵养", 321.49, "亿m³"),
            // Flood regulation in its three published parts (表3 洪水调蓄).
            ("洪水调蓄·湖泊", 2.43, "亿m³"),
            ("洪水调蓄·水库", 0.01, "亿m³"),
            ("洪水调蓄·沼泽", 6.00, "亿m³"),
            // Carbon and oxygen as published, each on its own (0.31 : 2.51 is not the 1.63 : 1.19
            // photosynthesis ratio: the two were computed apart). The table prints 固碳量 in 亿t
            // without the substance; the set prices it per t CO₂ (its prices.toml note).
            ("固碳", 0.31, "亿t CO₂"),
            ("释氧", 2.51, "亿t O₂"),
        ] {
            physical.push(vec![
                s(code),
                s(name),
                s(indicator),
                f(total / n),
                s(unit),
                s("CX-GARZE 表2（全州值平均分到各县）"),
            ]);
        }
    }
    sheets.push(("森林资源".to_string(), forest));
    sheets.push(("实物量".to_string(), physical));
    Book {
        sheets,
        merges: Vec::new(),
    }
}

/// Province-level value (元) and quantity per indicator from accounts.csv.
fn province_totals(path: &std::path::Path) -> BTreeMap<String, (f64, f64)> {
    let (head, rows) = read_csv(path);
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    rows.iter()
        .filter(|r| r[col("level")] == "province")
        .map(|r| {
            (
                r[col("indicator")].clone(),
                (
                    r[col("value_cny")].parse().unwrap_or(0.0),
                    r[col("quantity")].parse().unwrap_or(0.0),
                ),
            )
        })
        .collect()
}

#[test]
fn the_example_set_reproduces_the_published_garze_2010_account() {
    let dir = workdir("example_set_garze");
    garze_2010().save(&dir.join("garze-2010.xlsx"));
    let set = root().join("coefficients/example-national");
    let set = set.to_str().unwrap();
    let out = gep(
        &dir,
        &[
            "run",
            "--coefficients",
            set,
            "--data",
            "garze-2010.xlsx",
            "--out",
            "book.xlsx",
            "--csv",
            "csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let t = province_totals(&dir.join("csv/accounts.csv"));
    let value = |k: &str| t[k].0;
    let near = |got: f64, want: f64, rel: f64, what: &str| {
        assert!(
            ((got - want) / want).abs() < rel,
            "{what}: {got} vs published {want}"
        );
    };
    // Published [V]: hydropower 95.30亿kWh × 0.53 = 50.5090亿元.
    near(value("hydropower"), 50.5090e8, 1e-9, "hydropower");
    // Published [V]: 779.42万t → 60.89 km² → 2.2835亿元.
    near(value("sand_fixation"), 2.2835e8, 5e-5, "sand fixation");
    // Travel cost: 70.6669亿元 (the per-visit cost is derived from it, to 0.1 元).
    near(value("recreation"), 70.6669e8, 1e-5, "recreation");
    // Provisioning at net output (净产值, the net_output basis): 12.2875 / 2.3777 / 22.0760 /
    // 0.0356 亿元.
    near(
        value("agriculture_products"),
        12.2875e8,
        1e-9,
        "agriculture",
    );
    near(value("forestry_products"), 2.3777e8, 1e-9, "forestry");
    near(value("husbandry_products"), 22.0760e8, 1e-9, "husbandry");
    near(value("fishery_products"), 0.0356e8, 1e-9, "fishery");
    // Arithmetic on published quantities and prices [D]:
    near(
        value("pest_control"),
        158.0e4 * 375.0 + 711.13e4 * 112.5,
        1e-9,
        "pest control",
    );
    near(
        value("air_purification"),
        1137.0 * 1200.0 + 2772.0 * 630.0 + 941.0 * 150.0,
        1e-9,
        "air purification",
    );
    near(
        value("water_purification"),
        5424.0 * 700.0 + 625.0 * 875.0,
        1e-9,
        "water purification",
    );
    near(
        value("climate_regulation"),
        (2799.10 + 1272.35) * 1e8 * 0.53,
        1e-9,
        "climate regulation",
    );
    // Soil retention 38.86亿t: sediment 0.24 × 38.86亿/0.93 = 10.03亿m³ × 15.58, N 0.37 %, P 0.108 %.
    let soil = 38.86e8 * (0.24 / 0.93 * 15.58 + 0.0037 * 875.0 + 0.00108 * 2800.0);
    near(value("soil_retention"), soil, 1e-9, "soil retention");
    near(
        t["soil_retention"].1,
        38.86e8,
        1e-9,
        "soil retention quantity",
    );
    // Lines whose published quantities are rounded (表3 prints them to 0.01 亿): the published
    // value must lie within what the rounding allows — Σ price × half a unit of the quantity's
    // last digit, plus half a unit of the value's own last digit.
    let half = 0.005e8; // half of 0.01 亿
    let soil_price = 0.24 / 0.93 * 15.58 + 0.0037 * 875.0 + 0.00108 * 2800.0; // 元/t soil
    let mut gep_bound = 0.0;
    for (indicator, published, value_half, prices) in [
        // 水资源 545.36 亿元: 农业 17.31, 工业 150.17, 生活 1.36 亿m³ × 0.07 / 3.6 / 2.6.
        ("water_supply", 545.36e8, half, &[0.07, 3.6, 2.6][..]),
        // 水源涵养 321.49 亿m³ × 7.06 = 2269.71 亿元.
        ("water_conservation", 2269.71e8, half, &[7.06][..]),
        // 洪水调蓄: 湖泊 2.43, 水库 0.01, 沼泽 6.00 亿m³ × 7.06 = 59.56 亿元.
        ("flood_regulation", 59.56e8, half, &[7.06, 7.06, 7.06][..]),
        // 固碳 0.31 亿t × 380 = 117.3548 亿元; 释氧 2.51 亿t × 727 = 1821.9182 亿元.
        ("carbon_sequestration", 117.3548e8, 0.00005e8, &[380.0][..]),
        ("oxygen_release", 1821.9182e8, 0.00005e8, &[727.0][..]),
        // 土壤保持 38.86 亿t → 399.60 亿元.
        ("soil_retention", 399.60e8, half, &[soil_price][..]),
        // 气候调节 2799.10 + 1272.35 亿kWh × 0.53 = 2157.86 亿元.
        ("climate_regulation", 2157.86e8, half, &[0.53, 0.53][..]),
    ] {
        let quantity_half: f64 = prices.iter().map(|p| p * half).sum();
        let got = value(indicator);
        assert!(
            (got - published).abs() <= quantity_half + value_half,
            "{indicator}: {got} vs published {published} (rounding allows {})",
            quantity_half + value_half
        );
        gep_bound += quantity_half;
    }
    // GEP = the sum of the valued lines: published 7,545.59 亿元 (provisioning 632.64, regulating
    // 6,842.28, cultural 70.67). The rounded quantities allow the bound above; sand fixation
    // (2.2835 亿元 to 5e-5) and recreation (to 1e-5) add their own.
    gep_bound += 2.2835e8 * 5e-5 + 70.6669e8 * 1e-5 + half;
    let gep_total: f64 = t.values().map(|(v, _)| v).sum();
    assert!(
        (gep_total - 7545.59e8).abs() <= gep_bound,
        "GEP {gep_total} vs published 7545.59亿 (rounding allows {gep_bound})"
    );
    // Exactly the services of the published table are valued; biodiversity and air ions, which
    // it does not account, are marked not valued (an empty value, not 0).
    let (head, rows) = read_csv(&dir.join("csv/accounts.csv"));
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let not_valued: Vec<&str> = rows
        .iter()
        .filter(|r| r[col("level")] == "province" && r[col("valued")] == "false")
        .inspect(|r| assert_eq!(r[col("value_cny")], ""))
        .map(|r| r[col("indicator")].as_str())
        .collect();
    assert_eq!(not_valued, ["biodiversity", "negative_air_ions"]);
    // The set's ESV uses the national equivalent: the book says so.
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(dir.join("book.xlsx")).unwrap();
    let esv = calamine::Reader::worksheet_range(&mut wb, "当量因子法").unwrap();
    let note = esv
        .get_value((1, 0))
        .map(|d| d.to_string())
        .unwrap_or_default();
    assert!(
        note.contains("E_a = grain net profit 3406.50 元/hm²") && note.contains("NPP 调整 1"),
        "{note}"
    );
    let check = gep(&dir, &["coefficients", "check", set]);
    assert!(check.status.success(), "{}", text(&check).1);
}
