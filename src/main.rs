//! The `gep` command: parse arguments, call the library, print results and problems (text or
//! JSON, `gep::report`), exit 0 (success), 1 (invalid input or coefficients), 2 (usage),
//! 3 (I/O or internal failure), 130 (interrupted).

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser as _};
use gep::cli::{Cli, CoefficientsCommand, ColorChoice, Command, Format, GlobalArgs, InputArgs};
use gep::error::{Issue, Severity};
use gep::report::{self, Listing};
use gep::{Error, Request};

fn request(data: Vec<std::path::PathBuf>, input: InputArgs) -> Request {
    let limits = input.limits();
    Request {
        limits,
        data,
        coefficients: input.coefficients,
        scope: gep::validate::Scope {
            year: input.year,
            only: input.only,
            // Names are checked by clap (gep, esv, geep).
            accounts: gep::validate::AccountsAsked::parse(&input.accounts).unwrap_or_default(),
        },
        strict: input.strict,
        command_line: std::env::args().collect::<Vec<_>>().join(" "),
    }
}

/// How this invocation prints.
struct Out {
    global: GlobalArgs,
    color: bool,
}

impl Out {
    fn new(global: GlobalArgs) -> Self {
        let color = match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stderr().is_terminal()
            }
        };
        Out { global, color }
    }

    fn json(&self) -> bool {
        self.global.format == Format::Json
    }

    fn listing(&self) -> Listing {
        Listing {
            max_problems: if self.global.verbose {
                0
            } else {
                self.global.max_problems
            },
            color: self.color,
        }
    }

    /// Informational text on stdout (not with --quiet or --format json).
    fn say(&self, text: &str) {
        if !self.global.quiet && !self.json() {
            println!("{text}");
        }
    }

    fn warnings(&self, warnings: &[Issue]) {
        if self.global.quiet || self.json() {
            return;
        }
        let warnings: Vec<Issue> = warnings
            .iter()
            .filter(|w| w.severity == Severity::Warning)
            .cloned()
            .collect();
        for line in report::problem_lines(&warnings, self.listing()) {
            eprintln!("{line}");
        }
    }

    fn print_json(&self, value: &serde_json::Value) {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
        );
    }

    /// A failure: the problems (text on stderr, or the JSON on stdout); the exit code.
    fn failure(&self, command: &str, error: &Error, wrote_nothing: bool) -> ExitCode {
        if self.json() {
            self.print_json(&report::error_json(command, error));
        } else {
            match error {
                Error::Invalid { issues } => {
                    let errors = issues
                        .iter()
                        .filter(|i| i.severity == Severity::Error)
                        .count();
                    eprintln!(
                        "{} problem{} found{}:",
                        errors,
                        if errors == 1 { "" } else { "s" },
                        if wrote_nothing {
                            " (nothing was written)"
                        } else {
                            ""
                        }
                    );
                    for line in report::problem_lines(issues, self.listing()) {
                        eprintln!("{line}");
                    }
                }
                other => {
                    let text = format!("error: {other}");
                    eprintln!("{}", paint_error(&text, self.color));
                    // Causes not already in the message.
                    let mut source = std::error::Error::source(other);
                    while let Some(s) = source {
                        if !text.contains(&s.to_string()) {
                            eprintln!("  caused by: {s}");
                        }
                        source = s.source();
                    }
                }
            }
        }
        ExitCode::from(error.exit_code() as u8)
    }
}

/// Each workbook of a batch: its summary and book, or its problems; exit 0 when every one was
/// written, else the exit code of the first that failed.
fn batch_report(out: &Out, items: &[gep::BatchItem]) -> ExitCode {
    let failed = items.iter().find_map(|i| i.outcome.as_ref().err());
    if out.json() {
        let results: Vec<serde_json::Value> = items
            .iter()
            .map(|i| {
                let mut value = match &i.outcome {
                    Ok(done) => done.json.clone(),
                    Err(e) => report::error_json("run", e),
                };
                value["workbook"] = serde_json::json!(i.workbook.display().to_string());
                value
            })
            .collect();
        out.print_json(&serde_json::json!({
            "schema": report::JSON_SCHEMA,
            "command": "batch",
            "ok": failed.is_none(),
            "exit_code": failed.map_or(0, Error::exit_code),
            "results": results,
        }));
    } else {
        for item in items {
            match &item.outcome {
                Ok(done) => {
                    out.warnings(&done.warnings);
                    out.say(&format!(
                        "{}: {} → wrote {}",
                        item.workbook.display(),
                        done.summary,
                        item.book.display()
                    ));
                }
                Err(e) => {
                    eprintln!("{}: nothing written", item.workbook.display());
                    let _ = out.failure("run", e, true);
                }
            }
        }
        let written = items.iter().filter(|i| i.outcome.is_ok()).count();
        out.say(&format!("{written} of {} workbooks written", items.len()));
    }
    ExitCode::from(failed.map_or(0, Error::exit_code) as u8)
}

fn paint_error(text: &str, color: bool) -> String {
    match (color, text.strip_prefix("error:")) {
        (true, Some(rest)) => format!("\u{1b}[1;31merror\u{1b}[0m:{rest}"),
        _ => text.to_string(),
    }
}

/// True when the raw arguments ask for JSON output (for errors found before parsing succeeds).
fn json_requested() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--format=json")
        || args
            .windows(2)
            .any(|w| w[0] == "--format" && w[1] == "json")
}

/// Parses the command line; an unknown subcommand gets "did you mean"; with `--format json` a
/// usage error is JSON too.
fn parse() -> Cli {
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let failure = !matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp
                    | clap::error::ErrorKind::DisplayVersion
                    | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            );
            if failure && json_requested() {
                let error = Error::Usage(first_line(&e.to_string()));
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report::error_json(&command_named(), &error))
                        .unwrap_or_default()
                );
                std::process::exit(2);
            }
            if e.kind() == clap::error::ErrorKind::InvalidSubcommand
                && let Some(clap::error::ContextValue::String(given)) =
                    e.get(clap::error::ContextKind::InvalidSubcommand)
            {
                let command = Cli::command();
                let names: Vec<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
                let hint = gep::suggest::hint(given, names.iter().copied());
                if !hint.is_empty()
                    && e.get(clap::error::ContextKind::SuggestedSubcommand)
                        .is_none()
                {
                    eprintln!(
                        "error: unrecognized subcommand '{given}'{hint}\n\nUsage: gep [OPTIONS] <COMMAND>\n\nFor more information, try '--help'."
                    );
                    std::process::exit(2);
                }
            }
            e.exit()
        }
    }
}

/// The subcommand named on the command line, for a JSON error found while parsing it.
fn command_named() -> String {
    let command = Cli::command();
    let names: Vec<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
    std::env::args()
        .skip(1)
        .find(|a| names.contains(&a.as_str()))
        .unwrap_or_default()
}

/// The first line of a clap message, without its `error: ` prefix.
fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_string()
}

fn main() -> ExitCode {
    let cli = parse();
    gep::install_interrupt_handler();
    let out = Out::new(cli.global.clone());
    if !out.global.quiet && !out.json() && std::io::stderr().is_terminal() {
        gep::progress::enable();
    }
    match cli.command {
        Command::Run(args) => {
            let req = request(args.data, args.input);
            if out.global.verbose && !out.json() {
                verbose_inputs(&req);
            }
            let result = gep::run(
                &req,
                &gep::RunOptions {
                    out: args.out,
                    csv: args.csv,
                    budget_cny: args.budget,
                    previous: args.previous,
                    lang: args.book.lang,
                    money: args.book.money,
                    force: args.book.force,
                    uncertainty: args.uncertainty.map(|n| (n, args.seed)),
                },
            );
            gep::progress::finish();
            match result {
                Ok(report) => {
                    if out.json() {
                        out.print_json(&report::run_json(&report));
                        std::mem::forget(report);
                        return ExitCode::SUCCESS;
                    }
                    out.warnings(&report.warnings);
                    if report.esv_only {
                        out.say(&format!(
                            "{} ESV {:.2} 亿元 (equivalent-factor study: no GEP; {} counties)",
                            report.year,
                            report.esv_cny / 1e8,
                            report.accounts.level(gep::account::Level::County).count()
                        ));
                    } else if !report.produced.contains(&"gep") {
                        out.say(&format!(
                            "{} GEEP {:.2} 亿元 (GEEP study: water supply and products not valued; {} counties)",
                            report.year,
                            report.geep_cny.unwrap_or_default() / 1e8,
                            report.accounts.level(gep::account::Level::County).count()
                        ));
                    } else if let Some(p) = report.accounts.province() {
                        let scope = if report.accounts.scope.is_some() {
                            format!(
                                " (--only {}; not the whole province)",
                                report.only.join(",")
                            )
                        } else {
                            String::new()
                        };
                        out.say(&format!(
                            "{} {}{scope} GEP {:.2} 亿元 ({} counties)",
                            report.year,
                            p.name,
                            p.gep_cny / 1e8,
                            report.accounts.level(gep::account::Level::County).count()
                        ));
                    }
                    if report.demo {
                        out.say(
                            "(built-in SYNTHETIC demo data, not official statistics; give --data for real workbooks)",
                        );
                    }
                    out.say(&format!("wrote {}", report.book.display()));
                    for path in &report.csv {
                        out.say(&format!("wrote {}", path.display()));
                    }
                    // The process ends here: freeing the accounts' lines one by one (millions
                    // at national scale) would only delay the exit.
                    std::mem::forget(report);
                    ExitCode::SUCCESS
                }
                Err(e) => out.failure("run", &e, true),
            }
        }
        Command::Batch(args) => {
            let req = request(Vec::new(), args.input);
            let options = gep::BatchOptions {
                out_dir: args.out_dir,
                csv: args.csv,
                jobs: args.jobs,
                run: gep::RunOptions {
                    out: None,
                    csv: None,
                    budget_cny: None,
                    previous: None,
                    lang: args.book.lang,
                    money: args.book.money,
                    force: args.book.force,
                    uncertainty: None,
                },
            };
            let result = gep::batch(&req, &args.data, &options);
            gep::progress::finish();
            match result {
                Ok(items) => batch_report(&out, &items),
                Err(e) => out.failure("batch", &e, true),
            }
        }
        Command::Check(args) => {
            let req = request(args.data, args.input);
            if out.global.verbose && !out.json() {
                verbose_inputs(&req);
            }
            let result = gep::check(&req, args.previous.as_deref());
            gep::progress::finish();
            match result {
                Ok(warnings) => {
                    if out.json() {
                        out.print_json(&report::check_json(&warnings));
                    } else {
                        out.warnings(&warnings);
                        out.say(&format!("ok: no errors ({} warnings)", warnings.len()));
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => out.failure("check", &e, false),
            }
        }
        Command::Series(args) => {
            let req = request(Vec::new(), args.input);
            for path in [&args.out, &args.csv].into_iter().flatten() {
                if path.exists() {
                    let e = Error::Usage(format!("{} exists; give another path", path.display()));
                    return out.failure("series", &e, true);
                }
            }
            let mut sets = std::collections::BTreeMap::new();
            for entry in &args.set_for {
                let parsed = entry
                    .split_once('=')
                    .and_then(|(y, d)| Some((y.trim().parse::<i32>().ok()?, d.trim())));
                match parsed {
                    Some((year, dir)) => {
                        sets.insert(year, std::path::PathBuf::from(dir));
                    }
                    None => {
                        let e = Error::Usage(format!(
                            "--set-for {entry}: expected YEAR=DIR, e.g. 2021=sets/2021"
                        ));
                        return out.failure("series", &e, true);
                    }
                }
            }
            let result = gep::series::series(&req, &args.workbooks, &sets).and_then(|s| {
                if let Some(path) = &args.out {
                    gep::series::write_book(&s, path)?;
                }
                if let Some(path) = &args.csv {
                    gep::series::write_csv(&s, path)?;
                }
                Ok(s)
            });
            gep::progress::finish();
            match result {
                Ok(s) => {
                    if out.json() {
                        out.print_json(&report::success_json("series", &s));
                    } else {
                        if let Some(top) = s.units.last() {
                            for p in &top.points {
                                out.say(&format!(
                                    "{} {} GEP {:.2} 亿元 (at {} prices: {})",
                                    p.year,
                                    top.name,
                                    p.current_cny / 1e8,
                                    s.years.first().copied().unwrap_or_default(),
                                    p.constant_cny.map_or("—".to_string(), |c| format!(
                                        "{:.2} 亿元",
                                        c / 1e8
                                    ))
                                ));
                            }
                        }
                        for path in [&args.out, &args.csv].into_iter().flatten() {
                            out.say(&format!("wrote {}", path.display()));
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => out.failure("series", &e, false),
            }
        }
        Command::Sensitivity(args) => {
            let req = request(args.data, args.input);
            if let Some(path) = args.out.as_ref().filter(|p| p.exists()) {
                let e = Error::Usage(format!("{} exists; give another --out", path.display()));
                return out.failure("sensitivity", &e, true);
            }
            if let Some(draws) = args.monte_carlo {
                let result =
                    gep::sensitivity::monte_carlo(&req, args.range / 100.0, draws, args.seed)
                        .and_then(|b| {
                            if let Some(path) = &args.out {
                                gep::sensitivity::write_bands(&b, path)?;
                            }
                            Ok(b)
                        });
                gep::progress::finish();
                return match result {
                    Ok(b) => {
                        if out.json() {
                            out.print_json(&report::success_json("sensitivity", &b));
                        } else {
                            for line in gep::sensitivity::bands_text(&b, args.top.min(10)) {
                                println!("{line}");
                            }
                            if let Some(path) = &args.out {
                                out.say(&format!("wrote {}", path.display()));
                            }
                        }
                        ExitCode::SUCCESS
                    }
                    Err(e) => out.failure("sensitivity", &e, false),
                };
            }
            let result =
                gep::sensitivity::tornado(&req, args.range / 100.0, args.county.as_deref())
                    .and_then(|t| {
                        if let Some(path) = &args.out {
                            gep::sensitivity::write_book(&t, path)?;
                        }
                        Ok(t)
                    });
            gep::progress::finish();
            match result {
                Ok(t) => {
                    if out.json() {
                        out.print_json(&report::success_json("sensitivity", &t));
                    } else {
                        for line in gep::sensitivity::text(&t, args.top) {
                            println!("{line}");
                        }
                        if let Some(path) = &args.out {
                            out.say(&format!("wrote {}", path.display()));
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => out.failure("sensitivity", &e, false),
            }
        }
        Command::Explain(args) => {
            let req = request(args.data, args.input);
            if out.global.verbose && !out.json() {
                verbose_inputs(&req);
            }
            match gep::explain(&req, &args.county, &args.indicator) {
                Ok(x) => {
                    if out.json() {
                        out.print_json(&report::explain_json(&x));
                    } else {
                        print!("{}", gep::explain::render(&x));
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => out.failure("explain", &e, false),
            }
        }
        Command::Template(args) => {
            let year = args.year.unwrap_or_else(gep::clock::last_year);
            let result =
                gep::account::registry::load_coefficients(args.coefficients.as_deref(), false)
                    .and_then(|c| {
                        if args.out.exists() && args.out.extension().is_none_or(|e| e != "xlsx") {
                            return Err(Error::Usage(format!(
                                "refusing to overwrite {}",
                                args.out.display()
                            )));
                        }
                        gep::template::write(&args.out, year, &c)?;
                        if out.json() {
                            out.print_json(&report::done_json(
                                "template",
                                &[args.out.display().to_string()],
                                &[],
                            ));
                        }
                        out.say(&format!(
                            "wrote {} (template for {year}, {} counties)",
                            args.out.display(),
                            c.regions.len()
                        ));
                        Ok(())
                    });
            result.map_or_else(
                |e| out.failure("template", &e, true),
                |()| ExitCode::SUCCESS,
            )
        }
        Command::Coefficients(CoefficientsCommand::Check { dir }) => {
            match gep::account::registry::load_coefficients(dir.as_deref(), false) {
                Ok(c) => {
                    if out.json() {
                        out.print_json(&report::done_json(
                            "coefficients check",
                            &[],
                            c.warnings.all(),
                        ));
                    }
                    out.warnings(c.warnings.all());
                    out.say(&format!(
                        "ok: {} {} ({} regions, {} land classes, {} rates, {} forest types, {} prices)",
                        c.manifest.name,
                        c.manifest.version,
                        c.regions.len(),
                        c.land_classes.len(),
                        c.rates.len(),
                        c.forest_types.len(),
                        c.prices.len()
                    ));
                    ExitCode::SUCCESS
                }
                Err(e) => out.failure("coefficients check", &e, false),
            }
        }
        Command::Coefficients(CoefficientsCommand::Rehash { dir, version }) => {
            let today = gep::clock::today();
            match gep::coefficients::rehash(&dir, version.as_deref(), &today) {
                Ok(hashes) => {
                    if out.json() {
                        out.print_json(&report::done_json(
                            "coefficients rehash",
                            &[dir.join("manifest.toml").display().to_string()],
                            &[],
                        ));
                    }
                    for (file, hash) in hashes {
                        out.say(&format!("{hash}  {file}"));
                    }
                    out.say(&format!("updated {}", dir.join("manifest.toml").display()));
                    ExitCode::SUCCESS
                }
                Err(e) => out.failure("coefficients rehash", &e, false),
            }
        }
        Command::Coefficients(CoefficientsCommand::Diff {
            old,
            new,
            data,
            out: book,
            top,
        }) => {
            let req = gep::Request {
                data,
                command_line: std::env::args().collect::<Vec<_>>().join(" "),
                ..gep::Request::default()
            };
            if let Some(path) = book.as_ref().filter(|p| p.exists()) {
                let e = Error::Usage(format!("{} exists; give another --out", path.display()));
                return out.failure("coefficients diff", &e, true);
            }
            let result = gep::diff::diff(&req, &old, &new).and_then(|diff| {
                if let Some(path) = &book {
                    gep::diff::write_book(&diff, path)?;
                }
                Ok(diff)
            });
            gep::progress::finish();
            match result {
                Ok(diff) => {
                    if out.json() {
                        out.print_json(&report::success_json("coefficients diff", &diff));
                    } else {
                        for line in gep::diff::text(&diff, top) {
                            out.say(&line);
                        }
                        if let Some(path) = &book {
                            out.say(&format!("wrote {}", path.display()));
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => out.failure("coefficients diff", &e, true),
            }
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "gep", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Command::Man => {
            let man = clap_mangen::Man::new(Cli::command());
            match man.render(&mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => out.failure("man", &Error::io("stdout", e), false),
            }
        }
    }
}

/// With --verbose: the workbooks and the coefficient set a run reads.
fn verbose_inputs(req: &Request) {
    if req.data.is_empty() {
        eprintln!("reading: the built-in demo workbook ({})", gep::DEMO_NAME);
    }
    for path in &req.data {
        eprintln!("reading: {}", path.display());
    }
    match &req.coefficients {
        Some(dir) => eprintln!("coefficients: {}", dir.display()),
        None => eprintln!("coefficients: the built-in Shanxi set"),
    }
}
