//! The default model's readiness, as the start-up check found it: jobs say why they wait or
//! fail, and the worker's `/ready` answers 503 until the model can answer.

use std::sync::{Arc, Mutex, PoisonError};

#[derive(Debug, Clone, PartialEq)]
pub enum ModelState {
    /// The start-up check has not answered yet (the server may still be starting).
    Checking,
    /// Being pulled (`OLLAMA_PULL=true`); `percent` of the current layer when known.
    Pulling {
        percent: Option<u64>,
    },
    Ready,
    /// The check or the pull failed for good: the server's reason.
    Missing {
        reason: String,
    },
}

/// Cheap to clone; every clone sees the same state.
#[derive(Debug, Clone)]
pub struct ModelStatus(Arc<Mutex<ModelState>>);

impl Default for ModelStatus {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(ModelState::Checking)))
    }
}

impl ModelStatus {
    pub fn get(&self) -> ModelState {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub fn set(&self, state: ModelState) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = state;
    }

    pub fn is_ready(&self) -> bool {
        self.get() == ModelState::Ready
    }

    /// In words, for `/health` and job errors.
    pub fn describe(&self, model: &str) -> String {
        match self.get() {
            ModelState::Checking => format!("checking that model \"{model}\" is available"),
            ModelState::Pulling { percent: Some(p) } => {
                format!("pulling model \"{model}\" ({p}% of the current layer)")
            }
            ModelState::Pulling { percent: None } => format!("pulling model \"{model}\""),
            ModelState::Ready => format!("model \"{model}\" is ready"),
            ModelState::Missing { reason } => format!("model \"{model}\" is unavailable: {reason}"),
        }
    }
}
