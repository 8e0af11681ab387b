//! MESH receiver: polls a mailbox, validates each message in Receive mode,
//! classifies it (new / duplicate / stale / gap), hands it to a callback and
//! acknowledges it only after the callback succeeded.
//!
//! `EMS_MESH_URL=http://localhost:8700 cargo run --example mesh_receiver [-- MAILBOX]`
//! (default X26ABC2; stops when a pass finds the inbox empty).

use ems::bundle::{InMemoryStore, SequenceTracker};
use ems::profiles::{Mode, Validator};
use ems_mesh::{run_receiver, MeshClient, MeshConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("EMS_MESH_URL")
        .map_err(|_| "set EMS_MESH_URL to the MESH (sandbox) base URL")?;
    let mailbox = std::env::args().nth(1).unwrap_or_else(|| "X26ABC2".into());
    let key = std::env::var("MESH_SHARED_KEY").unwrap_or_else(|_| "TestKey".into());
    let client = MeshClient::new(MeshConfig::new(
        &url,
        &mailbox,
        "password",
        key.into_bytes(),
    ))?;
    client.handshake()?;
    let validator = Validator::new(Mode::Receive);
    // in production the tracker store is the receiver's database
    let mut tracker = SequenceTracker::new(InMemoryStore::default());
    let mut last = 0usize;
    let stats = run_receiver(
        &client,
        &validator,
        &mut tracker,
        std::time::Duration::from_millis(200),
        |s| {
            let done = s.downloaded == last;
            last = s.downloaded;
            done
        },
        |inc| {
            let m = inc.message;
            println!(
                "{} {:<26} {:<10} errors {} warnings {} {:?} partner {:?}",
                inc.mesh.id,
                m.map(|m| m.event_type().code().to_string())
                    .unwrap_or_default(),
                inc.mesh.workflow_id().unwrap_or("-"),
                inc.validation.outcome.error_count(),
                inc.validation.outcome.warning_count(),
                inc.classification,
                inc.mesh
                    .partner_pairs()
                    .unwrap_or_default()
                    .iter()
                    .map(|p| format!("{}|{}", p.subscription_id, p.tag))
                    .collect::<Vec<_>>(),
            );
            // a real receiver files the data here; returning Err leaves the message in the inbox
            Ok::<(), String>(())
        },
    )?;
    println!("{mailbox}: {stats:?}");
    Ok(())
}
