//! Regulating: the rate-based services — soil retention, sand fixation, flood regulation, air and
//! water purification, climate regulation, pest control, biodiversity (methodology §2.3–§2.11).
//! Q = Σ_class A × rate × conversion (capped at emissions when the set says so), V = Q × P.

use std::collections::BTreeMap;

use super::overrides::{Override, Overrides};
use super::registry::{SERVICES, Service, ValuedBy};
use super::{ClassRate, LandCover, Line, Text, Texts, same_text};
use crate::coefficients::{Coefficients, Price, RateSpec, STATUSES};
use crate::error::{Issues, Result};
use crate::validate::Inputs;
use polars::prelude::PlHashMap;

/// How a component is valued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Valuation {
    /// V = Q × the price `price_key` of prices.toml.
    Price(&'static str),
    /// The rate is a value per hectare (元/ha/yr): Q = the area served (ha), V = A × rate.
    PerHectare,
}

/// One physical component of a rate-based service.
#[derive(Debug)]
pub struct Component {
    /// Its rate in service_rates.csv (the key is also that of a 实物量 override).
    pub rate: RateSpec,
    /// Label in the book (`二氧化硫`), empty for a one-component service.
    pub label_zh: &'static str,
    /// The same in the English book (`SO₂`).
    pub label_en: &'static str,
    /// Unit of the rate as the engine holds it.
    pub rate_unit: &'static str,
    /// How it is valued.
    pub valuation: Valuation,
    /// 环境 sheet item that caps it when `purification_cap = "emissions"`.
    pub cap_item: Option<&'static str>,
}

/// The English label of a component label written in the lines (`乔木林地 · 二氧化硫` →
/// `乔木林地 · SO₂`; land classes are names from the inputs and stay as written).
pub fn component_en(component: &str) -> String {
    // The components of a declared service's lines.
    match component {
        "实物量" => return "given quantity".into(),
        "价值量" => return "given value".into(),
        _ => {}
    }
    let mut out = component.to_string();
    for c in SERVICES.iter().flat_map(|s| s.components()) {
        if !c.label_zh.is_empty() && out.ends_with(c.label_zh) {
            out = format!("{}{}", &out[..out.len() - c.label_zh.len()], c.label_en);
        }
    }
    out
}

/// The worst evidence grade of the parts of a derived price.
fn worst(parts: &[&Price]) -> String {
    parts
        .iter()
        .map(|p| p.status.as_str())
        .max_by_key(|s| STATUSES.iter().position(|x| x == s))
        .unwrap_or("D")
        .to_string()
}

/// The latest year of the parts of a derived price.
/// The price year of a derived price: its parts' latest, an indexed part counting at the year
/// it was brought to.
fn year(parts: &[&Price]) -> i32 {
    parts
        .iter()
        .map(|p| p.indexed.as_ref().map_or(p.year, |i| i.to))
        .max()
        .unwrap_or_default()
}

/// The per-tonne price of soil retained, derived from its parts (methodology §2.3):
/// λ/ρ × c_dredging + C_N × P_N + C_P × P_P (元/t soil), with status the worst of its parts
/// and the arithmetic as source, so that the book links it like any price.
pub fn soil_retention_price(
    prices: &BTreeMap<String, Price>,
    parameters: &BTreeMap<String, Price>,
) -> Option<Price> {
    let (Some(c), Some(l), Some(rho)) = (
        prices.get("soil_dredging"),
        parameters.get("sediment_ratio"),
        parameters.get("soil_bulk_density"),
    ) else {
        return None;
    };
    {
        let mut value = l.value / rho.value * c.value;
        let mut text = format!(
            "derived: sediment_ratio {} / soil_bulk_density {} t/m³ × soil_dredging {} 元/m³",
            l.value, rho.value, c.value
        );
        let mut parts = vec![c, l, rho];
        for (content, price, label) in [
            ("soil_n_content", "soil_nitrogen", "N"),
            ("soil_p_content", "soil_phosphorus", "P"),
        ] {
            if let (Some(k), Some(p)) = (parameters.get(content), prices.get(price)) {
                value += k.value * p.value;
                text.push_str(&format!(
                    " + {content} {} × {price} {} 元/t ({label})",
                    k.value, p.value
                ));
                parts.push(k);
                parts.push(p);
            }
        }
        let derived = Price {
            value,
            unit: "元/t".into(),
            year: year(&parts),
            scope: "derived".into(),
            source: text,
            status: worst(&parts),
            note: "price per tonne of soil retained (prices.toml and its [parameters])".into(),
            ..Price::default()
        };
        Some(derived)
    }
}

/// The per-tonne price of sand fixed (methodology §2.4): P_sand-control / (ρ_s × h) (元/t sand).
pub fn sand_fixation_price(
    prices: &BTreeMap<String, Price>,
    parameters: &BTreeMap<String, Price>,
) -> Option<Price> {
    let (Some(c), Some(rho), Some(h)) = (
        prices.get("sand_control"),
        parameters.get("sand_bulk_density"),
        parameters.get("sand_cover_depth"),
    ) else {
        return None;
    };
    {
        let derived = Price {
            value: c.value / (rho.value * h.value),
            unit: "元/t".into(),
            year: year(&[c, rho, h]),
            scope: "derived".into(),
            source: format!(
                "derived: sand_control {} 元/m² / (sand_bulk_density {} t/m³ × sand_cover_depth {} m)",
                c.value, rho.value, h.value
            ),
            status: worst(&[c, rho, h]),
            note: "price per tonne of sand fixed (prices.toml and its [parameters])".into(),
            ..Price::default()
        };
        Some(derived)
    }
}

/// Where a missing derived price comes from: its service's prices and parameters.
fn derivation_hint(service: &Service, key: &str) -> String {
    if !service.derived_prices.iter().any(|d| d.key == key) {
        return String::new();
    }
    let prices: Vec<&str> = service.prices.iter().map(|p| p.key).collect();
    let parameters: Vec<&str> = service.parameters.iter().map(|p| p.key).collect();
    format!(
        " (derived from {} and [parameters] {})",
        prices.join(", "),
        parameters.join(", ")
    )
}

/// kWh of air-conditioning and humidifying per m³ of water evaporated: q/3.6 + γ (q in J/g,
/// γ in kWh/m³), divided by the air-conditioner efficiency r when the set's switch says so.
///
/// # Errors
/// [`crate::Error::Invalid`] when a parameter is missing from prices.toml.
pub fn evaporation_kwh_per_m3(coef: &Coefficients) -> Result<(f64, String)> {
    let param = |key: &str| {
        coef.parameters.get(key).map(|p| p.value).ok_or_else(|| {
            crate::Error::invalid(
                "prices.toml",
                format!("climate_regulation.water_surface needs [parameters.{key}]"),
            )
        })
    };
    let q = param("latent_heat")?;
    let gamma = param("humidifier_energy")?;
    let mut kwh = q / 3.6 + gamma;
    let mut text = format!("{q}/3.6 + {gamma}");
    if coef
        .manifest
        .switches
        .water_surface_divided_by_ac_efficiency
    {
        let r = param("ac_efficiency")?;
        kwh /= r;
        text = format!("({text}) / {r}");
    }
    Ok((kwh, text))
}

/// Lines of every rate-based component the set gives rates for, or that the 实物量 sheet gives.
///
/// # Errors
/// [`crate::Error::Invalid`] when a price or parameter is missing (named with its file).
pub(crate) fn lines(
    inputs: &Inputs,
    coef: &Coefficients,
    overrides: &Overrides,
    land: &LandCover,
    warnings: &mut Issues,
    texts: &mut Texts,
) -> Result<Vec<Line>> {
    let mut out = Lines::default();
    let hectares = texts.get("公顷");
    let capped = coef.manifest.switches.purification_cap == "emissions";
    if capped && inputs.environment.is_none() {
        warnings.warn(
            crate::error::Check::Reading,
            "环境",
            "purification_cap is \"emissions\" but there is no 环境 sheet: air and water purification are capacity (area × rate), uncapped",
            "系数集要求以排放量为净化上限（purification_cap = emissions），但没有环境表：空气与水质净化按面积 × 单位面积净化能力计，不设上限",
        );
    }
    let emissions = emissions_by_county(inputs)?;
    for service in SERVICES {
        let ValuedBy::Rates {
            formula: method,
            components,
        } = service.valued_by
        else {
            continue;
        };
        let quantity_unit = service.quantity_unit.unwrap_or_default();
        let quantity_unit_text = texts.get(quantity_unit);
        for component in components {
            let rate_key = component.rate.key;
            let has_rates = coef.rates.iter().any(|r| r.indicator == rate_key);
            let given = overrides.for_key(rate_key);
            if !has_rates && given.is_empty() {
                continue;
            }
            let (price, price_key) = match component.valuation {
                Valuation::Price(key) => match coef.price(key) {
                    Some(p) => (Some(p.value), key),
                    None => {
                        return Err(crate::Error::invalid(
                            "prices.toml",
                            format!(
                                "{} needs the price [prices.{key}]{}",
                                rate_key,
                                derivation_hint(service, key)
                            ),
                        ));
                    }
                },
                Valuation::PerHectare => (None, ""),
            };
            // Evaporation energy is converted only for rate lines: a 实物量 row gives kWh, and the
            // parameters of the conversion (latent_heat …) are then not demanded.
            let (conversion, conversion_text) =
                if rate_key == "climate_regulation.water_surface" && has_rates {
                    let (k, t) = evaporation_kwh_per_m3(coef)?;
                    (k, format!(" (kWh/m³ = {t} = {k})"))
                } else {
                    (1.0, String::new())
                };
            let mut by_county = CountyGroups::default();
            if has_rates {
                let rows = land.class_rates(coef, rate_key, texts)?;
                out.reserve(rows.len());
                for row in rows {
                    if row.rate != 0.0 {
                        // A rate of 0 provides none in this set (its source says why).
                        by_county.push(row);
                    }
                }
            }
            let label = |class: &str| {
                if component.label_zh.is_empty() {
                    class.to_string()
                } else {
                    format!("{class} · {}", component.label_zh)
                }
            };
            let rate_unit = texts.get(component.rate_unit);
            let price_key_text = texts.get(price_key);
            // The method and formula of the uncapped lines, shared by every county.
            let method_text = texts.get(&format!("{method}{conversion_text}"));
            let price_formula = texts.get(&format!(
                "{{input}}*{{coefficient}}{}",
                conversion_formula(conversion)
            ));
            let area_formula = texts.get("{input}");
            // Counties with an override get the override only.
            for (county, parts) in &given {
                by_county.clear(county);
                for o in parts {
                    out.push_override(
                        service.key,
                        quantity_unit,
                        label("实物量"),
                        county,
                        o,
                        price,
                        price_key,
                        "V = Q × P",
                    );
                }
            }
            for (county, classes) in by_county.groups {
                let capacity: f64 = classes
                    .iter()
                    .map(|c| c.area_ha * c.rate * conversion)
                    .sum();
                let cap = match (capped, component.cap_item) {
                    (true, Some(item)) => emissions.get(&(county.to_string(), item.to_string())),
                    _ => None,
                };
                let (factor, cap_text) = match cap {
                    Some((e, at)) if capacity > *e => (
                        if capacity > 0.0 { e / capacity } else { 0.0 },
                        format!("; capped at emissions {e} t ({at}): × {e}/{capacity}"),
                    ),
                    _ => (1.0, String::new()),
                };
                let (line_method, capped_formula) = if cap_text.is_empty() {
                    (method_text.clone(), price_formula.clone())
                } else {
                    (
                        texts.get(&format!("{method}{conversion_text}{cap_text}")),
                        texts.get(&format!("{price_formula}{}", conversion_formula(factor))),
                    )
                };
                for c in classes {
                    let (quantity, line_price, formula) = match component.valuation {
                        Valuation::PerHectare => (c.area_ha, Some(c.rate), area_formula.clone()),
                        Valuation::Price(_) => (
                            c.area_ha * c.rate * conversion * factor,
                            price,
                            capped_formula.clone(),
                        ),
                    };
                    let value = quantity * line_price.unwrap_or_default();
                    let component_label = if component.label_zh.is_empty() {
                        c.class.clone()
                    } else {
                        texts.get(&label(c.class))
                    };
                    out.push(Line {
                        county_code: county.clone(),
                        indicator: service.key,
                        component: component_label,
                        source_ref: c.source_ref.clone(),
                        input_amount: c.area_ha,
                        input_unit: hectares.clone(),
                        coefficient_ref: c.rate_ref,
                        coefficient: Some(c.rate),
                        coefficient_unit: rate_unit.clone(),
                        method: line_method.clone(),
                        quantity_formula: formula,
                        quantity: Some(quantity),
                        quantity_unit: quantity_unit_text.clone(),
                        price_key: price_key_text.clone(),
                        price_cny_per_unit: line_price,
                        value_cny: value,
                    });
                }
            }
        }
    }
    reservoir_lines(inputs, coef, overrides, &mut out)?;
    Ok(out.into_vec())
}

/// Flood regulation by reservoirs: C_r = share × total capacity (0.35 in the national method,
/// methodology §2.5), valued at the reservoir storage cost; one line per county that reports a
/// capacity on the 供水 sheet, unless a 实物量 row gives the county's flood regulation.
fn reservoir_lines(
    inputs: &Inputs,
    coef: &Coefficients,
    overrides: &Overrides,
    out: &mut Lines,
) -> Result<()> {
    let given = overrides.for_key("flood_regulation");
    let rows: Vec<(String, f64, String)> = super::long_rows(&inputs.reservoirs)?
        .into_iter()
        .filter(|r| r.amount > 0.0 && !given.contains_key(&r.county))
        .map(|r| (r.county, r.amount, r.source_ref))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let Some(share) = coef.parameters.get("reservoir_flood_share") else {
        return Err(crate::Error::invalid(
            "prices.toml",
            "the 供水 sheet gives 水库总库容: flood regulation needs [parameters.reservoir_flood_share] (0.35 in the national method)",
        ));
    };
    let price = super::required_price(coef, "reservoir_storage")?;
    for (county, capacity, at) in rows {
        let quantity = capacity * share.value;
        out.push(Line {
            county_code: (county).into(),
            indicator: "flood_regulation",
            component: "水库".into(),
            source_ref: at.into(),
            input_amount: capacity,
            input_unit: "m³ 总库容".into(),
            coefficient_ref: (format!(
                "prices.toml [parameters.reservoir_flood_share] = {} [{}] ({})",
                share.value, share.status, share.source
            ))
            .into(),
            coefficient: Some(share.value),
            coefficient_unit: "1".into(),
            method: "reservoirs: C_r = share × total capacity; V = C_r × P_reservoir".into(),
            quantity_formula: "{input}*{coefficient}".into(),
            quantity: Some(quantity),
            quantity_unit: "m³".into(),
            price_key: "reservoir_storage".into(),
            price_cny_per_unit: Some(price),
            value_cny: quantity * price,
        });
    }
    Ok(())
}

/// `*x` for a formula, or nothing when x is 1.
fn conversion_formula(conversion: f64) -> String {
    if conversion == 1.0 {
        String::new()
    } else {
        format!("*{conversion}")
    }
}

/// (county, 环境 item) → (tonnes, cell).
fn emissions_by_county(inputs: &Inputs) -> Result<BTreeMap<(String, String), (f64, String)>> {
    let Some(env) = &inputs.environment else {
        return Ok(BTreeMap::new());
    };
    Ok(super::long_rows(env)?
        .into_iter()
        .map(|r| ((r.county, r.item), (r.amount, r.source_ref)))
        .collect())
}

/// A component's rated land rows by county, counties in order of first sight and each county's
/// rows in their order (a hash index on the county, looked up only when the county changes:
/// rows come in runs of one county). The lines are sorted later; only the rows of one county
/// must keep their order.
#[derive(Default)]
struct CountyGroups<'l> {
    groups: Vec<(&'l Text, Vec<ClassRate<'l>>)>,
    index: PlHashMap<&'l str, usize>,
}

impl<'l> CountyGroups<'l> {
    fn push(&mut self, row: ClassRate<'l>) {
        let last = self.groups.len().checked_sub(1);
        let at = match last {
            Some(i) if same_text(self.groups[i].0, row.county) => i,
            _ => {
                let next = self.groups.len();
                let at = *self.index.entry(row.county.as_str()).or_insert(next);
                if at == next {
                    self.groups.push((row.county, Vec::new()));
                }
                at
            }
        };
        self.groups[at].1.push(row);
    }

    /// Drops a county's rows (it has an override).
    fn clear(&mut self, county: &str) {
        if let Some(&at) = self.index.get(county) {
            self.groups[at].1.clear();
        }
    }
}

/// Lines collected row by row.
#[derive(Default)]
pub(crate) struct Lines(Vec<Line>);

impl Lines {
    pub fn push(&mut self, line: Line) {
        self.0.push(line);
    }

    /// Room for `more` lines (one growth instead of many copies of a large vector).
    pub fn reserve(&mut self, more: usize) {
        self.0.reserve(more);
    }

    /// A line for a 实物量 override: the quantity as given (in `quantity_unit`), valued at
    /// `price`; `valuation` ends the method text (`V = Q × P`).
    #[allow(clippy::too_many_arguments)]
    pub fn push_override(
        &mut self,
        indicator: &'static str,
        quantity_unit: &'static str,
        component: String,
        county: &str,
        o: &Override,
        price: Option<f64>,
        price_key: &str,
        valuation: &str,
    ) {
        let component = match &o.component {
            Some(part) => format!("{component} · {part}"),
            None => component,
        };
        self.push(Line {
            county_code: (county.to_string()).into(),
            indicator,
            component: component.into(),
            source_ref: o.source_ref.as_str().into(),
            input_amount: o.quantity,
            input_unit: quantity_unit.into(),
            coefficient_ref: (String::new()).into(),
            coefficient: None,
            coefficient_unit: (String::new()).into(),
            method: (format!("实物量 override ({}); {valuation}", o.source)).into(),
            quantity_formula: "{input}".into(),
            quantity: Some(o.quantity),
            quantity_unit: quantity_unit.into(),
            price_key: price_key.into(),
            price_cny_per_unit: price,
            value_cny: o.quantity * price.unwrap_or_default(),
        });
    }

    /// The lines.
    pub fn into_vec(self) -> Vec<Line> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::overrides::Override;
    use crate::account::testing::{cpi_to_2021, inputs, total};
    use crate::coefficients::Rate;
    use crate::schema::col;
    use polars::prelude::*;

    /// The family's lines with the land rows read for it (as `compute` shares them).
    fn lines(
        inputs: &Inputs,
        coef: &Coefficients,
        overrides: &Overrides,
        warnings: &mut Issues,
        texts: &mut Texts,
    ) -> Result<Vec<Line>> {
        let land = LandCover::new(inputs, coef, texts)?;
        super::lines(inputs, coef, overrides, &land, warnings, texts)
    }

    const CLASSES: &[&str] = &[
        "forest",
        "shrub",
        "orchard",
        "grassland",
        "farmland",
        "wetland",
        "water",
        "built_up",
        "bare",
    ];

    /// The Shanxi set with `indicator` rates replaced: `given` classes at their rate, others 0.
    fn with_rates(mut coef: Coefficients, indicator: &str, given: &[(&str, f64)]) -> Coefficients {
        coef.rates.retain(|r| r.indicator != indicator);
        for class in CLASSES {
            let rate = given.iter().find(|g| g.0 == *class).map_or(0.0, |g| g.1);
            coef.rates.push(Rate {
                valuation_class: (*class).into(),
                indicator: indicator.into(),
                rate,
                unit: "test".into(),
                year: String::new(),
                scope: "test".into(),
                source: "test".into(),
                status: "U".into(),
                low: None,
                high: None,
                rate_base: rate,
            });
        }
        coef
    }

    /// The rated lines of the 3-county case under `coef`, as a frame.
    fn frame_of(coef: &Coefficients) -> DataFrame {
        let lines = lines(
            &inputs(),
            coef,
            &Overrides::default(),
            &mut Issues::new(),
            &mut Texts::default(),
        );
        Line::frame(&lines.unwrap()).unwrap()
    }

    fn shanxi() -> Coefficients {
        crate::account::registry::load_coefficients(None, false).unwrap()
    }

    #[test]
    fn soil_retention_is_valued_at_the_derived_price_per_tonne() {
        let coef = with_rates(shanxi(), "soil_retention", &[("forest", 100.0)]);
        // λ/ρ × c_d + C_N × P_N + C_P × P_P with the Shanxi set's Garzê/Huanghua values.
        // The 2010 prices brought to 2021 with the national CPI; the parameters are physical.
        let price = (0.24 / 1.17 * 15.58 + 0.0037 * 875.0 + 0.00108 * 2800.0) * cpi_to_2021(2010);
        assert!((coef.price("soil_retention").unwrap().value - price).abs() < 1e-9);
        let lines = frame_of(&coef);
        // 140105: 100 ha 乔木林地 × 100 t/ha = 10,000 t.
        assert_eq!(
            total(&lines, "140105", "soil_retention", "quantity"),
            10_000.0
        );
        assert!(
            (total(&lines, "140105", "soil_retention", "value_cny") - 10_000.0 * price).abs()
                < 1e-6
        );
    }

    #[test]
    fn sand_fixation_price_is_control_cost_over_density_times_depth() {
        let coef = with_rates(shanxi(), "sand_fixation", &[("grassland", 2.0)]);
        let price = 3.75 * cpi_to_2021(2010) / (1.28 * 0.1);
        assert!((coef.price("sand_fixation").unwrap().value - price).abs() < 1e-9);
        let lines = frame_of(&coef);
        // 50 ha 天然牧草地 × 2 t/ha = 100 t → 100 t / (1.28 t/m³ × 0.1 m) = 781.25 m² × 3.75 元/m²
        // (2010, × CPI to 2021).
        assert_eq!(total(&lines, "140105", "sand_fixation", "quantity"), 100.0);
        assert!(
            (total(&lines, "140105", "sand_fixation", "value_cny") - 2929.6875 * cpi_to_2021(2010))
                .abs()
                < 1e-9
        );
    }

    #[test]
    fn purification_is_capped_at_emissions_when_the_switch_says_so() {
        let mut coef = with_rates(
            shanxi(),
            "air_purification.so2",
            &[("forest", 2.0), ("grassland", 1.0)],
        );
        coef.rates
            .retain(|r| r.indicator != "air_purification.dust");
        // Capacity 100 ha × 2 + 50 ha × 1 = 250 t; 140105 emitted 100 t SO₂ (环境!C5).
        coef.manifest.switches.purification_cap = "capacity".into();
        let uncapped = frame_of(&coef);
        assert_eq!(
            total(&uncapped, "140105", "air_purification", "quantity"),
            250.0
        );
        coef.manifest.switches.purification_cap = "emissions".into();
        let capped = frame_of(&coef);
        assert!((total(&capped, "140105", "air_purification", "quantity") - 100.0).abs() < 1e-9);
        assert!(
            (total(&capped, "140105", "air_purification", "value_cny")
                - 100.0 * 1200.0 * cpi_to_2021(2010))
            .abs()
                < 1e-6
        );
        // 140107 (10 ha 灌木林地, rate 0) and 140106 (no emissions row) are unchanged.
        assert_eq!(
            total(&capped, "140107", "air_purification", "quantity"),
            0.0
        );
    }

    #[test]
    fn pest_control_values_the_area_at_its_cost_per_hectare() {
        let coef = shanxi();
        let lines = frame_of(&coef);
        // 100 ha forest × 375 + 50 ha grassland × 112.5; the quantity is the area served.
        assert_eq!(total(&lines, "140105", "pest_control", "quantity"), 150.0);
        assert_eq!(
            total(&lines, "140105", "pest_control", "value_cny"),
            43_125.0
        );
        // 10 ha 灌木林地 at the (U-graded) forest cost.
        assert_eq!(
            total(&lines, "140107", "pest_control", "value_cny"),
            3_750.0
        );
    }

    #[test]
    fn water_surface_evaporation_converts_to_kwh_with_the_efficiency_switch() {
        let mut coef = with_rates(
            shanxi(),
            "climate_regulation.water_surface",
            &[("grassland", 10_000.0)], // 1000 mm/yr held as 10,000 m³/ha/yr
        );
        let per_m3 = 2450.0 / 3.6 + 120.0;
        let lines_a = frame_of(&coef);
        let e = 50.0 * 10_000.0 * per_m3;
        assert!((total(&lines_a, "140105", "climate_regulation", "quantity") - e).abs() < 1e-3);
        assert!(
            (total(&lines_a, "140105", "climate_regulation", "value_cny")
                - e * 0.53 * cpi_to_2021(2010))
            .abs()
                < 1e-3
        );
        coef.manifest
            .switches
            .water_surface_divided_by_ac_efficiency = true;
        let lines_b = frame_of(&coef);
        assert!(
            (total(&lines_b, "140105", "climate_regulation", "quantity") - e / 3.0).abs() < 1e-3
        );
    }

    #[test]
    fn an_override_replaces_the_rate_lines_of_its_county_only() {
        let coef = with_rates(
            shanxi(),
            "soil_retention",
            &[("forest", 100.0), ("shrub", 10.0)],
        );
        let mut overrides = Overrides::default();
        overrides.insert(
            "soil_retention",
            "140105",
            Override {
                component: None,
                quantity: 55_555.0,
                source: "RUSLE 2021".into(),
                source_ref: "t [实物量!D3]".into(),
            },
        );
        let lines = Line::frame(
            &lines(
                &inputs(),
                &coef,
                &overrides,
                &mut Issues::new(),
                &mut Texts::default(),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            total(&lines, "140105", "soil_retention", "quantity"),
            55_555.0
        );
        assert_eq!(total(&lines, "140107", "soil_retention", "quantity"), 100.0);
    }

    /// Regression (issue 11, item 10): with the evaporation energy given in kWh on the 实物量
    /// sheet and no water-surface rates, the set was still asked for latent_heat.
    #[test]
    fn evaporation_energy_given_in_kwh_needs_no_latent_heat() {
        let mut coef = shanxi();
        coef.rates
            .retain(|r| r.indicator != "climate_regulation.water_surface");
        coef.parameters.remove("latent_heat");
        let mut overrides = Overrides::default();
        overrides.insert(
            "climate_regulation.water_surface",
            "140105",
            Override {
                component: None,
                quantity: 2.5e7,
                source: "published account".into(),
                source_ref: "t [实物量!D3]".into(),
            },
        );
        let lines = Line::frame(
            &lines(
                &inputs(),
                &coef,
                &overrides,
                &mut Issues::new(),
                &mut Texts::default(),
            )
            .unwrap(),
        )
        .unwrap();
        let price = coef.price("electricity").unwrap().value;
        let value = total(&lines, "140105", "climate_regulation", "value_cny");
        let quantity = total(&lines, "140105", "climate_regulation", "quantity");
        let vegetation = quantity - 2.5e7;
        assert!(
            (value - (vegetation + 2.5e7) * price).abs() < 1e-3,
            "{value}"
        );
    }

    #[test]
    fn reservoirs_regulate_floods_with_35_percent_of_their_capacity() {
        let mut coef = shanxi();
        let mut i = inputs();
        i.reservoirs = df!(
            col::CODE => ["140105", "140106"],
            "item" => ["reservoir_capacity_m3", "reservoir_capacity_m3"],
            "amount" => [1.0e7, 2.0e6],
            "source_ref" => ["t [供水!J5]", "t [供水!J6]"],
        )
        .unwrap();
        // 140106's flood regulation is given by the 实物量 sheet: its reservoir is not added.
        let mut o = Overrides::default();
        o.insert(
            "flood_regulation",
            "140106",
            Override {
                component: None,
                quantity: 123.0,
                source: "register".into(),
                source_ref: "t [实物量!D3]".into(),
            },
        );
        let price = coef.price("reservoir_storage").unwrap().value;
        let lines_ =
            Line::frame(&lines(&i, &coef, &o, &mut Issues::new(), &mut Texts::default()).unwrap())
                .unwrap();
        assert!((total(&lines_, "140105", "flood_regulation", "quantity") - 3.5e6).abs() < 1e-6);
        assert!(
            (total(&lines_, "140105", "flood_regulation", "value_cny") - 3.5e6 * price).abs()
                < 1e-3
        );
        assert_eq!(
            total(&lines_, "140106", "flood_regulation", "quantity"),
            123.0
        );
        coef.parameters.remove("reservoir_flood_share");
        let err = lines(&i, &coef, &o, &mut Issues::new(), &mut Texts::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("reservoir_flood_share"), "{err}");
    }

    #[test]
    fn water_purification_and_biodiversity_on_the_hand_computed_case() {
        let mut coef = with_rates(shanxi(), "water_purification.cod", &[("forest", 1.0)]);
        coef = with_rates(
            coef,
            "biodiversity",
            &[("forest", 5000.0), ("shrub", 3000.0)],
        );
        coef.manifest.switches.purification_cap = "emissions".into();
        let lines = frame_of(&coef);
        // COD capacity 100 ha × 1 t = 100 t, capped at the 50 t discharged (环境!F5), × 700 元/t.
        assert!((total(&lines, "140105", "water_purification", "quantity") - 50.0).abs() < 1e-9);
        assert!(
            (total(&lines, "140105", "water_purification", "value_cny")
                - 35_000.0 * cpi_to_2021(2010))
            .abs()
                < 1e-6
        );
        // Biodiversity: 100 ha × 5000 元/ha; 140107: 10 ha 灌木林地 × 3000 元/ha.
        assert_eq!(
            total(&lines, "140105", "biodiversity", "value_cny"),
            500_000.0
        );
        assert_eq!(
            total(&lines, "140107", "biodiversity", "value_cny"),
            30_000.0
        );
        assert_eq!(total(&lines, "140107", "biodiversity", "quantity"), 10.0);
    }
}
