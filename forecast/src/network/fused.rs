//! In-place elementwise steps of the MLPs on the CPU: bias (+ ReLU) after a matmul, and the
//! ReLU mask of a gradient.
//!
//! Candle's generic ops would allocate a fresh 1024 x 512 tensor per op (two passes for bias
//! then ReLU, two for the mask) and hand each to its own thread pool, whose spinning workers
//! then compete with gemm's rayon workers for the two cores. Done in place, in one pass, on
//! the calling thread, they cost a fraction of a millisecond each. Other devices, and autograd
//! (which cannot see in-place writes), use the generic ops.

use candle_core::{CpuStorage, Layout, Result, Tensor, bail};

/// `z += bias` (broadcast over rows), then `max(z, 0)` when `relu`. `z` is `(rows, cols)`.
pub(crate) fn add_bias(z: Tensor, bias: &Tensor, relu: bool, fused: bool) -> Result<Tensor> {
    if fused && z.device().is_cpu() && z.is_contiguous() && bias.is_contiguous() {
        z.inplace_op2(bias, &BiasAct { relu })?;
        return Ok(z);
    }
    let z = z.broadcast_add(bias)?;
    if relu { z.relu() } else { Ok(z) }
}

/// Gradient through a ReLU from its output `h`: `grad` where `h > 0`, else 0 (torch's
/// `threshold_backward`).
pub(crate) fn relu_backward(grad: Tensor, h: &Tensor, fused: bool) -> Result<Tensor> {
    if fused && grad.device().is_cpu() && grad.is_contiguous() && h.is_contiguous() {
        grad.inplace_op2(h, &ReluMask)?;
        return Ok(grad);
    }
    grad * h.sign()?
}

fn f32_slice<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> Result<&'a [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&v[a..b]),
        _ => bail!("{what}: expected a contiguous f32 tensor"),
    }
}

fn f32_slice_mut<'a>(s: &'a mut CpuStorage, l: &Layout, what: &str) -> Result<&'a mut [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&mut v[a..b]),
        _ => bail!("{what}: expected a contiguous f32 tensor"),
    }
}

struct BiasAct {
    relu: bool,
}

impl candle_core::InplaceOp2 for BiasAct {
    fn name(&self) -> &'static str {
        "bias-act"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<()> {
        let bias = f32_slice(s2, l2, "bias")?;
        let z = f32_slice_mut(s1, l1, "bias-act")?;
        if bias.is_empty() || z.len() % bias.len() != 0 {
            bail!("bias-act: {} values do not split into rows of {}", z.len(), bias.len());
        }
        for row in z.chunks_exact_mut(bias.len()) {
            for (v, b) in row.iter_mut().zip(bias) {
                let x = *v + b;
                *v = if self.relu { x.max(0.0) } else { x };
            }
        }
        Ok(())
    }
}

struct ReluMask;

impl candle_core::InplaceOp2 for ReluMask {
    fn name(&self) -> &'static str {
        "relu-mask"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<()> {
        let h = f32_slice(s2, l2, "relu output")?;
        let g = f32_slice_mut(s1, l1, "relu-mask")?;
        if g.len() != h.len() {
            bail!("relu-mask: gradient has {} values, output {}", g.len(), h.len());
        }
        // A select rather than a branch: it vectorises, and half the outputs are zero.
        for (g, &h) in g.iter_mut().zip(h) {
            *g = if h > 0.0 { *g } else { 0.0 };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    fn t(v: &[f32], shape: (usize, usize)) -> Tensor {
        Tensor::from_slice(v, shape, &Device::Cpu).unwrap()
    }

    #[test]
    fn bias_is_added_to_every_row_and_relu_clamps_negatives() {
        let bias = Tensor::from_slice(&[1.0f32, -5.0], 2, &Device::Cpu).unwrap();
        for fused in [true, false] {
            let z = add_bias(t(&[1.0, 2.0, 3.0, 4.0], (2, 2)), &bias, true, fused).unwrap();
            assert_eq!(z.to_vec2::<f32>().unwrap(), vec![vec![2.0, 0.0], vec![4.0, 0.0]]);
            let z = add_bias(t(&[1.0, 2.0, 3.0, 4.0], (2, 2)), &bias, false, fused).unwrap();
            assert_eq!(z.to_vec2::<f32>().unwrap(), vec![vec![2.0, -3.0], vec![4.0, -1.0]]);
        }
    }

    #[test]
    fn relu_backward_passes_the_gradient_only_where_the_output_is_positive() {
        for fused in [true, false] {
            let h = t(&[0.5, 0.0, 0.0, 2.0], (2, 2));
            let g = relu_backward(t(&[1.0, 2.0, 3.0, 4.0], (2, 2)), &h, fused).unwrap();
            assert_eq!(g.to_vec2::<f32>().unwrap(), vec![vec![1.0, 0.0], vec![0.0, 4.0]]);
        }
    }
}
