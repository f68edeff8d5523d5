//! Stage 5b, export: accounts → tidy UTF-8 CSV tables for scripts (`--csv DIR`):
//! `accounts.csv` (one row per level × unit × indicator), `lines.csv` (every valuation line),
//! `esv.csv` (unit × ecosystem type × service) and `geep.csv` (the GEEP terms per unit).

use std::path::Path;

use polars::prelude::*;
use polars_io::SerWriter;
use polars_io::prelude::CsvWriter;

use std::collections::BTreeMap;

use crate::account::geep::Terms;
use crate::account::{AccountRow, Accounts};
use crate::error::{Error, Result};
use crate::esv::Esv;

/// The accounts in long form: level, code, name, prefecture_code, prefecture, indicator,
/// indicator_zh, category, valued, quantity, quantity_unit, value_cny. An indicator the run did
/// not value has `valued = false` and empty quantity and value (never 0).
///
/// # Errors
/// Polars failures only.
pub fn tidy(accounts: &Accounts) -> Result<DataFrame> {
    let mut labels = Labels::default();
    let mut indicator = Vec::new();
    let mut indicator_zh = Vec::new();
    let mut category = Vec::new();
    let mut valued = Vec::new();
    let mut quantity: Vec<Option<f64>> = Vec::new();
    let mut unit = Vec::new();
    let mut value: Vec<Option<f64>> = Vec::new();
    for row in &accounts.rows {
        for (k, ind) in accounts.indicators.iter().enumerate() {
            labels.push(row);
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
    let mut columns = labels.columns();
    columns.extend([
        Column::new("indicator".into(), indicator),
        Column::new("indicator_zh".into(), indicator_zh),
        Column::new("category".into(), category),
        Column::new("valued".into(), valued),
        Column::new("quantity".into(), quantity),
        Column::new("quantity_unit".into(), unit),
        Column::new("value_cny".into(), value),
    ]);
    Ok(DataFrame::new_infer_height(columns)?)
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

/// The equivalent-factor account in long form: level, code, name, prefecture_code, prefecture,
/// ecosystem_type, area_ha, service, service_zh, value_cny — one row per unit × ecosystem type ×
/// service (types in the crosswalk's Xie names; land mapped to no type has its area and an empty
/// value).
///
/// # Errors
/// Polars failures only.
pub fn esv_tidy(accounts: &Accounts, esv: &Esv) -> Result<DataFrame> {
    let mut cols = Labels::default();
    let mut ecosystem = Vec::new();
    let mut area = Vec::new();
    let mut service = Vec::new();
    let mut service_zh = Vec::new();
    let mut value: Vec<Option<f64>> = Vec::new();
    for row in &accounts.rows {
        for (xie_type, v) in esv.by_ecosystem(accounts.members(row)) {
            for (k, (key, zh, _)) in crate::esv::SERVICES.iter().enumerate() {
                cols.push(row);
                ecosystem.push(xie_type.clone());
                area.push(v.area_ha);
                service.push(*key);
                service_zh.push(*zh);
                value.push(Some(v.values_cny[k]).filter(|_| !xie_type.is_empty()));
            }
        }
    }
    let mut columns = cols.columns();
    columns.extend([
        Column::new("ecosystem_type".into(), ecosystem),
        Column::new("area_ha".into(), area),
        Column::new("service".into(), service),
        Column::new("service_zh".into(), service_zh),
        Column::new("value_cny".into(), value),
    ]);
    Ok(DataFrame::new_infer_height(columns)?)
}

/// The GEEP account, one row per unit: gdp_cny, degradation_cny, degradation_basis
/// (computed / given / mixed), damage_area_loss_cny (empty when the previous land cover is not
/// given), damage_subsidence_cny, damage_basis, depletion_cny, depletion_deducted,
/// regulating_cny, geep_cny.
///
/// # Errors
/// Polars failures only.
pub fn geep_tidy(
    accounts: &Accounts,
    terms: &BTreeMap<String, Terms>,
    settings: &crate::account::geep::Settings,
) -> Result<DataFrame> {
    let mut cols = Labels::default();
    let mut sums = Vec::with_capacity(accounts.rows.len());
    for row in &accounts.rows {
        cols.push(row);
        sums.push(Terms::sum(terms, accounts.members(row)));
    }
    let field = |f: fn(&Terms) -> f64| sums.iter().map(f).collect::<Vec<f64>>();
    let mut columns = cols.columns();
    columns.extend([
        Column::new("gdp_cny".into(), field(|t| t.gdp)),
        Column::new("degradation_cny".into(), field(|t| t.degradation)),
        Column::new(
            "degradation_basis".into(),
            sums.iter()
                .map(|t| t.degradation_basis.key())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "damage_area_loss_cny".into(),
            sums.iter().map(|t| t.damage).collect::<Vec<_>>(),
        ),
        Column::new("damage_subsidence_cny".into(), field(|t| t.subsidence)),
        Column::new(
            "damage_basis".into(),
            sums.iter()
                .map(|t| t.damage_basis.key())
                .collect::<Vec<_>>(),
        ),
        Column::new("depletion_cny".into(), field(|t| t.depletion)),
        Column::new(
            "depletion_deducted".into(),
            vec![settings.deduct_resource_depletion; sums.len()],
        ),
        Column::new("regulating_cny".into(), field(|t| t.regulating)),
        Column::new(
            "geep_cny".into(),
            sums.iter()
                .map(|t| t.geep(settings.deduct_resource_depletion))
                .collect::<Vec<_>>(),
        ),
    ]);
    Ok(DataFrame::new_infer_height(columns)?)
}

/// The carbon-stock account, one row per unit × valuation class: area_ha, the stock per pool
/// (c_above_t, c_below_t, c_soil_t, c_dead_t, t C), total_t_c, and with the previous year's
/// land cover previous_area_ha, previous_total_t_c and change_t_c (empty without it).
///
/// # Errors
/// Polars failures only.
pub fn carbon_stock_tidy(
    accounts: &Accounts,
    stock: &crate::carbon_stock::CarbonStock,
) -> Result<DataFrame> {
    use crate::carbon_stock::CarbonStock;
    let mut cols = Labels::default();
    let mut class = Vec::new();
    let mut area = Vec::new();
    let mut pools: [Vec<f64>; 4] = Default::default();
    let mut total = Vec::new();
    let mut previous_area: Vec<Option<f64>> = Vec::new();
    let mut previous_total: Vec<Option<f64>> = Vec::new();
    let mut change: Vec<Option<f64>> = Vec::new();
    for row in &accounts.rows {
        let members = accounts.members(row);
        let now = CarbonStock::by_class(&stock.now, members.iter().copied());
        let before = stock
            .previous
            .as_ref()
            .map(|p| CarbonStock::by_class(p, members.iter().copied()));
        let mut classes: Vec<&String> = now.keys().collect();
        if let Some(b) = &before {
            classes.extend(b.keys().filter(|k| !now.contains_key(*k)));
        }
        classes.sort();
        for c in classes {
            let s = now.get(c).copied().unwrap_or_default();
            cols.push(row);
            class.push(c.clone());
            area.push(s.area_ha);
            for (k, v) in s.stock_t_c.iter().enumerate() {
                pools[k].push(*v);
            }
            total.push(s.total_t_c());
            let b = before
                .as_ref()
                .map(|b| b.get(c).copied().unwrap_or_default());
            previous_area.push(b.map(|b| b.area_ha));
            previous_total.push(b.map(|b| b.total_t_c()));
            change.push(b.map(|b| s.total_t_c() - b.total_t_c()));
        }
    }
    let [above, below, soil, dead] = pools;
    let mut columns = cols.columns();
    columns.extend([
        Column::new("valuation_class".into(), class),
        Column::new("area_ha".into(), area),
        Column::new("c_above_t".into(), above),
        Column::new("c_below_t".into(), below),
        Column::new("c_soil_t".into(), soil),
        Column::new("c_dead_t".into(), dead),
        Column::new("total_t_c".into(), total),
        Column::new("previous_area_ha".into(), previous_area),
        Column::new("previous_total_t_c".into(), previous_total),
        Column::new("change_t_c".into(), change),
    ]);
    Ok(DataFrame::new_infer_height(columns)?)
}

/// The extent account, one row per unit × valuation class: opening_ha, additions_ha,
/// reductions_ha, net_change_ha, closing_ha (each county's net flows from two land covers; a
/// unit's are sums over its counties).
///
/// # Errors
/// Polars failures only.
pub fn extent_tidy(accounts: &Accounts, extent: &crate::extent::Extent) -> Result<DataFrame> {
    let mut cols = Labels::default();
    let mut class = Vec::new();
    let mut numbers: [Vec<f64>; 5] = Default::default();
    for row in &accounts.rows {
        for (c, e) in extent.by_class(accounts.members(row)) {
            cols.push(row);
            class.push(c);
            for (k, v) in [
                e.opening_ha,
                e.additions_ha,
                e.reductions_ha,
                e.net_change_ha(),
                e.closing_ha,
            ]
            .into_iter()
            .enumerate()
            {
                numbers[k].push(v);
            }
        }
    }
    let [opening, additions, reductions, net, closing] = numbers;
    let mut columns = cols.columns();
    columns.extend([
        Column::new("valuation_class".into(), class),
        Column::new("opening_ha".into(), opening),
        Column::new("additions_ha".into(), additions),
        Column::new("reductions_ha".into(), reductions),
        Column::new("net_change_ha".into(), net),
        Column::new("closing_ha".into(), closing),
    ]);
    Ok(DataFrame::new_infer_height(columns)?)
}

/// The change matrix, one row per unit × from class × to class (valuation classes): area_ha.
///
/// # Errors
/// Polars failures only.
pub fn transitions_tidy(accounts: &Accounts, extent: &crate::extent::Extent) -> Result<DataFrame> {
    let mut cols = Labels::default();
    let (mut from, mut to, mut area) = (Vec::new(), Vec::new(), Vec::new());
    for row in &accounts.rows {
        for ((f, t), a) in extent.matrix(accounts.members(row)).unwrap_or_default() {
            cols.push(row);
            from.push(f);
            to.push(t);
            area.push(a);
        }
    }
    let mut columns = cols.columns();
    columns.extend([
        Column::new("from_valuation_class".into(), from),
        Column::new("to_valuation_class".into(), to),
        Column::new("area_ha".into(), area),
    ]);
    Ok(DataFrame::new_infer_height(columns)?)
}

/// The label columns every table starts with: level, code, name, prefecture_code, prefecture.
#[derive(Default)]
struct Labels {
    level: Vec<&'static str>,
    code: Vec<String>,
    name: Vec<String>,
    prefecture_code: Vec<String>,
    prefecture: Vec<String>,
}

impl Labels {
    fn push(&mut self, row: &AccountRow) {
        self.level.push(row.level.key());
        self.code.push(row.code.clone());
        self.name.push(row.name.clone());
        self.prefecture_code.push(row.prefecture_code.clone());
        self.prefecture.push(row.prefecture.clone());
    }

    fn columns(self) -> Vec<Column> {
        vec![
            Column::new("level".into(), self.level),
            Column::new("code".into(), self.code),
            Column::new("name".into(), self.name),
            Column::new("prefecture_code".into(), self.prefecture_code),
            Column::new("prefecture".into(), self.prefecture),
        ]
    }
}

/// The accounts a run exports as CSV.
pub struct Tables<'a> {
    /// The extent account (`extent.csv`), with `--previous` land cover.
    pub extent: Option<&'a crate::extent::Extent>,
    /// The carbon-stock account (`carbon_stock.csv`), when the set has densities.
    pub carbon_stock: Option<&'a crate::carbon_stock::CarbonStock>,
    /// An equivalent-factor study: only `esv.csv` is written (there is no GEP account).
    pub esv_only: bool,
    /// The GEP accounts (`accounts.csv`, `lines.csv`).
    pub accounts: &'a Accounts,
    /// The equivalent-factor account (`esv.csv`).
    pub esv: &'a Esv,
    /// The GEEP terms and settings (`geep.csv`), when the run has them.
    pub geep: Option<(
        &'a BTreeMap<String, Terms>,
        &'a crate::account::geep::Settings,
    )>,
}

/// Stages `accounts.csv`, `lines.csv`, `esv.csv`, (with GEEP) `geep.csv`, (with `--previous`)
/// `extent.csv` and, with a change matrix, `transitions.csv` in `dir` (created if needed) for
/// [`crate::files::commit`].
///
/// # Errors
/// [`Error::Io`] when the folder or a file cannot be written.
pub fn stage(dir: &Path, tables: &Tables<'_>) -> Result<Vec<crate::files::Staged>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let accounts = tables.accounts;
    let mut out = Vec::new();
    if let Some(extent) = tables.extent {
        out.push(stage_csv(
            &dir.join("extent.csv"),
            &mut extent_tidy(accounts, extent)?,
        )?);
        if extent.transitions.is_some() {
            out.push(stage_csv(
                &dir.join("transitions.csv"),
                &mut transitions_tidy(accounts, extent)?,
            )?);
        }
    }
    if let Some(stock) = tables.carbon_stock {
        out.push(stage_csv(
            &dir.join("carbon_stock.csv"),
            &mut carbon_stock_tidy(accounts, stock)?,
        )?);
    }
    if tables.esv_only {
        out.push(stage_csv(
            &dir.join("esv.csv"),
            &mut esv_tidy(accounts, tables.esv)?,
        )?);
        return Ok(out);
    }
    out.extend([
        stage_csv(&dir.join("accounts.csv"), &mut tidy(accounts)?)?,
        stage_csv(
            &dir.join("lines.csv"),
            &mut crate::account::Line::frame(&accounts.lines)?,
        )?,
        stage_csv(&dir.join("esv.csv"), &mut esv_tidy(accounts, tables.esv)?)?,
    ]);
    if let Some((terms, settings)) = tables.geep {
        out.push(stage_csv(
            &dir.join("geep.csv"),
            &mut geep_tidy(accounts, terms, settings)?,
        )?);
    }
    Ok(out)
}
