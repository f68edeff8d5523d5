//! Regulating: carbon sequestration (固碳) and oxygen release (释氧), methodology §2.8 and §4.
//! Forest: from stock change between two years, else from annual growth, per forest type, with the
//! continuous BEF B = a·(V/A) + b per hectare or V·BCEF·(1+R); carbon = B × CF.
//! Other classes: area × per-hectare rate. CO₂ = C × 44/12, O₂ = C × 32/12; or, with the set's
//! `carbon_route = "dry_matter"`, CO₂ = 1.63 × DM and O₂ = 1.19 × DM per t of dry matter (the
//! forest's biomass change; `npp_dry_matter` rates elsewhere), §2.8 route 1.

use std::collections::BTreeSet;

use polars::prelude::*;

use super::{LandCover, Line, Text, Texts, apply_prices, land_with_rates, line_select};
use crate::coefficients::Coefficients;
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

fn forest_types_frame(coef: &Coefficients) -> Result<DataFrame> {
    let t = &coef.forest_types;
    Ok(DataFrame::new_infer_height(vec![
        Column::new(
            "forest_type".into(),
            t.iter().map(|x| x.forest_type.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "bef_method".into(),
            t.iter().map(|x| x.method.clone()).collect::<Vec<_>>(),
        ),
        Column::new("a".into(), t.iter().map(|x| x.a).collect::<Vec<_>>()),
        Column::new("b".into(), t.iter().map(|x| x.b).collect::<Vec<_>>()),
        Column::new("bcef".into(), t.iter().map(|x| x.bcef).collect::<Vec<_>>()),
        Column::new(
            "root_shoot".into(),
            t.iter().map(|x| x.root_shoot).collect::<Vec<_>>(),
        ),
        Column::new(
            "carbon_fraction".into(),
            t.iter().map(|x| x.carbon_fraction).collect::<Vec<_>>(),
        ),
        Column::new(
            "type_ref".into(),
            t.iter()
                .map(|x| match x.method.as_str() {
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
                })
                .collect::<Vec<_>>(),
        ),
    ])?)
}

/// Carbon stock (t C) of a stand with volume `v` (m³) and area `a` (ha).
fn stock_carbon(v: Expr, area: Expr) -> Expr {
    let bef = col("carbon_fraction") * (col("a") * v.clone() + col("b") * area);
    let bcef = col("carbon_fraction") * v * col("bcef") * (lit(1.0) + col("root_shoot"));
    when(col("bef_method").eq(lit("bef_continuous")))
        .then(bef)
        .otherwise(bcef)
}

/// Carbon fixed by an annual volume increment `dv` (m³/yr): the area term b·A does not change.
fn growth_carbon(dv: Expr) -> Expr {
    let bef = col("carbon_fraction") * col("a") * dv.clone();
    let bcef = col("carbon_fraction") * dv * col("bcef") * (lit(1.0) + col("root_shoot"));
    when(col("bef_method").eq(lit("bef_continuous")))
        .then(bef)
        .otherwise(bcef)
}

/// Forest carbon per county and forest type, t C per year, with the input and coefficient references.
fn forest_carbon(inputs: &Inputs, coef: &Coefficients, warnings: &mut Issues) -> Result<LazyFrame> {
    let mut issues = Issues::new();
    let (interval, previous) = match &inputs.forest_previous {
        Some((year, df)) => (f64::from(inputs.year - year), df.clone()),
        None => (1.0, inputs.forest.clear()),
    };
    let prev = previous.lazy().select([
        col(col::CODE),
        col("forest_type"),
        col("area_ha").alias("area_ha_prev"),
        col("stock_m3").alias("stock_m3_prev"),
        col("source_ref").alias("source_ref_prev"),
    ]);
    let df = inputs
        .forest
        .clone()
        .lazy()
        .join(
            prev,
            [col(col::CODE), col("forest_type")],
            [col(col::CODE), col("forest_type")],
            JoinArgs::new(JoinType::Left),
        )
        .left_join(
            forest_types_frame(coef)?.lazy(),
            col("forest_type"),
            col("forest_type"),
        )
        .collect()?;
    // Every row needs a previous stock or an annual growth.
    let codes = df.column(col::CODE)?.str()?.clone();
    let types = df.column("forest_type")?.str()?.clone();
    let refs = df.column("source_ref")?.str()?.clone();
    let prevs = df.column("stock_m3_prev")?.f64()?.clone();
    let growths = df.column("growth_m3")?.f64()?.clone();
    let methods = df.column("bef_method")?.str()?.clone();
    for i in 0..df.height() {
        if methods.get(i).is_none() {
            issues.error(
                refs.get(i).unwrap_or_default(),
                format!(
                    "forest type \"{}\" has no parameters in forest_types.csv",
                    types.get(i).unwrap_or_default()
                ),
            );
        } else if prevs.get(i).is_none() && growths.get(i).is_none() {
            issues.error(
                refs.get(i).unwrap_or_default(),
                format!(
                    "{} {}: no previous-year stock and no 年生长量 (annual growth); one of them is needed for carbon sequestration",
                    codes.get(i).unwrap_or_default(),
                    types.get(i).unwrap_or_default()
                ),
            );
        }
    }
    issues.into_result()?;
    if let Some((year, prev_df)) = &inputs.forest_previous {
        let now: BTreeSet<(String, String)> = codes
            .iter()
            .zip(types.iter())
            .map(|(c, t)| {
                (
                    c.unwrap_or_default().to_string(),
                    t.unwrap_or_default().to_string(),
                )
            })
            .collect();
        let pc = prev_df.column(col::CODE)?.str()?.clone();
        let pt = prev_df.column("forest_type")?.str()?.clone();
        let pr = prev_df.column("source_ref")?.str()?.clone();
        for ((c, t), r) in pc.iter().zip(pt.iter()).zip(pr.iter()) {
            let key = (
                c.unwrap_or_default().to_string(),
                t.unwrap_or_default().to_string(),
            );
            if !now.contains(&key) {
                warnings.warn(
                    crate::error::Check::Trend,
                    r.unwrap_or_default(),
                    format!("{} {} is in the {year} forest stock but not in {}; its change is not counted", key.0, key.1, inputs.year),
                    format!("{} {} 在 {year} 年森林资源表中，但不在 {} 年表中：其蓄积变化未计入", key.0, key.1, inputs.year),
                );
            }
        }
    }
    let has_prev = col("stock_m3_prev").is_not_null();
    let change = (stock_carbon(col("stock_m3"), col("area_ha"))
        - stock_carbon(col("stock_m3_prev"), col("area_ha_prev")))
        / lit(interval);
    let prev_year = inputs.forest_previous.as_ref().map_or(0, |p| p.0);
    let lf = df.lazy().with_columns([
        when(has_prev.clone())
            .then(change)
            .otherwise(growth_carbon(col("growth_m3")))
            .alias("carbon_t"),
        when(has_prev.clone())
            .then(concat_str(
                [col("source_ref"), lit(" − "), col("source_ref_prev")],
                "",
                true,
            ))
            .otherwise(col("source_ref"))
            .alias("source_ref"),
        when(has_prev.clone())
            .then(col("stock_m3") - col("stock_m3_prev"))
            .otherwise(col("growth_m3"))
            .alias("input_amount"),
        when(has_prev.clone())
            .then(lit(format!("m³ stock change {prev_year}→{}", inputs.year)))
            .otherwise(lit("m³/yr growth"))
            .alias("input_unit"),
        col("type_ref").alias("coefficient_ref"),
        col("carbon_fraction").alias("coefficient"),
        lit("t C/t").alias("coefficient_unit"),
        when(has_prev)
            .then(
                when(col("bef_method").eq(lit("bef_continuous")))
                    .then(lit("stock change: ΔC = CF·[a·(V₁−V₀) + b·(A₁−A₀)]/(t₁−t₀)"))
                    .otherwise(lit("stock change: ΔC = CF·BCEF·(1+R)·(V₁−V₀)/(t₁−t₀)")),
            )
            .otherwise(
                when(col("bef_method").eq(lit("bef_continuous")))
                    .then(lit("growth: ΔC = CF·a·ΔV"))
                    .otherwise(lit("growth: ΔC = CF·BCEF·(1+R)·ΔV")),
            )
            .alias("method"),
        col("forest_type").alias("component"),
        lit("").alias("carbon_formula"),
    ]);
    // Biomass (dry matter) change, for the dry-matter route: ΔB = ΔC / CF.
    let lf = lf.with_column((col("carbon_t") / col("carbon_fraction")).alias("dry_matter_t"));
    let out = lf.collect()?;
    let carbon = out.column("carbon_t")?.f64()?.clone();
    let refs = out.column("source_ref")?.str()?.clone();
    for (c, r) in carbon.iter().zip(refs.iter()) {
        if let Some(c) = c.filter(|c| *c < 0.0) {
            warnings.warn(
                crate::error::Check::Trend,
                r.unwrap_or_default(),
                format!(
                    "forest carbon fell by {:.1} t C: a net loss, kept with its sign",
                    -c
                ),
                format!("森林碳储量减少 {:.1} 吨碳：净损失，按负值计入", -c),
            );
        }
    }
    Ok(out.lazy())
}

/// Soil carbon sequestration from per-hectare rates (t C per year), or `None` when the set gives
/// no `soil_carbon_sequestration` rates: G_soil = A × F_soil (GB/T 38582-2020 §7.4.1, LY/T
/// 1721-2008). Carbon only: the soil term releases no oxygen.
fn soil_carbon(inputs: &Inputs, coef: &Coefficients) -> Result<Option<LazyFrame>> {
    const KEY: &str = "soil_carbon_sequestration";
    if !coef.rates.iter().any(|r| r.indicator == KEY) {
        return Ok(None);
    }
    Ok(Some(
        land_with_rates(inputs, coef, KEY)?
            .lazy()
            .filter(col("rate").neq(lit(0.0)))
            .with_columns([
                (col("area_ha") * col("rate")).alias("carbon_t"),
                lit(NULL).cast(DataType::Float64).alias("dry_matter_t"),
                concat_str([col("land_class"), lit(" · 土壤固碳")], "", true).alias("component"),
                col("area_ha").alias("input_amount"),
                lit("公顷").alias("input_unit"),
                col("rate_ref").alias("coefficient_ref"),
                col("rate").alias("coefficient"),
                lit("t C/ha/yr").alias("coefficient_unit"),
                lit("soil: C_soil = A × soil_class (GB/T 38582-2020)").alias("method"),
                lit("{input}*{coefficient}").alias("carbon_formula"),
            ]),
    ))
}

fn dry_matter_route(coef: &Coefficients) -> bool {
    coef.manifest.switches.carbon_route == "dry_matter"
}

/// The quantity formula of a carbon line times a stoichiometric factor (empty stays empty).
fn formula_times(factor: Expr) -> Expr {
    when(col("carbon_formula").eq(lit("")))
        .then(lit(""))
        .otherwise(concat_str([col("carbon_formula"), factor], "", true))
        .alias("quantity_formula")
}

/// Lines of `carbon_sequestration` (t CO₂) and, when the set includes it, `oxygen_release` (t O₂):
/// forest and soil lines through polars frames, the per-hectare lines of every land row (most of
/// a national run's carbon lines) built directly as typed lines. Order: forest, rate and soil
/// CO₂, then forest and rate O₂.
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
    let common = [
        col(col::CODE),
        col("component"),
        col("source_ref"),
        col("input_amount"),
        col("input_unit"),
        col("coefficient_ref"),
        col("coefficient"),
        col("coefficient_unit"),
        col("method"),
        col("carbon_formula"),
        col("carbon_t"),
        col("dry_matter_t"),
    ];
    let forest = forest_carbon(inputs, coef, warnings)?.select(common.clone());
    let soil = soil_carbon(inputs, coef)?.map(|s| s.select(common));
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
    let base = if dm { "dry_matter_t" } else { "carbon_t" };
    // A frame of carbon (t C) or dry matter (t DM) as lines of one gas: Q = base × factor.
    let priced = |frame: LazyFrame, base: &str, g: &Gas, (indicator, unit, price_key): Names| {
        apply_prices(
            frame.with_columns([
                lit(indicator).alias("indicator"),
                (col(base) * lit(g.factor)).alias("quantity"),
                lit(unit).alias("quantity_unit"),
                lit(price_key).alias("price_key"),
                concat_str([col("method"), lit(g.method.clone())], "", true).alias("method"),
                formula_times(lit(g.formula.clone())),
            ]),
            coef,
        )
    };
    let services = super::registry::services(coef);
    let typed = |df: DataFrame, texts: &mut Texts| -> Result<Vec<Line>> {
        Line::rows(&line_select(df.lazy()).collect()?, &services, texts)
    };
    let rate = RateCarbon::of(land, coef, texts)?;
    let mut out = typed(priced(forest.clone(), base, &co2, CO2)?, texts)?;
    rate.push_lines(&co2, CO2, coef, texts, &mut out)?;
    if let Some(soil) = soil {
        // Soil carbon is carbon on either route: CO₂ = C × co2_per_carbon.
        let soil_co2 = gas(
            f.co2_per_c,
            format!("; CO₂ = C × co2_per_carbon {}", f.co2_per_c),
        );
        let df = priced(soil, "carbon_t", &soil_co2, CO2)?;
        out.extend(typed(df, texts)?);
    }
    if coef.manifest.switches.include_oxygen {
        out.extend(typed(priced(forest, base, &o2, O2)?, texts)?);
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
            });
        }
        Ok(RateCarbon {
            rows: land.class_rates(coef, "carbon_sequestration", texts)?,
            coefficient_unit: texts.get("t C/ha/yr"),
            method: "rate: C = A × c_class",
        })
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
        for row in &self.rows {
            // As the frames compute it: (A × rate) × factor, then × price.
            let quantity = row.area_ha * row.rate * g.factor;
            out.push(Line {
                county_code: row.county.clone(),
                indicator,
                component: row.class.clone(),
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
