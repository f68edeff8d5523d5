//! Data auditing (数据审核, docs/checks.md): each mistake clerks really make is caught with its
//! severity and a located message; the demo and every layout fixture raise no audit warning.

use calamine::Data;

use crate::util::*;

fn s(text: &str) -> Data {
    Data::String(text.into())
}

fn num(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        Data::String(s) => s.parse().unwrap(),
        other => panic!("not a number: {other:?}"),
    }
}

/// Runs `gep check` on `book` saved as `w.xlsx` (plus `extra` arguments); returns exit code and stderr.
fn check(test: &str, book: &Book, extra: &[&str]) -> (Option<i32>, String) {
    let dir = workdir(test);
    book.save(&dir.join("w.xlsx"));
    let mut args = vec!["check", "w.xlsx"];
    args.extend_from_slice(extra);
    let out = gep(&dir, &args);
    (out.status.code(), text(&out).1)
}

/// Blanks column `col` of the subtotal rows (codes ending in 00) of `sheet`, so that a slip
/// made in one county is left to the audits rather than to the subtotal check.
fn blank_subtotals(b: &mut Book, sheet: &str, col: usize) {
    for row in b.sheet(sheet).iter_mut() {
        if matches!(row.first(), Some(Data::String(c)) if c.len() == 6 && c.ends_with("00"))
            && let Some(cell) = row.get_mut(col)
        {
            *cell = Data::Empty;
        }
    }
}

fn assert_has(stderr: &str, fragments: &[&str]) {
    for f in fragments {
        assert!(stderr.contains(f), "expected {f:?} in:\n{stderr}");
    }
}

/// Audit tags on stderr (`warning [ratio]: …`).
const AUDIT_TAGS: &[&str] = &["[logic]", "[ratio]", "[trend]", "[balance]"];

#[test]
fn demo_and_every_layout_raise_no_audit_warning() {
    let dir = workdir("audit_clean");
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(root().join("fixtures/layouts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "xlsx" || e == "xls" || e == "ods")
        })
        .collect();
    files.push(demo());
    files.sort();
    assert!(files.len() >= 14, "{files:?}");
    for f in &files {
        let out = gep(&dir, &["check", f.to_str().unwrap()]);
        let stderr = text(&out).1;
        assert!(out.status.success(), "{}: {stderr}", f.display());
        for tag in AUDIT_TAGS {
            assert!(!stderr.contains(tag), "{}: {stderr}", f.display());
        }
    }
    let prefectures: Vec<String> = std::fs::read_dir(root().join("fixtures/layouts/by-prefecture"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    let mut args = vec!["check"];
    args.extend(prefectures.iter().map(String::as_str));
    let out = gep(&dir, &args);
    let stderr = text(&out).1;
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.trim().is_empty() || !AUDIT_TAGS.iter().any(|t| stderr.contains(t)),
        "{stderr}"
    );
}

/// Regression: "12,3" typed for 12.3 was read as 123 (a population 10× too big).
#[test]
fn decimal_comma_is_an_error_naming_the_cell() {
    let mut b = Book::demo();
    let r = b.row_of("经济社会", "140105");
    b.set("经济社会", r, 2, s("61,67"));
    let (code, stderr) = check("decimal_comma", &b, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_has(
        &stderr,
        &[
            "w.xlsx [经济社会!C5]: expected a number of 万人 for 常住人口, found \"61,67\" (a decimal comma?",
        ],
    );
    // European notation and Indian grouping too.
    b.set("经济社会", r, 2, s("1.610,81"));
    let (code, stderr) = check("european_number", &b, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_has(
        &stderr,
        &["[经济社会!C5]", "\"1.610,81\" (a decimal comma?"],
    );
}

/// Regression: a sheet-wide unit and a column's own unit that disagree were settled silently.
#[test]
fn two_units_for_one_column_are_an_error_naming_both_cells() {
    let mut b = Book::demo();
    // 供水 says 单位：万m³ in I2; one column's header now says m³.
    b.set("供水", 3, 2, s("地表水(m³)"));
    let (code, stderr) = check("two_units", &b, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_has(
        &stderr,
        &[
            "w.xlsx [供水!C4]: column \"地表水\" is in m³ here, but w.xlsx [供水!I2] says the sheet is in 万m³",
        ],
    );
}

/// Regression: a merged cell spanning two counties' rows copied its value into both.
#[test]
fn merged_range_over_two_counties_is_an_error_naming_the_range() {
    let mut b = Book::demo();
    let r = b.row_of("经济社会", "140105");
    b.merges
        .push(("经济社会".into(), r as u32, 3, r as u32 + 1, 3));
    let (code, stderr) = check("merged_data", &b, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_has(
        &stderr,
        &["w.xlsx [经济社会!D5:D6]: merged range D5:D6 spans data cells"],
    );
}

/// Rewrites every worksheet of an xlsx file with `edit(xml)`.
fn rewrite_sheets(path: &std::path::Path, edit: impl Fn(&str) -> String) {
    use std::io::{Read as _, Write as _};
    let bytes = std::fs::read(path).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let name = file.name().unwrap().to_string();
        let mut content = Vec::new();
        file.read_to_end(&mut content).unwrap();
        if name.starts_with("xl/worksheets/sheet") {
            content = edit(&String::from_utf8(content).unwrap()).into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&content).unwrap();
    }
    std::fs::write(path, out.finish().unwrap().into_inner()).unwrap();
}

/// Regression: formula cells without a cached value (a workbook written by a script and never
/// opened in Excel) were read as empty, i.e. 0.
#[test]
fn formula_cells_without_a_cached_value_are_an_error_naming_the_cells() {
    let dir = workdir("uncached_formula");
    let mut b = Book::demo();
    let r = b.row_of("经济社会", "140105");
    // Markers the save writes as formulas with a result, rewritten below: D5 without any
    // cached value, E5 with an empty `<v/>` (as openpyxl writes), F6 with a calculated "" (fine).
    for (row, col) in [(r, 3), (r, 4), (r + 1, 5)] {
        b.set(
            "经济社会",
            row,
            col,
            Data::Error(calamine::CellErrorType::Div0),
        );
    }
    b.save(&dir.join("w.xlsx"));
    let marker = r#" t="e"><f>1/0</f><v>#DIV/0!</v>"#;
    rewrite_sheets(&dir.join("w.xlsx"), |xml| {
        xml.replacen(marker, "><f>SUM(E5:H5)</f>", 1)
            .replacen(marker, "><f>F5*2</f><v/>", 1)
            .replacen(marker, r#" t="str"><f>IF(1,"","")</f><v></v>"#, 1)
    });
    let out = gep(&dir, &["check", "w.xlsx"]);
    let stderr = text(&out).1;
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_has(
        &stderr,
        &[
            "w.xlsx [经济社会]: 2 formula cells without a calculated value (D5, E5)",
            "open the file in Excel or WPS and save it",
        ],
    );
}

fn forest_rows(b: &mut Book, sheet: &str, code: &str) -> Vec<usize> {
    b.sheet(sheet)
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(&r[0], Data::String(s) if s == code))
        .map(|(i, _)| i)
        .collect()
}

/// Regression: forest stand areas in 亩 under a 公顷 header (15×) were accepted.
#[test]
fn stand_area_in_mu_under_a_hectare_header_is_an_error() {
    let mut b = Book::demo();
    for r in forest_rows(&mut b, "森林资源", "140105") {
        let v = num(&b.sheet("森林资源")[r][3]);
        b.set("森林资源", r, 3, Data::Float(v * 15.0));
    }
    let (code, stderr) = check("stand_in_mu", &b, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_has(
        &stderr,
        &[
            "error [logic]: w.xlsx [森林资源!A3:F3]: 140105 小店区: forest stand area 44970 ha (森林资源) exceeds all its 林地 6662 ha (w.xlsx [土地利用!G7])",
        ],
    );
}

/// Regression: a stand area somewhat above the county's 乔木林地 was accepted.
#[test]
fn stand_area_above_tree_forest_land_is_a_warning() {
    let mut b = Book::demo();
    for r in forest_rows(&mut b, "森林资源", "140105") {
        let v = num(&b.sheet("森林资源")[r][3]);
        b.set("森林资源", r, 3, Data::Float(v * 1.2));
    }
    let (code, stderr) = check("stand_over_tree_land", &b, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_has(
        &stderr,
        &[
            "warning [logic]: w.xlsx [森林资源!A3:F3]: 140105 小店区: forest stand area 3598 ha (森林资源) exceeds its 乔木林地 2998 ha (w.xlsx [土地利用!G7]) by 20.0% (tolerance 5%)",
        ],
    );
}

/// Regression: one prefecture's stand areas in 亩 (15× too large) were accepted.
#[test]
fn one_prefecture_in_mu_is_caught_in_every_county() {
    let mut b = Book::demo();
    let rows: Vec<usize> = b
        .sheet("森林资源")
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(&r[0], Data::String(s) if s.starts_with("1401") && !s.ends_with("00")))
        .map(|(i, _)| i)
        .collect();
    for r in &rows {
        let v = num(&b.sheet("森林资源")[*r][3]);
        b.set("森林资源", *r, 3, Data::Float(v * 15.0));
    }
    let (code, stderr) = check("prefecture_in_mu", &b, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    for county in [
        "140105", "140106", "140107", "140108", "140109", "140110", "140121", "140122", "140123",
        "140181",
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("error [logic]: w.xlsx [森林资源!")
                    && l.contains(&format!("]: {county} "))
                    && l.contains("exceeds all its 林地")),
            "{county}: {stderr}"
        );
    }
}

/// Regression: one county's growing stock 10× too big (still under the per-hectare limit) was accepted.
#[test]
fn one_county_stock_ten_times_too_big_is_a_ratio_warning() {
    let mut b = Book::demo();
    blank_subtotals(&mut b, "森林资源", 4);
    for r in forest_rows(&mut b, "森林资源", "140105") {
        let v = num(&b.sheet("森林资源")[r][4]);
        b.set("森林资源", r, 4, Data::Float(v * 10.0));
    }
    let (code, stderr) = check("stock_10x", &b, &[]);
    assert_has(
        &stderr,
        &[
            "warning [ratio]: w.xlsx [森林资源!A3:F3]: 140105 小店区: growing stock per hectare of stand is 455 m³/ha, 9.62× the median of the 26 districts",
        ],
    );
    // The stock change against the previous year's sheet is a trend warning too.
    assert_has(
        &stderr,
        &[
            "warning [trend]: w.xlsx [森林资源!A3:F3]: 140105 小店区: growing stock 1364210 (2021) against 132125 (2020, w.xlsx [森林资源(上年)!A3:E3])",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
}

/// Regression: a population 10× too big (a unit slip in one county) gave absurd 人均 figures silently.
#[test]
fn one_county_population_ten_times_too_big_is_a_ratio_warning() {
    let mut b = Book::demo();
    blank_subtotals(&mut b, "经济社会", 2);
    let r = b.row_of("经济社会", "140722");
    let v = num(&b.sheet("经济社会")[r][2]);
    b.set("经济社会", r, 2, Data::Float(v * 10.0));
    let (code, stderr) = check("population_10x", &b, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_has(
        &stderr,
        &["warning [ratio]: w.xlsx [", "140722 ", "per capita"],
    );
}

/// Regression: the 森林资源(上年) sheet left as a copy of this year's was accepted.
#[test]
fn previous_forest_sheet_copied_from_this_year_is_an_error() {
    let mut b = Book::demo();
    let mut this_year = b.sheet("森林资源").clone();
    this_year[0][0] = s("2020年山西省各县(市、区)乔木林分优势树种组面积与蓄积（合成演示数据）");
    *b.sheet("森林资源(上年)") = this_year;
    let (code, stderr) = check("previous_copy", &b, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_has(
        &stderr,
        &[
            "error [trend]: w.xlsx [森林资源(上年)!",
            "the 2020 forest-stock sheet is identical to the 2021 one (117 counties",
        ],
    );
}

/// Regression: stock falling while growth is reported was accepted.
#[test]
fn stock_falling_while_growth_is_reported_is_a_warning() {
    let mut b = Book::demo();
    for r in forest_rows(&mut b, "森林资源(上年)", "140106") {
        let v = num(&b.sheet("森林资源(上年)")[r][4]);
        b.set("森林资源(上年)", r, 4, Data::Float(v * 1.1));
    }
    let (code, stderr) = check("stock_falls", &b, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_has(
        &stderr,
        &["warning [trend]:", "140106 迎泽区: growing stock fell from"],
    );
}

/// Regression: year 2031 in the workbook, or `--year 1800`, were accepted.
#[test]
fn implausible_years_are_errors() {
    let dir = workdir("implausible_year");
    let out = gep(&dir, &["check", "--year", "1800"]);
    let stderr = text(&out).1;
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_has(
        &stderr,
        &["error [logic]: --year: --year 1800 is not a plausible accounting year"],
    );

    let future = gep::clock::current_year() + 5;
    let mut b = Book::demo();
    for (_, grid) in b.sheets.iter_mut() {
        for row in grid.iter_mut() {
            for cell in row.iter_mut() {
                if let Data::String(t) = cell {
                    *t = t
                        .replace("2021年", &format!("{future}年"))
                        .replace("2020年", &format!("{}年", future - 1));
                }
            }
        }
    }
    let (code, stderr) = check("future_year", &b, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    // Every sheet title says it: one entry naming the six sheets.
    assert_has(
        &stderr,
        &[
            "error [logic]: 6 places: w.xlsx [土地利用!A1], w.xlsx [森林资源!A1]",
            &format!("the year {future} is not a plausible accounting year"),
        ],
    );
}

/// Regression: `gep check` passed a workbook that `gep run` then rejected (an unknown 实物量 row).
#[test]
fn check_rejects_what_run_rejects() {
    let mut b = Book::demo();
    let r = b.row_of("实物量", "140105");
    b.set("实物量", r, 2, s("海岸带防护"));
    let dir = workdir("check_like_run");
    b.save(&dir.join("w.xlsx"));
    let run = gep(&dir, &["run", "--data", "w.xlsx", "--out", "book.xlsx"]);
    let check = gep(&dir, &["check", "w.xlsx"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run).1);
    assert_eq!(check.status.code(), run.status.code(), "{}", text(&check).1);
    assert!(!dir.join("book.xlsx").exists());
}

/// Regression: a bad coefficient set stopped the run before the workbook's own problems were listed.
#[test]
fn coefficient_and_workbook_problems_are_listed_together() {
    let dir = workdir("coef_and_workbook");
    let set = edited_set(&dir, |name, text| {
        if name == "prices.toml" {
            text.replacen(
                "[parameters.sediment_ratio]\nvalue = 0.24",
                "[parameters.sediment_ratio]\nvalue = 24",
                1,
            )
        } else {
            text
        }
    });
    let mut b = Book::demo();
    let r = b.row_of("经济社会", "140105");
    b.set("经济社会", r, 2, s("61,67"));
    b.save(&dir.join("w.xlsx"));
    let out = gep(
        &dir,
        &["check", "w.xlsx", "--coefficients", set.to_str().unwrap()],
    );
    let stderr = text(&out).1;
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_has(
        &stderr,
        &[
            "error [coefficients]: prices.toml:",
            "sediment_ratio = 24: a percentage? write 0.24",
            "w.xlsx [经济社会!C5]: expected a number of 万人 for 常住人口, found \"61,67\"",
        ],
    );
}

/// Regression: when `--csv` failed, the book was left behind.
#[test]
fn a_failed_csv_write_leaves_no_book() {
    let dir = workdir("csv_fails");
    std::fs::write(dir.join("taken"), "a file where the CSV folder should be").unwrap();
    let out = gep(&dir, &["run", "--out", "book.xlsx", "--csv", "taken"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out).1);
    assert!(!dir.join("book.xlsx").exists(), "the book was left behind");
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
}

/// Trend against `--previous`: one county's GDP 10× off against the previous year's workbook.
#[test]
fn a_tenfold_change_against_the_previous_year_is_a_trend_warning() {
    let dir = workdir("trend_previous");
    let mut b = Book::demo();
    for (_, grid) in b.sheets.iter_mut() {
        for row in grid.iter_mut() {
            for cell in row.iter_mut() {
                if let Data::String(t) = cell {
                    *t = t.replace("2021年", "2022年");
                }
            }
        }
    }
    blank_subtotals(&mut b, "经济社会", 4);
    let r = b.row_of("经济社会", "140106");
    let v = num(&b.sheet("经济社会")[r][4]);
    b.set("经济社会", r, 4, Data::Float(v * 10.0));
    b.save(&dir.join("2022.xlsx"));
    let out = gep(
        &dir,
        &["check", "2022.xlsx", "--previous", demo().to_str().unwrap()],
    );
    let stderr = text(&out).1;
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_has(
        &stderr,
        &[
            "warning [trend]: 2022.xlsx [经济社会!E6]: 140106 迎泽区: agriculture_output_cny is",
            "in 2022 and",
            "in 2021 (shanxi-demo-2021.xlsx [经济社会!E6])",
        ],
    );
    // Without the slip, the same pair raises no trend warning.
    let mut clean = b.clone();
    clean.set("经济社会", r, 4, Data::Float(v));
    clean.save(&dir.join("2022-clean.xlsx"));
    let out = gep(
        &dir,
        &[
            "check",
            "2022-clean.xlsx",
            "--previous",
            demo().to_str().unwrap(),
        ],
    );
    assert!(!text(&out).1.contains("[trend]"), "{}", text(&out).1);
}

/// The Chinese book's 校验 sheet groups problems by kind, in Chinese.
#[test]
fn checks_sheet_groups_audits_in_chinese() {
    let dir = workdir("checks_sheet");
    let mut b = Book::demo();
    blank_subtotals(&mut b, "经济社会", 2);
    let r = b.row_of("经济社会", "140722");
    let v = num(&b.sheet("经济社会")[r][2]);
    b.set("经济社会", r, 2, Data::Float(v * 10.0));
    // A reading warning too: a fishery output left as "—" is counted as 0.
    blank_subtotals(&mut b, "经济社会", 7);
    let r105 = b.row_of("经济社会", "140105");
    b.set("经济社会", r105, 7, s("—"));
    b.save(&dir.join("w.xlsx"));
    let out = gep(&dir, &["run", "--data", "w.xlsx", "--out", "book.xlsx"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let book = Book::open(&dir.join("book.xlsx"));
    let checks = &book.sheets.iter().find(|(n, _)| n == "校验").unwrap().1;
    let rows: Vec<String> = checks
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    assert!(
        rows.iter().any(|r| r.starts_with("比例审核|警告|w.xlsx [")
            && r.contains("140722")
            && r.contains("人均")),
        "{rows:#?}"
    );
    // Every warning on the Chinese 校验 sheet is in Chinese (regression: messages were English).
    let messages: Vec<&Vec<Data>> = checks
        .iter()
        .filter(|r| matches!(r.get(1), Some(Data::String(t)) if t == "警告"))
        .collect();
    assert!(messages.len() >= 4, "{rows:#?}");
    for m in messages {
        let text = m[3].to_string();
        assert!(
            text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "an English message on the Chinese 校验 sheet: {text}"
        );
    }
    assert!(
        rows.iter()
            .any(|r| r.starts_with("读取|警告|w.xlsx [经济社会]") && r.contains("按 0 计")),
        "{rows:#?}"
    );
}

/// Regression: a 实物量 row for a service valued per hectare of each land class (pest control,
/// biodiversity) was accepted and valued at 0 without a word.
#[test]
fn a_physical_row_for_a_per_hectare_service_is_refused_not_valued_at_zero() {
    let mut b = Book::demo();
    let last = b.sheet("实物量").len();
    for (c, v) in [
        s("140105"),
        s("小店区"),
        s("病虫害控制"),
        Data::Float(100.0),
        s("公顷"),
        s("test"),
    ]
    .into_iter()
    .enumerate()
    {
        b.set("实物量", last, c, v);
    }
    let (code, stderr) = check("per_hectare_override", &b, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_has(
        &stderr,
        &[
            "[实物量!D",
            "实物量: pest_control is valued per hectare of each land class",
        ],
    );
}

/// Not false alarms (review of the audits): a merged "—" over two counties' cells counts nothing
/// twice, and an uncalculated formula in a column gep does not read is only a warning.
#[test]
fn a_merged_placeholder_and_a_formula_outside_the_data_are_not_errors() {
    let dir = workdir("not_false_alarms");
    let mut b = Book::demo();
    blank_subtotals(&mut b, "经济社会", 7);
    let r = b.row_of("经济社会", "140105");
    b.set("经济社会", r, 7, s("—"));
    b.set("经济社会", r + 1, 7, Data::Empty);
    b.merges
        .push(("经济社会".into(), r as u32, 7, r as u32 + 1, 7));
    // A formula in a column to the right of the table (not read), without a cached value.
    let width = b.sheet("经济社会")[r].len();
    b.set(
        "经济社会",
        r,
        width + 2,
        Data::Error(calamine::CellErrorType::Div0),
    );
    b.save(&dir.join("w.xlsx"));
    rewrite_sheets(&dir.join("w.xlsx"), |xml| {
        xml.replacen(
            r#" t="e"><f>1/0</f><v>#DIV/0!</v>"#,
            "><f>SUM(E5:H5)</f>",
            1,
        )
    });
    let out = gep(&dir, &["check", "w.xlsx"]);
    let stderr = text(&out).1;
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("merged range"), "{stderr}");
    assert_has(
        &stderr,
        &["1 formula cells outside the data read have no calculated value"],
    );
}

/// Regression (review): a year written 1021 in a title was not read as a year at all.
#[test]
fn an_implausible_year_in_a_title_is_an_error() {
    let mut b = Book::demo();
    let title = b.sheet("土地利用")[0][0]
        .to_string()
        .replacen("2021年", "1021年", 1);
    b.set("土地利用", 0, 0, s(&title));
    let (code, stderr) = check("past_year", &b, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_has(
        &stderr,
        &["error [logic]: w.xlsx [土地利用!A1]: the year 1021 is not a plausible accounting year"],
    );
}
