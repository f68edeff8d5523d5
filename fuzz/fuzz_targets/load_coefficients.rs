//! Fuzz the coefficient loader: the first byte picks which file of the Shanxi set is replaced
//! by the rest of the input; loading must succeed or report located problems, never panic.
#![no_main]

use gep::coefficients::{Coefficients, EMBEDDED_SHANXI, SetSource};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let target = usize::from(pick) % EMBEDDED_SHANXI.len();
    let files: Vec<(&str, String)> = EMBEDDED_SHANXI
        .iter()
        .enumerate()
        .map(|(i, (name, text))| {
            let text = if i == target { String::from_utf8_lossy(rest).into_owned() } else { (*text).to_string() };
            (*name, text)
        })
        .collect();
    let _ = Coefficients::load_from(
        SetSource::Memory(&files),
        false,
        &gep::account::registry::demand(),
    );
});
