//! Saving and loading a model: `model.safetensors` (weights) and `model.json` (the card).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::model::TrainedModel;
use crate::network::{Architecture, DeviceNet, HostParams};
use crate::protocol::{Conformal, Forecaster};
use crate::train::EvaluationSummary;
use crate::{ForecastError, NHitsConfig, ScalerKind};

pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const CARD_FILE: &str = "model.json";
const FORMAT: &str = "tradeforge.nhits";
/// 2: seasonal baselines, calendar inputs, intervals. Version 1 cards still load (their new
/// fields take their defaults: no seasons, no calendar inputs, no intervals).
const FORMAT_VERSION: u32 = 2;

/// `model.json`: what the weights are and how to use them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub format: String,
    pub format_version: u32,
    pub model: String,
    pub architecture: Architecture,
    pub parameter_count: usize,
    pub scaler: ScalerKind,
    pub seed: u64,
    pub hyper_parameters: NHitsConfig,
    pub served_by: Forecaster,
    /// The holdout summary; a version-1 card's older summary is dropped, not misread.
    #[serde(default, deserialize_with = "lenient")]
    pub evaluation: Option<EvaluationSummary>,
    /// The served forecaster's interval half-widths per horizon step.
    #[serde(default)]
    pub intervals: Option<Conformal>,
    pub weights: String,
    /// Whatever the caller attached (symbol, data range, job id...).
    pub metadata: serde_json::Value,
}

fn lenient<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<EvaluationSummary>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(value).ok())
}

impl TrainedModel {
    /// The card this model would be saved with.
    pub fn card(&self, metadata: serde_json::Value) -> ModelCard {
        ModelCard {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            model: "nhits".into(),
            architecture: self.net.arch.clone(),
            parameter_count: self.parameter_count(),
            scaler: self.config.scaler,
            seed: self.config.seed,
            hyper_parameters: self.config.clone(),
            served_by: self.served_by,
            evaluation: self.evaluation.clone(),
            intervals: self.intervals.clone(),
            weights: WEIGHTS_FILE.into(),
            metadata,
        }
    }

    /// Writes `dir/model.safetensors` and `dir/model.json` (creating `dir`).
    /// Tensor names and layouts are NeuralForecast's `state_dict` ones.
    pub fn save(
        &self,
        dir: &Path,
        metadata: serde_json::Value,
    ) -> Result<ModelCard, ForecastError> {
        std::fs::create_dir_all(dir).map_err(|e| ForecastError::io(dir, e))?;
        let names = self.net.arch.tensors().into_iter().map(|(n, _)| n);
        let tensors = names
            .zip(&self.net.params)
            .map(|(n, t)| Ok((n, t.to_device(&Device::Cpu)?)))
            .collect::<Result<HashMap<String, Tensor>, candle_core::Error>>()?;
        candle_core::safetensors::save(&tensors, dir.join(WEIGHTS_FILE))?;
        let card = self.card(metadata);
        let json = serde_json::to_vec_pretty(&card)?;
        let path = dir.join(CARD_FILE);
        std::fs::write(&path, json).map_err(|e| ForecastError::io(path, e))?;
        Ok(card)
    }

    /// Reads a model saved by [`TrainedModel::save`] onto `device`.
    pub fn load(dir: &Path, device: &Device) -> Result<(Self, ModelCard), ForecastError> {
        let card_path = dir.join(CARD_FILE);
        let bytes = std::fs::read(&card_path).map_err(|e| ForecastError::io(&card_path, e))?;
        let card: ModelCard = serde_json::from_slice(&bytes)?;
        let bad = |reason: String| ForecastError::InvalidArtifact { path: dir.into(), reason };
        if card.format != FORMAT || !(1..=FORMAT_VERSION).contains(&card.format_version) {
            return Err(bad(format!(
                "unsupported format {} v{}",
                card.format, card.format_version
            )));
        }
        card.hyper_parameters.validate()?;
        let arch = Architecture::from_config(&card.hyper_parameters);
        if arch != card.architecture {
            return Err(bad("the architecture does not follow from the hyper-parameters".into()));
        }
        let weights_path = dir.join(WEIGHTS_FILE);
        let mut tensors = candle_core::safetensors::load(&weights_path, &Device::Cpu)?;
        let mut params = HostParams { shapes: Vec::new(), values: Vec::new() };
        for (name, shape) in arch.tensors() {
            let t = tensors.remove(&name).ok_or_else(|| bad(format!("missing tensor {name}")))?;
            if t.dims() != shape.as_slice() {
                return Err(bad(format!(
                    "tensor {name} has shape {:?}, expected {shape:?}",
                    t.dims()
                )));
            }
            params
                .values
                .push(t.to_dtype(candle_core::DType::F32)?.flatten_all()?.to_vec1::<f32>()?);
            params.shapes.push(shape);
        }
        let net = DeviceNet::new(arch, &params, device)?;
        let model = TrainedModel::new(
            net,
            card.hyper_parameters.clone(),
            card.served_by,
            card.evaluation.clone(),
            card.intervals.clone(),
        );
        Ok((model, card))
    }
}
