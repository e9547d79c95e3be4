//! N-HiTS's two non-MLP pieces: MaxPool1d with `ceil_mode` and linear knot interpolation.

use candle_core::{D, DType, Device, Result, Tensor};

/// `F.interpolate(mode='linear', align_corners=False)` from `knots` values to `horizon`
/// values, as a `(knots, horizon)` matrix so that `forecast = knots_row @ matrix`.
/// Computed in float32 like torch: `src = max((i + 0.5) * knots / horizon - 0.5, 0)`.
pub(crate) fn interpolation_matrix(knots: usize, horizon: usize) -> Vec<f32> {
    let mut m = vec![0.0f32; knots * horizon];
    let scale = knots as f32 / horizon as f32;
    for i in 0..horizon {
        let src = (scale * (i as f32 + 0.5) - 0.5).max(0.0);
        let i0 = (src as usize).min(knots - 1);
        let i1 = (i0 + 1).min(knots - 1);
        let w1 = src - i0 as f32;
        m[i0 * horizon + i] += 1.0 - w1;
        m[i1 * horizon + i] += w1;
    }
    m
}

/// `MaxPool1d(k, stride=k, ceil_mode=True)` over the last dim of a `(rows, len)` tensor.
/// With `track` it also returns a `(rows, pooled, k)` one-hot of the first maximum of every
/// window, which is where torch sends the gradient.
pub(crate) fn max_pool(x: &Tensor, k: usize, track: bool) -> Result<(Tensor, Option<Tensor>)> {
    if k == 1 {
        return Ok((x.clone(), None));
    }
    let (rows, len) = x.dims2()?;
    let pooled = len.div_ceil(k);
    // ceil_mode: the last, partial window takes the max of the bars it has; -inf never wins.
    let x = if pooled * k > len {
        let pad = Tensor::full(f32::NEG_INFINITY, (rows, pooled * k - len), x.device())?;
        Tensor::cat(&[x, &pad], 1)?
    } else {
        x.clone()
    };
    let windows = x.reshape((rows, pooled, k))?;
    let out = windows.max(D::Minus1)?;
    if !track {
        return Ok((out, None));
    }
    let first_max = windows.argmax_keepdim(D::Minus1)?;
    let lanes = Tensor::arange(0u32, k as u32, x.device())?.reshape((1, 1, k))?;
    let onehot = first_max.broadcast_eq(&lanes)?.to_dtype(DType::F32)?;
    Ok((out, Some(onehot)))
}

/// Sends the gradient of the pooled values back to the maxima they came from.
pub(crate) fn unpool(grad: &Tensor, onehot: &Tensor, len: usize) -> Result<Tensor> {
    let (rows, pooled, k) = onehot.dims3()?;
    let spread = onehot.broadcast_mul(&grad.unsqueeze(2)?)?.reshape((rows, pooled * k))?;
    if pooled * k == len { Ok(spread) } else { spread.narrow(1, 0, len)?.contiguous() }
}

/// The interpolation matrix of every block, uploaded once.
pub(crate) fn interpolation_tensor(
    knots: usize,
    horizon: usize,
    device: &Device,
) -> Result<Tensor> {
    Tensor::from_vec(interpolation_matrix(knots, horizon), (knots, horizon), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interpolate(knots: &[f32], horizon: usize) -> Vec<f32> {
        let m = interpolation_matrix(knots.len(), horizon);
        (0..horizon)
            .map(|i| knots.iter().enumerate().map(|(k, v)| v * m[k * horizon + i]).sum())
            .collect()
    }

    fn row(v: &[f32]) -> Tensor {
        Tensor::from_slice(v, (1, v.len()), &Device::Cpu).unwrap()
    }

    #[test]
    fn interpolation_of_two_knots_to_four_matches_torch() {
        // torch: F.interpolate([[[0., 4.]]], size=4, mode='linear') = [0, 1, 3, 4]
        // src = max((i + .5) * .5 - .5, 0) = 0, .25, .75, 1.25 (clamped to the last knot).
        assert_eq!(interpolate(&[0.0, 4.0], 4), vec![0.0, 1.0, 3.0, 4.0]);
    }

    #[test]
    fn interpolation_of_six_knots_to_twenty_four_holds_knots_at_the_quarter_points() {
        let knots: Vec<f32> = (0..6).map(|v| (v * 4) as f32).collect();
        let out = interpolate(&knots, 24);
        // src(i) = (i + .5) / 4 - .5: i = 0, 1 clamp to 0; i = 2 -> .125 -> 0.5; i = 6 -> 1.125
        // -> 4.5; i = 21 -> 4.875 -> 19.5; i = 22, 23 are past the last knot -> 20.
        assert_eq!(&out[..3], &[0.0, 0.0, 0.5]);
        assert_eq!(out[6], 4.5);
        assert_eq!(&out[21..], &[19.5, 20.0, 20.0]);
    }

    #[test]
    fn interpolation_of_one_knot_is_a_constant_and_of_h_knots_the_identity() {
        assert_eq!(interpolate(&[3.5], 5), vec![3.5; 5]);
        assert_eq!(interpolate(&[1.0, 2.0, 3.0], 3), vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn max_pool_with_ceil_mode_keeps_the_partial_last_window() {
        let (out, _) = max_pool(&row(&[1.0, 3.0, 2.0, 5.0, 4.0]), 2, false).unwrap();
        assert_eq!(out.to_vec2::<f32>().unwrap(), vec![vec![3.0, 5.0, 4.0]]);
        let (out, _) = max_pool(&row(&[-1.0, -3.0, -2.0, -5.0]), 3, false).unwrap();
        assert_eq!(out.to_vec2::<f32>().unwrap(), vec![vec![-1.0, -5.0]]);
    }

    #[test]
    fn max_pool_with_kernel_one_is_the_identity() {
        let (out, onehot) = max_pool(&row(&[1.0, 2.0]), 1, true).unwrap();
        assert_eq!(out.to_vec2::<f32>().unwrap(), vec![vec![1.0, 2.0]]);
        assert!(onehot.is_none());
    }

    #[test]
    fn unpool_sends_the_gradient_to_the_first_maximum_only() {
        let (_, onehot) = max_pool(&row(&[2.0, 2.0, 1.0, 7.0, 9.0]), 2, true).unwrap();
        let grad = unpool(&row(&[10.0, 20.0, 30.0]), &onehot.unwrap(), 5).unwrap();
        assert_eq!(grad.to_vec2::<f32>().unwrap(), vec![vec![10.0, 0.0, 0.0, 20.0, 30.0]]);
    }
}
