//! Coefficient diff: what changed between two coefficient sets (prices, parameters, rates,
//! forest types, the land-class crosswalk, switches, other files) and, given workbooks, what the
//! change does to every county's GEP and indicators (`gep coefficients diff OLD NEW`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::account::Level;
use crate::coefficients::Coefficients;
use crate::error::{Error, Result};

/// One coefficient whose value (or source) differs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Change {
    /// File of the set (`prices.toml`, `service_rates.csv` …).
    pub file: String,
    /// Key in it (`water`, `forest/soil_retention`, `油松.bcef`, `switches`).
    pub key: String,
    /// Old value as text (empty when the key is new).
    pub old: String,
    /// New value as text (empty when the key is gone).
    pub new: String,
    /// (new − old) / old for numbers, when both exist and old ≠ 0.
    pub relative: Option<f64>,
    /// True when the cited source differs too.
    pub source_changed: bool,
}

/// How one number of the accounts moves from the old set to the new.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Effect {
    /// County code (or the top unit's).
    pub code: String,
    /// Its name.
    pub name: String,
    /// Indicator key, or `GEP`.
    pub indicator: String,
    /// Value with the old set, 元.
    pub old_cny: f64,
    /// Value with the new set, 元.
    pub new_cny: f64,
}

impl Effect {
    /// new − old, 元.
    pub fn change_cny(&self) -> f64 {
        self.new_cny - self.old_cny
    }

    /// (new − old) / old; `None` when old is 0.
    pub fn relative(&self) -> Option<f64> {
        (self.old_cny != 0.0).then(|| self.change_cny() / self.old_cny)
    }
}

/// The diff of two sets, and their effect on workbooks when given.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Diff {
    /// The old set's folder, name and version.
    pub old: String,
    /// The new set's.
    pub new: String,
    /// Changed coefficients, in file and key order.
    pub changes: Vec<Change>,
    /// Files that differ in content but are not compared value by value.
    pub other_files: Vec<String>,
    /// With workbooks: the top unit's GEP, then every county's GEP and every county × indicator
    /// that moved, largest absolute movement first.
    pub effects: Vec<Effect>,
}

/// The files compared value by value; any other file that differs is listed by name.
const COMPARED: &[&str] = &[
    "prices.toml",
    "service_rates.csv",
    "forest_types.csv",
    "land_classes.csv",
    "manifest.toml",
];

fn number_change(
    file: &str,
    key: String,
    old: Option<&(f64, String)>,
    new: Option<&(f64, String)>,
) -> Option<Change> {
    let text = |v: Option<&(f64, String)>| v.map_or_else(String::new, |(x, _)| x.to_string());
    let same_value = matches!((old, new), (Some((a, _)), Some((b, _))) if a == b);
    let same_source = matches!((old, new), (Some((_, a)), Some((_, b))) if a == b);
    if same_value && same_source {
        return None;
    }
    Some(Change {
        file: file.into(),
        key,
        old: text(old),
        new: text(new),
        relative: match (old, new) {
            (Some((a, _)), Some((b, _))) if *a != 0.0 => Some((b - a) / a),
            _ => None,
        },
        source_changed: !same_source,
    })
}

/// Values keyed by name with their cited source, as two sets give them.
type Sourced = BTreeMap<String, (f64, String)>;

/// The keys of `old` and `new` whose value or source differ, as changes of `file`.
fn compare(file: &str, old: &Sourced, new: &Sourced, out: &mut Vec<Change>) {
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for key in keys {
        out.extend(number_change(file, key.clone(), old.get(key), new.get(key)));
    }
}

/// Every coefficient that differs between `old` and `new`, and the files that differ otherwise.
pub fn changes(old: &Coefficients, new: &Coefficients) -> (Vec<Change>, Vec<String>) {
    let mut out = Vec::new();
    // Prices, then parameters (as the file lists them).
    let section = |m: &BTreeMap<String, crate::coefficients::Price>, prefix: &str| -> Sourced {
        m.iter()
            .map(|(k, p)| (format!("{prefix}{k}"), (p.value, p.source.clone())))
            .collect()
    };
    compare(
        "prices.toml",
        &section(&old.prices, ""),
        &section(&new.prices, ""),
        &mut out,
    );
    compare(
        "prices.toml",
        &section(&old.parameters, "parameters."),
        &section(&new.parameters, "parameters."),
        &mut out,
    );
    let rates = |c: &Coefficients| -> Sourced {
        c.rates
            .iter()
            .map(|r| {
                (
                    format!("{}/{}", r.valuation_class, r.indicator),
                    (r.rate, r.source.clone()),
                )
            })
            .collect()
    };
    compare("service_rates.csv", &rates(old), &rates(new), &mut out);
    let forest = |c: &Coefficients| -> Sourced {
        let mut m = BTreeMap::new();
        for t in &c.forest_types {
            for (field, v) in [
                ("a", t.a),
                ("b", t.b),
                ("bcef", t.bcef),
                ("root_shoot", t.root_shoot),
                ("carbon_fraction", Some(t.carbon_fraction)),
            ] {
                if let Some(v) = v {
                    m.insert(format!("{}.{field}", t.forest_type), (v, t.source.clone()));
                }
            }
        }
        m
    };
    compare("forest_types.csv", &forest(old), &forest(new), &mut out);
    let crosswalk = |c: &Coefficients| -> BTreeMap<String, String> {
        c.land_classes
            .iter()
            .map(|l| (l.land_class.clone(), l.valuation_class.clone()))
            .collect()
    };
    let (a, b) = (crosswalk(old), crosswalk(new));
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for key in keys {
        if a.get(key) != b.get(key) {
            out.push(Change {
                file: "land_classes.csv".into(),
                key: key.clone(),
                old: a.get(key).cloned().unwrap_or_default(),
                new: b.get(key).cloned().unwrap_or_default(),
                relative: None,
                source_changed: false,
            });
        }
    }
    let (a, b) = (
        format!("{:?}", old.manifest.switches),
        format!("{:?}", new.manifest.switches),
    );
    if a != b {
        out.push(Change {
            file: "manifest.toml".into(),
            key: "switches".into(),
            old: a,
            new: b,
            relative: None,
            source_changed: false,
        });
    }
    (out, other_files(old.dir.as_deref(), new.dir.as_deref()))
}

/// Files of the two folders, other than those compared value by value, whose bytes differ (or
/// that only one set has).
fn other_files(old: Option<&Path>, new: Option<&Path>) -> Vec<String> {
    let (Some(old), Some(new)) = (old, new) else {
        return Vec::new();
    };
    let names = |dir: &Path| -> std::collections::BTreeSet<String> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter(|e| e.path().is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut all = names(old);
    all.extend(names(new));
    all.into_iter()
        .filter(|name| !COMPARED.contains(&name.as_str()))
        .filter(|name| std::fs::read(old.join(name)).ok() != std::fs::read(new.join(name)).ok())
        .collect()
}

/// The accounts of `request`'s workbooks under each set, compared: the top unit's GEP first,
/// then every county's GEP and indicators that moved, largest absolute movement first.
///
/// # Errors
/// As [`crate::evaluate`] for either set.
pub fn effects(request: &crate::Request, old: &Path, new: &Path) -> Result<Vec<Effect>> {
    let run = |dir: &Path| {
        crate::evaluate(
            &crate::Request {
                coefficients: Some(dir.to_path_buf()),
                ..request.clone()
            },
            None,
            None,
        )
    };
    let (a, b) = rayon::join(|| run(old), || run(new));
    let (a, b) = (a?.accounts, b?.accounts);
    let mut top = Vec::new();
    let mut counties = Vec::new();
    let before: std::collections::HashMap<(&str, Level), &crate::account::AccountRow> = a
        .rows
        .iter()
        .map(|r| ((r.code.as_str(), r.level), r))
        .collect();
    let top_level = b.rows.last().map(|r| r.level);
    for row in &b.rows {
        let Some(old_row) = before.get(&(row.code.as_str(), row.level)) else {
            continue;
        };
        let effect = |indicator: &str, old_cny: f64, new_cny: f64| Effect {
            code: row.code.clone(),
            name: row.name.clone(),
            indicator: indicator.to_string(),
            old_cny,
            new_cny,
        };
        if Some(row.level) == top_level && row.level != Level::County {
            top.push(effect("GEP", old_row.gep_cny, row.gep_cny));
        }
        if row.level != Level::County {
            continue;
        }
        counties.push(effect("GEP", old_row.gep_cny, row.gep_cny));
        for (k, ind) in b.indicators.iter().enumerate() {
            let Some(j) = a.indicators.iter().position(|x| x.key == ind.key) else {
                continue;
            };
            let (o, n) = (old_row.values_cny[j], row.values_cny[k]);
            if o != n {
                counties.push(effect(ind.key, o, n));
            }
        }
        // An indicator the new set no longer values (a switch turned off) goes to 0.
        for (j, ind) in a.indicators.iter().enumerate() {
            if !b.indicators.iter().any(|x| x.key == ind.key) && old_row.values_cny[j] != 0.0 {
                counties.push(effect(ind.key, old_row.values_cny[j], 0.0));
            }
        }
    }
    counties.sort_by(|x, y| {
        y.change_cny()
            .abs()
            .total_cmp(&x.change_cny().abs())
            .then_with(|| (&x.code, &x.indicator).cmp(&(&y.code, &y.indicator)))
    });
    counties.retain(|e| e.indicator != "GEP" || e.change_cny() != 0.0);
    top.extend(counties);
    Ok(top)
}

/// Loads both sets and compares them; with workbooks in `request.data`, their effect too.
///
/// # Errors
/// [`Error::Usage`] when a folder does not exist; as the loading of either set, and as
/// [`effects`].
pub fn diff(request: &crate::Request, old: &Path, new: &Path) -> Result<Diff> {
    let load = |dir: &Path| -> Result<Coefficients> {
        if !dir.is_dir() {
            return Err(Error::Usage(format!(
                "coefficient folder {} does not exist",
                dir.display()
            )));
        }
        crate::account::registry::load_coefficients(Some(dir), false)
    };
    let (a, b) = (load(old)?, load(new)?);
    let (changes, other_files) = changes(&a, &b);
    let effects = if request.data.is_empty() {
        Vec::new()
    } else {
        effects(request, old, new)?
    };
    let label = |dir: &Path, c: &Coefficients| {
        format!(
            "{} ({} {})",
            dir.display(),
            c.manifest.name,
            c.manifest.version
        )
    };
    Ok(Diff {
        old: label(old, &a),
        new: label(new, &b),
        changes,
        other_files,
        effects,
    })
}

/// The diff as a formatted workbook: 系数变化 (the changes), 影响 (the effects) and a bar chart of
/// the counties whose GEP moves most.
///
/// # Errors
/// [`Error::Book`] when the workbook cannot be written.
pub fn write_book(diff: &Diff, path: &Path) -> Result<()> {
    use rust_xlsxwriter::{Chart, ChartType, Format, Workbook};
    let book_error = |source| Error::Book {
        path: PathBuf::from(path),
        source,
    };
    let build = || -> std::result::Result<Workbook, rust_xlsxwriter::XlsxError> {
        let mut wb = Workbook::new();
        let header = Format::new().set_bold().set_background_color("#DDEBF7");
        let percent = Format::new().set_num_format("+0.0%;-0.0%;0.0%");
        let money = Format::new().set_num_format("#,##0.00");
        let ws = wb.add_worksheet().set_name("系数变化")?;
        ws.write_string(0, 0, format!("{} → {}", diff.old, diff.new))?;
        ws.write_row_with_format(
            2,
            0,
            [
                "文件 file",
                "键 key",
                "原值 old",
                "新值 new",
                "变化 change",
                "来源变化 source changed",
            ],
            &header,
        )?;
        for (r, change) in (3u32..).zip(&diff.changes) {
            ws.write_string(r, 0, &change.file)?;
            ws.write_string(r, 1, &change.key)?;
            match change.old.parse::<f64>() {
                Ok(v) => ws.write_number(r, 2, v)?,
                Err(_) => ws.write_string(r, 2, &change.old)?,
            };
            match change.new.parse::<f64>() {
                Ok(v) => ws.write_number(r, 3, v)?,
                Err(_) => ws.write_string(r, 3, &change.new)?,
            };
            if let Some(x) = change.relative {
                ws.write_number_with_format(r, 4, x, &percent)?;
            }
            ws.write_string(r, 5, if change.source_changed { "是 yes" } else { "" })?;
        }
        let first_other = 3 + diff.changes.len() as u32 + 1;
        for (r, name) in (first_other..).zip(&diff.other_files) {
            ws.write_string(r, 0, name)?;
            ws.write_string(r, 1, "其他文件内容不同 other content changed")?;
        }
        ws.set_column_width(0, 18)?;
        ws.set_column_width(1, 36)?;
        ws.set_column_width(2, 14)?;
        ws.set_column_width(3, 14)?;
        let ws = wb.add_worksheet().set_name("影响")?;
        ws.write_string(
            0,
            0,
            "各县生态产品总值与指标变化（元），按变化绝对值排序 / effect in yuan, largest first",
        )?;
        ws.write_row_with_format(
            2,
            0,
            [
                "代码 code",
                "名称 name",
                "指标 indicator",
                "原值 old (元)",
                "新值 new (元)",
                "变化 change (元)",
                "变化率 change %",
            ],
            &header,
        )?;
        for (r, e) in (3u32..).zip(&diff.effects) {
            ws.write_string(r, 0, &e.code)?;
            ws.write_string(r, 1, &e.name)?;
            ws.write_string(r, 2, &e.indicator)?;
            ws.write_number_with_format(r, 3, e.old_cny, &money)?;
            ws.write_number_with_format(r, 4, e.new_cny, &money)?;
            ws.write_formula_with_format(
                r,
                5,
                rust_xlsxwriter::Formula::new(format!("=E{n}-D{n}", n = r + 1))
                    .set_result(e.change_cny().to_string()),
                &money,
            )?;
            if let Some(x) = e.relative() {
                ws.write_number_with_format(r, 6, x, &percent)?;
            }
        }
        ws.set_column_width(1, 16)?;
        ws.set_column_width(2, 22)?;
        for c in 3..6 {
            ws.set_column_width(c, 18)?;
        }
        // The counties whose GEP moves most (the top unit's row excluded): a small table of
        // their own beside the effects, and a chart of it.
        let movers: Vec<&Effect> = diff
            .effects
            .iter()
            .filter(|e| e.indicator == "GEP" && e.code.len() == 6 && !e.code.ends_with("00"))
            .take(15)
            .collect();
        if !movers.is_empty() {
            ws.write_string_with_format(2, 8, "GEP 变化最大的县 county", &header)?;
            ws.write_string_with_format(2, 9, "GEP 变化 change (元)", &header)?;
            for (r, e) in (3u32..).zip(&movers) {
                ws.write_string(r, 8, format!("{} {}", e.code, e.name))?;
                ws.write_number_with_format(r, 9, e.change_cny(), &money)?;
            }
            let last = 2 + movers.len() as u32;
            let mut chart = Chart::new(ChartType::Bar);
            chart
                .add_series()
                .set_categories(("影响", 3, 8, last, 8))
                .set_values(("影响", 3, 9, last, 9))
                .set_name("GEP 变化 change (元)");
            chart
                .title()
                .set_name("GEP 变化最大的县 / counties moving most");
            chart.legend().set_hidden();
            ws.set_column_width(8, 22)?;
            ws.set_column_width(9, 18)?;
            ws.insert_chart(2, 11, &chart)?;
        }
        Ok(wb)
    };
    let mut wb = build().map_err(book_error)?;
    let staged = crate::files::stage(path, |f| {
        wb.save_to_writer(f)
            .map_err(|e| std::io::Error::other(e.to_string()))
    })?;
    crate::files::commit(vec![staged])
}

/// The diff as text lines for the terminal: the changes, then at most `top` effects.
pub fn text(diff: &Diff, top: usize) -> Vec<String> {
    let mut out = vec![format!("{} → {}", diff.old, diff.new)];
    if diff.changes.is_empty() && diff.other_files.is_empty() {
        out.push("no coefficient differs".into());
    } else {
        out.push(format!("{} coefficients differ:", diff.changes.len()));
        for c in &diff.changes {
            out.push(format!(
                "  {} {}: {} → {}{}{}",
                c.file,
                c.key,
                if c.old.is_empty() { "(none)" } else { &c.old },
                if c.new.is_empty() { "(none)" } else { &c.new },
                c.relative
                    .map_or_else(String::new, |x| format!(" ({:+.1} %)", x * 100.0)),
                if c.source_changed {
                    "; source changed"
                } else {
                    ""
                }
            ));
        }
        for name in &diff.other_files {
            out.push(format!(
                "  {name}: content differs (not compared value by value)"
            ));
        }
    }
    if !diff.effects.is_empty() {
        out.push(format!(
            "effect (元; largest first, {} of {} shown):",
            top.min(diff.effects.len()),
            diff.effects.len()
        ));
        for e in diff.effects.iter().take(top) {
            out.push(format!(
                "  {} {} {}: {:.2} → {:.2} ({:+.2}{})",
                e.code,
                e.name,
                e.indicator,
                e.old_cny,
                e.new_cny,
                e.change_cny(),
                e.relative()
                    .map_or_else(String::new, |x| format!(", {:+.2} %", x * 100.0))
            ));
        }
    }
    out
}
