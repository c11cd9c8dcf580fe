//! One writer at a time per piece of work. A writing command takes the scopes it works on (a
//! source it ingests or prunes, a summary table it computes, vacuum); a second command wanting
//! any of them waits for the first (up to `wait_seconds`) or stops with a message saying who
//! holds it. Commands on disjoint scopes run at once and meet only at the commit log, where the
//! later one rebases on the earlier one's commit (see `Warehouse::commit`).
//!
//! On local disk each scope's guard is an OS lock on `_pipelake/locks/<scope>.lock`: the OS
//! releases it when the holder exits, however it exits. On object stores it is a lease object
//! (`_pipelake/leases/<scope>.json`) created with a conditional put and renewed with conditional
//! updates; it expires `lease_seconds` (default 60) after its last renewal, so a crashed holder
//! blocks no longer than that, and a holder that lost its lease stops before its next commit.

use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use object_store::{PutMode, UpdateVersion};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::lake::Location;

const LOCK_DIR: &str = "_pipelake/locks";
const LEASE_DIR: &str = "_pipelake/leases";
/// A lease not renewed for this long is free for the taking, unless `lease_seconds` says otherwise.
pub const DEFAULT_LEASE_SECONDS: u64 = 60;
const POLL: Duration = Duration::from_millis(250);

/// Who holds the warehouse, as written into the lock file or lease.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holder {
    pub id: String,
    pub command: String,
    pub host: String,
    pub pid: u32,
    pub since: DateTime<Utc>,
    /// When a lease runs out unless renewed (leases only).
    #[serde(default)]
    pub expires: Option<DateTime<Utc>>,
}

impl Holder {
    fn new(command: &str) -> Holder {
        Holder {
            id: uuid::Uuid::new_v4().to_string(),
            command: command.to_string(),
            host: std::env::var("HOSTNAME")
                .or_else(|_| std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()))
                .unwrap_or_default(),
            pid: std::process::id(),
            since: Utc::now(),
            expires: None,
        }
    }

    fn describe(&self) -> String {
        let host = if self.host.is_empty() { String::new() } else { format!(" on {}", self.host) };
        format!("`pipelake {}` (pid {}{host}) since {}", self.command, self.pid, self.since.format("%Y-%m-%d %H:%M:%S UTC"))
    }
}

/// The right to write the scopes of a warehouse it was taken for, held until dropped.
pub struct WriterLock {
    guards: Vec<Guard>,
}

enum Guard {
    /// Held for its `Drop`: the OS lock lasts as long as the open file.
    #[allow(dead_code)]
    File(LockFile),
    Lease(Lease),
}

/// The locked lock file; emptied when released, so that an idle warehouse looks the same after
/// every run.
struct LockFile(File);

impl Drop for LockFile {
    fn drop(&mut self) {
        let _ = self.0.set_len(0);
    }
}

impl WriterLock {
    /// Take `scopes` of the warehouse for `command`, waiting up to `wait` for other writers
    /// holding any of them to finish; a lease (object stores) lasts `lease` past its last
    /// renewal. All or none: scopes are taken in order, and given back when one is busy.
    pub fn acquire(location: &Location, command: &str, scopes: &[String], wait: Duration, lease: Duration) -> Result<WriterLock> {
        let holder = Holder::new(command);
        let deadline = Instant::now() + wait;
        let mut logged = false;
        let mut scopes: Vec<&String> = scopes.iter().collect();
        scopes.sort();
        scopes.dedup();
        loop {
            let mut guards = Vec::with_capacity(scopes.len());
            let mut busy = None;
            for scope in &scopes {
                let attempt = match location.local_root() {
                    Some(root) => {
                        try_lock_file(&root.join(LOCK_DIR).join(format!("{scope}.lock")), &holder)?.map(|f| Guard::File(LockFile(f)))
                    }
                    None => Lease::try_take(location, &format!("{LEASE_DIR}/{scope}.json"), &holder, lease)?.map(Guard::Lease),
                };
                match attempt {
                    Ok(guard) => guards.push(guard),
                    Err(other) => {
                        busy = Some((scope.to_string(), other));
                        break;
                    }
                }
            }
            let Some((scope, other)) = busy else { return Ok(WriterLock { guards }) };
            drop(guards);
            let busy = format!("warehouse {} is busy: {} holds {scope}", location.url(), other.describe());
            if Instant::now() >= deadline {
                let hint = if wait.is_zero() { "; wait for it with --wait SECONDS (or wait_seconds in pipelake.toml)" } else { "" };
                return Err(Error::Busy(format!("{busy}{hint}")));
            }
            if !logged {
                tracing::info!(holder = %other.describe(), scope, "waiting for the warehouse");
                logged = true;
            }
            std::thread::sleep(POLL);
        }
    }

    /// Fail unless every scope is still held: a lease that could not be renewed in time may have
    /// been taken over, and committing then could interleave with the new holder.
    pub fn ensure_held(&self) -> Result<()> {
        let lost = self.guards.iter().any(|g| matches!(g, Guard::Lease(lease) if lease.shared.lost.load(Ordering::SeqCst)));
        if lost {
            return Err(Error::Busy(
                "lost the warehouse lease (not renewed in time; another job may have taken over): stopping before the next commit".into(),
            ));
        }
        Ok(())
    }
}

/// Try the OS lock of the lock file: `Ok(Ok(file))` when taken, `Ok(Err(holder))` when busy.
fn try_lock_file(path: &std::path::Path, me: &Holder) -> Result<std::result::Result<File, Holder>> {
    let io = |source| Error::Io { context: format!("lock {}", path.display()), source };
    std::fs::create_dir_all(path.parent().expect("a parent")).map_err(io)?;
    let mut file = std::fs::OpenOptions::new().create(true).truncate(false).read(true).write(true).open(path).map_err(io)?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0).map_err(io)?;
            file.write_all(&serde_json::to_vec(me).expect("holder serialises")).map_err(io)?;
            Ok(Ok(file))
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let text = std::fs::read(path).unwrap_or_default();
            let holder = serde_json::from_slice(&text).unwrap_or_else(|_| Holder { command: "?".into(), pid: 0, ..Holder::new("") });
            Ok(Err(holder))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
    }
}

/// A lease on an object store, renewed by a background thread.
struct Lease {
    shared: Arc<LeaseShared>,
    stop: Option<Sender<()>>,
    renewer: Option<JoinHandle<()>>,
}

struct LeaseShared {
    location: Location,
    key: String,
    holder: Mutex<(Holder, UpdateVersion)>,
    lost: AtomicBool,
    ttl: Duration,
}

impl Lease {
    /// Create the lease, or take over an expired one; the current holder when neither works.
    fn try_take(location: &Location, key: &str, me: &Holder, ttl: Duration) -> Result<std::result::Result<Lease, Holder>> {
        let mut mine = me.clone();
        mine.expires = Some(Utc::now() + ttl);
        let body = || Bytes::from(serde_json::to_vec(&mine).expect("holder serialises"));
        if let Some(version) = location.put_conditional(key, body(), PutMode::Create)? {
            return Ok(Ok(Lease::start(location, key, mine, version, ttl)));
        }
        let Some((bytes, version)) = location.get_versioned(key)? else { return Lease::try_take(location, key, me, ttl) };
        let current: Holder = match serde_json::from_slice(&bytes) {
            Ok(h) => h,
            // An unreadable lease protects nothing: take it over.
            Err(_) => Holder { expires: None, ..Holder::new("?") },
        };
        if current.expires.is_some_and(|e| e > Utc::now()) {
            return Ok(Err(current));
        }
        tracing::warn!(holder = %current.describe(), "taking over an expired warehouse lease");
        match location.put_conditional(key, body(), PutMode::Update(version))? {
            Some(version) => Ok(Ok(Lease::start(location, key, mine, version, ttl))),
            None => Ok(Err(current)),
        }
    }

    fn start(location: &Location, key: &str, holder: Holder, version: UpdateVersion, ttl: Duration) -> Lease {
        let shared = Arc::new(LeaseShared {
            location: location.clone(),
            key: key.to_string(),
            holder: Mutex::new((holder, version)),
            lost: AtomicBool::new(false),
            ttl,
        });
        let (stop, stopped) = mpsc::channel::<()>();
        let renewing = shared.clone();
        let every = ttl / 4;
        let renewer = std::thread::spawn(move || loop {
            match stopped.recv_timeout(every) {
                Err(RecvTimeoutError::Timeout) => renewing.renew(),
                _ => return,
            }
        });
        Lease { shared, stop: Some(stop), renewer: Some(renewer) }
    }
}

impl LeaseShared {
    fn renew(&self) {
        let mut guard = self.holder.lock().expect("lease state");
        let (holder, version) = &mut *guard;
        let expired = holder.expires.is_none_or(|e| e <= Utc::now());
        let mut next = holder.clone();
        next.expires = Some(Utc::now() + self.ttl);
        let body = Bytes::from(serde_json::to_vec(&next).expect("holder serialises"));
        match self.location.put_conditional(&self.key, body, PutMode::Update(version.clone())) {
            Ok(Some(v)) => {
                *holder = next;
                *version = v;
            }
            Ok(None) => {
                tracing::error!("the warehouse lease was taken over by another job");
                self.lost.store(true, Ordering::SeqCst);
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not renew the warehouse lease; retrying");
                if expired {
                    self.lost.store(true, Ordering::SeqCst);
                }
            }
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.renewer.take() {
            let _ = t.join();
        }
        if self.shared.lost.load(Ordering::SeqCst) {
            return;
        }
        // Give the lease back: only ours, and only as we last wrote it.
        let ours = self.shared.holder.lock().map(|g| g.0.id.clone()).unwrap_or_default();
        if let Ok(Some((bytes, _))) = self.shared.location.get_versioned(&self.shared.key) {
            if serde_json::from_slice::<Holder>(&bytes).is_ok_and(|h| h.id == ours) {
                let _ = self.shared.location.delete(&self.shared.key);
            }
        }
    }
}
