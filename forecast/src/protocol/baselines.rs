//! The forecasters N-HiTS is judged against.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Who produces a forecast. Serialised as `nhits`, `naive`, `drift` or
/// `seasonal_naive_<m>` (m = season length in bars), so it can key a JSON object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Forecaster {
    Nhits,
    /// The last value, repeated.
    Naive,
    /// The line through the first bar and the last bar, extended.
    Drift,
    /// The last full season of `m` bars, repeated.
    SeasonalNaive(usize),
}

impl Forecaster {
    /// Plain words for reports and verdicts.
    pub fn name(self) -> String {
        match self {
            Self::Nhits => "N-HiTS".into(),
            Self::Naive => "naive (last value)".into(),
            Self::Drift => "drift".into(),
            Self::SeasonalNaive(m) => format!("seasonal naive ({m} bars)"),
        }
    }

    pub fn is_baseline(self) -> bool {
        self != Self::Nhits
    }

    /// Bars of history the forecaster reads at least.
    pub fn needs(self) -> usize {
        match self {
            Self::SeasonalNaive(m) => m,
            _ => 1,
        }
    }

    /// The baselines that compete for a series with these season lengths: naive, drift,
    /// then one seasonal naive per season, shortest first (ties go to the earlier one).
    pub fn baselines(seasons: &[usize]) -> Vec<Self> {
        let mut out = vec![Self::Naive, Self::Drift];
        let mut seasons = seasons.to_vec();
        seasons.sort_unstable();
        seasons.dedup();
        out.extend(seasons.into_iter().map(Self::SeasonalNaive));
        out
    }

    /// A baseline's forecast of the `horizon` bars after `history` (`None` for N-HiTS).
    pub fn baseline(self, history: &[f64], horizon: usize) -> Option<Vec<f64>> {
        match self {
            Self::Nhits => None,
            Self::Naive => Some(naive(history, horizon)),
            Self::Drift => Some(drift(history, horizon)),
            Self::SeasonalNaive(m) => Some(seasonal_naive(history, horizon, m)),
        }
    }
}

impl fmt::Display for Forecaster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nhits => f.write_str("nhits"),
            Self::Naive => f.write_str("naive"),
            Self::Drift => f.write_str("drift"),
            Self::SeasonalNaive(m) => write!(f, "seasonal_naive_{m}"),
        }
    }
}

impl From<Forecaster> for String {
    fn from(who: Forecaster) -> Self {
        who.to_string()
    }
}

impl TryFrom<String> for Forecaster {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "nhits" => Ok(Self::Nhits),
            "naive" => Ok(Self::Naive),
            "drift" => Ok(Self::Drift),
            other => other
                .strip_prefix("seasonal_naive_")
                .and_then(|m| m.parse().ok())
                .filter(|&m| m >= 1)
                .map(Self::SeasonalNaive)
                .ok_or_else(|| format!("unknown forecaster {other:?}")),
        }
    }
}

/// `yhat_j = y[t0-1]` for `j = 1..=h`, where `history = y[..t0]`.
pub fn naive(history: &[f64], horizon: usize) -> Vec<f64> {
    vec![history[history.len() - 1]; horizon]
}

/// `yhat_j = last + j * (last - y[0]) / (t0 - 1)`, the slope over the whole history.
/// A single bar has no slope: the forecast is then naive.
pub fn drift(history: &[f64], horizon: usize) -> Vec<f64> {
    let last = history[history.len() - 1];
    let slope =
        if history.len() > 1 { (last - history[0]) / (history.len() - 1) as f64 } else { 0.0 };
    (1..=horizon).map(|j| last + j as f64 * slope).collect()
}

/// `yhat_j = y[t0 - m + (j - 1) mod m]`: the last full season repeated. A history shorter
/// than one season falls back to naive (callers check [`Forecaster::needs`] first).
pub fn seasonal_naive(history: &[f64], horizon: usize, m: usize) -> Vec<f64> {
    if m == 0 || history.len() < m {
        return naive(history, horizon);
    }
    let season = &history[history.len() - m..];
    (0..horizon).map(|j| season[j % m]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naive_repeats_the_last_value() {
        assert_eq!(naive(&[1.0, 5.0, 3.0], 2), vec![3.0, 3.0]);
    }

    #[test]
    fn drift_extends_the_line_through_the_first_and_last_bars() {
        // slope (7 - 1) / 3 = 2
        assert_eq!(drift(&[1.0, 9.0, 0.0, 7.0], 3), vec![9.0, 11.0, 13.0]);
        assert_eq!(drift(&[4.0], 2), vec![4.0, 4.0]);
    }

    #[test]
    fn seasonal_naive_repeats_the_last_season() {
        let h = [9.0, 1.0, 2.0, 3.0];
        assert_eq!(seasonal_naive(&h, 5, 3), vec![1.0, 2.0, 3.0, 1.0, 2.0]);
        assert_eq!(seasonal_naive(&h, 2, 4), vec![9.0, 1.0]);
        assert_eq!(seasonal_naive(&h, 2, 5), vec![3.0, 3.0], "shorter than a season: naive");
    }

    #[test]
    fn forecasters_round_trip_through_their_names() {
        for who in [
            Forecaster::Nhits,
            Forecaster::Naive,
            Forecaster::Drift,
            Forecaster::SeasonalNaive(336),
        ] {
            let json = serde_json::to_string(&who).unwrap();
            assert_eq!(serde_json::from_str::<Forecaster>(&json).unwrap(), who, "{json}");
        }
        assert_eq!(
            serde_json::to_string(&Forecaster::SeasonalNaive(7)).unwrap(),
            "\"seasonal_naive_7\""
        );
        assert!(serde_json::from_str::<Forecaster>("\"seasonal_naive_x\"").is_err());
        assert!(serde_json::from_str::<Forecaster>("\"arima\"").is_err());
    }

    #[test]
    fn baselines_are_naive_drift_then_each_season_once_shortest_first() {
        assert_eq!(
            Forecaster::baselines(&[336, 48, 48]),
            vec![
                Forecaster::Naive,
                Forecaster::Drift,
                Forecaster::SeasonalNaive(48),
                Forecaster::SeasonalNaive(336)
            ]
        );
    }
}
