//! N-HiTS's forward pass on the device, optionally keeping what the backward pass needs.

use candle_core::{Device, Result, Tensor};

use super::fused::add_bias;
use super::ops::{interpolation_tensor, max_pool};
use super::{Architecture, HostParams};

/// The network on a device: its shape, its uploaded parameters and interpolation matrices.
pub(crate) struct DeviceNet {
    pub(crate) arch: Architecture,
    pub(crate) device: Device,
    pub(crate) params: Vec<Tensor>,
    pub(crate) interp: Vec<Tensor>,
    /// Use the in-place CPU kernels of `fused` (off only to check gradients with autograd).
    pub(crate) fused: bool,
}

/// Activations of one block kept for the backward pass.
pub(crate) struct BlockCache {
    /// Input of the first linear layer: the pooled residual, then any pooled future inputs.
    pub(crate) pooled: Tensor,
    /// Where each pooled value came from (absent for kernel 1 and for block 0, whose input
    /// is data and needs no gradient).
    pub(crate) onehot: Option<Tensor>,
    /// Output of every linear layer but the last (after the ReLU where there is one).
    pub(crate) hidden: Vec<Tensor>,
}

#[derive(Default)]
pub(crate) struct ForwardCache {
    pub(crate) blocks: Vec<BlockCache>,
}

impl DeviceNet {
    pub(crate) fn new(arch: Architecture, params: &HostParams, device: &Device) -> Result<Self> {
        let interp = arch
            .blocks
            .iter()
            .map(|b| interpolation_tensor(b.knots, arch.horizon, device))
            .collect::<Result<_>>()?;
        let mut net =
            Self { arch, device: device.clone(), params: Vec::new(), interp, fused: true };
        net.upload(params)?;
        Ok(net)
    }

    pub(crate) fn upload(&mut self, host: &HostParams) -> Result<()> {
        self.params = host
            .values
            .iter()
            .zip(&host.shapes)
            .map(|(v, s)| Tensor::from_slice(v, s.as_slice(), &self.device))
            .collect::<Result<_>>()?;
        Ok(())
    }

    /// Index of layer `layer` of block `block`'s weight in `params`; its bias follows it.
    pub(crate) fn weight_index(&self, block: usize, layer: usize) -> usize {
        2 * (self.arch.blocks[..block].iter().map(|b| b.layers.len()).sum::<usize>() + layer)
    }

    /// Weight and bias of a layer. The last block's backcast never reaches the loss or the
    /// forecast, so its output layer is cut to the knot rows: same result, fewer FLOPs.
    pub(crate) fn layer(&self, block: usize, layer: usize) -> Result<(Tensor, Tensor)> {
        let i = self.weight_index(block, layer);
        let (w, b) = (&self.params[i], &self.params[i + 1]);
        let last_block = block + 1 == self.arch.blocks.len();
        if last_block && layer + 1 == self.arch.blocks[block].layers.len() {
            let (l, k) = (self.arch.input_size, self.arch.blocks[block].knots);
            Ok((w.narrow(0, l, k)?, b.narrow(0, l, k)?))
        } else {
            Ok((w.clone(), b.clone()))
        }
    }

    /// Forecast in scaled space, `(rows, horizon)`, from the scaled input windows newest bar
    /// first `(rows, input)`, their newest scaled bar `(rows, 1)` and, for a model with
    /// calendar inputs, the forecast bars' features `(rows, features * horizon)`, feature-major.
    pub(crate) fn forward(
        &self,
        reversed: &Tensor,
        level: &Tensor,
        futr: Option<&Tensor>,
        mut cache: Option<&mut ForwardCache>,
    ) -> Result<Tensor> {
        let futr = match (futr, self.arch.futr_features) {
            (_, 0) => None,
            (Some(x), f) => Some(x.reshape((x.dim(0)? * f, self.arch.horizon))?),
            (None, _) => {
                return Err(candle_core::Error::Msg(
                    "this model reads calendar inputs and none were given".into(),
                ));
            }
        };
        let l = self.arch.input_size;
        let n_blocks = self.arch.blocks.len();
        let mut residual = reversed.clone();
        let mut forecast: Option<Tensor> = None;
        for (b, block) in self.arch.blocks.iter().enumerate() {
            let track = cache.is_some() && b > 0;
            let (pooled, onehot) = max_pool(&residual, block.pool_kernel, track)?;
            let pooled = match &futr {
                Some(x) => {
                    let (p, _) = max_pool(x, block.pool_kernel, false)?;
                    Tensor::cat(&[&pooled, &p.reshape((pooled.dim(0)?, block.futr_len))?], 1)?
                }
                None => pooled,
            };
            let n_layers = block.layers.len();
            let mut hidden = Vec::with_capacity(n_layers - 1);
            let mut a = pooled.clone();
            for j in 0..n_layers {
                let (w, bias) = self.layer(b, j)?;
                // NeuralForecast puts no activation after the first linear layer.
                let relu = j > 0 && j + 1 < n_layers;
                a = add_bias(a.matmul(&w.t()?)?, &bias, relu, self.fused)?;
                if cache.is_some() && j + 1 < n_layers {
                    hidden.push(a.clone());
                }
            }
            let theta = a;
            let last = b + 1 == n_blocks;
            // CUDA's matmul wants a contiguous lhs; the copy is 1024 x knots floats.
            let knots =
                if last { theta.clone() } else { theta.narrow(1, l, block.knots)?.contiguous()? };
            let block_forecast = knots.matmul(&self.interp[b])?;
            forecast = Some(match forecast {
                None => block_forecast.broadcast_add(level)?,
                Some(f) => (f + block_forecast)?,
            });
            if !last {
                // NeuralForecast multiplies by the input mask here; our inputs are always
                // complete windows, so the mask is all ones.
                residual = (residual - theta.narrow(1, 0, l)?)?;
            }
            if let Some(c) = cache.as_deref_mut() {
                c.blocks.push(BlockCache { pooled, onehot, hidden });
            }
        }
        Ok(forecast.expect("an architecture has at least one block"))
    }
}
