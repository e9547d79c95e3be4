//! N-HiTS forecasting.
