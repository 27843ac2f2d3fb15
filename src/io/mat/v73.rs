//! MAT-file v7.3: an HDF5 file behind MATLAB's 512-byte user block
//! (`MATLAB 7.3 MAT-file …`), read with the pure-Rust, read-only
//! `hdf5-reader` crate (no C library).
//!
//! MATLAB writes each variable as a dataset (or, for a struct, a group)
//! with a `MATLAB_class` attribute (`double`, `int16`, `char`, `struct`,
//! `cell`, …), its dimensions in reverse order (a MATLAB 3 × 1000 array is
//! an HDF5 1000 × 3 dataset, so the HDF5 row-major order is MATLAB's
//! column-major one), text as `uint16` code units, and an empty array as
//! its dimensions with a `MATLAB_empty` attribute. Cells are references
//! into `#refs#` and are listed without their content; groups whose name
//! starts with `#` are MATLAB's bookkeeping and are passed over.
//!
//! Reads are bounded: an array's element count is checked against
//! [`MAX_ELEMENTS`](super::MAX_ELEMENTS) before it is read, and the
//! crate's own read budget (`max_read_bytes`) caps what one read may
//! allocate at a multiple of the file's size (what deflate can expand to).

use super::{
    Class, Ctx, Data, Loc, Num, NumClass, Value, MAX_DEPTH, MAX_ELEMENTS, MAX_NODES, SMALL,
};
use crate::error::{Error, Result};
use hdf5_reader::group::Group;
use hdf5_reader::{Dataset, Datatype, Hdf5File, OpenOptions};
use std::sync::Arc;

/// An opened v7.3 file.
pub struct File73 {
    file: Hdf5File,
}

fn h5err(ctx: &Ctx<'_>, e: hdf5_reader::error::Error) -> Error {
    // The crate's messages are one line; keep the first only, in case.
    let msg = e.to_string();
    let msg = msg.lines().next().unwrap_or("").to_string();
    ctx.bad(format!("HDF5: {msg}"))
}

/// Open from the file (`file_len` bytes), or from memory.
pub fn open(ctx: &Ctx<'_>, src: Source, file_len: u64) -> Result<File73> {
    // Deflate expands at most ~1032:1; no honest read needs more.
    let budget = usize::try_from(file_len.saturating_mul(1100).max(1 << 26)).unwrap_or(usize::MAX);
    let options = OpenOptions::default()
        .with_max_read_bytes(budget)
        .with_max_chunk_bytes(budget.min(1 << 28))
        .with_max_object_header_bytes(1 << 24)
        .with_chunk_cache_bytes(1 << 24);
    let file = match src {
        Source::File(f) => {
            let storage = hdf5_reader::FileStorage::from_file(f).map_err(|e| h5err(ctx, e))?;
            Hdf5File::from_storage_with_options(Arc::new(storage), options)
        }
        Source::Bytes(b) => Hdf5File::from_bytes_with_options(b, options),
    }
    .map_err(|e| h5err(ctx, e))?;
    Ok(File73 { file })
}

/// Where the HDF5 bytes come from.
pub enum Source<'a> {
    /// The opened file.
    File(std::fs::File),
    /// The file's bytes.
    Bytes(&'a [u8]),
}

fn class_attr(attrs: &[hdf5_reader::Attribute]) -> String {
    attrs
        .iter()
        .find(|a| a.name == "MATLAB_class")
        .and_then(|a| a.read_string().ok())
        .unwrap_or_default()
        .trim_end_matches('\0')
        .to_string()
}

impl File73 {
    /// Pass 1: every variable (and struct field, recursively).
    pub fn list(&self, ctx: &mut Ctx<'_>) -> Result<Vec<(String, Value)>> {
        let root = self.file.root_group().map_err(|e| h5err(ctx, e))?;
        self.group_members(ctx, &root, "", 0)
    }

    fn group_members(
        &self,
        ctx: &mut Ctx<'_>,
        g: &Group,
        prefix: &str,
        depth: usize,
    ) -> Result<Vec<(String, Value)>> {
        if depth > MAX_DEPTH {
            return Err(ctx.limit("levels of nested structs", depth as u64, MAX_DEPTH as u64));
        }
        let (groups, datasets) = g.members().map_err(|e| h5err(ctx, e))?;
        let mut out = Vec::new();
        for d in datasets {
            let name = base(d.name()).to_string();
            if name.starts_with('#') {
                continue;
            }
            ctx.count()?;
            let full = format!("{prefix}/{name}");
            ctx.where_ = format!("variable {}", dotted(&full));
            out.push((name, self.dataset(ctx, &d, &full)?));
        }
        for sg in groups {
            let name = base(sg.name()).to_string();
            if name.starts_with('#') {
                continue;
            }
            ctx.count()?;
            let full = format!("{prefix}/{name}");
            let attrs = sg.attributes().map_err(|e| h5err(ctx, e))?;
            let class = class_attr(&attrs);
            let value = if class.is_empty() || class == "struct" {
                let fields = self
                    .group_members(ctx, &sg, &full, depth + 1)?
                    .into_iter()
                    .map(|(n, v)| (n, vec![v]))
                    .collect();
                Value::Struct {
                    dims: vec![1, 1],
                    fields,
                }
            } else {
                Value::Other("object")
            };
            out.push((name, value));
        }
        Ok(out)
    }

    fn dataset(&self, ctx: &mut Ctx<'_>, d: &Dataset, full: &str) -> Result<Value> {
        let attrs = d.attributes();
        let class = class_attr(&attrs);
        let empty = attrs.iter().any(|a| a.name == "MATLAB_empty");
        let dims: Vec<u64> = d.shape().iter().rev().copied().collect();
        let dims = if dims.len() == 1 {
            vec![dims[0], 1]
        } else if dims.is_empty() {
            vec![1, 1]
        } else {
            dims
        };
        let n = dims
            .iter()
            .try_fold(1u64, |a, &x| a.checked_mul(x))
            .unwrap_or(u64::MAX);
        if empty {
            return Ok(Value::Empty);
        }
        let kind = match class.as_str() {
            "cell" => return Ok(Value::Other("cell")),
            "char" => {
                if n > 1 << 20 {
                    return Ok(Value::Text(Vec::new()));
                }
                let mut units = Vec::new();
                self.values(ctx, d, &mut |_, v| units.push(v as u16))?;
                let chars: Vec<char> = char::decode_utf16(units)
                    .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                    .collect();
                return Ok(Value::Text(super::char_rows(&chars, &dims)));
            }
            "" => match d.dtype() {
                Datatype::FixedPoint { .. } | Datatype::FloatingPoint { .. } => NumClass::Double,
                _ => return Ok(Value::Other("non-numeric")),
            },
            c => match Class::from_name(c) {
                Class::Numeric(k) => k,
                Class::Other(w) => return Ok(Value::Other(w)),
                Class::Struct => return Ok(Value::Other("struct")),
                Class::Cell => return Ok(Value::Other("cell")),
                Class::Char => return Ok(Value::Other("char")),
            },
        };
        // A complex array is a compound of real and imaginary parts.
        let complex = matches!(d.dtype(), Datatype::Compound { .. });
        if !complex
            && !matches!(
                d.dtype(),
                Datatype::FixedPoint { .. } | Datatype::FloatingPoint { .. }
            )
        {
            return Ok(Value::Other("non-numeric"));
        }
        if n > MAX_ELEMENTS {
            return Err(ctx.limit("elements of one array", n, MAX_ELEMENTS));
        }
        let data = if n <= SMALL && !complex {
            let mut v = Vec::new();
            self.values(ctx, d, &mut |_, x| v.push(x))?;
            Data::Loaded(v)
        } else {
            Data::Deferred(Loc::H5(full.to_string()))
        };
        Ok(Value::Num(Num {
            class: kind,
            dims,
            complex,
            data,
        }))
    }

    /// Pass 2: the values of the dataset at `full`.
    pub fn fetch(
        &self,
        ctx: &mut Ctx<'_>,
        full: &str,
        sink: &mut dyn FnMut(u64, f64),
    ) -> Result<()> {
        let d = self.file.dataset(full).map_err(|e| h5err(ctx, e))?;
        self.values(ctx, &d, sink)
    }

    fn values(&self, ctx: &Ctx<'_>, d: &Dataset, sink: &mut dyn FnMut(u64, f64)) -> Result<()> {
        let n = d.num_elements().map_err(|e| h5err(ctx, e))?;
        if n > MAX_ELEMENTS {
            return Err(ctx.limit("elements of one array", n, MAX_ELEMENTS));
        }
        macro_rules! read {
            ($t:ty) => {{
                let a = d.read_array::<$t>().map_err(|e| h5err(ctx, e))?;
                for (i, &v) in a.iter().enumerate() {
                    #[allow(clippy::cast_lossless, clippy::unnecessary_cast)]
                    sink(i as u64, v as f64);
                }
            }};
        }
        match d.dtype() {
            Datatype::FloatingPoint { size: 4, .. } => read!(f32),
            Datatype::FloatingPoint { size: 8, .. } => read!(f64),
            Datatype::FixedPoint {
                size: 1,
                signed: true,
                ..
            } => read!(i8),
            Datatype::FixedPoint {
                size: 1,
                signed: false,
                ..
            } => read!(u8),
            Datatype::FixedPoint {
                size: 2,
                signed: true,
                ..
            } => read!(i16),
            Datatype::FixedPoint {
                size: 2,
                signed: false,
                ..
            } => read!(u16),
            Datatype::FixedPoint {
                size: 4,
                signed: true,
                ..
            } => read!(i32),
            Datatype::FixedPoint {
                size: 4,
                signed: false,
                ..
            } => read!(u32),
            Datatype::FixedPoint {
                size: 8,
                signed: true,
                ..
            } => read!(i64),
            Datatype::FixedPoint {
                size: 8,
                signed: false,
                ..
            } => read!(u64),
            other => {
                return Err(ctx.bad(format!(
                    "an array of an unsupported HDF5 type ({})",
                    type_name(other)
                )))
            }
        }
        Ok(())
    }
}

fn type_name(t: &Datatype) -> &'static str {
    match t {
        Datatype::FixedPoint { .. } => "integer",
        Datatype::FloatingPoint { .. } => "float",
        Datatype::String { .. } => "string",
        Datatype::Compound { .. } => "compound",
        Datatype::Array { .. } => "array",
        Datatype::Enum { .. } => "enum",
        Datatype::VarLen { .. } => "variable-length",
        Datatype::Opaque { .. } => "opaque",
        Datatype::Reference { .. } => "reference",
        Datatype::Bitfield { .. } => "bitfield",
    }
}

fn base(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// `/rec/emg` as the dotted path `rec.emg`.
fn dotted(full: &str) -> String {
    full.trim_start_matches('/').replace('/', ".")
}

/// The node budget, shared with the level 5 parser.
impl Ctx<'_> {
    fn count(&mut self) -> Result<()> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(self.limit(
                "arrays (struct fields and cells) in the file",
                self.nodes as u64,
                MAX_NODES as u64,
            ));
        }
        Ok(())
    }
}
