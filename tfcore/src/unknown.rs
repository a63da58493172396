//! What a fetch returns in the stubs `graph!` emits beside its errors.

/// The value of a node of a graph with compile errors.
///
/// When `graph!` reports errors, it also emits the graph's module with stub items, so that the
/// code using them reports nothing more; a fetch whose type the errors left unknown returns
/// `Unknown`, which compares, prints and computes with anything. The program does not compile
/// (the graph's errors stand), so no `Unknown` is ever made.
#[derive(Clone, Copy, Debug)]
pub struct Unknown {
    _unmade: (),
}

impl<T> PartialEq<T> for Unknown {
    fn eq(&self, _: &T) -> bool {
        false
    }
}

impl<T> PartialOrd<T> for Unknown {
    fn partial_cmp(&self, _: &T) -> Option<core::cmp::Ordering> {
        None
    }
}

impl core::fmt::Display for Unknown {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("?")
    }
}

impl core::ops::Neg for Unknown {
    type Output = Unknown;
    fn neg(self) -> Unknown {
        self
    }
}

macro_rules! unknown_ops {
    ($($op:ident $method:ident),*) => {$(
        impl<T> core::ops::$op<T> for Unknown {
            type Output = Unknown;
            fn $method(self, _: T) -> Unknown {
                self
            }
        }
    )*};
}
unknown_ops!(Add add, Sub sub, Mul mul, Div div);

macro_rules! unknown_with_numbers {
    ($($t:ty)*) => {$(
        impl PartialEq<Unknown> for $t {
            fn eq(&self, _: &Unknown) -> bool {
                false
            }
        }
        impl core::ops::Add<Unknown> for $t {
            type Output = Unknown;
            fn add(self, other: Unknown) -> Unknown {
                other
            }
        }
        impl core::ops::Sub<Unknown> for $t {
            type Output = Unknown;
            fn sub(self, other: Unknown) -> Unknown {
                other
            }
        }
        impl core::ops::Mul<Unknown> for $t {
            type Output = Unknown;
            fn mul(self, other: Unknown) -> Unknown {
                other
            }
        }
        impl core::ops::Div<Unknown> for $t {
            type Output = Unknown;
            fn div(self, other: Unknown) -> Unknown {
                other
            }
        }
    )*};
}
unknown_with_numbers!(f32 f64 i32 i64 u8);

impl core::ops::Index<usize> for Unknown {
    type Output = Unknown;
    fn index(&self, _: usize) -> &Unknown {
        self
    }
}

impl core::ops::Index<(usize, usize)> for Unknown {
    type Output = Unknown;
    fn index(&self, _: (usize, usize)) -> &Unknown {
        self
    }
}

impl core::ops::Index<(usize, usize, usize)> for Unknown {
    type Output = Unknown;
    fn index(&self, _: (usize, usize, usize)) -> &Unknown {
        self
    }
}

impl core::ops::Index<(usize, usize, usize, usize)> for Unknown {
    type Output = Unknown;
    fn index(&self, _: (usize, usize, usize, usize)) -> &Unknown {
        self
    }
}
