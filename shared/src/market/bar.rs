//! One OHLCV price bar and the rules every bar must satisfy.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::BarTime;
use crate::field_error::FieldError;

/// One bar of price history. Prices are positive and finite; `high` and `low` bound `open` and
/// `close`. `volume` may be left out of inline bars (many FX feeds have none) and is then 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Bar {
    pub time: BarTime,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    #[serde(default)]
    pub volume: f64,
}

impl Bar {
    /// Checks the bar on its own (not its order among others). The error's field is relative
    /// to the bar: `close`, `high`, …
    pub fn check(&self) -> Result<(), FieldError> {
        for (field, price) in
            [("open", self.open), ("high", self.high), ("low", self.low), ("close", self.close)]
        {
            if !(price.is_finite() && price > 0.0) {
                return Err(FieldError::new(
                    field,
                    format!("must be a finite price greater than 0, got {price}"),
                ));
            }
        }
        if !(self.volume.is_finite() && self.volume >= 0.0) {
            return Err(FieldError::new(
                "volume",
                format!("must be a finite number of at least 0, got {}", self.volume),
            ));
        }
        let top = self.open.max(self.close);
        if self.high < top {
            return Err(FieldError::new(
                "high",
                format!("must be at least max(open, close) = {top}, got {}", self.high),
            ));
        }
        let bottom = self.open.min(self.close);
        if self.low > bottom {
            return Err(FieldError::new(
                "low",
                format!("must be at most min(open, close) = {bottom}, got {}", self.low),
            ));
        }
        Ok(())
    }
}
