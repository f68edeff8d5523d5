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
