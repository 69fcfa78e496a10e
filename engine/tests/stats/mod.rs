//! Sample statistics the simulator's statistics suites share.

/// The arithmetic mean.
pub fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// `x` minus its mean, over its standard deviation.
pub fn standardized(x: &[f64]) -> Vec<f64> {
    let m = mean(x);
    let sd = (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
    x.iter().map(|v| (v - m) / sd).collect()
}

/// Kurtosis minus the normal's 3.
pub fn excess_kurtosis(x: &[f64]) -> f64 {
    let z = standardized(x);
    z.iter().map(|v| v.powi(4)).sum::<f64>() / z.len() as f64 - 3.0
}

/// Pearson's correlation of two series of the same length.
pub fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let (za, zb) = (standardized(a), standardized(b));
    za.iter().zip(&zb).map(|(x, y)| x * y).sum::<f64>() / za.len() as f64
}

/// Sums of `width` consecutive returns.
pub fn aggregate(x: &[f64], width: usize) -> Vec<f64> {
    x.chunks_exact(width).map(|c| c.iter().sum()).collect()
}
