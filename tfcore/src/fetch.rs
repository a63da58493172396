//! The trait behind `Session::run`.

/// A node of a graph that a session of that graph can run: the fetch types `graph!` generates.
///
/// `graph!` implements this for every named node of a graph, on the struct named after the node
/// (`bond::y`, `bond::a_ { v_target: 95.0 }`); the struct's fields are the placeholders the node
/// needs. Users call `Session::run(fetch)` and have no reason to implement it themselves.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot run in this session",
    label = "not a fetch of this session's graph, with the feeds its placeholders take",
    note = "a graph's fetches are the types named after its `let` nodes, in the graph's module; each runs only in that graph's `Session`, with each field fed what its placeholder takes (an error about a feed, if any, is the one to fix)"
)]
pub trait Fetch<S> {
    /// What running the node returns: a scalar as the plain Rust type (`f32`, `i32`, `bool`...),
    /// a rank-1 tensor as `SVector`, a rank-2 tensor as `SMatrix`, `()` for `tf.group`, the
    /// initializer and optimiser steps, and a tuple for `tf.gradients`.
    type Output;

    /// Evaluates the node and what it needs in `session`, applies the assignments it triggers,
    /// and returns its value. Called by the generated `Session::run`.
    fn run(self, session: &mut S) -> Self::Output;

    /// Evaluates the node as [`Fetch::run`] does and writes its value over `out`. Called by the
    /// generated `Session::run_into`. A node computed element by element is written straight
    /// into `out`, with no temporary of its size; any other is computed and assigned.
    fn run_into(self, session: &mut S, out: &mut Self::Output)
    where
        Self: Sized,
    {
        *out = self.run(session);
    }
}
