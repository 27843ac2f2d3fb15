//! `rns study`: a study of several files (one per train, or one per
//! muscle) analysed together: each muscle's files joined into one session
//! and reported, then `study.json` and `study.html` summarising the
//! muscles. See [`rns_analyzer::combine`].

use super::{
    analysis_overrides, input_guard, load_criteria, load_protocol, refuse_inputs_as_outputs,
    InputArgs, ReportArgsCommon,
};
use rns_analyzer::analysis::{self, Analysis, TrainTraces};
use rns_analyzer::combine::{self, Entry, Group, Manifest, MuscleResult, StudySummary};
use rns_analyzer::error::Error;
use rns_analyzer::export::atomic::write_atomic_replacing;
use rns_analyzer::io::read_recording;
use rns_analyzer::output;
use rns_analyzer::report;
use rns_analyzer::settings::config::{Overrides, Settings};
use rns_analyzer::settings::criteria::Criteria;
use rns_analyzer::vocab::StimulusSource;
use std::path::{Path, PathBuf};

/// The arguments of `rns study`.
#[derive(clap::Args, Debug)]
pub struct StudyArgs {
    /// A study manifest (TOML naming the files with their muscle, side, start
    /// time and train roles), or a folder whose recordings are the study
    /// (each file's muscle from its sidecar).
    pub source: PathBuf,
    #[command(flatten)]
    pub common: ReportArgsCommon,
    #[command(flatten)]
    pub input: InputArgs,
}

/// Run `rns study`; the exit code.
pub fn run(args: &StudyArgs) -> i32 {
    match study(args) {
        Ok(code) => code,
        Err(e) => {
            say!("rns: {e}");
            e.exit_code()
        }
    }
}

fn study(args: &StudyArgs) -> Result<i32, Error> {
    let criteria = match load_criteria(args.input.criteria.as_deref()) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    if args.common.pdf {
        report::pdf::require_browser()?;
    }
    let out = &args.common.out;
    let manifest = if args.source.is_dir() {
        let (files, _) = rns_analyzer::batch::find_inputs(&args.source, Some(out))?;
        Manifest {
            study: None,
            recordings: files
                .into_iter()
                .map(|rel| Entry {
                    file: args.source.join(rel),
                    ..Entry::default()
                })
                .collect(),
        }
    } else {
        Manifest::load(&args.source)?
    };
    // The study flags are checked once, before any file is read.
    args.input
        .study
        .study()
        .validate()
        .map_err(|e| Error::Usage(format!("--{}", e.replacen('_', "-", 2))))?;
    let entries = with_sidecars(&manifest.recordings, &args.input);
    let groups = combine::groups(&entries);
    let files: Vec<PathBuf> = entries.iter().map(|e| e.file.clone()).collect();
    let mut guard = input_guard(&files, &args.input);
    guard.add(&args.source, "study manifest");
    let mut outputs: Vec<PathBuf> = vec![out.join("study.json"), out.join("study.html")];
    let stems = combine::unique_stems(&groups);
    for stem in &stems {
        for ext in ["json", "html", "pdf"] {
            outputs.push(out.join(format!("{stem}.{ext}")));
        }
    }
    if let Err(code) = refuse_inputs_as_outputs(&guard, outputs.iter().map(PathBuf::as_path)) {
        return Ok(code);
    }
    let _held = report::prepare_out_dir(out, args.common.force)?;
    let shared = args
        .input
        .study
        .study()
        .or(manifest.study.clone().unwrap_or_default());
    let mut results = Vec::new();
    let mut pages = Vec::new();
    let mut worst = 0;
    for (g, stem) in groups.iter().zip(&stems) {
        match muscle(g, stem, args, &criteria, &shared) {
            Ok((r, page)) => {
                results.push(r);
                pages.push(page);
            }
            Err(e) => {
                say!("rns: {}: {e}", g.label());
                worst = worst.max(e.exit_code());
                results.push(MuscleResult::failed(g, stem, e.to_string()));
            }
        }
    }
    let summary = StudySummary::new(shared, results);
    write_atomic_replacing(&out.join("study.json"), summary.to_json().as_bytes())?;
    let html = out.join("study.html");
    write_atomic_replacing(&html, combine::render_html(&summary, &pages).as_bytes())?;
    if args.common.pdf {
        report::pdf::print_pdf(&html, &out.join("study.pdf"), out)?;
    }
    showln!("{}", html.display());
    say!("rns: study: {}", summary.summary);
    Ok(worst)
}

/// Each entry with what its sidecar says where the manifest is silent
/// (muscle, nerve, side).
fn with_sidecars(entries: &[Entry], input: &InputArgs) -> Vec<Entry> {
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        // A sidecar that cannot be read fails its own muscle later (when
        // the file is analysed), not the whole study.
        let p = load_protocol(&e.file, input.protocol.as_ref())
            .ok()
            .flatten()
            .unwrap_or_default();
        let side_study = p.study.clone().unwrap_or_default();
        let mut e = e.clone();
        e.muscle = e
            .muscle
            .or(input.muscle.clone())
            .or(side_study.muscle.clone())
            .or(p.muscle.clone());
        e.nerve = e.nerve.or(side_study.nerve.clone()).or(p.nerve.clone());
        e.side = e.side.or(side_study.side);
        e.temperature_c = e.temperature_c.or(p.temperature_c);
        out.push(e);
    }
    out
}

/// The settings of one file of a group: its sidecar under the flags, the
/// group's muscle and the study.
fn settings_of(
    e: &Entry,
    input: &InputArgs,
    criteria: &Criteria,
    study: &rns_analyzer::study::Study,
) -> Result<Settings, Error> {
    let mut protocol = load_protocol(&e.file, input.protocol.as_ref())?.unwrap_or_default();
    // The manifest's roles, muscle and temperature stand above the file's.
    if !e.trains.is_empty() {
        protocol.trains = e.trains.clone();
    }
    protocol.muscle = e.muscle.clone();
    protocol.nerve = e.nerve.clone().or(protocol.nerve);
    protocol.temperature_c = e.temperature_c.or(protocol.temperature_c);
    if let Some(s) = protocol.study.as_mut() {
        s.muscle = None;
        s.nerve = None;
    }
    // The group's muscle (manifest, else sidecar, else --muscle) is in the
    // protocol; the study is the shared one.
    let ov = Overrides {
        muscle: None,
        study: study.clone(),
        ..analysis_overrides(input)?
    };
    let mut s = Settings::merge(&ov, Some(&protocol), criteria.clone())?;
    s.analysis.study.side = e.side.or(s.analysis.study.side);
    Ok(s)
}

/// Analyse one muscle (its files joined) and write its JSON and report;
/// its result and its first page for the combined report.
fn muscle(
    g: &Group,
    stem: &str,
    args: &StudyArgs,
    criteria: &Criteria,
    study: &rns_analyzer::study::Study,
) -> Result<(MuscleResult, String), Error> {
    let (a, traces, shown, sha) = analyse_group(g, &args.input, criteria, study)?;
    let out = &args.common.out;
    write_atomic_replacing(
        &out.join(format!("{stem}.json")),
        output::json::render_one(&a).as_bytes(),
    )?;
    let input = report::ReportInput {
        analysis: &a,
        traces: &traces,
        criteria,
        file_name: &shown,
        sha256: &sha,
        paper: args.common.paper,
        plot_files: args.common.plots,
    };
    let built = report::build(&input).map_err(|e| Error::Usage(e.to_string()))?;
    let page = report::html::first_page(&input, &built.plots);
    report::write(&built, out, stem)?;
    if args.common.pdf {
        report::pdf::print_pdf(
            &out.join(format!("{stem}.html")),
            &out.join(format!("{stem}.pdf")),
            out,
        )?;
    }
    Ok((MuscleResult::of(g, stem, &a), page))
}

/// The analysis of a group: one file as it is, several joined into one
/// session; with the name and checksum(s) its report shows.
fn analyse_group(
    g: &Group,
    input: &InputArgs,
    criteria: &Criteria,
    study: &rns_analyzer::study::Study,
) -> Result<(Analysis, Vec<TrainTraces>, String, String), Error> {
    let mut parts = Vec::new();
    let mut first_settings = None;
    let mut names = Vec::new();
    let mut shas = Vec::new();
    for e in &g.entries {
        let s = settings_of(e, input, criteria, study)?;
        let rec = read_recording(&e.file, &s.read)?;
        let plan = analysis::plan_channels(&rec, &s.analysis)?;
        if g.entries.len() > 1 && plan.stimulus_source == StimulusSource::TriggerChannel {
            return Err(Error::Usage(format!(
                "{}: its stimuli come from a trigger channel, which a study of several files per muscle does not carry; analyse it alone (rns report)",
                e.file.display()
            )));
        }
        names.push(file_name(&e.file));
        shas.push(report::sha256_file(&e.file)?);
        parts.push((rec, plan.channel, e.time_s));
        first_settings.get_or_insert(s);
    }
    let Some(mut settings) = first_settings else {
        return Err(Error::Usage(format!("{}: no file", g.label())));
    };
    let (a, traces) = if parts.len() == 1 {
        let (rec, _, _) = &parts[0];
        analysis::analyze_with_traces(rec, &settings.analysis)?
    } else {
        let merged = combine::merge(&g.label(), &parts)?;
        settings.analysis.channel = None;
        settings.analysis.trigger_channel = None;
        settings.analysis.trains = g.trains();
        analysis::analyze_with_traces(&merged, &settings.analysis)?
    };
    let sha = if shas.len() == 1 {
        shas.remove(0)
    } else {
        names
            .iter()
            .zip(&shas)
            .map(|(n, h)| format!("{n}: {h}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    Ok((a, traces, names.join(", "), sha))
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
