//! `gep coefficients diff OLD NEW --data …`: what differs between two sets and what it does to
//! every county. A set against itself differs in nothing; one price raised by 10 % moves exactly
//! the lines priced with it, by 10 % of their value, and nothing else.

use calamine::{Reader, Xlsx, open_workbook};

use crate::util::*;

fn diff_json(dir: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--format", "json", "coefficients", "diff"];
    all.extend_from_slice(args);
    let out = gep(dir, &all);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

#[test]
fn the_diff_of_a_set_with_itself_is_empty() {
    let dir = workdir("diff_itself");
    let set = root().join("coefficients/shanxi");
    let set = set.to_str().unwrap();
    let demo = demo();
    let diff = diff_json(&dir, &[set, set, "--data", demo.to_str().unwrap()]);
    assert_eq!(diff["changes"].as_array().unwrap().len(), 0, "{diff}");
    assert_eq!(diff["other_files"].as_array().unwrap().len(), 0, "{diff}");
    let effects = diff["effects"].as_array().unwrap();
    // Only the province's GEP, unchanged.
    assert_eq!(effects.len(), 1, "{diff}");
    assert_eq!(effects[0]["code"], "140000");
    assert_eq!(effects[0]["old_cny"], effects[0]["new_cny"]);
}

#[test]
fn one_price_change_moves_exactly_the_lines_priced_with_it() {
    let dir = workdir("diff_one_price");
    let set = edited_set(&dir, |name, text| {
        if name == "prices.toml" {
            text.replacen(
                "[prices.water_industry]\nvalue = 3.6\n",
                "[prices.water_industry]\nvalue = 3.96\n",
                1,
            )
        } else {
            text
        }
    });
    let old = root().join("coefficients/shanxi");
    let demo = demo();
    let diff = diff_json(
        &dir,
        &[
            old.to_str().unwrap(),
            set.to_str().unwrap(),
            "--data",
            demo.to_str().unwrap(),
            "--out",
            "diff.xlsx",
        ],
    );
    let changes = diff["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{diff}");
    assert_eq!(changes[0]["key"], "water_industry");
    assert!((changes[0]["relative"].as_f64().unwrap() - 0.1).abs() < 1e-12);

    // Expected: 10 % of each county's lines priced at water_industry (lines.csv of a run).
    std::fs::create_dir(dir.join("csv")).unwrap();
    let run = gep(&dir, &["run", "--csv", "csv", "--out", "book.xlsx"]);
    assert!(run.status.success(), "{}", text(&run).1);
    let (header, rows) = read_csv(&dir.join("csv/lines.csv"));
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mut expected: std::collections::BTreeMap<String, f64> = Default::default();
    for r in &rows {
        if r[at("price_key")] == "water_industry" {
            *expected.entry(r[at("county_code")].clone()).or_default() +=
                0.1 * r[at("value_cny")].parse::<f64>().unwrap();
        }
    }
    assert!(!expected.is_empty());
    let effects = diff["effects"].as_array().unwrap();
    let mut moved: std::collections::BTreeMap<String, f64> = Default::default();
    for e in effects {
        let change = e["new_cny"].as_f64().unwrap() - e["old_cny"].as_f64().unwrap();
        let code = e["code"].as_str().unwrap().to_string();
        match e["indicator"].as_str().unwrap() {
            "water_supply" => {
                moved.insert(code, change);
            }
            "GEP" if code == "140000" => {
                let total: f64 = expected.values().sum();
                assert!(close(change, total, 1e-9), "province {change} vs {total}");
            }
            "GEP" => assert!(
                close(change, expected[&code], 1e-9),
                "{code} GEP moved {change}, expected {}",
                expected[&code]
            ),
            other => panic!("{other} moved although no line of it uses water_industry: {e}"),
        }
    }
    assert_eq!(
        moved.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (code, change) in &moved {
        assert!(
            close(*change, expected[code], 1e-9),
            "{code}: {change} vs {}",
            expected[code]
        );
    }

    // The workbook: every change and effect, and a chart of the movers.
    let mut book: Xlsx<_> = open_workbook(dir.join("diff.xlsx")).unwrap();
    let impact = book.worksheet_range("影响").unwrap();
    assert_eq!(impact.height() as usize, 3 + effects.len());
    let coefficients = book.worksheet_range("系数变化").unwrap();
    assert_eq!(
        coefficients.get_value((3, 1)),
        Some(&calamine::Data::String("water_industry".into()))
    );
    let zip = zip::ZipArchive::new(std::fs::File::open(dir.join("diff.xlsx")).unwrap()).unwrap();
    assert!(
        zip.file_names()
            .any(|n| n.is_ok_and(|n| n.starts_with("xl/charts/chart")))
    );
}
