//! The book on paper: printed to PDF by LibreOffice (headless) and read back with pdftotext.
//! Like the recalculation test, it FAILS when soffice or pdftotext is missing
//! (`scripts/test.sh` installs both; `GEP_SKIP_RECALC=1` skips knowingly).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::util::*;

/// `book` printed to PDF by LibreOffice, or `None` when skipping was asked for.
fn printed(book: &Path, dir: &Path) -> Option<PathBuf> {
    let soffice = required_tool(&["soffice", "libreoffice"], "soffice (LibreOffice)")?;
    required_tool(&["pdftotext"], "pdftotext (poppler-utils)")?;
    Some(soffice_convert(
        soffice,
        &dir.join("lo-profile"),
        book,
        "pdf",
        &dir.join("pdf"),
    ))
}

/// (name, prefecture) of each region of a regions.csv (comment lines skipped).
fn read_csv_commented(path: &Path) -> Vec<(String, String)> {
    let text: String = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let h = reader.headers().unwrap().clone();
    let (n, p) = (
        h.iter().position(|x| x == "name").unwrap(),
        h.iter().position(|x| x == "prefecture").unwrap(),
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[n].to_string(), r[p].to_string())
        })
        .collect()
}

/// The text of each page (pdftotext, layout kept).
fn pages(pdf: &Path) -> Vec<String> {
    let out = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .split('\u{c}')
        .map(str::to_string)
        .filter(|p| !p.trim().is_empty())
        .collect()
}

/// Pages per sheet: every page header starts with the sheet name (`&A`).
fn pages_per_sheet(pages: &[String]) -> BTreeMap<String, usize> {
    let mut count = BTreeMap::new();
    for p in pages {
        let first = p
            .lines()
            .find(|l| !l.trim().is_empty())
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_default()
            .to_string();
        *count.entry(first).or_default() += 1;
    }
    count
}

#[test]
fn the_book_prints_summary_in_few_pages_and_each_chart_on_its_own_page() {
    let dir = workdir("print");
    let out = gep(&dir, &["run", "--budget", "5亿", "--out", "book.xlsx"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let Some(pdf) = printed(&dir.join("book.xlsx"), &dir) else {
        return;
    };
    let pages = pages(&pdf);
    let per_sheet = pages_per_sheet(&pages);
    for sheet in [
        "说明",
        "汇总",
        "图表",
        "实物量",
        "价值量",
        "明细",
        "GEEP",
        "当量因子法",
        "转移支付",
        "系数",
        "校验",
    ] {
        assert!(
            per_sheet.contains_key(sheet),
            "{sheet} not printed: {per_sheet:?}"
        );
    }
    assert!(
        per_sheet["汇总"] <= 6,
        "汇总 prints on {} pages",
        per_sheet["汇总"]
    );
    // Six charts, each on its own page (page breaks between them, print area A:L).
    assert_eq!(per_sheet["图表"], 6, "{per_sheet:?}");
    // Regression: the prefecture chart showed 7 of 11 prefectures and the county charts every
    // other county. Every unit's label is on the printed chart pages.
    let regions = read_csv_commented(&root().join("coefficients/shanxi/regions.csv"));
    let chart_pages: Vec<&String> = pages
        .iter()
        .filter(|p| p.trim_start().starts_with("图表"))
        .collect();
    let composition: String = chart_pages
        .iter()
        .filter(|p| p.contains("各县 GEP 构成（三大类占比）"))
        .map(|p| p.as_str())
        .collect();
    let missing: Vec<&String> = regions
        .iter()
        .map(|r| &r.0)
        .filter(|n| !composition.contains(n.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "counties without a label on the composition charts: {missing:?}"
    );
    let prefecture_page = chart_pages
        .iter()
        .find(|p| p.contains("各市 GEP 构成"))
        .unwrap();
    let prefectures: std::collections::BTreeSet<&String> = regions.iter().map(|r| &r.1).collect();
    for p in prefectures {
        assert!(prefecture_page.contains(p.as_str()), "{p} not labelled");
    }
    for sheet in [
        "说明",
        "实物量",
        "价值量",
        "GEEP",
        "当量因子法",
        "转移支付",
        "系数",
        "校验",
    ] {
        assert!(per_sheet[sheet] <= 6, "{sheet}: {per_sheet:?}");
    }
    // Page numbers in every footer.
    for p in &pages {
        // A line ending in "N / M" (a chart label may share the line).
        let numbered = p.lines().any(|l| {
            let t: Vec<&str> = l.split_whitespace().rev().take(3).collect();
            t.len() == 3
                && t[1] == "/"
                && t[0].parse::<u32>().is_ok()
                && t[2].parse::<u32>().is_ok()
        });
        assert!(numbered, "page without a page number:\n{p}");
    }
    // No number is too wide for its column.
    assert!(
        pages.iter().all(|p| !p.contains("###")),
        "### in the 万元 book"
    );
}

/// Regression: with `--money yuan`, subtotal cells printed as ### (columns too narrow).
#[test]
fn a_book_in_yuan_has_no_cell_too_narrow_for_its_number() {
    let dir = workdir("print_yuan");
    let out = gep(
        &dir,
        &[
            "run",
            "--money",
            "yuan",
            "--budget",
            "5亿",
            "--out",
            "book.xlsx",
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let Some(pdf) = printed(&dir.join("book.xlsx"), &dir) else {
        return;
    };
    let pages = pages(&pdf);
    let narrow: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.lines())
        .filter(|l| l.contains("###"))
        .collect();
    assert!(narrow.is_empty(), "{narrow:#?}");
}
