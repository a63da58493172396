//! Feeds whose `None` dimensions are known only at run time: the error a wrong one gives, and the
//! workspace their temporaries live in.

#[cfg(feature = "alloc")]
use crate::array::{line_slack, to_line};
use core::fmt;

/// Why a fetch fed values of run-time size (`DMatrix`, `DVector`, `DArray`, views of them) did
/// not run: a feed's shape does not fit its placeholder. Nothing was computed and the session is
/// unchanged.
///
/// Fed only statically sized matrices, a fetch cannot fail: its shapes were checked when the crate
/// compiled, and `Session::run` returns the plain value. Fed a `DMatrix`, it returns
/// `Result<_, FeedError>`.
///
/// ```
/// use tfcore::graph;
/// use tfcore::nalgebra::{DMatrix, DVector};
///
/// graph! {
///     mod model {
///         let W = tf.Variable(tf.ones([2, 1]));
///         let X = tf.placeholder(tf.float32, [None, 2]);
///         let Y = tf.placeholder(tf.float32, [None, 1]);
///         let loss = tf.reduce_sum(tf.square(tf.matmul(X, W) - Y));
///     }
/// }
///
/// let mut sess = model::Session::new();
/// let x = DMatrix::<f32>::zeros(1000, 3);
/// let y = DMatrix::<f32>::zeros(1000, 1);
/// let err = sess.run(model::loss { X: &x, Y: &y }).unwrap_err();
/// assert_eq!(err.to_string(), "cannot feed a value of shape [1000, 3] to `X`, which has shape [None, 2]");
///
/// let x = DMatrix::<f32>::zeros(1000, 2);
/// let y = DMatrix::<f32>::zeros(999, 1);
/// let err = sess.run(model::loss { X: &x, Y: &y }).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "`Y` was fed 999 along its dimension 0 and `X` 1000 along its dimension 0: they share a `None` dimension, so they must be fed the same size"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedError {
    /// A dimension the placeholder fixes was fed another size.
    Shape {
        /// The placeholder, named as in the graph.
        placeholder: &'static str,
        /// The shape fed (its first `rank` entries).
        fed: [usize; 4],
        /// The rank of the placeholder (and of `fed`).
        rank: usize,
        /// The placeholder's shape as the graph declares it: `[None, 2]`.
        expected: &'static str,
    },
    /// A feed's elements are not laid out in row-major order (an `ndarray` view with steps, a
    /// transposed one): a placeholder of rank 3 or 4 reads them as one slice.
    Layout {
        /// The placeholder, named as in the graph.
        placeholder: &'static str,
    },
    /// Two feeds were given different sizes for a `None` dimension they share (the rows of `X`
    /// and of `Y`).
    Disagree {
        /// The placeholder fed a size that differs from the first one's.
        placeholder: &'static str,
        /// Which of its dimensions.
        dim: usize,
        /// The size it was fed there.
        size: usize,
        /// The placeholder that set the dimension first.
        first: &'static str,
        /// Which of the first one's dimensions.
        first_dim: usize,
        /// The size the first one was fed there.
        first_size: usize,
    },
}

impl fmt::Display for FeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FeedError::Shape { placeholder, fed, rank, expected } => {
                f.write_str("cannot feed a value of shape [")?;
                for (k, d) in fed.iter().take(rank).enumerate() {
                    if k > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{d}")?;
                }
                write!(f, "] to `{placeholder}`, which has shape {expected}")
            }
            FeedError::Layout { placeholder } => write!(
                f,
                "cannot feed `{placeholder}` a view whose elements are not in row-major order: copy it into a standard-layout array first"
            ),
            FeedError::Disagree { placeholder, dim, size, first, first_dim, first_size } => write!(
                f,
                "`{placeholder}` was fed {size} along its dimension {dim} and `{first}` {first_size} along its dimension {first_dim}: they share a `None` dimension, so they must be fed the same size"
            ),
        }
    }
}

impl core::error::Error for FeedError {}

/// The memory a `Session` keeps for the temporaries of runs fed with matrices of run-time size:
/// one growable buffer per element type, grown when a run needs more than it holds and reused
/// after, so a second run of the same or a smaller batch allocates nothing. Without the `alloc`
/// feature it is empty and takes no memory.
#[derive(Default)]
pub struct Workspace {
    #[cfg(feature = "alloc")]
    #[doc(hidden)]
    pub f32: alloc::vec::Vec<f32>,
    #[cfg(feature = "alloc")]
    #[doc(hidden)]
    pub f64: alloc::vec::Vec<f64>,
    #[cfg(feature = "alloc")]
    #[doc(hidden)]
    pub i32: alloc::vec::Vec<i32>,
    #[cfg(feature = "alloc")]
    #[doc(hidden)]
    pub i64: alloc::vec::Vec<i64>,
    #[cfg(feature = "alloc")]
    #[doc(hidden)]
    pub u8: alloc::vec::Vec<u8>,
    #[cfg(feature = "alloc")]
    #[doc(hidden)]
    pub i8: alloc::vec::Vec<i8>,
    #[cfg(feature = "alloc")]
    #[doc(hidden)]
    pub bool: alloc::vec::Vec<bool>,
}

/// A clone starts with an empty workspace: its contents are scratch, rewritten by every run.
impl Clone for Workspace {
    fn clone(&self) -> Self {
        Workspace::default()
    }
}

impl fmt::Debug for Workspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Workspace");
        #[cfg(feature = "alloc")]
        {
            s.field("f32", &self.f32.len())
                .field("f64", &self.f64.len())
                .field("i32", &self.i32.len())
                .field("i64", &self.i64.len())
                .field("u8", &self.u8.len())
                .field("i8", &self.i8.len())
                .field("bool", &self.bool.len());
        }
        s.finish()
    }
}

/// Splits `pool` into slices of the given lengths, each starting a cache line (64 bytes) as the
/// static buffers do ([`crate::array::Aligned`]), growing it first if it is shorter than their
/// sum and a line's slack each. The slices hold whatever the last run left: generated code writes
/// each element before it reads it.
#[cfg(feature = "alloc")]
pub fn split<T: Copy + Default, const K: usize>(pool: &mut alloc::vec::Vec<T>, lens: [usize; K]) -> [&mut [T]; K] {
    let total = lens.iter().fold(0usize, |total, &n| total.saturating_add(n).saturating_add(line_slack::<T>()));
    if pool.len() < total {
        pool.resize(total, T::default());
    }
    let mut rest: &mut [T] = &mut pool[..];
    core::array::from_fn(|k| {
        let skip = to_line(rest.as_ptr());
        let rest_now = core::mem::take(&mut rest);
        let (_, from_line) = rest_now.split_at_mut(skip.min(rest_now.len()));
        let (part, tail) = from_line.split_at_mut(lens[k]);
        rest = tail;
        part
    })
}

/// A fetched rank-2 value of run-time size, from its column-major elements.
#[cfg(feature = "alloc")]
pub fn dynamic_matrix<T: nalgebra::Scalar + Copy>(
    rows: usize,
    cols: usize,
    column_major: &[T],
) -> nalgebra::DMatrix<T> {
    nalgebra::DMatrix::from_column_slice(rows, cols, &column_major[..rows * cols])
}

/// A fetched value of rank 3 or 4 and run-time size, from its row-major elements.
#[cfg(feature = "alloc")]
pub fn dynamic_array<T: Copy, const R: usize>(shape: [usize; R], row_major: &[T]) -> crate::DArray<T, R> {
    let count = shape.iter().product::<usize>();
    crate::DArray::from_vec(shape, row_major[..count].to_vec()).expect("as many elements as the shape")
}

/// A nalgebra matrix fed with a run-time size, copied row-major into `buffer` (of the workspace,
/// at least rows × columns long) and viewed so: the generated code copies the matrices a blocked
/// product reads, whose rows are then slices.
#[cfg(feature = "alloc")]
pub fn rows_of<'b, T, R, C, S>(m: &nalgebra::Matrix<T, R, C, S>, buffer: &'b mut [T]) -> crate::DArrayView<'b, T, 2>
where
    T: nalgebra::Scalar + Copy,
    R: nalgebra::Dim,
    C: nalgebra::Dim,
    S: nalgebra::RawStorage<T, R, C>,
{
    let (rows, cols) = m.shape();
    let buffer = &mut buffer[..rows * cols];
    // Row-major `rows × cols` is column-major `cols × rows`: nalgebra's transpose into that view,
    // unchecked, a tile of 16 × 16 at a time, so that the tile's lines of `m` and of the buffer
    // stay in the cache while it is read and written (a column at a time with checked indices,
    // or all of `m` at once, the MLP's step fed a `DMatrix` spent 7-9% of its time here).
    const TILE: usize = 16;
    let (r, c) = m.shape_generic();
    let mut out = nalgebra::MatrixViewMut::from_slice_generic(&mut *buffer, c, r);
    for i in (0..rows).step_by(TILE) {
        let h = TILE.min(rows - i);
        for j in (0..cols).step_by(TILE) {
            let w = TILE.min(cols - j);
            m.view((i, j), (h, w)).transpose_to(&mut out.view_mut((j, i), (w, h)));
        }
    }
    crate::darray::DArrayView::from_parts([rows, cols], buffer)
}

/// A fetched rank-1 value of run-time size.
#[cfg(feature = "alloc")]
pub fn dynamic_vector<T: nalgebra::Scalar + Copy>(n: usize, elements: &[T]) -> nalgebra::DVector<T> {
    nalgebra::DVector::from_fn(n, |i, _| elements[i])
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::{rows_of, split};

    /// Every slice of the workspace starts a cache line, as long as asked, none overlapping; the
    /// pool grows for a larger request and not for the same one again.
    #[test]
    fn a_workspace_is_split_into_slices_on_cache_lines() {
        let mut pool: alloc::vec::Vec<f32> = alloc::vec::Vec::new();
        let mut held = (0, 0);
        for (round, lens) in [[3, 100, 0, 17], [5, 1000, 64, 1], [5, 1000, 64, 1]].into_iter().enumerate() {
            let mut end = 0;
            for (part, len) in split(&mut pool, lens).iter().zip(lens) {
                let at = part.as_ptr() as usize;
                assert_eq!((part.len(), at % 64), (len, 0), "{lens:?}");
                assert!(at >= end, "{lens:?}");
                end = at + 4 * len;
            }
            let now = (pool.as_ptr() as usize, pool.len());
            if round == 2 {
                assert_eq!(now, held, "grown again for the same lengths");
            }
            held = now;
        }
    }

    /// A view of a block of a column-major matrix comes out row-major, element for element.
    #[test]
    fn rows_of_copies_a_matrix_row_major() {
        let m = nalgebra::DMatrix::from_row_slice(
            3,
            4,
            &[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0],
        );
        let block = m.view((1, 1), (2, 3));
        let mut buffer = [0.0f32; 8];
        let rows = rows_of(&block, &mut buffer);
        assert_eq!(rows.shape(), [2, 3]);
        assert_eq!(rows.as_slice(), &[6.0, 7.0, 8.0, 10.0, 11.0, 12.0]);
        assert_eq!(rows[(1, 2)], 12.0);
    }

    /// Matrices larger than a tile of the copy and no multiple of it, and views with steps along
    /// either dimension, come out row-major too.
    #[test]
    fn rows_of_copies_past_its_tiles() {
        let m = nalgebra::DMatrix::from_fn(70, 45, |i, j| (i * 100 + j) as f32);
        let mut buffer = alloc::vec![0.0f32; 70 * 45];
        let rows = rows_of(&m, &mut buffer);
        assert_eq!(rows.shape(), [70, 45]);
        assert!((0..70).all(|i| (0..45).all(|j| rows[(i, j)] == (i * 100 + j) as f32)));

        let block = m.view_with_steps((3, 2), (33, 17), (1, 1));
        let rows = rows_of(&block, &mut buffer);
        assert_eq!(rows.shape(), [33, 17]);
        assert!((0..33).all(|i| (0..17).all(|j| rows[(i, j)] == ((3 + 2 * i) * 100 + 2 + 2 * j) as f32)));

        let transposed = m.transpose();
        let rows = rows_of(&transposed, &mut buffer);
        assert_eq!(rows.shape(), [45, 70]);
        assert!((0..45).all(|i| (0..70).all(|j| rows[(i, j)] == (j * 100 + i) as f32)));
    }
}
