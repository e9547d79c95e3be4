//! What a training request will cost, from its settings alone, so that the API can refuse one
//! over the compute budget before it is queued (a worker re-checks stored jobs).
//!
//! The network's shape follows the forecast crate's N-HiTS exactly (three stacks, pooling
//! kernels 2/2/1, knot divisors 4/2/1, an MLP of `mlp_width`); the worker's tests check that
//! the parameter count here equals the model's own.

use super::TrainingInput;

/// The forecast crate's defaults for what a request may leave out.
pub const DEFAULT_MAX_STEPS: u64 = 1000;
pub const DEFAULT_WINDOWS_BATCH_SIZE: u64 = 1024;
pub const DEFAULT_MLP_WIDTH: u64 = 512;
/// Hidden layers per block, kernels and knot divisors per stack.
const MLP_LAYERS: usize = 3;
const POOL_KERNELS: [u64; 3] = [2, 2, 1];
const FREQ_DOWNSAMPLE: [u64; 3] = [4, 2, 1];

/// Forward and backward pass of a dense layer: about 6 FLOPs per weight per window.
const FLOPS_PER_PARAMETER_AND_WINDOW: f64 = 6.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainingCost {
    pub parameters: u64,
    pub windows_batch_size: u64,
    pub max_steps: u64,
    /// `6 × parameters × windows_batch_size × max_steps`.
    pub flops: f64,
}

impl TrainingInput {
    pub fn cost(&self) -> TrainingCost {
        let (l, h) = (self.effective_input_size() as u64, self.horizon as u64);
        let width = self.mlp_width.map_or(DEFAULT_MLP_WIDTH, u64::from);
        let linear = |fan_in: u64, fan_out: u64| fan_in * fan_out + fan_out;
        let parameters = POOL_KERNELS
            .iter()
            .zip(FREQ_DOWNSAMPLE)
            .map(|(&k, f)| {
                let knots = (h / f).max(1);
                linear(l.div_ceil(k), width)
                    + MLP_LAYERS as u64 * linear(width, width)
                    + linear(width, l + knots)
            })
            .sum();
        let windows_batch_size =
            self.windows_batch_size.map_or(DEFAULT_WINDOWS_BATCH_SIZE, u64::from);
        let max_steps = self.max_steps.map_or(DEFAULT_MAX_STEPS, u64::from);
        let flops = FLOPS_PER_PARAMETER_AND_WINDOW
            * parameters as f64
            * windows_batch_size as f64
            * max_steps as f64;
        TrainingCost { parameters, windows_batch_size, max_steps, flops }
    }

    /// Refuses a request whose estimated compute exceeds `max_flops`, saying what to lower.
    pub fn check_budget(&self, max_flops: f64) -> Result<TrainingCost, String> {
        let cost = self.cost();
        if cost.flops <= max_flops {
            return Ok(cost);
        }
        let per_step = cost.flops / cost.max_steps as f64;
        let steps_allowed = (max_flops / per_step).floor() as u64;
        let lower_steps = if steps_allowed >= 1 {
            format!("max_steps to at most {steps_allowed}, or ")
        } else {
            String::new()
        };
        Err(format!(
            "this training needs about {:.2e} FLOPs ({:.1} M parameters x {} windows per step x {} \
             steps x 6), over the budget of {max_flops:.2e} (MAX_TRAINING_FLOPS): lower \
             {lower_steps}windows_batch_size, input_size or mlp_width",
            cost.flops,
            cost.parameters as f64 / 1e6,
            cost.windows_batch_size,
            cost.max_steps,
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::job::{JobSpec, parse_submission};

    fn training(input: serde_json::Value) -> TrainingInput {
        let body = json!({"kind": "training", "input": input});
        let now = "2026-01-01T00:00:00Z".parse().unwrap();
        match parse_submission(&body, now).unwrap() {
            JobSpec::Training(t) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_default_model_has_neuralforecasts_parameter_count_and_fits_the_default_budget() {
        let t = training(
            json!({"symbol": "EURUSD", "model": "nhits", "horizon": 24, "input_size": 120}),
        );
        let cost = t.cost();
        assert_eq!(cost.parameters, 2_694_546);
        assert!((cost.flops - 6.0 * 2_694_546.0 * 1024.0 * 1000.0).abs() < 1.0);
        assert!(t.check_budget(2e14).is_ok());
    }

    #[test]
    fn a_request_over_the_budget_is_told_what_to_lower() {
        let t = training(json!({"symbol": "EURUSD", "model": "nhits", "horizon": 720,
            "input_size": 5000, "mlp_width": 2048, "windows_batch_size": 4096, "max_steps": 10000}));
        let err = t.check_budget(2e14).unwrap_err();
        assert!(err.contains("MAX_TRAINING_FLOPS"), "{err}");
        assert!(err.contains("max_steps to at most"), "{err}");
        let allowed: u64 =
            err.split("at most ").nth(1).unwrap().split(',').next().unwrap().parse().unwrap();
        let mut fits = t.clone();
        fits.max_steps = Some(allowed as u32);
        assert!(fits.check_budget(2e14).is_ok(), "the advice is enough");
        fits.max_steps = Some(allowed as u32 + 1);
        assert!(fits.check_budget(2e14).is_err(), "and not more than needed");
    }
}
