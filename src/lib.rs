//! `gep`: county-level GEP accounts from a province's yearly statistics workbooks.
//!
//! The pipeline, one pass: **read** each workbook (`read`) → **validate** it against the
//! coefficient set's regions and crosswalk (`validate`) → **value** every indicator with polars
//! joins of inputs and coefficients (`account`) → **write** the account book and CSV (`book`, `export`).
//! GEP (gross ecosystem product, 生态产品总值) = provisioning + regulating + cultural services.

pub mod account;
pub mod audit;
pub mod book;
pub mod carbon_stock;
pub mod change;
pub mod cli;
pub mod clock;
pub mod coefficients;
pub mod diff;
pub mod error;
pub mod esv;
pub mod explain;
pub mod export;
pub mod extent;
pub mod files;
pub mod progress;
pub mod read;
pub mod report;
pub mod schema;
pub mod sensitivity;
pub mod series;
pub mod suggest;
mod sum;
pub mod template;
pub mod transfer;
pub mod units;
pub mod validate;

use std::path::Path;

pub use error::{Error, Result};
pub use files::{Staged, commit, install_interrupt_handler, sha256_hex, stage, write_atomically};

/// Engine version written into every book.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Stage timings on stderr when `GEP_TIMING` is set (`bench/` and anyone asking what is slow):
/// `timing: read 0.412 s, peak RSS 120 MB` (the peak so far, where the system reports it).
fn timed<T>(stage: &str, f: impl FnOnce() -> T) -> T {
    progress::stage(stage);
    timed_part(stage, f)
}

/// As [`timed`] for a part of a stage (a valuation family, the sort of the lines), without
/// naming it on the progress bar.
pub(crate) fn timed_part<T>(stage: &str, f: impl FnOnce() -> T) -> T {
    let start = std::time::Instant::now();
    TIMING_ORIGIN.get_or_init(|| start);
    let out = f();
    timed_part_end(stage, start);
    out
}

/// Prints the time since `start` of a part whose code cannot sit in a closure (when `GEP_TIMING`
/// is set).
pub(crate) fn timed_part_end(stage: &str, start: std::time::Instant) {
    if std::env::var_os("GEP_TIMING").is_some() {
        let peak = peak_rss_mb().map_or_else(String::new, |mb| format!(", peak RSS {mb} MB"));
        // When the part ran, from the first timed part: parts run side by side overlap.
        let origin = *TIMING_ORIGIN.get_or_init(|| start);
        let (from, to) = (
            start.saturating_duration_since(origin).as_secs_f64(),
            origin.elapsed().as_secs_f64(),
        );
        eprintln!(
            "timing: {stage} {:.3} s ({from:.3}–{to:.3}){peak}",
            start.elapsed().as_secs_f64()
        );
    }
}

/// The start of the first timed part (or of the first to end), the origin of the spans [`timed_part_end`] prints.
static TIMING_ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// The process's peak resident memory so far (`VmHWM` of /proc/self/status), in MB; `None`
/// where there is no such file.
fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

use std::path::PathBuf;

use account::Accounts;
use coefficients::Coefficients;
use error::{Issue, Issues};
use read::Source;
use validate::{Inputs, Scope};

/// The synthetic demo workbook built into the binary (see fixtures/README.md).
pub const DEMO_WORKBOOK: &[u8] = include_bytes!("../fixtures/demo/shanxi-demo-2021.xlsx");
/// File name shown for the demo workbook.
pub const DEMO_NAME: &str = "shanxi-demo-2021.xlsx";

/// What a run or a check reads.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Workbooks; empty = the built-in demo workbook.
    pub data: Vec<PathBuf>,
    /// Coefficient set folder; `None` = the built-in Shanxi set.
    pub coefficients: Option<PathBuf>,
    /// Year and counties.
    pub scope: Scope,
    /// Modified coefficient files are errors.
    pub strict: bool,
    /// The command line, for the About sheet.
    pub command_line: String,
    /// Reading limits.
    pub limits: read::Limits,
}

/// What a successful run wrote.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Accounting year.
    pub year: i32,
    /// The book written.
    pub book: PathBuf,
    /// CSV files written.
    pub csv: Vec<PathBuf>,
    /// Warnings kept on the Checks sheet.
    pub warnings: Vec<Issue>,
    /// The accounts.
    pub accounts: Accounts,
    /// The `--only` entries, normalised (empty for the whole set).
    pub only: Vec<String>,
    /// True when the built-in synthetic demo workbook was accounted.
    pub demo: bool,
    /// The top unit's GEEP (元), when computed.
    pub geep_cny: Option<f64>,
    /// The top unit's equivalent-factor ESV (元).
    pub esv_cny: f64,
    /// An equivalent-factor study: no GEP, no GEEP.
    pub esv_only: bool,
    /// The accounts the run produced (`gep`, `esv`, `geep`).
    pub produced: Vec<&'static str>,
}

/// Reads the requested workbooks (or the demo workbook).
///
/// # Errors
/// [`Error::Io`] when a file cannot be read; [`Error::Invalid`] when one is too large.
pub fn sources(request: &Request) -> Result<Vec<Source>> {
    if request.data.is_empty() {
        return Ok(vec![Source::from_bytes(
            DEMO_NAME,
            None,
            DEMO_WORKBOOK.to_vec(),
        )]);
    }
    let mut problems = Vec::new();
    for path in &request.data {
        if !path.exists() {
            problems.push(format!("no such file: {}", path.display()));
        } else if path.is_dir() {
            problems.push(format!("{} is a folder, not a workbook", path.display()));
        }
    }
    if !problems.is_empty() {
        return Err(Error::Usage(problems.join("\n")));
    }
    let sources: Vec<Source> = request
        .data
        .iter()
        .map(|p| Source::open(p, &request.limits))
        .collect::<Result<_>>()?;
    // One file given twice (or two copies of it) would report each county twice.
    for (i, a) in sources.iter().enumerate() {
        if let Some(b) = sources[..i].iter().find(|b| b.sha256 == a.sha256) {
            let (pa, pb) = (request.data[i].display(), b.name.clone());
            problems.push(
                if same_file(&request.data[i], b.path.as_deref().unwrap_or(Path::new(""))) {
                    format!("{pa} is given twice")
                } else {
                    format!("{pa} and {pb} have the same content (one workbook given twice?)")
                },
            );
        }
    }
    if !problems.is_empty() {
        return Err(Error::Usage(problems.join("\n")));
    }
    Ok(sources)
}

/// Stages 0-2: coefficients, read, validate and audit. Every problem of the coefficient set and
/// of every workbook is collected first and reported together.
///
/// # Errors
/// [`Error::Invalid`] listing every problem; [`Error::Usage`] for a workbook or coefficient folder
/// that does not exist; [`Error::Io`] for unreadable files.
pub fn prepare(request: &Request) -> Result<(Coefficients, Inputs)> {
    let prepared = prepare_with(request, false)?;
    Ok((prepared.coef, prepared.inputs))
}

/// What [`prepare_with`] gives: the set, the validated inputs and, when asked to value, the GEP
/// accounts and the equivalent-factor account (its error kept for the caller to report in turn).
struct Prepared {
    coef: Coefficients,
    inputs: Inputs,
    accounts: Option<Accounts>,
    esv: Option<Result<esv::Esv>>,
}

/// [`prepare`], and with `value` the accounts too: valued while the audits run (both only read
/// the validated inputs; when an audit finds an error, the accounts are dropped unseen). The
/// equivalent-factor account, which reads only the inputs, is made after the audits, beside the
/// valuation.
fn prepare_with(request: &Request, value: bool) -> Result<Prepared> {
    let mut issues = Issues::new();
    // The set is loaded while the workbooks' bytes are read and hashed (both are small at a
    // province's size, and independent). A broken coefficient set does not hide the workbooks'
    // own problems: they are read anyway.
    let (loaded, sources) = rayon::join(
        || {
            timed("coefficients", || {
                account::registry::load_coefficients(
                    request.coefficients.as_deref(),
                    request.strict,
                )
            })
        },
        || sources(request),
    );
    let coef = match loaded {
        Ok(c) => {
            issues.extend(c.warnings.clone());
            issues.tag_from(0, error::Check::Coefficients);
            Some(c)
        }
        Err(Error::Invalid { issues: found }) => {
            for mut issue in found {
                issue.check = error::Check::Coefficients;
                issues.push(issue);
            }
            None
        }
        Err(e) => return Err(e),
    };
    let sources = sources?;
    let mut tables = Vec::new();
    let mut unreadable = false;
    // The schema, with the 经济社会 columns the set's declared services read.
    let sheets = schema::for_run(
        &coef
            .as_ref()
            .map(account::registry::declared_columns)
            .unwrap_or_default(),
        request.scope.accounts == validate::AccountsAsked::GeepOnly,
    );
    timed("read", || {
        for source in &sources {
            match read::workbook_with(source, &request.limits, sheets, &mut issues) {
                Some(read) => tables.extend(read),
                None => unreadable = true,
            }
        }
    });
    let Some(coef) = coef else {
        issues.error(
            "",
            "the workbooks were read (problems above) but not checked against the coefficient set (codes, land classes, forest types) until the set's problems are fixed",
        );
        return Err(invalid(issues));
    };
    if unreadable {
        // A file that is not a workbook: report it (and what the others had), check no further.
        issues.error(
            "",
            "nothing was checked beyond the files above that could not be read",
        );
        return Err(invalid(issues));
    }
    let scope = request.scope.normalised(&coef)?;
    let (mut inputs, mut issues) = timed("validate", || {
        validate::inputs(&sources, tables, &coef, &scope, issues)
    })?;
    // The audits see the frames as valued; their problems join the others in one list. Valuing
    // needs inputs without errors.
    let value = value && !issues.has_errors();
    let ((audited, esv), accounts) = timed("audit and value", || {
        rayon::join(
            || {
                let audited =
                    crate::timed_part("  audit", || audit::audit(&inputs, &coef, &mut issues));
                let esv = value.then(|| timed_part("  esv", || esv::compute(&inputs, &coef)));
                (audited, esv)
            },
            || {
                value.then(|| {
                    if inputs.esv_only {
                        account::skeleton(&inputs, &coef)
                    } else {
                        account::compute(&inputs, &coef)
                    }
                })
            },
        )
    });
    audited?;
    inputs.warnings = issues.into_result()?;
    let accounts = accounts.transpose()?;
    Ok(Prepared {
        coef,
        inputs,
        accounts,
        esv,
    })
}

/// The collected problems as an error (they hold at least one error).
fn invalid(issues: Issues) -> Error {
    match issues.into_result() {
        Err(e) => e,
        Ok(_) => Error::Internal("problems reported without an error".into()),
    }
}

/// What a run computes before it writes anything: `gep check` and `gep run` share it, so a
/// workbook that passes `check` is one that `run` accepts.
#[derive(Debug)]
pub struct Evaluation {
    /// The coefficient set.
    pub coef: Coefficients,
    /// The validated inputs.
    pub inputs: Inputs,
    /// The GEP accounts.
    pub accounts: Accounts,
    /// The equivalent-factor account.
    pub esv: esv::Esv,
    /// GEEP terms per county, when the inputs allow them.
    pub geep: Option<std::collections::BTreeMap<String, account::geep::Terms>>,
    /// The carbon-stock account, when the set has carbon densities.
    pub carbon_stock: Option<carbon_stock::CarbonStock>,
    /// The extent account, when `--previous` gives the previous land cover.
    pub extent: Option<extent::Extent>,
    /// Change against `--previous`: its year and rows.
    pub change: Option<(i32, Vec<change::ChangeRow>)>,
    /// Transfer allocation under `--budget`.
    pub transfer: Option<(i64, Vec<transfer::Allocation>)>,
    /// Every warning: reading, audits (including the trend against `--previous`), valuation.
    pub warnings: Vec<Issue>,
}

/// Stages 0-4 without writing: prepare, value, compare with the previous year (trend audit and
/// change), ESV, GEEP and the transfer allocation.
///
/// # Errors
/// As [`prepare`] and [`account::compute`]; [`Error::Invalid`] when the trend audit finds an
/// error; [`Error::Usage`] for a previous year that is not earlier or a budget without policy.
pub fn evaluate(
    request: &Request,
    previous: Option<&Path>,
    budget_cny: Option<i64>,
) -> Result<Evaluation> {
    let Prepared {
        coef,
        inputs,
        accounts,
        esv,
    } = prepare_with(request, true)?;
    let (Some(accounts), Some(esv)) = (accounts, esv) else {
        return Err(Error::Internal("inputs prepared but not valued".into()));
    };
    let mut warnings = inputs.warnings.all().to_vec();
    warnings.extend(accounts.warnings.all().iter().cloned());
    if inputs.esv_only && (previous.is_some() || budget_cny.is_some()) {
        return Err(Error::Usage(
            "--previous and --budget need the GEP account; this run is an equivalent-factor (ESV) study (no 森林资源, 供水 or 经济社会 sheet, or --accounts esv)".into(),
        ));
    }
    let mut previous_land = None;
    let mut previous_year = 0;
    let change = match previous {
        Some(path) => {
            let previous = previous_values(path, request)?;
            if previous.values.year >= inputs.year {
                return Err(Error::Usage(format!(
                    "--previous {} is for {}, not before {}",
                    path.display(),
                    previous.values.year,
                    inputs.year
                )));
            }
            let mut trend = Issues::new();
            match &previous.inputs {
                Some(before) => audit::trend_against_inputs(&inputs, before, &coef, &mut trend)?,
                None => audit::trend_against_values(
                    &change::YearValues::from_accounts(&accounts),
                    &previous.values,
                    &inputs.counties,
                    &mut trend,
                ),
            }
            warnings.extend(trend.into_result()?.all().iter().cloned());
            previous_land = previous.inputs.map(|i| i.land);
            previous_year = previous.values.year;
            Some((
                previous.values.year,
                change::compare(&accounts, &previous.values, &coef)?,
            ))
        }
        None => None,
    };
    let esv = esv?;
    let carbon_stock = timed_part("carbon stock", || {
        carbon_stock::compute(&inputs.land, previous_land.as_ref(), &coef)
    })?;
    let mut extent_issues = Issues::new();
    let extent = timed_part("extent", || {
        extent::compute(
            &inputs.land,
            previous_land.as_ref().map(|l| (previous_year, l)),
            inputs.transitions.as_deref(),
            &inputs.counties,
            &coef,
            &mut extent_issues,
        )
    })?;
    warnings.extend(extent_issues.into_result()?.all().iter().cloned());
    let mut geep_warnings = Issues::new();
    let geep = timed("geep", || {
        if inputs.esv_only {
            return Ok(None);
        }
        account::geep::compute(
            &accounts,
            &inputs,
            previous_land.as_ref(),
            &coef,
            &mut geep_warnings,
        )
    })?;
    warnings.extend(geep_warnings.all().iter().cloned());
    let transfer = match budget_cny {
        Some(budget) => {
            let Some(policy) = &coef.transfer_policy else {
                return Err(Error::Usage(
                    "the coefficient set has no transfer_policy.toml".into(),
                ));
            };
            let allocation =
                transfer::allocate(&accounts, &inputs.land_area_by_county()?, policy, budget)?;
            Some((budget, allocation))
        }
        None => None,
    };
    Ok(Evaluation {
        coef,
        inputs,
        accounts,
        esv,
        geep,
        carbon_stock,
        extent,
        change,
        transfer,
        warnings,
    })
}

/// `gep check`: exactly the validation and valuation of `gep run`, writing nothing; returns
/// the warnings.
///
/// # Errors
/// As [`evaluate`].
pub fn check(request: &Request, previous: Option<&Path>) -> Result<Vec<Issue>> {
    let mut evaluation = evaluate(request, previous, None)?;
    let warnings = std::mem::take(&mut evaluation.warnings);
    drop_in_background(evaluation);
    Ok(warnings)
}

/// Frees `value` on a thread of its own: at national scale the inputs and valuation lines are
/// millions of small allocations, and freeing them one by one holds the caller for a second.
pub(crate) fn drop_in_background<T: Send + 'static>(value: T) {
    // Should the thread not start, the closure (and `value` with it) is dropped here.
    let _ = std::thread::Builder::new()
        .name("gep-free".into())
        .spawn(move || drop(value));
}

/// What a run writes and adds, beyond the accounts.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The book (default `gep-accounts-<year>.xlsx`).
    pub out: Option<PathBuf>,
    /// Folder for the CSV tables.
    pub csv: Option<PathBuf>,
    /// Transfer budget, whole yuan.
    pub budget_cny: Option<i64>,
    /// Previous year's workbook or book, for the change sheet.
    pub previous: Option<PathBuf>,
    /// Language of the book.
    pub lang: book::Lang,
    /// Money unit of the book's value cells.
    pub money: book::Money,
    /// Replace an existing book.
    pub force: bool,
    /// Monte Carlo bands on 汇总: draws and seed (±10 %, or each coefficient's low/high).
    pub uncertainty: Option<(usize, u64)>,
}

/// What became of one workbook of a batch.
#[derive(Debug)]
pub struct BatchItem {
    /// The workbook.
    pub workbook: PathBuf,
    /// The book it was to write.
    pub book: PathBuf,
    /// Its run: a summary, or why nothing was written for it.
    pub outcome: Result<BatchDone>,
}

/// A successful run of a batch, kept small (the accounts are dropped as each run ends, so that a
/// batch of many years does not hold them all).
#[derive(Debug)]
pub struct BatchDone {
    /// Accounting year.
    pub year: i32,
    /// The top unit and its GEP: `2021 山西省 GEP 6729.90 亿元 (117 counties)`.
    pub summary: String,
    /// Warnings of the run.
    pub warnings: Vec<Issue>,
    /// The run as `gep run --format json` reports it.
    pub json: serde_json::Value,
}

/// Options of `gep batch`.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Folder for the books (`gep-accounts-<workbook name>.xlsx`) and CSV folders.
    pub out_dir: PathBuf,
    /// Write each run's CSV tables into `<out_dir>/gep-accounts-<workbook name>-csv/`.
    pub csv: bool,
    /// Workbooks valued at once (0: one per core).
    pub jobs: usize,
    /// The rest as for one run (`out` and `csv` are set per workbook).
    pub run: RunOptions,
}

/// `gep batch`: several complete workbooks (one year each), each a whole `run` of its own,
/// `jobs` at a time on a thread pool. A workbook that fails writes nothing; the others are
/// written. Results in the order given.
///
/// # Errors
/// [`Error::Usage`] when the output folder does not exist, no workbook is given, or two
/// workbooks would write the same book (same file name).
pub fn batch(
    request: &Request,
    workbooks: &[PathBuf],
    options: &BatchOptions,
) -> Result<Vec<BatchItem>> {
    use rayon::prelude::*;
    if workbooks.is_empty() {
        return Err(Error::Usage(
            "give the workbooks to run (one complete year each)".into(),
        ));
    }
    if !options.out_dir.is_dir() {
        return Err(Error::Usage(format!(
            "output folder {} does not exist",
            options.out_dir.display()
        )));
    }
    let mut planned: Vec<(PathBuf, PathBuf, Option<PathBuf>)> = Vec::new();
    for workbook in workbooks {
        let stem = workbook
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let book = options.out_dir.join(format!("gep-accounts-{stem}.xlsx"));
        if let Some((first, _, _)) = planned.iter().find(|(_, b, _)| *b == book) {
            return Err(Error::Usage(format!(
                "{} and {} would both write {}: give workbooks with different file names",
                first.display(),
                workbook.display(),
                book.display()
            )));
        }
        let csv = options
            .csv
            .then(|| options.out_dir.join(format!("gep-accounts-{stem}-csv")));
        planned.push((workbook.clone(), book, csv));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs)
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the batch's threads: {e}")))?;
    progress::batch(planned.len() as u64);
    let items = pool.install(|| {
        planned
            .into_par_iter()
            .map(|(workbook, book, csv)| {
                let request = Request {
                    data: vec![workbook.clone()],
                    ..request.clone()
                };
                // The CSV folder is made for the run, and removed again if the run fails.
                let made = csv.clone().filter(|dir| !dir.exists());
                if let Some(dir) = &made
                    && let Err(e) = std::fs::create_dir_all(dir)
                {
                    return BatchItem {
                        workbook,
                        book,
                        outcome: Err(Error::io(dir, e)),
                    };
                }
                let run_options = RunOptions {
                    out: Some(book.clone()),
                    csv,
                    ..options.run.clone()
                };
                let outcome = run(&request, &run_options).map(|report| BatchDone {
                    year: report.year,
                    summary: report.accounts.province().map_or_else(String::new, |p| {
                        format!(
                            "{} {} GEP {:.2} 亿元 ({} counties)",
                            report.year,
                            p.name,
                            p.gep_cny / 1e8,
                            report.accounts.level(account::Level::County).count()
                        )
                    }),
                    json: report::run_json(&report),
                    warnings: report.warnings,
                });
                if let (Err(_), Some(dir)) = (&outcome, &made) {
                    let _ = std::fs::remove_dir(dir); // empty: a failed run wrote nothing
                }
                progress::batch_done();
                BatchItem {
                    workbook,
                    book,
                    outcome,
                }
            })
            .collect()
    });
    Ok(items)
}

/// `gep run`: the whole pass. The book and the CSV files are staged and renamed into place
/// only when every one of them was written: a failed run writes nothing.
///
/// # Errors
/// [`Error::Usage`] when the output would overwrite an input; otherwise as [`evaluate`] and
/// [`book::write`].
pub fn run(request: &Request, options: &RunOptions) -> Result<RunReport> {
    let RunOptions {
        out,
        csv: csv_dir,
        budget_cny,
        previous,
        lang,
        money,
        force,
        uncertainty: _,
    } = options.clone();
    if let Some(out) = &out {
        refuse_overwriting_inputs(out, request)?;
        if let Some(p) = previous.as_ref().filter(|p| same_file(out, p) || out == *p) {
            return Err(Error::Usage(format!(
                "refusing to write the book over the previous year's {}",
                p.display()
            )));
        }
    }
    let e = evaluate(request, previous.as_deref(), budget_cny)?;
    let bands = match options.uncertainty {
        Some((draws, seed)) if !e.inputs.esv_only => {
            Some(sensitivity::monte_carlo(request, 0.1, draws, seed)?)
        }
        _ => None,
    };
    // A scoped run never takes the province book's default name.
    let book = out.unwrap_or_else(|| {
        let scope = e
            .inputs
            .scope
            .only
            .iter()
            .map(|p| format!("-{p}"))
            .collect::<String>();
        PathBuf::from(format!("gep-accounts-{}{scope}.xlsx", e.inputs.year))
    });
    refuse_overwriting_inputs(&book, request)?;
    if book.exists() && !force {
        return Err(Error::Usage(format!(
            "{} exists; give --force to replace it (or another --out)",
            book.display()
        )));
    }
    let mut staged = vec![timed("book", || {
        book::stage(
            &book,
            &book::BookContext {
                accounts: &e.accounts,
                inputs: &e.inputs,
                coef: &e.coef,
                request,
                warnings: &e.warnings,
                transfer: e.transfer.as_ref(),
                change: e.change.as_ref(),
                lang,
                money,
                esv: Some(&e.esv),
                geep: e.geep.as_ref(),
                carbon_stock: e.carbon_stock.as_ref(),
                extent: e.extent.as_ref(),
                bands: bands.as_ref(),
            },
        )
    })?];
    let csv = match &csv_dir {
        Some(dir) => {
            let created = !dir.exists();
            let tables = export::Tables {
                extent: e.extent.as_ref(),
                carbon_stock: e.carbon_stock.as_ref(),
                esv_only: e.inputs.esv_only,
                accounts: &e.accounts,
                esv: &e.esv,
                geep: e.geep.as_ref().zip(e.coef.geep.as_ref()),
            };
            let placed = export::stage(dir, &tables).and_then(|files| {
                let paths: Vec<PathBuf> = files.iter().map(|f| f.path().to_path_buf()).collect();
                staged.extend(files);
                commit(staged).map(|()| paths)
            });
            if placed.is_err() && created {
                // The folder made for this run goes too (only when still empty).
                let _ = std::fs::remove_dir(dir);
            }
            placed?
        }
        None => {
            commit(staged)?;
            Vec::new()
        }
    };
    let esv_cny = e.accounts.rows.last().map_or(0.0, |top| {
        e.esv.values(e.accounts.members(top)).iter().sum()
    });
    let geep_only = e.inputs.scope.accounts == validate::AccountsAsked::GeepOnly;
    let produced = match (e.inputs.esv_only, geep_only, e.geep.is_some()) {
        (true, _, _) => vec!["esv"],
        (false, true, _) => vec!["geep", "esv"],
        (false, false, true) => vec!["gep", "esv", "geep"],
        (false, false, false) => vec!["gep", "esv"],
    };
    let geep_cny = e
        .geep
        .as_ref()
        .zip(e.coef.geep.as_ref())
        .zip(e.accounts.rows.last())
        .map(|((terms, settings), top)| {
            account::geep::Terms::sum(terms, e.accounts.members(top))
                .geep(settings.deduct_resource_depletion)
        });
    let Evaluation {
        coef,
        inputs,
        accounts,
        esv,
        geep,
        carbon_stock,
        extent,
        change,
        transfer,
        warnings,
    } = e;
    let report = RunReport {
        year: inputs.year,
        book,
        csv,
        warnings,
        accounts,
        only: inputs.scope.only.clone(),
        demo: request.data.is_empty(),
        esv_cny,
        geep_cny,
        esv_only: inputs.esv_only,
        produced,
    };
    // The inputs and the other accounts are no longer needed: freed off the critical path.
    drop_in_background((
        coef,
        inputs,
        esv,
        geep,
        carbon_stock,
        extent,
        change,
        transfer,
    ));
    Ok(report)
}

/// `gep explain`: values the inputs and explains one county's indicator.
///
/// # Errors
/// As [`prepare`] and [`account::compute`]; [`Error::Usage`] for an unknown county or indicator,
/// or a county outside `--only`.
pub fn explain(request: &Request, county: &str, indicator: &str) -> Result<explain::Explanation> {
    // An unknown county or indicator is a usage error, said before the workbooks are read.
    if let Ok(coef) =
        account::registry::load_coefficients(request.coefficients.as_deref(), request.strict)
    {
        explain::resolve(&coef, county, indicator)?;
    }
    let (coef, inputs) = prepare(request)?;
    let accounts = account::compute(&inputs, &coef)?;
    let mut x = explain::explanation(&accounts, &coef, county, indicator)?;
    let mut warnings = inputs.warnings.all().to_vec();
    warnings.append(&mut x.warnings);
    x.warnings = warnings;
    Ok(x)
}

/// A previous year: its engine values, and its validated inputs when it was a workbook.
struct Previous {
    values: change::YearValues,
    inputs: Option<Inputs>,
}

/// Engine values of a previous year: from a book written by `gep run`, or by accounting a
/// previous year's workbook with the same coefficient set (its inputs kept for the trend audit).
fn previous_values(path: &Path, request: &Request) -> Result<Previous> {
    if !path.is_file() {
        return Err(Error::Usage(format!(
            "--previous: no such file: {}",
            path.display()
        )));
    }
    let source = Source::open(path, &request.limits)?;
    let services = account::registry::load_coefficients(request.coefficients.as_deref(), false)
        .map_or_else(
            |_| account::SERVICES.iter().collect(),
            |coef| account::registry::services(&coef),
        );
    if let Some(values) = change::values_from_book(&source, &services) {
        return Ok(Previous {
            values,
            inputs: None,
        });
    }
    let previous = Request {
        data: vec![path.to_path_buf()],
        scope: Scope {
            year: None,
            only: request.scope.only.clone(),
            accounts: validate::AccountsAsked::Gep,
        },
        ..request.clone()
    };
    let (coef, inputs) = prepare(&previous)?;
    let accounts = account::compute(&inputs, &coef)?;
    Ok(Previous {
        values: change::YearValues::from_accounts(&accounts),
        inputs: Some(inputs),
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn refuse_overwriting_inputs(out: &Path, request: &Request) -> Result<()> {
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        return Err(Error::Usage(format!(
            "the output folder {} does not exist",
            parent.display()
        )));
    }
    for input in &request.data {
        if same_file(out, input) || out == input {
            return Err(Error::Usage(format!(
                "refusing to write the book over the input {}; choose another --out",
                input.display()
            )));
        }
    }
    if let Some(dir) = &request.coefficients
        && out
            .canonicalize()
            .ok()
            .zip(dir.canonicalize().ok())
            .is_some_and(|(o, d)| o.starts_with(d))
    {
        return Err(Error::Usage(format!(
            "refusing to write the book into the coefficient set {}",
            dir.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    /// The top-level modules each module of `src/` names (`crate::x`, `super::` inside a
    /// folder module stays inside it), in its code outside comments and its `#[cfg(test)]` part.
    fn module_dependencies() -> BTreeMap<String, BTreeSet<String>> {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&src).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                for inner in std::fs::read_dir(&path).unwrap() {
                    files.push(inner.unwrap().path());
                }
            } else {
                files.push(path);
            }
        }
        let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for path in files {
            let relative = path.strip_prefix(&src).unwrap();
            let module = relative
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string();
            if module == "lib" || module == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Code only: the part before the tests, without comments (doc links name users freely).
            let code: String = text
                .split("#[cfg(test)]")
                .next()
                .unwrap()
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            let entry = deps.entry(module.clone()).or_default();
            for (i, _) in code.match_indices("crate::") {
                let rest = &code[i + "crate::".len()..];
                let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                    // The balanced group, split at its top-level commas
                    // (`crate::{a::{B, C}, d}` names a and d).
                    let mut depth = 0;
                    let mut start = 0;
                    let mut parts = Vec::new();
                    for (i, c) in group.char_indices() {
                        match c {
                            '{' => depth += 1,
                            '}' if depth == 0 => {
                                parts.push(&group[start..i]);
                                break;
                            }
                            '}' => depth -= 1,
                            ',' if depth == 0 => {
                                parts.push(&group[start..i]);
                                start = i + 1;
                            }
                            _ => {}
                        }
                    }
                    parts
                        .into_iter()
                        .map(|n| n.trim().split("::").next().unwrap().trim())
                        .collect()
                } else {
                    vec![
                        rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                            .next()
                            .unwrap(),
                    ]
                };
                for name in names {
                    if !name.is_empty() && name != module {
                        entry.insert(name.to_string());
                    }
                }
            }
        }
        deps
    }

    #[test]
    fn no_dependency_cycle_between_modules() {
        let deps = module_dependencies();
        assert!(deps["account"].contains("coefficients"), "{deps:?}");
        // Depth-first search for a back edge; the cycle is printed.
        fn visit(
            node: &str,
            deps: &BTreeMap<String, BTreeSet<String>>,
            path: &mut Vec<String>,
            done: &mut BTreeSet<String>,
        ) {
            if done.contains(node) {
                return;
            }
            if let Some(start) = path.iter().position(|p| p == node) {
                panic!("dependency cycle: {} → {node}", path[start..].join(" → "));
            }
            path.push(node.to_string());
            for next in deps.get(node).into_iter().flatten() {
                // Names of the crate root (re-exports such as `crate::Error`) are not modules.
                if deps.contains_key(next) {
                    visit(next, deps, path, done);
                }
            }
            path.pop();
            done.insert(node.to_string());
        }
        let mut done = BTreeSet::new();
        for node in deps.keys() {
            visit(node, &deps, &mut Vec::new(), &mut done);
        }
    }

    #[test]
    fn coefficients_is_a_leaf_of_the_valuation_modules() {
        let deps = module_dependencies();
        for user in ["account", "esv", "transfer", "validate", "audit", "book"] {
            assert!(
                !deps["coefficients"].contains(user),
                "coefficients names {user}: {:?}",
                deps["coefficients"]
            );
        }
    }
}
