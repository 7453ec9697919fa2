//! Horizon buckets: test points grouped by how far ahead they lie.
//!
//! The offset of a test date is `(date − first test date)` in calendar days
//! plus one, so a missing day shifts later points into later buckets.

/// A range of horizon offsets (in days, 1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HorizonBucket {
    /// Days 1–7.
    H1To7,
    /// Days 8–14.
    H8To14,
    /// Days 15–28.
    H15To28,
    /// Day 29 and later.
    H29Plus,
}

impl HorizonBucket {
    /// Every bucket in order.
    pub const ALL: [Self; 4] = [Self::H1To7, Self::H8To14, Self::H15To28, Self::H29Plus];

    /// Wire key (`h_1_7`, `h_8_14`, `h_15_28`, `h_29_plus`).
    pub fn id(self) -> &'static str {
        match self {
            Self::H1To7 => "h_1_7",
            Self::H8To14 => "h_8_14",
            Self::H15To28 => "h_15_28",
            Self::H29Plus => "h_29_plus",
        }
    }

    /// Position in [`Self::ALL`].
    pub fn position(self) -> usize {
        self as usize
    }

    /// The bucket of a 1-based offset; `None` for offsets below 1.
    pub fn of(offset: i64) -> Option<Self> {
        match offset {
            1..=7 => Some(Self::H1To7),
            8..=14 => Some(Self::H8To14),
            15..=28 => Some(Self::H15To28),
            o if o >= 29 => Some(Self::H29Plus),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges() {
        assert_eq!(HorizonBucket::of(0), None);
        assert_eq!(HorizonBucket::of(-3), None);
        assert_eq!(HorizonBucket::of(1), Some(HorizonBucket::H1To7));
        assert_eq!(HorizonBucket::of(7), Some(HorizonBucket::H1To7));
        assert_eq!(HorizonBucket::of(8), Some(HorizonBucket::H8To14));
        assert_eq!(HorizonBucket::of(14), Some(HorizonBucket::H8To14));
        assert_eq!(HorizonBucket::of(15), Some(HorizonBucket::H15To28));
        assert_eq!(HorizonBucket::of(28), Some(HorizonBucket::H15To28));
        assert_eq!(HorizonBucket::of(29), Some(HorizonBucket::H29Plus));
        assert_eq!(HorizonBucket::of(400), Some(HorizonBucket::H29Plus));
    }

    #[test]
    fn ids_and_positions() {
        let ids: Vec<&str> = HorizonBucket::ALL.iter().map(|b| b.id()).collect();
        assert_eq!(ids, ["h_1_7", "h_8_14", "h_15_28", "h_29_plus"]);
        for (i, b) in HorizonBucket::ALL.iter().enumerate() {
            assert_eq!(b.position(), i);
        }
    }
}
