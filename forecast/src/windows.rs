//! Training windows (NeuralForecast's `_create_windows` and window sampling) and the scaled
//! batches fed to the network, built on the host in float32.

use rand::Rng;

use crate::ScalerKind;
use crate::scaler::WindowScale;

/// Every window of `input + horizon` bars of the series right-padded with `horizon` masked
/// zeros, keeping those whose target holds at least one real bar: offsets `0..n - input`.
pub(crate) struct TrainingWindows<'a> {
    series: &'a [f32],
    input: usize,
    horizon: usize,
    futr: Option<FutrInputs<'a>>,
}

/// Known-future inputs (calendar features) of every bar, `features` values per bar, for the
/// series' bars and the `horizon` bars after its end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FutrInputs<'a> {
    pub(crate) values: &'a [f32],
    pub(crate) features: usize,
}

impl FutrInputs<'_> {
    /// Appends the features of bars `start .. start + h`, feature-major (all of feature 0's
    /// bars, then feature 1's...), as the network reshapes them for pooling.
    fn push(&self, out: &mut Vec<f32>, start: usize, h: usize) {
        for f in 0..self.features {
            out.extend((start..start + h).map(|bar| self.values[bar * self.features + f]));
        }
    }
}

impl<'a> TrainingWindows<'a> {
    pub(crate) fn new(
        series: &'a [f32],
        input: usize,
        horizon: usize,
        futr: Option<FutrInputs<'a>>,
    ) -> Self {
        Self { series, input, horizon, futr }
    }

    /// Number of eligible windows (EURUSD's 4500 training bars with L = 120: 4380).
    pub(crate) fn eligible(&self) -> usize {
        self.series.len().saturating_sub(self.input)
    }

    /// `randperm(n)[:batch]`, or `batch` draws with replacement when fewer windows exist.
    pub(crate) fn sample(&self, rng: &mut impl Rng, batch: usize) -> Vec<usize> {
        let n = self.eligible();
        if n < batch {
            return (0..batch).map(|_| rng.random_range(0..n)).collect();
        }
        // Partial Fisher-Yates: the first `batch` entries are a uniform sample without replacement.
        let mut order: Vec<usize> = (0..n).collect();
        for i in 0..batch {
            let j = rng.random_range(i..n);
            order.swap(i, j);
        }
        order.truncate(batch);
        order
    }

    /// Scaled inputs, targets and target mask of the windows at `offsets`.
    pub(crate) fn batch(&self, offsets: &[usize], kind: ScalerKind) -> HostBatch {
        let (l, h) = (self.input, self.horizon);
        let mut batch = HostBatch::with_capacity(offsets.len(), l, h);
        let mut work = Vec::with_capacity(l);
        for &o in offsets {
            let scale = batch.push_input(&self.series[o..o + l], kind, &mut work);
            if let Some(futr) = &self.futr {
                futr.push(&mut batch.futr, o + l, h);
            }
            for j in 0..h {
                match self.series.get(o + l + j) {
                    Some(&y) => {
                        batch.target.push(scale.apply(y));
                        batch.mask.push(1.0);
                    }
                    // Right padding: masked out of the loss.
                    None => {
                        batch.target.push(0.0);
                        batch.mask.push(0.0);
                    }
                }
            }
        }
        batch
    }
}

/// One batch on the host, row-major. `reversed` holds each scaled input window newest bar
/// first (N-HiTS reads it that way), `level` its newest scaled bar (the naive forecast the
/// blocks correct), `futr` the forecast bars' calendar features (empty without them).
/// `target` and `mask` are empty for inference batches.
#[derive(Debug, Default)]
pub(crate) struct HostBatch {
    pub(crate) rows: usize,
    pub(crate) reversed: Vec<f32>,
    pub(crate) level: Vec<f32>,
    pub(crate) futr: Vec<f32>,
    pub(crate) target: Vec<f32>,
    pub(crate) mask: Vec<f32>,
    pub(crate) scales: Vec<WindowScale>,
}

impl HostBatch {
    pub(crate) fn with_capacity(rows: usize, input: usize, horizon: usize) -> Self {
        Self {
            rows: 0,
            reversed: Vec::with_capacity(rows * input),
            level: Vec::with_capacity(rows),
            futr: Vec::new(),
            target: Vec::with_capacity(rows * horizon),
            mask: Vec::with_capacity(rows * horizon),
            scales: Vec::with_capacity(rows),
        }
    }

    /// Inference inputs: the `input` bars before each origin (and the calendar features of
    /// the `horizon` bars from it).
    pub(crate) fn for_origins(
        series: &[f32],
        origins: &[usize],
        (input, horizon): (usize, usize),
        kind: ScalerKind,
        futr: Option<FutrInputs<'_>>,
    ) -> Self {
        let mut batch = Self::with_capacity(origins.len(), input, 0);
        let mut work = Vec::with_capacity(input);
        for &t0 in origins {
            batch.push_input(&series[t0 - input..t0], kind, &mut work);
            if let Some(futr) = &futr {
                futr.push(&mut batch.futr, t0, horizon);
            }
        }
        batch
    }

    fn push_input(&mut self, input: &[f32], kind: ScalerKind, work: &mut Vec<f32>) -> WindowScale {
        let scale = WindowScale::fit(kind, input, work);
        self.reversed.extend(input.iter().rev().map(|&x| scale.apply(x)));
        self.level.push(scale.apply(input[input.len() - 1]));
        self.scales.push(scale);
        self.rows += 1;
        scale
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn eligible_windows_need_one_real_target_bar() {
        let series = [0.0f32; 4500];
        assert_eq!(TrainingWindows::new(&series, 120, 24, None).eligible(), 4380);
        assert_eq!(TrainingWindows::new(&series[..1934], 60, 5, None).eligible(), 1874);
        assert_eq!(TrainingWindows::new(&series[..10], 10, 5, None).eligible(), 0);
    }

    #[test]
    fn sampling_without_replacement_draws_distinct_eligible_windows() {
        let series = [0.0f32; 2000];
        let windows = TrainingWindows::new(&series, 100, 10, None);
        let mut picked = windows.sample(&mut ChaCha8Rng::seed_from_u64(1), 1024);
        assert_eq!(picked.len(), 1024);
        assert!(picked.iter().all(|&o| o < 1900));
        picked.sort_unstable();
        picked.dedup();
        assert_eq!(picked.len(), 1024, "no window drawn twice");
    }

    #[test]
    fn sampling_with_replacement_when_fewer_windows_than_the_batch() {
        let series = [0.0f32; 30];
        let windows = TrainingWindows::new(&series, 10, 5, None);
        let picked = windows.sample(&mut ChaCha8Rng::seed_from_u64(1), 64);
        assert_eq!(picked.len(), 64);
        assert!(picked.iter().all(|&o| o < 20));
    }

    #[test]
    fn sampling_is_deterministic_for_a_seed() {
        let series = [0.0f32; 3000];
        let windows = TrainingWindows::new(&series, 100, 10, None);
        let a = windows.sample(&mut ChaCha8Rng::seed_from_u64(7), 16);
        let b = windows.sample(&mut ChaCha8Rng::seed_from_u64(7), 16);
        assert_eq!(a, b);
    }

    #[test]
    fn windows_near_the_end_mask_their_padded_targets() {
        // Series 1..=8, L = 3, h = 3: offset 4 reads 5 6 7 and has one real target (8).
        let series: Vec<f32> = (1..=8).map(|v| v as f32).collect();
        let windows = TrainingWindows::new(&series, 3, 3, None);
        assert_eq!(windows.eligible(), 5);
        let b = windows.batch(&[4, 0], ScalerKind::Robust);
        // Window 5 6 7: median 6, deviations 1 0 1 -> MAD 1.
        assert_eq!(&b.reversed[..3], &[1.0 / 1.000001, 0.0, -1.0 / 1.000001]);
        assert_eq!(b.level[0], 1.0 / 1.000001);
        assert_eq!(&b.mask[..3], &[1.0, 0.0, 0.0]);
        assert_eq!(b.target[0], 2.0 / 1.000001);
        assert_eq!(&b.mask[3..], &[1.0, 1.0, 1.0]);
        assert_eq!(b.rows, 2);
    }

    #[test]
    fn inference_inputs_are_the_bars_before_each_origin() {
        let series: Vec<f32> = (0..10).map(|v| v as f32).collect();
        let b = HostBatch::for_origins(&series, &[5], (3, 0), ScalerKind::Standard, None);
        // Bars 2 3 4: mean 3, std sqrt(2/3).
        let s = b.scales[0];
        assert_eq!(s.shift, 3.0);
        assert_eq!(
            b.reversed.iter().map(|&z| s.invert(z)).collect::<Vec<_>>(),
            vec![4.0, 3.0, 2.0]
        );
        assert!(b.target.is_empty());
    }

    #[test]
    fn calendar_inputs_are_the_forecast_bars_features_feature_major() {
        // Two features per bar: (bar, 100 + bar), for 12 bars (8 of series + 4 past its end).
        let values: Vec<f32> = (0..12).flat_map(|b| [b as f32, 100.0 + b as f32]).collect();
        let futr = FutrInputs { values: &values, features: 2 };
        let series: Vec<f32> = (1..=8).map(|v| v as f32).collect();
        let windows = TrainingWindows::new(&series, 3, 2, Some(futr));
        // Offset 6 reads bars 6 7 8 (index 6..9 past the end: padded) and forecasts bars 9, 10.
        let b = windows.batch(&[1, 5], ScalerKind::Robust);
        assert_eq!(&b.futr[..4], &[4.0, 5.0, 104.0, 105.0]);
        assert_eq!(&b.futr[4..], &[8.0, 9.0, 108.0, 109.0]);
        let b = HostBatch::for_origins(&series, &[8], (3, 2), ScalerKind::Robust, Some(futr));
        assert_eq!(b.futr, vec![8.0, 9.0, 108.0, 109.0]);
    }
}
