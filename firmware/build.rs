//! Puts the memory map of the core being built for (`memory-m4.x` for the Cortex-M4F,
//! `memory-m0.x` for the Cortex-M0) where `cortex-m-rt`'s linker script finds it, as `memory.x`.

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let map: &[u8] =
        if target.starts_with("thumbv6m") { include_bytes!("memory-m0.x") } else { include_bytes!("memory-m4.x") };
    fs::write(out.join("memory.x"), map).expect("writes memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory-m4.x");
    println!("cargo:rerun-if-changed=memory-m0.x");
}
