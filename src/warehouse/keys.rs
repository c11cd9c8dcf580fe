//! Dedup key index: every key accepted so far, as sorted segments under `_pipelake/keys/`.
//!
//! A night's batch only reads the segments whose key range overlaps the batch's keys, so with
//! roughly increasing keys (pipeline ids) the cost follows the new data, not the history.

use std::collections::HashSet;

use bytes::Bytes;
use rayon::prelude::*;

use super::{KeySegment, Txn, Warehouse};
use crate::error::{Error, Result};

/// Segments beyond this many are merged into one.
const MAX_SEGMENTS: usize = 16;

/// The dedup keys of one source.
pub struct KeyIndex;

impl KeyIndex {
    /// Which of `keys` were accepted by earlier transactions of index `name`.
    pub fn seen(warehouse: &Warehouse, name: &str, keys: &[i64]) -> Result<HashSet<i64>> {
        let (Some(&lo), Some(&hi)) = (keys.iter().min(), keys.iter().max()) else { return Ok(HashSet::new()) };
        let segments: Vec<&KeySegment> =
            warehouse.manifest().key_segments.get(name).into_iter().flatten().filter(|s| s.max >= lo && s.min <= hi).collect();
        if segments.is_empty() {
            return Ok(HashSet::new());
        }
        let files: Vec<String> = segments.iter().map(|s| s.file.clone()).collect();
        let loaded =
            warehouse.location().get_many(&files).into_iter().zip(&files).map(|(b, f)| decode(&b?, f)).collect::<Result<Vec<_>>>()?;
        Ok(keys.par_iter().copied().filter(|k| loaded.iter().any(|seg| seg.binary_search(k).is_ok())).collect())
    }

    /// Dedup in landing order: for each of `keys` (`None`: not a candidate, e.g. a reject), whether
    /// it is a first delivery, accepted neither by an earlier transaction nor earlier in `keys`.
    /// The first deliveries are recorded in `txn`.
    pub fn first_deliveries(warehouse: &Warehouse, txn: &mut Txn, name: &str, keys: &[Option<i64>]) -> Result<Vec<bool>> {
        let candidates: Vec<i64> = keys.iter().flatten().copied().collect();
        let seen = Self::seen(warehouse, name, &candidates)?;
        let mut new = HashSet::with_capacity(candidates.len());
        let firsts = keys.iter().map(|k| k.is_some_and(|k| !seen.contains(&k) && new.insert(k))).collect();
        Self::add(warehouse, txn, name, new.into_iter().collect())?;
        Ok(firsts)
    }

    /// Record `new_keys` (not seen before) in the transaction, merging segments when there are many.
    pub fn add(warehouse: &Warehouse, txn: &mut Txn, name: &str, mut new_keys: Vec<i64>) -> Result<()> {
        if new_keys.is_empty() {
            return Ok(());
        }
        let existing = txn.manifest().key_segments.get(name).cloned().unwrap_or_default();
        let mut keep = existing.clone();
        if existing.len() + 1 > MAX_SEGMENTS {
            let files: Vec<String> = existing.iter().map(|s| s.file.clone()).collect();
            for (bytes, file) in warehouse.location().get_many(&files).into_iter().zip(&files) {
                let bytes = bytes?;
                new_keys.extend(decode(&bytes, file)?);
                txn.remove_object(file.clone(), bytes.len() as u64);
            }
            keep.clear();
        }
        new_keys.par_sort_unstable();
        new_keys.dedup();
        let file = txn.new_key(&format!("_pipelake/keys/{name}"), ".keys.zst");
        let segment = KeySegment { file: file.clone(), min: new_keys[0], max: new_keys[new_keys.len() - 1], count: new_keys.len() as u64 };
        txn.put_object(file, encode(&new_keys)?);
        keep.push(segment);
        txn.manifest_mut().key_segments.insert(name.to_string(), keep);
        Ok(())
    }
}

/// Sorted keys as delta-encoded little-endian integers, zstd-compressed.
fn encode(sorted: &[i64]) -> Result<Bytes> {
    let mut raw = Vec::with_capacity(sorted.len() * 8);
    let mut prev = 0i64;
    for &k in sorted {
        raw.extend_from_slice(&k.wrapping_sub(prev).to_le_bytes());
        prev = k;
    }
    zstd::bulk::compress(&raw, 3).map(Bytes::from).map_err(|e| Error::bookkeeping("key segment", e))
}

fn decode(bytes: &[u8], file: &str) -> Result<Vec<i64>> {
    let raw = zstd::decode_all(bytes).map_err(|e| Error::bookkeeping(file, e))?;
    if raw.len() % 8 != 0 {
        return Err(Error::bookkeeping(file, "truncated key segment"));
    }
    let mut prev = 0i64;
    Ok(raw
        .chunks_exact(8)
        .map(|c| {
            prev = prev.wrapping_add(i64::from_le_bytes(c.try_into().expect("8 bytes")));
            prev
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_round_trip_with_negative_and_extreme_keys() {
        let keys = vec![i64::MIN, -5, 0, 7, 1_000_000, i64::MAX];
        assert_eq!(decode(&encode(&keys).unwrap(), "t").unwrap(), keys);
    }
}
