//! `ems`: validate, convert, example and route NEMS event messages and
//! subscriptions. See `ems --help` and the README for the contract.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::process::ExitCode;

/// mimalloc: per-thread heaps with no cross-thread lock on the common path
/// (`ems validate --jobs N` frees on one thread what another allocated; the
/// validator and the server allocate per element). Measured in
/// docs/benchmarks.md (ems-cli: `ems validate` on every core).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod inputs;
mod pool;
mod route;
mod validate;

pub(crate) use inputs::collect_inputs;
mod serve;

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
    /// Run the NEMS server (publish and subscription APIs, MESH delivery).
    Serve(Box<serve::ServeArgs>),
    /// Print the server's audit log (JSON lines) from its data folder.
    Audit(serve::AuditArgs),
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
        #[command(flatten)]
        jobs: JobsArg,
        /// Create requests or stored subscriptions (auto: from `status`/`id`).
        #[arg(long, value_enum, default_value_t = ContextArg::Auto)]
        context: ContextArg,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ContextArg {
    /// `status = requested` or no `id`: a create request; otherwise stored.
    Auto,
    /// Subscription create requests (no id, meta.versionId, meta.lastUpdated).
    Create,
    /// Stored subscriptions (read or search responses).
    Stored,
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
    /// Subscriptions: create requests or stored subscriptions.
    #[arg(long, value_enum, default_value_t = ContextArg::Auto)]
    context: ContextArg,
    #[command(flatten)]
    jobs: JobsArg,
}

#[derive(Args)]
struct JobsArg {
    /// Inputs validated at once (default: the available parallelism); the
    /// output is the same for any number.
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
}

impl JobsArg {
    fn get(&self) -> usize {
        self.jobs.map_or_else(pool::default_jobs, usize::from)
    }
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
    /// Convert even when input content cannot be carried into the output
    /// (unknown elements, malformed values); the issues go to stderr.
    #[arg(long)]
    lossy: bool,
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
        Command::Validate(a) => {
            validate::run(&a.paths, a.mode, a.kind, a.format, a.context, a.jobs.get())
        }
        Command::Subscription(SubscriptionCommand::Check {
            paths,
            mode,
            format,
            jobs,
            context,
        }) => validate::run(
            &paths,
            mode,
            KindArg::Subscription,
            format,
            context,
            jobs.get(),
        ),
        Command::Convert(a) => convert(a),
        Command::Example(a) => example(a),
        Command::Route(a) => route::run(a),
        Command::Serve(a) => serve::run(*a),
        Command::Audit(a) => serve::audit(a),
    };
    ExitCode::from(code)
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
            // lossless unless told otherwise: only a reordering (SCHEMA-ORDER)
            // carries everything; any other reader finding means input content
            // was dropped or altered (unknown elements, repeated single values,
            // text content, malformed or empty primitives, XHTML it cannot keep)
            let lost = p
                .outcome
                .issues
                .iter()
                .any(|i| i.rule != ems::stu3::rules::SCHEMA_ORDER);
            if lost && !a.lossy {
                eprintln!(
                    "ems: {}: input content cannot be carried into the output; nothing written (use --lossy to convert anyway)",
                    input.path
                );
                return EXIT_FINDINGS;
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
