//! Fuzz the workbook reader: arbitrary bytes as a workbook must give sheets or located
//! problems, never a panic, a hang or an unbounded allocation.
#![no_main]

use gep::error::Issues;
use gep::read::{Limits, Source, workbook};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = Source::from_bytes("fuzz.xlsx", None, data.to_vec());
    let limits = Limits { sheet_cells: 200_000, unzipped_bytes: 64 * 1024 * 1024, ..Limits::default() };
    let mut issues = Issues::new();
    let _ = workbook(&source, &limits, &mut issues);
});
