//! Stage 5, write: accounts → the Excel account book (rust_xlsxwriter), written to a temporary
//! file and renamed. Sheets: 说明 About, 汇总 Summary, 实物量 Physical, 价值量 Value, 明细 Lines,
//! 系数 Coefficients, 校验 Checks.

use std::path::Path;

use crate::account::Accounts;
use crate::coefficients::Coefficients;
use crate::error::{Error, Issue, Result};
use crate::validate::Inputs;
use crate::Request;

/// Everything the book shows.
pub struct BookContext<'a> {
    /// The accounts.
    pub accounts: &'a Accounts,
    /// The validated inputs (files, year).
    pub inputs: &'a Inputs,
    /// The coefficient set.
    pub coef: &'a Coefficients,
    /// The request (command line).
    pub request: &'a Request,
    /// Warnings for the Checks sheet.
    pub warnings: &'a [Issue],
}

/// Writes the book to `path` atomically.
///
/// # Errors
/// [`Error::Book`] when rust_xlsxwriter fails; [`Error::Io`] when the file cannot be placed.
pub fn write(path: &Path, ctx: &BookContext<'_>) -> Result<()> {
    let _ = ctx;
    let _ = Error::Internal(String::new());
    crate::write_atomically(path, |_| Ok(()))
}
