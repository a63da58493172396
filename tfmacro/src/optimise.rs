//! Phase 5, optimise: the whole graph, after autodiff, made smaller without changing a result.
//!
//! - Python numbers become constants of the dtype inference gave them.
//! - Constant folding: a pure node whose inputs are all constants is computed now
//!   ([`crate::eval`] follows the emitted code bit for bit).
//! - Simplification: `x * 1`, `x + 0`, `--x`, a cast to the same dtype, a broadcast to the same
//!   shape, `tf.identity` and `tf.stop_gradient` (after autodiff) stand for their input.
//! - Common subexpressions: two pure nodes with the same op and inputs become one, so a value
//!   the forward and the backward pass both need is computed once.
//!
//! Pruning to what a fetch needs is per fetch, in [`crate::emit`].

use crate::eval::{self, Tensor};
use crate::ir::{Data, Dim, Graph, NodeId, Op, TensorType, Type};
use crate::values::convert_number;
use std::collections::HashMap;

/// The largest constant folding may create, in elements; larger results are computed at run time
/// rather than spelled out in the code.
const MAX_FOLDED: usize = 4096;

pub fn optimise(graph: &mut Graph) {
    literals_to_constants(graph);
    let all: Vec<NodeId> = (0..graph.nodes.len()).collect();
    let order = graph.topo_order(&all);
    let mut replace: Vec<NodeId> = (0..graph.nodes.len()).collect();
    let mut seen: HashMap<String, NodeId> = HashMap::new();
    for id in order {
        let inputs: Vec<NodeId> = graph.nodes[id].inputs.iter().map(|&i| replace[i]).collect();
        graph.nodes[id].inputs = inputs;
        if let Some(same) = simplify(graph, id) {
            replace[id] = replace[same];
            continue;
        }
        fold(graph, id);
        if graph.nodes[id].op.is_pure() {
            let node = &graph.nodes[id];
            let key = format!("{:?} {:?} {:?}", node.op, node.inputs, node.ty);
            match seen.get(&key) {
                Some(&earlier) => replace[id] = earlier,
                None => {
                    seen.insert(key, id);
                }
            }
        }
    }
    for node in &mut graph.nodes {
        if let Op::Variable(v) = &mut node.op {
            v.init = replace[v.init];
        }
    }
    for fetch in &mut graph.fetches {
        fetch.node = replace[fetch.node];
    }
}

/// Gives every Python number the dtype inference settled for it.
fn literals_to_constants(graph: &mut Graph) {
    for node in &mut graph.nodes {
        if let (Op::Literal(number), Some(Type::Tensor(t))) = (&node.op, &node.ty) {
            if let Ok(scalar) = convert_number(*number, t.dtype) {
                node.op = Op::Const { dtype: t.dtype, shape: Vec::new(), data: Data::Splat(scalar) };
            }
        }
    }
}

/// The node `id` can be replaced by, if any: it computes exactly that node's value (by the op's
/// `simplify` rule in [`crate::ops`]).
fn simplify(graph: &Graph, id: NodeId) -> Option<NodeId> {
    graph.nodes[id].op.rules()?.simplify(graph, id)
}

/// Replaces node `id` by a constant if its inputs are all constants.
fn fold(graph: &mut Graph, id: NodeId) {
    let node = &graph.nodes[id];
    if !node.op.is_pure() || matches!(node.op, Op::Const { .. } | Op::Tuple) || node.inputs.is_empty() {
        return;
    }
    let Some(Type::Tensor(TensorType { dtype, shape })) = &node.ty else { return };
    let Some(shape) = known(shape) else { return };
    let too_big =
        |dims: &[usize]| dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).is_none_or(|n| n > MAX_FOLDED);
    if too_big(&shape) {
        return;
    }
    let mut inputs = Vec::new();
    for &input in &node.inputs {
        match &graph.nodes[input].op {
            // A huge input (a reduction of `tf.zeros([2^24, 2^24])`, say) is left to run time too:
            // spelling out its elements here would exhaust the compiler's memory.
            Op::Const { dtype, shape, data } if !too_big(shape) => inputs.push(Tensor::of_const(*dtype, shape, data)),
            _ => return,
        }
    }
    if let Some(result) = eval::eval(&node.op, &inputs, *dtype, &shape) {
        let dtype = *dtype;
        let node = &mut graph.nodes[id];
        node.op = Op::Const { dtype, shape: shape.clone(), data: result.into_data() };
        node.inputs.clear();
    }
}

/// The dimensions of a shape with no `None` in it.
pub fn known(shape: &[Dim]) -> Option<Vec<usize>> {
    shape
        .iter()
        .map(|d| match d {
            Dim::Known(n) => Some(*n),
            Dim::Sym(_) => None,
        })
        .collect()
}
