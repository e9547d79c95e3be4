//! Market data: price bars, where a job's bars come from, and the CSV reader.
//!
//! A job names its data with an optional [`DataSource`]: a CSV file inside the server's data
//! directory, or bars sent inline. Without one, [`load_bars`] falls back to
//! `DATA_DIR/<SYMBOL>.csv`. Whatever the source, bars come out validated and in strictly
//! increasing time order, and [`bars_up_to`] cuts them at the analysis date or instant (a
//! [`Cutoff`]) so that nothing after it can leak into an analysis.

mod bar;
mod bar_time;
mod csv_reader;
mod cutoff;
mod error;
mod interval;
mod load;
pub mod online;
pub mod providers;
mod source;
pub mod sources;
mod symbols;

pub use bar::Bar;
pub use bar_time::{BarTime, ParseBarTimeError};
pub use csv_reader::{ReadLimits, read_csv, read_csv_from, read_csv_limited};
pub use cutoff::Cutoff;
pub use error::MarketDataError;
pub use interval::Interval;
pub use load::{bars_up_to, load_bars};
pub use source::{DataSource, MAX_INLINE_BARS};
pub use symbols::Instrument;

#[cfg(test)]
mod tests;
