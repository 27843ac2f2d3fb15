//! MATLAB MAT-files: level 5 (MATLAB v5, v6, v7, compressed or not) and
//! v7.3 (HDF5 behind MATLAB's 512-byte user block).
//!
//! Overview: the container is decoded in two passes. The first lists every
//! variable (`v5` streams the level 5 elements, inflating compressed ones
//! as it goes; `v73` walks the HDF5 groups with the pure-Rust
//! `hdf5-reader`): class, dimensions, struct fields, text, and the values
//! of small numeric arrays (a sample rate, an interval). The variables that
//! hold the signal, its time vector and the stimuli are then chosen by name
//! (or by the sidecar's `[mat]` table, [`MatHints`]), and the second pass
//! decodes only those, straight into millivolts.
//!
//! # Which variables
//!
//! Names are matched ignoring case, at the top level and inside the signal's
//! own struct (a dotted path such as `rec.emg` names a field):
//! - **signal**: `[mat] signal` (a path, or a list of paths, one channel
//!   each); else every top-level numeric variable named `emg` (or `emg…`),
//!   `data`, `signal`, `signals`, `y`, `values`, `wave`, `waveform`,
//!   `trace`, `traces` or `sweeps`; else Spike2's "export as MATLAB" layout:
//!   one struct per channel with `values` (and `title`, `units`, `interval`,
//!   `start`, `length`…), each a channel labelled by its `title`; else a
//!   top-level struct holding a field of those names. Several signal
//!   variables must have the same length. When nothing settles it, the
//!   error lists the numeric variables and asks for `[mat] signal`.
//! - **sample rate**: a scalar `fs`, `Fs`, `sample_rate`, `samplerate`,
//!   `sampling_rate`, `srate`, `sr`, `rate_hz`, `sample_rate_hz` or `fsamp`;
//!   else `1 / interval` (`interval`, `dt`, `sample_interval`); else from
//!   the time vector; else `--sample-rate` (sidecar `sample_rate_hz`).
//! - **time vector** (seconds): `[mat] time`, else `t`, `time`, `times`,
//!   `time_s`, `timestamps`, `tvec`, with as many values as the signal has
//!   samples; it must rise by regular steps. Its first value is the time of
//!   the first sample (as Spike2's `start` is).
//! - **unit**: `--unit` or the sidecar's `unit`; else a `units` (or `unit`)
//!   text beside the signal; else millivolts, with the `unit_assumed` note.
//!   `V`, `mV`, `uV`/`µV`, `nV` are converted to millivolts; another unit
//!   keeps its values as they are.
//! - **stimuli**: `[mat] stimuli`, else `stimuli`, `stimulus_times`,
//!   `stim_times`, `stimuli_s`, `stim`, `triggers`, `trigger_times`; else a
//!   Spike2 event-channel struct (`times`, no `values`) whose title names a
//!   trigger (`Stim`, `Trig`, `Marker`…). Times in seconds on the file's
//!   clock (`[mat] stimuli_in = "samples"`: MATLAB's 1-based sample
//!   indices); they give the stimuli with origin `Events`.
//!
//! # Matrices: channels or sweeps
//!
//! A vector is one channel. A matrix's samples run along the dimension that
//! `[mat] time_dim` names (1: down the rows, 2: along the columns), else the
//! one as long as the time vector, else the longer one. The other dimension
//! is channels, unless the layout is sweeps: `layout = "sweeps"` (or
//! `--layout sweeps`), or a time vector that starts before 0 (pre-stimulus
//! samples), or `[mat] pre_stimulus_ms`. Sweeps are laid end to end
//! (`assemble::sweeps`), the stimulus at time 0 of each: the sample where
//! the time vector reaches 0, or `pre_stimulus_ms` in, else the first.
//! Matrix channels take their labels from a `labels` (`channel_names`,
//! `names`, `titles`) cell of texts or char matrix when it has one per
//! channel, else `data(:,1)`, `data(:,2)`… A channel whose label names a
//! trigger (`Trig`, `Stim`…) is a trigger channel (raw values).
//!
//! # Limits
//!
//! Every declared size is checked before allocation: an element must fit in
//! what holds it, an array holds at most [`MAX_ELEMENTS`] elements, never
//! more than a file of its size could hold even deflated (1100 per byte),
//! the file at most [`MAX_NODES`] arrays nested at most [`MAX_DEPTH`] deep;
//! the channel and sample limits of `io` apply. Only the channels the
//! analysis asks for are decoded. MATLAB objects, function handles, sparse
//! and complex arrays, MATLAB `string` objects and (in v7.3) cells are
//! listed but not read. Level 4 MAT-files are refused.

mod labchart;
mod v5;
mod v73;

use crate::error::{Error, Result};
use crate::io::assemble;
use crate::io::{ChannelFilter, ReadOptions};
use crate::recording::{ChannelKind, KnownStimuli, ReadNote, Recording, Segment, SourceFormat};
use crate::units::SampleRate;
use crate::vocab::{CsvLayout, FlagCode};
use std::io::{BufReader, Cursor, Read};
use std::path::Path;

/// Most elements of one array the reader accepts (all of a matrix's
/// channels or sweeps together).
pub const MAX_ELEMENTS: u64 = 1 << 30;
/// Most arrays (variables, struct fields, cells) listed in one file.
pub const MAX_NODES: usize = 100_000;
/// Deepest nesting of structs and cells.
pub const MAX_DEPTH: usize = 16;
/// Most stimulus times read from a stimuli variable.
pub const MAX_STIMULI: u64 = 1_000_000;
/// Numeric arrays of at most this many elements are kept in the first pass.
const SMALL: u64 = 16;
/// The most elements per byte of file a compressed array can expand to
/// (deflate's limit is about 1032 bytes per byte).
const MAX_EXPANSION: u64 = 1100;

/// What the sidecar's `[mat]` table says of a MAT-file's variables: which
/// hold the signal, the time and the stimuli, for files whose names do not
/// settle it (see the module documentation for the names tried). Paths are
/// dotted into structs: `"rec.emg"`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatHints {
    /// The signal variable, or a list of them (one channel each).
    #[serde(default, deserialize_with = "one_or_many")]
    pub signal: Vec<String>,
    /// The time vector, seconds.
    pub time: Option<String>,
    /// The stimulus times (seconds, or sample indices with
    /// [`MatHints::stimuli_in`]).
    pub stimuli: Option<String>,
    /// What the stimuli variable counts in: `"s"` (default) or `"samples"`
    /// (MATLAB's 1-based sample indices).
    pub stimuli_in: Option<StimuliUnit>,
    /// The dimension of a matrix along which the samples run: 1 (down the
    /// rows, one column per channel or sweep) or 2 (along the columns).
    pub time_dim: Option<u8>,
    /// Milliseconds of pre-stimulus samples at the start of each sweep,
    /// when no time vector says; it makes a matrix read as sweeps.
    pub pre_stimulus_ms: Option<f64>,
}

/// What a stimuli variable counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StimuliUnit {
    /// Seconds on the file's clock.
    S,
    /// MATLAB's 1-based sample indices.
    Samples,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<String>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match <OneOrMany as serde::Deserialize>::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

// ---------------------------------------------------------------------------
// The variables, as both containers list them

/// A numeric class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumClass {
    /// `double`.
    Double,
    /// `single`.
    Single,
    /// An integer class (`int16`, `uint8`…), by its MATLAB name.
    Int(&'static str),
    /// `logical`.
    Logical,
}

impl NumClass {
    fn name(self) -> &'static str {
        match self {
            NumClass::Double => "double",
            NumClass::Single => "single",
            NumClass::Int(n) => n,
            NumClass::Logical => "logical",
        }
    }
}

/// A MATLAB class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Struct,
    Cell,
    Char,
    Numeric(NumClass),
    Other(&'static str),
}

const INTS: [&str; 8] = [
    "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
];

impl Class {
    /// From a level 5 array-flags class code.
    fn from_code(code: u32, logical: bool) -> Class {
        match code {
            1 => Class::Cell,
            2 => Class::Struct,
            3 => Class::Other("object"),
            4 => Class::Char,
            5 => Class::Other("sparse"),
            _ if logical && (6..=15).contains(&code) => Class::Numeric(NumClass::Logical),
            6 => Class::Numeric(NumClass::Double),
            7 => Class::Numeric(NumClass::Single),
            8..=15 => Class::Numeric(NumClass::Int(INTS[(code - 8) as usize])),
            16 => Class::Other("function handle"),
            17 => Class::Other("opaque object"),
            _ => Class::Other("unknown class"),
        }
    }

    /// From a v7.3 `MATLAB_class` attribute.
    fn from_name(name: &str) -> Class {
        match name {
            "struct" => Class::Struct,
            "cell" => Class::Cell,
            "char" => Class::Char,
            "double" => Class::Numeric(NumClass::Double),
            "single" => Class::Numeric(NumClass::Single),
            "logical" => Class::Numeric(NumClass::Logical),
            n => match INTS.iter().find(|&&i| i == n) {
                Some(i) => Class::Numeric(NumClass::Int(i)),
                None => Class::Other("object"),
            },
        }
    }
}

/// Where a numeric array's data is, for the second pass.
#[derive(Debug, Clone, PartialEq)]
enum Loc {
    /// Level 5: the variable's element at `offset`, then the child indices
    /// (struct element × fields + field, or cell index) down to the array.
    V5 { offset: u64, path: Vec<u32> },
    /// v7.3: the dataset's HDF5 path.
    H5(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Data {
    Loaded(Vec<f64>),
    Deferred(Loc),
}

/// A numeric array.
#[derive(Debug, Clone, PartialEq)]
struct Num {
    class: NumClass,
    dims: Vec<u64>,
    complex: bool,
    data: Data,
}

impl Num {
    fn count(&self) -> u64 {
        self.dims.iter().product()
    }

    /// The one value of a 1 × 1 array.
    fn scalar(&self) -> Option<f64> {
        match &self.data {
            Data::Loaded(v) if v.len() == 1 && !self.complex => Some(v[0]),
            _ => None,
        }
    }

    /// Rows × columns, when at most two dimensions are above 1.
    fn matrix(&self) -> Option<(u64, u64)> {
        let big: Vec<u64> = self.dims.iter().copied().filter(|&d| d != 1).collect();
        match (big.len(), self.dims.len()) {
            (0, _) => Some((1, 1)),
            (1, _) if self.dims.first() == big.first() => Some((big[0], 1)),
            (1, _) => Some((1, big[0])),
            (2, 2) => Some((self.dims[0], self.dims[1])),
            _ => None,
        }
    }

    fn describe(&self) -> String {
        let dims: Vec<String> = self.dims.iter().map(|d| d.to_string()).collect();
        let c = if self.complex { " complex" } else { "" };
        format!("{}{c} {}", dims.join("×"), self.class.name())
    }
}

/// A variable or field.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Num(Num),
    /// A char array's rows.
    Text(Vec<String>),
    Struct {
        dims: Vec<u64>,
        /// Each field's values, one per struct element.
        fields: Vec<(String, Vec<Value>)>,
    },
    Cell {
        dims: Vec<u64>,
        items: Vec<Value>,
    },
    Empty,
    Other(&'static str),
}

impl Value {
    fn num(&self) -> Option<&Num> {
        match self {
            Value::Num(n) if n.count() > 0 => Some(n),
            _ => None,
        }
    }

    /// A 1 × 1 struct's fields, first element of each.
    fn fields(&self) -> Option<Vec<(&str, &Value)>> {
        match self {
            Value::Struct { dims, fields } if dims.iter().product::<u64>() == 1 => Some(
                fields
                    .iter()
                    .filter_map(|(n, v)| v.first().map(|v| (n.as_str(), v)))
                    .collect(),
            ),
            _ => None,
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            Value::Text(rows) if rows.len() == 1 => Some(rows[0].trim()),
            _ => None,
        }
    }

    /// The texts of a cell of strings, or of a char matrix's rows.
    fn texts(&self) -> Option<Vec<String>> {
        match self {
            Value::Text(rows) => Some(rows.iter().map(|r| r.trim().to_string()).collect()),
            Value::Cell { items, .. } => {
                items.iter().map(|i| i.text().map(str::to_string)).collect()
            }
            _ => None,
        }
    }

    fn kind(&self) -> String {
        match self {
            Value::Num(n) => n.describe(),
            Value::Text(_) => "char".into(),
            Value::Struct { .. } => "struct".into(),
            Value::Cell { .. } => "cell".into(),
            Value::Empty => "empty".into(),
            Value::Other(w) => (*w).into(),
        }
    }
}

/// A char array's rows: `chars` stored column by column in `dims`.
fn char_rows(chars: &[char], dims: &[u64]) -> Vec<String> {
    let rows = dims.first().copied().unwrap_or(1).max(1) as usize;
    if rows == 1 || !chars.len().is_multiple_of(rows) {
        return vec![chars
            .iter()
            .collect::<String>()
            .trim_end_matches('\0')
            .to_string()];
    }
    let cols = chars.len() / rows;
    (0..rows)
        .map(|r| (0..cols).map(|c| chars[c * rows + r]).collect::<String>())
        .map(|s| s.trim_end_matches(['\0', ' ']).to_string())
        .collect()
}

/// What the parsers need to word their errors and keep their budgets.
struct Ctx<'a> {
    path: &'a Path,
    /// The variable being read, for messages.
    where_: String,
    /// Arrays listed so far.
    nodes: usize,
}

impl Ctx<'_> {
    fn bad(&self, msg: String) -> Error {
        if self.where_.is_empty() {
            Error::malformed(self.path, msg)
        } else {
            Error::malformed(self.path, format!("{}: {msg}", self.where_))
        }
    }

    fn io(&self, e: std::io::Error) -> Error {
        match e.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                self.bad("truncated file: the data end before the array does".into())
            }
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput => {
                self.bad(format!("corrupt compressed data ({e})"))
            }
            _ => Error::Io {
                path: self.path.to_path_buf(),
                source: e,
            },
        }
    }

    fn limit(&self, what: &str, value: u64, limit: u64) -> Error {
        Error::Limit {
            path: self.path.to_path_buf(),
            what: if self.where_.is_empty() {
                what.to_string()
            } else {
                format!("{what} ({})", self.where_)
            },
            value,
            limit,
        }
    }
}

// ---------------------------------------------------------------------------
// Containers

/// The second pass: the values of a deferred array.
trait Fetch {
    fn fetch(&mut self, ctx: &mut Ctx<'_>, loc: &Loc, sink: &mut dyn FnMut(u64, f64))
        -> Result<()>;
}

struct V5Fetch<R> {
    src: R,
    len: u64,
    little: bool,
}

impl<R: Read + std::io::Seek> Fetch for V5Fetch<R> {
    fn fetch(
        &mut self,
        ctx: &mut Ctx<'_>,
        loc: &Loc,
        sink: &mut dyn FnMut(u64, f64),
    ) -> Result<()> {
        match loc {
            Loc::V5 { offset, path } => v5::fetch(
                ctx,
                &mut self.src,
                self.len,
                self.little,
                *offset,
                path,
                sink,
            ),
            Loc::H5(_) => Err(ctx.bad("an HDF5 array in a level 5 file".into())),
        }
    }
}

impl Fetch for v73::File73 {
    fn fetch(
        &mut self,
        ctx: &mut Ctx<'_>,
        loc: &Loc,
        sink: &mut dyn FnMut(u64, f64),
    ) -> Result<()> {
        match loc {
            Loc::H5(p) => v73::File73::fetch(self, ctx, p, sink),
            Loc::V5 { .. } => Err(ctx.bad("a level 5 array in an HDF5 file".into())),
        }
    }
}

const HDF5_MAGIC: &[u8] = b"\x89HDF\r\n\x1a\n";

/// What the first bytes say the file is.
enum Kind {
    V5 { little: bool },
    V73,
}

fn kind_of(path: &Path, head: &[u8]) -> Result<Kind> {
    if head.starts_with(HDF5_MAGIC) {
        return Ok(Kind::V73);
    }
    if head.len() < v5::HEADER as usize {
        return Err(Error::malformed(
            path,
            format!(
                "file too short for a MAT-file header ({} bytes, the header alone is 128)",
                head.len()
            ),
        ));
    }
    if head[124..126] == [0x00, 0x02] || head[124..126] == [0x02, 0x00] {
        return Ok(Kind::V73);
    }
    if let Some(little) = v5::endianness(head) {
        return Ok(Kind::V5 { little });
    }
    let why = if head.starts_with(b"MATLAB") {
        format!(
            "unknown MAT-file version field {:02x} {:02x} {:02x} {:02x} at byte 124",
            head[124], head[125], head[126], head[127]
        )
    } else {
        "no MAT-file level 5 or v7.3 header (a level 4 MAT-file, written by \
         MATLAB before version 5 or by save -v4, is not read: save it again with -v7 or -v7.3)"
            .into()
    };
    Err(Error::malformed(path, why))
}

/// Read a MATLAB file from disk (see the module documentation).
pub fn read_mat_file(path: &Path, opts: &ReadOptions) -> Result<Recording> {
    let file = crate::io::open_input(path)?;
    let io = |e: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let len = file.metadata().map_err(io)?.len();
    let mut head = Vec::with_capacity(v5::HEADER as usize);
    (&file)
        .take(v5::HEADER)
        .read_to_end(&mut head)
        .map_err(io)?;
    let mut ctx = Ctx {
        path,
        where_: String::new(),
        nodes: 0,
    };
    match kind_of(path, &head)? {
        Kind::V5 { little } => {
            let vars = v5::parse(&mut ctx, BufReader::new(&file), len, little)?;
            let mut f = V5Fetch {
                src: BufReader::with_capacity(1 << 16, &file),
                len,
                little,
            };
            assemble_recording(&mut ctx, SourceFormat::MatV5, len, &vars, &mut f, opts)
        }
        Kind::V73 => {
            let mut f = v73::open(&ctx, v73::Source::File(file), len)?;
            let vars = f.list(&mut ctx)?;
            assemble_recording(&mut ctx, SourceFormat::MatV73, len, &vars, &mut f, opts)
        }
    }
}

/// Read a MATLAB file from its bytes, as [`read_mat_file`] reads it from
/// disk (`path` names it in messages).
pub fn read_mat(path: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<Recording> {
    let len = bytes.len() as u64;
    let mut ctx = Ctx {
        path,
        where_: String::new(),
        nodes: 0,
    };
    if bytes.is_empty() {
        return Err(Error::malformed(path, "file is empty"));
    }
    let head = &bytes[..bytes.len().min(v5::HEADER as usize)];
    match kind_of(path, head)? {
        Kind::V5 { little } => {
            let vars = v5::parse(&mut ctx, Cursor::new(bytes), len, little)?;
            let mut f = V5Fetch {
                src: Cursor::new(bytes),
                len,
                little,
            };
            assemble_recording(&mut ctx, SourceFormat::MatV5, len, &vars, &mut f, opts)
        }
        Kind::V73 => {
            let mut f = v73::open(&ctx, v73::Source::Bytes(bytes), len)?;
            let vars = f.list(&mut ctx)?;
            assemble_recording(&mut ctx, SourceFormat::MatV73, len, &vars, &mut f, opts)
        }
    }
}

// ---------------------------------------------------------------------------
// Choosing the variables

const SIGNAL_NAMES: &[&str] = &[
    "emg", "data", "signal", "signals", "y", "values", "wave", "waveform", "trace", "traces",
    "sweeps",
];
const RATE_NAMES: &[&str] = &[
    "fs",
    "sample_rate",
    "samplerate",
    "sampling_rate",
    "srate",
    "sr",
    "rate_hz",
    "sample_rate_hz",
    "fsamp",
];
const INTERVAL_NAMES: &[&str] = &["interval", "dt", "sample_interval"];
const TIME_NAMES: &[&str] = &["t", "time", "times", "time_s", "timestamps", "tvec"];
const UNIT_NAMES: &[&str] = &["units", "unit"];
const LABEL_NAMES: &[&str] = &["labels", "channel_names", "chan_names", "names", "titles"];
const STIM_NAMES: &[&str] = &[
    "stimuli",
    "stimulus_times",
    "stim_times",
    "stimuli_s",
    "stim",
    "triggers",
    "trigger_times",
];

type Scope<'a> = Vec<(&'a str, &'a Value)>;

fn find<'a>(scope: &Scope<'a>, names: &[&str]) -> Option<(&'a str, &'a Value)> {
    names.iter().find_map(|n| {
        scope
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .copied()
    })
}

fn is_signal_name(n: &str) -> bool {
    let l = n.to_ascii_lowercase();
    SIGNAL_NAMES.contains(&l.as_str())
        || (l.starts_with("emg")
            && l[3..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// One signal variable and where its companions are sought.
struct Sig<'a> {
    name: String,
    num: &'a Num,
    /// The struct it sits in (Spike2's channel struct, `rec`), if any.
    scope: Option<Scope<'a>>,
    /// A Spike2 channel's title.
    title: Option<String>,
}

/// Resolve a dotted path: the value and the struct scope it sits in.
fn lookup<'a>(top: &Scope<'a>, path: &str) -> Option<(&'a Value, Option<Scope<'a>>)> {
    let mut parts = path.split('.');
    let first = parts.next()?;
    let (_, mut v) = top
        .iter()
        .find(|(k, _)| *k == first)
        .or_else(|| top.iter().find(|(k, _)| k.eq_ignore_ascii_case(first)))
        .copied()?;
    let mut scope = None;
    for p in parts {
        let fields = v.fields()?;
        let (_, next) = fields
            .iter()
            .find(|(k, _)| *k == p)
            .or_else(|| fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(p)))
            .copied()?;
        scope = Some(fields);
        v = next;
    }
    Some((v, scope))
}

/// The numeric variables (and 1 × 1 struct fields), for the message that
/// asks for `[mat] signal`.
fn numeric_listing(top: &Scope<'_>) -> String {
    let mut items: Vec<String> = Vec::new();
    for (name, v) in top {
        if let Some(n) = v.num() {
            items.push(format!("{name} ({})", n.describe()));
        } else if let Some(fields) = v.fields() {
            for (f, fv) in fields {
                if let Some(n) = fv.num() {
                    items.push(format!("{name}.{f} ({})", n.describe()));
                }
            }
        }
    }
    items.sort();
    if items.len() > 12 {
        let more = items.len() - 12;
        items.truncate(12);
        items.push(format!("and {more} more"));
    }
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

fn choose_signals<'a>(ctx: &Ctx<'_>, top: &Scope<'a>, hints: &MatHints) -> Result<Vec<Sig<'a>>> {
    if !hints.signal.is_empty() {
        return hints
            .signal
            .iter()
            .map(|p| {
                let (v, scope) = lookup(top, p).ok_or_else(|| {
                    Error::malformed(
                        ctx.path,
                        format!(
                            "[mat] signal = \"{p}\": no such variable; numeric variables: {}",
                            numeric_listing(top)
                        ),
                    )
                })?;
                let num = signal_num(ctx, p, v)?;
                Ok(Sig {
                    name: p.clone(),
                    num,
                    scope,
                    title: None,
                })
            })
            .collect();
    }
    // Top-level variables named as signals.
    let named: Vec<Sig<'a>> = top
        .iter()
        .filter(|(n, _)| is_signal_name(n))
        .filter_map(|(n, v)| {
            Some(Sig {
                name: n.to_string(),
                num: v.num()?,
                scope: None,
                title: None,
            })
        })
        .collect();
    if !named.is_empty() {
        return checked(ctx, named);
    }
    let spike2 = spike2_channels(top);
    if !spike2.is_empty() {
        return checked(ctx, spike2);
    }
    if let Some(found) = struct_signals(top) {
        return checked(ctx, found);
    }
    // A variable named as a signal that is no usable array says so.
    if let Some((n, v)) = top.iter().find(|(n, _)| is_signal_name(n)) {
        signal_num(ctx, n, v)?;
    }
    Err(Error::malformed(
        ctx.path,
        format!(
            "no variable is named as the signal: set [mat] signal = \"…\" in the sidecar; \
             numeric variables: {}",
            numeric_listing(top)
        ),
    ))
}

/// Spike2's export: a struct per channel with `values`, labelled by its
/// `title`.
fn spike2_channels<'a>(top: &Scope<'a>) -> Vec<Sig<'a>> {
    top.iter()
        .filter_map(|(n, v)| {
            let fields = v.fields()?;
            let (_, values) = find(&fields, &["values"])?;
            let num = values.num()?;
            let title = find(&fields, &["title"])
                .and_then(|(_, t)| t.text())
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            Some(Sig {
                name: format!("{n}.values"),
                num,
                scope: Some(fields),
                title,
            })
        })
        .collect()
}

/// The fields named as signals of the first top-level struct that has any.
fn struct_signals<'a>(top: &Scope<'a>) -> Option<Vec<Sig<'a>>> {
    top.iter().find_map(|(n, v)| {
        let fields = v.fields()?;
        let found: Vec<Sig<'a>> = fields
            .iter()
            .filter(|(f, _)| is_signal_name(f))
            .filter_map(|(f, fv)| {
                Some(Sig {
                    name: format!("{n}.{f}"),
                    num: fv.num()?,
                    scope: Some(fields.clone()),
                    title: None,
                })
            })
            .collect();
        (!found.is_empty()).then_some(found)
    })
}

/// The signals, once each is checked to be a usable array.
fn checked<'a>(ctx: &Ctx<'_>, sigs: Vec<Sig<'a>>) -> Result<Vec<Sig<'a>>> {
    for s in &sigs {
        check_num(ctx, &s.name, s.num)?;
    }
    Ok(sigs)
}

/// The numeric array a signal variable holds, or why it is none.
fn signal_num<'a>(ctx: &Ctx<'_>, name: &str, v: &'a Value) -> Result<&'a Num> {
    match v {
        Value::Num(n) => check_num(ctx, name, n).map(|()| n),
        other => Err(Error::malformed(
            ctx.path,
            format!(
                "variable {name} is {}, not numbers: name the signal with [mat] signal = \"…\"",
                match other.kind().as_str() {
                    "char" => "text (a char array)".to_string(),
                    k => format!("a {k}"),
                }
            ),
        )),
    }
}

/// A numeric array is a signal: real, not empty, a vector or a matrix.
fn check_num(ctx: &Ctx<'_>, name: &str, n: &Num) -> Result<()> {
    let why = if n.complex {
        format!(
            "variable {name} is complex ({}), not a signal",
            n.describe()
        )
    } else if n.count() == 0 {
        format!("variable {name} is empty ({})", n.describe())
    } else if n.matrix().is_none() {
        format!(
            "variable {name} has {} dimensions ({}); a signal is a vector or a matrix",
            n.dims.len(),
            n.describe()
        )
    } else {
        return Ok(());
    };
    Err(Error::malformed(ctx.path, why))
}

/// Look `names` up beside the signal, then at the top level.
fn companion<'a>(sig: &Sig<'a>, top: &Scope<'a>, names: &[&str]) -> Option<(String, &'a Value)> {
    if let Some(scope) = &sig.scope {
        if let Some((n, v)) = find(scope, names) {
            let prefix = sig.name.rsplit_once('.').map(|(p, _)| p).unwrap_or("");
            return Some((format!("{prefix}.{n}"), v));
        }
    }
    find(top, names).map(|(n, v)| (n.to_string(), v))
}

/// All values of a numeric array, at most `max` of them.
fn load(
    ctx: &mut Ctx<'_>,
    f: &mut dyn Fetch,
    file_len: u64,
    num: &Num,
    what: &str,
    max: u64,
) -> Result<Vec<f64>> {
    let n = num.count();
    if n > max {
        return Err(ctx.limit(what, n, max));
    }
    check_expansion(ctx, file_len, n, what)?;
    match &num.data {
        Data::Loaded(v) => Ok(v.clone()),
        Data::Deferred(loc) => {
            let mut v = Vec::with_capacity(n as usize);
            f.fetch(ctx, loc, &mut |_, x| v.push(x))?;
            Ok(v)
        }
    }
}

fn check_expansion(ctx: &Ctx<'_>, file_len: u64, n: u64, what: &str) -> Result<()> {
    if n > file_len.saturating_mul(MAX_EXPANSION) {
        return Err(Error::malformed(
            ctx.path,
            format!("{what} declares {n} elements, more than a file of {file_len} bytes can hold"),
        ));
    }
    Ok(())
}

/// What a time vector says: its first value, its rate, and where it
/// reaches 0.
struct TimeInfo {
    first: f64,
    rate_hz: f64,
    zero: usize,
}

fn time_info(ctx: &Ctx<'_>, name: &str, t: &[f64]) -> Result<TimeInfo> {
    let bad = |m: String| Error::malformed(ctx.path, format!("time vector {name}: {m}"));
    if t.len() < 2 {
        return Err(bad(format!("{} value(s), at least 2 needed", t.len())));
    }
    if t.iter().any(|v| !v.is_finite()) {
        return Err(bad("holds a value that is not a finite number".into()));
    }
    let n = t.len();
    let step = (t[n - 1] - t[0]) / (n - 1) as f64;
    if step <= 0.0 {
        return Err(bad(format!("does not rise ({} … {} s)", t[0], t[n - 1])));
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for w in t.windows(2) {
        let d = w[1] - w[0];
        lo = lo.min(d);
        hi = hi.max(d);
    }
    // Rounding of a single-precision time vector moves steps a little; a
    // gap or a repeat does not pass.
    if lo < 0.5 * step || hi > 1.5 * step {
        return Err(bad(format!(
            "is not regularly spaced (steps from {lo} to {hi} s): the reader needs one sample rate"
        )));
    }
    let zero = t.iter().position(|&v| v >= -0.5 * step).unwrap_or(0);
    Ok(TimeInfo {
        first: t[0],
        rate_hz: 1.0 / step,
        zero,
    })
}

/// The time vector beside the signal: its name, what it says, its length.
struct Time {
    name: String,
    info: TimeInfo,
    len: u64,
}

/// How the first signal variable's samples are laid out.
struct Shape {
    /// Samples per channel (per sweep, for sweeps).
    l: u64,
    /// Channels (or sweeps) of the first signal variable.
    k: u64,
    /// Whether the samples run down the rows (one column per channel).
    along_rows: bool,
    /// Whether that direction came from the longer-dimension rule alone.
    by_rule: bool,
    /// Whether the matrix is sweeps, laid end to end as one channel.
    sweeps: bool,
}

impl Shape {
    /// Samples of each channel of the recording.
    fn total(&self) -> u64 {
        if self.sweeps {
            self.l * self.k
        } else {
            self.l
        }
    }
}

/// One channel to be: its label, unit and kind, and which signal variable
/// (and which column or row of it) holds it.
struct Plan {
    label: String,
    unit: Option<String>,
    kind: ChannelKind,
    sig: usize,
    col: u64,
}

/// The channels to be, and which of them are decoded.
struct Layout {
    shape: Shape,
    plans: Vec<Plan>,
    wanted: Vec<bool>,
}

fn assemble_recording(
    ctx: &mut Ctx<'_>,
    format: SourceFormat,
    file_len: u64,
    vars: &[(String, Value)],
    f: &mut dyn Fetch,
    opts: &ReadOptions,
) -> Result<Recording> {
    let path = ctx.path;
    ctx.where_.clear();
    let hints = &opts.mat;
    check_hints(hints)?;
    let top: Scope<'_> = vars.iter().map(|(n, v)| (n.as_str(), v)).collect();
    // LabChart's export: one `data` row of every channel and block, which
    // the rules below would read as one channel.
    if hints.signal.is_empty() && labchart::detect(&top) {
        return labchart::recording(ctx, format, file_len, &top, f, opts);
    }
    let sigs = choose_signals(ctx, &top, hints)?;
    let first = &sigs[0];
    let time = find_time(ctx, f, file_len, &top, first, hints)?;
    let rate = find_rate(path, &top, first, time.as_ref(), opts)?;
    let shape = shape_of(first, sigs.len(), time.as_ref(), opts);
    let plans = plan_channels(path, &top, &sigs, &shape, opts)?;
    let wanted = wanted_channels(path, &plans, &opts.channels)?;
    let lay = Layout {
        shape,
        plans,
        wanted,
    };

    let mut samples: Vec<Vec<f32>> = vec![Vec::new(); lay.plans.len()];
    for (si, s) in sigs.iter().enumerate() {
        decode_signal(ctx, f, file_len, s, si, &lay, &mut samples)?;
    }
    let total = lay.shape.total() as usize;
    let channels = lay
        .plans
        .iter()
        .zip(samples)
        .enumerate()
        .map(|(i, (p, s))| {
            let unit = p.unit.clone().unwrap_or_default();
            if s.is_empty() {
                assemble::listed_channel(i, p.label.clone(), unit, p.kind, total, None)
            } else {
                assemble::channel(i, p.label.clone(), unit, p.kind, s)
            }
        })
        .collect();

    let mut notes: Vec<ReadNote> = unit_note(&lay.plans).into_iter().collect();
    let (segments, stimuli) = if lay.shape.sweeps {
        let (segs, st, note) = sweep_segments(path, first, time.as_ref(), hints, &lay.shape, rate)?;
        notes.push(note);
        (segs, Some(st))
    } else {
        if lay.shape.by_rule {
            notes.push(channels_note(first, &lay.shape));
        }
        let segs = vec![Segment {
            start: 0,
            len: total,
            start_s: 0.0,
        }];
        // The clock of the stimulus times: the time vector's, or Spike2's start.
        let t0 = match &time {
            Some(t) => t.info.first,
            None => companion(first, &top, &["start"])
                .and_then(|(_, v)| v.num().and_then(Num::scalar))
                .unwrap_or(0.0),
        };
        let st = stimulus_times(ctx, f, file_len, first, &top, hints, rate.hz(), t0)?
            .and_then(|times| assemble::stimuli_at_times(&times, &segs, rate.hz()));
        (segs, st)
    };
    let mut rec = assemble::recording(path, format, rate, channels, segments);
    rec.stimuli = stimuli;
    rec.notes = notes;
    Ok(rec)
}

/// The sidecar's numbers that no file can make sense of.
fn check_hints(hints: &MatHints) -> Result<()> {
    if let Some(d) = hints.time_dim {
        if d != 1 && d != 2 {
            return Err(Error::Usage(format!(
                "[mat] time_dim = {d}: 1 (samples down the rows) or 2 (along the columns)"
            )));
        }
    }
    if let Some(p) = hints.pre_stimulus_ms {
        if !(p.is_finite() && p >= 0.0) {
            return Err(Error::Usage(format!(
                "[mat] pre_stimulus_ms = {p}: a number of milliseconds, 0 or more"
            )));
        }
    }
    Ok(())
}

/// A numeric variable the sidecar names (`[mat] <key> = "<p>"`).
fn hinted_num<'a>(path: &Path, top: &Scope<'a>, key: &str, p: &str) -> Result<&'a Num> {
    let (v, _) = lookup(top, p).ok_or_else(|| {
        Error::malformed(path, format!("[mat] {key} = \"{p}\": no such variable"))
    })?;
    v.num().ok_or_else(|| {
        Error::malformed(
            path,
            format!("[mat] {key} = \"{p}\" is {}, not numbers", v.kind()),
        )
    })
}

/// The time vector: the sidecar's, or a vector named as one beside the
/// signal and as long as one of its dimensions; decoded and checked.
fn find_time(
    ctx: &mut Ctx<'_>,
    f: &mut dyn Fetch,
    file_len: u64,
    top: &Scope<'_>,
    first: &Sig<'_>,
    hints: &MatHints,
) -> Result<Option<Time>> {
    let var = match &hints.time {
        Some(p) => Some((p.clone(), hinted_num(ctx.path, top, "time", p)?)),
        None => companion(first, top, TIME_NAMES).and_then(|(n, v)| {
            let num = v.num()?;
            let (r, c) = first.num.matrix()?;
            (num.matrix().is_some_and(|(a, b)| a == 1 || b == 1)
                && (num.count() == r || num.count() == c)
                && num.count() >= 2)
                .then_some((n, num))
        }),
    };
    let Some((name, num)) = var else {
        return Ok(None);
    };
    let t = load(
        ctx,
        f,
        file_len,
        num,
        "values of the time vector",
        MAX_ELEMENTS,
    )?;
    let info = time_info(ctx, &name, &t)?;
    Ok(Some(Time {
        name,
        info,
        len: t.len() as u64,
    }))
}

/// The sample rate: a rate variable, an interval, the time vector, or
/// `--sample-rate`, in that order.
fn find_rate(
    path: &Path,
    top: &Scope<'_>,
    first: &Sig<'_>,
    time: Option<&Time>,
    opts: &ReadOptions,
) -> Result<SampleRate> {
    let scalar = |names: &[&str]| {
        companion(first, top, names)
            .and_then(|(n, v)| v.num().and_then(Num::scalar).map(|x| (n, x)))
    };
    let (hz, from) = if let Some((n, x)) = scalar(RATE_NAMES) {
        (x, format!("variable {n}"))
    } else if let Some((n, x)) = scalar(INTERVAL_NAMES) {
        (1.0 / x, format!("variable {n} (1/{x} s)"))
    } else if let Some(t) = time {
        (t.info.rate_hz, format!("time vector {}", t.name))
    } else if let Some(r) = opts.sample_rate {
        (r.hz(), "--sample-rate".into())
    } else {
        return Err(Error::malformed(
            path,
            format!(
                "no sample rate: {} has no fs, interval or time vector beside it; \
                 give --sample-rate (sidecar sample_rate_hz) or [mat] time = \"…\"",
                first.name
            ),
        ));
    };
    assemble::sample_rate(path, hz, &format!("{} ({from})", first.name))
}

/// Which way the first signal's samples run, and whether it is sweeps.
fn shape_of(first: &Sig<'_>, n_sigs: usize, time: Option<&Time>, opts: &ReadOptions) -> Shape {
    let hints = &opts.mat;
    let (rows, cols) = first.num.matrix().unwrap_or((first.num.count(), 1));
    let vector = rows == 1 || cols == 1;
    let along_rows = match hints.time_dim {
        Some(d) => d == 1,
        None if vector => cols == 1,
        None => match time {
            Some(t) if t.len == rows => true,
            Some(t) if t.len == cols => false,
            _ => rows >= cols,
        },
    };
    let (l, k) = if along_rows {
        (rows, cols)
    } else {
        (cols, rows)
    };
    let sweeps = !vector
        && n_sigs == 1
        && match opts.layout {
            CsvLayout::Sweeps => true,
            CsvLayout::Continuous => false,
            CsvLayout::Auto => {
                hints.pre_stimulus_ms.is_some() || time.is_some_and(|t| t.info.first < 0.0)
            }
        };
    Shape {
        l,
        k,
        along_rows,
        by_rule: !vector && hints.time_dim.is_none() && time.is_none(),
        sweeps,
    }
}

/// The channels: one for sweeps, else one per column (or row) of each
/// signal variable, labelled by a labels variable, a Spike2 title or the
/// variable's name.
fn plan_channels(
    path: &Path,
    top: &Scope<'_>,
    sigs: &[Sig<'_>],
    shape: &Shape,
    opts: &ReadOptions,
) -> Result<Vec<Plan>> {
    let unit_of = |sig: &Sig<'_>| -> Option<String> {
        if let Some(u) = opts.unit {
            return Some(u.label().to_string());
        }
        companion(sig, top, UNIT_NAMES).and_then(|(_, v)| v.text().map(str::to_string))
    };
    let plan = |label: String, unit: Option<String>, sig: usize, col: u64| Plan {
        kind: if assemble::is_trigger_label(&label) {
            ChannelKind::Trigger
        } else {
            ChannelKind::Signal
        },
        label,
        unit,
        sig,
        col,
    };
    let first = &sigs[0];
    if shape.sweeps {
        assemble::check_samples(path, "samples in the concatenated sweeps", shape.total())?;
        return Ok(vec![plan(first.name.clone(), unit_of(first), 0, 0)]);
    }
    assemble::check_samples(path, &format!("samples of {}", first.name), shape.l)?;
    let mut plans = Vec::new();
    for (si, s) in sigs.iter().enumerate() {
        let (r, c) = s.num.matrix().unwrap_or((s.num.count(), 1));
        let (sl, sk) = match (r == 1 || c == 1, shape.along_rows) {
            (true, _) => (r * c, 1),
            (false, true) => (r, c),
            (false, false) => (c, r),
        };
        if sl != shape.l {
            return Err(Error::malformed(
                path,
                format!(
                    "signal variables {} and {} differ in length ({} and {sl} samples)",
                    first.name, s.name, shape.l
                ),
            ));
        }
        assemble::check_channels(path, (plans.len() as u64).saturating_add(sk))?;
        let labels = (sk > 1)
            .then(|| companion(s, top, LABEL_NAMES))
            .flatten()
            .and_then(|(_, v)| v.texts())
            .filter(|t| t.len() as u64 == sk);
        let unit = unit_of(s);
        for c in 0..sk {
            let label = match (&labels, &s.title) {
                (Some(t), _) => t[c as usize].clone(),
                (None, Some(t)) if sk == 1 => t.clone(),
                (None, _) if sk == 1 => s.name.clone(),
                (None, _) if shape.along_rows => format!("{}(:,{})", s.name, c + 1),
                (None, _) => format!("{}({},:)", s.name, c + 1),
            };
            plans.push(plan(label, unit.clone(), si, c));
        }
    }
    Ok(plans)
}

/// Which channels are decoded: those the analysis asks for, and the
/// trigger channels.
fn wanted_channels(path: &Path, plans: &[Plan], channels: &ChannelFilter) -> Result<Vec<bool>> {
    let labels: Vec<&str> = plans.iter().map(|p| p.label.as_str()).collect();
    let default_emg = plans
        .iter()
        .position(|p| p.kind == ChannelKind::Signal)
        .unwrap_or(0);
    let (filter, _) = channels.resolve(path, &labels, default_emg)?;
    Ok(plans
        .iter()
        .enumerate()
        .map(|(i, p)| match &filter {
            ChannelFilter::Only(v) => v.contains(&i) || p.kind == ChannelKind::Trigger,
            _ => true,
        })
        .collect())
}

/// Decode the wanted channels of signal variable `si` into `samples`, in
/// millivolts (trigger channels raw).
fn decode_signal(
    ctx: &mut Ctx<'_>,
    f: &mut dyn Fetch,
    file_len: u64,
    s: &Sig<'_>,
    si: usize,
    lay: &Layout,
    samples: &mut [Vec<f32>],
) -> Result<()> {
    let plans = &lay.plans;
    let mine: Vec<usize> = (0..plans.len())
        .filter(|&i| plans[i].sig == si && lay.wanted[i])
        .collect();
    if mine.is_empty() {
        return Ok(());
    }
    check_expansion(
        ctx,
        file_len,
        s.num.count(),
        &format!("variable {}", s.name),
    )?;
    let total = lay.shape.total();
    let scale: Vec<f64> = mine
        .iter()
        .map(|&i| match (plans[i].kind, plans[i].unit.as_deref()) {
            (ChannelKind::Signal, Some(u)) => assemble::millivolts_per_unit(u).unwrap_or(1.0),
            _ => 1.0,
        })
        .collect();
    // Column (or row) of the matrix → which decoded buffer, if any.
    let cols_here = plans.iter().filter(|p| p.sig == si).count();
    let mut slot_of_col = vec![usize::MAX; cols_here];
    for (j, &i) in mine.iter().enumerate() {
        slot_of_col[plans[i].col as usize] = j;
    }
    // Sweeps stored one per row are transposed, so their buffer is laid
    // out (the count was checked against the file's size) and filled.
    let rows_are_sweeps = lay.shape.sweeps && !lay.shape.along_rows;
    let mut bufs: Vec<Vec<f32>> = if rows_are_sweeps {
        vec![vec![0.0; total as usize]]
    } else {
        mine.iter()
            .map(|_| Vec::with_capacity(total.min(1 << 22) as usize))
            .collect()
    };
    let (r, _) = s.num.matrix().unwrap_or((s.num.count(), 1));
    let vector = r == 1 || s.num.count() == r;
    let (l, along_rows) = (lay.shape.l, lay.shape.along_rows);
    let mut seen = 0u64;
    let mut put = |e: u64, x: f64| {
        seen += 1;
        if rows_are_sweeps {
            // Element e is sweep e % rows, sample e / rows of it.
            if let Some(v) = bufs[0].get_mut(((e % r) * l + e / r) as usize) {
                *v = (x * scale[0]) as f32;
            }
            return;
        }
        let c = match (vector || lay.shape.sweeps, along_rows) {
            (true, _) => 0,
            (false, true) => e / r,
            (false, false) => e % r,
        };
        if let Some(&j) = slot_of_col.get(c as usize).filter(|&&j| j != usize::MAX) {
            bufs[j].push((x * scale[j]) as f32);
        }
    };
    match &s.num.data {
        Data::Loaded(v) => v.iter().enumerate().for_each(|(e, &x)| put(e as u64, x)),
        Data::Deferred(loc) => {
            ctx.where_ = format!("variable {}", s.name);
            f.fetch(ctx, loc, &mut put)?;
            ctx.where_.clear();
        }
    }
    if seen != s.num.count() {
        return Err(Error::malformed(
            ctx.path,
            format!(
                "variable {}: {seen} of its {} values decoded",
                s.name,
                s.num.count()
            ),
        ));
    }
    for (&i, b) in mine.iter().zip(bufs) {
        check_decoded(ctx.path, &s.name, i, &plans[i], &b, total)?;
        samples[i] = b;
    }
    Ok(())
}

/// A decoded channel has all its samples, and a signal's are finite.
fn check_decoded(path: &Path, var: &str, i: usize, p: &Plan, b: &[f32], total: u64) -> Result<()> {
    if b.len() as u64 != total {
        return Err(Error::malformed(
            path,
            format!(
                "variable {var}: {} of {total} samples of channel {i} decoded",
                b.len()
            ),
        ));
    }
    if p.kind == ChannelKind::Signal {
        if let Some(bad) = b.iter().position(|v| !v.is_finite()) {
            return Err(Error::malformed(
                path,
                format!(
                    "variable {var}: sample {} of channel {i} (\"{}\") is not a finite number \
                     (NaN or beyond single precision)",
                    bad + 1,
                    p.label
                ),
            ));
        }
    }
    Ok(())
}

/// The `unit_assumed` note for signal channels that name no unit.
fn unit_note(plans: &[Plan]) -> Option<ReadNote> {
    let bare: Vec<&str> = plans
        .iter()
        .filter(|p| p.kind == ChannelKind::Signal && p.unit.is_none())
        .map(|p| p.label.as_str())
        .collect();
    let which = match bare.as_slice() {
        [] => return None,
        [one] => format!("channel \"{one}\""),
        more => format!("{} channels", more.len()),
    };
    Some(ReadNote::info(
        FlagCode::UnitAssumed,
        format!(
            "{which} read as mV: no unit is named (a units variable beside the signal, --unit or the sidecar's unit)"
        ),
    ))
}

/// The note that says a matrix was read as channels by the longer-dimension rule.
fn channels_note(first: &Sig<'_>, shape: &Shape) -> ReadNote {
    ReadNote::info(
        FlagCode::LayoutGuessed,
        format!(
            "{} ({}) read as {} channels of {} samples (samples along the longer dimension); \
             [mat] time_dim or layout = \"sweeps\" says otherwise",
            first.name,
            first.num.describe(),
            shape.k,
            shape.l
        ),
    )
}

/// Sweeps laid end to end, the stimulus at the same sample of each: where
/// the time vector reaches 0, `pre_stimulus_ms` in, or the first sample.
fn sweep_segments(
    path: &Path,
    first: &Sig<'_>,
    time: Option<&Time>,
    hints: &MatHints,
    shape: &Shape,
    rate: SampleRate,
) -> Result<(Vec<Segment>, KnownStimuli, ReadNote)> {
    let (l, k) = (shape.l, shape.k);
    let (i0, why) = match (time, hints.pre_stimulus_ms) {
        (Some(t), _) => (
            t.info.zero as u64,
            format!("where time vector {} reaches 0", t.name),
        ),
        (None, Some(ms)) => (
            (ms * 1e-3 * rate.hz()).round() as u64,
            format!("[mat] pre_stimulus_ms = {ms}"),
        ),
        (None, None) => (0, "layout = \"sweeps\"".into()),
    };
    if i0 >= l {
        return Err(Error::malformed(
            path,
            format!("the stimulus (sample {i0} of each sweep) is beyond the sweeps' {l} samples"),
        ));
    }
    let (segs, st) = assemble::sweeps(path, k as usize, l as usize, i0 as usize, rate, None)?;
    let note = ReadNote::info(
        FlagCode::LayoutGuessed,
        format!(
            "{} ({}) read as {k} sweeps of {l} samples, the stimulus at sample {i0} of each ({why}); \
             layout = \"continuous\" reads it as channels",
            first.name,
            first.num.describe(),
        ),
    );
    Ok((segs, st, note))
}

/// The stimulus times from the recording's start, seconds, if a variable
/// gives them.
#[allow(clippy::too_many_arguments)]
fn stimulus_times(
    ctx: &mut Ctx<'_>,
    f: &mut dyn Fetch,
    file_len: u64,
    first: &Sig<'_>,
    top: &Scope<'_>,
    hints: &MatHints,
    rate_hz: f64,
    t0: f64,
) -> Result<Option<Vec<f64>>> {
    let found: Option<(String, &Num)> = match &hints.stimuli {
        Some(p) => {
            let (v, _) = lookup(top, p).ok_or_else(|| {
                Error::malformed(
                    ctx.path,
                    format!("[mat] stimuli = \"{p}\": no such variable"),
                )
            })?;
            let n = v.num().ok_or_else(|| {
                Error::malformed(
                    ctx.path,
                    format!("[mat] stimuli = \"{p}\" is {}, not numbers", v.kind()),
                )
            })?;
            Some((p.clone(), n))
        }
        None => companion(first, top, STIM_NAMES)
            .and_then(|(n, v)| v.num().map(|num| (n, num)))
            .or_else(|| {
                // A Spike2 event channel whose title (or name) names a trigger.
                top.iter().find_map(|(n, v)| {
                    let fields = v.fields()?;
                    if find(&fields, &["values"]).is_some() {
                        return None;
                    }
                    let (_, times) = find(&fields, &["times"])?;
                    let title = find(&fields, &["title"]).and_then(|(_, t)| t.text());
                    let named = title.is_some_and(assemble::is_trigger_label)
                        || assemble::is_trigger_label(n);
                    named.then(|| times.num().map(|num| (format!("{n}.times"), num)))?
                })
            }),
    };
    let Some((name, num)) = found else {
        return Ok(None);
    };
    if num.complex {
        return Err(Error::malformed(
            ctx.path,
            format!("stimuli variable {name} is complex"),
        ));
    }
    let v = load(
        ctx,
        f,
        file_len,
        num,
        &format!("stimulus times ({name})"),
        MAX_STIMULI,
    )?;
    let times = match hints.stimuli_in {
        Some(StimuliUnit::Samples) => v.iter().map(|&i| (i - 1.0) / rate_hz).collect(),
        _ => v.iter().map(|&t| t - t0).collect(),
    };
    Ok(Some(times))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::StimulusOrigin;
    use std::path::PathBuf;

    fn p() -> PathBuf {
        PathBuf::from("t.mat")
    }

    /// A level 5 element: tag and padded data.
    fn el(kind: u32, data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(kind.to_le_bytes());
        v.extend((data.len() as u32).to_le_bytes());
        v.extend(data);
        while v.len() % 8 != 0 {
            v.push(0);
        }
        v
    }

    fn header() -> Vec<u8> {
        let mut h = b"MATLAB 5.0 MAT-file, unit test".to_vec();
        h.resize(116, b' ');
        h.extend([0u8; 8]);
        h.extend([0x00, 0x01, b'I', b'M']);
        h
    }

    /// A level 5 array: class `class` (6 double, 4 char), `dims`, `name`,
    /// and its data element of type `data_type` (9 double, 4 UTF-16).
    fn matrix(class: u8, name: &str, dims: &[i32], data_type: u32, data: &[u8]) -> Vec<u8> {
        let mut body = el(6, &[class, 0, 0, 0, 0, 0, 0, 0]);
        let dims: Vec<u8> = dims.iter().flat_map(|d| d.to_le_bytes()).collect();
        body.extend(el(5, &dims));
        body.extend(el(1, name.as_bytes()));
        body.extend(el(data_type, data));
        el(14, &body)
    }

    fn double_matrix(name: &str, dims: &[i32], values: &[f64]) -> Vec<u8> {
        let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        matrix(6, name, dims, 9, &data)
    }

    fn char_matrix(name: &str, text: &str) -> Vec<u8> {
        char_rows_matrix(name, &[text])
    }

    /// A char matrix of `rows` (padded with blanks to one width), its
    /// UTF-16 units stored column by column.
    fn char_rows_matrix(name: &str, rows: &[&str]) -> Vec<u8> {
        let units: Vec<Vec<u16>> = rows.iter().map(|r| r.encode_utf16().collect()).collect();
        let w = units.iter().map(Vec::len).max().unwrap_or(0);
        let mut data = Vec::new();
        for j in 0..w {
            for r in &units {
                data.extend(r.get(j).copied().unwrap_or(u16::from(b' ')).to_le_bytes());
            }
        }
        matrix(4, name, &[rows.len() as i32, w as i32], 4, &data)
    }

    /// A LabChart export of two channels (`EMG` in `unit`, and `second`)
    /// over two blocks of 3000 samples at 10 kHz, the second block 5 s
    /// after the first; the comments `(block, tick, text)`.
    fn labchart_vars(
        unit: &str,
        second: &str,
        rates: [f64; 4],
        comments: &[(f64, f64, &str)],
    ) -> Vec<Vec<u8>> {
        let n = 3000usize;
        let mut data = Vec::new();
        let mut starts = Vec::new();
        let mut ends = Vec::new();
        for b in 0..2 {
            for c in 0..2 {
                starts.push((data.len() + 1) as f64);
                data.extend((0..n).map(|i| if c == 0 { signal(n)[i] + b as f64 } else { 0.0 }));
                ends.push(data.len() as f64);
            }
        }
        let mut com = Vec::new();
        for col in 0..5 {
            for (k, (b, t, _)) in comments.iter().enumerate() {
                com.push([-1.0, *b, *t, 1.0, (k + 1) as f64][col]);
            }
        }
        let texts: Vec<&str> = comments.iter().map(|c| c.2).collect();
        let mut vars = vec![
            double_matrix("data", &[1, data.len() as i32], &data),
            double_matrix("datastart", &[2, 2], &starts),
            double_matrix("dataend", &[2, 2], &ends),
            double_matrix("samplerate", &[2, 2], &rates),
            char_rows_matrix("titles", &["EMG", second]),
            char_rows_matrix("unittext", &[unit, "V"]),
            double_matrix("unittextmap", &[2, 2], &[1.0, 2.0, 1.0, 2.0]),
            double_matrix(
                "blocktimes",
                &[1, 2],
                &[739_000.0, 739_000.0 + 5.0 / 86_400.0],
            ),
            double_matrix("tickrate", &[1, 2], &[10_000.0, 10_000.0]),
        ];
        if !comments.is_empty() {
            vars.push(double_matrix("com", &[comments.len() as i32, 5], &com));
            vars.push(char_rows_matrix("comtext", &texts));
        }
        vars
    }

    fn labchart_file(
        unit: &str,
        second: &str,
        rates: [f64; 4],
        comments: &[(f64, f64, &str)],
    ) -> Vec<u8> {
        file(&labchart_vars(unit, second, rates, comments))
    }

    fn file(vars: &[Vec<u8>]) -> Vec<u8> {
        let mut f = header();
        for v in vars {
            f.extend(v);
        }
        f
    }

    fn signal(n: usize) -> Vec<f64> {
        (0..n).map(|i| (i as f64 * 0.01).sin()).collect()
    }

    #[test]
    fn a_named_vector_with_fs_and_units() {
        let x = signal(3000);
        let bytes = file(&[
            double_matrix("emg", &[1, 3000], &x),
            double_matrix("fs", &[1, 1], &[5000.0]),
            char_matrix("units", "uV"),
        ]);
        let rec = read_mat(&p(), &bytes, &ReadOptions::default()).unwrap();
        assert_eq!(rec.format, SourceFormat::MatV5);
        assert_eq!(rec.sample_rate.hz(), 5000.0);
        assert_eq!(rec.channels.len(), 1);
        assert_eq!(rec.channels[0].label, "emg");
        assert_eq!(rec.channels[0].unit, "uV");
        assert!((f64::from(rec.channels[0].samples[100]) - x[100] * 1e-3).abs() < 1e-9);
        assert!(rec.notes.is_empty(), "{:?}", rec.notes);
    }

    #[test]
    fn compressed_variables_read_as_the_plain_ones() {
        use std::io::Write;
        let x = signal(2000);
        let m = double_matrix("data", &[2000, 1], &x);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&m).unwrap();
        let z = z.finish().unwrap();
        let mut comp = 15u32.to_le_bytes().to_vec();
        comp.extend((z.len() as u32).to_le_bytes());
        comp.extend(&z);
        let fs = double_matrix("fs", &[1, 1], &[10_000.0]);
        let a = read_mat(&p(), &file(&[comp, fs.clone()]), &ReadOptions::default()).unwrap();
        let b = read_mat(&p(), &file(&[m, fs]), &ReadOptions::default()).unwrap();
        assert_eq!(a.channels[0].samples, b.channels[0].samples);
        // No unit: read as mV, and said so.
        assert_eq!(a.notes[0].code, FlagCode::UnitAssumed);
    }

    #[test]
    fn a_matrix_with_a_negative_time_vector_is_sweeps() {
        let (l, k) = (200usize, 3usize);
        let x: Vec<f64> = (0..l * k).map(|i| i as f64).collect();
        let t: Vec<f64> = (0..l).map(|i| (i as f64 - 20.0) / 10_000.0).collect();
        let bytes = file(&[
            double_matrix("data", &[l as i32, k as i32], &x),
            double_matrix("t", &[1, l as i32], &t),
        ]);
        let rec = read_mat(&p(), &bytes, &ReadOptions::default()).unwrap();
        assert_eq!(rec.sample_rate.hz().round(), 10_000.0);
        assert_eq!(rec.segments.len(), 3);
        let st = rec.stimuli.unwrap();
        assert_eq!(st.origin, StimulusOrigin::Sweeps);
        assert_eq!(st.samples, vec![20, 220, 420]);
        assert_eq!(rec.channels[0].samples[250], 250.0);
    }

    #[test]
    fn columns_are_channels_and_stimuli_are_events() {
        let n = 4000usize;
        let mut x = signal(2 * n);
        x[n..].iter_mut().for_each(|v| *v *= 2.0);
        let bytes = file(&[
            double_matrix("data", &[n as i32, 2], &x),
            double_matrix("fs", &[1, 1], &[10_000.0]),
            double_matrix("stimuli", &[1, 2], &[0.1, 0.25]),
        ]);
        let opts = ReadOptions {
            channels: ChannelFilter::Select {
                emg: Some(crate::recording::ChannelSel::Index(1)),
                others: vec![],
            },
            ..ReadOptions::default()
        };
        let rec = read_mat(&p(), &bytes, &opts).unwrap();
        assert_eq!(rec.channels.len(), 2);
        assert_eq!(rec.channels[1].label, "data(:,2)");
        assert!(rec.channels[0].samples.is_empty());
        assert_eq!(rec.channels[1].samples[5], (x[n + 5]) as f32);
        let st = rec.stimuli.unwrap();
        assert_eq!(st.origin, StimulusOrigin::Events);
        assert_eq!(st.samples, vec![1000, 2500]);
        assert!(rec.notes.iter().any(|n| n.code == FlagCode::LayoutGuessed));
    }

    #[test]
    fn unsettled_names_ask_for_the_sidecar() {
        let bytes = file(&[
            double_matrix("foo", &[1, 100], &signal(100)),
            double_matrix("fs", &[1, 1], &[10_000.0]),
        ]);
        let e = read_mat(&p(), &bytes, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("set [mat] signal = \"…\" in the sidecar"), "{e}");
        assert!(e.contains("foo (1×100 double), fs (1×1 double)"), "{e}");
        let opts = ReadOptions {
            mat: MatHints {
                signal: vec!["foo".into()],
                ..MatHints::default()
            },
            ..ReadOptions::default()
        };
        let rec = read_mat(&p(), &bytes, &opts).unwrap();
        assert_eq!(rec.channels[0].len, 100);
    }

    #[test]
    fn hostile_sizes_are_refused_before_allocation() {
        // Dimensions of 2^31 - 1 squared with 8 bytes of data.
        let bytes = file(&[double_matrix("emg", &[i32::MAX, i32::MAX], &[0.0])]);
        let e = read_mat(&p(), &bytes, &ReadOptions::default()).unwrap_err();
        assert!(matches!(e, Error::Limit { .. }), "{e}");
        // Data that do not match the dimensions.
        let bytes = file(&[double_matrix("emg", &[1, 1000], &[0.0; 3])]);
        let e = read_mat(&p(), &bytes, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected 8000"), "{e}");
        // Cut anywhere: an error, never a panic.
        let good = file(&[
            double_matrix("emg", &[1, 300], &signal(300)),
            double_matrix("fs", &[1, 1], &[10_000.0]),
        ]);
        for cut in 0..good.len() {
            let _ = read_mat(&p(), &good[..cut], &ReadOptions::default());
        }
        // Text where the signal should be.
        let bytes = file(&[char_matrix("emg", "abc")]);
        let e = read_mat(&p(), &bytes, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("variable emg is text (a char array), not numbers"),
            "{e}"
        );
    }

    #[test]
    fn hints_parse_from_toml() {
        let h: MatHints =
            toml::from_str("signal = \"rec.emg\"\nstimuli_in = \"samples\"\n").unwrap();
        assert_eq!(h.signal, vec!["rec.emg".to_string()]);
        assert_eq!(h.stimuli_in, Some(StimuliUnit::Samples));
        let h: MatHints = toml::from_str("signal = [\"a\", \"b\"]\ntime_dim = 2\n").unwrap();
        assert_eq!(h.signal.len(), 2);
        assert!(toml::from_str::<MatHints>("sigal = \"a\"\n").is_err());
    }

    #[test]
    fn char_matrices_are_read_by_rows() {
        let chars: Vec<char> = "ACBD".chars().collect();
        assert_eq!(char_rows(&chars, &[2, 2]), vec!["AB", "CD"]);
        assert_eq!(char_rows(&chars, &[1, 4]), vec!["ACBD"]);
    }

    #[test]
    fn a_labchart_export_is_read_by_block_channel_and_comment() {
        let bytes = labchart_file(
            "uV",
            "Trig",
            [10_000.0; 4],
            &[(1.0, 100.0, "baseline"), (2.0, 2500.0, "post exercise")],
        );
        let rec = read_mat(&p(), &bytes, &ReadOptions::default()).unwrap();
        assert_eq!(rec.sample_rate.hz(), 10_000.0);
        assert_eq!(rec.channels.len(), 2);
        assert_eq!(rec.channels[0].label, "EMG");
        assert_eq!(rec.channels[0].unit, "uV");
        assert_eq!(rec.channels[1].kind, ChannelKind::Trigger);
        let seg: Vec<(usize, usize, f64)> = rec
            .segments
            .iter()
            .map(|s| (s.start, s.len, s.start_s))
            .collect();
        assert_eq!(seg.len(), 2);
        assert_eq!(
            (seg[0].0, seg[0].1, seg[1].0, seg[1].1),
            (0, 3000, 3000, 3000)
        );
        assert!((seg[1].2 - 5.0).abs() < 1e-4, "{seg:?}");
        // µV to mV; block 2 is the signal + 1.
        let x = &rec.channels[0].samples;
        assert!((f64::from(x[10]) - signal(3000)[10] * 1e-3).abs() < 1e-9);
        assert!((f64::from(x[3010]) - (signal(3000)[10] + 1.0) * 1e-3).abs() < 1e-9);
        let a: Vec<(f64, &str)> = rec
            .annotations
            .iter()
            .map(|a| (a.onset_s, a.text.as_str()))
            .collect();
        assert!(
            (a[0].0 - 0.01).abs() < 1e-9 && a[0].1 == "baseline",
            "{a:?}"
        );
        assert!(
            (a[1].0 - 5.25).abs() < 1e-4 && a[1].1 == "post exercise",
            "{a:?}"
        );
        // A trigger channel: its edges, not the comments, give the stimuli.
        assert!(rec.stimuli.is_none());
        assert!(rec
            .metadata
            .iter()
            .any(|m| m.value == "LabChart MATLAB export"));
    }

    #[test]
    fn labchart_stimulus_comments_are_the_stimuli_without_a_trigger_channel() {
        let bytes = labchart_file(
            "mV",
            "Force",
            [10_000.0; 4],
            &[(1.0, 500.0, "stim"), (2.0, 700.0, "Stim")],
        );
        let rec = read_mat(&p(), &bytes, &ReadOptions::default()).unwrap();
        let st = rec.stimuli.unwrap();
        assert_eq!(st.samples, vec![500, 3700]);
        assert_eq!(st.origin, StimulusOrigin::Annotations);
    }

    #[test]
    fn labchart_layout_errors_name_the_problem() {
        let err = |b: Vec<u8>| {
            read_mat(&p(), &b, &ReadOptions::default())
                .unwrap_err()
                .to_string()
        };
        let e = err(labchart_file(
            "mV",
            "Force",
            [10_000.0, 10_000.0, 5_000.0, 10_000.0],
            &[],
        ));
        assert!(
            e.contains("10000 Hz in block 1 and 5000 Hz in block 2"),
            "{e}"
        );
        // A second channel without a title.
        let bytes = file(&[
            double_matrix("data", &[1, 4], &[1.0, 2.0, 3.0, 4.0]),
            double_matrix("datastart", &[2, 1], &[1.0, 3.0]),
            double_matrix("dataend", &[2, 1], &[2.0, 4.0]),
            double_matrix("samplerate", &[2, 1], &[10_000.0, 10_000.0]),
            char_rows_matrix("titles", &["EMG"]),
        ]);
        let e = err(bytes);
        assert!(e.contains("titles has 1 row(s) for 2 channel(s)"), "{e}");
        let bytes = file(&[
            double_matrix("data", &[1, 4], &[1.0, 2.0, 3.0, 4.0]),
            double_matrix("datastart", &[1, 1], &[2.0]),
            double_matrix("dataend", &[1, 1], &[9.0]),
            double_matrix("samplerate", &[1, 1], &[10_000.0]),
            char_rows_matrix("titles", &["EMG"]),
        ]);
        let e = err(bytes);
        assert!(
            e.contains("datastart 2, dataend 9 lie outside data (4 values)"),
            "{e}"
        );
    }

    #[test]
    fn labchart_units_and_comments_must_fit_their_layout() {
        let err = |vars: &[Vec<u8>]| {
            read_mat(&p(), &file(vars), &ReadOptions::default())
                .unwrap_err()
                .to_string()
        };
        // The EMG channel in mV in block 1, in V in block 2.
        let mut vars = labchart_vars("mV", "Force", [10_000.0; 4], &[]);
        vars[6] = double_matrix("unittextmap", &[2, 2], &[1.0, 2.0, 2.0, 2.0]);
        let e = err(&vars);
        assert!(
            e.contains("channel 0 is in \"mV\" in block 1 and \"V\" in block 2"),
            "{e}"
        );
        // Comments as a 5 × 2 matrix (transposed).
        let mut vars = labchart_vars(
            "mV",
            "Force",
            [10_000.0; 4],
            &[(1.0, 5.0, "a"), (2.0, 7.0, "b")],
        );
        let com = vars.len() - 2;
        vars[com] = double_matrix(
            "com",
            &[5, 2],
            &[-1.0, 1.0, 5.0, 1.0, 1.0, -1.0, 2.0, 7.0, 1.0, 2.0],
        );
        let e = err(&vars);
        assert!(
            e.contains("com is 5×2 where comments × 5 is expected"),
            "{e}"
        );
        // A tick rate per block of the wrong length.
        let mut vars = labchart_vars("mV", "Force", [10_000.0; 4], &[]);
        vars[8] = double_matrix("tickrate", &[1, 3], &[1.0, 2.0, 3.0]);
        let e = err(&vars);
        assert!(
            e.contains("tickrate holds 3 value(s) for 2 block(s)"),
            "{e}"
        );
        // A channel in no voltage unit says so.
        let rec = read_mat(
            &p(),
            &labchart_file("mmHg", "Force", [10_000.0; 4], &[]),
            &ReadOptions::default(),
        )
        .unwrap();
        assert!(
            rec.notes
                .iter()
                .any(|n| n.code == FlagCode::UnitAssumed
                    && n.message.contains("\"mmHg\", no voltage"))
        );
    }

    #[test]
    fn a_struct_array_without_fields_is_read_at_once_whatever_its_dims() {
        // A 1 × 1 double, then a struct of (2^31 − 1) × (2^31 − 1) elements
        // and no field names: nothing to read, and no loop over them.
        let mut body = el(6, &[2, 0, 0, 0, 0, 0, 0, 0]);
        body.extend(el(
            5,
            &[i32::MAX, i32::MAX]
                .iter()
                .flat_map(|d| d.to_le_bytes())
                .collect::<Vec<u8>>(),
        ));
        body.extend(el(1, b"s"));
        body.extend(el(5, &8i32.to_le_bytes())); // field names of 8 bytes…
        body.extend(el(1, b"")); // …and none of them
        let emg = double_matrix("emg", &[1, 4], &[1.0, 2.0, 3.0, 4.0]);
        let bytes = file(&[el(14, &body), emg]);
        let start = std::time::Instant::now();
        let _ = read_mat(&p(), &bytes, &ReadOptions::default());
        assert!(start.elapsed().as_secs() < 5);
    }
}
