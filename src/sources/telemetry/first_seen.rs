//! Each system's first day, kept as state under `_pipelake/` so that ages stay right after the
//! raw check-ins are pruned. Stored as sorted (UUID, day) pairs, zstd-compressed: a batch reads it
//! in milliseconds and looks its systems up by binary search, whatever the fleet's size.

use bytes::Bytes;
use chrono::NaiveDate;
use polars::prelude::PlHashMap;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::timestamp::{date_to_days, days_to_date};
use crate::warehouse::Warehouse;

/// Where the state lives in the warehouse.
pub(super) const STATE_KEY: &str = "_pipelake/state/telemetry_first_seen.bin.zst";
const ENTRY: usize = 20;

/// First days of all systems seen so far, plus this batch's changes.
pub(super) struct FirstSeen {
    known: Vec<(u128, i32)>,
    changed: PlHashMap<u128, i32>,
}

impl FirstSeen {
    /// The committed state.
    pub fn load(warehouse: &Warehouse) -> Result<Self> {
        let known = match warehouse.location().get_opt(STATE_KEY)? {
            Some(bytes) => decode(&bytes)?,
            None => Vec::new(),
        };
        Ok(FirstSeen { known, changed: PlHashMap::default() })
    }

    /// Note that `id` checked in on `day`; returns its first day as of this batch (a later
    /// check-in of the same batch in an older day folder can still move it back for the state).
    pub fn observe(&mut self, id: Uuid, day: NaiveDate) -> NaiveDate {
        let key = id.as_u128();
        let day = date_to_days(day);
        let first = match self.lookup(key) {
            // A late object in an older day folder moves the first day back.
            Some(first) if first <= day => first,
            _ => {
                self.changed.insert(key, day);
                day
            }
        };
        days_to_date(first)
    }

    /// The first day of a system already observed.
    #[cfg(test)]
    pub fn get(&self, id: Uuid) -> Option<NaiveDate> {
        self.lookup(id.as_u128()).map(days_to_date)
    }

    fn lookup(&self, key: u128) -> Option<i32> {
        self.changed.get(&key).copied().or_else(|| self.known.binary_search_by_key(&key, |e| e.0).ok().map(|i| self.known[i].1))
    }

    /// Whether anything changed since loading.
    pub fn changed(&self) -> bool {
        !self.changed.is_empty()
    }

    /// The new state, to publish with the batch.
    pub fn encode(&self) -> Result<Bytes> {
        // Merge the (sorted) known entries with this batch's changes, sorted: no full re-sort.
        let mut changes: Vec<(u128, i32)> = self.changed.iter().map(|(k, d)| (*k, *d)).collect();
        changes.sort_unstable();
        let mut all = Vec::with_capacity(self.known.len() + changes.len());
        let mut known = self.known.iter().copied().peekable();
        for change in changes {
            while let Some(k) = known.next_if(|k| k.0 < change.0) {
                all.push(k);
            }
            // A changed system replaces its known entry.
            known.next_if(|k| k.0 == change.0);
            all.push(change);
        }
        all.extend(known);
        let mut raw = Vec::with_capacity(all.len() * ENTRY);
        for (k, d) in all {
            raw.extend_from_slice(&k.to_le_bytes());
            raw.extend_from_slice(&d.to_le_bytes());
        }
        zstd::bulk::compress(&raw, 1).map(Bytes::from).map_err(|e| Error::bookkeeping(STATE_KEY, e))
    }
}

fn decode(bytes: &[u8]) -> Result<Vec<(u128, i32)>> {
    let raw = zstd::decode_all(bytes).map_err(|e| Error::bookkeeping(STATE_KEY, e))?;
    if raw.len() % ENTRY != 0 {
        return Err(Error::bookkeeping(STATE_KEY, "truncated state"));
    }
    Ok(raw
        .chunks_exact(ENTRY)
        .map(|c| (u128::from_le_bytes(c[..16].try_into().expect("16 bytes")), i32::from_le_bytes(c[16..].try_into().expect("4 bytes"))))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, d).unwrap()
    }

    #[test]
    fn first_day_sticks_and_moves_back_only_for_earlier_days() {
        let a = Uuid::from_u128(7);
        let b = Uuid::from_u128(3);
        let mut state = FirstSeen { known: Vec::new(), changed: PlHashMap::default() };
        assert_eq!(state.observe(a, day(5)), day(5));
        assert_eq!(state.observe(a, day(9)), day(5));
        assert_eq!(state.observe(a, day(2)), day(2));
        state.observe(b, day(4));
        let reloaded = FirstSeen { known: decode(&state.encode().unwrap()).unwrap(), changed: PlHashMap::default() };
        assert_eq!(reloaded.get(a), Some(day(2)));
        assert_eq!(reloaded.get(b), Some(day(4)));
        assert_eq!(reloaded.get(Uuid::from_u128(1)), None);
        assert!(!reloaded.changed());
    }

    #[test]
    fn encoding_merges_changes_into_the_known_entries() {
        let d = |n| date_to_days(day(n));
        let mut state = FirstSeen { known: vec![(1, d(5)), (3, d(5)), (7, d(5))], changed: PlHashMap::default() };
        state.observe(Uuid::from_u128(3), day(2)); // moves back
        state.observe(Uuid::from_u128(5), day(6)); // new
        state.observe(Uuid::from_u128(9), day(6)); // new, after all known
        state.observe(Uuid::from_u128(7), day(8)); // no change
        assert_eq!(decode(&state.encode().unwrap()).unwrap(), vec![(1, d(5)), (3, d(2)), (5, d(6)), (7, d(5)), (9, d(6))]);
    }
}
