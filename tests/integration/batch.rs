//! `gep batch`: several complete workbooks, each a whole run with its own book, in parallel.
//! Each book equals what `gep run` writes for its workbook alone; a failing workbook writes
//! nothing and does not stop the others.

use calamine::Data;

use crate::util::*;

/// The demo workbook and a copy in which 140105 has 100 ha more 旱地 (and its prefecture and
/// province subtotals with it; SYNTHETIC), so that the two runs of a batch differ.
fn two_workbooks(dir: &std::path::Path) {
    Book::demo().save(&dir.join("a.xlsx"));
    let mut b = Book::demo();
    for code in ["140105", "140100", "140000"] {
        let row = b.row_of("土地利用", code);
        let area = match &b.sheet("土地利用")[row][4] {
            Data::Float(x) => *x,
            Data::Int(x) => *x as f64,
            other => panic!("土地利用 旱地 of {code}: {other:?}"),
        };
        b.set("土地利用", row, 4, Data::Float(area + 100.0));
    }
    b.save(&dir.join("b.xlsx"));
}

#[test]
fn each_book_of_a_batch_equals_the_run_of_its_workbook_alone() {
    let dir = workdir("batch_equals_runs");
    two_workbooks(&dir);
    std::fs::create_dir(dir.join("books")).unwrap();
    let out = gep(
        &dir,
        &[
            "batch",
            "--out-dir",
            "books",
            "--csv",
            "--jobs",
            "2",
            "a.xlsx",
            "b.xlsx",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("2 of 2 workbooks written"), "{stdout}");
    for name in ["a", "b"] {
        std::fs::create_dir(dir.join(format!("single-{name}"))).unwrap();
        let single = gep(
            &dir,
            &[
                "run",
                "--data",
                &format!("{name}.xlsx"),
                "--out",
                &format!("single-{name}.xlsx"),
                "--csv",
                &format!("single-{name}"),
            ],
        );
        assert!(single.status.success(), "{}", text(&single).1);
        for table in ["accounts.csv", "lines.csv"] {
            let batch =
                std::fs::read(dir.join(format!("books/gep-accounts-{name}-csv/{table}"))).unwrap();
            let alone = std::fs::read(dir.join(format!("single-{name}/{table}"))).unwrap();
            assert!(
                batch == alone,
                "{name} {table}: the batch differs from a run alone"
            );
        }
        assert!(
            dir.join(format!("books/gep-accounts-{name}.xlsx"))
                .is_file()
        );
    }
    let a = std::fs::read(dir.join("books/gep-accounts-a-csv/accounts.csv")).unwrap();
    let b = std::fs::read(dir.join("books/gep-accounts-b-csv/accounts.csv")).unwrap();
    assert!(a != b, "the two workbooks differ, so must their accounts");
}

#[test]
fn a_failing_workbook_of_a_batch_writes_nothing_and_the_others_are_written() {
    let dir = workdir("batch_failure");
    two_workbooks(&dir);
    std::fs::copy(
        root().join("fixtures/invalid/password-protected.xlsx"),
        dir.join("locked.xlsx"),
    )
    .unwrap();
    std::fs::create_dir(dir.join("books")).unwrap();
    let out = gep(
        &dir,
        &[
            "batch",
            "--out-dir",
            "books",
            "--csv",
            "a.xlsx",
            "locked.xlsx",
            "b.xlsx",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("locked.xlsx: nothing written"), "{stderr}");
    assert!(stderr.contains("password"), "{stderr}");
    assert!(stdout.contains("2 of 3 workbooks written"), "{stdout}");
    let mut written: Vec<String> = std::fs::read_dir(dir.join("books"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "gep-accounts-a-csv",
            "gep-accounts-a.xlsx",
            "gep-accounts-b-csv",
            "gep-accounts-b.xlsx"
        ]
    );
}

#[test]
fn two_workbooks_that_would_write_one_book_are_a_usage_error() {
    let dir = workdir("batch_same_name");
    std::fs::create_dir_all(dir.join("x")).unwrap();
    std::fs::create_dir_all(dir.join("y")).unwrap();
    std::fs::create_dir_all(dir.join("books")).unwrap();
    std::fs::copy(demo(), dir.join("x/2021.xlsx")).unwrap();
    std::fs::copy(demo(), dir.join("y/2021.xlsx")).unwrap();
    let out = gep(
        &dir,
        &["batch", "--out-dir", "books", "x/2021.xlsx", "y/2021.xlsx"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).1.contains("would both write"),
        "{}",
        text(&out).1
    );
    assert_eq!(std::fs::read_dir(dir.join("books")).unwrap().count(), 0);
    let missing = gep(&dir, &["batch", "--out-dir", "nowhere", "x/2021.xlsx"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing).1.contains("does not exist"),
        "{}",
        text(&missing).1
    );
}
