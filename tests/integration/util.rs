//! Helpers: run the binary, edit copies of the demo workbook, read CSV and books back.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use calamine::{Data, Reader, Xlsx, open_workbook};

/// Repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The demo workbook.
pub fn demo() -> PathBuf {
    root().join("fixtures/demo/shanxi-demo-2021.xlsx")
}

/// A fresh, empty folder for one test.
pub fn workdir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `gep` with `args` in `dir`.
pub fn gep(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gep"))
        .args(args)
        .current_dir(dir)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("run gep")
}

/// stdout and stderr as text.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A workbook held as sheets of cells, to be edited and written back.
#[derive(Clone)]
pub struct Book {
    pub sheets: Vec<(String, Vec<Vec<Data>>)>,
    /// Merged ranges written by `save`: sheet, first row, first column, last row, last column.
    pub merges: Vec<(String, u32, u16, u32, u16)>,
}

impl Book {
    /// The demo workbook's cells (merged headers keep their top-left value only).
    pub fn demo() -> Self {
        Self::open(&demo())
    }

    /// Any xlsx workbook's cells.
    pub fn open(path: &Path) -> Self {
        let mut wb: Xlsx<_> = open_workbook(path).unwrap();
        let mut sheets = Vec::new();
        for name in wb.sheet_names() {
            let range = wb.worksheet_range(&name).unwrap();
            let Some((r0, c0)) = range.start() else {
                sheets.push((name, Vec::new()));
                continue;
            };
            let (r1, c1) = range.end().unwrap();
            let mut grid = vec![vec![Data::Empty; c1 as usize + 1]; r1 as usize + 1];
            for r in r0..=r1 {
                for c in c0..=c1 {
                    grid[r as usize][c as usize] =
                        range.get_value((r, c)).cloned().unwrap_or(Data::Empty);
                }
            }
            sheets.push((name, grid));
        }
        Book {
            sheets,
            merges: Vec::new(),
        }
    }

    /// The cells of sheet `name`.
    pub fn sheet(&mut self, name: &str) -> &mut Vec<Vec<Data>> {
        &mut self
            .sheets
            .iter_mut()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no sheet {name}"))
            .1
    }

    /// Row index of county `code` in sheet `name` (first match).
    pub fn row_of(&mut self, name: &str, code: &str) -> usize {
        self.sheet(name)
            .iter()
            .position(|r| matches!(&r[0], Data::String(s) if s == code))
            .unwrap_or_else(|| panic!("{code} not in {name}"))
    }

    /// Sets one cell (0-based).
    pub fn set(&mut self, name: &str, row: usize, col: usize, value: Data) {
        let grid = self.sheet(name);
        while grid.len() <= row {
            grid.push(Vec::new());
        }
        while grid[row].len() <= col {
            grid[row].push(Data::Empty);
        }
        grid[row][col] = value;
    }

    /// Renames a sheet.
    pub fn rename(&mut self, name: &str, to: &str) {
        for (n, _) in &mut self.sheets {
            if n == name {
                *n = to.to_string();
            }
        }
    }

    /// Removes a sheet.
    pub fn remove(&mut self, name: &str) {
        self.sheets.retain(|(n, _)| n != name);
    }

    /// Writes the workbook with rust_xlsxwriter.
    pub fn save(&self, path: &Path) {
        let mut wb = rust_xlsxwriter::Workbook::new();
        for (name, grid) in &self.sheets {
            let ws = wb.add_worksheet().set_name(name).unwrap();
            for (r, row) in grid.iter().enumerate() {
                for (c, cell) in row.iter().enumerate() {
                    let (r, c) = (r as u32, c as u16);
                    match cell {
                        Data::Float(f) => {
                            ws.write_number(r, c, *f).unwrap();
                        }
                        Data::Int(i) => {
                            ws.write_number(r, c, *i as f64).unwrap();
                        }
                        Data::String(s) => {
                            ws.write_string(r, c, s).unwrap();
                        }
                        Data::Error(e) => {
                            let (formula, result) = match e {
                                calamine::CellErrorType::Ref => ("=#REF!", "#REF!"),
                                _ => ("=1/0", "#DIV/0!"),
                            };
                            ws.write_formula(
                                r,
                                c,
                                rust_xlsxwriter::Formula::new(formula).set_result(result),
                            )
                            .unwrap();
                        }
                        Data::DateTime(_) => {
                            let d = rust_xlsxwriter::ExcelDateTime::from_ymd(2021, 3, 1).unwrap();
                            ws.write_datetime_with_format(
                                r,
                                c,
                                &d,
                                &rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd"),
                            )
                            .unwrap();
                        }
                        _ => {}
                    }
                }
            }
        }
        for (name, r0, c0, r1, c1) in &self.merges {
            let ws = wb.worksheet_from_name(name).unwrap();
            ws.merge_range(*r0, *c0, *r1, *c1, "", &rust_xlsxwriter::Format::new())
                .unwrap();
            // The merged range keeps the value of its first cell.
            let grid = &self.sheets.iter().find(|(n, _)| n == name).unwrap().1;
            if let Some(Data::Float(v)) = grid.get(*r0 as usize).and_then(|r| r.get(*c0 as usize)) {
                ws.write_number(*r0, *c0, *v).unwrap();
            }
        }
        wb.save(path).unwrap();
    }
}

/// Reads a CSV file into a header and rows of strings.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// Relative closeness.
pub fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-12)
}

/// Compares two `accounts.csv` files: key columns equal, quantity and value_cny within `tolerance`.
pub fn assert_same_accounts(produced: &Path, golden: &Path, tolerance: f64) {
    let num = |s: &str| {
        if s.is_empty() {
            0.0
        } else {
            s.parse::<f64>().unwrap()
        }
    };
    let (h1, got) = read_csv(produced);
    let (h2, want) = read_csv(golden);
    assert_eq!(h1, h2);
    assert_eq!(got.len(), want.len(), "row count of {}", produced.display());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        for (k, name) in h1.iter().enumerate() {
            if name == "quantity" || name == "value_cny" {
                assert_eq!(g[k].is_empty(), w[k].is_empty(), "row {} {name}", i + 2);
                assert!(
                    close(num(&g[k]), num(&w[k]), tolerance),
                    "{} row {} {name}: expected {} got {}",
                    produced.display(),
                    i + 2,
                    w[k],
                    g[k]
                );
            } else {
                assert_eq!(g[k], w[k], "{} row {} {name}", produced.display(), i + 2);
            }
        }
    }
}

/// A copy of the Shanxi coefficient set in `dir/set`, edited by `edit(file name, text) -> text`.
pub fn edited_set(dir: &Path, edit: impl Fn(&str, String) -> String) -> PathBuf {
    let set = dir.join("set");
    std::fs::create_dir_all(&set).unwrap();
    for f in std::fs::read_dir(root().join("coefficients/shanxi")).unwrap() {
        let f = f.unwrap();
        let name = f.file_name().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(f.path()).unwrap();
        std::fs::write(set.join(&name), edit(&name, text)).unwrap();
    }
    set
}

/// Services in an account (the registry, src/account/registry.rs): one row each per unit.
pub const INDICATOR_COUNT: usize = gep::account::SERVICES.len();

/// A tool the LibreOffice tests need (`soffice`, `pdftotext`), found on PATH. Without it the test
/// FAILS, naming what to install; only `GEP_SKIP_RECALC=1` skips (then `None`, said on stderr).
pub fn required_tool(candidates: &[&'static str], what: &str) -> Option<&'static str> {
    let found = candidates.iter().copied().find(|c| {
        std::process::Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success() || !o.stderr.is_empty())
    });
    if found.is_none() {
        // In CI (CI=true) nothing is skipped, whatever GEP_SKIP_RECALC says.
        let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
        if !in_ci && std::env::var_os("GEP_SKIP_RECALC").is_some_and(|v| v == "1") {
            eprintln!("SKIPPED on request (GEP_SKIP_RECALC=1): {what} not found");
            return None;
        }
        panic!(
            "{what} not found: run the tests with scripts/test.sh (installs libreoffice-calc-nogui \
             and poppler-utils), or set GEP_SKIP_RECALC=1 to skip these checks knowingly"
        );
    }
    found
}

/// Converts `book` with LibreOffice (headless, the user profile in `profile`) to `format`
/// (`xlsx`, `pdf`) in `out_dir`; returns the converted file.
pub fn soffice_convert(
    soffice: &str,
    profile: &Path,
    book: &Path,
    format: &str,
    out_dir: &Path,
) -> PathBuf {
    let status = std::process::Command::new(soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to", format, "--outdir"])
        .arg(out_dir)
        .arg(book)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    out_dir.join(book.with_extension(format).file_name().unwrap())
}
