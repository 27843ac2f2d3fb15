//! ADInstruments LabChart binary files (`.adicht`, LabChart for Windows and
//! LabChart 8).
//!
//! Overview: an `.adicht` file is an "ADInstruments Compound File": a
//! 512-byte header (the magic in UTF-16LE, the format version, the cluster
//! size, the first cluster of the cluster map, the root directory entry),
//! then fixed-size clusters. The cluster map (pairs of `next`/`prev` cluster
//! numbers) chains the clusters of each stream; directory tables (160-byte
//! entries: name, first cluster, size, type) name the streams. Two streams
//! hold the recording: `Map` (the "ADInstruments Chart Data" document: the
//! records — LabChart's *blocks* — with their tick rate, start time, 16000-tick
//! blocks and comments, and per record one entry per channel with its data
//! type, units object and an index of its sub-blocks) and `Blocks_0` (the
//! sample data: one sub-block per block and channel, PackBits-compressed bit
//! planes of the sample-to-sample differences, or raw samples). All
//! integers are little-endian.
//!
//! The layout followed is the public reverse-engineered description in
//! `docs/FORMAT.md` of adichtion 1.0.0 (Emil Ingerslev Walsted), checked
//! there against LabChart's own exports of 13 real files (format versions 26
//! and 29). Nothing here comes from ADInstruments.
//!
//! # Reading
//!
//! - **Values**: int16 channels (ADC counts) and float32 channels
//!   (calculated channels) are decoded sample-exact; a stored number `x`
//!   becomes `slope × (LSB × x) + offset` in the units name when the
//!   channel's units conversion is on, else `LSB × x` in its input units
//!   (`V` for an ADC channel). Voltages are converted to millivolts; other
//!   units are kept as they are. A calculated channel without a conversion
//!   has no input units in the file and is listed without a unit (its
//!   scale is its source's). Each block's decoded minimum and maximum of an
//!   int16 channel must equal the ones the block index stores.
//! - **Records → segments**: every record is one [`Segment`], placed at its
//!   start time (seconds since 1970) minus the first record's, or directly
//!   after the previous record when that would overlap it. The recording's
//!   rate is the EMG channel's (the tick rate); every record must sample it
//!   at the same rate.
//! - **Comments → annotations**: each comment becomes an [`Annotation`] at
//!   its tick, so `stim`, `exercise`, `baseline`… comments give stimuli
//!   ([`assemble::stimuli_from_annotations`]) and train roles. A comment on
//!   one channel is kept like one on all channels.
//! - **Channels**: titles from the titles table; a title naming a trigger
//!   ([`assemble::is_trigger_label`]) makes a trigger channel (physical
//!   values, not millivolts). Only the EMG channel and trigger channels are
//!   decoded unless the channel filter asks for more; a channel stored at a
//!   rate other than the EMG channel's is listed with its own rate.
//! - **Limits**: the `Map` stream may hold [`MAX_MAP_BYTES`], at most
//!   [`MAX_COMMENTS`] comments and [`MAX_CHANNELS`](crate::io::MAX_CHANNELS)
//!   channels; every cluster, stream, sub-block and declared count is
//!   checked against the file's length, and the samples a channel declares
//!   against [`MAX_SAMPLES_PER_CHANNEL`](crate::io::MAX_SAMPLES_PER_CHANNEL)
//!   and what its compressed data could hold, before anything is allocated.
//! - [`describe_adicht_file`] reads a file whose tick rate is below the
//!   accepted range (LabChart's default 1 kHz) for `rns inspect`, with
//!   [`Recording::not_analysable`] saying why.
//!
//! # Not read
//!
//! What the public description marks as unknown, or what no independent
//! writer could produce to test against, is left out: the video module
//! (`ChildDocuments/ADIStdPart*`, the movies are separate files anyway),
//! calculated-channel definitions (not stored in the file), the settings
//! streams, the `ChannelDataSource` XML (skipped), LabChart for Mac
//! documents (a different, big-endian format: refused as not LabChart
//! compound files) and an EMG channel sampled below the tick rate (never
//! seen in a file; refused as unsupported).

use crate::error::{excerpt_str, Error, Result};
use crate::io::assemble::{self, ReadAt};
use crate::io::{open_input_len, ReadOptions};
use crate::recording::{Annotation, ChannelKind, MetadataEntry, Recording, Segment, SourceFormat};
use crate::units::{SampleRate, Shown};
use std::collections::HashMap;
use std::path::Path;

/// The most bytes the `Map` stream may hold (a ten-hour, 32-channel
/// recording's index takes a few megabytes).
pub const MAX_MAP_BYTES: u64 = 64 << 20;
/// The most comments a file may hold.
pub const MAX_COMMENTS: usize = 100_000;

/// The most bytes of the root storage's table (real ones fit one cluster).
const MAX_TABLE_BYTES: i64 = 1 << 20;
/// The header: magic, version, sizes, cluster map, root entry.
const HEADER: usize = 512;
/// A directory entry.
const ENTRY: usize = 160;
/// The magic, `"ADInstruments Compound File"` in UTF-16LE.
const MAGIC: &str = "ADInstruments Compound File";
/// The start of the `Blocks_0` stream.
const BLOCKS_MAGIC: [u8; 4] = [0x55, 0x55, 0x03, 0xaa];
/// The tag before a prefixed string.
const TAGGED: u32 = 0x8000_0001;
/// The high bit of an object slot: a new object follows.
const NEW_OBJECT: u32 = 0x8000_0000;
/// The tag that opens a channel entry.
const CHANNEL_ENTRY: u32 = 0x801B_0000;
/// Data type tags: int16 and float32 samples.
const INT16: u32 = 0x8002_0001;
const FLOAT32: u32 = 0x8002_0003;
/// Bit 16 of a units object's flags: the conversion is on.
const CONVERSION_ON: i32 = 0x1_0000;
/// The most ticks one block may span (comments address them in 16 bits).
const MAX_BLOCK_TICKS: u64 = 1 << 16;
/// Samples one byte of PackBits data can expand to, at most: a two-byte
/// run makes 129 bytes (over 1000 bits), an int16 sample takes 17 bits.
const SAMPLES_PER_PACKED_BYTE: u64 = 32;

/// Whether a file's first bytes are a LabChart compound file's.
pub fn sniff(head: &[u8]) -> bool {
    let magic: Vec<u8> = MAGIC.encode_utf16().flat_map(u16::to_le_bytes).collect();
    head.starts_with(&magic)
}

/// Read a LabChart file.
///
/// Errors: a malformed container, `Map` or `Blocks_0` stream, a rate outside
/// the accepted range; all exit 3.
pub fn read_adicht_file(path: &Path, opts: &ReadOptions) -> Result<Recording> {
    let (mut file, len) = open_input_len(path)?;
    read_from(path, &mut file, len, opts, false)
}

/// [`read_adicht_file`] for `rns inspect`: a file whose EMG channel is
/// sampled outside the accepted range is read at that rate, with
/// [`Recording::not_analysable`] saying why.
pub fn describe_adicht_file(path: &Path, opts: &ReadOptions) -> Result<Recording> {
    let (mut file, len) = open_input_len(path)?;
    read_from(path, &mut file, len, opts, true)
}

/// Read a LabChart file from its bytes (the fuzz target's way in).
pub fn read_adicht(path: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<Recording> {
    let mut src = bytes;
    read_from(path, &mut src, bytes.len() as u64, opts, false)
}

fn le_i32(b: &[u8], i: usize) -> i32 {
    i32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn le_i64(b: &[u8], i: usize) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[i..i + 8]);
    i64::from_le_bytes(a)
}

/// UTF-16LE text up to its first NUL.
fn utf16(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

// ---------------------------------------------------------------------------
// The compound-file container

/// A stream: its clusters in chain order and its size in bytes.
#[derive(Debug, Clone)]
struct Stream {
    clusters: Vec<u64>,
    size: u64,
}

/// A directory entry.
#[derive(Debug, Clone)]
struct DirEntry {
    name: String,
    first: i64,
    size: i64,
    kind: i32,
}

/// The container: where its clusters and its cluster map lie.
struct Container<'a, S> {
    path: &'a Path,
    src: &'a mut S,
    file_len: u64,
    cluster: u64,
    /// File offset of the cluster map's first page (entry 0).
    map_at: u64,
    /// The last page of the cluster map read: (file offset, bytes).
    page: (u64, Vec<u8>),
}

impl<S: ReadAt> Container<'_, S> {
    fn bad(&self, why: impl Into<String>) -> Error {
        Error::malformed(self.path, why)
    }

    /// File offset of cluster `c` and the bytes of it inside the file.
    fn cluster_at(&self, c: u64, what: &str) -> Result<u64> {
        let at = c
            .checked_sub(2)
            .and_then(|k| k.checked_mul(self.cluster))
            .and_then(|o| o.checked_add(HEADER as u64))
            .filter(|&o| o < self.file_len)
            .ok_or_else(|| {
                self.bad(format!(
                    "{what}: cluster {c} lies outside the {}-byte file",
                    self.file_len
                ))
            })?;
        Ok(at)
    }

    /// The `next` link of cluster `c` in the cluster map.
    fn next_cluster(&mut self, c: u64, what: &str) -> Result<u64> {
        let at = c
            .checked_mul(8)
            .and_then(|o| o.checked_add(self.map_at))
            .filter(|&o| o.saturating_add(8) <= self.file_len)
            .ok_or_else(|| {
                self.bad(format!(
                    "{what}: the cluster map has no entry for cluster {c} inside the file"
                ))
            })?;
        let (start, ref bytes) = self.page;
        if !(at >= start && at + 8 <= start + bytes.len() as u64) {
            let n = self.cluster.min(self.file_len - at);
            let mut buf = vec![0u8; n as usize];
            self.src.read_at(self.path, at, &mut buf)?;
            self.page = (at, buf);
        }
        let i = (at - self.page.0) as usize;
        let next = le_i32(&self.page.1, i);
        u64::try_from(next).map_err(|_| {
            self.bad(format!(
                "{what}: the cluster map links cluster {c} to {next}"
            ))
        })
    }

    /// The chain of clusters of a stream of `size` bytes from `first`.
    fn stream(&mut self, first: i64, size: i64, what: &str) -> Result<Stream> {
        let size = u64::try_from(size)
            .ok()
            .filter(|&s| s <= self.file_len)
            .ok_or_else(|| {
                self.bad(format!(
                    "{what}: size {size} bytes does not fit the {}-byte file",
                    self.file_len
                ))
            })?;
        let n = size.div_ceil(self.cluster);
        let mut clusters = Vec::with_capacity(n as usize);
        if n == 0 {
            return Ok(Stream { clusters, size });
        }
        let mut c = u64::try_from(first)
            .map_err(|_| self.bad(format!("{what}: first cluster {first} is negative")))?;
        for k in 0..n {
            self.cluster_at(c, what)?;
            clusters.push(c);
            if k + 1 < n {
                c = self.next_cluster(c, what)?;
                if c == 0 {
                    return Err(self.bad(format!(
                        "{what}: its cluster chain ends after {} of {n} clusters",
                        k + 1
                    )));
                }
            }
        }
        Ok(Stream { clusters, size })
    }

    /// `buf.len()` bytes of `st` from `offset`.
    fn read_stream(&mut self, st: &Stream, offset: u64, buf: &mut [u8], what: &str) -> Result<()> {
        if offset.saturating_add(buf.len() as u64) > st.size {
            return Err(self.bad(format!(
                "{what}: {} bytes at byte {offset} lie beyond the stream's {} bytes",
                buf.len(),
                st.size
            )));
        }
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let k = (pos / self.cluster) as usize;
            let within = pos % self.cluster;
            let at = self.cluster_at(st.clusters[k], what)? + within;
            let n = ((self.cluster - within) as usize).min(buf.len() - done);
            if at.saturating_add(n as u64) > self.file_len {
                return Err(self.bad(format!(
                    "{what}: cluster {} is cut short by the end of the file",
                    st.clusters[k]
                )));
            }
            self.src.read_at(self.path, at, &mut buf[done..done + n])?;
            done += n;
        }
        Ok(())
    }

    fn read_all(&mut self, st: &Stream, what: &str) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; st.size as usize];
        self.read_stream(st, 0, &mut buf, what)?;
        Ok(buf)
    }

    /// The entries of the storage whose table is `st`.
    fn table(&mut self, st: &Stream, what: &str) -> Result<Vec<DirEntry>> {
        let b = self.read_all(st, what)?;
        if b.len() < 8 {
            return Err(self.bad(format!("{what}: its table is {} bytes long", b.len())));
        }
        let (n, m) = (le_i32(&b, 0), le_i32(&b, 4));
        let count = usize::try_from(n)
            .ok()
            .filter(|&c| i64::from(m) == -i64::from(n) && 8 + c * ENTRY <= b.len())
            .ok_or_else(|| {
                self.bad(format!(
                    "{what}: its table declares {n} entries (check {m}) in {} bytes",
                    b.len()
                ))
            })?;
        Ok((0..count)
            .map(|k| entry(&b[8 + k * ENTRY..8 + (k + 1) * ENTRY]))
            .collect())
    }
}

fn entry(e: &[u8]) -> DirEntry {
    DirEntry {
        name: utf16(&e[..72]),
        first: le_i64(e, 0x48),
        size: le_i64(e, 0x50),
        kind: le_i32(e, 0x8C),
    }
}

// ---------------------------------------------------------------------------
// The Map stream

/// A units object: the scale of the stored numbers and the conversion.
#[derive(Debug, Clone, PartialEq)]
struct Units {
    lsb: f64,
    input_units: String,
    slope: f64,
    offset: f64,
    on: bool,
    name: String,
}

impl Units {
    /// The unit of the values, as LabChart shows it.
    fn unit(&self) -> String {
        if self.on {
            self.name.trim().to_string()
        } else {
            self.input_units.trim().to_string()
        }
    }

    /// The stored number `x` in [`Units::unit`].
    fn value(&self, x: f64) -> f64 {
        if self.on {
            self.slope * (self.lsb * x) + self.offset
        } else {
            self.lsb * x
        }
    }
}

/// One block of a channel in the block index.
#[derive(Debug, Clone, Copy, PartialEq)]
struct BlockRef {
    ticks: u64,
    min: f32,
    max: f32,
    offset: u64,
}

/// A channel in one record.
#[derive(Debug, Clone, PartialEq)]
struct ChannelRecord {
    float: bool,
    tick_rate: f64,
    units: usize,
    block_ticks: u64,
    block_samples: u64,
    blocks: Vec<BlockRef>,
}

impl ChannelRecord {
    /// The channel's samples per second.
    fn rate_hz(&self) -> f64 {
        self.tick_rate * self.block_samples as f64 / self.block_ticks as f64
    }
}

/// A comment: its tick in the record, its channel (−1: all) and text.
#[derive(Debug, Clone, PartialEq)]
struct Comment {
    tick: u64,
    channel: i16,
    text: String,
}

/// A record (LabChart's *block*).
#[derive(Debug, Clone, PartialEq)]
struct RecordInfo {
    tick_rate: f64,
    start_utc_s: f64,
    ticks: u64,
    comments: Vec<Comment>,
    channels: Vec<ChannelRecord>,
}

/// The Map stream, parsed.
#[derive(Debug, Clone, PartialEq)]
struct Chart {
    version: u8,
    records: Vec<RecordInfo>,
    titles: Vec<String>,
    units: Vec<Units>,
}

/// What an object id stands for.
#[derive(Debug, Clone, Copy)]
enum Object {
    Units(usize),
    Other,
}

/// A cursor over the Map stream, every read bounds-checked.
struct Cursor<'a> {
    path: &'a Path,
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn bad(&self, why: impl std::fmt::Display) -> Error {
        Error::malformed(self.path, format!("Map stream, byte {}: {why}", self.at))
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| self.bad(format!("the stream ends inside {what}")))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    fn i16(&mut self, what: &str) -> Result<i16> {
        let b = self.take(2, what)?;
        Ok(i16::from_le_bytes([b[0], b[1]]))
    }

    fn i32(&mut self, what: &str) -> Result<i32> {
        Ok(le_i32(self.take(4, what)?, 0))
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(self.i32(what)? as u32)
    }

    fn i64(&mut self, what: &str) -> Result<i64> {
        Ok(le_i64(self.take(8, what)?, 0))
    }

    fn f64(&mut self, what: &str) -> Result<f64> {
        Ok(f64::from_bits(self.i64(what)? as u64))
    }

    fn f32(&mut self, what: &str) -> Result<f32> {
        Ok(f32::from_bits(self.u32(what)?))
    }

    fn expect(&mut self, want: u32, what: &str) -> Result<()> {
        let got = self.u32(what)?;
        if got != want {
            self.at -= 4;
            return Err(self.bad(format!("{what} is {got:#x}, not {want:#x}")));
        }
        Ok(())
    }

    /// `int32 n, int32 −n`: a count of items of at least `item` bytes each.
    fn count(&mut self, item: usize, what: &str) -> Result<usize> {
        let n = self.i32(what)?;
        let m = self.i32(what)?;
        let left = self.b.len() - self.at;
        match usize::try_from(n) {
            Ok(c) if i64::from(m) == -i64::from(n) && c.saturating_mul(item) <= left => Ok(c),
            _ => {
                self.at -= 8;
                Err(self.bad(format!(
                    "{what}: count {n} (check {m}) does not fit the {left} bytes left"
                )))
            }
        }
    }

    /// A tagged string: the tag, then `int32 n, int32 −n` and n UTF-16 units.
    fn tagged(&mut self, what: &str) -> Result<String> {
        self.expect(TAGGED, what)?;
        let n = self.count(2, what)?;
        Ok(utf16(self.take(2 * n, what)?))
    }
}

/// Parse the Map stream.
fn parse_map(path: &Path, b: &[u8]) -> Result<Chart> {
    let mut c = Cursor { path, b, at: 0 };
    let magic = c.take(4, "the header")?;
    let version = match magic {
        [0xaa, 0xaa, 0x14, 0x55] => 26,
        [0xaa, 0xaa, 0x15, 0x55] => 29,
        _ => {
            let why = format!(
                "Map stream: magic {magic:02x?} is not \"aa aa 14 55\" (v26) or \
                 \"aa aa 15 55\" (v29)"
            );
            return Err(Error::malformed(path, why));
        }
    };
    c.take(12, "the header")?;
    let n = c.take(2, "the header")?;
    let name = c.take(usize::from(u16::from_le_bytes([n[0], n[1]])), "the header")?;
    if name != b"ADInstruments Chart Data\0" {
        c.at -= name.len();
        return Err(c.bad("the document is not \"ADInstruments Chart Data\""));
    }
    c.take(4, "the header")?;
    let nch = c.i16("the channel count")?;
    let nch = u64::try_from(nch).map_err(|_| c.bad(format!("channel count {nch}")))?;
    assemble::check_channels(path, nch)?;
    if nch == 0 {
        return Err(c.bad("the document declares no channel"));
    }
    let nch = nch as usize;
    c.take(9, "the header")?;
    let mut objects: HashMap<u32, Object> = HashMap::new();
    let mut units: Vec<Units> = Vec::new();
    let mut records = Vec::new();
    let mut comments = 0usize;
    loop {
        let k = records.len();
        let r = parse_record(&mut c, k, nch, &mut objects, &mut units, &mut comments)?;
        records.push(r);
        let next = c.i32("the record separator")?;
        if next == -1 {
            break;
        }
        // The number that introduces the next record is not checked: the
        // description says the next record's 1-based number, adichtion's
        // writer puts the previous one's.
        if next < 0 {
            c.at -= 4;
            return Err(c.bad(format!(
                "record {} is followed by {next}, neither a record number nor -1",
                k + 1
            )));
        }
        c.expect(0, "the record separator")?;
    }
    let n = c.count(12, "the titles table")?;
    let titles = (0..n)
        .map(|_| c.tagged("a channel title"))
        .collect::<Result<Vec<_>>>()?;
    Ok(Chart {
        version,
        records,
        titles,
        units,
    })
}

fn parse_record(
    c: &mut Cursor<'_>,
    k: usize,
    nch: usize,
    objects: &mut HashMap<u32, Object>,
    units: &mut Vec<Units>,
    comments: &mut usize,
) -> Result<RecordInfo> {
    let rv = c.i32("the record version")?;
    if !(2..=3).contains(&rv) {
        c.at -= 4;
        return Err(c.bad(format!(
            "record {}: structure version {rv} is not 2 (v26) or 3 (v29)",
            k + 1
        )));
    }
    c.take(8, "a record")?;
    let tick_rate = c.i64("the tick rate")? as f64;
    if tick_rate <= 0.0 {
        return Err(c.bad(format!("record {}: tick rate {tick_rate} Hz", k + 1)));
    }
    let start_utc_s = c.f64("the start time")?;
    c.take(8 + 12 + 4, "a record")?;
    let ticks = c.i64("the record's ticks")?;
    let ticks =
        u64::try_from(ticks).map_err(|_| c.bad(format!("record {}: {ticks} ticks", k + 1)))?;
    c.tagged("the record name")?;
    // v26: a small object {int32 1, tagged ""} (new in the first record,
    // referenced afterwards); v29: an empty slot.
    let slot = c.u32("the record object")?;
    if slot & NEW_OBJECT != 0 {
        c.i32("the record object")?;
        c.tagged("the record object")?;
        objects.insert(slot & !NEW_OBJECT, Object::Other);
    }
    c.take(4, "a record")?;
    let nblocks = c.count(16, "the block list")?;
    let mut block_list = Vec::with_capacity(nblocks);
    let mut record_comments = Vec::new();
    let mut t0 = 0u64;
    for _ in 0..nblocks {
        c.expect(3, "a block entry")?;
        let bt = c.i32("a block's ticks")?;
        let bt = u64::try_from(bt)
            .ok()
            .filter(|&t| t <= MAX_BLOCK_TICKS)
            .ok_or_else(|| c.bad(format!("record {}: a block of {bt} ticks", k + 1)))?;
        c.take(6, "a block entry")?;
        let nc = c.i16("a block's comment count")?;
        let nc = usize::try_from(nc)
            .map_err(|_| c.bad(format!("record {}: {nc} comments in a block", k + 1)))?;
        for _ in 0..nc {
            *comments += 1;
            if *comments > MAX_COMMENTS {
                return Err(c.bad(format!("more than {MAX_COMMENTS} comments")));
            }
            c.expect(2, "a comment")?;
            c.take(8, "a comment")?;
            let channel = c.i16("a comment's channel")?;
            let tick = c.take(2, "a comment's tick")?;
            let tick = u64::from(u16::from_le_bytes([tick[0], tick[1]]));
            let text = c.tagged("a comment's text")?;
            record_comments.push(Comment {
                tick: t0 + tick,
                channel,
                text,
            });
        }
        block_list.push(bt);
        t0 += bt;
    }
    if t0 != ticks {
        return Err(c.bad(format!(
            "record {}: its blocks span {t0} ticks, the record {ticks}",
            k + 1
        )));
    }
    let n = c.count(60, "the channel list")?;
    if n != nch {
        c.at -= 8;
        return Err(c.bad(format!(
            "record {} lists {n} channels, the header {nch}",
            k + 1
        )));
    }
    let channels = (0..n)
        .map(|i| parse_channel(c, k, i, ticks, objects, units))
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordInfo {
        tick_rate,
        start_utc_s,
        ticks,
        comments: record_comments,
        channels,
    })
}

fn parse_channel(
    c: &mut Cursor<'_>,
    k: usize,
    i: usize,
    ticks: u64,
    objects: &mut HashMap<u32, Object>,
    units: &mut Vec<Units>,
) -> Result<ChannelRecord> {
    let what = format!("record {}, channel {i}", k + 1);
    let one = c.u8(&what)?;
    if one != 1 {
        c.at -= 1;
        return Err(c.bad(format!("{what}: entry opens with {one}, not 1")));
    }
    c.expect(CHANNEL_ENTRY, &format!("{what}: the entry tag"))?;
    let ev = c.i32(&what)?;
    let index = c.i32(&what)?;
    if i64::from(index) != i as i64 {
        c.at -= 4;
        return Err(c.bad(format!("{what}: the entry is for channel {index}")));
    }
    c.take(4, &what)?;
    let float = match c.u32(&what)? {
        INT16 => false,
        FLOAT32 => true,
        t => {
            c.at -= 4;
            return Err(c.bad(format!(
                "{what}: data type {t:#x} is neither int16 nor float32"
            )));
        }
    };
    c.take(12 + 12 + 8, &what)?;
    let rate = c.i64(&what)?;
    if rate <= 0 {
        c.at -= 8;
        return Err(c.bad(format!("{what}: tick rate {rate} Hz")));
    }
    let slot = c.u32(&what)?;
    let u = if slot & NEW_OBJECT != 0 {
        let u = parse_units(c, &what)?;
        units.push(u);
        objects.insert(slot & !NEW_OBJECT, Object::Units(units.len() - 1));
        units.len() - 1
    } else {
        match objects.get(&slot) {
            Some(Object::Units(u)) => *u,
            _ => {
                c.at -= 4;
                return Err(c.bad(format!(
                    "{what}: its units refer to object {slot}, which is no units object"
                )));
            }
        }
    };
    c.take(4, &what)?;
    if ev >= 3 {
        // The ChannelDataSource object: {int32 2, tagged name, tagged XML}.
        let slot = c.u32(&what)?;
        if slot & NEW_OBJECT != 0 {
            c.take(4, &what)?;
            c.tagged(&what)?;
            c.tagged(&what)?;
            objects.insert(slot & !NEW_OBJECT, Object::Other);
        }
    }
    let own_ticks = c.i64(&what)?;
    if own_ticks < 0 || own_ticks as u64 != ticks {
        c.at -= 8;
        return Err(c.bad(format!("{what}: {own_ticks} ticks, the record {ticks}")));
    }
    c.take(4, &what)?;
    let block_ticks = c.i32(&what)?;
    let block_samples = c.i32(&what)?;
    let (block_ticks, block_samples) =
        match (u64::try_from(block_ticks), u64::try_from(block_samples)) {
            (Ok(t), Ok(s)) if t > 0 && s > 0 && t <= MAX_BLOCK_TICKS && s <= t => (t, s),
            _ => {
                c.at -= 8;
                return Err(c.bad(format!(
                    "{what}: {block_samples} samples per block of {block_ticks} ticks"
                )));
            }
        };
    let n = c.count(36, &format!("{what}: the block index"))?;
    let mut blocks = Vec::with_capacity(n);
    for _ in 0..n {
        c.take(4 + 8, &what)?;
        let bt = c.i32(&what)?;
        let bt = u64::try_from(bt)
            .ok()
            .filter(|&t| t <= MAX_BLOCK_TICKS)
            .ok_or_else(|| c.bad(format!("{what}: a block of {bt} ticks")))?;
        c.take(4, &what)?;
        let min = c.f32(&what)?;
        let max = c.f32(&what)?;
        let offset = c.i64(&what)?;
        let offset = u64::try_from(offset)
            .map_err(|_| c.bad(format!("{what}: sub-block offset {offset}")))?;
        blocks.push(BlockRef {
            ticks: bt,
            min,
            max,
            offset,
        });
    }
    Ok(ChannelRecord {
        float,
        tick_rate: rate as f64,
        units: u,
        block_ticks,
        block_samples,
        blocks,
    })
}

fn parse_units(c: &mut Cursor<'_>, what: &str) -> Result<Units> {
    let what = format!("{what}: the units object");
    c.take(8, &what)?;
    let lsb = c.f64(&what)?;
    c.take(8 + 1 + 8 + 9, &what)?;
    let input_units = c.tagged(&what)?;
    let slope = c.f64(&what)?;
    let offset = c.f64(&what)?;
    c.take(8, &what)?;
    let flags = c.i32(&what)?;
    c.take(4, &what)?;
    let name = c.tagged(&what)?;
    for _ in 0..4 {
        c.tagged(&what)?;
    }
    c.take(1, &what)?;
    let on = flags & CONVERSION_ON != 0;
    let finite = lsb.is_finite() && (!on || (slope.is_finite() && offset.is_finite()));
    if !finite {
        return Err(c.bad(format!(
            "{what}: scale {} (slope {}, offset {}) is not finite",
            Shown(lsb),
            Shown(slope),
            Shown(offset)
        )));
    }
    Ok(Units {
        lsb,
        input_units,
        slope,
        offset,
        on,
        name,
    })
}

// ---------------------------------------------------------------------------
// The Blocks_0 stream: sub-blocks, PackBits, bit planes

/// PackBits as LabChart writes it into exactly `out_len` bytes: header
/// `k` ≤ 127 copies `k + 1` bytes, `k` ≥ 128 repeats the next byte
/// `257 − k` times (128 is a run of 129, not a no-op). `None` when the data
/// ends early or overruns `out_len`.
fn unpack_bits(data: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(out_len);
    let mut i = 0;
    while out.len() < out_len {
        let k = *data.get(i)?;
        i += 1;
        if k <= 127 {
            let n = usize::from(k) + 1;
            let lit = data.get(i..i + n)?;
            if out.len() + n > out_len {
                return None;
            }
            out.extend_from_slice(lit);
            i += n;
        } else {
            let n = 257 - usize::from(k);
            let v = *data.get(i)?;
            i += 1;
            if out.len() + n > out_len {
                return None;
            }
            out.resize(out.len() + n, v);
        }
    }
    Some(out)
}

/// Bytes of one bit plane of `n` samples (whole 32-bit words).
fn plane_bytes(n: usize) -> usize {
    4 * n.div_ceil(32)
}

/// int16 samples from 17 LSB-first bit planes of zig-zag differences.
fn int16_from_planes(planes: &[u8], n: usize) -> Vec<i16> {
    let pb = plane_bytes(n);
    let mut sym = vec![0u32; n];
    for p in 0..17 {
        let plane = &planes[p * pb..(p + 1) * pb];
        for (i, s) in sym.iter_mut().enumerate() {
            *s |= u32::from((plane[i / 8] >> (i % 8)) & 1) << p;
        }
    }
    let mut x = 0i16;
    sym.iter()
        .map(|&m| {
            let mag = (m >> 1) as i32;
            let d = if m & 1 == 1 { -mag } else { mag };
            // Differences wrap modulo 2^16, as LabChart's sums do.
            x = x.wrapping_add(d as i16);
            x
        })
        .collect()
}

/// float32 samples from 32 bit planes (plane 0 = bit 31, the 32 samples of
/// each word in reverse order) of float32 differences.
fn float32_from_planes(planes: &[u8], n: usize) -> Vec<f32> {
    let pb = plane_bytes(n);
    let mut sym = vec![0u32; n];
    for p in 0..32 {
        let plane = &planes[p * pb..(p + 1) * pb];
        for (i, s) in sym.iter_mut().enumerate() {
            let w = le_i32(plane, 4 * (i / 32)) as u32;
            *s |= ((w >> (31 - i % 32)) & 1) << (31 - p);
        }
    }
    let mut x = 0f32;
    sym.iter()
        .map(|&b| {
            x += f32::from_bits(b);
            x
        })
        .collect()
}

/// The stored numbers of one sub-block of `n` samples, whose bytes (header
/// included) are `sb`.
fn decode_subblock(sb: &[u8], float: bool, n: usize) -> std::result::Result<Vec<f64>, String> {
    let flags = le_i32(sb, 12) as u32;
    let body = &sb[16..];
    let bps = if float { 4 } else { 2 };
    if flags & 0x8000_0000 != 0 {
        if body.len() != n * bps {
            return Err(format!(
                "unpacked sub-block holds {} bytes, not {n} samples of {bps} bytes",
                body.len()
            ));
        }
        return Ok(if float {
            body.chunks_exact(4)
                .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                .collect()
        } else {
            body.chunks_exact(2)
                .map(|b| f64::from(i16::from_le_bytes([b[0], b[1]])))
                .collect()
        });
    }
    if flags & 0x4 == 0 {
        return Err(format!(
            "sub-block flags {flags:#x} say neither packed nor raw"
        ));
    }
    if (flags & 0x1 != 0) != float {
        return Err(format!(
            "packed sub-block flags {flags:#x} disagree with the channel's {} data",
            if float { "float32" } else { "int16" }
        ));
    }
    if body.len() < 4 {
        return Err("packed sub-block has no size".into());
    }
    let raw = le_i32(body, 0);
    if i64::from(raw) != (n * bps) as i64 {
        return Err(format!(
            "packed sub-block declares {raw} bytes, not {n} samples of {bps} bytes"
        ));
    }
    let planes = if float { 32 } else { 17 };
    let want = planes * plane_bytes(n);
    let bits = unpack_bits(&body[4..], want)
        .ok_or_else(|| format!("PackBits data does not give the {want} bytes of {n} samples"))?;
    Ok(if float {
        float32_from_planes(&bits, n)
            .into_iter()
            .map(f64::from)
            .collect()
    } else {
        int16_from_planes(&bits, n)
            .into_iter()
            .map(f64::from)
            .collect()
    })
}

// ---------------------------------------------------------------------------
// The recording

fn read_from<S: ReadAt>(
    path: &Path,
    src: &mut S,
    file_len: u64,
    opts: &ReadOptions,
    describe: bool,
) -> Result<Recording> {
    if file_len < HEADER as u64 {
        return Err(Error::malformed(
            path,
            format!("{file_len} bytes: shorter than the 512-byte LabChart header"),
        ));
    }
    let mut h = [0u8; HEADER];
    src.read_at(path, 0, &mut h)?;
    if !sniff(&h) {
        return Err(Error::malformed(
            path,
            "not a LabChart file: it does not start with \"ADInstruments Compound File\"",
        ));
    }
    let header_size = le_i32(&h, 0x84);
    let shift = le_i32(&h, 0x98);
    if header_size != HEADER as i32 || !(9..=16).contains(&shift) {
        return Err(Error::malformed(
            path,
            format!("header size {header_size} (not 512) or cluster size 2^{shift} (not 2^9…2^16)"),
        ));
    }
    let cluster = 1u64 << shift;
    let map_first = le_i64(&h, 0xAC);
    let map_at = u64::try_from(map_first)
        .ok()
        .and_then(|c| c.checked_sub(2))
        .and_then(|k| k.checked_mul(cluster))
        .and_then(|o| o.checked_add(HEADER as u64))
        .filter(|&o| o < file_len)
        .ok_or_else(|| {
            Error::malformed(
                path,
                format!(
                    "the cluster map's first cluster {map_first} lies outside the \
                     {file_len}-byte file (cut short?)"
                ),
            )
        })?;
    let mut ct = Container {
        path,
        src,
        file_len,
        cluster,
        map_at,
        page: (0, Vec::new()),
    };
    let root = entry(&h[0xB8..0xB8 + ENTRY]);
    if root.size > MAX_TABLE_BYTES {
        return Err(Error::malformed(
            path,
            format!(
                "the root storage's table declares {} bytes (at most {MAX_TABLE_BYTES})",
                root.size
            ),
        ));
    }
    let root_stream = ct.stream(root.first, root.size, "the root storage")?;
    let entries = ct.table(&root_stream, "the root storage")?;
    let find = |name: &str| {
        entries
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name) && e.kind != 1)
            .cloned()
    };
    let (map, blocks) = match (find("Map"), find("Blocks_0")) {
        (Some(m), Some(b)) => (m, b),
        _ => {
            let names: Vec<String> = entries.iter().map(|e| excerpt_str(&e.name)).collect();
            return Err(Error::malformed(
                path,
                format!(
                    "the root storage holds no Map and Blocks_0 streams (it holds {})",
                    names.join(", ")
                ),
            ));
        }
    };
    if map.size > MAX_MAP_BYTES as i64 {
        return Err(Error::Limit {
            path: path.to_path_buf(),
            what: "bytes in the Map stream".into(),
            value: map.size as u64,
            limit: MAX_MAP_BYTES,
        });
    }
    let map_stream = ct.stream(map.first, map.size, "the Map stream")?;
    let map_bytes = ct.read_all(&map_stream, "the Map stream")?;
    let chart = parse_map(path, &map_bytes)?;
    drop(map_bytes);
    let blocks = ct.stream(blocks.first, blocks.size, "the Blocks_0 stream")?;
    let mut magic = [0u8; 4];
    ct.read_stream(&blocks, 0, &mut magic, "the Blocks_0 stream")?;
    if magic != BLOCKS_MAGIC {
        return Err(Error::malformed(
            path,
            format!("Blocks_0 stream: magic {magic:02x?} is not \"55 55 03 aa\""),
        ));
    }
    assemble_recording(&mut ct, &chart, &blocks, opts, describe)
}

/// A channel's title: its entry in the titles table, else LabChart's default.
fn title(chart: &Chart, i: usize) -> String {
    match chart.titles.get(i) {
        Some(t) if !t.trim().is_empty() => t.clone(),
        _ => format!("Channel {}", i + 1),
    }
}

fn assemble_recording<S: ReadAt>(
    ct: &mut Container<'_, S>,
    chart: &Chart,
    blocks: &Stream,
    opts: &ReadOptions,
    describe: bool,
) -> Result<Recording> {
    let path = ct.path;
    let nch = chart.records[0].channels.len();
    let titles: Vec<String> = (0..nch).map(|i| title(chart, i)).collect();
    let labels: Vec<&str> = titles.iter().map(String::as_str).collect();
    let kinds: Vec<ChannelKind> = labels
        .iter()
        .map(|l| {
            if assemble::is_trigger_label(l) {
                ChannelKind::Trigger
            } else {
                ChannelKind::Signal
            }
        })
        .collect();
    let default_emg = SourceFormat::Adicht.default_emg_channel(kinds.iter().copied());
    let (filter, emg) = opts.channels.resolve(path, &labels, default_emg)?;
    let e = emg.unwrap_or(default_emg);
    let what = format!("channel {e} ({})", excerpt_str(&titles[e]));
    let first = &chart.records[0].channels[e];
    let hz = first.rate_hz();
    for (k, r) in chart.records.iter().enumerate() {
        let c = &r.channels[e];
        if c.block_samples != c.block_ticks {
            return Err(Error::UnsupportedFormat {
                path: path.to_path_buf(),
                reason: format!(
                    "{what} is stored at {} samples per {}-tick block in record {}, below the \
                     tick rate: no file of that kind has been seen, so it is not read",
                    c.block_samples,
                    c.block_ticks,
                    k + 1
                ),
            });
        }
        if c.rate_hz() != hz {
            return Err(Error::UnsupportedFormat {
                path: path.to_path_buf(),
                reason: format!(
                    "{what} is sampled at {} Hz in record {}, at {} Hz in record 1: records \
                     of different rates are not read",
                    Shown(c.rate_hz()),
                    k + 1,
                    Shown(hz)
                ),
            });
        }
    }
    let (rate, not_analysable) = match assemble::sample_rate(path, hz, &what) {
        Ok(r) => (r, None),
        Err(err) => match SampleRate::new_unchecked_range(hz).filter(|_| describe) {
            Some(r) => {
                let why = format!(
                    "{what} is sampled at {} Hz, outside the accepted range {}–{} Hz",
                    Shown(hz),
                    SampleRate::MIN_HZ,
                    SampleRate::MAX_HZ
                );
                (r, Some(why))
            }
            None => return Err(err),
        },
    };
    let total: u64 = chart.records.iter().map(|r| r.ticks).sum();
    assemble::check_samples(path, "samples per channel across the records", total)?;
    // Segments: each record at its start time, unless that overlaps the
    // previous record.
    let t0 = chart.records[0].start_utc_s;
    let mut segments: Vec<Segment> = Vec::with_capacity(chart.records.len());
    let mut starts_s: Vec<f64> = Vec::with_capacity(chart.records.len());
    let mut at = (0usize, 0.0f64);
    for r in &chart.records {
        let len = r.ticks as usize;
        let dated = r.start_utc_s - t0;
        let start_s = if dated.is_finite() && dated >= at.1 {
            dated
        } else {
            at.1
        };
        starts_s.push(start_s);
        // A record without samples (sampling stopped at once) is no segment.
        if len > 0 {
            segments.push(Segment {
                start: at.0,
                len,
                start_s,
            });
        }
        at = (at.0 + len, start_s + len as f64 / hz);
    }
    let mut channels = Vec::with_capacity(nch);
    let mut used_blocks = std::collections::HashSet::new();
    let mut decoded_total = 0u64;
    for i in 0..nch {
        let same_rate = chart.records.iter().all(|r| {
            let c = &r.channels[i];
            c.block_samples == c.block_ticks && c.rate_hz() == hz
        });
        let wanted = filter.wants(i) || kinds[i] == ChannelKind::Trigger || i == e;
        let unit = chart.units[chart.records[0].channels[i].units].unit();
        if !(wanted && same_rate) {
            let own = chart.records[0].channels[i].rate_hz();
            let len: u64 = chart
                .records
                .iter()
                .map(|r| {
                    let c = &r.channels[i];
                    r.ticks.saturating_mul(c.block_samples) / c.block_ticks
                })
                .sum();
            channels.push(assemble::listed_channel(
                i,
                titles[i].clone(),
                unit,
                kinds[i],
                len as usize,
                (own != hz && own.is_finite()).then_some(own),
            ));
            continue;
        }
        // The channels decoded must not share sub-blocks, and together
        // hold no more samples than Blocks_0 could: shared data would
        // multiply what a small file makes us allocate.
        for r in &chart.records {
            for b in &r.channels[i].blocks {
                if !used_blocks.insert(b.offset) {
                    return Err(Error::malformed(
                        path,
                        format!(
                            "channel {i} ({}): its sub-block at byte {} of Blocks_0 is another channel's",
                            excerpt_str(&titles[i]),
                            b.offset
                        ),
                    ));
                }
            }
        }
        decoded_total = decoded_total.saturating_add(total);
        if decoded_total > blocks.size.saturating_mul(SAMPLES_PER_PACKED_BYTE) {
            return Err(Error::malformed(
                path,
                format!(
                    "the channels to read hold {decoded_total} samples together, more than the {}-byte Blocks_0 stream could",
                    blocks.size
                ),
            ));
        }
        let samples = decode_channel(ct, chart, blocks, i, &titles[i], kinds[i], total)?;
        channels.push(assemble::channel(
            i,
            titles[i].clone(),
            unit,
            kinds[i],
            samples,
        ));
    }
    let mut annotations: Vec<Annotation> = chart
        .records
        .iter()
        .zip(&starts_s)
        .flat_map(|(r, &s0)| {
            r.comments
                .iter()
                .filter(|c| !c.text.trim().is_empty())
                .map(move |c| Annotation {
                    onset_s: s0 + c.tick as f64 / r.tick_rate,
                    duration_s: None,
                    text: c.text.clone(),
                })
        })
        .collect();
    annotations.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
    let mut rec = assemble::recording(path, SourceFormat::Adicht, rate, channels, segments);
    rec.stimuli = assemble::stimuli_from_annotations(&annotations, &rec.segments, rate.hz());
    rec.annotations = annotations;
    rec.not_analysable = not_analysable;
    rec.metadata.push(MetadataEntry {
        key: "LabChart format version".into(),
        value: chart.version.to_string(),
    });
    for (k, r) in chart.records.iter().enumerate() {
        rec.metadata.push(MetadataEntry {
            key: format!("record {} start (UTC, s since 1970)", k + 1),
            value: Shown(r.start_utc_s).to_string(),
        });
        let commented = r.comments.iter().filter(|c| c.channel >= 0).count();
        if commented > 0 {
            rec.metadata.push(MetadataEntry {
                key: format!("record {} comments on one channel", k + 1),
                value: commented.to_string(),
            });
        }
    }
    Ok(rec)
}

/// Channel `i`'s samples in every record, in its unit (millivolts for a
/// voltage signal); `total` samples in all.
fn decode_channel<S: ReadAt>(
    ct: &mut Container<'_, S>,
    chart: &Chart,
    blocks: &Stream,
    i: usize,
    title: &str,
    kind: ChannelKind,
    total: u64,
) -> Result<Vec<f32>> {
    let path = ct.path;
    let what = format!("channel {i} ({})", excerpt_str(title));
    let unit0 = chart.units[chart.records[0].channels[i].units].unit();
    // Before allocating: the sub-blocks must lie in order inside Blocks_0,
    // and the samples they declare must be ones its bytes could hold.
    let mut last_end = 4u64;
    for r in &chart.records {
        let c = &r.channels[i];
        let sum: u64 = c.blocks.iter().map(|b| b.ticks).sum();
        if sum != r.ticks {
            return Err(Error::malformed(
                path,
                format!(
                    "{what}: its block index spans {sum} ticks, the record {}",
                    r.ticks
                ),
            ));
        }
        for b in &c.blocks {
            if b.offset < last_end {
                return Err(Error::malformed(
                    path,
                    format!(
                        "{what}: a sub-block at byte {} of Blocks_0 overlaps the one before it",
                        b.offset
                    ),
                ));
            }
            last_end = b.offset.saturating_add(16);
        }
    }
    if total > blocks.size.saturating_mul(SAMPLES_PER_PACKED_BYTE) {
        return Err(Error::malformed(
            path,
            format!(
                "{what}: {total} samples cannot fit the {}-byte Blocks_0 stream",
                blocks.size
            ),
        ));
    }
    let mut out = super::buffers::take(total as usize);
    let mut hdr = [0u8; 16];
    let mut sb = Vec::new();
    for (k, r) in chart.records.iter().enumerate() {
        let c = &r.channels[i];
        let u = &chart.units[c.units];
        let to_out = match kind {
            ChannelKind::Signal => {
                let here = u.unit();
                let mv = assemble::millivolts_per_unit(&here);
                if here != unit0
                    && (mv.is_none() || assemble::millivolts_per_unit(&unit0).is_none())
                {
                    return Err(Error::malformed(
                        path,
                        format!(
                            "{what} is in {} in record {}, in {} in record 1",
                            excerpt_str(&here),
                            k + 1,
                            excerpt_str(&unit0)
                        ),
                    ));
                }
                mv.unwrap_or(1.0)
            }
            _ => 1.0,
        };
        for (j, b) in c.blocks.iter().enumerate() {
            let at = format!("{what}, record {}, block {j}", k + 1);
            ct.read_stream(blocks, b.offset, &mut hdr, &at)?;
            let (n, check) = (le_i32(&hdr, 0), le_i32(&hdr, 8));
            let len = u64::try_from(n)
                .ok()
                .filter(|&v| v >= 12 && i64::from(check) == -i64::from(n))
                .map(|v| v + 4)
                .filter(|&l| b.offset.saturating_add(l) <= blocks.size)
                .ok_or_else(|| {
                    Error::malformed(
                        path,
                        format!(
                            "{at}: sub-block at byte {} of Blocks_0 declares {n} bytes (check \
                             {check}) within the stream's {} bytes",
                            b.offset, blocks.size
                        ),
                    )
                })?;
            sb.resize(len as usize, 0);
            ct.read_stream(blocks, b.offset, &mut sb, &at)?;
            let stored = decode_subblock(&sb, c.float, b.ticks as usize)
                .map_err(|m| Error::malformed(path, format!("{at}: {m}")))?;
            if !c.float {
                let (lo, hi) = stored
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, z), &v| {
                        (a.min(v), z.max(v))
                    });
                if !stored.is_empty() && (lo != f64::from(b.min) || hi != f64::from(b.max)) {
                    return Err(Error::malformed(
                        path,
                        format!(
                            "{at}: decodes to {lo}…{hi}, the block index says {}…{} (corrupt data)",
                            b.min, b.max
                        ),
                    ));
                }
            }
            let from = out.len();
            out.extend(stored.iter().map(|&x| (u.value(x) * to_out) as f32));
            if let Some(p) = out[from..].iter().position(|v| !v.is_finite()) {
                return Err(Error::malformed(
                    path,
                    format!(
                        "{at}: sample {p} scales to {}, not a finite value",
                        out[from + p]
                    ),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::StimulusOrigin;
    use std::path::PathBuf;

    /// A file of adichtion's synthetic writer (tests/fixtures/adicht): one
    /// int16 channel "EMG" at 4 kHz, 3000 ticks, a "stim" comment at 1500.
    const SMALL: &[u8] = include_bytes!("../../tests/fixtures/adicht/small.adicht");

    fn p() -> PathBuf {
        PathBuf::from("t.adicht")
    }

    fn read(b: &[u8]) -> Result<Recording> {
        read_adicht(&p(), b, &ReadOptions::default())
    }

    /// Bit planes of `symbols` as the description lays them out.
    fn planes(symbols: &[u32], n_planes: usize, float: bool) -> Vec<u8> {
        let pb = plane_bytes(symbols.len());
        let mut out = vec![0u8; n_planes * pb];
        for (i, &s) in symbols.iter().enumerate() {
            for p in 0..n_planes {
                if float {
                    if s >> (31 - p) & 1 == 1 {
                        let word = p * pb + 4 * (i / 32);
                        let w = le_i32(&out, word) as u32 | 1 << (31 - i % 32);
                        out[word..word + 4].copy_from_slice(&w.to_le_bytes());
                    }
                } else if s >> p & 1 == 1 {
                    out[p * pb + i / 8] |= 1 << (i % 8);
                }
            }
        }
        out
    }

    #[test]
    fn packbits_with_the_129_run() {
        assert_eq!(
            unpack_bits(&[2, 1, 2, 3, 0xFE, 7], 6).unwrap(),
            [1, 2, 3, 7, 7, 7]
        );
        // 0x80 repeats 129 times.
        assert_eq!(unpack_bits(&[0x80, 5], 129).unwrap(), vec![5; 129]);
        assert!(unpack_bits(&[0x80, 5], 128).is_none(), "overrun");
        assert!(unpack_bits(&[3, 1, 2], 4).is_none(), "ends early");
        assert!(unpack_bits(&[], 1).is_none());
    }

    #[test]
    fn int16_planes_are_zigzag_differences_that_wrap() {
        let x: [i16; 5] = [5, 3, -2, 32767, -32768];
        let mut prev = 0i32;
        let sym: Vec<u32> = x
            .iter()
            .map(|&v| {
                let d = i32::from(v) - prev;
                prev = i32::from(v);
                (2 * d.unsigned_abs()) | u32::from(d < 0)
            })
            .collect();
        assert_eq!(int16_from_planes(&planes(&sym, 17, false), 5), x);
    }

    #[test]
    fn float32_planes_are_word_reversed_differences() {
        let x: Vec<f32> = (0..40).map(|i| 100.0 + 0.5 * i as f32).collect();
        let mut prev = 0f32;
        let sym: Vec<u32> = x
            .iter()
            .map(|&v| {
                let d = v - prev;
                prev = v;
                d.to_bits()
            })
            .collect();
        assert_eq!(float32_from_planes(&planes(&sym, 32, true), 40), x);
    }

    #[test]
    fn the_small_fixture() {
        assert!(sniff(SMALL));
        assert!(!sniff(b"ADInstruments Compound File"));
        let rec = read(SMALL).unwrap();
        assert_eq!(rec.format, SourceFormat::Adicht);
        assert_eq!(rec.sample_rate.hz(), 4000.0);
        assert_eq!(rec.channels[0].label, "EMG");
        assert_eq!(rec.channels[0].unit, "V");
        // round(1000 sin(i / 50)) counts of 0.5 × 1.024 / 32768 V, in mV.
        let lsb_mv = 0.5 * 1.024 / 32768.0 * 1e3;
        let s = &rec.channels[0].samples;
        assert_eq!(s.len(), 3000);
        for i in [0usize, 1, 77, 2999] {
            let want = (1000.0 * (i as f64 / 50.0).sin()).round() * lsb_mv;
            assert!((f64::from(s[i]) - want).abs() < 1e-6, "{i}");
        }
        assert_eq!(rec.annotations.len(), 1);
        assert_eq!(rec.annotations[0].onset_s, 0.375);
        let st = rec.stimuli.unwrap();
        assert_eq!(
            (st.samples, st.origin),
            (vec![1500], StimulusOrigin::Annotations)
        );
    }

    #[test]
    fn hostile_files_are_refused() {
        let e = read(&SMALL[..100]).unwrap_err().to_string();
        assert!(e.contains("shorter than the 512-byte"), "{e}");
        let mut b = SMALL.to_vec();
        b[0] = b'X';
        assert!(read(&b)
            .unwrap_err()
            .to_string()
            .contains("not a LabChart file"));
        let mut b = SMALL.to_vec();
        b[0x98] = 40;
        assert!(read(&b).unwrap_err().to_string().contains("cluster size"));
        // A cut is refused with one line (unless it only loses unused
        // cluster-map entries at the end).
        assert!(read(&SMALL[..3000]).is_err());
        for n in (512..SMALL.len()).step_by(97) {
            if let Err(e) = read(&SMALL[..n]) {
                assert!(!e.to_string().contains('\n'), "{n}: {e}");
            }
        }
    }

    #[test]
    fn mutated_files_never_panic() {
        let mut seed = 17u64;
        for _ in 0..3000 {
            let mut b = SMALL.to_vec();
            for _ in 0..3 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let i = (seed >> 20) as usize % b.len();
                b[i] = (seed >> 40) as u8;
            }
            if let Err(e) = read(&b) {
                assert!(!e.to_string().contains('\n'));
            }
        }
    }
}
