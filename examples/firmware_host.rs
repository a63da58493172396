//! The firmware's demo, run on the host: the same source (`firmware/src/demo.rs`), the same
//! graphs and weights, printed the same way. `firmware/check.sh` compares this output with what
//! the firmware prints under QEMU; they must be equal, bit for bit.
//!
//! ```text
//! cargo run --release --example firmware_host
//! ```

use std::fmt::{self, Write};

// The demo's graphs define fetch types it does not run (`hidden_layer`, say), which in a binary
// count as dead code.
#[path = "../firmware/src/demo.rs"]
#[allow(dead_code)]
mod demo;

/// Standard output as a `fmt::Write`, as semihosting is on the device.
struct Stdout;

impl Write for Stdout {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        print!("{s}");
        Ok(())
    }
}

fn main() -> fmt::Result {
    let mut out = Stdout;
    demo::inference(&mut out)?;
    demo::training(&mut out)?;
    demo::bond(&mut out)?;
    demo::kws(&mut out)?;
    demo::kws_onnx(&mut out)?;
    demo::resnet8(&mut out)?;
    demo::autoencoder(&mut out)?;
    demo::kws_int8(&mut out)?;
    demo::resnet8_int8(&mut out)?;
    demo::autoencoder_int8(&mut out)
}
