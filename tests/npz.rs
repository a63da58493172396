//! `Variables::from_npz`/`to_npz` (and the file versions): a graph's variables read from an
//! archive NumPy wrote (`np.savez`, in `tools/tf_digits.py`'s layout), written back and read
//! again to the same bits, and every mismatch an error that names the array.

use tfcore::npy::{NpyError, Npz};

include!("../examples/digits/net.rs");

#[test]
fn variables_read_what_numpy_wrote_and_round_trip() {
    // `tests/data/digits_init.npz` is `np.savez` of the initial weights in
    // `tests/data/digits_tf.npz` (`init/K1` saved as `K1`, ...).
    let read = digits::Variables::from_npz(include_bytes!("data/digits_init.npz")).expect("reads");
    let reference = Npz::parse(include_bytes!("data/digits_tf.npz")).expect("reads");
    let k1 = reference.get("init/K1").and_then(|a| a.to_vec::<f32>()).expect("init/K1");
    assert_eq!(read.K1.as_slice(), &k1[..]);
    let w1 = reference.get("init/W1").and_then(|a| a.to_vec::<f32>()).expect("init/W1");
    assert_eq!(read.W1[(0, 1)], w1[1], "row-major in the file, nalgebra's indices in Rust");
    assert_eq!(read.W1[(1, 0)], w1[32]);

    let mut sess = digits::Session::from_variables(read);
    let x = tfcore::Array4::<f32, 2, 8, 8, 1>::from_fn(|n, h, w, _| ((n + h * w) % 5) as f32 / 4.0);
    let y = tfcore::nalgebra::SVector::<u8, 2>::new(3, 7);
    sess.run(digits::train_step { X: &x, Y: &y });
    let trained = *sess.variables();
    let bytes = trained.to_npz();
    let back = digits::Variables::from_npz(&bytes).expect("reads what it wrote");
    assert_eq!(back, trained);

    let path = std::env::temp_dir().join(format!("tfgraph-npz-{}.npz", std::process::id()));
    trained.save_npz(&path).expect("writes");
    assert_eq!(digits::Variables::load_npz(&path).expect("reads"), trained);
    std::fs::remove_file(&path).ok();
}

#[test]
fn mismatches_are_errors_naming_the_array() {
    // An archive of other names: the reference's `init/K1` is not `K1`.
    match digits::Variables::from_npz(include_bytes!("data/digits_tf.npz")) {
        Err(NpyError::MissingKey { key, available }) => {
            assert_eq!(key, "K1");
            assert!(available.iter().any(|a| a == "init/K1"));
        }
        other => panic!("expected a missing key, got {other:?}"),
    }
    // The right names with a wrong shape: W1 saved transposed.
    let init = Npz::parse(include_bytes!("data/digits_init.npz")).expect("reads");
    let mut out = tfcore::npy::NpzWriter::new();
    for name in init.names() {
        let array = init.get(name).expect("listed");
        let values = array.to_vec::<f32>().expect("float32");
        let shape: Vec<usize> = if name == "W1" { vec![32, 256] } else { array.shape().to_vec() };
        out.add(name, &tfcore::npy::write_npy(&shape, values));
    }
    let err = digits::Variables::from_npz(&out.finish()).expect_err("W1 is [32, 256]");
    assert_eq!(err.to_string(), "`W1` has shape [32, 256], but the graph's tensor has shape [256, 32]");
    assert!(matches!(digits::Variables::load_npz("/nonexistent/weights.npz"), Err(NpyError::Io(_))));
    assert!(matches!(digits::Variables::from_npz(b"PK\x05\x06"), Err(NpyError::NotNpz(_))));
}
