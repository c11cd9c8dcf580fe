//! Each system's first day, kept as state in the warehouse so that ages stay right after the
//! raw check-ins are pruned.
//!
//! Stored as segments of (UUID, day) pairs, zstd-compressed, listed in the manifest: a
//! transaction writes only the systems it added or moved back, so its cost follows the batch,
//! not the fleet. Past [`MAX_SEGMENTS`] one transaction writes the whole state as a single
//! segment and drops the others. A run loads the state once and keeps it across its batches.

use bytes::Bytes;
use polars::prelude::PlHashMap;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::warehouse::{Txn, Warehouse};

/// The state's name in the manifest's `state_segments`.
const STATE_NAME: &str = "telemetry_first_seen";
/// Where pipelake before segments kept the whole state as one object; read, then replaced.
const LEGACY_KEY: &str = "_pipelake/state/telemetry_first_seen.bin.zst";
/// Segments beyond this many are merged into one.
const MAX_SEGMENTS: usize = 16;
const ENTRY: usize = 20;

/// First days (days since the epoch) of all systems seen so far.
pub(super) struct FirstSeen {
    first: PlHashMap<u128, i32>,
    /// Systems added or moved back since the last save.
    changed: Vec<u128>,
    /// Whether the next save writes the whole state (a legacy state object was read).
    rewrite: bool,
}

impl FirstSeen {
    /// The committed state.
    pub fn load(warehouse: &Warehouse) -> Result<Self> {
        let keys = warehouse.manifest().state_segments.get(STATE_NAME).cloned().unwrap_or_default();
        let mut segments = warehouse
            .location()
            .get_many(&keys)
            .into_par_iter()
            .zip(&keys)
            .map(|(bytes, key)| decode(&bytes?, key))
            .collect::<Result<Vec<_>>>()?;
        let mut rewrite = false;
        if keys.is_empty() {
            if let Some(bytes) = warehouse.location().get_opt(LEGACY_KEY)? {
                segments.push(decode(&bytes, LEGACY_KEY)?);
                rewrite = true;
            }
        }
        let mut first = PlHashMap::with_capacity_and_hasher(segments.iter().map(Vec::len).sum(), Default::default());
        for (id, day) in segments.into_iter().flatten() {
            // A later segment only ever moves a day back; the minimum is right in any order.
            first.entry(id).and_modify(|d: &mut i32| *d = (*d).min(day)).or_insert(day);
        }
        Ok(FirstSeen { first, changed: Vec::new(), rewrite })
    }

    /// An empty state (no system seen).
    #[cfg(test)]
    fn empty() -> Self {
        FirstSeen { first: PlHashMap::default(), changed: Vec::new(), rewrite: false }
    }

    /// Make room for `additional` more systems (growing the table once instead of rehashing
    /// it several times while a batch is deduplicated).
    pub fn reserve(&mut self, additional: usize) {
        self.first.reserve(additional);
    }

    /// Note that system `id` checked in on `day`; returns its first day. A late object in an
    /// older day folder moves the first day back.
    pub fn observe(&mut self, id: u128, day: i32) -> i32 {
        match self.first.get_mut(&id) {
            Some(first) if *first <= day => *first,
            Some(first) => {
                *first = day;
                self.changed.push(id);
                day
            }
            None => {
                self.first.insert(id, day);
                self.changed.push(id);
                day
            }
        }
    }

    /// The first day of a system, if seen.
    #[cfg(test)]
    pub fn get(&self, id: u128) -> Option<i32> {
        self.first.get(&id).copied()
    }

    /// Publish what changed since the last save with `txn`.
    pub fn save(&mut self, txn: &mut Txn) -> Result<()> {
        if self.changed.is_empty() && !self.rewrite {
            return Ok(());
        }
        let mut segments = txn.manifest().state_segments.get(STATE_NAME).cloned().unwrap_or_default();
        let entries: Vec<(u128, i32)> = if self.rewrite || segments.len() + 1 > MAX_SEGMENTS {
            // Sizes unknown here (not read again): 0.
            for key in segments.drain(..) {
                txn.remove_object(key, 0);
            }
            if self.rewrite {
                txn.remove_object(LEGACY_KEY.to_string(), 0);
            }
            self.first.iter().map(|(id, day)| (*id, *day)).collect()
        } else {
            self.changed.iter().map(|id| (*id, self.first[id])).collect()
        };
        let key = txn.new_key(&format!("_pipelake/state/{STATE_NAME}"), ".bin.zst");
        txn.put_object(key.clone(), encode(&entries, &key)?);
        segments.push(key);
        txn.manifest_mut().state_segments.insert(STATE_NAME.to_string(), segments);
        self.changed.clear();
        self.rewrite = false;
        Ok(())
    }
}

fn encode(entries: &[(u128, i32)], key: &str) -> Result<Bytes> {
    let mut raw = Vec::with_capacity(entries.len() * ENTRY);
    for (id, day) in entries {
        raw.extend_from_slice(&id.to_le_bytes());
        raw.extend_from_slice(&day.to_le_bytes());
    }
    zstd::bulk::compress(&raw, 1).map(Bytes::from).map_err(|e| Error::bookkeeping(key, e))
}

fn decode(bytes: &[u8], key: &str) -> Result<Vec<(u128, i32)>> {
    let raw = zstd::decode_all(bytes).map_err(|e| Error::bookkeeping(key, e))?;
    if raw.len() % ENTRY != 0 {
        return Err(Error::bookkeeping(key, "truncated state"));
    }
    Ok(raw
        .chunks_exact(ENTRY)
        .map(|c| (u128::from_le_bytes(c[..16].try_into().expect("16 bytes")), i32::from_le_bytes(c[16..].try_into().expect("4 bytes"))))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_day_sticks_and_moves_back_only_for_earlier_days() {
        let mut state = FirstSeen::empty();
        assert_eq!(state.observe(7, 5), 5);
        assert_eq!(state.observe(7, 9), 5);
        assert_eq!(state.observe(7, 2), 2);
        assert_eq!(state.observe(3, 4), 4);
        assert_eq!(state.get(7), Some(2));
        assert_eq!(state.get(1), None);
        assert_eq!(state.changed, vec![7, 7, 3]);
    }

    fn warehouse(dir: &std::path::Path) -> Warehouse {
        let runtime = std::sync::Arc::new(tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap());
        let location = crate::lake::Location::open(dir.to_str().unwrap(), true, runtime).unwrap();
        let second = std::time::Duration::from_secs(1);
        Warehouse::open_for_writing(location, vec![], "test", &["test".into()], second, second * 60).unwrap()
    }

    fn segments(warehouse: &Warehouse) -> Vec<String> {
        warehouse.manifest().state_segments.get(STATE_NAME).cloned().unwrap_or_default()
    }

    #[test]
    fn each_save_writes_the_changes_and_many_segments_merge_into_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut warehouse = warehouse(dir.path());
        let mut state = FirstSeen::load(&warehouse).unwrap();
        for batch in 0..MAX_SEGMENTS as u128 + 1 {
            state.observe(batch, 100 + batch as i32);
            state.observe(0, 50); // system 0 moves back once, then stays
            let mut txn = warehouse.begin();
            state.save(&mut txn).unwrap();
            warehouse.commit(txn).unwrap();
            let reloaded = FirstSeen::load(&warehouse).unwrap();
            assert_eq!(reloaded.first, state.first, "after batch {batch}");
        }
        // The 17th save merged the 16 segments before it with its changes into one.
        let files = segments(&warehouse);
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(decode(&warehouse.location().get_opt(&files[0]).unwrap().unwrap(), "k").unwrap().len(), MAX_SEGMENTS + 1);
        // Nothing changed: nothing written.
        let mut txn = warehouse.begin();
        FirstSeen::load(&warehouse).unwrap().save(&mut txn).unwrap();
        assert!(txn.is_empty());
    }

    #[test]
    fn a_state_from_before_segments_is_read_then_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let mut warehouse = warehouse(dir.path());
        warehouse.location().put(LEGACY_KEY, encode(&[(5, 10), (9, 12)], LEGACY_KEY).unwrap()).unwrap();
        let mut state = FirstSeen::load(&warehouse).unwrap();
        assert_eq!((state.get(5), state.get(9), state.get(1)), (Some(10), Some(12), None));
        let mut txn = warehouse.begin();
        state.save(&mut txn).unwrap();
        warehouse.commit(txn).unwrap();
        // Out of the warehouse with that commit; on disk for older readers until vacuumed.
        assert!(warehouse.manifest().removed.contains_key(LEGACY_KEY));
        assert!(warehouse.location().get_opt(LEGACY_KEY).unwrap().is_some());
        warehouse.vacuum(0, false).unwrap();
        assert_eq!(warehouse.location().get_opt(LEGACY_KEY).unwrap(), None);
        assert!(warehouse.manifest().removed.is_empty());
        assert_eq!(segments(&warehouse).len(), 1);
        assert_eq!(FirstSeen::load(&warehouse).unwrap().first, state.first);
    }

    #[test]
    fn segments_round_trip() {
        let entries = vec![(1u128, 5), (u128::MAX, -3), (42, 20000)];
        let bytes = encode(&entries, "k").unwrap();
        assert_eq!(decode(&bytes, "k").unwrap(), entries);
        let cut = zstd::bulk::compress(&[0u8; 19], 1).unwrap();
        assert!(decode(&cut, "k").is_err());
    }
}
