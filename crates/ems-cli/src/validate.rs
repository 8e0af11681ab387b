//! `ems validate` (and `ems subscription check`): every input validated on
//! a worker pool ([`crate::pool`]), the report printed in input order.

use crate::inputs::{sources, Source};
use crate::{ContextArg, FormatArg, KindArg, ModeArg, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};
use ems::profiles::{InputKind, Mode, SubscriptionContext, Validator};
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

/// One input's report, made by a worker: the text to print, or the I/O
/// error that kept the input from being read.
type Report = Result<(String, bool), String>;

/// Validates `paths` on `jobs` threads and prints one report per input in
/// input order (the same output whatever `jobs` is).
pub(crate) fn run(
    paths: &[String],
    mode: ModeArg,
    kind: KindArg,
    format: FormatArg,
    context: ContextArg,
    jobs: usize,
) -> u8 {
    let inputs = match sources(paths) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("ems: {e}");
            return EXIT_USAGE;
        }
    };
    let validator = Validator::new(match mode {
        ModeArg::Publish => Mode::Publish,
        ModeArg::Receive => Mode::Receive,
    })
    .with_subscription_context(match context {
        ContextArg::Auto => SubscriptionContext::Auto,
        ContextArg::Create => SubscriptionContext::Create,
        ContextArg::Stored => SubscriptionContext::Stored,
    });
    let kind = match kind {
        KindArg::Auto => InputKind::Auto,
        KindArg::Event => InputKind::Event,
        KindArg::Subscription => InputKind::Subscription,
        KindArg::Outcome => InputKind::Outcome,
    };
    // the progress bar appears once more than 50 inputs are listed (the
    // listing goes on while the first ones are validated)
    let listed = inputs.counter();
    let stderr_tty = std::io::stderr().is_terminal();
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut done = 0u64;
    let tty = std::io::stdout().is_terminal();
    let colour = tty && std::env::var_os("NO_COLOR").is_none();
    // one write per buffer, not per line (the main thread only prints);
    // flushed before each stderr line so they stay in order, and after
    // each report on a terminal
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let mut any_error = false;
    let mut io_error = false;
    // the listing runs on its own thread, ahead of the pool, so that the
    // walk of a large tree overlaps the validation instead of preceding it
    std::thread::scope(|s| {
        let listing: Box<dyn Iterator<Item = Source> + Send> = if jobs > 1 {
            let (tx, rx) = std::sync::mpsc::channel();
            s.spawn(move || {
                for input in inputs {
                    if tx.send(input).is_err() {
                        break;
                    }
                }
            });
            Box::new(rx.into_iter())
        } else {
            Box::new(inputs)
        };
        crate::pool::ordered(
            listing,
            jobs,
            |input| report(input, &validator, kind, format, colour),
            |input, r| {
                done += 1;
                let n = listed.load(std::sync::atomic::Ordering::Relaxed) as u64;
                if bar.is_none() && stderr_tty && n > 50 {
                    let b = indicatif::ProgressBar::new(n);
                    b.set_style(
                        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                    );
                    bar = Some(b);
                }
                if let Some(b) = &bar {
                    b.set_length(n);
                    b.set_position(done);
                }
                match r {
                    Ok((text, valid)) => {
                        any_error |= !valid;
                        let _ = out.write_all(text.as_bytes());
                        if tty {
                            let _ = out.flush();
                        }
                    }
                    Err(e) => {
                        let _ = out.flush();
                        eprintln!("ems: {}: {e}", input.path);
                        io_error = true;
                    }
                }
            },
        );
    });
    let _ = out.flush();
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

/// Reads and validates one input and renders its report.
fn report(
    input: &Source,
    validator: &Validator,
    kind: InputKind,
    format: FormatArg,
    colour: bool,
) -> Report {
    let bytes = input.bytes()?;
    let v = validator.validate_bytes(&bytes, kind);
    let valid = v.is_valid();
    let mut text = String::new();
    match format {
        FormatArg::Json => {
            let oo =
                ems::stu3::to_json(&ems::stu3::Resource::from(v.outcome.to_operation_outcome()));
            let _ = writeln!(
                text,
                "{{\"path\":{},\"valid\":{},\"outcome\":{}}}",
                serde_json::Value::from(input.path.as_str()),
                valid,
                oo
            );
        }
        FormatArg::Text => {
            let (e, w) = (v.outcome.error_count(), v.outcome.warning_count());
            let verdict = if valid { "valid" } else { "INVALID" };
            let _ = writeln!(
                text,
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
                    text,
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
        }
    }
    Ok((text, valid))
}

fn severity_colour(s: ems::stu3::Severity) -> &'static str {
    match s {
        ems::stu3::Severity::Fatal | ems::stu3::Severity::Error => "\x1b[31m",
        ems::stu3::Severity::Warning => "\x1b[33m",
        ems::stu3::Severity::Information => "\x1b[36m",
    }
}
