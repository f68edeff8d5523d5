//! Stage 4b, transfer: accounts + a budget → an ecological transfer-payment allocation under the
//! coefficient set's `transfer_policy.toml` (weighted, normalised indicators; floors and caps;
//! amounts in whole yuan by largest remainder, summing exactly to the budget; an optional share
//! paid later on a quality condition, as in Yunhe's 70/30 scheme).

use crate::account::{Accounts, Category, Level};
use crate::error::{Issues, Result};

pub use crate::coefficients::transfer::{Limits, POLICY_INDICATORS, Payment, Policy, Weight};

/// One county's allocation.
#[derive(Debug, Clone)]
pub struct Allocation {
    /// County code.
    pub code: String,
    /// Indicator values, in policy order.
    pub indicators: Vec<f64>,
    /// Weighted score Σ w·x/Σx.
    pub score: f64,
    /// Share of the budget after floors and caps.
    pub share: f64,
    /// Whole yuan.
    pub amount_cny: i64,
    /// Paid now.
    pub immediate_cny: i64,
    /// Paid later on the condition.
    pub conditional_cny: i64,
}

/// Splits `total` whole yuan over `weights` (proportionally) by the largest-remainder method;
/// ties go to the earlier item. The parts sum exactly to `total`.
pub fn largest_remainder(total: i64, weights: &[f64]) -> Vec<i64> {
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 || weights.is_empty() {
        let mut out = vec![0; weights.len()];
        if let Some(first) = out.first_mut() {
            *first = total;
        }
        return out;
    }
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut out: Vec<i64> = exact.iter().map(|e| e.floor() as i64).collect();
    let mut left = total - out.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    for &i in order.iter().cycle() {
        if left <= 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out
}

/// Applies floors and caps to shares that sum to 1: counties outside the limits are pinned to
/// them and the rest is spread over the others in proportion to their scores, until stable.
pub fn limited_shares(scores: &[f64], floor: f64, cap: f64) -> Vec<f64> {
    let n = scores.len();
    let mut pinned: Vec<Option<f64>> = vec![None; n];
    loop {
        let free_total: f64 = (0..n)
            .filter(|&i| pinned[i].is_none())
            .map(|i| scores[i])
            .sum();
        let left = 1.0 - pinned.iter().flatten().sum::<f64>();
        let shares: Vec<f64> = (0..n)
            .map(|i| {
                pinned[i].unwrap_or_else(|| {
                    if free_total > 0.0 {
                        left * scores[i] / free_total
                    } else {
                        0.0
                    }
                })
            })
            .collect();
        let mut changed = false;
        for i in 0..n {
            if pinned[i].is_none() {
                if shares[i] < floor - 1e-15 {
                    pinned[i] = Some(floor);
                    changed = true;
                } else if shares[i] > cap + 1e-15 {
                    pinned[i] = Some(cap);
                    changed = true;
                }
            }
        }
        if !changed {
            return shares;
        }
    }
}

/// Allocates `budget_cny` (whole yuan) to the counties of `accounts`.
///
/// # Errors
/// [`Error::Invalid`] when the limits cannot be met by this number of counties.
pub fn allocate(
    accounts: &Accounts,
    land_ha: &std::collections::BTreeMap<String, f64>,
    policy: &Policy,
    budget_cny: i64,
) -> Result<Vec<Allocation>> {
    let counties: Vec<_> = accounts.level(Level::County).collect();
    let n = counties.len() as f64;
    let l = &policy.limits;
    if l.floor_share * n > 1.0 + 1e-12 || l.cap_share * n < 1.0 - 1e-12 {
        let mut issues = Issues::new();
        issues.error(
            "transfer_policy.toml",
            format!(
                "floor_share {} and cap_share {} cannot both hold for {} counties",
                l.floor_share,
                l.cap_share,
                counties.len()
            ),
        );
        issues.into_result()?;
    }
    let regulating = Category::ALL
        .iter()
        .position(|c| *c == Category::Regulating)
        .unwrap_or(1);
    let by_code: std::collections::HashMap<&str, &&crate::account::AccountRow> =
        counties.iter().map(|r| (r.code.as_str(), r)).collect();
    let value = |code: &str, indicator: &str| -> f64 {
        let Some(row) = by_code.get(code) else {
            return 0.0;
        };
        let km2 = land_ha.get(code).copied().unwrap_or(0.0) / 100.0;
        let per_km2 = |v: f64| if km2 > 0.0 { v / km2 } else { 0.0 };
        match indicator {
            "regulating_value_per_km2" => per_km2(row.category_cny[regulating]),
            "gep_per_km2" => per_km2(row.gep_cny),
            "regulating_value" => row.category_cny[regulating],
            "gep" => row.gep_cny,
            "population" => row.population,
            "land_area" => km2,
            _ => 0.0,
        }
    };
    let matrix: Vec<Vec<f64>> = counties
        .iter()
        .map(|c| {
            policy
                .weights
                .iter()
                .map(|w| value(&c.code, &w.indicator).max(0.0))
                .collect()
        })
        .collect();
    let totals: Vec<f64> = (0..policy.weights.len())
        .map(|k| matrix.iter().map(|row| row[k]).sum())
        .collect();
    let scores: Vec<f64> = matrix
        .iter()
        .map(|row| {
            policy
                .weights
                .iter()
                .enumerate()
                .map(|(k, w)| {
                    if totals[k] > 0.0 {
                        w.weight * row[k] / totals[k]
                    } else {
                        0.0
                    }
                })
                .sum()
        })
        .collect();
    let score_total: f64 = scores.iter().sum();
    let raw: Vec<f64> = scores
        .iter()
        .map(|s| {
            if score_total > 0.0 {
                s / score_total
            } else {
                1.0 / n
            }
        })
        .collect();
    let shares = limited_shares(&raw, l.floor_share, l.cap_share);
    let amounts = largest_remainder(budget_cny, &shares);
    let conditional_total = (budget_cny as f64 * policy.payment.conditional_share).round() as i64;
    let conditional = largest_remainder(
        conditional_total,
        &amounts.iter().map(|a| *a as f64).collect::<Vec<_>>(),
    );
    Ok(counties
        .iter()
        .enumerate()
        .map(|(i, c)| Allocation {
            code: c.code.clone(),
            indicators: matrix[i].clone(),
            score: scores[i],
            share: shares[i],
            amount_cny: amounts[i],
            immediate_cny: amounts[i] - conditional[i],
            conditional_cny: conditional[i],
        })
        .collect())
}

/// Parses a budget such as `100000000`, `1e8`, `5000万`, `1.5亿`, `2亿元` into whole yuan.
///
/// # Errors
/// A message when the text is not a non-negative amount.
pub fn parse_budget(text: &str) -> std::result::Result<i64, String> {
    let t = crate::units::to_half_width(text).replace([',', '，', ' '], "");
    let t = t.trim_end_matches('元');
    let (number, factor) = if let Some(n) = t.strip_suffix('亿') {
        (n, 1e8)
    } else if let Some(n) = t.strip_suffix('万') {
        (n, 1e4)
    } else {
        (t, 1.0)
    };
    let v: f64 = number
        .parse()
        .map_err(|_| format!("\"{text}\" is not an amount (e.g. 100000000, 5000万, 1.5亿)"))?;
    let yuan = (v * factor).round();
    if !(0.0..9e15).contains(&yuan) {
        return Err(format!("\"{text}\" is not a non-negative amount"));
    }
    if yuan < 1.0 {
        return Err(format!(
            "\"{text}\": a budget of 0 allocates nothing; give the amount to allocate"
        ));
    }
    Ok(yuan as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_remainder_sums_exactly() {
        assert_eq!(largest_remainder(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
        assert_eq!(largest_remainder(100, &[0.5, 0.25, 0.25]), vec![50, 25, 25]);
        let parts = largest_remainder(1_000_000_007, &[0.3, 0.3, 0.4, 1e-9]);
        assert_eq!(parts.iter().sum::<i64>(), 1_000_000_007);
    }

    #[test]
    fn floors_and_caps_are_respected_and_shares_still_sum_to_one() {
        let shares = limited_shares(&[0.7, 0.25, 0.04, 0.01], 0.05, 0.5);
        assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((shares[0] - 0.5).abs() < 1e-12);
        assert!((shares[2] - 0.05).abs() < 1e-12 && (shares[3] - 0.05).abs() < 1e-12);
        // The rest (0.4) goes to county 1 alone.
        assert!((shares[1] - 0.4).abs() < 1e-12);
    }

    #[test]
    fn budgets_parse_with_chinese_units() {
        assert_eq!(parse_budget("5000万"), Ok(50_000_000));
        assert_eq!(parse_budget("1.5亿元"), Ok(150_000_000));
        assert_eq!(parse_budget("1e8"), Ok(100_000_000));
        assert!(parse_budget("-5").is_err());
        assert!(parse_budget("lots").is_err());
    }

    #[test]
    fn two_counties_split_by_weighted_normalised_indicators() {
        use crate::account::{compute, testing::inputs};
        let coef = crate::account::registry::load_coefficients(None, false).unwrap();
        let acc = compute(&inputs(), &coef).unwrap();
        let policy = Policy::parse(
            "title = \"t\"\nsource = \"s\"\nstatus = \"U\"\n[[weights]]\nindicator = \"population\"\nweight = 1.0\n[limits]\nfloor_share = 0.0\ncap_share = 1.0\n[payment]\nconditional_share = 0.3\ncondition = \"c\"\n",
        )
        .unwrap();
        let land = std::collections::BTreeMap::new();
        // No population in the 3-county case: shares fall back to equal.
        let alloc = allocate(&acc, &land, &policy, 1_000).unwrap();
        assert_eq!(
            alloc.iter().map(|a| a.amount_cny).collect::<Vec<_>>(),
            vec![334, 333, 333]
        );
        assert_eq!(alloc.iter().map(|a| a.conditional_cny).sum::<i64>(), 300);
        assert!(
            alloc
                .iter()
                .all(|a| a.immediate_cny + a.conditional_cny == a.amount_cny)
        );
    }
}
