//! One integration-test binary: runs the real `gep` executable on the demo workbook, on
//! workbooks built inside the tests, and reads the written books back with calamine.

mod util;

mod audit;
mod batch;
mod book;
mod cli;
mod declared;
mod diff;
mod esv_published;
mod example_set;
mod golden;
mod invalid;
mod layouts;
mod national;
mod print;
mod recalc;
mod registry;
mod template;
