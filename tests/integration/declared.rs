//! Services a coefficient set declares itself (`[services.KEY]` in manifest.toml), fed from the
//! 实物量 sheet. The test reproduces the two lines of a published wetland account that the
//! engine's own services cannot hold:
//!
//! 江波, 陈媛媛, 肖洋, 赵娟娟, 欧阳志云. 白洋淀湿地生态系统最终服务价值评估. 生态学报, 2017,
//! 37(8): 2497–2505. doi:10.5846/stxb201410091984. Table 3 (2011): 原材料生产 芦苇产量
//! 3.74×10⁴ t → 1.67×10⁸ 元, the reed price being §2.1.2's grades 40 % × 7000 + 40 % × 4000 +
//! 20 % × 300 = 4460 元/t; 非使用价值 (payment-card willingness to pay) 0.98×10⁸ 元.
//! The rows are put on a demo county only to carry them; the arithmetic is the publication's.
//! Numbers as read from the ChinaXiv preprint of the paper (ChinaXiv:201704.00322, OCR text);
//! the eight values of its Table 3 sum to the printed 35.55 × 10⁸ 元.

use calamine::Data;

use crate::util::*;

const MANIFEST_SERVICES: &str = r#"
[services.reed]
label_zh = "芦苇"
label_en = "Reed"
category = "provisioning"
valuation = "quantity_price"
quantity_unit = "t"
price = "reed"
column = "芦苇产量"
method = "reed harvest × grade-weighted price (江波 et al. 2017, 生态学报 37(8), §2.1.2)"

[services.non_use]
label_zh = "非使用价值"
label_en = "Non-use value"
category = "cultural"
valuation = "money"
method = "payment-card willingness-to-pay survey (江波 et al. 2017, 生态学报 37(8), Table 3)"

"#;

const REED_PRICE: &str = r#"
[prices.reed]
value = 4460.0
unit = "元/t"
year = 2011
scope = "other (白洋淀, Hebei)"
source = "江波 et al. 2017, 生态学报 37(8) §2.1.2: 40% × 7000 + 40% × 4000 + 20% × 300 元/t"
status = "V2"
"#;

fn declaring_set(dir: &std::path::Path) -> std::path::PathBuf {
    edited_set(dir, |name, text| match name {
        "manifest.toml" => text.replacen("\n[files]", &format!("{MANIFEST_SERVICES}[files]"), 1),
        "prices.toml" => text + REED_PRICE,
        _ => text,
    })
}

fn with_rows(rows: &[(&str, &str, f64, &str)]) -> Book {
    let mut b = Book::demo();
    let first = b.sheet("实物量").len();
    for (i, (code, name, quantity, unit)) in rows.iter().enumerate() {
        let r = first + i;
        b.set("实物量", r, 0, Data::String((*code).into()));
        b.set("实物量", r, 1, Data::String("小店区".into()));
        b.set("实物量", r, 2, Data::String((*name).into()));
        b.set("实物量", r, 3, Data::Float(*quantity));
        b.set("实物量", r, 4, Data::String((*unit).into()));
        b.set("实物量", r, 5, Data::String("江波 et al. 2017 表3".into()));
    }
    b
}

#[test]
fn a_set_declaring_a_money_service_and_a_quantity_price_service_reproduces_the_published_lines() {
    let dir = workdir("declared_services");
    let set = declaring_set(&dir);
    let mut b = with_rows(&[
        ("140105", "芦苇", 3.74, "万吨"),
        ("140105", "非使用价值", 0.98, "亿元"),
    ]);
    // The declared 经济社会 column 芦苇产量 (万吨): 1.0 for 140106; 9.99 for 140105, where the
    // 实物量 row wins.
    let width = b.sheet("经济社会")[1].len();
    b.set("经济社会", 1, width, Data::String("芦苇产量(万吨)".into()));
    let r = b.row_of("经济社会", "140106");
    b.set("经济社会", r, width, Data::Float(1.0));
    let r = b.row_of("经济社会", "140105");
    b.set("经济社会", r, width, Data::Float(9.99));
    b.save(&dir.join("w.xlsx"));
    let set = set.to_str().unwrap();
    // check accepts what run accepts.
    let check = gep(&dir, &["check", "--coefficients", set, "w.xlsx"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check).1);
    let run = gep(
        &dir,
        &[
            "run",
            "--coefficients",
            set,
            "--data",
            "w.xlsx",
            "--out",
            "b.xlsx",
            "--csv",
            "csv",
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run).1);
    let (h, rows) = read_csv(&dir.join("csv/accounts.csv"));
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let row = |code: &str, key: &str| {
        rows.iter()
            .find(|r| r[col("code")] == code && r[col("indicator")] == key)
            .unwrap_or_else(|| panic!("no {key} row for {code}"))
            .clone()
    };
    // Reed: 3.74×10⁴ t × 4460 元/t = 1.66804×10⁸ 元, printed 1.67 (10⁸ 元).
    let reed = row("140105", "reed");
    assert_eq!(reed[col("category")], "provisioning");
    assert_eq!(reed[col("indicator_zh")], "芦苇");
    assert_eq!(reed[col("quantity")].parse::<f64>().unwrap(), 37_400.0);
    let reed_value: f64 = reed[col("value_cny")].parse().unwrap();
    assert!((reed_value - 3.74e4 * 4460.0).abs() < 1e-6, "{reed_value}");
    assert_eq!(format!("{:.2}", reed_value / 1e8), "1.67");
    // Non-use value: given as money, 0.98×10⁸ 元, a cultural service without a quantity.
    let non_use = row("140105", "non_use");
    assert_eq!(non_use[col("category")], "cultural");
    assert_eq!(non_use[col("quantity")], "");
    assert_eq!(non_use[col("value_cny")].parse::<f64>().unwrap(), 0.98e8);
    // Rolled up like any service; valued in the run, so a county without a row has 0 of it.
    assert_eq!(
        row("140000", "non_use")[col("value_cny")]
            .parse::<f64>()
            .unwrap(),
        0.98e8
    );
    // From the 经济社会 column: 1.0 万吨 × 4460 元/t.
    let from_column: f64 = row("140106", "reed")[col("value_cny")].parse().unwrap();
    assert!((from_column - 1.0e4 * 4460.0).abs() < 1e-6, "{from_column}");
    assert_eq!(row("140107", "reed")[col("value_cny")], "0.0");
    // In the book like any service: a 价值量 column and its 明细 lines.
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(dir.join("b.xlsx")).unwrap();
    use calamine::Reader as _;
    let value = book.worksheet_range("价值量").unwrap();
    assert!(
        value
            .rows()
            .take(4)
            .flatten()
            .any(|c| c.to_string().contains("芦苇")),
        "no 芦苇 column on 价值量"
    );
    let lines = book.worksheet_range("明细").unwrap();
    let reed_lines = lines
        .rows()
        .filter(|r| matches!(r.get(1), Some(calamine::Data::String(s)) if s == "芦苇"))
        .count();
    assert_eq!(
        reed_lines, 2,
        "140105 (实物量 row) and 140106 (经济社会 column)"
    );
    // Explained like any service.
    let out = gep(
        &dir,
        &[
            "explain",
            "--coefficients",
            set,
            "--data",
            "w.xlsx",
            "--county",
            "140105",
            "--indicator",
            "芦苇",
        ],
    );
    let stdout = text(&out).0;
    assert!(stdout.contains("value: 166,804,000.00 元"), "{stdout}");
    assert!(
        stdout.contains("prices.toml [reed] = 4460 元/t"),
        "{stdout}"
    );
    // One county given twice under two names is an error, not the last row winning.
    with_rows(&[
        ("140105", "芦苇", 3.74, "万吨"),
        ("140105", "reed", 1.0, "万吨"),
    ])
    .save(&dir.join("twice.xlsx"));
    let out = gep(&dir, &["check", "--coefficients", set, "twice.xlsx"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).1.contains("reed of 140105: given twice"),
        "{}",
        text(&out).1
    );
    // A row naming no service is an error in check and in run alike, with "did you mean".
    with_rows(&[("140105", "芦笋", 3.74, "万吨")]).save(&dir.join("bad.xlsx"));
    for command in ["check", "run"] {
        let args: Vec<&str> = if command == "check" {
            vec!["check", "--coefficients", set, "bad.xlsx"]
        } else {
            vec![
                "run",
                "--coefficients",
                set,
                "--data",
                "bad.xlsx",
                "--out",
                "x.xlsx",
            ]
        };
        let out = gep(&dir, &args);
        let stderr = text(&out).1;
        assert_eq!(out.status.code(), Some(1), "{command}: {stderr}");
        assert!(
            stderr.contains("unknown indicator \"芦笋\"; did you mean \"芦苇\"?"),
            "{command}: {stderr}"
        );
    }
}

#[test]
fn a_declared_service_that_reuses_an_engine_key_or_lacks_its_price_is_refused() {
    let dir = workdir("declared_services_bad");
    let set = edited_set(&dir, |name, text| {
        match name {
        "manifest.toml" => text.replacen(
            "\n[files]",
            concat!(
                "\n[services.recreation]\nlabel_zh = \"x\"\nlabel_en = \"x\"\ncategory = \"cultural\"\nvaluation = \"money\"\nmethod = \"m\"\n",
                "\n[services.reed]\nlabel_zh = \"芦苇\"\nlabel_en = \"Reed\"\ncategory = \"provisioning\"\nvaluation = \"quantity_price\"\nquantity_unit = \"t\"\nprice = \"reed\"\nmethod = \"m\"\n",
                "\n[services.erosion]\nlabel_zh = \"土壤保持\"\nlabel_en = \"Erosion\"\ncategory = \"regulating\"\nvaluation = \"quantity_price\"\nquantity_unit = \"t\"\nprice = \"carbon\"\ncolumn = \"旅游总收入\"\nmethod = \"m\"\n",
                "\n[files]"
            ),
            1,
        ),
        _ => text,
    }
    });
    let out = gep(&dir, &["check", "--coefficients", set.to_str().unwrap()]);
    let stderr = text(&out).1;
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("\"recreation\" is a service of the engine"),
        "{stderr}"
    );
    assert!(stderr.contains("missing [prices.reed]"), "{stderr}");
    // Names, columns and prices of the engine's services are not a declared service's.
    assert!(
        stderr.contains("\"土壤保持\" already names soil_retention"),
        "{stderr}"
    );
    assert!(
        stderr.contains("column \"旅游总收入\" is already read as tourism_revenue_cny"),
        "{stderr}"
    );
    assert!(
        stderr.contains("price \"carbon\" is a price of the engine's services"),
        "{stderr}"
    );
}
