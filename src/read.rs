//! Stage 1, read: a workbook's bytes → one [`SheetTable`] per recognised input sheet.
//! Format by content (xlsx, xlsb, ods, xls), sheets by alias, headers normalised (two-row
//! and merged headers, units rows, title and footnote rows), cells parsed and converted to base units.

use std::collections::BTreeSet;
use std::io::{Cursor, Read as _};
use std::path::{Path, PathBuf};

use calamine::{
    Data, Dimensions, Ods, Range, Reader, Sheets, Xls, Xlsb, Xlsx, open_workbook_from_rs,
};

use crate::error::{Check, Error, Issues, Result, a1};
use crate::schema::{
    self, Blank, ColumnKind, SheetKind, SheetSpec, col, normalise_header, normalise_sheet_name,
};
use crate::units::{self, Unit, to_half_width};

/// What a workbook may cost to read. Defaults are documented in docs/input-workbook.md and
/// overridable on the command line (`--max-file-mb`, `--max-unzipped-mb`, `--max-cells`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input file, bytes.
    pub file_bytes: u64,
    /// Largest total decompressed size of a zip-based workbook, bytes.
    pub unzipped_bytes: u64,
    /// Largest decompressed / compressed ratio of a zip-based workbook.
    pub zip_ratio: u64,
    /// Most cells (of the used area) read from one sheet.
    pub sheet_cells: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            file_bytes: 200 * 1024 * 1024,
            unzipped_bytes: 1024 * 1024 * 1024,
            zip_ratio: 200,
            sheet_cells: 5_000_000,
        }
    }
}
/// How far down a sheet the header row is looked for.
const HEADER_SEARCH_ROWS: usize = 30;

/// The bytes of one input workbook, with the name used in messages and its SHA-256.
#[derive(Debug, Clone)]
pub struct Source {
    /// File name as shown in messages (`2021.xlsx`).
    pub name: String,
    /// Where it was read from; `None` for the demo workbook embedded in the binary.
    pub path: Option<PathBuf>,
    /// The content.
    pub bytes: Vec<u8>,
    /// Hex SHA-256 of the content.
    pub sha256: String,
}

impl Source {
    /// Wraps bytes already in memory.
    pub fn from_bytes(name: &str, path: Option<PathBuf>, bytes: Vec<u8>) -> Self {
        let sha256 = crate::files::sha256_hex(&bytes);
        Source {
            name: name.to_string(),
            path,
            bytes,
            sha256,
        }
    }

    /// Reads a workbook file, refusing files over `limits.file_bytes`.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::Invalid`] when it is too large.
    pub fn open(path: &Path, limits: &Limits) -> Result<Self> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        if meta.len() > limits.file_bytes {
            let mut issues = Issues::new();
            issues.error(
                name.clone(),
                format!(
                    "file is {} MB; the limit is {} MB",
                    meta.len() / (1024 * 1024),
                    limits.file_bytes / (1024 * 1024)
                ),
            );
            issues.into_result()?;
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| Error::io(path, e))?;
        Ok(Source::from_bytes(&name, Some(path.to_path_buf()), bytes))
    }
}

/// A workbook format, decided from the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Office Open XML.
    Xlsx,
    /// Excel binary workbook.
    Xlsb,
    /// OpenDocument spreadsheet.
    Ods,
    /// Excel 97-2003 (BIFF8 in a CFB container).
    Xls,
}

/// Decides the format from the bytes, checking zip sizes before anything is decompressed.
///
/// # Errors
/// A message for the user when the content is not a workbook or is too large unpacked.
pub fn sniff(bytes: &[u8], limits: &Limits) -> std::result::Result<Format, String> {
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // An encrypted OOXML workbook is a CFB container with an EncryptedPackage stream.
        let marker: Vec<u8> = "EncryptedPackage"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        if bytes.windows(marker.len()).any(|w| w == marker.as_slice()) {
            return Err("password-protected (encrypted) workbook: remove the password in Excel (File → Info → Protect Workbook) and save again".into());
        }
        check_cfb(bytes, limits)?;
        return Ok(Format::Xls);
    }
    if !bytes.starts_with(b"PK\x03\x04") {
        let start = String::from_utf8_lossy(&bytes[..bytes.len().min(64)]).to_lowercase();
        return Err(if bytes.is_empty() {
            "the file is empty".into()
        } else if start.trim_start().starts_with('<') {
            "this is an HTML/XML file, not a workbook (open it in Excel and save as .xlsx)".into()
        } else {
            "not a workbook (expected xlsx, xls, xlsb or ods content)".into()
        });
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("damaged workbook (zip: {e})"))?;
    let (mut total, mut compressed) = (0u64, 0u64);
    let mut names = Vec::new();
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| format!("damaged workbook (zip: {e})"))?;
        total = total.saturating_add(entry.size());
        compressed = compressed.saturating_add(entry.compressed_size());
        names.push(entry.name().map(|n| n.to_string()).unwrap_or_default());
    }
    if total > limits.unzipped_bytes || total > limits.zip_ratio.saturating_mul(compressed.max(1)) {
        return Err(format!(
            "refused: the workbook unpacks to {total} bytes from {compressed} (limits: {} bytes, ratio {}:1; a zip bomb or an oversized file)",
            limits.unzipped_bytes, limits.zip_ratio
        ));
    }
    if names.iter().any(|n| n == "xl/workbook.bin") {
        Ok(Format::Xlsb)
    } else if names.iter().any(|n| n == "xl/workbook.xml") {
        for name in names
            .iter()
            .filter(|n| n.to_ascii_lowercase().ends_with("sharedstrings.xml"))
        {
            check_xlsx_shared_strings(&mut zip, name)?;
        }
        Ok(Format::Xlsx)
    } else if names.iter().any(|n| n == "content.xml") {
        check_ods_content(&mut zip, limits)?;
        Ok(Format::Ods)
    } else {
        Err("a zip file that is not a workbook".into())
    }
}

/// Attributes of an element as calamine 0.38 scans them (`attrs.rs`, not quick-xml's stricter
/// parser): a key runs to the next `=` (trailing spaces trimmed), its value is quoted; the first
/// malformed attribute ends the scan, as it ends calamine's read of the element. The checks below
/// must see exactly what calamine will allocate from (fuzzing found a tag that quick-xml rejects
/// and calamine reads).
fn calamine_attrs(raw: &str) -> Vec<(&str, &str)> {
    let bytes = raw.as_bytes();
    let (len, mut pos) = (bytes.len(), 0);
    let mut out = Vec::new();
    loop {
        while pos < len && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if pos >= len {
            return out;
        }
        let key_start = pos;
        while pos < len && bytes[pos] != b'=' {
            pos += 1;
        }
        if pos >= len {
            return out;
        }
        let key = raw[key_start..pos].trim_ascii_end();
        pos += 1;
        while pos < len && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let Some(quote) = bytes
            .get(pos)
            .copied()
            .filter(|q| *q == b'"' || *q == b'\'')
        else {
            return out;
        };
        pos += 1;
        let value_start = pos;
        while pos < len && bytes[pos] != quote {
            pos += 1;
        }
        out.push((key, &raw[value_start..pos]));
        if pos < len {
            pos += 1;
        }
    }
}

/// The value of attribute `key` as calamine reads it (the first with that exact key).
fn calamine_attr(e: &quick_xml::events::BytesStart<'_>, key: &str) -> Option<String> {
    calamine_attrs(e.attributes_raw())
        .into_iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
}

/// Checks the string count an xlsx shared-strings part declares: calamine reserves that many
/// strings up front, so `uniqueCount="4000000000"` in a 3 KB part aborts on a 96 GB allocation.
/// Every string takes at least five bytes (`<si/>`), which bounds an honest count.
fn check_xlsx_shared_strings(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
) -> std::result::Result<(), String> {
    use quick_xml::events::Event;
    let entry = zip
        .by_name(name)
        .map_err(|e| format!("damaged workbook (zip: {e})"))?;
    let size = entry.size();
    let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(entry));
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == "sst" => {
                let Some(count) = calamine_attr(&e, "uniqueCount") else {
                    return Ok(());
                };
                let digits = count.trim().to_string();
                let Ok(count) = digits.trim_start_matches('+').parse::<u128>() else {
                    return Ok(()); // calamine ignores a count it cannot read
                };
                if count > u128::from(size / 5) {
                    return Err(format!(
                        "damaged workbook ({name} declares {count} shared strings in {size} bytes)"
                    ));
                }
                return Ok(());
            }
            Ok(Event::Eof) | Err(_) => return Ok(()), // calamine reports these itself
            Ok(_) => {}
        }
    }
}

/// Checks what calamine will expand an .ods sheet to before it does: repeated rows and columns
/// (`table:number-rows-repeated="1000000"`) turn a 700-byte file into 10⁸ cells (3 GB). Bounds
/// each table's stored cells and its expanded extent by `--max-cells`.
fn check_ods_content(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    limits: &Limits,
) -> std::result::Result<(), String> {
    use quick_xml::events::Event;
    const MAX_COLUMNS: u64 = 16_384; // calamine caps each row at this many columns
    let entry = zip
        .by_name("content.xml")
        .map_err(|e| format!("damaged workbook (zip: {e})"))?;
    let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(entry));
    let limit = limits.sheet_cells as u64;
    // Attributes as calamine reads them (a count it cannot parse fails its read: 1 here).
    let repeats = |e: &quick_xml::events::BytesStart<'_>, key: &str| -> u64 {
        calamine_attr(e, key)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(1)
    };
    let has_value = |e: &quick_xml::events::BytesStart<'_>| {
        calamine_attrs(e.attributes_raw()).iter().any(|(k, _)| {
            matches!(
                *k,
                "office:value"
                    | "office:string-value"
                    | "office:date-value"
                    | "office:time-value"
                    | "office:boolean-value"
                    | "table:formula"
            )
        })
    };
    // Per table: cells stored (each distinct row once) and the expanded extent, counted from the
    // first row with content to the last (trailing empty rows are never expanded).
    let mut stored = 0u64;
    let mut rows_span = 0u64; // rows up to and including the last row with content
    let mut rows_pending = 0u64; // empty rows after the last row with content
    let mut width = 0u64;
    let mut row_repeats = 0u64;
    let mut row_cells = 0u64; // columns up to the last non-empty cell of the current row
    let mut row_pending = 0u64; // empty columns after it
    let mut cell_open: Option<u64> = None; // repeats of a cell whose content is being read
    let mut buf = Vec::new();
    let check = |stored: u64, span: u64| -> std::result::Result<(), String> {
        let cells = stored.max(span);
        if cells > limit {
            return Err(format!(
                "a sheet's repeated rows and columns expand to {cells} cells (more than {limit}); limit with --max-cells"
            ));
        }
        Ok(())
    };
    loop {
        buf.clear();
        let event = match xml.read_event_into(&mut buf) {
            Ok(Event::Eof) | Err(_) => return Ok(()), // calamine reports malformed XML itself
            Ok(event) => event,
        };
        let is_start = matches!(event, Event::Start(_));
        match event {
            Event::Start(e) if e.name().as_ref() == "table:table" => {
                (stored, rows_span, rows_pending, width) = (0, 0, 0, 0);
            }
            Event::Start(e) if e.name().as_ref() == "table:table-row" => {
                row_repeats = repeats(&e, "table:number-rows-repeated");
                (row_cells, row_pending) = (0, 0);
            }
            Event::Empty(e) if e.name().as_ref() == "table:table-row" => {
                rows_pending =
                    rows_pending.saturating_add(repeats(&e, "table:number-rows-repeated"));
            }
            Event::Start(e) | Event::Empty(e)
                if matches!(
                    e.name().as_ref(),
                    "table:table-cell" | "table:covered-table-cell"
                ) =>
            {
                let n = repeats(&e, "table:number-columns-repeated");
                if has_value(&e) {
                    row_cells = (row_cells + row_pending).saturating_add(n).min(MAX_COLUMNS);
                    row_pending = 0;
                } else if is_start {
                    cell_open = Some(n); // content (text:p) decides
                    continue;
                } else {
                    row_pending = row_pending.saturating_add(n);
                }
            }
            Event::Start(e) if cell_open.is_some() && e.name().as_ref() == "text:p" => {
                if let Some(n) = cell_open.take() {
                    row_cells = (row_cells + row_pending).saturating_add(n).min(MAX_COLUMNS);
                    row_pending = 0;
                }
            }
            Event::End(e)
                if matches!(
                    e.name().as_ref(),
                    "table:table-cell" | "table:covered-table-cell"
                ) =>
            {
                if let Some(n) = cell_open.take() {
                    row_pending = row_pending.saturating_add(n);
                }
            }
            Event::End(e) if e.name().as_ref() == "table:table-row" => {
                if row_cells > 0 {
                    stored = stored.saturating_add(row_cells);
                    width = width.max(row_cells);
                    rows_span = rows_span
                        .saturating_add(rows_pending)
                        .saturating_add(row_repeats);
                    rows_pending = 0;
                } else {
                    rows_pending = rows_pending.saturating_add(row_repeats);
                }
                check(stored, rows_span.saturating_mul(width))?;
            }
            _ => {}
        }
    }
}

/// Checks the sector tables of a CFB (.xls) container before calamine reads it: every FAT and
/// mini-FAT chain must end without looping. A cyclic chain makes a reader that follows it append
/// forever (fuzzing found a 5 KB .xls that asked for 2.8 GB this way).
fn check_cfb(bytes: &[u8], limits: &Limits) -> std::result::Result<(), String> {
    const END: u32 = 0xFFFF_FFFE;
    let damaged = |what: &str| format!("damaged workbook (.xls container: {what})");
    let u16_at = |o: usize| {
        bytes
            .get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |o: usize| {
        bytes
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let shift = u16_at(30).ok_or_else(|| damaged("short header"))?;
    if !(7..=12).contains(&shift) {
        return Err(damaged("bad sector size"));
    }
    let sector = 1usize << shift;
    let sectors = bytes.len().saturating_sub(sector) / sector + 1;
    let sector_bytes = |id: u32| -> Option<&[u8]> {
        // A short last sector is read as far as the file goes, as calamine does.
        let start = (id as usize).checked_add(1)?.checked_mul(sector)?;
        let end = start.checked_add(sector)?.min(bytes.len());
        bytes.get(start..end).filter(|s| !s.is_empty())
    };
    // DIFAT: 109 entries in the header, then a chain of DIFAT sectors (bounded by the file).
    let mut fat_sectors: Vec<u32> = (0..109)
        .filter_map(|i| u32_at(76 + 4 * i))
        .filter(|id| *id < 0xFFFF_FFFA)
        .collect();
    let mut difat = u32_at(68).unwrap_or(END);
    let mut hops = 0;
    while difat < 0xFFFF_FFFA {
        hops += 1;
        if hops > sectors {
            return Err(damaged("looping DIFAT chain"));
        }
        let Some(s) = sector_bytes(difat) else {
            return Err(damaged("DIFAT beyond the end"));
        };
        let entries: Vec<u32> = s
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let (last, rest) = entries
            .split_last()
            .ok_or_else(|| damaged("empty DIFAT sector"))?;
        fat_sectors.extend(rest.iter().filter(|id| **id < 0xFFFF_FFFA));
        difat = *last;
    }
    let table = |ids: &[u32]| -> Vec<u32> {
        ids.iter()
            .filter_map(|id| sector_bytes(*id))
            .flat_map(|s| {
                s.chunks_exact(4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            })
            .collect()
    };
    let fat = table(&fat_sectors);
    // A chain graph has at most one successor per node: colour it to find any cycle.
    let acyclic = |next: &[u32]| -> bool {
        let mut state = vec![0u8; next.len()]; // 0 unseen, 1 on the current path, 2 known to end
        for start in 0..next.len() {
            let mut path = Vec::new();
            let mut id = start;
            let cyclic = loop {
                if id >= next.len() {
                    break false;
                }
                match state[id] {
                    1 => break true,
                    2 => break false,
                    _ => {}
                }
                state[id] = 1;
                path.push(id);
                let n = next[id];
                if n >= 0xFFFF_FFFA {
                    break false;
                }
                id = n as usize;
            };
            if cyclic {
                return false;
            }
            for p in path {
                state[p] = 2;
            }
        }
        true
    };
    if !acyclic(&fat) {
        return Err(damaged("looping sector chain"));
    }
    // Mini FAT: its sectors follow a FAT chain (acyclic now), bounded by the file.
    let mut mini_ids = Vec::new();
    let mut id = u32_at(60).unwrap_or(END);
    while (id as usize) < fat.len() && mini_ids.len() <= sectors {
        mini_ids.push(id);
        id = fat[id as usize];
    }
    let mini_fat = table(&mini_ids);
    if !acyclic(&mini_fat) {
        return Err(damaged("looping mini-sector chain"));
    }
    // The Workbook stream: its DIMENSIONS records claim each sheet's extent, and a reader
    // reserves rows × columns cells from the claim (fuzzing: 297 TB asked for). Refuse claims
    // over the cell limit before any reader sees them.
    let chain = |start: u32, next: &[u32]| -> Vec<u32> {
        let mut ids = Vec::new();
        let mut id = start;
        while (id as usize) < next.len() && ids.len() <= next.len() {
            ids.push(id);
            id = next[id as usize];
        }
        ids
    };
    let directory: Vec<u8> = chain(u32_at(48).unwrap_or(END), &fat)
        .iter()
        .filter_map(|id| sector_bytes(*id))
        .flatten()
        .copied()
        .collect();
    // Names as calamine decodes them: the 64-byte field up to its first NUL, matched without
    // regard to ASCII case, "Workbook" before "Book".
    let entry = |d: &[u8]| -> (String, u32, u64) {
        let units: Vec<u16> = d[..64]
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .take_while(|u| *u != 0)
            .collect();
        let name = String::from_utf16_lossy(&units);
        let start = u32::from_le_bytes([d[116], d[117], d[118], d[119]]);
        let size = if shift == 12 {
            u64::from_le_bytes([
                d[120], d[121], d[122], d[123], d[124], d[125], d[126], d[127],
            ])
        } else {
            u64::from(u32::from_le_bytes([d[120], d[121], d[122], d[123]]))
        };
        (name, start, size)
    };
    let entries: Vec<(String, u32, u64)> = directory.chunks_exact(128).map(entry).collect();
    let named = |wanted: &str| {
        entries
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(wanted))
            .cloned()
    };
    let Some((_, start, size)) = named("Workbook").or_else(|| named("Book")) else {
        return Ok(()); // calamine reports a missing workbook stream itself
    };
    let stream: Vec<u8> = if size >= 4096 {
        chain(start, &fat)
            .iter()
            .filter_map(|id| sector_bytes(*id))
            .flatten()
            .copied()
            .collect()
    } else {
        let mini = 1usize << u16_at(32).unwrap_or(6).min(12);
        let root_start = entries.first().map_or(END, |e| e.1);
        let container: Vec<u8> = chain(root_start, &fat)
            .iter()
            .filter_map(|id| sector_bytes(*id))
            .flatten()
            .copied()
            .collect();
        chain(start, &mini_fat)
            .iter()
            .filter_map(|id| container.get(*id as usize * mini..(*id as usize + 1) * mini))
            .flatten()
            .copied()
            .collect()
    };
    let stream = &stream[..stream
        .len()
        .min(usize::try_from(size).unwrap_or(usize::MAX))];
    // calamine reads the globals from the stream's start and each sheet from the offset its
    // BoundSheet8 record gives; scan every place it will read from, the way it reads it.
    let mut starts = vec![0usize];
    let mut at = 0usize;
    while at + 4 <= stream.len() {
        let kind = u16::from_le_bytes([stream[at], stream[at + 1]]);
        let len = usize::from(u16::from_le_bytes([stream[at + 2], stream[at + 3]]));
        if kind == 0x0085 && at + 8 <= stream.len() {
            let pos = u32::from_le_bytes([
                stream[at + 4],
                stream[at + 5],
                stream[at + 6],
                stream[at + 7],
            ]);
            starts.push(pos as usize);
        }
        at += 4 + len;
    }
    starts.sort_unstable();
    starts.dedup();
    for pos in starts {
        if let Some(sheet) = stream.get(pos..) {
            check_xls_sheet_records(sheet, limits)?;
        }
    }
    Ok(())
}

/// Checks one sheet's records the way calamine's .xls reader walks them: a DIMENSIONS record
/// makes it reserve rows × columns cells (computed with its wrapping arithmetic, so a first row
/// past the last asks for ~4 × 10⁹ rows), and the cells' extent sizes the grid it builds.
fn check_xls_sheet_records(stream: &[u8], limits: &Limits) -> std::result::Result<(), String> {
    // Records with a row and column in their first four bytes (MulRk/MulBlank end in a column).
    const CELL_RECORDS: &[u16] = &[
        0x0006, 0x00BD, 0x00BE, 0x00D6, 0x00FD, 0x0201, 0x0203, 0x0204, 0x0205, 0x027E,
    ];
    let limit = limits.sheet_cells as u64;
    let mut extent: Option<(u32, u32, u32, u32)> = None;
    let mut seen_bof = false;
    let mut depth = 0usize;
    let mut at = 0usize;
    while at + 4 <= stream.len() {
        let kind = u16::from_le_bytes([stream[at], stream[at + 1]]);
        let len = usize::from(u16::from_le_bytes([stream[at + 2], stream[at + 3]]));
        let Some(data) = stream.get(at + 4..at + 4 + len) else {
            break; // calamine stops with "end of stream"
        };
        at += 4 + len;
        if depth > 0 {
            match kind {
                0x0809 => depth += 1,
                0x000A => depth -= 1,
                _ => {}
            }
            continue;
        }
        match kind {
            0x0809 if seen_bof => depth += 1,
            0x0809 => seen_bof = true,
            0x000A => break,
            0x0200 => {
                let cells = xls_dimensions_reservation(data);
                if cells > limit {
                    return Err(format!(
                        "a sheet claims {cells} cells (more than {limit}); limit with --max-cells"
                    ));
                }
            }
            _ if CELL_RECORDS.contains(&kind) && data.len() >= 4 => {
                let row = u32::from(u16::from_le_bytes([data[0], data[1]]));
                let col = u32::from(u16::from_le_bytes([data[2], data[3]]));
                let last_col = if matches!(kind, 0x00BD | 0x00BE) && data.len() >= 6 {
                    u32::from(u16::from_le_bytes([data[len - 2], data[len - 1]])).max(col)
                } else {
                    col
                };
                let (r0, r1, c0, c1) = extent.unwrap_or((row, row, col, last_col));
                extent = Some((r0.min(row), r1.max(row), c0.min(col), c1.max(last_col)));
                if let Some((r0, r1, c0, c1)) = extent {
                    let span = (u64::from(r1 - r0) + 1) * (u64::from(c1 - c0) + 1);
                    if span > limit {
                        return Err(format!(
                            "a sheet's cells span {span} cells (more than {limit}); \
                             limit with --max-cells"
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The number of cells calamine 0.38 reserves for a DIMENSIONS record (`parse_dimensions`, then
/// `(end - start + 1)` per axis in wrapping `u32` arithmetic, multiplied saturating).
fn xls_dimensions_reservation(data: &[u8]) -> u64 {
    let u16_at = |o: usize| u32::from(u16::from_le_bytes([data[o], data[o + 1]]));
    let u32_at = |o: usize| u32::from_le_bytes([data[o], data[o + 1], data[o + 2], data[o + 3]]);
    let (rf, rl, mut cf, cl) = match data.len() {
        10 => (u16_at(0), u16_at(2), u16_at(4), u16_at(6)),
        14 | 16 => (u32_at(0), u32_at(4), u16_at(8), u16_at(10)),
        _ => return 0, // calamine refuses the record
    };
    if 0xFF < cf || cl < cf {
        cf = 0;
    }
    let (start, end) = if 1 <= rl && 1 <= cl {
        ((rf, cf), (rl - 1, cl - 1))
    } else {
        ((rf, cf), (rf, cf))
    };
    let rows = u64::from(end.0.wrapping_sub(start.0).wrapping_add(1));
    let cols = u64::from(end.1.wrapping_sub(start.1).wrapping_add(1));
    rows.saturating_mul(cols)
}

/// A number, a text or nothing, as read from one cell of a recognised column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number in the column's base unit.
    Number(f64),
    /// Text (names, forest types, land classes).
    Text(String),
    /// Empty or a "none reported" placeholder where the column allows it.
    Missing,
}

/// A column of a sheet that the engine recognised.
#[derive(Debug, Clone)]
pub struct FoundColumn {
    /// Canonical key (`area_ha`), or `class:<header>` for a land class in wide land cover.
    pub key: String,
    /// The header as written (normalised).
    pub header: String,
    /// 0-based absolute column.
    pub col: u16,
    /// Row of the header cell, for messages.
    pub header_row: u32,
    /// Content type.
    pub kind: ColumnKind,
    /// Unit the numbers were written in (converted to base on reading).
    pub unit: Option<Unit>,
}

/// One data row: a county or a subtotal.
#[derive(Debug, Clone)]
pub struct Record {
    /// 0-based absolute row.
    pub row: u32,
    /// 6-digit code, when the row has one.
    pub code: Option<String>,
    /// Name as written.
    pub name: Option<String>,
    /// One value per [`SheetTable::columns`] entry.
    pub values: Vec<Value>,
}

impl Record {
    /// The value of the column at `index`, as a number (Missing → `None`).
    pub fn number(&self, index: usize) -> Option<f64> {
        match self.values.get(index) {
            Some(Value::Number(v)) => Some(*v),
            _ => None,
        }
    }

    /// The value of the column at `index`, as text.
    pub fn text(&self, index: usize) -> Option<&str> {
        match self.values.get(index) {
            Some(Value::Text(t)) => Some(t.as_str()),
            _ => None,
        }
    }
}

/// The accounting year found in a sheet, with where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundYear {
    /// The year.
    pub year: i32,
    /// `file [sheet!A1]`.
    pub location: String,
}

/// One recognised input sheet after header resolution and cell parsing.
#[derive(Debug, Clone)]
pub struct SheetTable {
    /// Which input table.
    pub kind: SheetKind,
    /// File name.
    pub file: String,
    /// Sheet name as written in the workbook.
    pub sheet: String,
    /// Year from a title or a 年份 cell.
    pub year: Option<FoundYear>,
    /// Recognised columns.
    pub columns: Vec<FoundColumn>,
    /// County rows.
    pub rows: Vec<Record>,
    /// Subtotal rows (prefecture, province, 合计): checked, never added.
    pub subtotals: Vec<Record>,
    /// Cells read as "none reported" (empty, —, /, …) and counted as 0.
    pub placeholders: usize,
}

impl SheetTable {
    /// Index of the column with canonical `key`.
    pub fn column(&self, key: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.key == key)
    }

    /// `file [sheet!A1]` for a cell.
    pub fn at(&self, row: u32, col: u16) -> String {
        let mut out = String::with_capacity(self.file.len() + self.sheet.len() + 12);
        out.push_str(&self.file);
        out.push_str(" [");
        out.push_str(&self.sheet);
        out.push('!');
        crate::error::push_a1(&mut out, row, col);
        out.push(']');
        out
    }

    /// `file [sheet]`.
    pub fn sheet_location(&self) -> String {
        format!("{} [{}]", self.file, self.sheet)
    }
}

/// Reads every recognised sheet of a workbook, collecting problems into `issues`.
///
/// Sheets that match no alias are ignored (and noted as warnings); a workbook in which
/// two sheets mean the same table is an error. `None` when the file cannot be opened as a
/// workbook at all (the reason is in `issues`).
pub fn workbook(source: &Source, limits: &Limits, issues: &mut Issues) -> Option<Vec<SheetTable>> {
    workbook_with(source, limits, schema::SHEETS, issues)
}

/// As [`workbook`], against `sheets` (the schema's, with the columns a coefficient set declares
/// added: `schema::with_declared_columns`).
pub fn workbook_with(
    source: &Source,
    limits: &Limits,
    sheets: &'static [SheetSpec],
    issues: &mut Issues,
) -> Option<Vec<SheetTable>> {
    // A malformed file can make the parser panic (fuzzing found one in calamine's CFB reader):
    // contain it, report the file as damaged, and keep the problems found so far.
    let mut found = Issues::new();
    let outcome = contained(|| workbook_unguarded(source, limits, sheets, &mut found));
    issues.extend(found);
    match outcome {
        Ok(tables) => tables,
        Err(message) => {
            issues.error(
                &source.name,
                format!("damaged workbook: the reader failed on it ({message}); open it in Excel or LibreOffice and save it again"),
            );
            None
        }
    }
}

/// Readers running under [`contained`] now: while any is, panics are not printed.
static CONTAINED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Runs `f`, turning a panic into an error message. The panic hook is installed once and stays
/// silent while any reader runs under `contained` (several workbooks are read at once in a
/// batch or a diff: swapping the process-wide hook per call would race).
fn contained<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    use std::sync::atomic::Ordering;
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CONTAINED.load(Ordering::SeqCst) == 0 {
                previous(info);
            }
        }));
    });
    CONTAINED.fetch_add(1, Ordering::SeqCst);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CONTAINED.fetch_sub(1, Ordering::SeqCst);
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "internal parser error".into())
    })
}

fn workbook_unguarded(
    source: &Source,
    limits: &Limits,
    sheets: &'static [SheetSpec],
    issues: &mut Issues,
) -> Option<Vec<SheetTable>> {
    let format = match sniff(&source.bytes, limits) {
        Ok(f) => f,
        Err(message) => {
            issues.error(&source.name, message);
            return None;
        }
    };
    let book = match open_book(source, format) {
        Ok(b) => b,
        Err(e) => {
            let hint = if e.to_lowercase().contains("password") || e.contains("Encrypt") {
                " (password-protected workbooks cannot be read: remove the password and save again)"
            } else {
                ""
            };
            issues.error(&source.name, format!("cannot open workbook: {e}{hint}"));
            return None;
        }
    };
    let mut selected: Vec<(usize, String, &'static SheetSpec)> = Vec::new();
    let mut seen: Vec<(SheetKind, String)> = Vec::new();
    // Each sheet's problems in its own slot, merged in workbook order at the end (the sheets
    // are read in parallel).
    let names = book.sheet_names();
    let mut slots: Vec<Issues> = names.iter().map(|_| Issues::new()).collect();
    for (pos, sheet_name) in names.into_iter().enumerate() {
        let normalised = normalise_sheet_name(&sheet_name);
        let Some(spec) = sheets
            .iter()
            .find(|s| s.aliases.contains(&normalised.as_str()))
        else {
            if !schema::AUXILIARY_SHEETS.contains(&normalised.as_str()) {
                let names = sheets.iter().flat_map(|s| s.aliases.iter().copied());
                let close = crate::suggest::did_you_mean(&normalised, names);
                let label = close.and_then(|alias| {
                    sheets
                        .iter()
                        .find(|s| s.aliases.contains(&alias))
                        .map(|s| s.label)
                });
                slots[pos].warn(
                    Check::Reading,
                    format!("{} [{}]", source.name, sheet_name),
                    format!(
                        "sheet not recognised as an input table; ignored{}",
                        label.map_or_else(String::new, |l| format!(
                            " (did you mean {l}? rename the sheet)"
                        ))
                    ),
                    format!(
                        "未识别为输入表的工作表，已忽略{}",
                        label.map_or_else(String::new, |l| format!(
                            "（是否应为「{l}」？请重命名工作表）"
                        ))
                    ),
                );
            }
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == spec.kind) {
            slots[pos].error(
                format!("{} [{}]", source.name, sheet_name),
                format!(
                    "a second {} sheet (the first is \"{first}\"); keep one",
                    spec.label
                ),
            );
            continue;
        }
        seen.push((spec.kind, sheet_name.clone()));
        selected.push((pos, sheet_name, spec));
    }
    // xlsx and xlsb sheets are streamed: two readers of the same bytes take the next sheet in
    // turn until none is left (sheets differ in size by 3× or more, so fixed halves leave one
    // core idle); xls and ods are parsed whole when opened, so they are read in one.
    let readers = match format {
        Format::Xlsx | Format::Xlsb if selected.len() > 1 => 2,
        _ => 1,
    };
    // Where each xlsx sheet's XML lies, for reading its merged ranges in one scan.
    let parts = match format {
        Format::Xlsx => xlsx_sheet_parts(&source.bytes),
        _ => None,
    };
    let next_sheet = std::sync::atomic::AtomicUsize::new(0);
    let read_queue = |book: Option<Sheets<Cursor<&[u8]>>>| {
        let mut read = Vec::new();
        let mut book = book;
        loop {
            let i = next_sheet.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some((pos, name, spec)) = selected.get(i) else {
                break;
            };
            let opened = match book
                .take()
                .map(Ok)
                .unwrap_or_else(|| open_book(source, format))
            {
                Ok(b) => book.insert(b),
                Err(e) => {
                    let mut issues = Issues::new();
                    issues.error(&source.name, format!("cannot open workbook: {e}"));
                    read.push((*pos, issues, None));
                    break;
                }
            };
            let part = parts.as_ref().and_then(|p| p.get(name)).map(String::as_str);
            let (sheet_issues, table) = read_sheet(opened, name, part, spec, source, limits);
            read.push((*pos, sheet_issues, table));
        }
        read
    };
    let mut book = Some(book);
    let (head_read, rest_read) = if readers == 2 {
        rayon::join(|| read_queue(book.take()), || read_queue(None))
    } else {
        (read_queue(book.take()), Vec::new())
    };
    let mut read: Vec<_> = head_read.into_iter().chain(rest_read).collect();
    // Problems are reported in sheet order, whichever reader read the sheet.
    read.sort_by_key(|(pos, _, _)| *pos);
    let mut tables = Vec::new();
    for (pos, sheet_issues, table) in read {
        if let Some(slot) = slots.get_mut(pos) {
            slot.extend(sheet_issues);
        }
        tables.extend(table);
    }
    for slot in slots {
        issues.extend(slot);
    }
    Some(tables)
}

/// Opens a workbook of a sniffed format from its bytes.
fn open_book(
    source: &Source,
    format: Format,
) -> std::result::Result<Sheets<Cursor<&[u8]>>, String> {
    let cursor = Cursor::new(source.bytes.as_slice());
    match format {
        Format::Xlsx => open_workbook_from_rs::<Xlsx<_>, _>(cursor)
            .map(Sheets::Xlsx)
            .map_err(|e| e.to_string()),
        Format::Xlsb => open_workbook_from_rs::<Xlsb<_>, _>(cursor)
            .map(Sheets::Xlsb)
            .map_err(|e| e.to_string()),
        Format::Ods => open_workbook_from_rs::<Ods<_>, _>(cursor)
            .map(Sheets::Ods)
            .map_err(|e| e.to_string()),
        Format::Xls => open_workbook_from_rs::<Xls<_>, _>(cursor)
            .map(Sheets::Xls)
            .map_err(|e| e.to_string()),
    }
}

/// Each sheet's part in an xlsx package, resolved as calamine resolves it: the `<sheet>` entries
/// of `xl/workbook.xml` (name, relationship id) through `xl/_rels/workbook.xml.rels` (target,
/// absolute or relative to `xl/`). `None` when either part is missing or unreadable: the caller
/// then asks calamine.
fn xlsx_sheet_parts(bytes: &[u8]) -> Option<std::collections::HashMap<String, String>> {
    use quick_xml::events::Event;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let mut part = |name: &str| -> Option<Vec<u8>> {
        let mut entry = zip.by_name(name).ok()?;
        let mut xml = Vec::new();
        entry.read_to_end(&mut xml).ok()?;
        Some(xml)
    };
    let workbook = part("xl/workbook.xml")?;
    let rels = part("xl/_rels/workbook.xml.rels")?;
    // Every start or empty element named `local`, with its raw attributes.
    let elements = |xml: &[u8], local: &str, out: &mut Vec<Vec<(String, String)>>| -> Option<()> {
        let mut reader = quick_xml::Reader::from_reader(xml);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_event_into(&mut buf).ok()? {
                Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == local => {
                    out.push(
                        calamine_attrs(e.attributes_raw())
                            .into_iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect(),
                    );
                }
                Event::Eof => return Some(()),
                _ => {}
            }
        }
    };
    let (mut sheets, mut relationships) = (Vec::new(), Vec::new());
    elements(&workbook, "sheet", &mut sheets)?;
    elements(&rels, "Relationship", &mut relationships)?;
    let attr = |attrs: &[(String, String)], key: &str| -> Option<String> {
        attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    };
    let targets: std::collections::HashMap<String, String> = relationships
        .iter()
        .filter_map(|r| Some((attr(r, "Id")?, attr(r, "Target").unwrap_or_default())))
        .collect();
    let mut parts = std::collections::HashMap::new();
    for sheet in &sheets {
        let name = quick_xml::escape::unescape(&attr(sheet, "name")?)
            .ok()?
            .into_owned();
        // `r:id`, whatever the prefix.
        let id = sheet
            .iter()
            .find(|(k, _)| k.rsplit_once(':').is_some_and(|(_, local)| local == "id"))
            .map(|(_, v)| v.clone())?;
        let target = targets.get(&id)?;
        let path = match target.strip_prefix('/') {
            Some(absolute) => absolute.to_string(),
            None => format!("xl/{target}"),
        };
        parts.insert(name, path);
    }
    Some(parts)
}

/// The merged ranges of one xlsx sheet part, found in one byte scan for `<mergeCell ref="…">`
/// elements (calamine's own merge reader parses the whole sheet's XML a second time: a third
/// of the reading). `None` when the part cannot be read; no ranges when a `ref` is not a range
/// calamine would read, as calamine's reader then gives none.
fn xlsx_merges(bytes: &[u8], part: &str) -> Option<Vec<Dimensions>> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let entry = zip.by_name(part).ok()?;
    merges_in(entry, 1 << 18)
}

/// [`merge_refs_into`] over XML streamed in chunks of `chunk` bytes: the sheet is never held whole.
/// An element cut by a chunk's end is kept (from its `<`) and read with the next chunk.
fn merges_in(mut xml: impl std::io::Read, chunk: usize) -> Option<Vec<Dimensions>> {
    let mut buf: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    let mut readable = true;
    loop {
        let n = std::io::Read::by_ref(&mut xml)
            .take(chunk.max(1) as u64)
            .read_to_end(&mut buf)
            .ok()?;
        // Up to the last `<` that has no `>` after it (an element still being read).
        let complete = match memchr::memrchr(b'<', &buf) {
            Some(open) if n > 0 && memchr::memchr(b'>', &buf[open..]).is_none() => open,
            _ => buf.len(),
        };
        if readable && merge_refs_into(&buf[..complete], &mut out).is_none() {
            readable = false;
        }
        buf.drain(..complete);
        if n == 0 {
            return Some(if readable { out } else { Vec::new() });
        }
    }
}

/// The `ref` ranges of the `<mergeCell>` elements (any namespace prefix) in a sheet's XML, added
/// to `out`; `None` when one cannot be read as calamine reads it. Cell text cannot hold a `<`, so every `<mergeCell` or
/// `<prefix:mergeCell` followed by a space, `/` or `>` is an element; one without its `>` is not
/// read.
fn merge_refs_into(xml: &[u8], out: &mut Vec<Dimensions>) -> Option<()> {
    const NAME: &[u8] = b"mergeCell";
    for at in memchr::memmem::find_iter(xml, NAME) {
        let after = at + NAME.len();
        if !matches!(
            xml.get(after),
            Some(b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>')
        ) {
            continue; // `mergeCells`, or the name inside another one
        }
        // `<` right before the name, or `<prefix:`.
        let mut start = at;
        if xml.get(at.wrapping_sub(1)) == Some(&b':') {
            // A namespace prefix: a short name (bounded, so that text full of `:mergeCell`
            // cannot make the scan quadratic).
            start = at - 1;
            let shortest = start.saturating_sub(64);
            while start > shortest && !matches!(xml[start - 1], b'<' | b'>' | b' ' | b'/' | b'"') {
                start -= 1;
            }
        }
        if start == 0 || xml[start - 1] != b'<' {
            continue;
        }
        let Some(end) = memchr::memchr(b'>', &xml[after..]).map(|e| after + e) else {
            continue;
        };
        let raw = std::str::from_utf8(&xml[after..end]).ok()?;
        let raw = raw.strip_suffix('/').unwrap_or(raw);
        if let Some((_, range)) = calamine_attrs(raw).into_iter().find(|(k, _)| *k == "ref") {
            out.push(merge_range(range)?);
        }
    }
    Some(())
}

/// `A1:B3` (or one cell, `A1`) as calamine reads a merge's `ref`: letters then digits, 1-based.
fn merge_range(text: &str) -> Option<Dimensions> {
    let cell = |text: &str| -> Option<(u32, u32)> {
        let bytes = text.as_bytes();
        let letters = bytes.iter().take_while(|b| b.is_ascii_alphabetic()).count();
        let (col_text, row_text) = bytes.split_at(letters);
        if col_text.is_empty() || row_text.is_empty() || !row_text.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let col = col_text.iter().try_fold(0u32, |acc, b| {
            acc.checked_mul(26)?
                .checked_add(u32::from(b.to_ascii_uppercase() - b'A') + 1)
        })?;
        let row = row_text.iter().try_fold(0u32, |acc, b| {
            acc.checked_mul(10)?.checked_add(u32::from(b - b'0'))
        })?;
        Some((row.checked_sub(1)?, col - 1))
    };
    let mut parts = text.split(':');
    let start = cell(parts.next()?)?;
    let end = match parts.next() {
        Some(end) => cell(end)?,
        None => start,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(Dimensions { start, end })
}

/// One recognised sheet: its cells within `limits`, merged regions filled, parsed by `spec`;
/// the problems found on it.
fn read_sheet(
    book: &mut Sheets<Cursor<&[u8]>>,
    sheet_name: &str,
    part: Option<&str>,
    spec: &'static SheetSpec,
    source: &Source,
    limits: &Limits,
) -> (Issues, Option<SheetTable>) {
    let mut issues = Issues::new();
    let mut uncalculated = Vec::new();
    let range = match bounded_range(book, sheet_name, limits, &mut uncalculated) {
        Ok(r) => r,
        Err(e) => {
            issues.error(format!("{} [{}]", source.name, sheet_name), e);
            return (issues, None);
        }
    };
    let merges = match book {
        Sheets::Xlsx(x) => match part.and_then(|part| xlsx_merges(&source.bytes, part)) {
            Some(merges) => merges,
            None => x.merge_cells_by_sheet_name(sheet_name).unwrap_or_default(),
        },
        Sheets::Xls(x) => x.merge_cells_by_sheet_name(sheet_name).unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut grid = Grid::new(range, &merges);
    grid.uncalculated = uncalculated.into_iter().collect();
    let table = sheet(&grid, spec, &source.name, sheet_name, &mut issues);
    (issues, table)
}

/// Reads a sheet's cells within `limits`. For xlsx and xlsb the cells are streamed and the used
/// area is checked before any dense grid is allocated, so a sheet claiming a huge extent cannot
/// exhaust memory; xls and ods are parsed by calamine when opened and checked afterwards.
fn bounded_range<RS: std::io::Read + std::io::Seek>(
    book: &mut Sheets<RS>,
    name: &str,
    limits: &Limits,
    uncalculated: &mut Vec<(u32, u32)>,
) -> std::result::Result<Range<Data>, String> {
    fn collect<E: std::fmt::Display>(
        mut next: impl FnMut() -> std::result::Result<Option<calamine::Cell<Data>>, E>,
        limits: &Limits,
    ) -> std::result::Result<Range<Data>, String> {
        let mut cells = Vec::new();
        let (mut r0, mut c0, mut r1, mut c1) = (u32::MAX, u32::MAX, 0u32, 0u32);
        while let Some(cell) = next().map_err(|e| format!("cannot read sheet: {e}"))? {
            if matches!(cell.get_value(), Data::Empty) {
                continue;
            }
            let (r, c) = cell.get_position();
            (r0, c0, r1, c1) = (r0.min(r), c0.min(c), r1.max(r), c1.max(c));
            let area = (u64::from(r1 - r0) + 1) * (u64::from(c1 - c0) + 1);
            if area > limits.sheet_cells as u64 {
                return Err(format!(
                    "the used area reaches {} (more than {} cells); limit with --max-cells",
                    a1(r1, c1.min(u32::from(u16::MAX)) as u16),
                    limits.sheet_cells
                ));
            }
            cells.push(cell);
        }
        Ok(Range::from_sparse(cells))
    }
    // xlsx and xlsb readers have the same shape but different types.
    macro_rules! streamed {
        ($workbook:expr) => {{
            let mut reader = $workbook
                .worksheet_cells_reader(name)
                .map_err(|e| format!("cannot read sheet: {e}"))?;
            let next = || {
                reader.next_cell().map(|cell| {
                    cell.map(|c| {
                        calamine::Cell::new(c.get_position(), Data::from(c.get_value().clone()))
                    })
                })
            };
            collect(next, limits)?
        }};
    }
    let range = match book {
        Sheets::Xlsx(x) => {
            // One pass over value and formula: a formula without a cached value (a workbook
            // written by a program and never calculated) is read by calamine as an empty cell.
            let mut reader = x
                .worksheet_cells_reader(name)
                .map_err(|e| format!("cannot read sheet: {e}"))?;
            let next = || {
                reader.next_cell_with_formula().map(|cell| {
                    cell.map(|c| {
                        let value = Data::from(c.value.clone());
                        // No cached value at all (`<f>…</f>` or `<f>…</f><v/>`, as openpyxl
                        // writes); a formula whose calculated result is "" has one (t="str").
                        if matches!(value, Data::Empty)
                            && c.formula.as_deref().is_some_and(|f| !f.is_empty())
                        {
                            uncalculated.push(c.pos);
                        }
                        calamine::Cell::new(c.pos, value)
                    })
                })
            };
            collect(next, limits)?
        }
        Sheets::Xlsb(x) => streamed!(x),
        other => other
            .worksheet_range(name)
            .map_err(|e| format!("cannot read sheet: {e}"))?,
    };
    let (h, w) = range.get_size();
    if h.saturating_mul(w) > limits.sheet_cells {
        return Err(format!(
            "sheet has {h} × {w} cells; the limit is {} (--max-cells)",
            limits.sheet_cells
        ));
    }
    Ok(range)
}

/// The part of merged range `m` inside a grid of `height` × `width` cells at `origin` (first and
/// last cell, absolute), if any: only those cells are filled, so a merge far larger than the used
/// area (`A1:XFD1048576`) costs the grid's size, not the range's.
fn within(
    m: &Dimensions,
    origin: (u32, u32),
    height: usize,
    width: usize,
) -> Option<((u32, u32), (u32, u32))> {
    let last_row = origin
        .0
        .checked_add(u32::try_from(height).ok()?.checked_sub(1)?)?;
    let last_col = origin
        .1
        .checked_add(u32::try_from(width).ok()?.checked_sub(1)?)?;
    let first = (m.start.0.max(origin.0), m.start.1.max(origin.1));
    let last = (m.end.0.min(last_row), m.end.1.min(last_col));
    (first.0 <= last.0 && first.1 <= last.1).then_some((first, last))
}

/// A sheet's cells as a dense grid with its absolute origin; merged regions filled.
struct Grid {
    cells: Vec<Vec<Data>>,
    origin: (u32, u32),
    /// Merged ranges (absolute), and for each grid cell filled from one (not its top-left
    /// cell) the index of the range: a value copied into data cells must not be counted twice.
    merges: Vec<Dimensions>,
    copied: std::collections::HashMap<(usize, usize), usize>,
    /// Absolute positions of formula cells without a cached value (xlsx).
    uncalculated: BTreeSet<(u32, u32)>,
}

impl Grid {
    fn new(range: Range<Data>, merges: &[Dimensions]) -> Self {
        let origin = range.start().unwrap_or((0, 0));
        let mut cells: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
        let mut copied = std::collections::HashMap::new();
        for (index, m) in merges.iter().enumerate() {
            let top_left = (
                m.start.0.wrapping_sub(origin.0),
                m.start.1.wrapping_sub(origin.1),
            );
            let value = cells
                .get(top_left.0 as usize)
                .and_then(|r| r.get(top_left.1 as usize))
                .cloned()
                .unwrap_or(Data::Empty);
            let width = cells.iter().map(Vec::len).max().unwrap_or(0);
            let Some((first, last)) = within(m, origin, cells.len(), width) else {
                continue;
            };
            for r in first.0..=last.0 {
                for c in first.1..=last.1 {
                    let (rr, cc) = (
                        r.wrapping_sub(origin.0) as usize,
                        c.wrapping_sub(origin.1) as usize,
                    );
                    if let Some(cell) = cells.get_mut(rr).and_then(|row| row.get_mut(cc)) {
                        *cell = value.clone();
                        if (r, c) != m.start {
                            copied.insert((rr, cc), index);
                        }
                    }
                }
            }
        }
        Grid {
            cells,
            origin,
            merges: merges.to_vec(),
            copied,
            uncalculated: BTreeSet::new(),
        }
    }

    /// `A5:B6` for merged range `index`.
    fn merge_label(&self, index: usize) -> String {
        self.merges.get(index).map_or_else(String::new, |m| {
            let col = |c: u32| c.min(u32::from(u16::MAX)) as u16;
            format!(
                "{}:{}",
                a1(m.start.0, col(m.start.1)),
                a1(m.end.0, col(m.end.1))
            )
        })
    }

    fn height(&self) -> usize {
        self.cells.len()
    }

    fn width(&self) -> usize {
        self.cells.first().map_or(0, Vec::len)
    }

    fn get(&self, r: usize, c: usize) -> &Data {
        self.cells
            .get(r)
            .and_then(|row| row.get(c))
            .unwrap_or(&Data::Empty)
    }

    fn abs_row(&self, r: usize) -> u32 {
        self.origin.0 + r as u32
    }

    fn abs_col(&self, c: usize) -> u16 {
        (self.origin.1 as usize + c).min(u16::MAX as usize) as u16
    }

    fn text(&self, r: usize, c: usize) -> String {
        cell_text(self.get(r, c))
    }

    fn row_is_empty(&self, r: usize) -> bool {
        (0..self.width()).all(|c| self.text(r, c).is_empty())
    }

    fn first_text(&self, r: usize) -> String {
        (0..self.width())
            .map(|c| self.text(r, c))
            .find(|t| !t.is_empty())
            .unwrap_or_default()
    }
}

/// Text of a cell as a person would read it (numbers without a trailing `.0`).
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        other => other.to_string(),
    }
}

/// Outcome of reading one cell as a number.
#[derive(Debug, Clone, PartialEq)]
pub enum CellNumber {
    /// A number (in the column's unit, not yet converted).
    Number(f64),
    /// Empty or a placeholder for "none reported".
    NoneReported,
    /// Not a number: what was found, for the message.
    Bad(String),
}

const PLACEHOLDERS: &[&str] = &[
    "—", "——", "-", "--", "/", "…", "……", "...", "×", "x", "X", "－", "―",
];

/// Reads a cell as a number: text with thousands separators, full-width digits and spaces
/// is accepted; "—", "-", "/", "…" and empty are "none reported"; anything else is reported.
pub fn parse_number(d: &Data) -> CellNumber {
    match d {
        Data::Empty => CellNumber::NoneReported,
        Data::Float(f) if f.is_finite() => CellNumber::Number(*f),
        Data::Float(_) => CellNumber::Bad("a non-finite number".into()),
        Data::Int(i) => CellNumber::Number(*i as f64),
        Data::String(s) => {
            let t = to_half_width(s);
            let t = t.trim();
            if t.is_empty() || PLACEHOLDERS.contains(&t) {
                return CellNumber::NoneReported;
            }
            let spaced: String = t.chars().filter(|c| !matches!(c, ' ' | '\u{a0}')).collect();
            if !commas_group_thousands(&spaced) {
                return CellNumber::Bad(format!(
                    "\"{}\" (a decimal comma? a comma may only separate groups of three digits, as in 1,234.5; write the decimal with a point)",
                    s.trim()
                ));
            }
            let cleaned: String = spaced.chars().filter(|c| *c != ',').collect();
            match cleaned.parse::<f64>() {
                Ok(v) if v.is_finite() => CellNumber::Number(v),
                _ => CellNumber::Bad(format!("\"{}\"", s.trim())),
            }
        }
        Data::Bool(b) => CellNumber::Bad(format!("the logical value {b}")),
        Data::DateTime(_) | Data::DateTimeIso(_) | Data::DurationIso(_) => {
            CellNumber::Bad(format!("a date ({d})"))
        }
        Data::Error(e) => CellNumber::Bad(format!("the formula error {e}")),
    }
}

/// True when every comma of a number written as text separates groups of exactly three digits
/// before the decimal point (`1,234,567.8`); false for a decimal comma (`12,3`, `5527,04`),
/// Indian grouping (`7,16,71`) or a European number (`1.610,81`), which would otherwise be read
/// as a number 10-1000× off. Text without commas is always accepted here.
fn commas_group_thousands(text: &str) -> bool {
    if !text.contains(',') {
        return true;
    }
    let unsigned = text.trim_start_matches(['-', '+']);
    let (integer, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if fraction.contains(',') {
        return false;
    }
    let mut groups = integer.split(',');
    let first_ok = groups
        .next()
        .is_some_and(|g| (1..=3).contains(&g.len()) && g.chars().all(|c| c.is_ascii_digit()));
    first_ok && groups.all(|g| g.len() == 3 && g.chars().all(|c| c.is_ascii_digit()))
}

/// Reads a county code: 6 digits, from a number or text; 12-digit statistical codes
/// ending in zeros are shortened. `None` when the cell does not hold a code.
pub fn parse_code(d: &Data) -> Option<String> {
    let text = match d {
        Data::Float(f) if f.fract() == 0.0 && *f > 0.0 && *f < 1e13 => format!("{f:.0}"),
        Data::Int(i) if *i > 0 => i.to_string(),
        Data::String(s) => to_half_width(s).trim().trim_end_matches(".0").to_string(),
        _ => return None,
    };
    if !text.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    match text.len() {
        6 => Some(text),
        9 | 12 if text[6..].chars().all(|c| c == '0') => Some(text[..6].to_string()),
        _ => None,
    }
}

/// True for a prefecture (xx00) or province (0000) code.
pub fn is_subtotal_code(code: &str) -> bool {
    code.ends_with("00")
}

fn is_subtotal_text(text: &str) -> bool {
    let t = normalise_header(text).0;
    schema::SUBTOTAL_WORDS.iter().any(|w| t.contains(w))
}

fn is_footnote(text: &str) -> bool {
    let t = normalise_header(text).0;
    schema::FOOTNOTE_PREFIXES.iter().any(|p| t.starts_with(p))
}

/// Finds a four-digit year written as `2021年` or after a 年份 label.
fn year_in_text(text: &str) -> Option<i32> {
    let half = to_half_width(text);
    let chars: Vec<char> = half.chars().collect();
    for i in 0..chars.len().saturating_sub(3) {
        let window: String = chars[i..i + 4].iter().collect();
        let before_ok = i == 0 || !chars[i - 1].is_ascii_digit();
        let after = chars.get(i + 4).copied();
        if before_ok
            && window.chars().all(|c| c.is_ascii_digit())
            && after == Some('年')
            && let Ok(y) = window.parse::<i32>()
            && (1000..=2999).contains(&y)
        {
            return Some(y);
        }
    }
    None
}

fn year_label_value(grid: &Grid, r: usize, c: usize) -> Option<i32> {
    let text = normalise_header(&grid.text(r, c)).0;
    let rest = text
        .strip_prefix("年份")
        .or_else(|| text.strip_prefix("year"))?;
    let rest = rest.trim_start_matches([':', '：']);
    let candidate = if rest.is_empty() {
        match grid.get(r, c + 1) {
            // A date typed into the 年份 cell (2021-12-31) stands for its year.
            Data::DateTime(d) if d.is_datetime() => d.to_ymd_hms_milli().0.to_string(),
            _ => grid.text(r, c + 1),
        }
    } else {
        rest.to_string()
    };
    let digits: String = candidate
        .chars()
        .take_while(|ch| ch.is_ascii_digit())
        .collect();
    digits
        .parse::<i32>()
        .ok()
        .filter(|y| (1000..=2999).contains(y))
}

/// A unit written as a sheet-wide note: `单位：公顷` somewhere in the title rows.
fn sheet_unit_in_text(text: &str) -> Option<String> {
    let half = to_half_width(text).replace(' ', "");
    // 单位: at the start or after a bracket/separator, not inside a word such as 制表单位.
    let pos = half.match_indices("单位:").map(|(i, _)| i).find(|&i| {
        half[..i]
            .chars()
            .last()
            .is_none_or(|c| matches!(c, '(' | '[' | ',' | ';' | '、'))
    })?;
    let rest = &half[pos + "单位:".len()..];
    let unit: String = rest
        .chars()
        .take_while(|c| !matches!(c, ')' | ']' | ',' | ';' | '、'))
        .collect();
    (!unit.is_empty()).then_some(unit)
}

fn spec_match<'a>(spec: &'a SheetSpec, candidates: &[String]) -> Option<&'a schema::ColumnSpec> {
    spec.columns.iter().find(|c| {
        candidates
            .iter()
            .any(|cand| c.aliases.contains(&cand.as_str()))
    })
}

/// Resolves one sheet against its spec.
fn sheet(
    grid: &Grid,
    spec: &'static SheetSpec,
    file: &str,
    sheet_name: &str,
    issues: &mut Issues,
) -> Option<SheetTable> {
    let at = |r: usize, c: usize| {
        format!(
            "{file} [{sheet_name}!{}]",
            a1(grid.abs_row(r), grid.abs_col(c))
        )
    };
    let sheet_at = format!("{file} [{sheet_name}]");
    if grid.height() == 0 {
        issues.error(&sheet_at, format!("the {} sheet is empty", spec.label));
        return None;
    }
    // 1. The header row: the first row holding a 区划代码 column.
    let header = (0..grid.height().min(HEADER_SEARCH_ROWS)).find(|&r| {
        (0..grid.width()).any(|c| is_code_header(&normalise_header(&grid.text(r, c)).0))
    });
    let Some(header) = header else {
        issues.error(
            &sheet_at,
            format!(
                "no header row with a 区划代码 (county code) column in the first {HEADER_SEARCH_ROWS} rows"
            ),
        );
        return None;
    };
    // 2. Title rows above the header: year and a sheet-wide unit.
    let mut year = None;
    // Sheet-wide units (单位：公顷 in a title or the units row), with the cell that states them.
    let mut sheet_units: Vec<(Unit, String)> = Vec::new();
    let mut scan_meta = |r: usize,
                         year: &mut Option<FoundYear>,
                         units_found: &mut Vec<(Unit, String)>| {
        for c in 0..grid.width() {
            let text = grid.text(r, c);
            if text.is_empty() {
                continue;
            }
            let y = year_label_value(grid, r, c).or_else(|| year_in_text(&text));
            if let (Some(y), None) = (y, year.as_ref()) {
                *year = Some(FoundYear {
                    year: y,
                    location: at(r, c),
                });
            }
            if let Some(u) = sheet_unit_in_text(&text) {
                match units::parse(&u) {
                    Some(unit) => units_found.push((unit, at(r, c))),
                    None => issues.error(at(r, c), format!("unknown unit \"{u}\" in \"{text}\"")),
                }
            }
        }
    };
    for r in 0..header {
        scan_meta(r, &mut year, &mut sheet_units);
    }
    // 3. Sub-header and units rows between the header and the first data row.
    let code_col =
        (0..grid.width()).find(|&c| is_code_header(&normalise_header(&grid.text(header, c)).0))?;
    let is_data_row = |r: usize| {
        parse_code(grid.get(r, code_col)).is_some()
            || (0..grid.width().min(3)).any(|c| is_subtotal_text(&grid.text(r, c)))
    };
    let mut sub_header: Option<usize> = None;
    let mut units_row: Option<usize> = None;
    let mut first_data = header + 1;
    while first_data < grid.height() && first_data <= header + 3 && !is_data_row(first_data) {
        let r = first_data;
        if grid.row_is_empty(r) {
            first_data += 1;
            continue;
        }
        let first = grid.first_text(r);
        let non_empty: Vec<String> = (0..grid.width())
            .map(|c| grid.text(r, c))
            .filter(|t| !t.is_empty())
            .collect();
        let all_units = non_empty
            .iter()
            .all(|t| units::parse(t).is_some() || sheet_unit_in_text(t).is_some());
        if normalise_header(&first).0.starts_with("单位") || all_units {
            units_row = Some(r);
            for c in 0..grid.width() {
                let t = grid.text(r, c);
                if let Some(u) = sheet_unit_in_text(&t).and_then(|u| units::parse(&u)) {
                    sheet_units.push((u, at(r, c)));
                }
            }
        } else if sub_header.is_none() {
            sub_header = Some(r);
        }
        first_data += 1;
    }
    // 4. Columns.
    let mut columns: Vec<FoundColumn> = Vec::new();
    for c in 0..grid.width() {
        let (top, top_unit) = normalise_header(&grid.text(header, c));
        let (leaf, leaf_unit) = sub_header
            .map(|r| normalise_header(&grid.text(r, c)))
            .unwrap_or_default();
        let name = if leaf.is_empty() {
            top.clone()
        } else {
            leaf.clone()
        };
        if name.is_empty() {
            continue;
        }
        let mut candidates = vec![name.clone()];
        if !leaf.is_empty() && leaf != top {
            candidates.push(format!("{top}{leaf}"));
        }
        let header_unit = leaf_unit.or(top_unit);
        let header_r = if leaf.is_empty() {
            header
        } else {
            sub_header.unwrap_or(header)
        };
        let (key, kind) = match spec_match(spec, &candidates) {
            Some(cs) => (cs.key.to_string(), cs.kind),
            None if spec.kind == SheetKind::LandCover
                && !schema::TOTAL_HEADERS.contains(&name.as_str()) =>
            {
                (
                    format!("class:{name}"),
                    ColumnKind::Number(units::Dimension::Area),
                )
            }
            None => {
                if !schema::TOTAL_HEADERS.iter().any(|t| name.contains(t)) && !name.contains("总量")
                {
                    issues.warn(
                        Check::Reading,
                        at(header_r, c),
                        format!("column \"{name}\" not recognised; ignored"),
                        format!("未识别的列「{name}」，已忽略"),
                    );
                }
                continue;
            }
        };
        if let Some(prev) = columns.iter().find(|f| f.key == key) {
            issues.error(
                at(header_r, c),
                format!(
                    "column \"{name}\" appears twice (also column {}); keep one",
                    a1(prev.header_row, prev.col).trim_end_matches(char::is_numeric)
                ),
            );
            continue;
        }
        let mut unit = None;
        if let ColumnKind::Number(dim) = kind
            && dim != units::Dimension::Free
        {
            let row_unit = units_row
                .map(|r| grid.text(r, c))
                .filter(|t| !t.is_empty() && !t.starts_with("单位"));
            let written = header_unit.clone().or(row_unit.clone());
            // Report a unit problem where the unit is written: the header, or the units row.
            let unit_r = if header_unit.is_none() && row_unit.is_some() {
                units_row.unwrap_or(header_r)
            } else {
                header_r
            };
            match written {
                Some(text) => match units::parse(&text) {
                    Some(u) if u.dimension == dim => {
                        if let (Some(h), Some(rw)) = (&header_unit, &row_unit)
                            && units::parse(rw).map(|x| x.to_base) != Some(u.to_base) {
                                issues.error(
                                    at(unit_r, c),
                                    format!(
                                        "the header says {h} but the units row says {rw} ({}): state one unit",
                                        at(units_row.unwrap_or(header_r), c)
                                    ),
                                );
                            }
                        // A sheet-wide unit of the same dimension that says otherwise: the
                        // column's numbers cannot be read without guessing which one is meant.
                        if let Some((other, other_at)) = sheet_units
                            .iter()
                            .find(|(s, _)| s.dimension == dim && s.to_base != u.to_base)
                        {
                            issues.error(
                                at(unit_r, c),
                                format!(
                                    "column \"{name}\" is in {} here, but {other_at} says the sheet is in {}: state one unit",
                                    u.label, other.label
                                ),
                            );
                        }
                        unit = Some(u);
                    }
                    Some(u) => issues.error(
                        at(unit_r, c),
                        format!(
                            "column \"{name}\" needs a unit of {dim} ({}), found {}",
                            units::accepted(dim),
                            u.label
                        ),
                    ),
                    None => issues.error(
                        at(unit_r, c),
                        format!(
                            "unknown unit \"{text}\" for column \"{name}\" (expected one of {})",
                            units::accepted(dim)
                        ),
                    ),
                },
                None => match sheet_units.iter().find(|(u, _)| u.dimension == dim) {
                    Some((u, u_at)) => {
                        // Two sheet-wide units of this dimension that disagree (a title 单位：公顷
                        // and a units row 单位：万亩): the column's unit cannot be told.
                        match sheet_units
                            .iter()
                            .find(|(v, _)| v.dimension == dim && v.to_base != u.to_base)
                        {
                            Some((v, v_at)) => issues.error(
                                at(header_r, c),
                                format!(
                                    "column \"{name}\" has no unit of its own, and the sheet states two: {} ({u_at}) and {} ({v_at}); state one",
                                    u.label, v.label
                                ),
                            ),
                            None => unit = Some(*u),
                        }
                    }
                    None => issues.error(
                        at(header_r, c),
                        format!(
                            "no unit for column \"{name}\": write it in the header (\"{name}({})\") or in a units row",
                            dim.base_label()
                        ),
                    ),
                },
            }
            if unit.is_none() {
                // Reported above; skip the column's cells so one problem is not reported 117 times.
                continue;
            }
        }
        columns.push(FoundColumn {
            key,
            header: name,
            col: grid.abs_col(c),
            header_row: grid.abs_row(header_r),
            kind,
            unit,
        });
    }
    // Required columns; land cover is wide (class columns) or long (地类 + 面积).
    let has = |key: &str| columns.iter().any(|c| c.key == key);
    // Emissions are not needed when the degradation cost is given directly.
    let costs_given = spec.kind == SheetKind::Environment && has(col::DEGRADATION_COST_CNY);
    let excused = |key: &str| costs_given && crate::schema::EMISSION_ITEMS.contains(&key);
    for cs in spec.columns.iter().filter(|c| c.required) {
        if !has(cs.key) && !excused(cs.key) {
            issues.error(
                &sheet_at,
                format!(
                    "missing column \"{}\" ({})",
                    cs.aliases.first().copied().unwrap_or_default(),
                    cs.key
                ),
            );
        }
    }
    if spec.kind == SheetKind::LandCover {
        let long = has(col::LAND_CLASS);
        if long && !has(col::AREA_HA) {
            issues.error(
                &sheet_at,
                "long-form land cover needs a 面积 column next to 地类",
            );
        }
        if long {
            columns.retain(|c| !c.key.starts_with("class:"));
        } else if !columns.iter().any(|c| c.key.starts_with("class:")) {
            issues.error(
                &sheet_at,
                "no land-class columns found (wide form: one column per land class; long form: 地类 and 面积)",
            );
        }
    }
    // 5. Data rows.
    let name_col = columns.iter().position(|c| c.key == col::NAME);
    let mut rows = Vec::new();
    let mut subtotals = Vec::new();
    let mut placeholders = 0usize;
    let mut merged_over_data = BTreeSet::new();
    let mut uncalculated_data = Vec::new();
    for r in first_data..grid.height() {
        if grid.row_is_empty(r) {
            continue;
        }
        let first = grid.first_text(r);
        if is_footnote(&first) {
            continue;
        }
        let code_cell = grid.get(r, code_col);
        let code = parse_code(code_cell);
        let name = name_col
            .map(|i| {
                grid.text(
                    r,
                    (columns[i].col as usize).saturating_sub(grid.origin.1 as usize),
                )
            })
            .filter(|t| !t.is_empty());
        let labelled_total = is_subtotal_text(&cell_text(code_cell))
            || name.as_deref().is_some_and(is_subtotal_text);
        let subtotal = labelled_total || code.as_deref().is_some_and(is_subtotal_code);
        if code.is_none() && !subtotal {
            let found = cell_text(code_cell);
            if found.is_empty() {
                issues.error(
                    at(r, code_col),
                    format!(
                        "missing 区划代码{}",
                        name.as_ref()
                            .map(|n| format!(" for \"{n}\""))
                            .unwrap_or_default()
                    ),
                );
            } else {
                issues.error(
                    at(r, code_col),
                    format!("expected a 6-digit 区划代码, found \"{found}\""),
                );
            }
            continue;
        }
        let mut values = Vec::with_capacity(columns.len());
        for column in &columns {
            let c = column.col as usize - grid.origin.1 as usize;
            let cell = grid.get(r, c);
            let value = match column.kind {
                ColumnKind::Code => Value::Text(code.clone().unwrap_or_else(|| cell_text(cell))),
                ColumnKind::Text => {
                    let t = cell_text(cell);
                    if t.is_empty() {
                        Value::Missing
                    } else {
                        Value::Text(t)
                    }
                }
                ColumnKind::Number(dim) => {
                    // A number copied by a merge would count twice; a merged "—" or blank would not.
                    if let Some(&index) = grid.copied.get(&(r, c))
                        && matches!(parse_number(cell), CellNumber::Number(v) if v != 0.0)
                    {
                        merged_over_data.insert(index);
                    }
                    if grid
                        .uncalculated
                        .contains(&(grid.abs_row(r), u32::from(column.col)))
                    {
                        uncalculated_data.push((grid.abs_row(r), column.col));
                    }
                    let blank = spec
                        .columns
                        .iter()
                        .find(|s| s.key == column.key)
                        .map_or(Blank::Zero, |s| s.blank);
                    let unit = column.unit.unwrap_or(Unit {
                        dimension: dim,
                        to_base: 1.0,
                        label: dim.base_label(),
                    });
                    match parse_number(cell) {
                        CellNumber::Number(v) => Value::Number(v * unit.to_base),
                        CellNumber::NoneReported if subtotal => Value::Missing,
                        CellNumber::NoneReported => match blank {
                            Blank::Zero => {
                                placeholders += 1;
                                Value::Number(0.0)
                            }
                            Blank::Missing => Value::Missing,
                            Blank::Error => {
                                if !subtotal {
                                    issues.error(
                                        at(r, c),
                                        format!(
                                            "expected a number of {} for {}, found {}",
                                            unit.label,
                                            column.header,
                                            if cell_text(cell).is_empty() {
                                                "an empty cell".to_string()
                                            } else {
                                                format!("\"{}\"", cell_text(cell))
                                            }
                                        ),
                                    );
                                }
                                Value::Missing
                            }
                        },
                        CellNumber::Bad(found) => {
                            issues.error(
                                at(r, c),
                                format!(
                                    "expected a number of {} for {}, found {found}",
                                    unit.label, column.header
                                ),
                            );
                            Value::Missing
                        }
                    }
                }
            };
            values.push(value);
        }
        let record = Record {
            row: grid.abs_row(r),
            code,
            name,
            values,
        };
        if subtotal {
            subtotals.push(record);
        } else {
            rows.push(record);
        }
    }
    // Formulas without a cached value: in data cells they would be read as empty (an error);
    // elsewhere (a total column, a note) nothing is read from them (a warning).
    if !uncalculated_data.is_empty() {
        let cells: Vec<String> = uncalculated_data
            .iter()
            .take(10)
            .map(|&(r, c)| a1(r, c))
            .collect();
        issues.error(
            &sheet_at,
            format!(
                "{} formula cell{} without a calculated value ({}{}): the workbook was written by a program and never calculated, so these cells would be read as empty; open the file in Excel or WPS and save it",
                uncalculated_data.len(),
                if uncalculated_data.len() == 1 { "" } else { "s" },
                cells.join(", "),
                if uncalculated_data.len() > 10 { ", …" } else { "" }
            ),
        );
    }
    let elsewhere = grid.uncalculated.len() - uncalculated_data.len();
    if elsewhere > 0 {
        issues.warn(
            Check::Reading,
            &sheet_at,
            format!("{elsewhere} formula cells outside the data read have no calculated value (not read; open and save the file in Excel or WPS to calculate them)"),
            format!("{elsewhere} 个未读取的公式单元格没有计算结果（未读取；可在 Excel 或 WPS 中打开并保存以计算）"),
        );
    }
    for index in merged_over_data {
        let range = grid.merge_label(index);
        issues.error(
            format!("{file} [{sheet_name}!{range}]"),
            format!(
                "merged range {range} spans data cells: its one value would be counted in each of them (for example in two counties' rows); unmerge it and give every cell its own value"
            ),
        );
    }
    Some(SheetTable {
        kind: spec.kind,
        file: file.to_string(),
        sheet: sheet_name.to_string(),
        year,
        columns,
        rows,
        subtotals,
        placeholders,
    })
}

/// True when a normalised header names the 区划代码 column.
fn is_code_header(name: &str) -> bool {
    schema::sheet(SheetKind::LandCover).columns[0]
        .aliases
        .contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_ranges_found_by_the_byte_scan_are_the_ones_calamine_reads() {
        use rust_xlsxwriter::{Format, Workbook};
        let mut wb = Workbook::new();
        let plain = Format::new();
        let merged = wb.add_worksheet();
        merged.set_name("土地 & 利用").expect("name");
        merged
            .merge_range(0, 0, 0, 2, "标题", &plain)
            .expect("merge");
        merged
            .merge_range(2, 1, 4, 1, "太原市", &plain)
            .expect("merge");
        merged
            .write_string(5, 0, "<mergeCell ref=\"A1:Z9\"/> as text")
            .expect("text");
        merged
            .merge_range(7, 26, 7, 27, "AA8:AB8", &plain)
            .expect("merge");
        let unmerged = wb.add_worksheet();
        unmerged.set_name("其他").expect("name");
        unmerged.write_string(0, 0, "mergeCells").expect("text");
        let bytes = wb.save_to_buffer().expect("save");
        let parts = xlsx_sheet_parts(&bytes).expect("sheet parts");
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.as_slice())).expect("open");
        for name in ["土地 & 利用", "其他"] {
            let part = parts.get(name).expect("a part for every sheet");
            let scanned = xlsx_merges(&bytes, part).expect("part readable");
            let read = book.merge_cells_by_sheet_name(name).expect("calamine");
            assert_eq!(scanned, read, "{name}");
        }
        assert_eq!(
            xlsx_merges(&bytes, &parts["土地 & 利用"]).map(|m| m.len()),
            Some(3)
        );
    }

    fn merge_refs(xml: &[u8]) -> Option<Vec<Dimensions>> {
        let mut out = Vec::new();
        merge_refs_into(xml, &mut out)?;
        Some(out)
    }

    #[test]
    fn a_merge_far_larger_than_the_sheet_fills_only_the_grid() {
        let mut range = Range::new((2, 1), (3, 2));
        range.set_value((2, 1), Data::String("标题".into()));
        range.set_value((3, 2), Data::Float(1.0));
        // The whole sheet merged: 1.7 × 10¹⁰ cells, of which four are in the grid.
        let whole = Dimensions {
            start: (0, 0),
            end: (1_048_575, 16_383),
        };
        assert_eq!(within(&whole, (2, 1), 2, 2), Some(((2, 1), (3, 2))));
        let grid = Grid::new(range, &[whole]);
        // The range's top-left cell (A1) is outside the grid: its (empty) value fills the grid.
        assert!(grid.cells.iter().flatten().all(|d| *d == Data::Empty));
        assert_eq!(grid.copied.len(), 4);
        // A merge inside the grid copies its top-left value over the range.
        let mut range = Range::new((2, 1), (3, 2));
        range.set_value((2, 1), Data::String("标题".into()));
        let title = Dimensions {
            start: (2, 1),
            end: (2, 5),
        };
        assert_eq!(within(&title, (2, 1), 2, 2), Some(((2, 1), (2, 2))));
        let outside = Dimensions {
            start: (9, 0),
            end: (9, 3),
        };
        assert_eq!(within(&outside, (2, 1), 2, 2), None);
        assert_eq!(within(&title, (2, 1), 0, 2), None);
        let grid = Grid::new(range, &[title]);
        assert_eq!(grid.cells[0], vec![Data::String("标题".into()); 2]);
        assert_eq!(grid.copied.len(), 1);
    }

    #[test]
    fn merges_streamed_in_chunks_of_any_size_are_the_merges_of_the_whole_sheet() {
        let xml = concat!(
            r#"<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a &lt;mergeCell ref="A1:B2"/&gt;</t></is></c></row></sheetData>"#,
            r#"<mergeCells count="3"><mergeCell ref="A1:C1"/><x:mergeCell  ref="B3:B5" /><mergeCell ref="AA8:AB8"></mergeCell></mergeCells></worksheet>"#
        );
        let whole = merge_refs(xml.as_bytes()).expect("readable");
        assert_eq!(whole.len(), 3);
        for chunk in 1..=xml.len() {
            assert_eq!(
                merges_in(xml.as_bytes(), chunk),
                Some(whole.clone()),
                "chunk {chunk}"
            );
        }
        // A range calamine cannot read, in any chunk: no merges, as calamine gives none.
        let bad = r#"<mergeCells><mergeCell ref="A1:B2"/><mergeCell ref="$A$1:B2"/></mergeCells>"#;
        for chunk in [1, 7, 1 << 18] {
            assert_eq!(merges_in(bad.as_bytes(), chunk), Some(vec![]));
        }
    }

    #[test]
    fn merge_refs_take_any_prefix_and_give_up_on_a_range_calamine_cannot_read() {
        let xml = br#"<x:worksheet><x:mergeCells count="2"><x:mergeCell ref="a1:B2"/><x:mergeCell ref="C3"></x:mergeCell></x:mergeCells></x:worksheet>"#;
        assert_eq!(
            merge_refs(xml),
            Some(vec![
                Dimensions {
                    start: (0, 0),
                    end: (1, 1)
                },
                Dimensions {
                    start: (2, 2),
                    end: (2, 2)
                },
            ])
        );
        // Text holds `&lt;mergeCell`, never `<mergeCell`.
        assert_eq!(
            merge_refs(b"<t>&lt;mergeCell ref=\"A1:B2\"/&gt;</t>"),
            Some(vec![])
        );
        for bad in ["A0:B2", "1A:B2", "A1:B2:C3", "$A$1:B2", "A1:"] {
            let xml = format!(r#"<mergeCell ref="{bad}"/>"#);
            assert_eq!(merge_refs(xml.as_bytes()), None, "{bad}");
        }
    }

    fn dimensions(rf: u32, rl: u32, cf: u16, cl: u16) -> Vec<u8> {
        let mut d = Vec::new();
        d.extend(rf.to_le_bytes());
        d.extend(rl.to_le_bytes());
        d.extend(cf.to_le_bytes());
        d.extend(cl.to_le_bytes());
        d.extend([0, 0]);
        d
    }

    #[test]
    fn xls_dimensions_reservation_mirrors_calamine_arithmetic() {
        // Rows 0..10 (last is exclusive), columns 0..4: 40 cells.
        assert_eq!(xls_dimensions_reservation(&dimensions(0, 10, 0, 4)), 40);
        // Empty sheet (last row 0): one cell.
        assert_eq!(xls_dimensions_reservation(&dimensions(0, 0, 0, 0)), 1);
        // First row past the last: calamine's u32 arithmetic wraps to ~4.3e9 rows.
        assert_eq!(
            xls_dimensions_reservation(&dimensions(6, 5, 0, 1)),
            u64::from(u32::MAX)
        );
        // A first column over 0xFF is read as 0.
        assert_eq!(xls_dimensions_reservation(&dimensions(0, 1, 300, 3)), 3);
        // BIFF5 10-byte form with 16-bit rows.
        let biff5 = [0, 0, 20, 0, 0, 0, 2, 0, 0, 0];
        assert_eq!(xls_dimensions_reservation(&biff5), 40);
        // Other lengths are refused by calamine: nothing reserved.
        assert_eq!(xls_dimensions_reservation(&[0; 12]), 0);
    }

    #[test]
    fn attributes_are_scanned_as_calamine_scans_them() {
        // A value quote that swallows the next tag, then a key with spaces and quotes in it:
        // quick-xml refuses this, calamine reads uniqueCount.
        let raw = r#" xml.s="a><sst xml.s=" b/c" count="1" uniqueCount="99" x"#;
        let attrs = calamine_attrs(raw);
        assert!(attrs.contains(&("uniqueCount", "99")), "{attrs:?}");
        // The first malformed attribute (no quote) ends the scan.
        assert_eq!(calamine_attrs(r#" a=1 b="2""#), Vec::<(&str, &str)>::new());
        assert_eq!(
            calamine_attrs(r#" a = '1'  b="2""#),
            vec![("a", "1"), ("b", "2")]
        );
    }

    #[test]
    fn numbers_stored_as_text_are_read() {
        assert_eq!(
            parse_number(&Data::String("2,345.6".into())),
            CellNumber::Number(2345.6)
        );
        assert_eq!(
            parse_number(&Data::String("１２３．５".into())),
            CellNumber::Number(123.5)
        );
        assert_eq!(
            parse_number(&Data::String(" 12 ".into())),
            CellNumber::Number(12.0)
        );
        assert_eq!(
            parse_number(&Data::String("1，234".into())),
            CellNumber::Number(1234.0)
        );
        assert_eq!(parse_number(&Data::Int(7)), CellNumber::Number(7.0));
    }

    #[test]
    fn a_date_in_the_year_cell_gives_its_year() {
        let date = calamine::ExcelDateTime::new(
            44256.0, // 2021-03-01
            calamine::ExcelDateTimeType::DateTime,
            false,
        );
        let range = Range::from_sparse(vec![
            calamine::Cell::new((0, 0), Data::String("年份".into())),
            calamine::Cell::new((0, 1), Data::DateTime(date)),
        ]);
        let grid = Grid::new(range, &[]);
        assert_eq!(year_label_value(&grid, 0, 0), Some(2021));
    }

    #[test]
    fn decimal_commas_are_refused_not_read_as_thousands() {
        for bad in [
            "12,3", "5527,04", "1.610,81", "7,16,71", "1,2345", ",123", "12,", "-3,5",
        ] {
            match parse_number(&Data::String(bad.into())) {
                CellNumber::Bad(m) => assert!(m.contains("decimal comma"), "{bad}: {m}"),
                other => panic!("{bad} read as {other:?}"),
            }
        }
        for (good, v) in [
            ("1,234", 1234.0),
            ("12,345,678.25", 12_345_678.25),
            ("-1,000", -1000.0),
            ("999", 999.0),
            ("1 234,5", f64::NAN),
        ] {
            match parse_number(&Data::String(good.into())) {
                CellNumber::Number(x) => assert_eq!(x, v, "{good}"),
                CellNumber::Bad(_) if v.is_nan() => {}
                other => panic!("{good} read as {other:?}"),
            }
        }
    }

    #[test]
    fn placeholders_mean_none_reported() {
        for p in ["—", "-", "/", "…", "", "  "] {
            assert_eq!(
                parse_number(&Data::String(p.into())),
                CellNumber::NoneReported,
                "{p}"
            );
        }
        assert_eq!(parse_number(&Data::Empty), CellNumber::NoneReported);
    }

    #[test]
    fn other_text_dates_and_errors_are_bad() {
        assert!(
            matches!(parse_number(&Data::String("约300".into())), CellNumber::Bad(s) if s == "\"约300\"")
        );
        assert!(matches!(
            parse_number(&Data::Error(calamine::CellErrorType::Div0)),
            CellNumber::Bad(s) if s.contains("#DIV/0!")
        ));
        assert!(matches!(
            parse_number(&Data::Bool(true)),
            CellNumber::Bad(_)
        ));
    }

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(
            parse_code(&Data::Float(140105.0)).as_deref(),
            Some("140105")
        );
        assert_eq!(
            parse_code(&Data::String("140105".into())).as_deref(),
            Some("140105")
        );
        assert_eq!(
            parse_code(&Data::String("140105000000".into())).as_deref(),
            Some("140105")
        );
        assert_eq!(
            parse_code(&Data::String("１４０１０５".into())).as_deref(),
            Some("140105")
        );
        assert_eq!(parse_code(&Data::String("合计".into())), None);
        assert_eq!(parse_code(&Data::Float(1401.0)), None);
        assert!(is_subtotal_code("140100"));
        assert!(is_subtotal_code("140000"));
        assert!(!is_subtotal_code("140105"));
    }

    #[test]
    fn years_are_found_in_titles() {
        assert_eq!(year_in_text("2021年山西省各县土地利用现状"), Some(2021));
        assert_eq!(year_in_text("表1 ２０２２年 供水"), Some(2022));
        assert_eq!(year_in_text("12021年"), None);
        assert_eq!(year_in_text("土地利用"), None);
    }

    #[test]
    fn sheet_wide_units_are_found() {
        assert_eq!(sheet_unit_in_text("单位：公顷").as_deref(), Some("公顷"));
        assert_eq!(
            sheet_unit_in_text("2021年供水（单位：万m³）").as_deref(),
            Some("万m³")
        );
        assert_eq!(sheet_unit_in_text("供水"), None);
    }

    #[test]
    fn content_decides_the_format() {
        let l = Limits::default();
        assert_eq!(sniff(b"", &l).unwrap_err(), "the file is empty");
        assert!(sniff(b"<html><table>", &l).unwrap_err().contains("HTML"));
        assert!(
            sniff(b"code,name\n140105,x", &l)
                .unwrap_err()
                .contains("not a workbook")
        );
        // A bare CFB signature has no valid header.
        assert!(
            sniff(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0], &l)
                .unwrap_err()
                .contains(".xls container")
        );
    }
}
