//! A [`Location`] is a URL opened as an object store, with blocking helpers over its async API.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use tokio::runtime::Runtime;

use crate::error::{Error, Result};

/// How many object reads or writes are in flight at once.
const CONCURRENCY: usize = 16;

/// An object store rooted at the prefix a URL names. Keys are `/`-separated, relative to that root.
#[derive(Clone)]
pub struct Location {
    store: Arc<dyn ObjectStore>,
    runtime: Arc<Runtime>,
    url: String,
    local_root: Option<PathBuf>,
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Location").field("url", &self.url).finish()
    }
}

impl Location {
    /// Open `url`: a local path, `file://`, `memory://`, `s3://bucket/prefix`, `gs://…` or `az://…`.
    ///
    /// S3 reads the usual `AWS_*` variables (`AWS_ENDPOINT_URL` included; an `http://` endpoint is
    /// allowed without further setting). A local root is created when `create` is set; a missing
    /// local root that is only read behaves as an empty store.
    pub fn open(url: &str, create: bool, runtime: Arc<Runtime>) -> Result<Self> {
        let (store, local_root): (Arc<dyn ObjectStore>, Option<PathBuf>) = match scheme(url) {
            Some("s3") | Some("s3a") => (prefixed(s3_store(url)?, url)?, None),
            Some("gs") => (prefixed(build(url, GoogleCloudStorageBuilder::from_env().with_url(url).build())?, url)?, None),
            Some("az") | Some("abfs") | Some("abfss") | Some("azure") => {
                (prefixed(build(url, MicrosoftAzureBuilder::from_env().with_url(url).build())?, url)?, None)
            }
            Some("memory") => (Arc::new(InMemory::new()), None),
            Some("file") => {
                let parsed = url::Url::parse(url).map_err(|e| Error::usage(format!("invalid URL {url}: {e}")))?;
                let path = parsed.to_file_path().map_err(|_| Error::usage(format!("invalid file URL {url}")))?;
                local_store(&path, create)?
            }
            Some(other) if other.len() > 1 => return Err(Error::usage(format!("unsupported URL scheme {other}:// in {url}"))),
            _ => local_store(FsPath::new(url), create)?,
        };
        Ok(Location { store, runtime, url: url.to_string(), local_root })
    }

    /// The URL this location was opened from.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The local directory behind this location, when it is on local disk.
    pub fn local_root(&self) -> Option<&FsPath> {
        self.local_root.as_deref()
    }

    /// Run a future on the location's runtime, from synchronous code.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Every object under `prefix` (recursively).
    pub fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        let path = Path::from(prefix);
        let prefix_opt = if prefix.is_empty() { None } else { Some(&path) };
        self.block_on(self.store.list(prefix_opt).try_collect::<Vec<_>>()).map_err(|e| Error::store("list", self.display(prefix), e))
    }

    /// Every object under the folder `prefix`, listed as untrusted input: on local disk links
    /// are not followed (nothing outside the root is listed), and entries that cannot be objects
    /// (links, pipes, devices, names that are not UTF-8 or hold control characters, unreadable
    /// folders) are passed over with the reason instead of failing the listing.
    pub fn list_untrusted(&self, prefix: &str) -> Result<Listing> {
        match &self.local_root {
            Some(root) => Ok(walk_local(root, prefix)),
            None => {
                let path = Path::from(prefix);
                let items: Vec<object_store::Result<ObjectMeta>> = self.block_on(self.store.list(Some(&path)).collect());
                let mut listing = Listing::default();
                for item in items {
                    match item {
                        Ok(meta) => {
                            let key = meta.location.to_string();
                            if let Some(bad) = bad_name(&key) {
                                listing.skipped.push(Skipped { name: key.escape_debug().to_string(), reason: bad.into() });
                                continue;
                            }
                            let version = match (&meta.e_tag, &meta.version) {
                                (Some(tag), _) => format!("{}-{tag}", meta.size),
                                (None, Some(v)) => format!("{}-{v}", meta.size),
                                (None, None) => format!("{}-{}", meta.size, meta.last_modified.timestamp_micros()),
                            };
                            listing.objects.push(Entry { key, size: meta.size, last_modified: meta.last_modified, version });
                        }
                        Err(object_store::Error::NotFound { .. }) => {}
                        // A key object_store cannot take as a path costs what it was listed
                        // with (object_store parses a page of keys at once).
                        Err(e @ object_store::Error::InvalidPath { .. }) => {
                            listing.skipped.push(Skipped { name: format!("under {}", self.display(prefix)), reason: e.to_string() })
                        }
                        // The store itself failing (network, credentials) fails the listing.
                        Err(e) => return Err(Error::store("list", self.display(prefix), e)),
                    }
                }
                Ok(listing)
            }
        }
    }

    /// Read one object whole.
    pub fn get(&self, key: &str) -> Result<Bytes> {
        self.block_on(self.get_async(key))
    }

    /// Read one object, or `None` when it does not exist.
    pub fn get_opt(&self, key: &str) -> Result<Option<Bytes>> {
        match self.block_on(self.get_async(key)) {
            Ok(b) => Ok(Some(b)),
            Err(Error::Store { source: object_store::Error::NotFound { .. }, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether an object exists at `key`.
    pub fn exists(&self, key: &str) -> Result<bool> {
        match self.block_on(self.store.head(&Path::from(key))) {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(Error::store("look up", self.display(key), e)),
        }
    }

    /// Read many objects concurrently, results in the order of `keys`.
    pub fn get_many(&self, keys: &[String]) -> Vec<Result<Bytes>> {
        self.block_on(futures::stream::iter(keys.iter().map(|k| self.get_async(k))).buffered(CONCURRENCY).collect())
    }

    async fn get_async(&self, key: &str) -> Result<Bytes> {
        if let Some(root) = &self.local_root {
            // Read from disk directly: a link put in place of a listed file is not followed, and
            // names object_store would encode or refuse read as they are listed.
            let path = local_path(root, key);
            let read = tokio::task::spawn_blocking(move || read_no_follow(&path)).await;
            return match read {
                Ok(Ok(bytes)) => Ok(bytes),
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(Error::store("read", self.display(key), object_store::Error::NotFound { path: key.to_string(), source: e.into() }))
                }
                Ok(Err(source)) => Err(Error::Io { context: format!("read {}", self.display(key)), source }),
                Err(e) => Err(Error::Io { context: format!("read {}", self.display(key)), source: std::io::Error::other(e) }),
            };
        }
        let path = Path::from(key);
        let result = self.store.get(&path).await.map_err(|e| Error::store("read", self.display(key), e))?;
        result.bytes().await.map_err(|e| Error::store("read", self.display(key), e))
    }

    /// Write one object whole; the object appears complete or not at all.
    pub fn put(&self, key: &str, bytes: Bytes) -> Result<()> {
        self.block_on(self.store.put(&Path::from(key), PutPayload::from(bytes)))
            .map(|_| ())
            .map_err(|e| Error::store("write", self.display(key), e))
    }

    /// Write many objects concurrently.
    pub fn put_many(&self, items: Vec<(String, Bytes)>) -> Result<()> {
        self.block_on(
            futures::stream::iter(items.into_iter().map(|(k, b)| async move {
                self.store.put(&Path::from(k.as_str()), PutPayload::from(b)).await.map_err(|e| Error::store("write", self.display(&k), e))
            }))
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<_>>(),
        )
        .map(|_| ())
    }

    /// Create an object only if it does not exist yet. Returns false when it already existed.
    pub fn put_if_absent(&self, key: &str, bytes: Bytes) -> Result<bool> {
        let opts = PutOptions { mode: PutMode::Create, ..Default::default() };
        match self.block_on(self.store.put_opts(&Path::from(key), PutPayload::from(bytes), opts)) {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(e) => Err(Error::store("create", self.display(key), e)),
        }
    }

    /// Read an object with the version a conditional update names, or `None` when it does not exist.
    pub fn get_versioned(&self, key: &str) -> Result<Option<(Bytes, UpdateVersion)>> {
        let path = Path::from(key);
        let result = match self.block_on(self.store.get(&path)) {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(Error::store("read", self.display(key), e)),
        };
        let version = UpdateVersion { e_tag: result.meta.e_tag.clone(), version: result.meta.version.clone() };
        let bytes = self.block_on(result.bytes()).map_err(|e| Error::store("read", self.display(key), e))?;
        Ok(Some((bytes, version)))
    }

    /// Write an object only if `mode` holds (`Create`: it does not exist; `Update`: it is still
    /// at that version). Returns the new version, or `None` when the condition failed.
    pub fn put_conditional(&self, key: &str, bytes: Bytes, mode: PutMode) -> Result<Option<UpdateVersion>> {
        let opts = PutOptions { mode, ..Default::default() };
        match self.block_on(self.store.put_opts(&Path::from(key), PutPayload::from(bytes), opts)) {
            Ok(r) => Ok(Some(UpdateVersion { e_tag: r.e_tag, version: r.version })),
            Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => Ok(None),
            Err(e) => Err(Error::store("conditional write", self.display(key), e)),
        }
    }

    /// Delete one object; a missing object is not an error.
    pub fn delete(&self, key: &str) -> Result<()> {
        match self.block_on(self.store.delete(&Path::from(key))) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Error::store("delete", self.display(key), e)),
        }
    }

    /// Delete many objects concurrently; missing ones are not an error.
    pub fn delete_many(&self, keys: &[String]) -> Result<()> {
        self.block_on(
            futures::stream::iter(keys.iter().map(|k| async move {
                match self.store.delete(&Path::from(k.as_str())).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(Error::store("delete", self.display(k), e)),
                }
            }))
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<_>>(),
        )
        .map(|_| ())
    }

    /// On local disk, flush the files at `keys` and the folders holding them to the disk, so
    /// that a power loss after this returns keeps them (object stores are durable on success).
    pub fn sync(&self, keys: &[String]) -> Result<()> {
        let Some(root) = &self.local_root else { return Ok(()) };
        for key in keys {
            sync_path(&local_path(root, key))?;
        }
        self.sync_folders(keys)
    }

    /// On local disk, flush the folders holding `keys` (after renames into them).
    pub fn sync_folders(&self, keys: &[String]) -> Result<()> {
        let Some(root) = &self.local_root else { return Ok(()) };
        let folders: std::collections::BTreeSet<PathBuf> =
            keys.iter().filter_map(|k| local_path(root, k).parent().map(FsPath::to_path_buf)).collect();
        folders.iter().try_for_each(|folder| sync_path(folder))
    }

    /// Remove the folder `prefix` if it is empty, on local disk (object stores have no folders).
    /// Best effort: a folder left behind is only untidy.
    pub fn remove_empty_folder(&self, prefix: &str) {
        if let Some(root) = &self.local_root {
            let _ = std::fs::remove_dir(root.join(prefix));
        }
    }

    /// Remove every empty folder under `prefix` (not `prefix` itself), deepest first, on local
    /// disk. Best effort, like [`Location::remove_empty_folder`].
    pub fn remove_empty_folders(&self, prefix: &str) {
        fn remove_under(dir: &FsPath) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    remove_under(&entry.path());
                    let _ = std::fs::remove_dir(entry.path());
                }
            }
        }
        if let Some(root) = &self.local_root {
            remove_under(&root.join(prefix));
        }
    }

    /// Move an object, replacing the target. Atomic on local disk (rename); on object stores a
    /// copy, which replaces the target in one step, then a delete of the source.
    pub fn rename(&self, from: &str, to: &str) -> Result<()> {
        self.block_on(self.store.rename(&Path::from(from), &Path::from(to)))
            .map_err(|e| Error::store("rename", format!("{} -> {}", self.display(from), to), e))
    }

    /// A human-readable name for a key under this location.
    pub fn display(&self, key: &str) -> String {
        format!("{}/{}", self.url.trim_end_matches('/'), key)
    }
}

/// An object found by [`Location::list_untrusted`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Key relative to the location's root, `/`-separated.
    pub key: String,
    pub size: u64,
    pub last_modified: DateTime<Utc>,
    /// Changes whenever the object's content may have changed: size and ETag on object stores;
    /// size, modification time and inode on local disk.
    pub version: String,
}

/// An entry a listing passed over: its name, escaped so that it prints on one line, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// What [`Location::list_untrusted`] found.
#[derive(Debug, Default)]
pub struct Listing {
    pub objects: Vec<Entry>,
    pub skipped: Vec<Skipped>,
}

/// Why a key cannot stand for an object, if it cannot: it must be printable on one line in
/// logs, CSV and terminals.
fn bad_name(key: &str) -> Option<&'static str> {
    key.chars().any(char::is_control).then_some("name holds control characters")
}

/// The file behind `key` under a local root.
fn local_path(root: &FsPath, key: &str) -> PathBuf {
    let mut path = root.to_path_buf();
    path.extend(key.split('/').filter(|p| !p.is_empty() && *p != "." && *p != ".."));
    path
}

/// Flush a file or folder to the disk.
/// Flush a local file or folder to the disk.
pub fn sync_path(path: &FsPath) -> Result<()> {
    std::fs::File::open(path).and_then(|f| f.sync_all()).map_err(|source| Error::Io { context: format!("sync {}", path.display()), source })
}

/// Read a file, refusing to follow a link in its place (`O_NOFOLLOW`) and anything but a
/// regular file (a pipe would block for ever).
fn read_no_follow(path: &FsPath) -> std::io::Result<Bytes> {
    use std::io::Read;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let mut file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut out = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut out)?;
    Ok(Bytes::from(out))
}

/// List the files under `root/prefix` without following links, iteratively (no depth limit on
/// the stack), passing over what cannot be an object.
fn walk_local(root: &FsPath, prefix: &str) -> Listing {
    let mut listing = Listing::default();
    let start = local_path(root, prefix);
    let skip = |listing: &mut Listing, name: String, reason: String| listing.skipped.push(Skipped { name, reason });
    match std::fs::symlink_metadata(&start) {
        Err(_) => return listing,
        Ok(m) if m.file_type().is_symlink() => {
            skip(&mut listing, prefix.to_string(), "symbolic link: not followed".into());
            return listing;
        }
        Ok(m) if !m.is_dir() => return listing,
        Ok(_) => {}
    }
    let mut stack = vec![(start, prefix.trim_end_matches('/').to_string())];
    while let Some((dir, key)) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                skip(&mut listing, key, format!("folder cannot be read: {e}"));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    skip(&mut listing, key.clone(), format!("folder cannot be read: {e}"));
                    continue;
                }
            };
            let os_name = entry.file_name();
            let Some(name) = os_name.to_str() else {
                let escaped = os_name.as_encoded_bytes().escape_ascii().to_string();
                skip(&mut listing, format!("{key}/{escaped}"), "name is not valid UTF-8".into());
                continue;
            };
            let child = format!("{key}/{name}");
            if let Some(bad) = bad_name(name) {
                skip(&mut listing, child.escape_debug().to_string(), bad.into());
                continue;
            }
            let meta = match std::fs::symlink_metadata(entry.path()) {
                Ok(meta) => meta,
                Err(e) => {
                    skip(&mut listing, child, format!("cannot be read: {e}"));
                    continue;
                }
            };
            let kind = meta.file_type();
            if kind.is_symlink() {
                skip(&mut listing, child, "symbolic link: not followed".into());
            } else if kind.is_dir() {
                stack.push((entry.path(), child));
            } else if !kind.is_file() {
                skip(&mut listing, child, "not a regular file (pipe, socket or device)".into());
            } else {
                let last_modified: DateTime<Utc> = meta.modified().map(DateTime::from).unwrap_or_default();
                #[cfg(unix)]
                let inode = std::os::unix::fs::MetadataExt::ino(&meta);
                #[cfg(not(unix))]
                let inode = 0u64;
                let version = format!("{}-{:x}-{inode:x}", meta.len(), last_modified.timestamp_nanos_opt().unwrap_or_default());
                listing.objects.push(Entry { key: child, size: meta.len(), last_modified, version });
            }
        }
    }
    listing
}

fn scheme(url: &str) -> Option<&str> {
    url.split_once("://").map(|(s, _)| s)
}

fn build<T>(url: &str, built: object_store::Result<T>) -> Result<T> {
    built.map_err(|e| Error::usage(format!("cannot open {url}: {e}")))
}

fn s3_store(url: &str) -> Result<Arc<dyn ObjectStore>> {
    let mut builder = AmazonS3Builder::from_env().with_url(url);
    let endpoint =
        std::env::var("AWS_ENDPOINT_URL_S3").or_else(|_| std::env::var("AWS_ENDPOINT_URL")).or_else(|_| std::env::var("AWS_ENDPOINT"));
    if let Ok(endpoint) = endpoint {
        if endpoint.starts_with("http://") {
            builder = builder.with_allow_http(true);
        }
        // S3-compatible servers address buckets by path, not by virtual host.
        builder = builder.with_virtual_hosted_style_request(false);
    }
    Ok(Arc::new(build(url, builder.build())?))
}

/// Wrap a bucket-level store so that keys are relative to the URL's path.
fn prefixed<S: ObjectStore>(store: S, url: &str) -> Result<Arc<dyn ObjectStore>> {
    let parsed = url::Url::parse(url).map_err(|e| Error::usage(format!("invalid URL {url}: {e}")))?;
    let prefix = parsed.path().trim_matches('/');
    if prefix.is_empty() {
        Ok(Arc::new(store))
    } else {
        Ok(Arc::new(PrefixStore::new(store, prefix)))
    }
}

fn local_store(path: &FsPath, create: bool) -> Result<(Arc<dyn ObjectStore>, Option<PathBuf>)> {
    if !path.exists() {
        if !create {
            // Nothing to read: behave as an empty store rather than an error.
            return Ok((Arc::new(InMemory::new()), Some(path.to_path_buf())));
        }
        std::fs::create_dir_all(path).map_err(|source| Error::Io { context: format!("create {}", path.display()), source })?;
    }
    if !path.is_dir() {
        return Err(Error::usage(format!("{} is not a directory", path.display())));
    }
    let root = path.canonicalize().map_err(|source| Error::Io { context: format!("open {}", path.display()), source })?;
    let store = LocalFileSystem::new_with_prefix(&root).map_err(|e| Error::usage(format!("cannot open {}: {e}", path.display())))?;
    Ok((Arc::new(store), Some(root)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_folders_go_and_folders_with_files_stay() {
        let dir = tempfile::tempdir().unwrap();
        let runtime = Arc::new(tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap());
        let location = Location::open(dir.path().to_str().unwrap(), true, runtime).unwrap();
        // Left by older versions: one folder tree per transaction, emptied by the moves.
        std::fs::create_dir_all(dir.path().join("staging/0001/table/date=2026-10-01")).unwrap();
        std::fs::create_dir_all(dir.path().join("staging/0002/table")).unwrap();
        std::fs::write(dir.path().join("staging/0002/table/part.parquet"), b"x").unwrap();
        location.remove_empty_folders("staging");
        assert!(!dir.path().join("staging/0001").exists());
        assert!(dir.path().join("staging/0002/table/part.parquet").exists());
        assert!(dir.path().join("staging").exists(), "the folder itself stays");
        location.remove_empty_folder("staging/0002");
        assert!(dir.path().join("staging/0002").exists(), "not empty");
    }
}
