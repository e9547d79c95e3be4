//! Market data: bars, data sources, CSV reader.
