//! NEMS in a box: the publish and subscription APIs, matching and durable
//! MESH delivery as one service.
//!
//! # Overview
//!
//! * [`Server`] opens a data folder ([`ServerConfig`]), loads the stored
//!   subscriptions into the ems-match index and gives the axum [`Router`]
//!   (so tests and embedders run it in-process) and the delivery worker.
//! * [`Pipeline`] is the one seam to durability: accept (message + audit +
//!   outbox rows in one commit), subscription changes, outbox claim /
//!   mark-sent / reschedule. [`SqlitePipeline`] implements it with group
//!   commit; every `202`/`201` is answered after its commit.
//! * Security (digest 9): [`registry`] (ASID → ODS codes, interactions,
//!   certificate; mailbox → ODS; open mode without a file), [`auth`] (headers,
//!   JWT and claims) and [`tls`] (HTTPS, mutual TLS).
//! * [`delivery`] sends each outbox row to MESH exactly once per mailbox
//!   (claim durably, send, mark sent; a row found `sending` after a crash is
//!   resolved through MESH tracking by its local id before any resend).
//!
//! ```no_run
//! # async fn run() -> Result<(), String> {
//! let cfg = ems_server::ServerConfig::default();
//! let server = ems_server::Server::open(&cfg)?;
//! let listener = tokio::net::TcpListener::bind(&cfg.listen).await.map_err(|e| e.to_string())?;
//! axum::serve(listener, server.router()).await.map_err(|e| e.to_string())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod admin;
mod audit;
pub mod auth;
pub mod config;
pub mod delivery;
pub mod head;
pub mod http;
pub mod listen;
pub mod outcome;
pub mod pipeline;
mod publish;
pub mod refusal;
pub mod registry;
pub mod routing;
pub mod sqlite;
mod subscriptions;
pub mod tls;

pub use audit::audit_json_line;
pub use config::{LifecycleEntry, ServerConfig};
pub use pipeline::Pipeline;
pub use sqlite::SqlitePipeline;

use auth::JwtPolicy;
use axum::routing::{get, post};
use axum::Router;
use ems::matching::{LifecycleRegistry, LifecycleState};
use registry::Registry;
use routing::Routing;
use std::sync::Arc;

/// Shared state of the handlers.
pub struct AppState {
    /// The durable log.
    pub log: Arc<dyn Pipeline>,
    /// The index and PDS stand-in.
    pub routing: Routing,
    pub(crate) registry: Registry,
    pub(crate) jwt: JwtPolicy,
    pub(crate) lifecycle: LifecycleRegistry,
    pub(crate) auto_activate: bool,
    pub(crate) validator: ems::profiles::Validator,
    /// Wakes the delivery worker after an accept.
    pub wake: tokio::sync::Notify,
    /// Whether a MESH transport is configured.
    pub mesh: bool,
    /// Longest wait for a request body ([`http::BODY_TIMEOUT`] by default).
    pub(crate) body_timeout: std::time::Duration,
}

/// A server over one data folder.
pub struct Server {
    state: Arc<AppState>,
    config: ServerConfig,
}

fn lifecycle_of(entries: &[LifecycleEntry]) -> Result<LifecycleRegistry, String> {
    let mut reg = LifecycleRegistry::new();
    for e in entries {
        let state = match e.state.as_str() {
            "active" => LifecycleState::Active,
            "deprecated" => LifecycleState::Deprecated,
            "no-longer-supported" => LifecycleState::NoLongerSupported,
            "withdrawn" => LifecycleState::Withdrawn,
            s => return Err(format!("lifecycle state `{s}`: expected active, deprecated, no-longer-supported or withdrawn")),
        };
        let from = chrono::NaiveDate::parse_from_str(&e.from, "%Y-%m-%d")
            .map_err(|err| format!("lifecycle date `{}`: {err}", e.from))?;
        reg.schedule(&e.event, from, state, e.url.as_deref());
    }
    Ok(reg)
}

/// The matcher snapshot in the data folder (fast restart).
pub const SNAPSHOT_FILE: &str = "matcher.snapshot";

/// How often the snapshot is brought up to date (when subscriptions changed).
const SNAPSHOT_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Keeps the snapshot file current while the server lives: at once (a
/// start from the rows leaves none for this version) and then every
/// [`SNAPSHOT_EVERY`] when subscriptions changed.
fn spawn_snapshots(state: std::sync::Weak<AppState>, path: std::path::PathBuf) {
    let _ = std::thread::Builder::new()
        .name("ems-snapshot".into())
        .spawn(move || loop {
            let Some(s) = state.upgrade() else { return };
            if let Err(e) = s.routing.write_snapshot(&*s.log, &path) {
                eprintln!("ems: snapshot: {e}");
            }
            drop(s);
            let mut waited = std::time::Duration::ZERO;
            while waited < SNAPSHOT_EVERY {
                std::thread::sleep(std::time::Duration::from_millis(200));
                waited += std::time::Duration::from_millis(200);
                if state.strong_count() == 0 {
                    return;
                }
            }
        });
}

impl Server {
    /// Opens the store (creating the data folder), loads the subscriptions,
    /// the geography and the PDS stand-in.
    pub fn open(config: &ServerConfig) -> Result<Server, String> {
        let log: Arc<dyn Pipeline> =
            Arc::new(SqlitePipeline::open(&config.data).map_err(|e| e.to_string())?);
        Server::with_pipeline(config, log)
    }

    /// As [`Server::open`] over any [`Pipeline`].
    pub fn with_pipeline(config: &ServerConfig, log: Arc<dyn Pipeline>) -> Result<Server, String> {
        let registry = match &config.registry {
            Some(p) => Registry::from_toml_file(p).map_err(|e| e.to_string())?,
            None => Registry::open(),
        }
        .with_pds_asid(config.pds_asid.clone());
        let mut jwt = JwtPolicy::for_registry(&registry);
        if let Some(a) = config.jwt_allow_unsigned {
            jwt = jwt.allow_unsigned(a);
        }
        if let Some(s) = &config.jwt_hs256_secret {
            jwt = jwt.with_hs256_secret(s.as_bytes());
        }
        if let Some(p) = &config.jwt_rs256_key {
            jwt = jwt
                .with_rs256_public_key_file(p)
                .map_err(|e| e.to_string())?;
        }
        let geo =
            routing::load_geography(config.postcodes.as_deref(), config.practices.as_deref())?;
        let patients = routing::load_patients(config.patients.as_deref())?;
        let snapshot = config.data.join(SNAPSHOT_FILE);
        let routing = Routing::load(&*log, Arc::new(geo), patients, Some(&snapshot))
            .map_err(|e| e.to_string())?;
        let state = AppState {
            log,
            routing,
            jwt,
            registry,
            lifecycle: lifecycle_of(&config.lifecycle)?,
            auto_activate: config.auto_activate,
            validator: ems::profiles::Validator::new(ems::profiles::Mode::Publish),
            wake: tokio::sync::Notify::new(),
            mesh: config.mesh_url.is_some(),
            body_timeout: config
                .body_timeout_ms
                .map_or(http::BODY_TIMEOUT, std::time::Duration::from_millis),
        };
        let state = Arc::new(state);
        spawn_snapshots(Arc::downgrade(&state), snapshot);
        Ok(Server {
            state,
            config: config.clone(),
        })
    }

    /// Brings the matcher snapshot in the data folder up to date now
    /// (`ems serve` does at shutdown; a background thread every 30 s when
    /// subscriptions changed); `false` when it already was.
    pub fn write_snapshot(&self) -> Result<bool, String> {
        self.state
            .routing
            .write_snapshot(&*self.state.log, &self.config.data.join(SNAPSHOT_FILE))
    }

    /// The shared state.
    pub fn state(&self) -> Arc<AppState> {
        self.state.clone()
    }

    /// The HTTP application: the publish and subscription APIs under
    /// `/STU3` and the admin API under `/_ems/` on one listener (the default).
    pub fn router(&self) -> Router {
        self.routes(true)
    }

    /// The publish and subscription APIs only (with `--admin-listen`, the
    /// admin API is served on its own listener by [`Server::admin_router`]).
    pub fn api_router(&self) -> Router {
        self.routes(false)
    }

    /// The admin API alone (`/_ems/`).
    pub fn admin_router(&self) -> Router {
        admin::router()
            .fallback(subscriptions::bad_path)
            .layer(axum::middleware::from_fn_with_state(
                self.state.clone(),
                head::enforce,
            ))
            .with_state(self.state.clone())
    }

    fn routes(&self, with_admin: bool) -> Router {
        let api = Router::new()
            .route("/STU3/Events/1/$process-message", post(publish::publish))
            .route(
                "/STU3/Subscription",
                post(subscriptions::create).get(subscriptions::search),
            )
            .route(
                "/STU3/Subscription/{id}",
                get(subscriptions::read)
                    .delete(subscriptions::delete)
                    .put(subscriptions::update),
            );
        let api = if with_admin {
            api.merge(admin::router())
        } else {
            api
        };
        api.fallback(subscriptions::bad_path)
            .method_not_allowed_fallback(subscriptions::not_implemented)
            .layer(axum::middleware::from_fn_with_state(
                self.state.clone(),
                head::enforce,
            ))
            .with_state(self.state.clone())
    }

    /// Starts the delivery worker on the current runtime when MESH is
    /// configured; `None` otherwise (rows wait in the outbox).
    pub fn spawn_delivery(&self) -> Result<Option<tokio::task::JoinHandle<()>>, String> {
        let c = &self.config;
        let Some(url) = &c.mesh_url else {
            return Ok(None);
        };
        let mailbox = c
            .mesh_mailbox
            .clone()
            .ok_or("--mesh-url needs --mesh-mailbox")?;
        let mut cfg = ems_mesh::MeshConfig::new(
            url.clone(),
            mailbox,
            c.mesh_password.clone().unwrap_or_default(),
            c.mesh_shared_key.clone().unwrap_or_default().into_bytes(),
        );
        // the worker retries itself, after checking MESH tracking: a blind
        // client-side retry of a send whose answer was lost would deliver twice
        cfg.max_retries = 0;
        let client = ems_mesh::MeshClient::new(cfg).map_err(|e| e.to_string())?;
        let transport: Arc<dyn delivery::Transport> = Arc::new(delivery::MeshTransport(client));
        Ok(Some(tokio::spawn(delivery::run(
            self.state.clone(),
            transport,
        ))))
    }
}
