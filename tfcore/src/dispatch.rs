//! A generated fetch's body compiled for the instruction set the CPU has: [`dispatch`] runs it
//! as an AVX2 build where `std` can ask the CPU (x86-64) and the CPU has it, else as the target
//! promises. The matrix kernel picks its own instruction set the same way (`gemm.rs`, which
//! holds the detection both use).

#[cfg(all(feature = "std", target_arch = "x86_64"))]
use crate::gemm::Avx2;

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
/// on a Cortex-M, which computes `c` as it is.
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
#[target_feature(enable = "avx2")]
fn with_avx2<A, C: Compute<A>>(c: C, args: A) -> C::Output {
    c.compute(args)
}
