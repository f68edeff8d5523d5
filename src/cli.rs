//! Command line: clap definitions of `gep run`, `check`, `explain`, `template`, `coefficients`,
//! `completions` and `man`, and the options every command takes (`--quiet`, `--format` …).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// County-level GEP accounts from yearly statistics workbooks.
#[derive(Debug, Parser)]
#[command(name = "gep", version, about, long_about = None)]
pub struct Cli {
    /// Options of every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Print only errors (with --format json: only the JSON).
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print every problem (no limit) and the files and coefficient set used.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// Colour in messages: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    /// Output of check, run and explain: text, or json on stdout (schema gep/1: docs/cli.md).
    #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
    pub format: Format,
    /// Most problems listed (one cause at several cells counts once); 0 lists all.
    #[arg(long, value_name = "N", default_value_t = crate::error::MAX_LISTED_ISSUES, global = true)]
    pub max_problems: usize,
}

/// When messages are coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Text for people.
    Text,
    /// One JSON object on stdout (docs/cli.md).
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read, validate and value workbooks; write the account book.
    ///
    /// Example: gep run --data 2021.xlsx --coefficients coefficients/shanxi --out accounts-2021.xlsx
    /// Without --data, runs the built-in synthetic Shanxi demo workbook.
    Run(RunArgs),
    /// Run several complete workbooks (one year each), each a whole run with its own book, in parallel.
    ///
    /// Example: gep batch --out-dir books 2019.xlsx 2020.xlsx 2021.xlsx
    /// Writes books/gep-accounts-2019.xlsx … ; a workbook with problems writes nothing, the others are written.
    Batch(BatchArgs),
    /// Validate workbooks and the coefficient set exactly as `run` does, writing nothing; list every problem.
    ///
    /// Example: gep check 2021.xlsx
    Check(CheckArgs),
    /// Several complete yearly workbooks: every unit's GEP by year at current and at the first
    /// year's prices (chain-linked), growth, a chart.
    ///
    /// Example: gep series 2019.xlsx 2020.xlsx 2021.xlsx --out series.xlsx --csv series.csv
    Series(SeriesArgs),
    /// Move every price, parameter and per-hectare rate by ± a range, one at a time: how much
    /// does GEP move? A tornado table, largest swing first.
    ///
    /// Example: gep sensitivity --data 2021.xlsx --range 10 --out tornado.xlsx
    Sensitivity(SensitivityArgs),
    /// Show how one number was made: input cells, coefficients with sources, formula, result.
    ///
    /// Example: gep explain --county 140105 --indicator water_conservation
    Explain(ExplainArgs),
    /// Write the blank input workbook: every sheet, counties prefilled, units, dropdowns, instructions.
    ///
    /// Example: gep template --year 2022 --out 2022-blank.xlsx
    Template(TemplateArgs),
    /// Work with a coefficient set.
    #[command(subcommand)]
    Coefficients(CoefficientsCommand),
    /// Print a shell completion script.
    ///
    /// Example: gep completions bash > /etc/bash_completion.d/gep
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), generated from these definitions.
    ///
    /// Example: gep man > gep.1 && man ./gep.1
    Man,
}

/// `gep series`.
#[derive(Debug, Args)]
pub struct SeriesArgs {
    /// The yearly workbooks (one complete year each, any order).
    #[arg(value_name = "WORKBOOK", required = true)]
    pub workbooks: Vec<PathBuf>,
    /// The 序列 workbook to write.
    #[arg(long, value_name = "SERIES.xlsx")]
    pub out: Option<PathBuf>,
    /// Also write the series as CSV.
    #[arg(long, value_name = "SERIES.csv")]
    pub csv: Option<PathBuf>,
    /// A coefficient set for one year (repeatable): `--set-for 2021=sets/2021`; other years
    /// use --coefficients (or the built-in set).
    #[arg(long = "set-for", value_name = "YEAR=DIR")]
    pub set_for: Vec<String>,
    /// Inputs and coefficients.
    #[command(flatten)]
    pub input: InputArgs,
}

/// `gep sensitivity`.
#[derive(Debug, Args)]
pub struct SensitivityArgs {
    /// The range in percent: each coefficient × (1 − r) and × (1 + r).
    #[arg(long, value_name = "PERCENT", default_value_t = 10.0)]
    pub range: f64,
    /// One county's GEP (6-digit code) instead of the top unit's.
    #[arg(long)]
    pub county: Option<String>,
    /// Also write the table and a tornado chart to this workbook.
    #[arg(long, value_name = "TORNADO.xlsx")]
    pub out: Option<PathBuf>,
    /// Lines printed (the workbook has every coefficient that moves GEP).
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Monte Carlo instead: N draws, every coefficient × an independent uniform factor in
    /// [1 − range, 1 + range]; P5/P50/P95 of every unit's GEP.
    #[arg(long, value_name = "N")]
    pub monte_carlo: Option<usize>,
    /// Seed of the Monte Carlo draws (the same seed gives the same bands).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Workbooks (default: the built-in demo workbook).
    #[arg(long, value_name = "WORKBOOK")]
    pub data: Vec<PathBuf>,
    /// Inputs and coefficients.
    #[command(flatten)]
    pub input: InputArgs,
}

/// `gep explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// County code or name (140105, 小店区).
    #[arg(long)]
    pub county: String,
    /// Indicator key or label (water_conservation, 水源涵养).
    #[arg(long)]
    pub indicator: String,
    /// Workbooks (default: the built-in demo workbook).
    #[arg(long, value_name = "WORKBOOK")]
    pub data: Vec<PathBuf>,
    /// Inputs and coefficients.
    #[command(flatten)]
    pub input: InputArgs,
}

/// `gep template`.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// Year of the data to collect (default: last calendar year).
    #[arg(long)]
    pub year: Option<i32>,
    /// Coefficient set whose counties, land classes and forest types are used (default: built-in Shanxi).
    #[arg(long, value_name = "DIR")]
    pub coefficients: Option<PathBuf>,
    /// Workbook to write.
    #[arg(long, value_name = "BLANK.xlsx")]
    pub out: PathBuf,
}

/// Options shared by `run` and `check`.
#[derive(Debug, Args, Clone)]
pub struct InputArgs {
    /// Coefficient set folder (default: the built-in Shanxi set, same as coefficients/shanxi).
    #[arg(long, value_name = "DIR")]
    pub coefficients: Option<PathBuf>,
    /// Accounting year (default: read from the workbook titles or a 年份 cell).
    #[arg(long)]
    pub year: Option<i32>,
    /// Account only these counties: comma-separated code prefixes (1401 = 太原市, 140521 = one county).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub only: Vec<String>,
    /// The accounts to produce: gep, esv, geep (comma-separated). Default: as the sheets allow
    /// (land cover alone is an ESV study). `esv` alone needs only land cover; `geep` needs 环境.
    #[arg(long, value_delimiter = ',', value_name = "ACCOUNTS", value_parser = ["gep", "esv", "geep"])]
    pub accounts: Vec<String>,
    /// Treat a coefficient file changed since its manifest version as an error.
    #[arg(long)]
    pub strict: bool,
    /// Largest workbook file read, MB.
    #[arg(long, value_name = "MB", default_value_t = 200)]
    pub max_file_mb: u64,
    /// Largest unpacked size of an xlsx/xlsb/ods workbook, MB (zip-bomb guard).
    #[arg(long, value_name = "MB", default_value_t = 1024)]
    pub max_unzipped_mb: u64,
    /// Most cells in the used area of one sheet.
    #[arg(long, value_name = "N", default_value_t = 5_000_000)]
    pub max_cells: usize,
}

impl InputArgs {
    /// The reading limits these options set.
    pub fn limits(&self) -> crate::read::Limits {
        crate::read::Limits {
            file_bytes: self.max_file_mb.saturating_mul(1024 * 1024),
            unzipped_bytes: self.max_unzipped_mb.saturating_mul(1024 * 1024),
            sheet_cells: self.max_cells,
            ..crate::read::Limits::default()
        }
    }
}

/// `gep run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Yearly statistics workbook (xlsx, xls, xlsb, ods); repeat for several (e.g. one per prefecture).
    #[arg(long, value_name = "WORKBOOK")]
    pub data: Vec<PathBuf>,
    /// Account book to write (default: gep-accounts-<year>.xlsx in the current folder).
    #[arg(long, value_name = "BOOK.xlsx")]
    pub out: Option<PathBuf>,
    /// Also write tidy CSV tables (accounts.csv, lines.csv, esv.csv, geep.csv) into this folder.
    #[arg(long, value_name = "DIR")]
    pub csv: Option<PathBuf>,
    /// Allocate an ecological transfer budget (元; 5000万 and 1.5亿 are accepted) under the
    /// coefficient set's transfer_policy.toml, on the 转移支付 sheet.
    #[arg(long, value_name = "AMOUNT", value_parser = crate::transfer::parse_budget)]
    pub budget: Option<i64>,
    /// A previous year's workbook, or a book written by gep: adds the 变化 (change) sheet at
    /// current and constant prices.
    #[arg(long, value_name = "BOOK_OR_WORKBOOK")]
    pub previous: Option<PathBuf>,
    /// Show each unit's GEP band (P5, P95) on 汇总 from N Monte Carlo draws (every coefficient
    /// × uniform [0.9, 1.1], or between its own low and high), as `gep sensitivity --monte-carlo`.
    #[arg(long, value_name = "N")]
    pub uncertainty: Option<usize>,
    /// Seed of the --uncertainty draws.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Language, money unit, replacing.
    #[command(flatten)]
    pub book: BookArgs,
    /// Inputs and coefficients.
    #[command(flatten)]
    pub input: InputArgs,
}

/// How a book is written (`run`, `batch`).
#[derive(Debug, Args)]
pub struct BookArgs {
    /// Language of the book's sheet names and labels.
    #[arg(long, value_enum, default_value_t = crate::book::Lang::Zh)]
    pub lang: crate::book::Lang,
    /// Money unit of the book's value cells: wan (万元, default) or yuan (元).
    #[arg(long, value_enum, default_value_t = crate::book::Money::Wan)]
    pub money: crate::book::Money,
    /// Replace a book that exists (without it, an existing book is never overwritten).
    #[arg(long)]
    pub force: bool,
}

/// `gep batch`.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Workbooks, each a complete year (xlsx, xls, xlsb, ods).
    #[arg(value_name = "WORKBOOK", required = true)]
    pub data: Vec<PathBuf>,
    /// Folder for the books: gep-accounts-<workbook name>.xlsx each.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Also write each workbook's CSV tables into <DIR>/gep-accounts-<workbook name>-csv/.
    #[arg(long)]
    pub csv: bool,
    /// Workbooks valued at once (default: one per core; each needs the memory of one run).
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub jobs: usize,
    /// Language, money unit, replacing.
    #[command(flatten)]
    pub book: BookArgs,
    /// Inputs and coefficients.
    #[command(flatten)]
    pub input: InputArgs,
}

/// `gep check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Workbooks to check (none: check the built-in demo workbook).
    #[arg(value_name = "WORKBOOK")]
    pub data: Vec<PathBuf>,
    /// A previous year's workbook, or a book written by gep: adds the trend audit (趋势审核),
    /// as `gep run --previous` does.
    #[arg(long, value_name = "BOOK_OR_WORKBOOK")]
    pub previous: Option<PathBuf>,
    /// Inputs and coefficients.
    #[command(flatten)]
    pub input: InputArgs,
}

/// `gep coefficients …`.
#[derive(Debug, Subcommand)]
pub enum CoefficientsCommand {
    /// Load and validate a coefficient set; report problems with file and line.
    Check {
        /// The set's folder (default: the built-in Shanxi set).
        dir: Option<PathBuf>,
    },
    /// Record the current SHA-256 of every file in manifest.toml (an edit made on purpose).
    Rehash {
        /// The set's folder.
        dir: PathBuf,
        /// The edited set's new version (required when a file changed); the old one is kept as
        /// derived_from, with today's date.
        #[arg(long, value_name = "X.Y.Z")]
        version: Option<String>,
    },
    /// What differs between two coefficient sets, and with --data what it does to every county.
    ///
    /// Example: gep coefficients diff coefficients/shanxi my-set --data 2021.xlsx --out diff.xlsx
    Diff {
        /// The set before the edit.
        old: PathBuf,
        /// The set after it.
        new: PathBuf,
        /// Workbooks to value under both sets (the effect on GEP and each indicator).
        #[arg(long, value_name = "WORKBOOK")]
        data: Vec<PathBuf>,
        /// Also write the diff as a workbook (changes, effects, a chart of the counties moving most).
        #[arg(long, value_name = "DIFF.xlsx")]
        out: Option<PathBuf>,
        /// Effects listed in the terminal (largest first; the workbook has all).
        #[arg(long, value_name = "N", default_value_t = 20)]
        top: usize,
    },
}
