//! transfer_policy.toml: the allocation rule of a coefficient set (`crate::transfer` applies it).

use serde::Deserialize;

use crate::error::{Error, Issues, Result};

/// Indicators a policy may weight, per county.
pub const POLICY_INDICATORS: &[&str] = &[
    "regulating_value_per_km2",
    "gep_per_km2",
    "regulating_value",
    "gep",
    "population",
    "land_area",
];

/// The allocation rule of a coefficient set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Title shown on the sheet.
    pub title: String,
    /// Where the rule comes from.
    pub source: String,
    /// Evidence grade (an engine example is `U`).
    pub status: String,
    /// Weighted indicators.
    pub weights: Vec<Weight>,
    /// Floors and caps.
    pub limits: Limits,
    /// Immediate and conditional payment.
    pub payment: Payment,
}

/// One weighted indicator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weight {
    /// One of [`POLICY_INDICATORS`].
    pub indicator: String,
    /// Weight; the weights sum to 1.
    pub weight: f64,
}

/// Each county's share of the budget is kept within [floor, cap].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Smallest share of the budget (0 = none).
    pub floor_share: f64,
    /// Largest share of the budget (1 = none).
    pub cap_share: f64,
}

/// Payment schedule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payment {
    /// Share paid later, on the condition (0.3 in Yunhe's scheme).
    pub conditional_share: f64,
    /// The condition, in words.
    pub condition: String,
}

impl Policy {
    /// Parses and validates `transfer_policy.toml`.
    ///
    /// # Errors
    /// [`Error::Invalid`] with the file and line of each problem.
    pub fn parse(text: &str) -> Result<Policy> {
        const FILE: &str = "transfer_policy.toml";
        let mut issues = Issues::new();
        let policy: Policy = match toml::from_str(text) {
            Ok(p) => p,
            Err(e) => {
                let line = e.span().map_or(0, |s| {
                    text[..s.start.min(text.len())].matches('\n').count() + 1
                });
                issues.error(format!("{FILE}:{line}"), e.message().to_string());
                issues.into_result()?;
                return Err(Error::Internal("unreachable".into()));
            }
        };
        for w in &policy.weights {
            if !POLICY_INDICATORS.contains(&w.indicator.as_str()) {
                issues.error(
                    FILE,
                    format!(
                        "unknown indicator \"{}\" (known: {})",
                        w.indicator,
                        POLICY_INDICATORS.join(", ")
                    ),
                );
            }
            if !(0.0..=1.0).contains(&w.weight) {
                issues.error(
                    FILE,
                    format!(
                        "weight {} of {} is not in [0, 1]{}",
                        w.weight,
                        w.indicator,
                        hint(w.weight)
                    ),
                );
            }
        }
        let total: f64 = policy.weights.iter().map(|w| w.weight).sum();
        if (total - 1.0).abs() > 1e-9 {
            issues.error(FILE, format!("weights sum to {total}, not 1"));
        }
        let l = &policy.limits;
        if !(0.0..=1.0).contains(&l.floor_share)
            || !(0.0..=1.0).contains(&l.cap_share)
            || l.floor_share > l.cap_share
        {
            issues.error(
                FILE,
                format!(
                    "limits need 0 ≤ floor_share ≤ cap_share ≤ 1 (floor_share {}{}, cap_share {}{})",
                    l.floor_share,
                    hint(l.floor_share),
                    l.cap_share,
                    hint(l.cap_share)
                ),
            );
        }
        if !(0.0..1.0).contains(&policy.payment.conditional_share) {
            issues.error(
                FILE,
                format!(
                    "payment.conditional_share must be in [0, 1), found {}{}",
                    policy.payment.conditional_share,
                    hint(policy.payment.conditional_share)
                ),
            );
        }
        issues.into_result()?;
        Ok(policy)
    }
}

/// `: a percentage? write 0.3 …` for a share that looks like a percentage, else nothing.
fn hint(value: f64) -> String {
    super::percentage_hint(value).map_or_else(String::new, |h| format!(": {h}"))
}
