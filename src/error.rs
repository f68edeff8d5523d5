//! Errors and collected problems, shared by every stage.
//! Data problems carry a location (`2021.xlsx [土地利用!D14]`, `prices.toml:12`) and are
//! collected into [`Issues`] so that one run reports all of them.

use std::fmt;
use std::path::PathBuf;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How serious a collected problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The run cannot produce a trustworthy book.
    Error,
    /// Kept on the 校验/Checks sheet; the run goes on.
    Warning,
}

/// The kind of check that found a problem: how the 校验 sheet groups them. The four audits
/// (审核) are those statistics bureaus run on every table (docs/checks.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Check {
    /// Reading: layout, headers, units, numbers, codes (读取).
    #[default]
    Reading,
    /// Logic across sheets: stand ≤ 乔木林地 ≤ 林地, years, shares (逻辑审核).
    Logic,
    /// Balance: subtotals, source = use, land cover = area (平衡审核).
    Balance,
    /// Ratio: intensities against physical bounds and the run's peers (比例审核).
    Ratio,
    /// Trend: against the previous year (趋势审核).
    Trend,
    /// The coefficient set (系数).
    Coefficients,
}

impl Check {
    /// Label on the 校验 sheet, Chinese and English.
    pub fn label(self, english: bool) -> &'static str {
        match (self, english) {
            (Check::Reading, false) => "读取",
            (Check::Logic, false) => "逻辑审核",
            (Check::Balance, false) => "平衡审核",
            (Check::Ratio, false) => "比例审核",
            (Check::Trend, false) => "趋势审核",
            (Check::Coefficients, false) => "系数",
            (Check::Reading, true) => "Reading",
            (Check::Logic, true) => "Logic",
            (Check::Balance, true) => "Balance",
            (Check::Ratio, true) => "Ratio",
            (Check::Trend, true) => "Trend",
            (Check::Coefficients, true) => "Coefficients",
        }
    }
}

/// One problem found in an input workbook or a coefficient file.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// Error or warning.
    pub severity: Severity,
    /// Where: `file [sheet!C7]`, `file [sheet]`, `file:line` or a file name.
    pub location: String,
    /// What was expected and what was found.
    pub message: String,
    /// The same in Chinese, for the Chinese book's 校验 sheet (the English text otherwise).
    pub message_zh: Option<String>,
    /// Which check found it.
    pub check: Check,
}

impl Issue {
    /// The message in the book's language (English when no Chinese text was written).
    pub fn message_in(&self, english: bool) -> &str {
        match (&self.message_zh, english) {
            (Some(zh), false) => zh,
            _ => &self.message,
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        // Audits and coefficient problems say which check found them: `warning [ratio]: …`.
        let tag = match self.check {
            Check::Reading => severity.to_string(),
            other => format!("{severity} [{}]", other.label(true).to_lowercase()),
        };
        if self.location.is_empty() {
            write!(f, "{tag}: {}", self.message)
        } else {
            write!(f, "{tag}: {}: {}", self.location, self.message)
        }
    }
}

/// Collects every problem of a stage before failing (ripgrep's "partial" idea).
#[derive(Debug, Default, Clone)]
pub struct Issues {
    items: Vec<Issue>,
}

impl Issues {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an error at `location`.
    pub fn error(&mut self, location: impl Into<String>, message: impl Into<String>) {
        self.items.push(Issue {
            severity: Severity::Error,
            location: location.into(),
            message: message.into(),
            message_zh: None,
            check: Check::Reading,
        });
    }

    /// Records a warning at `location`.
    pub fn warning(&mut self, location: impl Into<String>, message: impl Into<String>) {
        self.items.push(Issue {
            severity: Severity::Warning,
            location: location.into(),
            message: message.into(),
            message_zh: None,
            check: Check::Reading,
        });
    }

    /// Records a warning in English and Chinese (the Chinese book shows the Chinese text).
    pub fn warn(
        &mut self,
        check: Check,
        location: impl Into<String>,
        message: impl Into<String>,
        message_zh: impl Into<String>,
    ) {
        self.audit(check, Severity::Warning, location, message, message_zh);
    }

    /// Records a problem found by an audit `check`, in English and Chinese.
    pub fn audit(
        &mut self,
        check: Check,
        severity: Severity,
        location: impl Into<String>,
        message: impl Into<String>,
        message_zh: impl Into<String>,
    ) {
        self.items.push(Issue {
            severity,
            location: location.into(),
            message: message.into(),
            message_zh: Some(message_zh.into()),
            check,
        });
    }

    /// Marks every problem recorded from index `from` on as found by `check` (for stages whose
    /// problems all belong to one kind, such as coefficient loading).
    pub fn tag_from(&mut self, from: usize, check: Check) {
        for issue in self.items.iter_mut().skip(from) {
            issue.check = check;
        }
    }

    /// Number of problems recorded so far.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Appends one problem.
    pub fn push(&mut self, issue: Issue) {
        self.items.push(issue);
    }

    /// Appends all problems of `other`.
    pub fn extend(&mut self, other: Issues) {
        self.items.extend(other.items);
    }

    /// True when at least one problem is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|i| i.severity == Severity::Error)
    }

    /// All problems, errors and warnings, in the order found.
    pub fn all(&self) -> &[Issue] {
        &self.items
    }

    /// The warnings only.
    pub fn warnings(&self) -> impl Iterator<Item = &Issue> {
        self.items
            .iter()
            .filter(|i| i.severity == Severity::Warning)
    }

    /// Fails with [`Error::Invalid`] when an error was recorded; otherwise returns the warnings.
    ///
    /// # Errors
    /// [`Error::Invalid`] with every problem (errors first) when any error was recorded.
    pub fn into_result(self) -> Result<Issues> {
        if self.has_errors() {
            let mut items = self.items;
            items.sort_by_key(|i| i.severity);
            Err(Error::Invalid { issues: items })
        } else {
            Ok(self)
        }
    }
}

/// Most problems listed in one message; the rest are counted.
pub const MAX_LISTED_ISSUES: usize = 200;

/// Every failure of the engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Inputs or coefficients are invalid; every problem found is listed.
    #[error("{}", format_issues(issues))]
    Invalid {
        /// The problems, errors first.
        issues: Vec<Issue>,
    },
    /// The command line asks for something that cannot be done safely.
    #[error("{0}")]
    Usage(String),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// Writing the Excel book failed.
    #[error("writing {}: {source}", path.display())]
    Book {
        /// The book being written.
        path: PathBuf,
        /// rust_xlsxwriter's error.
        source: rust_xlsxwriter::XlsxError,
    },
    /// A table operation failed (a bug: inputs are validated before they reach polars).
    #[error("internal table error: {0}")]
    Polars(#[from] polars::prelude::PolarsError),
    /// An accounting identity did not hold (a bug, never an input problem).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// One located problem as an [`Error::Invalid`].
    pub fn invalid(location: impl Into<String>, message: impl Into<String>) -> Self {
        let mut issues = Issues::new();
        issues.error(location, message);
        Error::Invalid {
            issues: issues.all().to_vec(),
        }
    }

    /// Exit code of the command line (design §7): 1 invalid input, 2 usage, 3 I/O or internal.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Invalid { .. } => 1,
            Error::Usage(_) => 2,
            Error::Io { .. } | Error::Book { .. } | Error::Polars(_) | Error::Internal(_) => 3,
        }
    }

    /// Builds an [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

fn format_issues(issues: &[Issue]) -> String {
    let errors = issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .count();
    let mut out = format!(
        "{errors} problem{} found:",
        if errors == 1 { "" } else { "s" }
    );
    for issue in issues.iter().take(MAX_LISTED_ISSUES) {
        out.push('\n');
        out.push_str(&issue.to_string());
    }
    if issues.len() > MAX_LISTED_ISSUES {
        out.push_str(&format!(
            "\n… and {} more not listed",
            issues.len() - MAX_LISTED_ISSUES
        ));
    }
    out
}

/// A cell address in messages: `file [sheet!C7]`.
pub fn cell_location(file: &str, sheet: &str, row: u32, col: u16) -> String {
    format!("{file} [{sheet}!{}]", a1(row, col))
}

/// 0-based (row, col) to A1 notation.
pub fn a1(row: u32, col: u16) -> String {
    let mut out = String::with_capacity(8);
    push_a1(&mut out, row, col);
    out
}

/// Appends `row`, `col` (0-based) in A1 notation to `out` (no allocation beyond `out`'s: every
/// input cell's location is written this way).
pub fn push_a1(out: &mut String, row: u32, col: u16) {
    let mut letters = [0u8; 4];
    let mut n = u32::from(col) + 1;
    let mut len = 0;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters[len] = b'A' + rem as u8;
        len += 1;
        n = (n - 1) / 26;
    }
    for &b in letters[..len].iter().rev() {
        out.push(char::from(b));
    }
    let mut digits = [0u8; 10];
    let mut row = row + 1;
    let mut count = 0;
    while row > 0 || count == 0 {
        digits[count] = b'0' + (row % 10) as u8;
        count += 1;
        row /= 10;
    }
    for &b in digits[..count].iter().rev() {
        out.push(char::from(b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a1_agrees_with_rust_xlsxwriter_at_the_letter_and_digit_boundaries() {
        for row in [0, 8, 9, 98, 99, 1_048_575] {
            for col in [0, 25, 26, 51, 52, 701, 702, 16_383] {
                assert_eq!(
                    a1(row, col),
                    rust_xlsxwriter::utility::row_col_to_cell(row, col),
                    "({row}, {col})"
                );
            }
        }
    }

    #[test]
    fn a1_addresses_match_excel() {
        assert_eq!(a1(0, 0), "A1");
        assert_eq!(a1(6, 2), "C7");
        assert_eq!(a1(9, 25), "Z10");
        assert_eq!(a1(0, 26), "AA1");
        assert_eq!(a1(0, 701), "ZZ1");
        assert_eq!(a1(0, 702), "AAA1");
    }

    #[test]
    fn invalid_lists_errors_first_and_counts_them() {
        let mut issues = Issues::new();
        issues.warning("a.xlsx [x!A1]", "w");
        issues.error("a.xlsx [x!B2]", "e");
        let err = issues.into_result().unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("1 problem found"), "{text}");
        let e = text.find("error: a.xlsx [x!B2]: e").unwrap();
        let w = text.find("warning: a.xlsx [x!A1]: w").unwrap();
        assert!(e < w);
        assert_eq!(err.exit_code(), 1);
    }
}
