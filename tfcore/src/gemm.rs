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
//! With `std` on x86-64 the same code is also compiled for AVX2 and chosen at run time when the
//! CPU has it (wider registers, twice the partial sums in flight). No fused multiply-add is ever
//! used (Rust never contracts `a * b + c`), so the AVX2 path, the portable one and a Cortex-M
//! give the same bits.
//!
//! [`dot`]: crate::__private::dot

#[cfg(doc)]
use crate::__private::combine;
use crate::__private::{dot, Float};

/// The most lines of one operand a tile reads.
pub const PANEL: usize = 4;

/// How many lines of `k` terms the generated code gives [`matmul`] as scratch where an operand's
/// lines may not be contiguous: `2 * PANEL` with `std`; none without it (firmware, where
/// [`matmul`] computes one dot product per element), so that a product's stack there is what the
/// memory plan says.
#[cfg(feature = "std")]
pub const PACKED_LINES: usize = 2 * PANEL;
/// See above: none without `std`.
#[cfg(not(feature = "std"))]
pub const PACKED_LINES: usize = 0;

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

    /// Copies `count` lines from line `first` on into `out`, each as `k` contiguous terms.
    fn pack(&self, first: usize, count: usize, k: usize, out: &mut [T]) {
        for (r, line) in out.chunks_exact_mut(k).take(count).enumerate() {
            let start = (first + r) * self.line_step;
            for (t, term) in line.iter_mut().enumerate() {
                *term = self.data[start + t * self.step];
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
    let p = Product { m, n, k, a, b, c_rs, c_cs };
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
    // Tiles as large as the registers hold: each output's eight lanes take one 256-bit register
    // in single precision (two in double, or two 128-bit ones). (A row of eight outputs for a
    // matrix-vector product measured slower than the tiles' rows of four: the anomaly detector at
    // batch 1, 23.2 µs against 17.1, its weights streamed from beyond L2 eight columns at once.)
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    let single = core::mem::size_of::<T>() == 4;
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if let Some(isa) = Avx512::detect() {
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

/// The sizes and operands of one [`matmul`].
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
    /// `MR` and `NR` are at most [`PANEL`], which the scratch is sized by.
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

    /// The outputs of lines `j..j + NR` of `b`.
    fn panel<const MR: usize, const NR: usize>(&self, isa: impl Isa, j: usize, c: &mut [T], scratch: &mut [T]) {
        let k = self.k;
        let (b_packed, a_packed) = scratch.split_at_mut(if self.b.contiguous() { 0 } else { PANEL * k });
        if !self.b.contiguous() {
            self.b.pack(j, NR, k, b_packed);
        }
        let b_packed = &*b_packed;
        let b_lines: [&[T]; NR] =
            core::array::from_fn(|c| if self.b.contiguous() { self.b.line(j + c, k) } else { &b_packed[c * k..][..k] });
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
            self.a.pack(i, MR, k, a_packed);
        }
        let a_packed = &*a_packed;
        let a_lines: [&[T]; MR] =
            core::array::from_fn(|r| if self.a.contiguous() { self.a.line(i + r, k) } else { &a_packed[r * k..][..k] });
        let full = k / 8;
        let sums = isa.sums::<T, MR, NR>(
            a_lines.map(|line| &line.as_chunks::<8>().0[..full]),
            b_lines.map(|line| &line.as_chunks::<8>().0[..full]),
        );
        for (r, a_line) in a_lines.iter().enumerate() {
            for (s, b_line) in b_lines.iter().enumerate() {
                // The terms after the last eight, left to right, as `dot` adds them.
                let mut rest = a_line[full * 8..].iter().zip(&b_line[full * 8..]).map(|(&x, &y)| x * y);
                let mut total = if full > 0 { sums[r][s] } else { rest.next().unwrap_or(T::ZERO) };
                for t in rest {
                    total = total.add(t);
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
                    acc_rs[l] = acc_rs[l].add(x[l] * y[l]);
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

/// [`lanes_of`] and [`combined`] compiled (for `$feature`, if given) as two functions that are
/// never inlined: in one function, LLVM vectorises the loop for the combination's layout and
/// shuffles the lanes on every step (five times slower on the MLP's step, measured), as
/// `__private::lanes` notes for `dot`.
macro_rules! compiled_for {
    ($lanes:ident, $combine:ident $(, $feature:literal)?) => {
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
    };
}

/// Whatever the target promises (SSE2 on x86-64 by default; a Cortex-M's FPU).
#[derive(Clone, Copy)]
struct Portable;

compiled_for!(portable_lanes, portable_combined);

impl Isa for Portable {
    #[inline]
    fn sums<T: Float, const MR: usize, const NR: usize>(self, a: [&[[T; 8]]; MR], b: [&[[T; 8]]; NR]) -> [[T; NR]; MR] {
        portable_combined(portable_lanes(a, b))
    }
}

/// An instruction set of x86-64 that the CPU is asked about: a type only `detect` makes, once
/// `is_x86_feature_detected!` has said that this CPU executes every feature named, and its
/// [`Isa::sums`] compiled for those features.
macro_rules! x86_instruction_set {
    ($(#[$doc:meta])* $name:ident, $lanes:ident, $combined:ident, $features:literal, $($feature:tt),+) => {
        $(#[$doc])*
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        #[derive(Clone, Copy)]
        pub(crate) struct $name(());

        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        compiled_for!($lanes, $combined, $features);

        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        impl $name {
            pub(crate) fn detect() -> Option<$name> {
                ($(std::is_x86_feature_detected!($feature))&&+).then_some($name(()))
            }
        }

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
        }
    };
}

x86_instruction_set!(
    /// The CPU has AVX2: sixteen 256-bit registers.
    Avx2, avx2_lanes, avx2_combined, "avx2", "avx2"
);

x86_instruction_set!(
    /// The CPU has AVX-512 with its 256-bit forms (`avx512vl`): sixteen more vector registers.
    Avx512, avx512_lanes, avx512_combined, "avx512f,avx512vl", "avx512f", "avx512vl"
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

    #[test]
    fn every_element_has_dots_bits() {
        let (a, b) = (values(0), values(7));
        for (m, n, k) in [(1, 1, 8), (1, 9, 17), (5, 3, 8), (7, 6, 40), (4, 4, 3), (3, 11, 65), (9, 2, 1)] {
            // Contiguous and strided lines of each operand: (line_step, step).
            let a_layouts = [(k, 1), (1, m)];
            let b_layouts = [(k, 1), (1, n)];
            for (a_ls, a_s) in a_layouts {
                for (b_ls, b_s) in b_layouts {
                    let mut c = [f32::NAN; 256];
                    let mut scratch = [0.0f32; 2 * PANEL * 65];
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
