//! Embedded NHS code systems and value sets (for ems-profiles).

use std::path::{Path, PathBuf};

/// Files generated from the NHS assets: none yet besides the model.
pub fn emit(_shared: &Path) -> Result<Vec<(PathBuf, String)>, String> {
    Ok(Vec::new())
}
