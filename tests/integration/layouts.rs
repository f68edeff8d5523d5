//! The layout corpus (fixtures/layouts/): the demo data laid out as bureaus lay out tables, in
//! xlsx, xls and ods. Every layout must give accounts identical to the clean demo workbook.

use crate::util::*;

fn layout_gives_demo_accounts(files: &[std::path::PathBuf], name: &str) {
    let dir = workdir(&format!("layout_{name}"));
    let mut args = vec!["run".to_string()];
    // The 环境 and 实物量 sheets come as a second file (see fixtures/README.md).
    let supplementary = root().join("fixtures/layouts/supplementary/environment-physical.xlsx");
    for f in files.iter().chain([&supplementary]) {
        args.push("--data".into());
        args.push(f.display().to_string());
    }
    args.extend([
        "--out".into(),
        "book.xlsx".into(),
        "--csv".into(),
        "csv".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = gep(&dir, &args);
    assert!(out.status.success(), "{name}: {}", text(&out).1);
    assert_same_accounts(
        &dir.join("csv/accounts.csv"),
        &root().join("fixtures/demo/expected/accounts.csv"),
        1e-9,
    );
}

#[test]
fn every_layout_gives_the_demo_accounts() {
    let dir = root().join("fixtures/layouts");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("xlsx" | "xls" | "ods")
            )
        })
        .collect();
    files.sort();
    assert!(files.len() >= 13, "{files:?}");
    for f in &files {
        layout_gives_demo_accounts(
            std::slice::from_ref(f),
            f.file_stem().unwrap().to_str().unwrap(),
        );
    }
}

#[test]
fn one_workbook_per_prefecture_gives_the_demo_accounts() {
    let dir = root().join("fixtures/layouts/by-prefecture");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 11);
    layout_gives_demo_accounts(&files, "by_prefecture");
}
