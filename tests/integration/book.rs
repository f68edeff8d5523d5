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
            "系数",
            "校验"
        ]
    );

    let (h, rows) = read_csv(&dir.join("csv/accounts.csv"));
    let idx = |n: &str| h.iter().position(|x| x == n).unwrap();
    let mut expected: BTreeMap<(String, String), f64> = BTreeMap::new();
    for r in &rows {
        expected.insert(
            (r[idx("code")].clone(), r[idx("indicator_zh")].clone()),
            r[idx("value_cny")].parse::<f64>().unwrap(),
        );
    }

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
    assert_eq!(checked, (117 + 11 + 1) * 8);

    let about = wb.worksheet_range("说明").unwrap();
    let about_text: Vec<String> = about
        .rows()
        .flat_map(|r| r.iter().map(|d| d.to_string()))
        .collect();
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

#[test]
fn same_inputs_and_source_date_epoch_give_the_same_bytes() {
    let run = |name: &str| {
        let dir = workdir(name);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_gep"))
            .args(["run", "--out", "book.xlsx"])
            .current_dir(&dir)
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .output()
            .unwrap();
        assert!(out.status.success());
        std::fs::read(dir.join("book.xlsx")).unwrap()
    };
    assert!(
        run("deterministic_a") == run("deterministic_b"),
        "two runs differ"
    );
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
