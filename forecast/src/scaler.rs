//! Per-window scaling, computed in float32 as NeuralForecast's `TemporalNorm` does.

use crate::ScalerKind;

/// NeuralForecast's `eps`, added to every scale so that flat windows never divide by zero.
const EPS: f32 = 1e-6;
/// MAD of a normal distribution per unit of standard deviation.
const MAD_PER_STD: f32 = 0.674_489_75;

/// Shift and scale of one window: `z = (x - shift) / scale`, `x = z * scale + shift`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowScale {
    pub shift: f32,
    pub scale: f32,
}

impl WindowScale {
    /// Statistics over the input values only (the target never leaks into them).
    /// `work` is scratch space, reused across windows to avoid allocating per window.
    pub fn fit(kind: ScalerKind, input: &[f32], work: &mut Vec<f32>) -> Self {
        match kind {
            ScalerKind::Robust => robust(input, work),
            ScalerKind::Standard => standard(input),
        }
    }

    pub fn apply(&self, x: f32) -> f32 {
        (x - self.shift) / self.scale
    }

    pub fn invert(&self, z: f32) -> f32 {
        z * self.scale + self.shift
    }
}

/// torch's `median` is the lower middle element for an even count.
fn lower_median(values: &mut [f32]) -> f32 {
    let mid = (values.len() - 1) / 2;
    *values.select_nth_unstable_by(mid, f32::total_cmp).1
}

fn mean_and_std(x: &[f32]) -> (f32, f32) {
    let n = x.len() as f32;
    let mean = x.iter().sum::<f32>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    (mean, var.sqrt())
}

fn robust(input: &[f32], work: &mut Vec<f32>) -> WindowScale {
    work.clear();
    work.extend_from_slice(input);
    let median = lower_median(work);
    for v in work.iter_mut() {
        *v = (*v - median).abs();
    }
    let mut mad = lower_median(work);
    // A window with more than half its values equal has MAD 0: fall back to the normal
    // relationship with the standard deviation, then to 1 for a flat window.
    if mad == 0.0 {
        mad = mean_and_std(input).1 * MAD_PER_STD;
    }
    if mad == 0.0 {
        mad = 1.0;
    }
    WindowScale { shift: median, scale: mad + EPS }
}

fn standard(input: &[f32]) -> WindowScale {
    let (mean, mut std) = mean_and_std(input);
    if std == 0.0 {
        std = 1.0;
    }
    WindowScale { shift: mean, scale: std + EPS }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(kind: ScalerKind, x: &[f32]) -> WindowScale {
        WindowScale::fit(kind, x, &mut Vec::new())
    }

    #[test]
    fn robust_uses_the_lower_median_for_an_even_count() {
        // sorted 1 2 4 10: lower median 2; |x-2| = 1 0 2 8 -> sorted 0 1 2 8 -> lower median 1.
        let s = fit(ScalerKind::Robust, &[10.0, 1.0, 4.0, 2.0]);
        assert_eq!(s.shift, 2.0);
        assert_eq!(s.scale, 1.0 + 1e-6);
    }

    #[test]
    fn robust_uses_the_middle_element_for_an_odd_count() {
        // median 3; deviations 2 1 0 1 7 -> median 1.
        let s = fit(ScalerKind::Robust, &[1.0, 2.0, 3.0, 4.0, 10.0]);
        assert_eq!((s.shift, s.scale), (3.0, 1.0 + 1e-6));
    }

    #[test]
    fn robust_falls_back_to_the_scaled_std_when_the_mad_is_zero() {
        // median 5, deviations 0 0 0 5 -> MAD 0; mean 6.25, population std 2.1650635.
        let s = fit(ScalerKind::Robust, &[5.0, 5.0, 5.0, 10.0]);
        assert_eq!(s.shift, 5.0);
        let expected = 2.165_063_5_f32 * 0.674_489_75 + 1e-6;
        assert!((s.scale - expected).abs() < 1e-6, "{} vs {expected}", s.scale);
    }

    #[test]
    fn robust_scale_is_one_for_a_flat_window() {
        let s = fit(ScalerKind::Robust, &[7.0; 6]);
        assert_eq!((s.shift, s.scale), (7.0, 1.0 + 1e-6));
    }

    #[test]
    fn standard_uses_the_population_std_and_one_for_a_flat_window() {
        let s = fit(ScalerKind::Standard, &[1.0, 3.0]);
        assert_eq!((s.shift, s.scale), (2.0, 1.0 + 1e-6));
        let s = fit(ScalerKind::Standard, &[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!((s.shift, s.scale), (5.0, 2.0 + 1e-6));
        assert_eq!(fit(ScalerKind::Standard, &[3.0; 4]).scale, 1.0 + 1e-6);
    }

    #[test]
    fn apply_and_invert_round_trip() {
        let s = WindowScale { shift: 1.5, scale: 0.25 };
        assert_eq!(s.apply(2.0), 2.0);
        assert_eq!(s.invert(s.apply(1.75)), 1.75);
    }
}
