//! N-HiTS forecasts at given origins, in price space.

use candle_core::{Result, Tensor};

use crate::ScalerKind;
use crate::network::DeviceNet;
use crate::windows::{FutrInputs, HostBatch};

/// Rows per forward pass when forecasting many origins (bounds memory, not results).
const CHUNK: usize = 1024;

/// Forecast of bars `t0 .. t0 + h` from bars `t0 - L .. t0` for every origin `t0`
/// (`series` in float32 as the model saw it; each origin must be `>= L`; `futr` covers the
/// bars up to the last origin + h when the model reads calendar inputs).
pub(crate) fn predict_at(
    net: &DeviceNet,
    series: &[f32],
    origins: &[usize],
    kind: ScalerKind,
    futr: Option<FutrInputs<'_>>,
) -> Result<Vec<Vec<f64>>> {
    FixedBatch::new(net, series, origins, kind, futr)?.predict(net)
}

/// The validation (or any fixed) set of origins, uploaded once and scored many times.
pub(crate) struct FixedBatch {
    host: HostBatch,
    /// `(reversed, level, futr)` per chunk of at most `CHUNK` rows.
    chunks: Vec<(Tensor, Tensor, Option<Tensor>)>,
}

impl FixedBatch {
    pub(crate) fn new(
        net: &DeviceNet,
        series: &[f32],
        origins: &[usize],
        kind: ScalerKind,
        futr: Option<FutrInputs<'_>>,
    ) -> Result<Self> {
        let (l, h) = (net.arch.input_size, net.arch.horizon);
        let futr = futr.filter(|_| net.arch.futr_features > 0);
        let host = HostBatch::for_origins(series, origins, (l, h), kind, futr);
        let per_row = net.arch.futr_features * h;
        let mut chunks = Vec::new();
        for start in (0..host.rows).step_by(CHUNK) {
            let rows = CHUNK.min(host.rows - start);
            let reversed = &host.reversed[start * l..(start + rows) * l];
            let level = &host.level[start..start + rows];
            let futr = if host.futr.is_empty() {
                None
            } else {
                let part = &host.futr[start * per_row..(start + rows) * per_row];
                Some(Tensor::from_slice(part, (rows, per_row), &net.device)?)
            };
            chunks.push((
                Tensor::from_slice(reversed, (rows, l), &net.device)?,
                Tensor::from_slice(level, (rows, 1), &net.device)?,
                futr,
            ));
        }
        Ok(Self { host, chunks })
    }

    pub(crate) fn predict(&self, net: &DeviceNet) -> Result<Vec<Vec<f64>>> {
        let mut scaled = Vec::with_capacity(self.host.rows);
        for (reversed, level, futr) in &self.chunks {
            scaled.extend(net.forward(reversed, level, futr.as_ref(), None)?.to_vec2::<f32>()?);
        }
        Ok(scaled
            .into_iter()
            .zip(&self.host.scales)
            .map(|(row, s)| row.into_iter().map(|z| s.invert(z) as f64).collect())
            .collect())
    }
}
