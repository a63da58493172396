//! Times tfcore's convolution kernels at two revisions side by side, in one process: each layer
//! of `cargo bench --bench convolutions`, the two revisions' kernels taking turns every few calls
//! for many rounds, so that the minutes when a shared machine runs slow fall on both alike. Run
//! through `tools/ab_conv.sh`, which builds it against the two revisions (`tfcore_a`,
//! `tfcore_b`); it says where their bits differ (and the script then fails, once both orders
//! have run).

use std::time::Instant;

mod a {
    pub use tfcore_a as tfcore;
    include!("../../benches/shared/conv_layers.rs");
}

// The same items as `a`'s, of which the harness reads some through `a` alone.
#[allow(dead_code)]
mod b {
    pub use tfcore_b as tfcore;
    include!("../../benches/shared/conv_layers.rs");
}

/// Calls of a kernel between two readings of the clock.
const CALLS: u32 = 20;

/// The `q`-quantile of sorted `v`.
fn quantile(v: &[f64], q: f64) -> f64 {
    v[((v.len() - 1) as f64 * q) as usize]
}

fn main() {
    let rounds: usize = match std::env::args().nth(1).map(|s| s.parse()) {
        None => 200,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: ab_conv [ROUNDS]");
            std::process::exit(2);
        }
    };
    println!("{rounds} rounds of {CALLS} calls each; µs a call (median, min), A then B; B / A of the medians");
    for (la, lb) in a::LAYERS.iter().zip(b::LAYERS) {
        let (mut oa, mut ob) = (a::Operands::new(la), b::Operands::new(lb));
        let (mut ta, mut tb) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
        for round in 0..rounds {
            // Each revision first every other round.
            for turn in [round % 2, 1 - round % 2] {
                let start = Instant::now();
                for _ in 0..CALLS {
                    if turn == 0 {
                        oa.run()
                    } else {
                        ob.run()
                    }
                }
                let t = start.elapsed().as_secs_f64() * 1e6 / f64::from(CALLS);
                if turn == 0 {
                    ta.push(t)
                } else {
                    tb.push(t)
                }
            }
        }
        ta.sort_by(f64::total_cmp);
        tb.sort_by(f64::total_cmp);
        let same = oa.output().iter().zip(ob.output()).all(|(x, y)| x.to_bits() == y.to_bits());
        let (ma, mb) = (quantile(&ta, 0.5), quantile(&tb, 0.5));
        // Multiply-adds a nanosecond, at A's median.
        let rate = oa.multiply_adds() as f64 / ma / 1e3;
        println!(
            "{:46} A {:8.2} ({:8.2})  B {:8.2} ({:8.2})  A {rate:5.1}/ns  B/A {:.3}{}",
            la.name,
            ma,
            ta[0],
            mb,
            tb[0],
            mb / ma,
            if same { "" } else { "  BITS DIFFER" }
        );
    }
}
