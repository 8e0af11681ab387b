//! The delivery worker against a scripted transport: exactly once per row
//! when answers are lost, rows left `sending` are resolved through tracking
//! before any resend, failures are retried.

mod common;

use common::*;
use ems_server::delivery::{run, Transport};
use ems_server::pipeline::{DeliveryState, OutboxRow};
use ems_server::Server;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A MESH stand-in: `inbox` holds what "MESH" has, by local id.
#[derive(Default)]
struct Script {
    inbox: Mutex<HashMap<String, Vec<u8>>>,
    sends: Mutex<Vec<String>>,
    /// the next N sends reach MESH but their answer is lost
    lose_answers: Mutex<usize>,
    /// the next N sends fail before reaching MESH
    fail_sends: Mutex<usize>,
    /// tracking is down for the next N lookups
    tracking_down: Mutex<usize>,
}

fn take(m: &Mutex<usize>) -> bool {
    let mut n = m.lock().unwrap();
    if *n > 0 {
        *n -= 1;
        true
    } else {
        false
    }
}

impl Transport for Script {
    fn send(&self, row: &OutboxRow, body: Vec<u8>) -> Result<String, String> {
        self.sends.lock().unwrap().push(row.local_id.clone());
        if take(&self.fail_sends) {
            return Err("connection refused".into());
        }
        self.inbox
            .lock()
            .unwrap()
            .insert(row.local_id.clone(), body);
        if take(&self.lose_answers) {
            return Err("timed out waiting for the answer".into());
        }
        Ok(format!("MESH-{}", row.id))
    }
    fn find(&self, local_id: &str) -> Result<Option<String>, String> {
        if take(&self.tracking_down) {
            return Err("tracking unavailable".into());
        }
        Ok(self
            .inbox
            .lock()
            .unwrap()
            .contains_key(local_id)
            .then(|| format!("MESH-{local_id}")))
    }
}

async fn wait_all_sent(s: &Server) -> Vec<OutboxRow> {
    for _ in 0..1200 {
        let rows = s.state().log.deliveries(0, 1000).unwrap();
        if !rows.is_empty() && rows.iter().all(|r| r.state == DeliveryState::Sent) {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "not all sent: {:?}",
        s.state().log.deliveries(0, 1000).unwrap()
    );
}

async fn setup(mailboxes: &[&str]) -> (Server, axum::Router) {
    let dir = tempdir();
    let (s, app) = open(&dir, &config(&dir));
    for (i, mb) in mailboxes.iter().enumerate() {
        let tag = format!("t{i}");
        let c = format!("{}&tag={tag}", explicit("vaccinations-1"));
        let r = subscribe(&app, subscription_xml(&c, mb, "RR8"), &[]).await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
    (s, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_and_failures_still_deliver_exactly_once() {
    let (s, app) = setup(&["X26ABC1", "X26ABC2", "X26ABC3"]).await;
    for _ in 0..4 {
        let r = publish(&app, "vaccinations-1", message("vaccinations-1-new"), &[]).await;
        assert_eq!(r.status, 202);
    }
    let script = Arc::new(Script::default());
    *script.lose_answers.lock().unwrap() = 3;
    *script.fail_sends.lock().unwrap() = 3;
    *script.tracking_down.lock().unwrap() = 2;
    let worker = tokio::spawn(run(s.state(), script.clone()));
    let rows = wait_all_sent(&s).await;
    worker.abort();
    assert_eq!(rows.len(), 12);
    let inbox = script.inbox.lock().unwrap();
    assert_eq!(inbox.len(), 12, "every row reached MESH");
    for r in &rows {
        assert_eq!(
            inbox[&r.local_id],
            message("vaccinations-1-new"),
            "bytes unchanged"
        );
        assert!(r.mesh_message_id.is_some());
    }
    // a lost answer is never resent: sends = rows + failed sends only
    let sends = script.sends.lock().unwrap();
    assert_eq!(sends.len(), 12 + 3, "{sends:?}");
    let mut ids: Vec<_> = rows.iter().map(|r| r.local_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12, "local ids are unique per row");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_left_sending_are_resolved_by_tracking_before_any_resend() {
    let (s, app) = setup(&["X26ABC1", "X26ABC2"]).await;
    let r = publish(&app, "vaccinations-1", message("vaccinations-1-new"), &[]).await;
    assert_eq!(r.status, 202);
    // a previous run claimed both rows and died; MESH got the first one
    let claimed = s.state().log.claim(i64::MAX, 10).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(s.state().log.in_flight().unwrap().len(), 2);
    let script = Arc::new(Script::default());
    script
        .inbox
        .lock()
        .unwrap()
        .insert(claimed[0].local_id.clone(), message("vaccinations-1-new"));
    let worker = tokio::spawn(run(s.state(), script.clone()));
    let rows = wait_all_sent(&s).await;
    worker.abort();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        *script.sends.lock().unwrap(),
        vec![claimed[1].local_id.clone()],
        "only the row MESH does not have is sent"
    );
}
