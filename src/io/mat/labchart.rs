//! LabChart's "MATLAB export" layout inside a MAT-file.
//!
//! Overview: ADInstruments LabChart exports a document to MATLAB as a few
//! fixed variables, not one variable per channel: `data` (every channel of
//! every block, one after the other, in one row), `datastart` and `dataend`
//! (channels × blocks, MATLAB's 1-based indices into `data`; −1 where a
//! channel has no data in a block), `samplerate` (channels × blocks, Hz),
//! `titles` (a char matrix, one channel title a row), `unittext` and
//! `unittextmap` (the units, and channels × blocks indices into them),
//! `blocktimes` (each block's start, a MATLAB date number in days),
//! `tickrate` (each block's tick rate, Hz), and the comments, `com`
//! (comments × 5: channel, or −1 for all; block; tick position in the block;
//! type; index into `comtext`) with `comtext`.
//!
//! Each block with data for the EMG channel is a segment, placed by its
//! block time (laid end to end when the times are missing or overlap). The
//! comments become annotations, so that stimulus comments give the stimuli
//! (when no trigger channel does) and comments such as `exercise` the train
//! roles. A channel is decoded when it is wanted and runs at the EMG
//! channel's rate with as many samples in every block; others are listed.

use super::{find, load, Ctx, Fetch, Num, Scope, Value, MAX_ELEMENTS};
use crate::error::{Error, Result};
use crate::io::{assemble, ChannelFilter, ReadOptions};
use crate::recording::{
    Annotation, Channel, ChannelKind, MetadataEntry, ReadNote, Recording, Segment, SourceFormat,
};
use crate::vocab::FlagCode;

/// The variables that make the layout: all of them must be there.
const REQUIRED: [&str; 5] = ["data", "datastart", "dataend", "samplerate", "titles"];

/// The most values a per-block or per-comment table may hold.
const MAX_TABLE: u64 = 1 << 20;

/// Whether the file's top-level variables are a LabChart export.
pub(super) fn detect(top: &Scope<'_>) -> bool {
    REQUIRED.iter().all(|n| find(top, &[n]).is_some())
        && find(top, &["datastart"]).is_some_and(|(_, v)| v.num().is_some())
}

/// A channels × blocks table, column by column as MATLAB stores it.
struct Table {
    chans: usize,
    blocks: usize,
    v: Vec<f64>,
}

impl Table {
    fn at(&self, c: usize, b: usize) -> f64 {
        self.v[c + b * self.chans]
    }
}

/// One channel's data in one block: 0-based `data` indices `[start, end)`.
#[derive(Clone, Copy)]
struct Run {
    start: u64,
    end: u64,
}

/// Everything the layout says, checked.
struct Layout {
    labels: Vec<String>,
    units: Vec<String>,
    /// `runs[c][b]`: channel `c`'s data in block `b`, if any.
    runs: Vec<Vec<Option<Run>>>,
    rates: Table,
    block_times: Option<Vec<f64>>,
    tick_rates: Option<Vec<f64>>,
}

/// Read the recording a LabChart export holds.
pub(super) fn recording(
    ctx: &mut Ctx<'_>,
    format: SourceFormat,
    file_len: u64,
    top: &Scope<'_>,
    f: &mut dyn Fetch,
    opts: &ReadOptions,
) -> Result<Recording> {
    let path = ctx.path;
    let data = numeric(ctx, top, "data")?;
    let lay = layout(ctx, f, file_len, top, data.count())?;
    let labels: Vec<&str> = lay.labels.iter().map(String::as_str).collect();
    let default_emg = labels
        .iter()
        .position(|l| !assemble::is_trigger_label(l))
        .unwrap_or(0);
    let (filter, chosen) = opts.channels.resolve(path, &labels, default_emg)?;
    let emg = chosen.unwrap_or(default_emg);
    let blocks: Vec<usize> = (0..lay.rates.blocks)
        .filter(|&b| lay.runs[emg][b].is_some())
        .collect();
    let what = format!("channel {emg} (\"{}\")", lay.labels[emg]);
    if blocks.is_empty() {
        return Err(Error::malformed(
            path,
            format!("{what} holds no data in any block"),
        ));
    }
    let hz = emg_rate(path, &lay, emg, &blocks, &what)?;
    let rate = assemble::sample_rate(path, hz, &what)?;
    let lens: Vec<u64> = blocks
        .iter()
        .filter_map(|&b| lay.runs[emg][b].map(|r| r.end - r.start))
        .collect();
    let total: u64 = lens.iter().sum();
    assemble::check_samples(path, &what, total)?;
    let (segments, laid) = segments(&lay, &blocks, &lens, hz);
    let decoded: Vec<bool> = (0..lay.labels.len())
        .map(|c| {
            let wanted = match &filter {
                ChannelFilter::Only(v) => v.contains(&c) || assemble::is_trigger_label(labels[c]),
                _ => true,
            };
            wanted && same_grid(&lay, c, emg, &blocks)
        })
        .collect();
    let samples = decode(ctx, f, file_len, data, &lay, &blocks, &segments, &decoded)?;
    let channels = channels(&lay, &blocks, emg, total as usize, samples);
    let annotations = comments(ctx, f, file_len, top, &lay, &blocks, &segments, hz)?;
    let has_trigger = channels
        .iter()
        .any(|c| c.kind == ChannelKind::Trigger && c.is_loaded());
    let mut rec = assemble::recording(path, format, rate, channels, segments);
    if !has_trigger {
        rec.stimuli = assemble::stimuli_from_annotations(&annotations, &rec.segments, hz);
    }
    rec.annotations = annotations;
    rec.metadata = vec![
        MetadataEntry {
            key: "layout".into(),
            value: "LabChart MATLAB export".into(),
        },
        MetadataEntry {
            key: "blocks".into(),
            value: lay.rates.blocks.to_string(),
        },
    ];
    rec.notes
        .extend(assemble::unit_note(&lay.labels[emg], &lay.units[emg]));
    if laid {
        rec.notes.push(ReadNote::info(
            FlagCode::LayoutGuessed,
            "the blocks' start times are missing or overlap: blocks laid end to end",
        ));
    }
    Ok(rec)
}

fn numeric<'a>(ctx: &Ctx<'_>, top: &Scope<'a>, name: &str) -> Result<&'a Num> {
    match find(top, &[name]) {
        Some((_, Value::Num(n))) if !n.complex => Ok(n),
        Some((_, v)) => Err(ctx.bad(format!(
            "LabChart export: {name} is {}, not a real numeric array",
            v.kind()
        ))),
        None => Err(ctx.bad(format!("LabChart export: no {name} variable"))),
    }
}

/// A small numeric variable's values, at most [`MAX_TABLE`].
fn small(
    ctx: &mut Ctx<'_>,
    f: &mut dyn Fetch,
    file_len: u64,
    top: &Scope<'_>,
    name: &str,
) -> Result<Option<(Vec<u64>, Vec<f64>)>> {
    let Some((_, v)) = find(top, &[name]) else {
        return Ok(None);
    };
    let Value::Num(n) = v else {
        return match v {
            Value::Empty => Ok(None),
            _ => Err(ctx.bad(format!(
                "LabChart export: {name} is {}, not numbers",
                v.kind()
            ))),
        };
    };
    let values = load(ctx, f, file_len, n, name, MAX_TABLE)?;
    Ok(Some((n.dims.clone(), values)))
}

/// A channels × blocks table named `name`, of `chans` rows.
fn table(
    ctx: &mut Ctx<'_>,
    f: &mut dyn Fetch,
    file_len: u64,
    top: &Scope<'_>,
    name: &str,
    chans: usize,
    blocks: usize,
) -> Result<Option<Table>> {
    let Some((_, v)) = small(ctx, f, file_len, top, name)? else {
        return Ok(None);
    };
    if v.len() != chans * blocks {
        return Err(ctx.bad(format!(
            "LabChart export: {name} holds {} values where datastart has {chans} channel(s) × {blocks} block(s)",
            v.len()
        )));
    }
    Ok(Some(Table { chans, blocks, v }))
}

fn layout(
    ctx: &mut Ctx<'_>,
    f: &mut dyn Fetch,
    file_len: u64,
    top: &Scope<'_>,
    n_data: u64,
) -> Result<Layout> {
    let path = ctx.path;
    let Some((dims, starts)) = small(ctx, f, file_len, top, "datastart")? else {
        return Err(ctx.bad("LabChart export: datastart is empty".into()));
    };
    let chans = dims.first().copied().unwrap_or(1).max(1) as usize;
    assemble::check_channels(path, chans as u64)?;
    let blocks = starts.len() / chans;
    let starts = Table {
        chans,
        blocks,
        v: starts,
    };
    let need = |t: Option<Table>, name: &str| {
        t.ok_or_else(|| Error::malformed(path, format!("LabChart export: {name} is empty")))
    };
    let ends = need(
        table(ctx, f, file_len, top, "dataend", chans, blocks)?,
        "dataend",
    )?;
    let rates = need(
        table(ctx, f, file_len, top, "samplerate", chans, blocks)?,
        "samplerate",
    )?;
    let labels = titles(ctx, top, "titles", chans)?;
    let runs = runs(path, &starts, &ends, &labels, n_data)?;
    let units = units(ctx, f, file_len, top, &runs, chans, blocks)?;
    let mut per_block = |name: &str| -> Result<Option<Vec<f64>>> {
        match small(ctx, f, file_len, top, name)? {
            Some((_, v)) if v.len() != blocks => Err(ctx.bad(format!(
                "LabChart export: {name} holds {} value(s) for {blocks} block(s)",
                v.len()
            ))),
            other => Ok(other.map(|(_, v)| v)),
        }
    };
    let block_times = per_block("blocktimes")?;
    let tick_rates = per_block("tickrate")?;
    Ok(Layout {
        labels,
        units,
        runs,
        rates,
        block_times,
        tick_rates,
    })
}

/// The rows of a char matrix (or cell of texts) `name`, `n` of them.
fn titles(ctx: &Ctx<'_>, top: &Scope<'_>, name: &str, n: usize) -> Result<Vec<String>> {
    let rows = find(top, &[name])
        .and_then(|(_, v)| v.texts())
        .ok_or_else(|| ctx.bad(format!("LabChart export: {name} is not text")))?;
    if rows.len() != n {
        return Err(ctx.bad(format!(
            "LabChart export: {name} has {} row(s) for {n} channel(s)",
            rows.len()
        )));
    }
    Ok(rows)
}

/// Each channel's data in each block, checked against `data`'s length.
fn runs(
    path: &std::path::Path,
    starts: &Table,
    ends: &Table,
    labels: &[String],
    n_data: u64,
) -> Result<Vec<Vec<Option<Run>>>> {
    let mut out = vec![vec![None; starts.blocks]; starts.chans];
    for (c, row) in out.iter_mut().enumerate() {
        for (b, slot) in row.iter_mut().enumerate() {
            let (s, e) = (starts.at(c, b), ends.at(c, b));
            if s < 1.0 && e < 1.0 {
                continue; // −1 (or 0): no data in this block
            }
            let whole = |x: f64| x.is_finite() && x.fract() == 0.0;
            if !(whole(s) && whole(e) && s >= 1.0 && e >= s - 1.0 && e <= n_data as f64) {
                return Err(Error::malformed(
                    path,
                    format!(
                        "LabChart export: channel {c} (\"{}\") block {}: datastart {s}, dataend {e} lie outside data ({n_data} values)",
                        labels[c],
                        b + 1
                    ),
                ));
            }
            // dataend = datastart − 1: an empty run, as no data.
            if e >= s {
                *slot = Some(Run {
                    start: s as u64 - 1,
                    end: e as u64,
                });
            }
        }
    }
    Ok(out)
}

/// Each channel's unit: `unittext` row `unittextmap(c, b)` of its first
/// block with data ("" when the export names none).
fn units(
    ctx: &mut Ctx<'_>,
    f: &mut dyn Fetch,
    file_len: u64,
    top: &Scope<'_>,
    runs: &[Vec<Option<Run>>],
    chans: usize,
    blocks: usize,
) -> Result<Vec<String>> {
    let texts = find(top, &["unittext"])
        .and_then(|(_, v)| v.texts())
        .unwrap_or_default();
    let map = table(ctx, f, file_len, top, "unittextmap", chans, blocks)?;
    let unit_at = |c: usize, b: usize| -> String {
        map.as_ref()
            .map(|m| m.at(c, b))
            .filter(|k| k.fract() == 0.0 && *k >= 1.0 && *k <= texts.len() as f64)
            .map(|k| texts[k as usize - 1].clone())
            .unwrap_or_default()
    };
    let mut units = Vec::with_capacity(chans);
    for (c, row) in runs.iter().enumerate().take(chans) {
        let mut with_data = (0..blocks).filter(|&b| row[b].is_some());
        let first = with_data.next().unwrap_or(0);
        let unit = unit_at(c, first);
        // LabChart may change a channel's unit between blocks; one scale
        // for all of them would be wrong by the ratio.
        if let Some(b) = with_data.find(|&b| unit_at(c, b) != unit) {
            return Err(ctx.bad(format!(
                "LabChart export: channel {c} is in \"{unit}\" in block {} and \"{}\" in block {}: blocks of different units are not read together",
                first + 1,
                unit_at(c, b),
                b + 1
            )));
        }
        units.push(unit);
    }
    Ok(units)
}

/// The EMG channel's rate, the same in every block it has data in.
fn emg_rate(
    path: &std::path::Path,
    lay: &Layout,
    emg: usize,
    blocks: &[usize],
    what: &str,
) -> Result<f64> {
    let hz = lay.rates.at(emg, blocks[0]);
    if let Some(&b) = blocks.iter().find(|&&b| lay.rates.at(emg, b) != hz) {
        return Err(Error::malformed(
            path,
            format!(
                "{what} is sampled at {hz} Hz in block {} and {} Hz in block {}: blocks of different rates are not read together",
                blocks[0] + 1,
                lay.rates.at(emg, b),
                b + 1
            ),
        ));
    }
    Ok(hz)
}

/// Whether channel `c` has the EMG channel's rate and sample counts in its
/// blocks, so that it can share the recording's sample grid.
fn same_grid(lay: &Layout, c: usize, emg: usize, blocks: &[usize]) -> bool {
    blocks.iter().all(|&b| {
        let len = |ch: usize| lay.runs[ch][b].map(|r| r.end - r.start);
        lay.rates.at(c, b) == lay.rates.at(emg, b) && len(c) == len(emg)
    })
}

/// One segment per block, placed by the block times when they rise by at
/// least each block's length; else end to end (`true`).
fn segments(lay: &Layout, blocks: &[usize], lens: &[u64], hz: f64) -> (Vec<Segment>, bool) {
    let mut starts: Vec<f64> = Vec::with_capacity(blocks.len());
    let mut placed = lay.block_times.is_some();
    if let Some(t) = &lay.block_times {
        let t0 = t[blocks[0]];
        for (k, &b) in blocks.iter().enumerate() {
            let s = (t[b] - t0) * 86_400.0;
            // The end of the previous block: a block time within 1 ms
            // before it is rounding (date numbers hold ~10 µs).
            let earliest = match k {
                0 => 0.0,
                _ => starts[k - 1] + lens[k - 1] as f64 / hz,
            };
            if !s.is_finite() || s < earliest - 1e-3 {
                placed = false;
                break;
            }
            starts.push(s.max(earliest));
        }
    }
    if !placed {
        starts.clear();
        let mut t = 0.0;
        for &n in lens {
            starts.push(t);
            t += n as f64 / hz;
        }
    }
    let mut at = 0usize;
    let segs = lens
        .iter()
        .zip(&starts)
        .map(|(&n, &s)| {
            let seg = Segment {
                start: at,
                len: n as usize,
                start_s: s,
            };
            at += n as usize;
            seg
        })
        .collect();
    (segs, !placed && blocks.len() > 1)
}

/// The decoded channels' samples (mV for voltages, triggers raw), read in
/// one pass over `data`; empty for the channels not decoded.
#[allow(clippy::too_many_arguments)]
fn decode(
    ctx: &mut Ctx<'_>,
    f: &mut dyn Fetch,
    file_len: u64,
    data: &Num,
    lay: &Layout,
    blocks: &[usize],
    segments: &[Segment],
    decoded: &[bool],
) -> Result<Vec<Vec<f32>>> {
    let total = segments.iter().map(|s| s.len).sum::<usize>();
    // (data start, data end, channel, first sample in the channel)
    let mut ranges: Vec<(u64, u64, usize, usize)> = Vec::new();
    for (c, _) in decoded.iter().enumerate().filter(|(_, d)| **d) {
        for (&b, seg) in blocks.iter().zip(segments) {
            if let Some(r) = lay.runs[c][b] {
                ranges.push((r.start, r.end, c, seg.start));
            }
        }
    }
    ranges.sort_unstable();
    if ranges.windows(2).any(|w| w[1].0 < w[0].1) {
        return Err(ctx.bad("LabChart export: two channels' data overlap in data".into()));
    }
    let scale: Vec<f64> = (0..lay.labels.len())
        .map(|c| match assemble::is_trigger_label(&lay.labels[c]) {
            true => 1.0,
            false => assemble::millivolts_per_unit(&lay.units[c]).unwrap_or(1.0),
        })
        .collect();
    let mut out: Vec<Vec<f32>> = decoded
        .iter()
        .map(|&d| if d { vec![0.0; total] } else { Vec::new() })
        .collect();
    let mut bad: Option<(usize, u64)> = None;
    let mut k = 0usize;
    let mut sink = |i: u64, x: f64| {
        while k < ranges.len() && ranges[k].1 <= i {
            k += 1;
        }
        if let Some(&(s, _, c, at)) = ranges.get(k).filter(|r| r.0 <= i) {
            if !x.is_finite() && bad.is_none() {
                bad = Some((c, i - s));
            }
            out[c][at + (i - s) as usize] = (x * scale[c]) as f32;
        }
    };
    match &data.data {
        super::Data::Loaded(v) => v.iter().enumerate().for_each(|(i, &x)| sink(i as u64, x)),
        super::Data::Deferred(loc) => {
            super::check_expansion(ctx, file_len, data.count(), "data")?;
            if data.count() > MAX_ELEMENTS {
                return Err(ctx.limit("elements of data", data.count(), MAX_ELEMENTS));
            }
            f.fetch(ctx, loc, &mut sink)?;
        }
    }
    if let Some((c, i)) = bad {
        return Err(ctx.bad(format!(
            "LabChart export: channel {c} (\"{}\") holds a value that is not a number (data index {})",
            lay.labels[c],
            i + 1
        )));
    }
    Ok(out)
}

fn channels(
    lay: &Layout,
    blocks: &[usize],
    emg: usize,
    total: usize,
    samples: Vec<Vec<f32>>,
) -> Vec<Channel> {
    samples
        .into_iter()
        .enumerate()
        .map(|(c, s)| {
            let label = lay.labels[c].clone();
            let unit = lay.units[c].clone();
            let kind = match assemble::is_trigger_label(&label) {
                true => ChannelKind::Trigger,
                false => ChannelKind::Signal,
            };
            if !s.is_empty() {
                return assemble::channel(c, label, unit, kind, s);
            }
            let len: u64 = blocks
                .iter()
                .filter_map(|&b| lay.runs[c][b].map(|r| r.end - r.start))
                .sum();
            let rate = blocks.first().map(|&b| lay.rates.at(c, b));
            let rate = rate.filter(|&r| c != emg && r != lay.rates.at(emg, blocks[0]));
            let len = if same_grid(lay, c, emg, blocks) {
                total
            } else {
                len as usize
            };
            assemble::listed_channel(c, label, unit, kind, len, rate)
        })
        .collect()
}

/// The comments of the blocks read, as annotations in time order; their
/// positions count ticks of the block's tick rate (else `hz`).
#[allow(clippy::too_many_arguments)]
fn comments(
    ctx: &mut Ctx<'_>,
    f: &mut dyn Fetch,
    file_len: u64,
    top: &Scope<'_>,
    lay: &Layout,
    blocks: &[usize],
    segments: &[Segment],
    hz: f64,
) -> Result<Vec<Annotation>> {
    let Some((dims, v)) = small(ctx, f, file_len, top, "com")? else {
        return Ok(Vec::new());
    };
    let texts = find(top, &["comtext"])
        .and_then(|(_, v)| v.texts())
        .unwrap_or_default();
    let n = dims.first().copied().unwrap_or(0) as usize;
    if v.is_empty() {
        return Ok(Vec::new());
    }
    if dims.len() != 2 || dims[1] != 5 {
        return Err(ctx.bad(format!(
            "LabChart export: com is {} where comments × 5 is expected",
            dims.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join("×")
        )));
    }
    let mut out = Vec::new();
    for r in 0..n {
        let col = |j: usize| v[r + j * n];
        let (block, pos, idx) = (col(1), col(2), col(4));
        let Some(k) = blocks.iter().position(|&b| (b + 1) as f64 == block) else {
            continue;
        };
        let tick = lay
            .tick_rates
            .as_ref()
            .map(|t| t[blocks[k]])
            .filter(|t| t.is_finite() && *t > 0.0)
            .unwrap_or(hz);
        let text = (idx >= 1.0 && idx <= texts.len() as f64 && idx.fract() == 0.0)
            .then(|| texts[idx as usize - 1].clone());
        let (Some(text), true) = (text, pos.is_finite() && pos >= 0.0) else {
            continue;
        };
        out.push(Annotation {
            onset_s: segments[k].start_s + pos / tick,
            duration_s: None,
            text,
        });
    }
    out.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
    Ok(out)
}
