//! `GRAPH_DOT`: the graph in Graphviz DOT, built at expansion time (our answer to the seed's
//! TensorBoard).

use crate::ir::{Graph, NodeId, Op, ShapeDisplay, Type};
use std::fmt::Write;

/// Every node a fetch of the graph can run, after optimisation, with its op, name and type.
pub fn graph_dot(graph: &Graph) -> String {
    let roots: Vec<NodeId> = graph.fetches.iter().map(|f| f.node).collect();
    let order = graph.topo_order(&roots);
    let mut out = format!("digraph {} {{\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n", graph.name);
    for &id in &order {
        let node = &graph.nodes[id];
        let ty = match &node.ty {
            Some(Type::Tensor(t)) => format!("{} {}", t.dtype, ShapeDisplay(&t.shape)),
            Some(Type::Tuple(ts)) => format!("tuple of {}", ts.len()),
            _ => String::new(),
        };
        let op = match &node.op {
            Op::Const { data: crate::ir::Data::Splat(s), .. } => match s {
                crate::ir::Scalar::F(x) => format!("{x}"),
                crate::ir::Scalar::I(i) => format!("{i}"),
                crate::ir::Scalar::B(b) => format!("{b}"),
            },
            op => op.name(),
        };
        let label = match &node.name {
            Some(name) => format!("{name}\\n{op}\\n{ty}"),
            None => format!("{op}\\n{ty}"),
        };
        let style = match node.op {
            Op::Variable(_) => ", style=filled, fillcolor=\"#ffe9a8\"",
            Op::Placeholder { .. } => ", style=filled, fillcolor=\"#c8e6ff\"",
            _ if node.name.is_some() => ", style=bold",
            _ => "",
        };
        let _ = writeln!(out, "  n{id} [label=\"{}\"{style}];", label.replace('"', "\\\""));
    }
    for &id in &order {
        for &input in &graph.nodes[id].inputs {
            let _ = writeln!(out, "  n{input} -> n{id};");
        }
    }
    out.push_str("}\n");
    out
}
