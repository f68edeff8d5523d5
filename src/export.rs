//! Stage 5b, export: accounts → tidy UTF-8 CSV tables for scripts (`--csv DIR`):
//! `accounts.csv` (one row per level × unit × indicator) and `lines.csv` (every valuation line).

use std::path::Path;

use polars::prelude::*;
use polars_io::SerWriter;
use polars_io::prelude::CsvWriter;

use crate::account::Accounts;
use crate::error::{Error, Result};

/// The accounts in long form: level, code, name, prefecture_code, prefecture, indicator,
/// indicator_zh, category, valued, quantity, quantity_unit, value_cny. An indicator the run did
/// not value has `valued = false` and empty quantity and value (never 0).
///
/// # Errors
/// Polars failures only.
pub fn tidy(accounts: &Accounts) -> Result<DataFrame> {
    let mut level = Vec::new();
    let mut code = Vec::new();
    let mut name = Vec::new();
    let mut pcode = Vec::new();
    let mut pname = Vec::new();
    let mut indicator = Vec::new();
    let mut indicator_zh = Vec::new();
    let mut category = Vec::new();
    let mut valued = Vec::new();
    let mut quantity: Vec<Option<f64>> = Vec::new();
    let mut unit = Vec::new();
    let mut value: Vec<Option<f64>> = Vec::new();
    for row in &accounts.rows {
        for (k, ind) in accounts.indicators.iter().enumerate() {
            level.push(row.level.key());
            code.push(row.code.clone());
            name.push(row.name.clone());
            pcode.push(row.prefecture_code.clone());
            pname.push(row.prefecture.clone());
            indicator.push(ind.key);
            indicator_zh.push(ind.label_zh);
            category.push(ind.category.key());
            let is_valued = accounts.valued(k);
            valued.push(is_valued);
            quantity.push(row.quantities[k].filter(|_| is_valued));
            unit.push(ind.quantity_unit.unwrap_or(""));
            value.push(Some(row.values_cny[k]).filter(|_| is_valued));
        }
    }
    Ok(DataFrame::new_infer_height(vec![
        Column::new("level".into(), level),
        Column::new("code".into(), code),
        Column::new("name".into(), name),
        Column::new("prefecture_code".into(), pcode),
        Column::new("prefecture".into(), pname),
        Column::new("indicator".into(), indicator),
        Column::new("indicator_zh".into(), indicator_zh),
        Column::new("category".into(), category),
        Column::new("valued".into(), valued),
        Column::new("quantity".into(), quantity),
        Column::new("quantity_unit".into(), unit),
        Column::new("value_cny".into(), value),
    ])?)
}

fn stage_csv(path: &Path, df: &mut DataFrame) -> Result<crate::files::Staged> {
    let mut result = Ok(());
    let staged = crate::files::stage(path, |f| {
        result = CsvWriter::new(f).include_header(true).finish(df);
        Ok(())
    })?;
    result.map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))?;
    Ok(staged)
}

/// Stages `accounts.csv` and `lines.csv` in `dir` (created if needed) for [`crate::files::commit`].
///
/// # Errors
/// [`Error::Io`] when the folder or a file cannot be written.
pub fn stage(dir: &Path, accounts: &Accounts) -> Result<Vec<crate::files::Staged>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    Ok(vec![
        stage_csv(&dir.join("accounts.csv"), &mut tidy(accounts)?)?,
        stage_csv(
            &dir.join("lines.csv"),
            &mut crate::account::Line::frame(&accounts.lines)?,
        )?,
    ])
}
