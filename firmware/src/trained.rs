// The seed's circle classifier, trained by `cargo run --release --example circle -- --points 1000 --epochs 10000 --learning-rate 0.002 --seed 1`:
// training accuracy 0.986. Written by `Variables::to_rust_const`.
pub const TRAINED: circle::Variables = circle::Variables {
    W1: ::tfcore::nalgebra::Matrix::from_array_storage(::tfcore::nalgebra::ArrayStorage([[-1.2849027, 7.560662], [5.8810067, 5.019927], [7.51555, -2.962883]])),
    b1: ::tfcore::nalgebra::Matrix::from_array_storage(::tfcore::nalgebra::ArrayStorage([[-2.8271554, 3.083327, -3.073903]])),
    W2: ::tfcore::nalgebra::Matrix::from_array_storage(::tfcore::nalgebra::ArrayStorage([[18.650799, -19.592356, 19.546017], [-19.891733, 19.07161, -18.451689]])),
    b2: ::tfcore::nalgebra::Matrix::from_array_storage(::tfcore::nalgebra::ArrayStorage([[2.1411235, -1.9188858]])),
};
