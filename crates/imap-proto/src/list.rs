//! [`List`]: the sequence type of the crate's values.

use smallvec::SmallVec;
use std::fmt;
use std::ops::{Deref, DerefMut};

/// A growable sequence that keeps up to `N` elements inline (four unless a field says
/// otherwise): the short lists IMAP messages carry (flags, FETCH items, capabilities of a
/// response code) cost no heap allocation. Lists of large elements keep fewer inline, so that
/// the values holding them stay small. It derefs to a slice and converts from and to `Vec`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct List<T, const N: usize = 4>(SmallVec<[T; N]>);

impl<T, const N: usize> List<T, N> {
    /// An empty list.
    pub fn new() -> Self {
        Self(SmallVec::new())
    }

    /// Append an element.
    pub fn push(&mut self, value: T) {
        self.0.push(value);
    }

    /// Make room for at least `additional` more elements (one allocation instead of several
    /// as a list that outgrows its inline capacity doubles).
    pub fn reserve(&mut self, additional: usize) {
        self.0.reserve(additional);
    }

    /// The elements as a `Vec`.
    pub fn into_vec(self) -> Vec<T> {
        self.0.into_vec()
    }

    /// Map every element (for example to [`into_static`](crate) forms).
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> List<U, N> {
        List(self.0.into_iter().map(f).collect())
    }
}

impl<T, const N: usize> Default for List<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: fmt::Debug, const N: usize> fmt::Debug for List<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl<T, const N: usize> Deref for List<T, N> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T, const N: usize> DerefMut for List<T, N> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

impl<T, const N: usize> From<Vec<T>> for List<T, N> {
    fn from(v: Vec<T>) -> Self {
        Self(SmallVec::from_vec(v))
    }
}

impl<T, const N: usize> From<List<T, N>> for Vec<T> {
    fn from(l: List<T, N>) -> Self {
        l.into_vec()
    }
}

impl<T, const N: usize> FromIterator<T> for List<T, N> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl<T, const N: usize> IntoIterator for List<T, N> {
    type Item = T;
    type IntoIter = smallvec::IntoIter<[T; N]>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'l, T, const N: usize> IntoIterator for &'l List<T, N> {
    type Item = &'l T;
    type IntoIter = std::slice::Iter<'l, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T, const N: usize> Extend<T> for List<T, N> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

/// A list the grammar requires to hold at least one element (`1*` or `x *(SP x)`), such as
/// the keys of a SEARCH, the items of a STATUS, a sequence set or a header list. It keeps up
/// to `N` elements inline (four unless the field says otherwise, as [`List`]) and derefs to a
/// slice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NonEmpty<T, const N: usize = 4>(pub(crate) List<T, N>);

impl<T, const N: usize> NonEmpty<T, N> {
    /// A list of one element.
    pub fn one(value: T) -> Self {
        let mut l = List::new();
        l.push(value);
        NonEmpty(l)
    }

    /// The list, refused when empty.
    pub fn new(list: impl Into<List<T, N>>) -> Result<Self, crate::error::ValidationError> {
        let list = list.into();
        if list.is_empty() {
            Err(crate::error::ValidationError::new(
                "list",
                "empty where one element is required",
            ))
        } else {
            Ok(NonEmpty(list))
        }
    }

    /// Append an element.
    pub fn push(&mut self, value: T) {
        self.0.push(value);
    }

    /// The elements.
    pub fn into_list(self) -> List<T, N> {
        self.0
    }

    /// Map every element.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> NonEmpty<U, N> {
        NonEmpty(self.0.map(f))
    }
}

impl<T, const N: usize> Deref for NonEmpty<T, N> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T, const N: usize> TryFrom<Vec<T>> for NonEmpty<T, N> {
    type Error = crate::error::ValidationError;
    fn try_from(v: Vec<T>) -> Result<Self, crate::error::ValidationError> {
        NonEmpty::new(v)
    }
}

impl<T, const N: usize> TryFrom<List<T, N>> for NonEmpty<T, N> {
    type Error = crate::error::ValidationError;
    fn try_from(v: List<T, N>) -> Result<Self, crate::error::ValidationError> {
        NonEmpty::new(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_vec() {
        let mut l: List<u32> = List::new();
        for i in 0..6 {
            l.push(i);
        }
        assert_eq!(&l[..], &[0, 1, 2, 3, 4, 5]);
        assert_eq!(l.clone().into_vec(), vec![0, 1, 2, 3, 4, 5]);
        let m: List<u32> = l.map(|x| x * 2);
        assert_eq!(m.iter().sum::<u32>(), 30);
        assert_eq!(List::<u8>::from(vec![1u8]), [1u8].into_iter().collect());
        let mut one: List<u64, 1> = List::new();
        one.push(1);
        one.push(2);
        assert_eq!(&one[..], &[1, 2]);
        assert!(std::mem::size_of::<List<u64, 1>>() < std::mem::size_of::<List<u64>>());
        let mut small: List<u8, 2> = List::new();
        small.reserve(8);
        small.extend(0..8);
        assert_eq!(&small[..], &[0, 1, 2, 3, 4, 5, 6, 7]);
    }
}
