//! `gep template`: the blank workbook, filled with the demo data, passes `gep check` and gives
//! the demo accounts.

use std::collections::HashMap;

use calamine::{Data, Reader, Xlsx, open_workbook};

use crate::util::*;

fn code_of(row: &[Data]) -> Option<String> {
    match row.first() {
        Some(Data::String(c))
            if c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()) && !c.ends_with("00") =>
        {
            Some(c.clone())
        }
        _ => None,
    }
}

#[test]
fn a_filled_template_round_trips() {
    let dir = workdir("template_round_trip");
    let out = gep(&dir, &["template", "--year", "2021", "--out", "blank.xlsx"]);
    assert!(out.status.success(), "{}", text(&out).1);

    // The blank template: every sheet, counties prefilled, protection and validation present.
    let mut wb: Xlsx<_> = open_workbook(dir.join("blank.xlsx")).unwrap();
    assert_eq!(
        wb.sheet_names(),
        [
            "填表说明",
            "代码表",
            "土地利用",
            "森林资源",
            "森林资源(上年)",
            "供水",
            "经济社会",
            "环境",
            "气象",
            "实物量",
            "土地转移"
        ]
    );
    let econ = wb.worksheet_range("经济社会").unwrap();
    let cell = |r: u32, c: u32| econ.get_value((r, c)).cloned();
    assert_eq!(cell(2, 0), Some(Data::String("单位".into())), "units row");
    assert_eq!(cell(2, 2), Some(Data::String("万人".into())));
    assert_eq!(cell(3, 0), Some(Data::String("140105".into())));
    assert_eq!(cell(119, 0), Some(Data::String("141182".into())));
    let sheet_xml = {
        let mut zip =
            zip::ZipArchive::new(std::fs::File::open(dir.join("blank.xlsx")).unwrap()).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut zip.by_name("xl/worksheets/sheet3.xml").unwrap(),
            &mut text,
        )
        .unwrap();
        text
    };
    assert!(
        sheet_xml.contains("<sheetProtection"),
        "header rows protected"
    );
    assert!(sheet_xml.contains("type=\"list\""), "land-class dropdown");
    assert!(sheet_xml.contains("type=\"decimal\""), "numbers ≥ 0");

    // Fill it with the demo data.
    let mut demo = Book::demo();
    let mut t = Book::open(&dir.join("blank.xlsx"));
    let land = demo.sheet("土地利用").clone();
    let mut by_class: HashMap<(String, String), f64> = HashMap::new();
    let mut parent = String::new();
    for c in 2..land[1].len() {
        if let Data::String(p) = &land[1][c] {
            parent = p.clone();
        }
        let leaf = match &land[2][c] {
            Data::String(l) => l.clone(),
            _ => parent.clone(),
        };
        for row in &land {
            if let (Some(code), Some(Data::Float(v))) = (code_of(row), row.get(c)) {
                by_class.insert((code, leaf.clone()), *v);
            }
        }
    }
    let rows = t.sheet("土地利用").len();
    for r in 3..rows {
        let row = t.sheet("土地利用")[r].clone();
        if let (Some(code), Some(Data::String(class))) = (code_of(&row), row.get(2)) {
            let v = by_class[&(code, class.clone())];
            t.set("土地利用", r, 3, Data::Float(v));
        }
    }
    for sheet in ["森林资源", "森林资源(上年)"] {
        let rows: Vec<Vec<Data>> = demo
            .sheet(sheet)
            .iter()
            .filter(|r| code_of(r).is_some())
            .cloned()
            .collect();
        for (i, row) in rows.into_iter().enumerate() {
            for (c, v) in row.into_iter().enumerate() {
                t.set(sheet, 3 + i, c, v);
            }
        }
    }
    // Wide sheets: each template column filled from the demo column of the same name, whatever
    // the order, converted from the demo's unit (亿元) to the template's (万元).
    for sheet in ["供水", "经济社会", "环境"] {
        let demo_rows = demo.sheet(sheet).clone();
        let demo_columns = column_names(&demo_rows);
        let template_rows = t.sheet(sheet).clone();
        let template_columns = column_names(&template_rows);
        let source: HashMap<String, Vec<Data>> = demo_rows
            .iter()
            .filter_map(|r| code_of(r).map(|c| (c, r.clone())))
            .collect();
        for (tc, (name, unit)) in template_columns.iter().enumerate().skip(2) {
            let Some(dc) = demo_columns.iter().position(|(n, _)| n == name) else {
                continue; // a column the demo does not have (总磷, 采煤沉陷面积, 水库总库容)
            };
            let demo_unit = demo_columns[dc].1.as_str();
            let factor = match (demo_unit, unit.as_str()) {
                (a, b) if a == b || a.is_empty() => 1.0,
                ("亿元", "万元") => 1e4,
                other => panic!("{sheet} {name}: units {other:?}"),
            };
            for (r, row) in template_rows.iter().enumerate().skip(3) {
                let Some(code) = code_of(row) else {
                    continue;
                };
                if let Some(Data::Float(v)) = source[&code].get(dc) {
                    t.set(sheet, r, tc, Data::Float(v * factor));
                }
            }
        }
    }
    // 实物量: the demo's rows as they are (long form, unit in the row).
    let physical: Vec<Vec<Data>> = demo
        .sheet("实物量")
        .iter()
        .filter(|r| code_of(r).is_some())
        .cloned()
        .collect();
    for (i, row) in physical.into_iter().enumerate() {
        for (c, v) in row.into_iter().enumerate() {
            t.set("实物量", 2 + i, c, v);
        }
    }
    t.save(&dir.join("filled.xlsx"));
    let check = gep(&dir, &["check", "filled.xlsx"]);
    assert!(check.status.success(), "{}", text(&check).1);
    let run = gep(
        &dir,
        &[
            "run",
            "--data",
            "filled.xlsx",
            "--out",
            "book.xlsx",
            "--csv",
            "csv",
        ],
    );
    assert!(run.status.success(), "{}", text(&run).1);
    assert_same_accounts(
        &dir.join("csv/accounts.csv"),
        &root().join("fixtures/demo/expected/accounts.csv"),
        1e-9,
    );
}

/// Each column's name and unit, from the header rows above the first county row: the last
/// name given in the column (a second header row names the parts of a merged group), with a
/// unit in brackets split off, or the unit from a units row (`单位` in column A).
fn column_names(rows: &[Vec<Data>]) -> Vec<(String, String)> {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = vec![(String::new(), String::new()); width];
    let is_code = |r: &Vec<Data>| matches!(r.first(), Some(Data::String(c)) if c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()));
    for row in rows.iter().take_while(|r| !is_code(r)) {
        let units_row = matches!(row.first(), Some(Data::String(s)) if s == "单位");
        for (c, cell) in row.iter().enumerate() {
            let Data::String(text) = cell else { continue };
            if units_row {
                out[c].1 = text.clone();
            } else if let Some((name, unit)) = text.split_once('(') {
                out[c] = (name.to_string(), unit.trim_end_matches(')').to_string());
            } else if !text.starts_with("单位") && !text.contains('年') {
                out[c].0 = text.clone();
            }
        }
    }
    out
}
