//! Fetches of run-time size that run in chunks of rows: how many rows a chunk and a range hold,
//! and `sums_over_rows`, which runs the chunks (on rayon's threads with the `parallel`
//! feature) and adds their `Partial` sums in order.

#[cfg(feature = "parallel")]
use crate::dispatch::Compute;
#[cfg(feature = "alloc")]
use crate::elem::Float;
#[cfg(feature = "alloc")]
use crate::feed::Workspace;
#[cfg(feature = "alloc")]
use crate::sum::Partial;

/// How many rows of its feeds a fetch of run-time size computes at a time, when it runs in chunks
/// of rows (its every tensor of a `None` dimension a function of the same rows of its feeds, and
/// its results sums over them or computed from such sums: a training step). The chunk's tensors
/// then stay in the cache, and the workspace holds one chunk. A multiple of 8, so that
/// [`crate::sum::Partial`] sums in [`crate::sum::sum`]'s order.
pub const CHUNK_ROWS: usize = 1024;

const _: () = assert!(CHUNK_ROWS.is_multiple_of(8));

/// How many rows a range of a fetch run in chunks of rows covers with the `parallel` feature:
/// more rows are split into ranges of this many (the last shorter), computed on rayon's threads,
/// each with its own workspace and sums; the sums are then the ranges' totals added in order.
pub const RANGE_ROWS: usize = 16 * CHUNK_ROWS;

/// Runs `run(first, end, workspace, sums)` over rows `0..rows` of a fetch run in chunks of rows,
/// and returns the totals of its `S` sums. Without the `parallel` feature (or for at most
/// [`RANGE_ROWS`] rows), one call over all the rows in the session's workspace: the bits of the
/// fetch run at once. With it, ranges of `RANGE_ROWS` rows on rayon's threads, each with a
/// workspace of its own thread, their totals added in the ranges' order.
#[cfg(feature = "alloc")]
#[inline(always)]
pub fn sums_over_rows<T, const S: usize, F>(rows: usize, ws: &mut Workspace, run: F) -> [T; S]
where
    T: Float + Send,
    F: Fn(usize, usize, &mut Workspace, &mut [Partial<T>; S]) + RangesSync,
{
    #[cfg(feature = "parallel")]
    if rows > RANGE_ROWS {
        use rayon::prelude::*;
        let totals: alloc::vec::Vec<[T; S]> = (0..rows.div_ceil(RANGE_ROWS))
            .into_par_iter()
            .map_init(Workspace::default, |ws, range| {
                let (first, end) = (range * RANGE_ROWS, ((range + 1) * RANGE_ROWS).min(rows));
                let mut sums = [Partial::default(); S];
                // On the worker thread, compiled for the CPU's instruction set as the fetch is.
                crate::dispatch::dispatch(Range { run: &run, first, end }, (ws, &mut sums));
                sums.map(|p| p.total())
            })
            .collect();
        let mut total = totals[0];
        for range in &totals[1..] {
            for (t, &r) in total.iter_mut().zip(range) {
                *t = t.add(r);
            }
        }
        return total;
    }
    let mut sums = [Partial::default(); S];
    run(0, rows, ws, &mut sums);
    sums.map(|p| p.total())
}

/// One range of rows of [`sums_over_rows`], run through [`crate::dispatch::dispatch`].
#[cfg(feature = "parallel")]
struct Range<'r, F> {
    run: &'r F,
    first: usize,
    end: usize,
}

#[cfg(feature = "parallel")]
impl<'w, 's, T, const S: usize, F> Compute<(&'w mut Workspace, &'s mut [Partial<T>; S])> for Range<'_, F>
where
    F: Fn(usize, usize, &mut Workspace, &mut [Partial<T>; S]),
{
    type Output = ();

    #[inline(always)]
    fn compute(self, (ws, sums): (&'w mut Workspace, &'s mut [Partial<T>; S])) {
        (self.run)(self.first, self.end, ws, sums)
    }
}

/// `Sync` with the `parallel` feature (the ranges' closure runs on several threads), nothing
/// without it.
#[cfg(feature = "parallel")]
pub trait RangesSync: Sync {}
#[cfg(feature = "parallel")]
impl<F: Sync> RangesSync for F {}
/// `Sync` with the `parallel` feature (the ranges' closure runs on several threads), nothing
/// without it.
#[cfg(not(feature = "parallel"))]
pub trait RangesSync {}
#[cfg(not(feature = "parallel"))]
impl<F> RangesSync for F {}
