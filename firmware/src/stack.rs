//! Peak stack use, measured by painting: fill the free stack below the current frame with a
//! pattern, run, then find the deepest word that no longer holds it.

/// The pattern painted on unused stack.
const PAINT: u32 = 0xA5A5_A5A5;
/// Left unpainted just below the current frame, for `paint`'s own frame.
const MARGIN: usize = 256;

/// The current stack pointer.
fn sp() -> usize {
    cortex_m::register::msp::read() as usize
}

/// The lowest address the stack can reach: the end of the statics, where `cortex-m-rt`'s linker
/// script starts the (unused) heap.
fn bottom() -> usize {
    extern "C" {
        static __sheap: u32;
    }
    // Only the symbol's address is taken; nothing is read through it.
    core::ptr::addr_of!(__sheap) as usize
}

/// Paints the stack below the caller; returns the stack pointer to measure from.
#[inline(never)]
pub fn paint() -> usize {
    let top = sp();
    let mut addr = bottom();
    while addr < top - MARGIN {
        // SAFETY: [bottom, top - MARGIN) is unused stack: below every live frame (this one's is
        // above `top - MARGIN`) and above the statics.
        unsafe { (addr as *mut u32).write_volatile(PAINT) };
        addr += 4;
    }
    top
}

/// The bytes of stack used below `from` (a value `paint` returned) since it painted.
pub fn used_below(from: usize) -> usize {
    let mut addr = bottom();
    // SAFETY: reads the words `paint` wrote, in the same unused stack region.
    while addr < from && unsafe { (addr as *const u32).read_volatile() } == PAINT {
        addr += 4;
    }
    from - addr
}
