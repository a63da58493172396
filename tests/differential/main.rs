//! The differential suite: random graphs over the whole language, run through `graph!` and compared
//! with TensorFlow's values for the same graphs and feeds.
//!
//! `cases.rs` (one `graph!` module per case) and `../data/differential.json` (TensorFlow 2.21's
//! values, `tf.compat.v1` graph mode) are written together by `tools/tf_differential.py --seed S
//! --cases N`, which needs TensorFlow; this test needs neither Python nor TensorFlow. Every node of
//! every graph is fetched, and so are the gradients and the variables after two assignment or
//! training steps. Floats agree within 1e-5 where float32 arithmetic went into the value (1e-9
//! where only float64 did), relative to the largest of the element, the fetch's largest element
//! and 1: the graphs compute on values of order 1, so a result that cancels to near zero
//! (`v - tanh(v)`, the gradient of `reduce_sum(softmax(x))`) carries their rounding, and the two
//! sides' `exp` and `tanh` differ in the last bits. (This also absorbs TensorFlow's flushing of
//! subnormals to zero; see docs/reference/differences.md.) NaN must meet NaN, infinities their sign, integers and
//! bools exactly. Every difference found is listed, with its graph.

mod cases;

use tfcore::nalgebra::{SMatrix, Scalar};

/// One element of a fetched value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    F32(f32),
    F64(f64),
    I(i64),
    B(bool),
}

/// A case: runs every fetch of its graph, in the reference's order.
pub type Run = fn() -> Vec<(&'static str, Vec<Value>)>;

/// Fetched values, flattened row-major.
pub trait Flat {
    fn flat(&self) -> Vec<Value>;
}

/// `x`, flattened row-major.
pub fn flat<T: Flat>(x: &T) -> Vec<Value> {
    x.flat()
}

macro_rules! flat_scalar {
    ($($t:ty => $v:expr),*) => {$(
        impl Flat for $t {
            fn flat(&self) -> Vec<Value> {
                let f: fn($t) -> Value = $v;
                vec![f(*self)]
            }
        }
    )*};
}
flat_scalar!(f32 => Value::F32, f64 => Value::F64, i32 => |x| Value::I(x as i64), i64 => Value::I,
    u8 => |x| Value::I(x as i64), bool => Value::B);

impl<T: Scalar + Flat, const R: usize, const C: usize> Flat for SMatrix<T, R, C> {
    fn flat(&self) -> Vec<Value> {
        (0..R).flat_map(|i| (0..C).flat_map(move |j| self[(i, j)].flat())).collect()
    }
}

impl<T: Flat, const A: usize, const B: usize, const C: usize> Flat for tfcore::Array3<T, A, B, C> {
    fn flat(&self) -> Vec<Value> {
        self.iter().flat_map(Flat::flat).collect()
    }
}

impl<T: Flat, const N: usize, const H: usize, const W: usize, const C: usize> Flat for tfcore::Array4<T, N, H, W, C> {
    fn flat(&self) -> Vec<Value> {
        self.iter().flat_map(Flat::flat).collect()
    }
}

/// Whether `got` is TensorFlow's `want` (as the JSON writes it), floats within `rtol` of the
/// largest of `want`, `scale` (the fetch's largest finite magnitude) and 1.
fn agrees(got: Value, want: &str, rtol: f64, scale: f64) -> bool {
    let close = |got: f64, rtol: f64| {
        let want: f64 = match want {
            "nan" => return got.is_nan(),
            "inf" => return got == f64::INFINITY,
            "-inf" => return got == f64::NEG_INFINITY,
            text => text.parse().expect("a float"),
        };
        got == want || (got - want).abs() <= rtol * want.abs().max(scale).max(1.0)
    };
    match got {
        Value::F32(x) => close(x as f64, rtol),
        Value::F64(x) => close(x, rtol),
        Value::I(i) => want.parse::<i64>().is_ok_and(|w| w == i),
        Value::B(b) => want == if b { "true" } else { "false" },
    }
}

fn text(v: Value) -> String {
    match v {
        Value::F32(x) => format!("{x:?}"),
        Value::F64(x) => format!("{x:?}"),
        Value::I(i) => i.to_string(),
        Value::B(b) => b.to_string(),
    }
}

#[test]
fn graphs_agree_with_tensorflow() {
    let data: serde_json::Value =
        serde_json::from_str(include_str!("../data/differential.json")).expect("the reference parses");
    let reference = data["cases"].as_array().expect("cases");
    assert_eq!(reference.len(), cases::CASES.len(), "cases.rs and differential.json come from one run of the tool");
    let mut fetches = 0;
    let mut elements = 0;
    let mut differences = Vec::new();
    for (case, run) in reference.iter().zip(cases::CASES) {
        let got = run();
        let want = case["fetches"].as_array().expect("fetches");
        assert_eq!(got.len(), want.len(), "case {}: the fetches differ from the reference's", case["case"]);
        for ((name, values), expected) in got.iter().zip(want) {
            assert_eq!(*name, expected["name"].as_str().expect("a name"));
            let rtol = expected["rtol"].as_f64().expect("a tolerance");
            let expected: Vec<&str> =
                expected["values"].as_array().expect("values").iter().map(|v| v.as_str().expect("text")).collect();
            fetches += 1;
            elements += values.len();
            let scale = expected
                .iter()
                .filter_map(|w| w.parse::<f64>().ok())
                .filter(|w| w.is_finite())
                .fold(0.0, |m, w| w.abs().max(m));
            let same =
                values.len() == expected.len() && values.iter().zip(&expected).all(|(g, w)| agrees(*g, w, rtol, scale));
            if !same {
                let graph: Vec<&str> =
                    case["graph"].as_array().expect("graph").iter().filter_map(|l| l.as_str()).collect();
                differences.push(format!(
                    "case {} `{name}`: graph! gives [{}], TensorFlow [{}]\n    {}",
                    case["case"],
                    values.iter().map(|v| text(*v)).collect::<Vec<_>>().join(", "),
                    expected.join(", "),
                    graph.join("\n    ")
                ));
            }
        }
    }
    println!(
        "differential: {} graphs, {fetches} fetches, {elements} elements compared with TensorFlow {} (seed {}); {} differences",
        reference.len(),
        data["tensorflow"].as_str().unwrap_or("?"),
        data["seed"],
        differences.len()
    );
    assert!(
        differences.is_empty(),
        "{} fetches differ from TensorFlow:\n{}",
        differences.len(),
        differences.join("\n\n")
    );
}
