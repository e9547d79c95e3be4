//! The N-HiTS network: its shape, its parameters on the host, and the device-side passes.

mod backward;
mod forward;
mod fused;
mod ops;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::NHitsConfig;

pub(crate) use backward::backward;
pub(crate) use forward::{DeviceNet, ForwardCache};

/// One stack (one block): pooled input length, knots, and its linear layers as
/// `(fan_in, fan_out)`, the first without an activation after it, the last producing theta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockShape {
    pub pool_kernel: usize,
    pub pooled_len: usize,
    /// Pooled future calendar inputs appended to the MLP's input (`features * ceil(h / k)`).
    #[serde(default)]
    pub futr_len: usize,
    pub knots: usize,
    pub layers: Vec<(usize, usize)>,
}

/// Everything that fixes the tensors' shapes; saved in `model.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Architecture {
    pub input_size: usize,
    pub horizon: usize,
    /// Known-future inputs per forecast bar (calendar features; 0 without them).
    #[serde(default)]
    pub futr_features: usize,
    pub blocks: Vec<BlockShape>,
}

impl Architecture {
    /// NeuralForecast's NHITS: knots `max(h / f, 1)`, pooled length `ceil(L / k)`,
    /// MLP `Linear(pooled, u0) -> [Linear(u) -> ReLU]* -> Linear(last, L + knots)`.
    ///
    /// With calendar inputs (`exog`), each block also reads the forecast window's calendar
    /// features, max-pooled with the block's kernel as NeuralForecast pools `futr_exog`, and
    /// concatenated after the pooled input. Unlike NeuralForecast we give only the `h` future
    /// bars' features, not the input window's: the model reads those bars themselves, and it
    /// keeps the first layer `L`-independent in the features' cost.
    pub fn from_config(cfg: &NHitsConfig) -> Self {
        let (l, h) = (cfg.input_size, cfg.horizon);
        let futr_features = if cfg.exog { crate::calendar::FEATURES } else { 0 };
        let blocks = cfg
            .n_pool_kernel_size
            .iter()
            .zip(&cfg.n_freq_downsample)
            .map(|(&k, &f)| {
                let pooled_len = l.div_ceil(k);
                let futr_len = futr_features * h.div_ceil(k);
                let knots = (h / f).max(1);
                let mut layers = vec![(pooled_len + futr_len, cfg.mlp_units[0][0])];
                layers.extend(cfg.mlp_units.iter().map(|&[i, o]| (i, o)));
                layers.push((cfg.mlp_units[cfg.mlp_units.len() - 1][1], l + knots));
                BlockShape { pool_kernel: k, pooled_len, futr_len, knots, layers }
            })
            .collect();
        Self { input_size: l, horizon: h, futr_features, blocks }
    }

    /// Names and shapes of every tensor, weight then bias per layer, in a fixed order.
    /// Names follow NeuralForecast's `state_dict` (`blocks.0.layers.3.weight`): in its
    /// `nn.Sequential` a ReLU follows every linear layer but the first and the last.
    pub fn tensors(&self) -> Vec<(String, Vec<usize>)> {
        let mut out = Vec::new();
        for (b, block) in self.blocks.iter().enumerate() {
            for (j, &(fan_in, fan_out)) in block.layers.iter().enumerate() {
                let seq = if j == 0 { 0 } else { 2 * j - 1 };
                out.push((format!("blocks.{b}.layers.{seq}.weight"), vec![fan_out, fan_in]));
                out.push((format!("blocks.{b}.layers.{seq}.bias"), vec![fan_out]));
            }
        }
        out
    }

    pub fn parameter_count(&self) -> usize {
        self.tensors().iter().map(|(_, shape)| shape.iter().product::<usize>()).sum()
    }
}

/// The parameters on the host, one flat row-major buffer per tensor of
/// [`Architecture::tensors`]. Adam updates them here; each step uploads them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HostParams {
    pub(crate) shapes: Vec<Vec<usize>>,
    pub(crate) values: Vec<Vec<f32>>,
}

impl HostParams {
    /// PyTorch's default `nn.Linear` init: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    /// drawn layer by layer, weight before bias.
    pub(crate) fn init(arch: &Architecture, rng: &mut impl Rng) -> Self {
        let shapes: Vec<Vec<usize>> = arch.tensors().into_iter().map(|(_, s)| s).collect();
        let mut values = Vec::with_capacity(shapes.len());
        for pair in shapes.chunks(2) {
            let fan_in = pair[0][1];
            let bound = 1.0 / (fan_in as f32).sqrt();
            for shape in pair {
                let n: usize = shape.iter().product();
                values.push((0..n).map(|_| rng.random_range(-bound..bound)).collect());
            }
        }
        Self { shapes, values }
    }

    pub(crate) fn zeros_like(&self) -> Self {
        let values = self.values.iter().map(|v| vec![0.0; v.len()]).collect();
        Self { shapes: self.shapes.clone(), values }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn eurusd_and_goog_configurations_have_neuralforecasts_parameter_counts() {
        assert_eq!(
            Architecture::from_config(&NHitsConfig::new(24, 120)).parameter_count(),
            2_694_546
        );
        assert_eq!(
            Architecture::from_config(&NHitsConfig::new(5, 60)).parameter_count(),
            2_523_324
        );
    }

    #[test]
    fn knots_and_pooled_lengths_match_the_protocol_table() {
        let eur = Architecture::from_config(&NHitsConfig::new(24, 120));
        let goog = Architecture::from_config(&NHitsConfig::new(5, 60));
        let knots = |a: &Architecture| a.blocks.iter().map(|b| b.knots).collect::<Vec<_>>();
        let pooled = |a: &Architecture| a.blocks.iter().map(|b| b.pooled_len).collect::<Vec<_>>();
        assert_eq!((knots(&eur), pooled(&eur)), (vec![6, 12, 24], vec![60, 60, 120]));
        assert_eq!((knots(&goog), pooled(&goog)), (vec![1, 2, 5], vec![30, 30, 60]));
        // Odd input with kernel 2 pools with ceil_mode: 7 -> 4.
        assert_eq!(Architecture::from_config(&NHitsConfig::new(4, 7)).blocks[0].pooled_len, 4);
    }

    #[test]
    fn tensor_names_follow_the_neuralforecast_state_dict() {
        let names: Vec<String> = Architecture::from_config(&NHitsConfig::new(24, 120))
            .tensors()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names.len(), 30);
        assert_eq!(names[0], "blocks.0.layers.0.weight");
        assert_eq!(names[2], "blocks.0.layers.1.weight");
        assert_eq!(names[9], "blocks.0.layers.7.bias");
    }

    #[test]
    fn init_draws_within_one_over_root_fan_in() {
        let arch = Architecture::from_config(&NHitsConfig::new(24, 120));
        let params = HostParams::init(&arch, &mut ChaCha8Rng::seed_from_u64(1));
        let bound0 = 1.0 / 60f32.sqrt();
        assert!(params.values[0].iter().chain(&params.values[1]).all(|w| w.abs() <= bound0));
        assert!(params.values[0].iter().any(|w| w.abs() > 0.9 * bound0));
        let bound1 = 1.0 / 512f32.sqrt();
        assert!(params.values[2].iter().all(|w| w.abs() <= bound1));
        let again = HostParams::init(&arch, &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(params, again);
    }
}
