//! Keyword settings from Python, into the library's typed settings.
//!
//! Overview: the keywords are the `rns` flags' long names with `_` for `-`
//! (`full_scale_mv=20`, `window_ms=(2, 15)` or `"2:15"`, `trigger_channel=1`
//! or `"Stim"`). Each is parsed by the same function as its flag, so a bad
//! value is the CLI's usage error (exit code 2); an unknown keyword is one
//! too, never silently ignored.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use rns_analyzer::error::{Error, Result};
use rns_analyzer::io::csv::ColumnUnit;
use rns_analyzer::recording::ChannelSel;
use rns_analyzer::settings::config::{parse_window_ms, Overrides};
use rns_analyzer::sim::command::{SimFormat, SimulateArgs};
use rns_analyzer::study::{IsoDate, Sex, Side};
use rns_analyzer::vocab::{CsvLayout, PolarityChoice};
use std::path::PathBuf;

/// The settings of one analysis: the overrides, and the files they name.
#[derive(Default)]
pub struct AnalyseSettings {
    /// Flag values (over the sidecar, over the defaults).
    pub overrides: Overrides,
    /// A sidecar to use instead of `<file>.rns.toml` (`protocol=`).
    pub protocol: Option<PathBuf>,
    /// A criteria profile (`criteria=`).
    pub criteria: Option<PathBuf>,
}

fn usage(msg: String) -> Error {
    Error::Usage(msg)
}

/// `v` as `T`, or the usage error naming the keyword and what it takes.
fn get<'py, T: FromPyObjectOwned<'py>>(key: &str, v: &Bound<'py, PyAny>, what: &str) -> Result<T> {
    v.extract::<T>().map_err(|_| {
        let shown = v.repr().map_or_else(|_| "?".to_string(), |r| r.to_string());
        usage(format!("{key} must be {what}, got {shown}"))
    })
}

/// A channel: an index or a label, parsed as `--channel` parses it.
fn channel(key: &str, v: &Bound<'_, PyAny>) -> Result<ChannelSel> {
    let text = match v.extract::<usize>() {
        Ok(i) => i.to_string(),
        Err(_) => get::<String>(key, v, "a channel index (int) or label (str)")?,
    };
    ChannelSel::parse(&text).map_err(|m| usage(format!("{key}: {m}")))
}

/// `window_ms`: `"START:END"` or a pair of numbers.
fn window(v: &Bound<'_, PyAny>) -> Result<(f64, f64)> {
    if let Ok(t) = v.cast::<PyTuple>() {
        return get::<(f64, f64)>("window_ms", t.as_any(), "a (start, end) pair of numbers");
    }
    if let Ok(l) = v.extract::<Vec<f64>>() {
        if let [a, b] = l[..] {
            return Ok((a, b));
        }
    }
    parse_window_ms(&get::<String>(
        "window_ms",
        v,
        "\"START:END\" or (start, end)",
    )?)
}

/// A date, `YYYY-MM-DD`.
fn date(key: &str, v: &Bound<'_, PyAny>) -> Result<IsoDate> {
    // `datetime.date` too: its str() is the ISO form.
    let text = v
        .str()
        .map_err(|_| usage(format!("{key} must be a date")))?
        .to_string();
    IsoDate::parse(&text).map_err(|m| usage(format!("{key}: {m}")))
}

/// Apply one keyword; `false` when it is not a keyword of the study.
fn study_key(o: &mut Overrides, key: &str, v: &Bound<'_, PyAny>) -> Result<bool> {
    let text = |k: &str| get::<String>(k, v, "a string").map(Some);
    let s = &mut o.study;
    match key {
        "patient_id" => s.patient_id = text(key)?,
        "patient_name" => s.patient_name = text(key)?,
        "birth_date" => s.birth_date = Some(date(key, v)?),
        "study_date" => s.study_date = Some(date(key, v)?),
        "sex" => {
            let t = get::<String>(key, v, "a string")?;
            s.sex = Some(Sex::parse(&t).ok_or_else(|| {
                usage(format!(
                    "sex must be female, male or unspecified (F, M, X), got {t:?}"
                ))
            })?);
        }
        "side" => {
            let t = get::<String>(key, v, "a string")?;
            s.side =
                Some(Side::parse(&t).ok_or_else(|| {
                    usage(format!("side must be left, right or both, got {t:?}"))
                })?);
        }
        "nerve" => s.nerve = text(key)?,
        "stimulation_site" => s.stimulation_site = text(key)?,
        "operator" => s.operator = text(key)?,
        "referring_physician" => s.referring_physician = text(key)?,
        "clinical_question" => s.clinical_question = text(key)?,
        "comments" => s.comments = text(key)?,
        "impression" => s.impression = text(key)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// Apply one keyword of how to read and analyse.
fn analysis_key(out: &mut AnalyseSettings, key: &str, v: &Bound<'_, PyAny>) -> Result<bool> {
    let num = |k: &str| get::<f64>(k, v, "a number").map(Some);
    let o = &mut out.overrides;
    match key {
        "channel" => o.channel = Some(channel(key, v)?),
        "trigger_channel" => o.trigger_channel = Some(channel(key, v)?),
        "full_scale_mv" => o.full_scale_mv = num(key)?,
        "sample_rate" => o.sample_rate_hz = num(key)?,
        "rate" => o.rate_hz = num(key)?,
        "layout" => o.layout = Some(CsvLayout::from_flag(&get::<String>(key, v, "a string")?)?),
        "polarity" => {
            o.polarity = Some(PolarityChoice::from_flag(&get::<String>(
                key, v, "a string",
            )?)?)
        }
        "unit" => {
            let t = get::<String>(key, v, "a string")?;
            o.unit = Some(
                ColumnUnit::voltage(&t)
                    .ok_or_else(|| usage(format!("unit must be V, mV, uV or nV, got {t:?}")))?,
            );
        }
        "window_ms" => o.window_ms = Some(window(v)?),
        "muscle" => o.muscle = Some(get::<String>(key, v, "a string")?),
        "protocol" => out.protocol = Some(get::<PathBuf>(key, v, "a path")?),
        "criteria" => out.criteria = Some(get::<PathBuf>(key, v, "a path")?),
        _ => return study_key(o, key, v),
    }
    Ok(true)
}

/// The settings named by `dict`'s keywords (`None`: the defaults). A
/// keyword set to `None` is as if not given.
pub fn from_dict(dict: Option<&Bound<'_, PyDict>>) -> Result<AnalyseSettings> {
    let mut out = AnalyseSettings::default();
    for (k, v) in dict.into_iter().flat_map(|d| d.iter()) {
        let key: String = k
            .extract()
            .map_err(|_| usage("setting names must be strings".into()))?;
        if v.is_none() {
            continue;
        }
        if !analysis_key(&mut out, &key, &v)? {
            return Err(usage(format!("unknown setting {key:?}")));
        }
    }
    Ok(out)
}

/// The arguments of `rns simulate` from keywords (the flags' names).
pub fn simulate_args(dict: Option<&Bound<'_, PyDict>>) -> Result<SimulateArgs> {
    let mut a = SimulateArgs::default();
    for (k, v) in dict.into_iter().flat_map(|d| d.iter()) {
        let key: String = k
            .extract()
            .map_err(|_| usage("setting names must be strings".into()))?;
        if v.is_none() {
            continue;
        }
        let f = |k: &str| get::<f64>(k, &v, "a number");
        let text = |k: &str| get::<String>(k, &v, "a string");
        match key.as_str() {
            "preset" => a.preset = text(&key)?,
            "protocol" => a.protocol = text(&key)?,
            "muscle" => a.muscle = text(&key)?,
            "out" => a.out = Some(get::<PathBuf>(&key, &v, "a path")?),
            "format" => {
                let t = text(&key)?;
                a.format = match t.to_ascii_lowercase().as_str() {
                    "wav" => SimFormat::Wav,
                    "wav16" => SimFormat::Wav16,
                    "csv" => SimFormat::Csv,
                    "edf" => SimFormat::Edf,
                    _ => {
                        return Err(usage(format!(
                            "format must be wav, wav16, csv or edf, got {t:?}"
                        )))
                    }
                }
            }
            "seed" => a.seed = get::<u64>(&key, &v, "a non-negative integer")?,
            "stimuli" => a.stimuli = get::<usize>(&key, &v, "a non-negative integer")?,
            "hfs_rate" => a.hfs_rate = f(&key)?,
            "hfs_duration" => a.hfs_duration = f(&key)?,
            "achr" => a.achr = Some(f(&key)?),
            "release" => a.release = Some(f(&key)?),
            "block" => a.block = Some(f(&key)?),
            "temperature" => a.temperature = Some(f(&key)?),
            "inhibitor" => a.inhibitor = Some(f(&key)?),
            "dap" => a.dap = Some(f(&key)?),
            "sample_rate" => a.sample_rate = f(&key)?,
            "noise_uv" => a.noise_uv = f(&key)?,
            "hum_uv" => a.hum_uv = f(&key)?,
            "mains_hz" => a.mains_hz = f(&key)?,
            "wander_uv" => a.wander_uv = f(&key)?,
            "voluntary_mv" => a.voluntary_mv = f(&key)?,
            "artifact_mv" => a.artifact_mv = f(&key)?,
            "clip_mv" => a.clip_mv = Some(f(&key)?),
            "full_scale_mv" => a.full_scale_mv = f(&key)?,
            _ => return Err(usage(format!("unknown simulate setting {key:?}"))),
        }
    }
    // The format follows the file's extension unless given, as for the flag.
    if !dict.is_some_and(|d| d.contains("format").unwrap_or(false)) {
        if let Some(f) = a.out.as_deref().and_then(SimFormat::from_extension) {
            a.format = f;
        }
    }
    Ok(a)
}
