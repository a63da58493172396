//! Matrix products of stored operands, register-tiled: the kernel behind `tf.matmul` at sizes
//! where it pays (the macro decides; see `tfmacro/src/ops/matmul.rs`).
//!
//! Every element of the product is the dot product [`dot`] computes, term for term and in its
//! order (eight interleaved partial sums along the inner dimension, combined pairwise, then the
//! remaining terms left to right), so this kernel gives the bits of the one-dot-per-element code
//! it replaces, and of the constant folder. What changes is how many elements are computed at
//! once: a tile of `MR × NR` outputs keeps its `MR × NR × 8` partial sums in registers, so each
//! line of the operands, read once per tile, feeds `NR` (or `MR`) outputs, and the additions of
//! different outputs hide each other's latency. The order of each output is the same whatever the
//! tile size or the vector width, so choosing them per CPU changes no bit.
//!
//! A constant weight (the right operand) is stored by the macro in panels ([`panel_at`]): eight
//! of its lines side by side, term by term. [`matmul_panels`] reads it so: a vector holds one
//! partial sum of eight outputs rather than eight partial sums of one, so an output's lanes are
//! never combined across a register, and a matrix-vector product reads the weight once, as one
//! stream, in the order it is stored (the anomaly detector at batch 1: 0.65× the time of the
//! tiles over its columns, measured; docs/internals/speed.md says more). A product of few terms
//! ([`PANELS_BELOW`]) copies its right operand into panels when it runs, a panel at a time, and
//! goes through the same kernel: there the tiles would spend more combining each output's lanes
//! than summing its terms (784 × 128 outputs of 64 terms: 0.73× the tiles' time, measured).
//!
//! With `std` on x86-64 the same code is also compiled for AVX2 and chosen at run time when the
//! CPU has it (wider registers, twice the partial sums in flight), and for AVX-512, whose tiles
//! may also hold two outputs' eight partial sums in one 512-bit register ([`Product::paired`]).
//! Without the `fma` feature no fused multiply-add is used (Rust never contracts `a * b + c`), so
//! the AVX2 path, the portable one and a Cortex-M give the same bits; with it, every path fuses
//! each product into its sum (`Elem::add_product`), and they agree with each other.
//!
//! [`dot`]: crate::sum::dot

use crate::dispatch::{best, Kernel, Registers};
#[cfg(all(feature = "std", target_arch = "x86_64"))]
use crate::dispatch::{Avx2, Avx512};
use crate::elem::Float;
#[cfg(doc)]
use crate::sum::combine;
use crate::sum::dot;

#[cfg(feature = "parallel")]
mod threads;
#[cfg(feature = "parallel")]
pub use threads::SPLIT_WORK;

/// The most lines of one operand a tile reads.
pub const PANEL: usize = 4;

/// `2 * NP` lines' eight terms side by side, two lines to a 512-bit register: what
/// [`Lines::pack_pairs`] copies and [`Isa::pair_sums`] reads, one of these per eight terms.
type Pairs<T, const NP: usize> = [[[T; 8]; 2]; NP];

/// How many lines of `k` terms the generated code gives [`matmul`] as scratch where it may use
/// it: with `std`, room for one panel of sixteen lines of `b` ([`matmul`] copies `b` into panels
/// when there are fewer than [`PANELS_BELOW`] terms), which also holds the `2 * PANEL` lines the
/// tiles copy when an operand's lines are strided; none without `std` (firmware, where [`matmul`]
/// computes one dot product per element), so that a product's stack there is what the memory plan
/// says. A product of a known number of terms takes [`packed_lines`] of it.
#[cfg(feature = "std")]
pub const PACKED_LINES: usize = 2 * PANEL_WIDTH;
/// See above: none without `std`.
#[cfg(not(feature = "std"))]
pub const PACKED_LINES: usize = 0;

/// [`PACKED_LINES`] for a product of `k` terms: only the lines the tiles copy from `k` =
/// [`PANELS_BELOW`] on (zeroing a scratch of sixteen lines of 784 terms took 4% of the MLP's
/// step, measured).
pub const fn packed_lines(k: usize) -> usize {
    if k < PANELS_BELOW || PACKED_LINES == 0 {
        PACKED_LINES
    } else {
        2 * PANEL
    }
}

/// A matrix operand of [`matmul`] as its storage holds it: term `t` of line `i` (row `i` of the
/// left operand, column `i` of the right one) is `data[i * line_step + t * step]`.
#[derive(Clone, Copy, Debug)]
pub struct Lines<'a, T> {
    /// The storage.
    pub data: &'a [T],
    /// How far apart consecutive lines start.
    pub line_step: usize,
    /// How far apart consecutive terms of a line are.
    pub step: usize,
}

impl<'a, T: Copy> Lines<'a, T> {
    fn contiguous(&self) -> bool {
        self.step == 1
    }

    /// Whether `count` lines of `k` terms lie inside the storage.
    fn holds(&self, count: usize, k: usize) -> bool {
        last_index(count, self.line_step, k, self.step).is_none_or(|last| last < self.data.len())
    }

    /// Line `i` of a contiguous operand, `k` terms.
    fn line(&self, i: usize, k: usize) -> &'a [T] {
        &self.data[i * self.line_step..][..k]
    }

    /// Lines `first..first + N`, `k` terms each: the operand's own where its terms are contiguous,
    /// else the first `N` of `packed` (which [`Lines::pack`] filled). A loop: through
    /// `core::array::from_fn` each line was a call of its closure that LLVM did not inline, once
    /// per tile (this loop takes the MLP's training step to 0.94-0.97 of that time, the minimums
    /// and medians of eight rounds of `cargo bench --bench mlp` alternated).
    #[inline(always)]
    fn lines<'b, const N: usize>(&self, first: usize, k: usize, packed: &'b [T]) -> [&'b [T]; N]
    where
        'a: 'b,
    {
        let mut lines = [&[][..]; N];
        for (r, line) in lines.iter_mut().enumerate() {
            *line = if self.contiguous() { self.line(first + r, k) } else { &packed[r * k..][..k] };
        }
        lines
    }

    /// Copies the `width` lines from line `first` on, `k` terms each, into `panel` as
    /// [`panel_at`] lays out one panel: term by term, the lines' terms side by side, read along
    /// whichever way the storage is contiguous.
    #[inline(always)]
    fn pack_panel(&self, first: usize, width: usize, k: usize, panel: &mut [T]) {
        if self.step == 1 {
            for s in 0..width {
                for (t, &x) in self.line(first + s, k).iter().enumerate() {
                    panel[t * width + s] = x;
                }
            }
        } else {
            for (t, row) in panel.chunks_exact_mut(width.max(1)).enumerate() {
                for (s, x) in row.iter_mut().enumerate() {
                    *x = self.data[(first + s) * self.line_step + t * self.step];
                }
            }
        }
    }

    /// Copies the `N` lines from line `first` on into `out`, each as `k` contiguous terms, read
    /// term by term across the lines where the lines lie side by side (a column-major matrix's
    /// rows: one cache line serves them all, where line by line each term is a cache line of its
    /// own; the MLP's `X · W1`, 144 µs → 123 µs, measured). Always inlined, so that the copy of
    /// each term's `N` values is unrolled and `out` is cut into its `N` lines once, not indexed
    /// term by term.
    #[inline(always)]
    fn pack<const N: usize>(&self, first: usize, k: usize, out: &mut [T]) {
        let mut lines: [&mut [T]; N] = core::array::from_fn(|_| &mut [][..]);
        for (line, chunk) in lines.iter_mut().zip(out[..N * k].chunks_exact_mut(k)) {
            *line = chunk;
        }
        if self.line_step == 1 {
            for t in 0..k {
                let terms = &self.data[first + t * self.step..][..N];
                for (line, &x) in lines.iter_mut().zip(terms) {
                    line[t] = x;
                }
            }
            return;
        }
        for (r, line) in lines.iter_mut().enumerate() {
            let start = (first + r) * self.line_step;
            for (t, term) in line.iter_mut().enumerate() {
                *term = self.data[start + t * self.step];
            }
        }
    }

    /// Copies the `2 * NP` lines from line `first` on, `k` terms each, into `out` as
    /// [`Product::paired`] reads them: their first `k / 8 * 8` terms eight at a time, for each
    /// eight the lines' eights side by side (`[Pairs<T, NP>]`, two lines to a 512-bit
    /// register), then each line's last `k % 8` terms, line by line. Read along whichever way the
    /// storage is contiguous.
    #[inline(always)]
    #[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]
    fn pack_pairs<const NP: usize>(&self, first: usize, k: usize, out: &mut [T]) {
        let full = k / 8;
        let (eights, rest) = out[..2 * NP * k].split_at_mut(full * 16 * NP);
        let eights = eights.as_chunks_mut::<8>().0.as_chunks_mut::<2>().0.as_chunks_mut::<NP>().0;
        let term = |s: usize, t: usize| self.data[(first + s) * self.line_step + t * self.step];
        for (q, block) in eights.iter_mut().enumerate() {
            if self.line_step == 1 {
                // A column-major matrix's rows: term `t` of every line in one run.
                for (l, t) in (8 * q..8 * q + 8).enumerate() {
                    let terms = &self.data[first + t * self.step..][..2 * NP];
                    for (s, &x) in terms.iter().enumerate() {
                        block[s / 2][s % 2][l] = x;
                    }
                }
            } else if self.step == 1 {
                for (s, eight) in block.as_flattened_mut().iter_mut().enumerate() {
                    *eight = *self.data[(first + s) * self.line_step + 8 * q..].first_chunk::<8>().expect("in storage");
                }
            } else {
                for (s, eight) in block.as_flattened_mut().iter_mut().enumerate() {
                    *eight = core::array::from_fn(|l| term(s, 8 * q + l));
                }
            }
        }
        let left = k - full * 8;
        for (s, line) in rest.chunks_exact_mut(left.max(1)).take(2 * NP).enumerate() {
            for (t, x) in line.iter_mut().enumerate() {
                *x = term(s, full * 8 + t);
            }
        }
    }
}

/// The index of the last element of a `count × k` grid of steps `outer` and `inner`; `None` for
/// an empty grid (or one whose index overflows, which then holds nothing: see the callers).
fn last_index(count: usize, outer: usize, k: usize, inner: usize) -> Option<usize> {
    if count == 0 || k == 0 {
        return None;
    }
    (count - 1).checked_mul(outer)?.checked_add((k - 1).checked_mul(inner)?)
}

/// `c = a · bᵀ` over lines: element `(i, j)`, at `c[i * c_rs + j * c_cs]`, is the dot product of
/// line `i` of `a` and line `j` of `b` (`k` terms each), with [`dot`]'s bits. `m` lines of `a`,
/// `n` of `b`. Operands whose terms are not contiguous are copied a few lines at a time into
/// `scratch`, which needs `2 * PANEL * k` elements when either is (and may be empty otherwise).
/// With fewer than [`PANELS_BELOW`] terms and a scratch of [`PACKED_LINES`] `* k` elements, `b`
/// is copied into panels there a panel at a time and read by [`matmul_panels`]' kernel; with more,
/// AVX-512 and single precision, a scratch of `8 * k` elements lets the tiles copy `b` eight
/// lines at a time, two to a register, where `a`'s lines are contiguous.
///
/// Out-of-range storage (or too small a scratch) is computed element by element through [`dot`]
/// instead (the same bits), which panics at the first index outside its slice, as indexing does.
///
/// Without `std` (firmware) every product is computed so, as generated code computed them before
/// this kernel: the tiles' frames cost the anomaly detector 128 bytes of a Cortex-M's stack (over
/// TensorFlow Lite Micro's arena), for a speed-up there that is not measured (QEMU does not time).
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(feature = "std"), inline)]
pub fn matmul<T: Float>(
    m: usize,
    n: usize,
    k: usize,
    a: Lines<'_, T>,
    b: Lines<'_, T>,
    c: &mut [T],
    c_rs: usize,
    c_cs: usize,
    scratch: &mut [T],
) {
    Product { m, n, k, a, b, c_rs, c_cs }.on_threads(c, scratch, PANELS_BELOW);
}

/// [`matmul`] with `b` copied into panels whatever the number of terms (where `a`'s lines, or
/// `b`'s, are contiguous, there are [`PANEL`] lines of `a` and [`PANEL_WIDTH`] of `b`, and the
/// scratch holds a panel): what [`PANELS_BELOW`] is measured against (`cargo bench --bench
/// products`). The same bits.
#[allow(clippy::too_many_arguments)]
pub fn matmul_via_panels<T: Float>(
    m: usize,
    n: usize,
    k: usize,
    a: Lines<'_, T>,
    b: Lines<'_, T>,
    c: &mut [T],
    c_rs: usize,
    c_cs: usize,
    scratch: &mut [T],
) {
    Product { m, n, k, a, b, c_rs, c_cs }.on_threads(c, scratch, usize::MAX);
}

impl<T: Float> Product<'_, T> {
    /// [`Product::compute`], with the `parallel` feature a block of the outputs on each of
    /// rayon's threads where the product is large enough to pay (`threads.rs`) and its operands
    /// lie inside their storage (else as one block, where the checks decide what to do).
    #[cfg_attr(not(feature = "std"), inline)]
    fn on_threads(self, c: &mut [T], scratch: &mut [T], panels_below: usize) {
        #[cfg(feature = "parallel")]
        if self.a.holds(self.m, self.k) && self.b.holds(self.n, self.k) {
            let split = threads::on_threads(
                (self.m, self.n, self.k),
                c,
                self.c_rs,
                self.c_cs,
                2 * PANEL_WIDTH,
                scratch,
                |block, c, scratch| {
                    let p = match block.along {
                        threads::Along::Rows => Product { m: block.count, a: self.a.from(block.first), ..self },
                        threads::Along::Columns => Product { n: block.count, b: self.b.from(block.first), ..self },
                    };
                    p.compute(c, scratch, panels_below)
                },
            );
            if split {
                return;
            }
        }
        self.compute(c, scratch, panels_below)
    }

    /// [`matmul`], through panels below `panels_below` terms.
    #[cfg_attr(not(feature = "std"), inline)]
    fn compute(self, c: &mut [T], scratch: &mut [T], panels_below: usize) {
        let (p, a, b, k) = (self, self.a, self.b, self.k);
        let (m, n, c_rs, c_cs) = (p.m, p.n, p.c_rs, p.c_cs);
        if cfg!(not(feature = "std")) {
            return p.by_element(c);
        }
        // With only the left operand strided, compute the transpose: the right operand is the one
        // packed (once per panel of its lines, where a left line would be packed once per tile).
        // Swapping the factors of each product changes no bit.
        let p = if !a.contiguous() && b.contiguous() {
            Product { m: n, n: m, k, a: b, b: a, c_rs: c_cs, c_cs: c_rs }
        } else {
            p
        };
        let needed = if p.a.contiguous() && p.b.contiguous() { 0 } else { 2 * PANEL * k };
        let c_fits = last_index(p.m, p.c_rs, p.n, p.c_cs).is_none_or(|last| last < c.len());
        if !(p.a.holds(p.m, k) && p.b.holds(p.n, k) && c_fits && scratch.len() >= needed && k > 0) {
            return p.by_element(c);
        }
        // With fused multiply-adds, compiled for the plain target each is a call into `fmaf`.
        if crate::elem::FMA {
            return best(Checked { p: &p, c, scratch, panels_below });
        }
        p.checked(c, scratch, panels_below);
    }

    /// [`Product::compute`] once the storage and the scratch are checked.
    #[inline(always)]
    fn checked(&self, c: &mut [T], scratch: &mut [T], panels_below: usize) {
        let p = self;
        // Few terms for many outputs: combining each output's eight lanes across a register would
        // cost more than its terms, so `b` is copied a panel at a time into the scratch, in the
        // order constant weights are stored, and read by their kernel, whose lanes are outputs.
        if p.a.contiguous()
            && p.k < panels_below
            && p.m >= PANEL
            && p.n >= PANEL_WIDTH
            && scratch.len() >= PANEL_WIDTH * p.k
        {
            return p.by_panels(c, scratch);
        }
        p.tiled(c, scratch);
    }

    /// Every output through the tiles of the instruction set this CPU has, the storage and the
    /// scratch checked by the caller.
    #[cfg_attr(all(feature = "fma", not(debug_assertions)), inline(always))]
    fn tiled(&self, c: &mut [T], scratch: &mut [T]) {
        // Tiles as large as the registers hold: each output's eight lanes take one 256-bit
        // register in single precision (two in double, or two 128-bit ones). (A row of eight
        // outputs for a matrix-vector product measured slower than the tiles' rows of four: the
        // anomaly detector at batch 1, 23.2 µs against 17.1, its weights streamed from beyond L2
        // eight columns at once.)
        let p = self;
        if p.m == 1 {
            return best(FewLines { p, c, scratch });
        }
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        let single = core::mem::size_of::<T>() == 4;
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if let Some(isa) = Avx512::detect() {
            // Two outputs' lanes to a register where `a`'s lines are contiguous and the scratch
            // holds eight lines of `b`: with fused multiply-adds 4 × 8 outputs in sixteen
            // registers; with a multiply and an add 4 × 4 in eight (at 4 × 8 LLVM keeps the sums
            // in memory, and the MLP's step took nine times as long).
            if single && p.a.contiguous() && p.m >= 4 && p.n >= 8 && scratch.len() >= 8 * p.k {
                return if crate::elem::FMA {
                    p.paired::<4, 4>(isa, c, scratch)
                } else {
                    p.paired::<4, 2>(isa, c, scratch)
                };
            }
            // Thirty-two registers: 4 × 4 outputs.
            return if single { p.grid::<4, 4>(isa, c, scratch) } else { p.grid::<2, 4>(isa, c, scratch) };
        }
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if let Some(isa) = Avx2::detect() {
            // Sixteen registers: 2 × 4 outputs, and room for the operands' lines.
            return if single { p.grid::<2, 4>(isa, c, scratch) } else { p.grid::<2, 2>(isa, c, scratch) };
        }
        // SSE2's sixteen 128-bit registers: 2 × 2 outputs in eight of them.
        p.grid::<2, 2>(Portable, c, scratch)
    }
}

/// How many lines of a right operand stored in panels ([`matmul_panels`]) lie side by side.
pub const PANEL_WIDTH: usize = 8;

/// Where term `term` of line `line` lies in a right operand of `n` lines of `k` terms stored in
/// panels: the lines in groups of [`PANEL_WIDTH`] (the last group the `n % PANEL_WIDTH` left, if
/// any), each group term by term, its lines' terms side by side. A constant weight is stored so
/// when the graph compiles, for [`matmul_panels`].
#[inline]
pub const fn panel_at(n: usize, k: usize, line: usize, term: usize) -> usize {
    let first = line / PANEL_WIDTH * PANEL_WIDTH;
    first * k + term * panel_step(n, line) + (line - first)
}

/// How far apart consecutive terms of line `line` are in [`panel_at`]'s layout: the width of its
/// panel.
#[inline]
pub const fn panel_step(n: usize, line: usize) -> usize {
    let first = line / PANEL_WIDTH * PANEL_WIDTH;
    if n - first < PANEL_WIDTH {
        n - first
    } else {
        PANEL_WIDTH
    }
}

/// [`matmul`] with the right operand `b` stored in panels ([`panel_at`]), as the generated code
/// stores a constant weight: `c = a · bᵀ`, element `(i, j)` at `c[i * c_rs + j * c_cs]` the dot
/// product of line `i` of `a` and line `j` of `b`, with [`dot`]'s bits. `scratch` as for
/// [`matmul`] (`MR * k` elements, `MR` at most [`PANEL`], where the lines of `a` are strided).
///
/// A tile is a few lines of `a` against one panel: the panel's eight outputs side by side in each
/// vector, and the eight partial sums of [`dot`]'s order in eight such vectors per line of `a`,
/// so that no output's lanes are combined across a register and the weight is read once per
/// tile, as one stream, in the order it is stored (a matrix-vector product reads it once in all).
/// Out-of-range storage is computed element by element, as [`matmul`] does.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(feature = "std"), inline)]
pub fn matmul_panels<T: Float>(
    m: usize,
    n: usize,
    k: usize,
    a: Lines<'_, T>,
    b: &[T],
    c: &mut [T],
    c_rs: usize,
    c_cs: usize,
    scratch: &mut [T],
) {
    let p = Panels { m, n, k, a, b, c_rs, c_cs };
    let c_fits = last_index(m, c_rs, n, c_cs).is_none_or(|last| last < c.len());
    let b_fits = n.checked_mul(k).is_some_and(|len| len <= b.len());
    let packs = !a.contiguous() && scratch.len() < PANEL * k;
    if cfg!(not(feature = "std")) || !(a.holds(m, k) && b_fits && c_fits && k > 0) || packs {
        return p.by_element(c, 0..n);
    }
    // A block of the outputs on each of rayon's threads where it pays (`threads.rs`): blocks of
    // whole panels, the narrower last panel in the last block.
    #[cfg(feature = "parallel")]
    if threads::on_threads((m, n, k), c, c_rs, c_cs, PANEL_WIDTH, scratch, |block, c, scratch| {
        let p = match block.along {
            threads::Along::Rows => Panels { m: block.count, a: a.from(block.first), ..p },
            threads::Along::Columns => Panels { n: block.count, b: &b[block.first * k..], ..p },
        };
        p.tiled(c, scratch)
    }) {
        return;
    }
    p.tiled(c, scratch);
}

/// A copy of a variable's matrix in panels ([`panel_at`]), for the products that read it as their
/// right operand: what a constant weight is stored as when the graph compiles, copied from the
/// variable when a fetch needs it and kept until the variable is written. The generated `Session`
/// holds one for each variable that a fetch not writing it reads through a large product, beside
/// the variable (which stays in TensorFlow's layout), its memory taken when the session starts so
/// that no run allocates (a clone of the session takes it when a fetch first needs it); the
/// fetches that write the variable mark it stale
/// ([`PanelCopy::stale`]), as does `variables_mut`, and read the variable's own lines.
///
/// It doubles the memory of the variables it copies, so it holds nothing without `std`: there
/// products are computed one dot product per element whatever their operands' layout
/// ([`matmul`]), and [`PanelCopy::panels`] is `None`.
pub struct PanelCopy<T> {
    /// The panels, `n * k` elements.
    #[cfg(feature = "std")]
    panels: std::vec::Vec<T>,
    /// Whether `panels` holds the variable's current value.
    #[cfg(feature = "std")]
    fresh: bool,
    #[cfg(not(feature = "std"))]
    _elem: core::marker::PhantomData<T>,
}

// A clone is empty and stale: the copy is a cache of the variable, which the clone of a session
// holds anyway, so cloning a session (as a benchmark does before each step) copies each weight
// once, not twice. The clone takes its memory when a fetch first needs it ([`PanelCopy::panels`]).
impl<T: Float> Clone for PanelCopy<T> {
    fn clone(&self) -> Self {
        #[cfg(feature = "std")]
        {
            PanelCopy { panels: std::vec::Vec::new(), fresh: false }
        }
        #[cfg(not(feature = "std"))]
        {
            PanelCopy::new(0)
        }
    }

    fn clone_from(&mut self, _: &Self) {
        self.stale();
    }
}

impl<T> core::fmt::Debug for PanelCopy<T> {
    // Not the copy's values: the variable shows them.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut s = f.debug_struct("PanelCopy");
        #[cfg(feature = "std")]
        s.field("len", &self.panels.len()).field("fresh", &self.fresh);
        s.finish_non_exhaustive()
    }
}

impl<T: Float> PanelCopy<T> {
    /// A stale copy of `len` elements (a matrix's `n * k`); nothing without `std`.
    pub fn new(len: usize) -> Self {
        #[cfg(feature = "std")]
        {
            PanelCopy {
                panels: std::vec![T::NEG_ZERO; len.saturating_add(crate::array::line_slack::<T>())],
                fresh: false,
            }
        }
        #[cfg(not(feature = "std"))]
        {
            let _ = len;
            PanelCopy { _elem: core::marker::PhantomData }
        }
    }

    /// Marks the copy out of date: the variable has been written (or may have been).
    #[inline]
    pub fn stale(&mut self) {
        #[cfg(feature = "std")]
        {
            self.fresh = false;
        }
    }

    /// The panels of `n` lines of `k` terms of `b`, the variable's storage, copied from it first
    /// if the copy is stale, into the copy's own memory (taken here if it is not `n * k`
    /// elements: a clone's); `None` without `std`, or if `b` does not hold the lines (then
    /// [`matmul`] reads `b` itself, and says where it does not hold them).
    pub fn panels(&mut self, n: usize, k: usize, b: Lines<'_, T>) -> Option<&[T]> {
        #[cfg(feature = "std")]
        {
            let len = n.checked_mul(k).filter(|_| b.holds(n, k) && k > 0)?;
            let held = len + crate::array::line_slack::<T>();
            if self.panels.len() != held {
                self.panels.resize(held, T::NEG_ZERO);
                self.fresh = false;
            }
            // From the first cache line of the memory, as a static's panels are
            // (`crate::array::Aligned`).
            let skip = crate::array::to_line(self.panels.as_ptr());
            let panels = &mut self.panels[skip..][..len];
            if !self.fresh {
                // Panels of eight lines (the last of those left).
                for (p, panel) in panels.chunks_mut(PANEL_WIDTH * k).enumerate() {
                    b.pack_panel(p * PANEL_WIDTH, panel.len() / k, k, panel);
                }
                self.fresh = true;
            }
            Some(panels)
        }
        #[cfg(not(feature = "std"))]
        {
            let _ = (n, k, b);
            None
        }
    }
}

/// [`matmul_panels`] with `b` read from `panels` ([`PanelCopy::panels`]) where there are, else
/// [`matmul`] with `b` read from its lines: the same bits either way. `scratch` as for
/// [`matmul_panels`] when there are panels, as for [`matmul`] otherwise.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn matmul_copied<T: Float>(
    m: usize,
    n: usize,
    k: usize,
    a: Lines<'_, T>,
    (b, panels): (Lines<'_, T>, Option<&[T]>),
    c: &mut [T],
    c_rs: usize,
    c_cs: usize,
    scratch: &mut [T],
) {
    match panels {
        Some(panels) => matmul_panels(m, n, k, a, panels, c, c_rs, c_cs, scratch),
        None => matmul(m, n, k, a, b, c, c_rs, c_cs, scratch),
    }
}

/// Fewer terms than this (with at least [`PANEL`] lines of `a` and [`PANEL_WIDTH`] of `b`), and
/// [`matmul`] copies `b` into panels and computes through [`matmul_panels`]' kernel. Measured
/// (`cargo bench --bench products`, 784 × 128 outputs, AMD EPYC Zen 4, 2026-12-02): with
/// AVX-512's panels of sixteen lines, 0.55× the tiles' time at 16 terms, 0.73× at 64, 0.59× at
/// 96, 0.69× at 384 and even at 784 (0.96×; 1.06× for the MLP's 128 × 64 × 784); with panels of
/// eight (AVX2's width, measured in a scratch benchmark of the same shapes before the wider
/// panels) even at 96 terms, 0.73× at 64 and 1.7× for the MLP's 64 × 128 × 784. One threshold
/// for every CPU: AVX-512's gain from 96 to 384 terms is left unused.
pub const PANELS_BELOW: usize = 96;

/// `$call` with the panel tiles' shape for the instruction set this CPU has (the best it has,
/// asked once per product): `$isa` the instruction set, `$mr` the lines of `a` per tile and
/// `$pass` the partial sums per pass over a panel of eight lines, as constants for `$call`'s
/// const generics. Returns `$call`'s value from the enclosing function.
macro_rules! panel_tiles {
    ($t:ty, |$isa:ident, $mr:ident, $pass:ident| $call:expr) => {{
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        let single = core::mem::size_of::<$t>() == 4;
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if let Some($isa) = Avx512::detect() {
            // Thirty-two registers: sixteen sums of eight single-precision outputs.
            if single {
                const $mr: usize = 4;
                const $pass: usize = 4;
                return $call;
            }
            const $mr: usize = 2;
            const $pass: usize = 4;
            return $call;
        }
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if let Some($isa) = Avx2::detect() {
            if single {
                const $mr: usize = 2;
                const $pass: usize = 4;
                return $call;
            }
            const $mr: usize = 1;
            const $pass: usize = 4;
            return $call;
        }
        // SSE2's sixteen 128-bit registers: four sums of eight outputs in eight of them.
        let $isa = Portable;
        const $mr: usize = 1;
        const $pass: usize = 4;
        $call
    }};
}

impl<T: Float> Product<'_, T> {
    /// Every output through [`matmul_panels`]' kernel, `b` copied into `scratch` one panel at a
    /// time (each panel then read by every tile of `a`, whose lines are contiguous): in single
    /// precision with AVX2 or AVX-512, panels of sixteen lines where the scratch holds one,
    /// [`PANEL_WIDTH`] otherwise.
    #[cfg_attr(all(feature = "fma", not(debug_assertions)), inline(always))]
    fn by_panels(&self, c: &mut [T], scratch: &mut [T]) {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if core::mem::size_of::<T>() == 4 && self.n >= 2 * PANEL_WIDTH && scratch.len() >= 2 * PANEL_WIDTH * self.k {
            // One 512-bit register of outputs per sum, half the broadcasts of `a`'s terms.
            if let Some(isa) = Avx512::detect() {
                return self.panel_by_panel::<4, 4, { 2 * PANEL_WIDTH }>(isa, c, scratch);
            }
            // Two lines of `a` against sixteen outputs, two of each output's sums per pass: eight
            // registers of sums, as with panels of eight, for twice the outputs per tile (784 × 128
            // outputs of 64 terms in 0.85 of the time of panels of eight, `cargo bench --bench
            // products -- panels_784x128x64`, ten rounds alternated).
            if let Some(isa) = Avx2::detect() {
                return self.panel_by_panel::<2, 2, { 2 * PANEL_WIDTH }>(isa, c, scratch);
            }
        }
        panel_tiles!(T, |isa, MR, PASS| self.panel_by_panel::<MR, PASS, PANEL_WIDTH>(isa, c, scratch))
    }

    /// [`Product::by_panels`] with panels of `W` lines; the last `n % W` lines of `b` through the
    /// tiles.
    #[cfg_attr(all(feature = "fma", not(debug_assertions)), inline(always))]
    fn panel_by_panel<const MR: usize, const PASS: usize, const W: usize>(
        &self,
        isa: impl Isa,
        c: &mut [T],
        scratch: &mut [T],
    ) {
        let (k, b) = (self.k, &self.b);
        let full = self.n / W;
        let panel = &mut scratch[..W * k];
        for p in 0..full {
            let first = p * W;
            b.pack_panel(first, W, k, panel);
            let one = Panels { m: self.m, n: W, k, a: self.a, b: panel, c_rs: self.c_rs, c_cs: self.c_cs };
            let c = &mut c[first * self.c_cs..];
            let mut i = 0;
            while i + MR <= self.m {
                one.tiles::<MR, PASS, W>(isa, i, 1, c, &mut []);
                i += MR;
            }
            while i < self.m {
                one.tiles::<1, PASS, W>(isa, i, 1, c, &mut []);
                i += 1;
            }
        }
        let first = full * W;
        if first < self.n {
            let b = Lines { data: &b.data[first * b.line_step..], ..*b };
            let rest = Product { n: self.n - first, b, ..*self };
            rest.tiled(&mut c[first * self.c_cs..], scratch);
        }
    }
}

impl<T: Float> Panels<'_, T> {
    /// Every output through the panel tiles of the instruction set this CPU has, the storage
    /// checked by the caller.
    fn tiled(&self, c: &mut [T], scratch: &mut [T]) {
        panel_tiles!(T, |isa, MR, PASS| self.rows::<MR, PASS>(isa, c, scratch))
    }
}

/// The sizes and operands of one [`matmul_panels`].
struct Panels<'a, T> {
    m: usize,
    n: usize,
    k: usize,
    a: Lines<'a, T>,
    b: &'a [T],
    c_rs: usize,
    c_cs: usize,
}

impl<T: Float> Panels<'_, T> {
    /// Outputs `0..m × lines` through [`dot`].
    fn by_element(&self, c: &mut [T], lines: core::ops::Range<usize>) {
        let (a, n, k) = (&self.a, self.n, self.k);
        for i in 0..self.m {
            for j in lines.clone() {
                c[i * self.c_rs + j * self.c_cs] =
                    dot(k, a.data, i * a.line_step, a.step, self.b, panel_at(n, k, j, 0), panel_step(n, j));
            }
        }
    }

    /// Every output, `MR` lines of `a` at a time (packed once if strided) against every full
    /// panel, `PASS` of each line's partial sums in each pass over a panel; the lines of `a` left
    /// one at a time, the last, narrower panel's lines one dot product at a time.
    fn rows<const MR: usize, const PASS: usize>(&self, isa: impl Isa, c: &mut [T], scratch: &mut [T]) {
        let full = self.n / PANEL_WIDTH;
        let mut i = 0;
        while i + MR <= self.m {
            self.tiles::<MR, PASS, PANEL_WIDTH>(isa, i, full, c, scratch);
            i += MR;
        }
        while i < self.m {
            self.tiles::<1, PASS, PANEL_WIDTH>(isa, i, full, c, scratch);
            i += 1;
        }
        self.by_element(c, full * PANEL_WIDTH..self.n);
    }

    /// The outputs of lines `i..i + MR` of `a` against the first `full` panels, each `W` lines wide.
    #[cfg_attr(all(feature = "fma", not(debug_assertions)), inline(always))]
    fn tiles<const MR: usize, const PASS: usize, const W: usize>(
        &self,
        isa: impl Isa,
        i: usize,
        full: usize,
        c: &mut [T],
        scratch: &mut [T],
    ) {
        let k = self.k;
        if !self.a.contiguous() {
            self.a.pack::<MR>(i, k, scratch);
        }
        let scratch = &*scratch;
        let lines: [&[T]; MR] = self.a.lines(i, k, scratch);
        for p in 0..full {
            let start = p * W;
            let panel = self.b[start * k..(start + W) * k].as_chunks::<W>().0;
            let at = i * self.c_rs + start * self.c_cs;
            isa.panel::<T, MR, PASS, W>(lines, panel, Tile { c, at, c_rs: self.c_rs, c_cs: self.c_cs });
        }
    }
}

/// Where a tile of [`Isa::panel`] goes: output `(r, s)` of the tile at `c[at + r * c_rs + s *
/// c_cs]`.
struct Tile<'c, T> {
    c: &'c mut [T],
    at: usize,
    c_rs: usize,
    c_cs: usize,
}

impl<T: Copy> Tile<'_, T> {
    /// Stores the tile's outputs, inlined into the function that computed them: returned from it,
    /// they went through memory one by one (13% of the time of 784 × 128 outputs of 64 terms
    /// stored column by column, `perf record`; stored here, 0.91-0.96 of that product's time,
    /// `cargo bench --bench products -- panels_784x128x64`, ten rounds alternated).
    #[inline(always)]
    fn store<const MR: usize, const W: usize>(self, out: [[T; W]; MR]) {
        let Tile { c, at, c_rs, c_cs } = self;
        if c_rs == 1 {
            // Column-major: each output's column holds the tile's `MR` rows side by side.
            for s in 0..W {
                let column = &mut c[at + s * c_cs..][..MR];
                for (value, row) in column.iter_mut().zip(&out) {
                    *value = row[s];
                }
            }
            return;
        }
        for (r, row) in out.iter().enumerate() {
            let at = at + r * c_rs;
            if c_cs == 1 {
                c[at..][..W].copy_from_slice(row);
            } else {
                for (s, &value) in row.iter().enumerate() {
                    c[at + s * c_cs] = value;
                }
            }
        }
    }
}

/// [`Isa::panel`], written once for every instruction set: each line of `a`, eight terms at a
/// time, against the panel's rows of [`PANEL_WIDTH`] outputs. Lane `l` of [`dot`]'s order is a
/// vector of the panel's outputs, summing term `l`, `l + 8`... of the line (broadcast) times the
/// panel's rows `l`, `l + 8`...; `PASS` such vectors per line are summed in one pass over the
/// panel (all eight in one pass, LLVM's vectoriser turns the loop the other way and shuffles
/// lanes on every step: 29.4 µs against 12.3 for the anomaly detector at batch 1, measured).
#[inline(always)]
fn panel_of<T: Float, const MR: usize, const PASS: usize, const W: usize>(
    a: [&[T]; MR],
    panel: &[[T; W]],
) -> [[T; W]; MR] {
    let (rows8, rows_rest) = panel.as_chunks::<8>();
    // Every line cut to the panel's length, so that indexing by `q` needs no bounds check.
    let a = a.map(|line| &line[..panel.len().min(line.len())]);
    let a8 = a.map(|line| line.as_chunks::<8>().0);
    let full = a8.iter().map(|line| line.len()).min().unwrap_or(0).min(rows8.len());
    let (a8, rows8) = (a8.map(|line| &line[..full]), &rows8[..full]);
    // (A macro, not a closure: LLVM did not inline the closure, which then ran without the
    // caller's instruction set, a call to `fmaf` per term.)
    macro_rules! pass {
        ($first:literal) => {
            pass_of::<T, MR, PASS, W>(a8, rows8, $first)
        };
    }
    // The passes' subtrees paired as `combine` pairs the lanes (with eight lanes a pass, one).
    let mut out = if full == 0 {
        [[T::ZERO; W]; MR]
    } else {
        match PASS {
            8 => pass!(0),
            4 => add_tiles(pass!(0), pass!(4)),
            2 => add_tiles(add_tiles(pass!(0), pass!(2)), add_tiles(pass!(4), pass!(6))),
            _ => add_tiles(
                add_tiles(add_tiles(pass!(0), pass!(1)), add_tiles(pass!(2), pass!(3))),
                add_tiles(add_tiles(pass!(4), pass!(5)), add_tiles(pass!(6), pass!(7))),
            ),
        }
    };
    // Then the terms after the last eight added left to right, as `dot` adds them: vector by
    // vector over the panel's outputs.
    for (total, a) in out.iter_mut().zip(&a) {
        let mut rest = a[full * 8..].iter().zip(rows_rest);
        if full == 0 {
            if let Some((&x, row)) = rest.next() {
                for (t, &w) in total.iter_mut().zip(row) {
                    *t = x * w;
                }
            }
        }
        for (&x, row) in rest {
            for (t, &w) in total.iter_mut().zip(row) {
                *t = t.add_product(x, w);
            }
        }
    }
    out
}

/// [`panel_of`]'s lanes `first..first + PASS` of every output, summed in one pass over the panel
/// and combined there into their subtree of `combine`'s pairing (`PASS` divides eight: a subtree
/// is whole), so that no lane leaves the registers (kept in an array of all eight and combined at
/// the end, the lanes were the hottest stores of the MLP's weight gradient, and the array's
/// zeroing a `memset` per tile).
#[inline(always)]
fn pass_of<T: Float, const MR: usize, const PASS: usize, const W: usize>(
    a8: [&[[T; 8]]; MR],
    rows8: &[[[T; W]; 8]],
    first: usize,
) -> [[T; W]; MR] {
    let full = rows8.len();
    let a8 = a8.map(|line| &line[..full]);
    let mut sums = [[[T::ZERO; W]; PASS]; MR];
    for q in 0..full {
        let rows = &rows8[q];
        for (sums_r, a_r) in sums.iter_mut().zip(&a8) {
            for (d, sum) in sums_r.iter_mut().enumerate() {
                let (x, row) = (a_r[q][first + d], &rows[first + d]);
                for (s, &w) in sum.iter_mut().zip(row) {
                    *s = s.add_product(x, w);
                }
            }
        }
    }
    // With one line, combined here the sums lead LLVM to vectorise the loop above across terms
    // (the anomaly detector at batch 1 took 3.4 times as long, `cargo bench --bench models`):
    // through memory, as when they were stored for a combination at the end, they do not.
    if MR == 1 {
        sums = core::hint::black_box(sums);
    }
    let mut out = [[T::ZERO; W]; MR];
    for (total, lanes) in out.iter_mut().zip(&mut sums) {
        let mut width = PASS;
        while width > 1 {
            width /= 2;
            for d in 0..width {
                lanes[d] = add_rows(lanes[2 * d], lanes[2 * d + 1]);
            }
        }
        *total = lanes[0];
    }
    out
}

/// Two tiles of a panel's outputs added output by output.
#[inline(always)]
fn add_tiles<T: Float, const MR: usize, const W: usize>(x: [[T; W]; MR], y: [[T; W]; MR]) -> [[T; W]; MR] {
    let mut out = x;
    for (o, y) in out.iter_mut().zip(y) {
        *o = add_rows(*o, y);
    }
    out
}

/// Two rows of a panel's outputs added output by output.
#[inline(always)]
fn add_rows<T: Float, const W: usize>(x: [T; W], y: [T; W]) -> [T; W] {
    let mut out = x;
    for (o, y) in out.iter_mut().zip(y) {
        *o = o.add(y);
    }
    out
}

/// The sizes and operands of one [`matmul`].
#[derive(Clone, Copy)]
struct Product<'a, T> {
    m: usize,
    n: usize,
    k: usize,
    a: Lines<'a, T>,
    b: Lines<'a, T>,
    c_rs: usize,
    c_cs: usize,
}

impl<T: Float> Product<'_, T> {
    /// Every element through [`dot`].
    #[inline]
    fn by_element(&self, c: &mut [T]) {
        let (a, b) = (&self.a, &self.b);
        for i in 0..self.m {
            for j in 0..self.n {
                c[i * self.c_rs + j * self.c_cs] =
                    dot(self.k, a.data, i * a.line_step, a.step, b.data, j * b.line_step, b.step);
            }
        }
    }

    /// Every output, a panel of `NR` lines of `b` at a time (packed once if strided), each against
    /// every `MR` lines of `a`; the panels and tiles left at the edges one line at a time.
    /// `MR` and `NR` are at most [`PANEL`], which the scratch is sized by. Always inlined, as
    /// [`Product::panel`] and [`Product::tile`] are, so that [`FewLines`] compiles them whole for
    /// the instruction set [`best`] picks.
    #[inline(always)]
    fn grid<const MR: usize, const NR: usize>(&self, isa: impl Isa, c: &mut [T], scratch: &mut [T]) {
        let mut j = 0;
        while j + NR <= self.n {
            self.panel::<MR, NR>(isa, j, c, scratch);
            j += NR;
        }
        while j < self.n {
            self.panel::<MR, 1>(isa, j, c, scratch);
            j += 1;
        }
    }
}

#[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]
impl<T: Float> Product<'_, T> {
    /// Every output, `2 * NP` lines of `b` at a time copied into `scratch` two to a 512-bit
    /// register ([`Lines::pack_pairs`]), each against every `MR` lines of `a` (contiguous: the
    /// caller checks) through [`Isa::pair_sums`]; the last `n % (2 * NP)` lines of `b` through
    /// [`Product::grid`]. The scratch holds `2 * NP` lines (checked by the caller).
    ///
    /// Each output's eight lanes are half a register here, where [`Product::grid`]'s tiles give
    /// them a 256-bit register of their own: with AVX-512, twice the terms per instruction, and
    /// each line of `a` read from memory once per `2 * NP` lines of `b`.
    #[cfg_attr(all(feature = "fma", not(debug_assertions)), inline(always))]
    fn paired<const MR: usize, const NP: usize>(&self, isa: impl Isa, c: &mut [T], scratch: &mut [T]) {
        let (k, nr) = (self.k, 2 * NP);
        let full = k / 8;
        let mut j = 0;
        while j + nr <= self.n {
            self.b.pack_pairs::<NP>(j, k, scratch);
            let (eights, rest) = scratch[..nr * k].split_at(full * 16 * NP);
            let eights = eights.as_chunks::<8>().0.as_chunks::<2>().0.as_chunks::<NP>().0;
            let left = k - full * 8;
            let mut i = 0;
            while i + MR <= self.m {
                self.pair_tile::<MR, NP>(isa, i, j, (eights, rest, left), c);
                i += MR;
            }
            while i < self.m {
                self.pair_tile::<1, NP>(isa, i, j, (eights, rest, left), c);
                i += 1;
            }
            j += nr;
        }
        if j < self.n {
            let b = Lines { data: &self.b.data[j * self.b.line_step..], ..self.b };
            let rest = Product { n: self.n - j, b, ..*self };
            rest.grid::<MR, PANEL>(isa, &mut c[j * self.c_cs..], scratch);
        }
    }

    /// The `MR × 2 NP` outputs of lines `i..i + MR` of `a` and the lines of `b` from `j` on that
    /// [`Lines::pack_pairs`] copied: their eights, and their last `left` terms each.
    #[inline(always)]
    fn pair_tile<const MR: usize, const NP: usize>(
        &self,
        isa: impl Isa,
        i: usize,
        j: usize,
        (eights, rest, left): (&[Pairs<T, NP>], &[T], usize),
        c: &mut [T],
    ) {
        let k = self.k;
        let full = k / 8;
        let a_lines: [&[T]; MR] = self.a.lines(i, k, &[]);
        let sums = isa.pair_sums::<T, MR, NP>(a_lines.map(|line| &line.as_chunks::<8>().0[..full]), &eights[..full]);
        for (r, a_line) in a_lines.iter().enumerate() {
            for s in 0..2 * NP {
                // The terms after the last eight, left to right, as `dot` adds them.
                let b_rest = &rest[s * left..][..left];
                let mut terms = a_line[full * 8..].iter().zip(b_rest);
                let mut total =
                    if full > 0 { sums[r][s / 2][s % 2] } else { terms.next().map_or(T::ZERO, |(&x, &y)| x * y) };
                for (&x, &y) in terms {
                    total = total.add_product(x, y);
                }
                c[(i + r) * self.c_rs + (j + s) * self.c_cs] = total;
            }
        }
    }
}

impl<T: Float> Product<'_, T> {
    /// The outputs of lines `j..j + NR` of `b`.
    #[inline(always)]
    fn panel<const MR: usize, const NR: usize>(&self, isa: impl Isa, j: usize, c: &mut [T], scratch: &mut [T]) {
        let k = self.k;
        let (b_packed, a_packed) = scratch.split_at_mut(if self.b.contiguous() { 0 } else { PANEL * k });
        if !self.b.contiguous() {
            self.b.pack::<NR>(j, k, b_packed);
        }
        let b_packed = &*b_packed;
        let b_lines: [&[T]; NR] = self.b.lines(j, k, b_packed);
        let mut i = 0;
        while i + MR <= self.m {
            self.tile::<MR, NR>(isa, i, j, &b_lines, c, a_packed);
            i += MR;
        }
        while i < self.m {
            self.tile::<1, NR>(isa, i, j, &b_lines, c, a_packed);
            i += 1;
        }
    }

    /// The `MR × NR` outputs of lines `i..i + MR` of `a` and `b_lines`, written into `c`.
    #[inline(always)]
    fn tile<const MR: usize, const NR: usize>(
        &self,
        isa: impl Isa,
        i: usize,
        j: usize,
        b_lines: &[&[T]; NR],
        c: &mut [T],
        a_packed: &mut [T],
    ) {
        let k = self.k;
        if !self.a.contiguous() {
            self.a.pack::<MR>(i, k, a_packed);
        }
        let a_packed = &*a_packed;
        let a_lines: [&[T]; MR] = self.a.lines(i, k, a_packed);
        let full = k / 8;
        let sums = isa.sums::<T, MR, NR>(
            a_lines.map(|line| &line.as_chunks::<8>().0[..full]),
            b_lines.map(|line| &line.as_chunks::<8>().0[..full]),
        );
        for (r, a_line) in a_lines.iter().enumerate() {
            for (s, b_line) in b_lines.iter().enumerate() {
                // The terms after the last eight, left to right, as `dot` adds them.
                let mut rest = a_line[full * 8..].iter().zip(&b_line[full * 8..]);
                let mut total = if full > 0 { sums[r][s] } else { rest.next().map_or(T::ZERO, |(&x, &y)| x * y) };
                for (&x, &y) in rest {
                    total = total.add_product(x, y);
                }
                c[(i + r) * self.c_rs + (j + s) * self.c_cs] = total;
            }
        }
    }
}

/// An instruction set the tiles' sums are computed with.
trait Isa: Copy {
    /// Each output of a tile summed in [`dot`]'s order, its last `k % 8` terms left out: lane
    /// `l` of output `(r, s)` sums the products of terms `l`, `l + 8`, `l + 16`... of line `r`
    /// of `a` and line `s` of `b`, and the lanes are combined as [`combine`] does.
    fn sums<T: Float, const MR: usize, const NR: usize>(self, a: [&[[T; 8]]; MR], b: [&[[T; 8]]; NR]) -> [[T; NR]; MR];

    /// [`Isa::sums`] with the lines of `b` two to a 512-bit register ([`Lines::pack_pairs`]'
    /// eights): output `(r, 2 p + h)` is line `r` of `a` against half `h` of pair `p`.
    #[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]
    fn pair_sums<T: Float, const MR: usize, const NP: usize>(
        self,
        a: [&[[T; 8]]; MR],
        b: &[Pairs<T, NP>],
    ) -> [[[T; 2]; NP]; MR];

    /// The outputs of one panel of a right operand stored in panels against `MR` lines of `a`,
    /// each with [`dot`]'s bits ([`panel_of`]), stored into `tile`.
    fn panel<T: Float, const MR: usize, const PASS: usize, const W: usize>(
        self,
        a: [&[T]; MR],
        panel: &[[T; W]],
        tile: Tile<'_, T>,
    );
}

/// [`Isa::sums`]' partial sums, written once for every instruction set.
#[inline(always)]
fn lanes_of<T: Float, const MR: usize, const NR: usize>(a: [&[[T; 8]]; MR], b: [&[[T; 8]]; NR]) -> [[[T; 8]; NR]; MR] {
    let mut acc = [[[T::ZERO; 8]; NR]; MR];
    // Every line cut to the same length, so that indexing by `q` needs no bounds check.
    let full = a.iter().chain(&b).map(|line| line.len()).min().unwrap_or(0);
    let (a, b) = (a.map(|line| &line[..full]), b.map(|line| &line[..full]));
    for q in 0..full {
        for (acc_r, a_r) in acc.iter_mut().zip(&a) {
            let x = &a_r[q];
            for (acc_rs, b_s) in acc_r.iter_mut().zip(&b) {
                let y = &b_s[q];
                for l in 0..8 {
                    acc_rs[l] = acc_rs[l].add_product(x[l], y[l]);
                }
            }
        }
    }
    acc
}

/// Each output's eight lanes combined as [`combine`] does, written as vector additions across the
/// tile's outputs (lane `l` of every output side by side).
#[inline(always)]
fn combined<T: Float, const MR: usize, const NR: usize>(acc: [[[T; 8]; NR]; MR]) -> [[T; NR]; MR] {
    let lane = |l: usize| -> [[T; NR]; MR] { core::array::from_fn(|r| core::array::from_fn(|s| acc[r][s][l])) };
    let pair = |x: [[T; NR]; MR], y: [[T; NR]; MR]| -> [[T; NR]; MR] {
        core::array::from_fn(|r| core::array::from_fn(|s| x[r][s].add(y[r][s])))
    };
    let left = pair(pair(lane(0), lane(1)), pair(lane(2), lane(3)));
    let right = pair(pair(lane(4), lane(5)), pair(lane(6), lane(7)));
    pair(left, right)
}

/// [`Isa::pair_sums`]' partial sums, written once for every instruction set: [`lanes_of`] with
/// two lines of `b` in each sixteen lanes, each line of `a`'s eight terms against both.
#[inline(always)]
#[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]
fn pair_lanes_of<T: Float, const MR: usize, const NP: usize>(
    a: [&[[T; 8]]; MR],
    b: &[Pairs<T, NP>],
) -> [Pairs<T, NP>; MR] {
    let mut acc = [[[[T::ZERO; 8]; 2]; NP]; MR];
    let full = a.iter().map(|line| line.len()).min().unwrap_or(0).min(b.len());
    let (a, b) = (a.map(|line| &line[..full]), &b[..full]);
    for q in 0..full {
        let pairs = &b[q];
        for (acc_r, a_r) in acc.iter_mut().zip(&a) {
            let x = &a_r[q];
            let x2 = [*x, *x];
            for (acc_rp, pair) in acc_r.iter_mut().zip(pairs) {
                for ((acc, &y), &x) in
                    acc_rp.as_flattened_mut().iter_mut().zip(pair.as_flattened()).zip(x2.as_flattened())
                {
                    *acc = acc.add_product(x, y);
                }
            }
        }
    }
    acc
}

/// [`combined`] for [`pair_lanes_of`]' sums.
#[inline(always)]
#[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]
fn pairs_combined<T: Float, const MR: usize, const NP: usize>(acc: [Pairs<T, NP>; MR]) -> [[[T; 2]; NP]; MR] {
    let lane = |l: usize| -> [[[T; 2]; NP]; MR] {
        core::array::from_fn(|r| core::array::from_fn(|p| core::array::from_fn(|h| acc[r][p][h][l])))
    };
    let pair = |x: [[[T; 2]; NP]; MR], y: [[[T; 2]; NP]; MR]| -> [[[T; 2]; NP]; MR] {
        core::array::from_fn(|r| core::array::from_fn(|p| core::array::from_fn(|h| x[r][p][h].add(y[r][p][h]))))
    };
    let left = pair(pair(lane(0), lane(1)), pair(lane(2), lane(3)));
    let right = pair(pair(lane(4), lane(5)), pair(lane(6), lane(7)));
    pair(left, right)
}

/// [`lanes_of`] and [`combined`] compiled (for `$feature`, if given) as two functions that are
/// never inlined, and [`panel_of`] as a third: in one function, LLVM vectorises the loop for the combination's layout and
/// shuffles the lanes on every step (five times slower on the MLP's step, measured), as
/// `sum::lanes` notes for `dot`.
macro_rules! compiled_for {
    ($lanes:ident, $combine:ident, $pair_lanes:ident, $pair_combine:ident, $panel:ident $(, $feature:literal)?) => {
        $(#[target_feature(enable = $feature)])?
        #[inline(never)]
        #[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]
        fn $pair_lanes<T: Float, const MR: usize, const NP: usize>(
            a: [&[[T; 8]]; MR],
            b: &[Pairs<T, NP>],
        ) -> [Pairs<T, NP>; MR] {
            pair_lanes_of(a, b)
        }

        $(#[target_feature(enable = $feature)])?
        #[inline(never)]
        #[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]
        fn $pair_combine<T: Float, const MR: usize, const NP: usize>(
            acc: [Pairs<T, NP>; MR],
        ) -> [[[T; 2]; NP]; MR] {
            pairs_combined(acc)
        }

        $(#[target_feature(enable = $feature)])?
        #[inline(never)]
        fn $lanes<T: Float, const MR: usize, const NR: usize>(
            a: [&[[T; 8]]; MR],
            b: [&[[T; 8]]; NR],
        ) -> [[[T; 8]; NR]; MR] {
            lanes_of(a, b)
        }

        $(#[target_feature(enable = $feature)])?
        #[inline(never)]
        fn $combine<T: Float, const MR: usize, const NR: usize>(acc: [[[T; 8]; NR]; MR]) -> [[T; NR]; MR] {
            combined(acc)
        }

        $(#[target_feature(enable = $feature)])?
        #[inline(never)]
        fn $panel<T: Float, const MR: usize, const PASS: usize, const W: usize>(
            a: [&[T]; MR],
            panel: &[[T; W]],
            tile: Tile<'_, T>,
        ) {
            tile.store(panel_of::<T, MR, PASS, W>(a, panel))
        }
    };
}

/// A checked product ([`Product::checked`]) compiled for the best instruction set ([`best`]), with
/// the `fma` feature: what lies around its kernels' calls (the lines copied into the scratch, the
/// terms after each output's last eight, the stores) is then compiled for it too. Compiled for the
/// plain target, each of their fused multiply-adds was a call into `fmaf`: the MLP's step fed at
/// run time took 1.07 times as long (`cargo bench --features fma --bench mlp -- fed`, three rounds
/// alternated), the terms after the eighth of its products of ten terms a call each. Without the
/// feature the plain target adds and multiplies inline, and compiled for AVX-512 this code made
/// the step fed an `Array2` 1.04 times as long, so it is not. The functions it calls are
/// `#[inline(always)]` with the feature in optimised builds only: unoptimised, the frames of all
/// of them in one function overflowed a test thread's stack (`tests/digits_parity.rs`).
struct Checked<'p, 'a, 'c, T> {
    p: &'p Product<'a, T>,
    c: &'c mut [T],
    scratch: &'c mut [T],
    panels_below: usize,
}

impl<T: Float> Kernel for Checked<'_, '_, '_, T> {
    type Output = ();

    #[inline(always)]
    fn run(self, _: Registers) {
        self.p.checked(self.c, self.scratch, self.panels_below)
    }
}

/// A product of one line of `a` (a matrix-vector product: an input at batch 1 times a weight whose
/// columns are contiguous, as a variable's are) through the tiles, its whole grid compiled for
/// the best instruction set ([`best`]), each tile of the line and `NR` lines of `b` combining its
/// lanes inline ([`Here`]). With a call for each tile's sums and one for their combination, the
/// calls took about 13% of the anomaly detector's time at batch 1 with its weights in variables
/// (tiles of 4 outputs of 128 terms: 37.0 against 32.2 µs, `cargo bench --bench models`, both
/// builds alternated).
struct FewLines<'p, 'a, 'c, T> {
    p: &'p Product<'a, T>,
    c: &'c mut [T],
    scratch: &'c mut [T],
}

impl<T: Float> Kernel for FewLines<'_, '_, '_, T> {
    type Output = ();

    #[inline(always)]
    fn run(self, registers: Registers) {
        match registers {
            Registers::Narrow => self.p.grid::<1, 2>(Here, self.c, self.scratch),
            Registers::Wide | Registers::Many => self.p.grid::<1, 4>(Here, self.c, self.scratch),
        }
    }
}

/// The instruction set of the function its sums are inlined into ([`FewLines`], through
/// [`best`]), for tiles of one line of `a` only: with more, LLVM lays [`lanes_of`]' loop out for
/// the combination ([`compiled_for`] says more; the MLP's step took 4.0 ms against 0.9 so).
#[derive(Clone, Copy)]
struct Here;

impl Isa for Here {
    #[inline(always)]
    fn sums<T: Float, const MR: usize, const NR: usize>(self, a: [&[[T; 8]]; MR], b: [&[[T; 8]]; NR]) -> [[T; NR]; MR] {
        combined(lanes_of(a, b))
    }

    #[inline(always)]
    fn pair_sums<T: Float, const MR: usize, const NP: usize>(
        self,
        a: [&[[T; 8]]; MR],
        b: &[Pairs<T, NP>],
    ) -> [[[T; 2]; NP]; MR] {
        pairs_combined(pair_lanes_of(a, b))
    }

    #[inline(always)]
    fn panel<T: Float, const MR: usize, const PASS: usize, const W: usize>(
        self,
        a: [&[T]; MR],
        panel: &[[T; W]],
        tile: Tile<'_, T>,
    ) {
        tile.store(panel_of::<T, MR, PASS, W>(a, panel))
    }
}

/// Whatever the target promises (SSE2 on x86-64 by default; a Cortex-M's FPU).
#[derive(Clone, Copy)]
struct Portable;

compiled_for!(portable_lanes, portable_combined, portable_pair_lanes, portable_pair_combined, portable_panel);

impl Isa for Portable {
    #[inline]
    fn sums<T: Float, const MR: usize, const NR: usize>(self, a: [&[[T; 8]]; MR], b: [&[[T; 8]]; NR]) -> [[T; NR]; MR] {
        portable_combined(portable_lanes(a, b))
    }

    #[inline]
    fn pair_sums<T: Float, const MR: usize, const NP: usize>(
        self,
        a: [&[[T; 8]]; MR],
        b: &[Pairs<T, NP>],
    ) -> [[[T; 2]; NP]; MR] {
        portable_pair_combined(portable_pair_lanes(a, b))
    }

    #[inline]
    fn panel<T: Float, const MR: usize, const PASS: usize, const W: usize>(
        self,
        a: [&[T]; MR],
        panel: &[[T; W]],
        tile: Tile<'_, T>,
    ) {
        portable_panel::<T, MR, PASS, W>(a, panel, tile)
    }
}

/// [`Isa`] for an instruction set of x86-64 that `dispatch` asks the CPU about (a type only its
/// `detect` makes, once `is_x86_feature_detected!` has said that this CPU executes every feature
/// named): its sums compiled for those features, and with the `fma` feature for `$with_fma`
/// (`dispatch`'s types have then seen the CPU execute fused multiply-adds too).
macro_rules! x86_instruction_set {
    (
        $name:ident,
        $lanes:ident,
        $combined:ident,
        $pair_lanes:ident,
        $pair_combined:ident,
        $panel:ident,
        $features:literal,
        $with_fma:literal
    ) => {
        #[cfg(all(feature = "std", target_arch = "x86_64", not(feature = "fma")))]
        compiled_for!($lanes, $combined, $pair_lanes, $pair_combined, $panel, $features);
        #[cfg(all(feature = "std", target_arch = "x86_64", feature = "fma"))]
        compiled_for!($lanes, $combined, $pair_lanes, $pair_combined, $panel, $with_fma);

        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        impl Isa for $name {
            #[inline]
            fn sums<T: Float, const MR: usize, const NR: usize>(
                self,
                a: [&[[T; 8]]; MR],
                b: [&[[T; 8]]; NR],
            ) -> [[T; NR]; MR] {
                // SAFETY: a value of this type exists only once `detect` has seen
                // `is_x86_feature_detected!` say that this CPU executes every feature these two
                // functions are compiled with (`#[target_feature(enable = ...)]`), the one
                // requirement of calling them.
                #[allow(unsafe_code)]
                unsafe {
                    $combined($lanes(a, b))
                }
            }

            #[inline]
            fn pair_sums<T: Float, const MR: usize, const NP: usize>(
                self,
                a: [&[[T; 8]]; MR],
                b: &[Pairs<T, NP>],
            ) -> [[[T; 2]; NP]; MR] {
                // SAFETY: as for `sums`: this CPU executes every feature these two are compiled
                // with.
                #[allow(unsafe_code)]
                unsafe {
                    $pair_combined($pair_lanes(a, b))
                }
            }

            #[inline]
            fn panel<T: Float, const MR: usize, const PASS: usize, const W: usize>(
                self,
                a: [&[T]; MR],
                panel: &[[T; W]],
                tile: Tile<'_, T>,
            ) {
                // SAFETY: as for `sums`: this CPU executes every feature `$panel` is compiled with.
                #[allow(unsafe_code)]
                unsafe {
                    $panel::<T, MR, PASS, W>(a, panel, tile)
                }
            }
        }
    };
}

x86_instruction_set!(
    Avx2,
    avx2_lanes,
    avx2_combined,
    avx2_pair_lanes,
    avx2_pair_combined,
    avx2_panel,
    "avx2",
    "avx2,fma"
);
x86_instruction_set!(
    Avx512,
    avx512_lanes,
    avx512_combined,
    avx512_pair_lanes,
    avx512_pair_combined,
    avx512_panel,
    "avx512f,avx512vl",
    "avx512f,avx512vl,fma"
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Values whose sums round differently in different orders.
    fn values(seed: usize) -> [f32; 4096] {
        core::array::from_fn(|i| {
            let i = i + seed;
            ((i * 37 % 101) as f32 - 50.0) * 1.0e-3 + (i % 7) as f32 * 1.0e4 + 1.0 / (i % 13 + 1) as f32
        })
    }

    /// A variable's copy lays its lines out as `panel_at` says, is copied again only once stale,
    /// and gives `matmul_copied` the bits of the variable's own lines.
    #[cfg(feature = "std")]
    #[test]
    fn a_copy_in_panels_holds_the_lines_where_panel_at_says() {
        let (n, k) = (19, 11);
        let mut data = values(3)[..n * k].to_vec();
        // Column-major `[k, n]`, as a variable read as `b` is: line `j` at `j * k`.
        fn columns(data: &[f32], k: usize) -> Lines<'_, f32> {
            Lines { data, line_step: k, step: 1 }
        }
        let mut copy = PanelCopy::<f32>::new(n * k);
        let panels = copy.panels(n, k, columns(&data, k)).expect("std").to_vec();
        for j in 0..n {
            for t in 0..k {
                assert_eq!(panels[panel_at(n, k, j, t)], data[j * k + t], "line {j} term {t}");
            }
        }
        // Written: the copy keeps the old value until it is marked stale.
        data[5] = 1234.5;
        assert_eq!(
            copy.panels(n, k, columns(&data, k)).expect("std")[panel_at(n, k, 0, 5)],
            panels[panel_at(n, k, 0, 5)]
        );
        copy.stale();
        assert_eq!(copy.panels(n, k, columns(&data, k)).expect("std")[panel_at(n, k, 0, 5)], 1234.5);
        // Lines the storage does not hold: none.
        copy.stale();
        assert!(copy.panels(n, k + 1, columns(&data, k)).is_none());
        assert!(copy.panels(n, k, Lines { data: &data[1..], line_step: k, step: 1 }).is_none());
        // A clone is stale and empty, and takes its memory when it is first read.
        let _ = copy.panels(n, k, columns(&data, k)).expect("std");
        let mut clone = copy.clone();
        assert_eq!(clone.panels.len(), 0);
        let copied = copy.panels(n, k, columns(&data, k)).expect("std").to_vec();
        assert_eq!(clone.panels(n, k, columns(&data, k)).expect("std"), &copied[..]);
        assert_eq!(clone.panels(n, k, columns(&data, k)).expect("std").as_ptr() as usize % 64, 0);
        clone.clone_from(&copy);
        assert!(!clone.fresh);
        // The product through the copy, against the variable's lines.
        let (m, a) = (3, values(9));
        let a = Lines { data: &a[..m * k], line_step: k, step: 1 };
        let (mut c, mut want) = ([0.0f32; 3 * 19], [0.0f32; 3 * 19]);
        let held = copy.panels(n, k, columns(&data, k));
        matmul_copied(m, n, k, a, (columns(&data, k), held), &mut c, n, 1, &mut []);
        matmul(m, n, k, a, columns(&data, k), &mut want, n, 1, &mut []);
        assert_eq!(c.map(f32::to_bits), want.map(f32::to_bits));
    }

    #[test]
    fn every_element_has_dots_bits() {
        let (a, b) = (values(0), values(7));
        // The last five have few enough terms, and lines enough, to go through the panels.
        let sizes = [(1, 1, 8), (1, 9, 17), (5, 3, 8), (7, 6, 40), (4, 4, 3), (3, 11, 65), (9, 2, 1)];
        // One line of `a` (`FewLines`): full tiles, narrower ones, and the terms after the last eight.
        let one_line = [(1, 16, 40), (1, 7, 100), (1, 24, 7), (1, 13, 64)];
        let through_panels = [(5, 9, 40), (4, 17, 3), (6, 16, 64), (13, 19, PANELS_BELOW - 1), (9, 8, 1)];
        for (m, n, k) in sizes.into_iter().chain(through_panels).chain(one_line) {
            // Contiguous and strided lines of each operand: (line_step, step).
            let a_layouts = [(k, 1), (1, m)];
            let b_layouts = [(k, 1), (1, n)];
            for (a_ls, a_s) in a_layouts {
                for (b_ls, b_s) in b_layouts {
                    let mut c = [f32::NAN; 256];
                    let mut scratch = [0.0f32; PACKED_LINES * PANELS_BELOW];
                    let (al, bl) = (
                        Lines { data: &a, line_step: a_ls, step: a_s },
                        Lines { data: &b, line_step: b_ls, step: b_s },
                    );
                    matmul(m, n, k, al, bl, &mut c, 1, m, &mut scratch);
                    for i in 0..m {
                        for j in 0..n {
                            let expected = dot(k, &a, i * a_ls, a_s, &b, j * b_ls, b_s);
                            assert_eq!(
                                c[i + j * m].to_bits(),
                                expected.to_bits(),
                                "({m}, {n}, {k}) layouts {a_ls}/{a_s} {b_ls}/{b_s} at ({i}, {j})"
                            );
                        }
                    }
                }
            }
        }
    }

    /// The outputs of `isa`'s tiles of `MR × NR`, for a strided left operand and a contiguous
    /// right one, against `dot`.
    fn check_tiles<I: Isa, const MR: usize, const NR: usize>(isa: I) {
        let (a, b) = (values(11), values(13));
        for (m, n, k) in [(9, 7, 8), (5, 9, 31), (1, 1, 64), (8, 8, 19)] {
            let mut c = [f32::NAN; 128];
            let mut scratch = [0.0f32; 2 * PANEL * 64];
            let (al, bl) = (Lines { data: &a, line_step: 1, step: m }, Lines { data: &b, line_step: k, step: 1 });
            Product { m, n, k, a: al, b: bl, c_rs: n, c_cs: 1 }.grid::<MR, NR>(isa, &mut c, &mut scratch);
            for i in 0..m {
                for j in 0..n {
                    let expected = dot(k, &a, i, m, &b, j * k, 1);
                    assert_eq!(c[i * n + j].to_bits(), expected.to_bits(), "({m}, {n}, {k}) tiles {MR} × {NR}");
                }
            }
        }
    }

    /// The outputs of [`Product::paired`] with `isa`, for a contiguous left operand and a right
    /// one laid out each of the three ways [`Lines::pack_pairs`] reads, against `dot`.
    fn check_paired<I: Isa>(isa: I) {
        let (a, b) = (values(17), values(19));
        for (m, n, k) in [(9, 8, 8), (5, 19, 31), (4, 16, 64), (8, 9, 19), (1, 8, 3), (6, 24, 100)] {
            let right = [
                Lines { data: &b, line_step: k, step: 1 },
                Lines { data: &b, line_step: 1, step: n },
                Lines { data: &b, line_step: 2 * k, step: 2 },
            ];
            for bl in right.into_iter().filter(|bl| bl.holds(n, k)) {
                let mut c = [f32::NAN; 256];
                let mut scratch = [0.0f32; 8 * 100];
                let al = Lines { data: &a, line_step: k, step: 1 };
                Product { m, n, k, a: al, b: bl, c_rs: 1, c_cs: m }.paired::<4, 4>(isa, &mut c, &mut scratch);
                for i in 0..m {
                    for j in 0..n {
                        let expected = dot(k, &a, i * k, 1, bl.data, j * bl.line_step, bl.step);
                        let at = (m, n, k, bl.line_step, bl.step);
                        assert_eq!(c[i + j * m].to_bits(), expected.to_bits(), "{at:?} at ({i}, {j})");
                    }
                }
            }
        }
    }

    #[test]
    fn paired_tiles_have_dots_bits() {
        check_paired(Portable);
        check_paired(Here);
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if let Some(isa) = Avx512::detect() {
            check_paired(isa);
        }
    }

    #[test]
    fn one_line_has_dots_bits_with_every_tile() {
        let (a, b) = (values(3), values(5));
        for (n, k) in [(9, 8), (16, 40), (7, 100), (5, 3)] {
            for registers in [Registers::Narrow, Registers::Wide, Registers::Many] {
                let mut c = [f32::NAN; 16];
                let (al, bl) = (Lines { data: &a, line_step: k, step: 1 }, Lines { data: &b, line_step: k, step: 1 });
                let p = Product { m: 1, n, k, a: al, b: bl, c_rs: n, c_cs: 1 };
                FewLines { p: &p, c: &mut c, scratch: &mut [] }.run(registers);
                for (j, value) in c[..n].iter().enumerate() {
                    let expected = dot(k, &a, 0, 1, &b, j * k, 1);
                    assert_eq!(value.to_bits(), expected.to_bits(), "({n}, {k}) {registers:?} at {j}");
                }
            }
        }
    }

    #[test]
    fn every_instruction_set_gives_the_same_bits() {
        check_tiles::<_, 2, 2>(Portable);
        check_tiles::<_, 3, 1>(Portable);
        check_tiles::<_, 1, 4>(Portable);
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        {
            if let Some(isa) = Avx2::detect() {
                check_tiles::<_, 2, 4>(isa);
            }
            if let Some(isa) = Avx512::detect() {
                check_tiles::<_, 4, 4>(isa);
            }
        }
    }

    /// `b`'s lines (`n` lines of `k` terms, line `j`'s term `t` at `b[j * k + t]`) laid out in
    /// panels, as the macro lays out a constant.
    fn in_panels(b: &[f32], n: usize, k: usize) -> [f32; 4096] {
        let mut out = [f32::NAN; 4096];
        for j in 0..n {
            for t in 0..k {
                out[panel_at(n, k, j, t)] = b[j * k + t];
            }
        }
        out
    }

    #[test]
    fn products_with_panels_have_dots_bits() {
        let (a, b) = (values(17), values(19));
        for (m, n, k) in [(1, 8, 8), (1, 16, 640 / 10), (1, 13, 17), (2, 24, 9), (5, 9, 40), (7, 17, 3), (9, 8, 65)] {
            let panels = in_panels(&b, n, k);
            for (a_ls, a_s) in [(k, 1), (1, m)] {
                let mut c = [f32::NAN; 256];
                let mut scratch = [0.0f32; 2 * PANEL * 65];
                let al = Lines { data: &a, line_step: a_ls, step: a_s };
                matmul_panels(m, n, k, al, &panels, &mut c, 1, m, &mut scratch);
                let mut unchecked = [f32::NAN; 256];
                matmul_panels(m, n, k, al, &panels, &mut unchecked, 1, m, &mut []);
                for i in 0..m {
                    for j in 0..n {
                        let expected = dot(k, &a, i * a_ls, a_s, &b, j * k, 1);
                        let at = (m, n, k, a_ls, a_s, i, j);
                        assert_eq!(c[i + j * m].to_bits(), expected.to_bits(), "{at:?}");
                        assert_eq!(unchecked[i + j * m].to_bits(), expected.to_bits(), "no scratch: {at:?}");
                    }
                }
            }
        }
    }

    /// `isa`'s tiles of `MR` lines against panels, `PASS` sums a pass, against `dot`.
    fn check_panel_tiles<I: Isa, const MR: usize, const PASS: usize>(isa: I) {
        let (a, b) = (values(23), values(29));
        for (m, n, k) in [(9, 16, 8), (5, 8, 31), (1, 24, 64), (8, 11, 19)] {
            let panels = in_panels(&b, n, k);
            let mut c = [f32::NAN; 256];
            let mut scratch = [0.0f32; PANEL * 64];
            let al = Lines { data: &a, line_step: 1, step: m };
            Panels { m, n, k, a: al, b: &panels, c_rs: n, c_cs: 1 }.rows::<MR, PASS>(isa, &mut c, &mut scratch);
            for i in 0..m {
                for j in 0..n {
                    let expected = dot(k, &a, i, m, &b, j * k, 1);
                    assert_eq!(c[i * n + j].to_bits(), expected.to_bits(), "({m}, {n}, {k}) panels {MR} × {PASS}");
                }
            }
        }
    }

    #[test]
    fn every_instruction_set_gives_panels_the_same_bits() {
        check_panel_tiles::<_, 1, 4>(Portable);
        check_panel_tiles::<_, 2, 2>(Portable);
        check_panel_tiles::<_, 3, 8>(Portable);
        check_panel_tiles::<_, 2, 1>(Portable);
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        {
            if let Some(isa) = Avx2::detect() {
                check_panel_tiles::<_, 2, 4>(isa);
            }
            if let Some(isa) = Avx512::detect() {
                check_panel_tiles::<_, 4, 4>(isa);
            }
        }
    }

    #[test]
    fn panels_are_laid_out_line_by_line_eight_at_a_time() {
        // 10 lines of 3 terms: a panel of 8 lines, then one of 2.
        assert_eq!((panel_at(10, 3, 0, 0), panel_at(10, 3, 7, 0), panel_at(10, 3, 0, 1)), (0, 7, 8));
        assert_eq!((panel_at(10, 3, 8, 0), panel_at(10, 3, 9, 0), panel_at(10, 3, 8, 1)), (24, 25, 26));
        assert_eq!((panel_step(10, 7), panel_step(10, 9)), (8, 2));
        let mut seen = [false; 30];
        for j in 0..10 {
            for t in 0..3 {
                seen[panel_at(10, 3, j, t)] = true;
            }
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn double_precision_and_row_major_results() {
        let a: [f64; 300] = core::array::from_fn(|i| (i as f64 * 0.731).sin() * 1e3 + 1.0 / (i + 1) as f64);
        let b: [f64; 300] = core::array::from_fn(|i| (i as f64 * 1.37).cos() * 1e-2);
        let (m, n, k) = (5, 7, 23);
        let mut c = [0.0f64; 35];
        let mut scratch = [0.0f64; 2 * PANEL * 23];
        let (al, bl) = (Lines { data: &a, line_step: k, step: 1 }, Lines { data: &b, line_step: 1, step: n });
        matmul(m, n, k, al, bl, &mut c, n, 1, &mut scratch);
        for i in 0..m {
            for j in 0..n {
                assert_eq!(c[i * n + j].to_bits(), dot(k, &a, i * k, 1, &b, j, n).to_bits());
            }
        }
    }

    #[test]
    fn too_small_a_scratch_still_gives_the_product() {
        let (a, b) = (values(3), values(5));
        let (m, n, k) = (6, 5, 30);
        let mut c = [0.0f32; 30];
        let (al, bl) = (Lines { data: &a, line_step: 1, step: m }, Lines { data: &b, line_step: 1, step: n });
        matmul(m, n, k, al, bl, &mut c, n, 1, &mut []);
        for i in 0..m {
            for j in 0..n {
                assert_eq!(c[i * n + j].to_bits(), dot(k, &a, i, m, &b, j, n).to_bits());
            }
        }
    }
}
