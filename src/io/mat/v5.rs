//! MAT-file level 5 (MATLAB v5, v6 and v7): a 128-byte header, then one
//! data element per variable (`miMATRIX`, or `miCOMPRESSED` holding a
//! zlib-deflated `miMATRIX`), as the MathWorks "MAT-File Format" document
//! describes it.
//!
//! The parser streams: pass 1 ([`parse`]) reads every variable's class,
//! dimensions, name, struct fields and cells, keeping numeric data only for
//! arrays of at most [`SMALL`](super::SMALL) elements and the place of the
//! others; pass 2 ([`fetch`]) goes back to one variable's element and hands
//! the values of the array at a path to a sink, skipping everything else. No
//! byte count is trusted before it is checked: an element must fit in what
//! holds it (the file, or its parent element), a numeric array's data must
//! be exactly its element count times the size of its stored type, and the
//! element count is bounded by [`MAX_ELEMENTS`](super::MAX_ELEMENTS) before
//! anything is allocated. A compressed variable is inflated as it is read,
//! never whole into memory.

use super::{
    Class, Ctx, Data, Loc, Num, NumClass, Value, MAX_DEPTH, MAX_ELEMENTS, MAX_NODES, SMALL,
};
use crate::error::Result;
use std::io::{Read, Seek, SeekFrom};

/// The header's length, bytes.
pub const HEADER: u64 = 128;

/// Data element types.
const MI_INT8: u32 = 1;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;

/// Longest variable or field name accepted, bytes (MATLAB allows 63).
const MAX_NAME: u64 = 4096;
/// Most dimensions of one array.
const MAX_DIMS: u64 = 32;
/// Longest char array decoded, bytes; a longer one is listed as text
/// without its content.
const MAX_TEXT: u64 = 1 << 20;

/// Whether the 128-byte header says little-endian (`IM`), big-endian (`MI`),
/// or is no level 5 header (`None`).
pub fn endianness(head: &[u8]) -> Option<bool> {
    let v = head.get(124..128)?;
    match v {
        [0x00, 0x01, b'I', b'M'] => Some(true),
        [0x01, 0x00, b'M', b'I'] => Some(false),
        _ => None,
    }
}

/// A byte source that can pass over bytes: the file (seek) or an inflater
/// (read and drop).
trait Src: Read {
    fn skip(&mut self, n: u64) -> std::io::Result<()>;
}

struct Seeker<R>(R);
impl<R: Read + Seek> Read for Seeker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}
impl<R: Read + Seek> Src for Seeker<R> {
    fn skip(&mut self, n: u64) -> std::io::Result<()> {
        let n = i64::try_from(n).map_err(|_| std::io::ErrorKind::InvalidData)?;
        self.0.seek(SeekFrom::Current(n)).map(|_| ())
    }
}

struct Streamed<R>(R);
impl<R: Read> Read for Streamed<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}
impl<R: Read> Src for Streamed<R> {
    fn skip(&mut self, n: u64) -> std::io::Result<()> {
        let got = std::io::copy(&mut (&mut self.0).take(n), &mut std::io::sink())?;
        if got < n {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }
}

/// What a pass wants of an array: pass 1 lists, pass 2 hands the values of
/// the array at `target` to `sink` (element index, value).
enum Mode<'a> {
    List,
    Fetch {
        target: &'a [u32],
        sink: &'a mut dyn FnMut(u64, f64),
        found: bool,
    },
}

/// One variable's top-level element.
struct Top {
    offset: u64,
    kind: u32,
    nbytes: u64,
}

/// Pass 1: every variable of the file, by name, in file order. `src` is
/// at the start of a `len`-byte file whose header was checked.
pub fn parse<R: Read + Seek>(
    ctx: &mut Ctx<'_>,
    src: R,
    len: u64,
    little: bool,
) -> Result<Vec<(String, Value)>> {
    let mut r = Seeker(src);
    let mut out = Vec::new();
    let mut pos = HEADER;
    r.0.seek(SeekFrom::Start(pos)).map_err(|e| ctx.io(e))?;
    while pos < len {
        let top = top_element(ctx, &mut r, pos, len, little)?;
        let mut path = Vec::new();
        ctx.where_ = format!("variable {} (at byte {pos})", out.len() + 1);
        let named = element(
            ctx,
            &mut r,
            &top,
            little,
            &mut path,
            &mut Mode::List,
            out.len(),
        )?;
        if let Some((name, v)) = named {
            out.push((name, v));
        }
        pos = top.offset + 8 + top.nbytes;
        r.0.seek(SeekFrom::Start(pos)).map_err(|e| ctx.io(e))?;
    }
    Ok(out)
}

/// Pass 2: the values of the array at `path` inside the variable whose
/// element starts at `offset`, in MATLAB's (column-major) order.
pub fn fetch<R: Read + Seek>(
    ctx: &mut Ctx<'_>,
    src: R,
    len: u64,
    little: bool,
    offset: u64,
    path: &[u32],
    sink: &mut dyn FnMut(u64, f64),
) -> Result<()> {
    let mut r = Seeker(src);
    r.0.seek(SeekFrom::Start(offset)).map_err(|e| ctx.io(e))?;
    let top = top_element(ctx, &mut r, offset, len, little)?;
    let mut mode = Mode::Fetch {
        target: path,
        sink,
        found: false,
    };
    element(ctx, &mut r, &top, little, &mut Vec::new(), &mut mode, 0)?;
    match mode {
        Mode::Fetch { found: true, .. } => Ok(()),
        _ => Err(ctx.bad("an array read in the first pass is gone in the second".into())),
    }
}

fn top_element<R: Read + Seek>(
    ctx: &mut Ctx<'_>,
    r: &mut Seeker<R>,
    pos: u64,
    len: u64,
    little: bool,
) -> Result<Top> {
    if len - pos < 8 {
        return Err(ctx.bad(format!(
            "truncated file: {} stray bytes after the last variable at byte {pos}",
            len - pos
        )));
    }
    let mut tag = [0u8; 8];
    r.read_exact(&mut tag).map_err(|e| ctx.io(e))?;
    let kind = u32_of(&tag[0..4], little);
    let nbytes = u64::from(u32_of(&tag[4..8], little));
    if kind >> 16 != 0 {
        return Err(ctx.bad(format!(
            "the element at byte {pos} is no variable (a small data element at top level)"
        )));
    }
    let room = len - pos - 8;
    if nbytes > room {
        return Err(ctx.bad(format!(
            "truncated file: the variable at byte {pos} declares {nbytes} bytes, the file holds {room} after its tag"
        )));
    }
    Ok(Top {
        offset: pos,
        kind,
        nbytes,
    })
}

/// One top-level element: a variable (`miMATRIX`, possibly compressed), or
/// anything else, passed over (`None`).
fn element<R: Read + Seek>(
    ctx: &mut Ctx<'_>,
    r: &mut Seeker<R>,
    top: &Top,
    little: bool,
    path: &mut Vec<u32>,
    mode: &mut Mode<'_>,
    index: usize,
) -> Result<Option<(String, Value)>> {
    let offset = top.offset;
    match top.kind {
        MI_MATRIX => {
            let mut left = top.nbytes;
            matrix(ctx, r, &mut left, little, offset, path, mode, 0).map(Some)
        }
        MI_COMPRESSED => {
            let take = (&mut r.0).take(top.nbytes);
            let mut z = Streamed(flate2::read::ZlibDecoder::new(take));
            let mut tag = [0u8; 8];
            ctx.where_ = format!("compressed variable {} (at byte {offset})", index + 1);
            z.read_exact(&mut tag).map_err(|e| ctx.io(e))?;
            let kind = u32_of(&tag[0..4], little);
            if kind != MI_MATRIX {
                // Compressed non-matrix elements (none known) are passed over.
                return Ok(None);
            }
            let mut left = u64::from(u32_of(&tag[4..8], little));
            matrix(ctx, &mut z, &mut left, little, offset, path, mode, 0).map(Some)
        }
        _ => Ok(None),
    }
}

fn u32_of(b: &[u8], little: bool) -> u32 {
    let a = [b[0], b[1], b[2], b[3]];
    if little {
        u32::from_le_bytes(a)
    } else {
        u32::from_be_bytes(a)
    }
}

/// A sub-element's tag: type and byte count, and its data when it is a
/// small element (at most 4 bytes inside the tag).
struct Sub {
    kind: u32,
    len: u64,
    small: Option<[u8; 4]>,
}

impl Sub {
    /// The padding after the data of a normal element.
    fn pad(&self) -> u64 {
        if self.small.is_some() {
            0
        } else {
            (8 - self.len % 8) % 8
        }
    }
}

fn take_bytes(ctx: &Ctx<'_>, left: &mut u64, n: u64) -> Result<()> {
    if n > *left {
        return Err(ctx.bad(format!(
            "an element declares {n} bytes where its array holds {}",
            *left
        )));
    }
    *left -= n;
    Ok(())
}

fn sub_tag(ctx: &mut Ctx<'_>, r: &mut dyn Src, left: &mut u64, little: bool) -> Result<Sub> {
    take_bytes(ctx, left, 8)?;
    let mut tag = [0u8; 8];
    r.read_exact(&mut tag).map_err(|e| ctx.io(e))?;
    let first = u32_of(&tag[0..4], little);
    if first >> 16 != 0 {
        let len = u64::from(first >> 16);
        if len > 4 {
            return Err(ctx.bad(format!(
                "a small data element declares {len} bytes (at most 4)"
            )));
        }
        return Ok(Sub {
            kind: first & 0xFFFF,
            len,
            small: Some([tag[4], tag[5], tag[6], tag[7]]),
        });
    }
    let len = u64::from(u32_of(&tag[4..8], little));
    let sub = Sub {
        kind: first,
        len,
        small: None,
    };
    // The data and its padding must fit in what is left of the array.
    let pad = sub.pad();
    if len.checked_add(pad).is_none_or(|n| n > *left) {
        return Err(ctx.bad(format!(
            "an element declares {len} bytes where its array holds {}",
            *left
        )));
    }
    Ok(sub)
}

/// The bytes of a sub-element of at most `max` bytes.
fn sub_bytes(
    ctx: &mut Ctx<'_>,
    r: &mut dyn Src,
    left: &mut u64,
    sub: &Sub,
    max: u64,
    what: &str,
) -> Result<Vec<u8>> {
    if let Some(b) = sub.small {
        return Ok(b[..sub.len as usize].to_vec());
    }
    if sub.len > max {
        return Err(ctx.bad(format!("{what} of {} bytes (at most {max})", sub.len)));
    }
    let mut b = vec![0u8; sub.len as usize];
    r.read_exact(&mut b).map_err(|e| ctx.io(e))?;
    skip(ctx, r, left, sub.len, sub.pad())?;
    Ok(b)
}

/// Pass over a normal sub-element's data (already counted in `left` by
/// `sub_tag` only for the tag) and its padding.
fn skip(ctx: &mut Ctx<'_>, r: &mut dyn Src, left: &mut u64, read: u64, pad: u64) -> Result<()> {
    take_bytes(ctx, left, read)?;
    take_bytes(ctx, left, pad)?;
    r.skip(pad).map_err(|e| ctx.io(e))
}

fn skip_sub(ctx: &mut Ctx<'_>, r: &mut dyn Src, left: &mut u64, sub: &Sub) -> Result<()> {
    if sub.small.is_some() {
        return Ok(());
    }
    r.skip(sub.len).map_err(|e| ctx.io(e))?;
    skip(ctx, r, left, sub.len, sub.pad())
}

fn ints(b: &[u8], little: bool) -> Vec<i64> {
    b.chunks_exact(4)
        .map(|c| i64::from(u32_of(c, little) as i32))
        .collect()
}

/// An array (`miMATRIX` data, `left` bytes of it): class, dimensions, name,
/// then its content by class.
#[allow(clippy::too_many_arguments)]
fn matrix(
    ctx: &mut Ctx<'_>,
    r: &mut dyn Src,
    left: &mut u64,
    little: bool,
    offset: u64,
    path: &mut Vec<u32>,
    mode: &mut Mode<'_>,
    depth: usize,
) -> Result<(String, Value)> {
    count_node(ctx, depth)?;
    if *left == 0 {
        // An empty cell or field: a zero-byte matrix.
        return Ok((String::new(), Value::Empty));
    }
    let head = array_head(ctx, r, left, little)?;
    if depth == 0 && !head.name.is_empty() {
        ctx.where_ = if ctx.where_.starts_with("compressed") {
            format!("compressed variable {}", head.name)
        } else {
            format!("variable {}", head.name)
        };
    }
    let value = match head.class {
        Class::Struct => structure(ctx, r, left, little, offset, path, mode, depth, &head.dims)?,
        Class::Cell => {
            let n = head
                .count
                .ok_or_else(|| ctx.bad("a cell array's size overflows".into()))?;
            let mut items = Vec::new();
            for i in 0..n {
                let item = child(ctx, r, left, little, offset, path, mode, depth, i)?;
                items.push(item);
            }
            Value::Cell {
                dims: head.dims.clone(),
                items,
            }
        }
        Class::Char => {
            let sub = sub_tag(ctx, r, left, little)?;
            let unit = match sub.kind {
                3 | 4 | 17 => 2, // miINT16, miUINT16, miUTF16
                _ => 1,          // miINT8, miUINT8, miUTF8
            };
            if sub.len > MAX_TEXT {
                skip_sub(ctx, r, left, &sub)?;
                Value::Text(Vec::new())
            } else {
                let b = sub_bytes(ctx, r, left, &sub, MAX_TEXT, "a text")?;
                Value::Text(text_rows(&b, unit, sub.kind, &head.dims, little))
            }
        }
        Class::Numeric(kind) => {
            let at = Place { offset, path, mode };
            numeric(ctx, r, left, little, at, &head, kind)?
        }
        Class::Other(what) => Value::Other(what),
    };
    // Whatever is left (an imaginary part, sparse indices, object data) is
    // passed over.
    if *left > 0 {
        r.skip(*left).map_err(|e| ctx.io(e))?;
        *left = 0;
    }
    Ok((head.name, value))
}

/// Count one more array against the node and depth budgets.
fn count_node(ctx: &mut Ctx<'_>, depth: usize) -> Result<()> {
    ctx.nodes += 1;
    if depth > MAX_DEPTH {
        return Err(ctx.limit(
            "levels of nested structs and cells",
            depth as u64,
            MAX_DEPTH as u64,
        ));
    }
    if ctx.nodes > MAX_NODES {
        return Err(ctx.limit(
            "arrays (struct fields and cells) in the file",
            ctx.nodes as u64,
            MAX_NODES as u64,
        ));
    }
    Ok(())
}

/// What an array's first three sub-elements say.
struct Head {
    name: String,
    dims: Vec<u64>,
    /// The element count, `None` when it overflows.
    count: Option<u64>,
    class: Class,
    complex: bool,
}

/// An array's flags, dimensions and name.
fn array_head(ctx: &mut Ctx<'_>, r: &mut dyn Src, left: &mut u64, little: bool) -> Result<Head> {
    let sub = sub_tag(ctx, r, left, little)?;
    if sub.kind != MI_UINT32 || sub.len != 8 {
        return Err(ctx.bad("an array has no array-flags element".into()));
    }
    let flags = sub_bytes(ctx, r, left, &sub, 8, "array flags")?;
    let f0 = u32_of(&flags[0..4], little);
    let class_code = f0 & 0xFF;
    let complex = f0 & 0x800 != 0;
    let logical = f0 & 0x200 != 0;

    let sub = sub_tag(ctx, r, left, little)?;
    if sub.kind != MI_INT32 || sub.len % 4 != 0 || sub.len == 0 {
        return Err(ctx.bad("an array has no dimensions element".into()));
    }
    let dims_b = sub_bytes(ctx, r, left, &sub, MAX_DIMS * 4, "a dimensions element")?;
    let dims_i = ints(&dims_b, little);
    if dims_i.iter().any(|&d| d < 0) {
        return Err(ctx.bad(format!("an array has negative dimensions {dims_i:?}")));
    }
    let dims: Vec<u64> = dims_i.iter().map(|&d| d as u64).collect();

    let sub = sub_tag(ctx, r, left, little)?;
    if sub.kind != MI_INT8 {
        return Err(ctx.bad("an array has no name element".into()));
    }
    let name_b = sub_bytes(ctx, r, left, &sub, MAX_NAME, "a name")?;
    let name = String::from_utf8_lossy(&name_b)
        .trim_end_matches('\0')
        .to_string();
    Ok(Head {
        name,
        count: dims.iter().try_fold(1u64, |a, &d| a.checked_mul(d)),
        dims,
        class: Class::from_code(class_code, logical),
        complex,
    })
}

/// Where an array sits, for the second pass, and what the pass wants.
struct Place<'p, 'm, 's> {
    offset: u64,
    path: &'p mut Vec<u32>,
    mode: &'m mut Mode<'s>,
}

/// A numeric array's data: checked against its element count, then kept
/// (small arrays), handed to the sink (the fetched one) or passed over.
fn numeric(
    ctx: &mut Ctx<'_>,
    r: &mut dyn Src,
    left: &mut u64,
    little: bool,
    at: Place<'_, '_, '_>,
    head: &Head,
    kind: NumClass,
) -> Result<Value> {
    let n = head
        .count
        .ok_or_else(|| ctx.limit("elements of one array", u64::MAX, MAX_ELEMENTS))?;
    if n > MAX_ELEMENTS {
        return Err(ctx.limit("elements of one array", n, MAX_ELEMENTS));
    }
    let num = |data| {
        Value::Num(Num {
            class: kind,
            dims: head.dims.clone(),
            complex: head.complex,
            data,
        })
    };
    if n == 0 {
        // An empty array may omit its data element's bytes; take what is there.
        return Ok(num(Data::Loaded(Vec::new())));
    }
    let sub = sub_tag(ctx, r, left, little)?;
    let size = type_size(sub.kind)
        .ok_or_else(|| ctx.bad(format!("numeric data of unknown type {}", sub.kind)))?;
    if sub.len != n * size {
        return Err(ctx.bad(format!(
            "an array of {n} elements holds {} bytes of {size}-byte values (expected {})",
            sub.len,
            n * size
        )));
    }
    let here = matches!(&*at.mode, Mode::Fetch { target, .. } if *target == at.path.as_slice());
    let data = if here {
        if let Mode::Fetch { sink, found, .. } = at.mode {
            values(ctx, r, &sub, little, n, &mut **sink)?;
            *found = true;
        }
        skip(ctx, r, left, sub.len, sub.pad())?;
        Data::Loaded(Vec::new())
    } else if n <= SMALL && matches!(at.mode, Mode::List) {
        let mut v = Vec::with_capacity(n as usize);
        values(ctx, r, &sub, little, n, &mut |_, x| v.push(x))?;
        skip(ctx, r, left, sub.len, sub.pad())?;
        Data::Loaded(v)
    } else {
        skip_sub(ctx, r, left, &sub)?;
        Data::Deferred(Loc::V5 {
            offset: at.offset,
            path: at.path.clone(),
        })
    };
    Ok(num(data))
}

/// A struct array: field names, then each element's fields in order.
#[allow(clippy::too_many_arguments)]
fn structure(
    ctx: &mut Ctx<'_>,
    r: &mut dyn Src,
    left: &mut u64,
    little: bool,
    offset: u64,
    path: &mut Vec<u32>,
    mode: &mut Mode<'_>,
    depth: usize,
    dims: &[u64],
) -> Result<Value> {
    let sub = sub_tag(ctx, r, left, little)?;
    if sub.kind != MI_INT32 {
        return Err(ctx.bad("a struct has no field-name length".into()));
    }
    let b = sub_bytes(ctx, r, left, &sub, 8, "a field-name length")?;
    let width = ints(&b, little).first().copied().unwrap_or(0);
    if !(1..=MAX_NAME as i64).contains(&width) {
        return Err(ctx.bad(format!("a struct's field names are {width} bytes long")));
    }
    let sub = sub_tag(ctx, r, left, little)?;
    let names_b = sub_bytes(ctx, r, left, &sub, MAX_NODES as u64 * 64, "field names")?;
    let names: Vec<String> = names_b
        .chunks(width as usize)
        .map(|c| {
            String::from_utf8_lossy(c)
                .trim_end_matches('\0')
                .to_string()
        })
        .collect();
    let n = dims
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d))
        .ok_or_else(|| ctx.bad("a struct array's size overflows".into()))?;
    let mut fields: Vec<(String, Vec<Value>)> =
        names.iter().map(|n| (n.clone(), Vec::new())).collect();
    let nf = names.len() as u64;
    // Without fields a struct array holds nothing, however large its dims:
    // no loop over its elements (2^62 of them would never end).
    let n = if nf == 0 { 0 } else { n };
    for e in 0..n {
        for (f, field) in fields.iter_mut().enumerate() {
            let i = e * nf + f as u64;
            let v = child(ctx, r, left, little, offset, path, mode, depth, i)?;
            field.1.push(v);
        }
    }
    Ok(Value::Struct {
        dims: dims.to_vec(),
        fields,
    })
}

/// The `i`-th array inside a struct or cell. In a fetch, only the one on
/// the way to the target is parsed; the others are passed over.
#[allow(clippy::too_many_arguments)]
fn child(
    ctx: &mut Ctx<'_>,
    r: &mut dyn Src,
    left: &mut u64,
    little: bool,
    offset: u64,
    path: &mut Vec<u32>,
    mode: &mut Mode<'_>,
    depth: usize,
    i: u64,
) -> Result<Value> {
    let sub = sub_tag(ctx, r, left, little)?;
    if sub.kind != MI_MATRIX || sub.small.is_some() {
        return Err(ctx.bad(format!(
            "a struct field or cell holds a data element of type {}, not an array",
            sub.kind
        )));
    }
    let i32_ = u32::try_from(i).map_err(|_| ctx.bad("too many struct fields or cells".into()))?;
    path.push(i32_);
    let on_way = match mode {
        Mode::List => true,
        Mode::Fetch { target, found, .. } => !*found && target.starts_with(path),
    };
    let out = if on_way {
        take_bytes(ctx, left, sub.len)?;
        let mut inner = sub.len;
        matrix(ctx, r, &mut inner, little, offset, path, mode, depth + 1).map(|(_, v)| v)
    } else {
        skip_sub(ctx, r, left, &sub).map(|_| Value::Empty)
    };
    path.pop();
    out
}

fn type_size(kind: u32) -> Option<u64> {
    match kind {
        1 | 2 => Some(1),   // int8, uint8
        3 | 4 => Some(2),   // int16, uint16
        5..=7 => Some(4),   // int32, uint32, single
        9 => Some(8),       // double
        12 | 13 => Some(8), // int64, uint64
        _ => None,
    }
}

/// Decode `n` values of the stored type of `sub`, calling `sink` with each
/// element's index and value.
fn values(
    ctx: &mut Ctx<'_>,
    r: &mut dyn Src,
    sub: &Sub,
    little: bool,
    n: u64,
    sink: &mut dyn FnMut(u64, f64),
) -> Result<()> {
    let size = type_size(sub.kind).unwrap_or(1) as usize;
    let conv = |b: &[u8]| -> f64 {
        macro_rules! get {
            ($t:ty) => {{
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.copy_from_slice(b);
                if little {
                    <$t>::from_le_bytes(a)
                } else {
                    <$t>::from_be_bytes(a)
                }
            }};
        }
        match sub.kind {
            1 => f64::from(b[0] as i8),
            2 => f64::from(b[0]),
            3 => f64::from(get!(i16)),
            4 => f64::from(get!(u16)),
            5 => f64::from(get!(i32)),
            6 => f64::from(get!(u32)),
            7 => f64::from(get!(f32)),
            9 => get!(f64),
            12 => get!(i64) as f64,
            _ => get!(u64) as f64,
        }
    };
    if let Some(b) = sub.small {
        for (i, c) in b[..sub.len as usize].chunks_exact(size).enumerate() {
            sink(i as u64, conv(c));
        }
        return Ok(());
    }
    let mut buf = vec![0u8; (64 * 1024 / size) * size];
    let mut done = 0u64;
    while done < n {
        let k = ((n - done) as usize).min(buf.len() / size);
        let b = &mut buf[..k * size];
        r.read_exact(b).map_err(|e| ctx.io(e))?;
        for (j, c) in b.chunks_exact(size).enumerate() {
            sink(done + j as u64, conv(c));
        }
        done += k as u64;
    }
    Ok(())
}

/// A char array's rows (a char matrix holds one string per row, stored
/// column by column).
fn text_rows(b: &[u8], unit: usize, kind: u32, dims: &[u64], little: bool) -> Vec<String> {
    let chars: Vec<char> = if unit == 2 {
        let u: Vec<u16> = b
            .chunks_exact(2)
            .map(|c| {
                if little {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        char::decode_utf16(u)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    } else if kind == 16 {
        String::from_utf8_lossy(b).chars().collect()
    } else {
        b.iter().map(|&c| char::from(c)).collect()
    };
    super::char_rows(&chars, dims)
}
