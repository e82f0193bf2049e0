//! Backups of the embedded database (issue 30): a practice running on one disk must be able to
//! take a copy while people work, know the copy is good, and put it back.
//!
//! - [`backup`] copies the running database with SQLite's `VACUUM INTO`, which reads one
//!   snapshot: writers are never blocked and the copy never restarts (the online backup API
//!   starts again whenever another connection writes, so under steady pushes it might never
//!   finish). Everything committed before the copy began is in it. The copy is written beside
//!   its destination under a temporary name, checked ([`check_copy`]), flushed to disk and only
//!   then renamed into place, so a backup that is stopped half-way leaves no half file where
//!   the copy should be.
//! - [`check_copy`] trusts nothing it has not read: SQLite's own integrity check, a schema this
//!   server knows, the audit chain verified entry by entry to its last hash, and the change log.
//! - [`restore`] puts a checked copy into an empty data directory (never over a live one).
//!
//! For PostgreSQL use the database's own tools (pg_dump, continuous archiving): see the README.

use std::path::{Path, PathBuf};

use anyhow::{ensure, Context};

use super::db::Db;
use super::schema::MIGRATIONS;
use super::sqlite::Sqlite;
use super::{audit_log, records};
use crate::args;

/// The database file in a data directory.
pub const DATABASE_FILE: &str = "mdt.sqlite3";

/// What a checked copy holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyFacts {
    /// The newest change number in it.
    pub change_head: u64,
    /// Audit entries, every one verified against the chain.
    pub audit_entries: u64,
    /// Schema steps it has run.
    pub schema_steps: u64,
    /// Its size on disk.
    pub bytes: u64,
}

impl std::fmt::Display for CopyFacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "changes up to number {}, {} audit entries (chain verified), schema step {}, {} bytes",
            self.change_head, self.audit_entries, self.schema_steps, self.bytes
        )
    }
}

/// What a copy must hold at least: everything committed before the backup began.
#[derive(Debug, Clone, Copy, Default)]
struct AtLeast {
    change_head: u64,
    audit_entries: u64,
}

/// The words of a store error, without a backtrace.
fn stored_err(e: crate::server::error::Error) -> anyhow::Error {
    match e {
        crate::server::error::Error::Internal(inner) => anyhow::anyhow!("{inner:#}"),
        other => anyhow::anyhow!("{other}"),
    }
}

/// The newest change number and the number of audit entries in the database `db`.
fn heads(db: &dyn Db) -> Result<AtLeast, crate::server::error::Error> {
    let audit = db
        .query_one("SELECT COALESCE(MAX(seq), 0) FROM audit", args![])?
        .int(0)?;
    Ok(AtLeast {
        change_head: records::latest_change(db)?,
        audit_entries: audit.max(0) as u64,
    })
}

/// Checks the SQLite file at `path` before it is trusted: SQLite's integrity check, a schema
/// this server knows, the audit chain verified to its last hash. What it holds, or why it
/// cannot be used.
pub fn check_copy(path: &Path) -> anyhow::Result<CopyFacts> {
    check_holding(path, AtLeast::default())
}

fn check_holding(path: &Path, at_least: AtLeast) -> anyhow::Result<CopyFacts> {
    let bytes = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    let unusable = |why: String| anyhow::anyhow!("{} is not a usable copy: {why}", path.display());
    let facts = Sqlite::read_file(path, |conn, db| {
        let integrity: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(crate::server::error::Error::from)?;
        if integrity != "ok" {
            return Ok(Err(format!("SQLite's integrity check says: {integrity}")));
        }
        let steps: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(crate::server::error::Error::from)?;
        if steps < 1 || steps as usize > MIGRATIONS.len() {
            return Ok(Err(format!(
                "its schema (step {steps}) is not one this server knows (1 to {})",
                MIGRATIONS.len()
            )));
        }
        let audit_entries = match audit_log::verify(db)? {
            Ok(count) => count,
            Err(broken) => return Ok(Err(broken.to_string())),
        };
        let held = heads(db)?;
        Ok(Ok(CopyFacts {
            change_head: held.change_head,
            audit_entries,
            schema_steps: steps as u64,
            bytes,
        }))
    })
    .map_err(|e| {
        unusable(format!(
            "it cannot be read as a database ({})",
            stored_err(e)
        ))
    })?
    .map_err(unusable)?;
    if facts.change_head < at_least.change_head || facts.audit_entries < at_least.audit_entries {
        return Err(unusable(format!(
            "it holds changes up to {} and {} audit entries, but the database held {} and {} when the backup began",
            facts.change_head, facts.audit_entries, at_least.change_head, at_least.audit_entries
        )));
    }
    Ok(facts)
}

/// The temporary names copies are written under beside `to` (`.name.partial-<pid>`).
fn partial_prefix(to: &Path) -> anyhow::Result<(PathBuf, String)> {
    let name = to
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{} is not a file name", to.display()))?;
    let dir = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, format!(".{name}.partial-")))
}

/// Flushes the directory `dir` itself, so a rename in it survives a power cut.
fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot flush the directory {}", dir.display()))?;
    Ok(())
}

/// Copies the embedded database in `data_dir` to the file `to` while the server may be
/// running, checks the copy and moves it into place: what the copy holds.
pub fn backup(data_dir: &Path, to: &Path) -> anyhow::Result<CopyFacts> {
    let source = data_dir.join(DATABASE_FILE);
    ensure!(
        source.is_file(),
        "no embedded database at {} (expected {})",
        data_dir.display(),
        source.display()
    );
    ensure!(
        !to.is_dir(),
        "{} is a directory: give the backup file's name, for example {}",
        to.display(),
        to.join("mdt-backup.sqlite3").display()
    );
    let (dir, prefix) = partial_prefix(to)?;
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    // Copies left by a backup that was stopped half-way.
    for entry in std::fs::read_dir(&dir)?.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let partial = dir.join(format!("{prefix}{}", std::process::id()));
    let conn = rusqlite::Connection::open_with_flags(
        &source,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open {}", source.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    // Everything acknowledged before now (pushes are durable once answered) must be in the copy.
    let at_least = {
        let tx = conn.unchecked_transaction()?;
        let held = super::sqlite::Sqlite::over_connection(&tx, heads).map_err(stored_err)?;
        tx.finish()?;
        held
    };
    let written = (|| -> anyhow::Result<CopyFacts> {
        conn.execute(
            "VACUUM INTO ?1",
            [partial
                .to_str()
                .context("the backup's path is not valid UTF-8")?],
        )
        .with_context(|| format!("cannot write the copy {}", partial.display()))?;
        let facts = check_holding(&partial, at_least)?;
        std::fs::File::open(&partial)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("cannot flush {}", partial.display()))?;
        std::fs::rename(&partial, to)
            .with_context(|| format!("cannot move the copy to {}", to.display()))?;
        sync_dir(&dir)?;
        Ok(facts)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

/// Puts the checked copy `from` into `data_dir`, which must hold no database: what it holds.
/// The server started on `data_dir` afterwards brings its schema up to date.
pub fn restore(from: &Path, data_dir: &Path) -> anyhow::Result<CopyFacts> {
    for name in [
        DATABASE_FILE.to_owned(),
        format!("{DATABASE_FILE}-wal"),
        format!("{DATABASE_FILE}-journal"),
    ] {
        ensure!(
            !data_dir.join(&name).exists(),
            "{} already holds a database ({name}): restore into an empty data directory, never over one in use (stop the server, move the directory aside, then restore)",
            data_dir.display()
        );
    }
    let facts = check_copy(from)?;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let partial = data_dir.join(format!(".{DATABASE_FILE}.partial"));
    let copied = (|| -> anyhow::Result<()> {
        std::fs::copy(from, &partial).with_context(|| {
            format!("cannot copy {} into {}", from.display(), data_dir.display())
        })?;
        std::fs::File::open(&partial).and_then(|f| f.sync_all())?;
        std::fs::rename(&partial, data_dir.join(DATABASE_FILE))?;
        sync_dir(data_dir)
    })();
    if copied.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    copied?;
    Ok(facts)
}
