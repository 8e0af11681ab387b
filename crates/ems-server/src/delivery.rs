//! The delivery worker: outbox → MESH, exactly once per (message, mailbox).
//!
//! A row is claimed (`sending`, committed) before it is sent and marked
//! `sent` only after MESH accepted it. When the outcome of a send is
//! unknown — the server was killed, or the answer was lost — the row stays
//! `sending` and is resolved through MESH tracking by its local id before
//! anything is sent again: found → `sent`; not found → back to `pending`.

use crate::pipeline::{OutboxRow, Pipeline};
use crate::AppState;
use std::sync::Arc;
use std::time::Duration;

/// Rows sent concurrently.
const CONCURRENCY: usize = 8;
/// Longest wait between retries.
const MAX_BACKOFF_MS: i64 = 300_000;

/// Where deliveries go (MESH in production; blocking calls, run on the
/// blocking pool).
pub trait Transport: Send + Sync + 'static {
    /// Sends the bytes of `row`'s message; returns the MESH message id.
    fn send(&self, row: &OutboxRow, body: Vec<u8>) -> Result<String, String>;
    /// Looks a previous send up by its local id: `Some(MESH id)` when MESH
    /// has it, `None` when it certainly does not.
    fn find(&self, local_id: &str) -> Result<Option<String>, String>;
}

/// [`Transport`] over an ems-mesh client (NEMS's own mailbox as sender).
pub struct MeshTransport(pub ems_mesh::MeshClient);

impl Transport for MeshTransport {
    fn send(&self, row: &OutboxRow, body: Vec<u8>) -> Result<String, String> {
        let subject = row.workflow_id.clone();
        self.0
            .send(&ems_mesh::OutgoingMessage {
                to: row.mailbox.clone(),
                workflow_id: row.workflow_id.clone(),
                subject: Some(subject),
                local_id: Some(row.local_id.clone()),
                partner_id: row.partner_id.clone(),
                content_type: ems_mesh::FHIR_XML.to_string(),
                file_name: None,
                body,
            })
            .map_err(|e| e.to_string())
    }
    fn find(&self, local_id: &str) -> Result<Option<String>, String> {
        self.0.track_local_id(local_id).map_err(|e| e.to_string())
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Wait after the `attempts`-th failed attempt: 0.5 s, doubled per
/// attempt, capped at [`MAX_BACKOFF_MS`].
pub fn backoff_ms(attempts: u32) -> i64 {
    (500i64 << attempts.saturating_sub(1).min(20)).min(MAX_BACKOFF_MS)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(format!("worker task: {e}")))
}

/// Resolves a row of unknown outcome; `false` when MESH could not be asked
/// (the row stays `sending`).
async fn resolve(log: &Arc<dyn Pipeline>, t: &Arc<dyn Transport>, row: &OutboxRow) -> bool {
    let (t2, local) = (t.clone(), row.local_id.clone());
    let r = match blocking(move || t2.find(&local)).await {
        Ok(Some(mesh_id)) => log.mark_sent(row.id, mesh_id).await,
        Ok(None) => {
            log.reschedule(
                row.id,
                now_ms(),
                "not found in MESH tracking; resending".into(),
            )
            .await
        }
        Err(_) => return false,
    };
    r.is_ok()
}

async fn deliver(log: Arc<dyn Pipeline>, t: Arc<dyn Transport>, row: OutboxRow) {
    let body = match log.message_bytes(row.message_seq) {
        Ok(Some(b)) => b,
        Ok(None) | Err(_) => {
            let _ = log
                .reschedule(
                    row.id,
                    now_ms() + backoff_ms(row.attempts),
                    "message bytes unreadable".into(),
                )
                .await;
            return;
        }
    };
    let (t2, r2) = (t.clone(), row.clone());
    match blocking(move || t2.send(&r2, body)).await {
        Ok(mesh_id) => {
            let _ = log.mark_sent(row.id, mesh_id).await;
        }
        Err(e) => {
            // the send may have reached MESH: ask before trying again
            let (t3, local) = (t.clone(), row.local_id.clone());
            match blocking(move || t3.find(&local)).await {
                Ok(Some(mesh_id)) => {
                    let _ = log.mark_sent(row.id, mesh_id).await;
                }
                Ok(None) => {
                    let _ = log
                        .reschedule(row.id, now_ms() + backoff_ms(row.attempts), e)
                        .await;
                }
                // unknown: the row stays `sending`; the resolve pass asks again
                Err(_) => {}
            }
        }
    }
}

/// Runs the worker until the runtime stops.
pub async fn run(app: Arc<AppState>, t: Arc<dyn Transport>) {
    let log = app.log.clone();
    loop {
        // rows of unknown outcome first (after a restart, or lost answers)
        let mut unresolved = false;
        if let Ok(rows) = log.in_flight() {
            let mut set = tokio::task::JoinSet::new();
            for row in rows {
                let (log, t) = (log.clone(), t.clone());
                set.spawn(async move { resolve(&log, &t, &row).await });
            }
            while let Some(r) = set.join_next().await {
                unresolved |= !r.unwrap_or(false);
            }
        }
        if unresolved {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        let claimed = log
            .claim(now_ms(), CONCURRENCY * 4)
            .await
            .unwrap_or_default();
        if claimed.is_empty() {
            let _ = tokio::time::timeout(Duration::from_millis(500), app.wake.notified()).await;
            continue;
        }
        let mut set = tokio::task::JoinSet::new();
        for row in claimed {
            while set.len() >= CONCURRENCY {
                set.join_next().await;
            }
            set.spawn(deliver(log.clone(), t.clone(), row));
        }
        while set.join_next().await.is_some() {}
    }
}
