//! The audit record as one JSON line (admin API and `ems audit`).

use crate::pipeline::{AuditRecord, Pipeline};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One audit record as a JSON line: `seq`, `at`, `kind`, `asid`, `status`,
/// the record's fields (headers, JWT, ids, response), and the payload —
/// `payload` as text when it is UTF-8, else `payload_hex`. Publishes that
/// were accepted take their payload from the stored message.
pub fn audit_json_line(log: &dyn Pipeline, r: &AuditRecord) -> String {
    let mut o = serde_json::Map::new();
    o.insert("seq".into(), r.seq.into());
    o.insert("at".into(), r.entry.at.to_rfc3339().into());
    o.insert("kind".into(), r.entry.kind.name().into());
    o.insert(
        "asid".into(),
        r.entry.asid.clone().map(Into::into).unwrap_or_default(),
    );
    o.insert("status".into(), r.entry.status.into());
    if let serde_json::Value::Object(m) = &r.entry.record {
        for (k, v) in m {
            o.insert(k.clone(), v.clone());
        }
    }
    let payload = match (&r.entry.payload, r.message_seq) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(seq)) => {
            o.insert("message_seq".into(), seq.into());
            log.message_bytes(seq).ok().flatten()
        }
        (None, None) => None,
    };
    if let Some(p) = payload {
        match String::from_utf8(p) {
            Ok(s) => o.insert("payload".into(), s.into()),
            Err(e) => o.insert("payload_hex".into(), hex(e.as_bytes()).into()),
        };
    }
    serde_json::Value::Object(o).to_string()
}
