//! `gep template`: the blank workbook, filled with the demo data, passes `gep check` and gives
//! the demo accounts.

use std::collections::HashMap;

use calamine::{Data, Reader, Xlsx, open_workbook};

use crate::util::*;

fn code_of(row: &[Data]) -> Option<String> {
    match row.first() {
        Some(Data::String(c)) if c.len() == 6 && !c.ends_with("00") => Some(c.clone()),
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
            "实物量"
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
    for (sheet, scale) in [
        ("供水", vec![1.0; 7]),
        (
            "经济社会",
            // …, 旅游总收入 亿元 → 万元, 接待游客 万人次 as is.
            vec![1.0, 1e4, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1e4, 1.0],
        ),
        ("环境", vec![1.0; 6]),
    ] {
        let source: HashMap<String, Vec<Data>> = demo
            .sheet(sheet)
            .iter()
            .filter_map(|r| code_of(r).map(|c| (c, r.clone())))
            .collect();
        let rows = t.sheet(sheet).len();
        for r in 3..rows {
            let Some(code) = code_of(&t.sheet(sheet)[r].clone()) else {
                continue;
            };
            for (k, factor) in scale.iter().enumerate() {
                if let Data::Float(v) = source[&code][2 + k] {
                    t.set(sheet, r, 2 + k, Data::Float(v * factor));
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
