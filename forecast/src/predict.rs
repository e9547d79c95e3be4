//! N-HiTS forecasts at given origins, in price space.

use candle_core::{Result, Tensor};

use crate::ScalerKind;
use crate::network::DeviceNet;
use crate::windows::HostBatch;

/// Rows per forward pass when forecasting many origins (bounds memory, not results).
const CHUNK: usize = 1024;

/// Forecast of bars `t0 .. t0 + h` from bars `t0 - L .. t0` for every origin `t0`
/// (`series` in float32 as the model saw it; each origin must be `>= L`).
pub(crate) fn predict_at(
    net: &DeviceNet,
    series: &[f32],
    origins: &[usize],
    kind: ScalerKind,
) -> Result<Vec<Vec<f64>>> {
    FixedBatch::new(net, series, origins, kind)?.predict(net)
}

/// The validation (or any fixed) set of origins, uploaded once and scored many times.
pub(crate) struct FixedBatch {
    host: HostBatch,
    /// `(reversed, level)` per chunk of at most `CHUNK` rows.
    chunks: Vec<(Tensor, Tensor)>,
}

impl FixedBatch {
    pub(crate) fn new(
        net: &DeviceNet,
        series: &[f32],
        origins: &[usize],
        kind: ScalerKind,
    ) -> Result<Self> {
        let l = net.arch.input_size;
        let host = HostBatch::for_origins(series, origins, l, kind);
        let chunks = host
            .reversed
            .chunks(CHUNK * l)
            .zip(host.level.chunks(CHUNK))
            .map(|(rev, level)| {
                let rows = level.len();
                Ok((
                    Tensor::from_slice(rev, (rows, l), &net.device)?,
                    Tensor::from_slice(level, (rows, 1), &net.device)?,
                ))
            })
            .collect::<Result<_>>()?;
        Ok(Self { host, chunks })
    }

    pub(crate) fn predict(&self, net: &DeviceNet) -> Result<Vec<Vec<f64>>> {
        let mut scaled = Vec::with_capacity(self.host.rows);
        for (reversed, level) in &self.chunks {
            scaled.extend(net.forward(reversed, level, None)?.to_vec2::<f32>()?);
        }
        Ok(scaled
            .into_iter()
            .zip(&self.host.scales)
            .map(|(row, s)| row.into_iter().map(|z| s.invert(z) as f64).collect())
            .collect())
    }
}
