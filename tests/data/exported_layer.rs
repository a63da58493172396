// Written by `layer::Session::new().variables().to_rust_const("TRAINED")` (tests/export.rs checks that
// this is still what it writes; tests/ui/pass/exported_const.rs compiles it).
pub const TRAINED: layer::Variables = layer::Variables {
    W: ::tfcore::nalgebra::Matrix::from_array_storage(::tfcore::nalgebra::ArrayStorage([[1.0, 1e-30], [-0.33333334, 3e38]])),
    b: ::tfcore::nalgebra::Matrix::from_array_storage(::tfcore::nalgebra::ArrayStorage([[0.1, -2.5]])),
    count: -7,
    mask: ::tfcore::nalgebra::Matrix::from_array_storage(::tfcore::nalgebra::ArrayStorage([[true, false]])),
    pixels: ::tfcore::nalgebra::Matrix::from_array_storage(::tfcore::nalgebra::ArrayStorage([[0, 255]])),
};
