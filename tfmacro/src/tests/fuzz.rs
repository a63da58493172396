//! No input makes the macro panic. The front end (the function the macro calls, on `proc_macro2`
//! tokens) is driven with generated graphs and with mutations of valid ones (tokens deleted,
//! swapped, duplicated, inserted; numbers, names and shapes changed). Every input must expand to
//! code that parses as Rust: the module, or `compile_error!`s (with stub items) whose spans lie
//! inside the input.
//!
//! Every case runs the whole expansion. The expansion of every graph with errors is parsed with
//! `syn`; of the graphs that compile, every eighth is (they are large, come out of the same
//! emission code the expansion tests and the trybuild suite compile in full, and parsing them all
//! would triple the run). The cases run on every core.
//!
//! `TFGRAPH_FUZZ_CASES` sets how many cases run (20,000 by default; CI runs 50,000) and
//! `TFGRAPH_FUZZ_SEED` the seed. An input that once failed goes into `fuzz_regressions.txt`, which
//! is checked every run.

use crate::expand::expand;
use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::str::FromStr;

/// Valid graphs the mutations start from.
const CORPUS: &[&str] = &[
    "pub mod first {
        let a = tf.constant([2.5, 2]);
        let b = tf.constant([3, 6], dtype = tf.float32);
        let total = tf.add(a, b);
    }",
    "pub mod counter {
        let some_var = tf.Variable(1);
        let init_op = tf.global_variables_initializer();
        let assign_op = some_var.assign(3);
    }",
    "pub mod bond {
        let C = tf.constant(5.0);
        let P = tf.constant(100.0);
        let a = tf.Variable(-10.0);
        let b = tf.Variable(10.0);
        let v_target = tf.placeholder(\"float\");
        let y = (a + b) / 2;
        let v_guess = C * tf.exp(-0.5 * y) + C * tf.exp(-y) + C * tf.exp(-1.5 * y) + (C + P) * tf.exp(-2 * y);
        let a_ = tf.where(v_guess > v_target, y, a);
        let b_ = tf.where(v_guess < v_target, y, b);
        let step = tf.group(a.assign(a_), b.assign(b_));
    }",
    "pub mod circle {
        const INPUT_LAYER_SIZE: usize = 2;
        const HIDDEN_LAYER_SIZE: usize = 3;
        const OUTPUT_LAYER_SIZE: usize = 2;
        const LEARNING_RATE: f32 = 0.002;
        let W1 = tf.Variable(tf.random_uniform([INPUT_LAYER_SIZE, HIDDEN_LAYER_SIZE], -1, 1));
        let b1 = tf.Variable(tf.random_uniform([HIDDEN_LAYER_SIZE], -1, 1));
        let W2 = tf.Variable(tf.random_uniform([HIDDEN_LAYER_SIZE, OUTPUT_LAYER_SIZE], -1, 1));
        let b2 = tf.Variable(tf.random_uniform([OUTPUT_LAYER_SIZE], -1, 1));
        let X = tf.placeholder(tf.float32, [None, INPUT_LAYER_SIZE]);
        let Y = tf.placeholder(tf.uint8);
        let onehot_output = tf.one_hot(Y, OUTPUT_LAYER_SIZE);
        let hidden_layer = tf.add(tf.matmul(X, W1), b1);
        let activated_hidden_layer = tf.sigmoid(hidden_layer);
        let output_layer = tf.nn.softmax(tf.add(tf.matmul(activated_hidden_layer, W2), b2));
        let loss = -tf.reduce_sum(onehot_output * tf.log(output_layer));
        let train_step = tf.train.GradientDescentOptimizer(LEARNING_RATE).minimize(loss);
        let grads = tf.gradients(loss, [W1, b1, W2, b2]);
    }",
    "pub mod ops {
        let m = tf.placeholder(tf.float64, [2, 3]);
        let v = tf.placeholder(tf.float64, [3]);
        let i = tf.placeholder(tf.int32, [None]);
        let t = tf.transpose(m) * 2;
        let s = tf.reduce_mean(m, axis = -1, keepdims = true) + tf.reduce_sum(v);
        let w = tf.where(m > 0, tf.sqrt(tf.abs(m)), tf.square(m) - v);
        let o = tf.one_hot(i, 4, dtype = tf.float64);
        let c = tf.cast(tf.nn.relu(m), tf.int32);
        let k = tf.matmul(m, m, transpose_b = true);
        let g = tf.gradients(tf.reduce_sum(tf.tanh(k)), [m]);
    }",
    "pub mod train {
        let w = tf.Variable(tf.zeros([2, 2]), dtype = tf.float64);
        let frozen = tf.Variable(tf.ones([2]), trainable = false);
        let x = tf.placeholder(tf.float64, [None, 2]);
        let loss = tf.reduce_sum(tf.square(tf.matmul(x, w)));
        let opt = tf.train.AdamOptimizer(0.01, beta1 = 0.8);
        let step = opt.minimize(loss, var_list = [w]);
        let momentum = tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss);
        let bump = frozen.assign_add(tf.ones([2]));
        let reset = tf.global_variables_initializer();
    }",
];

/// Names and keywords mutations put in place of others.
const VOCABULARY: &[&str] = &[
    "tf",
    "None",
    "True",
    "False",
    "x",
    "y",
    "a",
    "W1",
    "X",
    "Y",
    "loss",
    "float32",
    "float64",
    "int32",
    "uint8",
    "bool",
    "matmul",
    "one_hot",
    "reduce_sum",
    "reduce_mean",
    "where",
    "assign",
    "minimize",
    "Variable",
    "placeholder",
    "constant",
    "axis",
    "dtype",
    "keepdims",
    "let",
    "const",
    "mod",
    "usize",
    "f32",
    "Session",
    "feeds",
    "nn",
    "train",
    "softmax",
    "gradients",
    "group",
    "cast",
    "transpose",
    "self",
    "r#type",
    "__hidden",
];

/// Tokens inserted at random.
const INSERTIONS: &[&str] = &[
    "+",
    "-",
    "*",
    "/",
    ">",
    "==",
    "=",
    ",",
    ";",
    ".",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "0",
    "1",
    "2.5",
    "None",
    "tf",
    "-1",
    "\"float\"",
    "let",
    "const",
    "#",
    "!",
    "&",
    "'a",
    "::",
];

/// Numbers put in place of others.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "3",
    "8",
    "1.5",
    "-0.5",
    "0.0",
    "1e40",
    "1e-45",
    "255",
    "256",
    "4294967296",
    "99999999999999999999",
    "340282366920938463463374607431768211456",
    "16777217",
];

/// xorshift64*: enough randomness to pick mutations, and repeatable.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// A token stream as a flat list of strings, delimiters included, multi-character operators kept
/// whole.
fn flatten(tokens: TokenStream, out: &mut Vec<String>) {
    let mut joint = String::new();
    for token in tokens {
        match token {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                out.push(open.into());
                flatten(group.stream(), out);
                out.push(close.into());
            }
            TokenTree::Punct(p) => {
                joint.push(p.as_char());
                if p.spacing() == Spacing::Alone {
                    out.push(std::mem::take(&mut joint));
                }
            }
            other => out.push(other.to_string()),
        }
    }
    if !joint.is_empty() {
        out.push(joint);
    }
}

fn is_number(token: &str) -> bool {
    token.starts_with(|c: char| c.is_ascii_digit())
}

fn is_name(token: &str) -> bool {
    token.starts_with(|c: char| c.is_alphabetic() || c == '_')
}

/// One random change to `tokens`.
fn mutate(tokens: &mut Vec<String>, rng: &mut Rng) {
    if tokens.is_empty() {
        tokens.push(rng.pick(INSERTIONS).to_string());
        return;
    }
    let at = rng.below(tokens.len());
    match rng.below(8) {
        0 => {
            tokens.remove(at);
        }
        1 => {
            let token = tokens[at].clone();
            tokens.insert(at, token);
        }
        2 if at + 1 < tokens.len() => tokens.swap(at, at + 1),
        3 => tokens.insert(at, rng.pick(INSERTIONS).to_string()),
        4 => {
            // A number changed: the first at or after `at`.
            if let Some(k) = (at..tokens.len()).find(|&k| is_number(&tokens[k])) {
                tokens[k] = rng.pick(NUMBERS).to_string();
            }
        }
        5 => {
            // A name changed: to another of this graph's, or to a word of the language.
            if let Some(k) = (at..tokens.len()).find(|&k| is_name(&tokens[k])) {
                let names: Vec<String> = tokens.iter().filter(|t| is_name(t)).cloned().collect();
                tokens[k] = if rng.below(2) == 0 {
                    names[rng.below(names.len())].clone()
                } else {
                    rng.pick(VOCABULARY).to_string()
                };
            }
        }
        6 => {
            // A shape changed: a dimension added to, or removed from, the first list after `at`.
            if let Some(k) = (at..tokens.len()).find(|&k| tokens[k] == "[") {
                if rng.below(2) == 0 {
                    let dim = if rng.below(3) == 0 { "None".to_string() } else { rng.pick(NUMBERS).to_string() };
                    tokens.insert(k + 1, ",".into());
                    tokens.insert(k + 1, dim);
                } else if k + 2 < tokens.len() && tokens[k + 1] != "]" {
                    tokens.remove(k + 1);
                    if tokens[k + 1] == "," {
                        tokens.remove(k + 1);
                    }
                }
            }
        }
        _ => {
            // A statement moved: cut from one `let` to the next `;` and pasted elsewhere.
            if let Some(start) = (at..tokens.len()).find(|&k| tokens[k] == "let") {
                if let Some(end) = (start..tokens.len()).find(|&k| tokens[k] == ";") {
                    let statement: Vec<String> = tokens.drain(start..=end).collect();
                    let to = rng.below(tokens.len());
                    for (k, token) in statement.into_iter().enumerate() {
                        tokens.insert(to + k, token);
                    }
                }
            }
        }
    }
}

/// A random graph from a small grammar: placeholders, variables and constants of random shapes,
/// combined by random ops.
fn generate(rng: &mut Rng) -> String {
    let dtypes = ["tf.float32", "tf.float64", "tf.int32", "tf.uint8", "tf.bool"];
    let shapes = ["[]", "[2]", "[3]", "[2, 3]", "[3, 2]", "[None]", "[None, 2]", "[1, 3]", "[2, 1]"];
    let mut text = String::from("pub mod generated {\n");
    let mut names = Vec::new();
    for k in 0..1 + rng.below(8) {
        let name = format!("n{k}");
        let value = match rng.below(12) {
            0 => format!("tf.placeholder({}, {})", rng.pick(&dtypes), rng.pick(&shapes)),
            1 => format!("tf.placeholder({})", rng.pick(&dtypes)),
            2 => format!("tf.Variable(tf.random_uniform({}, -1, 1))", rng.pick(&shapes[..5])),
            3 => format!(
                "tf.constant({}, dtype = {})",
                rng.pick(&["1", "[1, 2]", "[[1, 2, 3], [4, 5, 6]]", "2.5"]),
                rng.pick(&dtypes)
            ),
            _ if names.is_empty() => "tf.zeros([2, 3])".to_string(),
            n => {
                let a: &String = &names[rng.below(names.len())];
                let b: &String = &names[rng.below(names.len())];
                match n {
                    4 => format!("{a} {} {b}", rng.pick(&["+", "-", "*", "/", ">", "=="])),
                    5 => format!("tf.matmul({a}, {b})"),
                    6 => format!(
                        "tf.{}({a})",
                        rng.pick(&["exp", "log", "sigmoid", "nn.relu", "nn.softmax", "transpose", "square"])
                    ),
                    7 => format!("tf.reduce_sum({a}, axis = {})", rng.pick(&["0", "1", "-1", "2"])),
                    8 => format!("tf.where({a} > 0, {a}, {b})"),
                    9 => format!("tf.one_hot({a}, 3)"),
                    10 => format!("tf.gradients(tf.reduce_sum({a}), [{b}])"),
                    _ => format!("tf.train.GradientDescentOptimizer(0.1).minimize({a})"),
                }
            }
        };
        text.push_str(&format!("    let {name} = {value};\n"));
        names.push(name);
    }
    text.push('}');
    text
}

/// Expands `input` (which starts on line 2: a span on line 1 is the call site, outside the input)
/// and checks what comes out: errors inside the input, and (for errors always, otherwise if
/// `parse_valid`) an expansion that parses as Rust. `Ok(false)` when the input is not even a token
/// stream (an unbalanced delimiter: no macro ever receives one).
pub fn check(input: &str, parse_valid: bool) -> Result<bool, String> {
    let Ok(tokens) = TokenStream::from_str(&format!("\n{input}")) else { return Ok(false) };
    let last_line = input.lines().count() + 1;
    let output = catch_unwind(AssertUnwindSafe(|| expand(tokens))).map_err(|panic| {
        let message =
            panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned());
        format!("panicked: {}", message.unwrap_or_default())
    })?;
    let mut errors = false;
    for token in output.clone() {
        if let TokenTree::Ident(ident) = &token {
            if ident == "compile_error" {
                errors = true;
                let line = ident.span().start().line;
                if !(2..=last_line).contains(&line) {
                    return Err(format!("an error's span is outside the input (line {line})"));
                }
            }
        }
    }
    if errors || parse_valid {
        syn::parse2::<syn::File>(output).map_err(|e| format!("the expansion does not parse as Rust: {e}"))?;
    }
    Ok(true)
}

pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// What one worker found.
#[derive(Default)]
struct Tally {
    expanded: u64,
    panics: u64,
    failures: Vec<String>,
}

/// Case `k` of a run: every fourth a generated graph, the others a corpus graph mutated one to
/// three times.
pub fn random_case(k: u64, rng: &mut Rng, corpus: &[Vec<String>]) -> String {
    if k.is_multiple_of(4) {
        generate(rng)
    } else {
        let mut tokens = corpus[rng.below(corpus.len())].clone();
        for _ in 0..1 + rng.below(3) {
            mutate(&mut tokens, rng);
        }
        tokens.join(" ")
    }
}

/// The valid graphs the mutations start from, as flat token lists.
pub fn corpus_tokens() -> Vec<Vec<String>> {
    CORPUS
        .iter()
        .map(|source| {
            let mut tokens = Vec::new();
            flatten(TokenStream::from_str(source).expect("the corpus lexes"), &mut tokens);
            tokens
        })
        .collect()
}

/// Runs `cases` random cases from `seed`.
fn run_cases(cases: u64, seed: u64, corpus: &[Vec<String>]) -> Tally {
    let mut rng = Rng(seed.max(1));
    let mut tally = Tally::default();
    for k in 0..cases {
        let input = random_case(k, &mut rng, corpus);
        match check(&input, k % 8 == 1) {
            Ok(true) => tally.expanded += 1,
            Ok(false) => {}
            Err(problem) => {
                tally.panics += u64::from(problem.starts_with("panicked"));
                let report = format!("{problem}\n--- input:\n{input}\n");
                // Panics first: they are the worst.
                if problem.starts_with("panicked") {
                    tally.failures.insert(0, report);
                } else {
                    tally.failures.push(report);
                }
                tally.failures.truncate(5);
            }
        }
    }
    tally
}

#[test]
fn no_input_makes_the_macro_panic() {
    let cases = env_number("TFGRAPH_FUZZ_CASES", 20_000);
    let seed = env_number("TFGRAPH_FUZZ_SEED", 0x7f_5eed);
    let corpus = corpus_tokens();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let share = cases / workers + u64::from(w < cases % workers);
                let corpus = &corpus;
                scope.spawn(move || run_cases(share, seed.wrapping_add(w.wrapping_mul(0x9e37_79b9)), corpus))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a fuzz worker")).collect()
    });
    let expanded: u64 = tallies.iter().map(|t| t.expanded).sum();
    let panics: u64 = tallies.iter().map(|t| t.panics).sum();
    let failures: Vec<String> = tallies.into_iter().flat_map(|t| t.failures).take(5).collect();
    println!("fuzz: {cases} inputs generated or mutated, {expanded} expanded (the rest did not lex), {panics} panics");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(expanded > cases / 2, "most mutated inputs should lex: {expanded} of {cases}");
}

#[test]
fn inputs_that_once_failed_stay_fixed() {
    let corpus = include_str!("fuzz_regressions.txt");
    // Each block: comment lines saying what once failed, then the input.
    let cases: Vec<String> = corpus
        .split("\n=====\n")
        .map(|block| block.lines().filter(|line| !line.starts_with("//")).collect::<Vec<_>>().join("\n"))
        .filter(|case| !case.trim().is_empty())
        .collect();
    assert_eq!(cases.len(), 3, "every regression case is read");
    for case in &cases {
        assert_eq!(check(case, true), Ok(true), "regression:\n{case}");
    }
    for case in CORPUS {
        assert_eq!(check(case, true), Ok(true));
        assert!(!expand(TokenStream::from_str(case).unwrap()).to_string().contains("compile_error"), "{case}");
    }
}
