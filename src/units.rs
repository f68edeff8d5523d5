//! Units at the boundary: parse the unit written in a workbook or coefficient file and
//! convert to the engine's base units (hectare, cubic metre, yuan, person, tonne).
//! An unknown unit is an error, never a guess.

use std::fmt;

/// What a number measures; each kind has one base unit inside the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    /// Base: hectare (公顷, hm²).
    Area,
    /// Base: cubic metre (m³).
    Volume,
    /// Base: yuan (元).
    Money,
    /// Base: person (人).
    People,
    /// Base: tonne (吨).
    Mass,
    /// Base: kilowatt-hour (千瓦时, 度).
    Energy,
    /// Base: millimetre of water depth (precipitation, evapotranspiration).
    Depth,
    /// No fixed unit: each row names its own in a unit column (the 实物量 sheet).
    Free,
}

impl Dimension {
    /// The base unit's label.
    pub fn base_label(self) -> &'static str {
        match self {
            Dimension::Area => "公顷",
            Dimension::Volume => "m³",
            Dimension::Money => "元",
            Dimension::People => "人",
            Dimension::Mass => "t",
            Dimension::Energy => "kWh",
            Dimension::Depth => "mm",
            Dimension::Free => "",
        }
    }

    /// Chinese name used in messages.
    pub fn name_zh(self) -> &'static str {
        match self {
            Dimension::Area => "面积",
            Dimension::Volume => "体积",
            Dimension::Money => "金额",
            Dimension::People => "人数",
            Dimension::Mass => "质量",
            Dimension::Energy => "电量",
            Dimension::Depth => "水深",
            Dimension::Free => "任意",
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name_zh())
    }
}

/// A recognised unit: its dimension and the factor that converts it to the base unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unit {
    /// What it measures.
    pub dimension: Dimension,
    /// Multiply a value in this unit by `to_base` to get the base unit.
    pub to_base: f64,
    /// Canonical label, as written in the book.
    pub label: &'static str,
}

/// 1 亩 = 10000/15 m² = 1/15 hectare.
pub const HA_PER_MU: f64 = 1.0 / 15.0;

const UNITS: &[(&[&str], Dimension, f64, &str)] = &[
    (&["公顷", "hm2", "ha", "hm^2"], Dimension::Area, 1.0, "公顷"),
    (&["万公顷", "万hm2", "万ha"], Dimension::Area, 1e4, "万公顷"),
    (&["亩"], Dimension::Area, HA_PER_MU, "亩"),
    (&["万亩"], Dimension::Area, 1e4 * HA_PER_MU, "万亩"),
    (
        &["km2", "平方公里", "平方千米", "km^2"],
        Dimension::Area,
        100.0,
        "km²",
    ),
    (&["m2", "平方米"], Dimension::Area, 1e-4, "m²"),
    (&["m3", "立方米", "方"], Dimension::Volume, 1.0, "m³"),
    (
        &["万m3", "万立方米", "万方"],
        Dimension::Volume,
        1e4,
        "万m³",
    ),
    (
        &["亿m3", "亿立方米", "亿方"],
        Dimension::Volume,
        1e8,
        "亿m³",
    ),
    (&["元", "cny", "yuan"], Dimension::Money, 1.0, "元"),
    (&["万元", "万cny"], Dimension::Money, 1e4, "万元"),
    (&["亿元", "亿cny"], Dimension::Money, 1e8, "亿元"),
    (&["人", "persons", "person"], Dimension::People, 1.0, "人"),
    (&["t", "吨", "tonne", "tonnes"], Dimension::Mass, 1.0, "t"),
    (&["kg", "千克", "公斤"], Dimension::Mass, 1e-3, "kg"),
    (&["万吨", "万t"], Dimension::Mass, 1e4, "万吨"),
    (&["万人"], Dimension::People, 1e4, "万人"),
    (&["人次"], Dimension::People, 1.0, "人次"),
    (&["万人次"], Dimension::People, 1e4, "万人次"),
    (
        &["kwh", "千瓦时", "度", "千瓦小时"],
        Dimension::Energy,
        1.0,
        "kWh",
    ),
    (
        &["万kwh", "万千瓦时", "万度"],
        Dimension::Energy,
        1e4,
        "万kWh",
    ),
    (
        &["亿kwh", "亿千瓦时", "亿度"],
        Dimension::Energy,
        1e8,
        "亿kWh",
    ),
    (&["mm", "毫米"], Dimension::Depth, 1.0, "mm"),
    (&["亿吨", "亿t"], Dimension::Mass, 1e8, "亿吨"),
];

/// Normalises a unit as written (`万m³`, `（万亩）`, `单位:公顷`, `hm²`) for lookup.
fn normalise_unit(text: &str) -> String {
    let mut s = fold(text);
    for prefix in ["单位:", "单位", "unit:", "unit"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest.to_string();
            break;
        }
    }
    s.trim_matches(|c| c == '(' || c == ')' || c == '[' || c == ']')
        .to_string()
}

/// Parses a unit as written in a workbook header, a units row or a coefficient file.
///
/// Returns `None` for a unit the engine does not know: callers report that as an error.
pub fn parse(text: &str) -> Option<Unit> {
    let key = normalise_unit(text);
    UNITS
        .iter()
        .find_map(|(aliases, dimension, to_base, label)| {
            aliases.contains(&key.as_str()).then_some(Unit {
                dimension: *dimension,
                to_base: *to_base,
                label,
            })
        })
}

/// The labels accepted for `dimension`, for "expected one of" messages.
pub fn accepted(dimension: Dimension) -> String {
    UNITS
        .iter()
        .filter(|u| u.1 == dimension)
        .map(|u| u.3)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Full-width ASCII (Ａ-Ｚ, ０-９, （）, ：…) and the ideographic space to half-width; other
/// characters as written (a unit shown back to the user keeps its m³).
pub fn to_half_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect()
}

/// The key under which two spellings of a unit or a short label compare equal: Unicode
/// compatibility folding (NFKC: full width to half width, m³ → m3, CO₂ → CO2, ㎡ → m2), no
/// spaces or middle dots, ASCII lower case (`t CO₂/ha·yr` → `tco2/hayr`).
pub fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    // A superscript after a digit is an exponent (10¹⁸ → 10^18), after a letter a power of the
    // unit (m³ → m3): NFKC alone would make 10¹⁸ read as 1018.
    let mut marked = String::with_capacity(text.len());
    let mut previous: Option<char> = None;
    for c in text.chars() {
        let superscript = matches!(c, '⁰' | '¹' | '²' | '³' | '⁴' | '⁵' | '⁶' | '⁷' | '⁸' | '⁹');
        if superscript && previous.is_some_and(|p| p.is_ascii_digit()) {
            marked.push('^');
        }
        marked.push(c);
        // Within an exponent, the next superscript continues it.
        previous = if superscript && previous.is_some_and(|p| p.is_ascii_digit() || p == '^') {
            Some('^')
        } else {
            Some(c)
        };
    }
    marked
        .nfkc()
        .filter(|c| !c.is_whitespace() && *c != '·')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_compares_units_across_widths_superscripts_and_spaces() {
        assert_eq!(fold("t CO₂/ha·yr"), "tco2/hayr");
        assert_eq!(fold("元／ｍ³"), "元/m3");
        assert_eq!(fold("㎡"), "m2");
        assert_eq!(fold("Ｔ／ＨＡ／ＹＲ"), "t/ha/yr");
        assert_eq!(to_half_width("万m³（）"), "万m³()");
        // An exponent stays an exponent: 10¹⁸ is 10^18, not 1018.
        assert_eq!(fold("元/10¹⁸个"), "元/10^18个");
        assert_eq!(fold("10¹⁸ ions/ha/yr"), "10^18ions/ha/yr");
        assert_eq!(fold("km²"), "km2");
    }

    fn base(value: f64, unit: &str) -> f64 {
        value * parse(unit).unwrap().to_base
    }

    #[test]
    fn areas_convert_to_hectares() {
        assert_eq!(base(1.0, "公顷"), 1.0);
        assert_eq!(base(1.0, "hm²"), 1.0);
        assert!((base(15.0, "亩") - 1.0).abs() < 1e-12);
        assert!((base(1.5, "万亩") - 1000.0).abs() < 1e-9);
        assert_eq!(base(2.0, "km²"), 200.0);
        assert_eq!(base(2.0, "平方公里"), 200.0);
        assert_eq!(base(386.95, "万公顷"), 3_869_500.0);
    }

    #[test]
    fn volumes_convert_to_cubic_metres() {
        assert_eq!(base(3.0, "万m³"), 30_000.0);
        assert_eq!(base(3.0, "万m3"), 30_000.0);
        assert_eq!(base(75.0, "亿m³"), 7.5e9);
        assert_eq!(base(1.0, "立方米"), 1.0);
    }

    #[test]
    fn money_and_people_convert() {
        assert_eq!(base(2.5, "亿元"), 2.5e8);
        assert_eq!(base(2.5, "万元"), 25_000.0);
        assert_eq!(base(3.0, "万人"), 30_000.0);
    }

    #[test]
    fn written_forms_are_normalised() {
        assert_eq!(parse("（万亩）").unwrap().label, "万亩");
        assert_eq!(parse("单位：公顷").unwrap().label, "公顷");
        assert_eq!(parse(" 万ｍ３ ").unwrap().label, "万m³");
        assert_eq!(parse("KM2").unwrap().label, "km²");
    }

    #[test]
    fn unknown_units_are_not_guessed() {
        assert!(parse("英亩").is_none());
        assert!(parse("斤").is_none());
        assert_eq!(parse("万吨").unwrap().to_base, 1e4);
        assert!(parse("").is_none());
    }
}
