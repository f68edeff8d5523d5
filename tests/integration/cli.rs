//! The command line: defaults, outputs, exit codes, refusals.

use crate::util::*;

#[test]
fn run_without_arguments_writes_the_demo_book_in_the_current_folder() {
    let dir = workdir("run_default");
    let out = gep(&dir, &["run"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("wrote gep-accounts-2021.xlsx"), "{stdout}");
    assert!(dir.join("gep-accounts-2021.xlsx").is_file());
    // Nothing else is left behind (no temporary files).
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn run_with_arguments_writes_book_and_csv() {
    let dir = workdir("run_args");
    let data = dir.join("2021.xlsx");
    std::fs::copy(demo(), &data).unwrap();
    let coef = root().join("coefficients/shanxi");
    let out = gep(
        &dir,
        &[
            "run",
            "--data",
            data.to_str().unwrap(),
            "--coefficients",
            coef.to_str().unwrap(),
            "--out",
            "book.xlsx",
            "--csv",
            "csv",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("wrote book.xlsx"));
    assert!(dir.join("book.xlsx").is_file());
    assert!(dir.join("csv/accounts.csv").is_file());
    assert!(dir.join("csv/lines.csv").is_file());
    // The input is untouched.
    assert_eq!(
        std::fs::read(&data).unwrap(),
        std::fs::read(demo()).unwrap()
    );
}

#[test]
fn writing_the_book_over_an_input_is_refused_with_exit_2() {
    let dir = workdir("refuse_overwrite");
    let data = dir.join("2021.xlsx");
    std::fs::copy(demo(), &data).unwrap();
    let out = gep(&dir, &["run", "--data", "2021.xlsx", "--out", "2021.xlsx"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("refusing to write the book over the input"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&data).unwrap(),
        std::fs::read(demo()).unwrap()
    );
}

#[test]
fn check_passes_on_the_demo_workbook() {
    let dir = workdir("check_demo");
    let out = gep(&dir, &["check", demo().to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("ok: no errors"), "{stdout}");
    assert!(!dir.join("gep-accounts-2021.xlsx").exists());
}

#[test]
fn only_restricts_the_run_to_a_prefecture() {
    let dir = workdir("only_taiyuan");
    let out = gep(&dir, &["run", "--only", "1401", "--csv", "csv"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let (_, rows) = read_csv(&dir.join("csv/accounts.csv"));
    let counties: std::collections::BTreeSet<_> = rows
        .iter()
        .filter(|r| r[0] == "county")
        .map(|r| r[1].clone())
        .collect();
    assert_eq!(counties.len(), 10);
    assert!(counties.iter().all(|c| c.starts_with("1401")));
    // Regression: the scope was labelled 山西省/全省合计 and took the province book's file name.
    let stdout = text(&out).0;
    assert!(
        stdout.contains("2021 太原市 (--only 1401; not the whole province) GEP"),
        "{stdout}"
    );
    assert!(
        stdout.contains("wrote gep-accounts-2021-1401.xlsx"),
        "{stdout}"
    );
    assert!(stdout.contains("SYNTHETIC demo data"), "{stdout}");
    assert!(!dir.join("gep-accounts-2021.xlsx").exists());
    let book = Book::open(&dir.join("gep-accounts-2021-1401.xlsx"));
    let summary = &book.sheets.iter().find(|(n, _)| n == "汇总").unwrap().1;
    assert!(
        matches!(&summary[0][0], calamine::Data::String(t) if t.starts_with("太原市 (--only 1401)2021年 GEP 汇总")),
        "{:?}",
        summary[0][0]
    );
    let total = summary
        .iter()
        .find(|r| matches!(&r[0], calamine::Data::String(c) if c == "140000"))
        .unwrap();
    assert_eq!(total[1].to_string(), "太原市");
    assert_eq!(total[3].to_string(), "范围合计");
    assert!(summary.iter().all(|r| {
        r.iter()
            .all(|c| !matches!(c, calamine::Data::String(t) if t == "全省合计"))
    }));
    // An existing book is replaced only with --force.
    let again = gep(&dir, &["run", "--only", "1401"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again).1.contains("exists; give --force"),
        "{}",
        text(&again).1
    );
    assert!(
        gep(&dir, &["run", "--only", "1401", "--force"])
            .status
            .success()
    );
    // A prefix that is not a whole code is refused.
    let partial = gep(&dir, &["run", "--only", "14010"]);
    assert_eq!(partial.status.code(), Some(2));
    assert!(
        text(&partial).1.contains("--only 14010: not a whole"),
        "{}",
        text(&partial).1
    );
}

#[test]
fn usage_errors_exit_2_and_help_has_examples() {
    let dir = workdir("usage");
    assert_eq!(gep(&dir, &["run", "--no-such-flag"]).status.code(), Some(2));
    let help = gep(&dir, &["run", "--help"]);
    assert!(text(&help).0.contains("Example: gep run --data"));
    let version = gep(&dir, &["--version"]);
    assert!(text(&version).0.contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn coefficients_check_and_rehash_record_an_edit() {
    let dir = workdir("rehash");
    let set = dir.join("set");
    std::fs::create_dir_all(&set).unwrap();
    for f in std::fs::read_dir(root().join("coefficients/shanxi")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), set.join(f.file_name())).unwrap();
    }
    let ok = gep(&dir, &["coefficients", "check", "set"]);
    assert!(ok.status.success(), "{}", text(&ok).1);
    // Edit a price: a warning without --strict, an error with it, gone after rehash.
    let prices = set.join("prices.toml");
    let edited = std::fs::read_to_string(&prices)
        .unwrap()
        .replace("value = 42.85", "value = 60.0");
    std::fs::write(&prices, edited).unwrap();
    let warned = gep(&dir, &["check", "--coefficients", "set"]);
    assert!(warned.status.success());
    assert!(
        text(&warned)
            .1
            .contains("prices.toml: modified since version 0.2.0"),
        "{}",
        text(&warned).1
    );
    let strict = gep(&dir, &["check", "--coefficients", "set", "--strict"]);
    assert_eq!(strict.status.code(), Some(1));
    assert!(
        text(&strict)
            .1
            .contains("error [coefficients]: prices.toml: modified since version"),
        "{}",
        text(&strict).1
    );
    // An edit needs a new version: refused without one, recorded with one.
    let refused = gep(&dir, &["coefficients", "rehash", "set"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused)
            .1
            .contains("prices.toml changed since version 0.2.0"),
        "{}",
        text(&refused).1
    );
    let same = gep(
        &dir,
        &["coefficients", "rehash", "set", "--version", "0.2.0"],
    );
    assert_eq!(same.status.code(), Some(2));
    let done = gep(
        &dir,
        &["coefficients", "rehash", "set", "--version", "0.2.1-local"],
    );
    assert!(done.status.success(), "{}", text(&done).1);
    let manifest = std::fs::read_to_string(set.join("manifest.toml")).unwrap();
    assert!(manifest.contains("version = \"0.2.1-local\""), "{manifest}");
    assert!(
        manifest.contains("derived_from = \"shanxi 0.2.0\""),
        "{manifest}"
    );
    assert!(manifest.contains("edited = \""), "{manifest}");
    let clean = gep(&dir, &["check", "--coefficients", "set", "--strict"]);
    assert!(clean.status.success(), "{}", text(&clean).1);
    // Nothing changed since: rehash without --version is a no-op, allowed.
    assert!(
        gep(&dir, &["coefficients", "rehash", "set"])
            .status
            .success()
    );
    // The book says which set it used, and what it was derived from.
    let run = gep(&dir, &["run", "--coefficients", "set", "--out", "b.xlsx"]);
    assert!(run.status.success(), "{}", text(&run).1);
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(dir.join("b.xlsx")).unwrap();
    use calamine::Reader as _;
    let about = wb.worksheet_range("说明").unwrap();
    assert!(
        about.rows().flatten().any(|c| {
            let t = c.to_string();
            t.contains("0.2.1-local") && t.contains("shanxi 0.2.0")
        }),
        "说明 names the edited set and its origin"
    );
}

#[test]
fn an_interrupted_run_leaves_no_partial_or_temporary_file() {
    let dir = workdir("interrupt");
    std::fs::write(dir.join("book.xlsx"), b"previous book").unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_gep"))
        .args(["run", "--out", "book.xlsx", "--force"])
        .current_dir(&dir)
        .env("GEP_TEST_SLOW_WRITE_MS", "20000")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the temporary file exists, then press Ctrl-C.
    let started = std::time::Instant::now();
    let has_tmp = || {
        std::fs::read_dir(&dir)
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".tmp"))
    };
    while !has_tmp() {
        assert!(
            started.elapsed().as_secs() < 60,
            "no temporary file appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted: nothing was written"));
    assert!(!has_tmp(), "temporary file removed");
    assert_eq!(
        std::fs::read(dir.join("book.xlsx")).unwrap(),
        b"previous book",
        "existing output untouched"
    );
}

#[test]
fn strings_from_inputs_are_never_written_as_formulas() {
    use calamine::{Reader, Xlsx, open_workbook};
    let dir = workdir("formula_injection");
    let name = "=HYPERLINK(\"x\",\"y\").xlsx";
    std::fs::copy(demo(), dir.join(name)).unwrap();
    let out = gep(&dir, &["run", "--data", name, "--out", "book.xlsx"]);
    assert!(out.status.success(), "{}", text(&out).1);
    let mut wb: Xlsx<_> = open_workbook(dir.join("book.xlsx")).unwrap();
    let formulas = wb.worksheet_formula("说明").unwrap();
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "the About sheet has formulas"
    );
    let about = wb.worksheet_range("说明").unwrap();
    assert!(
        about
            .used_cells()
            .any(|(_, _, d)| matches!(d, calamine::Data::String(s) if s == name)),
        "the file name is kept as text"
    );
}

#[test]
fn explain_prints_the_chain_behind_a_number() {
    let dir = workdir("explain");
    let out = gep(
        &dir,
        &[
            "explain",
            "--county",
            "140105",
            "--indicator",
            "water_conservation",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("140105 小店区 (太原市) — 水源涵养 water_conservation"),
        "{stdout}"
    );
    assert!(
        stdout.contains("input: shanxi-demo-2021.xlsx [土地利用!G7]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("service_rates.csv: forest/water_conservation = 63.75 mm/yr [D]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("price: prices.toml [reservoir_storage] = 7.53 元/m³ (2011"),
        "{stdout}"
    );
    let bad = gep(
        &dir,
        &[
            "explain",
            "--county",
            "140199",
            "--indicator",
            "water_conservation",
        ],
    );
    // An unknown county is a usage error (exit 2), as README says.
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad).1.contains("no county \"140199\""));
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    let (stdout, stderr) = text(out);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"))
}

/// The keys docs/cli.md promises in every JSON result, and in every problem.
fn assert_envelope(v: &serde_json::Value, command: &str, ok: bool, exit_code: i64) {
    assert_eq!(v["schema"], "gep/1", "{v}");
    assert_eq!(v["command"], command, "{v}");
    assert_eq!(v["ok"], ok, "{v}");
    assert_eq!(v["exit_code"], exit_code, "{v}");
    for list in ["errors", "warnings"] {
        for p in v[list].as_array().unwrap_or_else(|| panic!("{list}: {v}")) {
            for key in ["severity", "check", "location", "message", "message_zh"] {
                assert!(p.get(key).is_some(), "{list} entry without {key}: {p}");
            }
        }
    }
}

#[test]
fn json_output_of_check_run_and_explain_follows_the_documented_schema() {
    let dir = workdir("json_output");
    // check, passing (the demo) and failing (a text cell in a number column: exit 1).
    let out = gep(&dir, &["--format", "json", "check"]);
    assert_eq!(out.status.code(), Some(0));
    assert_envelope(&json_of(&out), "check", true, 0);
    let mut b = Book::demo();
    let r = b.row_of("土地利用", "140105");
    b.set("土地利用", r, 6, calamine::Data::String("约300".into()));
    b.save(&dir.join("bad.xlsx"));
    let out = gep(&dir, &["check", "--format", "json", "bad.xlsx"]);
    assert_eq!(out.status.code(), Some(1));
    let v = json_of(&out);
    assert_envelope(&v, "check", false, 1);
    let errors = v["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(
            |e| e["location"].as_str().unwrap().contains("[土地利用!G7]")
                && e["severity"] == "error"
        ),
        "{v}"
    );
    // run: the total is the province's GEP of accounts.csv, the outputs are the files written.
    let out = gep(
        &dir,
        &["run", "--format", "json", "--out", "b.xlsx", "--csv", "csv"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let v = json_of(&out);
    assert_envelope(&v, "run", true, 0);
    assert_eq!(v["year"], 2021);
    assert_eq!(v["counties"], 117);
    assert_eq!(v["total"]["code"], "140000");
    let (h, rows) = read_csv(&dir.join("csv/accounts.csv"));
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let province: f64 = rows
        .iter()
        .filter(|r| r[col("code")] == "140000")
        .filter_map(|r| r[col("value_cny")].parse::<f64>().ok())
        .sum();
    assert!(close(
        v["total"]["gep_cny"].as_f64().unwrap(),
        province,
        1e-12
    ));
    let outputs: Vec<&str> = v["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap())
        .collect();
    // The book and the four CSV tables (accounts, lines, esv, geep).
    assert_eq!(outputs.len(), 5, "{outputs:?}");
    for csv in ["accounts.csv", "lines.csv", "esv.csv", "geep.csv"] {
        assert!(
            outputs.iter().any(|o| o.ends_with(csv)),
            "{csv}: {outputs:?}"
        );
    }
    assert!(
        outputs
            .iter()
            .all(|o| std::path::Path::new(o).is_absolute() || dir.join(o).exists())
    );
    assert!(
        v["not_valued"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k == "hydropower")
    );
    // explain: the lines and the value; the value is the sum of the lines.
    let out = gep(
        &dir,
        &[
            "explain",
            "--format",
            "json",
            "--county",
            "小店区",
            "--indicator",
            "water_supply",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let v = json_of(&out);
    assert_envelope(&v, "explain", true, 0);
    assert_eq!(v["county_code"], "140105");
    assert_eq!(v["valued"], true);
    let lines = v["lines"].as_array().unwrap();
    assert!(!lines.is_empty());
    let sum: f64 = lines.iter().map(|l| l["value_cny"].as_f64().unwrap()).sum();
    assert!(close(v["value_cny"].as_f64().unwrap(), sum, 1e-12));
    // A usage error is JSON too, one problem per cause, also one clap finds.
    let out = gep(&dir, &["run", "--format", "json", "--budget", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let v = json_of(&out);
    assert_envelope(&v, "run", false, 2);
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("--budget"),
        "{v}"
    );
    let out = gep(
        &dir,
        &[
            "explain",
            "--format",
            "json",
            "--county",
            "1",
            "--indicator",
            "x",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_envelope(&json_of(&out), "explain", false, 2);
}

#[test]
fn suggestions_for_subcommands_indicators_counties_and_sheets() {
    let dir = workdir("suggestions");
    let out = gep(&dir, &["rn"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).1.contains("did you mean \"run\"?"),
        "{}",
        text(&out).1
    );
    let out = gep(
        &dir,
        &[
            "explain",
            "--county",
            "小店",
            "--indicator",
            "water_conservaton",
        ],
    );
    let stderr = text(&out).1;
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("did you mean \"小店区\"?"), "{stderr}");
    assert!(
        stderr.contains("did you mean \"water_conservation\"?"),
        "{stderr}"
    );
    // A county by its name.
    let out = gep(
        &dir,
        &["explain", "--county", "小店区", "--indicator", "水源涵养"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert!(text(&out).0.starts_with("140105 小店区"));
    // A sheet named almost like an input sheet.
    let mut b = Book::demo();
    b.rename("环境", "环镜");
    b.save(&dir.join("renamed.xlsx"));
    let out = gep(&dir, &["check", "renamed.xlsx"]);
    let stderr = text(&out).1;
    assert!(
        stderr.contains(
            "[环镜]: sheet not recognised as an input table; ignored (did you mean 环境?"
        ),
        "{stderr}"
    );
}

#[test]
fn each_exit_code_is_what_the_readme_says() {
    let dir = workdir("exit_codes");
    let code = |args: &[&str]| gep(&dir, args).status.code();
    // 0 success.
    assert_eq!(code(&["check"]), Some(0));
    // 1 invalid input: a workbook that is not one.
    std::fs::write(dir.join("empty.xlsx"), "").unwrap();
    assert_eq!(code(&["check", "empty.xlsx"]), Some(1));
    // 2 usage: unknown option or subcommand, a missing file, a file given twice, an unknown
    // indicator or county, a missing output folder, a budget of 0.
    assert_eq!(code(&["check", "--no-such-option"]), Some(2));
    assert_eq!(code(&["rn"]), Some(2));
    assert_eq!(code(&["check", "missing.xlsx"]), Some(2));
    let demo = demo();
    let demo = demo.to_str().unwrap();
    assert_eq!(code(&["check", demo, demo]), Some(2));
    assert_eq!(
        code(&["explain", "--county", "140105", "--indicator", "nothing"]),
        Some(2)
    );
    assert_eq!(
        code(&[
            "explain",
            "--county",
            "999999",
            "--indicator",
            "water_supply"
        ]),
        Some(2)
    );
    assert_eq!(code(&["run", "--out", "no/such/folder/book.xlsx"]), Some(2));
    assert_eq!(code(&["run", "--budget", "0"]), Some(2));
    assert_eq!(code(&["check", "--previous", "gone.xlsx"]), Some(2));
    assert_eq!(code(&["check", "--coefficients", "no-such-set"]), Some(2));
    assert_eq!(
        code(&[
            "explain",
            "--only",
            "1401",
            "--county",
            "140221",
            "--indicator",
            "water_supply"
        ]),
        Some(2),
        "a county outside --only"
    );
    // 3 I/O: the CSV folder is an existing file.
    std::fs::write(dir.join("taken"), "x").unwrap();
    assert_eq!(code(&["run", "--out", "b.xlsx", "--csv", "taken"]), Some(3));
    // Messages: a missing file is named once, and check does not say "nothing was written".
    let out = gep(&dir, &["check", "missing.xlsx"]);
    let stderr = text(&out).1;
    assert_eq!(stderr.matches("missing.xlsx").count(), 1, "{stderr}");
    let out = gep(&dir, &["check", "empty.xlsx"]);
    assert!(
        !text(&out).1.contains("nothing was written"),
        "{}",
        text(&out).1
    );
    // The same file twice is one problem, not one per county.
    let out = gep(&dir, &["check", demo, demo]);
    let stderr = text(&out).1;
    assert!(stderr.contains("is given twice"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn problem_lists_are_limited_collapsed_and_complete_on_request() {
    let dir = workdir("max_problems");
    let mut b = Book::demo();
    for code in ["140105", "140106", "140107", "140108"] {
        let r = b.row_of("土地利用", code);
        b.set("土地利用", r, 6, calamine::Data::String("约300".into()));
        let r = b.row_of("经济社会", code);
        b.set("经济社会", r, 3, calamine::Data::String("n/a".into()));
    }
    b.save(&dir.join("bad.xlsx"));
    let all = gep(&dir, &["check", "--max-problems", "0", "bad.xlsx"]);
    let all_lines = text(&all).1.lines().count();
    let one = gep(&dir, &["check", "--max-problems", "1", "bad.xlsx"]);
    let stderr = text(&one).1;
    assert_eq!(one.status.code(), Some(1));
    assert!(stderr.contains("--max-problems 0 lists all"), "{stderr}");
    assert!(stderr.lines().count() < all_lines, "{stderr}");
    // JSON has every problem, one entry per cell.
    let json = gep(
        &dir,
        &[
            "check",
            "--format",
            "json",
            "--max-problems",
            "1",
            "bad.xlsx",
        ],
    );
    let v = json_of(&json);
    assert!(v["errors"].as_array().unwrap().len() >= 8, "{v}");
    // --quiet prints errors only; --color always colours the tag, NO_COLOR has no effect on it.
    let quiet = gep(&dir, &["check", "--quiet"]);
    assert_eq!(text(&quiet).0, "");
    let coloured = gep(&dir, &["check", "--color", "always", "bad.xlsx"]);
    assert!(
        text(&coloured).1.contains("\u{1b}[1;31merror\u{1b}[0m"),
        "{}",
        text(&coloured).1
    );
    let plain = gep(&dir, &["check", "bad.xlsx"]);
    assert!(
        !text(&plain).1.contains('\u{1b}'),
        "not a terminal: no colour"
    );
}

#[test]
fn completions_and_man_page_come_from_the_command_definitions() {
    let dir = workdir("completions");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = gep(&dir, &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = text(&out).0;
        for word in ["explain", "template", "max-problems"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let out = gep(&dir, &["man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = text(&out).0;
    assert!(
        page.starts_with(".ie") || page.contains(".TH gep 1"),
        "{page}"
    );
    assert!(
        page.contains("completions") && page.contains("\\-\\-format"),
        "{page}"
    );
}

/// Issue 17, item 3 (one-at-a-time part): `gep sensitivity` moves each coefficient by ± the
/// range; the GEP is linear in a price, so the carbon price's bar is exactly ± range × the carbon
/// value of the run (from accounts.csv); the bars come largest swing first and the workbook
/// lists them in that order.
#[test]
fn sensitivity_moves_gep_by_the_range_times_what_a_price_values() {
    let dir = workdir("sensitivity");
    let run = gep(
        &dir,
        &["run", "--only", "1401", "--out", "b.xlsx", "--csv", "csv"],
    );
    assert!(run.status.success(), "{}", text(&run).1);
    let (head, rows) = read_csv(&dir.join("csv/accounts.csv"));
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let carbon: f64 = rows
        .iter()
        .filter(|r| r[col("level")] != "county" && r[col("level")] != "prefecture")
        .filter(|r| r[col("indicator")] == "carbon_sequestration")
        .map(|r| r[col("value_cny")].parse::<f64>().unwrap())
        .sum();
    assert!(carbon > 0.0);
    let out = gep(
        &dir,
        &[
            "--format",
            "json",
            "sensitivity",
            "--only",
            "1401",
            "--range",
            "10",
            "--out",
            "tornado.xlsx",
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let v: serde_json::Value = serde_json::from_str(&text(&out).0).unwrap();
    let base = v["base_cny"].as_f64().unwrap();
    let bars = v["bars"].as_array().unwrap();
    let bar = bars
        .iter()
        .find(|b| b["coefficient"] == "prices.toml [prices.carbon]")
        .expect("the carbon price moves GEP");
    let (low, high) = (
        bar["low_cny"].as_f64().unwrap(),
        bar["high_cny"].as_f64().unwrap(),
    );
    assert!(
        close(high - base, 0.1 * carbon, 1e-9),
        "{} vs {}",
        high - base,
        0.1 * carbon
    );
    assert!(close(base - low, 0.1 * carbon, 1e-9));
    // Largest swing first.
    let swings: Vec<f64> = bars
        .iter()
        .map(|b| (b["high_cny"].as_f64().unwrap() - b["low_cny"].as_f64().unwrap()).abs())
        .collect();
    assert!(swings.windows(2).all(|w| w[0] >= w[1]));
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(dir.join("tornado.xlsx")).unwrap();
    use calamine::Reader as _;
    let sheet = wb.worksheet_range("敏感性").unwrap();
    assert_eq!(
        sheet.get_value((4, 0)).map(|d| d.to_string()),
        Some(bars[0]["coefficient"].as_str().unwrap().to_string())
    );
}

/// Issue 17, item 3 (Monte Carlo): the same seed gives the same bands; for symmetric ranges the
/// median of every unit is within 1 % of its point estimate and P5 ≤ P50 ≤ P95; another seed
/// gives other draws.
#[test]
fn monte_carlo_bands_are_reproducible_and_centred_on_the_point_estimate() {
    let dir = workdir("monte_carlo");
    let run = |seed: &str| {
        let out = gep(
            &dir,
            &[
                "--format",
                "json",
                "sensitivity",
                "--only",
                "1401",
                "--monte-carlo",
                "60",
                "--seed",
                seed,
            ],
        );
        assert!(out.status.success(), "{}", text(&out).1);
        serde_json::from_str::<serde_json::Value>(&text(&out).0).unwrap()
    };
    let (a, b, c) = (run("7"), run("7"), run("8"));
    assert_eq!(a["units"], b["units"], "same seed, same bands");
    assert_ne!(a["units"], c["units"], "another seed, other draws");
    let units = a["units"].as_array().unwrap();
    assert_eq!(
        units.len(),
        10 + 1 + 1,
        "太原市's 10 counties, its subtotal, the scope total"
    );
    for u in units {
        let f = |k: &str| u[k].as_f64().unwrap();
        assert!(
            f("p5_cny") <= f("p50_cny") && f("p50_cny") <= f("p95_cny"),
            "{u}"
        );
        assert!(
            (f("p50_cny") - f("point_cny")).abs() <= 0.01 * f("point_cny"),
            "{u}"
        );
        assert!(f("p95_cny") > f("p5_cny"), "the draws move GEP: {u}");
    }
}

/// `gep run --only 1401 --csv csv` with `set`, which must succeed.
fn run_1401_with_csv(dir: &std::path::Path, set: &str) {
    let run = gep(
        dir,
        &[
            "run",
            "--coefficients",
            set,
            "--only",
            "1401",
            "--out",
            "b.xlsx",
            "--csv",
            "csv",
        ],
    );
    assert!(run.status.success(), "{}", text(&run).1);
}

/// `gep sensitivity --only 1401` with `set` (JSON): the base GEP and the low and high GEP of
/// `coefficient`'s bar, which must say it moved to the coefficient's own band.
fn own_band_bar(dir: &std::path::Path, set: &str, coefficient: &str) -> (f64, f64, f64) {
    let out = gep(
        dir,
        &[
            "--format",
            "json",
            "sensitivity",
            "--coefficients",
            set,
            "--only",
            "1401",
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let v: serde_json::Value = serde_json::from_str(&text(&out).0).unwrap();
    let bar = v["bars"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["coefficient"] == coefficient)
        .unwrap();
    assert_eq!(bar["own_band"], true);
    (
        v["base_cny"].as_f64().unwrap(),
        bar["low_cny"].as_f64().unwrap(),
        bar["high_cny"].as_f64().unwrap(),
    )
}

/// Issue 17, item 3: a price may carry its own `low`/`high` (as published, here 30–60 元/t CO₂
/// around 42.85); sensitivity then moves it to those ends instead of ± the range, and says so. A
/// band that does not hold its value is refused with the file and line.
#[test]
fn a_price_with_its_own_low_and_high_is_moved_to_them() {
    let dir = workdir("sensitivity_band");
    let set = edited_set(&dir, |name, t| {
        if name == "prices.toml" {
            t.replacen("value = 42.85\n", "value = 42.85\nlow = 30\nhigh = 60\n", 1)
        } else {
            t
        }
    });
    let set = set.to_str().unwrap().to_string();
    run_1401_with_csv(&dir, &set);
    let (head, rows) = read_csv(&dir.join("csv/accounts.csv"));
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let carbon: f64 = rows
        .iter()
        .filter(|r| r[col("level")] == "province")
        .filter(|r| r[col("indicator")] == "carbon_sequestration")
        .map(|r| r[col("value_cny")].parse::<f64>().unwrap())
        .sum();
    let (base, low, high) = own_band_bar(&dir, &set, "prices.toml [prices.carbon]");
    assert!(close(base - low, carbon * (42.85 - 30.0) / 42.85, 1e-9));
    assert!(close(high - base, carbon * (60.0 - 42.85) / 42.85, 1e-9));
    std::fs::write(
        dir.join("set/prices.toml"),
        std::fs::read_to_string(dir.join("set/prices.toml"))
            .unwrap()
            .replace("low = 30\n", "low = 50\n"),
    )
    .unwrap();
    let bad = gep(&dir, &["coefficients", "check", &set]);
    assert!(!bad.status.success());
    assert!(
        text(&bad)
            .1
            .contains("low 50 ≤ value 42.85 ≤ high 60 does not hold"),
        "{}",
        text(&bad).1
    );
}

/// Issue 17, item 3: a per-hectare rate may carry its own `low`/`high` (optional columns of
/// service_rates.csv, in the rate's unit; here forest water conservation 50–80 around 63.75 mm/yr);
/// sensitivity moves it to those ends, which shift GEP by exactly the forest lines' value × the
/// relative move. A band that does not hold its rate is refused at its line.
#[test]
fn a_rate_with_its_own_low_and_high_is_moved_to_them() {
    let dir = workdir("sensitivity_rate_band");
    let with_band = |low: &'static str| {
        move |name: &str, t: String| {
            if name != "service_rates.csv" {
                return t;
            }
            let mut header_seen = false;
            t.lines()
                .map(|l| {
                    if l.starts_with('#') || l.trim().is_empty() {
                        l.to_string()
                    } else if !header_seen {
                        header_seen = true;
                        format!("{l},low,high")
                    } else if l.starts_with("forest,water_conservation,63.75,") {
                        format!("{l},{low},80")
                    } else {
                        format!("{l},,")
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
        }
    };
    let set = edited_set(&dir, with_band("50"));
    let set = set.to_str().unwrap().to_string();
    run_1401_with_csv(&dir, &set);
    let (head, rows) = read_csv(&dir.join("csv/lines.csv"));
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let forest_water: f64 = rows
        .iter()
        .filter(|r| {
            r[col("coefficient_ref")].starts_with("service_rates.csv: forest/water_conservation")
        })
        .map(|r| r[col("value_cny")].parse::<f64>().unwrap())
        .sum();
    assert!(forest_water > 0.0);
    let (base, low, high) = own_band_bar(&dir, &set, "service_rates.csv forest/water_conservation");
    assert!(close(
        base - low,
        forest_water * (63.75 - 50.0) / 63.75,
        1e-9
    ));
    assert!(close(
        high - base,
        forest_water * (80.0 - 63.75) / 63.75,
        1e-9
    ));
    let bad = edited_set(&dir, with_band("70"));
    let bad = gep(&dir, &["coefficients", "check", bad.to_str().unwrap()]);
    assert!(!bad.status.success());
    assert!(
        text(&bad).1.contains("service_rates.csv:11")
            && text(&bad)
                .1
                .contains("low 70 ≤ value 63.75 ≤ high 80 does not hold"),
        "{}",
        text(&bad).1
    );
}

/// Issue 17, item 3: `gep run --uncertainty N --seed S` puts each unit's P5 and P95 beside GEP on
/// 汇总, the same bands as `gep sensitivity --monte-carlo N --seed S`.
#[test]
fn the_book_carries_the_monte_carlo_bands_beside_gep() {
    let dir = workdir("uncertainty_book");
    let run = gep(
        &dir,
        &[
            "run",
            "--only",
            "1401",
            "--uncertainty",
            "20",
            "--seed",
            "3",
            "--out",
            "b.xlsx",
        ],
    );
    assert!(run.status.success(), "{}", text(&run).1);
    let out = gep(
        &dir,
        &[
            "--format",
            "json",
            "sensitivity",
            "--only",
            "1401",
            "--monte-carlo",
            "20",
            "--seed",
            "3",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&text(&out).0).unwrap();
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(dir.join("b.xlsx")).unwrap();
    use calamine::Reader as _;
    let sheet = wb.worksheet_range("汇总").unwrap();
    let header: Vec<String> = (0..sheet.width())
        .map(|c| {
            sheet
                .get_value((2, c as u32))
                .map(|d| d.to_string())
                .unwrap_or_default()
        })
        .collect();
    let p5 = header
        .iter()
        .position(|h| h.starts_with("GEP P5"))
        .expect("a P5 column");
    let mut checked = 0;
    for u in v["units"].as_array().unwrap() {
        let row = (3..sheet.height() as u32).find(|r| {
            sheet.get_value((*r, 0)).map(|d| d.to_string()).as_deref() == u["code"].as_str()
        });
        let Some(r) = row else { continue };
        let cell = |c: usize| match sheet.get_value((r, c as u32)) {
            Some(calamine::Data::Float(x)) => *x * 1e4,
            other => panic!("{other:?}"),
        };
        assert!(close(cell(p5), u["p5_cny"].as_f64().unwrap(), 1e-12));
        assert!(close(cell(p5 + 1), u["p95_cny"].as_f64().unwrap(), 1e-12));
        checked += 1;
    }
    assert!(checked >= 10, "{checked}");
}
