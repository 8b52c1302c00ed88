//! The figures the benchmarks print: percentiles of measured times, in milliseconds.

use std::time::Duration;

/// The `p` quantile (0 to 1) of `times`, nearest rank; `times` need not be sorted.
pub fn percentile(times: &[Duration], p: f64) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

pub fn median(times: &[Duration]) -> Duration {
    percentile(times, 0.5)
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// p50 and p90 of `times`, in ms.
pub fn p50_p90_ms(times: &[Duration]) -> (f64, f64) {
    (ms(percentile(times, 0.5)), ms(percentile(times, 0.9)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank_of_the_sorted_times() {
        let t: Vec<Duration> = [5, 1, 4, 2, 3].map(Duration::from_millis).to_vec();
        assert_eq!(median(&t), Duration::from_millis(3));
        assert_eq!(percentile(&t, 0.9), Duration::from_millis(5));
        assert_eq!(p50_p90_ms(&t), (3.0, 5.0));
    }
}
