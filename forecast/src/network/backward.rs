//! Hand-written backward pass of N-HiTS.
//!
//! Autograd would work, but it builds and walks a graph, allocates a zero tensor for every
//! gradient it accumulates and differentiates paths that need no gradient (the data input,
//! the last block's backcast); on two CPU cores that tripled the step time. The network is a
//! fixed stack of linear layers, so the chain rule is written out once here and checked
//! against candle's autograd in the tests.

use candle_core::{Result, Tensor};

use super::forward::{DeviceNet, ForwardCache};
use super::fused::relu_backward;
use super::ops::unpool;

/// Gradients of the loss for every parameter, in `net.params` order, given the gradient of
/// the loss with respect to the scaled forecast `(rows, horizon)`.
pub(crate) fn backward(
    net: &DeviceNet,
    cache: &ForwardCache,
    grad_forecast: &Tensor,
) -> Result<Vec<Tensor>> {
    let arch = &net.arch;
    let n_blocks = arch.blocks.len();
    let mut grads: Vec<Option<Tensor>> = vec![None; net.params.len()];
    // Gradient with respect to the residual that leaves the block being processed.
    let mut grad_residual: Option<Tensor> = None;
    // Bias gradients are column sums; candle's CPU sum over dim 0 walks the tensor with a
    // division per element, a row of ones through gemm is ~20x faster.
    let ones =
        Tensor::ones((1, grad_forecast.dim(0)?), grad_forecast.dtype(), grad_forecast.device())?;
    for b in (0..n_blocks).rev() {
        let block = &arch.blocks[b];
        let saved = &cache.blocks[b];
        let grad_knots = grad_forecast.matmul(&net.interp[b].t()?)?;
        // theta = [backcast | knots]; the residual leaving the block is input - backcast.
        let mut g = match &grad_residual {
            None => grad_knots,
            Some(gr) => Tensor::cat(&[&gr.neg()?, &grad_knots], 1)?,
        };
        let n_layers = block.layers.len();
        for j in (0..n_layers).rev() {
            let input = if j == 0 { &saved.pooled } else { &saved.hidden[j - 1] };
            let (w, _) = net.layer(b, j)?;
            let i = net.weight_index(b, j);
            let (gw, gb) = (g.t()?.matmul(input)?, ones.matmul(&g)?.squeeze(0)?);
            let (gw, gb) = if gw.dim(0)? < block.layers[j].1 {
                pad_backcast_rows(arch.input_size, &gw, &gb)?
            } else {
                (gw, gb)
            };
            grads[i] = Some(gw);
            grads[i + 1] = Some(gb);
            if j > 0 {
                g = g.matmul(&w)?;
                if j >= 2 {
                    g = relu_backward(g, &saved.hidden[j - 1], net.fused)?;
                }
            } else if b > 0 {
                // Future inputs are data: only the pooled residual's columns carry on.
                let grad_pooled = g.matmul(&w)?.narrow(1, 0, block.pooled_len)?;
                let grad_input = match &saved.onehot {
                    Some(onehot) => unpool(&grad_pooled, onehot, arch.input_size)?,
                    None => grad_pooled,
                };
                grad_residual = Some(match grad_residual {
                    Some(gr) => (gr + grad_input)?,
                    None => grad_input,
                });
            }
        }
    }
    Ok(grads.into_iter().map(|g| g.expect("every parameter gets a gradient")).collect())
}

/// The last block's backcast rows get no gradient, exactly as in torch (their output is
/// never used); put zeros back in front of the knot rows.
fn pad_backcast_rows(input_size: usize, gw: &Tensor, gb: &Tensor) -> Result<(Tensor, Tensor)> {
    let fan_in = gw.dim(1)?;
    let zw = Tensor::zeros((input_size, fan_in), gw.dtype(), gw.device())?;
    let zb = Tensor::zeros(input_size, gb.dtype(), gb.device())?;
    Ok((Tensor::cat(&[&zw, gw], 0)?, Tensor::cat(&[&zb, gb], 0)?))
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::NHitsConfig;
    use crate::network::{Architecture, HostParams};

    /// The hand-written gradients equal candle's autograd through the same forward pass.
    fn check(cfg: NHitsConfig) {
        let dev = Device::Cpu;
        let arch = Architecture::from_config(&cfg);
        let arch_futr = arch.futr_features;
        let host = HostParams::init(&arch, &mut ChaCha8Rng::seed_from_u64(3));
        let (rows, l, h) = (8, cfg.input_size, cfg.horizon);
        let reversed = Tensor::randn(0f32, 1.0, (rows, l), &dev).unwrap();
        let level = reversed.narrow(1, 0, 1).unwrap();
        let target = Tensor::randn(0f32, 1.0, (rows, h), &dev).unwrap();
        let futr =
            (arch_futr > 0).then(|| Tensor::randn(0f32, 1.0, (rows, arch_futr * h), &dev).unwrap());

        let mut net = DeviceNet::new(arch, &host, &dev).unwrap();
        let mut cache = ForwardCache::default();
        let f = net.forward(&reversed, &level, futr.as_ref(), Some(&mut cache)).unwrap();
        // Loss = sum((f - y)^2) / 2, whose gradient is f - y.
        let grad_f = (&f - &target).unwrap();
        let ours = backward(&net, &cache, &grad_f).unwrap();

        let vars: Vec<Var> = net.params.iter().map(|t| Var::from_tensor(t).unwrap()).collect();
        net.params = vars.iter().map(|v| v.as_tensor().clone()).collect();
        net.fused = false;
        let f = net.forward(&reversed, &level, futr.as_ref(), None).unwrap();
        let loss = ((&f - &target).unwrap().sqr().unwrap().sum_all().unwrap() * 0.5).unwrap();
        let auto = loss.backward().unwrap();
        for (i, v) in vars.iter().enumerate() {
            let a =
                auto.get(v.as_tensor()).map(|g| g.flatten_all().unwrap().to_vec1::<f32>().unwrap());
            let a = a.unwrap_or_else(|| vec![0.0; v.as_tensor().elem_count()]);
            let o = ours[i].flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let scale = a.iter().fold(1e-3f32, |m, x| m.max(x.abs()));
            let worst = a.iter().zip(&o).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
            assert!(worst <= 1e-4 * scale, "tensor {i}: max diff {worst} (scale {scale})");
        }
    }

    fn small(horizon: usize, input_size: usize) -> NHitsConfig {
        NHitsConfig { mlp_units: vec![[16, 16]; 2], ..NHitsConfig::new(horizon, input_size) }
    }

    #[test]
    fn gradients_match_autograd_for_even_pooling() {
        check(small(6, 12));
    }

    #[test]
    fn gradients_match_autograd_with_calendar_inputs() {
        check(NHitsConfig { exog: true, n_pool_kernel_size: vec![4, 2, 1], ..small(6, 12) });
    }

    #[test]
    fn gradients_match_autograd_with_ceil_mode_pooling_and_one_knot() {
        check(NHitsConfig { n_pool_kernel_size: vec![3, 2, 1], ..small(3, 13) });
    }
}
