//! `ems route`: subscriptions + geography + PDS stand-in → deliveries.

use crate::{collect_inputs, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};
use clap::Args;
use ems::matching::{CsvGeography, Matcher, NhsNumber, PatientContext};
use ems::stu3::Resource;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Args)]
pub(crate) struct RouteArgs {
    /// File or directory of Subscription resources (XML or JSON; single
    /// resources or Bundles of them). `id` and `status` are required;
    /// `meta.lastUpdated` is the creation time.
    #[arg(long, required = true)]
    subscriptions: String,
    /// ONS Postcode Directory style CSV (header; pcds, oslaua, ctry, sicbl or ccg).
    #[arg(long)]
    postcodes: Option<String>,
    /// GP practices: ODS epraccur CSV (no header; column 1 code, column 15
    /// commissioner) or `practice,sicbl` CSV with header.
    #[arg(long)]
    practices: Option<String>,
    /// PDS stand-in: CSV with header `nhs_number,postcode,gp_practice[,pds_flag]`
    /// (empty gp_practice = not registered; pds_flag S, I or empty).
    #[arg(long)]
    patients: Option<String>,
    /// Evaluation instant (RFC 3339); default: each message's timestamp.
    #[arg(long)]
    at: Option<String>,
    /// Event message files or directories.
    #[arg(required = true)]
    events: Vec<String>,
}

fn read_text(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

fn load_patients(path: &str) -> Result<HashMap<NhsNumber, PatientContext>, String> {
    ems::matching::parse_patients_csv(&read_text(path)?)
        .map_err(|e| format!("{path}:{}: {}", e.line, e.message))
}

pub(crate) fn run(a: RouteArgs) -> u8 {
    match run_inner(a) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ems: route: {e}");
            EXIT_USAGE
        }
    }
}

fn run_inner(a: RouteArgs) -> Result<u8, String> {
    let mut geo = CsvGeography::default();
    if let Some(p) = &a.postcodes {
        geo.load_postcodes(read_text(p)?.as_bytes())
            .map_err(|e| format!("{p}: {e}"))?;
    }
    if let Some(p) = &a.practices {
        geo.load_practices(&read_text(p)?)
            .map_err(|e| format!("{p}: {e}"))?;
    }
    let patients = match &a.patients {
        Some(p) => load_patients(p)?,
        None => HashMap::new(),
    };
    let at = match &a.at {
        Some(t) => Some(
            chrono::DateTime::parse_from_rfc3339(t)
                .map_err(|e| format!("--at `{t}`: {e}"))?
                .with_timezone(&chrono::Utc),
        ),
        None => None,
    };
    let mut matcher = Matcher::new(Arc::new(geo));
    let mut bad = false;
    for input in collect_inputs(std::slice::from_ref(&a.subscriptions))? {
        let bytes = input.bytes.map_err(|e| format!("{}: {e}", input.path))?;
        let resource = match ems::stu3::from_bytes(&bytes).map(|p| p.resource) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("ems: {}: skipped: {e}", input.path);
                bad = true;
                continue;
            }
        };
        let subs: Vec<(String, &ems::stu3::Subscription)> = match &resource {
            Resource::Subscription(s) => vec![(input.path.clone(), &**s)],
            Resource::Bundle(b) => b
                .entry
                .iter()
                .enumerate()
                .filter_map(|(i, e)| match &e.resource {
                    Some(Resource::Subscription(s)) => {
                        Some((format!("{}: Bundle.entry[{i}]", input.path), &**s))
                    }
                    _ => None,
                })
                .collect(),
            other => {
                eprintln!(
                    "ems: {}: skipped: a {} is not a Subscription",
                    input.path,
                    other.resource_type()
                );
                bad = true;
                continue;
            }
        };
        for (where_, r) in subs {
            match ems::bundle::to_match_subscription(r)
                .map_err(|e| e.to_string())
                .and_then(|s| matcher.insert(&s).map_err(|e| e.to_string()))
            {
                Ok(()) => {}
                Err(e) => {
                    eprintln!("ems: {where_}: invalid subscription skipped: {e}");
                    bad = true;
                }
            }
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for input in collect_inputs(&a.events)? {
        let bytes = input.bytes.map_err(|e| format!("{}: {e}", input.path))?;
        let msg = match ems::bundle::EventMessage::from_bytes(&bytes) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("ems: {}: not an event message: {e}", input.path);
                bad = true;
                continue;
            }
        };
        let Some(mut ev) = msg.to_match_event() else {
            eprintln!("ems: {}: the message has no usable timestamp", input.path);
            bad = true;
            continue;
        };
        if let Some(t) = at {
            ev.at = t;
        }
        if let Some(ctx) = ev.nhs_number.and_then(|n| patients.get(&n)) {
            let previous = ev.patient.previous_postcode.take();
            ev.patient = ctx.clone();
            ev.patient.previous_postcode = previous;
        }
        // fields in the documented order (serde_json maps would sort them)
        let j = |v: serde_json::Value| v.to_string();
        let deliveries: Vec<String> = matcher
            .match_event(&ev)
            .into_iter()
            .map(|d| {
                format!(
                    "{{\"mailbox\":{},\"workflow_id\":{},\"subscriptions\":{},\"partner_id\":{}}}",
                    j(d.mailbox.into()),
                    j(d.workflow_id.into()),
                    j(d.subscriptions.into()),
                    j(d.partner_id.into())
                )
            })
            .collect();
        let line = format!(
            "{{\"path\":{},\"message_id\":{},\"event\":{},\"deliveries\":[{}]}}\n",
            j(input.path.as_str().into()),
            j(msg.message_id().into()),
            j(ev.event_code.as_str().into()),
            deliveries.join(",")
        );
        let _ = std::io::Write::write_all(&mut out, line.as_bytes());
    }
    Ok(if bad { EXIT_FINDINGS } else { EXIT_OK })
}
