//! Stage 5, write: accounts → the Excel account book (rust_xlsxwriter), written to a temporary
//! file and renamed. Sheets: 说明 About, 汇总 Summary, 实物量 Physical, 价值量 Value,
//! 明细 Lines (every valuation line with its input cell and coefficient), 系数 Coefficients, 校验 Checks.

use std::path::Path;

use rust_xlsxwriter::{
    Color, DocProperties, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError,
};

use crate::Request;
use crate::account::{AccountRow, Accounts, Category, Level};
use crate::coefficients::Coefficients;
use crate::error::{Error, Issue, Result, Severity};
use crate::validate::Inputs;

/// Yuan per 万元: money is shown in 万元.
const WAN: f64 = 1e4;

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

struct Styles {
    title: Format,
    header: Format,
    label: Format,
    text: Format,
    money: Format,
    money_bold: Format,
    quantity: Format,
    quantity_bold: Format,
    ratio: Format,
    bold: Format,
    note: Format,
}

impl Styles {
    fn new() -> Self {
        let fill = Color::RGB(0xDDEBF7);
        let subtotal = Color::RGB(0xF2F2F2);
        Styles {
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
            ratio: Format::new().set_num_format("0.00"),
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
    let bytes = build(ctx).map_err(|source| Error::Book {
        path: path.to_path_buf(),
        source,
    })?;
    crate::write_atomically(path, |f| std::io::Write::write_all(f, &bytes))
}

/// Builds the book in memory.
///
/// # Errors
/// rust_xlsxwriter's errors.
pub fn build(ctx: &BookContext<'_>) -> std::result::Result<Vec<u8>, XlsxError> {
    let s = Styles::new();
    let mut wb = Workbook::new();
    let mut props = DocProperties::new()
        .set_title(format!(
            "{} {}年 GEP 核算账户",
            ctx.coef.manifest.province, ctx.accounts.year
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
    if let Some(epoch) = source_date_epoch() {
        let (y, m, d) = civil_date(epoch);
        props = props.set_creation_datetime(&rust_xlsxwriter::ExcelDateTime::from_ymd(
            y as u16, m as u8, d as u8,
        )?);
    }
    wb.set_properties(&props);
    about(wb.add_worksheet().set_name("说明")?, ctx, &s)?;
    summary(wb.add_worksheet().set_name("汇总")?, ctx, &s)?;
    physical(wb.add_worksheet().set_name("实物量")?, ctx, &s)?;
    value(wb.add_worksheet().set_name("价值量")?, ctx, &s)?;
    lines(wb.add_worksheet().set_name("明细")?, ctx, &s)?;
    coefficients(wb.add_worksheet().set_name("系数")?, ctx, &s)?;
    checks(wb.add_worksheet().set_name("校验")?, ctx, &s)?;
    wb.save_to_buffer()
}

fn source_date_epoch() -> Option<i64> {
    std::env::var("SOURCE_DATE_EPOCH").ok()?.trim().parse().ok()
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's civil_from_days).
fn civil_date(epoch_seconds: i64) -> (i64, i64, i64) {
    let z = epoch_seconds.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The calendar year before today (or before `SOURCE_DATE_EPOCH`).
pub fn last_year() -> i32 {
    let secs = source_date_epoch().unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    });
    civil_date(secs).0 as i32 - 1
}

fn today() -> String {
    let secs = source_date_epoch().unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    });
    let (y, m, d) = civil_date(secs);
    format!("{y:04}-{m:02}-{d:02}")
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
        ws.write_string_with_format(row, c as u16, h, &s.header)?;
    }
    ws.set_row_height(row, 45)?;
    ws.set_freeze_panes(row + 1, frozen_cols)?;
    if !headers.is_empty() {
        ws.autofilter(row, 0, row, headers.len() as u16 - 1)?;
    }
    Ok(())
}

fn print_setup(
    ws: &mut Worksheet,
    title: &str,
    header_row: u32,
) -> std::result::Result<(), XlsxError> {
    ws.set_landscape();
    ws.set_paper_size(9); // A4
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(header_row, header_row)?;
    ws.set_header(format!("&C{title}"));
    ws.set_footer("&C第 &P 页，共 &N 页");
    Ok(())
}

fn level_label(level: Level) -> &'static str {
    match level {
        Level::County => "县(市、区)",
        Level::Prefecture => "市小计",
        Level::Province => "全省合计",
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
        format!(
            "{}{}年 生态产品总值(GEP)核算账户",
            m.province, ctx.accounts.year
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
        ws.write_string_with_format(r, 0, "注意", &s.label)?;
        ws.write_string_with_format(
            r,
            1,
            "本账户使用内置演示数据：各县数值为合成数据（SYNTHETIC），仅按公开的全省总量校准，不是官方统计，不得用于决策。",
            &Format::new().set_bold().set_font_color(Color::Red),
        )?;
        r += 2;
    }
    let facts: Vec<(&str, String)> = vec![
        ("核算年份 Year", ctx.accounts.year.to_string()),
        (
            "范围 Region",
            format!(
                "{} ({} 个县级单位)",
                m.province,
                ctx.accounts.level(Level::County).count()
            ),
        ),
        (
            "系数集 Coefficient set",
            format!("{} — {} (版本 {})", m.name, m.title, m.version),
        ),
        ("系数集来源 Origin", ctx.coef.origin()),
        ("系数集 SHA-256", ctx.coef.set_sha256.clone()),
        (
            "系数文件改动 Modified",
            if ctx.coef.modified_files.is_empty() {
                "无 (与 manifest.toml 一致)".to_string()
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
                "{} (各价格按其来源年份使用，未做指数调整；见「系数」)",
                m.price_base_year
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
        ("引擎版本 Engine", format!("gep {}", crate::VERSION)),
        ("命令 Command", ctx.request.command_line.clone()),
        ("生成日期 Date", today()),
    ];
    for (k, v) in &facts {
        ws.write_string_with_format(r, 0, *k, &s.label)?;
        ws.write_string(r, 1, v)?;
        r += 1;
    }
    r += 1;
    ws.write_string_with_format(r, 0, "输入文件 Input files", &s.label)?;
    r += 1;
    let headers = ["文件 File", "路径 Path", "SHA-256", "字节 Bytes"];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(r, c as u16, *h, &s.header)?;
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
    let guide = [
        "如何阅读 How to read this book",
        "• 汇总：各县 GEP 及三大类（物质产品、调节服务、文化服务），市小计与全省合计；金额单位万元。",
        "• 实物量 / 价值量：县 × 指标的实物量（单位见表头）与价值量（万元）；小计与合计行等于其下各县之和。",
        "• 明细：每一个数的来源——输入单元格（文件 [工作表!单元格]）、系数（文件、键、来源等级）、公式、实物量、价格、价值。",
        "• 系数：本次实际使用的价格、单位面积服务量、树种参数及其来源与可信度（V 已核实, V2 二手, V-low 低可信, D 推算, U 未核实占位）。",
        "• 校验：读取与核算时发现的警告（小计不符、按 0 计的空值、面积差异等）和已通过的恒等式。",
        "• 公式与来源：docs/methodology.md。GEP = 物质产品 + 调节服务 + 文化服务。",
    ];
    for (i, line) in guide.iter().enumerate() {
        ws.write_string_with_format(r, 0, *line, if i == 0 { &s.label } else { &s.text })?;
        r += 1;
    }
    ws.set_column_width(0, 28)?;
    ws.set_column_width(1, 70)?;
    ws.set_column_width(2, 66)?;
    ws.set_column_width(3, 12)?;
    Ok(())
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
    ws.write_string_with_format(r, 3, level_label(row.level), f)?;
    Ok(())
}

fn labels() -> Vec<String> {
    ["区划代码", "名称", "所属市", "级别"]
        .iter()
        .map(|x| (*x).to_string())
        .collect()
}

fn summary(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    let acc = ctx.accounts;
    ws.write_string_with_format(0, 0, format!("{}年 GEP 汇总（万元）", acc.year), &s.title)?;
    let mut headers = labels();
    for c in Category::ALL {
        headers.push(format!("{}\n(万元)", c.label_zh()));
    }
    headers.extend(
        [
            "GEP\n(万元)",
            "GDP\n(万元)",
            "GEP/GDP",
            "单位面积 GEP\n(万元/km²)",
            "人均 GEP\n(元/人)",
            "GEP 排名\n(县)",
        ]
        .iter()
        .map(|x| (*x).to_string()),
    );
    header_row(ws, 2, &headers, 2, s)?;
    let mut ranked: Vec<(&str, f64)> = acc
        .level(Level::County)
        .map(|r| (r.code.as_str(), r.gep_cny))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut r = 3;
    for row in &acc.rows {
        write_row_labels(ws, r, row, s)?;
        let f = money_format(row, s);
        for (k, v) in row.category_cny.iter().enumerate() {
            ws.write_number_with_format(r, 4 + k as u16, v / WAN, f)?;
        }
        ws.write_number_with_format(r, 7, row.gep_cny / WAN, f)?;
        ws.write_number_with_format(r, 8, row.gdp_cny / WAN, f)?;
        if row.gdp_cny > 0.0 {
            ws.write_number_with_format(r, 9, row.gep_cny / row.gdp_cny, &s.ratio)?;
        }
        if let Some(a) = row.area_km2.filter(|a| *a > 0.0) {
            ws.write_number_with_format(r, 10, row.gep_cny / WAN / a, f)?;
        } else {
            ws.write_string(r, 10, "—")?;
        }
        if row.population > 0.0 {
            ws.write_number_with_format(r, 11, row.gep_cny / row.population, f)?;
        }
        if let Some(pos) = ranked
            .iter()
            .position(|(c, _)| *c == row.code && row.level == Level::County)
        {
            ws.write_number(r, 12, (pos + 1) as f64)?;
        }
        r += 1;
    }
    r += 1;
    ws.write_string_with_format(r, 0, "说明：单位面积 GEP 仅对 regions.csv 中有公开面积的县给出（“—”= 面积未公开）；排名按县 GEP 由高到低。", &s.note)?;
    widths(ws, &headers)?;
    print_setup(ws, &format!("{}年 GEP 汇总", acc.year), 2)
}

fn widths(ws: &mut Worksheet, headers: &[String]) -> std::result::Result<(), XlsxError> {
    ws.set_column_width(0, 9)?;
    ws.set_column_width(1, 12)?;
    ws.set_column_width(2, 9)?;
    ws.set_column_width(3, 10)?;
    for c in 4..headers.len() as u16 {
        ws.set_column_width(c, 15)?;
    }
    Ok(())
}

fn physical(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    let acc = ctx.accounts;
    ws.write_string_with_format(0, 0, format!("{}年 GEP 实物量账户", acc.year), &s.title)?;
    let mut headers = labels();
    for ind in &acc.indicators {
        headers.push(match ind.quantity_unit {
            Some(u) => format!("{}\n({u})", ind.label_zh),
            None => format!("{}\n(按产值计，无实物量)", ind.label_zh),
        });
    }
    header_row(ws, 2, &headers, 2, s)?;
    for (r, row) in (3u32..).zip(&acc.rows) {
        write_row_labels(ws, r, row, s)?;
        let f = if row.level == Level::County {
            &s.quantity
        } else {
            &s.quantity_bold
        };
        for (k, q) in row.quantities.iter().enumerate() {
            match q {
                Some(q) => ws.write_number_with_format(r, 4 + k as u16, *q, f)?,
                None => ws.write_string(r, 4 + k as u16, "—")?,
            };
        }
    }
    widths(ws, &headers)?;
    print_setup(ws, &format!("{}年 GEP 实物量", acc.year), 2)
}

fn value(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    let acc = ctx.accounts;
    ws.write_string_with_format(
        0,
        0,
        format!("{}年 GEP 价值量账户（万元）", acc.year),
        &s.title,
    )?;
    let mut headers = labels();
    for ind in &acc.indicators {
        headers.push(format!(
            "{}\n{}\n(万元)",
            ind.category.label_zh(),
            ind.label_zh
        ));
    }
    headers.push("GEP\n(万元)".into());
    header_row(ws, 2, &headers, 2, s)?;
    for (r, row) in (3u32..).zip(&acc.rows) {
        write_row_labels(ws, r, row, s)?;
        let f = money_format(row, s);
        for (k, v) in row.values_cny.iter().enumerate() {
            ws.write_number_with_format(r, 4 + k as u16, v / WAN, f)?;
        }
        ws.write_number_with_format(r, 4 + row.values_cny.len() as u16, row.gep_cny / WAN, f)?;
    }
    widths(ws, &headers)?;
    print_setup(ws, &format!("{}年 GEP 价值量", acc.year), 2)
}

fn lines(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    let df = &ctx.accounts.lines;
    ws.write_string_with_format(
        0,
        0,
        "核算明细：每个价值量的输入单元格、系数、公式与结果",
        &s.title,
    )?;
    let headers: Vec<String> = [
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
        "价值 (元)",
    ]
    .iter()
    .map(|x| (*x).to_string())
    .collect();
    header_row(ws, 2, &headers, 3, s)?;
    let columns = df.columns();
    for (r, i) in (3u32..).zip(0..df.height()) {
        for (c, column) in columns.iter().enumerate() {
            let cell = column
                .get(i)
                .map_err(|e| XlsxError::ParameterError(e.to_string()))?;
            match cell {
                polars::prelude::AnyValue::Float64(v) => {
                    ws.write_number_with_format(r, c as u16, v, &s.quantity)?;
                }
                polars::prelude::AnyValue::String(t) => {
                    let t = if c == 1 {
                        crate::account::indicator(t).map_or(t, |ind| ind.label_zh)
                    } else {
                        t
                    };
                    ws.write_string(r, c as u16, t)?;
                }
                polars::prelude::AnyValue::StringOwned(t) => {
                    ws.write_string(r, c as u16, t.as_str())?;
                }
                _ => {}
            }
        }
    }
    for (c, w) in [9, 10, 12, 32, 14, 16, 60, 10, 12, 48, 16, 10, 18, 12, 16]
        .iter()
        .enumerate()
    {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, "核算明细", 2)
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
        format!(
            "本次使用的系数：{} {}（{}）",
            c.manifest.name,
            c.manifest.version,
            c.origin()
        ),
        &s.title,
    )?;
    let mut r = 2;
    ws.write_string_with_format(r, 0, "价格 prices.toml", &s.label)?;
    r += 1;
    let headers = [
        "键 Key",
        "值 Value",
        "单位 Unit",
        "价格年 Year",
        "范围 Scope",
        "等级 Status",
        "来源 Source",
        "备注 Note",
    ];
    for (k, h) in headers.iter().enumerate() {
        ws.write_string_with_format(r, k as u16, *h, &s.header)?;
    }
    r += 1;
    for (key, p) in &c.prices {
        ws.write_string(r, 0, key)?;
        ws.write_number(r, 1, p.value)?;
        ws.write_string(r, 2, &p.unit)?;
        ws.write_number(r, 3, f64::from(p.year))?;
        ws.write_string(r, 4, &p.scope)?;
        ws.write_string(r, 5, &p.status)?;
        ws.write_string(r, 6, &p.source)?;
        ws.write_string(r, 7, &p.note)?;
        r += 1;
    }
    r += 1;
    ws.write_string_with_format(r, 0, "单位面积服务量 service_rates.csv", &s.label)?;
    r += 1;
    let headers = [
        "估价类 Class",
        "指标 Indicator",
        "值 Rate",
        "单位 Unit",
        "折算值 (m³ 或 t C /ha/yr)",
        "年份 Year",
        "范围 Scope",
        "等级 Status",
        "来源 Source",
    ];
    for (k, h) in headers.iter().enumerate() {
        ws.write_string_with_format(r, k as u16, *h, &s.header)?;
    }
    r += 1;
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
    r += 1;
    ws.write_string_with_format(r, 0, "树种参数 forest_types.csv", &s.label)?;
    r += 1;
    let headers = [
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
    ];
    for (k, h) in headers.iter().enumerate() {
        ws.write_string_with_format(r, k as u16, *h, &s.header)?;
    }
    r += 1;
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
    r += 1;
    ws.write_string_with_format(r, 0, "地类对照 land_classes.csv", &s.label)?;
    r += 1;
    for (k, h) in [
        "地类 Land class",
        "级别 Level",
        "上级 Parent",
        "估价类 Valuation class",
        "备注 Note",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string_with_format(r, k as u16, *h, &s.header)?;
    }
    r += 1;
    for lc in &c.land_classes {
        ws.write_string(r, 0, &lc.land_class)?;
        ws.write_number(r, 1, f64::from(lc.level))?;
        ws.write_string(r, 2, &lc.parent)?;
        ws.write_string(r, 3, &lc.valuation_class)?;
        ws.write_string(r, 4, &lc.note)?;
        r += 1;
    }
    ws.set_column_width(0, 22)?;
    for col in 1..6 {
        ws.set_column_width(col, 14)?;
    }
    ws.set_column_width(6, 40)?;
    ws.set_column_width(8, 60)?;
    ws.set_column_width(9, 60)?;
    Ok(())
}

fn checks(
    ws: &mut Worksheet,
    ctx: &BookContext<'_>,
    s: &Styles,
) -> std::result::Result<(), XlsxError> {
    ws.write_string_with_format(0, 0, "校验 Checks", &s.title)?;
    let mut r = 2;
    ws.write_string_with_format(r, 0, "恒等式（每次运行检查，相对误差 ≤ 1e-9）", &s.label)?;
    r += 1;
    for line in [
        "✔ 每行 GEP = Σ 各指标价值量 = 物质产品 + 调节服务 + 文化服务",
        "✔ 每个市小计 = Σ 所辖县（按指标）",
        "✔ 全省合计 = Σ 各市小计 = Σ 全部县（按指标）",
        "✔ 每个核算键（地类、估价类、树种组、价格键）均找到系数；未匹配即报错，不按 0 计",
    ] {
        ws.write_string(r, 0, line)?;
        r += 1;
    }
    r += 1;
    let headers = ["级别 Severity", "位置 Location", "说明 Message"];
    for (k, h) in headers.iter().enumerate() {
        ws.write_string_with_format(r, k as u16, *h, &s.header)?;
    }
    let header_at = r;
    r += 1;
    if ctx.warnings.is_empty() {
        ws.write_string(r, 0, "无警告 (no warnings)")?;
    }
    for w in ctx.warnings {
        ws.write_string(
            r,
            0,
            if w.severity == Severity::Warning {
                "警告 warning"
            } else {
                "错误 error"
            },
        )?;
        ws.write_string(r, 1, &w.location)?;
        ws.write_string(r, 2, &w.message)?;
        r += 1;
    }
    ws.set_column_width(0, 14)?;
    ws.set_column_width(1, 44)?;
    ws.set_column_width(2, 110)?;
    ws.set_freeze_panes(header_at + 1, 0)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_are_right() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(1_700_000_000), (2023, 11, 14));
        assert_eq!(civil_date(951_782_400), (2000, 2, 29));
    }
}
