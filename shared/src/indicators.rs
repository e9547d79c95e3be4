//! Technical indicators computed from bars.
