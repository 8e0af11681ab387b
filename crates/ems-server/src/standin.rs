//! TEMPORARY stand-in for `registry.rs` / `auth.rs` (built on branch
//! `server-auth`), with the agreed interface so that the merge only changes
//! the `use` lines. It checks what the publish and subscription APIs need
//! before any JWT logic exists: `fromASID`, `toASID` and a `Bearer`
//! `Authorization` header are present. It does NOT check JWT claims; the
//! real module does. Delete this file when `server-auth` is merged.

#![allow(dead_code)] // mirrors the whole agreed interface

/// Stand-in for `registry`.
pub mod registry {
    use std::collections::HashMap;

    /// What the registry knows of one ASID.
    #[derive(Debug, Clone, Default)]
    pub struct AsidEntry {
        /// ODS codes the ASID is registered for.
        pub ods_codes: Vec<String>,
        /// Allowed InteractionIDs.
        pub interactions: Vec<String>,
        /// Endpoint certificate name.
        pub cert_name: Option<String>,
    }

    /// ASIDs and mailboxes; open (no entries) in the stand-in.
    #[derive(Debug, Clone, Default)]
    pub struct Registry {
        asids: HashMap<String, AsidEntry>,
        mailboxes: HashMap<String, String>,
        pds_asid: Option<String>,
    }

    impl Registry {
        /// The open registry.
        pub fn open() -> Registry {
            Registry::default()
        }
        /// Names the ASID allowed to publish the PDS events.
        pub fn with_pds_asid(mut self, asid: Option<String>) -> Registry {
            self.pds_asid = asid;
            self
        }
        /// `true` without registry file.
        pub fn is_open(&self) -> bool {
            self.asids.is_empty()
        }
        /// The entry of an ASID.
        pub fn asid(&self, asid: &str) -> Option<&AsidEntry> {
            self.asids.get(asid)
        }
        /// ODS code owning a mailbox.
        pub fn mailbox_owner(&self, mailbox: &str) -> Option<&str> {
            self.mailboxes.get(mailbox).map(String::as_str)
        }
        /// Whether `asid` may publish the PDS events.
        pub fn may_publish_pds(&self, asid: &str) -> bool {
            match &self.pds_asid {
                Some(p) => p == asid,
                None => self.is_open(),
            }
        }
    }
}

/// Stand-in for `auth`.
pub mod auth {
    use super::registry::Registry;

    /// The JWT scope a call needs.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Scope {
        /// `patient/Bundle.write`.
        BundleWrite,
        /// `patient/Subscription.read`.
        SubscriptionRead,
        /// `patient/Subscription.write`.
        SubscriptionWrite,
    }

    /// JWT acceptance policy.
    #[derive(Debug, Clone, Default)]
    pub struct JwtPolicy {
        /// Accept `alg: none`.
        pub allow_unsigned: bool,
    }

    /// What a request presents.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct RequestCredentials<'a> {
        /// `fromASID`.
        pub from_asid: Option<&'a str>,
        /// `toASID`.
        pub to_asid: Option<&'a str>,
        /// `Authorization`.
        pub authorization: Option<&'a str>,
        /// `InteractionID`.
        pub interaction_id: Option<&'a str>,
        /// TLS client certificate name.
        pub client_cert_name: Option<&'a str>,
    }

    /// The authorised caller.
    #[derive(Debug, Clone, Default)]
    pub struct Caller {
        /// Calling ASID.
        pub asid: String,
        /// Calling organisation (empty in the stand-in).
        pub ods_code: String,
        /// `requesting_patient`.
        pub requesting_patient: Option<String>,
        /// The JWT claims as JSON text (empty in the stand-in).
        pub claims_json: String,
    }

    /// A refusal.
    #[derive(Debug, Clone)]
    pub struct Denied {
        /// HTTP status.
        pub status: u16,
        /// Spine code.
        pub spine_code: &'static str,
        /// Rule id.
        pub rule: &'static str,
        /// Why.
        pub message: String,
        /// FHIRPath-ish location.
        pub expression: Option<String>,
    }

    fn missing(header: &str) -> Denied {
        Denied {
            status: 400,
            spine_code: "MISSING_OR_INVALID_HEADER",
            rule: "HTTP-HEADER",
            message: format!("the `{header}` header is missing or invalid"),
            expression: None,
        }
    }

    /// Checks that the headers are present (stand-in: no claim checks).
    pub fn authorise(
        c: &RequestCredentials<'_>,
        _scope: Scope,
        _registry: &Registry,
        _policy: &JwtPolicy,
        _now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Caller, Denied> {
        let from = c
            .from_asid
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| missing("fromASID"))?;
        c.to_asid
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| missing("toASID"))?;
        c.authorization
            .filter(|s| s.len() > 7 && s[..7].eq_ignore_ascii_case("bearer "))
            .ok_or_else(|| missing("Authorization"))?;
        Ok(Caller {
            asid: from.to_string(),
            ..Default::default()
        })
    }
}
