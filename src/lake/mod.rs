//! Object storage: opening a store from a URL, listing raw objects, reading them decompressed.

mod compression;
mod location;
mod raw_object;

pub use compression::{decompress, Compression};
pub use location::Location;
pub use raw_object::{landing_day_from_key, list_raw_objects, RawObject};
