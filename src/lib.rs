//! The root package of the tfgraph workspace: it hosts the examples, the integration tests and the
//! benchmarks, and holds no code of its own. Depend on `tfcore`.
//!
//! Its doc tests are the book's: every Rust block of `README.md` and of the pages in `docs/`
//! compiles (and runs, unless marked `no_run`) in `cargo test`, so that the documentation cannot
//! drift from the code. Paths in the blocks (`np.load("tests/data/...")`) are relative to the
//! repository's root, this package's folder.
#![no_std]

/// The README and the book's pages, as doc tests.
#[cfg(doctest)]
pub mod book {
    #[doc = include_str!("../README.md")]
    pub mod readme {}

    /// The guide.
    pub mod guide {
        #[doc = include_str!("../docs/guide/training.md")]
        pub mod training {}
        #[doc = include_str!("../docs/guide/feeds.md")]
        pub mod feeds {}
        #[doc = include_str!("../docs/guide/cnn.md")]
        pub mod cnn {}
        #[doc = include_str!("../docs/guide/trained-models.md")]
        pub mod trained_models {}
        #[doc = include_str!("../docs/guide/onnx.md")]
        pub mod onnx {}
        #[doc = include_str!("../docs/guide/quantised.md")]
        pub mod quantised {}
        #[doc = include_str!("../docs/guide/serving.md")]
        pub mod serving {}
        #[doc = include_str!("../docs/guide/firmware.md")]
        pub mod firmware {}
        #[doc = include_str!("../docs/guide/microcontrollers.md")]
        pub mod microcontrollers {}
    }

    /// The reference.
    pub mod reference {
        #[doc = include_str!("../docs/reference/generated.md")]
        pub mod generated {}
        #[doc = include_str!("../docs/reference/language.md")]
        pub mod language {}
        #[doc = include_str!("../docs/reference/differences.md")]
        pub mod differences {}
    }

    /// The internals.
    pub mod internals {
        #[doc = include_str!("../docs/internals/layout.md")]
        pub mod layout {}
        #[doc = include_str!("../docs/internals/speed.md")]
        pub mod speed {}
        #[doc = include_str!("../docs/internals/testing.md")]
        pub mod testing {}
    }
}
