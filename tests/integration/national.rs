//! A coefficient set covering two provinces: province subtotal rows PP0000 in the workbook are
//! checked against their own counties, and the accounts have county, prefecture, province and
//! national levels with the identities holding at each (SYNTHETIC: the demo's counties twice,
//! once under their codes and once under codes 15xxxx).

use calamine::{Data, Reader, Xlsx, open_workbook};

use crate::util::*;

/// The Shanxi set with every region repeated as province 15 and a national top row.
fn two_province_set(dir: &std::path::Path) -> std::path::PathBuf {
    edited_set(dir, |name, text| {
        match name {
        "regions.csv" => {
            let mut out = text.clone();
            for line in text.lines().filter(|l| l.starts_with("14")) {
                out.push_str(&format!("15{}\n", line.replacen(",14", ",15", 1).get(2..).unwrap()));
            }
            out
        }
        "manifest.toml" => text
            .replacen("province = \"山西省\"", "province = \"两省合计（合成）\"", 1)
            .replacen("province_code = \"140000\"", "province_code = \"000000\"", 1)
            .replacen(
                "[switches]",
                "[provinces]\n\"140000\" = \"山西省\"\n\"150000\" = \"山西省（复本）\"\n\n[switches]",
                1,
            ),
        _ => text,
    }
    })
}

/// The demo workbook with every county and subtotal row repeated under province 15.
fn two_province_workbook() -> Book {
    let mut b = Book::demo();
    for (_, grid) in b.sheets.iter_mut() {
        let copies: Vec<Vec<Data>> = grid
            .iter()
            .filter(|r| matches!(r.first(), Some(Data::String(c)) if c.len() == 6 && c.starts_with("14")))
            .map(|r| {
                let mut r = r.clone();
                if let Data::String(c) = &r[0] {
                    r[0] = Data::String(format!("15{}", &c[2..]));
                }
                r
            })
            .collect();
        grid.extend(copies);
        // A codeless 合计 row is a total of every county (here: of both provinces); the demo's
        // are Shanxi's only, so they go.
        grid.retain(|r| {
            let coded = matches!(r.first(), Some(Data::String(c)) if c.len() == 6 && c.chars().all(|x| x.is_ascii_digit()));
            coded || !r.iter().take(2).any(|c| matches!(c, Data::String(t) if t.contains("合计")))
        });
    }
    b
}

#[test]
fn two_provinces_have_province_subtotals_and_a_national_total() {
    let dir = workdir("two_provinces");
    let set = two_province_set(&dir);
    two_province_workbook().save(&dir.join("w.xlsx"));
    let out = gep(
        &dir,
        &[
            "run",
            "--data",
            "w.xlsx",
            "--coefficients",
            set.to_str().unwrap(),
            "--out",
            "book.xlsx",
            "--csv",
            "csv",
        ],
    );
    let stderr = text(&out).1;
    assert!(out.status.success(), "{stderr}");
    // PP0000 rows were checked against their own province: no subtotal problem at all.
    assert!(!stderr.contains("subtotal"), "{stderr}");
    let (h, rows) = read_csv(&dir.join("csv/accounts.csv"));
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let total = |level: &str, code: Option<&str>| -> f64 {
        rows.iter()
            .filter(|r| r[col("level")] == level && code.is_none_or(|c| r[col("code")] == c))
            .filter(|r| !r[col("value_cny")].is_empty())
            .map(|r| r[col("value_cny")].parse::<f64>().unwrap())
            .sum()
    };
    let (shanxi, copy, nation) = (
        total("province", Some("140000")),
        total("province", Some("150000")),
        total("national", None),
    );
    assert!(
        shanxi > 0.0 && close(shanxi, copy, 1e-12),
        "{shanxi} vs {copy}"
    );
    assert!(close(nation, shanxi + copy, 1e-12));
    assert!(close(nation, total("county", None), 1e-9));
    assert!(close(nation, total("prefecture", None), 1e-9));
    // The same province total as the one-province demo.
    let single = gep(&dir, &["run", "--out", "single.xlsx", "--csv", "single"]);
    assert!(single.status.success());
    let (h1, rows1) = read_csv(&dir.join("single/accounts.csv"));
    let demo_total: f64 = rows1
        .iter()
        .filter(|r| r[h1.iter().position(|x| x == "level").unwrap()] == "province")
        .filter_map(|r| {
            r[h1.iter().position(|x| x == "value_cny").unwrap()]
                .parse::<f64>()
                .ok()
        })
        .sum();
    assert!(close(shanxi, demo_total, 1e-9), "{shanxi} vs {demo_total}");
    // The book: province subtotal rows (省小计) and the national row (全国合计), SUMIF formulas.
    let mut wb: Xlsx<_> = open_workbook(dir.join("book.xlsx")).unwrap();
    let summary = wb.worksheet_range("汇总").unwrap();
    let levels: Vec<String> = (3..summary.height())
        .filter_map(|r| summary.get((r, 3)).map(|d| d.to_string()))
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        levels.iter().filter(|l| *l == "省小计").count(),
        2,
        "{levels:?}"
    );
    assert_eq!(levels.iter().filter(|l| *l == "全国合计").count(), 1);
    assert_eq!(levels.last().unwrap(), "全国合计");
    let formulas = wb.worksheet_formula("价值量").unwrap();
    let national_row = formulas.height() - 1;
    let f = formulas.get((national_row, 4)).unwrap();
    assert!(f.contains("省小计"), "{f}");
    // Every formula (province blocks, national SUMIF) gives the cached numbers when LibreOffice
    // recalculates the book.
    let compared = crate::recalc::same_after_recalculation(&dir.join("book.xlsx"), &dir);
    assert!(compared > 20_000, "{compared} numeric cells compared");
}
