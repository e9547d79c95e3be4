//! What the data decides before training: the season lengths the seasonal baselines use,
//! whether calendar inputs are on, and an input window long enough to see the longest season.

use serde::Serialize;

use crate::calendar::{Spacing, acf_seasons};
use crate::protocol::Split;
use crate::train::Series;
use crate::{MAX_INPUT_SIZE, MAX_SEASONS};

/// What the caller asked for; `None` leaves it to the data.
#[derive(Debug, Clone)]
pub struct Wishes {
    pub horizon: usize,
    pub input_size: Option<usize>,
    pub seasons: Option<Vec<usize>>,
    pub exog: Option<bool>,
    /// Largest input window the caller can afford (its compute budget).
    pub max_input_size: usize,
    pub val_windows: usize,
}

/// Where a season length came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeasonSource {
    /// `input.seasons`.
    Given,
    /// Implied by the bar spacing (a day and a week of intraday bars, a trading week...).
    Spacing,
    /// A peak of the autocorrelation of the training region's first differences.
    Autocorrelation,
}

/// The settings the data decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub seasons: Vec<(usize, SeasonSource)>,
    pub spacing: Option<Spacing>,
    pub exog: bool,
    pub input_size: usize,
}

impl Plan {
    pub fn season_lengths(&self) -> Vec<usize> {
        self.seasons.iter().map(|(m, _)| *m).collect()
    }
}

/// Longest lag searched for autocorrelation peaks (bounds the O(n x lag) search).
const MAX_ACF_LAG: usize = 1000;

pub fn plan(series: &Series, w: &Wishes) -> Plan {
    let n = series.values.len();
    let calendar = series.calendar();
    let spacing = calendar.as_ref().map(|c| c.kind());
    // Seasons must fit before the first validation fold (the seasonal naive needs one whole
    // season of history there), and are searched on the training region only.
    let split = Split::with_folds(n, w.horizon, w.val_windows).ok();
    let fit_end = split.as_ref().map_or(0, Split::fit_end);
    let seasons: Vec<(usize, SeasonSource)> = match &w.seasons {
        Some(given) => given.iter().map(|&m| (m, SeasonSource::Given)).collect(),
        None => {
            let mut found: Vec<(usize, SeasonSource)> = calendar
                .iter()
                .flat_map(|c| c.seasons())
                .map(|m| (m, SeasonSource::Spacing))
                .collect();
            if let Some(split) = &split {
                let train = &series.values[..split.train_bars];
                let max_lag = (train.len() / 3).min(MAX_ACF_LAG);
                for m in acf_seasons(train, max_lag, 2) {
                    // A peak at 47 or 50 beside the calendar's 48 is the same season, blurred.
                    if !found.iter().any(|&(c, _)| near_multiple(m, c)) {
                        found.push((m, SeasonSource::Autocorrelation));
                    }
                }
            }
            let mut seen = Vec::new();
            found.retain(|&(m, _)| {
                let fresh = m >= 2 && m <= fit_end && !seen.contains(&m);
                seen.push(m);
                fresh
            });
            found.truncate(MAX_SEASONS);
            found
        }
    };
    let exog =
        w.exog.unwrap_or(matches!(spacing, Some(Spacing::Intraday { .. } | Spacing::Daily { .. })));
    let input_size = w.input_size.unwrap_or_else(|| {
        // Five horizons (NeuralForecast's usual choice, and what the API assumed at
        // submission), widened towards two of the longest season as far as the budget and the
        // fit region (which must keep the windows the honest recipe needs) allow.
        let base = (5 * w.horizon).min(MAX_INPUT_SIZE);
        let longest = seasons.iter().map(|(m, _)| *m).max().unwrap_or(0);
        let room = fit_end.saturating_sub((2 * w.horizon).max(64));
        let cap = w.max_input_size.min(MAX_INPUT_SIZE).min(room);
        base.max((2 * longest).min(cap))
    });
    Plan { seasons, spacing, exog, input_size }
}

/// Whether `m` lies within 5 % (at least one bar) of a multiple of `c`.
fn near_multiple(m: usize, c: usize) -> bool {
    let j = ((m as f64 / c as f64).round() as usize).max(1);
    let tolerance = ((j * c) as f64 * 0.05).max(1.0);
    (m as f64 - (j * c) as f64).abs() <= tolerance
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeDelta};

    use super::*;

    fn wishes(horizon: usize) -> Wishes {
        Wishes {
            horizon,
            input_size: None,
            seasons: None,
            exog: None,
            max_input_size: MAX_INPUT_SIZE,
            val_windows: 10,
        }
    }

    fn half_hourly(n: usize) -> (Vec<f64>, Vec<chrono::NaiveDateTime>) {
        let start = NaiveDate::from_ymd_opt(2000, 6, 5).unwrap().and_hms_opt(0, 0, 0).unwrap();
        let times = (0..n).map(|i| start + TimeDelta::minutes(30 * i as i64)).collect();
        let tau = std::f64::consts::TAU;
        let values = (0..n)
            .map(|t| {
                let t = t as f64;
                100.0 + 10.0 * (tau * t / 48.0).sin() + 6.0 * (tau * t / 336.0).sin()
            })
            .collect();
        (values, times)
    }

    #[test]
    fn autocorrelation_peaks_beside_a_calendar_season_are_the_same_season() {
        assert!(near_multiple(47, 48) && near_multiple(50, 48) && near_multiple(97, 48));
        assert!(!near_multiple(60, 48) && !near_multiple(30, 48) && near_multiple(24, 24));
    }

    #[test]
    fn half_hourly_data_gets_a_day_and_a_week_calendar_inputs_and_two_weeks_of_input() {
        let (values, times) = half_hourly(4032);
        let p = plan(&Series::with_times(&values, &times), &wishes(48));
        assert_eq!(p.season_lengths(), vec![48, 336], "no blurred copies: {:?}", p.seasons);
        assert!(p.exog);
        assert_eq!(p.input_size, 672);
        assert_eq!(p.spacing, Some(Spacing::Intraday { step_minutes: 30 }));
    }

    #[test]
    fn the_input_window_is_bounded_by_the_budget_and_given_settings_win() {
        let (values, times) = half_hourly(4032);
        let series = Series::with_times(&values, &times);
        let p = plan(&series, &Wishes { max_input_size: 400, ..wishes(48) });
        assert_eq!(p.input_size, 400);
        let p = plan(&series, &Wishes { max_input_size: 100, ..wishes(48) });
        assert_eq!(p.input_size, 240, "never below five horizons");
        let p = plan(
            &series,
            &Wishes {
                input_size: Some(96),
                seasons: Some(vec![48]),
                exog: Some(false),
                ..wishes(48)
            },
        );
        assert_eq!((p.input_size, p.season_lengths(), p.exog), (96, vec![48], false));
        assert_eq!(p.seasons[0].1, SeasonSource::Given);
    }

    #[test]
    fn without_times_seasons_come_from_autocorrelation_and_calendar_inputs_stay_off() {
        let (values, _) = half_hourly(4032);
        let p = plan(&Series::new(&values), &wishes(48));
        assert!(p.season_lengths().contains(&48), "{:?}", p.seasons);
        assert!(p.seasons.iter().all(|(_, s)| *s == SeasonSource::Autocorrelation));
        assert!(!p.exog);
    }
}
