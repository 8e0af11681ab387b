//! `ems`: validate, convert, example and route NEMS event messages and
//! subscriptions. See `ems --help` and the README for the contract.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod route;

/// Exit code: no input has an error.
pub const EXIT_OK: u8 = 0;
/// Exit code: some input has an error or fatal issue (or could not be used).
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: usage or I/O error.
pub const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "ems",
    version,
    about = "NHS NEMS toolkit: validate, convert, build and route FHIR STU3 event messages",
    long_about = "NHS National Events Management Service (NEMS) toolkit.\n\n\
Exit codes: 0 = no input has an error; 1 = some input has an error or fatal issue \
(or, for convert/route, could not be used); 2 = usage or I/O error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate event messages, subscriptions or OperationOutcomes (XML or JSON).
    Validate(ValidateArgs),
    /// Convert a resource losslessly between XML and JSON (to stdout).
    Convert(ConvertArgs),
    /// Print a complete, valid example message made by the builders.
    Example(ExampleArgs),
    /// Match event messages against subscriptions and print the MESH deliveries.
    Route(route::RouteArgs),
    /// Subscription commands.
    #[command(subcommand)]
    Subscription(SubscriptionCommand),
}

#[derive(Subcommand)]
enum SubscriptionCommand {
    /// Check subscriptions (alias of `validate --kind subscription`).
    Check {
        /// Files or directories (`*.xml`, `*.json`), or `-` for stdin.
        #[arg(required = true)]
        paths: Vec<String>,
        /// Validation mode.
        #[arg(long, value_enum, default_value_t = ModeArg::Publish)]
        mode: ModeArg,
        /// Output format.
        #[arg(long, value_enum, default_value_t = FormatArg::Text)]
        format: FormatArg,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    /// Assurance: every MUST is an error, SHOULD a warning.
    Publish,
    /// Tolerant receiver: errors only where processing is unsafe.
    Receive,
}

#[derive(Clone, Copy, ValueEnum)]
enum KindArg {
    /// From the resource type.
    Auto,
    /// Event-message Bundle.
    Event,
    /// Subscription (or searchset Bundle of them).
    Subscription,
    /// OperationOutcome.
    Outcome,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum FormatArg {
    /// Readable report grouped by file.
    Text,
    /// One JSON line per input.
    Json,
}

#[derive(Args)]
struct ValidateArgs {
    /// Files or directories (recursive, `*.xml` and `*.json`), or `-` for stdin.
    #[arg(required = true)]
    paths: Vec<String>,
    /// Validation mode.
    #[arg(long, value_enum, default_value_t = ModeArg::Publish)]
    mode: ModeArg,
    /// What the inputs are.
    #[arg(long, value_enum, default_value_t = KindArg::Auto)]
    kind: KindArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Syntax {
    /// FHIR XML.
    Xml,
    /// FHIR JSON.
    Json,
}

#[derive(Args)]
struct ConvertArgs {
    /// Target format.
    #[arg(long, value_enum)]
    to: Syntax,
    /// Indent the output.
    #[arg(long)]
    pretty: bool,
    /// Input file, or `-` for stdin.
    path: String,
}

#[derive(Clone, Copy, ValueEnum)]
enum MetArg {
    /// `new`
    New,
    /// `update`
    Update,
    /// `delete`
    Delete,
}

#[derive(Args)]
struct ExampleArgs {
    /// List the events and their message event types.
    #[arg(long)]
    list: bool,
    /// Event code, e.g. `vaccinations-1`.
    #[arg(required_unless_present = "list")]
    event: Option<String>,
    /// Message event type.
    #[arg(long, value_enum, default_value_t = MetArg::New)]
    message_event_type: MetArg,
    /// Serialisation of the message (`--format` is the older spelling).
    #[arg(long, visible_alias = "format", value_enum, default_value_t = Syntax::Xml)]
    to: Syntax,
    /// Deterministic ids and clock from this seed.
    #[arg(long)]
    seed: Option<u64>,
}

/// One input: a display path and its bytes (or the I/O error).
pub(crate) struct Input {
    pub path: String,
    pub bytes: Result<Vec<u8>, String>,
}

/// Expands files, directories (recursively: `*.xml`, `*.json`) and `-`.
/// Returns the inputs, or an I/O error message for a path that does not exist.
pub(crate) fn collect_inputs(paths: &[String]) -> Result<Vec<Input>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p == "-" {
            let mut buf = Vec::new();
            let r = std::io::stdin()
                .read_to_end(&mut buf)
                .map(|_| buf)
                .map_err(|e| e.to_string());
            out.push(Input {
                path: "-".into(),
                bytes: r,
            });
            continue;
        }
        let path = Path::new(p);
        let meta = std::fs::metadata(path).map_err(|e| format!("{p}: {e}"))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk_dir(path, &mut files).map_err(|e| format!("{p}: {e}"))?;
            files.sort();
            for f in files {
                let bytes = std::fs::read(&f).map_err(|e| e.to_string());
                out.push(Input {
                    path: f.display().to_string(),
                    bytes,
                });
            }
        } else {
            out.push(Input {
                path: p.clone(),
                bytes: std::fs::read(path).map_err(|e| e.to_string()),
            });
        }
    }
    Ok(out)
}

fn walk_dir(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            walk_dir(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "xml" || x == "json") {
            out.push(p);
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        Command::Validate(a) => validate(&a.paths, a.mode, a.kind, a.format),
        Command::Subscription(SubscriptionCommand::Check {
            paths,
            mode,
            format,
        }) => validate(&paths, mode, KindArg::Subscription, format),
        Command::Convert(a) => convert(a),
        Command::Example(a) => example(a),
        Command::Route(a) => route::run(a),
    };
    ExitCode::from(code)
}

fn severity_colour(s: ems::stu3::Severity) -> &'static str {
    match s {
        ems::stu3::Severity::Fatal | ems::stu3::Severity::Error => "\x1b[31m",
        ems::stu3::Severity::Warning => "\x1b[33m",
        ems::stu3::Severity::Information => "\x1b[36m",
    }
}

fn validate(paths: &[String], mode: ModeArg, kind: KindArg, format: FormatArg) -> u8 {
    use ems::profiles::{Kind, Mode, Validator};
    let inputs = match collect_inputs(paths) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("ems: {e}");
            return EXIT_USAGE;
        }
    };
    let validator = Validator::new(match mode {
        ModeArg::Publish => Mode::Publish,
        ModeArg::Receive => Mode::Receive,
    });
    let kind = match kind {
        KindArg::Auto => Kind::Auto,
        KindArg::Event => Kind::Event,
        KindArg::Subscription => Kind::Subscription,
        KindArg::Outcome => Kind::Outcome,
    };
    let bar = (inputs.len() > 50 && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(inputs.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut any_error = false;
    let mut io_error = false;
    for input in &inputs {
        if let Some(b) = &bar {
            b.inc(1);
        }
        let bytes = match &input.bytes {
            Ok(b) => b,
            Err(e) => {
                eprintln!("ems: {}: {e}", input.path);
                io_error = true;
                continue;
            }
        };
        let v = validator.validate_bytes(bytes, kind);
        let valid = v.is_valid();
        any_error |= !valid;
        let _ = match format {
            FormatArg::Json => {
                let oo = ems::stu3::to_json(&ems::stu3::Resource::from(
                    v.outcome.to_operation_outcome(),
                ));
                writeln!(
                    out,
                    "{{\"path\":{},\"valid\":{},\"outcome\":{}}}",
                    serde_json::Value::from(input.path.as_str()),
                    valid,
                    oo
                )
            }
            FormatArg::Text => {
                let (e, w) = (v.outcome.error_count(), v.outcome.warning_count());
                let verdict = if valid { "valid" } else { "INVALID" };
                let _ = writeln!(
                    out,
                    "{}: {verdict} ({e} error{}, {w} warning{})",
                    input.path,
                    if e == 1 { "" } else { "s" },
                    if w == 1 { "" } else { "s" }
                );
                for i in &v.outcome.issues {
                    let (c, r) = if colour {
                        (severity_colour(i.severity), "\x1b[0m")
                    } else {
                        ("", "")
                    };
                    let _ = writeln!(
                        out,
                        "  {c}{}{r} [{}] {}{}: {}",
                        i.severity,
                        i.rule,
                        i.location,
                        match (i.line, i.column) {
                            (Some(l), Some(col)) => format!(" ({l}:{col})"),
                            _ => String::new(),
                        },
                        i.message
                    );
                }
                Ok(())
            }
        };
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if io_error {
        EXIT_USAGE
    } else if any_error {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

fn convert(a: ConvertArgs) -> u8 {
    let inputs = match collect_inputs(std::slice::from_ref(&a.path)) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("ems: {e}");
            return EXIT_USAGE;
        }
    };
    let Some(input) = inputs.into_iter().next() else {
        eprintln!("ems: {}: no input", a.path);
        return EXIT_USAGE;
    };
    if std::fs::metadata(&a.path).is_ok_and(|m| m.is_dir()) {
        eprintln!("ems: {}: convert takes one file, not a directory", a.path);
        return EXIT_USAGE;
    }
    let bytes = match input.bytes {
        Ok(b) => b,
        Err(e) => {
            eprintln!("ems: {}: {e}", input.path);
            return EXIT_USAGE;
        }
    };
    let parsed = ems::stu3::from_bytes(&bytes);
    match parsed {
        Ok(p) => {
            for i in &p.outcome.issues {
                eprintln!("ems: {}: {i}", input.path);
            }
            let text = match (a.to, a.pretty) {
                (Syntax::Xml, false) => ems::stu3::to_xml(&p.resource),
                (Syntax::Xml, true) => ems::stu3::to_xml_pretty(&p.resource),
                (Syntax::Json, false) => ems::stu3::to_json(&p.resource),
                (Syntax::Json, true) => ems::stu3::to_json_pretty(&p.resource),
            };
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            if !text.ends_with('\n') {
                let _ = out.write_all(b"\n");
            }
            EXIT_OK
        }
        Err(e) => {
            for i in &e.outcome.issues {
                eprintln!("ems: {}: {i}", input.path);
            }
            EXIT_FINDINGS
        }
    }
}

fn example(a: ExampleArgs) -> u8 {
    use ems::bundle::{example_publisher, samples, BuildContext, MessageEventType};
    if a.list {
        for e in &ems::matching::EVENT_TYPES {
            println!(
                "{:<28} {:<24} {}",
                e.code,
                e.message_event_types.join(","),
                e.display
            );
        }
        return EXIT_OK;
    }
    let Some(event) = a.event else {
        eprintln!("ems: example: give an event code (see `ems example --list`)");
        return EXIT_USAGE;
    };
    let met = match a.message_event_type {
        MetArg::New => MessageEventType::New,
        MetArg::Update => MessageEventType::Update,
        MetArg::Delete => MessageEventType::Delete,
    };
    let mut cx = match a.seed {
        Some(s) => BuildContext::deterministic(example_publisher(), s),
        None => BuildContext::new(example_publisher()),
    };
    match samples::sample(&event, met, true, &mut cx) {
        Ok(m) => {
            let text = match a.to {
                Syntax::Xml => m.to_xml_pretty(),
                Syntax::Json => m.to_json_pretty(),
            };
            print!("{text}");
            EXIT_OK
        }
        Err(e) => {
            eprintln!("ems: example: {e}");
            EXIT_USAGE
        }
    }
}
