//! Generates the synthetic demo workbook `fixtures/demo/shanxi-demo-2021.xlsx`.
//!
//! Run: `cargo run --example make_demo` (writes the file; the output is byte-stable for a given
//! rust_xlsxwriter version because the seed is fixed and document dates are pinned).
//! Every county figure is SYNTHETIC. Province totals are calibrated to the published figures in
//! shared/reference/shanxi-facts.md (see fixtures/README.md for each total and its source).

use std::collections::BTreeMap;

use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError,
};

/// Fixed seed: the demo is reproducible.
const SEED: u64 = 20_211_231;

/// splitmix64: a tiny deterministic generator (no dependency).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
}

struct County {
    code: String,
    name: String,
    prefecture_code: String,
    prefecture: String,
    area_km2: f64,
}

/// Prefecture land areas, km² (tcmap.com.cn via shanxi-facts.md §2).
const PREFECTURE_AREA_KM2: &[(&str, f64)] = &[
    ("140100", 6909.0),
    ("140200", 14056.0),
    ("140300", 4559.0),
    ("140400", 13954.0),
    ("140500", 9425.0),
    ("140600", 10626.0),
    ("140700", 16391.0),
    ("140800", 14183.0),
    ("140900", 25154.0),
    ("141000", 20301.0),
    ("141100", 21140.0),
];
/// 2021 GDP by prefecture, 亿元 (shanxi-facts.md §6).
const PREFECTURE_GDP_YI: &[(&str, f64)] = &[
    ("140100", 5121.61),
    ("140200", 1686.0),
    ("140300", 916.6),
    ("140400", 2311.1),
    ("140500", 1912.4),
    ("140600", 1420.6),
    ("140700", 1843.4),
    ("140800", 2053.1),
    ("140900", 1344.4),
    ("141000", 1909.5),
    ("141100", 2071.4),
];
/// 2020 tourism by prefecture: visitors (万人次) and revenue (亿元), shanxi-coefficients.md §5
/// (V-low; sums to the provincial 33253.5万 / 2919.7亿). Used as the demo's calibration target.
const PREFECTURE_TOURISM_2020: &[(&str, f64, f64)] = &[
    ("140100", 3594.04, 354.61),
    ("140200", 3328.90, 290.79),
    ("140300", 1363.47, 120.65),
    ("140400", 3290.74, 271.22),
    ("140500", 3264.91, 289.26),
    ("140600", 2038.70, 138.61),
    ("140700", 4473.13, 407.74),
    ("140800", 2634.46, 231.79),
    ("140900", 3226.81, 281.00),
    ("141000", 3399.56, 301.20),
    ("141100", 2638.8, 232.84),
];
/// Provincial soil retention, t/yr (RUSLE-SX, shanxi-coefficients.md §1.3).
const SOIL_RETENTION_T: f64 = 6.52e9;
/// 2020 census resident population by prefecture (shanxi-facts.md §7).
const PREFECTURE_POPULATION: &[(&str, f64)] = &[
    ("140100", 5_304_061.0),
    ("140200", 3_105_591.0),
    ("140300", 1_318_505.0),
    ("140400", 3_180_884.0),
    ("140500", 2_194_545.0),
    ("140600", 1_593_444.0),
    ("140700", 3_379_498.0),
    ("140800", 4_774_508.0),
    ("140900", 2_689_668.0),
    ("141000", 3_976_481.0),
    ("141100", 3_398_431.0),
];
/// Published county populations (2020 census, shanxi-facts.md §7).
const COUNTY_POPULATION: &[(&str, f64)] = &[
    ("140213", 1_105_699.0),
    ("140702", 904_518.0),
    ("140403", 895_280.0),
    ("140214", 684_753.0),
    ("140703", 322_099.0),
    ("140224", 212_771.0),
];

/// 三调 first-level totals, 万公顷 (shanxi-facts.md §3); 其他土地 is the residual to the land area.
const LAND_TOTALS_WAN_HA: &[(&str, f64)] = &[
    ("耕地", 386.95),
    ("园地", 64.09),
    ("林地", 609.57),
    ("草地", 310.51),
    ("湿地", 5.44),
    ("城镇村及工矿用地", 101.76),
    ("交通运输用地", 26.98),
    ("水域及水利设施用地", 17.31),
];
/// Second-level splits (synthetic shares).
const SPLITS: &[(&str, &[(&str, f64)])] = &[
    (
        "耕地",
        &[("水田", 0.002), ("水浇地", 0.298), ("旱地", 0.70)],
    ),
    (
        "林地",
        &[("乔木林地", 0.45), ("灌木林地", 0.40), ("其他林地", 0.15)],
    ),
    (
        "草地",
        &[
            ("天然牧草地", 0.10),
            ("人工牧草地", 0.01),
            ("其他草地", 0.89),
        ],
    ),
];
/// Forest stock of the 9th national inventory, m³ (shanxi-facts.md §4).
const FOREST_STOCK_M3: f64 = 12_923.0e4;
/// Total water supply, m³ (≈75.1亿 m³ implied by the 2018 bulletin, shanxi-facts.md §5).
const WATER_M3: f64 = 75.0e8;
/// Supply by source: surface, ground, other (2018 Yellow-River-part shares, shanxi-facts.md §5).
const WATER_SOURCES: [f64; 3] = [26.787 / 49.552, 19.716 / 49.552, 3.049 / 49.552];
/// Use by sector: agriculture, industry, household, ecology (2009 shares, shanxi-facts.md §5).
const WATER_USES: [f64; 4] = [34.4 / 56.2, 10.5 / 56.2, 10.0 / 56.2, 1.3 / 56.2];
/// 2021 primary-industry value added, 亿元 (shanxi-facts.md §6).
const PRIMARY_VA_YI: f64 = 1286.87;
/// Product shares of agriculture, forestry, husbandry, fishery (synthetic).
const PRODUCT_SHARES: [f64; 4] = [0.60, 0.06, 0.33, 0.01];
/// Gross output / value added (synthetic ratio; no Shanxi source used).
const GROSS_TO_VA: f64 = 1.75;
const FOREST_TYPES: &[&str] = &[
    "油松",
    "落叶松",
    "栎类",
    "杨树",
    "桦木",
    "刺槐",
    "侧柏",
    "其他松类",
];

fn read_counties() -> Vec<County> {
    let text = std::fs::read_to_string("coefficients/shanxi/regions.csv")
        .expect("run from the repository root");
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        out.push(County {
            code: f[0].into(),
            name: f[1].into(),
            prefecture_code: f[2].into(),
            prefecture: f[3].into(),
            area_km2: f[5].parse().unwrap_or(0.0),
        });
    }
    out
}

/// Counties without a published area share what is left of the prefecture's area.
fn fill_areas(counties: &mut [County], rng: &mut Rng) {
    for (pcode, parea) in PREFECTURE_AREA_KM2 {
        let known: f64 = counties
            .iter()
            .filter(|c| &c.prefecture_code == pcode)
            .map(|c| c.area_km2)
            .sum();
        let unknown: Vec<usize> = counties
            .iter()
            .enumerate()
            .filter(|(_, c)| &c.prefecture_code == pcode && c.area_km2 == 0.0)
            .map(|(i, _)| i)
            .collect();
        if unknown.is_empty() {
            continue;
        }
        let rest = (parea - known).max(100.0 * unknown.len() as f64);
        let weights: Vec<f64> = unknown.iter().map(|_| rng.range(0.6, 1.4)).collect();
        let sum: f64 = weights.iter().sum();
        for (i, w) in unknown.iter().zip(weights) {
            counties[*i].area_km2 = (rest * w / sum).round();
        }
    }
}

/// Splits `total` over items by `weights`.
fn share(total: f64, weights: &[f64]) -> Vec<f64> {
    let sum: f64 = weights.iter().sum();
    weights.iter().map(|w| total * w / sum).collect()
}

/// Land cover by county and first-level class, fitted (RAS) to county areas and 三调 totals.
fn land_matrix(counties: &[County], rng: &mut Rng) -> Vec<Vec<f64>> {
    let total_ha: f64 = counties.iter().map(|c| c.area_km2 * 100.0).sum();
    let mut col_totals: Vec<f64> = LAND_TOTALS_WAN_HA.iter().map(|(_, v)| v * 1e4).collect();
    col_totals.push(total_ha - col_totals.iter().sum::<f64>()); // 其他土地
    let urban = |c: &County| c.name.ends_with('区');
    let mut m: Vec<Vec<f64>> = counties
        .iter()
        .map(|c| {
            (0..col_totals.len())
                .map(|k| {
                    let boost = match k {
                        5 | 6 if urban(c) => 6.0,
                        0 | 2 | 3 if urban(c) => 0.4,
                        _ => 1.0,
                    };
                    col_totals[k] * rng.range(0.5, 1.5) * boost
                })
                .collect()
        })
        .collect();
    for _ in 0..200 {
        for (i, c) in counties.iter().enumerate() {
            let s: f64 = m[i].iter().sum();
            let f = c.area_km2 * 100.0 / s;
            m[i].iter_mut().for_each(|v| *v *= f);
        }
        for (k, t) in col_totals.iter().enumerate() {
            let s: f64 = m.iter().map(|r| r[k]).sum();
            m.iter_mut().for_each(|r| r[k] *= t / s);
        }
    }
    m
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn title(ws: &mut Worksheet, text: &str, width: u16) -> Result<(), XlsxError> {
    let f = Format::new()
        .set_bold()
        .set_font_size(14)
        .set_align(FormatAlign::Center);
    ws.merge_range(0, 0, 0, width - 1, text, &f)?;
    Ok(())
}

fn main() -> Result<(), XlsxError> {
    let mut rng = Rng(SEED);
    let mut counties = read_counties();
    fill_areas(&mut counties, &mut rng);
    let prefectures: Vec<(String, String)> = {
        let mut v: Vec<(String, String)> = Vec::new();
        for c in &counties {
            if !v.iter().any(|(p, _)| *p == c.prefecture_code) {
                v.push((c.prefecture_code.clone(), c.prefecture.clone()));
            }
        }
        v
    };
    let head = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_text_wrap();
    let note = Format::new().set_italic();
    let mut wb = Workbook::new();
    wb.set_properties(
        &DocProperties::new()
            .set_title("山西省 GEP 演示数据 (SYNTHETIC)")
            .set_comment("Synthetic demonstration data generated by examples/make_demo.rs; not official statistics.")
            .set_creation_datetime(&ExcelDateTime::from_ymd(2022, 1, 1)?),
    );

    // ---- 土地利用: two-row merged header, units row, province and prefecture subtotal rows.
    let land = land_matrix(&counties, &mut rng);
    let first_level: Vec<&str> = LAND_TOTALS_WAN_HA
        .iter()
        .map(|(k, _)| *k)
        .chain(["其他土地"])
        .collect();
    let mut columns: Vec<(String, String, usize, f64)> = Vec::new(); // (top, leaf, class index, share)
    for (k, class) in first_level.iter().enumerate() {
        match SPLITS.iter().find(|(c, _)| c == class) {
            Some((_, parts)) => {
                for (leaf, s) in *parts {
                    columns.push((class.to_string(), leaf.to_string(), k, *s));
                }
            }
            None => columns.push((class.to_string(), class.to_string(), k, 1.0)),
        }
    }
    let ws = wb.add_worksheet().set_name("土地利用")?;
    let width = 2 + columns.len() as u16;
    title(
        ws,
        "2021年山西省各县(市、区)土地利用现状（合成演示数据，非官方统计）",
        width,
    )?;
    ws.merge_range(1, 0, 2, 0, "区划代码", &head)?;
    ws.merge_range(1, 1, 2, 1, "县(市、区)", &head)?;
    let mut c = 2u16;
    for class in &first_level {
        let n = columns.iter().filter(|x| x.0 == *class).count() as u16;
        if n > 1 {
            ws.merge_range(1, c, 1, c + n - 1, class, &head)?;
            for x in columns.iter().filter(|x| x.0 == *class) {
                ws.write_string_with_format(2, c, &x.1, &head)?;
                c += 1;
            }
        } else {
            ws.merge_range(1, c, 2, c, class, &head)?;
            c += 1;
        }
    }
    ws.write_string(3, 0, "单位")?;
    for k in 0..columns.len() as u16 {
        ws.write_string(3, 2 + k, "公顷")?;
    }
    let land_cells: Vec<Vec<f64>> = counties
        .iter()
        .enumerate()
        .map(|(i, c)| {
            // Paddy fields exist only in the south (运城, 晋城) in this synthetic set; elsewhere
            // 水田 is 0 and its share goes to 旱地, so the workbook has genuine zeros.
            let paddy = matches!(c.prefecture_code.as_str(), "140800" | "140500");
            columns
                .iter()
                .map(|(_, leaf, k, s)| {
                    let share = match leaf.as_str() {
                        "水田" if !paddy => 0.0,
                        "旱地" if !paddy => s + 0.002,
                        _ => *s,
                    };
                    round2(land[i][*k] * share)
                })
                .collect()
        })
        .collect();
    write_blocks(ws, 4, &counties, &prefectures, &land_cells)?;
    ws.set_column_width(1, 12)?;

    // ---- 森林资源: long form, units in headers; plus 森林资源(上年) for the stock change.
    let forest_idx = columns.iter().position(|x| x.1 == "乔木林地").unwrap_or(0);
    let mut forest_rows: Vec<(usize, &str, f64, f64, f64, f64, f64)> = Vec::new(); // county, type, area, stock, growth, area0, stock0
    let mut raw_stock = 0.0;
    for (i, _) in counties.iter().enumerate() {
        let area = land_cells[i][forest_idx];
        let n = 2 + (rng.next() * 3.0) as usize;
        let mut types: Vec<&str> = Vec::new();
        while types.len() < n {
            let t = FOREST_TYPES
                [(rng.next() * FOREST_TYPES.len() as f64) as usize % FOREST_TYPES.len()];
            if !types.contains(&t) {
                types.push(t);
            }
        }
        let parts = share(
            area,
            &types
                .iter()
                .map(|_| rng.range(0.3, 1.7))
                .collect::<Vec<_>>(),
        );
        for (t, a) in types.iter().zip(parts) {
            let density = rng.range(25.0, 75.0);
            raw_stock += a * density;
            forest_rows.push((i, t, round2(a), a * density, 0.0, 0.0, 0.0));
        }
    }
    let scale = FOREST_STOCK_M3 / raw_stock;
    for row in &mut forest_rows {
        row.3 = (row.3 * scale).round();
        let growth_rate = rng.range(0.025, 0.045);
        row.4 = (row.3 * growth_rate).round();
        row.6 = (row.3 / (1.0 + growth_rate * rng.range(0.7, 1.0))).round();
        row.5 = round2(row.2 * (1.0 - rng.range(0.0, 0.015)));
    }
    for (sheet, year, current) in [("森林资源", 2021, true), ("森林资源(上年)", 2020, false)]
    {
        let ws = wb.add_worksheet().set_name(sheet)?;
        title(
            ws,
            &format!("{year}年山西省各县(市、区)乔木林分优势树种组面积与蓄积（合成演示数据）"),
            6,
        )?;
        let headers = [
            "区划代码",
            "县(市、区)",
            "优势树种组",
            "面积(公顷)",
            "蓄积量(m³)",
            "年生长量(m³)",
        ];
        for (k, h) in headers.iter().enumerate().take(if current { 6 } else { 5 }) {
            ws.write_string_with_format(1, k as u16, *h, &head)?;
        }
        let mut r = 2u32;
        for (i, t, a, s, g, a0, s0) in &forest_rows {
            let c = &counties[*i];
            ws.write_string(r, 0, &c.code)?;
            ws.write_string(r, 1, &c.name)?;
            ws.write_string(r, 2, *t)?;
            ws.write_number(r, 3, if current { *a } else { *a0 })?;
            ws.write_number(r, 4, if current { *s } else { *s0 })?;
            if current {
                ws.write_number(r, 5, *g)?;
            }
            r += 1;
        }
        ws.write_string(r, 0, "合计")?;
        ws.write_number(
            r,
            3,
            round2(
                forest_rows
                    .iter()
                    .map(|x| if current { x.2 } else { x.5 })
                    .sum::<f64>(),
            ),
        )?;
        ws.write_number(
            r,
            4,
            forest_rows
                .iter()
                .map(|x| if current { x.3 } else { x.6 })
                .sum::<f64>(),
        )?;
        ws.write_string_with_format(
            r + 1,
            0,
            "注：合成演示数据，按第九次森林资源清查全省蓄积量12923万m³校准；非官方统计。",
            &note,
        )?;
        ws.set_column_width(1, 12)?;
        ws.set_column_width(2, 12)?;
    }

    // ---- 供水: two-row header, sheet-wide unit in the title row.
    let pop = populations(&counties, &mut rng);
    let farmland: Vec<f64> = (0..counties.len()).map(|i| land[i][0]).collect();
    let water_w: Vec<f64> = (0..counties.len())
        .map(|i| pop[i] * 60.0 + farmland[i] * 25.0 * rng.range(0.7, 1.3))
        .collect();
    let water = share(WATER_M3, &water_w);
    let ws = wb.add_worksheet().set_name("供水")?;
    title(
        ws,
        "2021年山西省各县(市、区)供水量与用水量（合成演示数据）",
        9,
    )?;
    ws.write_string(1, 8, "单位：万m³")?;
    ws.merge_range(2, 0, 3, 0, "区划代码", &head)?;
    ws.merge_range(2, 1, 3, 1, "县(市、区)", &head)?;
    ws.merge_range(2, 2, 2, 4, "供水量", &head)?;
    ws.merge_range(2, 5, 2, 8, "用水量", &head)?;
    for (k, h) in ["地表水", "地下水", "其他", "农业", "工业", "生活", "生态"]
        .iter()
        .enumerate()
    {
        ws.write_string_with_format(3, 2 + k as u16, *h, &head)?;
    }
    let water_cells: Vec<Vec<f64>> = water
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let wan = w / 1e4;
            let sources = share(
                wan,
                &WATER_SOURCES
                    .iter()
                    .map(|s| s * rng.range(0.8, 1.2))
                    .collect::<Vec<_>>(),
            );
            let agri_boost = farmland[i] / (counties[i].area_km2 * 100.0) * 3.0;
            let uses = share(
                wan,
                &WATER_USES
                    .iter()
                    .enumerate()
                    .map(|(k, s)| {
                        s * if k == 0 {
                            0.5 + agri_boost
                        } else {
                            rng.range(0.8, 1.2)
                        }
                    })
                    .collect::<Vec<_>>(),
            );
            sources
                .iter()
                .chain(uses.iter())
                .map(|v| round2(*v))
                .collect()
        })
        .collect();
    write_blocks(ws, 4, &counties, &prefectures, &water_cells)?;

    // ---- 经济社会: units in headers, prefecture GDP split over counties.
    let ws = wb.add_worksheet().set_name("经济社会")?;
    let headers = [
        "区划代码",
        "县(市、区)",
        "常住人口(万人)",
        "地区生产总值(亿元)",
        "农业总产值(万元)",
        "林业总产值(万元)",
        "牧业总产值(万元)",
        "渔业总产值(万元)",
        "农业增加值(万元)",
        "林业增加值(万元)",
        "牧业增加值(万元)",
        "渔业增加值(万元)",
        "旅游总收入(亿元)",
        "接待游客(万人次)",
    ];
    title(
        ws,
        "2021年山西省各县(市、区)主要经济社会指标（合成演示数据）",
        headers.len() as u16,
    )?;
    for (k, h) in headers.iter().enumerate() {
        ws.write_string_with_format(1, k as u16, *h, &head)?;
    }
    let mut gdp = vec![0.0; counties.len()];
    for (pcode, total) in PREFECTURE_GDP_YI {
        let idx: Vec<usize> = (0..counties.len())
            .filter(|i| &counties[*i].prefecture_code == pcode)
            .collect();
        let parts = share(
            *total,
            &idx.iter()
                .map(|i| pop[*i] * rng.range(0.6, 1.6))
                .collect::<Vec<_>>(),
        );
        for (i, v) in idx.iter().zip(parts) {
            gdp[*i] = v;
        }
    }
    let va = share(
        PRIMARY_VA_YI * 1e4,
        &farmland
            .iter()
            .map(|f| f * rng.range(0.7, 1.3) + 1.0)
            .collect::<Vec<_>>(),
    );
    // Tourism: 2020 prefecture totals split by GDP × a random weight (own generator, so that the
    // other sheets' draws are unchanged).
    let mut tourism_rng = Rng(SEED ^ 0x5EED_0001);
    let mut tourism = vec![(0.0, 0.0); counties.len()];
    for (pcode, visits, revenue) in PREFECTURE_TOURISM_2020 {
        let idx: Vec<usize> = (0..counties.len())
            .filter(|i| &counties[*i].prefecture_code == pcode)
            .collect();
        let weights: Vec<f64> = idx
            .iter()
            .map(|i| gdp[*i] * tourism_rng.range(0.3, 1.7))
            .collect();
        for ((i, v), r) in idx
            .iter()
            .zip(share(*visits, &weights))
            .zip(share(*revenue, &weights))
        {
            tourism[*i] = (v, r);
        }
    }
    let econ_cells: Vec<Vec<f64>> = (0..counties.len())
        .map(|i| {
            let mut row = vec![round2(pop[i] / 1e4), round2(gdp[i])];
            let no_fishery = counties[i].name.ends_with('区') && rng.next() < 0.5;
            let products: Vec<f64> = PRODUCT_SHARES
                .iter()
                .enumerate()
                .map(|(k, s)| {
                    if k == 3 && no_fishery {
                        0.0
                    } else {
                        va[i] * s * rng.range(0.7, 1.3)
                    }
                })
                .collect();
            row.extend(products.iter().map(|p| round2(p * GROSS_TO_VA)));
            row.extend(products.iter().map(|p| round2(*p)));
            row.push(round2(tourism[i].1));
            row.push(round2(tourism[i].0));
            row
        })
        .collect();
    write_blocks(ws, 2, &counties, &prefectures, &econ_cells)?;

    // ---- 环境: emissions for GEEP. SYNTHETIC and NOT calibrated: no published Shanxi county or
    // province emission totals are in shared/reference; totals below are round illustrative numbers.
    let ws = wb.add_worksheet().set_name("环境")?;
    let headers = [
        "区划代码",
        "县(市、区)",
        "二氧化硫(吨)",
        "氮氧化物(吨)",
        "颗粒物(吨)",
        "化学需氧量(吨)",
        "氨氮(吨)",
        "资源耗减成本(万元)",
    ];
    title(
        ws,
        "2021年山西省各县(市、区)主要污染物排放（合成演示数据，未校准）",
        headers.len() as u16,
    )?;
    for (k, h) in headers.iter().enumerate() {
        ws.write_string_with_format(1, k as u16, *h, &head)?;
    }
    const EMISSION_TOTALS_T: [f64; 5] = [150_000.0, 350_000.0, 300_000.0, 600_000.0, 30_000.0];
    let env_cells: Vec<Vec<f64>> = {
        let weights: Vec<f64> = gdp.iter().map(|g| g * rng.range(0.5, 1.5)).collect();
        let per_item: Vec<Vec<f64>> = EMISSION_TOTALS_T
            .iter()
            .map(|t| share(*t, &weights))
            .collect();
        let depletion = share(50.0e4, &weights);
        (0..counties.len())
            .map(|i| {
                let mut row: Vec<f64> = per_item.iter().map(|v| round2(v[i])).collect();
                row.push(round2(depletion[i]));
                row
            })
            .collect()
    };
    write_blocks(ws, 2, &counties, &prefectures, &env_cells)?;

    // ---- 实物量: county soil retention as a RUSLE model would give it. SYNTHETIC: the provincial
    // total 6.52 × 10⁹ t (RUSLE-SX) split by county area × a random weight.
    let ws = wb.add_worksheet().set_name("实物量")?;
    let headers = ["区划代码", "县(市、区)", "指标", "实物量", "单位", "来源"];
    title(
        ws,
        "2021年山西省各县(市、区)模型实物量（合成演示数据）",
        headers.len() as u16,
    )?;
    for (k, h) in headers.iter().enumerate() {
        ws.write_string_with_format(1, k as u16, *h, &head)?;
    }
    let mut soil_rng = Rng(SEED ^ 0x5EED_0002);
    let soil = share(
        SOIL_RETENTION_T / 1e4,
        &counties
            .iter()
            .map(|c| c.area_km2 * soil_rng.range(0.3, 1.7))
            .collect::<Vec<_>>(),
    );
    for (k, (c, t)) in counties.iter().zip(&soil).enumerate() {
        let r = 2 + k as u32;
        ws.write_string(r, 0, &c.code)?;
        ws.write_string(r, 1, &c.name)?;
        ws.write_string(r, 2, "土壤保持")?;
        ws.write_number(r, 3, round2(*t))?;
        ws.write_string(r, 4, "万吨")?;
        ws.write_string(r, 5, "合成演示：按 RUSLE-SX 全省 6.52×10⁹ t 校准")?;
    }
    ws.write_string(
        2 + counties.len() as u32,
        0,
        "注：本表为合成演示数据（synthetic），非模型结果、非官方统计。",
    )?;
    ws.set_freeze_panes(2, 2)?;

    std::fs::create_dir_all("fixtures/demo").ok();
    wb.save("fixtures/demo/shanxi-demo-2021.xlsx")?;
    println!(
        "wrote fixtures/demo/shanxi-demo-2021.xlsx ({} counties)",
        counties.len()
    );
    Ok(())
}

fn populations(counties: &[County], rng: &mut Rng) -> Vec<f64> {
    let known: BTreeMap<&str, f64> = COUNTY_POPULATION.iter().copied().collect();
    let mut pop = vec![0.0; counties.len()];
    for (pcode, total) in PREFECTURE_POPULATION {
        let idx: Vec<usize> = (0..counties.len())
            .filter(|i| &counties[*i].prefecture_code == pcode)
            .collect();
        let fixed: f64 = idx
            .iter()
            .filter_map(|i| known.get(counties[*i].code.as_str()))
            .sum();
        let free: Vec<usize> = idx
            .iter()
            .copied()
            .filter(|i| !known.contains_key(counties[*i].code.as_str()))
            .collect();
        let parts = share(
            total - fixed,
            &free
                .iter()
                .map(|i| {
                    let urban = if counties[*i].name.ends_with('区') {
                        2.5
                    } else {
                        1.0
                    };
                    counties[*i].area_km2.sqrt() * urban * rng.range(0.7, 1.3)
                })
                .collect::<Vec<_>>(),
        );
        for (i, p) in free.iter().zip(parts) {
            pop[*i] = p.round();
        }
        for i in idx {
            if let Some(p) = known.get(counties[i].code.as_str()) {
                pop[i] = *p;
            }
        }
    }
    pop
}

/// Writes 全省 first, then each prefecture's subtotal row and its counties; a footnote at the end.
fn write_blocks(
    ws: &mut Worksheet,
    first_row: u32,
    counties: &[County],
    prefectures: &[(String, String)],
    cells: &[Vec<f64>],
) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    let width = cells.first().map_or(0, Vec::len);
    let sum = |idx: &[usize], k: usize| round2(idx.iter().map(|i| cells[*i][k]).sum());
    let all: Vec<usize> = (0..counties.len()).collect();
    let mut r = first_row;
    ws.write_string_with_format(r, 0, "140000", &bold)?;
    ws.write_string_with_format(r, 1, "全省合计", &bold)?;
    for k in 0..width {
        ws.write_number_with_format(r, 2 + k as u16, sum(&all, k), &bold)?;
    }
    r += 1;
    for (pcode, pname) in prefectures {
        let idx: Vec<usize> = (0..counties.len())
            .filter(|i| &counties[*i].prefecture_code == pcode)
            .collect();
        ws.write_string_with_format(r, 0, pcode, &bold)?;
        ws.write_string_with_format(r, 1, pname, &bold)?;
        for k in 0..width {
            ws.write_number_with_format(r, 2 + k as u16, sum(&idx, k), &bold)?;
        }
        r += 1;
        for i in idx {
            ws.write_string(r, 0, &counties[i].code)?;
            ws.write_string(r, 1, &counties[i].name)?;
            for (k, v) in cells[i].iter().enumerate() {
                ws.write_number(r, 2 + k as u16, *v)?;
            }
            r += 1;
        }
    }
    ws.write_string(
        r,
        0,
        "注：本表为合成演示数据（synthetic），各县数值随机生成并按公开的全省总量校准，非官方统计。",
    )?;
    ws.set_freeze_panes(first_row, 2)?;
    Ok(())
}
