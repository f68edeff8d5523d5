//! Golden accounts of the demo year (fixtures/demo/expected/accounts.csv, relative tolerance 1e-9)
//! and the accounting identities on the CSV output. `UPDATE_GOLDEN=1` rewrites the golden file.

use std::collections::BTreeMap;

use crate::util::*;

const TOLERANCE: f64 = 1e-9;

fn demo_csv(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let dir = workdir(name);
    let out = gep(&dir, &["run", "--csv", "csv"]);
    assert!(out.status.success(), "{}", text(&out).1);
    read_csv(&dir.join("csv/accounts.csv"))
}

fn num(s: &str) -> f64 {
    if s.is_empty() {
        0.0
    } else {
        s.parse().unwrap()
    }
}

#[test]
fn demo_accounts_match_the_golden_csv() {
    let dir = workdir("golden");
    let out = gep(&dir, &["run", "--csv", "csv"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let produced = dir.join("csv/accounts.csv");
    let golden = root().join("fixtures/demo/expected/accounts.csv");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::copy(&produced, &golden).unwrap();
        // Never compare the file with itself: an update must be reviewed, so the run fails.
        panic!(
            "UPDATE_GOLDEN: rewrote {}; review `git diff` of it, then run the tests without UPDATE_GOLDEN",
            golden.display()
        );
    }
    assert_same_accounts(&produced, &golden, TOLERANCE);
}

#[test]
fn province_equals_sum_of_prefectures_equals_sum_of_counties() {
    let (h, rows) = demo_csv("identities");
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (level, code, pcode, ind, value) = (
        col("level"),
        col("code"),
        col("prefecture_code"),
        col("indicator"),
        col("value_cny"),
    );
    let mut by_level: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    let mut prefecture_of_counties: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    let mut prefecture_rows: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    for r in &rows {
        *by_level
            .entry((r[level].as_str(), r[ind].as_str()))
            .or_default() += num(&r[value]);
        match r[level].as_str() {
            "county" => {
                *prefecture_of_counties
                    .entry((r[pcode].as_str(), r[ind].as_str()))
                    .or_default() += num(&r[value])
            }
            "prefecture" => {
                prefecture_rows.insert((r[code].as_str(), r[ind].as_str()), num(&r[value]));
            }
            _ => {}
        }
    }
    assert_eq!(prefecture_rows.len(), 11 * INDICATOR_COUNT);
    for (key, v) in &prefecture_rows {
        assert!(close(*v, prefecture_of_counties[key], TOLERANCE), "{key:?}");
    }
    for ind in [
        "water_supply",
        "water_conservation",
        "carbon_sequestration",
        "agriculture_products",
    ] {
        let p = by_level[&("province", ind)];
        assert!(close(p, by_level[&("prefecture", ind)], TOLERANCE), "{ind}");
        assert!(close(p, by_level[&("county", ind)], TOLERANCE), "{ind}");
        assert!(p > 0.0, "{ind}");
    }
}

#[test]
fn demo_province_totals_are_calibrated_to_published_figures() {
    let (h, rows) = demo_csv("calibration");
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let get = |ind: &str, field: &str| {
        rows.iter()
            .find(|r| r[col("level")] == "province" && r[col("indicator")] == ind)
            .map(|r| num(&r[col(field)]))
            .unwrap()
    };
    // Water supply ≈ 75亿 m³ (shanxi-facts.md §5), within rounding of the county cells.
    assert!(close(get("water_supply", "quantity"), 75.0e8, 1e-5));
}

/// docs/reality-check.md quotes the demo's province account: every figure it quotes (GEP, the
/// three categories with their shares, the largest lines and the services not valued) is the
/// golden account's, so the comparison cannot drift from what the engine computes.
#[test]
fn the_reality_check_quotes_the_golden_demo_account() {
    let doc = std::fs::read_to_string(root().join("docs/reality-check.md")).unwrap();
    let (head, rows) = read_csv(&root().join("fixtures/demo/expected/accounts.csv"));
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let province: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| r[col("level")] == "province")
        .collect();
    let yi = |v: f64| {
        // 7256.21 → "7,256.21"
        let s = format!("{:.2}", v / 1e8);
        let (int, frac) = s.split_once('.').unwrap();
        let mut grouped = String::new();
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        format!("{grouped}.{frac}")
    };
    let gep: f64 = province
        .iter()
        .filter(|r| !r[col("value_cny")].is_empty())
        .map(|r| num(&r[col("value_cny")]))
        .sum();
    assert!(
        doc.contains(&format!(
            "| GEP (sum of the valued indicators) | {} |",
            yi(gep)
        )),
        "GEP {}",
        yi(gep)
    );
    for category in ["provisioning", "regulating", "cultural"] {
        let v: f64 = province
            .iter()
            .filter(|r| r[col("category")] == category && !r[col("value_cny")].is_empty())
            .map(|r| num(&r[col("value_cny")]))
            .sum();
        let row = format!("{} | {:.1} % |", yi(v), 100.0 * v / gep);
        assert!(doc.contains(&row), "{category}: {row}");
    }
    for r in &province {
        let indicator = &r[col("indicator")];
        if r[col("valued")] == "false" {
            continue;
        }
        let v = num(&r[col("value_cny")]);
        if v / gep > 0.004 {
            // Lines of 0.5 % and more are quoted with their value and share.
            let quoted = format!("{} ({:.1} %)", yi(v), 100.0 * v / gep);
            assert!(doc.contains(&quoted), "{indicator}: {quoted}");
        }
    }
    let not_valued: Vec<&str> = province
        .iter()
        .filter(|r| r[col("valued")] == "false")
        .map(|r| r[col("indicator_zh")].as_str())
        .collect();
    assert!(!not_valued.is_empty());
    for zh in not_valued {
        assert!(doc.contains(zh), "not valued: {zh}");
    }
}
