//! `/models` and `/forecast`: the models training jobs produced, and forecasts from them.
//!
//! A caller may use its own owner's models and shared ones (admins: every model), as an
//! analysis may (`routes::jobs::models`): anyone else's could have been trained on made-up
//! bars.

pub mod forecast;
pub mod list;
mod run;
mod source;

use axum::http::StatusCode;
use shared::job::Symbol;

use crate::error::ApiError;

pub use source::MAX_CACHED_BARS;

/// Forecasts computed at once, each with a model (about 11 MB of weights at the largest
/// settings) and up to `MAX_BARS` bars in memory.
pub const FORECAST_SLOTS: usize = 2;

/// A symbol as a training job stores it: `nvda` is `NVDA`.
fn symbol(field: &str, raw: &str) -> Result<Symbol, ApiError> {
    Symbol::parse(&raw.to_ascii_uppercase()).map_err(|_| {
        ApiError::field(
            StatusCode::BAD_REQUEST,
            field,
            format!(
                "{raw:?} is not a symbol: 1-15 letters, digits or . - = ^ (NVDA, BRK.B, ^GSPC)"
            ),
        )
    })
}
