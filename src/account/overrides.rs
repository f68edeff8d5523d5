//! Stage 3, value: the 实物量 sheet — physical quantities modelled elsewhere (RUSLE, RWEQ, InVEST)
//! that replace the rate-based estimate for one county and indicator (or pollutant).

use std::collections::BTreeMap;

use crate::error::{Issues, Result};
use crate::schema::col;
use crate::units::{self, Dimension};
use crate::validate::Inputs;

/// One override, in the indicator's base unit.
#[derive(Debug, Clone, Default)]
pub struct Override {
    /// The part of the county's quantity it gives (`湖泊` of `洪水调蓄·湖泊`), or `None` for the
    /// whole. A county's parts are added, each on its own line.
    pub component: Option<String>,
    /// Quantity in the indicator's unit (t, m³, kWh, ha).
    pub quantity: f64,
    /// The model or report it comes from, as written.
    pub source: String,
    /// The cell it was read from.
    pub source_ref: String,
}

/// Overrides by component key (`soil_retention`, `air_purification.so2`, `water_conservation`)
/// and county: the whole quantity, or its parts.
#[derive(Debug, Default)]
pub struct Overrides {
    by_key: BTreeMap<String, BTreeMap<String, Vec<Override>>>,
}

/// Characters that end an indicator's name and start the part a row gives
/// (`洪水调蓄·湖泊`, `洪水调蓄（水库）`, `flood_regulation: marsh`).
const PART_SEPARATORS: &[char] = &['·', '/', ':', '(', '-', '|'];

/// A row's indicator name split into the indicator and the part: `洪水调蓄（湖泊）` →
/// (`洪水调蓄`, `湖泊`); `None` when the name has no separator or no part after it.
fn split_part(name: &str) -> Option<(String, String)> {
    let half = crate::units::to_half_width(name).replace('・', "·");
    let at = half.find(PART_SEPARATORS)?;
    let head = half[..at].trim().to_string();
    let sep_len = half[at..].chars().next().map_or(1, char::len_utf8);
    let part = half[at + sep_len..]
        .trim()
        .trim_end_matches(')')
        .trim()
        .to_string();
    (!head.is_empty() && !part.is_empty()).then_some((head, part))
}

/// A key an override may name, its unit, and the names it may be written as.
struct Target {
    key: String,
    unit: String,
    names: Vec<String>,
    /// Valued per hectare of each land class: an area given without its class has no value.
    per_hectare: bool,
}

pub(crate) fn normalise(text: &str) -> String {
    crate::units::to_half_width(text)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn targets(coef: &crate::coefficients::Coefficients) -> Vec<Target> {
    // Family services that read 实物量 rows (water conservation): the service as a whole.
    let mut out: Vec<Target> = super::SERVICES
        .iter()
        .filter(|s| s.physical_rows && s.components().is_empty())
        .map(|s| Target {
            key: s.key.into(),
            unit: s.quantity_unit.unwrap_or_default().into(),
            names: vec![s.key.into(), s.label_zh.into(), s.label_en.into()],
            per_hectare: false,
        })
        .collect();
    for service in super::SERVICES {
        let components = service.components();
        for c in components {
            let mut names = vec![c.rate.key.to_string()];
            if components.len() == 1 {
                names.push(service.label_zh.into());
                names.push(service.label_en.into());
                names.push(service.key.into());
            } else {
                names.push(format!("{}{}", service.label_zh, c.label_zh));
                names.push(c.label_zh.into());
            }
            out.push(Target {
                key: c.rate.key.into(),
                unit: service.quantity_unit.unwrap_or_default().into(),
                names: names.iter().map(|n| normalise(n)).collect(),
                per_hectare: c.valuation == super::rated::Valuation::PerHectare,
            });
        }
    }
    // Services the set declares: a quantity in their unit, or a value in 元.
    for (key, d) in &coef.manifest.services {
        out.push(Target {
            key: key.clone(),
            unit: d.quantity_unit.clone().unwrap_or_else(|| "元".into()),
            names: vec![key.clone(), d.label_zh.clone(), d.label_en.clone()],
            per_hectare: false,
        });
    }
    for t in &mut out {
        t.names = t.names.iter().map(|n| normalise(n)).collect();
    }
    out
}

fn dimension(unit: &str) -> Option<Dimension> {
    match unit {
        "t" => Some(Dimension::Mass),
        "m³" => Some(Dimension::Volume),
        "kWh" => Some(Dimension::Energy),
        "ha" => Some(Dimension::Area),
        _ => None,
    }
}

/// Substances a mass unit may name, as written after the mass (`t CO₂`, `万吨二氧化碳`, `吨碳`).
/// CO₂ before O₂ and C, which end its names.
const SUBSTANCES: &[(&str, &str)] = &[
    ("co₂", "CO₂"),
    ("co2", "CO₂"),
    ("二氧化碳", "CO₂"),
    ("o₂", "O₂"),
    ("o2", "O₂"),
    ("氧气", "O₂"),
    ("碳", "C"),
    ("c", "C"),
];

/// A mass of a named substance: the mass unit and the substance (`CO₂`, `O₂`, `C`), or `None`
/// when the text names no substance.
fn substance_mass(text: &str) -> Option<(units::Unit, &'static str)> {
    let folded: String = units::to_half_width(text)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '（' | '）'))
        .flat_map(char::to_lowercase)
        .collect();
    SUBSTANCES.iter().find_map(|(suffix, substance)| {
        let mass = folded.strip_suffix(suffix)?;
        let unit = units::parse(mass).filter(|u| u.dimension == Dimension::Mass)?;
        Some((unit, *substance))
    })
}

/// The factor from a row's unit to the target's mass of `substance`; carbon (t C) converts to
/// CO₂ with the set's `co2_per_carbon`. A bare mass is refused: whether 万吨 means CO₂ or C is
/// never guessed.
fn substance_factor(
    unit_text: &str,
    target: units::Unit,
    substance: &str,
    coef: &crate::coefficients::Coefficients,
) -> std::result::Result<f64, String> {
    let Some((unit, given)) = substance_mass(unit_text) else {
        return Err(
            if units::parse(unit_text).is_some_and(|u| u.dimension == Dimension::Mass) {
                format!(
                    "does not say of what: write the substance (t {substance}{})",
                    if substance == "CO₂" { " or t C" } else { "" }
                )
            } else {
                "is not a mass".to_string()
            },
        );
    };
    let mass = unit.to_base / target.to_base;
    match (given, substance) {
        (g, s) if g == s => Ok(mass),
        ("C", "CO₂") => coef
            .parameters
            .get("co2_per_carbon")
            .map(|p| mass * p.value)
            .ok_or_else(|| "is carbon, and the set has no [parameters.co2_per_carbon]".to_string()),
        (g, _) => Err(format!("is a mass of {g}")),
    }
}

impl Overrides {
    /// Resolves the 实物量 rows: names an indicator (or pollutant) and converts the unit.
    /// Every row that names no known indicator or gives a unit of the wrong kind is reported,
    /// all in one pass.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] listing every bad row.
    pub fn resolve(inputs: &Inputs, coef: &crate::coefficients::Coefficients) -> Result<Self> {
        let mut out = Overrides::default();
        let Some(df) = &inputs.physical else {
            return Ok(out);
        };
        let targets = targets(coef);
        let mut issues = Issues::new();
        let codes = df.column(col::CODE)?.str()?.clone();
        let names = df.column("indicator")?.str()?.clone();
        let quantities = df.column("quantity")?.f64()?.clone();
        let unit_texts = df.column("unit")?.str()?.clone();
        let sources = df.column("source")?.str()?.clone();
        let refs = df.column("source_ref")?.str()?.clone();
        for i in 0..df.height() {
            let at = refs.get(i).unwrap_or_default().to_string();
            let name = names.get(i).unwrap_or_default();
            // The whole quantity by its name, or a part of it (`洪水调蓄·湖泊`).
            let (target, component) =
                match targets.iter().find(|t| t.names.contains(&normalise(name))) {
                    Some(t) => (Some(t), None),
                    None => match split_part(name) {
                        Some((head, part)) => (
                            targets.iter().find(|t| t.names.contains(&normalise(&head))),
                            Some(part),
                        ),
                        None => (None, None),
                    },
                };
            let Some(target) = target else {
                let keys: Vec<&str> = targets.iter().map(|t| t.key.as_str()).collect();
                // Labels of the services a row may give (not 农业产品, which has no quantity).
                let labels = super::SERVICES
                    .iter()
                    .filter(|s| {
                        keys.iter().any(|k| {
                            *k == s.key || k.strip_prefix(s.key).is_some_and(|r| r.starts_with('.'))
                        })
                    })
                    .map(|s| s.label_zh)
                    .chain(coef.manifest.services.values().map(|d| d.label_zh.as_str()));
                let hint = crate::suggest::did_you_mean(name, keys.iter().copied().chain(labels))
                    .map_or_else(String::new, |c| format!("; did you mean \"{c}\"?"));
                issues.error(
                    &at,
                    format!(
                        "实物量: unknown indicator \"{name}\"{hint} (expected one of {})",
                        keys.join(", ")
                    ),
                );
                continue;
            };
            // Regression: such a row was accepted and valued at 0 without a word.
            if target.per_hectare {
                issues.error(
                    &at,
                    format!(
                        "实物量: {} is valued per hectare of each land class (service_rates.csv, 元/ha/yr), so an area given here without its class cannot be valued; give the areas in the land-cover sheet and leave this row out",
                        target.key
                    ),
                );
                continue;
            }
            let unit_text = unit_texts.get(i).unwrap_or_default();
            // The target's unit: a base unit (t, m³ …), a unit a declared service names (万t), or
            // one of its own (10¹⁸ ions), which the row must then write exactly.
            let (wanted, target_to_base) = match dimension(&target.unit) {
                Some(d) => (Some(d), 1.0),
                None => units::parse(&target.unit)
                    .map_or((None, 1.0), |u| (Some(u.dimension), u.to_base)),
            };
            let factor = match substance_mass(&target.unit) {
                // A mass of a named substance (t CO₂, t O₂): the row must name it too.
                Some((mass, substance)) => match substance_factor(unit_text, mass, substance, coef)
                {
                    Ok(f) => f,
                    Err(why) => {
                        issues.error(
                            &at,
                            format!(
                                "实物量: unit \"{unit_text}\" {why} ({} is measured in {})",
                                target.key, target.unit
                            ),
                        );
                        continue;
                    }
                },
                None => match units::parse(unit_text) {
                    Some(u) if Some(u.dimension) == wanted => u.to_base / target_to_base,
                    _ if wanted.is_none()
                        && units::fold(unit_text) == units::fold(&target.unit) =>
                    {
                        1.0
                    }
                    _ => {
                        issues.error(
                        &at,
                        format!(
                            "实物量: unit \"{unit_text}\" does not measure {} (expected one of {})",
                            target.key,
                            wanted.map_or_else(|| target.unit.to_string(), units::accepted)
                        ),
                    );
                        continue;
                    }
                },
            };
            // One county and indicator given twice (under two names: 芦苇 and reed), one part
            // twice, or the whole beside its parts.
            let county = codes.get(i).unwrap_or_default();
            let earlier = out
                .by_key
                .get(&target.key)
                .and_then(|m| m.get(county))
                .map_or(&[][..], Vec::as_slice);
            if let Some(first) = earlier
                .iter()
                .find(|o| o.component.is_none() || component.is_none() || o.component == component)
            {
                let what = match (&first.component, &component) {
                    (Some(a), Some(b)) if a == b => format!("the part \"{a}\" is given twice"),
                    (None, None) => "given twice".to_string(),
                    _ => "given both as a whole and in parts (give one or the other)".to_string(),
                };
                issues.error(
                    &at,
                    format!(
                        "实物量: {} of {county}: {what} (also {})",
                        target.key, first.source_ref
                    ),
                );
                continue;
            }
            out.by_key
                .entry(target.key.clone())
                .or_default()
                .entry(county.to_string())
                .or_default()
                .push(Override {
                    component,
                    quantity: super::present(quantities.get(i), "a quantity", Some(&at))? * factor,
                    source: sources.get(i).unwrap_or_default().to_string(),
                    source_ref: at,
                });
        }
        issues.into_result()?;
        Ok(out)
    }

    /// Adds one override (tests and callers that build overrides by hand).
    pub fn insert(&mut self, key: &str, county: &str, o: Override) {
        self.by_key
            .entry(key.to_string())
            .or_default()
            .entry(county.to_string())
            .or_default()
            .push(o);
    }

    /// The overrides of one component key, by county: the whole, or its parts.
    pub fn for_key(&self, key: &str) -> BTreeMap<String, Vec<Override>> {
        self.by_key.get(key).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_rows(rows: &[(&str, &str, f64, &str)]) -> Inputs {
        crate::account::testing::with_physical_rows(rows, "RUSLE 2021")
    }

    #[test]
    fn overrides_are_found_by_label_and_converted_to_the_indicator_unit() {
        let i = with_rows(&[
            ("140105", "土壤保持", 2.5, "万吨"),
            ("140106", "空气净化·二氧化硫", 1200.0, "kg"),
            ("140107", "水源涵养", 3.0, "亿m³"),
            ("140108", "提供负离子", 5.0, "10¹⁸ ions"),
        ]);
        let o = Overrides::resolve(
            &i,
            &crate::account::registry::load_coefficients(None, false).unwrap(),
        )
        .unwrap();
        // A service with a unit of its own takes rows in exactly that unit.
        assert_eq!(o.for_key("negative_air_ions")["140108"][0].quantity, 5.0);
        assert_eq!(o.for_key("soil_retention")["140105"][0].quantity, 25_000.0);
        assert!((o.for_key("air_purification.so2")["140106"][0].quantity - 1.2).abs() < 1e-12);
        assert_eq!(o.for_key("water_conservation")["140107"][0].quantity, 3.0e8);
    }

    #[test]
    fn unknown_indicators_and_wrong_units_are_all_reported() {
        let i = with_rows(&[
            ("140105", "土壤侵蚀", 1.0, "t"),
            ("140106", "防风固沙", 1.0, "m³"),
            ("140107", "防风固砂", 1.0, "t"),
        ]);
        let err = Overrides::resolve(
            &i,
            &crate::account::registry::load_coefficients(None, false).unwrap(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("t [实物量!D3]: 实物量: unknown indicator \"土壤侵蚀\" (expected one of"),
            "{err}"
        );
        assert!(
            err.contains("unknown indicator \"防风固砂\"; did you mean \"防风固沙\"?"),
            "{err}"
        );
        assert!(
            err.contains("t [实物量!D4]: 实物量: unit \"m³\" does not measure sand_fixation"),
            "{err}"
        );
    }

    /// Issue 11, item 4: flood regulation published by lakes, reservoirs and marsh, one row each.
    #[test]
    fn a_county_may_give_a_quantity_in_parts_each_on_its_own_line() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let i = with_rows(&[
            ("140105", "洪水调蓄·湖泊", 1.5, "亿m³"),
            ("140105", "洪水调蓄（水库）", 0.7, "亿m³"),
            ("140105", "flood_regulation: marsh", 200.0, "万m³"),
        ]);
        let o = Overrides::resolve(&i, &coef).unwrap();
        let parts = &o.for_key("flood_regulation")["140105"];
        let names: Vec<&str> = parts
            .iter()
            .map(|p| p.component.as_deref().unwrap())
            .collect();
        assert_eq!(names, ["湖泊", "水库", "marsh"]);
        let acc = crate::account::compute(&i, &coef).unwrap();
        let lines: Vec<_> = acc
            .lines
            .iter()
            .filter(|l| &*l.county_code == "140105" && l.indicator == "flood_regulation")
            .collect();
        assert_eq!(lines.len(), 3, "one line per part, no estimate beside them");
        let q: f64 = lines.iter().map(|l| l.quantity.unwrap()).sum();
        assert!((q - 2.22e8).abs() < 1e-3, "{q}");
        assert!(lines.iter().any(|l| &*l.component == "实物量 · 湖泊"));
    }

    #[test]
    fn a_whole_beside_its_parts_and_a_part_given_twice_are_refused() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let i = with_rows(&[
            ("140105", "洪水调蓄", 1.5, "亿m³"),
            ("140105", "洪水调蓄·湖泊", 1.0, "亿m³"),
            ("140106", "土壤保持·耕地", 1.0, "万吨"),
            ("140106", "土壤保持(耕地)", 2.0, "万吨"),
            ("140107", "洪水调节·湖泊", 1.0, "亿m³"),
        ]);
        let err = Overrides::resolve(&i, &coef).unwrap_err().to_string();
        assert!(
            err.contains("t [实物量!D4]: 实物量: flood_regulation of 140105: given both as a whole and in parts (give one or the other) (also t [实物量!D3])"),
            "{err}"
        );
        assert!(
            err.contains("t [实物量!D6]: 实物量: soil_retention of 140106: the part \"耕地\" is given twice (also t [实物量!D5])"),
            "{err}"
        );
        // A part of an unknown indicator is an unknown indicator, with a suggestion.
        assert!(
            err.contains("t [实物量!D7]: 实物量: unknown indicator \"洪水调节·湖泊\""),
            "{err}"
        );
    }
}
