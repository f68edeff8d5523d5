//! Stage 4e, GEEP (经济生态生产总值, CAEP): GDP − environmental degradation − ecological damage
//! [− resource depletion] + regulating-service value, each term per county with its inputs
//! (methodology §5). Needs the 环境 sheet; ecological damage needs the previous year's land cover.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;

use super::{Accounts, Category, Level};
use crate::coefficients::Coefficients;
use crate::error::{Check, Issues, Result};
use crate::schema::col;
use crate::sum::KahanSum;
use crate::validate::Inputs;

pub use crate::coefficients::geep::{Settings, UnitCost};

/// The GEEP terms of one county (yuan).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Terms {
    /// GDP.
    pub gdp: f64,
    /// Environmental degradation cost.
    pub degradation: f64,
    /// Ecological damage cost (`None` when the previous land cover is unknown).
    pub damage: Option<f64>,
    /// Ecological damage from mining subsidence: newly subsided area × cost per ha.
    pub subsidence: f64,
    /// Resource depletion cost as reported (deducted only when the switch says so).
    pub depletion: f64,
    /// Regulating-service value.
    pub regulating: f64,
    /// How the degradation term was obtained.
    pub degradation_basis: Basis,
    /// How the (area-loss) damage term was obtained.
    pub damage_basis: Basis,
}

/// Where a GEEP cost term comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Basis {
    /// Computed: emissions × unit costs, or area loss × ESV per hectare.
    #[default]
    Computed,
    /// Given directly in money on the 环境 sheet (环境退化成本, 生态破坏成本).
    Given,
    /// A sum over counties of both kinds.
    Mixed,
}

impl Basis {
    /// The CSV key.
    pub fn key(self) -> &'static str {
        match self {
            Basis::Computed => "computed",
            Basis::Given => "given",
            Basis::Mixed => "mixed",
        }
    }

    fn combine(self, other: Basis) -> Basis {
        if self == other { self } else { Basis::Mixed }
    }
}

impl Terms {
    /// GEEP = GDP − degradation − damage − [depletion] + regulating.
    pub fn geep(&self, deduct_depletion: bool) -> f64 {
        self.gdp
            - self.degradation
            - self.damage.unwrap_or(0.0)
            - self.subsidence
            - if deduct_depletion {
                self.depletion
            } else {
                0.0
            }
            + self.regulating
    }
}

impl Terms {
    /// Adds another unit's terms; the area-loss damage stays known only while both are known.
    pub fn add(&mut self, t: &Terms) {
        self.gdp += t.gdp;
        self.degradation += t.degradation;
        self.damage = self.damage.zip(t.damage).map(|(a, b)| a + b);
        self.subsidence += t.subsidence;
        self.depletion += t.depletion;
        self.regulating += t.regulating;
        self.degradation_basis = self.degradation_basis.combine(t.degradation_basis);
        self.damage_basis = self.damage_basis.combine(t.damage_basis);
    }

    /// The terms of several counties (a prefecture's, a province's), summed.
    pub fn sum<'a>(
        terms: &BTreeMap<String, Terms>,
        counties: impl IntoIterator<Item = &'a str>,
    ) -> Terms {
        let mut out: Option<Terms> = None;
        for t in counties.into_iter().filter_map(|c| terms.get(c)) {
            match &mut out {
                Some(sum) => sum.add(t),
                None => out = Some(t.clone()),
            }
        }
        out.unwrap_or_default()
    }
}

/// GEEP terms per county, or `None` when the workbook has no 环境 sheet.
///
/// # Errors
/// [`crate::Error::Invalid`] when an emission has no unit cost; polars failures.
pub fn compute(
    accounts: &Accounts,
    inputs: &Inputs,
    previous_land: Option<&DataFrame>,
    coef: &Coefficients,
    warnings: &mut Issues,
) -> Result<Option<BTreeMap<String, Terms>>> {
    let (Some(environment), Some(settings)) = (&inputs.environment, &coef.geep) else {
        return Ok(None);
    };
    let env = EnvironmentSums::of(environment, settings)?;
    let EnvironmentSums {
        degradation,
        depletion,
        subsided,
        degradation_given,
        damage_given,
        given_refs,
        damage_refs,
    } = &env;
    let subsidence_cost = match (
        &settings.subsidence_cost,
        subsided.values().any(|a| *a > 0.0),
    ) {
        (Some(c), _) => c.value,
        (None, false) => 0.0,
        (None, true) => {
            return Err(crate::Error::invalid(
                "geep.toml",
                "the 环境 sheet gives 采煤沉陷面积 but geep.toml has no [subsidence_cost] (元/ha, with its source): ecological damage from subsidence cannot be valued",
            ));
        }
    };
    let damage = match previous_land {
        Some(prev) => Some(damage_by_county(&inputs.land, prev, coef, settings)?),
        None => None,
    };
    let regulating = Category::ALL
        .iter()
        .position(|c| *c == Category::Regulating)
        .unwrap_or(1);
    Ok(Some(
        accounts
            .level(Level::County)
            .map(|row| {
                let computed = degradation.get(row.code.as_str()).copied();
                let (degradation, degradation_basis) =
                    match (degradation_given.get(row.code.as_str()), computed) {
                        (Some(given), computed) => {
                            if let Some(c) = computed.filter(|c| *c > 0.0) {
                                warnings.warn(
                                    Check::Logic,
                                    given_refs.get(row.code.as_str()).copied().unwrap_or_default(),
                                    format!(
                                        "{} gives both an environmental degradation cost ({:.2} 万元, used) and emissions (valued {:.2} 万元 at geep.toml's unit costs, not used)",
                                        row.name,
                                        given / 1e4,
                                        c / 1e4
                                    ),
                                    format!(
                                        "{} 同时给出环境退化成本（{:.2} 万元，采用）与污染物排放量（按 geep.toml 单位成本计 {:.2} 万元，不采用）",
                                        row.name,
                                        given / 1e4,
                                        c / 1e4
                                    ),
                                );
                            }
                            (*given, Basis::Given)
                        }
                        (None, c) => (c.unwrap_or(0.0), Basis::Computed),
                    };
                let subsidence =
                    subsided.get(row.code.as_str()).copied().unwrap_or(0.0) * subsidence_cost;
                let computed_damage = damage
                    .as_ref()
                    .map(|d| d.get(&row.code).copied().unwrap_or(0.0));
                // A damage cost given in money replaces both computed parts (area loss and
                // subsidence); computed parts beside it are reported, not added.
                let (damage, subsidence, damage_basis) = match damage_given.get(row.code.as_str()) {
                    Some(given) => {
                        let c = computed_damage.unwrap_or(0.0) + subsidence;
                        if c > 0.0 {
                            warnings.warn(
                                Check::Logic,
                                damage_refs.get(row.code.as_str()).copied().unwrap_or_default(),
                                format!(
                                    "{} gives both an ecological damage cost ({:.2} 万元, used) and area loss or subsidence (valued {:.2} 万元, not used)",
                                    row.name,
                                    given / 1e4,
                                    c / 1e4
                                ),
                                format!(
                                    "{} 同时给出生态破坏成本（{:.2} 万元，采用）与面积减少或采煤沉陷（计 {:.2} 万元，不采用）",
                                    row.name,
                                    given / 1e4,
                                    c / 1e4
                                ),
                            );
                        }
                        (Some(*given), 0.0, Basis::Given)
                    }
                    None => (computed_damage, subsidence, Basis::Computed),
                };
                let terms = Terms {
                    gdp: row.gdp_cny,
                    degradation,
                    damage,
                    subsidence,
                    depletion: depletion.get(row.code.as_str()).copied().unwrap_or(0.0),
                    regulating: row.category_cny[regulating],
                    degradation_basis,
                    damage_basis,
                };
                (row.code.clone(), terms)
            })
            .collect(),
    ))
}

/// The 环境 sheet's sums per county, read in one pass over its long rows (county, item, amount,
/// source_ref): emissions × unit costs, and the items taken as they are with the cell of each.
struct EnvironmentSums<'a> {
    /// Σ emissions × unit cost (yuan): every item that is not one of the items taken as they are.
    degradation: HashMap<&'a str, f64>,
    depletion: HashMap<&'a str, f64>,
    subsided: HashMap<&'a str, f64>,
    degradation_given: HashMap<&'a str, f64>,
    damage_given: HashMap<&'a str, f64>,
    /// The cell of each county's given degradation and damage cost (the last row when repeated).
    given_refs: HashMap<&'a str, &'a str>,
    damage_refs: HashMap<&'a str, &'a str>,
}

impl<'a> EnvironmentSums<'a> {
    /// # Errors
    /// [`crate::Error::Invalid`] listing every emission row whose item has no unit cost;
    /// polars failures (a column missing or of another type).
    fn of(environment: &'a DataFrame, settings: &Settings) -> Result<Self> {
        type Sums<'a> = HashMap<&'a str, KahanSum>;
        let (mut degradation, mut depletion, mut subsided) =
            (Sums::new(), Sums::new(), Sums::new());
        let (mut degradation_given, mut damage_given) = (Sums::new(), Sums::new());
        let (mut given_refs, mut damage_refs) = (HashMap::new(), HashMap::new());
        let mut issues = Issues::new();
        for row in super::long_row_refs(environment)? {
            // A missing amount adds nothing (the county is still listed).
            let amount = row.amount.unwrap_or(0.0);
            let sum = |map: &mut Sums<'a>, x: f64| map.entry(row.county).or_default().add(x);
            match row.item {
                col::RESOURCE_DEPLETION_CNY => sum(&mut depletion, amount),
                col::SUBSIDENCE_AREA_HA => sum(&mut subsided, amount),
                col::DEGRADATION_COST_CNY => {
                    sum(&mut degradation_given, amount);
                    given_refs.insert(row.county, row.source_ref);
                }
                col::DAMAGE_COST_CNY => {
                    sum(&mut damage_given, amount);
                    damage_refs.insert(row.county, row.source_ref);
                }
                emission => match settings.unit_costs.get(emission) {
                    Some(cost) => sum(&mut degradation, row.amount.map_or(0.0, |a| a * cost.value)),
                    None => issues.error("geep.toml", format!("no [unit_costs.{emission}]")),
                },
            }
        }
        issues.into_result()?;
        let totals = |sums: Sums<'a>| sums.into_iter().map(|(c, k)| (c, k.sum())).collect();
        Ok(EnvironmentSums {
            degradation: totals(degradation),
            depletion: totals(depletion),
            subsided: totals(subsided),
            degradation_given: totals(degradation_given),
            damage_given: totals(damage_given),
            given_refs,
            damage_refs,
        })
    }
}

/// Σ over land classes of the damage classes: max(0, A_prev − A_now) × the class's ESV per hectare.
fn damage_by_county(
    now: &DataFrame,
    previous: &DataFrame,
    coef: &Coefficients,
    settings: &Settings,
) -> Result<BTreeMap<String, f64>> {
    let per_ha = |class: &str| -> f64 {
        let (Some(lc), Some(esv)) = (coef.land_class(class), &coef.esv) else {
            return 0.0;
        };
        if !settings.damage_classes.contains(&lc.valuation_class) {
            return 0.0;
        }
        crate::esv::value_per_ha_of_mapping(&lc.xie_type, &coef.equivalent_factors, esv)
            .map_or(0.0, |v| v.iter().sum())
    };
    let areas = |df: &DataFrame| -> Result<BTreeMap<(String, String), f64>> {
        let codes = df.column(col::CODE)?.str()?.clone();
        let classes = df.column("land_class")?.str()?.clone();
        let areas = df.column("area_ha")?.f64()?.clone();
        let mut out = BTreeMap::new();
        for ((c, k), a) in codes.iter().zip(classes.iter()).zip(areas.iter()) {
            *out.entry((
                c.unwrap_or_default().to_string(),
                k.unwrap_or_default().to_string(),
            ))
            .or_insert(0.0) += a.unwrap_or(0.0);
        }
        Ok(out)
    };
    let (a1, a0) = (areas(now)?, areas(previous)?);
    let mut out = BTreeMap::new();
    for ((code, class), before) in &a0 {
        let after = a1
            .get(&(code.clone(), class.clone()))
            .copied()
            .unwrap_or(0.0);
        let loss = (before - after).max(0.0);
        *out.entry(code.clone()).or_insert(0.0) += loss * per_ha(class);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{
        compute as compute_accounts,
        testing::{cpi_to_2021, inputs},
    };

    #[test]
    fn geep_terms_add_up_on_a_hand_computed_case() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let inp = inputs();
        let acc = compute_accounts(&inp, &coef).unwrap();
        // Previous year: 140105 had 120 ha 乔木林地 (now 100): 20 ha lost.
        let previous = df!(
            col::CODE => ["140105", "140105"],
            "land_class" => ["乔木林地", "天然牧草地"],
            "area_ha" => [120.0, 50.0],
            "source_ref" => ["p", "q"],
        )
        .unwrap();
        let terms = compute(&acc, &inp, Some(&previous), &coef, &mut Issues::new())
            .unwrap()
            .unwrap();
        let t = &terms["140105"];
        // Degradation: 100 t SO₂ × 1200 + 50 t COD × 700 = 155,000 元 of 2010, × CPI to 2021.
        assert!((t.degradation - 155_000.0 * cpi_to_2021(2010)).abs() < 1e-6);
        // Damage: 20 ha × ESV per ha of 针阔混交 (Σ 23.09 equivalents × 1412.6 with NPP/precipitation adjustments).
        let esv = coef.esv.as_ref().unwrap();
        let row = coef
            .equivalent_factors
            .iter()
            .find(|r| r.xie_type == "针阔混交")
            .unwrap();
        let per_ha: f64 = crate::esv::value_per_ha(row, esv).iter().sum();
        assert!((t.damage.unwrap() - 20.0 * per_ha).abs() < 1e-6);
        assert_eq!(t.depletion, 2.0e6);
        let row = acc.rows.iter().find(|r| r.code == "140105").unwrap();
        assert!(
            (t.geep(false)
                - (row.gdp_cny - 155_000.0 * cpi_to_2021(2010) - 20.0 * per_ha
                    + row.category_cny[1]))
                .abs()
                < 1e-6
        );
        assert!((t.geep(true) - t.geep(false) + 2.0e6).abs() < 1e-6);
        // Without the previous land cover the damage is unknown, not 0.
        let no_prev = compute(&acc, &inp, None, &coef, &mut Issues::new())
            .unwrap()
            .unwrap();
        assert_eq!(no_prev["140105"].damage, None);
    }

    #[test]
    fn environment_rows_are_summed_per_county_and_every_emission_without_a_cost_is_named() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let settings = coef.geep.as_ref().unwrap();
        let so2 = settings.unit_costs[crate::schema::col::SO2_T].value;
        let env = df!(
            col::CODE => ["140105", "140105", "140106", "140105", "140106"],
            "item" => [
                crate::schema::col::SO2_T,
                crate::schema::col::SO2_T,
                crate::schema::col::SO2_T,
                crate::schema::col::RESOURCE_DEPLETION_CNY,
                crate::schema::col::RESOURCE_DEPLETION_CNY,
            ],
            "amount" => [Some(2.0), Some(3.0), None, Some(10.0), Some(4.0)],
            "source_ref" => ["t [环境!C5]", "t [环境!C6]", "t [环境!C7]", "t [环境!H5]", "t [环境!H6]"],
        )
        .unwrap();
        let sums = EnvironmentSums::of(&env, settings).unwrap();
        assert_eq!(sums.degradation["140105"], 5.0 * so2);
        // A missing amount adds nothing; the county is listed all the same.
        assert_eq!(sums.degradation["140106"], 0.0);
        assert_eq!(sums.depletion["140105"], 10.0);
        assert_eq!(sums.depletion["140106"], 4.0);
        assert!(sums.subsided.is_empty() && sums.given_refs.is_empty());

        let mut without_so2 = settings.clone();
        without_so2.unit_costs.remove(crate::schema::col::SO2_T);
        let err = EnvironmentSums::of(&env, &without_so2)
            .err()
            .unwrap()
            .to_string();
        // One error per emission row, none for the items taken as they are.
        assert_eq!(err.matches("no [unit_costs.so2_t]").count(), 3, "{err}");
        assert!(!err.contains("resource_depletion"), "{err}");
    }

    #[test]
    fn mining_subsidence_is_area_times_cost_and_needs_a_cost() {
        let mut coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let mut inp = inputs();
        let extra = df!(
            col::CODE => ["140105"],
            "item" => [crate::schema::col::SUBSIDENCE_AREA_HA],
            "amount" => [5.0],
            "source_ref" => ["t [环境!J5]"],
        )
        .unwrap();
        inp.environment
            .as_mut()
            .unwrap()
            .vstack_mut(&extra)
            .unwrap();
        let acc = compute_accounts(&inp, &coef).unwrap();
        let err = compute(&acc, &inp, None, &coef, &mut Issues::new())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("geep.toml: the 环境 sheet gives 采煤沉陷面积"),
            "{err}"
        );
        coef.geep.as_mut().unwrap().subsidence_cost = Some(UnitCost {
            value: 100_000.0,
            unit: "元/ha".into(),
            year: 2021,
            source: "test".into(),
            status: "U".into(),
            ..UnitCost::default()
        });
        let terms = compute(&acc, &inp, None, &coef, &mut Issues::new())
            .unwrap()
            .unwrap();
        let t = &terms["140105"];
        assert_eq!(t.subsidence, 500_000.0);
        // Subsidence is not an emission: degradation is still 100 t SO₂ × 1200 + 50 t COD × 700
        // (2010 costs, × CPI to 2021).
        assert!((t.degradation - 155_000.0 * cpi_to_2021(2010)).abs() < 1e-6);
        let without = Terms {
            subsidence: 0.0,
            ..t.clone()
        };
        assert!((without.geep(false) - t.geep(false) - 500_000.0).abs() < 1e-6);
    }

    #[test]
    fn costs_given_in_money_replace_the_computed_terms_and_a_double_source_is_warned() {
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let mut inp = inputs();
        // 140105 gives its degradation cost (3 万元) next to its emissions, and its damage cost.
        let extra = df!(
            col::CODE => ["140105", "140105"],
            "item" => [
                crate::schema::col::DEGRADATION_COST_CNY,
                crate::schema::col::DAMAGE_COST_CNY,
            ],
            "amount" => [30_000.0, 12_000.0],
            "source_ref" => ["t [环境!K5]", "t [环境!L5]"],
        )
        .unwrap();
        inp.environment
            .as_mut()
            .unwrap()
            .vstack_mut(&extra)
            .unwrap();
        let acc = compute_accounts(&inp, &coef).unwrap();
        let mut warnings = Issues::new();
        let terms = compute(&acc, &inp, None, &coef, &mut warnings)
            .unwrap()
            .unwrap();
        let t = &terms["140105"];
        assert_eq!(t.degradation, 30_000.0);
        assert_eq!(t.degradation_basis, Basis::Given);
        assert_eq!(t.damage, Some(12_000.0));
        assert_eq!(t.damage_basis, Basis::Given);
        let w: Vec<_> = warnings.warnings().collect();
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].location, "t [环境!K5]");
        assert!(w[0].message.contains("(3.00 万元, used)") && w[0].message.contains("20.03 万元"));
        // The other counties keep the computed terms; a sum over both kinds says so.
        let other = terms.iter().find(|(c, _)| *c != "140105").unwrap().1;
        assert_eq!(other.degradation_basis, Basis::Computed);
        let both = Terms::sum(&terms, terms.keys().map(String::as_str));
        assert_eq!(both.degradation_basis, Basis::Mixed);
    }

    #[test]
    fn a_sum_with_one_unknown_area_loss_damage_stays_unknown() {
        let known = Terms {
            damage: Some(5.0),
            ..Terms::default()
        };
        let unknown = Terms::default();
        let terms: BTreeMap<String, Terms> = [
            ("a".to_string(), unknown.clone()),
            ("b".to_string(), known.clone()),
        ]
        .into();
        assert_eq!(Terms::sum(&terms, ["a", "b"]).damage, None);
        assert_eq!(Terms::sum(&terms, ["b", "a"]).damage, None);
        assert_eq!(Terms::sum(&terms, ["b", "b"]).damage, Some(10.0));
    }
}
