//! The (weekday, minute of day) session slots an intraday series used: a 7 × 1440 bit set, so
//! a lookup while stepping through a fortnight of one-minute bars stays a shift and a mask.

use std::fmt;

use chrono::{Datelike, NaiveDateTime, Timelike};

const MINUTES_PER_DAY: usize = 24 * 60;
const SLOTS: usize = 7 * MINUTES_PER_DAY;
const WORDS: usize = SLOTS.div_ceil(64);

/// A set of (weekday, minute of day) slots; empty for spacings that do not need one.
#[derive(Clone, PartialEq, Eq, Default)]
pub(super) struct SlotSet {
    bits: Vec<u64>,
}

/// The slot index of `t`: weekday (Monday = 0) × 1440 + minute of day.
fn index(t: NaiveDateTime) -> usize {
    let weekday = t.weekday().num_days_from_monday() as usize;
    let minute = (t.hour() * 60 + t.minute()) as usize;
    weekday * MINUTES_PER_DAY + minute
}

impl SlotSet {
    /// The slots of every bar in `times`.
    pub(super) fn of(times: &[NaiveDateTime]) -> Self {
        let mut bits = vec![0u64; WORDS];
        for &t in times {
            let i = index(t);
            bits[i / 64] |= 1 << (i % 64);
        }
        Self { bits }
    }

    /// Whether some bar fell on `t`'s weekday at `t`'s minute of day.
    pub(super) fn contains(&self, t: NaiveDateTime) -> bool {
        let i = index(t);
        self.bits.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// How many slots each weekday (Monday = 0) holds.
    pub(super) fn per_weekday(&self) -> [usize; 7] {
        let mut counts = [0; 7];
        for (i, &w) in self.bits.iter().enumerate() {
            for b in 0..64 {
                if w & (1 << b) != 0 {
                    counts[(i * 64 + b) / MINUTES_PER_DAY] += 1;
                }
            }
        }
        counts
    }
}

impl fmt::Debug for SlotSet {
    /// A count per weekday: the raw 10 080 bits say nothing to a reader.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SlotSet {:?}", self.per_weekday())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::at;
    use super::*;

    #[test]
    fn holds_exactly_the_slots_seen() {
        // Monday 09:30 and Friday 23:59 (2024-01-01 is a Monday).
        let set = SlotSet::of(&[at(2024, 1, 1, 9, 30), at(2024, 1, 5, 23, 59)]);
        assert!(set.contains(at(2024, 1, 8, 9, 30)), "same slot a week later");
        assert!(set.contains(at(2024, 1, 12, 23, 59)));
        assert!(!set.contains(at(2024, 1, 2, 9, 30)), "Tuesday was never seen");
        assert!(!set.contains(at(2024, 1, 1, 9, 31)));
        assert_eq!(set.per_weekday(), [1, 0, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn empty_set_contains_nothing() {
        let set = SlotSet::default();
        assert!(!set.contains(at(2024, 1, 1, 0, 0)));
        assert_eq!(set.per_weekday(), [0; 7]);
    }
}
