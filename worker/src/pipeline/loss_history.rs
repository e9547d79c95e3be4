//! A training run's loss curve in fixed memory: every step is recorded, at most
//! [`MAX_POINTS`] are kept, spread evenly over the whole run however many steps it takes.

use forecast::StepProgress;
use serde_json::{Value, json};

/// Most points kept (and reported): one per bucket of recorded steps, and the newest step.
pub const MAX_POINTS: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossPoint {
    /// The step within its phase (as [`StepProgress::step`]): a refit counts from 1 again.
    pub step: usize,
    pub train_loss: f64,
    pub val_loss: Option<f64>,
    pub refit: bool,
}

/// Recorded steps are numbered 0, 1, 2… across the fit and the refit. Bucket `i` covers the
/// numbers `i * stride .. (i + 1) * stride` and keeps one of its steps: the first validated
/// one if any (validation checks are rare and would otherwise mostly fall between the kept
/// steps), else the first. When the buckets are full, neighbours merge and the stride doubles.
#[derive(Debug, Clone)]
pub struct LossHistory {
    buckets: Vec<(usize, LossPoint)>,
    stride: usize,
    recorded: usize,
    newest: Option<(usize, LossPoint)>,
}

impl Default for LossHistory {
    fn default() -> Self {
        Self { buckets: Vec::with_capacity(MAX_POINTS), stride: 1, recorded: 0, newest: None }
    }
}

impl LossHistory {
    pub fn record(&mut self, p: &StepProgress) {
        let point = LossPoint {
            step: p.step,
            train_loss: p.train_loss,
            val_loss: p.val_loss,
            refit: p.refit,
        };
        let n = self.recorded;
        self.recorded += 1;
        self.newest = Some((n, point));
        if n / self.stride == self.buckets.len() && self.buckets.len() == MAX_POINTS {
            self.halve();
        }
        if n / self.stride == self.buckets.len() {
            self.buckets.push((n, point));
        } else if let Some(last) = self.buckets.last_mut()
            && last.1.val_loss.is_none()
            && point.val_loss.is_some()
        {
            *last = (n, point);
        }
        // Full buckets plus a newest step that is not one of them would be one point too many.
        if self.buckets.len() == MAX_POINTS && self.buckets.last().is_some_and(|b| b.0 != n) {
            self.halve();
        }
    }

    fn halve(&mut self) {
        self.buckets = self.buckets.chunks(2).map(|pair| *preferred(pair)).collect();
        self.stride *= 2;
    }

    /// Recorded steps covered by one kept point.
    #[cfg(test)]
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The kept points, oldest first, ending with the newest step.
    pub fn points(&self) -> impl Iterator<Item = &LossPoint> {
        let newest =
            self.newest.as_ref().filter(|(n, _)| self.buckets.last().is_none_or(|b| b.0 != *n));
        self.buckets.iter().chain(newest).map(|(_, p)| p)
    }

    /// `{"step": [...], "train_loss": [...], "val_loss": [... null where none], "refit": [...]}`
    /// (parallel arrays: a chart reads them as columns).
    pub fn to_json(&self) -> Value {
        let column = |f: fn(&LossPoint) -> Value| self.points().map(f).collect::<Vec<_>>();
        json!({
            "step": column(|p| json!(p.step)),
            "train_loss": column(|p| json!(p.train_loss)),
            "val_loss": column(|p| json!(p.val_loss)),
            "refit": column(|p| json!(p.refit)),
        })
    }
}

/// Of two neighbouring buckets' points, the one a merged bucket keeps.
fn preferred(pair: &[(usize, LossPoint)]) -> &(usize, LossPoint) {
    match pair {
        [first, second] if first.1.val_loss.is_none() && second.1.val_loss.is_some() => second,
        _ => &pair[0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(step: usize, refit: bool, val_every: usize) -> StepProgress {
        StepProgress {
            step,
            max_steps: 10_000,
            refit,
            train_loss: 1.0 / step as f64,
            val_loss: (!refit && step.is_multiple_of(val_every)).then_some(step as f64),
            learning_rate: 1e-3,
        }
    }

    fn run(fit: usize, refit: usize, val_every: usize) -> LossHistory {
        let mut history = LossHistory::default();
        for step in 1..=fit {
            history.record(&progress(step, false, val_every));
        }
        for step in 1..=refit {
            history.record(&progress(step, true, val_every));
        }
        history
    }

    #[test]
    fn ten_thousand_steps_keep_at_most_256_points_from_the_first_to_the_last_step() {
        for steps in [1, 2, 255, 256, 257, 511, 512, 513, 1000, 9_999, 10_000] {
            let history = run(steps, 0, usize::MAX);
            let points: Vec<_> = history.points().collect();
            assert!(points.len() <= MAX_POINTS, "{steps}: {}", points.len());
            // Every step while they fit; then never less than half: the curve keeps its detail.
            assert!(points.len() == steps || points.len() > MAX_POINTS / 2, "{steps}");
            assert_eq!(points[0].step, 1, "{steps}");
            assert_eq!(points.last().unwrap().step, steps, "{steps}");
        }
        assert_eq!(run(256, 0, usize::MAX).points().count(), 256);
    }

    #[test]
    fn kept_steps_are_evenly_strided_without_validation() {
        let history = run(10_000, 0, usize::MAX);
        let stride = history.stride();
        assert!(stride.is_power_of_two() && stride > 1, "{stride}");
        let steps: Vec<usize> = history.points().map(|p| p.step).collect();
        let (last, strided) = steps.split_last().unwrap();
        for (i, &step) in strided.iter().enumerate() {
            assert_eq!(step, 1 + i * stride, "{steps:?}");
        }
        assert!(*last > strided[strided.len() - 1] && *last - strided[strided.len() - 1] <= stride);
    }

    #[test]
    fn validated_steps_are_kept_while_a_bucket_holds_no_more_than_one() {
        // 2 000 steps, stride 8 at the end, a check every 100 steps: every check is kept.
        let history = run(2_000, 0, 100);
        let validated: Vec<usize> =
            history.points().filter(|p| p.val_loss.is_some()).map(|p| p.step).collect();
        assert_eq!(validated, (1..=20).map(|k| 100 * k).collect::<Vec<_>>());
        // No bucket is skipped: neighbouring points are less than two strides apart.
        let steps: Vec<usize> = history.points().map(|p| p.step).collect();
        assert!(steps.windows(2).all(|w| w[0] < w[1] && w[1] - w[0] < 2 * history.stride()));
        for p in history.points() {
            assert_eq!(p.val_loss, (p.step % 100 == 0).then_some(p.step as f64), "{p:?}");
        }
    }

    #[test]
    fn the_refit_stays_distinguishable_and_in_order() {
        let history = run(10_000, 6_000, 100);
        let points: Vec<_> = history.points().collect();
        assert!(points.len() <= MAX_POINTS);
        let first_refit = points.iter().position(|p| p.refit).unwrap();
        assert!(points[first_refit..].iter().all(|p| p.refit), "the refit follows the fit");
        assert!(first_refit > 100 && points.len() - first_refit > 50, "{first_refit}");
        for phase in [&points[..first_refit], &points[first_refit..]] {
            assert!(phase.windows(2).all(|w| w[0].step < w[1].step));
        }
        assert!(points[first_refit..].iter().all(|p| p.val_loss.is_none()));
        assert_eq!((points[0].step, points[0].refit), (1, false));
        let last = points.last().unwrap();
        assert_eq!((last.step, last.refit), (6_000, true));
    }

    #[test]
    fn the_json_has_one_column_per_field_with_null_where_not_validated() {
        let json = run(3, 0, 2).to_json();
        assert_eq!(json["step"], json!([1, 2, 3]));
        assert_eq!(json["train_loss"], json!([1.0, 0.5, 1.0 / 3.0]));
        assert_eq!(json["val_loss"], json!([null, 2.0, null]));
        assert_eq!(json["refit"], json!([false, false, false]));
        assert_eq!(LossHistory::default().to_json()["step"], json!([]));
    }
}
