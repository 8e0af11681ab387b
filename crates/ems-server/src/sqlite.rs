//! [`Pipeline`] on SQLite (WAL, `synchronous=FULL`) with group commit: one
//! writer thread takes every write waiting in its queue, applies each in its
//! own savepoint inside one transaction, commits once (one fsync) and only
//! then answers each caller.

use crate::pipeline::*;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Largest number of writes in one transaction.
const MAX_BATCH: usize = 512;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS messages(
  seq INTEGER PRIMARY KEY, message_id TEXT NOT NULL, event TEXT NOT NULL,
  received_at TEXT NOT NULL, bytes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries(
  id INTEGER PRIMARY KEY, message_seq INTEGER NOT NULL REFERENCES messages(seq),
  message_id TEXT NOT NULL, mailbox TEXT NOT NULL, workflow_id TEXT NOT NULL,
  partner_id TEXT, subscriptions TEXT NOT NULL, local_id TEXT NOT NULL,
  state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL, mesh_message_id TEXT, last_error TEXT,
  UNIQUE(message_seq, mailbox));
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, next_attempt_ms);
CREATE TABLE IF NOT EXISTS audit(
  seq INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, asid TEXT,
  status INTEGER NOT NULL, record TEXT NOT NULL, payload BLOB, message_seq INTEGER);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS subscriptions(
  id TEXT PRIMARY KEY, owner_asid TEXT NOT NULL, contact_ods TEXT NOT NULL,
  mailbox TEXT NOT NULL, status TEXT NOT NULL, created TEXT NOT NULL, end_at TEXT,
  criteria TEXT NOT NULL, dup_key TEXT NOT NULL UNIQUE, resource TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('subscriptions_version', 0);
CREATE TRIGGER IF NOT EXISTS subscriptions_v1 AFTER INSERT ON subscriptions
  BEGIN UPDATE meta SET value = value + 1 WHERE key = 'subscriptions_version'; END;
CREATE TRIGGER IF NOT EXISTS subscriptions_v2 AFTER UPDATE ON subscriptions
  BEGIN UPDATE meta SET value = value + 1 WHERE key = 'subscriptions_version'; END;
CREATE TRIGGER IF NOT EXISTS subscriptions_v3 AFTER DELETE ON subscriptions
  BEGIN UPDATE meta SET value = value + 1 WHERE key = 'subscriptions_version'; END;
"#;

/// Stores written before `PRAGMA user_version` 1 declared `local_id TEXT
/// NOT NULL UNIQUE`. That index was never read, and `local_id`
/// (`<message id>:<mailbox>:<message seq>`) is unique by construction
/// (`UNIQUE(message_seq, mailbox)`), but its keys start with a random UUID:
/// every publish dirtied a random page of it, written to the WAL and
/// checkpointed again (about a third of the bytes a publish wrote). A SQLite
/// UNIQUE constraint cannot be dropped, so [`migrate`] rebuilds the table
/// without it (the rows are copied unchanged, ids included).
const DELIVERIES_V0: &str = "local_id TEXT NOT NULL UNIQUE,";

/// Brings a store written by an earlier version to the current schema
/// (`PRAGMA user_version`), in one transaction.
fn migrate(c: &mut Connection) -> rusqlite::Result<()> {
    let version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version >= 1 {
        return Ok(());
    }
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let sql: String = tx.query_row(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'deliveries'",
        [],
        |r| r.get(0),
    )?;
    if sql.contains(DELIVERIES_V0) {
        let current = sql
            .replacen("CREATE TABLE deliveries(", "CREATE TABLE deliveries_v1(", 1)
            .replacen(DELIVERIES_V0, "local_id TEXT NOT NULL,", 1);
        tx.execute_batch(&format!(
            "{current};
             INSERT INTO deliveries_v1 SELECT * FROM deliveries;
             DROP TABLE deliveries;
             ALTER TABLE deliveries_v1 RENAME TO deliveries;
             {SCHEMA}"
        ))?;
    }
    tx.execute_batch("PRAGMA user_version = 1;")?;
    tx.commit()
}

type Reply<T> = oneshot::Sender<Result<T, PipelineError>>;

/// An audit entry serialised by the caller (off the writer thread).
struct AuditRow {
    at: String,
    kind: &'static str,
    asid: Option<String>,
    status: u16,
    record: String,
    payload: Option<Vec<u8>>,
}

impl From<AuditEntry> for AuditRow {
    fn from(a: AuditEntry) -> AuditRow {
        AuditRow {
            at: a.at.to_rfc3339(),
            kind: a.kind.name(),
            asid: a.asid,
            status: a.status,
            record: a.record.to_string(),
            payload: a.payload,
        }
    }
}

enum Op {
    Accept(NewMessage, Vec<NewDelivery>, AuditRow, Reply<i64>),
    Audit(AuditRow, Reply<()>),
    Create(StoredSubscription, AuditRow, Reply<()>),
    Delete(String, AuditRow, Reply<bool>),
    Update(StoredSubscription, AuditRow, Reply<bool>),
    Claim(i64, usize, Reply<Vec<OutboxRow>>),
    Sent(i64, String, Reply<()>),
    Reschedule(i64, i64, String, Reply<()>),
}

/// How often the WAL is checkpointed into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// WAL length (frames) from which the log is started again from its
/// beginning. SQLite restarts the WAL only when a write transaction begins
/// with every frame already checkpointed, which a checkpoint on another
/// connection never sees under a steady stream of commits: the WAL then
/// grew without bound (1.4 GB in a 17 s load run), every commit appending
/// to a growing file. So once the WAL is this long, the checkpoint thread
/// asks the writer to copy the few frames committed since its own pass
/// (on the writer's connection, between two transactions); the next
/// transaction then writes the WAL from its start again, over blocks the
/// file already has.
const RESTART_FRAMES: i64 = 2048;

/// The SQLite store in a data folder (`ems.sqlite3`).
pub struct SqlitePipeline {
    tx: Mutex<mpsc::Sender<Op>>,
    reader: Mutex<Connection>,
    path: PathBuf,
    stop: Arc<AtomicBool>,
}

impl Drop for SqlitePipeline {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn store_err(e: impl std::fmt::Display) -> PipelineError {
    PipelineError::Store(e.to_string())
}

/// The size the WAL file is cut back to when it restarts (bytes). The WAL
/// restarts after [`RESTART_FRAMES`] (8 MiB of 4 KiB pages) in service, but a
/// large transaction (a bulk import of a million subscriptions) grows the
/// file to hundreds of MiB, which SQLite otherwise keeps for the life of
/// the data folder.
const WAL_SIZE_LIMIT: i64 = 64 << 20;

fn open_conn(path: &Path) -> Result<Connection, PipelineError> {
    let c = Connection::open(path).map_err(store_err)?;
    c.execute_batch(&format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; PRAGMA journal_size_limit={WAL_SIZE_LIMIT};",
    ))
    .map_err(store_err)?;
    Ok(c)
}

impl SqlitePipeline {
    /// Opens (creating) the store in `dir` and starts the writer thread.
    pub fn open(dir: &Path) -> Result<SqlitePipeline, PipelineError> {
        std::fs::create_dir_all(dir).map_err(|e| store_err(format!("{}: {e}", dir.display())))?;
        let path = dir.join("ems.sqlite3");
        let mut writer = open_conn(&path)?;
        writer.execute_batch(SCHEMA).map_err(store_err)?;
        migrate(&mut writer).map_err(store_err)?;
        // checkpoints run on their own thread, off the commit path
        writer
            .execute_batch("PRAGMA wal_autocheckpoint=0;")
            .map_err(store_err)?;
        let reader = open_conn(&path)?;
        let (tx, rx) = mpsc::channel();
        let restart = Arc::new(AtomicBool::new(false));
        let restart2 = restart.clone();
        std::thread::Builder::new()
            .name("ems-store-writer".into())
            .spawn(move || writer_loop(writer, rx, &restart2))
            .map_err(store_err)?;
        let stop = Arc::new(AtomicBool::new(false));
        let checkpointer = open_conn(&path)?;
        let stop2 = stop.clone();
        std::thread::Builder::new()
            .name("ems-store-checkpoint".into())
            .spawn(move || {
                while !stop2.load(Ordering::Relaxed) {
                    std::thread::sleep(CHECKPOINT_EVERY);
                    // the bulk, then what was committed meanwhile (less)
                    let first = checkpoint(&checkpointer);
                    if first.is_some_and(|log| log >= RESTART_FRAMES)
                        && checkpoint(&checkpointer).is_some()
                    {
                        restart.store(true, Ordering::Relaxed);
                    }
                }
            })
            .map_err(store_err)?;
        Ok(SqlitePipeline {
            tx: Mutex::new(tx),
            reader: Mutex::new(reader),
            path,
            stop,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn send<T: Send + 'static>(&self, make: impl FnOnce(Reply<T>) -> Op) -> Commit<T> {
        let (reply, rx) = oneshot::channel();
        let sent = self.tx.lock().map_err(store_err).and_then(|tx| {
            tx.send(make(reply))
                .map_err(|_| store_err("writer stopped"))
        });
        Box::pin(async move {
            sent?;
            rx.await.map_err(|_| store_err("writer stopped"))?
        })
    }

    /// Bulk-loads subscriptions in one transaction on a connection of its
    /// own (no audit records: for migrations and load tests, not an API
    /// call). Rows whose id or duplicate key exists are skipped; returns the
    /// number stored. Start the server afterwards: it indexes what is stored.
    pub fn import_subscriptions(
        &self,
        subs: impl IntoIterator<Item = StoredSubscription>,
    ) -> Result<usize, PipelineError> {
        let mut c = open_conn(&self.path)?;
        let tx = c.transaction().map_err(store_err)?;
        let mut n = 0;
        for sub in subs {
            n += insert_subscription(&tx, &sub, "INSERT OR IGNORE")?;
        }
        tx.commit().map_err(store_err)?;
        Ok(n)
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, PipelineError> {
        let c = self.reader.lock().map_err(store_err)?;
        f(&c).map_err(store_err)
    }
}

/// A PASSIVE checkpoint (copies what it can without blocking the writer):
/// the WAL's length in frames, `None` when it failed or was busy.
fn checkpoint(c: &Connection) -> Option<i64> {
    c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    })
    .ok()
    .and_then(|(busy, log)| (busy == 0).then_some(log))
}

fn writer_loop(mut conn: Connection, rx: mpsc::Receiver<Op>, restart: &AtomicBool) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
            Ok(t) => t,
            Err(e) => {
                for op in batch {
                    fail(op, store_err(&e));
                }
                continue;
            }
        };
        let mut done: Vec<Box<dyn FnOnce(Option<PipelineError>)>> = Vec::with_capacity(batch.len());
        for op in batch {
            done.push(apply(&tx, op));
        }
        let committed = tx.commit().err().map(store_err);
        for d in done {
            d(committed.clone());
        }
        if restart.swap(false, Ordering::Relaxed) {
            // the frames committed since the checkpoint thread's pass: the
            // next transaction then starts the WAL again (RESTART_FRAMES)
            let _ = checkpoint(&conn);
        }
    }
}

fn fail(op: Op, e: PipelineError) {
    match op {
        Op::Accept(.., r) => drop(r.send(Err(e))),
        Op::Audit(_, r) | Op::Sent(_, _, r) | Op::Reschedule(_, _, _, r) | Op::Create(_, _, r) => {
            drop(r.send(Err(e)))
        }
        Op::Delete(_, _, r) | Op::Update(_, _, r) => drop(r.send(Err(e))),
        Op::Claim(_, _, r) => drop(r.send(Err(e))),
    }
}

/// Applies one write in a savepoint; returns what answers its caller once
/// the transaction's fate (`Some(error)` = commit failed) is known.
fn apply(tx: &rusqlite::Transaction<'_>, op: Op) -> Box<dyn FnOnce(Option<PipelineError>)> {
    fn run<T: Send + 'static>(
        tx: &rusqlite::Transaction<'_>,
        reply: Reply<T>,
        f: impl FnOnce(&Connection) -> Result<T, PipelineError>,
    ) -> Box<dyn FnOnce(Option<PipelineError>)> {
        let r = (|| {
            let exec = |sql: &str| {
                tx.prepare_cached(sql)
                    .and_then(|mut st| st.execute([]))
                    .map_err(store_err)
            };
            exec("SAVEPOINT op")?;
            match f(tx) {
                Ok(v) => {
                    exec("RELEASE op")?;
                    Ok(v)
                }
                Err(e) => {
                    let _ = exec("ROLLBACK TO op");
                    let _ = exec("RELEASE op");
                    Err(e)
                }
            }
        })();
        Box::new(move |commit: Option<PipelineError>| {
            let _ = reply.send(match commit {
                Some(e) => Err(e),
                None => r,
            });
        })
    }
    match op {
        Op::Accept(m, d, a, reply) => run(tx, reply, |c| accept(c, m, d, a)),
        Op::Audit(a, reply) => run(tx, reply, |c| insert_audit(c, &a, None).map(|_| ())),
        Op::Create(s, a, reply) => run(tx, reply, |c| {
            if let Some(id) = c
                .query_row(
                    "SELECT id FROM subscriptions WHERE dup_key = ?1",
                    [&s.dup_key],
                    |r| r.get::<_, String>(0),
                )
                .optional()
                .map_err(store_err)?
            {
                return Err(PipelineError::Duplicate(id));
            }
            insert_subscription(c, &s, "INSERT")?;
            insert_audit(c, &a, None).map(|_| ())
        }),
        Op::Delete(id, a, reply) => run(tx, reply, |c| {
            let n = c
                .execute("DELETE FROM subscriptions WHERE id = ?1", [&id])
                .map_err(store_err)?;
            insert_audit(c, &a, None)?;
            Ok(n > 0)
        }),
        Op::Update(s, a, reply) => run(tx, reply, |c| {
            let n = c
                .execute(
                    "UPDATE subscriptions SET status = ?2, resource = ?3 WHERE id = ?1",
                    params![s.id, s.status, s.resource_json],
                )
                .map_err(store_err)?;
            insert_audit(c, &a, None)?;
            Ok(n > 0)
        }),
        Op::Claim(now, limit, reply) => run(tx, reply, |c| {
            let rows = query_rows(
                c,
                "WHERE state = 'pending' AND next_attempt_ms <= ?1 ORDER BY id LIMIT ?2",
                params![now, limit as i64],
            )?;
            let mut st = c
                .prepare_cached("UPDATE deliveries SET state = 'sending', attempts = attempts + 1 WHERE id = ?1")
                .map_err(store_err)?;
            let mut out = Vec::with_capacity(rows.len());
            for mut r in rows {
                st.execute([r.id]).map_err(store_err)?;
                r.state = DeliveryState::Sending;
                r.attempts += 1;
                out.push(r);
            }
            Ok(out)
        }),
        Op::Sent(id, mesh, reply) => run(tx, reply, |c| {
            c.execute(
                "UPDATE deliveries SET state = 'sent', mesh_message_id = ?2, last_error = NULL WHERE id = ?1",
                params![id, mesh],
            )
            .map_err(store_err)
            .map(|_| ())
        }),
        Op::Reschedule(id, next, err, reply) => run(tx, reply, |c| {
            c.execute(
                "UPDATE deliveries SET state = 'pending', next_attempt_ms = ?2, last_error = ?3 WHERE id = ?1",
                params![id, next, err],
            )
            .map_err(store_err)
            .map(|_| ())
        }),
    }
}

fn accept(
    c: &Connection,
    m: NewMessage,
    deliveries: Vec<NewDelivery>,
    a: AuditRow,
) -> Result<i64, PipelineError> {
    c.prepare_cached(
        "INSERT INTO messages(message_id, event, received_at, bytes) VALUES (?1,?2,?3,?4)",
    )
    .and_then(|mut s| {
        s.execute(params![
            m.message_id,
            m.event_code,
            m.received_at.to_rfc3339(),
            m.bytes
        ])
    })
    .map_err(store_err)?;
    let seq = c.last_insert_rowid();
    let now = m.received_at.timestamp_millis();
    let mut st = c
        .prepare_cached(
            "INSERT INTO deliveries(message_seq, message_id, mailbox, workflow_id, partner_id, subscriptions, local_id, state, next_attempt_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,'pending',?8)",
        )
        .map_err(store_err)?;
    for d in deliveries {
        let local = format!("{}:{}:{seq}", m.message_id, d.mailbox);
        st.execute(params![
            seq,
            m.message_id,
            d.mailbox,
            d.workflow_id,
            d.partner_id,
            d.subscriptions.join(","),
            local,
            now
        ])
        .map_err(store_err)?;
    }
    insert_audit(c, &a, Some(seq))?;
    Ok(seq)
}

/// Inserts a subscription row (`verb`: `INSERT` or `INSERT OR IGNORE`).
fn insert_subscription(
    c: &Connection,
    s: &StoredSubscription,
    verb: &str,
) -> Result<usize, PipelineError> {
    c.prepare_cached(&format!("{verb} INTO subscriptions(id, owner_asid, contact_ods, mailbox, status, created, end_at, criteria, dup_key, resource) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"))
        .and_then(|mut st| {
            st.execute(params![
                s.id,
                s.owner_asid,
                s.contact_ods,
                s.mailbox,
                s.status,
                s.created.to_rfc3339(),
                s.end.map(|e| e.to_rfc3339()),
                s.criteria,
                s.dup_key,
                s.resource_json
            ])
        })
        .map_err(store_err)
}

fn insert_audit(
    c: &Connection,
    a: &AuditRow,
    message_seq: Option<i64>,
) -> Result<i64, PipelineError> {
    c.prepare_cached(
        "INSERT INTO audit(at, kind, asid, status, record, payload, message_seq) VALUES (?1,?2,?3,?4,?5,?6,?7)",
    )
    .and_then(|mut s| {
        s.execute(params![
            a.at,
            a.kind,
            a.asid,
            a.status,
            a.record,
            a.payload,
            message_seq
        ])
    })
    .map_err(store_err)?;
    Ok(c.last_insert_rowid())
}

const ROW_COLUMNS: &str = "SELECT id, message_seq, message_id, mailbox, workflow_id, partner_id, subscriptions, local_id, state, attempts, next_attempt_ms, mesh_message_id, last_error FROM deliveries ";

fn query_rows(
    c: &Connection,
    tail: &str,
    p: impl rusqlite::Params,
) -> Result<Vec<OutboxRow>, PipelineError> {
    let mut st = c
        .prepare_cached(&format!("{ROW_COLUMNS}{tail}"))
        .map_err(store_err)?;
    let rows = st
        .query_map(p, |r| {
            let state: String = r.get(8)?;
            Ok(OutboxRow {
                id: r.get(0)?,
                message_seq: r.get(1)?,
                message_id: r.get(2)?,
                mailbox: r.get(3)?,
                workflow_id: r.get(4)?,
                partner_id: r.get(5)?,
                subscriptions: r.get(6)?,
                local_id: r.get(7)?,
                state: DeliveryState::parse(&state).unwrap_or(DeliveryState::Pending),
                attempts: r.get(9)?,
                next_attempt_ms: r.get(10)?,
                mesh_message_id: r.get(11)?,
                last_error: r.get(12)?,
            })
        })
        .map_err(store_err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(store_err)
}

fn parse_time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn subscription_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredSubscription> {
    let created: String = r.get(5)?;
    let end: Option<String> = r.get(6)?;
    Ok(StoredSubscription {
        id: r.get(0)?,
        owner_asid: r.get(1)?,
        contact_ods: r.get(2)?,
        mailbox: r.get(3)?,
        status: r.get(4)?,
        created: parse_time(&created),
        end: end.as_deref().map(parse_time),
        criteria: r.get(7)?,
        dup_key: r.get(8)?,
        resource_json: r.get(9)?,
    })
}

const SUB_COLUMNS: &str = "SELECT id, owner_asid, contact_ods, mailbox, status, created, end_at, criteria, dup_key, resource FROM subscriptions";

impl Pipeline for SqlitePipeline {
    fn accept(
        &self,
        message: NewMessage,
        deliveries: Vec<NewDelivery>,
        audit: AuditEntry,
    ) -> Commit<i64> {
        let audit = AuditRow::from(audit);
        self.send(|r| Op::Accept(message, deliveries, audit, r))
    }
    fn audit(&self, entry: AuditEntry) -> Commit<()> {
        let entry = AuditRow::from(entry);
        self.send(|r| Op::Audit(entry, r))
    }
    fn create_subscription(&self, s: StoredSubscription, audit: AuditEntry) -> Commit<()> {
        let audit = AuditRow::from(audit);
        self.send(|r| Op::Create(s, audit, r))
    }
    fn delete_subscription(&self, id: String, audit: AuditEntry) -> Commit<bool> {
        let audit = AuditRow::from(audit);
        self.send(|r| Op::Delete(id, audit, r))
    }
    fn update_subscription(&self, s: StoredSubscription, audit: AuditEntry) -> Commit<bool> {
        let audit = AuditRow::from(audit);
        self.send(|r| Op::Update(s, audit, r))
    }
    fn subscription(&self, id: &str) -> Result<Option<StoredSubscription>, PipelineError> {
        self.read(|c| {
            c.query_row(
                &format!("{SUB_COLUMNS} WHERE id = ?1"),
                [id],
                subscription_row,
            )
            .optional()
        })
    }
    fn for_each_subscription(
        &self,
        f: &mut dyn FnMut(StoredSubscription),
    ) -> Result<(), PipelineError> {
        // the matcher's fields only: the stored resource stays on disk
        self.read(|c| {
            let mut st = c.prepare(&SUB_COLUMNS.replace(", resource FROM", ", '' FROM"))?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                f(subscription_row(r)?);
            }
            Ok(())
        })
    }
    fn subscriptions_version(&self) -> Result<i64, PipelineError> {
        self.read(|c| {
            c.query_row(
                "SELECT value FROM meta WHERE key = 'subscriptions_version'",
                [],
                |r| r.get(0),
            )
        })
    }
    fn claim(&self, now_ms: i64, limit: usize) -> Commit<Vec<OutboxRow>> {
        self.send(|r| Op::Claim(now_ms, limit, r))
    }
    fn in_flight(&self) -> Result<Vec<OutboxRow>, PipelineError> {
        let c = self.reader.lock().map_err(store_err)?;
        query_rows(&c, "WHERE state = 'sending' ORDER BY id", [])
    }
    fn mark_sent(&self, id: i64, mesh_message_id: String) -> Commit<()> {
        self.send(|r| Op::Sent(id, mesh_message_id, r))
    }
    fn reschedule(&self, id: i64, next_attempt_ms: i64, error: String) -> Commit<()> {
        self.send(|r| Op::Reschedule(id, next_attempt_ms, error, r))
    }
    fn message_bytes(&self, message_seq: i64) -> Result<Option<Vec<u8>>, PipelineError> {
        self.read(|c| {
            c.query_row(
                "SELECT bytes FROM messages WHERE seq = ?1",
                [message_seq],
                |r| r.get(0),
            )
            .optional()
        })
    }
    fn deliveries(&self, after: i64, limit: usize) -> Result<Vec<OutboxRow>, PipelineError> {
        let c = self.reader.lock().map_err(store_err)?;
        query_rows(
            &c,
            "WHERE id > ?1 ORDER BY id LIMIT ?2",
            params![after, limit as i64],
        )
    }
    fn audit_records(&self, after: i64, limit: usize) -> Result<Vec<AuditRecord>, PipelineError> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT seq, at, kind, asid, status, record, payload, message_seq FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = st.query_map(params![after, limit as i64], |r| {
                let at: String = r.get(1)?;
                let kind: String = r.get(2)?;
                let record: String = r.get(5)?;
                Ok(AuditRecord {
                    seq: r.get(0)?,
                    entry: AuditEntry {
                        at: parse_time(&at),
                        // a kind this version does not know reads as `rejected`
                        kind: AuditKind::from_name(&kind).unwrap_or(AuditKind::Rejected),
                        asid: r.get(3)?,
                        status: r.get(4)?,
                        record: serde_json::from_str(&record).unwrap_or(serde_json::Value::Null),
                        payload: r.get(6)?,
                    },
                    message_seq: r.get(7)?,
                })
            })?;
            rows.collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_connection_cuts_the_wal_back_to_its_limit() {
        let dir = std::env::temp_dir().join(format!("ems-wal-limit-{}", uuid::Uuid::new_v4()));
        let store = SqlitePipeline::open(&dir).unwrap();
        let limit: i64 = store
            .read(|c| c.query_row("PRAGMA journal_size_limit", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(limit, WAL_SIZE_LIMIT);
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A store written with the schema before `user_version` 1 (the
    /// `UNIQUE` on `local_id`) opens, keeps its rows and loses the index.
    #[test]
    fn a_store_with_the_unique_local_id_is_migrated() {
        let dir = std::env::temp_dir().join(format!("ems-migrate-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ems.sqlite3");
        {
            let c = Connection::open(&path).unwrap();
            let v0 = SCHEMA.replacen("local_id TEXT NOT NULL,", DELIVERIES_V0, 1);
            assert_ne!(v0, SCHEMA);
            c.execute_batch(&v0).unwrap();
            c.execute_batch(
                "INSERT INTO messages VALUES (7, 'm', 'e', '2026-01-01T00:00:00+00:00', x'3c42');
                 INSERT INTO deliveries(id, message_seq, message_id, mailbox, workflow_id, partner_id, subscriptions, local_id, state, attempts, next_attempt_ms)
                   VALUES (3, 7, 'm', 'MBX1', 'W', NULL, 's1,s2', 'm:MBX1:7', 'sending', 2, 99);",
            )
            .unwrap();
        }
        let indexes = |c: &Connection| -> Vec<String> {
            let mut st = c
                .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries' ORDER BY name")
                .unwrap();
            let names = st.query_map([], |r| r.get(0)).unwrap();
            names.collect::<Result<_, _>>().unwrap()
        };
        {
            let c = Connection::open(&path).unwrap();
            assert_eq!(
                indexes(&c),
                [
                    "deliveries_due",
                    "sqlite_autoindex_deliveries_1",
                    "sqlite_autoindex_deliveries_2"
                ]
            );
        }
        for _ in 0..2 {
            // the second open finds the store current
            let log = SqlitePipeline::open(&dir).unwrap();
            let rows = log.deliveries(0, 10).unwrap();
            assert_eq!(rows.len(), 1);
            let r = &rows[0];
            assert_eq!(
                (r.id, r.message_seq, r.attempts, r.next_attempt_ms),
                (3, 7, 2, 99)
            );
            assert_eq!(
                (r.local_id.as_str(), r.state),
                ("m:MBX1:7", DeliveryState::Sending)
            );
            assert_eq!(r.subscriptions, "s1,s2");
            assert_eq!(log.message_bytes(7).unwrap(), Some(b"<B".to_vec()));
            let c = Connection::open(&path).unwrap();
            assert_eq!(
                indexes(&c),
                ["deliveries_due", "sqlite_autoindex_deliveries_1"]
            );
            let version: i64 = c
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(version, 1);
            // the remaining automatic index is UNIQUE(message_seq, mailbox)
            let cols: Vec<String> = c
                .prepare("SELECT name FROM pragma_index_info('sqlite_autoindex_deliveries_1')")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(cols, ["message_seq", "mailbox"]);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
