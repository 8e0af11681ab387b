//! Router: loads the sample subscriptions (`examples/subscriptions/`) and the
//! sample geography shipped with ems-match, routes a handful of events and
//! prints the deliveries with their `Mex-Partnerid`.
//!
//! `cargo run --example router`

use ems::bundle::{
    example_publisher, samples::sample, to_match_subscription, BuildContext, EventMessage,
    MessageEventType,
};
use ems::matching::{CsvGeography, Matcher};
use std::sync::Arc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut m = Matcher::new(Arc::new(CsvGeography::sample()));
    let mut files: Vec<_> = std::fs::read_dir("examples/subscriptions")?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for f in files {
        let parsed = ems::stu3::from_xml(&std::fs::read(&f)?)?;
        let r: &ems::stu3::Subscription = parsed.resource.get().ok_or("not a Subscription")?;
        let sub = to_match_subscription(r)?;
        println!(
            "subscription {} → {}: {}",
            sub.id, sub.mailbox, sub.criteria
        );
        m.insert(&sub)?;
    }
    let mut cx = BuildContext::deterministic(example_publisher(), 1);
    for event in [
        "pds-change-of-address-1",
        "pds-change-of-gp-1",
        "vaccinations-1",
        "pds-birth-notification-1",
    ] {
        let built = sample(event, MessageEventType::New, true, &mut cx)?;
        let msg = EventMessage::from_xml(built.to_xml().as_bytes())?;
        let ev = msg.to_match_event().ok_or("no timestamp")?;
        println!(
            "\n{event} for {} (postcode {:?}, previous {:?}, practice {:?})",
            ev.nhs_number.map(|n| n.to_string()).unwrap_or_default(),
            ev.patient.postcode,
            ev.patient.previous_postcode,
            ev.patient.gp_practice
        );
        let deliveries = m.match_event(&ev);
        if deliveries.is_empty() {
            println!("  no deliveries");
        }
        for d in deliveries {
            println!(
                "  → {} WorkflowID {} subscriptions {:?} Mex-Partnerid {}",
                d.mailbox,
                d.workflow_id,
                d.subscriptions,
                d.partner_id.as_deref().unwrap_or("(none)")
            );
        }
    }
    Ok(())
}
