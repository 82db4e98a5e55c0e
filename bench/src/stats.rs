//! Medians, ranges and per-round ratios of samples, and how they are printed.

/// The median, minimum and maximum of a set of samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// The middle sample (the mean of the two middle ones for an even count).
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
}

/// Summarises `samples`; `None` when there are none.
pub fn summary(samples: &[f64]) -> Option<Summary> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    let median = if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    };
    Some(Summary {
        median,
        min: sorted[0],
        max: sorted[sorted.len() - 1],
    })
}

/// The median of the round-by-round ratios `a[i] / b[i]` (rounds where both ran).
pub fn ratio(a: &[f64], b: &[f64]) -> Option<f64> {
    let ratios: Vec<f64> = a
        .iter()
        .zip(b)
        .filter(|(_, b)| **b > 0.0)
        .map(|(a, b)| a / b)
        .collect();
    summary(&ratios).map(|s| s.median)
}

/// `12.3` / `1234` style milliseconds.
pub fn ms(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// `median (min–max)` in milliseconds.
pub fn ms_range(s: &Summary) -> (String, String) {
    (ms(s.median), format!("{}–{}", ms(s.min), ms(s.max)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let s = summary(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        assert_eq!(summary(&[4.0, 1.0, 2.0, 3.0]).unwrap().median, 2.5);
        assert_eq!(summary(&[]), None);
    }

    #[test]
    fn ratio_is_the_median_of_per_round_ratios() {
        assert_eq!(ratio(&[2.0, 30.0, 4.0], &[1.0, 10.0, 4.0]), Some(2.0));
        assert_eq!(ratio(&[1.0], &[0.0]), None);
    }

    #[test]
    fn milliseconds_keep_three_significant_digits() {
        assert_eq!(ms(1234.4), "1234");
        assert_eq!(ms(12.34), "12.3");
        assert_eq!(ms(1.234), "1.23");
    }
}
