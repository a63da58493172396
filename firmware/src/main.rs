//! The circle classifier, the bond bisection and the MLPerf Tiny models (float and int8) on a
//! Cortex-M4F or a Cortex-M0, with neither `std` nor an allocator: inference with weights trained
//! on the host, training on the device, and the bisection. Prints over semihosting; runs under
//! QEMU (`mps2-an386` for the M4F, an enlarged `microbit` for the M0). `check.sh` builds it, runs
//! it, and compares what it prints with what the host computes.
#![no_std]
#![no_main]

use core::fmt::Write;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hio};

// A build with some of the runs leaves the others' code unused.
#[cfg(feature = "demo")]
#[allow(dead_code)]
mod demo;
mod stack;

/// The core this build is for, as the first line says.
const CORE: &str = if cfg!(target_abi = "eabihf") { "Cortex-M4F" } else { "Cortex-M0" };

#[entry]
fn main() -> ! {
    let Ok(mut out) = hio::hstdout() else { exit(false) };
    // Lines starting with `#` are the device's own (the host prints none of them). Formatting a
    // float here links `core`'s float formatting into every build, so that the builds without the
    // model, the baseline of `check.sh`'s size table, pay for it too.
    let from = stack::paint();
    let ok = writeln!(out, "# tfgraph on a {CORE}, float formatting: {:?}", core::hint::black_box(0.5f32)).is_ok();
    let printing = stack::used_below(from);
    let ok = ok && writeln!(out, "# stack: printing a float used {printing} bytes").is_ok();

    #[cfg(feature = "inference")]
    let ok = ok && measured(&mut out, "inference", demo::inference);
    #[cfg(feature = "training")]
    let ok = ok && measured(&mut out, "training", demo::training);
    #[cfg(feature = "bond")]
    let ok = ok && measured(&mut out, "bond", demo::bond);
    #[cfg(feature = "kws")]
    let ok = ok && measured(&mut out, "kws", demo::kws);
    #[cfg(feature = "kws_onnx")]
    let ok = ok && measured(&mut out, "kws_onnx", demo::kws_onnx);
    #[cfg(feature = "resnet8")]
    let ok = ok && measured(&mut out, "resnet8", demo::resnet8);
    #[cfg(feature = "autoencoder")]
    let ok = ok && measured(&mut out, "autoencoder", demo::autoencoder);
    #[cfg(feature = "kws_int8")]
    let ok = ok && measured(&mut out, "kws_int8", demo::kws_int8);
    #[cfg(feature = "resnet8_int8")]
    let ok = ok && measured(&mut out, "resnet8_int8", demo::resnet8_int8);
    #[cfg(feature = "autoencoder_int8")]
    let ok = ok && measured(&mut out, "autoencoder_int8", demo::autoencoder_int8);
    exit(ok)
}

/// Runs one part of the demo and prints the stack it used.
#[cfg(feature = "demo")]
fn measured<W: Write>(out: &mut W, name: &str, run: fn(&mut W) -> core::fmt::Result) -> bool {
    let from = stack::paint();
    let ok = run(out).is_ok();
    let used = stack::used_below(from);
    ok && writeln!(out, "# stack: {name} used {used} bytes").is_ok()
}

fn exit(success: bool) -> ! {
    debug::exit(if success { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
    #[allow(clippy::empty_loop)]
    loop {}
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    exit(false)
}
