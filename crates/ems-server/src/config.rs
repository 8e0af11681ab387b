//! Server settings: every one is a key of the optional TOML file and a flag
//! of `ems serve` (flags win).

use serde::Deserialize;
use std::path::PathBuf;

/// One scheduled life-cycle transition (digest section 4).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LifecycleEntry {
    /// Event code, e.g. `newborn-hearing-1`.
    pub event: String,
    /// `deprecated`, `no-longer-supported` or `withdrawn`.
    pub state: String,
    /// First day of the state (`YYYY-MM-DD`).
    pub from: String,
    /// Page with details (quoted in the warning's diagnostics).
    pub url: Option<String>,
}

impl LifecycleEntry {
    /// Parses the flag form `EVENT=STATE@YYYY-MM-DD[@URL]`.
    pub fn parse_flag(s: &str) -> Result<LifecycleEntry, String> {
        let (event, rest) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}`: expected EVENT=STATE@YYYY-MM-DD[@URL]"))?;
        let mut parts = rest.splitn(3, '@');
        let state = parts.next().unwrap_or_default().to_string();
        let from = parts
            .next()
            .ok_or_else(|| format!("`{s}`: expected EVENT=STATE@YYYY-MM-DD[@URL]"))?
            .to_string();
        Ok(LifecycleEntry {
            event: event.to_string(),
            state,
            from,
            url: parts.next().map(str::to_string),
        })
    }
}

/// All settings of one server.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServerConfig {
    /// Listen address (default `127.0.0.1:8080`).
    pub listen: String,
    /// Serve the admin API on this address instead of on `listen`.
    pub admin_listen: Option<String>,
    /// Data folder (default `./ems-data`, created).
    pub data: PathBuf,
    /// Registry file (TOML); absent = open registry.
    pub registry: Option<PathBuf>,
    /// MESH base URL; absent = no delivery (rows stay in the outbox).
    pub mesh_url: Option<String>,
    /// NEMS's own MESH mailbox (the sender).
    pub mesh_mailbox: Option<String>,
    /// Its password.
    pub mesh_password: Option<String>,
    /// The environment's shared key.
    pub mesh_shared_key: Option<String>,
    /// New subscriptions are `active` at once (else `requested` until the admin API activates them).
    pub auto_activate: bool,
    /// PDS stand-in CSV: `nhs_number,postcode,gp_practice[,pds_flag]`.
    pub patients: Option<PathBuf>,
    /// Postcode directory CSV (as `ems route --postcodes`).
    pub postcodes: Option<PathBuf>,
    /// GP practices CSV (as `ems route --practices`).
    pub practices: Option<PathBuf>,
    /// TLS certificate (PEM): serve HTTPS.
    pub tls_cert: Option<PathBuf>,
    /// TLS key (PEM).
    pub tls_key: Option<PathBuf>,
    /// CA of client certificates: require mutual TLS.
    pub client_ca: Option<PathBuf>,
    /// The ASID allowed to publish the PDS events.
    pub pds_asid: Option<String>,
    /// Accept unsigned JWTs (`alg: none`); default: on in open mode.
    pub jwt_allow_unsigned: Option<bool>,
    /// HS256 secret for JWTs.
    pub jwt_hs256_secret: Option<String>,
    /// RS256 public key (PEM file) for JWTs.
    pub jwt_rs256_key: Option<PathBuf>,
    /// Event life cycle schedule.
    pub lifecycle: Vec<LifecycleEntry>,
    /// Longest time a request body may take to arrive, in milliseconds
    /// (default [`crate::http::BODY_TIMEOUT`]); a slower body answers
    /// `400 INVALID_REQUEST_MESSAGE` (rule `HTTP-BODY-TIMEOUT`).
    pub body_timeout_ms: Option<u64>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            admin_listen: None,
            data: PathBuf::from("ems-data"),
            registry: None,
            mesh_url: None,
            mesh_mailbox: None,
            mesh_password: None,
            mesh_shared_key: None,
            auto_activate: false,
            patients: None,
            postcodes: None,
            practices: None,
            tls_cert: None,
            tls_key: None,
            client_ca: None,
            pds_asid: None,
            jwt_allow_unsigned: None,
            jwt_hs256_secret: None,
            jwt_rs256_key: None,
            lifecycle: Vec::new(),
            body_timeout_ms: None,
        }
    }
}

impl ServerConfig {
    /// Reads the TOML form (unknown keys are errors).
    pub fn from_toml(text: &str) -> Result<ServerConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_keys_are_the_flag_names() {
        let c = ServerConfig::from_toml(
            "listen = \"0.0.0.0:9000\"\nauto-activate = true\nmesh-url = \"http://x\"\n\
             [[lifecycle]]\nevent = \"vaccinations-1\"\nstate = \"deprecated\"\nfrom = \"2020-01-01\"\n",
        )
        .unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert!(c.auto_activate);
        assert_eq!(c.mesh_url.as_deref(), Some("http://x"));
        assert_eq!(c.lifecycle.len(), 1);
        assert!(ServerConfig::from_toml("no-such-key = 1").is_err());
        assert_eq!(
            ServerConfig::from_toml("").unwrap(),
            ServerConfig::default()
        );
        let l =
            LifecycleEntry::parse_flag("nipe-outcome-1=withdrawn@2020-02-01@https://x/y").unwrap();
        assert_eq!(l.url.as_deref(), Some("https://x/y"));
        assert!(LifecycleEntry::parse_flag("nipe-outcome-1").is_err());
    }
}
