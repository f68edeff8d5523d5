//! Sums of amounts, any stage: compensated (Kahan) summation, the algorithm polars' group sums
//! use, so that per-county totals made in one pass over a frame's rows keep their last digits
//! (and are more accurate than adding in turn).

/// A running compensated sum of `f64`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KahanSum {
    sum: f64,
    err: f64,
}

impl KahanSum {
    /// Adds `x`, carrying the low-order part lost by the addition into the next one.
    pub fn add(&mut self, x: f64) {
        let y = x - self.err;
        let sum = self.sum + y;
        let err = (sum - self.sum) - y;
        self.sum = sum;
        // An infinite sum would make the correction NaN (∞ − ∞): keep the last finite one.
        if err.is_finite() {
            self.err = err;
        }
    }

    /// The sum so far.
    pub fn sum(self) -> f64 {
        self.sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(xs: &[f64]) -> f64 {
        let mut k = KahanSum::default();
        for &x in xs {
            k.add(x);
        }
        k.sum()
    }

    #[test]
    fn land_areas_sum_without_the_last_digit_error_of_adding_in_turn() {
        // Adding in turn gives 160.00000000000003 and 0.6000000000000001.
        assert_ne!(120.7 + 33.1 + 0.3 + 5.9, 160.0);
        assert_eq!(sum(&[120.7, 33.1, 0.3, 5.9]), 160.0);
        assert_eq!(sum(&[0.1, 0.2, 0.3]), 0.6);
        assert_eq!(sum(&[]), 0.0);
        assert_eq!(sum(&[f64::INFINITY, 1.0]), f64::INFINITY);
    }
}
