//! Runs the `ems` binary: every command, exit codes, stdin, directories, JSON
//! output shape and bad input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn ems() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ems"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str]) -> Output {
    ems().current_dir(root()).args(args).output().unwrap()
}

fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut c = ems()
        .current_dir(root())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(input).unwrap();
    c.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ems-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn validate_shipped_examples_is_clean() {
    let o = run(&["validate", "examples/messages"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        stdout(&o).lines().filter(|l| l.contains(": valid")).count(),
        17
    );
}

#[test]
fn validate_json_lines_shape() {
    let o = run(&[
        "validate",
        "--format",
        "json",
        "examples/messages/vaccinations-1-new.xml",
        "examples/subscriptions",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    for l in &lines {
        assert!(l["path"].is_string());
        assert_eq!(l["valid"], true);
        assert_eq!(l["outcome"]["resourceType"], "OperationOutcome");
    }
}

#[test]
fn validate_reports_rule_ids_and_exit_1() {
    let corpus = root().join("../shared/corpus/nems/PDS-Death-Notification-formal-ems-example.xml");
    let o = run(&["validate", "--format", "json", corpus.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["valid"], false);
    let issues = v["outcome"]["issue"].as_array().unwrap();
    let order = issues
        .iter()
        .find(|i| {
            i["diagnostics"]
                .as_str()
                .unwrap()
                .starts_with("[SCHEMA-ORDER]")
        })
        .unwrap();
    assert_eq!(
        order["expression"][0],
        "Bundle.entry[1].resource.ofType(Communication).sender"
    );
    assert!(order["details"]["coding"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["code"] == "SCHEMA-ORDER"));
    // receive mode keeps the order defect a warning; its one error is the
    // Patient's NHS number failing the check digit, which is receive-critical
    // since issue 13 (a receiver cannot act on an invalid patient identity)
    let o = run(&["validate", "--mode", "receive", corpus.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("warning [SCHEMA-ORDER]"));
    assert!(stdout(&o).contains("(1 error,"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("error [NHS-NUMBER-CHECKDIGIT]"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn validate_stdin_and_bad_inputs() {
    let msg = std::fs::read(root().join("examples/messages/pds-record-change-1-new.xml")).unwrap();
    let o = run_stdin(&["validate", "-"], &msg);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).starts_with("-: valid"));
    // garbage
    let o = run_stdin(&["validate", "-"], b"\x00\xffgarbage");
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("fatal"));
    // empty file
    let e = tmp("empty.xml", b"");
    let o = run(&["validate", e.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("XML-MALFORMED"));
    // > 3 MB
    let mut big = b"<Bundle xmlns=\"http://hl7.org/fhir\">".to_vec();
    big.resize(3 * 1024 * 1024 + 10, b' ');
    let b = tmp("big.xml", &big);
    let o = run(&["validate", b.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("INPUT-TOO-LARGE"));
    // missing file: I/O error, one clear line, exit 2
    let o = run(&["validate", "does/not/exist.xml"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("does/not/exist.xml"));
    assert!(!stderr(&o).contains("panicked"));
    // usage error
    let o = run(&["validate", "--mode", "sideways", "x"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn subscription_check_alias() {
    let o = run(&["subscription", "check", "examples/subscriptions"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let corpus = root().join("../shared/corpus/nems/subscription-read-response.xml");
    let o = run(&["subscription", "check", corpus.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("SUB-CRITERIA-EVENT"));
}

#[test]
fn convert_round_trips() {
    let o = run(&[
        "convert",
        "--to",
        "json",
        "examples/messages/vaccinations-1-new.xml",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let json = o.stdout.clone();
    assert!(stdout(&o).starts_with("{\"resourceType\":\"Bundle\""));
    let o = run_stdin(&["convert", "--to", "xml", "--pretty", "-"], &json);
    assert_eq!(o.status.code(), Some(0));
    let original =
        std::fs::read_to_string(root().join("examples/messages/vaccinations-1-new.xml")).unwrap();
    assert_eq!(stdout(&o), original);
    let o = run_stdin(&["convert", "--to", "json", "-"], b"<nope");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("XML-MALFORMED"));
    let o = run(&["convert", "--to", "json", "missing.xml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn example_command() {
    let o = run(&["example", "--list"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).lines().count(), 10);
    let a = run(&[
        "example",
        "vaccinations-1",
        "--message-event-type",
        "update",
        "--seed",
        "4",
    ]);
    let b = run(&[
        "example",
        "vaccinations-1",
        "--message-event-type",
        "update",
        "--seed",
        "4",
    ]);
    assert_eq!(a.status.code(), Some(0));
    assert_eq!(a.stdout, b.stdout, "deterministic with --seed");
    let v = run_stdin(&["validate", "-"], &a.stdout);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    let j = run(&["example", "pds-change-of-gp-1", "--format", "json"]);
    assert!(stdout(&j).trim_start().starts_with('{'));
    let bad = run(&[
        "example",
        "vaccinations-1",
        "--message-event-type",
        "delete",
    ]);
    assert_eq!(bad.status.code(), Some(0));
    let bad = run(&[
        "example",
        "pds-change-of-gp-1",
        "--message-event-type",
        "delete",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("not allowed"));
    let bad = run(&["example", "referral-1"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn route_command() {
    let o = run(&[
        "route",
        "--subscriptions",
        "examples/subscriptions",
        "--postcodes",
        "crates/ems-match/data/sample-postcodes.csv",
        "--practices",
        "crates/ems-match/data/sample-epraccur.csv",
        "--patients",
        "examples/data/patients.csv",
        "examples/messages/pds-change-of-address-1-new.xml",
        "examples/messages/vaccinations-1-new.xml",
        "examples/messages/pds-birth-notification-1-new.xml",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines[0].starts_with("{\"path\":"),
        "field order: {}",
        lines[0]
    );
    let coa: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(coa["event"], "pds-change-of-address-1");
    let boxes: Vec<&str> = coa["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["mailbox"].as_str().unwrap())
        .collect();
    assert_eq!(
        boxes,
        vec!["RCBOT001", "RR8OT001"],
        "old (Leeds) and new (York) areas, sorted"
    );
    assert_eq!(coa["deliveries"][0]["partner_id"], serde_json::Value::Null);
    assert_eq!(
        coa["deliveries"][1]["partner_id"],
        "sub-leeds-cho|leeds-cho"
    );
    let vacc: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    // patients.csv registers the child at B86001 (sub-ICB 15F): explicit + CHO_GP_CCG, one copy to RR8OT001
    let d = &vacc["deliveries"][0];
    assert_eq!(d["mailbox"], "RR8OT001");
    assert_eq!(d["workflow_id"], "VACCINATIONS_1");
    assert_eq!(
        d["subscriptions"],
        serde_json::json!(["sub-explicit-olivia", "sub-leeds-vacc"])
    );
    assert_eq!(d["partner_id"], "sub-explicit-olivia|hv|olivia");
    // the mother is flagged S on PDS: nothing is delivered
    let bn: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
    assert_eq!(bn["deliveries"], serde_json::json!([]));
}

#[test]
fn route_skips_invalid_subscriptions_with_exit_1() {
    let bad = tmp(
        "bad-sub.xml",
        br#"<Subscription xmlns="http://hl7.org/fhir"><id value="s1"/><status value="active"/><reason value="x"/><criteria value="/Bundle?type=message&amp;MessageHeader.event=nope-1"/><channel><type value="message"/><endpoint value="MB1"/></channel></Subscription>"#,
    );
    let o = run(&[
        "route",
        "--subscriptions",
        bad.to_str().unwrap(),
        "examples/messages/vaccinations-1-new.xml",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("invalid subscription skipped"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stdout(&o).lines().count(), 1, "events are still routed");
}

/// Regression (issue 13): convert dropped elements unknown to STU3, printed
/// SCHEMA-UNKNOWN and exited 0. Lossless: exit 1 and write nothing, unless
/// `--lossy`.
#[test]
fn convert_refuses_input_it_cannot_carry() {
    let xml = br#"<Patient xmlns="http://hl7.org/fhir"><id value="p1"/><shoeSize value="9"/><gender value="male"/></Patient>"#;
    let o = run_stdin(&["convert", "--to", "json", "-"], xml);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty(), "{}", stdout(&o));
    assert!(stderr(&o).contains("SCHEMA-UNKNOWN"));
    assert!(stderr(&o).contains("--lossy"));
    let o = run_stdin(&["convert", "--lossy", "--to", "json", "-"], xml);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("\"gender\":\"male\""));
    assert!(!stdout(&o).contains("shoeSize"));
    assert!(stderr(&o).contains("SCHEMA-UNKNOWN"));
    // elements out of order are reordered, nothing lost: converted
    let xml =
        br#"<Patient xmlns="http://hl7.org/fhir"><gender value="male"/><id value="p1"/></Patient>"#;
    let o = run_stdin(&["convert", "--to", "json", "-"], xml);
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("SCHEMA-ORDER"));
}

/// Regression (issue 13): `--context` decides create request or stored.
#[test]
fn subscription_context_flag() {
    let create = root().join("../shared/corpus/nems/subscription-create-explicit.xml");
    let read = root().join("../shared/corpus/nems/subscription-read-response.xml");
    let o = run(&["validate", "--context", "create", read.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("SUB-CREATE-META"));
    let o = run(&["validate", "--context", "stored", read.to_str().unwrap()]);
    assert!(!stdout(&o).contains("SUB-CREATE-META"));
    let o = run(&[
        "subscription",
        "check",
        "--context",
        "auto",
        create.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = run(&[
        "validate",
        "--context",
        "sometimes",
        create.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// `example --to` names the serialisation as `convert --to` does; the older
/// `--format` spelling stays an alias with the same output.
#[test]
fn example_to_is_the_serialisation_and_format_its_alias() {
    let args = |flag: &'static str| ["example", "vaccinations-1", "--seed", "3", flag, "json"];
    let to = run(&args("--to"));
    let format = run(&args("--format"));
    assert_eq!(to.status.code(), Some(0), "{}", stderr(&to));
    assert!(stdout(&to).trim_start().starts_with('{'));
    assert_eq!(to.stdout, format.stdout);
    let xml = run(&["example", "vaccinations-1", "--seed", "3", "--to", "xml"]);
    assert!(stdout(&xml).starts_with("<Bundle"));
}
