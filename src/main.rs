//! The `gep` command: parse arguments, call the library, print results and problems, exit
//! 0 (success), 1 (invalid input or coefficients), 2 (usage), 3 (I/O or internal failure).

use std::process::ExitCode;

use clap::Parser;
use gep::cli::{Cli, CoefficientsCommand, Command, InputArgs};
use gep::error::{Issue, Severity};
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
        },
        strict: input.strict,
        command_line: std::env::args().collect::<Vec<_>>().join(" "),
    }
}

fn print_warnings(warnings: &[Issue]) {
    let shown = warnings
        .iter()
        .filter(|w| w.severity == Severity::Warning)
        .count();
    for w in warnings.iter().take(gep::error::MAX_LISTED_ISSUES) {
        eprintln!("{w}");
    }
    if shown > gep::error::MAX_LISTED_ISSUES {
        eprintln!(
            "… and {} more warnings",
            shown - gep::error::MAX_LISTED_ISSUES
        );
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    gep::install_interrupt_handler();
    let result: Result<(), Error> = match cli.command {
        Command::Run(args) => {
            let req = request(args.data, args.input);
            gep::run(
                &req,
                &gep::RunOptions {
                    out: args.out,
                    csv: args.csv,
                    budget_cny: args.budget,
                    previous: args.previous,
                    lang: args.lang,
                    money: args.money,
                    force: args.force,
                },
            )
            .map(|report| {
                print_warnings(&report.warnings);
                if let Some(p) = report.accounts.province() {
                    let scope = if report.accounts.scope.is_some() {
                        format!(" (--only {}; not the whole province)", report.only.join(","))
                    } else {
                        String::new()
                    };
                    println!(
                        "{} {}{scope} GEP {:.2} 亿元 ({} counties)",
                        report.year,
                        p.name,
                        p.gep_cny / 1e8,
                        report.accounts.level(gep::account::Level::County).count()
                    );
                }
                if report.demo {
                    println!(
                        "(built-in SYNTHETIC demo data, not official statistics; give --data for real workbooks)"
                    );
                }
                println!("wrote {}", report.book.display());
                for path in &report.csv {
                    println!("wrote {}", path.display());
                }
            })
        }
        Command::Check(args) => {
            let req = request(args.data, args.input);
            gep::check(&req, args.previous.as_deref()).map(|warnings| {
                print_warnings(&warnings);
                println!("ok: no errors ({} warnings)", warnings.len());
            })
        }
        Command::Explain(args) => {
            let req = request(args.data, args.input);
            gep::explain(&req, &args.county, &args.indicator).map(|text| print!("{text}"))
        }
        Command::Template(args) => {
            let year = args.year.unwrap_or_else(gep::clock::last_year);
            gep::account::registry::load_coefficients(args.coefficients.as_deref(), false).and_then(
                |c| {
                    if args.out.exists() && args.out.extension().is_none_or(|e| e != "xlsx") {
                        return Err(Error::Usage(format!(
                            "refusing to overwrite {}",
                            args.out.display()
                        )));
                    }
                    gep::template::write(&args.out, year, &c)?;
                    println!(
                        "wrote {} (template for {year}, {} counties)",
                        args.out.display(),
                        c.regions.len()
                    );
                    Ok(())
                },
            )
        }
        Command::Coefficients(CoefficientsCommand::Check { dir }) => {
            gep::account::registry::load_coefficients(Some(&dir), false).map(|c| {
                print_warnings(c.warnings.all());
                println!(
                    "ok: {} {} ({} regions, {} land classes, {} rates, {} forest types, {} prices)",
                    c.manifest.name,
                    c.manifest.version,
                    c.regions.len(),
                    c.land_classes.len(),
                    c.rates.len(),
                    c.forest_types.len(),
                    c.prices.len()
                );
            })
        }
        Command::Coefficients(CoefficientsCommand::Rehash { dir }) => {
            gep::coefficients::rehash(&dir).map(|hashes| {
                for (file, hash) in hashes {
                    println!("{hash}  {file}");
                }
                println!("updated {}", dir.join("manifest.toml").display());
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
