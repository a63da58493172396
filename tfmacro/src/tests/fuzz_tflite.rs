//! No `.tflite` file makes the macro panic. Three small int8 models of the differential suite
//! (`tests/data/int8/`: convolutions, pools and softmax; residual adds; `QUANTIZE` and
//! `DEQUANTIZE`) are mutated as bytes (bits flipped, bytes changed, small integers written over
//! 32-bit fields, runs deleted or repeated, the file cut short), written to a file and imported by
//! a graph, whose expansion must parse as Rust. A flatbuffer's scalars (strides, paddings,
//! activations, shapes, scales, zero points, tensor and buffer indices) sit beside its offsets, so
//! most mutations that pass the verifier reach the import with a broken model.
//!
//! `TFGRAPH_TFLITE_FUZZ_CASES` sets how many cases run (300 by default; CI runs 1,500) and
//! `TFGRAPH_FUZZ_SEED` the seed.

use super::fuzz::{check, env_number, Rng};

const MODELS: [(&[u8], &str); 3] = [
    (include_bytes!("../../../tests/data/int8/conv_stack.tflite"), "tf.int8, [1, 11, 9, 3]"),
    (include_bytes!("../../../tests/data/int8/residual.tflite"), "tf.int8, [1, 8, 8, 4]"),
    (include_bytes!("../../../tests/data/int8/float_io.tflite"), "tf.float32, [1, 6, 5, 2]"),
];

fn mutate(bytes: &mut Vec<u8>, rng: &mut Rng) {
    for _ in 0..1 + rng.below(4) {
        if bytes.is_empty() {
            return;
        }
        let at = rng.below(bytes.len());
        match rng.below(6) {
            0 => bytes[at] ^= 1 << rng.below(8),
            1 => bytes[at] = rng.next() as u8,
            // A 32-bit field (an index, a dimension, a stride) made small, zero, negative or huge.
            2 => {
                let at = at & !3;
                let value: i32 = match rng.below(4) {
                    0 => 0,
                    1 => -1 - rng.below(3) as i32,
                    2 => 1 << (16 + rng.below(15)),
                    _ => rng.below(8) as i32,
                };
                for (k, b) in value.to_le_bytes().into_iter().enumerate() {
                    if let Some(slot) = bytes.get_mut(at + k) {
                        *slot = b;
                    }
                }
            }
            3 => {
                let end = (at + 1 + rng.below(16)).min(bytes.len());
                bytes.drain(at..end);
            }
            4 => {
                let end = (at + 1 + rng.below(16)).min(bytes.len());
                let run: Vec<u8> = bytes[at..end].to_vec();
                bytes.splice(at..at, run);
            }
            _ => bytes.truncate(at),
        }
    }
}

#[test]
fn no_tflite_file_makes_the_macro_panic() {
    let cases = env_number("TFGRAPH_TFLITE_FUZZ_CASES", 300);
    let seed = env_number("TFGRAPH_FUZZ_SEED", 0x7f_5eed);
    let dir = std::env::temp_dir().join(format!("tfgraph-tflite-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let mut rng = Rng(seed.max(1));
    let (mut failures, mut expanded) = (Vec::new(), 0);
    for k in 0..cases {
        let (source, input) = MODELS[(k % 3) as usize];
        let mut bytes = source.to_vec();
        mutate(&mut bytes, &mut rng);
        let path = dir.join(format!("case{k}.tflite"));
        std::fs::write(&path, &bytes).expect("the case is written");
        let graph = format!(
            "pub mod fuzzed {{ let x = tf.placeholder({input}); let y = tflite.load({:?}, serving_default_x_0 = x); }}",
            path.to_string_lossy()
        );
        match check(&graph, true) {
            Ok(_) => expanded += 1,
            Err(problem) => {
                let kept = dir.join(format!("failed{k}.tflite"));
                let _ = std::fs::copy(&path, &kept);
                failures.push(format!("case {k} ({}): {problem}", kept.display()));
            }
        }
        let _ = std::fs::remove_file(&path);
    }
    println!(
        "tflite fuzz: {cases} mutated models imported ({expanded} expanded), {} panics or bad expansions",
        failures.len()
    );
    assert!(expanded > 0);
    assert!(failures.is_empty(), "{}", failures.iter().take(5).cloned().collect::<Vec<_>>().join("\n"));
}
