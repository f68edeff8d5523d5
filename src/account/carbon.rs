//! Regulating: carbon sequestration (固碳) and oxygen release (释氧), methodology §2.8 and §4.
//! Forest: from stock change between two years, else from annual growth, per forest type, with the
//! continuous BEF B = a·(V/A) + b per hectare or V·BCEF·(1+R); carbon = B × CF.
//! Other classes: area × per-hectare rate. CO₂ = C × 44/12, O₂ = C × 32/12; or, with the set's
//! `carbon_route = "dry_matter"`, CO₂ = 1.63 × DM and O₂ = 1.19 × DM per t of dry matter (the
//! forest's biomass change; `npp_dry_matter` rates elsewhere), §2.8 route 1.

use polars::prelude::*;

use super::{LandCover, Line, Text, Texts};
use crate::coefficients::{Coefficients, ForestType};
use crate::error::{Issues, Result};
use crate::schema::col;
use crate::validate::Inputs;

/// The stoichiometric factors of the set (prices.toml `[parameters]`, or the engine's defaults
/// declared in the service registry): t CO₂ and t O₂ per t C and per t dry matter.
struct Factors {
    co2_per_c: f64,
    o2_per_c: f64,
    co2_per_dm: f64,
    o2_per_dm: f64,
}

impl Factors {
    fn of(coef: &Coefficients) -> Result<Self> {
        let get = |key: &str| {
            coef.parameters.get(key).map(|p| p.value).ok_or_else(|| {
                crate::Error::invalid(
                    "prices.toml",
                    format!("carbon and oxygen need [parameters.{key}]"),
                )
            })
        };
        Ok(Factors {
            co2_per_c: get("co2_per_carbon")?,
            o2_per_c: get("o2_per_carbon")?,
            co2_per_dm: get("co2_per_dry_matter")?,
            o2_per_dm: get("o2_per_dry_matter")?,
        })
    }
}

/// A forest type's parameters and the text of its coefficient reference.
struct TypeParams<'c> {
    params: &'c ForestType,
    type_ref: Text,
}

/// The forest types of the set by name (the first row of a name), each with its reference text.
fn forest_types<'c>(
    coef: &'c Coefficients,
    texts: &mut Texts,
) -> PlHashMap<&'c str, TypeParams<'c>> {
    let mut out = PlHashMap::default();
    for x in &coef.forest_types {
        if out.contains_key(x.forest_type.as_str()) {
            continue;
        }
        let type_ref = match x.method.as_str() {
            "bcef" => format!(
                "forest_types.csv: {} bcef = {}, R = {}, CF = {} [{}]",
                x.forest_type,
                x.bcef.unwrap_or_default(),
                x.root_shoot.unwrap_or_default(),
                x.carbon_fraction,
                x.status
            ),
            _ => format!(
                "forest_types.csv: {} a = {}, b = {}, CF = {} [{}]",
                x.forest_type,
                x.a.unwrap_or_default(),
                x.b.unwrap_or_default(),
                x.carbon_fraction,
                x.status
            ),
        };
        out.insert(
            x.forest_type.as_str(),
            TypeParams {
                params: x,
                type_ref: texts.get(&type_ref),
            },
        );
    }
    out
}

/// The continuous BEF method (B = a·V + b·A); any other method is V·BCEF·(1+R).
fn continuous(t: &ForestType) -> bool {
    t.method == "bef_continuous"
}

/// Carbon stock (t C) of a stand with volume `v` (m³) and area `area` (ha); `None` when a
/// parameter or amount the method needs is missing.
fn stock_carbon(t: &ForestType, v: Option<f64>, area: Option<f64>) -> Option<f64> {
    let cf = t.carbon_fraction;
    if continuous(t) {
        Some(cf * (t.a? * v? + t.b? * area?))
    } else {
        Some(cf * v? * t.bcef? * (1.0 + t.root_shoot?))
    }
}

/// Carbon fixed by an annual volume increment `dv` (m³/yr): the area term b·A does not change.
fn growth_carbon(t: &ForestType, dv: Option<f64>) -> Option<f64> {
    let cf = t.carbon_fraction;
    if continuous(t) {
        Some(cf * t.a? * dv?)
    } else {
        Some(cf * dv? * t.bcef? * (1.0 + t.root_shoot?))
    }
}

/// One row of a forest-stock frame, borrowed from its columns.
struct StandRow<'a> {
    county: &'a str,
    forest_type: &'a str,
    area_ha: Option<f64>,
    stock_m3: Option<f64>,
    growth_m3: Option<f64>,
    source_ref: &'a str,
}

/// The rows of a validated forest-stock frame in order.
///
/// # Errors
/// Polars failures only (a column missing or of another type).
fn stand_rows(df: &DataFrame) -> Result<Vec<StandRow<'_>>> {
    let codes = df.column(col::CODE)?.str()?;
    let types = df.column("forest_type")?.str()?;
    let areas = df.column("area_ha")?.f64()?;
    let stocks = df.column("stock_m3")?.f64()?;
    let growths = df.column("growth_m3")?.f64()?;
    let refs = df.column("source_ref")?.str()?;
    Ok((0..df.height())
        .map(|i| StandRow {
            county: codes.get(i).unwrap_or_default(),
            forest_type: types.get(i).unwrap_or_default(),
            area_ha: areas.get(i),
            stock_m3: stocks.get(i),
            growth_m3: growths.get(i),
            source_ref: refs.get(i).unwrap_or_default(),
        })
        .collect())
}

/// How a forest row's carbon was found: the four method texts of the 明细 sheet.
const FOREST_METHODS: [&str; 4] = [
    "stock change: ΔC = CF·[a·(V₁−V₀) + b·(A₁−A₀)]/(t₁−t₀)",
    "stock change: ΔC = CF·BCEF·(1+R)·(V₁−V₀)/(t₁−t₀)",
    "growth: ΔC = CF·a·ΔV",
    "growth: ΔC = CF·BCEF·(1+R)·ΔV",
];

/// One forest-stock row's carbon fixed in a year (t C) with the texts of its lines.
struct StandCarbon {
    county: Text,
    forest_type: Text,
    /// The stock cells of both years (`now − previous`), or the growth row's cells.
    source_ref: Text,
    /// Stock change (m³) or annual growth (m³/yr).
    input_amount: f64,
    input_unit: Text,
    type_ref: Text,
    carbon_fraction: f64,
    /// Index in [`FOREST_METHODS`].
    method: usize,
    carbon_t: f64,
}

/// Forest carbon per county and forest type, t C per year: from the stock change against the
/// previous year's row of the same county and type, else from the annual growth.
///
/// # Errors
/// [`crate::Error::Invalid`] naming every row whose forest type has no parameters or that has
/// neither a previous stock nor a growth; [`crate::Error::Internal`] when an amount validation
/// guarantees is missing.
fn forest_carbon(
    inputs: &Inputs,
    coef: &Coefficients,
    warnings: &mut Issues,
    texts: &mut Texts,
) -> Result<Vec<StandCarbon>> {
    let types = forest_types(coef, texts);
    let rows = stand_rows(&inputs.forest)?;
    let (interval, prev_year, previous) = match &inputs.forest_previous {
        Some((year, df)) => (f64::from(inputs.year - year), *year, stand_rows(df)?),
        None => (1.0, 0, Vec::new()),
    };
    let mut previous_of: PlHashMap<(&str, &str), &StandRow<'_>> = PlHashMap::default();
    for p in &previous {
        previous_of.entry((p.county, p.forest_type)).or_insert(p);
    }
    // The previous row whose stock gives the change (a row without stock counts as none).
    let previous_stock = |r: &StandRow<'_>| {
        previous_of
            .get(&(r.county, r.forest_type))
            .copied()
            .filter(|p| p.stock_m3.is_some())
    };
    // Every row needs a previous stock or an annual growth.
    let mut issues = Issues::new();
    for r in &rows {
        if !types.contains_key(r.forest_type) {
            issues.error(
                r.source_ref,
                format!(
                    "forest type \"{}\" has no parameters in forest_types.csv",
                    r.forest_type
                ),
            );
        } else if previous_stock(r).is_none() && r.growth_m3.is_none() {
            issues.error(
                r.source_ref,
                format!(
                    "{} {}: no previous-year stock and no 年生长量 (annual growth); one of them is needed for carbon sequestration",
                    r.county, r.forest_type
                ),
            );
        }
    }
    issues.into_result()?;
    if let Some((year, _)) = &inputs.forest_previous {
        let now: PlHashSet<(&str, &str)> = rows.iter().map(|r| (r.county, r.forest_type)).collect();
        for p in previous
            .iter()
            .filter(|p| !now.contains(&(p.county, p.forest_type)))
        {
            warnings.warn(
                crate::error::Check::Trend,
                p.source_ref,
                format!(
                    "{} {} is in the {year} forest stock but not in {}; its change is not counted",
                    p.county, p.forest_type, inputs.year
                ),
                format!(
                    "{} {} 在 {year} 年森林资源表中，但不在 {} 年表中：其蓄积变化未计入",
                    p.county, p.forest_type, inputs.year
                ),
            );
        }
    }
    let (stock_unit, growth_unit) = (
        texts.get(&format!("m³ stock change {prev_year}→{}", inputs.year)),
        texts.get("m³/yr growth"),
    );
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        // Checked above: every row's type has parameters.
        let Some(t) = types.get(r.forest_type) else {
            continue;
        };
        let p = t.params;
        let method = usize::from(!continuous(p));
        let (carbon, input, input_unit, source_ref, method) = match previous_stock(r) {
            Some(before) => (
                stock_carbon(p, r.stock_m3, r.area_ha)
                    .zip(stock_carbon(p, before.stock_m3, before.area_ha))
                    .map(|(now, then)| (now - then) / interval),
                r.stock_m3
                    .zip(before.stock_m3)
                    .map(|(now, then)| now - then),
                stock_unit.clone(),
                Text::from(format!("{} − {}", r.source_ref, before.source_ref).as_str()),
                method,
            ),
            None => (
                growth_carbon(p, r.growth_m3),
                r.growth_m3,
                growth_unit.clone(),
                Text::from(r.source_ref),
                2 + method,
            ),
        };
        let carbon_t = super::present(carbon, "a forest carbon amount", Some(&source_ref))?;
        let input_amount = super::present(input, "a forest stock or growth", Some(&source_ref))?;
        if carbon_t < 0.0 {
            warnings.warn(
                crate::error::Check::Trend,
                &*source_ref,
                format!(
                    "forest carbon fell by {:.1} t C: a net loss, kept with its sign",
                    -carbon_t
                ),
                format!("森林碳储量减少 {:.1} 吨碳：净损失，按负值计入", -carbon_t),
            );
        }
        out.push(StandCarbon {
            county: texts.get(r.county),
            forest_type: texts.get(r.forest_type),
            source_ref,
            input_amount,
            input_unit,
            type_ref: t.type_ref.clone(),
            carbon_fraction: p.carbon_fraction,
            method,
            carbon_t,
        });
    }
    Ok(out)
}

/// Lines of one gas from the forest rows: Q = (ΔC, or ΔB = ΔC / CF on the dry-matter route) ×
/// the gas factor, V = Q × price.
///
/// # Errors
/// [`crate::Error::Invalid`] when the set has no price for the gas.
fn push_forest_lines(
    stands: &[StandCarbon],
    dry_matter: bool,
    g: &Gas,
    (indicator, unit, price_key): Names,
    coef: &Coefficients,
    texts: &mut Texts,
    out: &mut Vec<Line>,
) -> Result<()> {
    if stands.is_empty() {
        return Ok(());
    }
    let price = super::required_price(coef, price_key)?;
    let methods = FOREST_METHODS.map(|m| texts.get(&format!("{m}{}", g.method)));
    let (coefficient_unit, no_formula, quantity_unit, price_key_text) = (
        texts.get("t C/t"),
        texts.get(""),
        texts.get(unit),
        texts.get(price_key),
    );
    out.reserve(stands.len());
    for s in stands {
        let base = if dry_matter {
            s.carbon_t / s.carbon_fraction
        } else {
            s.carbon_t
        };
        let quantity = base * g.factor;
        out.push(Line {
            county_code: s.county.clone(),
            indicator,
            component: s.forest_type.clone(),
            source_ref: s.source_ref.clone(),
            input_amount: s.input_amount,
            input_unit: s.input_unit.clone(),
            coefficient_ref: s.type_ref.clone(),
            coefficient: Some(s.carbon_fraction),
            coefficient_unit: coefficient_unit.clone(),
            method: methods[s.method].clone(),
            quantity_formula: no_formula.clone(),
            quantity: Some(quantity),
            quantity_unit: quantity_unit.clone(),
            price_key: price_key_text.clone(),
            price_cny_per_unit: Some(price),
            value_cny: quantity * price,
        });
    }
    Ok(())
}

fn dry_matter_route(coef: &Coefficients) -> bool {
    coef.manifest.switches.carbon_route == "dry_matter"
}

/// Lines of `carbon_sequestration` (t CO₂) and, when the set includes it, `oxygen_release` (t O₂),
/// built as typed lines: forest rows from their stock change or growth, every land row from its
/// class rate, soil from `soil_carbon_sequestration` rates. Order: forest, rate and soil CO₂,
/// then forest and rate O₂.
///
/// # Errors
/// [`crate::Error::Invalid`] when a forest row has neither previous stock nor growth, or a key has
/// no coefficient.
pub(crate) fn lines(
    inputs: &Inputs,
    coef: &Coefficients,
    land: &LandCover,
    warnings: &mut Issues,
    texts: &mut Texts,
) -> Result<Vec<Line>> {
    let forest = forest_carbon(inputs, coef, warnings, texts)?;
    let soil = RateCarbon::soil(land, coef, texts)?;
    let dm = dry_matter_route(coef);
    let f = Factors::of(coef)?;
    // (factor, method suffix, formula suffix) per gas and route; the factors as the set gives
    // them, in brackets in the formula (a bare trailing decimal is the emission-cap factor on 明细).
    let gas = |factor: f64, method: String| Gas {
        factor,
        formula: format!("*({factor})"),
        method,
    };
    let (co2, o2) = if dm {
        (
            gas(
                f.co2_per_dm,
                format!(
                    "; dry matter: CO₂ = co2_per_dry_matter {} × DM (ΔB = ΔC/CF for forest)",
                    f.co2_per_dm
                ),
            ),
            gas(
                f.o2_per_dm,
                format!("; dry matter: O₂ = o2_per_dry_matter {} × DM", f.o2_per_dm),
            ),
        )
    } else {
        (
            gas(
                f.co2_per_c,
                format!("; CO₂ = C × co2_per_carbon {}", f.co2_per_c),
            ),
            gas(
                f.o2_per_c,
                format!("; O₂ = C × o2_per_carbon {}", f.o2_per_c),
            ),
        )
    };
    let rate = RateCarbon::of(land, coef, texts)?;
    let mut out = Vec::new();
    push_forest_lines(&forest, dm, &co2, CO2, coef, texts, &mut out)?;
    rate.push_lines(&co2, CO2, coef, texts, &mut out)?;
    if let Some(soil) = soil {
        // Soil carbon is carbon on either route: CO₂ = C × co2_per_carbon.
        let soil_co2 = gas(
            f.co2_per_c,
            format!("; CO₂ = C × co2_per_carbon {}", f.co2_per_c),
        );
        soil.push_lines(&soil_co2, CO2, coef, texts, &mut out)?;
    }
    if coef.manifest.switches.include_oxygen {
        push_forest_lines(&forest, dm, &o2, O2, coef, texts, &mut out)?;
        rate.push_lines(&o2, O2, coef, texts, &mut out)?;
    }
    Ok(out)
}

/// A gas line's indicator, quantity unit and price key.
type Names = (&'static str, &'static str, &'static str);
const CO2: Names = ("carbon_sequestration", "t CO₂", "carbon");
const O2: Names = ("oxygen_release", "t O₂", "oxygen");

/// A gas's factor on the route's base quantity (t C or t dry matter) and its texts.
struct Gas {
    factor: f64,
    method: String,
    formula: String,
}

/// The per-hectare carbon of every land row: its class rate of `carbon_sequestration` (t C/ha/yr)
/// or, on the dry-matter route, of `npp_dry_matter` (t DM/ha/yr).
struct RateCarbon<'l> {
    rows: Vec<super::ClassRate<'l>>,
    coefficient_unit: Text,
    method: &'static str,
    /// Added to the land class to name the component (soil lines: " · 土壤固碳").
    component_suffix: &'static str,
}

impl<'l> RateCarbon<'l> {
    fn of(land: &'l LandCover, coef: &Coefficients, texts: &mut Texts) -> Result<Self> {
        if dry_matter_route(coef) {
            if !coef.rates.iter().any(|r| r.indicator == "npp_dry_matter") {
                return Err(crate::Error::invalid(
                    "service_rates.csv",
                    "carbon_route = \"dry_matter\" needs npp_dry_matter rates (t DM/ha/yr) for every valuation class",
                ));
            }
            return Ok(RateCarbon {
                rows: land.class_rates(coef, "npp_dry_matter", texts)?,
                coefficient_unit: texts.get("t DM/ha/yr"),
                method: "rate: DM = A × npp_class",
                component_suffix: "",
            });
        }
        Ok(RateCarbon {
            rows: land.class_rates(coef, "carbon_sequestration", texts)?,
            coefficient_unit: texts.get("t C/ha/yr"),
            method: "rate: C = A × c_class",
            component_suffix: "",
        })
    }

    /// Soil carbon sequestration from per-hectare rates (t C per year) of the land rows whose
    /// rate is not zero, or `None` when the set gives no `soil_carbon_sequestration` rates:
    /// G_soil = A × F_soil (GB/T 38582-2020 §7.4.1, LY/T 1721-2008). Carbon only: the soil term
    /// releases no oxygen.
    fn soil(land: &'l LandCover, coef: &Coefficients, texts: &mut Texts) -> Result<Option<Self>> {
        const KEY: &str = "soil_carbon_sequestration";
        if !coef.rates.iter().any(|r| r.indicator == KEY) {
            return Ok(None);
        }
        let mut rows = land.class_rates(coef, KEY, texts)?;
        rows.retain(|r| r.rate != 0.0);
        Ok(Some(RateCarbon {
            rows,
            coefficient_unit: texts.get("t C/ha/yr"),
            method: "soil: C_soil = A × soil_class (GB/T 38582-2020)",
            component_suffix: " · 土壤固碳",
        }))
    }

    /// One line of `indicator` per land row: Q = A × rate × the gas factor, V = Q × price.
    fn push_lines(
        &self,
        g: &Gas,
        (indicator, unit, price_key): Names,
        coef: &Coefficients,
        texts: &mut Texts,
        out: &mut Vec<Line>,
    ) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let price = super::required_price(coef, price_key)?;
        let (hectares, method, formula, quantity_unit, price_key_text) = (
            texts.get("公顷"),
            texts.get(&format!("{}{}", self.method, g.method)),
            texts.get(&format!("{{input}}*{{coefficient}}{}", g.formula)),
            texts.get(unit),
            texts.get(price_key),
        );
        out.reserve(self.rows.len());
        let mut components: PlHashMap<&str, Text> = PlHashMap::default();
        for row in &self.rows {
            // As the frames compute it: (A × rate) × factor, then × price.
            let quantity = row.area_ha * row.rate * g.factor;
            let component = if self.component_suffix.is_empty() {
                row.class.clone()
            } else {
                components
                    .entry(&**row.class)
                    .or_insert_with(|| {
                        texts.get(&format!("{}{}", row.class, self.component_suffix))
                    })
                    .clone()
            };
            out.push(Line {
                county_code: row.county.clone(),
                indicator,
                component,
                source_ref: row.source_ref.clone(),
                input_amount: row.area_ha,
                input_unit: hectares.clone(),
                coefficient_ref: row.rate_ref.clone(),
                coefficient: Some(row.rate),
                coefficient_unit: self.coefficient_unit.clone(),
                method: method.clone(),
                quantity_formula: formula.clone(),
                quantity: Some(quantity),
                quantity_unit: quantity_unit.clone(),
                price_key: price_key_text.clone(),
                price_cny_per_unit: Some(price),
                value_cny: quantity * price,
            });
        }
        Ok(())
    }
}

/// The carbon family's lines with the 实物量 sheet applied: a row for 固碳 (t CO₂) or 释氧 (t O₂)
/// replaces that county's computed lines of that indicator only. Carbon and oxygen are replaced
/// independently, so an account whose oxygen was computed apart from its carbon (another ratio
/// than the set's factors) is entered as published; a county given carbon but not oxygen keeps
/// its computed oxygen.
///
/// # Errors
/// [`crate::Error::Invalid`] when a 释氧 row is given while the set leaves oxygen out
/// (`include_oxygen = false`), or a price is missing.
pub fn with_overrides(
    lines: Vec<super::Line>,
    overrides: &super::overrides::Overrides,
    coef: &Coefficients,
) -> Result<Vec<super::Line>> {
    let carbon = overrides.for_key("carbon_sequestration");
    let oxygen = overrides.for_key("oxygen_release");
    if carbon.is_empty() && oxygen.is_empty() {
        return Ok(lines);
    }
    if !coef.manifest.switches.include_oxygen
        && let Some(o) = oxygen.values().flatten().next()
    {
        return Err(crate::Error::invalid(
            &o.source_ref,
            "实物量: 释氧 (oxygen_release) is given but the coefficient set leaves oxygen out (manifest.toml include_oxygen = false); remove the row or include oxygen",
        ));
    }
    let given = |indicator: &str| match indicator {
        "carbon_sequestration" => Some(&carbon),
        "oxygen_release" => Some(&oxygen),
        _ => None,
    };
    let mut out: Vec<super::Line> = lines
        .into_iter()
        .filter(|l| !given(l.indicator).is_some_and(|g| g.contains_key(&*l.county_code)))
        .collect();
    let mut extra = super::rated::Lines::default();
    for (indicator, unit, price_key, rows) in [
        ("carbon_sequestration", "t CO₂", "carbon", &carbon),
        ("oxygen_release", "t O₂", "oxygen", &oxygen),
    ] {
        if rows.is_empty() {
            continue;
        }
        let price = super::required_price(coef, price_key)?;
        for (county, o) in rows
            .iter()
            .flat_map(|(c, parts)| parts.iter().map(move |o| (c, o)))
        {
            extra.push_override(
                indicator,
                unit,
                "实物量".into(),
                county,
                o,
                Some(price),
                price_key,
                &format!("V = Q × P_{price_key}"),
            );
        }
    }
    out.extend(extra.into_vec());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::testing::{inputs, total};
    use std::collections::BTreeSet;

    /// The family's lines as a frame (as the tests read them).
    fn lines(inputs: &Inputs, coef: &Coefficients, warnings: &mut Issues) -> Result<DataFrame> {
        let mut texts = Texts::default();
        let land = LandCover::new(inputs, coef, &mut texts)?;
        Line::frame(&super::lines(inputs, coef, &land, warnings, &mut texts)?)
    }

    #[test]
    fn forest_carbon_from_stock_change_uses_the_per_hectare_bef() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let mut warnings = Issues::new();
        let lines = lines(&inputs(), &coef, &mut warnings).unwrap();
        // 140105 油松: a = 0.7709, b = 8.8631, CF = 0.5030; V 4400 → 5000 m³, A 90 → 100 ha, one year.
        // ΔC = 0.5030 × [0.7709 × 600 + 8.8631 × 10] = 0.5030 × 551.171 = 277.239013 t C.
        let forest_c: f64 = 0.5030 * (0.7709 * 600.0 + 8.8631 * 10.0);
        assert!((forest_c - 277.239_013).abs() < 1e-6);
        // Plus 50 ha 天然牧草地 at the Loess Plateau NEP 104.62 g C/m²/yr = 1.0462 t C/ha →
        // 52.31 t C.
        let grass_c = 50.0 * 1.0462;
        let c = forest_c + grass_c;
        let co2 = total(&lines, "140105", "carbon_sequestration", "quantity");
        assert!((co2 - c * 44.0 / 12.0).abs() < 1e-6, "{co2}");
        let o2 = total(&lines, "140105", "oxygen_release", "quantity");
        assert!((o2 - c * 32.0 / 12.0).abs() < 1e-6, "{o2}");
        let value = total(&lines, "140105", "carbon_sequestration", "value_cny");
        assert!((value - c * 44.0 / 12.0 * 42.85).abs() < 1e-6);
        assert!(
            // 1000 元/t (2011) brought to 2021 with the national CPI.
            (total(&lines, "140105", "oxygen_release", "value_cny")
                - o2 * 1000.0 * crate::account::testing::cpi_to_2021(2011))
            .abs()
                < 1e-6
        );
    }

    #[test]
    fn forest_carbon_from_growth_when_no_previous_stock() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let mut warnings = Issues::new();
        let lines = lines(&inputs(), &coef, &mut warnings).unwrap();
        // 140106 其他松类 (bcef 1.0, R 0.40, CF 0.47), growth 30 m³/yr; 200 ha 旱地 at 0.
        let c = 30.0 * 1.0 * 1.4 * 0.47;
        let co2 = total(&lines, "140106", "carbon_sequestration", "quantity");
        assert!((co2 - c * 44.0 / 12.0).abs() < 1e-9, "{co2}");
    }

    #[test]
    fn the_intercept_is_never_applied_to_a_county_total() {
        // Two stands of 50 ha give the same carbon change as one of 100 ha only because b·A is
        // per hectare: doubling the rows must not double the intercept.
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let mut one = inputs();
        one.forest_previous = None;
        one.forest = df!(
            col::CODE => ["140105"], "forest_type" => ["油松"], "area_ha" => [100.0],
            "stock_m3" => [5000.0], "growth_m3" => [Some(100.0)], "source_ref" => ["x"],
        )
        .unwrap();
        let mut two = one.clone();
        two.forest = df!(
            col::CODE => ["140105", "140105"], "forest_type" => ["油松", "油松"], "area_ha" => [50.0, 50.0],
            "stock_m3" => [2500.0, 2500.0], "growth_m3" => [Some(50.0), Some(50.0)], "source_ref" => ["x", "y"],
        ).unwrap();
        let mut w = Issues::new();
        let a = total(
            &lines(&one, &coef, &mut w).unwrap(),
            "140105",
            "carbon_sequestration",
            "quantity",
        );
        let b = total(
            &lines(&two, &coef, &mut w).unwrap(),
            "140105",
            "carbon_sequestration",
            "quantity",
        );
        assert!((a - b).abs() < 1e-9);
    }

    #[test]
    fn a_forest_row_without_previous_stock_or_growth_is_an_error() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let mut inp = inputs();
        inp.forest_previous = None;
        inp.forest = df!(
            col::CODE => ["140105"], "forest_type" => ["油松"], "area_ha" => [100.0],
            "stock_m3" => [5000.0], "growth_m3" => [None::<f64>], "source_ref" => ["t [森林资源!A5:F5]"],
        ).unwrap();
        let err = lines(&inp, &coef, &mut Issues::new())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("t [森林资源!A5:F5]: 140105 油松: no previous-year stock and no 年生长量"),
            "{err}"
        );
    }

    #[test]
    fn oxygen_can_be_switched_off() {
        let mut coef = crate::account::registry::load_coefficients(None, false).unwrap();
        coef.manifest.switches.include_oxygen = false;
        let lines = lines(&inputs(), &coef, &mut Issues::new()).unwrap();
        assert_eq!(total(&lines, "140105", "oxygen_release", "quantity"), 0.0);
    }

    #[test]
    fn the_dry_matter_route_uses_1_63_and_1_19_per_tonne_of_dry_matter() {
        let mut coef = crate::account::registry::load_coefficients(None, false).unwrap();
        coef.manifest.switches.carbon_route = "dry_matter".into();
        let err = lines(&inputs(), &coef, &mut Issues::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs npp_dry_matter rates"), "{err}");
        let classes: Vec<String> = coef
            .land_classes
            .iter()
            .map(|c| c.valuation_class.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for class in classes {
            let rate = if class == "grassland" { 6.0 } else { 0.0 };
            coef.rates.push(crate::coefficients::Rate {
                valuation_class: class,
                indicator: "npp_dry_matter".into(),
                rate,
                unit: "t DM/ha/yr".into(),
                year: String::new(),
                scope: "test".into(),
                source: "test".into(),
                status: "U".into(),
                low: None,
                high: None,
                rate_base: rate,
            });
        }
        let computed = lines(&inputs(), &coef, &mut Issues::new()).unwrap();
        // 140105: forest biomass change ΔB = a·ΔV + b·ΔA = 551.171 t DM (ΔC/CF); grassland 50 ha × 6.
        let dm = (0.7709 * 600.0 + 8.8631 * 10.0) + 50.0 * 6.0;
        let co2 = total(&computed, "140105", "carbon_sequestration", "quantity");
        assert!((co2 - 1.63 * dm).abs() < 1e-6, "{co2} vs {}", 1.63 * dm);
        let o2 = total(&computed, "140105", "oxygen_release", "quantity");
        assert!((o2 - 1.19 * dm).abs() < 1e-6, "{o2}");
        // A set that writes 1.2 t O₂ per t DM (as some published accounts do) moves every oxygen
        // quantity by exactly 1.2/1.19 and leaves carbon alone.
        let mut other = coef.clone();
        other
            .parameters
            .get_mut("o2_per_dry_matter")
            .expect("a default")
            .value = 1.2;
        let changed = lines(&inputs(), &other, &mut Issues::new()).unwrap();
        for county in ["140105", "140106", "140107"] {
            let (before, after) = (
                total(&computed, county, "oxygen_release", "quantity"),
                total(&changed, county, "oxygen_release", "quantity"),
            );
            assert!((after - before * 1.2 / 1.19).abs() <= 1e-12 * before.abs().max(1.0));
            assert_eq!(
                total(&computed, county, "carbon_sequestration", "quantity"),
                total(&changed, county, "carbon_sequestration", "quantity")
            );
        }
    }

    #[test]
    fn the_carbon_route_factors_are_parameters_with_defaults_listed_as_such() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let p = &coef.parameters["o2_per_carbon"];
        assert_eq!(p.value, 32.0 / 12.0);
        assert_eq!(p.scope, "engine default");
        let mut other = coef.clone();
        other
            .parameters
            .get_mut("o2_per_carbon")
            .expect("a default")
            .value = 2.7;
        let a = lines(&inputs(), &coef, &mut Issues::new()).unwrap();
        let b = lines(&inputs(), &other, &mut Issues::new()).unwrap();
        let (before, after) = (
            total(&a, "140105", "oxygen_release", "quantity"),
            total(&b, "140105", "oxygen_release", "quantity"),
        );
        assert!((after - before * 2.7 / (32.0 / 12.0)).abs() < 1e-9 * before);
    }

    /// The testing case with 实物量 rows from "published account".
    fn given(rows: &[(&str, &str, f64, &str)]) -> Inputs {
        crate::account::testing::with_physical_rows(rows, "published account")
    }

    fn sum(acc: &crate::account::Accounts, county: &str, indicator: &str) -> (f64, f64, usize) {
        acc.lines
            .iter()
            .filter(|l| &*l.county_code == county && l.indicator == indicator)
            .fold((0.0, 0.0, 0), |(q, v, n), l| {
                (q + l.quantity.unwrap_or(0.0), v + l.value_cny, n + 1)
            })
    }

    /// Regression: a 实物量 carbon row (t CO₂) was valued at the carbon price as written, so a set
    /// giving it per t C (allowed) priced given carbon 44/12 too high; the estimated lines and the
    /// given ones now both take the price per t CO₂.
    #[test]
    fn a_carbon_price_per_tonne_of_carbon_values_given_and_estimated_carbon_per_tonne_of_co2() {
        let mut coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let price = coef.prices.get_mut("carbon").unwrap();
        price.value = 440.0;
        price.unit = "元/t C".into();
        let acc =
            crate::account::compute(&given(&[("140105", "固碳", 2.0, "万吨CO₂")]), &coef).unwrap();
        let per_t_co2 = 440.0 * 12.0 / 44.0;
        let (q, v, _) = sum(&acc, "140105", "carbon_sequestration");
        assert_eq!(q, 20_000.0);
        assert!((v - 20_000.0 * per_t_co2).abs() < 1e-6, "{v}");
        let (q, v, _) = sum(&acc, "140106", "carbon_sequestration");
        assert!(q > 0.0 && (v - q * per_t_co2).abs() < 1e-6 * v, "{q} {v}");
    }

    /// Regression (issue 11, item 1): a 实物量 row for 固碳 or 释氧 was refused as an unknown
    /// indicator, and oxygen was always the set's multiple of carbon.
    #[test]
    fn carbon_and_oxygen_given_on_the_physical_sheet_replace_each_estimate_independently() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let carbon_price = coef.price("carbon").unwrap().value;
        let oxygen_price = coef.price("oxygen").unwrap().value;
        let before = crate::account::compute(&inputs(), &coef).unwrap();
        // 140105: both given, oxygen 8 × carbon (a ratio no stoichiometric factor gives);
        // 140106: carbon given in t C, oxygen left to the estimate.
        let acc = crate::account::compute(
            &given(&[
                ("140105", "固碳", 2.0, "万吨CO₂"),
                ("140105", "释氧", 16.0, "万t O₂"),
                ("140106", "carbon_sequestration", 120.0, "t C"),
            ]),
            &coef,
        )
        .unwrap();
        let (q, v, n) = sum(&acc, "140105", "carbon_sequestration");
        assert_eq!((q, n), (20_000.0, 1));
        assert!((v - 20_000.0 * carbon_price).abs() < 1e-6);
        let (q, v, n) = sum(&acc, "140105", "oxygen_release");
        assert_eq!((q, n), (160_000.0, 1));
        assert!((v - 160_000.0 * oxygen_price).abs() < 1e-6);
        let co2_per_c = coef.parameters["co2_per_carbon"].value;
        let (q, _, _) = sum(&acc, "140106", "carbon_sequestration");
        assert!((q - 120.0 * co2_per_c).abs() < 1e-9, "{q}");
        assert_eq!(
            sum(&acc, "140106", "oxygen_release"),
            sum(&before, "140106", "oxygen_release"),
            "oxygen not given stays estimated"
        );
        let line = acc
            .lines
            .iter()
            .find(|l| &*l.county_code == "140105" && l.indicator == "oxygen_release")
            .unwrap();
        assert_eq!(&*line.source_ref, "t [实物量!D4]");
        assert!(
            line.method
                .starts_with("实物量 override (published account)")
        );
    }

    #[test]
    fn a_carbon_quantity_must_say_whether_it_is_carbon_or_co2() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let err = crate::account::compute(
            &given(&[
                ("140105", "固碳", 2.0, "万吨"),
                ("140106", "释氧", 2.0, "t CO₂"),
            ]),
            &coef,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("t [实物量!D3]: 实物量: unit \"万吨\" does not say of what: write the substance (t CO₂ or t C)"),
            "{err}"
        );
        assert!(
            err.contains("t [实物量!D4]: 实物量: unit \"t CO₂\" is a mass of CO₂ (oxygen_release is measured in t O₂)"),
            "{err}"
        );
    }

    /// Issue 11, item 2: the forestry standard (GB/T 38582-2020 §7.4.1; LY/T 1721-2008) counts
    /// vegetation carbon plus soil carbon sequestration A × F_soil. With `soil_carbon_sequestration`
    /// rates the soil term is added to carbon (and to nothing else: it releases no oxygen).
    #[test]
    fn soil_carbon_rates_add_a_soil_term_to_carbon_only() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let before = crate::account::compute(&inputs(), &coef).unwrap();
        let mut with_soil = coef.clone();
        let classes: BTreeSet<String> = coef
            .rates
            .iter()
            .map(|r| r.valuation_class.clone())
            .collect();
        let template = coef.rates[0].clone();
        for class in classes {
            let rate = if class == "forest" { 0.6 } else { 0.0 };
            with_soil.rates.push(crate::coefficients::Rate {
                valuation_class: class,
                indicator: "soil_carbon_sequestration".into(),
                rate,
                unit: "t C/ha/yr".into(),
                rate_base: rate,
                source: "test".into(),
                ..template.clone()
            });
        }
        let after = crate::account::compute(&inputs(), &with_soil).unwrap();
        let soil: Vec<_> = after
            .lines
            .iter()
            .filter(|l| &*l.county_code == "140105" && l.component.ends_with("土壤固碳"))
            .collect();
        assert!(!soil.is_empty(), "140105 has forest land");
        for l in &soil {
            assert_eq!(l.indicator, "carbon_sequestration");
            let q = l.input_amount * 0.6 * 44.0 / 12.0;
            assert!((l.quantity.unwrap() - q).abs() < 1e-9, "{l:?}");
        }
        let added: f64 = soil.iter().map(|l| l.quantity.unwrap()).sum();
        let (c0, _, _) = sum(&before, "140105", "carbon_sequestration");
        let (c1, _, _) = sum(&after, "140105", "carbon_sequestration");
        assert!((c1 - c0 - added).abs() < 1e-6);
        assert_eq!(
            sum(&after, "140105", "oxygen_release"),
            sum(&before, "140105", "oxygen_release")
        );
    }
}
