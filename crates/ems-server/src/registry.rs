//! The endpoint registry: who may call the server, for which organisations
//! and interactions, with which endpoint certificate; who owns which MESH
//! mailbox; which ASID is Spine/PDS (digest sections 3.1, 5.1, 9).
//!
//! On Spine this is the Spine Directory Service (an ASID is registered against
//! ODS codes and interactions, and its endpoint certificate). Here it is a
//! TOML file (`--registry FILE`):
//!
//! ```toml
//! # The ASID of Spine/PDS: the only one that may publish the PDS events.
//! pds_asid = "200000000001"
//!
//! [asid.200000000001]
//! ods_codes = ["X26"]
//! interactions = []
//!
//! [asid.200000000115]
//! ods_codes = ["RR8", "RA9"]
//! interactions = [
//!     "urn:nhs:names:services:events:Vaccinations.Write",
//!     "urn:nhs:names:services:clinicals-sync:SubscriptionsApiPost",
//!     "urn:nhs:names:services:clinicals-sync:SubscriptionsApiGet",
//!     "urn:nhs:names:services:clinicals-sync:SubscriptionsApiDelete",
//! ]
//! cert_name = "publisher.example.nhs.uk"
//!
//! [mailbox]
//! X26OT178 = "RR8"
//! ```
//!
//! Without a file the registry is *open* ([`Registry::open`]): any ASID is
//! accepted for any organisation and interaction, and the PDS events may be
//! published by any ASID unless a PDS ASID is configured
//! ([`Registry::with_pds_asid`]).
//!
//! Every error in the file is reported with its line and column
//! ([`RegistryError::Invalid`]).

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Longest ASID accepted (Spine ASIDs are 12-digit numbers).
const ASID_MAX_DIGITS: usize = 12;
/// Longest ODS code accepted (organisation and site codes are 3 to 9 characters).
const ODS_MAX_LEN: usize = 10;
/// Longest MESH mailbox id accepted (they are 8 characters, e.g. `X26OT178`).
const MAILBOX_MAX_LEN: usize = 20;

/// What the registry records of one ASID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsidEntry {
    /// The ODS codes the ASID is registered against (at least one), as
    /// written in the file; compare with [`AsidEntry::has_ods_code`].
    pub ods_codes: Vec<String>,
    /// The InteractionIDs the ASID may call (exact strings).
    pub interactions: Vec<String>,
    /// The name of the endpoint certificate (its subject CN, or first DNS
    /// SAN when it has no CN; see [`crate::tls::ClientCertName`]); `None` when
    /// the file names none — such an ASID is then refused over mutual TLS.
    pub cert_name: Option<String>,
}

impl AsidEntry {
    /// `true` when `ods` is one of the entry's ODS codes (ODS codes are
    /// compared ASCII case-insensitively).
    pub fn has_ods_code(&self, ods: &str) -> bool {
        self.ods_codes.iter().any(|c| c.eq_ignore_ascii_case(ods))
    }

    /// `true` when the entry lists `interaction_id` (exact comparison).
    pub fn allows_interaction(&self, interaction_id: &str) -> bool {
        self.interactions.iter().any(|i| i == interaction_id)
    }
}

/// The endpoint registry, or open mode (see the [module docs](self)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registry {
    /// `None`: open mode.
    entries: Option<Entries>,
    /// The ASID that may publish the PDS events.
    pds_asid: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Entries {
    asids: HashMap<String, AsidEntry>,
    mailboxes: HashMap<String, String>,
}

/// A registry file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The file cannot be read (missing, unreadable, not UTF-8).
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not TOML, or not a registry: the location and what is wrong.
    #[error("{}:{line}:{column}: {message}", path.as_deref().unwrap_or(Path::new("registry")).display())]
    Invalid {
        /// The file, when read from one.
        path: Option<PathBuf>,
        /// 1-based line of the offending text.
        line: usize,
        /// 1-based column (in characters) of the offending text.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

/// The file layout (serde), with the spans of everything checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    pds_asid: Option<Spanned<String>>,
    #[serde(default)]
    asid: BTreeMap<Spanned<String>, AsidFile>,
    #[serde(default)]
    mailbox: BTreeMap<Spanned<String>, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AsidFile {
    ods_codes: Spanned<Vec<Spanned<String>>>,
    interactions: Vec<Spanned<String>>,
    cert_name: Option<Spanned<String>>,
}

/// A finding before it is given a line and column.
struct SpanError {
    span: Range<usize>,
    message: String,
}

fn span_error(span: Range<usize>, message: String) -> SpanError {
    SpanError { span, message }
}

/// 1-based (line, column in characters) of byte offset `at` of `text`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    // a span always starts on a character boundary; be safe anyway
    let before = text.get(..at).unwrap_or(text);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// An ASID: 1 to 12 ASCII digits.
pub(crate) fn is_asid(s: &str) -> bool {
    (1..=ASID_MAX_DIGITS).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_code(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// An ODS code: 1 to 10 ASCII letters and digits.
pub(crate) fn is_ods_code(s: &str) -> bool {
    is_code(s, ODS_MAX_LEN)
}

/// A non-empty token with no whitespace or control characters.
fn is_token(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn check_asid(s: &Spanned<String>, what: &str) -> Result<(), SpanError> {
    if is_asid(s.get_ref()) {
        Ok(())
    } else {
        Err(span_error(
            s.span(),
            format!(
                "{what} {:?} is not an ASID (1 to {ASID_MAX_DIGITS} digits)",
                s.get_ref()
            ),
        ))
    }
}

fn check_ods(s: &Spanned<String>) -> Result<(), SpanError> {
    if is_ods_code(s.get_ref()) {
        Ok(())
    } else {
        Err(span_error(
            s.span(),
            format!(
                "{:?} is not an ODS code (1 to {ODS_MAX_LEN} ASCII letters and digits)",
                s.get_ref()
            ),
        ))
    }
}

fn check_token(s: &Spanned<String>, what: &str) -> Result<(), SpanError> {
    if is_token(s.get_ref()) {
        Ok(())
    } else {
        Err(span_error(
            s.span(),
            format!("{what} {:?} is empty or contains white space", s.get_ref()),
        ))
    }
}

impl RegistryFile {
    fn into_registry(self) -> Result<Registry, SpanError> {
        let mut asids = HashMap::with_capacity(self.asid.len());
        for (key, entry) in self.asid {
            check_asid(&key, "the key")?;
            if entry.ods_codes.get_ref().is_empty() {
                return Err(span_error(
                    entry.ods_codes.span(),
                    format!("ASID {} has no ODS code", key.get_ref()),
                ));
            }
            for ods in entry.ods_codes.get_ref() {
                check_ods(ods)?;
            }
            for interaction in &entry.interactions {
                check_token(interaction, "the InteractionID")?;
            }
            if let Some(name) = &entry.cert_name {
                check_token(name, "the certificate name")?;
            }
            asids.insert(
                key.into_inner(),
                AsidEntry {
                    ods_codes: entry
                        .ods_codes
                        .into_inner()
                        .into_iter()
                        .map(Spanned::into_inner)
                        .collect(),
                    interactions: entry
                        .interactions
                        .into_iter()
                        .map(Spanned::into_inner)
                        .collect(),
                    cert_name: entry.cert_name.map(Spanned::into_inner),
                },
            );
        }
        let mut mailboxes = HashMap::with_capacity(self.mailbox.len());
        for (mailbox, ods) in self.mailbox {
            if !is_code(mailbox.get_ref(), MAILBOX_MAX_LEN) {
                return Err(span_error(
                    mailbox.span(),
                    format!(
                        "{:?} is not a MESH mailbox id (1 to {MAILBOX_MAX_LEN} ASCII letters and digits)",
                        mailbox.get_ref()
                    ),
                ));
            }
            check_ods(&ods)?;
            mailboxes.insert(mailbox.into_inner(), ods.into_inner());
        }
        if let Some(pds) = &self.pds_asid {
            check_asid(pds, "pds_asid")?;
            if !asids.contains_key(pds.get_ref()) {
                return Err(span_error(
                    pds.span(),
                    format!("pds_asid {:?} has no [asid] entry", pds.get_ref()),
                ));
            }
        }
        Ok(Registry {
            entries: Some(Entries { asids, mailboxes }),
            pds_asid: self.pds_asid.map(Spanned::into_inner),
        })
    }
}

impl Registry {
    /// Open mode: no registry file (any ASID, organisation and interaction;
    /// the PDS events from any ASID until [`Registry::with_pds_asid`] names one).
    pub fn open() -> Registry {
        Registry::default()
    }

    /// Reads and checks a registry file; errors carry the path, line and column.
    pub fn from_toml_file(path: &Path) -> Result<Registry, RegistryError> {
        let text = std::fs::read_to_string(path).map_err(|source| RegistryError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Registry::parse(&text, Some(path))
    }

    /// Parses and checks registry text (the file layout of the
    /// [module docs](self)); errors carry the line and column.
    pub fn from_toml_str(text: &str) -> Result<Registry, RegistryError> {
        Registry::parse(text, None)
    }

    fn parse(text: &str, path: Option<&Path>) -> Result<Registry, RegistryError> {
        let invalid = |span: Range<usize>, message: String| {
            let (line, column) = line_column(text, span.start);
            RegistryError::Invalid {
                path: path.map(Path::to_path_buf),
                line,
                column,
                message,
            }
        };
        let file: RegistryFile = toml::from_str(text)
            .map_err(|e| invalid(e.span().unwrap_or(0..0), e.message().trim().to_string()))?;
        file.into_registry().map_err(|e| invalid(e.span, e.message))
    }

    /// Names the ASID that may publish the PDS events (the `--pds-asid`
    /// flag), overriding the file's `pds_asid`; `None` keeps what is there.
    pub fn with_pds_asid(mut self, asid: Option<String>) -> Registry {
        if asid.is_some() {
            self.pds_asid = asid;
        }
        self
    }

    /// `true` in open mode (no registry file).
    pub fn is_open(&self) -> bool {
        self.entries.is_none()
    }

    /// The entry of `asid`; always `None` in open mode.
    pub fn asid(&self, asid: &str) -> Option<&AsidEntry> {
        self.entries.as_ref()?.asids.get(asid)
    }

    /// The ODS code that owns MESH mailbox `mailbox` (exact id); always `None`
    /// in open mode, where any organisation may name any mailbox.
    pub fn mailbox_owner(&self, mailbox: &str) -> Option<&str> {
        // MESH mailbox ids are case-insensitive (canonically upper case)
        let boxes = &self.entries.as_ref()?.mailboxes;
        boxes
            .get(mailbox)
            .or_else(|| {
                boxes
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(mailbox))
                    .map(|(_, v)| v)
            })
            .map(String::as_str)
    }

    /// The ASID configured as Spine/PDS, if any.
    pub fn pds_asid(&self) -> Option<&str> {
        self.pds_asid.as_deref()
    }

    /// Whether `asid` may publish the PDS events (digest 3.1: Spine only):
    /// the configured PDS ASID only; with none configured, any ASID in open
    /// mode and none with a registry file.
    pub fn may_publish_pds(&self, asid: &str) -> bool {
        match &self.pds_asid {
            Some(pds) => pds == asid,
            None => self.is_open(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::line_column;

    #[test]
    fn line_column_counts_characters_from_one() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        // "bé " is 4 bytes and 3 characters
        assert_eq!(line_column(text, 10), (2, 4));
        assert_eq!(line_column(text, 999), (3, 1));
    }
}
