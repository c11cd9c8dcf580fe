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
        self.changed.get(&key).copied().or_else(|| self.lookup_known(key))
    }

    /// Find `key` in the sorted known entries. Random (v4) UUIDs spread evenly over the key
    /// space, so the search starts where the key would sit and gallops outward: a few probes
    /// instead of twenty; clustered keys fall back to a binary search over a wider range.
    fn lookup_known(&self, key: u128) -> Option<i32> {
        let known = &self.known;
        let n = known.len();
        if n == 0 {
            return None;
        }
        let guess = (((key >> 64) * n as u128) >> 64) as usize;
        let (mut lo, mut hi, mut step) = (guess.min(n - 1), guess.min(n - 1) + 1, 1);
        if known[lo].0 > key {
            while lo > 0 && known[lo].0 > key {
                hi = lo;
                lo = lo.saturating_sub(step);
                step *= 2;
            }
        } else {
            while hi < n && known[hi].0 <= key {
                lo = hi;
                hi = (hi + step).min(n);
                step *= 2;
            }
        }
        known[lo..hi].binary_search_by_key(&key, |e| e.0).ok().map(|i| known[lo + i].1)
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
    fn lookup_finds_what_a_binary_search_finds() {
        let mut rng = crate::generate::Rng::new(3);
        for clustered in [false, true] {
            let mut keys: Vec<u128> = (0..5000)
                .map(|_| {
                    let k = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
                    if clustered {
                        k >> 100
                    } else {
                        k
                    }
                })
                .collect();
            keys.sort_unstable();
            keys.dedup();
            let state = FirstSeen { known: keys.iter().map(|k| (*k, (*k % 1000) as i32)).collect(), changed: PlHashMap::default() };
            for probe in keys.iter().copied().chain(keys.iter().map(|k| k.wrapping_add(1))).chain([0, u128::MAX]) {
                let expected = state.known.binary_search_by_key(&probe, |e| e.0).ok().map(|i| state.known[i].1);
                assert_eq!(state.lookup_known(probe), expected, "{probe}");
            }
        }
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
