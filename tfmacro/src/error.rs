//! Diagnostics: where a thing came from in the user's tokens ([`Loc`]), the one error collector
//! every phase reports to ([`Errors`]), and the wording of messages that recur.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::ToTokens;
use std::fmt::Display;

/// The user's tokens a syntax node or graph node came from: the first and the last, so that an
/// error underlines the whole range on stable Rust (where spans cannot be joined).
#[derive(Clone, Copy, Debug)]
pub struct Loc {
    pub start: Span,
    pub end: Span,
}

impl Loc {
    /// The range of a single token.
    pub fn span(span: Span) -> Loc {
        Loc { start: span, end: span }
    }

    /// The range of everything `tokens` prints to.
    pub fn of(tokens: &impl ToTokens) -> Loc {
        let stream = tokens.to_token_stream();
        let mut iter = stream.into_iter();
        let Some(first) = iter.next() else {
            return Loc::span(Span::call_site());
        };
        let last = iter.last().unwrap_or_else(|| first.clone());
        Loc { start: first.span(), end: last.span() }
    }

    /// From the start of `self` to the end of `other`.
    pub fn to(self, other: Loc) -> Loc {
        Loc { start: self.start, end: other.end }
    }

    /// An error underlining this range.
    pub fn error(self, message: impl Display) -> syn::Error {
        let mut tokens = TokenStream::new();
        tokens
            .extend([TokenTree::Ident(Ident::new("start", self.start)), TokenTree::Ident(Ident::new("end", self.end))]);
        syn::Error::new_spanned(tokens, message)
    }
}

/// Every error found so far. Phases push to it and keep going where they can, so that one compile
/// reports every independent mistake; the driver drains it at phase boundaries.
#[derive(Default)]
pub struct Errors {
    list: Vec<syn::Error>,
}

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        self.list.push(error);
    }

    /// Reports `message` on `loc`.
    pub fn at(&mut self, loc: Loc, message: impl Display) {
        self.push(loc.error(message));
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Moves every error of `other` into `self`.
    pub fn append(&mut self, other: Errors) {
        self.list.extend(other.list);
    }

    /// The errors, for tests.
    #[cfg(test)]
    pub fn messages(&self) -> Vec<String> {
        self.list.iter().map(|e| e.to_string()).collect()
    }

    /// One `compile_error!` per error, each on its own span.
    pub fn to_compile_errors(&self) -> TokenStream {
        self.list.iter().map(syn::Error::to_compile_error).collect()
    }
}

/// The closest of `candidates` to `name`, if one is close enough to be worth suggesting.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// `message` followed by a `help:` line when there is help to give.
pub fn with_help(message: impl Display, help: Option<String>) -> String {
    match help {
        Some(help) => format!("{message}\n\nhelp: {help}"),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_suggests_close_names_only() {
        let names = ["hidden_layer", "output_layer", "loss"];
        assert_eq!(nearest("hiden_layer", names), Some("hidden_layer"));
        assert_eq!(nearest("los", names), Some("loss"));
        assert_eq!(nearest("weights", names), None);
    }
}
