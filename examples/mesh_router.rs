//! MESH router: takes published messages, matches them against subscriptions
//! and sends one copy per mailbox with the WorkflowID and `Mex-Partnerid`.
//!
//! Needs a MESH (the sandbox: see .ci/run). `EMS_MESH_URL=http://localhost:8700
//! cargo run --example mesh_router` — routes the sample message of every event
//! from mailbox X26ABC1 to the sandbox mailboxes X26ABC2 and X26ABC3.

use ems::bundle::samples::{all_pairs, sample_builder};
use ems::bundle::{example_publisher, BuildContext};
use ems::matching::{Criteria, CsvGeography, Matcher, Subscription, EVENT_TYPES};
use ems_mesh::{route_published, MeshClient, MeshConfig};
use std::sync::Arc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("EMS_MESH_URL")
        .map_err(|_| "set EMS_MESH_URL to the MESH (sandbox) base URL")?;
    let key = std::env::var("MESH_SHARED_KEY").unwrap_or_else(|_| "TestKey".into());
    let router = MeshClient::new(MeshConfig::new(
        &url,
        "X26ABC1",
        "password",
        key.into_bytes(),
    ))?;
    router.handshake()?;
    // X26ABC2: a child health organisation covering Leeds (every event);
    // X26ABC3: explicit subscriptions for one child (every event), tagged.
    let mut m = Matcher::new(Arc::new(CsvGeography::sample()));
    let created = "2020-01-01T00:00:00Z".parse()?;
    for e in &EVENT_TYPES {
        let generic = format!("/Bundle?type=message&subscriptionRuleType=COUNTRYCODE&Organization.identifier=E92000001&MessageHeader.event={}&tag=cho-leeds", e.code);
        m.insert(&Subscription::new(
            format!("cho-{}", e.code),
            "X26ABC2",
            Criteria::parse(&generic)?,
            created,
        ))?;
        let explicit = format!("/Bundle?type=message&Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919&MessageHeader.event={}&tag=hv", e.code);
        m.insert(&Subscription::new(
            format!("hv-{}", e.code),
            "X26ABC3",
            Criteria::parse(&explicit)?,
            created,
        ))?;
    }
    // stands in for the PDS lookup: every patient lives in Leeds, registered at B86001
    let pds = |_: ems::matching::NhsNumber| {
        Some(ems::matching::PatientContext {
            postcode: Some("LS17 7DF".into()),
            gp_practice: Some("B86001".into()),
            ..Default::default()
        })
    };
    let mut cx = BuildContext::new(example_publisher());
    for (event, met) in all_pairs() {
        // only the wire XML is needed: write it directly (same bytes as
        // building the model and serialising it)
        let xml = sample_builder(event, met, true)?.build_xml(&mut cx)?.xml;
        for (d, id) in route_published(&router, &m, pds, xml.as_bytes())? {
            println!(
                "{event:<26} {:<6} → {} {} Mex-Partnerid {} (MESH id {id})",
                met.code(),
                d.mailbox,
                d.workflow_id,
                d.partner_id.as_deref().unwrap_or("-")
            );
        }
    }
    Ok(())
}
