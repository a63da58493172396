//! NumPy's `.npy` and `.npz` files: how trained weights and data sets leave Python.
//!
//! [`Npy::parse`] reads one array (format versions 1 to 3, little-endian, in C or Fortran order,
//! always giving the elements in C order);
//! [`Npz::parse`] reads an archive of them as `np.savez` (stored) or `np.savez_compressed`
//! (deflated) writes it. Both read from bytes, so that `include_bytes!` works as well as a file;
//! [`Npz::load`] reads a file. Every defect of a file is an [`NpyError`], never a panic.
//!
//! ```
//! use tfcore::npy::Npy;
//!
//! // np.save of np.array([1.5, -2.0], dtype=np.float32)
//! let mut file = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
//! let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
//! file.extend_from_slice(format!("{header:<117}\n").as_bytes());
//! file.extend_from_slice(&1.5f32.to_le_bytes());
//! file.extend_from_slice(&(-2.0f32).to_le_bytes());
//!
//! let array = Npy::parse(&file)?;
//! assert_eq!(array.shape(), &[2]);
//! assert_eq!(array.to_vec::<f32>()?, vec![1.5, -2.0]);
//! assert!(array.to_vec::<f64>().is_err()); // the dtype must match
//! # Ok::<(), tfcore::npy::NpyError>(())
//! ```

use core::fmt;
use std::format;
use std::string::{String, ToString};
use std::vec;
use std::vec::Vec;

/// The element types an array can hold.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dtype {
    /// `<f4`
    Float32,
    /// `<f8`
    Float64,
    /// `<i4`
    Int32,
    /// `<i8`
    Int64,
    /// `|u1`
    UInt8,
    /// `|i1`
    Int8,
    /// `|b1`
    Bool,
}

impl Dtype {
    fn from_descr(descr: &str) -> Option<Dtype> {
        Some(match descr {
            "<f4" => Dtype::Float32,
            "<f8" => Dtype::Float64,
            "<i4" => Dtype::Int32,
            "<i8" => Dtype::Int64,
            "|u1" | "<u1" => Dtype::UInt8,
            "|i1" | "<i1" => Dtype::Int8,
            "|b1" => Dtype::Bool,
            _ => return None,
        })
    }

    /// The bytes of one element.
    pub fn size(self) -> usize {
        match self {
            Dtype::Float32 | Dtype::Int32 => 4,
            Dtype::Float64 | Dtype::Int64 => 8,
            Dtype::UInt8 | Dtype::Int8 | Dtype::Bool => 1,
        }
    }

    /// The TensorFlow name: `float32`.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::Float32 => "float32",
            Dtype::Float64 => "float64",
            Dtype::Int32 => "int32",
            Dtype::Int64 => "int64",
            Dtype::UInt8 => "uint8",
            Dtype::Int8 => "int8",
            Dtype::Bool => "bool",
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What can go wrong reading a `.npy` or `.npz` file.
#[derive(Debug)]
#[non_exhaustive]
pub enum NpyError {
    /// The bytes do not start with `\x93NUMPY`, or the header cannot be read.
    NotNpy(String),
    /// A dtype this reader does not handle (big-endian, strings, objects, other widths).
    UnsupportedDtype(String),
    /// The data is shorter than the header's shape says.
    Truncated {
        /// The bytes the shape needs.
        expected: usize,
        /// The bytes there are.
        found: usize,
    },
    /// The bytes are not a zip archive that `np.savez` could have written.
    NotNpz(String),
    /// No array of that name in the archive.
    MissingKey {
        /// The name asked for, without `.npy`.
        key: String,
        /// The names there are.
        available: Vec<String>,
    },
    /// The array has another shape than the tensor it is read into.
    ShapeMismatch {
        /// The array's name in its archive.
        key: String,
        /// The tensor's shape.
        expected: Vec<usize>,
        /// The array's.
        found: Vec<usize>,
    },
    /// The array holds another dtype than the one asked for.
    DtypeMismatch {
        /// The dtype asked for.
        expected: Dtype,
        /// The array's dtype.
        found: Dtype,
    },
    /// An error of the file system (with `std`).
    Io(std::io::Error),
}

impl fmt::Display for NpyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NpyError::NotNpy(why) => write!(f, "not a .npy array: {why}"),
            NpyError::UnsupportedDtype(d) => {
                write!(
                    f,
                    "unsupported dtype `{d}` (float32, float64, int32, int64, uint8 and bool, little-endian, are)"
                )
            }
            NpyError::Truncated { expected, found } => {
                write!(f, "the data is truncated: the shape needs {expected} bytes, the file has {found}")
            }
            NpyError::NotNpz(why) => write!(f, "not a .npz archive: {why}"),
            NpyError::MissingKey { key, available } => {
                write!(f, "no array `{key}` in the archive (it has: {})", available.join(", "))
            }
            NpyError::DtypeMismatch { expected, found } => write!(f, "the array is `{found}`, not `{expected}`"),
            NpyError::ShapeMismatch { key, expected, found } => {
                write!(f, "`{key}` has shape {found:?}, but the graph's tensor has shape {expected:?}")
            }
            NpyError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for NpyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NpyError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for NpyError {
    fn from(e: std::io::Error) -> NpyError {
        NpyError::Io(e)
    }
}

/// A Rust type an array's elements can be read as.
pub trait Element: Sized + Copy {
    /// The dtype it reads.
    const DTYPE: Dtype;
    /// One element from its little-endian bytes (`Self::DTYPE.size()` of them).
    fn from_le(bytes: &[u8]) -> Self;
    /// Appends its little-endian bytes.
    fn write_le(self, out: &mut Vec<u8>);
}

macro_rules! element {
    ($($t:ty => $dtype:ident),*) => {$(
        impl Element for $t {
            const DTYPE: Dtype = Dtype::$dtype;
            fn from_le(bytes: &[u8]) -> Self {
                let mut a = [0; core::mem::size_of::<$t>()];
                a.copy_from_slice(bytes);
                <$t>::from_le_bytes(a)
            }
            fn write_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
element!(f32 => Float32, f64 => Float64, i32 => Int32, i64 => Int64, u8 => UInt8, i8 => Int8);

impl Element for bool {
    const DTYPE: Dtype = Dtype::Bool;
    fn from_le(bytes: &[u8]) -> Self {
        bytes[0] != 0
    }
    fn write_le(self, out: &mut Vec<u8>) {
        out.push(u8::from(self));
    }
}

impl Dtype {
    fn descr(self) -> &'static str {
        match self {
            Dtype::Float32 => "<f4",
            Dtype::Float64 => "<f8",
            Dtype::Int32 => "<i4",
            Dtype::Int64 => "<i8",
            Dtype::UInt8 => "|u1",
            Dtype::Int8 => "|i1",
            Dtype::Bool => "|b1",
        }
    }
}

/// One array: its dtype, its shape and its elements' bytes in C order.
#[derive(Clone, Debug, PartialEq)]
pub struct Npy {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl Npy {
    /// Reads a `.npy` file's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Npy, NpyError> {
        let not = |why: &str| NpyError::NotNpy(why.into());
        let rest = bytes.strip_prefix(b"\x93NUMPY").ok_or_else(|| not("it does not start with `\\x93NUMPY`"))?;
        let (major, rest) = rest.split_at_checked(2).ok_or_else(|| not("it ends inside its header"))?;
        let (len, rest) = match major[0] {
            1 => rest.split_at_checked(2).map(|(l, r)| (u16::from_le_bytes([l[0], l[1]]) as usize, r)),
            2 | 3 => rest.split_at_checked(4).map(|(l, r)| (u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize, r)),
            _ => return Err(not("unknown format version")),
        }
        .ok_or_else(|| not("it ends inside its header"))?;
        let (header, data) = rest.split_at_checked(len).ok_or_else(|| not("it ends inside its header"))?;
        let header = core::str::from_utf8(header).map_err(|_| not("its header is not text"))?;
        let descr = dict_value(header, "descr").ok_or_else(|| not("its header has no `descr`"))?;
        let descr = descr.trim_matches(|c| c == '\'' || c == '"');
        let dtype = Dtype::from_descr(descr).ok_or_else(|| NpyError::UnsupportedDtype(descr.into()))?;
        let fortran = match dict_value(header, "fortran_order") {
            Some("False") => false,
            Some("True") => true,
            _ => return Err(not("its header has no `fortran_order`")),
        };
        let shape_text = dict_value(header, "shape").ok_or_else(|| not("its header has no `shape`"))?;
        let inner = shape_text
            .strip_prefix('(')
            .and_then(|s| s.strip_suffix(')'))
            .ok_or_else(|| not("its `shape` is not a tuple"))?;
        let mut shape = Vec::new();
        for part in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            shape.push(
                part.trim_end_matches('L').parse::<usize>().map_err(|_| not("its `shape` is not a tuple of sizes"))?,
            );
        }
        let count =
            shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).ok_or_else(|| not("its shape is too large"))?;
        let expected = count.checked_mul(dtype.size()).ok_or_else(|| not("its shape is too large"))?;
        if data.len() < expected {
            return Err(NpyError::Truncated { expected, found: data.len() });
        }
        let data = &data[..expected];
        let data = if fortran { c_order(data, &shape, dtype.size()) } else { data.to_vec() };
        Ok(Npy { dtype, shape, data })
    }

    /// The dtype of the elements.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// The shape (`[]` for a scalar).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.data.len() / self.dtype.size()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The elements in C (row-major) order, as `T`, which must be the array's dtype.
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>, NpyError> {
        if T::DTYPE != self.dtype {
            return Err(NpyError::DtypeMismatch { expected: T::DTYPE, found: self.dtype });
        }
        Ok(self.data.chunks_exact(self.dtype.size()).map(T::from_le).collect())
    }
}

/// The bytes of an array stored in Fortran (column-major) order, rearranged into C (row-major)
/// order: the element at index `i` sits at `sum(i[k] * stride[k])` with `stride[0] = 1`.
fn c_order(data: &[u8], shape: &[usize], size: usize) -> Vec<u8> {
    let mut strides = vec![1usize; shape.len()];
    for k in 1..shape.len() {
        strides[k] = strides[k - 1] * shape[k - 1];
    }
    let count = data.len() / size.max(1);
    let mut out = Vec::with_capacity(data.len());
    let mut index = vec![0usize; shape.len()];
    for _ in 0..count {
        let at: usize = index.iter().zip(&strides).map(|(i, s)| i * s).sum();
        out.extend_from_slice(&data[at * size..(at + 1) * size]);
        // The next index in row-major order: the last dimension moves fastest.
        for k in (0..shape.len()).rev() {
            index[k] += 1;
            if index[k] < shape[k] {
                break;
            }
            index[k] = 0;
        }
    }
    out
}

/// A `.npy` file of `shape` holding `elements` (C order), as `np.save` writes it (format 1.0).
pub fn write_npy<T: Element>(shape: &[usize], elements: impl IntoIterator<Item = T>) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '{}', 'fortran_order': False, 'shape': {tuple}, }}", T::DTYPE.descr());
    // Padded with spaces and ended by a newline so that the data starts at a multiple of 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for x in elements {
        x.write_le(&mut out);
    }
    out
}

/// The text of `'key': value` in a header dict, up to the next top-level comma.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let quoted = [format!("'{key}'"), format!("\"{key}\"")];
    let at = quoted.iter().find_map(|q| header.find(q.as_str()).map(|i| i + q.len()))?;
    let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
    let mut depth = 0i32;
    for (i, c) in rest.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' | '}' if depth == 0 => return Some(rest[..i].trim()),
            _ => {}
        }
    }
    None
}

/// The arrays of a `.npz` archive, by name (`np.savez(f, w=...)` names one `w`).
#[derive(Clone, Debug, PartialEq)]
pub struct Npz {
    arrays: Vec<(String, Npy)>,
}

impl Npz {
    /// Reads a `.npz` file's bytes: a zip archive of `.npy` files, stored or deflated.
    pub fn parse(bytes: &[u8]) -> Result<Npz, NpyError> {
        let mut arrays = Vec::new();
        for entry in zip_entries(bytes)? {
            let data = match entry.method {
                0 => entry.data.to_vec(),
                8 => miniz_oxide::inflate::decompress_to_vec_with_limit(entry.data, entry.size)
                    .map_err(|e| NpyError::NotNpz(format!("`{}` does not inflate: {:?}", entry.name, e.status)))?,
                m => return Err(NpyError::NotNpz(format!("`{}` uses compression method {m}", entry.name))),
            };
            let name = entry.name.strip_suffix(".npy").unwrap_or(entry.name);
            let array = Npy::parse(&data).map_err(|e| match e {
                NpyError::NotNpy(why) => NpyError::NotNpy(format!("`{}`: {why}", entry.name)),
                other => other,
            })?;
            arrays.push((name.to_string(), array));
        }
        Ok(Npz { arrays })
    }

    /// Reads a `.npz` file.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Npz, NpyError> {
        Npz::parse(&std::fs::read(path)?)
    }

    /// The array named `key` (without `.npy`).
    pub fn get(&self, key: &str) -> Result<&Npy, NpyError> {
        self.arrays.iter().find(|(name, _)| name == key).map(|(_, a)| a).ok_or_else(|| NpyError::MissingKey {
            key: key.into(),
            available: self.names().map(String::from).collect(),
        })
    }

    /// The names of the arrays, in the archive's order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.arrays.iter().map(|(name, _)| name.as_str())
    }
}

/// The bytes of a file.
pub type Bytes = Vec<u8>;

/// A file system path.
pub use std::path::Path;

/// The bytes of the file at `path`.
pub fn read_file(path: impl AsRef<std::path::Path>) -> Result<Bytes, NpyError> {
    Ok(std::fs::read(path)?)
}

/// Writes `bytes` to the file at `path`.
pub fn write_file(path: impl AsRef<std::path::Path>, bytes: &[u8]) -> Result<(), NpyError> {
    Ok(std::fs::write(path, bytes)?)
}

/// Writes a `.npz` archive as `np.savez` does (stored, not compressed): add arrays, then
/// [`NpzWriter::finish`].
#[derive(Default)]
pub struct NpzWriter {
    out: Vec<u8>,
    central: Vec<u8>,
    count: u16,
}

impl NpzWriter {
    /// An empty archive.
    pub fn new() -> NpzWriter {
        NpzWriter::default()
    }

    /// Adds the `.npy` file `npy` as the array `name`.
    pub fn add(&mut self, name: &str, npy: &[u8]) {
        let file = format!("{name}.npy");
        let (crc, size, offset) = (crc32(npy), npy.len() as u32, self.out.len() as u32);
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&20u16.to_le_bytes()); // version needed
            v.extend_from_slice(&0u16.to_le_bytes()); // flags
            v.extend_from_slice(&0u16.to_le_bytes()); // stored
            v.extend_from_slice(&0u16.to_le_bytes()); // time
            v.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
            v.extend_from_slice(&crc.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&(file.len() as u16).to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra
        };
        self.out.extend_from_slice(b"PK\x03\x04");
        common(&mut self.out);
        self.out.extend_from_slice(file.as_bytes());
        self.out.extend_from_slice(npy);
        self.central.extend_from_slice(b"PK\x01\x02");
        self.central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        common(&mut self.central);
        self.central.extend_from_slice(&[0; 10]); // comment length, disk, internal and external attributes
        self.central.extend_from_slice(&offset.to_le_bytes());
        self.central.extend_from_slice(file.as_bytes());
        self.count += 1;
    }

    /// The archive's bytes.
    pub fn finish(mut self) -> Vec<u8> {
        let (start, size) = (self.out.len() as u32, self.central.len() as u32);
        self.out.extend_from_slice(&self.central);
        self.out.extend_from_slice(b"PK\x05\x06");
        self.out.extend_from_slice(&[0; 4]); // disk numbers
        self.out.extend_from_slice(&self.count.to_le_bytes());
        self.out.extend_from_slice(&self.count.to_le_bytes());
        self.out.extend_from_slice(&size.to_le_bytes());
        self.out.extend_from_slice(&start.to_le_bytes());
        self.out.extend_from_slice(&0u16.to_le_bytes()); // comment
        self.out
    }
}

/// The CRC-32 of zip archives (polynomial 0xEDB88320), bit by bit: weights are written rarely.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A tensor type of generated code that can be read from and written to an array of a `.npz`
/// archive, given the graph's shape for it (which tells a `[3]` vector from a `[3, 1]` matrix,
/// both `SVector<f32, 3>`). Generated `Variables::from_npz` and `to_npz` use it.
pub trait NpyTensor: Sized {
    /// The tensor stored in `npz` under `key`, which must have `shape`.
    fn read(npz: &Npz, key: &str, shape: &[usize]) -> Result<Self, NpyError>;
    /// Adds the tensor to `out` under `key`, with `shape`.
    fn write(&self, out: &mut NpzWriter, key: &str, shape: &[usize]);
}

/// The elements of `key` in `npz`, checked against `shape`.
pub fn elements<T: Element>(npz: &Npz, key: &str, shape: &[usize]) -> Result<Vec<T>, NpyError> {
    let array = npz.get(key)?;
    if array.shape() != shape {
        return Err(NpyError::ShapeMismatch {
            key: key.into(),
            expected: shape.to_vec(),
            found: array.shape().to_vec(),
        });
    }
    array.to_vec::<T>()
}

impl<T: Element> NpyTensor for T {
    fn read(npz: &Npz, key: &str, shape: &[usize]) -> Result<Self, NpyError> {
        Ok(elements::<T>(npz, key, shape)?[0])
    }
    fn write(&self, out: &mut NpzWriter, key: &str, shape: &[usize]) {
        out.add(key, &write_npy(shape, [*self]));
    }
}

/// A file of a zip archive.
struct ZipEntry<'a> {
    name: &'a str,
    method: u16,
    /// Uncompressed size.
    size: usize,
    data: &'a [u8],
}

/// The files of a zip archive, found through its central directory (as `np.savez` writes it:
/// the local headers' sizes are in zip64 extra fields, the central directory's are plain).
fn zip_entries(bytes: &[u8]) -> Result<Vec<ZipEntry<'_>>, NpyError> {
    let bad = |why: &str| NpyError::NotNpz(why.into());
    let u16_at = |at: usize| bytes.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let u32_at = |at: usize| bytes.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    // The end of central directory record: its signature, searched from the end (a comment of up
    // to 64 KiB may follow it).
    let end = (0..bytes.len().saturating_sub(21))
        .rev()
        .take(65_536 + 22)
        .find(|&i| bytes[i..].starts_with(b"PK\x05\x06"))
        .ok_or_else(|| bad("no end of central directory"))?;
    let count = u16_at(end + 10).ok_or_else(|| bad("truncated"))?;
    let mut at = u32_at(end + 16).ok_or_else(|| bad("truncated"))?;
    if at == 0xFFFF_FFFF {
        return Err(bad("zip64 archives (over 4 GiB) are not supported"));
    }
    let mut entries = Vec::new();
    for _ in 0..count {
        if !bytes.get(at..).is_some_and(|b| b.starts_with(b"PK\x01\x02")) {
            return Err(bad("a central directory entry is damaged"));
        }
        let field = |offset: usize| u32_at(at + offset).ok_or_else(|| bad("truncated"));
        let method = u16_at(at + 10).ok_or_else(|| bad("truncated"))? as u16;
        let (compressed, size, local) = (field(20)?, field(24)?, field(42)?);
        let (name_len, extra_len, comment_len) = (u16_at(at + 28), u16_at(at + 30), u16_at(at + 32));
        let (Some(name_len), Some(extra_len), Some(comment_len)) = (name_len, extra_len, comment_len) else {
            return Err(bad("truncated"));
        };
        let name = bytes.get(at + 46..at + 46 + name_len).ok_or_else(|| bad("truncated"))?;
        let name = core::str::from_utf8(name).map_err(|_| bad("a file name is not UTF-8"))?;
        if [compressed, size, local].contains(&0xFFFF_FFFF) {
            return Err(bad("zip64 entries (over 4 GiB) are not supported"));
        }
        if !bytes.get(local..).is_some_and(|b| b.starts_with(b"PK\x03\x04")) {
            return Err(bad("a local file header is damaged"));
        }
        let (Some(local_name), Some(local_extra)) = (u16_at(local + 26), u16_at(local + 28)) else {
            return Err(bad("truncated"));
        };
        let start = local + 30 + local_name + local_extra;
        let data = bytes.get(start..start + compressed).ok_or_else(|| bad("truncated"))?;
        entries.push(ZipEntry { name, method, size, data });
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        let header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        let padded = format!("{header:<117}\n");
        out.extend_from_slice(&(padded.len() as u16).to_le_bytes());
        out.extend_from_slice(padded.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn arrays_of_every_dtype() {
        let a = Npy::parse(&npy("<i8", "(2, 1)", &[7, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255]))
            .unwrap();
        assert_eq!((a.shape(), a.to_vec::<i64>().unwrap()), (&[2, 1][..], vec![7, -1]));
        let s = Npy::parse(&npy("<f8", "()", &2.5f64.to_le_bytes())).unwrap();
        assert_eq!((s.shape(), s.to_vec::<f64>().unwrap()), (&[][..], vec![2.5]));
        let b = Npy::parse(&npy("|b1", "(3,)", &[1, 0, 1])).unwrap();
        assert_eq!(b.to_vec::<bool>().unwrap(), vec![true, false, true]);
    }

    #[test]
    fn fortran_order_reads_in_c_order() {
        // np.asfortranarray([[1, 2, 3], [4, 5, 6]], dtype=np.uint8) stores 1 4 2 5 3 6
        let header = "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3), }";
        let mut f = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
        f.extend_from_slice(format!("{header:<117}\n").as_bytes());
        f.extend_from_slice(&[1, 4, 2, 5, 3, 6]);
        assert_eq!(Npy::parse(&f).unwrap().to_vec::<u8>().unwrap(), vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn defects_are_errors() {
        assert!(matches!(Npy::parse(b"PK\x03\x04"), Err(NpyError::NotNpy(_))));
        assert!(matches!(Npy::parse(b"\x93NUMPY\x01\x00\xff"), Err(NpyError::NotNpy(_))));
        assert!(matches!(Npy::parse(&npy(">f4", "(1,)", &[0; 4])), Err(NpyError::UnsupportedDtype(_))));
        assert!(matches!(
            Npy::parse(&npy("<f4", "(3,)", &[0; 8])),
            Err(NpyError::Truncated { expected: 12, found: 8 })
        ));
        let f = npy("<f4", "(1,)", &[0; 4]);
        assert!(matches!(Npy::parse(&f).unwrap().to_vec::<i32>(), Err(NpyError::DtypeMismatch { .. })));
        // every prefix of a good file fails cleanly
        for n in 0..f.len() {
            assert!(Npy::parse(&f[..n]).is_err());
        }
        assert!(matches!(Npz::parse(b"not a zip"), Err(NpyError::NotNpz(_))));
    }
}
