//! Invalid inputs built inside the tests: each exits 1, names file, sheet and cell (or file and
//! line) and what was expected, and leaves no output file.

use calamine::{CellErrorType, Data, ExcelDateTime, ExcelDateTimeType};

use crate::util::*;

/// Saves `book` as `name` in a fresh folder, runs `gep run` on it, and checks the failure.
fn fails_with(test: &str, book: &Book, fragments: &[&str]) -> String {
    let dir = workdir(test);
    book.save(&dir.join("bad.xlsx"));
    let out = gep(&dir, &["run", "--data", "bad.xlsx", "--out", "out.xlsx"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{test}: {stderr}");
    for f in fragments {
        assert!(stderr.contains(f), "{test}: expected {f:?} in:\n{stderr}");
    }
    assert!(
        !dir.join("out.xlsx").exists(),
        "{test}: no book after a failure"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "{test}: only the input remains: {leftovers:?}"
    );
    stderr
}

fn s(text: &str) -> Data {
    Data::String(text.into())
}

#[test]
fn missing_sheet_is_named() {
    let mut b = Book::demo();
    b.remove("供水");
    fails_with("missing_sheet", &b, &["bad.xlsx: missing sheet 供水"]);
}

#[test]
fn missing_column_is_named() {
    let mut b = Book::demo();
    b.set("经济社会", 1, 3, s("备注"));
    fails_with(
        "missing_column",
        &b,
        &["bad.xlsx [经济社会]: missing column gdp_cny"],
    );
}

#[test]
fn unknown_unit_names_the_cell() {
    let mut b = Book::demo();
    b.set("土地利用", 3, 6, s("英亩"));
    fails_with(
        "unknown_unit",
        &b,
        &["bad.xlsx [土地利用!G4]: unknown unit \"英亩\" for column \"乔木林地\""],
    );
}

#[test]
fn text_in_a_number_cell_names_the_cell_and_the_expected_unit() {
    let mut b = Book::demo();
    let r = b.row_of("土地利用", "140105");
    b.set("土地利用", r, 6, s("约300"));
    fails_with(
        "text_in_number",
        &b,
        &["bad.xlsx [土地利用!G7]: expected a number of 公顷 for 乔木林地, found \"约300\""],
    );
}

#[test]
fn duplicate_county_is_reported_with_both_rows() {
    let mut b = Book::demo();
    let r = b.row_of("经济社会", "140107");
    b.set("经济社会", r, 0, s("140106"));
    b.set("经济社会", r, 1, s("迎泽区"));
    fails_with(
        "duplicate_county",
        &b,
        &[
            "duplicate row for 140106 (first at bad.xlsx [经济社会!A6])",
            "140107",
        ],
    );
}

#[test]
fn unknown_county_code_is_named() {
    let mut b = Book::demo();
    let r = b.row_of("供水", "140105");
    b.set("供水", r, 0, s("140199"));
    fails_with(
        "unknown_code",
        &b,
        &["bad.xlsx [供水!A7]: unknown county code 140199"],
    );
}

#[test]
fn negative_area_is_refused() {
    let mut b = Book::demo();
    let r = b.row_of("土地利用", "140105");
    b.set("土地利用", r, 9, Data::Float(-5.0));
    fails_with(
        "negative_area",
        &b,
        &["bad.xlsx [土地利用!J7]: 天然牧草地 is negative (-5); expected a number ≥ 0"],
    );
}

#[test]
fn unknown_land_class_names_the_header_cell() {
    let mut b = Book::demo();
    b.set("土地利用", 1, 16, s("荒地"));
    fails_with(
        "unknown_class",
        &b,
        &["bad.xlsx [土地利用!Q2]: land class \"荒地\" is not in the crosswalk"],
    );
}

#[test]
fn water_source_total_must_equal_use_total() {
    let mut b = Book::demo();
    let r = b.row_of("供水", "140105");
    b.set("供水", r, 2, Data::Float(99_999.0));
    fails_with(
        "water_balance",
        &b,
        &[
            "bad.xlsx [供水!A7]: water supply by source",
            "differs from use by sector",
        ],
    );
}

#[test]
fn unknown_forest_type_is_named() {
    let mut b = Book::demo();
    b.set("森林资源", 2, 2, s("银杏"));
    fails_with(
        "unknown_forest_type",
        &b,
        &["bad.xlsx [森林资源!C3]: forest type \"银杏\" is not in shanxi/forest_types.csv"],
    );
}

#[test]
fn sheets_that_disagree_on_the_year_are_an_error() {
    let mut b = Book::demo();
    b.set("供水", 0, 0, s("2020年山西省各县(市、区)供水量与用水量"));
    fails_with(
        "year_mismatch",
        &b,
        &["bad.xlsx [供水!A1]: year 2020 differs from 2021"],
    );
}

#[test]
fn a_name_that_does_not_match_its_code_is_an_error() {
    let mut b = Book::demo();
    let r = b.row_of("经济社会", "140105");
    b.set("经济社会", r, 1, s("迎泽区"));
    fails_with(
        "name_mismatch",
        &b,
        &[
            "bad.xlsx [经济社会!B5]: code 140105 is 小店区 in regions.csv, but the row says \"迎泽区\"",
        ],
    );
}

#[test]
fn formula_errors_and_dates_in_number_cells_are_named() {
    let mut b = Book::demo();
    let r = b.row_of("土地利用", "140105");
    b.set("土地利用", r, 6, Data::Error(CellErrorType::Div0));
    b.set(
        "土地利用",
        r,
        7,
        Data::DateTime(ExcelDateTime::new(
            44256.0,
            ExcelDateTimeType::DateTime,
            false,
        )),
    );
    fails_with(
        "formula_error",
        &b,
        &[
            "[土地利用!G7]: expected a number of 公顷 for 乔木林地, found the formula error #DIV/0!",
            "[土地利用!H7]",
            "a date",
        ],
    );
}

#[test]
fn a_missing_county_is_an_error_that_suggests_only() {
    let mut b = Book::demo();
    let r = b.row_of("经济社会", "140105");
    b.sheet("经济社会").remove(r);
    fails_with(
        "missing_county",
        &b,
        &["1 county is missing from 经济社会: 140105", "--only"],
    );
}

#[test]
fn every_problem_of_a_workbook_is_reported_in_one_run() {
    let mut b = Book::demo();
    let r = b.row_of("土地利用", "140105");
    b.set("土地利用", r, 6, s("约300"));
    let r = b.row_of("供水", "140106");
    b.set("供水", r, 0, s("140199"));
    b.set("森林资源", 2, 2, s("银杏"));
    let err = fails_with(
        "many_problems",
        &b,
        &["[土地利用!G7]", "[供水!A8]", "[森林资源!C3]"],
    );
    assert!(
        err.contains("problems found (nothing was written)"),
        "{err}"
    );
}

#[test]
fn a_csv_renamed_xlsx_and_an_empty_file_are_not_workbooks() {
    let dir = workdir("not_workbooks");
    std::fs::write(dir.join("table.xlsx"), "区划代码,县\n140105,小店区\n").unwrap();
    std::fs::write(dir.join("empty.xlsx"), "").unwrap();
    let out = gep(&dir, &["check", "table.xlsx", "empty.xlsx"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("table.xlsx: not a workbook"), "{stderr}");
    assert!(stderr.contains("empty.xlsx: the file is empty"), "{stderr}");
}

fn copy_set(dir: &std::path::Path) -> std::path::PathBuf {
    let set = dir.join("set");
    std::fs::create_dir_all(&set).unwrap();
    for f in std::fs::read_dir(root().join("coefficients/shanxi")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), set.join(f.file_name())).unwrap();
    }
    set
}

#[test]
fn unknown_coefficient_key_names_file_and_line() {
    let dir = workdir("unknown_price_key");
    let set = copy_set(&dir);
    let prices = set.join("prices.toml");
    let mut text_ = std::fs::read_to_string(&prices).unwrap();
    text_.push_str("\n[prices.water_mining]\nvalue = 1.2\nunit = \"元/m³\"\nyear = 2018\nscope = \"SX\"\nsource = \"x\"\nstatus = \"V\"\n");
    let line = text_
        .lines()
        .position(|l| l == "[prices.water_mining]")
        .unwrap()
        + 1;
    std::fs::write(&prices, text_).unwrap();
    let out = gep(
        &dir,
        &["check", "--coefficients", "set", demo().to_str().unwrap()],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "prices.toml:{line}: unknown price key \"water_mining\""
        )),
        "{stderr}"
    );
}

#[test]
fn bad_toml_and_a_missing_unit_are_located() {
    let dir = workdir("bad_toml");
    let set = copy_set(&dir);
    let prices = set.join("prices.toml");
    let text_ =
        std::fs::read_to_string(&prices)
            .unwrap()
            .replacen("value = 0.07", "value = = 0.07", 1);
    std::fs::write(&prices, text_).unwrap();
    let rates = set.join("service_rates.csv");
    let text_ = std::fs::read_to_string(&rates)
        .unwrap()
        .replacen("63.75,mm/yr", "63.75,", 1);
    std::fs::write(&rates, text_).unwrap();
    let out = gep(&dir, &["coefficients", "check", "set"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("prices.toml:"), "{stderr}");
    assert!(
        stderr.contains("service_rates.csv:6: unit \"\" not accepted for water_conservation"),
        "{stderr}"
    );
}
