//! Terminal progress for long runs: the stage a run is in and the 明细 lines written, on stderr,
//! shown only once a run has taken more than a second (never on the demo, never when piped).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a run goes quietly before its progress is shown.
const SHOW_AFTER: Duration = Duration::from_secs(1);

struct Progress {
    bar: ProgressBar,
    start: Instant,
    shown: AtomicBool,
    /// A batch counts workbooks; the stages of its runs are not shown.
    batch: AtomicBool,
}

static PROGRESS: OnceLock<Progress> = OnceLock::new();

/// Turns progress on for this process (the CLI does, when stderr is a terminal and neither
/// `--quiet` nor `--format json` is given). Without it every call here does nothing.
pub fn enable() {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {msg} {wide_bar} {pos}/{len} [{elapsed}]")
    {
        bar.set_style(style);
    }
    let _ = PROGRESS.set(Progress {
        bar,
        start: Instant::now(),
        shown: AtomicBool::new(false),
        batch: AtomicBool::new(false),
    });
}

/// Shows the bar once the run has lasted [`SHOW_AFTER`].
fn reveal(p: &Progress) {
    if !p.shown.load(Ordering::Relaxed) && p.start.elapsed() >= SHOW_AFTER {
        p.shown.store(true, Ordering::Relaxed);
        p.bar.set_draw_target(ProgressDrawTarget::stderr());
        p.bar.enable_steady_tick(Duration::from_millis(120));
    }
}

/// The progress of a run, unless it is part of a batch.
fn of_run() -> Option<&'static Progress> {
    PROGRESS.get().filter(|p| !p.batch.load(Ordering::Relaxed))
}

/// The run enters `stage` (`read`, `value`, `book` …); a stage without a count.
pub fn stage(stage: &str) {
    if let Some(p) = of_run() {
        p.bar.set_length(0);
        p.bar.set_position(0);
        p.bar.set_message(stage.to_string());
        reveal(p);
    }
}

/// The current stage has `total` steps (lines to write).
pub fn steps(total: u64) {
    if let Some(p) = of_run() {
        p.bar.set_length(total);
        p.bar.set_position(0);
        reveal(p);
    }
}

/// `n` more steps are done.
pub fn advance(n: u64) {
    if let Some(p) = of_run() {
        p.bar.inc(n);
        reveal(p);
    }
}

/// A batch of `total` workbooks starts: the bar counts workbooks from here on.
pub fn batch(total: u64) {
    if let Some(p) = PROGRESS.get() {
        p.batch.store(true, Ordering::Relaxed);
        p.bar.set_message("workbooks");
        p.bar.set_length(total);
        p.bar.set_position(0);
        reveal(p);
    }
}

/// One workbook of the batch is done.
pub fn batch_done() {
    if let Some(p) = PROGRESS.get() {
        p.bar.inc(1);
        reveal(p);
    }
}

/// Removes the bar before results are printed.
pub fn finish() {
    if let Some(p) = PROGRESS.get() {
        p.bar.finish_and_clear();
    }
}
