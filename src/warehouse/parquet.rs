//! Parquet encoding of table partitions (zstd) and decoding for summaries.

use std::io::Cursor;

use bytes::Bytes;
use polars::prelude::*;

/// Encode a frame as one zstd-compressed Parquet file.
pub fn write_parquet(df: &mut DataFrame) -> PolarsResult<Bytes> {
    let mut buf = Vec::with_capacity(df.estimated_size() / 4 + 4096);
    ParquetWriter::new(&mut buf)
        .with_compression(ParquetCompression::Zstd(Some(polars_parquet::write::ZstdLevel::try_new(1)?)))
        .finish(df)?;
    Ok(Bytes::from(buf))
}

/// Decode one Parquet file, or only the named columns of it.
pub fn read_parquet(bytes: Bytes, columns: Option<Vec<String>>) -> PolarsResult<DataFrame> {
    ParquetReader::new(Cursor::new(bytes)).with_columns(columns).finish()
}

/// A `TIMESTAMP` column (UTC microseconds, no time zone) as the tables store them.
pub fn timestamp_column(name: &str, values: impl IntoIterator<Item = Option<i64>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), values.into_iter()).into_datetime(TimeUnit::Microseconds, None).into_column()
}
