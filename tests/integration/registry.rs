//! The service registry: a service added as one registry entry (`negative_air_ions`, GB/T
//! 38582-2020's 提供负离子) is not valued by a set without its rows — shown as not valued, never 0 —
//! and is valued, rolled up and explained once a set gives its rates and price, with no other code.

use crate::util::*;

fn rows_of<'a>(rows: &'a [Vec<String>], header: &[String], code: &str, key: &str) -> &'a [String] {
    let (c, i) = (
        header.iter().position(|h| h == "code").unwrap(),
        header.iter().position(|h| h == "indicator").unwrap(),
    );
    rows.iter()
        .find(|r| r[c] == code && r[i] == key)
        .unwrap_or_else(|| panic!("no {key} row for {code}"))
}

#[test]
fn a_service_added_by_its_registry_entry_is_valued_once_a_set_gives_its_rows() {
    let dir = workdir("registry_new_service");
    // The built-in set gives no negative-ion rates: the service is listed, not valued, blank.
    let out = gep(&dir, &["run", "--out", "plain.xlsx", "--csv", "plain"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let (header, plain) = read_csv(&dir.join("plain/accounts.csv"));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let row = rows_of(&plain, &header, "140000", "negative_air_ions");
    assert_eq!(row[col("valued")], "false");
    assert_eq!(row[col("value_cny")], "", "not valued is blank, never 0");

    // A set with its rows (SYNTHETIC values for this test, not measurements): forest 2.0 and
    // shrub 1.0 × 10¹⁸ ions/ha/yr, every other class 0; 5 元 per 10¹⁸ ions.
    let set = edited_set(&dir, |name, mut text| {
        if name == "service_rates.csv" {
            for (class, rate) in [
                ("forest", 2.0),
                ("shrub", 1.0),
                ("orchard", 0.0),
                ("grassland", 0.0),
                ("farmland", 0.0),
                ("wetland", 0.0),
                ("water", 0.0),
                ("built_up", 0.0),
                ("bare", 0.0),
            ] {
                text.push_str(&format!(
                    "{class},negative_air_ions,{rate},10^18个/ha/yr,2021,synthetic,\"SYNTHETIC test value, not a measurement\",U\n"
                ));
            }
        }
        if name == "prices.toml" {
            text.push_str("\n[prices.negative_air_ions]\nvalue = 5.0\nunit = \"元/10^18个\"\nyear = 2021\nscope = \"synthetic\"\nsource = \"SYNTHETIC test value\"\nstatus = \"U\"\n");
        }
        text
    });
    let out = gep(
        &dir,
        &[
            "run",
            "--coefficients",
            set.to_str().unwrap(),
            "--out",
            "ions.xlsx",
            "--csv",
            "ions",
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let (header2, ions) = read_csv(&dir.join("ions/accounts.csv"));
    assert_eq!(header, header2);
    // Every line: value = area × rate × price, the rate being the class's.
    let (lh, lines) = read_csv(&dir.join("ions/lines.csv"));
    let lc = |name: &str| lh.iter().position(|h| h == name).unwrap();
    let mut by_county: std::collections::BTreeMap<String, f64> = Default::default();
    let mut count = 0;
    for l in lines
        .iter()
        .filter(|l| l[lc("indicator")] == "negative_air_ions")
    {
        let num = |name: &str| l[lc(name)].parse::<f64>().unwrap();
        let rate = if l[lc("coefficient_ref")].contains("forest/negative_air_ions") {
            2.0
        } else {
            assert!(
                l[lc("coefficient_ref")].contains("shrub/negative_air_ions"),
                "{l:?}"
            );
            1.0
        };
        assert_eq!(num("coefficient"), rate);
        assert_eq!(num("price_cny_per_unit"), 5.0);
        assert!(close(num("quantity"), num("input_amount") * rate, 1e-12));
        assert!(close(
            num("value_cny"),
            num("input_amount") * rate * 5.0,
            1e-12
        ));
        *by_county.entry(l[lc("county_code")].clone()).or_default() += num("value_cny");
        count += 1;
    }
    assert!(
        count > 117,
        "forest and shrub lines in every county: {count}"
    );
    // Rolled up: each county's service value = Σ its lines; the province GEP grows by exactly
    // the service's province total and nothing else changes.
    let value = |rows: &[Vec<String>], code: &str, key: &str| -> f64 {
        rows_of(rows, &header, code, key)[col("value_cny")]
            .parse()
            .unwrap_or(0.0)
    };
    for (county, total) in &by_county {
        assert!(close(
            value(&ions, county, "negative_air_ions"),
            *total,
            1e-9
        ));
    }
    let province_ions = value(&ions, "140000", "negative_air_ions");
    assert!(close(province_ions, by_county.values().sum(), 1e-9));
    assert_eq!(
        rows_of(&ions, &header, "140000", "negative_air_ions")[col("valued")],
        "true"
    );
    let gep_total = |rows: &[Vec<String>]| -> f64 {
        rows.iter()
            .filter(|r| r[col("code")] == "140000" && r[col("valued")] == "true")
            .map(|r| r[col("value_cny")].parse::<f64>().unwrap_or(0.0))
            .sum()
    };
    assert!(close(
        gep_total(&ions) - gep_total(&plain),
        province_ions,
        1e-9
    ));
    // Explained like any service.
    let out = gep(
        &dir,
        &[
            "explain",
            "--coefficients",
            set.to_str().unwrap(),
            "--county",
            "140105",
            "--indicator",
            "negative_air_ions",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("service_rates.csv: forest/negative_air_ions = 2"),
        "{stdout}"
    );
}
