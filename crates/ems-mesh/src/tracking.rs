//! Tracking a sent message by the sender's local id (`mex-LocalID`), so a
//! sender that lost the answer to a send (or crashed) can learn whether MESH
//! has the message before sending it again.

use crate::client::MeshClient;
use crate::MeshError;

impl MeshClient {
    /// Looks up the message this mailbox sent with local id `local_id`
    /// (`GET /messageexchange/{mailbox}/outbox/tracking/{local_id}`):
    /// `Some(MESH message id)` when MESH has it, `None` when it has none.
    /// Several messages with the same local id are an error (local ids
    /// must be unique for this lookup to mean anything).
    pub fn track_local_id(&self, local_id: &str) -> Result<Option<String>, MeshError> {
        let encoded: String = local_id
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        let path = format!("/outbox/tracking/{encoded}");
        let r = self.request("GET", &path, &[], None)?;
        let r = match self.check("GET", &path, r, &[200]) {
            Ok(r) => r,
            Err(MeshError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let v = Self::json(&r)?;
        ["messageID", "message_id", "messageId"]
            .iter()
            .find_map(|k| v.get(*k).and_then(|x| x.as_str()))
            .map(|s| Some(s.to_string()))
            .ok_or_else(|| MeshError::Response("tracking response has no message id".into()))
    }
}
