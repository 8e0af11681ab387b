//! Matching state: the ems-match index over the active subscriptions, the
//! geography and the PDS stand-in (the same CSV files as `ems route`).

use crate::pipeline::{Pipeline, PipelineError, StoredSubscription};
use ems::matching::{
    Criteria, CsvGeography, Delivery, MatchEvent, Matcher, MatcherBuilder, NhsNumber,
    PatientContext, Subscription, SubscriptionStatus,
};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

/// PDS stand-in: what "PDS" knows of each patient.
pub type Patients = HashMap<NhsNumber, PatientContext>;

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Loads the geography CSVs (either may be absent).
pub fn load_geography(
    postcodes: Option<&Path>,
    practices: Option<&Path>,
) -> Result<CsvGeography, String> {
    let mut geo = CsvGeography::default();
    if let Some(p) = postcodes {
        geo.load_postcodes(read(p)?.as_bytes())
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    if let Some(p) = practices {
        geo.load_practices(&read(p)?)
            .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(geo)
}

/// Loads the PDS stand-in (empty when absent).
pub fn load_patients(path: Option<&Path>) -> Result<Patients, String> {
    match path {
        Some(p) => ems::matching::parse_patients_csv(&read(p)?)
            .map_err(|e| format!("{}:{}: {}", p.display(), e.line, e.message)),
        None => Ok(HashMap::new()),
    }
}

/// The matcher's view of a stored subscription row (`None`: not active, or
/// criteria no longer parse). A FHIR Subscription resource is mapped by
/// `ems::bundle::to_match_subscription` instead (on create); this reads the
/// row the store kept of it.
pub fn active_subscription(s: &StoredSubscription) -> Option<Subscription> {
    let status = SubscriptionStatus::parse(&s.status)?;
    if status != SubscriptionStatus::Active {
        return None;
    }
    Some(Subscription {
        id: s.id.clone(),
        status,
        end: s.end,
        created: s.created,
        mailbox: s.mailbox.clone(),
        contact_ods: Some(s.contact_ods.clone()),
        criteria: Criteria::parse(&s.criteria).ok()?,
    })
}

/// The index and the PDS stand-in, shared by the request handlers.
pub struct Routing {
    matcher: RwLock<Matcher>,
    patients: Patients,
    /// Subscription version of the snapshot file on disk (-1: none).
    snapshot_version: std::sync::atomic::AtomicI64,
    /// One snapshot writer at a time (they share the temporary file).
    snapshot_writer: std::sync::Mutex<()>,
}

/// The index from a snapshot file written at `version` (`None`: absent,
/// another version, or unreadable — then the rows are read).
fn read_snapshot(path: &Path, version: i64, geography: Arc<CsvGeography>) -> Option<Matcher> {
    let bytes = std::fs::read(path).ok()?;
    let (label, rest) = bytes.split_at_checked(8)?;
    if i64::from_le_bytes(label.try_into().ok()?) != version {
        return None;
    }
    Matcher::from_snapshot(rest, geography).ok()
}

impl Routing {
    /// Loads every active stored subscription into a new index: from the
    /// snapshot file when it was written at the store's current
    /// [`Pipeline::subscriptions_version`], else from the stored rows (the
    /// index built in bulk with a [`MatcherBuilder`]: one sort per index
    /// instead of an update per row).
    pub fn load(
        log: &dyn Pipeline,
        geography: Arc<CsvGeography>,
        patients: Patients,
        snapshot: Option<&Path>,
    ) -> Result<Routing, PipelineError> {
        let version = log.subscriptions_version()?;
        if let Some(m) = snapshot.and_then(|p| read_snapshot(p, version, geography.clone())) {
            return Ok(Routing {
                matcher: RwLock::new(m),
                patients,
                snapshot_version: std::sync::atomic::AtomicI64::new(version),
                snapshot_writer: Default::default(),
            });
        }
        let mut b = MatcherBuilder::new(geography);
        let mut bad = None;
        log.for_each_subscription(&mut |s| {
            if let Some(sub) = active_subscription(&s) {
                if let Err(e) = b.push(&sub) {
                    bad.get_or_insert(e.to_string());
                }
            }
        })?;
        if let Some(e) = bad {
            return Err(PipelineError::Store(format!("stored subscription: {e}")));
        }
        let m = b.build();
        Ok(Routing {
            matcher: RwLock::new(m),
            patients,
            snapshot_version: std::sync::atomic::AtomicI64::new(-1),
            snapshot_writer: Default::default(),
        })
    }

    /// Writes the index to `path` labelled with the store's subscription
    /// version, unless the file already has it. The version is read before
    /// the index, so the label never claims more than the index holds (a
    /// change is applied to the index only after its commit).
    pub fn write_snapshot(&self, log: &dyn Pipeline, path: &Path) -> Result<bool, String> {
        let _one = self.snapshot_writer.lock().map_err(|e| e.to_string())?;
        let version = log.subscriptions_version().map_err(|e| e.to_string())?;
        if self
            .snapshot_version
            .load(std::sync::atomic::Ordering::Relaxed)
            == version
        {
            return Ok(false);
        }
        let bytes = {
            let m = self.matcher.read().map_err(|e| e.to_string())?;
            m.snapshot()
        };
        let tmp = path.with_extension("tmp");
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&version.to_le_bytes())?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| format!("{}: {e}", path.display()))?;
        self.snapshot_version
            .store(version, std::sync::atomic::Ordering::Relaxed);
        Ok(true)
    }

    /// The subscription version the snapshot on disk was written at, when
    /// the index was loaded from it or has written it.
    pub fn snapshot_version(&self) -> Option<i64> {
        let v = self
            .snapshot_version
            .load(std::sync::atomic::Ordering::Relaxed);
        (v >= 0).then_some(v)
    }

    /// Number of indexed (active) subscriptions.
    pub fn len(&self) -> usize {
        self.matcher.read().map(|m| m.len()).unwrap_or(0)
    }

    /// `true` when no subscription is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps the index in step with a stored change: active → (re)indexed,
    /// anything else → removed.
    pub fn apply(&self, s: &StoredSubscription) {
        let Ok(mut m) = self.matcher.write() else {
            return;
        };
        match active_subscription(s) {
            Some(sub) => {
                let _ = m.insert(&sub);
            }
            None => {
                m.remove(&s.id);
            }
        }
    }

    /// Removes a deleted subscription from the index.
    pub fn remove(&self, id: &str) {
        if let Ok(mut m) = self.matcher.write() {
            m.remove(id);
        }
    }

    /// Deliveries of an event, with the PDS stand-in's context for the
    /// patient (the previous postcode of a change of address stays the
    /// message's, digest 7.1 item 3).
    pub fn deliveries(&self, mut ev: MatchEvent) -> Vec<Delivery> {
        if let Some(ctx) = ev.nhs_number.and_then(|n| self.patients.get(&n)) {
            let previous = ev.patient.previous_postcode.take();
            ev.patient = ctx.clone();
            ev.patient.previous_postcode = previous;
        }
        self.matcher
            .read()
            .map(|m| m.match_event(&ev))
            .unwrap_or_default()
    }
}
