//! `ems serve` (the NEMS server of crate ems-server) and `ems audit`.

use crate::{EXIT_OK, EXIT_USAGE};
use clap::Args;
use ems_server::{LifecycleEntry, Pipeline, Server, ServerConfig, SqlitePipeline};
use std::path::PathBuf;

/// Flags of `ems serve`; each is also a key of `--config` (flags win).
#[derive(Args)]
pub(crate) struct ServeArgs {
    /// TOML file with any of the settings below (keys = flag names without `--`).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Listen address [default: 127.0.0.1:8080].
    #[arg(long)]
    listen: Option<String>,
    /// Serve the admin API (`/_ems/`) on this address instead of on --listen.
    #[arg(long)]
    admin_listen: Option<String>,
    /// Data folder (created) [default: ./ems-data].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Registry file (ASIDs, ODS codes, mailboxes); absent = open registry.
    #[arg(long)]
    registry: Option<PathBuf>,
    /// MESH base URL; absent = deliveries stay in the outbox (admin API).
    #[arg(long)]
    mesh_url: Option<String>,
    /// NEMS's own MESH mailbox (the sender of deliveries).
    #[arg(long)]
    mesh_mailbox: Option<String>,
    /// Its password.
    #[arg(long)]
    mesh_password: Option<String>,
    /// The MESH environment's shared key.
    #[arg(long)]
    mesh_shared_key: Option<String>,
    /// New subscriptions are active at once (else `requested` until activated
    /// with `POST /_ems/subscriptions/{id}/activate`).
    #[arg(long)]
    auto_activate: bool,
    /// PDS stand-in CSV `nhs_number,postcode,gp_practice[,pds_flag]` (as `ems route`).
    #[arg(long)]
    patients: Option<PathBuf>,
    /// Postcode directory CSV (as `ems route`).
    #[arg(long)]
    postcodes: Option<PathBuf>,
    /// GP practices CSV (as `ems route`).
    #[arg(long)]
    practices: Option<PathBuf>,
    /// TLS certificate (PEM): serve HTTPS.
    #[arg(long)]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long)]
    tls_key: Option<PathBuf>,
    /// CA of client certificates: require mutual TLS.
    #[arg(long)]
    client_ca: Option<PathBuf>,
    /// The ASID allowed to publish the PDS events.
    #[arg(long)]
    pds_asid: Option<String>,
    /// Accept unsigned JWTs (`alg: none`) [default: true in open mode].
    #[arg(long)]
    jwt_allow_unsigned: Option<bool>,
    /// HS256 secret for JWTs.
    #[arg(long)]
    jwt_hs256_secret: Option<String>,
    /// RS256 public key (PEM file) for JWTs.
    #[arg(long)]
    jwt_rs256_key: Option<PathBuf>,
    /// Event life cycle: `EVENT=STATE@YYYY-MM-DD[@URL]` (STATE deprecated,
    /// no-longer-supported, withdrawn); repeatable.
    #[arg(long)]
    lifecycle: Vec<String>,
    /// Longest time a request body may take to arrive, in ms [default: 30000].
    #[arg(long)]
    body_timeout_ms: Option<u64>,
}

fn config_of(a: ServeArgs) -> Result<ServerConfig, String> {
    let mut c = match &a.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            ServerConfig::from_toml(&text).map_err(|e| format!("{}: {e}", p.display()))?
        }
        None => ServerConfig::default(),
    };
    macro_rules! set {
        ($($f:ident),*) => { $( if let Some(v) = a.$f { c.$f = v; } )* };
    }
    macro_rules! set_opt {
        ($($f:ident),*) => { $( if a.$f.is_some() { c.$f = a.$f; } )* };
    }
    set!(listen, data);
    set_opt!(
        admin_listen,
        registry,
        mesh_url,
        mesh_mailbox,
        mesh_password,
        mesh_shared_key,
        patients,
        postcodes,
        practices,
        tls_cert,
        tls_key,
        client_ca,
        pds_asid,
        jwt_allow_unsigned,
        jwt_hs256_secret,
        jwt_rs256_key,
        body_timeout_ms
    );
    c.auto_activate |= a.auto_activate;
    for l in &a.lifecycle {
        c.lifecycle.push(LifecycleEntry::parse_flag(l)?);
    }
    Ok(c)
}

/// Resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM (how service managers
/// and containers stop a process).
async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn serve(c: ServerConfig) -> Result<(), String> {
    let tls = match (&c.tls_cert, &c.tls_key) {
        (Some(cert), Some(key)) => Some(
            ems_server::tls::server_config(cert, key, c.client_ca.as_deref())
                .map_err(|e| e.to_string())?,
        ),
        (None, None) if c.client_ca.is_none() => None,
        _ => return Err("--tls-cert and --tls-key go together; --client-ca needs both".into()),
    };
    let server = Server::open(&c)?;
    let listener = tokio::net::TcpListener::bind(&c.listen)
        .await
        .map_err(|e| format!("--listen {}: {e}", c.listen))?;
    let worker = server.spawn_delivery()?;
    eprintln!(
        "ems: serving NEMS on {}://{} (data {}, {} active subscriptions, {})",
        if tls.is_some() { "https" } else { "http" },
        listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| c.listen.clone()),
        c.data.display(),
        server.state().routing.len(),
        match &c.mesh_url {
            Some(u) => format!("delivering to MESH at {u}"),
            None => "no MESH: deliveries stay in the outbox".into(),
        }
    );
    let app = match &c.admin_listen {
        Some(addr) => {
            let admin = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("--admin-listen {addr}: {e}"))?;
            eprintln!("ems: admin API on http://{addr}");
            let router = server.admin_router();
            tokio::spawn(ems_server::listen::serve_plain(
                admin,
                router,
                ems_server::listen::HEADER_READ_TIMEOUT,
            ));
            server.api_router()
        }
        None => server.router(),
    };
    match tls {
        Some(cfg) => tokio::select! {
            r = ems_server::tls::serve(listener, app, cfg) => r.map_err(|e| e.to_string())?,
            _ = shutdown() => {}
        },
        // not axum::serve: it sets no timer on hyper, so a slow request
        // head was never timed out (ems_server::listen)
        None => tokio::select! {
            () = ems_server::listen::serve_plain(listener, app, ems_server::listen::HEADER_READ_TIMEOUT) => {}
            _ = shutdown() => {}
        },
    }
    if let Some(w) = worker {
        w.abort();
    }
    // a fast next start
    server.write_snapshot()?;
    Ok(())
}

pub(crate) fn run(a: ServeArgs) -> u8 {
    let result = config_of(a).and_then(|c| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?
            .block_on(serve(c))
    });
    match result {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("ems: serve: {e}");
            EXIT_USAGE
        }
    }
}

/// Flags of `ems audit`.
#[derive(Args)]
pub(crate) struct AuditArgs {
    /// Data folder of `ems serve`.
    #[arg(long, default_value = "ems-data")]
    data: PathBuf,
    /// Only records after this sequence number.
    #[arg(long, default_value_t = 0)]
    after: i64,
}

pub(crate) fn audit(a: AuditArgs) -> u8 {
    if !a.data.join("ems.sqlite3").is_file() {
        eprintln!("ems: audit: {}: no ems-server store here", a.data.display());
        return EXIT_USAGE;
    }
    let log = match SqlitePipeline::open(&a.data) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("ems: audit: {e}");
            return EXIT_USAGE;
        }
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut after = a.after;
    loop {
        let rows = match log.audit_records(after, 1000) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("ems: audit: {e}");
                return EXIT_USAGE;
            }
        };
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for r in &rows {
            if std::io::Write::write_all(
                &mut out,
                format!("{}\n", ems_server::audit_json_line(&log, r)).as_bytes(),
            )
            .is_err()
            {
                return EXIT_OK;
            }
        }
    }
    let _ = std::io::Write::flush(&mut out);
    EXIT_OK
}
