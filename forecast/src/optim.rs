//! Adam, as torch.optim.Adam computes it (float32, no weight decay), on host buffers.
//!
//! The parameters live on the host and are uploaded once per step: one pass over 2.7 M
//! floats here is cheaper than the dozen temporary tensors a tensor-op Adam allocates per
//! parameter, and it keeps best-weight snapshots and saving trivial on any device.

use crate::network::HostParams;

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f32 = 1e-8;

pub(crate) struct Adam {
    step: i32,
    m: HostParams,
    v: HostParams,
}

impl Adam {
    pub(crate) fn new(params: &HostParams) -> Self {
        Self { step: 0, m: params.zeros_like(), v: params.zeros_like() }
    }

    /// One update with learning rate `lr`; `grads` are in `params` order.
    pub(crate) fn step(&mut self, params: &mut HostParams, grads: &[Vec<f32>], lr: f64) {
        self.step += 1;
        // Scalars are Python floats in torch, cast to float32 inside the kernels.
        let bias_correction1 = 1.0 - BETA1.powi(self.step);
        let bias_correction2_sqrt = (1.0 - BETA2.powi(self.step)).sqrt() as f32;
        let step_size = (lr / bias_correction1) as f32;
        let (w1, b2, w2) = ((1.0 - BETA1) as f32, BETA2 as f32, (1.0 - BETA2) as f32);
        for (((p, g), m), v) in
            params.values.iter_mut().zip(grads).zip(&mut self.m.values).zip(&mut self.v.values)
        {
            for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *m += w1 * (g - *m); // exp_avg.lerp_(grad, 1 - beta1)
                *v = *v * b2 + w2 * g * g; // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
                let denom = v.sqrt() / bias_correction2_sqrt + EPS;
                *p -= step_size * (*m / denom);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(value: f32) -> HostParams {
        HostParams { shapes: vec![vec![1]], values: vec![vec![value]] }
    }

    #[test]
    fn first_step_moves_every_parameter_by_the_learning_rate_against_the_gradient() {
        // After one step m_hat = g and v_hat = g^2, so the update is lr * g / (|g| + eps).
        let mut p = one(1.0);
        let mut adam = Adam::new(&p);
        adam.step(&mut p, &[vec![0.5]], 1e-3);
        assert!((p.values[0][0] - (1.0 - 1e-3)).abs() < 1e-7, "{}", p.values[0][0]);
    }

    #[test]
    fn a_zero_gradient_leaves_the_parameter_alone() {
        let mut p = one(2.0);
        let mut adam = Adam::new(&p);
        adam.step(&mut p, &[vec![0.0]], 1e-3);
        assert_eq!(p.values[0][0], 2.0);
    }

    #[test]
    fn second_step_matches_torch() {
        // torch: p = tensor([1.]); Adam(lr=0.1); grads 1.0 then -1.0 -> p = 0.9 then 0.9 + 0.1 * ...
        // m2 = 0.9*0.1 + 0.1*(-1) = -0.01 -> m_hat = -0.01/0.19; v2 = 0.999*0.001 + 0.001 = 0.001999
        // -> v_hat = 0.001999/0.001999 = 1; update = 0.1 * (-0.0526316) / 1 = -0.00526316.
        let mut p = one(1.0);
        let mut adam = Adam::new(&p);
        adam.step(&mut p, &[vec![1.0]], 0.1);
        adam.step(&mut p, &[vec![-1.0]], 0.1);
        assert!((p.values[0][0] - (0.9 + 0.005_263_16)).abs() < 1e-6, "{}", p.values[0][0]);
    }
}
