//! The registry file: its layout, open mode, the PDS ASID, and every
//! parsing error with its line and column.

use ems_server::registry::{AsidEntry, Registry, RegistryError};
use std::path::Path;

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/registry.toml")
}

#[test]
fn the_fixture_parses() {
    let r = Registry::from_toml_file(&fixture()).unwrap();
    assert!(!r.is_open());
    assert_eq!(
        r.asid("200000000115"),
        Some(&AsidEntry {
            ods_codes: vec!["RR8".into(), "RA9".into()],
            interactions: vec![
                "urn:nhs:names:services:events:Vaccinations.Write".into(),
                "urn:nhs:names:services:clinicals-sync:SubscriptionsApiPost".into(),
                "urn:nhs:names:services:clinicals-sync:SubscriptionsApiGet".into(),
                "urn:nhs:names:services:clinicals-sync:SubscriptionsApiDelete".into(),
            ],
            cert_name: Some("publisher.example.nhs.uk".into()),
        })
    );
    let reader = r.asid("200000000116").unwrap();
    assert_eq!(reader.cert_name, None);
    assert!(reader.has_ods_code("b82005"));
    assert!(!reader.has_ods_code("RR8"));
    assert!(reader.allows_interaction("urn:nhs:names:services:clinicals-sync:SubscriptionsApiGet"));
    assert!(
        !reader.allows_interaction("urn:nhs:names:services:clinicals-sync:SubscriptionsApiPost")
    );
    assert_eq!(r.asid("200000000999"), None);
    assert_eq!(r.mailbox_owner("X26OT178"), Some("RR8"));
    assert_eq!(r.mailbox_owner("B82OT001"), Some("B82005"));
    assert_eq!(r.mailbox_owner("X26OT999"), None);
    assert_eq!(r.pds_asid(), Some("200000000001"));
    assert!(r.may_publish_pds("200000000001"));
    assert!(!r.may_publish_pds("200000000115"));
}

#[test]
fn open_mode() {
    let r = Registry::open();
    assert!(r.is_open());
    assert_eq!(r.asid("200000000115"), None);
    assert_eq!(r.mailbox_owner("X26OT178"), None);
    assert_eq!(r.pds_asid(), None);
    // any ASID may publish the PDS events ...
    assert!(r.may_publish_pds("200000000115"));
    // ... unless --pds-asid names the one that may
    let r = r.with_pds_asid(Some("200000000001".into()));
    assert!(r.is_open());
    assert!(r.may_publish_pds("200000000001"));
    assert!(!r.may_publish_pds("200000000115"));
}

#[test]
fn pds_asid_with_a_registry() {
    let minimal = "[asid.200000000115]\nods_codes = [\"RR8\"]\ninteractions = []\n";
    // no pds_asid in the file: nobody may publish the PDS events
    let r = Registry::from_toml_str(minimal).unwrap();
    assert!(!r.is_open());
    assert!(!r.may_publish_pds("200000000115"));
    // the flag names one; None keeps the file's
    let r = r.with_pds_asid(Some("200000000115".into()));
    assert!(r.may_publish_pds("200000000115"));
    let r = Registry::from_toml_file(&fixture())
        .unwrap()
        .with_pds_asid(None);
    assert_eq!(r.pds_asid(), Some("200000000001"));
    let r = r.with_pds_asid(Some("200000000115".into()));
    assert!(r.may_publish_pds("200000000115"));
    assert!(!r.may_publish_pds("200000000001"));
}

#[test]
fn an_empty_file_is_a_registry_with_no_entries() {
    let r = Registry::from_toml_str("").unwrap();
    assert!(!r.is_open());
    assert_eq!(r.asid("200000000115"), None);
    assert!(!r.may_publish_pds("200000000115"));
}

/// (line, column, message) of an invalid registry text.
#[track_caller]
fn invalid(text: &str) -> (usize, usize, String) {
    match Registry::from_toml_str(text) {
        Err(RegistryError::Invalid {
            path,
            line,
            column,
            message,
        }) => {
            assert_eq!(path, None);
            (line, column, message)
        }
        other => panic!("expected an invalid registry, got {other:?}"),
    }
}

#[track_caller]
fn assert_invalid(text: &str, line: usize, column: usize, needle: &str) {
    let (l, c, message) = invalid(text);
    assert_eq!((l, c), (line, column), "{message}");
    assert!(message.contains(needle), "{message:?} lacks {needle:?}");
}

const ENTRY: &str = "[asid.200000000115]\nods_codes = [\"RR8\"]\ninteractions = []\n";

#[test]
fn toml_syntax_errors_are_located() {
    assert_invalid("pds_asid = \"1\nx = 2\n", 1, 14, "expected `\"`");
    assert_invalid("# comment\n[asid.200000000115\n", 2, 19, "expected `]`");
    assert_invalid(
        &format!("{ENTRY}[asid.200000000115]\n"),
        4,
        7,
        "duplicate key",
    );
}

#[test]
fn layout_errors_are_located() {
    // unknown keys, at the top and in an entry
    assert_invalid("pds_asid = \"1\"\nregistry = 1\n", 2, 1, "unknown field");
    assert_invalid(
        "[asid.200000000115]\nods_codes = [\"RR8\"]\ninteractions = []\ncert = \"x\"\n",
        4,
        1,
        "unknown field",
    );
    // a missing field: reported at the entry
    let (line, _, message) = invalid("[asid.200000000115]\nods_codes = [\"RR8\"]\n");
    assert_eq!(line, 1);
    assert!(message.contains("interactions"), "{message}");
    // wrong types
    assert_invalid(
        "[asid.200000000115]\nods_codes = \"RR8\"\ninteractions = []\n",
        2,
        13,
        "",
    );
    assert_invalid("[mailbox]\nX26OT178 = 5\n", 2, 12, "");
    assert_invalid("pds_asid = 200000000115\n", 1, 12, "");
}

#[test]
fn value_errors_are_located() {
    // the ASID key
    assert_invalid(
        "[asid.publisher]\nods_codes = [\"RR8\"]\ninteractions = []\n",
        1,
        7,
        "\"publisher\" is not an ASID",
    );
    assert_invalid(
        "[asid.\"1234567890123\"]\nods_codes = [\"RR8\"]\ninteractions = []\n",
        1,
        7,
        "is not an ASID",
    );
    // no ODS code
    assert_invalid(
        "[asid.200000000115]\nods_codes = []\ninteractions = []\n",
        2,
        13,
        "has no ODS code",
    );
    // a bad ODS code, the second of the list
    assert_invalid(
        "[asid.200000000115]\nods_codes = [\"RR8\", \"R R8\"]\ninteractions = []\n",
        2,
        21,
        "\"R R8\" is not an ODS code",
    );
    // an InteractionID with white space
    assert_invalid(
        "[asid.200000000115]\nods_codes = [\"RR8\"]\ninteractions = [\"urn:a\", \"urn: b\"]\n",
        3,
        26,
        "InteractionID",
    );
    // an empty certificate name
    assert_invalid(
        &format!("{ENTRY}cert_name = \"\"\n"),
        4,
        13,
        "certificate name",
    );
    // a bad mailbox id and a bad owner
    assert_invalid(
        &format!("{ENTRY}[mailbox]\n\"X26/OT\" = \"RR8\"\n"),
        5,
        1,
        "not a MESH mailbox id",
    );
    assert_invalid(
        &format!("{ENTRY}[mailbox]\nX26OT178 = \"\"\n"),
        5,
        12,
        "not an ODS code",
    );
    // pds_asid: an ASID with an entry
    assert_invalid(
        &format!("pds_asid = \"PDS\"\n{ENTRY}"),
        1,
        12,
        "pds_asid \"PDS\" is not an ASID",
    );
    assert_invalid(
        &format!("pds_asid = \"200000000001\"\n{ENTRY}"),
        1,
        12,
        "has no [asid] entry",
    );
}

#[test]
fn file_errors_name_the_file() {
    let missing = Path::new("/nonexistent/registry.toml");
    match Registry::from_toml_file(missing) {
        Err(e @ RegistryError::Io { .. }) => {
            assert!(
                e.to_string().starts_with("/nonexistent/registry.toml: "),
                "{e}"
            )
        }
        other => panic!("expected an I/O error, got {other:?}"),
    }
    let dir = std::env::temp_dir().join(format!("ems-registry-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "# registry\n[asid.x]\nods_codes = [\"RR8\"]\ninteractions = []\n",
    )
    .unwrap();
    let e = Registry::from_toml_file(&bad).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}:2:7: the key \"x\" is not an ASID (1 to 12 digits)",
            bad.display()
        )
    );
    // not UTF-8: an I/O error, never a panic
    let binary = dir.join("binary.toml");
    std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
    assert!(matches!(
        Registry::from_toml_file(&binary),
        Err(RegistryError::Io { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}
