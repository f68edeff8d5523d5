//! Stage 5, write: accounts → the Excel account book (rust_xlsxwriter), written to a temporary
//! file and renamed. Sheets: 说明 About, 汇总 Summary, 实物量 Physical, 价值量 Value,
//! 明细 Lines (every valuation line with its input cell and coefficient), 系数 Coefficients, 校验 Checks.

use std::collections::BTreeMap;
use std::path::Path;

use rust_xlsxwriter::{
    Chart, ChartFont, ChartLegendPosition, ChartType, Color, DocProperties, Format, FormatAlign,
    FormatBorder, Formula, Note, Workbook, Worksheet, XlsxError,
};

use crate::Request;
use crate::account::{AccountRow, Accounts, Category, Level};
use crate::coefficients::Coefficients;
use crate::error::{Error, Issue, Result, Severity};
use crate::validate::Inputs;

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
    /// Previous year and the change rows, when `--previous` was given.
    pub change: Option<&'a (i32, Vec<crate::change::ChangeRow>)>,
    /// Language of labels and sheet names.
    pub lang: Lang,
    /// Money unit of value cells.
    pub money: Money,
    /// GEEP terms per county, when the 环境 sheet was given.
    pub geep: Option<&'a std::collections::BTreeMap<String, crate::account::geep::Terms>>,
    /// The equivalent-factor account (separate from GEP).
    pub esv: Option<&'a crate::esv::Esv>,
    /// The carbon-stock account, when the set has carbon densities.
    pub carbon_stock: Option<&'a crate::carbon_stock::CarbonStock>,
    /// The extent account, when `--previous` gave the previous land cover.
    pub extent: Option<&'a crate::extent::Extent>,
    /// Monte Carlo bands of every unit's GEP (`gep run --uncertainty N`), shown on 汇总.
    pub bands: Option<&'a crate::sensitivity::Bands>,
    /// Budget (yuan) and its allocation, when `--budget` was given.
    pub transfer: Option<&'a (i64, Vec<crate::transfer::Allocation>)>,
}

/// Money unit of the book's value cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Money {
    /// 万元 (10k yuan), the default.
    #[default]
    Wan,
    /// 元 (yuan).
    Yuan,
}

/// Language of the book's labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Lang {
    /// Chinese labels (default).
    #[default]
    Zh,
    /// English labels.
    En,
}

/// Sheet names in the book's language (formulas refer to them).
struct Names {
    about: &'static str,
    summary: &'static str,
    charts: &'static str,
    physical: &'static str,
    value: &'static str,
    lines: &'static str,
    change: &'static str,
    transfer: &'static str,
    esv: &'static str,
    geep: &'static str,
    carbon_stock: &'static str,
    extent: &'static str,
    coefficients: &'static str,
    checks: &'static str,
}

fn names(en: bool) -> Names {
    if en {
        Names {
            about: "About",
            summary: "Summary",
            charts: "Charts",
            physical: "Physical",
            value: "Value",
            lines: "Lines",
            change: "Change",
            transfer: "Transfer",
            esv: "ESV",
            geep: "GEEP",
            carbon_stock: "Carbon stock",
            extent: "Extent",
            coefficients: "Coefficients",
            checks: "Checks",
        }
    } else {
        Names {
            about: "说明",
            summary: "汇总",
            charts: "图表",
            physical: "实物量",
            value: "价值量",
            lines: "明细",
            change: "变化",
            transfer: "转移支付",
            esv: "当量因子法",
            geep: "GEEP",
            carbon_stock: "碳储量",
            extent: "面积账户",
            coefficients: "系数",
            checks: "校验",
        }
    }
}

/// `zh` or `en` by the book's language.
fn tr<'a>(en: bool, zh: &'a str, english: &'a str) -> &'a str {
    if en { english } else { zh }
}

/// A bilingual label `中文 English`: whole in the Chinese book, its English part in the English
/// book (the text from the first ASCII letter after which no Chinese follows).
fn bi(en: bool, label: &str) -> &str {
    if !en {
        return label;
    }
    let is_cjk = |c: char| matches!(c, '\u{3000}'..='\u{303f}' | '\u{4e00}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}');
    let last_cjk = label
        .char_indices()
        .rev()
        .find(|(_, c)| is_cjk(*c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    label[last_cjk..].trim_start()
}

fn ind_label(ind: &crate::account::Service, en: bool) -> &'static str {
    if en { ind.label_en } else { ind.label_zh }
}

fn cat_label(c: Category, en: bool) -> &'static str {
    if en {
        match c {
            Category::Provisioning => "Provisioning",
            Category::Regulating => "Regulating",
            Category::Cultural => "Cultural",
        }
    } else {
        c.label_zh()
    }
}

struct Styles {
    en: bool,
    /// The run's `--only` scope (its total row is not the province's).
    scoped: bool,
    /// The accounts cover several provinces (province subtotals, a national total).
    national: bool,
    /// Yuan per displayed money unit: 1e4 for 万元 (default), 1 for 元.
    wan: f64,
    /// Width of a money column: values in 元 are four digits longer than in 万元.
    money_width: f64,
    names: Names,
    title: Format,
    header: Format,
    label: Format,
    text: Format,
    money: Format,
    money_bold: Format,
    quantity: Format,
    quantity_bold: Format,
    /// A county quantity given by the 实物量 sheet (a model result), not estimated by rates.
    quantity_given: Format,
    ratio: Format,
    bold: Format,
    note: Format,
}

impl Styles {
    fn new(lang: Lang, money: Money) -> Self {
        let fill = Color::RGB(0xDDEBF7);
        let subtotal = Color::RGB(0xF2F2F2);
        let en = lang == Lang::En;
        Styles {
            en,
            scoped: false,
            national: false,
            wan: if money == Money::Yuan { 1.0 } else { 1e4 },
            money_width: if money == Money::Yuan { 22.0 } else { 16.0 },
            names: names(en),
            title: Format::new().set_bold().set_font_size(14),
            header: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(fill)
                .set_border(FormatBorder::Thin),
            label: Format::new().set_bold(),
            text: Format::new(),
            money: Format::new().set_num_format("#,##0.00"),
            money_bold: Format::new()
                .set_num_format("#,##0.00")
                .set_bold()
                .set_background_color(subtotal),
            quantity: Format::new().set_num_format("#,##0.00"),
            quantity_bold: Format::new()
                .set_num_format("#,##0.00")
                .set_bold()
                .set_background_color(subtotal),
            quantity_given: Format::new()
                .set_num_format("#,##0.00")
                .set_background_color(Color::RGB(0xFCE4D6)),
            ratio: Format::new().set_num_format("0.000"),
            bold: Format::new().set_bold().set_background_color(subtotal),
            note: Format::new()
                .set_italic()
                .set_font_color(Color::RGB(0x595959)),
        }
    }
}

/// Writes the book to `path` atomically.
///
/// # Errors
/// [`Error::Book`] when rust_xlsxwriter fails; [`Error::Io`] when the file cannot be placed.
pub fn write(path: &Path, ctx: &BookContext<'_>) -> Result<()> {
    crate::files::commit(vec![stage(path, ctx)?])
}

/// Builds the book and stages it beside `path` for [`crate::files::commit`].
///
/// # Errors
/// [`Error::Book`] when rust_xlsxwriter fails; [`Error::Io`] when the temporary file cannot be written.
pub fn stage(path: &Path, ctx: &BookContext<'_>) -> Result<crate::files::Staged> {
    let book_error = |source| Error::Book {
        path: path.to_path_buf(),
        source,
    };
    let mut wb = crate::timed_part("  book: sheets", || workbook(ctx)).map_err(book_error)?;
    crate::progress::stage("book: compressing");
    let save_start = std::time::Instant::now();
    // Zipped straight into the temporary file: the finished book is never held in memory.
    let mut failure = None;
    let staged = crate::files::stage(path, |f| {
        // The zip writer hands over a few kilobytes at a time: buffered, a national book is
        // written in hundreds of system calls instead of tens of thousands.
        let mut buffered = std::io::BufWriter::with_capacity(1 << 20, f);
        wb.save_to_writer(&mut buffered)
            .map_err(|e| {
                let message = e.to_string();
                failure = Some(e);
                std::io::Error::other(message)
            })
            .and_then(|()| std::io::Write::flush(&mut buffered))
    });
    crate::timed_part_end("  book: save (compress)", save_start);
    // The sheets' cells are freed off the critical path (a national book holds millions).
    crate::drop_in_background(wb);
    match (staged, failure) {
        (Err(_), Some(e)) => Err(book_error(e)),
        (staged, _) => staged,
    }
}

/// The book's sheets, ready to be saved.
fn workbook(ctx: &BookContext<'_>) -> std::result::Result<Workbook, XlsxError> {
    let mut s = Styles::new(ctx.lang, ctx.money);
    s.scoped = ctx.accounts.scope.is_some();
    s.national = ctx.accounts.national();
    let n = names(s.en);
    let mut wb = Workbook::new();
    let mut props = DocProperties::new()
        .set_title(format!(
            "{} {}年 GEP 核算账户",
            region_name(ctx),
            ctx.accounts.year
        ))
        .set_subject("生态产品总值 (GEP) 核算")
        .set_company("gep")
        .set_comment(format!(
            "gep {}; coefficient set {} {}",
            crate::VERSION,
            ctx.coef.manifest.name,
            ctx.coef.manifest.version
        ))
        .set_custom_property("gep_version", crate::VERSION)
        .set_custom_property(
            "coefficient_set",
            format!("{} {}", ctx.coef.manifest.name, ctx.coef.manifest.version),
        )
        .set_custom_property("coefficient_set_sha256", ctx.coef.set_sha256.as_str());
    for (i, f) in ctx.inputs.files.iter().enumerate() {
        props = props.set_custom_property(format!("input_{}_sha256", i + 1), f.sha256.as_str());
    }
    if let Some(epoch) = crate::clock::source_date_epoch() {
        let (y, m, d) = crate::clock::civil_date(epoch);
        props = props.set_creation_datetime(&rust_xlsxwriter::ExcelDateTime::from_ymd(
            y as u16, m as u8, d as u8,
        )?);
    }
    wb.set_properties(&props);
    let sheet = |name: &str, write: &dyn Fn(&mut Worksheet) -> SheetResult| {
        let mut ws = Worksheet::new();
        ws.set_name(name)?;
        write(&mut ws)?;
        Ok::<_, XlsxError>(ws)
    };
    if ctx.inputs.esv_only {
        // An equivalent-factor study: no GEP sheet (not a book of zeros).
        let mut sheets = vec![sheet(n.about, &|ws| about(ws, ctx, &s))?];
        if let Some(esv) = ctx.esv {
            sheets.push(sheet(n.esv, &|ws| esv_sheet(ws, ctx, esv, &s))?);
        }
        if let Some(stock) = ctx.carbon_stock {
            sheets.push(sheet(n.carbon_stock, &|ws| {
                carbon_stock_sheet(ws, ctx, stock, &s)
            })?);
        }
        sheets.push(sheet(n.coefficients, &|ws| coefficients(ws, ctx, &s))?);
        sheets.push(sheet(n.checks, &|ws| checks(ws, ctx, &s))?);
        for ws in sheets {
            wb.push_worksheet(ws);
        }
        return Ok(wb);
    }
    // 明细 holds most of the cells (about 76 rows a county): written row by row in constant
    // memory mode, so a national book does not hold them all in memory. Its sheets are written
    // on one core while the other sheets are written on the other (each sheet is independent
    // until the book is saved; they are put in book order afterwards).
    let keys: Vec<&str> = ctx.accounts.indicators.iter().map(|i| i.key).collect();
    let LinesOrder { order, positions } = lines_order(&ctx.accounts.lines, &keys);
    crate::progress::steps(order.len() as u64);
    let plan = lines_sheets(ctx, &s);
    let mut detail = plan
        .iter()
        .map(|_| wb.new_worksheet_with_constant_memory())
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let other_sheets = || -> std::result::Result<(Vec<Worksheet>, Vec<Worksheet>), XlsxError> {
        let before = vec![
            sheet(n.about, &|ws| about(ws, ctx, &s))?,
            sheet(n.summary, &|ws| summary(ws, ctx, &s))?,
            sheet(n.charts, &|ws| charts(ws, ctx, &s))?,
            sheet(n.physical, &|ws| physical(ws, ctx, &s))?,
            sheet(n.value, &|ws| value(ws, ctx, &s))?,
        ];
        let mut after = Vec::new();
        if let Some(change) = ctx.change {
            after.push(sheet(n.change, &|ws| change_sheet(ws, ctx, change, &s))?);
        }
        if let Some(geep) = ctx.geep {
            after.push(sheet(n.geep, &|ws| geep_sheet(ws, ctx, geep, &s))?);
        }
        if let Some(esv) = ctx.esv {
            after.push(sheet(n.esv, &|ws| esv_sheet(ws, ctx, esv, &s))?);
        }
        if let Some(extent) = ctx.extent {
            after.push(sheet(n.extent, &|ws| extent_sheet(ws, ctx, extent, &s))?);
        }
        if let Some(stock) = ctx.carbon_stock {
            after.push(sheet(n.carbon_stock, &|ws| {
                carbon_stock_sheet(ws, ctx, stock, &s)
            })?);
        }
        if let Some(transfer) = ctx.transfer {
            after.push(sheet(n.transfer, &|ws| {
                transfer_sheet(ws, ctx, transfer, &s)
            })?);
        }
        after.push(sheet(n.coefficients, &|ws| coefficients(ws, ctx, &s))?);
        after.push(sheet(n.checks, &|ws| checks(ws, ctx, &s))?);
        Ok((before, after))
    };
    let detail_sheets = || {
        use rayon::prelude::*;
        detail
            .par_iter_mut()
            .zip(plan.par_iter())
            .try_for_each(|(ws, (name, first, count))| {
                ws.set_name(name)?;
                lines(ws, ctx, &s, &order[*first..*first + *count], &positions)
            })
    };
    let (others, written) = rayon::join(
        || crate::timed_part("    book: other sheets", other_sheets),
        || crate::timed_part("    book: 明细 sheets", detail_sheets),
    );
    let (before, after) = others?;
    written?;
    for ws in before.into_iter().chain(detail).chain(after) {
        wb.push_worksheet(ws);
    }
    Ok(wb)
}

type SheetResult = std::result::Result<(), XlsxError>;

/// A label in the book's money unit: 万元 → 元 (10k yuan → yuan) when values are in yuan.
fn money_text(text: &str, s: &Styles) -> String {
    if s.wan == 1.0 {
        text.replace("万元", "元").replace("10k yuan", "yuan")
    } else {
        text.to_string()
    }
}

/// Writes a header row and freezes the panes below it and right of `frozen_cols`.
fn header_row(
    ws: &mut Worksheet,
    row: u32,
    headers: &[String],
    frozen_cols: u16,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(row, c as u16, money_text(h, s), &s.header)?;
    }
    ws.set_row_height(row, 45)?;
    ws.set_freeze_panes(row + 1, frozen_cols)?;
    if !headers.is_empty() {
        ws.autofilter(row, 0, row, headers.len() as u16 - 1)?;
    }
    Ok(())
}

/// Page setup of a sheet: A4 landscape, fitted to one page wide, the header row repeated on
/// every page (when there is one table), the sheet name and title in the page header and page
/// numbers in the footer.
fn print_setup(
    ws: &mut Worksheet,
    title: &str,
    header_row: u32,
) -> std::result::Result<(), XlsxError> {
    print_setup_plain(ws, title)?;
    ws.set_repeat_rows(header_row, header_row)?;
    Ok(())
}

/// [`print_setup`] without repeated rows (sheets of several tables).
fn print_setup_plain(ws: &mut Worksheet, title: &str) -> std::result::Result<(), XlsxError> {
    ws.set_landscape();
    ws.set_paper_size(9); // A4
    ws.set_print_fit_to_pages(1, 0);
    ws.set_header(format!("&L&A&C{}", title.replace('&', "&&")));
    ws.set_footer("&C&P / &N");
    Ok(())
}

/// The level column's label. `national`: the accounts cover several provinces, so province rows
/// are subtotals under a national total.
fn level_label(level: Level, en: bool, scoped: bool, national: bool) -> &'static str {
    match (level, en) {
        (Level::County, false) => "县(市、区)",
        (Level::County, true) => "County",
        (Level::Prefecture, false) => "市小计",
        (Level::Prefecture, true) => "Prefecture subtotal",
        (Level::Province, false) if national => "省小计",
        (Level::Province, true) if national => "Province subtotal",
        (Level::Province | Level::National, false) if scoped => "范围合计",
        (Level::Province | Level::National, true) if scoped => "Total (--only)",
        (Level::Province, false) => "全省合计",
        (Level::Province, true) => "Province total",
        (Level::National, false) => "全国合计",
        (Level::National, true) => "National total",
    }
}

/// The region a book covers: the province, or the `--only` scope with the flag that made it.
fn region_name(ctx: &BookContext<'_>) -> String {
    match &ctx.accounts.scope {
        None => ctx.coef.manifest.province.clone(),
        Some(scope) => format!("{scope} (--only {})", ctx.inputs.scope.only.join(",")),
    }
}

fn about(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    let m = &ctx.coef.manifest;
    ws.write_string_with_format(
        0,
        0,
        money_text(
            &if ctx.inputs.esv_only {
                if s.en {
                    format!(
                        "{} {}: equivalent-factor ecosystem service value (ESV) account — no GEP",
                        region_name(ctx),
                        ctx.accounts.year
                    )
                } else {
                    format!(
                        "{}{}年 当量因子法生态系统服务价值(ESV)核算账户（不含 GEP）",
                        region_name(ctx),
                        ctx.accounts.year
                    )
                }
            } else if s.en {
                format!(
                    "{} {}: gross ecosystem product (GEP) accounts",
                    region_name(ctx),
                    ctx.accounts.year
                )
            } else {
                format!(
                    "{}{}年 生态产品总值(GEP)核算账户",
                    region_name(ctx),
                    ctx.accounts.year
                )
            },
            s,
        ),
        &s.title,
    )?;
    let demo = ctx
        .inputs
        .files
        .iter()
        .any(|f| f.path.starts_with("built-in demo"));
    let mut r = 2;
    if demo {
        ws.write_string_with_format(r, 0, tr(s.en, "注意", "Note"), &s.label)?;
        ws.write_string_with_format(
            r,
            1,
            tr(
                s.en,
                "本账户使用内置演示数据：各县数值为合成数据（SYNTHETIC），仅按公开的全省总量校准，不是官方统计，不得用于决策。",
                "This book uses the built-in demo workbook: every county value is SYNTHETIC, calibrated to published province totals only; not official statistics, not for decisions.",
            ),
            &Format::new().set_bold().set_font_color(Color::Red),
        )?;
        r += 2;
    }
    let facts: Vec<(&str, String)> = vec![
        ("核算年份 Year", ctx.accounts.year.to_string()),
        (
            "范围 Region",
            match &ctx.accounts.scope {
                None if s.en => format!(
                    "{} ({} county-level units)",
                    m.province,
                    ctx.accounts.level(Level::County).count()
                ),
                None => format!(
                    "{} ({} 个县级单位)",
                    m.province,
                    ctx.accounts.level(Level::County).count()
                ),
                Some(scope) if s.en => format!(
                    "{scope} (part of {}: --only {}; {} county-level units; the total row is this scope's, not the province's)",
                    m.province,
                    ctx.inputs.scope.only.join(","),
                    ctx.accounts.level(Level::County).count()
                ),
                Some(scope) => format!(
                    "{scope}（{} 的一部分：--only {}；{} 个县级单位；合计行为该范围合计，不是全省）",
                    m.province,
                    ctx.inputs.scope.only.join(","),
                    ctx.accounts.level(Level::County).count()
                ),
            },
        ),
        (
            "系数集 Coefficient set",
            format!(
                "{} — {} ({} {}){}",
                m.name,
                m.title,
                tr(s.en, "版本", "version"),
                m.version,
                m.derived_from
                    .as_ref()
                    .map_or_else(String::new, |origin| format!(
                        "; {} {origin}{}",
                        tr(s.en, "由以下版本修改：", "derived from"),
                        m.edited
                            .as_ref()
                            .map_or_else(String::new, |d| format!(", {d}"))
                    ))
            ),
        ),
        ("系数集来源 Origin", ctx.coef.origin()),
        ("系数集 SHA-256", ctx.coef.set_sha256.clone()),
        (
            "系数文件改动 Modified",
            if ctx.coef.modified_files.is_empty() {
                tr(
                    s.en,
                    "无 (与 manifest.toml 一致)",
                    "none (as in manifest.toml)",
                )
                .to_string()
            } else {
                format!(
                    "modified since version {}: {}",
                    m.version,
                    ctx.coef.modified_files.join(", ")
                )
            },
        ),
        (
            "价格基准年 Price base year",
            format!(
                "{} ({})",
                m.price_base_year,
                tr(
                    s.en,
                    "各价格按其来源年份使用，未做指数调整；见「系数」",
                    "each price is used at its source year, not indexed; see Coefficients"
                )
            ),
        ),
        (
            "物质产品口径 Provisioning basis",
            m.switches.provisioning_basis.clone(),
        ),
        (
            "计入释氧 Oxygen included",
            m.switches.include_oxygen.to_string(),
        ),
        (
            "净化量上限 Purification cap",
            match m.switches.purification_cap.as_str() {
                "emissions" => tr(
                    s.en,
                    "emissions（净化能力以环境表排放量为上限）",
                    "emissions (capacity capped at the emissions of the 环境 sheet)",
                )
                .to_string(),
                other => format!(
                    "{other}{}",
                    tr(
                        s.en,
                        "（面积 × 单位面积净化能力，不设上限）",
                        " (area × capacity per ha, no cap)"
                    )
                ),
            },
        ),
        (
            "固碳释氧路径 Carbon route",
            match m.switches.carbon_route.as_str() {
                "dry_matter" => tr(
                    s.en,
                    "dry_matter（CO₂ = 1.63 × 干物质，O₂ = 1.19 × 干物质）",
                    "dry_matter (CO₂ = 1.63 × dry matter, O₂ = 1.19 × dry matter)",
                )
                .to_string(),
                other => format!("{other} (CO₂ = C × 44/12, O₂ = C × 32/12)"),
            },
        ),
        (
            "休闲旅游口径 Recreation basis",
            match m.switches.recreation_basis.as_str() {
                "travel_cost" => tr(
                    s.en,
                    "travel_cost（游客人次 × 单次旅行费用）",
                    "travel_cost (visits × travel cost per visit)",
                )
                .to_string(),
                other => format!(
                    "{other}{}",
                    tr(s.en, "（旅游总收入）", " (tourism revenue)")
                ),
            },
        ),
        (
            "水面蒸发除以能效比 Water surface ÷ AC efficiency",
            m.switches
                .water_surface_divided_by_ac_efficiency
                .to_string(),
        ),
        ("引擎版本 Engine", format!("gep {}", crate::VERSION)),
        ("命令 Command", ctx.request.command_line.clone()),
        ("生成日期 Date", crate::clock::today()),
    ];
    for (k, v) in &facts {
        ws.write_string_with_format(r, 0, bi(s.en, k), &s.label)?;
        ws.write_string(r, 1, v)?;
        r += 1;
    }
    r += 1;
    if ctx.inputs.esv_only {
        ws.write_string_with_format(
            r,
            0,
            tr(
                s.en,
                "本账户为当量因子法（ESV）研究：输入只有土地利用（无森林资源、供水、经济社会表，或 --accounts esv），不核算 GEP 与 GEEP；ESV 见「当量因子法」表，不是 GEP。",
                "This book is an equivalent-factor (ESV) study: the inputs give land cover only (no forest-stock, water-supply or economy sheet, or --accounts esv), so GEP and GEEP are not computed; the ESV sheet is not GEP.",
            ),
            &s.label,
        )?;
        r += 2;
    } else {
        r = coverage_table(ws, r, ctx, s)?;
        r += 1;
    }
    ws.write_string_with_format(r, 0, bi(s.en, "输入文件 Input files"), &s.label)?;
    r += 1;
    let headers = ["文件 File", "路径 Path", "SHA-256", "字节 Bytes"];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(r, c as u16, bi(s.en, h), &s.header)?;
    }
    r += 1;
    for f in &ctx.inputs.files {
        ws.write_string(r, 0, &f.name)?;
        ws.write_string(r, 1, &f.path)?;
        ws.write_string(r, 2, &f.sha256)?;
        ws.write_number(r, 3, f.bytes as f64)?;
        r += 1;
    }
    r += 1;
    let guide_en = [
        "How to read this book",
        "• Summary: each county's GEP and its three categories (provisioning, regulating, cultural), prefecture subtotals and the total; money in 10k yuan.",
        "• Physical / Value: county × indicator quantities (units in the headers) and values (10k yuan); subtotal and total rows equal the sum of the counties below them.",
        "• Lines: where every number comes from: input cell (file [sheet!cell]), coefficient (file, key, grade), formula, quantity, price, value.",
        "• Coefficients: the prices, per-hectare rates and forest-type parameters used, with source and grade (V verified, V2 secondary, V-low low confidence, D derived, U unverified placeholder).",
        "• Checks: warnings found while reading, auditing and valuing (grouped by kind), and the identities that passed.",
        "• Formulas and sources: docs/methodology.md. GEP = provisioning + regulating + cultural services.",
    ];
    let guide_zh = [
        "如何阅读 How to read this book",
        "• 汇总：各县 GEP 及三大类（物质产品、调节服务、文化服务），市小计与全省合计；金额单位万元。",
        "• 实物量 / 价值量：县 × 指标的实物量（单位见表头）与价值量（万元）；小计与合计行等于其下各县之和。",
        "• 明细：每一个数的来源——输入单元格（文件 [工作表!单元格]）、系数（文件、键、来源等级）、公式、实物量、价格、价值。",
        "• 系数：本次实际使用的价格、单位面积服务量、树种参数及其来源与可信度（V 已核实, V2 二手, V-low 低可信, D 推算, U 未核实占位）。",
        "• 校验：读取与核算时发现的警告（小计不符、按 0 计的空值、面积差异等）和已通过的恒等式。",
        "• 公式与来源：docs/methodology.md。GEP = 物质产品 + 调节服务 + 文化服务。",
    ];
    let guide = if s.en { guide_en } else { guide_zh };
    // An ESV study has no 汇总, 实物量, 价值量 or 明细 sheet and no GEP.
    let skipped: &[usize] = if ctx.inputs.esv_only {
        &[1, 2, 3, 6]
    } else {
        &[]
    };
    for (i, line) in guide.iter().enumerate() {
        if skipped.contains(&i) {
            continue;
        }
        ws.write_string_with_format(r, 0, *line, if i == 0 { &s.label } else { &s.text })?;
        r += 1;
    }
    ws.set_column_width(0, 28)?;
    ws.set_column_width(1, 70)?;
    ws.set_column_width(2, 66)?;
    ws.set_column_width(3, 12)?;
    ws.set_column_width(4, 70)?;
    print_setup(ws, tr(s.en, "说明", "About"), 0)?;
    Ok(())
}

/// The coverage table on 说明: each indicator, valued or not (and why), its method and the worst
/// evidence grade among the coefficients and prices of its lines. Returns the next free row.
fn coverage_table(
    ws: &mut Worksheet,
    mut r: u32,
    ctx: &BookContext<'_>,
    s: &Styles,
) -> std::result::Result<u32, XlsxError> {
    let acc = ctx.accounts;
    ws.write_string_with_format(r, 0, tr(s.en, "核算范围 Coverage", "Coverage"), &s.label)?;
    r += 1;
    let headers = if s.en {
        [
            "Indicator",
            "Valued",
            "Method",
            "Worst grade",
            "Not valued because",
        ]
    } else {
        ["指标", "已核算", "方法", "最低来源等级", "未核算原因"]
    };
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(r, c as u16, *h, &s.header)?;
    }
    r += 1;
    let rank = |g: &str| crate::coefficients::STATUSES.iter().position(|x| *x == g);
    for (k, ind) in acc.indicators.iter().enumerate() {
        let cov = &acc.coverage[k];
        let mut first_method = String::new();
        let mut worst: Option<&str> = None;
        for line in acc.lines.iter().filter(|l| l.indicator == ind.key) {
            if first_method.is_empty() {
                first_method = line.method.to_string();
            }
            // Grades in the coefficient reference ("… [V2]") and of the price used.
            let mut grades: Vec<&str> = line
                .coefficient_ref
                .split('[')
                .skip(1)
                .filter_map(|t| t.split(']').next())
                .filter(|g| rank(g).is_some())
                .collect();
            if let Some(p) = ctx.coef.prices.get(&*line.price_key) {
                grades.push(p.status.as_str());
            }
            for g in grades {
                if worst.is_none_or(|w| rank(g) > rank(w)) {
                    worst = Some(crate::coefficients::STATUSES[rank(g).unwrap_or(0)]);
                }
            }
        }
        ws.write_string(r, 0, ind_label(ind, s.en))?;
        ws.write_string(
            r,
            1,
            match (cov.valued, s.en) {
                (true, false) => "是",
                (false, false) => "未核算",
                (true, true) => "yes",
                (false, true) => "not valued",
            },
        )?;
        ws.write_string(r, 2, &first_method)?;
        ws.write_string(r, 3, worst.unwrap_or("—"))?;
        ws.write_string(r, 4, if s.en { &cov.reason_en } else { &cov.reason_zh })?;
        r += 1;
    }
    Ok(r)
}

fn money_format<'a>(row: &AccountRow, s: &'a Styles) -> &'a Format {
    if row.level == Level::County {
        &s.money
    } else {
        &s.money_bold
    }
}

fn write_row_labels(
    ws: &mut Worksheet,
    r: u32,
    row: &AccountRow,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    let f = if row.level == Level::County {
        &s.text
    } else {
        &s.bold
    };
    ws.write_string_with_format(r, 0, &row.code, f)?;
    ws.write_string_with_format(r, 1, &row.name, f)?;
    ws.write_string_with_format(r, 2, &row.prefecture, f)?;
    ws.write_string_with_format(r, 3, level_label(row.level, s.en, s.scoped, s.national), f)?;
    Ok(())
}

fn labels(en: bool) -> Vec<String> {
    let l: [&str; 4] = if en {
        ["Code", "Name", "Prefecture", "Level"]
    } else {
        ["区划代码", "名称", "所属市", "级别"]
    };
    l.iter().map(|x| (*x).to_string()).collect()
}

/// First data row (0-based) of the account sheets; the rows of 汇总, 实物量 and 价值量 line up.
const FIRST_ROW: u32 = 3;

/// `'sheet'!A1`-style reference.
fn cell(sheet: &str, row: u32, col: u16) -> String {
    format!("'{sheet}'!{}", crate::error::a1(row, col))
}

fn col_letter(col: u16) -> String {
    rust_xlsxwriter::utility::column_number_to_name(col)
}

/// Writes a formula with its computed result cached (calamine and scripts read the cache;
/// Excel and LibreOffice recalculate and must agree).
fn formula(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    text: &str,
    result: f64,
    f: &Format,
) -> std::result::Result<(), XlsxError> {
    ws.write_formula_with_format(row, col, cached(text, result), f)?;
    Ok(())
}

fn format_result(v: f64) -> String {
    // Shortest text that reads back as the same f64 (ryu: a third of the time of `{v:?}`,
    // which the 明细 sheet pays for every formula).
    if v.is_finite() {
        ryu::Buffer::new().format_finite(v).to_string()
    } else {
        format!("{v:?}")
    }
}

/// Rows of the account sheets: the formula of a subtotal or total cell in column `c`.
fn total_formula(acc: &Accounts, row_index: usize, c: u16, en: bool) -> Option<String> {
    let row = &acc.rows[row_index];
    let letter = col_letter(c);
    let excel = |i: usize| FIRST_ROW + i as u32 + 1;
    match row.level {
        Level::County => None,
        Level::Prefecture => {
            let first = acc.rows[..row_index]
                .iter()
                .rposition(|r| r.level != Level::County)
                .map_or(0, |p| p + 1);
            Some(format!(
                "=SUM({letter}{}:{letter}{})",
                excel(first),
                excel(row_index - 1)
            ))
        }
        // A province sums the prefecture subtotals of its block (the rows since the previous
        // province row); the national total sums the province subtotals.
        Level::Province => {
            let national = acc.national();
            let first = acc.rows[..row_index]
                .iter()
                .rposition(|r| r.level == Level::Province)
                .map_or(0, |p| p + 1);
            let (first, last) = (excel(first), excel(row_index - 1));
            Some(format!(
                "=SUMIF($D${first}:$D${last},\"{}\",{letter}{first}:{letter}{last})",
                level_label(Level::Prefecture, en, false, national),
            ))
        }
        Level::National => {
            let (first, last) = (excel(0), excel(row_index - 1));
            Some(format!(
                "=SUMIF($D${first}:$D${last},\"{}\",{letter}{first}:{letter}{last})",
                level_label(Level::Province, en, false, true),
            ))
        }
    }
}

fn summary(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    let acc = ctx.accounts;
    ws.write_string_with_format(
        0,
        0,
        money_text(
            &if s.en {
                format!("GEP summary {} {} (10k yuan)", region_name(ctx), acc.year)
            } else {
                format!("{}{}年 GEP 汇总（万元）", region_name(ctx), acc.year)
            },
            s,
        ),
        &s.title,
    )?;
    let mut headers = labels(s.en);
    for c in Category::ALL {
        headers.push(format!(
            "{}\n({})",
            cat_label(c, s.en),
            tr(s.en, "万元", "10k yuan")
        ));
    }
    let more: [&str; 8] = if s.en {
        [
            "GEP\n(10k yuan)",
            "GDP\n(10k yuan)",
            "GEP/GDP",
            "Land area\n(km²)",
            "GEP per km²\n(10k yuan/km²)",
            "Population\n(10k persons)",
            "GEP per capita\n(yuan/person)",
            "GEP rank\n(counties)",
        ]
    } else {
        [
            "GEP\n(万元)",
            "GDP\n(万元)",
            "GEP/GDP",
            "土地面积\n(km²)",
            "单位面积 GEP\n(万元/km²)",
            "常住人口\n(万人)",
            "人均 GEP\n(元/人)",
            "GEP 排名\n(县)",
        ]
    };
    headers.extend(more.iter().map(|x| (*x).to_string()));
    if ctx.geep.is_some() {
        headers.push(tr(s.en, "GEEP\n(万元)", "GEEP\n(10k yuan)").into());
    }
    // The uncertainty band beside GEP (Monte Carlo, `--uncertainty`).
    let band_col = headers.len() as u16;
    if ctx.bands.is_some() {
        headers.push(tr(s.en, "GEP P5\n(万元)", "GEP P5\n(10k yuan)").into());
        headers.push(tr(s.en, "GEP P95\n(万元)", "GEP P95\n(10k yuan)").into());
    }
    header_row(ws, FIRST_ROW - 1, &headers, 2, s)?;
    let mut ranked: Vec<(&str, f64)> = acc
        .level(Level::County)
        .map(|r| (r.code.as_str(), r.gep_cny))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let rank_of: std::collections::HashMap<&str, usize> = ranked
        .iter()
        .enumerate()
        .map(|(i, (c, _))| (*c, i + 1))
        .collect();
    for (i, (r, row)) in (FIRST_ROW..).zip(&acc.rows).enumerate() {
        let n = r + 1;
        write_row_labels(ws, r, row, s)?;
        let f = money_format(row, s);
        // Categories: the 价值量 cells of the indicators of each category.
        for (k, category) in Category::ALL.iter().enumerate() {
            let cells: Vec<String> = acc
                .indicators
                .iter()
                .enumerate()
                .filter(|(_, ind)| ind.category == *category)
                .map(|(j, _)| cell(s.names.value, r, 4 + j as u16))
                .collect();
            let v = row.category_cny[k] / s.wan;
            if cells.is_empty() {
                ws.write_number_with_format(r, 4 + k as u16, v, f)?;
            } else {
                formula(ws, r, 4 + k as u16, &format!("={}", cells.join("+")), v, f)?;
            }
        }
        formula(
            ws,
            r,
            7,
            &format!("=SUM(E{n}:G{n})"),
            row.gep_cny / s.wan,
            f,
        )?;
        ws.write_number_with_format(r, 8, row.gdp_cny / s.wan, f)?;
        if row.gdp_cny > 0.0 {
            formula(
                ws,
                r,
                9,
                &format!("=H{n}/I{n}"),
                row.gep_cny / row.gdp_cny,
                &s.ratio,
            )?;
        }
        match row.area_km2.filter(|a| *a > 0.0) {
            Some(a) => {
                ws.write_number_with_format(r, 10, a, f)?;
                formula(
                    ws,
                    r,
                    11,
                    &format!("=H{n}/K{n}"),
                    row.gep_cny / s.wan / a,
                    f,
                )?;
            }
            None => {
                ws.write_string(r, 10, "—")?;
                ws.write_string(r, 11, "—")?;
            }
        }
        // No population given (a GEEP study need not give it): blank, never 0.
        if row.population > 0.0 {
            ws.write_number_with_format(r, 12, row.population / s.wan, f)?;
        }
        if row.population > 0.0 {
            formula(
                ws,
                r,
                13,
                &format!("=H{n}/M{n}"),
                row.gep_cny / row.population,
                f,
            )?;
        }
        if let Some(rank) = rank_of
            .get(row.code.as_str())
            .filter(|_| row.level == Level::County)
        {
            ws.write_number(r, 14, *rank as f64)?;
        }
        if let (Some(geep), Some(settings)) = (ctx.geep, &ctx.coef.geep) {
            let members: Vec<&str> = acc.members(row);
            let v: f64 = members
                .iter()
                .filter_map(|m| geep.get(*m))
                .map(|t| t.geep(settings.deduct_resource_depletion))
                .sum();
            formula(
                ws,
                r,
                15,
                &format!("={}", cell(s.names.geep, r, 9)),
                v / s.wan,
                f,
            )?;
        }
        if let Some(band) = ctx.bands.and_then(|b| {
            b.units
                .iter()
                .find(|u| u.code == row.code && u.level == row.level.key())
        }) {
            let f = money_format(row, s);
            ws.write_number_with_format(r, band_col, band.p5_cny / s.wan, f)?;
            ws.write_number_with_format(r, band_col + 1, band.p95_cny / s.wan, f)?;
        }
        let _ = i;
    }
    let note_row = FIRST_ROW + acc.rows.len() as u32 + 1;
    let notes_en = [
        "How to read: GEP (gross ecosystem product) = provisioning + regulating + cultural services; each category = the sum of its indicators on the Value sheet (cells are formulas: click to trace).",
        "Prefecture subtotal = sum of its counties, total = sum of the prefecture subtotals; land area from regions.csv where published, else this workbook's land-cover total; rank by county GEP, highest first.",
        "The input cells, coefficients and formula behind each indicator are on Lines, coefficient sources on Coefficients, check results on Checks.",
    ];
    let notes_zh = [
        "如何阅读：GEP（生态产品总值）= 物质产品 + 调节服务 + 文化服务；各类 = 「价值量」表中该类各指标之和（单元格为公式，可点击追溯）。",
        "市小计 = 所辖县之和，全省合计 = 各市小计之和；土地面积取 regions.csv 的公开面积，未公开的取本表土地利用合计；排名按县 GEP 由高到低。",
        "每个指标的输入单元格、系数与公式见「明细」，系数来源见「系数」，核对结果见「校验」。",
    ];
    let notes = if s.en { notes_en } else { notes_zh };
    for (k, t) in notes.iter().enumerate() {
        ws.write_string_with_format(note_row + k as u32, 0, *t, &s.note)?;
    }
    // GEP is the sum of the indicators valued in this run; the others are named, not zeroed.
    let missing = not_valued_labels(acc, s.en);
    let coverage = match (missing.is_empty(), s.en) {
        (true, false) => "GEP 为全部指标之和（本次各指标均已核算）。".to_string(),
        (true, true) => "GEP is the sum of every indicator (all valued in this run).".to_string(),
        (false, false) => format!(
            "GEP 为已核算指标之和；未核算（不计入，表中留空而非 0；原因见「说明」）：{}。",
            missing.join("、")
        ),
        (false, true) => format!(
            "GEP is the sum of the indicators valued; not valued (left out, blank rather than 0; reasons on About): {}.",
            missing.join(", ")
        ),
    };
    ws.write_string_with_format(note_row + notes.len() as u32, 0, &coverage, &s.label)?;
    if let Some(b) = ctx.bands {
        let text = if s.en {
            format!(
                "GEP P5 and P95: Monte Carlo, {} draws (seed {}), {} coefficients each × an independent uniform factor in [1 − {r}, 1 + {r}] (or between their own low and high); not a confidence interval of the statistics.",
                b.draws,
                b.seed,
                b.coefficients,
                r = b.range
            )
        } else {
            format!(
                "GEP P5、P95：蒙特卡洛模拟 {} 次（种子 {}），{} 个系数各乘 [1 − {r}, 1 + {r}] 内独立均匀分布的因子（有 low/high 的取其区间）；仅反映系数不确定性，不含统计数据误差。",
                b.draws,
                b.seed,
                b.coefficients,
                r = b.range
            )
        };
        ws.write_string_with_format(note_row + notes.len() as u32 + 1, 0, &text, &s.note)?;
    }
    ws.insert_note(
        FIRST_ROW - 1,
        7,
        &Note::new(coverage.clone()).set_author("gep"),
    )?;
    widths(ws, &headers, s)?;
    print_setup(
        ws,
        &if s.en {
            format!("GEP summary {} {}", region_name(ctx), acc.year)
        } else {
            format!("{}{}年 GEP 汇总", region_name(ctx), acc.year)
        },
        FIRST_ROW - 1,
    )
}

fn widths(
    ws: &mut Worksheet,
    headers: &[String],
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    ws.set_column_width(0, 9)?;
    ws.set_column_width(1, 12)?;
    ws.set_column_width(2, 9)?;
    ws.set_column_width(3, 16)?;
    for c in 4..headers.len() as u16 {
        ws.set_column_width(c, s.money_width)?;
    }
    Ok(())
}

/// A ranking chart of 图表: the top `count` counties by `value` (linked to 汇总 `summary_col`).
struct Ranking {
    count: usize,
    summary_col: u16,
    value: RowValue,
    needs_area: bool,
    series: &'static str,
    header: String,
    unit: String,
    title: String,
    bar_px: u32,
}

/// Rows of the 图表 sheet's default height (20 px) that a chart of `height_px` covers.
fn chart_rows(height_px: u32) -> u32 {
    height_px.div_ceil(20) + 1
}

/// Where the 图表 sheet's data tables start: right of the printed charts (columns A:L).
const CHART_TABLE_COL: u16 = 13;
/// Width of the printed chart column block, px (columns A:L at 64 px).
const CHART_WIDTH_PX: u32 = 760;

/// 图表: native charts, one per printed page (page breaks between them; print area A:L), each
/// sized to its data with every category labelled: GEP composition by prefecture, the top 20
/// counties, the top 30 by GEP per km², every county's category composition (100 % stacked),
/// GEP against GDP. Their data tables, right of the print area (from column N), link the 汇总 cells.
fn charts(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    let acc = ctx.accounts;
    let sheet = s.names.charts;
    ws.write_string_with_format(
        0,
        0,
        money_text(
            &if s.en {
                format!("GEP charts {} (data linked to the Summary sheet)", acc.year)
            } else {
                format!("{}年 GEP 图表（数据引用「汇总」表）", acc.year)
            },
            s,
        ),
        &s.title,
    )?;
    let wan = money_text(tr(s.en, "万元", "10k yuan"), s);
    let t0 = CHART_TABLE_COL;
    let axis_format = "#,##0";
    let mut label_font = ChartFont::new();
    label_font.set_size(8);
    let mut at = 2u32; // next chart's top row
    let mut table_at = 2u32; // next data table's top row
    let mut breaks = Vec::new();
    // Places `chart` (height in px) at the next block; a page break before every block but the first.
    let mut place = |ws: &mut Worksheet,
                     chart: &mut Chart,
                     height: u32|
     -> std::result::Result<(), XlsxError> {
        chart.set_width(CHART_WIDTH_PX).set_height(height);
        if at > 2 {
            breaks.push(at);
        }
        ws.insert_chart(at, 0, chart)?;
        at += chart_rows(height);
        Ok(())
    };

    // 1. Prefectures × categories (stacked bars), summary columns E:G.
    let mut headers = vec![tr(s.en, "市", "Prefecture").to_string()];
    headers.extend(
        Category::ALL
            .iter()
            .map(|c| format!("{}({wan})", cat_label(*c, s.en))),
    );
    let prefectures: Vec<&AccountRow> = acc.level(Level::Prefecture).collect();
    let category_columns = || -> Vec<LinkedColumn> {
        (0..3u16)
            .map(|k| {
                (
                    4 + k,
                    Box::new(move |r: &AccountRow| r.category_cny[k as usize]) as RowValue,
                )
            })
            .collect()
    };
    let last = linked_table(
        ws,
        s,
        acc,
        table_at,
        t0,
        &headers,
        &prefectures,
        &category_columns(),
    )?;
    let mut chart = Chart::new(ChartType::BarStacked);
    for k in 0..3u16 {
        chart
            .add_series()
            .set_name((sheet, table_at, t0 + 1 + k))
            .set_categories((sheet, table_at + 1, t0, last, t0))
            .set_values((sheet, table_at + 1, t0 + 1 + k, last, t0 + 1 + k));
    }
    chart.title().set_name(&*money_text(
        tr(
            s.en,
            "各市 GEP 构成（万元）",
            "GEP by prefecture and category (10k yuan)",
        ),
        s,
    ));
    // Bar charts: the vertical category axis is rust_xlsxwriter's y axis, the values run along x.
    chart
        .y_axis()
        .set_label_interval(1)
        .set_reverse()
        .set_font(&label_font);
    chart.x_axis().set_num_format(axis_format).set_name(&*wan);
    place(ws, &mut chart, 140 + 30 * prefectures.len() as u32)?;
    table_at = last + 3;

    // 2. Top 20 counties by GEP (summary column H); 3. top 30 by GEP per km² (column L).
    let county = tr(s.en, "县(市、区)", "County").to_string();
    let per_km2 = |r: &AccountRow| r.gep_cny / r.area_km2.unwrap_or(1.0);
    let per_km2_unit = money_text(tr(s.en, "万元/km²", "10k yuan/km²"), s);
    let rankings: [Ranking; 2] = [
        Ranking {
            count: 20,
            summary_col: 7,
            value: Box::new(|r: &AccountRow| r.gep_cny),
            needs_area: false,
            series: "GEP",
            header: format!("GEP({wan})"),
            unit: wan.clone(),
            title: money_text(
                tr(
                    s.en,
                    "GEP 前 20 位的县（万元）",
                    "Top 20 counties by GEP (10k yuan)",
                ),
                s,
            ),
            bar_px: 24,
        },
        Ranking {
            count: 30,
            summary_col: 11,
            value: Box::new(per_km2),
            needs_area: true,
            series: tr(s.en, "单位面积 GEP", "GEP per km²"),
            header: format!("GEP/km²({per_km2_unit})"),
            unit: per_km2_unit.clone(),
            title: money_text(
                tr(
                    s.en,
                    "单位面积 GEP 前 30 位的县（万元/km²）",
                    "Top 30 counties by GEP per km² (10k yuan/km²)",
                ),
                s,
            ),
            bar_px: 20,
        },
    ];
    for ranking in rankings {
        let mut ranked: Vec<&AccountRow> = acc
            .level(Level::County)
            .filter(|r| !ranking.needs_area || r.area_km2.is_some_and(|a| a > 0.0))
            .collect();
        ranked.sort_by(|a, b| (ranking.value)(b).total_cmp(&(ranking.value)(a)));
        ranked.truncate(ranking.count);
        let column: Vec<LinkedColumn> = vec![(ranking.summary_col, ranking.value)];
        let last = linked_table(
            ws,
            s,
            acc,
            table_at,
            t0,
            &[county.clone(), ranking.header],
            &ranked,
            &column,
        )?;
        let mut chart = Chart::new(ChartType::Bar);
        chart
            .add_series()
            .set_name(ranking.series)
            .set_categories((sheet, table_at + 1, t0, last, t0))
            .set_values((sheet, table_at + 1, t0 + 1, last, t0 + 1));
        chart.title().set_name(&*ranking.title);
        // Bar charts: the vertical category axis is rust_xlsxwriter's y axis, values run along x.
        chart
            .y_axis()
            .set_label_interval(1)
            .set_reverse()
            .set_font(&label_font);
        chart
            .x_axis()
            .set_num_format(axis_format)
            .set_name(&*ranking.unit);
        chart.legend().set_hidden();
        place(ws, &mut chart, 120 + ranking.bar_px * ranked.len() as u32)?;
        table_at = last + 3;
    }

    // 4. Every county's category composition (100 % stacked), summary columns E:G, in two
    // charts (one page each) so that every county keeps a readable label.
    let all: Vec<&AccountRow> = acc.level(Level::County).collect();
    let mut headers = vec![county.clone()];
    headers.extend(
        Category::ALL
            .iter()
            .map(|c| format!("{}({wan})", cat_label(*c, s.en))),
    );
    let half = all.len().div_ceil(2).max(1);
    let parts: Vec<&[&AccountRow]> = all.chunks(half).collect();
    for (i, part) in parts.iter().enumerate() {
        let part_last = linked_table(
            ws,
            s,
            acc,
            table_at,
            t0,
            &headers,
            part,
            &category_columns(),
        )?;
        let mut chart = Chart::new(ChartType::BarPercentStacked);
        for k in 0..3u16 {
            chart
                .add_series()
                .set_name((sheet, table_at, t0 + 1 + k))
                .set_categories((sheet, table_at + 1, t0, part_last, t0))
                .set_values((sheet, table_at + 1, t0 + 1 + k, part_last, t0 + 1 + k))
                .set_gap(40);
        }
        let title = if s.en {
            format!(
                "GEP composition by county (share of each category), {}/{}",
                i + 1,
                parts.len()
            )
        } else {
            format!("各县 GEP 构成（三大类占比）{}/{}", i + 1, parts.len())
        };
        chart.title().set_name(&*title);
        chart
            .y_axis()
            .set_label_interval(1)
            .set_reverse()
            .set_font(&label_font);
        chart.x_axis().set_num_format("0%");
        chart.legend().set_position(ChartLegendPosition::Top);
        place(ws, &mut chart, 130 + 14 * part.len() as u32)?;
        table_at = part_last + 3;
    }

    // 5. Every county's GDP and GEP (summary columns I and H).
    let xy_columns: Vec<LinkedColumn> = vec![
        (8, Box::new(|r: &AccountRow| r.gdp_cny)),
        (7, Box::new(|r: &AccountRow| r.gep_cny)),
    ];
    let xy_last = linked_table(
        ws,
        s,
        acc,
        table_at,
        t0,
        &[county, format!("GDP({wan})"), format!("GEP({wan})")],
        &all,
        &xy_columns,
    )?;
    let mut chart = Chart::new(ChartType::Scatter);
    chart
        .add_series()
        .set_name(tr(s.en, "县(市、区)", "County"))
        .set_categories((sheet, table_at + 1, t0 + 1, xy_last, t0 + 1))
        .set_values((sheet, table_at + 1, t0 + 2, xy_last, t0 + 2));
    chart.title().set_name(&*money_text(
        tr(
            s.en,
            "各县 GEP 与 GDP（万元）",
            "GEP and GDP by county (10k yuan)",
        ),
        s,
    ));
    chart
        .x_axis()
        .set_num_format(axis_format)
        .set_name(&*format!("GDP（{wan}）"));
    chart
        .y_axis()
        .set_num_format(axis_format)
        .set_name(&*format!("GEP（{wan}）"));
    chart.legend().set_hidden();
    place(ws, &mut chart, 520)?;

    ws.set_page_breaks(&breaks)?;
    ws.set_column_width(t0, 14)?;
    for c in t0 + 1..t0 + 4 {
        ws.set_column_width(c, 16)?;
    }
    ws.set_portrait();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_area(0, 0, at, 11)?;
    ws.set_header("&L&A");
    ws.set_footer("&C&P / &N");
    Ok(())
}

/// GEEP: each term per county — GDP, environmental degradation, ecological damage, resource
/// depletion (deducted or not, by switch), regulating services — and GEEP as a formula of them.
fn geep_sheet(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    terms: &std::collections::BTreeMap<String, crate::account::geep::Terms>,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    let acc = ctx.accounts;
    let Some(settings) = &ctx.coef.geep else {
        return Ok(());
    };
    ws.write_string_with_format(
        0,
        0,
        money_text(
            tr(
                s.en,
                "经济生态生产总值 GEEP（万元）",
                "Gross economic-ecological product GEEP (10k yuan)",
            ),
            s,
        ),
        &s.title,
    )?;
    let damage_known = terms.values().all(|t| t.damage.is_some());
    let note = if s.en {
        format!(
            "GEEP = GDP − environmental degradation − ecological damage{} + regulating services (method: {}, geep.toml; docs/methodology.md#geep). {}",
            if settings.deduct_resource_depletion {
                " − resource depletion"
            } else {
                " (resource depletion listed, not deducted: deduct_resource_depletion = false)"
            },
            settings.basis,
            if damage_known {
                "Ecological damage = loss of forest, shrub, grassland, wetland and water area since the previous year × the equivalent-factor value per hectare"
            } else {
                "Ecological damage from area loss not computed: give the previous year's workbook (with land cover) as --previous"
            },
        ) + &match &settings.subsidence_cost {
            Some(c) if terms.values().any(|t| t.subsidence > 0.0) => format!(
                "; plus mining subsidence: new subsided area × {} {} ({}, {}, grade {}).",
                c.value, c.unit, c.source, c.year, c.status
            ),
            _ => ".".to_string(),
        }
    } else {
        format!(
            "GEEP = GDP − 环境退化成本 − 生态破坏成本{} + 调节服务价值（方法：{}，geep.toml；见 docs/methodology.md#geep）。{}",
            if settings.deduct_resource_depletion {
                " − 资源耗减成本"
            } else {
                "（资源耗减成本列出但不扣除：deduct_resource_depletion = false）"
            },
            settings.basis,
            if damage_known {
                "生态破坏成本 = 林、灌、草、湿地、水域面积较上年减少 × 当量因子法单位面积价值"
            } else {
                "生态破坏成本（面积减少部分）未计算：需以 --previous 给出上年基础数据表（含土地利用）"
            },
        ) + &match &settings.subsidence_cost {
            Some(c) if terms.values().any(|t| t.subsidence > 0.0) => format!(
                "；另含采煤沉陷：新增沉陷面积 × {} {}（{}，{}年，等级 {}）。",
                c.value, c.unit, c.source, c.year, c.status
            ),
            _ => "。".to_string(),
        }
    };
    ws.write_string_with_format(1, 0, &note, &s.note)?;
    let mut headers = labels(s.en);
    let terms_zh = [
        "GDP",
        "环境退化成本",
        "生态破坏成本",
        "资源耗减成本",
        "调节服务价值",
        "GEEP",
    ];
    let terms_en = [
        "GDP",
        "Environmental degradation",
        "Ecological damage",
        "Resource depletion",
        "Regulating services",
        "GEEP",
    ];
    for h in if s.en { terms_en } else { terms_zh } {
        headers.push(format!("{h}\n({})", tr(s.en, "万元", "10k yuan")));
    }
    header_row(ws, FIRST_ROW - 1, &headers, 2, s)?;
    for (i, (r, row)) in (FIRST_ROW..).zip(&acc.rows).enumerate() {
        write_row_labels(ws, r, row, s)?;
        let f = money_format(row, s);
        let sum = crate::account::geep::Terms::sum(terms, acc.members(row));
        let values = [
            sum.gdp,
            sum.degradation,
            sum.damage.unwrap_or(0.0) + sum.subsidence,
            sum.depletion,
            sum.regulating,
        ];
        for (k, v) in values.iter().enumerate() {
            let c = 4 + k as u16;
            match total_formula(acc, i, c, s.en) {
                Some(text) => formula(ws, r, c, &text, v / s.wan, f)?,
                None => ws
                    .write_number_with_format(r, c, v / s.wan, f)
                    .map(|_| ())?,
            }
        }
        let n = r + 1;
        let text = if settings.deduct_resource_depletion {
            format!("=E{n}-F{n}-G{n}-H{n}+I{n}")
        } else {
            format!("=E{n}-F{n}-G{n}+I{n}")
        };
        formula(
            ws,
            r,
            9,
            &text,
            sum.geep(settings.deduct_resource_depletion) / s.wan,
            f,
        )?;
    }
    widths(ws, &headers, s)?;
    print_setup(ws, "GEEP", FIRST_ROW - 1)
}

/// 当量因子法: the equivalent-factor account per county and service — a separate account,
/// never added to GEP.
fn esv_sheet(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    esv: &crate::esv::Esv,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    let acc = ctx.accounts;
    let Some(settings) = &ctx.coef.esv else {
        return Ok(());
    };
    ws.write_string_with_format(0, 0, money_text(tr(s.en, "当量因子法生态系统服务价值 ESV（万元）— 独立账户，不计入 GEP", "Equivalent-factor ecosystem service value ESV (10k yuan) — a separate account, not part of GEP"), s), &s.title)?;
    ws.write_string_with_format(
        1,
        0,
        if s.en {
            format!(
                "ESV = Σ area × equivalent factor × E_a × adjustment; {} ({}, {}; {}, grade {}); adjustments NPP {}, precipitation {}, soil {} ({}); table: {}.",
                settings.equivalent_derivation().replace('元', " yuan"),
                settings.standard_equivalent_year,
                settings.standard_equivalent_basis,
                settings.standard_equivalent_source,
                settings.standard_equivalent_status,
                settings.npp_factor,
                settings.precipitation_factor,
                settings.soil_factor,
                settings.adjustment_source,
                settings.table
            )
        } else {
        format!(
            "ESV = Σ 面积 × 当量因子 × E_a × 调整系数；{}（{}年，{}；{}，等级 {}）；NPP 调整 {}、降水调整 {}、土壤调整 {}（{}）；当量表：{}。",
            settings.equivalent_derivation(),
            settings.standard_equivalent_year,
            settings.standard_equivalent_basis,
            settings.standard_equivalent_source,
            settings.standard_equivalent_status,
            settings.npp_factor,
            settings.precipitation_factor,
            settings.soil_factor,
            settings.adjustment_source,
            settings.table
        )
        },
        &s.note,
    )?;
    let mut headers = labels(s.en);
    for (key, zh, _) in crate::esv::SERVICES {
        headers.push(format!(
            "{}\n({})",
            tr(s.en, zh, key),
            tr(s.en, "万元", "10k yuan")
        ));
    }
    headers.push(format!("ESV\n({})", tr(s.en, "万元", "10k yuan")));
    header_row(ws, FIRST_ROW - 1, &headers, 2, s)?;
    for (i, (r, row)) in (FIRST_ROW..).zip(&acc.rows).enumerate() {
        write_row_labels(ws, r, row, s)?;
        let f = money_format(row, s);
        let values = esv.values(acc.members(row));
        for (k, v) in values.iter().enumerate() {
            let c = 4 + k as u16;
            match total_formula(acc, i, c, s.en) {
                Some(text) => formula(ws, r, c, &text, v / s.wan, f)?,
                None => ws
                    .write_number_with_format(r, c, v / s.wan, f)
                    .map(|_| ())?,
            }
        }
        let c = 4 + values.len() as u16;
        formula(
            ws,
            r,
            c,
            &format!("=SUM(E{n}:{}{n})", col_letter(c - 1), n = r + 1),
            values.iter().sum::<f64>() / s.wan,
            f,
        )?;
    }
    widths(ws, &headers, s)?;
    if let Some(top) = acc.rows.last() {
        esv_by_type_table(ws, acc, top, esv, FIRST_ROW + acc.rows.len() as u32 + 2, s)?;
    }
    print_setup(ws, "ESV", FIRST_ROW - 1)
}

/// 面积账户: the extent account (SEEA EA ch. 4) per unit and valuation class: opening (the
/// previous year's land cover), additions, reductions, net change and closing, ha. Closing is a
/// formula of the flows, its cached value this year's area: the identity is in every row.
fn extent_sheet(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    extent: &crate::extent::Extent,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    let acc = ctx.accounts;
    let title = if s.en {
        format!(
            "Extent account {}–{} by valuation class (ha)",
            extent.opening_year, acc.year
        )
    } else {
        format!(
            "生态系统面积账户 {}–{} 年，按估价地类（公顷）",
            extent.opening_year, acc.year
        )
    };
    ws.write_string_with_format(0, 0, title, &s.title)?;
    let note = if extent.transitions.is_some() {
        tr(
            s.en,
            "期初、期末、增加、减少来自土地转移表（转移矩阵，按估价地类汇总；同一估价地类内部的转移不计），其行、列合计已与上年（--previous）和本年土地利用核对一致（0.1%，至少 0.5 公顷）；市、省为所辖县之和。期末 = 期初 + 增加 − 减少（公式）。转移矩阵见下表。",
            "Opening, closing, additions and reductions come from the change matrix (土地转移, summed to valuation classes; moves within one valuation class are no flow), whose row and column sums were checked against the previous year's (--previous) and this year's land cover (0.1 %, at least 0.5 ha); a unit's are the sums over its counties. Closing = opening + additions − reductions (a formula). The matrix is in the table below.",
        )
    } else {
        tr(
            s.en,
            "期初 = 上年土地利用（--previous），期末 = 本年；县的增加、减少为其净增、净减（两期面积之差，无转移矩阵时无法得到总流量），市、省为所辖县之和。期末 = 期初 + 增加 − 减少（公式）。",
            "Opening = the previous year's land cover (--previous), closing = this year's; a county's additions and reductions are its net gain or loss (the difference of two areas: gross flows need a change matrix, the 土地转移 sheet), a unit's the sum over its counties. Closing = opening + additions − reductions (a formula).",
        )
    };
    ws.write_string_with_format(1, 0, note, &s.note)?;
    let mut headers = labels(s.en);
    for h in [
        tr(s.en, "估价地类", "Valuation class"),
        tr(s.en, "期初\n(hm²)", "Opening\n(ha)"),
        tr(s.en, "增加\n(hm²)", "Additions\n(ha)"),
        tr(s.en, "减少\n(hm²)", "Reductions\n(ha)"),
        tr(s.en, "净变化\n(hm²)", "Net change\n(ha)"),
        tr(s.en, "期末\n(hm²)", "Closing\n(ha)"),
    ] {
        headers.push(h.to_string());
    }
    header_row(ws, FIRST_ROW - 1, &headers, 2, s)?;
    let area = Format::new().set_num_format("#,##0.00");
    let mut r = FIRST_ROW;
    for row in &acc.rows {
        for (class, e) in extent.by_class(acc.members(row)) {
            write_row_labels(ws, r, row, s)?;
            ws.write_string(r, 4, &class)?;
            ws.write_number_with_format(r, 5, e.opening_ha, &area)?;
            ws.write_number_with_format(r, 6, e.additions_ha, &area)?;
            ws.write_number_with_format(r, 7, e.reductions_ha, &area)?;
            let n = r + 1;
            formula(ws, r, 8, &format!("=G{n}-H{n}"), e.net_change_ha(), &area)?;
            formula(ws, r, 9, &format!("=F{n}+G{n}-H{n}"), e.closing_ha, &area)?;
            r += 1;
        }
    }
    if extent.transitions.is_some() {
        r += 1;
        ws.write_string_with_format(
            r,
            0,
            tr(
                s.en,
                "土地转移矩阵（公顷）：期初地类 → 期末地类，按估价地类；同类为未变化面积",
                "Change matrix (ha): from class → to class, valuation classes; equal classes are the unchanged area",
            ),
            &s.title,
        )?;
        r += 1;
        let mut matrix_headers = labels(s.en);
        for h in [
            tr(s.en, "期初地类", "From class"),
            tr(s.en, "期末地类", "To class"),
            tr(s.en, "面积\n(hm²)", "Area\n(ha)"),
        ] {
            matrix_headers.push(h.to_string());
        }
        header_row(ws, r, &matrix_headers, 2, s)?;
        r += 1;
        for row in &acc.rows {
            for ((from, to), a) in extent.matrix(acc.members(row)).unwrap_or_default() {
                write_row_labels(ws, r, row, s)?;
                ws.write_string(r, 4, &from)?;
                ws.write_string(r, 5, &to)?;
                ws.write_number_with_format(r, 6, a, &area)?;
                r += 1;
            }
        }
    }
    widths(ws, &headers, s)?;
    // Province areas run to 10⁷ ha.
    for c in 5..=9 {
        ws.set_column_width(c, 16)?;
    }
    print_setup(ws, tr(s.en, "面积账户", "Extent"), FIRST_ROW - 1)
}

/// 碳储量: each unit's carbon stock per pool (t C) = Σ class area × density (carbon_pools.csv,
/// InVEST's columns), and with `--previous` the previous year's stock and the change. A stock,
/// not part of GEP.
fn carbon_stock_sheet(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    stock: &crate::carbon_stock::CarbonStock,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    use crate::carbon_stock::{CarbonStock, POOLS};
    let acc = ctx.accounts;
    ws.write_string_with_format(
        0,
        0,
        tr(
            s.en,
            "碳储量账户（吨碳）— 存量，不计入 GEP",
            "Carbon stock account (t C) — a stock, not part of GEP",
        ),
        &s.title,
    )?;
    ws.write_string_with_format(
        1,
        0,
        tr(
            s.en,
            "碳储量 = Σ 地类面积 × 碳密度（地上、地下、土壤、枯落物，t C/hm²；carbon_pools.csv，列同 InVEST 碳模型）；变化 = 本年 − 上年（以 --previous 的土地利用与同一密度计）。密度与来源见「系数」。",
            "Stock = Σ class area × carbon density (above-ground, below-ground, soil, dead organic matter, t C/ha; carbon_pools.csv, InVEST's carbon-model columns); change = this year − previous year (the --previous land cover at the same densities). Densities and sources: Coefficients sheet.",
        ),
        &s.note,
    )?;
    let mut headers = labels(s.en);
    for (_, zh, en) in POOLS {
        headers.push(format!("{}\n(t C)", tr(s.en, zh, en)));
    }
    headers.push(tr(s.en, "碳储量合计\n(t C)", "Total stock\n(t C)").to_string());
    if stock.previous.is_some() {
        headers.push(tr(s.en, "上年碳储量\n(t C)", "Previous stock\n(t C)").to_string());
        headers.push(tr(s.en, "变化\n(t C)", "Change\n(t C)").to_string());
    }
    header_row(ws, FIRST_ROW - 1, &headers, 2, s)?;
    let number = Format::new().set_num_format("#,##0.00");
    for (r, row) in (FIRST_ROW..).zip(&acc.rows) {
        write_row_labels(ws, r, row, s)?;
        let members = acc.members(row);
        let now = CarbonStock::total(&stock.now, members.iter().copied());
        for (k, v) in now.stock_t_c.iter().enumerate() {
            ws.write_number_with_format(r, 4 + k as u16, *v, &number)?;
        }
        let n = r + 1;
        formula(
            ws,
            r,
            8,
            &format!("=SUM(E{n}:H{n})"),
            now.total_t_c(),
            &number,
        )?;
        if let Some(previous) = &stock.previous {
            let before = CarbonStock::total(previous, members.iter().copied()).total_t_c();
            ws.write_number_with_format(r, 9, before, &number)?;
            formula(
                ws,
                r,
                10,
                &format!("=I{n}-J{n}"),
                now.total_t_c() - before,
                &number,
            )?;
        }
    }
    widths(ws, &headers, s)?;
    // Province stocks run to 10⁹ t C.
    for c in 4..=10 {
        ws.set_column_width(c, 18)?;
    }
    print_setup(ws, tr(s.en, "碳储量", "Carbon stock"), FIRST_ROW - 1)
}

/// Below the county table: the last row's unit (the province, or the nation) by ecosystem type ×
/// service, as published equivalent-factor accounts print it; its total row must equal that
/// unit's row above (an in-book check cell says so).
fn esv_by_type_table(
    ws: &mut Worksheet,
    acc: &Accounts,
    top: &AccountRow,
    esv: &crate::esv::Esv,
    head: u32,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    ws.write_string_with_format(
        head,
        0,
        money_text(
            &if s.en {
                format!(
                    "{} by ecosystem type (equivalent-factor type of the crosswalk) and service (10k yuan)",
                    top.name
                )
            } else {
                format!("{}：按生态系统类型（地类对照的当量类型）与服务（万元）", top.name)
            },
            s,
        ),
        &s.label,
    )?;
    // Services in the county table's columns (E…), so that the two tables line up.
    let mut headers = vec![
        String::new(),
        tr(s.en, "生态系统类型", "Ecosystem type").to_string(),
        tr(s.en, "面积 (hm²)", "Area (ha)").to_string(),
        String::new(),
    ];
    for (key, zh, _) in crate::esv::SERVICES {
        headers.push(format!(
            "{}\n({})",
            tr(s.en, zh, key),
            tr(s.en, "万元", "10k yuan")
        ));
    }
    headers.push(format!("ESV\n({})", tr(s.en, "万元", "10k yuan")));
    for (k, h) in headers.iter().enumerate() {
        if !h.is_empty() {
            ws.write_string_with_format(head + 1, k as u16, money_text(h, s), &s.header)?;
        }
    }
    let by_type = esv.by_ecosystem(acc.members(top));
    let first = head + 2;
    let area = Format::new().set_num_format("#,##0.00");
    let mut r = first;
    for (xie_type, v) in &by_type {
        let name = if xie_type.is_empty() {
            tr(
                s.en,
                "（未对应当量类型，不估价）",
                "(no equivalent type: not valued)",
            )
        } else {
            xie_type.as_str()
        };
        ws.write_string(r, 1, name)?;
        ws.write_number_with_format(r, 2, v.area_ha, &area)?;
        if !xie_type.is_empty() {
            for (k, value) in v.values_cny.iter().enumerate() {
                ws.write_number_with_format(r, 4 + k as u16, value / s.wan, &s.money)?;
            }
            let last = 4 + v.values_cny.len() as u16;
            formula(
                ws,
                r,
                last,
                &format!("=SUM(E{n}:{}{n})", col_letter(last - 1), n = r + 1),
                v.values_cny.iter().sum::<f64>() / s.wan,
                &s.money,
            )?;
        }
        r += 1;
    }
    ws.write_string_with_format(r, 1, tr(s.en, "合计", "Total"), &s.header)?;
    let total_area: f64 = by_type.values().map(|v| v.area_ha).sum();
    let column_sum = |c: u16| {
        format!(
            "=SUM({l}{a}:{l}{b})",
            l = col_letter(c),
            a = first + 1,
            b = r
        )
    };
    formula(ws, r, 2, &column_sum(2), total_area, &area)?;
    let totals = esv.values(acc.members(top));
    for (k, value) in totals.iter().enumerate() {
        let c = 4 + k as u16;
        formula(ws, r, c, &column_sum(c), value / s.wan, &s.money_bold)?;
    }
    let last = 4 + totals.len() as u16;
    let esv_total = totals.iter().sum::<f64>() / s.wan;
    formula(ws, r, last, &column_sum(last), esv_total, &s.money_bold)?;
    // The check: this total = the unit's row of the county table (ESV column).
    let above = format!(
        "{}{}",
        col_letter(4 + totals.len() as u16),
        FIRST_ROW + acc.rows.len() as u32
    );
    let total = format!("{}{}", col_letter(last), r + 1);
    ws.write_string(r + 1, 1, tr(s.en, "= 上表合计行", "= the total row above"))?;
    ws.write_formula(
        r + 1,
        2,
        Formula::new(format!("=ABS({total}-{above})<=1E-6*MAX(1,ABS({above}))")).set_result("TRUE"),
    )?;
    // Areas of a province run to 10⁷ ha: the prefecture column is widened to show them.
    ws.set_column_width(2, 16)?;
    Ok(())
}

/// 变化: GEP against the previous year. First a county × category table (GEP at current and
/// the previous year's prices, growth, quantity and price effects; each category's value and
/// growth), then the per-indicator detail below it.
fn change_sheet(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    (year0, rows): &(i32, Vec<crate::change::ChangeRow>),
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    let acc = ctx.accounts;
    let (t0, t1) = (*year0, acc.year);
    let title = if s.en {
        format!("GEP change {t1} against {t0} (current prices and {t0} prices, 10k yuan)")
    } else {
        format!("GEP 变化：{t1} 年与 {t0} 年（现价与 {t0} 年不变价，万元）")
    };
    ws.write_string_with_format(0, 0, money_text(&title, s), &s.title)?;
    let note = if s.en {
        format!(
            "Current prices = each year's account values (the {t1} current-price GEP is this book's Summary, checked on every run). Constant prices = this year's quantities × {t0} prices: product values are brought to {t0} prices with their price line (deflators.csv, manifest.toml [price_lines]); indicators valued at the set's unit prices have the same price in both years (one coefficient set), so constant = current. Quantity effect = {t1} at constant prices − {t0}; price effect = {t1} current − constant. See docs/methodology.md#change-against-a-previous-year."
        )
    } else {
        format!(
            "现价 = 各年账户的价值量（{t1} 年现价 GEP 即本账簿「汇总」，每次运行核对）。不变价 = 本年数量 × {t0} 年价格：产品产值按价格线指数折算为 {t0} 年价（deflators.csv，manifest.toml [price_lines]）；按系数单价计价的指标两年单价相同（同一系数集），不变价等于现价。数量影响 = {t1} 年不变价 − {t0} 年；价格影响 = {t1} 年现价 − 不变价。见 docs/methodology.md#change-against-a-previous-year。"
        )
    };
    ws.write_string_with_format(1, 0, note, &s.note)?;
    let (current, constant, growth) = if s.en {
        ("current", format!("{t0} prices"), "growth")
    } else {
        ("现价", format!("{t0}年价"), "增长率")
    };
    let mut headers: Vec<String> = labels(s.en);
    headers.extend([
        format!("GEP {t0}\n{current}"),
        format!("GEP {t1}\n{current}"),
        format!("{growth}\n{current}"),
        format!("GEP {t0}\n{constant}"),
        format!("GEP {t1}\n{constant}"),
        format!("{growth}\n{constant}"),
        tr(s.en, "数量影响", "Quantity effect").to_string(),
        tr(s.en, "价格影响", "Price effect").to_string(),
    ]);
    for c in Category::ALL {
        let label = cat_label(c, s.en);
        headers.push(format!("{label}\n{t1} {current}"));
        headers.push(format!("{label}\n{growth} {current}"));
        headers.push(format!("{label}\n{growth} {constant}"));
    }
    header_row(ws, FIRST_ROW - 1, &headers, 2, s)?;
    let pct = Format::new().set_num_format("0.00%");
    let growth_cell = |ws: &mut Worksheet, r: u32, col: u16, a: u16, b: u16, v: Option<f64>| match v
    {
        Some(v) => formula(
            ws,
            r,
            col,
            &format!("={}{n}/{}{n}-1", col_letter(b), col_letter(a), n = r + 1),
            v,
            &pct,
        ),
        None => Ok(()),
    };
    for ((r, row), change) in (FIRST_ROW..).zip(&acc.rows).zip(rows) {
        write_row_labels(ws, r, row, s)?;
        let f = money_format(row, s);
        let g = &change.gep;
        for (c, v) in [
            (4u16, g.v0_current),
            (5, g.v1_current),
            (7, g.v0_constant),
            (8, g.v1_constant),
            (10, g.quantity_effect),
            (11, g.price_effect),
        ] {
            ws.write_number_with_format(r, c, v / s.wan, f)?;
        }
        growth_cell(ws, r, 6, 4, 5, g.growth_current())?;
        growth_cell(ws, r, 9, 7, 8, g.growth_constant())?;
        for (k, category) in Category::ALL.iter().enumerate() {
            let mut sum = crate::change::Change::default();
            for (c, ind) in change.indicators.iter().zip(&acc.indicators) {
                if ind.category == *category {
                    sum.add(c);
                }
            }
            let col = 12 + 3 * k as u16;
            ws.write_number_with_format(r, col, sum.v1_current / s.wan, f)?;
            if let Some(v) = sum.growth_current() {
                ws.write_number_with_format(r, col + 1, v, &pct)?;
            }
            if let Some(v) = sum.growth_constant() {
                ws.write_number_with_format(r, col + 2, v, &pct)?;
            }
        }
    }
    widths(ws, &headers, s)?;
    // The per-indicator detail, below the summary table.
    let detail_head = FIRST_ROW + acc.rows.len() as u32 + 2;
    ws.write_string_with_format(
        detail_head - 1,
        0,
        tr(
            s.en,
            "各指标明细（上年与本年按上年价格计，增长率）",
            "Per indicator (the previous year and this year at the previous year's prices, growth)",
        ),
        &s.label,
    )?;
    let mut detail: Vec<String> = labels(s.en);
    for ind in &acc.indicators {
        detail.push(format!("{}\n{t0} {constant}", ind_label(ind, s.en)));
        detail.push(format!("{}\n{t1} {constant}", ind_label(ind, s.en)));
        detail.push(format!("{}\n{growth}", ind_label(ind, s.en)));
    }
    for (c, h) in detail.iter().enumerate() {
        ws.write_string_with_format(detail_head, c as u16, money_text(h, s), &s.header)?;
    }
    ws.set_row_height(detail_head, 45)?;
    for ((r, row), change) in (detail_head + 1..).zip(&acc.rows).zip(rows) {
        write_row_labels(ws, r, row, s)?;
        let f = money_format(row, s);
        for (k, c) in change.indicators.iter().enumerate() {
            let col = 4 + 3 * k as u16;
            ws.write_number_with_format(r, col, c.v0_constant / s.wan, f)?;
            ws.write_number_with_format(r, col + 1, c.v1_constant / s.wan, f)?;
            growth_cell(ws, r, col + 2, col, col + 1, c.growth_constant())?;
        }
    }
    for c in 4..detail.len() as u16 {
        ws.set_column_width(c, s.money_width)?;
    }
    print_setup(
        ws,
        &format!("{} {t0}–{t1}", tr(s.en, "GEP 变化", "GEP change")),
        FIRST_ROW - 1,
    )
}

/// 转移支付: each county's indicators, score, share and amount; totals are SUM formulas equal
/// to the budget to the yuan.
fn transfer_sheet(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    (budget, allocation): &(i64, Vec<crate::transfer::Allocation>),
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    let Some(policy) = &ctx.coef.transfer_policy else {
        return Ok(());
    };
    ws.write_string_with_format(
        0,
        0,
        money_text(
            &if s.en {
                format!(
                    "Ecological transfer allocation {}: {}",
                    ctx.accounts.year, policy.title
                )
            } else {
                format!("{}年 生态转移支付分配：{}", ctx.accounts.year, policy.title)
            },
            s,
        ),
        &s.title,
    )?;
    let budget_text = thousands(*budget);
    let lines = if s.en {
        [
            format!(
                "Budget {budget_text} yuan; rule: {} (grade {})",
                policy.source, policy.status
            ),
            "Score = Σ weight × county indicator / Σ of that indicator over all counties; share = score / Σ scores, then held within the floor and cap (counties at a limit are fixed there, the rest share what remains by score); amounts rounded to whole yuan by the largest-remainder method, summing exactly to the budget.".to_string(),
            format!(
                "Share floor {:.2} %, cap {:.2} %; {:.0} % paid now, {:.0} % {}.",
                policy.limits.floor_share * 100.0,
                policy.limits.cap_share * 100.0,
                (1.0 - policy.payment.conditional_share) * 100.0,
                policy.payment.conditional_share * 100.0,
                policy.payment.condition
            ),
        ]
    } else {
        [
            format!(
                "预算 {budget_text} 元；规则来源：{}（等级 {}）",
                policy.source, policy.status
            ),
            "得分 = Σ 权重 × 县指标 / 全部县该指标之和；份额 = 得分 / Σ 得分，再按下限、上限调整（超限县固定于限值，其余按得分分配剩余份额）；金额按最大余数法取整到元，合计恰等于预算。".to_string(),
            format!(
                "份额下限 {:.2}%、上限 {:.2}%；{:.0}% 当期拨付，{:.0}% {}。",
                policy.limits.floor_share * 100.0,
                policy.limits.cap_share * 100.0,
                (1.0 - policy.payment.conditional_share) * 100.0,
                policy.payment.conditional_share * 100.0,
                policy.payment.condition
            ),
        ]
    };
    for (i, l) in lines.iter().enumerate() {
        ws.write_string_with_format(1 + i as u32, 0, l, &s.note)?;
    }
    let head = 5u32;
    let mut headers: Vec<String> = if s.en {
        ["Code", "Name", "Prefecture"]
    } else {
        ["区划代码", "名称", "所属市"]
    }
    .iter()
    .map(|x| (*x).to_string())
    .collect();
    for w in &policy.weights {
        let (zh, en, unit) = match w.indicator.as_str() {
            "regulating_value_per_km2" => {
                ("单位面积调节服务价值", "Regulating value per km²", "元/km²")
            }
            "gep_per_km2" => ("单位面积 GEP", "GEP per km²", "元/km²"),
            "regulating_value" => ("调节服务价值", "Regulating value", "元"),
            "gep" => ("GEP", "GEP", "元"),
            "population" => ("常住人口", "Population", "人"),
            _ => ("土地面积", "Land area", "km²"),
        };
        headers.push(if s.en {
            let unit = unit.replace('元', "yuan").replace('人', "persons");
            format!("{en}\n(weight {}, {unit})", w.weight)
        } else {
            format!("{zh}\n(权重 {}，{unit})", w.weight)
        });
    }
    let tail: [&str; 5] = if s.en {
        [
            "Score",
            "Share",
            "Allocation\n(yuan)",
            "Paid now\n(yuan)",
            "Paid after review\n(yuan)",
        ]
    } else {
        [
            "得分",
            "份额",
            "分配额\n(元)",
            "当期拨付\n(元)",
            "考核后拨付\n(元)",
        ]
    };
    headers.extend(tail.iter().map(|x| (*x).to_string()));
    header_row(ws, head, &headers, 2, s)?;
    let k = policy.weights.len() as u16;
    let share_fmt = Format::new().set_num_format("0.0000%");
    let score_fmt = Format::new().set_num_format("0.000000");
    let yuan = Format::new().set_num_format("#,##0");
    let first = head + 1;
    let rows_by_code: std::collections::HashMap<&str, &AccountRow> = ctx
        .accounts
        .rows
        .iter()
        .map(|x| (x.code.as_str(), x))
        .collect();
    for (r, a) in (first..).zip(allocation) {
        let row = rows_by_code.get(a.code.as_str());
        ws.write_string(r, 0, &a.code)?;
        ws.write_string(r, 1, row.map_or("", |x| x.name.as_str()))?;
        ws.write_string(r, 2, row.map_or("", |x| x.prefecture.as_str()))?;
        for (j, v) in a.indicators.iter().enumerate() {
            ws.write_number_with_format(r, 3 + j as u16, *v, &s.money)?;
        }
        ws.write_number_with_format(r, 3 + k, a.score, &score_fmt)?;
        ws.write_number_with_format(r, 4 + k, a.share, &share_fmt)?;
        ws.write_number_with_format(r, 5 + k, a.amount_cny as f64, &yuan)?;
        ws.write_number_with_format(r, 6 + k, a.immediate_cny as f64, &yuan)?;
        ws.write_number_with_format(r, 7 + k, a.conditional_cny as f64, &yuan)?;
    }
    let total = first + allocation.len() as u32;
    ws.write_string_with_format(total, 1, tr(s.en, "合计", "Total"), &s.bold)?;
    for c in [4 + k, 5 + k, 6 + k, 7 + k] {
        let letter = col_letter(c);
        let sum: f64 = match c - k {
            4 => allocation.iter().map(|a| a.share).sum(),
            5 => allocation.iter().map(|a| a.amount_cny as f64).sum(),
            6 => allocation.iter().map(|a| a.immediate_cny as f64).sum(),
            _ => allocation.iter().map(|a| a.conditional_cny as f64).sum(),
        };
        let f = if c - k == 4 { &share_fmt } else { &yuan };
        formula(
            ws,
            total,
            c,
            &format!("=SUM({letter}{}:{letter}{})", first + 1, total),
            sum,
            f,
        )?;
    }
    ws.set_column_width(1, 12)?;
    for c in 3..8 + k {
        ws.set_column_width(c, 20)?;
    }
    print_setup(
        ws,
        tr(s.en, "生态转移支付分配", "Ecological transfer allocation"),
        head,
    )
}

/// Notes on the header cells (row `r`, indicator `k` at column `first + k`) of the indicators the
/// run did not value, saying why.
fn not_valued_notes(
    ws: &mut Worksheet,
    r: u32,
    first: u16,
    acc: &Accounts,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    for (k, c) in acc.coverage.iter().enumerate() {
        if !c.valued {
            let text = if s.en {
                format!("Not valued (blank, not 0): {}", c.reason_en)
            } else {
                format!("未核算（留空，不是 0）：{}", c.reason_zh)
            };
            ws.insert_note(r, first + k as u16, &Note::new(text).set_author("gep"))?;
        }
    }
    Ok(())
}

/// The labels of the indicators the run did not value, joined.
fn not_valued_labels(acc: &Accounts, en: bool) -> Vec<&'static str> {
    acc.indicators
        .iter()
        .enumerate()
        .filter(|(k, _)| !acc.valued(*k))
        .map(|(_, ind)| ind_label(ind, en))
        .collect()
}

/// Whole yuan with thousands separators (500,000,000).
fn thousands(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if v < 0 { format!("-{out}") } else { out }
}

/// A row's value (yuan) for a chart table.
type RowValue = Box<dyn Fn(&AccountRow) -> f64>;
/// A chart-table column: the 汇总 column it links to and the row's value for the cache.
type LinkedColumn = (u16, RowValue);

/// A chart's data table at `at`: a header row, then one row per unit with its name and, per
/// column, a formula linking the 汇总 cell of that unit (cached with `value(row)`). Returns the
/// last row written.
#[allow(clippy::too_many_arguments)]
fn linked_table(
    ws: &mut Worksheet,
    s: &Styles,
    acc: &Accounts,
    at: u32,
    col0: u16,
    headers: &[String],
    rows: &[&AccountRow],
    columns: &[LinkedColumn],
) -> std::result::Result<u32, XlsxError> {
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(at, col0 + c as u16, money_text(h, s), &s.header)?;
    }
    let index_of: std::collections::HashMap<&str, usize> = acc
        .rows
        .iter()
        .enumerate()
        .map(|(i, x)| (x.code.as_str(), i))
        .collect();
    for (r, row) in (at + 1..).zip(rows) {
        ws.write_string(r, col0, &row.name)?;
        let Some(&index) = index_of.get(row.code.as_str()) else {
            continue;
        };
        let summary_row = FIRST_ROW + index as u32;
        for (k, (summary_col, value)) in columns.iter().enumerate() {
            let link = format!("={}", cell(s.names.summary, summary_row, *summary_col));
            formula(
                ws,
                r,
                col0 + 1 + k as u16,
                &link,
                value(row) / s.wan,
                &s.money,
            )?;
        }
    }
    Ok(at + rows.len() as u32)
}

/// Rows of valuation lines one 明细 sheet holds: Excel's 1,048,576 rows less the title and header
/// rows. A run with more lines continues on 明细 (2), 明细 (3) …, and the SUMIFS of 实物量 and
/// 价值量 span them all. (Debug builds: `GEP_TEST_LINES_PER_SHEET` lowers it for tests.)
fn lines_per_sheet() -> usize {
    const EXCEL_ROWS: usize = 1_048_576;
    #[cfg(debug_assertions)]
    if let Some(n) = std::env::var("GEP_TEST_LINES_PER_SHEET")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
    {
        return n;
    }
    EXCEL_ROWS - FIRST_ROW as usize
}

/// The 明细 sheets: (name, index of the first line, number of lines); at least one sheet.
fn lines_sheets(ctx: &BookContext<'_>, s: &Styles) -> Vec<(String, usize, usize)> {
    let total = ctx.accounts.lines.len();
    let per = lines_per_sheet();
    let count = total.div_ceil(per).max(1);
    (0..count)
        .map(|k| {
            let name = if k == 0 {
                s.names.lines.to_string()
            } else {
                format!("{} ({})", s.names.lines, k + 1)
            };
            let first = k * per;
            (name, first, per.min(total - first.min(total)))
        })
        .collect()
}

/// The valuation lines in book order: by county, then the book's indicator order, then as valued.
struct LinesOrder {
    /// Indices into the accounts' lines, in book order.
    order: Vec<usize>,
    /// Each line's indicator as its position in the accounts' indicators (`usize::MAX`: none).
    positions: Vec<usize>,
}

fn lines_order(lines: &[crate::account::Line], indicators: &[&str]) -> LinesOrder {
    let position = |key: &str| {
        indicators
            .iter()
            .position(|i| *i == key)
            .unwrap_or(usize::MAX)
    };
    let positions: Vec<usize> = lines.iter().map(|l| position(l.indicator)).collect();
    let mut order: Vec<usize> = (0..lines.len()).collect();
    // The valuation sorts its lines by county: then only each county's run needs ordering by
    // indicator (a few dozen lines each, a stable sort), not the whole list by county text.
    let runs = county_runs(lines);
    if runs
        .windows(2)
        .all(|w| lines[w[0].0].county_code < lines[w[1].0].county_code)
    {
        for &(first, end) in &runs {
            order[first..end].sort_by_key(|&i| positions[i]);
        }
    } else {
        order.sort_by(|&a, &b| {
            (&lines[a].county_code, positions[a]).cmp(&(&lines[b].county_code, positions[b]))
        });
    }
    LinesOrder { order, positions }
}

/// The runs `[first, end)` of consecutive lines of one county.
fn county_runs(lines: &[crate::account::Line]) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        match runs.last_mut() {
            Some((first, end)) if lines[*first].county_code == line.county_code => *end = i + 1,
            _ => runs.push((i, i + 1)),
        }
    }
    runs
}

/// The account sheets 实物量 (`money = false`) and 价值量 (`money = true`): county cells are
/// SUMIFS over the 明细 lines, subtotals SUM their counties, the province SUMs the prefectures.
fn account_sheet(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    s: &Styles,
    money: bool,
) -> std::result::Result<(), XlsxError> {
    let acc = ctx.accounts;
    let title = if money {
        if s.en {
            format!("GEP value account {} (10k yuan)", acc.year)
        } else {
            format!("{}年 GEP 价值量账户（万元）", acc.year)
        }
    } else {
        if s.en {
            format!("GEP physical account {}", acc.year)
        } else {
            format!("{}年 GEP 实物量账户", acc.year)
        }
    };
    ws.write_string_with_format(0, 0, money_text(&title, s), &s.title)?;
    let mut headers = labels(s.en);
    for (k, ind) in acc.indicators.iter().enumerate() {
        let not_valued = if acc.valued(k) {
            ""
        } else {
            tr(s.en, "\n未核算", "\nnot valued")
        };
        headers.push(
            match (money, ind.quantity_unit) {
                (true, _) => format!(
                    "{}\n{}\n({})",
                    cat_label(ind.category, s.en),
                    ind_label(ind, s.en),
                    tr(s.en, "万元", "10k yuan")
                ),
                (false, Some(u)) => format!("{}\n({u})", ind_label(ind, s.en)),
                (false, None) => format!(
                    "{}\n({})",
                    ind_label(ind, s.en),
                    tr(s.en, "按产值计，无实物量", "valued at output, no quantity")
                ),
            } + not_valued,
        );
    }
    if money {
        headers.push(tr(s.en, "GEP\n(万元)", "GEP\n(10k yuan)").into());
    }
    header_row(ws, FIRST_ROW - 1, &headers, 2, s)?;
    not_valued_notes(ws, FIRST_ROW - 1, 4, acc, s)?;
    let sheets = lines_sheets(ctx, s);
    // 明细 column O is already in the book's money unit; quantities (K) are summed as they are.
    let (sum_col, scale) = if money { ("O", 1.0) } else { ("K", 1.0) };
    let given = if money {
        BTreeMap::new()
    } else {
        given_quantities(acc)
    };
    for (i, (r, row)) in (FIRST_ROW..).zip(&acc.rows).enumerate() {
        write_row_labels(ws, r, row, s)?;
        let f = match (money, row.level) {
            (true, _) => money_format(row, s),
            (false, Level::County) => &s.quantity,
            (false, _) => &s.quantity_bold,
        };
        for (k, ind) in acc.indicators.iter().enumerate() {
            let c = 4 + k as u16;
            if !acc.valued(k) {
                // Not valued: a blank cell (the header says why), never 0.
                continue;
            }
            let v = if money {
                Some(row.values_cny[k] / s.wan)
            } else {
                row.quantities[k]
            };
            let Some(v) = v else {
                ws.write_string(r, c, "—")?;
                continue;
            };
            let text = total_formula(acc, i, c, s.en).unwrap_or_else(|| {
                // One SUMIFS per 明细 sheet (one sheet unless the run outgrows Excel's rows).
                let sums: Vec<String> = sheets
                    .iter()
                    .map(|(lines, _, count)| {
                        let last = FIRST_ROW as usize + (*count).max(1);
                        format!(
                            "SUMIFS('{lines}'!${sum_col}$4:${sum_col}${last},'{lines}'!$A$4:$A${last},$A{n},'{lines}'!$B$4:$B${last},\"{label}\")",
                            n = r + 1,
                            label = ind_label(ind, s.en),
                        )
                    })
                    .collect();
                format!(
                    "={}{div}",
                    sums.join("+"),
                    div = if scale == 1.0 { String::new() } else { format!("/{scale}") }
                )
            });
            match given.get(&(row.code.clone(), ind.key)) {
                Some(sources) if row.level == Level::County => {
                    formula(ws, r, c, &text, v, &s.quantity_given)?;
                    let text = format!(
                        "{}\n{}",
                        tr(
                            s.en,
                            "实物量表给出（模型结果，非按面积系数估算）：",
                            "Given by the 实物量 sheet (a model result, not a rate estimate):"
                        ),
                        sources.join("\n")
                    );
                    ws.insert_note(r, c, &Note::new(text).set_author("gep"))?;
                }
                _ => formula(ws, r, c, &text, v, f)?,
            }
        }
        if money {
            let c = 4 + acc.indicators.len() as u16;
            let text = format!("=SUM(E{n}:{}{n})", col_letter(c - 1), n = r + 1);
            formula(ws, r, c, &text, row.gep_cny / s.wan, f)?;
        }
    }
    widths(ws, &headers, s)?;
    let name = match (money, s.en) {
        (true, false) => "价值量",
        (false, false) => "实物量",
        (true, true) => "value",
        (false, true) => "physical",
    };
    print_setup(ws, &format!("{} GEP {name}", acc.year), FIRST_ROW - 1)
}

/// (county, indicator) → the 实物量 sources ("source (cell)") of the lines that override it.
fn given_quantities(acc: &Accounts) -> BTreeMap<(String, &'static str), Vec<String>> {
    let mut out: BTreeMap<(String, &'static str), Vec<String>> = BTreeMap::new();
    for line in &acc.lines {
        let Some(rest) = line.method.strip_prefix("实物量 override (") else {
            continue;
        };
        let source = rest.split(");").next().unwrap_or(rest);
        out.entry((line.county_code.to_string(), line.indicator))
            .or_default()
            .push(format!("{source} ({})", line.source_ref));
    }
    out
}

fn physical(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    account_sheet(ws, ctx, s, false)
}

fn value(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    account_sheet(ws, ctx, s, true)
}

/// Row (0-based) of each price on the 系数 sheet, in the order they are written.
fn price_rows<'c>(ctx: &BookContext<'c>) -> std::collections::BTreeMap<&'c str, u32> {
    ctx.coef
        .prices
        .keys()
        .enumerate()
        .map(|(i, k)| (k.as_str(), 4 + i as u32))
        .collect()
}

/// Appends a line's quantity formula for book row `n` (1-based): `{input}` is the line's input
/// cell (E), `{coefficient}` its coefficient cell (H).
fn expand_quantity_formula(out: &mut String, template: &str, n: u32) {
    use std::fmt::Write as _;
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        if let Some(after) = tail.strip_prefix("{input}") {
            let _ = write!(out, "E{n}");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("{coefficient}") {
            let _ = write!(out, "H{n}");
            rest = after;
        } else {
            out.push('{');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
}

/// Column of the price actually used (元 per unit of the quantity) on the 系数 sheet.
const USED_PRICE_COL: u16 = 8;

/// Lines of the 明细 sheet whose formulas are made while the lines before them are written.
const LINES_CHUNK: usize = 1024;

/// A 明细 cell that is a number or a formula with its cached result.
enum NumberCell {
    Number(f64),
    Formula(Formula),
}

/// The formulas of one 明细 line: quantity (K), the emission-cap factor (P) when the quantity
/// formula ends in one, the price (N) and the value (O).
struct LineFormulas {
    quantity: Option<NumberCell>,
    factor: Option<f64>,
    price: Option<NumberCell>,
    value: Formula,
}

/// What a 明细 line's formulas need besides the line: the price cells on 系数 and the money unit.
struct LineTexts<'a> {
    price_cells: &'a std::collections::HashMap<&'a str, String>,
    per: &'a str,
    wan: f64,
}

impl LineTexts<'_> {
    /// The formulas of `chunk` (indices into `lines`), whose first line is on row `first`.
    fn formulas(
        &self,
        lines: &[crate::account::Line],
        chunk: &[usize],
        first: u32,
    ) -> Vec<LineFormulas> {
        use std::fmt::Write as _;
        let mut f = String::new();
        chunk
            .iter()
            .zip(first..)
            .map(|(&i, r)| {
                let line = &lines[i];
                let n = r + 1;
                let mut cap = None;
                let quantity = line.quantity.map(|q| {
                    if line.quantity_formula.is_empty() {
                        NumberCell::Number(q)
                    } else {
                        f.clear();
                        f.push('=');
                        expand_quantity_formula(&mut f, &line.quantity_formula, n);
                        // A trailing decimal factor (the emission cap) goes to its own labelled cell.
                        if let Some((head, factor)) = f.rsplit_once('*')
                            && factor.contains('.')
                            && let Ok(x) = factor.parse::<f64>()
                        {
                            cap = Some(x);
                            let keep = head.len();
                            f.truncate(keep);
                            let _ = write!(f, "*P{n}");
                        }
                        NumberCell::Formula(cached(&f, q))
                    }
                });
                // The value in the book's money unit (万元, or 元 with --money yuan), like every
                // other sheet.
                let v = line.value_cny / self.wan;
                let per = self.per;
                let price = match (
                    self.price_cells.get(&*line.price_key),
                    line.price_cny_per_unit,
                ) {
                    (Some(price_cell), Some(p)) => Some(NumberCell::Formula(cached(price_cell, p))),
                    // A price that is not a prices.toml entry: a per-hectare value of
                    // service_rates.csv.
                    (None, Some(p)) => Some(NumberCell::Number(p)),
                    _ => None,
                };
                let value = if price.is_some() {
                    format!("=K{n}*N{n}{per}")
                } else {
                    format!("=E{n}{per}")
                };
                LineFormulas {
                    quantity,
                    factor: cap,
                    price,
                    value: cached(&value, v),
                }
            })
            .collect()
    }
}

/// A formula with its computed result cached.
fn cached(text: &str, result: f64) -> Formula {
    Formula::new(text).set_result(format_result(result))
}

/// Writes `cell` (nothing when `None`) in the column's format.
fn write_number_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    cell: Option<NumberCell>,
) -> std::result::Result<(), XlsxError> {
    match cell {
        Some(NumberCell::Formula(formula)) => {
            ws.write_formula(row, col, formula)?;
        }
        Some(NumberCell::Number(x)) => {
            ws.write_number(row, col, x)?;
        }
        None => {}
    }
    Ok(())
}

/// Writes the 明细 lines `chunk` (indices into the lines), the first on row `first`, with their
/// formulas made beforehand.
#[allow(clippy::too_many_arguments)]
fn write_lines(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    s: &Styles,
    labels: &[&str],
    positions: &[usize],
    chunk: &[usize],
    first: u32,
    formulas: Vec<LineFormulas>,
) -> std::result::Result<(), XlsxError> {
    let lines = &ctx.accounts.lines;
    for ((&i, r), made) in chunk.iter().zip(first..).zip(formulas) {
        let line = &lines[i];
        ws.write_string(r, 0, &*line.county_code)?;
        ws.write_string(
            r,
            1,
            labels.get(positions[i]).copied().unwrap_or(line.indicator),
        )?;
        if s.en {
            ws.write_string(r, 2, crate::account::rated::component_en(&line.component))?;
        } else {
            ws.write_string(r, 2, &*line.component)?;
        }
        ws.write_string(r, 3, &*line.source_ref)?;
        ws.write_number(r, 4, line.input_amount)?;
        ws.write_string(r, 5, &*line.input_unit)?;
        ws.write_string(r, 6, &*line.coefficient_ref)?;
        if let Some(v) = line.coefficient {
            ws.write_number(r, 7, v)?;
        }
        ws.write_string(r, 8, &*line.coefficient_unit)?;
        ws.write_string(r, 9, &*line.method)?;
        if let Some(x) = made.factor {
            ws.write_number(r, 15, x)?;
        }
        write_number_cell(ws, r, 10, made.quantity)?;
        ws.write_string(r, 11, &*line.quantity_unit)?;
        ws.write_string(r, 12, &*line.price_key)?;
        write_number_cell(ws, r, 13, made.price)?;
        ws.write_formula(r, 14, made.value)?;
    }
    Ok(())
}

fn lines(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    s: &Styles,
    order: &[usize],
    positions: &[usize],
) -> std::result::Result<(), XlsxError> {
    let lines = &ctx.accounts.lines;
    // The number columns take their format from the column: a cell written without one costs
    // no per-cell format lookup (a hash of the whole format in rust_xlsxwriter).
    for c in [4, 10, 13, 14] {
        ws.set_column_format(c, &s.quantity)?;
    }
    ws.write_string_with_format(
        0,
        0,
        money_text(
            tr(
                s.en,
                "核算明细：每个价值量的输入单元格、系数、公式与结果",
                "Valuation lines: input cell, coefficient, formula and result of every value",
            ),
            s,
        ),
        &s.title,
    )?;
    let zh = [
        "区划代码",
        "指标",
        "组成",
        "输入单元格",
        "输入量",
        "输入单位",
        "系数（文件: 键 = 值 [等级]）",
        "系数值",
        "系数单位",
        "方法 / 公式",
        "实物量",
        "实物量单位",
        "价格键 (prices.toml)",
        "价格 (元/单位)",
        "价值 (万元)",
        "折算系数（如排放上限 = 排放量 / 净化能力）",
    ];
    let en = [
        "Code",
        "Indicator",
        "Component",
        "Input cell",
        "Input",
        "Input unit",
        "Coefficient (file: key = value [grade])",
        "Coefficient",
        "Coefficient unit",
        "Method / formula",
        "Quantity",
        "Quantity unit",
        "Price key (prices.toml)",
        "Price (yuan/unit)",
        "Value (10k yuan)",
        "Factor (e.g. emission cap = emissions / capacity)",
    ];
    let headers: Vec<String> = (if s.en { en } else { zh })
        .iter()
        .map(|x| (*x).to_string())
        .collect();
    header_row(ws, FIRST_ROW - 1, &headers, 3, s)?;
    // Per-row texts that do not depend on the row, made once: indicator labels, the formula of
    // each price's cell on 系数, the money unit's divisor.
    let labels: Vec<&str> = ctx
        .accounts
        .indicators
        .iter()
        .map(|x| ind_label(x, s.en))
        .collect();
    let price_cells: std::collections::HashMap<&str, String> = price_rows(ctx)
        .into_iter()
        .map(|(key, row)| {
            let cell = format!(
                "='{}'!${}${}",
                s.names.coefficients,
                col_letter(USED_PRICE_COL),
                row + 1
            );
            (key, cell)
        })
        .collect();
    let per = if s.wan == 1.0 {
        String::new()
    } else {
        format!("/{}", s.wan)
    };
    let texts = LineTexts {
        price_cells: &price_cells,
        per: &per,
        wan: s.wan,
    };
    // The formulas of a chunk of lines are made (text, escaping, cached result) on the other
    // core while the chunk before is written: the worksheet's cells are written in row order on
    // one thread, and the formulas are a tenth of the sheet's time.
    let chunks: Vec<(u32, &[usize])> = (FIRST_ROW..)
        .step_by(LINES_CHUNK)
        .zip(order.chunks(LINES_CHUNK))
        .collect();
    let mut prepared = chunks
        .first()
        .map(|(first, chunk)| texts.formulas(lines, chunk, *first))
        .unwrap_or_default();
    for (k, (first, chunk)) in chunks.iter().enumerate() {
        let (written, next) = rayon::join(
            || write_lines(ws, ctx, s, &labels, positions, chunk, *first, prepared),
            || {
                chunks
                    .get(k + 1)
                    .map(|(first, chunk)| texts.formulas(lines, chunk, *first))
                    .unwrap_or_default()
            },
        );
        written?;
        crate::progress::advance(chunk.len() as u64);
        prepared = next;
    }
    // Input amounts (E) and values (O) are in 元: up to 10¹² with separators and decimals.
    for (c, w) in [
        9, 10, 12, 32, 22, 16, 60, 10, 12, 48, 16, 10, 18, 12, 22, 16,
    ]
    .iter()
    .enumerate()
    {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, tr(s.en, "核算明细", "Valuation lines"), FIRST_ROW - 1)
}

/// Writes a section label at row `r` and its header row below; returns the first data row.
fn section(
    ws: &mut Worksheet,
    r: u32,
    label: &str,
    headers: &[&str],
    s: &Styles,
) -> std::result::Result<u32, XlsxError> {
    ws.write_string_with_format(r, 0, bi(s.en, label), &s.label)?;
    for (k, h) in headers.iter().enumerate() {
        ws.write_string_with_format(r + 1, k as u16, bi(s.en, h), &s.header)?;
    }
    Ok(r + 2)
}

fn coefficients(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    let c = ctx.coef;
    ws.write_string_with_format(
        0,
        0,
        money_text(
            &format!(
                "{}{} {} ({})",
                tr(s.en, "本次使用的系数：", "Coefficients used: "),
                c.manifest.name,
                c.manifest.version,
                c.origin()
            ),
            s,
        ),
        &s.title,
    )?;
    ws.write_string_with_format(
        2,
        0,
        tr(s.en, "价格 prices.toml", "Prices (prices.toml)"),
        &s.label,
    )?;
    let headers = [
        "键 Key",
        "值 Value",
        "单位 Unit",
        "价格年 Year",
        "范围 Scope",
        "等级 Status",
        "来源 Source",
        "备注 Note",
        "使用价格 (元/实物量单位)",
    ];
    for (k, h) in headers.iter().enumerate() {
        let h = match *h {
            "使用价格 (元/实物量单位)" => {
                tr(s.en, h, "Price used (yuan per unit of quantity)")
            }
            other => bi(s.en, other),
        };
        ws.write_string_with_format(3, k as u16, h, &s.header)?;
    }
    let rows = price_rows(ctx);
    for (key, p) in &c.prices {
        let r = rows[key.as_str()];
        ws.write_string(r, 0, key)?;
        // As published; an indexed price is brought to the base year in the used column.
        let published = p.indexed.as_ref().map_or(p.value, |i| i.published);
        ws.write_number(r, 1, published)?;
        ws.write_string(r, 2, &p.unit)?;
        ws.write_number(r, 3, f64::from(p.year))?;
        ws.write_string(r, 4, &p.scope)?;
        ws.write_string(r, 5, &p.status)?;
        ws.write_string(r, 6, &p.source)?;
        match &p.indexed {
            Some(i) => ws.write_string(r, 7, format!("{} [{}]", p.note, i.text()))?,
            None => ws.write_string(r, 7, &p.note)?,
        };
        let used = if key == "carbon" {
            c.carbon_price_per_t_co2().unwrap_or(p.value)
        } else {
            p.value
        };
        let index = p
            .indexed
            .as_ref()
            .map_or(String::new(), |i| format!("*{}", i.factor));
        let text = if (used - p.value).abs() > 0.0 {
            format!("=B{}{index}*12/44", r + 1)
        } else {
            format!("=B{}{index}", r + 1)
        };
        formula(ws, r, USED_PRICE_COL, &text, used, &Format::new())?;
    }
    let mut r = 4 + c.prices.len() as u32 + 1;
    if !c.parameters.is_empty() {
        r = section(
            ws,
            r,
            tr(
                s.en,
                "参数 prices.toml [parameters]（派生价格与换算所用）",
                "Parameters (prices.toml [parameters]: used for derived prices and conversions)",
            ),
            &[
                "键 Key",
                "值（引擎单位）Value",
                "单位 Unit",
                "年份 Year",
                "范围 Scope",
                "等级 Status",
                "来源 Source",
                "备注 Note",
            ],
            s,
        )?;
        for (key, p) in &c.parameters {
            ws.write_string(r, 0, key)?;
            ws.write_number(r, 1, p.value)?;
            ws.write_string(r, 2, if p.unit == "%" { "1" } else { &p.unit })?;
            ws.write_number(r, 3, f64::from(p.year))?;
            ws.write_string(r, 4, &p.scope)?;
            ws.write_string(r, 5, &p.status)?;
            ws.write_string(r, 6, &p.source)?;
            ws.write_string(r, 7, &p.note)?;
            r += 1;
        }
        r += 1;
    }
    r = section(
        ws,
        r,
        "单位面积服务量 Rates per hectare (service_rates.csv)",
        &[
            "估价类 Class",
            "指标 Indicator",
            "值 Rate",
            "单位 Unit",
            "折算值（引擎单位 /ha/yr）Engine value (/ha/yr)",
            "年份 Year",
            "范围 Scope",
            "等级 Status",
            "来源 Source",
        ],
        s,
    )?;
    for rate in &c.rates {
        ws.write_string(r, 0, &rate.valuation_class)?;
        ws.write_string(r, 1, &rate.indicator)?;
        ws.write_number(r, 2, rate.rate)?;
        ws.write_string(r, 3, &rate.unit)?;
        ws.write_number(r, 4, rate.rate_base)?;
        ws.write_string(r, 5, &rate.year)?;
        ws.write_string(r, 6, &rate.scope)?;
        ws.write_string(r, 7, &rate.status)?;
        ws.write_string(r, 8, &rate.source)?;
        r += 1;
    }
    r = section(
        ws,
        r + 1,
        "树种参数 Forest types (forest_types.csv)",
        &[
            "树种组 Type",
            "方法 Method",
            "a (t/m³)",
            "b (t/ha)",
            "BCEF (t/m³)",
            "R",
            "CF (t C/t)",
            "范围 Scope",
            "等级 Status",
            "来源 Source",
        ],
        s,
    )?;
    for t in &c.forest_types {
        ws.write_string(r, 0, &t.forest_type)?;
        ws.write_string(r, 1, &t.method)?;
        for (k, v) in [t.a, t.b, t.bcef, t.root_shoot].iter().enumerate() {
            if let Some(v) = v {
                ws.write_number(r, 2 + k as u16, *v)?;
            }
        }
        ws.write_number(r, 6, t.carbon_fraction)?;
        ws.write_string(r, 7, &t.scope)?;
        ws.write_string(r, 8, &t.status)?;
        ws.write_string(r, 9, &t.source)?;
        r += 1;
    }
    if let (Some(settings), Some(_)) = (&c.esv, ctx.esv) {
        r = section(
            ws,
            r + 1,
            "当量因子法 Equivalent-factor settings (esv.toml)",
            &[
                "键 Key",
                "值 Value",
                "单位 Unit",
                "年份 Year",
                "取得方式 Derivation",
                "等级 Status",
                "来源 Source",
            ],
            s,
        )?;
        ws.write_string(r, 0, "standard_equivalent_cny_per_ha")?;
        ws.write_number(r, 1, settings.standard_equivalent_cny_per_ha)?;
        ws.write_string(r, 2, "元/hm²")?;
        ws.write_number(r, 3, f64::from(settings.standard_equivalent_year))?;
        let derivation = settings.equivalent_derivation();
        ws.write_string(
            r,
            4,
            if s.en {
                derivation.replace('元', " yuan")
            } else {
                derivation
            },
        )?;
        ws.write_string(r, 5, &settings.standard_equivalent_status)?;
        ws.write_string(r, 6, &settings.standard_equivalent_source)?;
        r += 1;
        for (key, value) in [
            ("npp_factor", settings.npp_factor),
            ("precipitation_factor", settings.precipitation_factor),
            ("soil_factor", settings.soil_factor),
        ] {
            ws.write_string(r, 0, key)?;
            ws.write_number(r, 1, value)?;
            ws.write_string(r, 2, "1")?;
            ws.write_string(r, 6, &settings.adjustment_source)?;
            r += 1;
        }
    }
    if let (Some(pools), Some(_)) = (&c.carbon_pools, ctx.carbon_stock) {
        r = section(
            ws,
            r + 1,
            "碳密度 Carbon densities (carbon_pools.csv, t C/hm²)",
            &[
                "估价类 Valuation class",
                "lucode",
                "c_above",
                "c_below",
                "c_soil",
                "c_dead",
                "年份 Year",
                "等级 Status",
                "来源 Source",
            ],
            s,
        )?;
        for p in pools {
            ws.write_string(r, 0, &p.valuation_class)?;
            ws.write_number(r, 1, p.lucode as f64)?;
            for (k, d) in p.pools().iter().enumerate() {
                ws.write_number(r, 2 + k as u16, *d)?;
            }
            ws.write_string(r, 6, &p.year)?;
            ws.write_string(r, 7, &p.status)?;
            ws.write_string(r, 8, format!("{} ({})", p.source, p.scope))?;
            r += 1;
        }
    }
    if let (Some(settings), Some(_)) = (&c.geep, ctx.geep) {
        r = section(
            ws,
            r + 1,
            "GEEP 单位成本 Unit costs (geep.toml)",
            &[
                "键 Key",
                "值 Value",
                "单位 Unit",
                "年份 Year",
                "价格指数 Index",
                "等级 Status",
                "来源 Source",
                "使用值 Used",
            ],
            s,
        )?;
        let costs = settings
            .unit_costs
            .iter()
            .map(|(k, c)| (format!("unit_costs.{k}"), c))
            .chain(
                settings
                    .subsidence_cost
                    .iter()
                    .map(|c| ("subsidence_cost".to_string(), c)),
            );
        for (key, cost) in costs {
            ws.write_string(r, 0, &key)?;
            let published = cost.indexed.as_ref().map_or(cost.value, |i| i.published);
            ws.write_number(r, 1, published)?;
            ws.write_string(r, 2, &cost.unit)?;
            ws.write_number(r, 3, f64::from(cost.year))?;
            if let Some(i) = &cost.indexed {
                ws.write_string(r, 4, i.text())?;
            }
            ws.write_string(r, 5, &cost.status)?;
            ws.write_string(r, 6, &cost.source)?;
            let index = cost
                .indexed
                .as_ref()
                .map_or(String::new(), |i| format!("*{}", i.factor));
            formula(
                ws,
                r,
                7,
                &format!("=B{}{index}", r + 1),
                cost.value,
                &Format::new(),
            )?;
            r += 1;
        }
    }
    r = section(
        ws,
        r + 1,
        "地类对照 Land classes (land_classes.csv)",
        &[
            "地类 Land class",
            "级别 Level",
            "上级 Parent",
            "估价类 Valuation class",
            "备注 Note",
            "当量类型 Xie type",
        ],
        s,
    )?;
    for lc in &c.land_classes {
        ws.write_string(r, 0, &lc.land_class)?;
        ws.write_number(r, 1, f64::from(lc.level))?;
        ws.write_string(r, 2, &lc.parent)?;
        ws.write_string(r, 3, &lc.valuation_class)?;
        ws.write_string(r, 4, &lc.note)?;
        ws.write_string(r, 5, &lc.xie_type)?;
        r += 1;
    }
    ws.set_column_width(0, 22)?;
    for col in 1..6 {
        ws.set_column_width(col, 14)?;
    }
    // Long texts (scope, source, note) wrap on screen and on paper.
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    ws.set_column_format(4, &wrap)?;
    ws.set_column_width(6, 40)?;
    ws.set_column_format(6, &wrap)?;
    ws.set_column_format(7, &wrap)?;
    ws.set_column_width(7, 30)?;
    ws.set_column_width(8, 22)?;
    ws.set_column_format(8, &wrap)?;
    ws.set_column_width(9, 50)?;
    ws.set_column_format(9, &wrap)?;
    print_setup_plain(ws, tr(s.en, "系数", "Coefficients"))
}

fn checks(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    ws.write_string_with_format(0, 0, bi(s.en, "校验 Checks"), &s.title)?;
    let mut r = 2;
    ws.write_string_with_format(
        r,
        0,
        tr(
            s.en,
            "恒等式（每次运行检查，相对误差 ≤ 1e-9）",
            "Identities (checked on every run, relative error ≤ 1e-9)",
        ),
        &s.label,
    )?;
    r += 1;
    let identities_zh = [
        "✔ 每行 GEP = Σ 各指标价值量 = 物质产品 + 调节服务 + 文化服务",
        "✔ 每个市小计 = Σ 所辖县（按指标）",
        "✔ 全省合计 = Σ 各市小计 = Σ 全部县（按指标）",
        "✔ 「变化」各年现价 GEP = 该年账户（本年即「汇总」）",
        "✔ 每个核算键（地类、估价类、树种组、价格键）均找到系数；未匹配即报错，不按 0 计",
    ];
    let identities_en = [
        "✔ each row's GEP = Σ its indicator values = provisioning + regulating + cultural",
        "✔ each prefecture subtotal = Σ its counties (per indicator)",
        "✔ the total = Σ prefecture subtotals = Σ all counties (per indicator)",
        "✔ Change: each year's current-price GEP = that year's account (this year's is the Summary)",
        "✔ every accounting key (land class, valuation class, forest type, price key) found its coefficient; an unmatched key is an error, never 0",
    ];
    // The 变化 identity is listed only when there is a 变化 sheet.
    let identities = if s.en { identities_en } else { identities_zh };
    for line in identities
        .into_iter()
        .filter(|l| ctx.change.is_some() || !(l.contains("变化") || l.contains("Change:")))
    {
        ws.write_string(r, 0, line)?;
        r += 1;
    }
    r += 1;
    let headers = if s.en {
        ["Check", "Severity", "Location", "Message"]
    } else {
        ["审核类别", "级别", "位置", "说明"]
    };
    for (k, h) in headers.iter().enumerate() {
        ws.write_string_with_format(r, k as u16, *h, &s.header)?;
    }
    let header_at = r;
    r += 1;
    if ctx.warnings.is_empty() {
        ws.write_string(
            r,
            0,
            if s.en {
                "No warnings: every audit passed (docs/checks.md)"
            } else {
                "无警告：全部审核通过（见 docs/checks.md）"
            },
        )?;
    }
    // Grouped by kind of check (读取, 逻辑, 平衡, 比例, 趋势, 系数), in the order found within each.
    let mut sorted: Vec<&Issue> = ctx.warnings.iter().collect();
    sorted.sort_by_key(|w| w.check);
    for w in sorted {
        ws.write_string(r, 0, w.check.label(s.en))?;
        ws.write_string(
            r,
            1,
            match (w.severity == Severity::Warning, s.en) {
                (true, false) => "警告",
                (true, true) => "warning",
                (false, false) => "错误",
                (false, true) => "error",
            },
        )?;
        ws.write_string(r, 2, &w.location)?;
        ws.write_string(r, 3, w.message_in(s.en))?;
        r += 1;
    }
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    ws.set_column_width(0, 12)?;
    ws.set_column_width(1, 8)?;
    ws.set_column_width(2, 40)?;
    ws.set_column_format(2, &wrap)?;
    ws.set_column_width(3, 90)?;
    ws.set_column_format(3, &wrap)?;
    ws.set_freeze_panes(header_at + 1, 0)?;
    print_setup(ws, tr(s.en, "校验", "Checks"), header_at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Line;

    fn line(county: &str, indicator: &'static str, value: f64) -> Line {
        Line::for_test(county.into(), indicator, "", value)
    }

    fn book_values(lines: &[Line], indicators: &[&str]) -> Vec<f64> {
        lines_order(lines, indicators)
            .order
            .iter()
            .map(|&i| lines[i].value_cny)
            .collect()
    }

    #[test]
    fn the_book_orders_lines_by_county_then_indicator_and_keeps_ties_in_valuation_order() {
        let indicators = ["water_supply", "carbon_sequestration"];
        // Sorted by county (as the valuation leaves them): each county's run is reordered.
        let sorted = vec![
            line("140101", "carbon_sequestration", 1.0),
            line("140101", "water_supply", 2.0),
            line("140101", "carbon_sequestration", 3.0),
            line("140105", "unknown_service", 4.0),
            line("140105", "water_supply", 5.0),
        ];
        assert_eq!(
            book_values(&sorted, &indicators),
            vec![2.0, 1.0, 3.0, 5.0, 4.0]
        );
        // Not sorted by county (a county's lines apart): the whole list is sorted, same rule.
        let unsorted = vec![
            line("140105", "water_supply", 5.0),
            line("140101", "carbon_sequestration", 1.0),
            line("140105", "unknown_service", 4.0),
            line("140101", "water_supply", 2.0),
            line("140101", "carbon_sequestration", 3.0),
        ];
        assert_eq!(
            book_values(&unsorted, &indicators),
            vec![2.0, 1.0, 3.0, 5.0, 4.0]
        );
        let positions = lines_order(&unsorted, &indicators).positions;
        assert_eq!(positions, vec![0, 1, usize::MAX, 0, 1]);
    }

    #[test]
    fn a_quantity_formula_names_the_rows_input_and_coefficient_cells() {
        let expand = |template: &str| {
            let mut out = String::from("=");
            expand_quantity_formula(&mut out, template, 42);
            out
        };
        assert_eq!(expand("{input}"), "=E42");
        assert_eq!(expand("{input}*{coefficient}*0.5"), "=E42*H42*0.5");
        assert_eq!(expand("{input}*{coefficient}*44/12"), "=E42*H42*44/12");
        // A brace that is not a placeholder is kept as written.
        assert_eq!(expand("{x}+{input}"), "={x}+E42");
    }
}
