//! Large products on rayon's threads (the `parallel` feature): [`matmul`](super::matmul) and
//! [`matmul_panels`](super::matmul_panels) cut a product of at least [`SPLIT_WORK`]
//! multiply-adds per thread into blocks of whole lines of the output, one block per thread, each
//! computed by the same kernel as the whole product would be: the first on the calling thread in
//! the caller's scratch, the others on rayon's threads, each with a scratch of its own.
//!
//! Every output is still the dot product of one line of `a` and one line of `b` in [`dot`]'s
//! order, whichever block computes it, so a product on threads has the bits of the product on
//! one thread, whatever the number of threads.
//!
//! [`dot`]: crate::sum::dot

use super::{Float, Lines};

/// The fewest multiply-adds per thread a product is split for: a product of less than twice this
/// stays on the calling thread. Measured (`cargo bench --bench products --features parallel`,
/// against the same binary with `RAYON_NUM_THREADS=1`; see docs/guide/feeds.md, "Threads").
pub const SPLIT_WORK: usize = 1 << 21;

/// Which lines of a product one block of its outputs covers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Along {
    /// Lines `first..first + count` of `a`: rows of the output.
    Rows,
    /// Lines `first..first + count` of `b`: columns of the output.
    Columns,
}

/// One block of a product's outputs, for [`on_threads`]' `part`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Block {
    pub along: Along,
    pub first: usize,
    pub count: usize,
}

impl<'a, T> Lines<'a, T> {
    /// The lines from line `first` on (an empty operand past the storage's end, which the
    /// kernel's checks then send element by element, as they would the whole operand).
    pub(super) fn from(self, first: usize) -> Lines<'a, T> {
        let start = first.saturating_mul(self.line_step);
        Lines { data: self.data.get(start..).unwrap_or(&[]), ..self }
    }
}

/// Cuts the outputs of an `m × n` product of `k` terms, output `(i, j)` at `c[i * c_rs + j *
/// c_cs]`, into one block of whole lines per thread (each but the last a multiple of `align`
/// lines), and runs `part(block, c_block, scratch)` for every block: `c_block` the block's part
/// of `c` (its first output at index 0, the strides unchanged). The calling thread computes the
/// first block in `scratch`, while rayon's threads compute the others, each in a scratch of its
/// own as long as `scratch` (zeroed). Along the rows or the columns, whichever lie apart in `c`
/// (a column-major output is cut into columns); along the longer where both do.
///
/// Returns `false`, having run nothing, where the product has less than twice [`SPLIT_WORK`]
/// per thread (or rayon has one thread), or where its rows and columns interleave in `c`.
#[allow(clippy::too_many_arguments)]
pub(super) fn on_threads<T: Float>(
    (m, n, k): (usize, usize, usize),
    c: &mut [T],
    c_rs: usize,
    c_cs: usize,
    align: usize,
    scratch: &mut [T],
    part: impl Fn(Block, &mut [T], &mut [T]) + Sync,
) -> bool {
    let work = m.saturating_mul(n).saturating_mul(k);
    let parts = (work / SPLIT_WORK).min(rayon::current_num_threads());
    if parts < 2 {
        return false;
    }
    // Lines of one kind lie apart when each one's outputs end before the next one's start.
    let apart = |count: usize, other: usize, step: usize, other_step: usize| {
        count >= 2 && other.saturating_sub(1).checked_mul(other_step).is_some_and(|span| span < step)
    };
    let (rows, columns) = (apart(m, n, c_rs, c_cs), apart(n, m, c_cs, c_rs));
    let (along, lines, step) = match (rows, columns) {
        (true, true) if m > n => (Along::Rows, m, c_rs),
        (_, true) => (Along::Columns, n, c_cs),
        (true, false) => (Along::Rows, m, c_rs),
        (false, false) => return false,
    };
    let per = lines.div_ceil(parts).next_multiple_of(align.max(1));
    // The first block's outputs, then the others' on rayon's threads, cut off one by one.
    let (own, mut rest) = c.split_at_mut(per.min(lines).saturating_mul(step).min(c.len()));
    let (part, scratch_len) = (&part, scratch.len());
    // In place: the calling thread computes its block rather than wait for a worker to wake.
    rayon::in_place_scope(|threads| {
        let mut first = per;
        while first < lines {
            let count = per.min(lines - first);
            let cut = if first + count < lines { count.saturating_mul(step).min(rest.len()) } else { rest.len() };
            let (c, tail) = core::mem::take(&mut rest).split_at_mut(cut);
            let block = Block { along, first, count };
            threads.spawn(move |_| part(block, c, &mut alloc::vec![T::ZERO; scratch_len]));
            (rest, first) = (tail, first + count);
        }
        part(Block { along, first: 0, count: per.min(lines) }, own, scratch);
    });
    true
}

#[cfg(test)]
mod tests {
    use super::super::{dot, matmul, matmul_panels, panel_at, PACKED_LINES, PANELS_BELOW, PANEL_WIDTH};
    use super::*;
    use alloc::{vec, vec::Vec};
    use std::sync::Mutex;

    /// Values whose sums round differently in different orders.
    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| {
                let i = i + seed;
                ((i * 37 % 101) as f32 - 50.0) * 1.0e-3 + (i % 7) as f32 * 1.0e4 + 1.0 / (i % 13 + 1) as f32
            })
            .collect()
    }

    /// `f` on a pool of `threads` threads, whatever the machine has.
    fn on_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
    }

    /// The blocks `on_threads` cuts an `m × n` product into, with each block's part of `c` as the
    /// range of `c` it covers.
    fn blocks(
        threads: usize,
        (m, n, k): (usize, usize, usize),
        c_rs: usize,
        c_cs: usize,
    ) -> Vec<(Block, usize, usize)> {
        let mut c = vec![0.0f32; (m - 1) * c_rs + (n - 1) * c_cs + 1];
        let base = c.as_ptr() as usize;
        let seen = Mutex::new(Vec::new());
        let split = on_pool(threads, || {
            on_threads((m, n, k), &mut c, c_rs, c_cs, PANEL_WIDTH, &mut [0.0; 5], |block, c, scratch| {
                assert!(scratch.len() == 5 && scratch.iter().all(|&x| x == 0.0));
                let start = (c.as_ptr() as usize - base) / size_of::<f32>();
                seen.lock().unwrap().push((block, start, c.len()));
            })
        });
        let mut seen = seen.into_inner().unwrap();
        assert_eq!(split, !seen.is_empty());
        seen.sort_by_key(|&(block, ..)| block.first);
        seen
    }

    #[test]
    fn a_product_is_cut_into_whole_lines_one_block_a_thread() {
        let (m, n, k) = (100, 83, 800);
        // Column-major: columns of 32 (28 per thread rounded up to whole panels), the last 19.
        let cut = blocks(3, (m, n, k), 1, m);
        let expected = [(0, 32, 0, 32 * m), (32, 32, 32 * m, 32 * m), (64, 19, 64 * m, 18 * m + m)];
        assert_eq!(cut.len(), 3);
        for ((block, start, len), (first, count, at, span)) in cut.into_iter().zip(expected) {
            assert_eq!((block.along, block.first, block.count, start, len), (Along::Columns, first, count, at, span));
        }
        // Row-major: rows, as many blocks as the work pays for (6.6 million multiply-adds: three).
        let cut = blocks(4, (m, n, k), n, 1);
        let lines: Vec<_> = cut.iter().map(|&(b, start, _)| (b.along, b.first, b.count, start)).collect();
        assert_eq!(lines, [(Along::Rows, 0, 40, 0), (Along::Rows, 40, 40, 40 * n), (Along::Rows, 80, 20, 80 * n)]);
        // Both apart (columns padded): along the longer.
        assert_eq!(blocks(2, (m, n, k), n + 1, 1)[0].0.along, Along::Rows);
        assert_eq!(blocks(2, (n, m, k), 1, n + 1)[0].0.along, Along::Columns);
    }

    #[test]
    fn small_products_one_thread_and_interleaved_outputs_stay_whole() {
        // Less than twice SPLIT_WORK: one block, on the calling thread.
        assert!(blocks(8, (64, 64, 1023), 1, 64).is_empty());
        assert!(!blocks(8, (64, 64, 1024), 1, 64).is_empty());
        assert!(blocks(1, (100, 83, 800), 1, 100).is_empty());
        // Rows and columns interleaved in `c` (a row's outputs spread over the next row's).
        assert!(blocks(4, (100, 83, 800), 2, 3).is_empty());
    }

    /// `matmul` and `matmul_panels` on `threads` threads, against `dot` for every output.
    fn check(threads: usize, (m, n, k): (usize, usize, usize)) {
        assert!(m * n * k >= threads * SPLIT_WORK, "a product {threads} threads share");
        let (a, b) = (values(m * k, 1), values(n * k, 2));
        let mut panels = vec![f32::NAN; n * k];
        for j in 0..n {
            for t in 0..k {
                panels[panel_at(n, k, j, t)] = b[j * k + t];
            }
        }
        // Column-major, row-major and padded outputs; contiguous and strided operands.
        for (c_rs, c_cs) in [(1, m), (n, 1), (1, m + 3)] {
            for ((a_ls, a_s), (b_ls, b_s)) in [((k, 1), (k, 1)), ((1, m), (1, n)), ((k, 1), (1, n))] {
                let (al, bl) = (
                    Lines { data: &a[..], line_step: a_ls, step: a_s },
                    Lines { data: &b[..], line_step: b_ls, step: b_s },
                );
                let len = (m - 1) * c_rs + (n - 1) * c_cs + 1;
                let (mut c, mut by_panels) = (vec![f32::NAN; len], vec![f32::NAN; len]);
                on_pool(threads, || {
                    matmul(m, n, k, al, bl, &mut c, c_rs, c_cs, &mut vec![0.0; PACKED_LINES * k]);
                    matmul_panels(m, n, k, al, &panels, &mut by_panels, c_rs, c_cs, &mut vec![0.0; PACKED_LINES * k]);
                });
                for i in 0..m {
                    for j in 0..n {
                        let expected = dot(k, &a, i * a_ls, a_s, &b, j * b_ls, b_s).to_bits();
                        let at = ((m, n, k), threads, (c_rs, c_cs), (a_ls, a_s), (b_ls, b_s), (i, j));
                        assert_eq!(c[i * c_rs + j * c_cs].to_bits(), expected, "matmul {at:?}");
                        // The panels hold `b`'s contiguous lines.
                        let expected = dot(k, &a, i * a_ls, a_s, &b, j * k, 1).to_bits();
                        assert_eq!(by_panels[i * c_rs + j * c_cs].to_bits(), expected, "matmul_panels {at:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn products_on_threads_have_dots_bits() {
        // Through panels of `b` (fewer than PANELS_BELOW terms) and through tiles, with a narrow
        // last panel, on two and three threads.
        check(2, (480, 107, PANELS_BELOW - 1));
        check(3, (150, 83, 520));
        check(3, (9, 1000, 800));
    }
}
