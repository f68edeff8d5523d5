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
        &["bad.xlsx [经济社会]: missing column \"地区生产总值\" (gdp_cny)"],
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

/// Regression: a forest type given twice for a county in the previous year's forest stock was
/// not refused: its carbon was measured against one of the rows (or, before session 11, once
/// against each, counting this year's stock twice).
#[test]
fn a_forest_type_twice_in_the_previous_year_stock_is_a_duplicate_row() {
    let mut b = Book::demo();
    let r = b.row_of("森林资源(上年)", "140105");
    let first_type = b.sheet("森林资源(上年)")[r][2].clone();
    b.set("森林资源(上年)", r + 1, 2, first_type);
    fails_with(
        "previous_forest_duplicate",
        &b,
        &[
            "bad.xlsx [森林资源(上年)!A4]: duplicate row for 140105/栎类 (first at bad.xlsx [森林资源(上年)!A3])",
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
        stderr.contains("service_rates.csv:11: unit \"\" not accepted for water_conservation"),
        "{stderr}"
    );
}

/// One invalid workbook: `edit` changes the demo; the run must fail with every fragment.
macro_rules! invalid_workbook {
    ($name:ident, |$b:ident| $edit:block, [$($frag:expr),+ $(,)?]) => {
        #[test]
        fn $name() {
            let mut $b = Book::demo();
            $edit
            fails_with(stringify!($name), &$b, &[$($frag),+]);
        }
    };
}

invalid_workbook!(
    duplicate_sheet_is_refused,
    |b| {
        let land = b
            .sheets
            .iter()
            .find(|(n, _)| n == "土地利用")
            .unwrap()
            .1
            .clone();
        b.sheets.push(("土地覆被".into(), land));
    },
    ["bad.xlsx [土地覆被]: a second 土地利用 sheet (the first is \"土地利用\")"]
);

invalid_workbook!(
    duplicate_column_is_refused,
    |b| {
        b.set("经济社会", 1, 5, s("农业总产值(万元)"));
    },
    ["bad.xlsx [经济社会!F2]: column \"农业总产值\" appears twice (also column E)"]
);

invalid_workbook!(
    header_and_units_row_that_disagree_are_refused,
    |b| {
        b.set("土地利用", 2, 3, s("水浇地(亩)"));
    },
    ["bad.xlsx [土地利用!D3]: the header says 亩 but the units row says 公顷"]
);

invalid_workbook!(
    a_unit_of_the_wrong_dimension_is_refused,
    |b| {
        b.set("经济社会", 1, 3, s("地区生产总值(万亩)"));
    },
    [
        "bad.xlsx [经济社会!D2]: column \"地区生产总值\" needs a unit of 金额",
        "found 万亩"
    ]
);

invalid_workbook!(
    a_number_column_without_unit_is_refused,
    |b| {
        b.set("经济社会", 1, 2, s("常住人口"));
    },
    ["bad.xlsx [经济社会!C2]: no unit for column \"常住人口\""]
);

invalid_workbook!(
    land_larger_than_the_county_is_refused,
    |b| {
        let r = b.row_of("土地利用", "140105");
        b.set("土地利用", r, 6, Data::Float(20_000.0));
    },
    [
        "bad.xlsx [土地利用!A7]: land cover of 140105 sums to",
        "a land area off by more than 10% is refused"
    ]
);

invalid_workbook!(
    forest_coverage_above_100_percent_is_refused,
    |b| {
        let r = b.row_of("森林资源", "140106");
        b.set("森林资源", r, 3, Data::Float(50_000.0));
        b.set("森林资源", r, 4, Data::Float(2_000_000.0));
    },
    [
        "forest area of 140106",
        "exceeds its land area (11700 ha): forest coverage"
    ]
);

invalid_workbook!(
    forest_stock_without_area_is_refused,
    |b| {
        let r = b.row_of("森林资源", "140122");
        b.set("森林资源", r, 3, Data::Float(0.0));
    },
    [
        "[森林资源!D",
        "m³ without area: the continuous BEF needs the area of"
    ]
);

invalid_workbook!(
    an_implausible_stock_per_hectare_is_refused,
    |b| {
        let r = b.row_of("森林资源", "140122");
        b.set("森林资源", r, 4, Data::Float(1.0e9));
    },
    ["[森林资源!E", "m³/ha is not a plausible growing stock"]
);

invalid_workbook!(
    a_subtotal_far_from_its_counties_is_refused,
    |b| {
        let r = b.row_of("经济社会", "140100");
        b.set("经济社会", r, 3, Data::Float(9999.0));
    },
    [
        "bad.xlsx [经济社会!D4]: subtotal 9999 of 地区生产总值 differs from the sum of its 10 counties",
        "above 5% a county row is wrong or missing"
    ]
);

invalid_workbook!(
    a_ref_error_is_named,
    |b| {
        let r = b.row_of("供水", "140105");
        b.set("供水", r, 5, Data::Error(CellErrorType::Ref));
    },
    ["bad.xlsx [供水!F7]: expected a number of 万m³ for 农业, found the formula error #REF!"]
);

invalid_workbook!(
    text_in_the_code_column_is_named,
    |b| {
        let r = b.row_of("供水", "140105");
        b.set("供水", r, 0, s("XD-01"));
    },
    ["bad.xlsx [供水!A7]: expected a 6-digit 区划代码, found \"XD-01\""]
);

invalid_workbook!(
    a_row_without_code_is_named,
    |b| {
        let r = b.row_of("供水", "140105");
        b.set("供水", r, 0, Data::Empty);
    },
    ["bad.xlsx [供水!A7]: missing 区划代码 for \"小店区\""]
);

invalid_workbook!(
    negative_population_is_refused,
    |b| {
        let r = b.row_of("经济社会", "140105");
        b.set("经济社会", r, 2, Data::Float(-3.0));
    },
    ["bad.xlsx [经济社会!C5]: 常住人口 is negative (-3); expected a number ≥ 0"]
);

invalid_workbook!(
    a_required_value_reported_as_none_is_refused,
    |b| {
        let r = b.row_of("经济社会", "140105");
        b.set("经济社会", r, 3, s("—"));
    },
    ["bad.xlsx [经济社会!D5]: expected a number of 亿元 for 地区生产总值, found \"—\""]
);

invalid_workbook!(
    an_unknown_land_class_in_long_form_names_the_cell,
    |b| {
        let long = vec![
            vec![s("2021年土地利用")],
            vec![s("区划代码"), s("县(市、区)"), s("地类"), s("面积(公顷)")],
            vec![s("140105"), s("小店区"), s("荒漠草原带"), Data::Float(10.0)],
        ];
        *b.sheet("土地利用") = long;
    },
    ["bad.xlsx [土地利用!C3]: land class \"荒漠草原带\" is not in the crosswalk"]
);

invalid_workbook!(
    a_previous_stock_that_is_not_earlier_is_refused,
    |b| {
        b.set(
            "森林资源(上年)",
            0,
            0,
            s("2022年山西省各县(市、区)乔木林分优势树种组面积与蓄积"),
        );
    },
    [
        "bad.xlsx [森林资源(上年)]: previous forest stock is for 2022, not before the accounting year 2021"
    ]
);

invalid_workbook!(
    a_workbook_without_any_year_is_refused,
    |b| {
        for name in ["土地利用", "森林资源", "供水", "经济社会", "环境", "实物量"]
        {
            b.set(name, 0, 0, s("山西省各县(市、区)统计表"));
        }
    },
    ["no accounting year found", "--year"]
);

invalid_workbook!(
    an_unknown_forest_type_column_missing_is_named,
    |b| {
        b.set("森林资源", 1, 2, s("备注"));
    },
    ["bad.xlsx [森林资源]: missing column \"优势树种组\" (forest_type)"]
);

invalid_workbook!(
    no_header_row_is_named,
    |b| {
        for row in b.sheet("供水").iter_mut() {
            if let Some(Data::String(t)) = row.first()
                && t == "区划代码"
            {
                row[0] = s("编号");
            }
        }
    },
    ["bad.xlsx [供水]: no header row with a 区划代码 (county code) column in the first 30 rows"]
);

#[test]
fn year_given_on_the_command_line_must_agree_with_the_sheets() {
    let dir = workdir("year_flag_conflict");
    let out = gep(&dir, &["check", "--year", "2022", demo().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out).1;
    assert!(
        stderr.contains("6 places: shanxi-demo-2021.xlsx [土地利用!A1], ")
            && stderr.contains(": the sheet says 2021, but --year is 2022"),
        "{stderr}"
    );
}

#[test]
fn more_than_200_problems_are_counted_not_listed() {
    let mut b = Book::demo();
    for name in ["土地利用", "供水"] {
        let rows: Vec<usize> = (0..b.sheet(name).len()).collect();
        for r in rows {
            let is_county = matches!(&b.sheet(name)[r][0], Data::String(c) if c.len() == 6 && !c.ends_with("00"));
            if is_county {
                for c in 2..6 {
                    b.set(name, r, c, s("n/a"));
                }
            }
        }
    }
    let err = fails_with("over_200", &b, &["… and"]);
    assert!(err.contains("--max-problems 0 lists all"), "{err}");
    assert!(err.lines().count() < 210, "listing capped");
}

#[test]
fn a_truncated_workbook_is_damaged() {
    let dir = workdir("truncated");
    let bytes = std::fs::read(demo()).unwrap();
    std::fs::write(dir.join("cut.xlsx"), &bytes[..bytes.len() / 2]).unwrap();
    let out = gep(&dir, &["check", "cut.xlsx"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).1.contains("cut.xlsx: damaged workbook"),
        "{}",
        text(&out).1
    );
}

#[test]
fn an_html_table_saved_as_xls_is_explained() {
    let dir = workdir("html_xls");
    std::fs::write(
        dir.join("export.xls"),
        "<html><body><table><tr><td>区划代码</td></tr></table></body></html>",
    )
    .unwrap();
    let out = gep(&dir, &["check", "export.xls"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out)
            .1
            .contains("export.xls: this is an HTML/XML file, not a workbook"),
        "{}",
        text(&out).1
    );
}

#[test]
fn a_password_protected_workbook_is_explained() {
    let dir = workdir("password");
    let out = gep(
        &dir,
        &[
            "check",
            root()
                .join("fixtures/invalid/password-protected.xlsx")
                .to_str()
                .unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let (_, stderr) = text(&out);
    assert!(
        stderr.contains("password-protected.xlsx: password-protected (encrypted) workbook"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("missing sheet"),
        "no follow-on noise: {stderr}"
    );
}

#[test]
fn an_empty_workbook_lacks_every_sheet() {
    let dir = workdir("empty_workbook");
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet();
    wb.save(dir.join("blank.xlsx")).unwrap();
    let out = gep(&dir, &["check", "blank.xlsx"]);
    assert_eq!(out.status.code(), Some(1));
    let (_, stderr) = text(&out);
    for sheet in ["土地利用", "森林资源", "供水", "经济社会"] {
        assert!(
            stderr.contains(&format!("blank.xlsx: missing sheet {sheet}")),
            "{stderr}"
        );
    }
}

#[test]
fn a_zip_bomb_is_refused_within_a_second() {
    use std::io::Write;
    let dir = workdir("zip_bomb");
    let file = std::fs::File::create(dir.join("bomb.xlsx")).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("xl/workbook.xml", options).unwrap();
    zip.write_all(b"<workbook/>").unwrap();
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    let block = vec![b' '; 1 << 20];
    for _ in 0..64 {
        zip.write_all(&block).unwrap();
    }
    zip.finish().unwrap();
    let started = std::time::Instant::now();
    let out = gep(&dir, &["check", "bomb.xlsx"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out)
            .1
            .contains("bomb.xlsx: refused: the workbook unpacks to"),
        "{}",
        text(&out).1
    );
}

#[test]
fn a_sheet_claiming_a_huge_used_area_is_refused() {
    let mut b = Book::demo();
    b.set("供水", 4000, 300, Data::Float(1.0));
    let dir = workdir("huge_area");
    b.save(&dir.join("wide.xlsx"));
    let out = gep(&dir, &["check", "--max-cells", "100000", "wide.xlsx"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out)
            .1
            .contains("wide.xlsx [供水]: the used area reaches KO4001 (more than 100000 cells)"),
        "{}",
        text(&out).1
    );
}

#[test]
fn a_file_over_the_size_limit_is_refused() {
    let dir = workdir("too_large");
    let out = gep(
        &dir,
        &["check", "--max-file-mb", "0", demo().to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out)
            .1
            .contains("shanxi-demo-2021.xlsx: file is 0 MB; the limit is 0 MB"),
        "{}",
        text(&out).1
    );
}

/// One invalid coefficient set: `edit(file, text)` changes the Shanxi set; `coefficients check` must fail.
fn set_fails_with(test: &str, edit: impl Fn(&str, String) -> String, fragment: &str) {
    let dir = workdir(test);
    edited_set(&dir, edit);
    let out = gep(&dir, &["coefficients", "check", "set"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{test}: {stderr}");
    assert!(
        stderr.contains(fragment),
        "{test}: expected {fragment:?} in:\n{stderr}"
    );
}

#[test]
fn coefficient_problems_name_file_and_line() {
    set_fails_with(
        "coef_unknown_column",
        |f, t| {
            if f == "regions.csv" {
                t.replacen("area_source", "area_src", 1)
            } else {
                t
            }
        },
        "regions.csv:1: unknown column \"area_src\"",
    );
    set_fails_with(
        "coef_bad_status",
        |f, t| {
            if f == "forest_types.csv" {
                t.replacen(",V2\n", ",maybe\n", 1)
            } else {
                t
            }
        },
        "forest_types.csv:6: status \"maybe\" is not one of",
    );
    set_fails_with(
        "coef_rate_range",
        |f, t| {
            if f == "service_rates.csv" {
                t.replacen("63.75,mm/yr", "63750,mm/yr", 1)
            } else {
                t
            }
        },
        "service_rates.csv:11: rate 63750 mm/yr out of range",
    );
    set_fails_with(
        "coef_missing_price",
        |f, t| {
            if f == "prices.toml" {
                t.replacen("[prices.oxygen]", "[prices.oxygen_old]", 1)
            } else {
                t
            }
        },
        "missing price [prices.oxygen]",
    );
    set_fails_with(
        "coef_duplicate_region",
        |f, t| {
            if f == "regions.csv" {
                t.replacen("140106,迎泽区", "140105,迎泽区", 1)
            } else {
                t
            }
        },
        "regions.csv:6: code 140105 listed twice",
    );
    set_fails_with(
        "coef_bef_params",
        |f, t| {
            if f == "forest_types.csv" {
                t.replacen(
                    "油松,bef_continuous,0.7709,8.8631",
                    "油松,bef_continuous,,8.8631",
                    1,
                )
            } else {
                t
            }
        },
        "forest_types.csv:6: bef_continuous needs a in (0, 3) t/m³",
    );
    set_fails_with(
        "coef_unknown_manifest_key",
        |f, t| {
            if f == "manifest.toml" {
                t.replacen("currency = ", "colour = \"red\"\ncurrency = ", 1)
            } else {
                t
            }
        },
        "manifest.toml:",
    );
    set_fails_with(
        "coef_rate_coverage",
        |f, t| {
            if f == "service_rates.csv" {
                t.lines()
                    .filter(|l| !l.starts_with("bare,carbon"))
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                t
            }
        },
        "no carbon_sequestration rate for valuation class \"bare\"",
    );
    set_fails_with(
        "coef_unknown_switch_value",
        |f, t| {
            if f == "manifest.toml" {
                t.replacen("\"gross_output\"", "\"gross_value\"", 1)
            } else {
                t
            }
        },
        "switches.provisioning_basis must be \"gross_output\", \"value_added\" or \"net_output\", found \"gross_value\"",
    );
}

#[test]
fn value_added_basis_needs_the_value_added_columns() {
    let dir = workdir("value_added_columns");
    edited_set(&dir, |f, t| {
        if f == "manifest.toml" {
            t.replacen("\"gross_output\"", "\"value_added\"", 1)
        } else {
            t
        }
    });
    let mut b = Book::demo();
    b.set("经济社会", 1, 8, s("备注1"));
    b.save(&dir.join("econ.xlsx"));
    let out = gep(&dir, &["check", "--coefficients", "set", "econ.xlsx"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("econ.xlsx [经济社会]: missing column \"农业增加值\" (agriculture_value_added_cny): the coefficient set's provisioning_basis is value_added"), "{}", text(&out).1);
}

#[test]
fn a_small_subtotal_gap_is_a_warning_and_the_run_succeeds() {
    let mut b = Book::demo();
    let r = b.row_of("经济社会", "140100");
    let Data::Float(v) = b.sheet("经济社会")[r][3].clone() else {
        panic!()
    };
    b.set("经济社会", r, 3, Data::Float(v * 1.02));
    let dir = workdir("subtotal_warning");
    b.save(&dir.join("w.xlsx"));
    let out = gep(&dir, &["run", "--data", "w.xlsx", "--out", "book.xlsx"]);
    assert!(out.status.success(), "{}", text(&out).1);
    assert!(
        text(&out)
            .1
            .contains("warning [balance]: w.xlsx [经济社会!D4]: subtotal"),
        "{}",
        text(&out).1
    );
}

/// Regression (fuzzing, 2026-11-29): a malformed .xls made calamine's CFB reader panic
/// ("slice index starts at 5824 but ends at 2816"); it must be a located error, not a crash.
#[test]
fn regression_fuzz_xls_cfb_slice_panic_is_a_damaged_workbook() {
    let dir = workdir("fuzz_cfb_panic");
    std::fs::copy(
        root().join("fuzz/regressions/xls-cfb-slice-panic.bin"),
        dir.join("broken.xls"),
    )
    .unwrap();
    let out = gep(&dir, &["check", "broken.xls"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("broken.xls: damaged workbook: the reader failed on it"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "no panic message leaks: {stderr}"
    );
}

/// Regression (fuzzing, 2026-11-29): a 5 KB .xls whose sector chain loops made calamine append
/// until it asked for 2.8 GB; the container check refuses it first.
#[test]
fn regression_fuzz_xls_cyclic_sector_chain_is_refused_without_allocating() {
    let dir = workdir("fuzz_cfb_cycle");
    std::fs::copy(
        root().join("fuzz/regressions/xls-cfb-cyclic-chain-oom.bin"),
        dir.join("loop.xls"),
    )
    .unwrap();
    let out = gep(&dir, &["check", "loop.xls"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("loop.xls: damaged workbook (.xls container: looping sector chain)"),
        "{stderr}"
    );
}

/// Regression (fuzzing, 2026-11-29): an .xls whose DIMENSIONS record claims an enormous sheet
/// made calamine reserve 297 TB and abort; the claim is refused before calamine reads it.
#[test]
fn regression_fuzz_xls_huge_claimed_dimensions_are_refused() {
    let dir = workdir("fuzz_xls_dims");
    std::fs::copy(
        root().join("fuzz/regressions/xls-huge-dimensions-oom.bin"),
        dir.join("huge.xls"),
    )
    .unwrap();
    let out = gep(&dir, &["check", "huge.xls"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("huge.xls: a sheet claims"), "{stderr}");
}

/// Regression (fuzzing, 2026-11-29): an .xls with two cells far apart made calamine allocate a
/// grid spanning them and abort; the cell extent is checked against --max-cells first.
#[test]
fn regression_fuzz_xls_far_apart_cells_are_refused() {
    let dir = workdir("fuzz_xls_extent");
    std::fs::copy(
        root().join("fuzz/regressions/xls-far-apart-cells-oom.bin"),
        dir.join("far.xls"),
    )
    .unwrap();
    let out = gep(&dir, &["check", "--max-cells", "100000", "far.xls"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("far.xls:"), "{stderr}");
    assert!(!stderr.contains("memory allocation"), "{stderr}");
}

/// Regression (fuzzing, 2026-11-29): a DIMENSIONS record whose first row lies past its last made
/// calamine's wrapping arithmetic reserve 671 million cells (26.8 GB); the pre-check now mirrors
/// that arithmetic and refuses the claim.
#[test]
fn regression_fuzz_xls_inverted_dimensions_are_refused() {
    let dir = workdir("fuzz_xls_dims_inverted");
    std::fs::copy(
        root().join("fuzz/regressions/xls-inverted-dimensions-oom.bin"),
        dir.join("inverted.xls"),
    )
    .unwrap();
    let out = gep(&dir, &["check", "inverted.xls"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("inverted.xls: a sheet claims 671089124 cells"),
        "{stderr}"
    );
}

/// Writes a zip with the given (name, content) parts, stored uncompressed.
fn write_zip(path: &std::path::Path, parts: &[(&str, &str)]) {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, content) in parts {
        zip.start_file(*name, options).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
}

fn ods_with_row(row: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="土地利用">{row}<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="1024"/></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#
    )
}

/// Regression: a 700-byte .ods whose one row is repeated a million times, with a value repeated
/// 16,000 columns, made calamine expand it to 10⁸ cells (3 GB). Refused by --max-cells; trailing
/// empty rows repeated a million times (as LibreOffice writes them) are not counted.
#[test]
fn regression_ods_repeated_rows_and_columns_are_bounded_by_max_cells() {
    let dir = workdir("ods_repeat_bomb");
    let bomb = r#"<table:table-row table:number-rows-repeated="6000"><table:table-cell office:value-type="float" office:value="1" table:number-columns-repeated="16000"><text:p>1</text:p></table:table-cell></table:table-row>"#;
    let honest = r#"<table:table-row><table:table-cell office:value-type="string"><text:p>县</text:p></table:table-cell><table:table-cell table:number-columns-repeated="3"/><table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>"#;
    for (file, row) in [("bomb.ods", bomb), ("honest.ods", honest)] {
        write_zip(
            &dir.join(file),
            &[
                ("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
                ("content.xml", &ods_with_row(row)),
            ],
        );
    }
    let out = gep(&dir, &["check", "bomb.ods"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("bomb.ods: a sheet's repeated rows and columns expand to 96000000 cells (more than 5000000); limit with --max-cells"),
        "{stderr}"
    );
    let out = gep(&dir, &["check", "honest.ods"]);
    let (_, stderr) = text(&out);
    assert!(!stderr.contains("expand to"), "{stderr}");
    assert!(stderr.contains("honest.ods"), "{stderr}");
}

/// Regression: an xlsx whose shared-strings part declares four billion strings made calamine
/// reserve 96 GB and abort; the count is checked against the part's size first.
#[test]
fn regression_xlsx_shared_string_count_is_checked_against_its_part() {
    let dir = workdir("xlsx_sst_count");
    write_zip(
        &dir.join("sst.xlsx"),
        &[
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#,
            ),
            (
                "xl/workbook.xml",
                r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>"#,
            ),
            (
                "xl/sharedStrings.xml",
                r#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="4000000000"><si><t>县</t></si></sst>"#,
            ),
        ],
    );
    let out = gep(&dir, &["check", "sst.xlsx"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "sst.xlsx: damaged workbook (xl/sharedStrings.xml declares 4000000000 shared strings in"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("memory allocation"), "{stderr}");
}

invalid_workbook!(
    an_unknown_physical_indicator_and_a_wrong_unit_are_named,
    |b| {
        let r = b.row_of("实物量", "140105");
        b.set("实物量", r, 2, s("土壤侵蚀"));
        let r = b.row_of("实物量", "140106");
        b.set("实物量", r, 4, s("万m³"));
    },
    [
        "bad.xlsx [实物量!D3]: 实物量: unknown indicator \"土壤侵蚀\"",
        "bad.xlsx [实物量!D4]: 实物量: unit \"万m³\" does not measure soil_retention",
    ]
);

invalid_workbook!(
    a_physical_row_given_twice_is_refused,
    |b| {
        let r = b.row_of("实物量", "140106");
        b.set("实物量", r, 0, s("140105"));
        b.set("实物量", r, 1, s("小店区"));
    },
    ["bad.xlsx [实物量!D4]: 140105 土壤保持 given twice in 实物量 (first at bad.xlsx [实物量!D3])"]
);

invalid_workbook!(
    a_climate_sheet_without_runoff_coefficients_is_an_error,
    |b| {
        let mut grid = vec![
            vec![s("2021年气象")],
            vec![
                s("区划代码"),
                s("县(市、区)"),
                s("降水量(mm)"),
                s("蒸散量(mm)"),
            ],
        ];
        let econ = b.sheet("经济社会").clone();
        for row in econ.iter().skip(2) {
            if let (Data::String(code), Data::String(name)) = (&row[0], &row[1])
                && code.len() == 6
                && !code.ends_with("00")
            {
                grid.push(vec![
                    s(code),
                    s(name),
                    Data::Float(480.0),
                    Data::Float(400.0),
                ]);
            }
        }
        b.sheets.push(("气象".into(), grid));
    },
    [
        "service_rates.csv: the 气象 sheet asks for water-balance water conservation, which needs a runoff_coefficient for every valuation class"
    ]
);

/// Regression (structure-aware fuzzing, 2026-11-29): a shared-strings tag whose attributes
/// quick-xml rejects but calamine's lenient scan reads (`uniqueCount="11111111111111112"`) made
/// calamine reserve 2.7 × 10¹⁷ bytes and abort; the check now reads attributes as calamine does.
#[test]
fn regression_fuzz_xlsx_shared_string_count_in_a_lenient_attribute_is_refused() {
    let dir = workdir("fuzz_sst_lenient");
    let input =
        std::fs::read(root().join("fuzz/regressions/xlsx-sst-lenient-attribute-oom.bin")).unwrap();
    let strings = String::from_utf8(input[1..].to_vec()).unwrap(); // after the selector byte
    write_zip(
        &dir.join("lenient.xlsx"),
        &[
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#,
            ),
            (
                "_rels/.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
            ),
            (
                "xl/workbook.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="土地利用" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
            ),
            (
                "xl/_rels/workbook.xml.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
            ),
            (
                "xl/worksheets/sheet1.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>"#,
            ),
            ("xl/sharedStrings.xml", &strings),
        ],
    );
    let out = gep(&dir, &["check", "lenient.xlsx"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("lenient.xlsx: damaged workbook (xl/sharedStrings.xml declares 11111111111111112 shared strings in"),
        "{stderr}"
    );
}

/// Regression (issue 11, items 1 and 11): a 实物量 row for 固碳 was refused by `gep run` as an
/// unknown indicator while `gep check` passed it. Now both accept carbon and oxygen given in
/// their substance's unit, and both refuse the same bare 万吨 at the same cell.
#[test]
fn check_and_run_accept_and_refuse_the_same_carbon_rows() {
    let dir = workdir("check_equals_run");
    let mut b = Book::demo();
    let sheet = b.sheet("实物量");
    let note = sheet.len() - 1;
    let row = |indicator: &str, quantity: f64, unit: &str| {
        vec![
            Data::String("140105".into()),
            Data::String("小店区".into()),
            Data::String(indicator.into()),
            Data::Float(quantity),
            Data::String(unit.into()),
            Data::String("published account".into()),
        ]
    };
    sheet.insert(note, row("固碳", 2.0, "万吨CO₂"));
    sheet.insert(note + 1, row("释氧", 16.0, "万t O₂"));
    b.save(&dir.join("ok.xlsx"));
    let out = gep(&dir, &["check", "ok.xlsx"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let out = gep(
        &dir,
        &[
            "run",
            "--data",
            "ok.xlsx",
            "--out",
            "ok-book.xlsx",
            "--csv",
            "csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let (head, rows) = read_csv(&dir.join("csv/lines.csv"));
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let quantity = |indicator: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r[col("county_code")] == "140105" && r[col("indicator")] == indicator)
            .map(|r| r[col("quantity")].clone())
            .collect()
    };
    assert_eq!(quantity("carbon_sequestration"), ["20000.0"]);
    assert_eq!(quantity("oxygen_release"), ["160000.0"]);

    b.set("实物量", note, 4, Data::String("万吨".into()));
    b.save(&dir.join("bad.xlsx"));
    let expected = format!(
        "[实物量!D{}]: 实物量: unit \"万吨\" does not say of what: write the substance (t CO₂ or t C)",
        note + 1
    );
    let check = gep(&dir, &["check", "bad.xlsx"]);
    assert!(!check.status.success());
    assert!(text(&check).1.contains(&expected), "{}", text(&check).1);
    let run = gep(
        &dir,
        &["run", "--data", "bad.xlsx", "--out", "bad-book.xlsx"],
    );
    assert!(!run.status.success());
    assert!(text(&run).1.contains(&expected), "{}", text(&run).1);
    assert!(!dir.join("bad-book.xlsx").exists(), "nothing written");
}
