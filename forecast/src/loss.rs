//! NeuralForecast's training loss: masked MAE in scaled space.

use candle_core::{Result, Tensor};

/// `sum(|y - yhat| * mask) / sum(mask)` and its gradient with respect to `yhat`.
/// The gradient of `|e|` is `sign(e)`, 0 at 0, as in torch.
pub(crate) fn masked_mae(
    forecast: &Tensor,
    target: &Tensor,
    mask: &Tensor,
) -> Result<(f32, Tensor)> {
    let mask_sum = mask.sum_all()?.to_scalar::<f32>()?;
    // torch's `_divide_no_nan`: an all-masked batch has loss 0, not NaN.
    let inv = if mask_sum > 0.0 { 1.0 / mask_sum as f64 } else { 0.0 };
    let err = (forecast - target)?;
    let total = (err.abs()? * mask)?.sum_all()?.to_scalar::<f32>()?;
    let loss = if mask_sum > 0.0 { total / mask_sum } else { 0.0 };
    let grad = ((err.sign()? * mask)? * inv)?;
    Ok((loss, grad))
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    fn t(v: &[f32]) -> Tensor {
        Tensor::from_slice(v, (2, 2), &Device::Cpu).unwrap()
    }

    #[test]
    fn masked_points_count_neither_in_the_sum_nor_in_the_mean() {
        // errors 1, -2, 3, (100 masked): (1 + 2 + 3) / 3 = 2.
        let (loss, grad) = masked_mae(
            &t(&[1.0, 0.0, 3.0, 100.0]),
            &t(&[0.0, 2.0, 0.0, 0.0]),
            &t(&[1.0, 1.0, 1.0, 0.0]),
        )
        .unwrap();
        assert_eq!(loss, 2.0);
        let third = (1.0f64 / 3.0) as f32;
        assert_eq!(
            grad.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            vec![third, -third, third, 0.0]
        );
    }

    #[test]
    fn an_exact_forecast_has_zero_gradient() {
        let (loss, grad) = masked_mae(&t(&[1.0; 4]), &t(&[1.0; 4]), &t(&[1.0; 4])).unwrap();
        assert_eq!(loss, 0.0);
        assert_eq!(grad.flatten_all().unwrap().to_vec1::<f32>().unwrap(), vec![0.0; 4]);
    }

    #[test]
    fn a_fully_masked_batch_has_zero_loss() {
        let (loss, _) = masked_mae(&t(&[1.0; 4]), &t(&[0.0; 4]), &t(&[0.0; 4])).unwrap();
        assert_eq!(loss, 0.0);
    }
}
