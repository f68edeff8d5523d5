//! The account book read back with calamine, cell by cell against the CSV accounts.

use std::collections::BTreeMap;

use calamine::{Data, Reader, Xlsx, open_workbook};

use crate::util::*;

#[test]
fn book_has_every_sheet_and_its_values_equal_the_accounts() {
    let dir = workdir("book_readback");
    let out = gep(&dir, &["run", "--out", "book.xlsx", "--csv", "csv"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let mut wb: Xlsx<_> = open_workbook(dir.join("book.xlsx")).unwrap();
    assert_eq!(
        wb.sheet_names(),
        [
            "说明",
            "汇总",
            "图表",
            "实物量",
            "价值量",
            "明细",
            "GEEP",
            "当量因子法",
            "系数",
            "校验"
        ]
    );

    let (h, rows) = read_csv(&dir.join("csv/accounts.csv"));
    let idx = |n: &str| h.iter().position(|x| x == n).unwrap();
    let mut expected: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut not_valued = std::collections::BTreeSet::new();
    for r in &rows {
        if r[idx("valued")] == "false" {
            // Not valued: an empty value in the CSV, a blank cell in the book — never 0.
            assert!(r[idx("value_cny")].is_empty() && r[idx("quantity")].is_empty());
            not_valued.insert(r[idx("indicator_zh")].clone());
            continue;
        }
        expected.insert(
            (r[idx("code")].clone(), r[idx("indicator_zh")].clone()),
            r[idx("value_cny")].parse::<f64>().unwrap(),
        );
    }
    // Not valued by the built-in set: hydropower, sand fixation, water purification, climate
    // regulation, biodiversity, negative air ions.
    assert_eq!(not_valued.len(), 6, "{not_valued:?}");

    // 价值量: header row 3 (index 2), data from index 3; values in 万元.
    let value = wb.worksheet_range("价值量").unwrap();
    let header: Vec<String> = (0..value.width())
        .map(|c| value.get((2, c)).map(|d| d.to_string()).unwrap_or_default())
        .collect();
    let mut checked = 0;
    for r in 3..value.height() {
        let Some(Data::String(code)) = value.get((r, 0)) else {
            continue;
        };
        let mut row_sum = 0.0;
        for (c, head) in header.iter().enumerate().skip(4) {
            if head.ends_with("未核算") {
                assert!(
                    matches!(value.get((r, c)), None | Some(Data::Empty)),
                    "价值量 {r},{c}: a not-valued indicator must be blank"
                );
                continue;
            }
            let Some(Data::Float(v)) = value.get((r, c)) else {
                panic!("价值量 {r},{c} not a number")
            };
            if head.starts_with("GEP") {
                assert!(close(*v, row_sum, 1e-9), "GEP of {code} = Σ indicators");
                continue;
            }
            row_sum += v;
            let label = head.split('\n').nth(1).unwrap();
            let want = expected[&(code.clone(), label.to_string())] / 1e4;
            assert!(
                close(*v, want, 1e-12),
                "价值量 {code} {label}: book {v} csv {want}"
            );
            checked += 1;
        }
    }
    assert_eq!(
        checked,
        (117 + 11 + 1) * (INDICATOR_COUNT - not_valued.len())
    );

    let about = wb.worksheet_range("说明").unwrap();
    let about_text: Vec<String> = about
        .rows()
        .flat_map(|r| r.iter().map(|d| d.to_string()))
        .collect();
    // Coverage, visibly (regression: a service the set cannot value showed as 0.00): the 说明
    // coverage table marks each not-valued indicator with its reason, 汇总 says what GEP sums.
    let coverage_rows: Vec<Vec<String>> = about
        .rows()
        .filter(|r| matches!(r.get(1), Some(Data::String(t)) if t == "未核算"))
        .map(|r| r.iter().map(|d| d.to_string()).collect())
        .collect();
    assert_eq!(coverage_rows.len(), not_valued.len(), "{coverage_rows:?}");
    for row in &coverage_rows {
        assert!(not_valued.contains(&row[0]), "{row:?}");
        assert!(!row[4].is_empty(), "a reason for {}", row[0]);
    }
    let summary = wb.worksheet_range("汇总").unwrap();
    assert!(
        summary.rows().any(|r| r
            .iter()
            .any(|c| c.to_string().starts_with("GEP 为已核算指标之和；未核算"))),
        "汇总 labels GEP as the sum of the valued indicators"
    );
    let demo_sha = {
        use sha2::{Digest, Sha256};
        Sha256::digest(std::fs::read(demo()).unwrap())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert!(
        about_text.iter().any(|t| t.contains("SYNTHETIC")),
        "About says the demo is synthetic"
    );
    assert!(
        about_text.iter().any(|t| t == &demo_sha),
        "About lists the input SHA-256"
    );
    assert!(
        about_text
            .iter()
            .any(|t| t.contains(env!("CARGO_PKG_VERSION")))
    );

    let lines = wb.worksheet_range("明细").unwrap();
    assert!(lines.height() > 5000);
    // A line names its input cell.
    assert!(lines.rows().any(|r| r.get(3).is_some_and(|d| {
        d.to_string()
            .starts_with("shanxi-demo-2021.xlsx [土地利用!")
    })));
}

/// The bytes of the demo book written in a fresh directory `name` with a fixed
/// SOURCE_DATE_EPOCH and the extra environment `env`.
fn demo_book_bytes(name: &str, env: &[(&str, &str)]) -> Vec<u8> {
    let dir = workdir(name);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gep"))
        .args(["run", "--out", "book.xlsx"])
        .current_dir(&dir)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    std::fs::read(dir.join("book.xlsx")).unwrap()
}

#[test]
fn same_inputs_and_source_date_epoch_give_the_same_bytes() {
    assert!(
        demo_book_bytes("deterministic_a", &[]) == demo_book_bytes("deterministic_b", &[]),
        "two runs differ"
    );
}

/// The 明细 sheets are written in parallel with each other and with the other sheets: the book
/// must still be the same bytes run to run (formats registered by several sheets at once, sheets
/// put in book order afterwards). The row limit is lowered so the demo fills several sheets.
#[test]
fn detail_sheets_written_in_parallel_give_the_same_bytes_run_to_run() {
    let run = |name: &str| demo_book_bytes(name, &[("GEP_TEST_LINES_PER_SHEET", "1500")]);
    let first = run("parallel_sheets_a");
    let names: Vec<String> = {
        let wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(first.clone())).unwrap();
        wb.sheet_names()
    };
    assert!(
        names.iter().filter(|n| n.starts_with("明细")).count() >= 3,
        "{names:?}"
    );
    // Book order: the account sheets, then the 明细 sheets in turn, then the rest.
    let detail = names.iter().position(|n| n == "明细").unwrap();
    assert_eq!(names[detail - 1], "价值量");
    assert_eq!(names[detail + 1], "明细 (2)");
    assert_eq!(names[detail + 2], "明细 (3)");
    for k in ["b", "c"] {
        assert!(
            run(&format!("parallel_sheets_{k}")) == first,
            "two runs differ"
        );
    }
}

#[test]
fn transfer_allocation_sums_to_the_budget_to_the_yuan() {
    let dir = workdir("transfer");
    let out = gep(
        &dir,
        &["run", "--budget", "123456789", "--out", "book.xlsx"],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let mut wb: Xlsx<_> = open_workbook(dir.join("book.xlsx")).unwrap();
    let sheet = wb.worksheet_range("转移支付").unwrap();
    let header: Vec<String> = (0..sheet.width())
        .map(|c| sheet.get((5, c)).map(|d| d.to_string()).unwrap_or_default())
        .collect();
    let col = |name: &str| header.iter().position(|h| h.starts_with(name)).unwrap();
    let (amount, now, later, share) = (
        col("分配额"),
        col("当期拨付"),
        col("考核后拨付"),
        col("份额"),
    );
    let mut total = 0i64;
    let mut counties = 0;
    let mut shares = Vec::new();
    for r in 6..sheet.height() {
        let Some(Data::String(code)) = sheet.get((r, 0)) else {
            continue;
        };
        assert_eq!(code.len(), 6);
        let get = |c: usize| match sheet.get((r, c)) {
            Some(Data::Float(v)) => *v,
            other => panic!("{other:?}"),
        };
        let a = get(amount);
        assert_eq!(a.fract(), 0.0, "whole yuan");
        assert_eq!(a, get(now) + get(later));
        shares.push(get(share));
        total += a as i64;
        counties += 1;
    }
    assert_eq!(counties, 117);
    assert_eq!(total, 123_456_789);
    // Policy limits: 0.2 % ≤ share ≤ 3 %.
    assert!(
        shares
            .iter()
            .all(|s| *s >= 0.002 - 1e-12 && *s <= 0.03 + 1e-12),
        "{shares:?}"
    );
    // The total row's cached SUM is the budget.
    let total_row = (6..sheet.height())
        .find(|&r| matches!(sheet.get((r, 1)), Some(Data::String(t)) if t == "合计"))
        .unwrap();
    assert_eq!(
        sheet.get((total_row, amount)),
        Some(&Data::Float(123_456_789.0))
    );
}

/// The demo relabelled as the year before (same quantities, same reported values).
/// The previous year's workbook with 10 % more 乔木林地 in 140105, taken from its 其他 column;
/// returns this year's 乔木林地 of 140105 (ha).
fn previous_year_with_more_forest(path: &std::path::Path) -> f64 {
    previous_year_workbook(path);
    let mut prev = Book::open(path);
    let r = prev.row_of("土地利用", "140105");
    let (Data::Float(forest), Data::Float(other)) = (
        prev.sheet("土地利用")[r][6].clone(),
        prev.sheet("土地利用")[r][16].clone(),
    ) else {
        panic!("140105's 乔木林地 and 其他 are numbers")
    };
    prev.set("土地利用", r, 6, Data::Float(forest * 1.1));
    prev.set("土地利用", r, 16, Data::Float(other - forest * 0.1));
    prev.save(path);
    forest
}

fn previous_year_workbook(path: &std::path::Path) {
    let mut b = Book::demo();
    for (name, grid) in b.sheets.iter_mut() {
        if let Some(Data::String(title)) = grid.first().and_then(|r| r.first()).cloned() {
            let year = if name.contains("上年") {
                "2019年"
            } else {
                "2020年"
            };
            grid[0][0] = Data::String(
                title
                    .replacen("2021年", year, 1)
                    .replacen("2020年", year, 1),
            );
        }
    }
    b.save(path);
}

#[test]
fn change_against_the_previous_year_splits_quantity_and_price() {
    let dir = workdir("change");
    previous_year_workbook(&dir.join("2020.xlsx"));
    let out = gep(
        &dir,
        &[
            "run",
            "--previous",
            "2020.xlsx",
            "--out",
            "book.xlsx",
            "--csv",
            "csv2021",
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    // The previous year's own book works as --previous too, with the same result.
    let prev_book = gep(
        &dir,
        &[
            "run",
            "--data",
            "2020.xlsx",
            "--out",
            "book-2020.xlsx",
            "--csv",
            "csv2020",
        ],
    );
    assert!(prev_book.status.success(), "{}", text(&prev_book).1);
    let out2 = gep(
        &dir,
        &["run", "--previous", "book-2020.xlsx", "--out", "book2.xlsx"],
    );
    assert!(out2.status.success(), "{}", text(&out2).1);
    // So does an English book in 元 (regression: it was not recognised, and 元 were read as 万元).
    let prev_en = gep(
        &dir,
        &[
            "run",
            "--data",
            "2020.xlsx",
            "--lang",
            "en",
            "--money",
            "yuan",
            "--out",
            "book-2020-en.xlsx",
        ],
    );
    assert!(prev_en.status.success(), "{}", text(&prev_en).1);
    let out3 = gep(
        &dir,
        &[
            "run",
            "--previous",
            "book-2020-en.xlsx",
            "--out",
            "book3.xlsx",
        ],
    );
    assert!(out3.status.success(), "{}", text(&out3).1);
    let read = |name: &str| {
        let mut wb: Xlsx<_> = open_workbook(dir.join(name)).unwrap();
        wb.worksheet_range("变化").unwrap()
    };
    let (a, b) = (read("book.xlsx"), read("book2.xlsx"));
    let c = read("book3.xlsx");
    let header: Vec<String> = (0..a.width())
        .map(|c| a.get((2, c)).map(|d| d.to_string()).unwrap_or_default())
        .collect();
    let col = |h: &str| {
        header
            .iter()
            .position(|x| x == h)
            .unwrap_or_else(|| panic!("{h} not in {header:?}"))
    };
    let province = (3..a.height())
        .find(|&r| matches!(a.get((r, 0)), Some(Data::String(c)) if c == "140000"))
        .unwrap();
    let num = |s: &calamine::Range<Data>, c: usize| match s.get((province, c)) {
        Some(Data::Float(v)) => *v,
        other => panic!("{other:?}"),
    };
    // The per-indicator detail is a second table below the county × category one.
    let detail_head = (3..a.height())
        .find(|&r| {
            (0..a.width())
                .any(|c| matches!(a.get((r, c)), Some(Data::String(h)) if h == "水源涵养\n增长率"))
        })
        .expect("the per-indicator table");
    assert!(detail_head > province, "the category table comes first");
    let detail_col = |h: &str| {
        (0..a.width())
            .find(|&c| matches!(a.get((detail_head, c)), Some(Data::String(x)) if x == h))
            .unwrap_or_else(|| panic!("{h} not in the detail header"))
    };
    let province_detail = (detail_head..a.height())
        .find(|&r| matches!(a.get((r, 0)), Some(Data::String(c)) if c == "140000"))
        .unwrap();
    let detail = |c: usize| match a.get((province_detail, c)) {
        Some(Data::Float(v)) => *v,
        other => panic!("{other:?}"),
    };
    // Same quantities: water conservation does not change at constant prices.
    assert!(detail(detail_col("水源涵养\n增长率")).abs() < 1e-12);
    // Reported product values equal in both years: at 2020 prices 2021 is worth 1/1.009 of it.
    assert!((detail(detail_col("农业产品\n增长率")) - (1.0 / 1.009 - 1.0)).abs() < 1e-9);
    // The category table: each category's growth at current prices.
    assert!(
        header.iter().any(|h| h == "调节服务\n增长率 现价"),
        "{header:?}"
    );
    // Regression (变化 contradicted 汇总): the current-price GEP of each year is that year's
    // account, in 万元, as its 汇总 and accounts.csv give it.
    let province_gep = |csv: &str| {
        let (h, rows) = read_csv(&dir.join(csv).join("accounts.csv"));
        let (level, value) = (
            h.iter().position(|x| x == "level").unwrap(),
            h.iter().position(|x| x == "value_cny").unwrap(),
        );
        rows.iter()
            .filter(|r| r[level] == "province" && !r[value].is_empty())
            .map(|r| r[value].parse::<f64>().unwrap())
            .sum::<f64>()
            / 1e4
    };
    assert!(close(
        num(&a, col("GEP 2021\n现价")),
        province_gep("csv2021"),
        1e-12
    ));
    // … and the terminal line ("2021 山西省 GEP 6729.90 亿元").
    let stdout = text(&out).0;
    let printed: f64 = stdout
        .split(" GEP ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        (printed - num(&a, col("GEP 2021\n现价")) / 1e4).abs() < 0.005,
        "{stdout}"
    );
    assert!(close(
        num(&a, col("GEP 2020\n现价")),
        province_gep("csv2020"),
        1e-12
    ));
    // Current-price change = quantity effect + price effect.
    let d = num(&a, col("GEP 2021\n现价")) - num(&a, col("GEP 2020\n现价"));
    assert!(close(
        d,
        num(&a, col("数量影响")) + num(&a, col("价格影响")),
        1e-9
    ));
    // From the previous book (Chinese, or English in 元): the same numbers.
    for (col, other) in (4..a.width()).flat_map(|k| [(k, &b), (k, &c)]) {
        if let (Some(Data::Float(x)), Some(Data::Float(y))) =
            (a.get((province, col)), other.get((province, col)))
        {
            assert!(
                close(*x, *y, 1e-9) || (x - y).abs() < 1e-9,
                "column {col}: {x} vs {y}"
            );
        }
    }
}

#[test]
fn an_english_book_has_english_sheets_and_the_same_values() {
    let dir = workdir("lang_en");
    for (lang, name) in [("zh", "zh.xlsx"), ("en", "en.xlsx")] {
        let out = gep(&dir, &["run", "--lang", lang, "--out", name]);
        assert!(out.status.success(), "{}", text(&out).1);
    }
    let mut en: Xlsx<_> = open_workbook(dir.join("en.xlsx")).unwrap();
    let mut zh: Xlsx<_> = open_workbook(dir.join("zh.xlsx")).unwrap();
    assert_eq!(
        en.sheet_names(),
        [
            "About",
            "Summary",
            "Charts",
            "Physical",
            "Value",
            "Lines",
            "GEEP",
            "ESV",
            "Coefficients",
            "Checks"
        ]
    );
    let (a, b) = (
        en.worksheet_range("Value").unwrap(),
        zh.worksheet_range("价值量").unwrap(),
    );
    assert_eq!(
        a.get((2, 4)).map(|d| d.to_string()),
        Some("Provisioning\nAgricultural products\n(10k yuan)".to_string())
    );
    let numbers = |r: &calamine::Range<Data>| {
        r.used_cells()
            .filter_map(|(_, _, d)| {
                if let Data::Float(v) = d {
                    Some(*v)
                } else {
                    None
                }
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(numbers(&a), numbers(&b));
}

#[test]
fn geep_is_gdp_minus_costs_plus_regulating_services() {
    let dir = workdir("geep");
    // 2020 had 10 % more 乔木林地 in 140105 (taken from its 其他 column).
    previous_year_with_more_forest(&dir.join("2020.xlsx"));
    let out = gep(
        &dir,
        &["run", "--previous", "2020.xlsx", "--out", "book.xlsx"],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let mut wb: Xlsx<_> = open_workbook(dir.join("book.xlsx")).unwrap();
    let sheet = wb.worksheet_range("GEEP").unwrap();
    let mut damaged = 0;
    for r in 3..sheet.height() {
        let Some(Data::String(code)) = sheet.get((r, 0)) else {
            continue;
        };
        let v = |c: usize| match sheet.get((r, c)) {
            Some(Data::Float(x)) => *x,
            other => panic!("{code} col {c}: {other:?}"),
        };
        let (gdp, degradation, damage, regulating, geep) = (v(4), v(5), v(6), v(8), v(9));
        assert!(
            close(geep, gdp - degradation - damage + regulating, 1e-9)
                || (geep - (gdp - degradation - damage + regulating)).abs() < 1e-6,
            "{code}"
        );
        assert!(degradation > 0.0, "{code} has emissions");
        if damage > 0.0 {
            damaged += 1;
            assert!(
                code == "140105" || code == "140100" || code == "140000",
                "{code}"
            );
        }
    }
    assert_eq!(damaged, 3, "140105, 太原市 and the province");
    let summary = wb.worksheet_range("汇总").unwrap();
    assert!(matches!(summary.get((2, 15)), Some(Data::String(h)) if h.starts_with("GEEP")));
}

#[test]
fn money_can_be_shown_in_yuan() {
    let dir = workdir("money_yuan");
    for (money, name) in [("wan", "wan.xlsx"), ("yuan", "yuan.xlsx")] {
        let out = gep(&dir, &["run", "--money", money, "--out", name]);
        assert!(out.status.success(), "{}", text(&out).1);
    }
    let read = |name: &str| {
        let mut wb: Xlsx<_> = open_workbook(dir.join(name)).unwrap();
        wb.worksheet_range("价值量").unwrap()
    };
    let (wan, yuan) = (read("wan.xlsx"), read("yuan.xlsx"));
    let header = yuan.get((2, 4)).map(|d| d.to_string()).unwrap_or_default();
    assert!(header.ends_with("(元)"), "{header}");
    let (Some(Data::Float(a)), Some(Data::Float(b))) = (wan.get((3, 4)), yuan.get((3, 4))) else {
        panic!()
    };
    assert!(close(a * 1e4, *b, 1e-12), "{a} 万元 vs {b} 元");
}

/// The 实物量 sheet replaces the rate estimate and the 明细 line says so with the model source.
#[test]
fn physical_overrides_are_marked_in_the_lines_with_their_source() {
    let dir = workdir("physical_override_lines");
    let out = gep(&dir, &["run", "--out", "book.xlsx", "--csv", "csv"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let (head, rows) = read_csv(&dir.join("csv/lines.csv"));
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let soil: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| r[col("indicator")] == "soil_retention")
        .collect();
    assert_eq!(soil.len(), 117, "one override line per county");
    let first = soil
        .iter()
        .find(|r| r[col("county_code")] == "140105")
        .unwrap();
    assert_eq!(first[col("component")], "实物量");
    assert!(
        first[col("source_ref")].contains("[实物量!D3]"),
        "{first:?}"
    );
    assert!(
        first[col("method")]
            .contains("实物量 override (合成演示：按 RUSLE-SX 全省 6.52×10⁹ t 校准)"),
        "{first:?}"
    );
    // Province soil retention = the calibrated 6.52e9 t (万吨 converted at the boundary).
    let total: f64 = soil
        .iter()
        .map(|r| r[col("quantity")].parse::<f64>().unwrap())
        .sum();
    assert!((total - 6.52e9).abs() / 6.52e9 < 1e-6, "{total}");
    let mut wb: Xlsx<_> = open_workbook(dir.join("book.xlsx")).unwrap();
    let detail = wb.worksheet_range("明细").unwrap();
    assert!(
        detail.rows().any(|r| r
            .iter()
            .any(|c| c.to_string().starts_with("实物量 override"))),
        "明细 marks overridden lines"
    );
    // The 实物量 account sheet marks each given cell with a note naming the source.
    let mut zip =
        zip::ZipArchive::new(std::fs::File::open(dir.join("book.xlsx")).unwrap()).unwrap();
    let mut notes = String::new();
    for i in 0..zip.len() {
        let mut part = zip.by_index(i).unwrap();
        if part.name().unwrap().starts_with("xl/comments") {
            std::io::Read::read_to_string(&mut part, &mut notes).unwrap();
        }
    }
    assert_eq!(
        notes
            .matches("实物量表给出（模型结果，非按面积系数估算）")
            .count(),
        117,
        "one note per county"
    );
    assert!(notes.contains("实物量表给出（模型结果，非按面积系数估算）"));
    assert!(notes.contains("[实物量!D3]"));
}

/// A blank 环境 sheet (as the template gives it) is ignored with a warning, not read as zero
/// emissions.
#[test]
fn an_empty_environment_sheet_is_ignored_with_a_warning() {
    let dir = workdir("empty_environment");
    let mut b = Book::demo();
    for row in b.sheet("环境").iter_mut() {
        for cell in row.iter_mut().skip(2) {
            if matches!(cell, Data::Float(_)) {
                *cell = Data::Empty;
            }
        }
    }
    b.save(&dir.join("in.xlsx"));
    let out = gep(&dir, &["check", "in.xlsx"]);
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("the 环境 sheet is empty (no emissions reported): ignored"),
        "{stderr}"
    );
}

/// The parts of an xlsx file whose names start with `prefix`, as text.
fn xlsx_parts(path: &std::path::Path, prefix: &str) -> Vec<(String, String)> {
    use std::io::Read as _;
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut parts = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        if name.starts_with(prefix) {
            let mut text = String::new();
            f.read_to_string(&mut text).unwrap();
            parts.push((name, text));
        }
    }
    parts.sort();
    parts
}

/// The numbers inside `<tag>…</tag>` in order.
fn tag_numbers(xml: &str, tag: &str) -> Vec<u32> {
    let open = format!("<{tag}>");
    xml.match_indices(&open)
        .filter_map(|(i, _)| {
            let rest = &xml[i + open.len()..];
            rest[..rest.find('<')?].parse().ok()
        })
        .collect()
}

/// Regression: the three charts were anchored over each other (every label is checked on the
/// printed page in `print.rs`).
#[test]
fn charts_do_not_overlap_and_every_sheet_has_a_page_setup() {
    let dir = workdir("chart_layout");
    let out = gep(&dir, &["run", "--out", "book.xlsx"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let drawings = xlsx_parts(&dir.join("book.xlsx"), "xl/drawings/drawing");
    let anchors: Vec<(u32, u32)> = drawings
        .iter()
        .filter(|(n, _)| n.ends_with(".xml"))
        .flat_map(|(_, xml)| {
            let rows = tag_numbers(xml, "xdr:row");
            rows.chunks(2).map(|c| (c[0], c[1])).collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(anchors.len(), 6, "{anchors:?}");
    for (i, a) in anchors.iter().enumerate() {
        for b in &anchors[i + 1..] {
            assert!(
                a.1 < b.0 || b.1 < a.0,
                "charts overlap: rows {a:?} and {b:?}"
            );
        }
    }
    let charts = xlsx_parts(&dir.join("book.xlsx"), "xl/charts/chart");
    assert_eq!(charts.len(), 6);
    for (name, xml) in &charts {
        assert!(
            xml.contains("#,##0") || xml.contains("0%"),
            "{name}: axis numbers without separators"
        );
    }
    // Every sheet has a page setup: orientation, fit to width, page numbers in the footer.
    let sheets = xlsx_parts(&dir.join("book.xlsx"), "xl/worksheets/sheet");
    assert!(sheets.len() >= 10);
    for (name, xml) in &sheets {
        assert!(
            xml.contains("<pageSetup") && xml.contains("orientation="),
            "{name}: no page setup"
        );
        assert!(
            xml.contains(r#"fitToHeight="0""#),
            "{name}: not fitted to width"
        );
        assert!(xml.contains("&amp;P / &amp;N"), "{name}: no page numbers");
    }
}

/// Regression: 明细 was sorted by the indicators' English keys and a quantity formula held an
/// unexplained cap factor; now rows follow the book's indicator order and the factor is a cell.
#[test]
fn lines_follow_the_book_order_and_formulas_hold_no_bare_factor() {
    let dir = workdir("lines_order");
    let out = gep(&dir, &["run", "--out", "book.xlsx"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let mut wb: Xlsx<_> = open_workbook(dir.join("book.xlsx")).unwrap();
    let lines = wb.worksheet_range("明细").unwrap();
    let value = wb.worksheet_range("价值量").unwrap();
    // Indicator labels in the book's order, from the 价值量 header (category\nlabel\n(unit)).
    let order: Vec<String> = (4..value.width())
        .filter_map(|c| value.get((2, c)).map(|d| d.to_string()))
        .filter_map(|h| h.split('\n').nth(1).map(str::to_string))
        .collect();
    assert!(order.len() >= 17, "{order:?}");
    let mut last: Option<(String, usize)> = None;
    for r in 3..lines.height() {
        let (Some(Data::String(code)), Some(Data::String(label))) =
            (lines.get((r, 0)), lines.get((r, 1)))
        else {
            continue;
        };
        let pos = order
            .iter()
            .position(|l| l == label)
            .unwrap_or_else(|| panic!("{label}"));
        if let Some((c, p)) = &last
            && c == code
        {
            assert!(pos >= *p, "row {}: {label} after {}", r + 1, order[*p]);
        }
        last = Some((code.clone(), pos));
    }
    let formulas = wb.worksheet_formula("明细").unwrap();
    let mut capped = 0;
    for (r, c, f) in formulas.used_cells() {
        let (row, col) = (
            r as u32 + formulas.start().unwrap().0,
            c as u32 + formulas.start().unwrap().1,
        );
        if col == 10 && !f.is_empty() {
            assert!(
                !f.split('*')
                    .any(|t| t.contains('.') && t.parse::<f64>().is_ok()),
                "K{}: {f}",
                row + 1
            );
            if f.ends_with(&format!("P{}", row + 1)) {
                capped += 1;
                assert!(
                    matches!(lines.get((row as usize, 15)), Some(Data::Float(x)) if *x > 0.0 && *x <= 1.0)
                );
            }
        }
    }
    assert!(
        capped > 0,
        "the demo's air purification is capped at emissions"
    );
    // Regression: 明细 was in 元 while every other sheet is in 万元. Its values now sum to the
    // province GEP of 价值量 in the same unit.
    assert!(matches!(lines.get((2, 14)), Some(Data::String(h)) if h == "价值 (万元)"));
    let total: f64 = (3..lines.height())
        .filter_map(|r| match lines.get((r, 14)) {
            Some(Data::Float(v)) => Some(*v),
            _ => None,
        })
        .sum();
    let province = (3..value.height())
        .find(|&r| matches!(value.get((r, 0)), Some(Data::String(c)) if c == "140000"))
        .unwrap();
    let gep = match value.get((province, value.width() - 1)) {
        Some(Data::Float(v)) => *v,
        other => panic!("{other:?}"),
    };
    assert!(
        close(total, gep, 1e-9),
        "明细 Σ {total} vs 价值量 GEP {gep}"
    );
}

/// Maximal runs of Chinese characters (CJK ideographs, CJK and full-width punctuation).
fn chinese_runs(text: &str) -> Vec<String> {
    let is_cjk = |c: char| matches!(c, '\u{3000}'..='\u{303f}' | '\u{4e00}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}');
    let mut runs = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if is_cjk(c) {
            current.push(c);
        } else if !current.is_empty() {
            runs.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// Regression: with `--lang en` several headers, labels, notes and messages stayed Chinese.
/// Every Chinese run left in the English book must be a name from the inputs: a run of the
/// input workbook (county, land class and sheet names, headers) or of the coefficient files.
#[test]
fn an_english_book_has_no_chinese_but_names_from_the_inputs() {
    let dir = workdir("lang_en_text");
    let out = gep(
        &dir,
        &["run", "--lang", "en", "--budget", "5亿", "--out", "en.xlsx"],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let mut vocabulary: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for (name, grid) in Book::demo().sheets {
        vocabulary.extend(chinese_runs(&name));
        for row in grid {
            for cell in row {
                if let Data::String(t) = cell {
                    vocabulary.extend(chinese_runs(&t));
                }
            }
        }
    }
    for f in std::fs::read_dir(root().join("coefficients/shanxi")).unwrap() {
        let f = f.unwrap();
        if f.file_name() != "README.md" {
            vocabulary.extend(chinese_runs(&std::fs::read_to_string(f.path()).unwrap()));
        }
    }
    let book = Book::open(&dir.join("en.xlsx"));
    let mut foreign = std::collections::BTreeMap::new();
    for (sheet, grid) in &book.sheets {
        assert!(chinese_runs(sheet).is_empty(), "sheet name {sheet}");
        for (r, row) in grid.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if let Data::String(t) = cell {
                    for run in chinese_runs(t) {
                        if !vocabulary.contains(&run) {
                            foreign.entry(run).or_insert_with(|| {
                                format!("{sheet}!{} {t:?}", gep::error::a1(r as u32, c as u16))
                            });
                        }
                    }
                }
            }
        }
    }
    assert!(
        foreign.is_empty(),
        "Chinese in the English book: {foreign:#?}"
    );
}

/// Rows of a book sheet keyed by the code in column A, from `first` on.
fn rows_by_code(sheet: &calamine::Range<Data>, first: usize) -> BTreeMap<String, Vec<Data>> {
    let mut out = BTreeMap::new();
    for r in first..sheet.height() {
        if let Some(Data::String(code)) = sheet.get((r, 0))
            && code.chars().all(|c| c.is_ascii_digit())
            && !code.is_empty()
        {
            out.entry(code.clone()).or_insert_with(|| {
                (0..sheet.width())
                    .map(|c| sheet.get((r, c)).cloned().unwrap_or(Data::Empty))
                    .collect()
            });
        }
    }
    out
}

fn number(d: &Data) -> f64 {
    match d {
        Data::Float(x) => *x,
        Data::Int(i) => *i as f64,
        other => panic!("not a number: {other:?}"),
    }
}

/// `--csv` writes the equivalent-factor account by ecosystem type × service (`esv.csv`) and the
/// GEEP terms (`geep.csv`); both equal the book's 当量因子法 and GEEP sheets, including the
/// province's table by ecosystem type.
#[test]
fn esv_and_geep_csv_tables_equal_the_book_sheets() {
    let dir = workdir("esv_geep_csv");
    let out = gep(&dir, &["run", "--out", "book.xlsx", "--csv", "csv"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let mut wb: Xlsx<_> = open_workbook(dir.join("book.xlsx")).unwrap();
    let services = 11;

    // esv.csv: one row per unit × ecosystem type × service.
    let (head, rows) = read_csv(&dir.join("csv/esv.csv"));
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let mut by_unit: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut province_by_type: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    for r in &rows {
        let Ok(v) = r[col("value_cny")].parse::<f64>() else {
            assert_eq!(
                r[col("ecosystem_type")],
                "",
                "only unmapped classes go unvalued"
            );
            continue;
        };
        *by_unit
            .entry((r[col("code")].clone(), r[col("service")].clone()))
            .or_default() += v;
        if r[col("level")] == "province" {
            province_by_type.insert(
                (r[col("ecosystem_type")].clone(), r[col("service")].clone()),
                (r[col("area_ha")].parse().unwrap(), v),
            );
        }
    }
    let sheet = wb.worksheet_range("当量因子法").unwrap();
    let book = rows_by_code(&sheet, 3);
    assert_eq!(book.len(), 117 + 11 + 1, "counties, prefectures, province");
    let service_keys: Vec<String> = {
        let mut keys: Vec<String> = Vec::new();
        for r in rows.iter().take(services) {
            keys.push(r[col("service")].clone());
        }
        keys
    };
    for (code, cells) in &book {
        let mut total = 0.0;
        for (k, key) in service_keys.iter().enumerate() {
            let csv = by_unit[&(code.clone(), key.clone())];
            let in_book = number(&cells[4 + k]) * 1e4;
            assert!(
                close(csv, in_book, 1e-9),
                "{code} {key}: {csv} vs {in_book}"
            );
            total += csv;
        }
        assert!(
            close(total, number(&cells[4 + services]) * 1e4, 1e-9),
            "{code}"
        );
    }

    // The province's table by ecosystem type (below the county table) equals esv.csv.
    let title = (0..sheet.height())
        .find(
            |r| matches!(sheet.get((*r, 0)), Some(Data::String(t)) if t.contains("按生态系统类型")),
        )
        .expect("a table by ecosystem type");
    let mut checked = 0;
    for r in title + 2..sheet.height() {
        let Some(Data::String(name)) = sheet.get((r, 1)) else {
            continue;
        };
        let Some(Data::Float(area)) = sheet.get((r, 2)) else {
            continue;
        };
        if name.starts_with('（') || name == "合计" {
            continue;
        }
        for (k, key) in service_keys.iter().enumerate() {
            let (csv_area, csv_value) = province_by_type[&(name.clone(), key.clone())];
            assert!(close(*area, csv_area, 1e-9), "{name} area");
            // The services stand in the county table's columns (E…).
            let in_book = number(sheet.get((r, 4 + k)).unwrap()) * 1e4;
            assert!(close(csv_value, in_book, 1e-9), "{name} {key}");
        }
        checked += 1;
    }
    assert!(checked >= 5, "types checked: {checked}");
    assert_eq!(
        checked,
        province_by_type
            .keys()
            .map(|(t, _)| t)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );

    // geep.csv: GDP and GEEP equal the GEEP sheet; the identity holds in the CSV itself.
    let (head, rows) = read_csv(&dir.join("csv/geep.csv"));
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let sheet = wb.worksheet_range("GEEP").unwrap();
    let book = rows_by_code(&sheet, 3);
    assert_eq!(rows.len(), book.len());
    for r in &rows {
        let v = |n: &str| r[col(n)].parse::<f64>().unwrap_or(0.0);
        let cells = &book[&r[col("code")]];
        assert!(close(v("gdp_cny"), number(&cells[4]) * 1e4, 1e-9));
        assert!(close(v("geep_cny"), number(&cells[9]) * 1e4, 1e-9));
        let deducted = r[col("depletion_deducted")] == "true";
        let identity = v("gdp_cny")
            - v("degradation_cny")
            - v("damage_area_loss_cny")
            - v("damage_subsidence_cny")
            - if deducted { v("depletion_cny") } else { 0.0 }
            + v("regulating_cny");
        assert!(close(v("geep_cny"), identity, 1e-9), "{:?}", r);
        assert_eq!(r[col("degradation_basis")], "computed");
    }
}

/// Many published GEEP accounts give only the environmental degradation cost and the ecological
/// damage cost in money per county. A 环境 sheet with those two columns (and no emissions) runs;
/// the given costs are used as they are, and a county that also reports emissions is warned at
/// the given cell.
#[test]
fn geep_costs_given_in_money_are_used_and_a_double_source_is_warned() {
    let dir = workdir("geep_money");
    let mut b = Book::demo();
    let env = b.sheet("环境");
    let header = env
        .iter()
        .position(|r| matches!(&r[0], Data::String(s) if s == "区划代码"))
        .unwrap();
    // Columns C, D: the two costs (万元); E–G emptied; H (资源耗减成本) kept.
    let mut given: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for (i, row) in env.iter_mut().enumerate() {
        if i == header {
            row[2] = Data::String("环境退化成本(万元)".into());
            row[3] = Data::String("生态破坏成本(万元)".into());
        }
        if i <= header {
            for cell in row.iter_mut().take(7).skip(4) {
                *cell = Data::Empty;
            }
            continue;
        }
        if let Data::String(code) = row[0].clone()
            && code.len() == 6
            && !code.ends_with("00")
        {
            let Data::Float(so2) = row[2] else { panic!() };
            // Synthetic costs: 0.5 万元 per t SO₂, damage a tenth of that.
            let cost = ((so2 * 0.5) * 100.0).round() / 100.0;
            let damage = ((so2 * 0.05) * 100.0).round() / 100.0;
            given.insert(code, (cost, damage));
            row[2] = Data::Float(cost);
            row[3] = Data::Float(damage);
            for cell in row.iter_mut().take(7).skip(4) {
                *cell = Data::Empty;
            }
        }
    }
    // Subtotal rows (prefectures PPQQ00, the province PP0000) carry their counties' sums.
    for row in env.iter_mut().skip(header + 1) {
        if let Data::String(code) = row[0].clone()
            && code.len() == 6
            && code.ends_with("00")
        {
            let prefix = if code.ends_with("0000") {
                &code[..2]
            } else {
                &code[..4]
            };
            let (cost, damage) = given
                .iter()
                .filter(|(c, _)| c.starts_with(prefix))
                .fold((0.0, 0.0), |(a, b), (_, (c, d))| (a + c, b + d));
            row[2] = Data::Float(cost);
            row[3] = Data::Float(damage);
            for cell in row.iter_mut().take(7).skip(4) {
                *cell = Data::Empty;
            }
        }
    }
    let counties = given.clone();
    b.save(&dir.join("money.xlsx"));
    let out = gep(
        &dir,
        &[
            "run",
            "--data",
            "money.xlsx",
            "--out",
            "book.xlsx",
            "--csv",
            "csv",
        ],
    );
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let (head, rows) = read_csv(&dir.join("csv/geep.csv"));
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let mut county_rows = 0;
    for r in &rows {
        let code = &r[col("code")];
        let v = |n: &str| r[col(n)].parse::<f64>().unwrap();
        // Every unit's cost is its counties' given costs, in yuan.
        let prefix = match r[col("level")].as_str() {
            "county" => code.as_str(),
            "prefecture" => &code[..4],
            _ => &code[..2],
        };
        let (cost, damage) = counties
            .iter()
            .filter(|(c, _)| c.starts_with(prefix))
            .fold((0.0, 0.0), |(a, b), (_, (c, d))| (a + c, b + d));
        assert!(close(v("degradation_cny"), cost * 1e4, 1e-9), "{code}");
        assert!(
            close(v("damage_area_loss_cny"), damage * 1e4, 1e-9),
            "{code}"
        );
        assert_eq!(r[col("degradation_basis")], "given");
        assert_eq!(r[col("damage_basis")], "given");
        county_rows += usize::from(r[col("level")] == "county");
    }
    assert_eq!(county_rows, 117);
    assert!(
        !stderr.contains("同时给出") && !stderr.contains("gives both"),
        "{stderr}"
    );

    // 小店区 also reports its SO₂: the given cost is used and the cell is named.
    let r = b.row_of("环境", "140105");
    b.set("环境", header, 4, Data::String("二氧化硫(吨)".into()));
    b.set("环境", r, 4, Data::Float(100.0));
    b.save(&dir.join("both.xlsx"));
    let out = gep(&dir, &["check", "both.xlsx"]);
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("[环境!C5]") && stderr.contains("used"),
        "{stderr}"
    );
}

/// Issue 11, item 9: an equivalent-factor study gives land cover only. Such a workbook (or
/// `--accounts esv`) is an ESV run: one warning says GEP is not computed, the book has no GEP
/// sheet (no book of zeros), `esv.csv` is the full run's, and `--accounts gep` asks for the
/// missing sheets.
#[test]
fn a_land_cover_only_workbook_is_an_esv_study_with_the_full_runs_esv() {
    let dir = workdir("esv_only");
    let mut b = Book::demo();
    for name in [
        "森林资源",
        "森林资源(上年)",
        "供水",
        "经济社会",
        "环境",
        "实物量",
    ] {
        b.remove(name);
    }
    b.save(&dir.join("land.xlsx"));
    let full = gep(&dir, &["run", "--out", "full.xlsx", "--csv", "full"]);
    assert!(full.status.success(), "{}", text(&full).1);
    let out = gep(
        &dir,
        &[
            "run",
            "--data",
            "land.xlsx",
            "--out",
            "esv.xlsx",
            "--csv",
            "esv",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr
            .matches("an equivalent-factor (ESV) study — GEP and GEEP are not computed")
            .count(),
        1,
        "{stderr}"
    );
    assert!(
        stdout.contains("equivalent-factor study: no GEP"),
        "{stdout}"
    );
    assert!(!stdout.contains("GEP 0.00"), "{stdout}");
    let wb: Xlsx<_> = open_workbook(dir.join("esv.xlsx")).unwrap();
    assert_eq!(wb.sheet_names(), ["说明", "当量因子法", "系数", "校验"]);
    let files: Vec<String> = std::fs::read_dir(dir.join("esv"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["esv.csv"]);
    assert_eq!(
        std::fs::read_to_string(dir.join("esv/esv.csv")).unwrap(),
        std::fs::read_to_string(dir.join("full/esv.csv")).unwrap()
    );
    // Asked for GEP, the same workbook lacks its sheets: errors, nothing written.
    let out = gep(
        &dir,
        &[
            "run",
            "--data",
            "land.xlsx",
            "--accounts",
            "gep",
            "--out",
            "gep.xlsx",
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).1.contains("missing sheet 经济社会"),
        "{}",
        text(&out).1
    );
    assert!(!dir.join("gep.xlsx").exists());
    // Asked for ESV only, the full demo gives the same ESV and no GEP sheet, without a warning.
    let out = gep(
        &dir,
        &[
            "run",
            "--accounts",
            "esv",
            "--out",
            "esv2.xlsx",
            "--csv",
            "esv2",
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    assert!(!text(&out).1.contains("ESV) study"), "{}", text(&out).1);
    assert_eq!(
        std::fs::read_to_string(dir.join("esv2/esv.csv")).unwrap(),
        std::fs::read_to_string(dir.join("full/esv.csv")).unwrap()
    );
}

/// Issue 11, item 9: a GEEP study (`--accounts geep`) needs no 供水 sheet, no population and no
/// product columns: those indicators are not valued (said once), GDP and the costs are the full
/// run's, and GEEP = GDP − costs + the regulating services valued.
#[test]
fn a_geep_study_needs_no_water_supply_population_or_products() {
    let dir = workdir("geep_only");
    let mut b = Book::demo();
    b.remove("供水");
    let economy = b.sheet("经济社会");
    let header = economy
        .iter()
        .position(|r| matches!(&r[0], Data::String(s) if s == "区划代码"))
        .unwrap();
    let gdp = economy[header]
        .iter()
        .position(|c| matches!(c, Data::String(s) if s.starts_with("地区生产总值")))
        .unwrap();
    for row in economy.iter_mut().skip(header) {
        for (c, cell) in row.iter_mut().enumerate() {
            if c > 1 && c != gdp {
                *cell = Data::Empty;
            }
        }
    }
    b.save(&dir.join("geep.xlsx"));
    let full = gep(&dir, &["run", "--out", "full.xlsx", "--csv", "full"]);
    assert!(full.status.success(), "{}", text(&full).1);
    let out = gep(
        &dir,
        &[
            "run",
            "--data",
            "geep.xlsx",
            "--accounts",
            "geep",
            "--out",
            "g.xlsx",
            "--csv",
            "g",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr.matches("a GEEP study").count(), 1, "{stderr}");
    assert!(stdout.contains("GEEP study"), "{stdout}");
    // The products and water supply are not valued (not 0).
    let (head, rows) = read_csv(&dir.join("g/accounts.csv"));
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    for r in rows.iter().filter(|r| {
        ["agriculture_products", "water_supply"].contains(&r[col("indicator")].as_str())
    }) {
        assert_eq!(r[col("valued")], "false", "{r:?}");
        assert_eq!(r[col("value_cny")], "", "{r:?}");
    }
    // GDP and degradation as in the full run; the identity holds.
    let read = |name: &str| {
        let (head, rows) = read_csv(&dir.join(name));
        let col = |n: &str| head.iter().position(|h| h == n).unwrap();
        rows.iter()
            .map(|r| {
                let v = |n: &str| r[col(n)].parse::<f64>().unwrap_or(0.0);
                (
                    r[col("code")].clone(),
                    (
                        v("gdp_cny"),
                        v("degradation_cny"),
                        v("regulating_cny"),
                        v("geep_cny"),
                    ),
                )
            })
            .collect::<BTreeMap<_, _>>()
    };
    let (geep, full) = (read("g/geep.csv"), read("full/geep.csv"));
    assert_eq!(geep.len(), full.len());
    for (code, (gdp, degradation, regulating, value)) in &geep {
        let f = full[code];
        assert!(close(*gdp, f.0, 1e-12), "{code}");
        assert!(close(*degradation, f.1, 1e-12), "{code}");
        // Without 供水 the reservoirs' flood regulation is not counted: never more than full.
        assert!(*regulating <= f.2 * (1.0 + 1e-12), "{code}");
        assert!(
            close(*value, gdp - degradation + regulating, 1e-9),
            "{code}"
        );
    }
    // 汇总 leaves population blank, never 0.
    let mut wb: Xlsx<_> = open_workbook(dir.join("g.xlsx")).unwrap();
    let summary = wb.worksheet_range("汇总").unwrap();
    assert!(matches!(summary.get((3, 12)), None | Some(Data::Empty)));
}

/// Issue 12, item 3: 系数 shows each price and GEEP unit cost as published, the index that
/// brought it to the base year, and the value used (a formula of the two; LibreOffice recomputes
/// it in `recalc`). National CPI 2011…2021 (NBS, previous year = 100), chained by hand.
#[test]
fn coefficients_sheet_shows_published_prices_their_index_and_the_price_used() {
    let dir = workdir("indexed_prices");
    let out = gep(&dir, &["run", "--out", "book.xlsx"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let cpi_2010: f64 = [
        105.4, 102.6, 102.6, 102.0, 101.4, 102.0, 101.6, 102.1, 102.9, 102.5, 100.9,
    ]
    .iter()
    .map(|i| i / 100.0)
    .product();
    let mut wb: Xlsx<_> = open_workbook(dir.join("book.xlsx")).unwrap();
    let sheet = wb.worksheet_range("系数").unwrap();
    let row = |key: &str| {
        (0..sheet.height())
            .find(|r| matches!(sheet.get((*r, 0)), Some(Data::String(k)) if k == key))
            .unwrap_or_else(|| panic!("{key} not on 系数"))
    };
    let r = row("water_household");
    assert_eq!(sheet.get((r, 1)), Some(&Data::Float(2.6)));
    assert!(close(
        number(sheet.get((r, 8)).unwrap()),
        2.6 * cpi_2010,
        1e-12
    ));
    assert!(
        sheet
            .get((r, 7))
            .is_some_and(|d| d.to_string().contains("× cpi_national 2010→2021 = 1.2922")),
        "{:?}",
        sheet.get((r, 7))
    );
    let r = row("carbon");
    assert_eq!(sheet.get((r, 1)), Some(&Data::Float(42.85)), "a 2021 price");
    let r = row("unit_costs.so2_t");
    assert_eq!(sheet.get((r, 1)), Some(&Data::Float(1200.0)));
    assert!(close(
        number(sheet.get((r, 7)).unwrap()),
        1200.0 * cpi_2010,
        1e-12
    ));
}

/// Issue 17, item 6: a set with `carbon_pools.csv` (InVEST's carbon-pool columns; SYNTHETIC test
/// densities) gets a carbon-stock account: each row of `carbon_stock.csv` is area × density per
/// pool, units sum to their counties, the change follows the previous land cover, and the 碳储量
/// sheet equals the CSV.
#[test]
fn carbon_stock_is_area_times_densities_per_pool_with_its_change() {
    let dir = workdir("carbon_stock");
    let set = edited_set(&dir, |_, t| t);
    let densities: &[(&str, [f64; 4])] = &[
        ("forest", [60.0, 15.0, 100.0, 5.0]),
        ("shrub", [10.0, 8.0, 70.0, 1.0]),
        ("orchard", [15.0, 4.0, 60.0, 1.0]),
        ("grassland", [2.0, 8.0, 80.0, 0.5]),
        ("farmland", [3.0, 1.0, 50.0, 0.0]),
        ("wetland", [5.0, 5.0, 150.0, 2.0]),
        ("water", [0.0, 0.0, 0.0, 0.0]),
        ("built_up", [0.0, 0.0, 20.0, 0.0]),
        ("bare", [0.0, 0.0, 10.0, 0.0]),
    ];
    let mut csv = String::from(
        "lucode,lulc_name,c_above,c_below,c_soil,c_dead,valuation_class,year,scope,source,status\n",
    );
    for (i, (class, d)) in densities.iter().enumerate() {
        csv.push_str(&format!(
            "{},{class},{},{},{},{},{class},2020,test,SYNTHETIC test densities,U\n",
            i + 1,
            d[0],
            d[1],
            d[2],
            d[3]
        ));
    }
    std::fs::write(set.join("carbon_pools.csv"), csv).unwrap();
    let set = set.to_str().unwrap().to_string();
    let rehash = gep(
        &dir,
        &["coefficients", "rehash", &set, "--version", "9.0.0-test"],
    );
    assert!(rehash.status.success(), "{}", text(&rehash).1);
    // 2020 had 10 % more 乔木林地 in 140105 (taken from its 其他 column).
    let forest = previous_year_with_more_forest(&dir.join("2020.xlsx"));
    let out = gep(
        &dir,
        &[
            "run",
            "--coefficients",
            &set,
            "--previous",
            "2020.xlsx",
            "--out",
            "book.xlsx",
            "--csv",
            "csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let (head, rows) = read_csv(&dir.join("csv/carbon_stock.csv"));
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let density: BTreeMap<&str, [f64; 4]> = densities.iter().copied().collect();
    let mut county_sum = 0.0;
    let mut province = 0.0;
    let mut changed = BTreeMap::new();
    for r in &rows {
        let v = |n: &str| r[col(n)].parse::<f64>().unwrap();
        let d = density[r[col("valuation_class")].as_str()];
        for (k, pool) in ["c_above_t", "c_below_t", "c_soil_t", "c_dead_t"]
            .iter()
            .enumerate()
        {
            assert!(
                close(v(pool), v("area_ha") * d[k], 1e-12) || v(pool) == 0.0,
                "{r:?}"
            );
        }
        assert!((v("change_t_c") - (v("total_t_c") - v("previous_total_t_c"))).abs() < 1e-6);
        match r[col("level")].as_str() {
            "county" => {
                county_sum += v("total_t_c");
                if v("change_t_c").abs() > 1e-6 {
                    changed.insert(
                        (r[col("code")].clone(), r[col("valuation_class")].clone()),
                        v("change_t_c"),
                    );
                }
            }
            "province" => province += v("total_t_c"),
            _ => {}
        }
    }
    assert!(close(county_sum, province, 1e-12));
    // Only 140105 changed: its forest lost 0.1 × forest ha × 180 t C/ha, its other land the rest.
    assert!(changed.keys().all(|(c, _)| c == "140105"), "{changed:?}");
    let forest_change = changed[&("140105".to_string(), "forest".to_string())];
    assert!(
        close(forest_change, -forest * 0.1 * 180.0, 1e-9),
        "{forest_change}"
    );
    // 碳储量: the province row's total equals the CSV.
    let mut wb: Xlsx<_> = open_workbook(dir.join("book.xlsx")).unwrap();
    let sheet = wb.worksheet_range("碳储量").unwrap();
    let book = rows_by_code(&sheet, 3);
    assert!(close(number(&book["140000"][8]), province, 1e-12));
}

/// Issue 17, item 5: with `--previous`, the extent account: opening + additions − reductions =
/// closing for every class and unit (in `extent.csv` and as the 面积账户 formula), and only the
/// county whose land changed has flows.
#[test]
fn extent_account_balances_for_every_class_and_unit() {
    let dir = workdir("extent");
    // 2020 had 10 % more 乔木林地 in 140105 (taken from its 其他 column).
    let forest = previous_year_with_more_forest(&dir.join("2020.xlsx"));
    let out = gep(
        &dir,
        &[
            "run",
            "--previous",
            "2020.xlsx",
            "--out",
            "book.xlsx",
            "--csv",
            "csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let (head, rows) = read_csv(&dir.join("csv/extent.csv"));
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let mut moved = Vec::new();
    for r in &rows {
        let v = |n: &str| r[col(n)].parse::<f64>().unwrap();
        assert!(
            (v("opening_ha") + v("additions_ha") - v("reductions_ha") - v("closing_ha")).abs()
                < 1e-6,
            "{r:?}"
        );
        assert!((v("net_change_ha") - (v("additions_ha") - v("reductions_ha"))).abs() < 1e-9);
        if r[col("level")] == "county" && v("net_change_ha").abs() > 1e-6 {
            moved.push((
                r[col("code")].clone(),
                r[col("valuation_class")].clone(),
                v("net_change_ha"),
            ));
        }
    }
    assert!(!moved.is_empty());
    assert!(moved.iter().all(|(c, _, _)| c == "140105"), "{moved:?}");
    let forest_change = moved.iter().find(|m| m.1 == "forest").unwrap().2;
    assert!(close(forest_change, -forest * 0.1, 1e-9), "{forest_change}");
    let wb: Xlsx<_> = open_workbook(dir.join("book.xlsx")).unwrap();
    assert!(wb.sheet_names().contains(&"面积账户".to_string()));
}

/// The 土地转移 sheet of a change matrix consistent with the demo (this year) and
/// [`previous_year_with_more_forest`] (last year): every county's classes unchanged, except that
/// 140105 turned 10 % of last year's 乔木林地 into 其他土地 and 140106 swapped `swap_ha` of
/// 乔木林地 and 灌木林地 both ways (no net change, gross flows of `swap_ha` each way).
fn with_change_matrix(forest_140105: f64, moved_140105: f64, swap_ha: f64) -> Book {
    let mut b = Book::demo();
    let land = b.sheet("土地利用").clone();
    // Class names: the second header row, or the first where a class has no sub-classes.
    let class = |c: usize| match (&land[2][c], &land[1][c]) {
        (Data::String(s), _) | (Data::Empty, Data::String(s)) => s.clone(),
        other => panic!("no class name in column {c}: {other:?}"),
    };
    let mut grid = vec![
        vec![s("2020—2021年土地利用转移矩阵（合成演示数据，非官方统计）")],
        ["区划代码", "县(市、区)", "原地类", "现地类", "面积"]
            .map(s)
            .to_vec(),
        ["单位", "", "", "", "公顷"].map(s).to_vec(),
    ];
    for row in &land[4..] {
        let (Data::String(code), Data::String(name)) = (&row[0], &row[1]) else {
            continue;
        };
        if code.ends_with("00") {
            continue; // subtotal rows
        }
        let mut push = |from: &str, to: &str, area: f64| {
            if area > 0.0 {
                grid.push(vec![s(code), s(name), s(from), s(to), Data::Float(area)]);
            }
        };
        for (c, cell) in row.iter().enumerate().take(17).skip(2) {
            let Data::Float(area) = *cell else { continue };
            let name = class(c);
            match (code.as_str(), name.as_str()) {
                ("140105", "乔木林地") => {
                    push("乔木林地", "乔木林地", area);
                    push("乔木林地", "其他土地", moved_140105);
                    assert!(close(area, forest_140105, 1e-12));
                }
                ("140105", "其他土地") => {
                    push("其他土地", "其他土地", area - forest_140105 * 0.1)
                }
                ("140106", "乔木林地") => {
                    push("乔木林地", "乔木林地", area - swap_ha);
                    push("乔木林地", "灌木林地", swap_ha);
                }
                ("140106", "灌木林地") => {
                    push("灌木林地", "灌木林地", area - swap_ha);
                    push("灌木林地", "乔木林地", swap_ha);
                }
                _ => push(&name, &name, area),
            }
        }
    }
    b.sheets.push(("土地转移".into(), grid));
    b
}

fn s(text: &str) -> Data {
    Data::String(text.into())
}

/// Issue 17, item 5: a change matrix (土地转移) gives the extent account gross flows — a swap
/// of forest and shrub shows as additions and reductions with no net change — and the transition
/// table (面积账户 and `transitions.csv`); a matrix that does not add up to last year's land
/// cover is refused at its cell, and nothing is written.
#[test]
fn a_change_matrix_gives_gross_flows_and_the_transition_table() {
    // Runs the two years with 140105 moving `moved_share` of last year's forest to 其他土地.
    let run = |name: &str, moved_share: f64| {
        let dir = workdir(name);
        let forest = previous_year_with_more_forest(&dir.join("2020.xlsx"));
        with_change_matrix(forest, forest * moved_share, 25.0).save(&dir.join("2021.xlsx"));
        let out = gep(
            &dir,
            &[
                "run",
                "--data",
                "2021.xlsx",
                "--previous",
                "2020.xlsx",
                "--out",
                "book.xlsx",
                "--csv",
                "csv",
            ],
        );
        (dir, forest, out)
    };
    let (dir, forest, out) = run("extent_matrix", 0.1);
    assert!(out.status.success(), "{}", text(&out).1);
    let (head, rows) = read_csv(&dir.join("csv/extent.csv"));
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let get = |code: &str, class: &str, what: &str| -> f64 {
        rows.iter()
            .find(|r| r[col("code")] == code && r[col("valuation_class")] == class)
            .unwrap_or_else(|| panic!("{code} {class}"))[col(what)]
        .parse()
        .unwrap()
    };
    for r in &rows {
        let v = |n: &str| r[col(n)].parse::<f64>().unwrap();
        assert!(
            (v("opening_ha") + v("additions_ha") - v("reductions_ha") - v("closing_ha")).abs()
                < 1e-6,
            "{r:?}"
        );
    }
    // 140105: forest → bare, 10 % of last year's forest.
    assert!(close(
        get("140105", "forest", "reductions_ha"),
        forest * 0.1,
        1e-9
    ));
    assert!(close(
        get("140105", "bare", "additions_ha"),
        forest * 0.1,
        1e-9
    ));
    // 140106: 25 ha each way between forest and shrub: gross flows, no net change.
    for class in ["forest", "shrub"] {
        assert_eq!(get("140106", class, "additions_ha"), 25.0);
        assert_eq!(get("140106", class, "reductions_ha"), 25.0);
        assert_eq!(get("140106", class, "net_change_ha"), 0.0);
    }
    // The province's additions are the sum of its counties' gross additions.
    assert!(close(get("140000", "shrub", "additions_ha"), 25.0, 1e-12));
    let (head, rows) = read_csv(&dir.join("csv/transitions.csv"));
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let flow = |code: &str, from: &str, to: &str| -> f64 {
        rows.iter()
            .find(|r| {
                r[col("code")] == code
                    && r[col("from_valuation_class")] == from
                    && r[col("to_valuation_class")] == to
            })
            .map_or(0.0, |r| r[col("area_ha")].parse().unwrap())
    };
    assert!(close(flow("140105", "forest", "bare"), forest * 0.1, 1e-9));
    assert_eq!(flow("140106", "shrub", "forest"), 25.0);
    assert_eq!(flow("140100", "forest", "shrub"), 25.0);
    assert!(close(flow("140000", "forest", "bare"), forest * 0.1, 1e-9));
    // The book's matrix, cell by cell: the province's forest → bare row.
    let mut wb: Xlsx<_> = open_workbook(dir.join("book.xlsx")).unwrap();
    let sheet = wb.worksheet_range("面积账户").unwrap();
    let found = sheet.rows().any(|r| {
        r.first() == Some(&Data::String("140000".into()))
            && r.get(4) == Some(&Data::String("forest".into()))
            && r.get(5) == Some(&Data::String("bare".into()))
            && matches!(r.get(6), Some(Data::Float(a)) if close(*a, forest * 0.1, 1e-9))
    });
    assert!(found, "the province's forest → bare row in 面积账户");

    // Twice the move: the matrix no longer adds up to last year's forest of 140105.
    let (bad_dir, _, out) = run("extent_matrix_bad", 0.2);
    assert!(!out.status.success());
    let err = text(&out).1;
    assert!(
        err.contains("2021.xlsx [土地转移!E")
            && err.contains("county 140105 forest: the change matrix moves")
            && err.contains("the previous year's land cover has"),
        "{err}"
    );
    assert!(!bad_dir.join("book.xlsx").exists());
}

/// Issue 17, item 4: `gep series` of two complete years (the demo's quantities in both, one
/// coefficient set): current-price GEP is the same each year, the base year's constant-price GEP
/// equals its current one, and the next year's is the chain link — the value-only indicators
/// (products, recreation: reported at current prices) deflated by that year's CPI index (100.9),
/// everything else unchanged.
#[test]
fn series_chains_constant_prices_from_the_first_year() {
    let dir = workdir("series");
    previous_year_workbook(&dir.join("2020.xlsx"));
    std::fs::copy(demo(), dir.join("2021.xlsx")).unwrap();
    let out = gep(
        &dir,
        &[
            "series",
            "2021.xlsx",
            "2020.xlsx",
            "--out",
            "s.xlsx",
            "--csv",
            "s.csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let run = gep(&dir, &["run", "--out", "b.xlsx", "--csv", "csv"]);
    assert!(run.status.success());
    let (head, rows) = read_csv(&dir.join("csv/accounts.csv"));
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let mut value_only: BTreeMap<String, f64> = BTreeMap::new();
    for r in &rows {
        if r[col("quantity_unit")].is_empty() && !r[col("value_cny")].is_empty() {
            *value_only.entry(r[col("code")].clone()).or_default() +=
                r[col("value_cny")].parse::<f64>().unwrap();
        }
    }
    let (head, rows) = read_csv(&dir.join("s.csv"));
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let mut checked = 0;
    for pair in rows.chunks(2) {
        let [a, b] = pair else {
            panic!("two years per unit")
        };
        let v = |r: &Vec<String>, n: &str| r[col(n)].parse::<f64>().unwrap();
        assert_eq!(
            (a[col("year")].as_str(), b[col("year")].as_str()),
            ("2020", "2021")
        );
        assert_eq!(a[col("code")], b[col("code")]);
        assert!(close(
            v(a, "gep_constant_cny"),
            v(a, "gep_current_cny"),
            1e-12
        ));
        assert!(close(
            v(a, "gep_current_cny"),
            v(b, "gep_current_cny"),
            1e-12
        ));
        let deflated = value_only.get(&a[col("code")]).copied().unwrap_or(0.0);
        let want = v(a, "gep_current_cny") - deflated * (1.0 - 1.0 / 1.009);
        assert!(close(v(b, "gep_constant_cny"), want, 1e-9), "{b:?}");
        checked += 1;
    }
    assert_eq!(checked, 117 + 11 + 1);
    let wb: Xlsx<_> = open_workbook(dir.join("s.xlsx")).unwrap();
    assert_eq!(wb.sheet_names(), ["序列"]);

    // 2021 with a set of its own whose carbon price is doubled: its current GEP gains each
    // unit's carbon value; at 2020 prices (its quantities valued with 2020's set) nothing moves.
    let set = edited_set(&dir, |name, t| {
        if name == "prices.toml" {
            t.replacen("value = 42.85\n", "value = 85.7\n", 1)
        } else {
            t
        }
    });
    let set_for = format!("2021={}", set.display());
    let out = gep(
        &dir,
        &[
            "series",
            "2020.xlsx",
            "2021.xlsx",
            "--set-for",
            &set_for,
            "--csv",
            "s2.csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let (head, acc) = read_csv(&dir.join("csv/accounts.csv"));
    let acol = |n: &str| head.iter().position(|h| h == n).unwrap();
    let carbon: BTreeMap<String, f64> = acc
        .iter()
        .filter(|r| r[acol("indicator")] == "carbon_sequestration")
        .map(|r| {
            (
                r[acol("code")].clone(),
                r[acol("value_cny")].parse().unwrap(),
            )
        })
        .collect();
    let (_, rows2) = read_csv(&dir.join("s2.csv"));
    for (one, two) in rows
        .iter()
        .zip(&rows2)
        .filter(|(r, _)| r[col("year")] == "2021")
    {
        let v = |r: &Vec<String>, n: &str| r[col(n)].parse::<f64>().unwrap();
        let code = &one[col("code")];
        assert!(
            close(
                v(two, "gep_current_cny"),
                v(one, "gep_current_cny") + carbon[code],
                1e-9
            ),
            "{code}"
        );
        assert!(
            close(v(two, "gep_constant_cny"), v(one, "gep_constant_cny"), 1e-9),
            "{code}"
        );
    }
}
