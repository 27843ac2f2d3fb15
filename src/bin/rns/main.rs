//! The `rns` command-line tool.
//!
//! `rns analyze FILE...` reads each recording, merges the command-line flags
//! with the file's protocol sidecar (`<file>.rns.toml`, or `--protocol`) and the
//! criteria profile (`--criteria`), analyses it and prints a summary, JSON or
//! CSV. `rns inspect FILE...` reads each recording the same way and reports
//! what is in it (format, channels, annotations) and what the analyzer would
//! use, as text or JSON. `rns report FILE... --out DIR` writes a
//! self-contained HTML report per recording with its plots (SVG, PNG) and
//! JSON; `rns batch DIR --out DIR` analyses every supported file under a
//! folder in parallel and writes `summary.csv`, `responses.csv`, one JSON per
//! recording and, with `--report`, the reports. Exit codes: 0 success, 1 internal error, 2 usage,
//! 3 unreadable input, 4 nothing to analyse; with several files, the highest
//! code of any file.

// The flags' doc comments are their `--help` texts, where `<file>` and
// `<name>` are placeholders, not HTML.
#![allow(rustdoc::invalid_html_tags)]

mod simulate;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use rns_analyzer::analysis::{self, Analysis};
use rns_analyzer::error::{Error, EXIT_USAGE};
use rns_analyzer::export::atomic::write_atomic;
use rns_analyzer::export::guard::InputGuard;
use rns_analyzer::io::csv::ColumnUnit;
use rns_analyzer::io::describe_recording;
use rns_analyzer::output;
use rns_analyzer::recording::ChannelSel;
use rns_analyzer::settings::config::{parse_window_ms, Overrides, Settings};
use rns_analyzer::settings::criteria::Criteria;
use rns_analyzer::settings::protocol::Protocol;
use rns_analyzer::study::{IsoDate, Sex, Side, Study};
use rns_analyzer::vocab::{CsvLayout, PolarityChoice};
use rns_analyzer::{batch, report};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `eprintln!` with the control characters of file names, labels and
/// messages escaped (an escape sequence in a file name must not reach the
/// terminal raw).
macro_rules! say {
    ($($t:tt)*) => {
        eprintln!("{}", rns_analyzer::error::terminal_safe_line(&format!($($t)*)))
    };
}

/// `println!` with control characters escaped, as [`say!`].
macro_rules! showln {
    ($($t:tt)*) => {
        println!("{}", output::terminal_safe(&format!($($t)*)))
    };
}

/// `print!` with control characters escaped, as [`say!`].
macro_rules! show {
    ($($t:tt)*) => {
        print!("{}", output::terminal_safe(&format!($($t)*)))
    };
}

mod study_cmd;

#[derive(Parser, Debug)]
#[command(
    name = "rns",
    version,
    about = "Analyse repetitive nerve stimulation (RNS) recordings"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Measure every response, compute decrement and increment, flag technical
    /// problems and report the pattern (normal, MG-like, LEMS-like, indeterminate).
    Analyze(AnalyzeArgs),
    /// Show what a recording holds (format, channels, annotations) and what
    /// the analyzer would use, without analysing it.
    Inspect(InspectArgs),
    /// Write a self-contained HTML report per recording (its plots inline)
    /// and the analysis (JSON) into an output folder; plot files with --plots.
    Report(ReportArgs),
    /// Analyse every supported file under a folder (recursively) in
    /// parallel: summary.csv, responses.csv, one JSON per recording and,
    /// with --report, the HTML reports and index.html.
    Batch(BatchArgs),
    /// Merge the output folders of `rns batch --shard K/N` (all N shards)
    /// into one: the tables and json/ (and reports/) one batch over the
    /// whole folder would have written.
    Merge(MergeArgs),
    /// Simulate an RNS recording from a physiological model of the
    /// neuromuscular junction, with its truth; or sweep a parameter.
    Simulate(simulate::SimulateCli),
    /// A study of several files (one per train or per muscle, from a
    /// manifest or a folder): each muscle analysed as one session and
    /// reported, with study.json and study.html summarising the muscles.
    Study(study_cmd::StudyArgs),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum InspectFormat {
    /// Human-readable listing.
    Text,
    /// One JSON object per file (an array for several).
    Json,
}

// The reading flags are those of `analyze`, but the help of the two channel
// flags refers to it instead of repeating it.
#[derive(Args, Debug)]
#[command(
    mut_arg("channel", |a| a.help("EMG channel: index (from 0) or label, as for analyze")),
    mut_arg("trigger_channel", |a| a.help("Trigger channel: index or label, as for analyze")),
)]
struct InspectArgs {
    /// Recordings to inspect (WAV, CSV, EDF, EDF+, BDF).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InspectFormat::Text)]
    format: InspectFormat,
    #[command(flatten)]
    read: ReadArgs,
    /// Protocol sidecar to use for every file (default: <file>.rns.toml when present).
    #[arg(long, value_name = "FILE")]
    protocol: Option<PathBuf>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Human-readable summary.
    Text,
    /// The JSON contract (one object per file, an array for several).
    Json,
    /// One row per response.
    Csv,
}

#[derive(Args, Debug)]
struct AnalyzeArgs {
    /// Recordings to analyse (WAV, CSV, EDF, EDF+, BDF).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the output to this file (atomically) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    input: InputArgs,
}

/// How to read each file: the flags every command that reads recordings
/// (`analyze`, `inspect`, `report`, `batch`) takes.
#[derive(Args, Debug)]
struct ReadArgs {
    /// EMG channel: index (from 0) or label, e.g. "EMG ADM" (default: 0; for
    /// EDF the first signal that is not a trigger).
    #[arg(long, value_name = "N|LABEL", value_parser = ChannelSel::parse)]
    channel: Option<ChannelSel>,
    /// Channel whose rising edges are the stimuli: index or label.
    #[arg(long, value_name = "N|LABEL", value_parser = ChannelSel::parse)]
    trigger_channel: Option<ChannelSel>,
    /// Millivolts that WAV full scale (±1.0) stands for (default 1.0).
    #[arg(long, value_name = "MV", allow_negative_numbers = true)]
    full_scale_mv: Option<f64>,
    /// Sample rate of a CSV without a time column, Hz.
    #[arg(long, value_name = "HZ", allow_negative_numbers = true)]
    sample_rate: Option<f64>,
    /// CSV layout: auto, sweeps or continuous.
    #[arg(long, value_name = "LAYOUT")]
    layout: Option<String>,
    /// Unit of CSV values whose columns name none: V, mV, uV or nV (default: a
    /// header block's, else mV).
    #[arg(long, value_name = "UNIT", value_parser = parse_unit)]
    unit: Option<ColumnUnit>,
}

/// `--unit`: a voltage unit.
fn parse_unit(s: &str) -> Result<ColumnUnit, String> {
    ColumnUnit::voltage(s).ok_or_else(|| format!("must be V, mV, uV or nV, got {s:?}"))
}

/// The study and the patient, shown on every output and never interpreted
/// (over the sidecar's `[study]` table, over the file's header).
#[derive(Args, Debug, Default)]
struct StudyFlags {
    /// Patient identifier (never part of an output file name).
    #[arg(long, value_name = "ID", help_heading = "Study")]
    patient_id: Option<String>,
    /// Patient name, as it is to appear on the report.
    #[arg(long, value_name = "NAME", help_heading = "Study")]
    patient_name: Option<String>,
    /// Birth date, YYYY-MM-DD.
    #[arg(long, value_name = "DATE", value_parser = IsoDate::parse, help_heading = "Study")]
    birth_date: Option<IsoDate>,
    /// Sex: female, male or unspecified (F, M, X).
    #[arg(long, value_name = "SEX", value_parser = parse_sex, help_heading = "Study")]
    sex: Option<Sex>,
    /// Date of the study, YYYY-MM-DD (default: the file's, for EDF).
    #[arg(long, value_name = "DATE", value_parser = IsoDate::parse, help_heading = "Study")]
    study_date: Option<IsoDate>,
    /// Side examined: left, right or both.
    #[arg(long, value_name = "SIDE", value_parser = parse_side, help_heading = "Study")]
    side: Option<Side>,
    /// Nerve stimulated, e.g. ulnar.
    #[arg(long, value_name = "NAME", help_heading = "Study")]
    nerve: Option<String>,
    /// Where the nerve was stimulated, e.g. wrist.
    #[arg(long, value_name = "SITE", help_heading = "Study")]
    stimulation_site: Option<String>,
    /// Who recorded the study.
    #[arg(long, value_name = "NAME", help_heading = "Study")]
    operator: Option<String>,
    /// Referring physician.
    #[arg(long, value_name = "NAME", help_heading = "Study")]
    referring_physician: Option<String>,
    /// The clinical question.
    #[arg(long, value_name = "TEXT", help_heading = "Study")]
    clinical_question: Option<String>,
    /// The technician's comments.
    #[arg(long, value_name = "TEXT", help_heading = "Study")]
    comments: Option<String>,
    /// The physician's impression (written by a person, never generated).
    #[arg(long, value_name = "TEXT", help_heading = "Study")]
    impression: Option<String>,
}

impl StudyFlags {
    fn study(&self) -> Study {
        Study {
            patient_id: self.patient_id.clone(),
            patient_name: self.patient_name.clone(),
            birth_date: self.birth_date,
            sex: self.sex,
            study_date: self.study_date,
            side: self.side,
            nerve: self.nerve.clone(),
            stimulation_site: self.stimulation_site.clone(),
            operator: self.operator.clone(),
            referring_physician: self.referring_physician.clone(),
            clinical_question: self.clinical_question.clone(),
            comments: self.comments.clone(),
            impression: self.impression.clone(),
            ..Study::default()
        }
    }
}

fn parse_sex(s: &str) -> Result<Sex, String> {
    Sex::parse(s).ok_or_else(|| format!("must be female, male or unspecified (F, M, X), got {s:?}"))
}

fn parse_side(s: &str) -> Result<Side, String> {
    Side::parse(s).ok_or_else(|| format!("must be left, right or both, got {s:?}"))
}

impl ReadArgs {
    /// These flags as overrides (flag > sidecar > default); the analysis
    /// overrides are left unset.
    fn overrides(&self) -> Result<Overrides, Error> {
        Ok(Overrides {
            channel: self.channel.clone(),
            trigger_channel: self.trigger_channel.clone(),
            full_scale_mv: self.full_scale_mv,
            sample_rate_hz: self.sample_rate,
            layout: self
                .layout
                .as_deref()
                .map(CsvLayout::from_flag)
                .transpose()?,
            unit: self.unit,
            ..Overrides::default()
        })
    }
}

/// The input flags `analyze`, `report` and `batch` share: how to read each
/// file, how to interpret it and which criteria to apply (flag > sidecar >
/// default).
#[derive(Args, Debug)]
struct InputArgs {
    #[command(flatten)]
    read: ReadArgs,
    /// Stimulation rate of epoched sweeps, Hz.
    #[arg(long, value_name = "HZ", allow_negative_numbers = true)]
    rate: Option<f64>,
    /// Which way the CMAP's main phase points: auto, negative, positive.
    #[arg(long, value_name = "P")]
    polarity: Option<String>,
    /// Where the M-wave's peak lies, ms after the stimulus (default: found
    /// from the latency of the recording's responses), e.g. 2:15.
    #[arg(long, value_name = "START:END")]
    window_ms: Option<String>,
    /// Muscle recorded (for the normal CMAP range), e.g. ADM, APB, FDI, trapezius.
    #[arg(long, value_name = "NAME")]
    muscle: Option<String>,
    /// Protocol sidecar to use for every file (default: <file>.rns.toml when present).
    #[arg(long, value_name = "FILE")]
    protocol: Option<PathBuf>,
    /// Criteria profile (TOML) overriding the default thresholds.
    #[arg(long, value_name = "FILE")]
    criteria: Option<PathBuf>,
    #[command(flatten)]
    study: StudyFlags,
}

#[derive(Args, Debug)]
struct ReportArgs {
    /// Recordings to report on (WAV, CSV, EDF, EDF+, BDF).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    common: ReportArgsCommon,
    #[command(flatten)]
    input: InputArgs,
}

/// Where and how reports are written (`report`, `study`).
#[derive(Args, Debug)]
struct ReportArgsCommon {
    /// Output folder: <name>.html and <name>.json per report, and <name>/ with --plots.
    #[arg(long, short = 'o', value_name = "DIR")]
    out: PathBuf,
    /// Replace files in an existing, non-empty output folder.
    #[arg(long)]
    force: bool,
    /// Also print each report to <name>.pdf (needs Chromium or Chrome; no network).
    #[arg(long)]
    pdf: bool,
    /// Paper the printed report is laid out for: a4 or letter.
    #[arg(long, value_name = "PAPER", default_value = "a4", value_parser = parse_paper)]
    paper: report::Paper,
    /// Plot files written beside each report, in <name>/: none, svg, png or
    /// both (the HTML always holds the plots, as SVG).
    #[arg(long, value_name = "WHICH", default_value = "none", value_parser = parse_plot_files)]
    plots: report::PlotFiles,
}

fn parse_plot_files(s: &str) -> Result<report::PlotFiles, String> {
    report::PlotFiles::parse(s).ok_or_else(|| format!("must be none, svg, png or both, got {s:?}"))
}

fn parse_paper(s: &str) -> Result<report::Paper, String> {
    report::Paper::parse(s).ok_or_else(|| format!("must be a4 or letter, got {s:?}"))
}

#[derive(Args, Debug)]
struct BatchArgs {
    /// Folder to analyse; every supported file under it, recursively.
    dir: PathBuf,
    /// Output folder: summary.csv, responses.csv, trains.csv, flags.csv,
    /// findings.csv, json/, and with --report reports/ and index.html.
    #[arg(long, short = 'o', value_name = "DIR")]
    out: PathBuf,
    /// Files analysed at once (default: the number of CPUs). The outputs do not depend on it.
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<std::num::NonZeroUsize>,
    /// Also write an HTML report per recording under reports/, and
    /// index.html listing them.
    #[arg(long)]
    report: bool,
    /// With --report: plot files written beside each report: none, svg,
    /// png or both (the HTML always holds the plots, as SVG).
    #[arg(long, value_name = "WHICH", default_value = "none", value_parser = parse_plot_files, requires = "report")]
    plots: report::PlotFiles,
    /// Table formats: csv, parquet or both (summary, responses, trains,
    /// flags, findings; the Parquet schema is in the user guide).
    #[arg(long, value_name = "FORMATS", default_value = "csv", value_parser = parse_tables)]
    tables: batch::TableFormats,
    /// Replace files in an existing, non-empty output folder.
    #[arg(long)]
    force: bool,
    /// Analyse only shard K of N of the inputs (1 <= K <= N), balanced by
    /// size, and write shard.json; combine the N folders with `rns merge`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    shard: Option<batch::shard::Shard>,
    #[command(flatten)]
    input: InputArgs,
}

fn parse_tables(s: &str) -> Result<batch::TableFormats, String> {
    batch::TableFormats::parse(s).ok_or_else(|| format!("must be csv, parquet or both, got {s:?}"))
}

fn parse_shard(s: &str) -> Result<batch::shard::Shard, String> {
    batch::shard::Shard::parse(s).map_err(|e| e.to_string())
}

#[derive(Args, Debug)]
struct MergeArgs {
    /// The shards' output folders (all N, any order).
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    /// Output folder: the merged tables, json/ and reports/.
    #[arg(long, short = 'o', value_name = "DIR")]
    out: PathBuf,
    /// Replace files in an existing, non-empty output folder.
    #[arg(long)]
    force: bool,
}

/// `rns merge`: see [`batch::shard::merge`]. The exit code is the one a
/// batch over the whole folder would have had; 2 for refused shards.
fn run_merge(args: &MergeArgs) -> i32 {
    let opts = batch::shard::MergeOptions {
        shards: args.shards.clone(),
        out: args.out.clone(),
        force: args.force,
    };
    match batch::shard::merge(&opts) {
        Ok(s) => {
            showln!(
                "{} shard(s) of {} file(s) merged ({} file(s) copied); summary in {}",
                s.manifest.shards,
                s.manifest.total_files,
                s.copied,
                args.out
                    .join(
                        batch::TableFormats::parse(&s.manifest.tables)
                            .unwrap_or_default()
                            .summary_file()
                    )
                    .display()
            );
            s.exit_code
        }
        Err(e) => {
            say!("rns: {e}");
            e.exit_code()
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version go to stdout with success; real errors are usage errors.
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            if e.use_stderr() {
                // An argument (a file name) must not reach the terminal raw.
                let text = e.render().to_string();
                eprint!("{}", output::terminal_safe(&text));
            } else {
                let _ = e.print();
            }
            return ExitCode::from(code as u8);
        }
    };
    if let Some(n) = rns_analyzer::parallel::env_threads() {
        let (used, lowered) = rns_analyzer::parallel::clamp_threads(n);
        if lowered {
            say!("rns: note: RAYON_NUM_THREADS={n} is more threads than help; using {used} (4 per core, at most 256)");
        }
    }
    match cli.command {
        Command::Inspect(args) => match run_inspect(&args) {
            Ok(code) => ExitCode::from(code as u8),
            Err(e) => {
                say!("rns: {e:#}");
                ExitCode::from(1)
            }
        },
        Command::Analyze(args) => match on_pool(|| run_analyze(&args)) {
            Ok(code) => ExitCode::from(code as u8),
            Err(e) => {
                say!("rns: {e:#}");
                ExitCode::from(1)
            }
        },
        Command::Report(args) => ExitCode::from(on_pool(|| run_report(&args)) as u8),
        Command::Batch(args) => ExitCode::from(run_batch(&args) as u8),
        Command::Merge(args) => ExitCode::from(run_merge(&args) as u8),
        Command::Study(args) => ExitCode::from(on_pool(|| study_cmd::run(&args)) as u8),
        Command::Simulate(args) => match simulate::run(args) {
            Ok(text) => {
                show!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                say!("rns: {e}");
                ExitCode::from(e.exit_code() as u8)
            }
        },
    }
}

/// Run `f` on a worker of a pool with a thread per core (`RAYON_NUM_THREADS`
/// overrides the count): the analysis splits its passes over the signal
/// across the pool, and its sequential steps then run on a worker too, so no
/// third thread competes for the cores.
fn on_pool<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    rns_analyzer::parallel::install(None, f)
}

/// The sidecar of `path`: `explicit` for every file, else `<file>.rns.toml`
/// when it exists.
fn load_protocol(path: &Path, explicit: Option<&PathBuf>) -> Result<Option<Protocol>, Error> {
    rns_analyzer::pipeline::load_protocol(path, explicit.map(PathBuf::as_path))
}

/// Inspect one file: read it as analyze would, then describe it.
fn inspect_file(path: &Path, args: &InspectArgs) -> Result<output::inspect::Inspection, Error> {
    let protocol = load_protocol(path, args.protocol.as_ref())?;
    let ov = args.read.overrides()?;
    let settings = Settings::merge(&ov, protocol.as_ref(), Criteria::default())?;
    // Described even when it cannot be analysed (an EDF of slow signals
    // only): inspect lists what is there and why.
    let rec = describe_recording(path, &settings.read)?;
    let plan = analysis::plan_channels(&rec, &settings.analysis)?;
    let mut i = output::inspect::inspect(&rec, &plan);
    i.study = settings.analysis.study.clone().or(i.study);
    Ok(i)
}

/// Each input file with what became of it.
type PerFile<T> = Vec<(PathBuf, Result<T, Error>)>;

/// `f` of each file in order, each failure reported on standard error as
/// one line as it happens; the results and the highest exit code (0 when
/// none failed).
fn each_file<T>(files: &[PathBuf], f: impl Fn(&Path) -> Result<T, Error>) -> (PerFile<T>, i32) {
    let results: PerFile<T> = files
        .iter()
        .map(|p| {
            let r = f(p);
            if let Err(e) = &r {
                say!("rns: {e}");
            }
            (p.clone(), r)
        })
        .collect();
    let worst = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().err().map(Error::exit_code))
        .max()
        .unwrap_or(0);
    (results, worst)
}

fn run_inspect(args: &InspectArgs) -> anyhow::Result<i32> {
    let (results, worst) = each_file(&args.files, |f| inspect_file(f, args));
    let text = match args.format {
        InspectFormat::Json if args.files.len() > 1 => {
            let entries: Vec<output::inspect::Entry<'_>> = results
                .iter()
                .map(|(p, r)| match r {
                    Ok(i) => output::inspect::Entry::Ok(i),
                    Err(e) => output::inspect::Entry::err(p, e),
                })
                .collect();
            output::inspect::render_json_many(&entries)
        }
        InspectFormat::Json => match results.first() {
            Some((_, Ok(i))) => output::inspect::render_json(i),
            _ => return Ok(worst),
        },
        InspectFormat::Text => {
            let ok: Vec<String> = results
                .iter()
                .filter_map(|(_, r)| r.as_ref().ok())
                .map(output::inspect::render_text)
                .collect();
            if ok.is_empty() {
                return Ok(worst);
            }
            output::terminal_safe(&ok.join("\n")).into_owned()
        }
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .context("writing to standard output")?;
    Ok(worst)
}

/// The files `files` and `input` make a command read: each recording, its
/// sidecar, `--protocol` and `--criteria`.
fn input_guard(files: &[PathBuf], input: &InputArgs) -> InputGuard {
    let mut g = InputGuard::new();
    for f in files {
        g.add(f, "recording");
        g.add(&Protocol::sidecar_path(f), "protocol sidecar");
    }
    if let Some(p) = &input.protocol {
        g.add(p, "protocol sidecar");
    }
    if let Some(c) = &input.criteria {
        g.add(c, "criteria profile");
    }
    g
}

/// `Err(exit code)`, the refusal printed, when one of `outputs` is an input.
fn refuse_inputs_as_outputs<'a>(
    guard: &InputGuard,
    outputs: impl IntoIterator<Item = &'a Path>,
) -> Result<(), i32> {
    for o in outputs {
        if let Err(e) = guard.check(o) {
            say!("rns: {e}");
            return Err(e.exit_code());
        }
    }
    Ok(())
}

fn run_analyze(args: &AnalyzeArgs) -> anyhow::Result<i32> {
    let guard = input_guard(&args.files, &args.input);
    if let Err(code) = refuse_inputs_as_outputs(&guard, args.output.as_deref()) {
        return Ok(code);
    }
    let criteria = match load_criteria(args.input.criteria.as_deref()) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let (results, worst) = each_file(&args.files, |f| {
        analyze_input(f, &args.input, &criteria, false).map(|(a, _)| a)
    });
    let ok: Vec<&Analysis> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .collect();
    let text = match args.format {
        Format::Json => {
            if args.files.len() == 1 {
                match ok.first() {
                    Some(a) => output::json::render_one(a),
                    None => return Ok(worst),
                }
            } else {
                let entries: Vec<output::json::Entry<'_>> = results
                    .iter()
                    .map(|(p, r)| match r {
                        Ok(a) => output::json::Entry::Ok(a),
                        Err(e) => output::json::Entry::Err(output::json::ErrorEntry {
                            schema_version: analysis::result::SCHEMA_VERSION,
                            source: output::json::ErrorSource {
                                path: p.display().to_string(),
                            },
                            error: output::json::ErrorBody {
                                message: e.to_string(),
                                exit_code: e.exit_code(),
                            },
                        }),
                    })
                    .collect();
                output::json::render_many(&entries)
            }
        }
        Format::Csv => {
            if ok.is_empty() {
                return Ok(worst);
            }
            output::csv::render(&ok)
        }
        Format::Text => {
            if ok.is_empty() {
                return Ok(worst);
            }
            let text = ok
                .iter()
                .map(|a| output::text::render(a))
                .collect::<Vec<_>>()
                .join("\n");
            output::terminal_safe(&text).into_owned()
        }
    };
    match &args.output {
        Some(p) => {
            if let Err(e) = write_atomic(p, text.as_bytes()) {
                say!("rns: {e}");
                return Ok(worst.max(1));
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .context("writing to standard output")?;
        }
    }
    Ok(worst)
}

/// The criteria profile of `report` and `batch`, or the exit code of its error
/// (printed): it is loaded once, before any file.
fn load_criteria(path: Option<&Path>) -> Result<Criteria, i32> {
    match path {
        Some(p) => Criteria::load(p).map_err(|e| {
            say!("rns: {e}");
            e.exit_code()
        }),
        None => Ok(Criteria::default()),
    }
}

/// Read and analyse one file with the shared input flags; with `traces`, also
/// keep the response waveforms for the report's plots.
/// The flags of `analyze`, `report`, `batch` and `study` as overrides
/// (flag > sidecar > default).
fn analysis_overrides(input: &InputArgs) -> Result<Overrides, Error> {
    Ok(Overrides {
        rate_hz: input.rate,
        polarity: input
            .polarity
            .as_deref()
            .map(PolarityChoice::from_flag)
            .transpose()?,
        window_ms: input
            .window_ms
            .as_deref()
            .map(parse_window_ms)
            .transpose()?,
        muscle: input.muscle.clone(),
        study: input.study.study(),
        ..input.read.overrides()?
    })
}

fn analyze_input(
    path: &Path,
    input: &InputArgs,
    criteria: &Criteria,
    traces: bool,
) -> Result<(Analysis, Vec<analysis::TrainTraces>), Error> {
    let ov = analysis_overrides(input)?;
    rns_analyzer::pipeline::analyze_file(path, &ov, input.protocol.as_deref(), criteria, traces)
}

/// `rns report`: per file `<name>.json`, `<name>.html` and `<name>/` (plots).
/// A failed file is reported on standard error and the others go on; the
/// exit code is the highest of any file.
fn run_report(args: &ReportArgs) -> i32 {
    let criteria = match load_criteria(args.input.criteria.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if args.common.pdf {
        if let Err(e) = report::pdf::require_browser() {
            say!("rns: {e}");
            return e.exit_code();
        }
    }
    let stems = report::unique_stems(&args.files);
    let outputs: Vec<PathBuf> = stems
        .iter()
        .flat_map(|s| ["json", "html", "pdf"].map(|ext| args.common.out.join(format!("{s}.{ext}"))))
        .collect();
    // The plots are .svg and .png files, which no input can be.
    let guard = input_guard(&args.files, &args.input);
    if let Err(code) = refuse_inputs_as_outputs(&guard, outputs.iter().map(PathBuf::as_path)) {
        return code;
    }
    // Held (locked) until every report is written.
    let held = match report::prepare_out_dir(&args.common.out, args.common.force) {
        Ok(held) => held,
        Err(e) => {
            say!("rns: {e}");
            return e.exit_code();
        }
    };
    if args.common.force {
        // The plot folders' temporaries an interrupted run left.
        for s in &stems {
            let plots = args.common.out.join(s);
            if rns_analyzer::export::outdir::OutDir::check_folder_inside(&args.common.out, &plots)
                .is_ok()
            {
                held.clean(&plots, false);
            }
        }
    }
    let mut worst = 0;
    for (path, stem) in args.files.iter().zip(&stems) {
        let done = analyze_input(path, &args.input, &criteria, true)
            .map_err(|e| (e.to_string(), e.exit_code()))
            .and_then(|(a, traces)| {
                let json = args.common.out.join(format!("{stem}.json"));
                rns_analyzer::export::atomic::write_atomic_replacing(
                    &json,
                    output::json::render_one(&a).as_bytes(),
                )
                .map_err(|e| (e.to_string(), e.exit_code()))?;
                let written = report::write_for_file(
                    report::ReportFile { path, sha256: None },
                    &a,
                    &traces,
                    &criteria,
                    &args.common.out,
                    stem,
                    report::ReportOptions {
                        paper: args.common.paper,
                        plots: args.common.plots,
                    },
                )
                .map_err(|e| {
                    match e {
                        // Drawing errors do not name the input; I/O errors do.
                        report::ReportError::Render(r) => (format!("{}: {r}", path.display()), 1),
                        report::ReportError::Io(e) => (e.to_string(), e.exit_code()),
                    }
                })?;
                if args.common.pdf {
                    let html = args.common.out.join(format!("{stem}.html"));
                    let pdf = args.common.out.join(format!("{stem}.pdf"));
                    report::pdf::print_pdf(&html, &pdf, &args.common.out)
                        .map_err(|e| (e.to_string(), e.exit_code()))?;
                    let mut w = written;
                    w.push(pdf);
                    return Ok(w);
                }
                Ok(written)
            });
        match done {
            Ok(written) => {
                if let Some(html) = written.last() {
                    showln!("{}", html.display());
                }
            }
            Err((message, code)) => {
                say!("rns: {message}");
                worst = worst.max(code);
            }
        }
    }
    worst
}

/// `rns batch`: see [`batch::run`]. Failed files are listed on standard error
/// (in path order) and in summary.csv; the exit code is the highest of any file.
fn run_batch(args: &BatchArgs) -> i32 {
    // The recordings are never outputs: those under the output folder are
    // not read, and their extensions are no output's (.json, .html, .svg,
    // .png); the tables could be a `--protocol` or `--criteria` file.
    let guard = input_guard(&[], &args.input);
    let tables = batch::TABLES
        .iter()
        .chain(&batch::PARQUET_TABLES)
        .chain(&[batch::INDEX])
        .map(|t| args.out.join(t))
        .collect::<Vec<_>>();
    if let Err(code) = refuse_inputs_as_outputs(&guard, tables.iter().map(PathBuf::as_path)) {
        return code;
    }
    let criteria = match load_criteria(args.input.criteria.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let jobs = match args.jobs {
        Some(n) => {
            let (used, lowered) = rns_analyzer::parallel::clamp_threads(n.get());
            if lowered {
                say!(
                    "rns: note: --jobs {n} is more workers than help; using {used} (4 per core, at most 256)"
                );
            }
            used
        }
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let opts = batch::BatchOptions {
        dir: args.dir.clone(),
        out: args.out.clone(),
        force: args.force,
        jobs: rns_analyzer::parallel::clamp_threads(jobs).0,
        report: args.report,
        plots: args.plots,
        tables: args.tables,
        progress: std::io::stderr().is_terminal(),
        shard: args.shard,
    };
    let analyse = |path: &Path, traces: bool| analyze_input(path, &args.input, &criteria, traces);
    let summary = match batch::run(&opts, &criteria, &analyse) {
        Ok(s) => s,
        Err(e) => {
            say!("rns: {e}");
            return e.exit_code();
        }
    };
    let failed: Vec<&batch::Outcome> = summary
        .outcomes
        .iter()
        .filter(|o| o.error.is_some())
        .collect();
    let skipped: Vec<&batch::Outcome> = summary
        .outcomes
        .iter()
        .filter(|o| o.skipped.is_some())
        .collect();
    for o in &skipped {
        if let Some(why) = &o.skipped {
            say!("rns: note: {}: {why}", o.path.display());
        }
    }
    for o in &failed {
        if let Some(e) = &o.error {
            say!("rns: {}: {}", o.path.display(), e.message);
        }
    }
    for e in &summary.table_errors {
        say!("rns: {}", e.message);
    }
    showln!(
        "{} recording(s): {} analysed, {} failed{}; summary in {}{}",
        summary.outcomes.len() - skipped.len(),
        summary.outcomes.len() - failed.len() - skipped.len(),
        failed.len(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(", {} other file(s) skipped", skipped.len())
        },
        args.out.join(args.tables.summary_file()).display(),
        if summary.table_errors.is_empty() {
            ""
        } else {
            " (not written: see above)"
        }
    );
    if summary.outcomes.len() == skipped.len() {
        say!(
            "rns: {}: no supported recording found (wav, csv, tsv, txt, edf, bdf)",
            args.dir.display()
        );
        return rns_analyzer::error::EXIT_NOTHING;
    }
    summary.exit_code
}
