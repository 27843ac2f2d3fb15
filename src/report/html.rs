//! The self-contained HTML report.
//!
//! One file, no external resource: the stylesheet is inline and the plots are
//! inline SVG, so the report opens offline and can be filed as it is. The
//! markup is XHTML-compatible (every element closed, attributes quoted, all
//! text escaped, no named entities beyond XML's), so an XML parser can check
//! it. The print stylesheet sets A4 pages, starts each train on a new page and
//! keeps figures and table rows whole.
//!
//! The report carries no date and no patient data: it identifies the input by
//! file name and SHA-256 checksum and the tool by its version, so the same
//! input gives the same bytes.

use super::plots::{train_colour, trim_num, Plot};
use super::words;
use super::words::role_words;
use super::ReportInput;
use crate::analysis::result::{QualityFlag, TrainOut};
use crate::study::Study;
use crate::vocab::{PolaritySource, Severity, TrainRole};
use std::fmt::Write;

/// Escape text for HTML/XML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters and the noncharacters U+FFFE and U+FFFF
            // (of any plane) and U+FDD0–U+FDEF are not allowed in XML; file
            // names may carry them.
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c if (c as u32) & 0xfffe == 0xfffe || ('\u{fdd0}'..='\u{fdef}').contains(&c) => {
                out.push('\u{fffd}')
            }
            c => out.push(c),
        }
    }
    out
}

/// A value with `d` decimals and a unit, or a dash.
fn val(v: Option<f64>, d: usize, unit: &str) -> String {
    v.map_or("—".to_string(), |x| {
        if unit.is_empty() {
            format!("{x:.d$}")
        } else {
            format!("{x:.d$} {unit}")
        }
    })
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "—",
    }
}

const CSS: &str = r#"
:root { --ink: #1a1a1a; --muted: #5f6368; --rule: #c9ccd1; --soft: #f3f4f6; --accent: #1d3f6e; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; font-size: 10pt;
  line-height: 1.4; color: var(--ink); background: #fff; margin: 0; }
main { max-width: 190mm; margin: 0 auto; padding: 10mm 8mm 6mm; }
h1 { font-size: 17pt; margin: 0; letter-spacing: 0.01em; }
h2 { font-size: 12.5pt; margin: 18px 0 6px; padding-bottom: 3px; border-bottom: 2px solid var(--accent);
  color: var(--accent); }
h3 { font-size: 10.5pt; margin: 12px 0 4px; }
p { margin: 4px 0; }
.report-header { display: flex; justify-content: space-between; align-items: flex-end; gap: 16px;
  border-bottom: 3px solid var(--accent); padding-bottom: 8px; }
.report-header .subtitle { color: var(--muted); font-size: 10pt; margin-top: 2px; }
.patient { display: grid; grid-template-columns: repeat(4, 1fr); gap: 2px 10px; margin: 6px 0 2px; }
.patient div { border-bottom: 1px solid var(--rule); padding: 1px 0; }
.patient dt { font-size: 7.5pt; color: var(--muted); }
.patient dd { margin: 0; font-weight: bold; overflow-wrap: anywhere; }
.question { margin: 4px 0; }
.report-header .tool { text-align: right; color: var(--muted); font-size: 8.5pt; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; }
th, td { text-align: left; padding: 3px 6px; vertical-align: top; }
thead th { border-bottom: 1.5px solid var(--ink); font-weight: bold; font-size: 8.5pt; }
tbody td { border-bottom: 1px solid var(--rule); }
table.kv th { width: 34%; font-weight: normal; color: var(--muted); border-bottom: 1px solid var(--rule); }
table.kv td { font-weight: bold; }
table.kv td.note { font-weight: normal; color: var(--muted); }
table.meta { margin-top: 8px; font-size: 9pt; }
table.session th { width: 30%; }
table.session td { width: 28%; }
table.meta th { width: 18%; }
table.num td, table.num th { text-align: right; white-space: nowrap; }
table.num td:first-child, table.num th:first-child { text-align: center; }
table.ranges th, table.ranges td { width: 25%; }
table.responses { font-size: 8.5pt; font-variant-numeric: tabular-nums; }
table.responses tbody tr:nth-child(even) td { background: var(--soft); }
.mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 8.5pt; word-break: break-all; }
.pattern { border: 2px solid var(--pc); border-left-width: 10px; border-radius: 4px; padding: 10px 14px;
  margin: 14px 0 6px; background: var(--pbg); }
.pattern .label { font-size: 8.5pt; text-transform: uppercase; letter-spacing: 0.08em; color: var(--muted); }
.pattern .name { font-size: 19pt; font-weight: bold; color: var(--pc); margin: 1px 0 3px; }
.pattern .gloss { font-style: italic; margin-bottom: 6px; }
.pattern ol { margin: 4px 0 0 18px; padding: 0; }
.pattern li { margin: 2px 0; }
.pattern-normal { --pc: #1e7b3c; --pbg: #f1f8f3; }
.pattern-mg_like { --pc: #a4262c; --pbg: #fbf1f1; }
.pattern-lems_like { --pc: #8a4b00; --pbg: #fcf5ec; }
.pattern-indeterminate { --pc: #44546a; --pbg: #f3f5f8; }
.code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 7.5pt; color: var(--muted); }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
figure { margin: 6px 0 10px; break-inside: avoid; page-break-inside: avoid; }
figure svg { width: 100%; height: auto; display: block; border: 1px solid var(--rule); }
figcaption { font-size: 8.5pt; color: var(--muted); margin-top: 3px; }
.train-head { display: flex; align-items: center; gap: 8px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; }
.facts { color: var(--muted); margin: 2px 0 6px; }
.metrics { display: flex; flex-wrap: wrap; gap: 5px; margin: 6px 0; }
.metric { flex: 1 1 0; min-width: 72px; border: 1px solid var(--rule); border-radius: 4px; padding: 2px 6px;
  background: var(--soft); }
.metric .k { font-size: 7.5pt; color: var(--muted); display: block; }
.metric .v { font-weight: bold; }
.flag { border-left: 4px solid #c28a00; background: #fff8e6; padding: 3px 8px; margin: 3px 0; }
.flag.info { border-left-color: #7a8699; background: var(--soft); }
.sev { font-weight: bold; }
td.sev-warning { color: #8a5a00; font-weight: bold; }
td.sev-info { color: var(--muted); }
.none { color: var(--muted); font-style: italic; }
footer { margin-top: 18px; border-top: 2px solid var(--accent); padding-top: 6px; font-size: 8.5pt; color: var(--muted); }
footer .disclaimer { color: var(--ink); font-weight: bold; font-size: 9.5pt; }
.repeat { border: 1.5px solid #a4262c; background: #fff; padding: 3px 8px; margin: 4px 0; }
.warnings { border-top: 1px solid var(--rule); margin-top: 6px; padding-top: 3px; color: #6b4500; }
.warnings ul { margin: 2px 0 0 18px; padding: 0; }
.nowarn { color: var(--muted); margin-top: 6px; }
table.summary { font-size: 8.5pt; margin-top: 8px; }
table.summary th.l, table.summary td.l { text-align: left; }
.small { font-size: 7.5pt; }
.minis { display: grid; grid-template-columns: repeat(3, 1fr); gap: 4px 8px; }
figure.mini { margin: 0; }
figure.mini svg { border: none; }
.notes { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; margin-top: 6px; }
.notes div { border: 1px solid var(--rule); border-radius: 4px; padding: 3px 8px; min-height: 16mm; }
.notes p { margin: 2px 0; white-space: pre-wrap; }
@media print {
  body { font-size: 9pt; }
  main { max-width: none; padding: 0; }
  .first-page .pattern { margin: 6px 0 4px; padding: 6px 10px; }
  .first-page .pattern .name { font-size: 15pt; }
  .first-page .study h2 { font-size: 10pt; margin: 4px 0 2px; }
  .first-page .study table { font-size: 7.5pt; margin: 0; }
  .first-page .study th, .first-page .study td { padding: 0 5px; }
  .details { break-before: page; page-break-before: always; }
  section.train { break-inside: auto; }
  .pair { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; align-items: start; }
  .details h2 { font-size: 11pt; margin: 6px 0 3px; }
  .details table { font-size: 8pt; }
  .details th, .details td { padding: 1px 5px; }
  table.responses { font-size: 7.5pt; }
  .criteria table { font-size: 7pt; }
  .crit-grid { display: grid; grid-template-columns: 64fr 36fr; gap: 8px; align-items: start; }
  .criteria td.code { white-space: nowrap; font-size: 6.5pt; }
  .criteria th, .criteria td { padding: 0 4px; }
  figcaption { font-size: 7pt; line-height: 1.2; }
  .details figure svg { max-height: 42mm; }
  .details figure { margin: 2px 0 4px; }
  .details .metrics { margin: 3px 0; gap: 3px; }
  .details .metric { padding: 0 4px; min-width: 60px; }
  .details .facts { margin: 1px 0 3px; }
  .details h3 { margin: 4px 0 2px; }
  table.responses td, table.responses th { padding: 0 4px; line-height: 1.25; }
  table.session th { width: 24%; }
  table.session td { width: 22%; }
  footer { margin-top: 6px; padding-top: 3px; font-size: 7.5pt; }
  footer p { display: inline; margin: 0 6px 0 0; }
  .criteria > .facts { margin: 0; }
  section.train figcaption { display: none; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  tr, .metric, .flag, .pattern, table.responses, table.summary, .minis figure, .notes { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
}
"#;

/// The first printed page of a report: who and what, the verdict with
/// every warning, one row and one small waterfall per train, the study and
/// the notes. Also a muscle's page of a study's combined report.
pub fn first_page(input: &ReportInput<'_>, plots: &[Plot]) -> String {
    let a = input.analysis;
    let plot = |name: &str| plots.iter().find(|p| p.name == name);
    let mut h = String::with_capacity(16 * 1024);
    h.push_str("<section class=\"first-page\">\n");
    header(&mut h, input);
    verdict(&mut h, input);
    summary_table(&mut h, input);
    minis(&mut h, &a.trains, &plot);
    study(&mut h, input);
    notes(&mut h, &a.study);
    h.push_str("</section>\n");
    h
}

/// The report's stylesheet (for documents that hold report pages).
pub fn stylesheet() -> &'static str {
    CSS
}

/// Render the whole report. `plots` are the figures in the order they were
/// made; they are found here by name.
pub fn render(input: &ReportInput<'_>, plots: &[Plot]) -> String {
    let a = input.analysis;
    let plot = |name: &str| plots.iter().find(|p| p.name == name);
    let mut h = String::with_capacity(64 * 1024);
    let title = format!("RNS report — {}", input.file_name);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n\
         <meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <meta name=\"generator\" content=\"{tool} {version}\"/>\n<title>{title}</title>\n<style>{CSS}{page}</style>\n</head>\n<body>\n<main>\n",
        tool = esc(a.tool.name),
        version = esc(a.tool.version),
        title = esc(&title),
        page = page_css(input),
    );
    h.push_str(&first_page(input, plots));
    h.push_str("<div class=\"details\">\n");
    session(&mut h, input);
    // Overview figures.
    let overview: Vec<&Plot> = ["trends", "post_exercise", "rest_vs_post_exercise"]
        .iter()
        .filter_map(|n| plot(n))
        .collect();
    if !overview.is_empty() {
        h.push_str("<section class=\"overview\">\n<h2>Trends</h2>\n<div class=\"pair\">\n");
        for p in overview {
            figure(&mut h, p);
        }
        h.push_str("</div>\n</section>\n");
    }
    for t in &a.trains {
        train(&mut h, input, t, &plot);
    }
    quality(&mut h, &a.quality);
    criteria(&mut h, input);
    footer(&mut h, input);
    h.push_str("</div>\n</main>\n</body>\n</html>\n");
    h
}

fn header(h: &mut String, input: &ReportInput<'_>) {
    let a = input.analysis;
    let s = &a.source;
    let _ = write!(
        h,
        "<header>\n<div class=\"report-header\">\n<div>\n<h1>Repetitive nerve stimulation</h1>\n\
         <div class=\"subtitle\">Analysis report</div>\n</div>\n\
         <div class=\"tool\">{} {}<br/>JSON schema {}</div>\n</div>\n",
        esc(a.tool.name),
        esc(a.tool.version),
        a.schema_version
    );
    patient(h, &a.study);
    let _ = write!(
        h,
        "<table class=\"kv meta\">\n<tbody>\n\
         <tr><th>Recording</th><td>{file}</td></tr>\n\
         <tr><th>SHA-256</th><td class=\"mono\">{sha}</td></tr>\n\
         <tr><th>Signal</th><td class=\"note\">{fmt} · {rate} Hz · {dur} s · channel {ch} ({label})</td></tr>\n\
         </tbody>\n</table>\n</header>\n",
        file = esc(input.file_name),
        sha = esc(input.sha256),
        fmt = s.format.name(),
        rate = trim_num(s.sample_rate_hz, 1),
        dur = trim_num(s.duration_s, 2),
        ch = s.channel,
        label = esc(&s.channel_label),
    );
}

/// The study and the patient, as a compact block of label/value cells
/// (only the fields given; the comments and impression have their own box).
fn patient(h: &mut String, study: &Study) {
    let rows: Vec<(&str, String)> = study
        .rows()
        .into_iter()
        .filter(|(k, _)| !matches!(*k, "comments" | "impression" | "clinical_question"))
        .collect();
    if rows.is_empty() {
        h.push_str("<p class=\"none patient\">No patient or study details given (see --patient-id and the sidecar's [study] table).</p>\n");
        return;
    }
    h.push_str("<dl class=\"patient\">\n");
    for (k, v) in rows {
        let _ = writeln!(
            h,
            "<div><dt>{}</dt><dd>{}</dd></div>",
            esc(crate::study::field_label(k)),
            esc(&v)
        );
    }
    h.push_str("</dl>\n");
    if let Some(q) = &study.clinical_question {
        let _ = writeln!(
            h,
            "<p class=\"question\"><b>Clinical question:</b> {}</p>",
            esc(q)
        );
    }
}

/// The `@page` rules: the paper, and the running header (patient ID, study
/// date, file) and page numbers in the margins.
fn page_css(input: &ReportInput<'_>) -> String {
    let st = &input.analysis.study;
    let mut left: Vec<String> = vec!["RNS report".into()];
    if let Some(id) = &st.patient_id {
        left.push(format!("patient {id}"));
    }
    if let Some(d) = st.study_date {
        left.push(format!("study {d}"));
    }
    format!(
        "\n@page {{ size: {}; margin: 13mm 10mm 12mm;\n  @top-left {{ content: \"{}\"; font: 8pt sans-serif; color: #5f6368; }}\n  @top-right {{ content: \"{}\"; font: 8pt sans-serif; color: #5f6368; }}\n  @bottom-right {{ content: \"page \" counter(page) \" of \" counter(pages); font: 8pt sans-serif; color: #5f6368; }} }}\n",
        input.paper.css(),
        css_string(&left.join(" · ")),
        css_string(input.file_name),
    )
}

/// Text for a CSS string: every character but letters, digits, spaces and
/// a few marks as a hex escape, so no quote, backslash or `</style>`
/// leaves the string.
fn css_string(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars().take(120) {
        if c.is_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_' | ':' | ',' | '·' | '(' | ')')
        {
            o.push(c);
        } else if !c.is_control() {
            let _ = write!(o, "\\{:x} ", u32::from(c));
        }
    }
    o
}

/// The verdict: the pattern, the findings with the deciding one first, a
/// cool limb's "warm the limb and repeat", and every warning.
fn verdict(h: &mut String, input: &ReportInput<'_>) {
    let a = input.analysis;
    let c = &a.classification;
    let code = c.pattern;
    let _ = write!(
        h,
        "<section class=\"pattern pattern-{code}\">\n<div class=\"label\">Pattern</div>\n\
         <div class=\"name\">{}</div>\n<div class=\"gloss\">{}</div>\n",
        esc(words::pattern_name(c.pattern)),
        esc(words::pattern_gloss(c.pattern)),
    );
    if words::limb_was_cool(c) {
        let t = a
            .protocol
            .temperature_c
            .map_or(String::new(), |t| format!(" ({t:.1} °C)"));
        let _ = writeln!(
            h,
            "<p class=\"repeat\">The limb was cool{}: a decrement may be masked. <b>Warm the limb and repeat the study.</b></p>",
            esc(&t)
        );
    }
    if c.findings.is_empty() {
        h.push_str("<p class=\"none\">No findings.</p>\n");
    } else {
        h.push_str("<div><b>Key findings</b>, the deciding one first:</div>\n<ol>\n");
        for f in words::findings_by_importance(c) {
            let _ = writeln!(
                h,
                "<li>{} <span class=\"code\">{}</span></li>",
                esc(&f.message),
                f.code
            );
        }
        h.push_str("</ol>\n");
    }
    let warnings: Vec<&QualityFlag> = a
        .quality
        .iter()
        .filter(|q| q.severity == Severity::Warning)
        .collect();
    if warnings.is_empty() {
        h.push_str("<p class=\"nowarn\">No technical warning.</p>\n");
    } else {
        let _ = writeln!(
            h,
            "<div class=\"warnings\"><b>{}</b>\n<ul>",
            esc(&words::count(warnings.len(), "technical warning"))
        );
        for q in warnings {
            let _ = writeln!(
                h,
                "<li><b>{}</b>: {} <span class=\"code\">{}</span></li>",
                q.train
                    .map_or("recording".to_string(), |t| format!("train {t}")),
                esc(&q.message),
                q.code
            );
        }
        h.push_str("</ul></div>\n");
    }
    h.push_str("</section>\n");
}

/// One row per train: the protocol label and the figures a reader
/// compares, the shape and the number of warnings.
fn summary_table(h: &mut String, input: &ReportInput<'_>) {
    let a = input.analysis;
    h.push_str(
        "<table class=\"num summary\">\n<thead><tr><th>train</th><th class=\"l\">protocol</th><th>rate<br/>(Hz)</th>\
         <th>resp.</th><th>1st amp.<br/>(mV)</th><th>decr. 4th<br/>(%)</th><th>decr. 5th<br/>(%)</th>\
         <th>area decr.<br/>4th (%)</th><th>incr.<br/>(%)</th><th class=\"l\">shape</th><th>warn.</th></tr></thead>\n<tbody>\n",
    );
    for t in &a.trains {
        // A post-exercise train's first response against the reference
        // rest train's, as the session figures and the bar plot take it.
        let increment = match t.role {
            TrainRole::Hfs => t.increment_pct,
            TrainRole::PostExercise => a.first_vs_reference_pct(t).0.map(|p| p - 100.0),
            TrainRole::Baseline => None,
        };
        let warnings = a
            .quality
            .iter()
            .filter(|q| q.train == Some(t.index) && q.severity == Severity::Warning)
            .count();
        let c = train_colour(t.index);
        let _ = writeln!(
            h,
            "<tr><td><span class=\"swatch\" style=\"background: rgb({},{},{})\"></span> {}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"l\">{}</td><td>{}</td></tr>",
            c.0,
            c.1,
            c.2,
            t.index,
            esc(&words::train_label(t)),
            t.rate_hz.map_or("—".into(), |r| trim_num(r, 1)),
            t.responses.len(),
            t.responses
                .first()
                .map_or("—".into(), |r| format!("{:.2}", r.amplitude_mv)),
            val(t.decrement_pct, 1, ""),
            val(t.decrement_5th_pct, 1, ""),
            val(t.area_decrement_pct, 1, ""),
            val(increment, 1, ""),
            t.shape.map_or("—", |s| s.words()),
            if warnings == 0 {
                "—".to_string()
            } else {
                warnings.to_string()
            },
        );
    }
    h.push_str(
        "</tbody>\n</table>\n<p class=\"facts small\">Decrement: 1st response vs the 4th (5th), amplitude; increment: a high-rate train's largest response vs its first, or a post-exercise train's first response vs the rest train's first.</p>\n",
    );
}

/// The small waterfalls of the first page, three to a row.
fn minis<'p>(h: &mut String, trains: &[TrainOut], plot: &dyn Fn(&str) -> Option<&'p Plot>) {
    let figs: Vec<&Plot> = trains
        .iter()
        .filter_map(|t| plot(&format!("train{}_mini", t.index)))
        .collect();
    if figs.is_empty() {
        return;
    }
    h.push_str("<div class=\"minis\">\n");
    for p in figs {
        let _ = write!(
            h,
            "<figure class=\"mini\" id=\"fig-{}\">\n{}</figure>\n",
            esc(&p.name),
            p.svg
        );
    }
    h.push_str("</div>\n");
}

/// The technician's comments and the physician's impression: written when
/// given, otherwise room to write on the printed page.
fn notes(h: &mut String, study: &Study) {
    h.push_str("<div class=\"notes\">\n");
    for (label, text) in [
        ("Technician's comments", &study.comments),
        ("Physician's impression", &study.impression),
    ] {
        match text {
            Some(t) => {
                let _ = writeln!(h, "<div><b>{label}</b><p>{}</p></div>", esc(t));
            }
            None => {
                let _ = writeln!(h, "<div class=\"blank\"><b>{label}</b><p>&#160;</p></div>");
            }
        }
    }
    h.push_str("</div>\n");
}

fn study(h: &mut String, input: &ReportInput<'_>) {
    let a = input.analysis;
    let p = &a.protocol;
    let s = &a.source;
    h.push_str("<section class=\"study\">\n<h2>Study</h2>\n<div class=\"grid2\">\n<table class=\"kv\">\n<tbody>\n");
    let row = |h: &mut String, k: &str, v: &str| {
        let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    };
    row(h, "Muscle", p.muscle.as_deref().unwrap_or("not given"));
    row(h, "Nerve", p.nerve.as_deref().unwrap_or("not given"));
    row(
        h,
        "Skin temperature",
        &p.temperature_c
            .map_or("not given".into(), |t| format!("{t:.1} °C")),
    );
    row(
        h,
        "Medications on record",
        &if p.medications.is_empty() {
            "none given".to_string()
        } else {
            p.medications.join("; ")
        },
    );
    row(h, "Trains", &a.trains.len().to_string());
    h.push_str("</tbody>\n</table>\n<table class=\"kv\">\n<tbody>\n");
    row(
        h,
        "Stimuli from",
        words::stimulus_source_words(s.stimulus_source),
    );
    row(
        h,
        "Main phase",
        &format!(
            "{} in the file ({})",
            s.polarity,
            match s.polarity_source {
                PolaritySource::User => "as given",
                PolaritySource::Auto => "detected",
            }
        ),
    );
    row(
        h,
        "Mains hum removed",
        &match (s.mains_hz, s.mains_rms_uv) {
            (Some(f), Some(u)) => format!("{f:.0} Hz, {u:.1} µV rms"),
            (Some(f), None) => format!("{f:.0} Hz"),
            _ => "none found".into(),
        },
    );
    row(
        h,
        "Sample rate",
        &format!("{} Hz", trim_num(s.sample_rate_hz, 1)),
    );
    row(h, "Duration", &format!("{} s", trim_num(s.duration_s, 2)));
    h.push_str("</tbody>\n</table>\n</div>\n</section>\n");
}

fn session(h: &mut String, input: &ReportInput<'_>) {
    let a = input.analysis;
    let ss = &a.session;
    let c = input.criteria;
    h.push_str(
        "<section>\n<h2>Session figures</h2>\n<table class=\"kv session\">\n<thead><tr><th>figure</th><th>value</th><th>criterion</th></tr></thead>\n<tbody>\n",
    );
    let row = |h: &mut String, k: &str, v: String, note: String| {
        let _ = writeln!(
            h,
            "<tr><th>{}</th><td>{}</td><td class=\"note\">{}</td></tr>",
            esc(k),
            esc(&v),
            esc(&note)
        );
    };
    row(
        h,
        "Baseline CMAP amplitude",
        val(ss.baseline_cmap_mv, 2, "mV"),
        match (ss.baseline_cmap_lower_limit_mv, &ss.normal_range_muscle) {
            (Some(l), Some(m)) => format!("lower normal limit {l:.2} mV for {m} [M98][CJ]"),
            _ => "no normal range for this muscle".into(),
        },
    );
    row(
        h,
        "Baseline decrement",
        val(ss.baseline_decrement_pct, 1, "%"),
        format!("abnormal above {} %", trim_num(c.decrement.abnormal_pct, 2)),
    );
    row(
        h,
        "Post-exercise increment",
        match (
            a.post_exercise_increment_pct,
            a.post_exercise_area_increment_pct,
        ) {
            (None, None) => "—".into(),
            (amp, area) => format!(
                "amplitude {} · area {}",
                val(amp, 1, "%"),
                val(area, 1, "%")
            ),
        },
        format!(
            "normal below {} %, LEMS level from {} %",
            trim_num(c.increment.normal_max_pct, 2),
            trim_num(c.increment.lems_pct, 2)
        ),
    );
    let hfs: Vec<&TrainOut> = a
        .trains
        .iter()
        .filter(|t| t.role == TrainRole::Hfs)
        .collect();
    if !hfs.is_empty() {
        let best = hfs
            .iter()
            .filter_map(|t| t.increment_pct.map(|v| (t.index, v)))
            .fold(None, |m: Option<(usize, f64)>, x| match m {
                Some(b) if b.1 >= x.1 => Some(b),
                _ => Some(x),
            });
        row(
            h,
            "High-rate increment (largest)",
            best.map_or("—".into(), |(i, v)| format!("{v:.1} % (train {i})")),
            format!("LEMS level from {} %", trim_num(c.increment.lems_pct, 2)),
        );
    }
    row(
        h,
        "Decrement right after exercise",
        val(ss.immediate_post_exercise_decrement_pct, 1, "%"),
        format!(
            "first train at most {} s after exercise",
            trim_num(c.exercise.immediate_max_s, 0)
        ),
    );
    row(
        h,
        "Decrement 1–4 min after exercise",
        val(ss.late_post_exercise_decrement_pct, 1, "%"),
        format!(
            "largest of the trains {}–{} s after exercise",
            trim_num(c.exercise.exhaustion_min_s, 0),
            trim_num(c.exercise.exhaustion_max_s, 0)
        ),
    );
    row(
        h,
        "Repair",
        yes_no(ss.repair).into(),
        format!(
            "decrement lower by ≥ {} points right after exercise [N4]",
            trim_num(c.exercise.repair_points, 1)
        ),
    );
    row(
        h,
        "Exhaustion",
        yes_no(ss.exhaustion).into(),
        format!(
            "decrement higher by ≥ {} points 1–4 min after [N4]",
            trim_num(c.exercise.exhaustion_points, 1)
        ),
    );
    row(
        h,
        "Exercise",
        match (ss.exercise_start_s, ss.exercise_end_s) {
            (Some(s0), Some(s1)) => format!("{s0:.1}–{s1:.1} s"),
            _ => "none seen or declared".into(),
        },
        ss.exercise_source
            .map_or(String::new(), |e| words::exercise_source_words(e).into()),
    );
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn figure(h: &mut String, p: &Plot) {
    let _ = write!(
        h,
        "<figure id=\"fig-{}\">\n{}<figcaption>{}</figcaption>\n</figure>\n",
        esc(&p.name),
        p.svg,
        esc(&p.caption)
    );
}

fn metric(h: &mut String, k: &str, v: String) {
    let _ = writeln!(
        h,
        "<div class=\"metric\"><span class=\"k\">{}</span><span class=\"v\">{}</span></div>",
        esc(k),
        esc(&v)
    );
}

fn train<'p>(
    h: &mut String,
    input: &ReportInput<'_>,
    t: &TrainOut,
    plot: &dyn Fn(&str) -> Option<&'p Plot>,
) {
    let c = train_colour(t.index);
    let _ = write!(
        h,
        "<section class=\"train\" id=\"train-{i}\">\n<h2 class=\"train-head\"><span class=\"swatch\" style=\"background: rgb({r},{g},{b})\"></span>Train {i} · {role}</h2>\n",
        i = t.index,
        r = c.0,
        g = c.1,
        b = c.2,
        role = esc(&{
            let label = words::train_label(t);
            if label == role_words(t.role) {
                label
            } else {
                format!("{label} ({})", role_words(t.role))
            }
        }),
    );
    let mut facts = vec![format!(
        "role from {}",
        words::role_source_words(t.role_source)
    )];
    facts.push(
        t.rate_hz
            .map_or("rate unknown".into(), |r| format!("{} Hz", trim_num(r, 2))),
    );
    if let Some(s) = t.start_s {
        facts.push(format!("first stimulus at {s:.2} s"));
    }
    if let Some(d) = t.delay_after_exercise_s {
        facts.push(format!("{} after exercise", words::delay_words(d)));
    }
    facts.push(format!(
        "{} measured",
        words::count(t.responses.len(), "response")
    ));
    let _ = writeln!(h, "<p class=\"facts\">{}</p>", esc(&facts.join(" · ")));

    h.push_str("<div class=\"metrics\">\n");
    if t.role == TrainRole::Hfs {
        metric(h, "increment, largest", val(t.increment_pct, 1, "%"));
        metric(
            h,
            "area increment, largest",
            val(t.area_increment_pct, 1, "%"),
        );
        metric(h, "increment, last", val(t.last_increment_pct, 1, "%"));
        metric(
            h,
            "area increment, last",
            val(t.last_area_increment_pct, 1, "%"),
        );
    } else {
        metric(h, "decrement 1st→4th", val(t.decrement_pct, 1, "%"));
        metric(h, "decrement 1st→5th", val(t.decrement_5th_pct, 1, "%"));
        metric(h, "largest decrement 2–5", val(t.max_decrement_pct, 1, "%"));
        metric(
            h,
            "area decrement 1st→4th",
            val(t.area_decrement_pct, 1, "%"),
        );
        metric(
            h,
            "area decrement 1st→5th",
            val(t.area_decrement_5th_pct, 1, "%"),
        );
        metric(h, "late/early ratio", val(t.late_early_ratio, 2, ""));
    }
    metric(
        h,
        "shape",
        t.shape.map_or("—".into(), |s| s.words().to_string()),
    );
    h.push_str("</div>\n");

    let flags: Vec<&QualityFlag> = input
        .analysis
        .quality
        .iter()
        .filter(|q| q.train == Some(t.index))
        .collect();
    for q in flags {
        let _ = writeln!(
            h,
            "<div class=\"flag {}\"><span class=\"sev\">{}:</span> {}</div>",
            q.severity,
            words::severity_words(q.severity),
            esc(&q.message)
        );
    }

    h.push_str("<div class=\"pair\">\n");
    for kind in ["waterfall", "superimposed"] {
        if let Some(p) = plot(&format!("train{}_{kind}", t.index)) {
            figure(h, p);
        }
    }
    h.push_str("</div>\n");

    let _ = write!(
        h,
        "<h3>Responses of train {}</h3>\n<table class=\"num responses\" id=\"responses-train-{}\">\n<thead><tr>\
         <th>#</th><th>stimulus<br/>(s)</th><th>latency<br/>(ms)</th><th>peak latency<br/>(ms)</th>\
         <th>amplitude<br/>(mV)</th><th>amplitude<br/>(% of 1st)</th><th>area<br/>(mV·ms)</th><th>area<br/>(% of 1st)</th>\
         <th>duration<br/>(ms)</th><th>peak-to-peak<br/>(mV)</th><th>baseline<br/>(mV)</th></tr></thead>\n<tbody>\n",
        t.index, t.index
    );
    for r in &t.responses {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td><td>{:.3}</td><td>{}</td><td>{:.3}</td><td>{}</td><td>{:.2}</td><td>{:.3}</td><td>{:.3}</td></tr>",
            r.index,
            val(r.stimulus_s, 3, ""),
            r.latency_ms,
            r.peak_latency_ms,
            r.amplitude_mv,
            val(r.amplitude_rel_pct, 1, ""),
            r.area_mv_ms,
            val(r.area_rel_pct, 1, ""),
            r.duration_ms,
            r.peak_to_peak_mv,
            r.baseline_mv,
        );
    }
    if t.responses.is_empty() {
        h.push_str(
            "<tr><td colspan=\"11\" class=\"none\">No response could be measured.</td></tr>\n",
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn quality(h: &mut String, flags: &[QualityFlag]) {
    h.push_str("<section>\n<h2>Quality flags</h2>\n");
    if flags.is_empty() {
        h.push_str("<p class=\"none\">No technical problem was flagged.</p>\n</section>\n");
        return;
    }
    h.push_str(
        "<table>\n<thead><tr><th>severity</th><th>where</th><th>what was seen</th><th>what it means</th></tr></thead>\n<tbody>\n",
    );
    for q in flags {
        let _ = writeln!(
            h,
            "<tr><td class=\"sev-{}\">{}</td><td>{}</td><td>{} <span class=\"code\">{}</span></td><td>{}</td></tr>",
            q.severity,
            words::severity_words(q.severity),
            q.train
                .map_or("recording".to_string(), |t| format!("train {t}")),
            esc(&q.message),
            q.code,
            esc(words::quality_meaning(q.code)),
        );
    }
    h.push_str("</tbody>\n</table>\n<p class=\"facts\">A warning makes the numbers less trustworthy; a note does not.</p>\n</section>\n");
}

fn criteria(h: &mut String, input: &ReportInput<'_>) {
    let c = input.criteria;
    h.push_str(
        "<section class=\"criteria\">\n<h2>Criteria used</h2>\n<div class=\"crit-grid\">\n<div>\n<table>\n<thead><tr><th>group</th><th>criterion</th><th>value</th><th>source</th></tr></thead>\n<tbody>\n",
    );
    let mut last_group = "";
    for r in words::criteria_rows(c) {
        // The group is named on its first row only.
        let group = if r.group == last_group { "" } else { r.group };
        last_group = r.group;
        let _ = writeln!(
            h,
            "<tr><td><b>{}</b></td><td>{}</td><td>{}</td><td class=\"code\">{}</td></tr>",
            esc(group),
            esc(r.what),
            esc(&r.value),
            esc(r.source)
        );
    }
    h.push_str("</tbody>\n</table>\n</div>\n<div>\n<h3>Normal baseline CMAP amplitude</h3>\n<table class=\"ranges\">\n<thead><tr><th>muscle</th><th>mean ± SD (mV)</th><th>lower limit, mean − 2 SD (mV)</th><th>source</th></tr></thead>\n<tbody>\n");
    let used = input.analysis.session.normal_range_muscle.as_deref();
    for (k, r) in &c.normal_ranges {
        let mark = if used == Some(k.as_str()) {
            " (used)"
        } else {
            ""
        };
        let _ = writeln!(
            h,
            "<tr><td>{}{}</td><td>{:.1} ± {:.1}</td><td>{:.1}</td><td class=\"code\">{}</td></tr>",
            esc(k),
            mark,
            r.mean_mv,
            r.sd_mv,
            r.lower_limit_mv(),
            esc(if r.source.is_empty() {
                "lab profile"
            } else {
                &r.source
            })
        );
    }
    h.push_str("</tbody>\n</table>\n</div>\n</div>\n<p class=\"facts\">Source tags refer to the references of the project's domain primer (README, “Source tags”).</p>\n</section>\n");
}

fn footer(h: &mut String, input: &ReportInput<'_>) {
    let a = input.analysis;
    let _ = write!(
        h,
        "<footer>\n<p class=\"disclaimer\">Patterns, not diagnoses.</p>\n\
         <p>This report gives a neurophysiological pattern and the findings behind it. It makes no \
         diagnosis; a clinician interprets the study together with the history and examination.</p>\n\
         <p>{} {} · input {} · SHA-256 <span class=\"mono\">{}</span></p>\n</footer>\n",
        esc(a.tool.name),
        esc(a.tool.version),
        esc(input.file_name),
        esc(input.sha256),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(esc("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
        assert_eq!(esc("x\u{1}y"), "x\u{fffd}y");
        // Noncharacters XML does not allow (a file name with U+FFFF).
        assert_eq!(
            esc("a\u{ffff}b\u{fffe}c\u{1fffe}d\u{fdd0}e\u{fffd}"),
            "a\u{fffd}b\u{fffd}c\u{fffd}d\u{fffd}e\u{fffd}"
        );
        assert_eq!(esc("é ü 中"), "é ü 中");
    }
}
