//! `gep template`: the blank input workbook of a coefficient set — every sheet, the county list
//! prefilled, units in the headers, data validation (numbers ≥ 0, land classes and forest types as
//! dropdowns), protected header rows, and a 填表说明 instructions sheet in Chinese.

use std::path::Path;

use rust_xlsxwriter::{
    Color, DataValidation, DataValidationRule, Format, FormatBorder, Formula, Workbook, Worksheet,
    XlsxError,
};

use crate::coefficients::Coefficients;
use crate::error::{Error, Result};
use crate::schema::{ColumnKind, ColumnSpec, SheetKind, col, sheet};
use crate::units::Dimension;

/// Rows left open (unlocked, validated) below the prefilled ones in long-form sheets.
const SPARE_ROWS: u32 = 2000;

struct Styles {
    title: Format,
    header: Format,
    locked: Format,
    open: Format,
    number: Format,
}

fn styles() -> Styles {
    Styles {
        title: Format::new().set_bold().set_font_size(14),
        header: Format::new()
            .set_bold()
            .set_text_wrap()
            .set_background_color(Color::RGB(0xDDEBF7))
            .set_border(FormatBorder::Thin),
        locked: Format::new(),
        open: Format::new().set_unlocked(),
        number: Format::new().set_unlocked().set_num_format("#,##0.00"),
    }
}

/// Writes the template for `year` and the set `coef` to `path` (atomically).
///
/// # Errors
/// [`Error::Book`] when the workbook cannot be built; [`Error::Io`] when it cannot be written.
pub fn write(path: &Path, year: i32, coef: &Coefficients) -> Result<()> {
    let bytes = build(year, coef).map_err(|source| Error::Book {
        path: path.to_path_buf(),
        source,
    })?;
    crate::files::write_atomically(path, |f| std::io::Write::write_all(f, &bytes))
}

/// The land classes offered row by row for each county: the set's `template_land_classes`, or
/// every second-level class and every first-level class without children.
fn template_classes(coef: &Coefficients) -> Vec<String> {
    if !coef.manifest.template_land_classes.is_empty() {
        return coef.manifest.template_land_classes.clone();
    }
    coef.land_classes
        .iter()
        .filter(|c| c.level == 2 || !coef.land_classes.iter().any(|k| k.parent == c.land_class))
        .map(|c| c.land_class.clone())
        .collect()
}

/// The unit a column is offered in: the one statistical yearbooks print it in (the reader
/// converts any other unit of the dimension written in the units row).
fn display_unit(kind: SheetKind, column: &ColumnSpec) -> &'static str {
    let ColumnKind::Number(dimension) = column.kind else {
        return "";
    };
    match dimension {
        Dimension::Area => "公顷",
        Dimension::Volume if kind == SheetKind::WaterSupply => "万m³",
        Dimension::Volume => "m³",
        Dimension::Money => "万元",
        Dimension::People if column.key == col::TOURIST_VISITS => "万人次",
        Dimension::People => "万人",
        Dimension::Mass => "吨",
        Dimension::Energy => "万kWh",
        Dimension::Depth => "mm",
        Dimension::Free => "",
    }
}

/// The columns of sheet `kind` as the schema defines them: (header, unit). The header is the
/// column's first alias, so every column the reader knows is in the template (tested).
fn columns(kind: SheetKind) -> Vec<(&'static str, &'static str)> {
    sheet(kind)
        .columns
        .iter()
        .map(|c| {
            (
                c.aliases.first().copied().unwrap_or(c.key),
                display_unit(kind, c),
            )
        })
        .collect()
}

/// Writes the header row (names) and, below it, the units row; returns the first data row.
fn header(
    ws: &mut Worksheet,
    row: u32,
    headers: &[(&str, &str)],
    s: &Styles,
) -> std::result::Result<u32, XlsxError> {
    for (c, (name, unit)) in headers.iter().enumerate() {
        ws.write_string_with_format(row, c as u16, *name, &s.header)?;
        let unit = if c == 0 { "单位" } else { unit };
        ws.write_string_with_format(row + 1, c as u16, unit, &s.header)?;
        ws.set_column_width(c as u16, if c < 2 { 12 } else { 16 })?;
    }
    ws.set_freeze_panes(row + 2, 2)?;
    Ok(row + 2)
}

fn non_negative(
    ws: &mut Worksheet,
    first_row: u32,
    last_row: u32,
    first_col: u16,
    last_col: u16,
) -> std::result::Result<(), XlsxError> {
    let rule = DataValidation::new()
        .allow_decimal_number(DataValidationRule::GreaterThanOrEqualTo(0.0))
        .set_error_title("数值无效")?
        .set_error_message("请输入不小于 0 的数值；未报告可留空或填“—”。")?;
    ws.add_data_validation(first_row, first_col, last_row, last_col, &rule)?;
    Ok(())
}

fn dropdown(
    ws: &mut Worksheet,
    first_row: u32,
    last_row: u32,
    col: u16,
    range: &str,
) -> std::result::Result<(), XlsxError> {
    let rule = DataValidation::new()
        .allow_list_formula(Formula::new(range))
        .set_error_title("不在代码表中")?
        .set_error_message("请从下拉列表中选择（见“代码表”工作表）。")?;
    ws.add_data_validation(first_row, col, last_row, col, &rule)?;
    Ok(())
}

/// Locks the title and header rows; leaves every cell below them open for input.
fn protect(ws: &mut Worksheet, width: u16, s: &Styles) -> std::result::Result<(), XlsxError> {
    for c in 0..width {
        ws.set_column_format(c, &s.open)?;
    }
    ws.protect();
    Ok(())
}

/// Builds the template in memory.
///
/// # Errors
/// rust_xlsxwriter's errors.
pub fn build(year: i32, coef: &Coefficients) -> std::result::Result<Vec<u8>, XlsxError> {
    let s = styles();
    let mut wb = Workbook::new();
    let province = &coef.manifest.province;
    let counties = &coef.regions;
    let classes = template_classes(coef);

    // 填表说明
    let ws = wb.add_worksheet().set_name("填表说明")?;
    let lines = [
        format!("{province}{year}年 GEP 核算基础数据表（空白模板，系数集 {} {}）", coef.manifest.name, coef.manifest.version),
        String::new(),
        "1. 每张表第 2 行为表头、第 3 行为单位，请勿修改表头；表头行已锁定（无密码，可在“审阅→撤消工作表保护”中解除）。".into(),
        "2. 区划代码为 6 位县级代码，已按系数集 regions.csv 预填；县名须与代码一致。".into(),
        "3. 第 3 行为单位行（公顷、m³、万m³、万元、万人）；如需改用其他单位（亩、万亩、km²、亿m³、元、亿元、人），直接改单位行即可，程序会换算。".into(),
        "4. 未报告的数值可留空或填“—”“/”（面积、供水量、产值按 0 计，并在校验表中列出）；人口、地区生产总值、森林面积和蓄积量必须填写。".into(),
        "5. 土地利用为长表：每县每个地类一行，地类从下拉列表选择（第三次全国国土调查地类）。同一县同时填写一级地类与其二级地类时，一级地类视为小计，只作核对。".into(),
        "6. 森林资源：每县每个优势树种组一行（树种组从下拉列表选择），填面积、蓄积量和年生长量；如有上年蓄积，填入“森林资源(上年)”表，用于按蓄积变化计算固碳。".into(),
        "7. 供水表中供水量（按水源）合计须等于用水量（按用途）合计，误差不超过 0.5%。".into(),
        "8. 可在表下方加“注：”开头的说明行；可加 合计/小计/市 小计行，程序只核对、不累加。".into(),
        "9. 经济社会表的旅游总收入、接待游客、水电发电量为可选项（休闲旅游、生态能源）；环境表为可选表（GEEP 与空气/水质净化上限），整表不填则不计算 GEEP、不设上限。".into(),
        "10. 实物量表（可选）：已有模型结果（RUSLE 土壤保持、RWEQ 防风固沙、水库调蓄量等）时每县每指标填一行，单位写在本行“单位”列，程序以此替代按面积系数的估算，并在核算明细中注明来源。".into(),
        "11. 用水量平衡法计算水源涵养时，填写“气象”表（区划代码、县、降水量(mm)、蒸散量(mm)，每县一行）；系数集须给出各地类径流系数。不用此法时“气象”表留空（空表视为无此表）。".into(),
        "12. 土地转移表（可选）：有两期土地利用转移矩阵时，每县每对“原地类→现地类”填一行面积（地类不变的面积也填），与 --previous 上年数据一起运行得到面积账户的总流量和转移矩阵；各县按原地类合计须等于上年面积、按现地类合计须等于本年面积。不用时留空。".into(),
        "13. 填好后运行：gep check 本文件.xlsx（检查全部问题并给出单元格位置），再运行 gep run --data 本文件.xlsx。".into(),
    ];
    for (i, line) in lines.iter().enumerate() {
        ws.write_string_with_format(i as u32, 0, line, if i == 0 { &s.title } else { &s.locked })?;
    }
    ws.set_column_width(0, 120)?;

    // 代码表 (lists for the dropdowns), hidden.
    let lists = wb.add_worksheet().set_name("代码表")?;
    lists.write_string(0, 0, "地类")?;
    lists.write_string(0, 1, "优势树种组")?;
    for (i, lc) in coef.land_classes.iter().enumerate() {
        lists.write_string(i as u32 + 1, 0, &lc.land_class)?;
    }
    for (i, ft) in coef.forest_types.iter().enumerate() {
        lists.write_string(i as u32 + 1, 1, &ft.forest_type)?;
    }
    lists.set_hidden(true);
    let class_range = format!("=代码表!$A$2:$A${}", coef.land_classes.len() + 1);
    let type_range = format!("=代码表!$B$2:$B${}", coef.forest_types.len() + 1);

    // 土地利用 (long form, one row per county and class)
    let ws = wb
        .add_worksheet()
        .set_name(sheet(SheetKind::LandCover).label)?;
    ws.write_string_with_format(
        0,
        0,
        format!("{year}年{province}各县(市、区)土地利用现状"),
        &s.title,
    )?;
    let land_columns = columns(SheetKind::LandCover);
    let first = header(ws, 1, &land_columns, &s)?;
    let mut r = first;
    for county in counties {
        for class in &classes {
            ws.write_string_with_format(r, 0, &county.code, &s.open)?;
            ws.write_string_with_format(r, 1, &county.name, &s.open)?;
            ws.write_string_with_format(r, 2, class, &s.open)?;
            ws.write_blank(r, 3, &s.number)?;
            r += 1;
        }
    }
    dropdown(ws, first, r + SPARE_ROWS, 2, &class_range)?;
    non_negative(ws, first, r + SPARE_ROWS, 3, 3)?;
    protect(ws, land_columns.len() as u16, &s)?;

    // 森林资源 and 森林资源(上年) (long form, rows added by the user)
    for (kind, y) in [
        (SheetKind::ForestStock, year),
        (SheetKind::ForestStockPrevious, year - 1),
    ] {
        let ws = wb.add_worksheet().set_name(sheet(kind).label)?;
        ws.write_string_with_format(
            0,
            0,
            format!("{y}年{province}各县(市、区)乔木林分优势树种组面积与蓄积"),
            &s.title,
        )?;
        let headers = columns(kind);
        let first = header(ws, 1, &headers, &s)?;
        let width = headers.len() as u16;
        dropdown(ws, first, first + SPARE_ROWS * 4, 2, &type_range)?;
        non_negative(ws, first, first + SPARE_ROWS * 4, 3, width - 1)?;
        protect(ws, width, &s)?;
    }

    // 供水, 经济社会, 环境 (wide form, one prefilled row per county) and 气象 (one row per
    // county, added by the user: a blank 气象 sheet is no 气象 sheet).
    let wide = [
        (
            SheetKind::WaterSupply,
            format!("{year}年{province}各县(市、区)供水量与用水量"),
            true,
        ),
        (
            SheetKind::Economy,
            format!("{year}年{province}各县(市、区)主要经济社会指标"),
            true,
        ),
        (
            SheetKind::Environment,
            format!(
                "{year}年{province}各县(市、区)主要污染物排放与生态破坏（可选：GEEP 与净化能力上限）"
            ),
            true,
        ),
        (
            SheetKind::Climate,
            format!("{year}年{province}各县(市、区)降水量与蒸散量（可选：水量平衡法水源涵养）"),
            false,
        ),
    ];
    for (kind, title, prefilled) in wide {
        let ws = wb.add_worksheet().set_name(sheet(kind).label)?;
        ws.write_string_with_format(0, 0, &title, &s.title)?;
        let headers = columns(kind);
        let first = header(ws, 1, &headers, &s)?;
        let width = headers.len() as u16;
        let last = if prefilled {
            for (i, county) in counties.iter().enumerate() {
                let r = first + i as u32;
                ws.write_string_with_format(r, 0, &county.code, &s.open)?;
                ws.write_string_with_format(r, 1, &county.name, &s.open)?;
                for c in 2..width {
                    ws.write_blank(r, c, &s.number)?;
                }
            }
            first + counties.len() as u32 - 1
        } else {
            first + counties.len() as u32 + SPARE_ROWS
        };
        non_negative(ws, first, last, 2, width - 1)?;
        protect(ws, width, &s)?;
    }

    // 实物量 (long form, optional): model results that replace the rate-based estimate.
    let ws = wb
        .add_worksheet()
        .set_name(sheet(SheetKind::Physical).label)?;
    ws.write_string_with_format(
        0,
        0,
        format!("{year}年{province}各县(市、区)模型实物量（可选：RUSLE、RWEQ、InVEST 等结果，每县每指标一行）"),
        &s.title,
    )?;
    let headers = columns(SheetKind::Physical);
    for (c, (h, _)) in headers.iter().enumerate() {
        ws.write_string_with_format(1, c as u16, *h, &s.header)?;
        ws.set_column_width(c as u16, if c == 5 { 40 } else { 14 })?;
    }
    ws.set_freeze_panes(2, 2)?;
    for r in 2..2 + SPARE_ROWS {
        for c in 0..headers.len() as u16 {
            ws.write_blank(r, c, if c == 3 { &s.number } else { &s.open })?;
        }
    }
    non_negative(ws, 2, 1 + SPARE_ROWS, 3, 3)?;
    protect(ws, headers.len() as u16, &s)?;

    // 土地转移 (long form, optional): the change matrix since the previous year.
    let ws = wb
        .add_worksheet()
        .set_name(sheet(SheetKind::Transition).label)?;
    ws.write_string_with_format(
        0,
        0,
        format!(
            "{}—{year}年{province}各县(市、区)土地利用转移矩阵（可选：每县每对原地类→现地类一行，含未变化面积）",
            year - 1
        ),
        &s.title,
    )?;
    let headers = columns(SheetKind::Transition);
    let first = header(ws, 1, &headers, &s)?;
    let last = first + SPARE_ROWS * 4;
    dropdown(ws, first, last, 2, &class_range)?;
    dropdown(ws, first, last, 3, &class_range)?;
    non_negative(ws, first, last, 4, 4)?;
    protect(ws, headers.len() as u16, &s)?;
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{Limits, Source, workbook};
    use crate::schema::SHEETS;

    /// Regression: the template lacked the 气象 sheet and 采煤沉陷面积 that the reader accepts.
    /// Read back by gep's own reader, it has every sheet and every column of the schema, so every
    /// service's input columns too.
    #[test]
    fn the_template_has_every_sheet_and_column_the_reader_knows() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let bytes = build(2021, &coef).unwrap();
        let mut issues = crate::error::Issues::new();
        let tables = workbook(
            &Source::from_bytes("blank.xlsx", None, bytes),
            &Limits::default(),
            &mut issues,
        )
        .unwrap();
        for spec in SHEETS {
            let table = tables
                .iter()
                .find(|t| t.kind == spec.kind)
                .unwrap_or_else(|| panic!("no {} sheet", spec.label));
            for column in spec.columns {
                assert!(
                    table.column(column.key).is_some(),
                    "{}: column {} not recognised",
                    spec.label,
                    column.key
                );
            }
        }
        for service in crate::account::SERVICES {
            for key in service.inputs {
                assert!(
                    tables.iter().any(|t| t.column(key).is_some()),
                    "{}: input {key} not in the template",
                    service.key
                );
            }
        }
    }
}
