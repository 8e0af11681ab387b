//! NEMS in a box: the publish and subscription APIs, matching and MESH
//! delivery as one service (issue 15).
//!
//! This crate so far holds the security layer (digest section 9):
//!
//! * [`registry`]: the endpoint registry (ASID → ODS codes, interactions,
//!   endpoint certificate name; mailbox → ODS code; the PDS ASID), or open
//!   mode when there is none;
//! * [`auth`]: the checks every API call passes — headers, JWT (`alg: none`,
//!   HS256, RS256) and its claims, the registry and the client certificate;
//! * [`tls`]: HTTPS with rustls, optional mutual TLS, and the client
//!   certificate's name handed to the handlers as a request extension.

pub mod auth;
pub mod registry;
pub mod tls;
