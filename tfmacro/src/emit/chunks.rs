//! Fetches of run-time size run in chunks of rows.
//!
//! A training step over a million rows computes each layer of every row, then the next layer,
//! and so on: each pass reads and writes tensors of a million rows, far larger than the caches,
//! so the step runs at the speed of memory. When every tensor of the `None` dimension is a function
//! of the same rows of the feeds ([`ByRows::Rows`]) and what the fetch returns or assigns is made
//! from sums over those rows ([`ByRows::Sums`]: the weights' gradients), the fetch instead runs
//! the whole row-wise part on `tfcore::__private::CHUNK_ROWS` rows at a time, adding each
//! chunk's terms to the sums, and computes the rest once after the last chunk. The chunk's
//! tensors stay in the cache, and the session's workspace holds one chunk.
//!
//! The sums keep `tfcore::__private::sum`'s order across chunks (`Partial`), so a fetch run in
//! chunks gives the bits of the same fetch run over all its rows at once, fed statically or not.
//! With tfcore's `parallel` feature, `sums_over_rows` may run ranges of chunks on threads and add
//! the ranges' totals in order.

use crate::ir::{DType, Dim, Graph, NodeId, Op};
use crate::ops::{has_rows, rows_of, ByRows};

/// When a node is computed in a fetch run in chunks of rows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Phase {
    /// Once, before the first chunk: of no `None` dimension, and needing no sum over the rows.
    Before,
    /// For every chunk: a tensor of the chunk's rows (a feed, a layer, a gradient).
    Rows,
    /// For every chunk, adding the chunk's terms to a sum over the rows; its value is complete
    /// after the last chunk.
    Sums,
    /// Once, after the last chunk: computed from the sums (an update of a weight).
    After,
}

/// The phase of every node of a fetch that runs in chunks of rows.
pub struct Chunks {
    /// By node id; the nodes the fetch does not compute are `Before`.
    pub phase: Vec<Phase>,
    /// The `None` dimension the chunks divide: the rows.
    pub rows: usize,
    /// The dtype of every sum over the rows (a float).
    pub dtype: DType,
}

/// The most sums' elements a fetch run in chunks keeps between chunks (each a `Partial`, seventeen
/// elements and a count, on the stack): a fetch with a larger gradient (784 × 128) runs over all
/// its rows at once.
const MOST_SUMS: usize = 256;

/// The phases of the nodes of `order` (the fetch's nodes, inputs first), if the fetch can run in
/// chunks of rows: `None` if some node is of a `None` dimension but not row by row (a reduction
/// over the rows that is no sum, a transpose), if a result is of a `None` dimension, if a row-wise
/// node needs a sum over the rows (a batch's mean), or if the fetch draws random numbers.
pub fn plan(graph: &Graph, order: &[NodeId], roots: &[NodeId]) -> Option<Chunks> {
    let mut phase = vec![Phase::Before; graph.nodes.len()];
    let mut rows = None;
    let mut sums = 0usize;
    let mut dtype = None;
    for &id in order {
        let node = &graph.nodes[id];
        let shape = graph.tensor(id).map(|t| t.shape.clone()).unwrap_or_default();
        let inputs: Vec<Phase> = node.inputs.iter().map(|&i| phase[i]).collect();
        let reads_rows = inputs.contains(&Phase::Rows);
        let after_sums = inputs.iter().any(|p| matches!(p, Phase::Sums | Phase::After));
        if has_rows(&shape) {
            let s = rows_of(&shape)?;
            if *rows.get_or_insert(s) != s {
                return None;
            }
        }
        phase[id] = match &node.op {
            Op::Placeholder { .. } if has_rows(&shape) => Phase::Rows,
            Op::Placeholder { .. } | Op::Variable(_) | Op::Const { .. } | Op::Literal(_) => Phase::Before,
            Op::RandomUniform { .. } | Op::Init => return None,
            Op::Assign(_) | Op::Group | Op::Tuple if !reads_rows => Phase::After,
            op => {
                let by_rows = if has_rows(&shape) || reads_rows { op.rules()?.by_rows(graph, id) } else { ByRows::No };
                match by_rows {
                    ByRows::Rows if !after_sums => Phase::Rows,
                    ByRows::Sums
                        if !after_sums
                            && graph.tensor(id).is_some_and(|t| *dtype.get_or_insert(t.dtype) == t.dtype) =>
                    {
                        sums += shape.iter().map(|d| if let Dim::Known(n) = d { *n } else { 1 }).product::<usize>();
                        Phase::Sums
                    }
                    _ if has_rows(&shape) || reads_rows => return None,
                    _ if after_sums => Phase::After,
                    _ => Phase::Before,
                }
            }
        };
    }
    let results_fixed = roots.iter().all(|&r| phase[r] != Phase::Rows);
    let rows = rows?;
    let dtype = dtype.filter(|d: &DType| d.is_float())?;
    (results_fixed && sums <= MOST_SUMS).then_some(Chunks { phase, rows, dtype })
}
