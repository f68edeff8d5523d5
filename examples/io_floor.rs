//! The I/O floor of a run, for `bench/` (issue 14): only what any tool must do with the same
//! files — read every cell of the input workbook with calamine, then write a workbook with the
//! same sheets, numbers, strings and formulas as gep's book with rust_xlsxwriter (明细 in
//! constant-memory mode, as gep writes it). No validation, no valuation.
//!
//! `cargo run --release --example io_floor -- INPUT.xlsx BOOK.xlsx OUT.xlsx`
//! (BOOK.xlsx: a book written by `gep run` from INPUT.xlsx; read beforehand, outside the timing).
//! It prints its timed part and how long after its start the book's cells were ready
//! ("prepared in"): bench/ times the floor as a process, like gep, less that preparation.

use std::time::Instant;

use calamine::{Data, Reader, Xlsx, open_workbook};
use rust_xlsxwriter::{Formula, Workbook};

type Cells = Vec<(u32, u16, Data, Option<String>)>;

fn main() {
    let process_start = Instant::now();
    let args: Vec<String> = std::env::args().collect();
    let (input, book, out) = (&args[1], &args[2], &args[3]);
    // The book's cells and formulas, prepared before the clock starts.
    let mut wb: Xlsx<_> = open_workbook(book).expect("book");
    let mut sheets: Vec<(String, Cells)> = Vec::new();
    for name in wb.sheet_names() {
        let values = wb.worksheet_range(&name).expect("sheet");
        let formulas = wb.worksheet_formula(&name).expect("formulas");
        let (fr, fc) = formulas.start().unwrap_or((0, 0));
        let (vr, vc) = values.start().unwrap_or((0, 0));
        let mut cells = Cells::new();
        for (r, c, d) in values.used_cells() {
            let (r, c) = (r as u32 + vr, c as u32 + vc);
            let f = (r >= fr && c >= fc)
                .then(|| formulas.get(((r - fr) as usize, (c - fc) as usize)))
                .flatten()
                .filter(|f| !f.is_empty())
                .cloned();
            cells.push((r, c as u16, d.clone(), f));
        }
        sheets.push((name, cells));
    }

    let start = Instant::now();
    let prepared = start.duration_since(process_start);
    let mut input_wb: Xlsx<_> = open_workbook(input).expect("input");
    let mut read_cells = 0usize;
    for name in input_wb.sheet_names() {
        read_cells += input_wb
            .worksheet_range(&name)
            .expect("input sheet")
            .used_cells()
            .count();
    }
    let read = start.elapsed();
    let mut out_wb = Workbook::new();
    for (name, cells) in &sheets {
        let ws = if name.starts_with("明细") {
            out_wb.add_worksheet_with_constant_memory().expect("sheet")
        } else {
            out_wb.add_worksheet()
        };
        ws.set_name(name).expect("name");
        for (r, c, d, f) in cells {
            let written = match (d, f) {
                (_, Some(f)) => ws
                    .write_formula(
                        *r,
                        *c,
                        Formula::new(format!("={f}")).set_result(d.to_string()),
                    )
                    .map(|_| ()),
                (Data::Float(v), None) => ws.write_number(*r, *c, *v).map(|_| ()),
                (Data::Int(v), None) => ws.write_number(*r, *c, *v as f64).map(|_| ()),
                (Data::String(s), None) => ws.write_string(*r, *c, s).map(|_| ()),
                _ => Ok(()),
            };
            written.expect("cell");
        }
    }
    let cells_written = start.elapsed();
    out_wb.save(out).expect("save");
    // The book's cells were prepared in `prepared` seconds after main started: bench/ subtracts
    // it from the process's wall time, so that the floor, like gep, is timed from exec to exit.
    eprintln!(
        "io_floor: read {read_cells} cells in {:.3} s, cells written at {:.3} s, total {:.3} s, prepared in {:.4} s",
        read.as_secs_f64(),
        cells_written.as_secs_f64(),
        start.elapsed().as_secs_f64(),
        prepared.as_secs_f64()
    );
    // As gep does, the process ends without freeing its cells one by one.
    std::process::exit(0);
}
