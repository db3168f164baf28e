//! Time-ordered 53-bit identifiers (DESIGN.md, "Identifiers").
//!
//! Layout, most significant first: 41 bits of milliseconds since 2025-01-01T00:00:00Z, 5 bits
//! of node number, 7 bits of sequence. Every id stays below 2^53 so the official JavaScript SDK,
//! which reads ids as IEEE-754 doubles, never rounds one.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// 2025-01-01T00:00:00Z in Unix milliseconds.
pub const EPOCH_UNIX_MS: u64 = 1_735_689_600_000;
const NODE_BITS: u32 = 5;
const SEQUENCE_BITS: u32 = 7;
const TIME_BITS: u32 = 41;
/// The largest node number a [`IdGenerator`] accepts: the last one is imported history's.
pub const MAX_NODE_ID: u16 = (1 << NODE_BITS) - 2;
/// The node number in the ids of imported messages ([`IdGenerator::imported_id`]).
const IMPORT_NODE: u64 = (1 << NODE_BITS) - 1;
const MAX_SEQUENCE: u64 = (1 << SEQUENCE_BITS) - 1;
const MAX_ELAPSED_MS: u64 = (1 << TIME_BITS) - 1;

/// Generates unique, time-ordered ids for one node.
#[derive(Debug)]
pub struct IdGenerator {
    node: u64,
    state: Mutex<GeneratorState>,
}

#[derive(Debug, Default)]
struct GeneratorState {
    last_ms: u64,
    sequence: u64,
}

impl IdGenerator {
    /// A generator for node `node` (0 to [`MAX_NODE_ID`]).
    pub fn new(node: u16) -> Result<Self, DomainError> {
        if node > MAX_NODE_ID {
            return Err(DomainError::InvalidArgument(format!("node id {node} is out of range 0..={MAX_NODE_ID}")));
        }
        Ok(Self { node: u64::from(node), state: Mutex::new(GeneratorState::default()) })
    }

    /// The next id, waiting for the next millisecond when this one's 128 ids are used up.
    pub fn next_id(&self) -> i64 {
        self.next_with_clock(unix_ms_now)
    }

    /// The next id above `floor`, an id another node made. If that node's clock runs ahead of
    /// this one's, this generator moves its own time up past `floor` at once rather than
    /// waiting for the wall clock to get there (a post must land above a channel's newest
    /// message; waiting would hold the channel's lock for as long as the clocks differ).
    pub fn next_id_above(&self, floor: i64) -> i64 {
        self.next_above_with_clock(floor, unix_ms_now)
    }

    fn next_above_with_clock(&self, floor: i64, clock: impl Fn() -> u64) -> i64 {
        let floor_ms = u64::try_from(floor).unwrap_or(0) >> (NODE_BITS + SEQUENCE_BITS);
        {
            let mut state = self.lock_state();
            if state.last_ms <= floor_ms {
                // Every id of the next millisecond is above every id of `floor`'s.
                state.last_ms = floor_ms + 1;
                state.sequence = 0;
                return self.compose(&state);
            }
        }
        // Already past `floor`'s millisecond: any next id is above it.
        self.next_with_clock(clock)
    }

    /// The id of a message imported with its original time `unix_ms`, in `slot` of that
    /// millisecond (slot 0 first; past its 128, the next millisecond's). The layout runs below
    /// its epoch: times before 2025 give negative ids, exact in JavaScript down to -2^53 (1955).
    /// The node number is [`IMPORT_NODE`], which no node takes: no live id, drawn on any node
    /// at any time, can be the same. `None` before 1955 or past the layout's last millisecond.
    pub fn imported_id(unix_ms: i64, slot: u64) -> Option<i64> {
        let elapsed = unix_ms
            .checked_sub(i64::try_from(EPOCH_UNIX_MS).ok()?)?
            .checked_add(i64::try_from(slot >> SEQUENCE_BITS).ok()?)?;
        let limit = 1_i64 << TIME_BITS;
        if elapsed <= -limit || elapsed >= limit {
            return None;
        }
        let low = i64::try_from((IMPORT_NODE << SEQUENCE_BITS) | (slot & MAX_SEQUENCE)).ok()?;
        Some(elapsed * (1 << (NODE_BITS + SEQUENCE_BITS)) + low)
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, GeneratorState> {
        match self.state.lock() {
            Ok(guard) => guard,
            // The state is two integers that are always consistent; a panic elsewhere
            // cannot leave them half-written.
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn compose(&self, state: &GeneratorState) -> i64 {
        let elapsed = state.last_ms.min(MAX_ELAPSED_MS);
        let id = (elapsed << (NODE_BITS + SEQUENCE_BITS)) | (self.node << SEQUENCE_BITS) | state.sequence;
        i64::try_from(id).unwrap_or(i64::MAX)
    }

    fn next_with_clock(&self, clock: impl Fn() -> u64) -> i64 {
        let mut state = self.lock_state();
        loop {
            // A clock that steps back must not produce an id twice: keep the last time.
            let wall = clock().saturating_sub(EPOCH_UNIX_MS);
            let now = wall.max(state.last_ms);
            if now > state.last_ms {
                state.last_ms = now;
                state.sequence = 0;
                break;
            }
            if state.sequence < MAX_SEQUENCE {
                state.sequence += 1;
                break;
            }
            if wall < state.last_ms {
                // Ahead of the wall clock already (it stepped back, or `next_id_above` moved
                // past another node's ids): keep going rather than wait for it to catch up.
                state.last_ms += 1;
                state.sequence = 0;
                break;
            }
            std::thread::yield_now();
        }
        self.compose(&state)
    }
}

fn unix_ms_now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }
    };
}

id_type!(
    /// Identifies an organization, the owner of applications.
    OrganizationId
);
id_type!(
    /// Identifies an application, the tenant every other resource belongs to.
    ApplicationId
);
id_type!(
    /// Identifies a chat user of one application.
    UserId
);

id_type!(
    /// Identifies a channel.
    ChannelId
);
id_type!(
    /// Identifies a reply thread (a channel's MAIN thread or a message's thread).
    ThreadId
);
id_type!(
    /// Identifies a message; also the cursor of message pages.
    MessageId
);
id_type!(
    /// Identifies a notification.
    NotificationId
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn ids_are_increasing_and_below_2_pow_53() {
        let generator = IdGenerator::new(MAX_NODE_ID).unwrap();
        let mut last = 0;
        for _ in 0..10_000 {
            let id = generator.next_id();
            assert!(id > last, "{id} after {last}");
            assert!(id < (1_i64 << 53));
            last = id;
        }
    }

    #[test]
    fn sequence_overflow_waits_for_next_millisecond() {
        let generator = IdGenerator::new(1).unwrap();
        let now = Cell::new(EPOCH_UNIX_MS + 1_000);
        let calls = Cell::new(0u32);
        let clock = || {
            calls.set(calls.get() + 1);
            // The clock advances only after the generator has asked many times.
            if calls.get() > 200 {
                now.set(EPOCH_UNIX_MS + 1_001);
            }
            now.get()
        };
        let ids: Vec<i64> = (0..129).map(|_| generator.next_with_clock(clock)).collect();
        assert_eq!(ids[127] & 0x7f, 127);
        assert_eq!(ids[128] >> 12, 1_001, "the 129th id moves to the next millisecond");
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn ids_above_another_nodes_newer_id_come_at_once_even_in_bursts() {
        let generator = IdGenerator::new(2).unwrap();
        let wall = || EPOCH_UNIX_MS + 1_000;
        let mine = generator.next_with_clock(wall);
        // Another node, its clock a minute ahead; the wall clock here never moves in this test,
        // so waiting for it would never end.
        let other = IdGenerator::new(9).unwrap().next_with_clock(|| EPOCH_UNIX_MS + 61_000);
        assert!(other > mine);
        let above = generator.next_above_with_clock(other, wall);
        assert!(above > other);
        let burst: Vec<i64> = (0..300).map(|_| generator.next_with_clock(wall)).collect();
        assert!(burst[0] > above && burst.windows(2).all(|w| w[0] < w[1]), "a burst past 128 ids goes on");
        assert!(generator.next_above_with_clock(mine, wall) > burst[299], "a lower floor changes nothing");
    }

    #[test]
    fn clock_going_backwards_never_repeats_an_id() {
        let generator = IdGenerator::new(0).unwrap();
        let a = generator.next_with_clock(|| EPOCH_UNIX_MS + 5_000);
        let b = generator.next_with_clock(|| EPOCH_UNIX_MS + 4_000);
        assert!(b > a);
    }

    #[test]
    fn imported_ids_keep_time_order_below_the_epoch_and_never_meet_live_ones() {
        let ids = IdGenerator::new(MAX_NODE_ID).unwrap();
        let t2019 = 1_546_300_800_000; // 2019-01-01
        let a = IdGenerator::imported_id(t2019, 0).unwrap();
        let b = IdGenerator::imported_id(t2019, 1).unwrap();
        let c = IdGenerator::imported_id(t2019 + 1, 0).unwrap();
        assert!(a < 0 && a < b && b < c, "{a} {b} {c}");
        assert!(a.abs() < 1 << 53);
        // The node number is history's, which no node has: not even the last one.
        assert_eq!((a >> SEQUENCE_BITS) & 0x1f, 31);
        let now = chrono::Utc::now().timestamp_millis();
        let live = ids.next_id();
        let imported_now = IdGenerator::imported_id(now, 127).unwrap();
        assert_ne!(live, imported_now);
        assert_eq!((live >> SEQUENCE_BITS) & 0x1f, i64::from(MAX_NODE_ID));
        // Past the 128 slots of a millisecond: the next one's (the store takes a free one).
        assert_eq!(IdGenerator::imported_id(t2019, 128), Some(c));
        // After 2025 too, in time order.
        let t2025 = i64::try_from(EPOCH_UNIX_MS).unwrap() + 5;
        assert!(IdGenerator::imported_id(t2025, 0).unwrap() > c);
        // Before 1955: no id.
        assert_eq!(IdGenerator::imported_id(-631_152_000_000, 0), None); // 1950
    }

    #[test]
    fn node_is_encoded_and_bounded() {
        assert!(IdGenerator::new(32).is_err());
        assert!(IdGenerator::new(31).is_err(), "31 is imported history's");
        let generator = IdGenerator::new(5).unwrap();
        let id = generator.next_with_clock(|| EPOCH_UNIX_MS + 7);
        assert_eq!((id >> 7) & 0x1f, 5);
        assert_eq!(id >> 12, 7);
    }
}
