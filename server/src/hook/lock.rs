//! Atlas's `migrate apply` lock (`atlas_migrate_execute`, spec §6.1), taken
//! the way Atlas takes it so that Atlas and strata exclude each other.
//!
//! * PostgreSQL: the session advisory lock `pg_try_advisory_lock(2686470616)`
//!   (the 32-bit FNV-1 of `atlas_migrate_execute`), polled with Atlas's
//!   back-off (25 ms doubling up to 1 s, plus up to as much jitter) until the
//!   timeout. The driver takes it on the connection that runs the migration
//!   and releases it with `pg_advisory_unlock` at the end (closing the
//!   connection releases it too).
//! * SQLite: Atlas's lock file `<temp dir>/atlas_migrate_execute.lock`
//!   (one for every SQLite database of the machine, as Atlas names it for a
//!   file URL), holding the expiry time in Unix nanoseconds. Atlas treats
//!   a file with a future expiry as "lock already taken" and removes the
//!   file to unlock. strata writes the same file, keeps its expiry
//!   [`LEASE`] ahead while it runs (Atlas writes `now + --lock-timeout`
//!   once), holds an OS lock (`flock`) on it so that two strata processes
//!   cannot both take an expired file, and removes it at the end. A file
//!   left by a crash stops being a lock when its expiry passes.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Atlas's lock name.
pub const LOCK_NAME: &str = "atlas_migrate_execute";

/// The PostgreSQL advisory lock id: FNV-1 (32 bit) of [`LOCK_NAME`].
pub const PG_LOCK_ID: i64 = fnv1_32(LOCK_NAME.as_bytes()) as i64;

/// How far ahead of now strata keeps the SQLite lock file's expiry.
pub const LEASE: Duration = Duration::from_secs(10);

/// 32-bit FNV-1 (Go's `hash/fnv.New32`).
const fn fnv1_32(b: &[u8]) -> u32 {
    let mut h: u32 = 2166136261;
    let mut i = 0;
    while i < b.len() {
        h = h.wrapping_mul(16777619);
        h ^= b[i] as u32;
        i += 1;
    }
    h
}

/// The next wait of Atlas's back-off: `min(inter, 1s)` plus a random part
/// of the same size; `inter` doubles.
pub fn backoff(inter: &mut u64) -> Duration {
    let d = (*inter).min(1000);
    *inter = inter.saturating_mul(2);
    let mut b = [0u8; 8];
    let jitter = match getrandom::fill(&mut b) {
        Ok(()) => u64::from_le_bytes(b) % d.max(1),
        Err(_) => d / 2,
    };
    Duration::from_millis(d + jitter)
}

fn unix_nanos(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Why the SQLite lock could not be taken.
#[derive(Debug)]
pub enum LockFileError {
    /// Another session holds it: Atlas (a future expiry in the file) or
    /// another strata process (its `flock`).
    Held { path: PathBuf, by_atlas_file: bool },
    /// The lock file could not be used.
    Io(String),
}

/// Atlas's SQLite lock file, held.
#[derive(Debug)]
pub struct LockFile {
    path: PathBuf,
    file: File,
    renew: Option<tokio::task::JoinHandle<()>>,
}

impl LockFile {
    /// The lock file's path in `dir`.
    pub fn path_in(dir: &Path) -> PathBuf {
        dir.join(format!("{LOCK_NAME}.lock"))
    }

    /// Takes the lock in `dir`, polling with back-off until `timeout`.
    pub async fn acquire(dir: &Path, timeout: Duration) -> Result<LockFile, LockFileError> {
        let path = LockFile::path_in(dir);
        let start = Instant::now();
        let mut inter = 25;
        loop {
            let p = path.clone();
            let attempt = tokio::task::spawn_blocking(move || LockFile::try_once(&p))
                .await
                .map_err(|e| LockFileError::Io(format!("the lock task failed: {e}")))?;
            match attempt {
                Ok(Some(mut lock)) => {
                    lock.start_renewal();
                    return Ok(lock);
                }
                Ok(None) => continue, // the file was replaced under us: look again
                Err(LockFileError::Held { .. }) if start.elapsed() < timeout => {
                    let left = timeout.saturating_sub(start.elapsed());
                    tokio::time::sleep(backoff(&mut inter).min(left + Duration::from_millis(1))).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One attempt: `Ok(None)` when the file was removed or replaced between
    /// opening and locking it (try again).
    fn try_once(path: &Path) -> Result<Option<LockFile>, LockFileError> {
        let io = |what: &str, e: std::io::Error| LockFileError::Io(format!("{what} {}: {e}", path.display()));
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| io("cannot open the lock file", e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(LockFileError::Held { path: path.to_path_buf(), by_atlas_file: false })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io("cannot lock", e)),
        }
        if !same_file(&file, path) {
            return Ok(None);
        }
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(|e| io("cannot read the lock file", e))?;
        let text = text.trim();
        if !text.is_empty() {
            let expires: i64 = text.parse().map_err(|_| {
                LockFileError::Io(format!(
                    "the lock file {} holds {text:?}, not an expiry time (Atlas writes Unix nanoseconds); remove it if no migration is running",
                    path.display()
                ))
            })?;
            if expires > unix_nanos(SystemTime::now()) {
                return Err(LockFileError::Held { path: path.to_path_buf(), by_atlas_file: true });
            }
        }
        write_expiry(&mut file).map_err(|e| io("cannot write the lock file", e))?;
        Ok(Some(LockFile { path: path.to_path_buf(), file, renew: None }))
    }

    /// Keeps the expiry [`LEASE`] ahead while the lock is held.
    fn start_renewal(&mut self) {
        let Ok(mut f) = self.file.try_clone() else { return };
        self.renew = Some(tokio::spawn(async move {
            loop {
                tokio::time::sleep(LEASE / 3).await;
                let _ = write_expiry(&mut f);
            }
        }));
    }

    /// Releases the lock: removes the file (as Atlas's unlock does), then
    /// drops the OS lock.
    pub fn release(mut self) -> Result<(), String> {
        if let Some(t) = self.renew.take() {
            t.abort();
        }
        let res = if same_file(&self.file, &self.path) {
            std::fs::remove_file(&self.path)
                .map_err(|e| format!("cannot remove the lock file {}: {e}; remove it by hand", self.path.display()))
        } else {
            Ok(())
        };
        let _ = self.file.unlock();
        res
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        if let Some(t) = self.renew.take() {
            t.abort();
        }
    }
}

/// Writes `now + LEASE` as Atlas's lock file content.
fn write_expiry(f: &mut File) -> std::io::Result<()> {
    let expires = unix_nanos(SystemTime::now() + LEASE);
    f.set_len(0)?;
    f.seek(SeekFrom::Start(0))?;
    f.write_all(expires.to_string().as_bytes())?;
    f.flush()
}

/// Whether `path` still names the open `file` (it was not removed or
/// replaced since it was opened).
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_advisory_lock_id_is_atlas_s() {
        assert_eq!(PG_LOCK_ID, 2686470616);
    }

    #[test]
    fn backoff_grows_to_one_second() {
        let mut inter = 25;
        let first = backoff(&mut inter);
        assert!(first >= Duration::from_millis(25) && first < Duration::from_millis(50));
        for _ in 0..10 {
            backoff(&mut inter);
        }
        let late = backoff(&mut inter);
        assert!(late >= Duration::from_secs(1) && late < Duration::from_secs(2));
    }
}
