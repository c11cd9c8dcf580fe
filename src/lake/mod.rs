//! Object storage: opening a store from a URL, listing raw objects, reading them decompressed.

mod compression;
mod location;
mod raw_object;

pub use compression::{decompress, too_large, Compression, Decompressed};
pub use location::{sync_path, Entry, Listing, Location, Skipped};
pub use raw_object::{landing_day_from_key, list_raw_objects, RawListing, RawObject};
