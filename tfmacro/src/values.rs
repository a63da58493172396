//! Values as every phase writes them: Python numbers converted to a dtype, and Rust tokens for
//! identifiers, element literals and dense constant tensors.

use crate::ir::{DType, Number, Scalar};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

/// A Python number as an element of `dtype`, or why it cannot be one (as TensorFlow refuses to
/// convert `0.5` to `int32`).
pub fn convert_number(number: Number, dtype: DType) -> Result<Scalar, String> {
    let refuse = |shown: String| Err(format!("`{shown}` cannot be converted to `{dtype}`"));
    match (number, dtype) {
        (Number::Bool(b), DType::Bool) => Ok(Scalar::B(b)),
        (Number::Bool(b), _) => refuse(if b { "true".into() } else { "false".into() }),
        (n, DType::Bool) => refuse(number_text(n)),
        (Number::Float(x), DType::Float32) => Ok(Scalar::F(x as f32 as f64)),
        (Number::Float(x), DType::Float64) => Ok(Scalar::F(x)),
        (Number::Int(i), DType::Float32) => Ok(Scalar::F(i as f32 as f64)),
        (Number::Int(i), DType::Float64) => Ok(Scalar::F(i as f64)),
        (Number::Float(x), _) => refuse(number_text(Number::Float(x))),
        (Number::Int(i), DType::Int32) if i32::try_from(i).is_ok() => Ok(Scalar::I(i as i64)),
        (Number::Int(i), DType::Int64) if i64::try_from(i).is_ok() => Ok(Scalar::I(i as i64)),
        (Number::Int(i), DType::UInt8) if u8::try_from(i).is_ok() => Ok(Scalar::I(i as i64)),
        (Number::Int(i), DType::Int8) if i8::try_from(i).is_ok() => Ok(Scalar::I(i as i64)),
        (Number::Int(i), _) => refuse(i.to_string()),
    }
}

/// A number as Python would print it.
pub fn number_text(number: Number) -> String {
    match number {
        Number::Int(i) => i.to_string(),
        Number::Float(x) if x.fract() == 0.0 && x.abs() < 1e16 => format!("{x:.1}"),
        Number::Float(x) => x.to_string(),
        Number::Bool(b) => b.to_string(),
    }
}

pub fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// Nested array literals of `values` (row-major, of `shape`): `[[1f32, 2f32], [3f32, 4f32]]`.
/// The expression of a dense constant of Rust type `ty`: nested arrays for rank 3 and 4
/// (`Array4([[[[a, b], ...]]])`, row-major), nalgebra's column-major storage otherwise.
pub fn dense_value(values: &[Scalar], shape: &[usize], dtype: DType, ty: &TokenStream) -> TokenStream {
    if shape.len() > 2 {
        let array = format_ident!("Array{}", shape.len());
        let nested = nested_literal(values, shape, dtype);
        return quote!(::tfcore::__private::#array(#nested));
    }
    let (rows, cols) = match shape[..] {
        [n] => (n, 1),
        [r, c] => (r, c),
        _ => (1, 1),
    };
    let columns = (0..cols).map(|j| {
        let column = (0..rows).map(|i| literal(values[i * cols + j], dtype));
        quote!([#(#column),*])
    });
    quote!(<#ty>::from_array_storage(::tfcore::__private::ArrayStorage([#(#columns),*])))
}

fn nested_literal(values: &[Scalar], shape: &[usize], dtype: DType) -> TokenStream {
    match shape.split_first() {
        None => literal(values[0], dtype),
        Some((&outer, inner)) => {
            let step = values.len() / outer.max(1);
            let parts = (0..outer).map(|k| nested_literal(&values[k * step..(k + 1) * step], inner, dtype));
            quote!([#(#parts),*])
        }
    }
}

/// A Rust literal for an element of `dtype`.
pub fn literal(s: Scalar, dtype: DType) -> TokenStream {
    match (dtype, s) {
        (DType::Float32, Scalar::F(x)) => float_literal(x as f32 as f64, "f32"),
        (DType::Float64, Scalar::F(x)) => float_literal(x, "f64"),
        (DType::Bool, Scalar::B(b)) => quote!(#b),
        (DType::Int32, Scalar::I(i)) => int_literal(i, "i32", i32::MIN as i64),
        (DType::Int64, Scalar::I(i)) => int_literal(i, "i64", i64::MIN),
        (DType::UInt8, Scalar::I(i)) => {
            let l = Literal::u8_suffixed(i as u8);
            quote!(#l)
        }
        (DType::Int8, Scalar::I(i)) => int_literal(i, "i8", i8::MIN as i64),
        (DType::Float32 | DType::Float64, Scalar::I(i)) => literal(Scalar::F(i as f64), dtype),
        (_, Scalar::F(x)) => literal(Scalar::I(x as i64), dtype),
        (_, Scalar::B(b)) => literal(Scalar::I(b as i64), dtype),
        (DType::Bool, Scalar::I(i)) => {
            let b = i != 0;
            quote!(#b)
        }
    }
}

fn float_literal(x: f64, ty: &str) -> TokenStream {
    let t = ident(ty);
    if x.is_nan() {
        return quote!(#t::NAN);
    }
    if x.is_infinite() {
        return if x > 0.0 { quote!(#t::INFINITY) } else { quote!(#t::NEG_INFINITY) };
    }
    let magnitude = if ty == "f32" { Literal::f32_suffixed(x.abs() as f32) } else { Literal::f64_suffixed(x.abs()) };
    if x.is_sign_negative() {
        quote!((-#magnitude))
    } else {
        quote!(#magnitude)
    }
}

fn int_literal(i: i64, ty: &str, min: i64) -> TokenStream {
    let t = ident(ty);
    if i == min {
        return quote!(#t::MIN);
    }
    let magnitude = match ty {
        "i32" => Literal::i32_suffixed(i.unsigned_abs() as i32),
        "i8" => Literal::i8_suffixed(i.unsigned_abs() as i8),
        _ => Literal::i64_suffixed(i.unsigned_abs() as i64),
    };
    if i < 0 {
        quote!((-#magnitude))
    } else {
        quote!(#magnitude)
    }
}
