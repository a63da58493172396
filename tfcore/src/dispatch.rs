//! The CPU's instruction sets, asked at run time, and a generated fetch's body compiled for
//! them: [`dispatch`] runs it as an AVX2 build where `std` can ask the CPU (x86-64) and the CPU
//! has it, else as the target promises. The matrix kernels (`gemm`) pick their tiles' builds by
//! the same types, `Avx2` and `Avx512`.

/// An instruction set of x86-64 that the CPU is asked about: a type only its `detect` makes,
/// once `is_x86_feature_detected!` has said that this CPU executes every feature named. Code
/// compiled for those features may be called once a value of the type exists.
macro_rules! x86_instruction_set {
    ($(#[$doc:meta])* $name:ident, $($feature:tt),+) => {
        $(#[$doc])*
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        #[derive(Clone, Copy)]
        pub(crate) struct $name(());

        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        impl $name {
            /// The instruction set, if this CPU executes it.
            pub(crate) fn detect() -> Option<$name> {
                ($(std::is_x86_feature_detected!($feature))&&+).then_some($name(()))
            }
        }
    };
}

#[cfg(not(feature = "fma"))]
x86_instruction_set!(
    /// The CPU has AVX2: sixteen 256-bit registers.
    Avx2, "avx2"
);

#[cfg(not(feature = "fma"))]
x86_instruction_set!(
    /// The CPU has AVX-512 with its 256-bit forms (`avx512vl`): sixteen more vector registers.
    Avx512, "avx512f", "avx512vl"
);

#[cfg(feature = "fma")]
x86_instruction_set!(
    /// The CPU has AVX2 and, for the `fma` feature's sums of products, fused multiply-adds:
    /// sixteen 256-bit registers.
    Avx2, "avx2", "fma"
);

#[cfg(feature = "fma")]
x86_instruction_set!(
    /// The CPU has AVX-512 with its 256-bit forms (`avx512vl`) and, for the `fma` feature's sums
    /// of products, fused multiply-adds: sixteen more vector registers.
    Avx512, "avx512f", "avx512vl", "fma"
);

/// A computation that [`dispatch`] runs: a generated fetch's body, given what it reads
/// besides the fetch (the session, the caller's output). Its `compute` is `#[inline(always)]`,
/// so that it is compiled into each of `dispatch`'s paths.
pub trait Compute<A> {
    /// What it computes.
    type Output;
    /// Computes it.
    fn compute(self, args: A) -> Self::Output;
}

/// `c.compute(args)`, compiled for AVX2 as well where `std` can ask the CPU (x86-64) and the CPU
/// has it: a generated fetch runs its body through this, so that its fused elementwise loops take
/// eight lanes at a time on the CPU the user has, with no `RUSTFLAGS`. The same operations in the
/// same order (no fused multiply-add: Rust never contracts), so the same bits on either path, and
/// on a Cortex-M, which computes `c` as it is. With the `fma` feature the path asks for FMA too
/// and is compiled for it, and the sums of products fuse on every path (`Elem::add_product`).
#[inline(always)]
pub fn dispatch<A, C: Compute<A>>(c: C, args: A) -> C::Output {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if Avx2::detect().is_some() {
        // SAFETY: `detect` has seen `is_x86_feature_detected!` say that this CPU executes AVX2,
        // the one feature `with_avx2` is compiled with, the one requirement of calling it.
        #[allow(unsafe_code)]
        return unsafe { with_avx2(c, args) };
    }
    c.compute(args)
}

/// `c.compute(args)`, inlined here and so compiled for AVX2.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[cfg_attr(not(feature = "fma"), target_feature(enable = "avx2"))]
#[cfg_attr(feature = "fma", target_feature(enable = "avx2,fma"))]
fn with_avx2<A, C: Compute<A>>(c: C, args: A) -> C::Output {
    c.compute(args)
}

/// The vector registers a kernel's tiles may fill, for the instruction set [`best`] compiled it
/// for: the kernel picks its tile's shape from them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
// Only x86-64 builds with `std` (which detect the CPU) pick the wider ones.
#[cfg_attr(not(all(feature = "std", target_arch = "x86_64")), allow(dead_code))]
pub(crate) enum Registers {
    /// What the target promises: SSE2's sixteen registers of four single-precision lanes on
    /// x86-64, a Cortex-M's FPU.
    Narrow,
    /// AVX2's sixteen registers of eight lanes.
    Wide,
    /// AVX-512's thirty-two registers (of eight lanes in their 256-bit forms).
    Many,
}

/// A kernel that [`best`] compiles for each instruction set it may pick: its `run` is
/// `#[inline(always)]`, and so is everything `run` calls in its loops, so that the whole kernel
/// is compiled into each of `best`'s paths.
pub(crate) trait Kernel {
    /// What it computes.
    type Output;
    /// Computes it with tiles for `registers`.
    fn run(self, registers: Registers) -> Self::Output;
}

/// `k.run(..)` compiled for the best instruction set this CPU has where `std` can ask it
/// (x86-64: AVX-512, else AVX2; each with FMA too with the `fma` feature), else for what the
/// target promises. The same operations in the same order on every path, so the same bits.
#[inline]
pub(crate) fn best<K: Kernel>(k: K) -> K::Output {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        if Avx512::detect().is_some() {
            // SAFETY: `detect` has seen `is_x86_feature_detected!` say that this CPU executes
            // every feature `kernel_avx512` is compiled with, the one requirement of calling it.
            #[allow(unsafe_code)]
            return unsafe { kernel_avx512(k) };
        }
        if Avx2::detect().is_some() {
            // SAFETY: as above, for AVX2 and `kernel_avx2`.
            #[allow(unsafe_code)]
            return unsafe { kernel_avx2(k) };
        }
    }
    k.run(Registers::Narrow)
}

/// `k.run(Registers::Wide)`, compiled for AVX2.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[cfg_attr(not(feature = "fma"), target_feature(enable = "avx2"))]
#[cfg_attr(feature = "fma", target_feature(enable = "avx2,fma"))]
#[inline(never)]
fn kernel_avx2<K: Kernel>(k: K) -> K::Output {
    k.run(Registers::Wide)
}

/// `k.run(Registers::Many)`, compiled for AVX-512 (which has AVX2's instructions too).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[cfg_attr(not(feature = "fma"), target_feature(enable = "avx512f,avx512vl"))]
#[cfg_attr(feature = "fma", target_feature(enable = "avx512f,avx512vl,fma"))]
#[inline(never)]
fn kernel_avx512<K: Kernel>(k: K) -> K::Output {
    k.run(Registers::Many)
}
