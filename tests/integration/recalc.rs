//! The book opened and recalculated by LibreOffice (headless) gives the cached values: every
//! formula's cached result is what a spreadsheet computes. Without soffice the test FAILS (it never
//! passes unseen); `scripts/test.sh` installs LibreOffice, `GEP_SKIP_RECALC=1` opts out by hand.

use std::path::{Path, PathBuf};

use calamine::{Data, Reader, Xlsx, open_workbook};

use crate::util::*;

/// Converts `book` with LibreOffice, recalculating every formula on load. Panics without soffice
/// unless `GEP_SKIP_RECALC=1` asks to skip (then `None`, said on stderr).
fn recalculated(book: &Path, dir: &Path) -> Option<PathBuf> {
    let soffice = required_tool(&["soffice", "libreoffice"], "soffice (LibreOffice)")?;
    let profile = dir.join("lo-profile");
    std::fs::create_dir_all(profile.join("user")).unwrap();
    std::fs::write(
        profile.join("user/registrymodifications.xcu"),
        r#"<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"#,
    )
    .unwrap();
    Some(soffice_convert(
        soffice,
        &profile,
        book,
        "xlsx",
        &dir.join("recalculated"),
    ))
}

fn numbers(path: &Path) -> Vec<(String, u32, u32, f64)> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let mut out = Vec::new();
    for sheet in wb.sheet_names() {
        let range = wb.worksheet_range(&sheet).unwrap();
        for (r, c, d) in range.used_cells() {
            if let Data::Float(v) = d {
                let (r0, c0) = range.start().unwrap();
                out.push((sheet.clone(), r as u32 + r0, c as u32 + c0, *v));
            }
        }
    }
    out
}

#[test]
fn libreoffice_recalculation_gives_the_cached_values() {
    let dir = workdir("recalc");
    // Control: a formula with a wrong cached result must come back corrected (LibreOffice recalculated).
    let mut control = rust_xlsxwriter::Workbook::new();
    control
        .add_worksheet()
        .write_formula(0, 0, rust_xlsxwriter::Formula::new("=1+1").set_result("5"))
        .unwrap();
    control.save(dir.join("control.xlsx")).unwrap();
    let Some(control) = recalculated(&dir.join("control.xlsx"), &dir) else {
        return;
    };
    assert_eq!(
        numbers(&control)[0].3,
        2.0,
        "LibreOffice did not recalculate on load"
    );

    let out = gep(&dir, &["run", "--budget", "5亿", "--out", "book.xlsx"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let compared = same_after_recalculation(&dir.join("book.xlsx"), &dir);
    assert!(compared > 20_000, "{compared} numeric cells compared");
}

/// Every cached number of `book` equals LibreOffice's recalculation; returns how many were compared.
pub fn same_after_recalculation(book: &Path, dir: &Path) -> usize {
    let Some(recalc) = recalculated(book, dir) else {
        return usize::MAX;
    };
    let cached = numbers(book);
    let computed: std::collections::HashMap<(String, u32, u32), f64> = numbers(&recalc)
        .into_iter()
        .map(|(s, r, c, v)| ((s, r, c), v))
        .collect();
    let mut compared = 0;
    for (sheet, r, c, v) in &cached {
        let got = computed.get(&(sheet.clone(), *r, *c)).unwrap_or_else(|| {
            panic!(
                "{sheet}!{} missing after recalculation",
                gep::error::a1(*r, *c as u16)
            )
        });
        assert!(
            close(*v, *got, 1e-9) || (v - got).abs() < 1e-6,
            "{sheet}!{}: cached {v}, LibreOffice {got}",
            gep::error::a1(*r, *c as u16)
        );
        compared += 1;
    }
    compared
}

/// A run whose valuation lines outgrow one sheet continues on 明细 (2), 明细 (3) … and the SUMIFS
/// of 实物量 and 价值量 span them: recalculated by LibreOffice, every number is the same. The row
/// limit (1,048,573 lines a sheet) is lowered for the test (debug builds only).
#[test]
fn lines_beyond_one_sheet_continue_on_more_sheets_and_the_formulas_span_them() {
    let dir = workdir("recalc_split");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gep"))
        .args(["run", "--out", "book.xlsx", "--csv", "csv"])
        .current_dir(&dir)
        .env("GEP_TEST_LINES_PER_SHEET", "2000")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    let (_, rows) = read_csv(&dir.join("csv/lines.csv"));
    let mut wb: Xlsx<_> = open_workbook(dir.join("book.xlsx")).unwrap();
    let sheets: Vec<String> = wb
        .sheet_names()
        .into_iter()
        .filter(|n| n.starts_with("明细"))
        .collect();
    assert_eq!(sheets.len(), rows.len().div_ceil(2000), "{sheets:?}");
    assert_eq!(sheets[1], "明细 (2)");
    let mut written = 0;
    for name in &sheets {
        let range = wb.worksheet_range(name).unwrap();
        written += (3..range.height())
            .filter(|&r| matches!(range.get((r, 0)), Some(Data::String(_))))
            .count();
    }
    assert_eq!(written, rows.len(), "every line on exactly one sheet");
    let compared = same_after_recalculation(&dir.join("book.xlsx"), &dir);
    assert!(compared > 20_000, "{compared} numeric cells compared");
    // The same accounts as one sheet gives.
    let single = gep(&dir, &["run", "--out", "single.xlsx"]);
    assert!(single.status.success());
    let value = |book: &str| {
        let mut wb: Xlsx<_> = open_workbook(dir.join(book)).unwrap();
        numbers_of(&mut wb, "价值量")
    };
    assert_eq!(value("book.xlsx"), value("single.xlsx"));
}

fn numbers_of(
    wb: &mut Xlsx<std::io::BufReader<std::fs::File>>,
    sheet: &str,
) -> Vec<(u32, u32, f64)> {
    let range = wb.worksheet_range(sheet).unwrap();
    range
        .used_cells()
        .filter_map(|(r, c, d)| match d {
            Data::Float(v) => Some((r as u32, c as u32, *v)),
            _ => None,
        })
        .collect()
}
