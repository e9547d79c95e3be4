//! `/market`: the bars held in the market-data cache, and fetching more on request.

pub mod bars;
pub mod symbols;
