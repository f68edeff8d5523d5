//! Generates the layout corpus `fixtures/layouts/` from the demo workbook: the same SYNTHETIC
//! data laid out the ways statistics bureaus lay out their tables. Every file must give accounts
//! identical (relative 1e-9) to the demo workbook (tests/integration/layouts.rs).
//!
//! Run `fixtures/layouts/make.sh` (this example, then LibreOffice for the .xls and .ods copies).

// Grids are indexed by row and column at once; iterator forms would hide the layout.
#![allow(clippy::needless_range_loop)]

use calamine::{Data, Reader, Xlsx, open_workbook};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

const DEMO: &str = "fixtures/demo/shanxi-demo-2021.xlsx";
const OUT: &str = "fixtures/layouts";

#[derive(Clone)]
struct Col {
    parent: Option<String>,
    leaf: String,
    english: String,
    unit: &'static str,
    values: Vec<f64>,
}

#[derive(Clone)]
struct Table {
    kind: &'static str,
    sheet: &'static str,
    english_sheet: &'static str,
    title: String,
    year: i32,
    codes: Vec<String>,
    names: Vec<String>,
    types: Option<Vec<String>>,
    cols: Vec<Col>,
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.trim().to_string(),
        Data::Float(f) => format!("{f}"),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

fn num(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        _ => 0.0,
    }
}

fn english(leaf: &str) -> &'static str {
    match leaf {
        "水田" => "Paddy field",
        "水浇地" => "Irrigated land",
        "旱地" => "Dry land",
        "园地" => "Garden land",
        "乔木林地" => "Arbor forest",
        "灌木林地" => "Shrubland",
        "其他林地" => "Other forest land",
        "天然牧草地" => "Natural grassland",
        "人工牧草地" => "Artificial grassland",
        "其他草地" => "Other grassland",
        "湿地" => "Wetland",
        "城镇村及工矿用地" => "Built-up land",
        "交通运输用地" => "Transport land",
        "水域及水利设施用地" => "Water area",
        "其他土地" => "Other land",
        "地表水" => "Surface water",
        "地下水" => "Groundwater",
        "其他" => "Other sources",
        "农业" => "Agriculture",
        "工业" => "Industry",
        "生活" => "Household",
        "生态" => "Ecology",
        "常住人口" => "Population",
        "地区生产总值" => "GDP",
        "旅游总收入" => "Tourism revenue",
        "接待游客" => "Tourist visits",
        "农业总产值" => "Agriculture output",
        "林业总产值" => "Forestry output",
        "牧业总产值" => "Husbandry output",
        "渔业总产值" => "Fishery output",
        "农业增加值" => "Agriculture value added",
        "林业增加值" => "Forestry value added",
        "牧业增加值" => "Husbandry value added",
        "渔业增加值" => "Fishery value added",
        "面积" => "Area",
        "蓄积量" => "Stock volume",
        "年生长量" => "Annual growth",
        _ => "?",
    }
}

fn county_rows(grid: &[Vec<Data>], first: usize) -> Vec<usize> {
    (first..grid.len())
        .filter(|&r| {
            let c = text(&grid[r][0]);
            c.len() == 6 && c.chars().all(|x| x.is_ascii_digit()) && !c.ends_with("00")
        })
        .collect()
}

fn read_demo() -> Vec<Table> {
    let mut wb: Xlsx<_> = open_workbook(DEMO).expect("run from the repository root");
    let grid = |wb: &mut Xlsx<_>, name: &str| -> Vec<Vec<Data>> {
        let r = wb.worksheet_range(name).unwrap();
        let (h, w) = (
            r.end().unwrap().0 as usize + 1,
            r.end().unwrap().1 as usize + 1,
        );
        (0..h)
            .map(|i| {
                (0..w)
                    .map(|j| {
                        r.get_value((i as u32, j as u32))
                            .cloned()
                            .unwrap_or(Data::Empty)
                    })
                    .collect()
            })
            .collect()
    };
    let mut tables = Vec::new();
    // 土地利用: header rows 1-2, units row 3.
    let g = grid(&mut wb, "土地利用");
    let rows = county_rows(&g, 4);
    let mut parent = String::new();
    let mut cols = Vec::new();
    for c in 2..g[1].len() {
        let top = text(&g[1][c]);
        if !top.is_empty() {
            parent = top.clone();
        }
        let sub = text(&g[2][c]);
        let (leaf, par) = if sub.is_empty() {
            (top.clone(), None)
        } else {
            (sub, Some(parent.clone()))
        };
        cols.push(Col {
            english: english(&leaf).into(),
            parent: par,
            leaf,
            unit: "公顷",
            values: rows.iter().map(|&r| num(&g[r][c])).collect(),
        });
    }
    tables.push(Table {
        kind: "land",
        sheet: "土地利用",
        english_sheet: "land_cover",
        title: "山西省各县(市、区)土地利用现状".into(),
        year: 2021,
        codes: rows.iter().map(|&r| text(&g[r][0])).collect(),
        names: rows.iter().map(|&r| text(&g[r][1])).collect(),
        types: None,
        cols,
    });
    for (sheet, english_sheet, year) in [
        ("森林资源", "forest_stock", 2021),
        ("森林资源(上年)", "forest_stock_previous", 2020),
    ] {
        let g = grid(&mut wb, sheet);
        let rows = county_rows(&g, 2);
        let specs: &[(&str, &'static str, usize)] = if year == 2021 {
            &[
                ("面积", "公顷", 3),
                ("蓄积量", "m³", 4),
                ("年生长量", "m³", 5),
            ]
        } else {
            &[("面积", "公顷", 3), ("蓄积量", "m³", 4)]
        };
        let cols = specs
            .iter()
            .map(|(leaf, unit, c)| Col {
                parent: None,
                leaf: (*leaf).into(),
                english: english(leaf).into(),
                unit,
                values: rows.iter().map(|&r| num(&g[r][*c])).collect(),
            })
            .collect();
        tables.push(Table {
            kind: if year == 2021 {
                "forest"
            } else {
                "forest_prev"
            },
            sheet,
            english_sheet,
            title: "山西省各县(市、区)乔木林分优势树种组面积与蓄积".into(),
            year,
            codes: rows.iter().map(|&r| text(&g[r][0])).collect(),
            names: rows.iter().map(|&r| text(&g[r][1])).collect(),
            types: Some(rows.iter().map(|&r| text(&g[r][2])).collect()),
            cols,
        });
    }
    let g = grid(&mut wb, "供水");
    let rows = county_rows(&g, 4);
    let cols = (2..9)
        .map(|c| {
            let leaf = text(&g[3][c]);
            Col {
                parent: Some(if c < 5 {
                    "供水量".into()
                } else {
                    "用水量".into()
                }),
                english: english(&leaf).into(),
                leaf,
                unit: "万m³",
                values: rows.iter().map(|&r| num(&g[r][c])).collect(),
            }
        })
        .collect();
    tables.push(Table {
        kind: "water",
        sheet: "供水",
        english_sheet: "water_supply",
        title: "山西省各县(市、区)供水量与用水量".into(),
        year: 2021,
        codes: rows.iter().map(|&r| text(&g[r][0])).collect(),
        names: rows.iter().map(|&r| text(&g[r][1])).collect(),
        types: None,
        cols,
    });
    let g = grid(&mut wb, "经济社会");
    let rows = county_rows(&g, 2);
    let cols = (2..g[1].len())
        .map(|c| {
            let header = text(&g[1][c]);
            let (leaf, unit) = header.split_once('(').unwrap();
            let unit: &'static str = match unit.trim_end_matches(')') {
                "万人" => "万人",
                "万人次" => "万人次",
                "亿元" => "亿元",
                _ => "万元",
            };
            Col {
                parent: None,
                leaf: leaf.into(),
                english: english(leaf).into(),
                unit,
                values: rows.iter().map(|&r| num(&g[r][c])).collect(),
            }
        })
        .collect();
    tables.push(Table {
        kind: "economy",
        sheet: "经济社会",
        english_sheet: "economy",
        title: "山西省各县(市、区)主要经济社会指标".into(),
        year: 2021,
        codes: rows.iter().map(|&r| text(&g[r][0])).collect(),
        names: rows.iter().map(|&r| text(&g[r][1])).collect(),
        types: None,
        cols,
    });
    tables
}

fn factor(unit: &str) -> f64 {
    match unit {
        "公顷" | "ha" | "m³" | "m3" | "人" | "人次" | "persons" | "元" | "yuan" => 1.0,
        "万亩" => 1e4 / 15.0,
        "亩" => 1.0 / 15.0,
        "km²" => 100.0,
        "万m³" | "万人" | "万人次" | "万元" => 1e4,
        "亿m³" | "亿元" => 1e8,
        other => panic!("unit {other}"),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Units {
    Header,
    Row,
    SheetWide,
}

#[derive(Clone, Copy, PartialEq)]
enum Subtotals {
    None,
    Before,
    AfterAndEnd,
}

#[derive(Clone)]
struct Style {
    title_rows: usize,
    year_cell: bool,
    two_row: bool,
    units: Units,
    unit_for: fn(&str, &str, usize) -> Option<&'static str>,
    text_numbers: bool,
    placeholders: bool,
    subtotals: Subtotals,
    reverse: bool,
    english: bool,
    sheet_suffix: fn(&str) -> String,
    long_land: bool,
    footnotes: bool,
}

fn base_style() -> Style {
    Style {
        title_rows: 1,
        year_cell: false,
        two_row: false,
        units: Units::Header,
        unit_for: |_, _, _| None,
        text_numbers: false,
        placeholders: false,
        subtotals: Subtotals::None,
        reverse: false,
        english: false,
        sheet_suffix: |s| s.to_string(),
        long_land: false,
        footnotes: false,
    }
}

fn with_commas(v: f64) -> String {
    let s = format!("{v}");
    let (int, frac) = s
        .split_once('.')
        .map_or((s.as_str(), None), |(a, b)| (a, Some(b)));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!(
        "{sign}{out}{}",
        frac.map(|f| format!(".{f}")).unwrap_or_default()
    )
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_digit() || c == '.' {
                char::from_u32(c as u32 + 0xFEE0).unwrap()
            } else {
                c
            }
        })
        .collect()
}

fn write_value(
    ws: &mut Worksheet,
    r: u32,
    c: u16,
    v: f64,
    style: &Style,
    row_index: usize,
) -> Result<(), XlsxError> {
    if style.placeholders && v == 0.0 {
        ws.write_string(
            r,
            c,
            if row_index.is_multiple_of(2) {
                "—"
            } else {
                "/"
            },
        )?;
    } else if style.text_numbers {
        let t = with_commas(v);
        ws.write_string(
            r,
            c,
            if row_index.is_multiple_of(3) {
                full_width(&t)
            } else {
                t
            },
        )?;
    } else {
        ws.write_number(r, c, v)?;
    }
    Ok(())
}

fn write_table(
    wb: &mut Workbook,
    t: &Table,
    style: &Style,
    prefectures: &[(String, String)],
) -> Result<(), XlsxError> {
    let name = if style.english {
        t.english_sheet.to_string()
    } else {
        (style.sheet_suffix)(t.sheet)
    };
    let ws = wb.add_worksheet().set_name(&name)?;
    let bold = Format::new().set_bold();
    let mut r = 0u32;
    for i in 0..style.title_rows {
        let title = match (i, style.english) {
            (0, false) => format!("{}年{}（合成演示数据，非官方统计）", t.year, t.title),
            (0, true) => format!(
                "Shanxi {} by county (synthetic demonstration data)",
                t.english_sheet
            ),
            (1, _) => "资料来源：合成演示数据 (examples/make_demo.rs)".into(),
            _ => "制表单位：演示".into(),
        };
        ws.write_string(r, 0, &title)?;
        r += 1;
    }
    if style.year_cell || style.english {
        ws.write_string(r, 0, if style.english { "Year:" } else { "年份" })?;
        ws.write_number(r, 1, f64::from(t.year))?;
        r += 1;
    }
    let mut cols: Vec<(usize, &Col)> = t.cols.iter().enumerate().collect();
    if style.reverse {
        cols.reverse();
    }
    let units: Vec<&'static str> = cols
        .iter()
        .map(|(i, c)| (style.unit_for)(t.kind, &c.leaf, *i).unwrap_or(c.unit))
        .collect();
    if style.units == Units::SheetWide {
        ws.write_string(r, 3, format!("单位：{}", units[0]))?;
        r += 1;
    }
    // Key columns.
    let (code_c, name_c) = if style.reverse { (1u16, 0u16) } else { (0, 1) };
    let key_headers: Vec<&str> = if style.english {
        vec!["Code", "County", "Forest type"]
    } else {
        vec!["区划代码", "县(市、区)", "优势树种组"]
    };
    let first_value_col: u16 = if t.types.is_some() { 3 } else { 2 };
    let header_rows = if style.two_row { 2 } else { 1 };
    ws.write_string_with_format(r, code_c, key_headers[0], &bold)?;
    ws.write_string_with_format(r, name_c, key_headers[1], &bold)?;
    if t.types.is_some() {
        ws.write_string_with_format(r, 2, key_headers[2], &bold)?;
    }
    if style.long_land && t.kind == "land" {
        ws.write_string_with_format(r, 2, "地类", &bold)?;
        ws.write_string_with_format(r, 3, format!("面积({})", units[0]), &bold)?;
        r += 1;
        for (i, code) in t.codes.iter().enumerate() {
            for (k, (_, col)) in cols.iter().enumerate() {
                ws.write_string(r, code_c, code)?;
                ws.write_string(r, name_c, &t.names[i])?;
                ws.write_string(r, 2, &col.leaf)?;
                write_value(
                    ws,
                    r,
                    3,
                    col.values[i] / factor(units[k]) * factor(col.unit),
                    style,
                    i,
                )?;
                r += 1;
            }
        }
        return Ok(());
    }
    let mut last_parent: Option<String> = None;
    for (k, (_, col)) in cols.iter().enumerate() {
        let c = first_value_col + k as u16;
        let label = if style.english {
            col.english.clone()
        } else {
            col.leaf.clone()
        };
        let label = if style.units == Units::Header {
            format!("{label}({})", units[k])
        } else {
            label
        };
        if style.two_row {
            match &col.parent {
                Some(p) => {
                    if last_parent.as_ref() != Some(p) {
                        ws.write_string_with_format(r, c, p, &bold)?;
                    }
                    ws.write_string_with_format(r + 1, c, &label, &bold)?;
                }
                None => {
                    ws.merge_range(r, c, r + 1, c, &label, &bold)?;
                }
            }
            last_parent = col.parent.clone();
        } else {
            ws.write_string_with_format(r, c, &label, &bold)?;
        }
    }
    r += header_rows;
    if style.units == Units::Row {
        ws.write_string(r, 0, "单位")?;
        for k in 0..cols.len() {
            ws.write_string(r, first_value_col + k as u16, units[k])?;
        }
        r += 1;
    }
    let write_row = |ws: &mut Worksheet,
                     r: u32,
                     code: &str,
                     name: &str,
                     ty: Option<&str>,
                     values: &[f64],
                     i: usize|
     -> Result<(), XlsxError> {
        if style.text_numbers && i.is_multiple_of(2) {
            ws.write_number(r, code_c, code.parse::<f64>().unwrap())?;
        } else {
            ws.write_string(r, code_c, code)?;
        }
        ws.write_string(r, name_c, name)?;
        if let Some(ty) = ty {
            ws.write_string(r, 2, ty)?;
        }
        for (k, v) in values.iter().enumerate() {
            write_value(ws, r, first_value_col + k as u16, *v, style, i)?;
        }
        Ok(())
    };
    let converted = |i: usize| -> Vec<f64> {
        cols.iter()
            .enumerate()
            .map(|(k, (_, c))| c.values[i] * factor(c.unit) / factor(units[k]))
            .collect()
    };
    let sums = |idx: &[usize]| -> Vec<f64> {
        let mut s = vec![0.0; cols.len()];
        for &i in idx {
            for (k, v) in converted(i).iter().enumerate() {
                s[k] += v;
            }
        }
        s
    };
    let all: Vec<usize> = (0..t.codes.len()).collect();
    if style.subtotals == Subtotals::Before && t.types.is_none() {
        write_row(ws, r, "140000", "全省合计", None, &sums(&all), 1)?;
        r += 1;
    }
    for (pcode, pname) in prefectures {
        let idx: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&i| t.codes[i][..4] == pcode[..4])
            .collect();
        if idx.is_empty() {
            continue;
        }
        if style.subtotals == Subtotals::Before && t.types.is_none() {
            write_row(ws, r, pcode, pname, None, &sums(&idx), 1)?;
            r += 1;
        }
        for (n, &i) in idx.iter().enumerate() {
            write_row(
                ws,
                r,
                &t.codes[i],
                &t.names[i],
                t.types.as_ref().map(|x| x[i].as_str()),
                &converted(i),
                i,
            )?;
            r += 1;
            if style.subtotals == Subtotals::AfterAndEnd && n == idx.len() / 2 && t.types.is_none()
            {
                // A 小计 row in the middle of a prefecture: labelled, without a code.
                ws.write_string(r, name_c, "小计")?;
                r += 1;
            }
        }
        if style.subtotals == Subtotals::AfterAndEnd && t.types.is_none() {
            write_row(ws, r, pcode, &format!("{pname}合计"), None, &sums(&idx), 1)?;
            r += 1;
        }
    }
    if style.subtotals == Subtotals::AfterAndEnd {
        ws.write_string(r, code_c, "合计")?;
        for (k, v) in sums(&all).iter().enumerate() {
            if t.types.is_none() || k < 2 {
                ws.write_number(r, first_value_col + k as u16, *v)?;
            }
        }
        r += 1;
    }
    if style.footnotes {
        ws.write_string(r, 0, "注：本表为合成演示数据，非官方统计。")?;
        ws.write_string(r + 1, 0, "说明：各县数值随机生成并按公开的全省总量校准。")?;
    }
    Ok(())
}

fn save(
    name: &str,
    tables: &[Table],
    style: &Style,
    prefectures: &[(String, String)],
) -> Result<(), XlsxError> {
    let mut wb = Workbook::new();
    wb.set_properties(
        &rust_xlsxwriter::DocProperties::new()
            .set_creation_datetime(&rust_xlsxwriter::ExcelDateTime::from_ymd(2022, 1, 1)?),
    );
    for t in tables {
        write_table(&mut wb, t, style, prefectures)?;
    }
    wb.save(format!("{OUT}/{name}"))?;
    println!("wrote {OUT}/{name}");
    Ok(())
}

/// Copies the demo's 环境 and 实物量 sheets, values only, into `supplementary/`: the layouts
/// carry the five core tables; these two come as a second `--data` file, as a bureau receives
/// emissions and model results from other offices.
fn write_supplementary() -> Result<(), XlsxError> {
    let mut demo: Xlsx<_> = open_workbook(DEMO).expect("run from the repository root");
    let mut wb = Workbook::new();
    for sheet in ["环境", "实物量"] {
        let range = demo.worksheet_range(sheet).unwrap();
        let ws = wb.add_worksheet().set_name(sheet)?;
        for (r, row) in range.rows().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    Data::Float(f) => {
                        ws.write_number(r as u32, c as u16, *f)?;
                    }
                    Data::Int(i) => {
                        ws.write_number(r as u32, c as u16, *i as f64)?;
                    }
                    Data::Empty => {}
                    other => {
                        ws.write_string(r as u32, c as u16, text(other))?;
                    }
                }
            }
        }
    }
    std::fs::create_dir_all(format!("{OUT}/supplementary")).unwrap();
    wb.save(format!("{OUT}/supplementary/environment-physical.xlsx"))
}

fn main() -> Result<(), XlsxError> {
    write_supplementary()?;
    let tables = read_demo();
    let regions = std::fs::read_to_string("coefficients/shanxi/regions.csv").unwrap();
    let mut prefectures: Vec<(String, String)> = Vec::new();
    for line in regions.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if !prefectures.iter().any(|(c, _)| c == f[2]) {
            prefectures.push((f[2].to_string(), f[3].to_string()));
        }
    }
    std::fs::create_dir_all(format!("{OUT}/by-prefecture")).unwrap();
    let b = base_style();
    save(
        "01-titles-footnotes.xlsx",
        &tables,
        &Style {
            title_rows: 3,
            year_cell: true,
            footnotes: true,
            ..b.clone()
        },
        &prefectures,
    )?;
    save(
        "02-merged-headers-units-row.xlsx",
        &tables,
        &Style {
            two_row: true,
            units: Units::Row,
            subtotals: Subtotals::Before,
            footnotes: true,
            ..b.clone()
        },
        &prefectures,
    )?;
    save(
        "03-units-wanmu-wanm3-yim3.xlsx",
        &tables,
        &Style {
            unit_for: |kind, leaf, _| match (kind, leaf) {
                ("land", _) => Some("万亩"),
                ("forest" | "forest_prev", "蓄积量" | "年生长量") => Some("万m³"),
                ("water", _) => Some("亿m³"),
                ("economy", "常住人口") => Some("人"),
                ("economy", "接待游客") => Some("人次"),
                ("economy", "地区生产总值") => Some("万元"),
                ("economy", _) => Some("元"),
                _ => None,
            },
            ..b.clone()
        },
        &prefectures,
    )?;
    save(
        "04-units-mu-km2-m3.xlsx",
        &tables,
        &Style {
            units: Units::Row,
            unit_for: |kind, _, i| match kind {
                "land" => Some(if i % 2 == 0 { "亩" } else { "km²" }),
                "water" => Some("m³"),
                _ => None,
            },
            ..b.clone()
        },
        &prefectures,
    )?;
    save(
        "05-text-numbers.xlsx",
        &tables,
        &Style {
            text_numbers: true,
            ..b.clone()
        },
        &prefectures,
    )?;
    save(
        "06-placeholders.xlsx",
        &tables,
        &Style {
            placeholders: true,
            ..b.clone()
        },
        &prefectures,
    )?;
    save(
        "07-subtotals-middle-and-end.xlsx",
        &tables,
        &Style {
            subtotals: Subtotals::AfterAndEnd,
            ..b.clone()
        },
        &prefectures,
    )?;
    save(
        "08-column-order.xlsx",
        &tables,
        &Style {
            reverse: true,
            ..b.clone()
        },
        &prefectures,
    )?;
    save(
        "09-english.xlsx",
        &tables,
        &Style {
            english: true,
            unit_for: |kind, leaf, _| match (kind, leaf) {
                ("land", _) | ("forest" | "forest_prev", "面积") => Some("ha"),
                ("forest" | "forest_prev", _) => Some("m3"),
                ("water", _) => Some("m3"),
                ("economy", "常住人口" | "接待游客") => Some("persons"),
                ("economy", _) => Some("yuan"),
                _ => None,
            },
            ..b.clone()
        },
        &prefectures,
    )?;
    save(
        "10-sheet-names.xlsx",
        &tables,
        &Style {
            sheet_suffix: |s| {
                if s.contains('(') {
                    s.replace('(', "（").replace(')', "）")
                } else {
                    format!("{s}  ")
                }
            },
            ..b.clone()
        },
        &prefectures,
    )?;
    save(
        "11-long-land.xlsx",
        &tables,
        &Style {
            long_land: true,
            ..b.clone()
        },
        &prefectures,
    )?;
    for (pcode, _) in &prefectures {
        let part: Vec<Table> = tables
            .iter()
            .map(|t| {
                let keep: Vec<usize> = (0..t.codes.len())
                    .filter(|&i| t.codes[i][..4] == pcode[..4])
                    .collect();
                Table {
                    codes: keep.iter().map(|&i| t.codes[i].clone()).collect(),
                    names: keep.iter().map(|&i| t.names[i].clone()).collect(),
                    types: t
                        .types
                        .as_ref()
                        .map(|ty| keep.iter().map(|&i| ty[i].clone()).collect()),
                    cols: t
                        .cols
                        .iter()
                        .map(|c| Col {
                            values: keep.iter().map(|&i| c.values[i]).collect(),
                            ..c.clone()
                        })
                        .collect(),
                    ..t.clone()
                }
            })
            .collect();
        save(
            &format!("by-prefecture/{}.xlsx", &pcode[..4]),
            &part,
            &Style {
                subtotals: Subtotals::Before,
                ..b.clone()
            },
            &prefectures,
        )?;
    }
    Ok(())
}
