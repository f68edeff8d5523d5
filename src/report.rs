//! What the command line prints: problems (limited, duplicates of one cause collapsed),
//! coloured on a terminal, or every result as JSON (schema `gep/1`, documented in docs/cli.md).

use serde_json::{Value, json};

use crate::error::{Error, Issue, Severity};

/// Version of the JSON schema; bumped when a key changes meaning or disappears.
pub const JSON_SCHEMA: &str = "gep/1";

/// A successful command's result as one JSON object: its own fields, plus `schema`,
/// `command`, `ok` and `exit_code` as every object of the schema has them.
pub fn success_json<T: serde::Serialize>(command: &str, result: &T) -> Value {
    let mut value = serde_json::to_value(result).unwrap_or_default();
    value["schema"] = json!(JSON_SCHEMA);
    value["command"] = json!(command);
    value["ok"] = json!(true);
    value["exit_code"] = json!(0);
    value
}

/// How problems are printed.
#[derive(Debug, Clone, Copy)]
pub struct Listing {
    /// Most entries listed (errors first, then warnings); 0 lists all.
    pub max_problems: usize,
    /// ANSI colour for `error` and `warning`.
    pub color: bool,
}

/// Problems of one cause (severity, check and message) found at several places.
#[derive(Debug, Clone)]
pub struct Collapsed<'a> {
    /// The first occurrence.
    pub issue: &'a Issue,
    /// Every location, in order.
    pub locations: Vec<&'a str>,
}

/// Problems with the same severity, check and message collapsed into one entry listing their
/// locations, in first-seen order.
pub fn collapse(issues: &[Issue]) -> Vec<Collapsed<'_>> {
    let mut out: Vec<Collapsed<'_>> = Vec::new();
    let mut index: std::collections::HashMap<(Severity, &str, &str), usize> =
        std::collections::HashMap::new();
    for issue in issues {
        let key = (
            issue.severity,
            issue.check.label(true),
            issue.message.as_str(),
        );
        match index.get(&key) {
            Some(&i) => out[i].locations.push(&issue.location),
            None => {
                index.insert(key, out.len());
                out.push(Collapsed {
                    issue,
                    locations: vec![&issue.location],
                });
            }
        }
    }
    out
}

/// Places shown for one collapsed entry before "and N more places".
const PLACES_SHOWN: usize = 10;

fn paint(text: &str, severity: Severity, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let code = match severity {
        Severity::Error => "1;31",
        Severity::Warning => "33",
    };
    // Colour the tag (`error`, `warning [ratio]`) only.
    match text.split_once(": ") {
        Some((tag, rest)) => format!("\u{1b}[{code}m{tag}\u{1b}[0m: {rest}"),
        None => text.to_string(),
    }
}

/// The problems as lines of text: collapsed, at most `max_problems` entries (0 = all), then a
/// line counting the rest and saying how to see them.
pub fn problem_lines(issues: &[Issue], listing: Listing) -> Vec<String> {
    let collapsed = collapse(issues);
    let limit = if listing.max_problems == 0 {
        usize::MAX
    } else {
        listing.max_problems
    };
    let mut out = Vec::new();
    for entry in collapsed.iter().take(limit) {
        let text = if entry.locations.len() == 1 {
            entry.issue.to_string()
        } else {
            let shown: Vec<&str> = entry.locations.iter().take(PLACES_SHOWN).copied().collect();
            let more = entry.locations.len().saturating_sub(PLACES_SHOWN);
            let mut places = shown.join(", ");
            if more > 0 {
                places.push_str(&format!(" and {more} more places"));
            }
            let mut one = entry.issue.clone();
            one.location = format!("{} places: {places}", entry.locations.len());
            one.to_string()
        };
        out.push(paint(&text, entry.issue.severity, listing.color));
    }
    if collapsed.len() > limit {
        let rest = &collapsed[limit..];
        let errors = rest
            .iter()
            .filter(|c| c.issue.severity == Severity::Error)
            .count();
        out.push(format!(
            "… and {} more ({errors} errors, {} warnings); --max-problems 0 lists all, --format json gives every one",
            rest.len(),
            rest.len() - errors
        ));
    }
    out
}

/// One problem as JSON.
pub fn issue_json(issue: &Issue) -> Value {
    json!({
        "severity": match issue.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        "check": issue.check.label(true).to_lowercase(),
        "location": issue.location,
        "message": issue.message,
        "message_zh": issue.message_zh,
    })
}

/// Every problem of a list as JSON, split into errors and warnings.
pub fn issues_json(issues: &[Issue]) -> (Vec<Value>, Vec<Value>) {
    let errors = issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(issue_json)
        .collect();
    let warnings = issues
        .iter()
        .filter(|i| i.severity == Severity::Warning)
        .map(issue_json)
        .collect();
    (errors, warnings)
}

/// A failed command as JSON: `ok` false, its exit code and every problem.
pub fn error_json(command: &str, error: &Error) -> Value {
    let (errors, warnings) = match error {
        Error::Invalid { issues } => issues_json(issues),
        other => {
            let check = match other {
                Error::Usage(_) => "usage",
                Error::Io { .. } | Error::Book { .. } => "io",
                _ => "internal",
            };
            // A usage error names each of its causes on a line: one problem each.
            let text = other.to_string();
            let problems = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|line| {
                    json!({
                        "severity": "error",
                        "check": check,
                        "location": "",
                        "message": line,
                        "message_zh": null,
                    })
                })
                .collect();
            (problems, Vec::new())
        }
    };
    json!({
        "schema": JSON_SCHEMA,
        "command": command,
        "ok": false,
        "exit_code": error.exit_code(),
        "errors": errors,
        "warnings": warnings,
    })
}

/// A command that wrote files (or only checked), successful, as JSON: `template`,
/// `coefficients check` (no outputs) and `coefficients rehash`.
pub fn done_json(command: &str, outputs: &[String], warnings: &[Issue]) -> Value {
    let (_, warnings) = issues_json(warnings);
    json!({
        "schema": JSON_SCHEMA,
        "command": command,
        "ok": true,
        "exit_code": 0,
        "outputs": outputs,
        "errors": [],
        "warnings": warnings,
    })
}

/// A successful `gep check` as JSON.
pub fn check_json(warnings: &[Issue]) -> Value {
    let (_, warnings) = issues_json(warnings);
    json!({
        "schema": JSON_SCHEMA,
        "command": "check",
        "ok": true,
        "exit_code": 0,
        "errors": [],
        "warnings": warnings,
    })
}

/// A successful `gep run` as JSON: the top unit's GEP, the outputs written, every warning.
pub fn run_json(report: &crate::RunReport) -> Value {
    let (_, warnings) = issues_json(&report.warnings);
    let accounts = &report.accounts;
    // An equivalent-factor study has no GEP: `total` is null, `esv_cny` says what was computed.
    let top = accounts.province().filter(|_| !report.esv_only).map(|p| {
        json!({
            "code": p.code,
            "name": p.name,
            "gep_cny": p.gep_cny,
            "category_cny": {
                "provisioning": p.category_cny[0],
                "regulating": p.category_cny[1],
                "cultural": p.category_cny[2],
            },
        })
    });
    let not_valued: Vec<&str> = accounts
        .indicators
        .iter()
        .zip(&accounts.coverage)
        .filter(|(_, c)| !c.valued)
        .map(|(i, _)| i.key)
        .collect();
    let mut outputs = vec![report.book.display().to_string()];
    outputs.extend(report.csv.iter().map(|p| p.display().to_string()));
    json!({
        "schema": JSON_SCHEMA,
        "command": "run",
        "ok": true,
        "exit_code": 0,
        "year": report.year,
        "scope": report.only,
        "demo": report.demo,
        "counties": accounts.level(crate::account::Level::County).count(),
        "total": top,
        "accounts": report.produced,
        "esv_cny": report.esv_cny,
        "geep_cny": report.geep_cny,
        "not_valued": not_valued,
        "outputs": outputs,
        "errors": [],
        "warnings": warnings,
    })
}

/// A successful `gep explain` as JSON.
pub fn explain_json(x: &crate::explain::Explanation) -> Value {
    let (_, warnings) = issues_json(&x.warnings);
    let mut value = json!({
        "schema": JSON_SCHEMA,
        "command": "explain",
        "ok": true,
        "exit_code": 0,
        "errors": [],
        "warnings": warnings,
    });
    if let (Some(object), Ok(Value::Object(fields))) =
        (value.as_object_mut(), serde_json::to_value(x))
    {
        object.extend(fields);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Issues;

    #[test]
    fn one_cause_at_many_places_is_one_entry_and_the_rest_is_counted() {
        let mut issues = Issues::new();
        for row in 1..=15 {
            issues.error(format!("a.xlsx [土地利用!D{row}]"), "expected a number");
        }
        issues.error("b.xlsx", "another problem");
        issues.error("c.xlsx", "a third problem");
        let listing = Listing {
            max_problems: 2,
            color: false,
        };
        let lines = problem_lines(issues.all(), listing);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines[0].starts_with("error: 15 places: a.xlsx [土地利用!D1], ")
                && lines[0].ends_with("and 5 more places: expected a number"),
            "{}",
            lines[0]
        );
        assert!(
            lines[2].starts_with("… and 1 more (1 errors, 0 warnings)"),
            "{}",
            lines[2]
        );
        let all = problem_lines(
            issues.all(),
            Listing {
                max_problems: 0,
                color: true,
            },
        );
        assert_eq!(all.len(), 3);
        assert!(
            all[0].starts_with("\u{1b}[1;31merror\u{1b}[0m: "),
            "{}",
            all[0]
        );
    }
}
