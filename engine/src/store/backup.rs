//! Backups of the store: an online, consistent copy taken while the engine
//! writes (`VACUUM INTO`, one read transaction: a snapshot that never blocks
//! the writer), with a manifest (when, the log positions it holds, its size
//! and SHA-256); a check of a store (SQLite's integrity check, the log
//! positions against the ticks, well-formed candles); a restore into a
//! stopped data directory; and backups on a schedule, the newest kept.

use std::{
    collections::BTreeMap,
    io::Read,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::StoreError;
use crate::{
    metrics::Metrics,
    model::{BackupManifest, StoreCheck},
};

/// Backups on a schedule (`store.backup.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Where they go.
    pub dir: PathBuf,
    /// Time between two.
    pub every: Duration,
    /// How many are kept.
    pub keep: usize,
}

/// Takes a backup of `database` into `schedule.dir` every `schedule.every`
/// until `token` is cancelled, keeping the newest `schedule.keep` (with
/// their manifests). A failed backup is logged and counted
/// (`tickstream_backup_failures_total`); the next one is tried on time.
pub async fn run_schedule(
    database: PathBuf,
    schedule: Schedule,
    metrics: Arc<Metrics>,
    token: CancellationToken,
) {
    let start = tokio::time::Instant::now() + schedule.every;
    let mut every = tokio::time::interval_at(start, schedule.every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            () = token.cancelled() => return,
            _ = every.tick() => {}
        }
        let (from, to) = (database.clone(), schedule.clone());
        match crate::component::blocking(move || take_scheduled(&from, &to)).await {
            Ok(manifest) => {
                metrics.backups.inc();
                metrics
                    .backup_last_success
                    .set(manifest.created.timestamp());
                tracing::info!(file = %manifest.file, bytes = manifest.bytes, "backup taken");
            }
            Err(error) => {
                metrics.backup_failures.inc();
                tracing::error!(%error, "scheduled backup failed");
            }
        }
    }
}

/// One scheduled backup, named for its time, then the oldest beyond
/// `keep` removed.
fn take_scheduled(database: &Path, schedule: &Schedule) -> Result<BackupManifest, BackupError> {
    std::fs::create_dir_all(&schedule.dir).map_err(io(&schedule.dir))?;
    let name = format!("tickstream-{}.db", Utc::now().format("%Y%m%dT%H%M%S%.3fZ"));
    let manifest = backup(database, &schedule.dir.join(name))?;
    let mut taken: Vec<PathBuf> = std::fs::read_dir(&schedule.dir)
        .map_err(io(&schedule.dir))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("tickstream-") && n.ends_with(".db"))
        })
        .collect();
    taken.sort();
    let surplus = taken.len().saturating_sub(schedule.keep);
    for old in &taken[..surplus] {
        std::fs::remove_file(old).map_err(io(old))?;
        let _ = std::fs::remove_file(manifest_path(old));
    }
    Ok(manifest)
}

/// The backup to restore from `from`: the file itself, or the newest in the
/// directory `from` (by its manifest's time); with `until`, the newest
/// taken at or before it. Its manifest comes with it, when it has one.
///
/// # Errors
/// [`BackupError::NoneBefore`] when no backup qualifies, or the file
/// system's error.
pub fn choose(
    from: &Path,
    until: Option<DateTime<Utc>>,
) -> Result<(PathBuf, Option<BackupManifest>), BackupError> {
    let before = |manifest: &BackupManifest| until.is_none_or(|t| manifest.created <= t);
    if !from.is_dir() {
        let manifest = read_manifest(from)?;
        return match manifest {
            Some(manifest) if !before(&manifest) => Err(BackupError::NoneBefore {
                from: from.to_owned(),
                until: until.unwrap_or_default(),
            }),
            manifest => Ok((from.to_owned(), manifest)),
        };
    }
    let mut newest: Option<(PathBuf, BackupManifest)> = None;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let path = entry.map_err(io(from))?.path();
        let is_backup = path.extension().is_some_and(|e| e == "db");
        let Some(manifest) = is_backup
            .then(|| read_manifest(&path))
            .transpose()?
            .flatten()
        else {
            continue;
        };
        if before(&manifest)
            && newest
                .as_ref()
                .is_none_or(|(_, n)| manifest.created > n.created)
        {
            newest = Some((path, manifest));
        }
    }
    newest
        .map(|(path, manifest)| (path, Some(manifest)))
        .ok_or_else(|| BackupError::NoneBefore {
            from: from.to_owned(),
            until: until.unwrap_or_else(Utc::now),
        })
}

/// The manifest beside the backup `file`, if it has one.
fn read_manifest(file: &Path) -> Result<Option<BackupManifest>, BackupError> {
    let path = manifest_path(file);
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| BackupError::Manifest {
            path,
            message: e.to_string(),
        })
}

/// The manifest written beside a backup `FILE`: `FILE.manifest.json`.
pub fn manifest_path(backup: &Path) -> PathBuf {
    let mut name = backup.as_os_str().to_owned();
    name.push(".manifest.json");
    PathBuf::from(name)
}

/// Why a backup, check or restore failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The store refused a read or write.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The target of a backup already exists.
    #[error("{0} exists; choose a new file (a backup never overwrites)")]
    Exists(PathBuf),
    /// A backup's bytes do not match its manifest.
    #[error("{path} does not match its manifest: SHA-256 {found}, manifest says {expected}")]
    Checksum {
        /// The backup.
        path: PathBuf,
        /// What the file hashes to.
        found: String,
        /// What the manifest recorded.
        expected: String,
    },
    /// No backup was taken at or before the time asked for.
    #[error("no backup in {from} was taken at or before {until}")]
    NoneBefore {
        /// The file or directory looked in.
        from: PathBuf,
        /// The time asked for.
        until: DateTime<Utc>,
    },
    /// A manifest could not be read.
    #[error("manifest {path}: {message}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The store failed its check.
    #[error("{path} failed its check: {}", problems.join("; "))]
    Failed {
        /// The database.
        path: PathBuf,
        /// What is wrong.
        problems: Vec<String>,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Copies the database at `database` to `to` while its engine may run, and
/// writes the manifest beside it ([`manifest_path`]).
///
/// # Errors
/// [`BackupError::Exists`] when `to` exists; the store's or the file
/// system's error otherwise (nothing is left at `to` then).
pub fn backup(database: &Path, to: &Path) -> Result<BackupManifest, BackupError> {
    if to.exists() {
        return Err(BackupError::Exists(to.to_owned()));
    }
    let partial = {
        let mut name = to.as_os_str().to_owned();
        name.push(".partial");
        PathBuf::from(name)
    };
    let _ = std::fs::remove_file(&partial);
    let source = super::open_read_only(database)?;
    let target = partial
        .to_str()
        .ok_or_else(|| BackupError::Manifest {
            path: partial.clone(),
            message: "the path is not UTF-8".into(),
        })?
        .to_owned();
    let copied = source
        .execute("VACUUM INTO ?1", [&target])
        .map_err(StoreError::from);
    drop(source);
    if let Err(error) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(error.into());
    }
    let manifest = describe(&partial, to)?;
    std::fs::rename(&partial, to).map_err(io(to))?;
    let json = serde_json::to_string_pretty(&manifest).expect("manifests serialize");
    let manifest_file = manifest_path(to);
    std::fs::write(&manifest_file, json).map_err(io(&manifest_file))?;
    Ok(manifest)
}

/// The manifest of the backup at `file`, to be known as `name`.
fn describe(file: &Path, name: &Path) -> Result<BackupManifest, BackupError> {
    let conn = super::open_read_only(file)?;
    let mut positions: BTreeMap<String, BTreeMap<u32, u64>> = BTreeMap::new();
    {
        let mut rows = conn
            .prepare("SELECT topic, log_partition, next_offset FROM log_positions")
            .map_err(StoreError::from)?;
        let rows = rows
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(StoreError::from)?;
        for row in rows {
            let (topic, partition, next) = row.map_err(StoreError::from)?;
            positions
                .entry(topic)
                .or_default()
                .insert(partition as u32, next.max(0) as u64);
        }
    }
    let schema_version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(StoreError::from)?;
    let ticks = count(&conn, "ticks")?;
    let candles = count(&conn, "candles")?;
    drop(conn);
    let (bytes, sha256) = digest(file)?;
    Ok(BackupManifest {
        file: name.display().to_string(),
        created: Utc::now(),
        bytes,
        sha256,
        schema_version,
        ticks,
        candles,
        positions,
    })
}

/// The size and SHA-256 (hex) of a file.
fn digest(file: &Path) -> Result<(u64, String), BackupError> {
    let mut reader = std::fs::File::open(file).map_err(io(file))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = reader.read(&mut buffer).map_err(io(file))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
    let hex = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((bytes, hex))
}

/// The rows of `table`.
fn count(conn: &Connection, table: &str) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

/// Checks the database at `database`: SQLite's integrity and foreign-key
/// checks, every tick below its partition's recorded next offset, every
/// candle well-formed (low ≤ open, close ≤ high; no negative volume).
///
/// # Errors
/// The store's error when it cannot be read at all; what the check finds
/// is in the answer.
pub fn check(database: &Path) -> Result<StoreCheck, StoreError> {
    let conn = super::open_read_only(database)?;
    let mut problems = Vec::new();
    let integrity: Vec<String> = conn
        .prepare("PRAGMA integrity_check")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    if integrity != ["ok"] {
        problems.extend(integrity.into_iter().map(|p| format!("integrity: {p}")));
    }
    let orphans: i64 =
        conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })?;
    if orphans > 0 {
        problems.push(format!("{orphans} rows refer to missing rows"));
    }
    let ahead: Vec<(i64, i64, Option<i64>)> = conn
        .prepare(
            "SELECT t.log_partition, max(t.log_offset), max(p.next_offset)
             FROM ticks t LEFT JOIN log_positions p ON p.log_partition = t.log_partition
             GROUP BY t.log_partition
             HAVING max(p.next_offset) IS NULL OR max(t.log_offset) >= max(p.next_offset)",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (partition, offset, next) in ahead {
        problems.push(match next {
            Some(next) => format!(
                "partition {partition}: a tick at offset {offset} is past the recorded position {next}"
            ),
            None => format!("partition {partition}: ticks but no recorded position"),
        });
    }
    let malformed: i64 = conn.query_row(
        "SELECT count(*) FROM candles
         WHERE low > high OR open < low OR open > high OR close < low OR close > high
            OR volume < 0 OR trades < 0",
        [],
        |r| r.get(0),
    )?;
    if malformed > 0 {
        problems.push(format!("{malformed} candles are malformed"));
    }
    Ok(StoreCheck {
        ok: problems.is_empty(),
        ticks: count(&conn, "ticks")?,
        candles: count(&conn, "candles")?,
        problems,
    })
}

/// Puts the backup `from` in place as the database `database` (of a stopped
/// data directory; the caller holds its lock): its manifest's checksum (when
/// there is one) and the store's check must pass first. The database it
/// replaces, with its WAL, is moved aside (`tickstream.db.before-restore`).
///
/// # Errors
/// [`BackupError::Checksum`] or [`BackupError::Failed`] when the backup is
/// not sound (nothing is changed then); the file system's error otherwise.
pub fn restore(from: &Path, database: &Path) -> Result<StoreCheck, BackupError> {
    if let Some(manifest) = read_manifest(from)? {
        let (_, found) = digest(from)?;
        if found != manifest.sha256 {
            return Err(BackupError::Checksum {
                path: from.to_owned(),
                found,
                expected: manifest.sha256,
            });
        }
    }
    let checked = check(from)?;
    if !checked.ok {
        return Err(BackupError::Failed {
            path: from.to_owned(),
            problems: checked.problems,
        });
    }
    let sibling = |suffix: &str| {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    let incoming = sibling(".restoring");
    std::fs::copy(from, &incoming).map_err(io(&incoming))?;
    std::fs::File::open(&incoming)
        .and_then(|f| f.sync_all())
        .map_err(io(&incoming))?;
    // What it replaces keeps its WAL beside it, as SQLite names it.
    for suffix in ["", "-wal", "-shm"] {
        let (current, aside) = (
            sibling(suffix),
            sibling(&format!(".before-restore{suffix}")),
        );
        if current.exists() {
            std::fs::rename(&current, &aside).map_err(io(&aside))?;
        }
    }
    std::fs::rename(&incoming, database).map_err(io(database))?;
    Ok(checked)
}
