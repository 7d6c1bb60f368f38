//! [`List`]: the sequence type of the crate's values.

use smallvec::SmallVec;
use std::fmt;
use std::ops::{Deref, DerefMut};

/// A growable sequence that keeps up to four elements inline: the short lists IMAP messages
/// carry (flags, FETCH items, capabilities of a response code) cost no heap allocation. It
/// derefs to a slice and converts from and to `Vec`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct List<T>(SmallVec<[T; 4]>);

impl<T> List<T> {
    /// An empty list.
    pub fn new() -> Self {
        Self(SmallVec::new())
    }

    /// Append an element.
    pub fn push(&mut self, value: T) {
        self.0.push(value);
    }

    /// The elements as a `Vec`.
    pub fn into_vec(self) -> Vec<T> {
        self.0.into_vec()
    }

    /// Map every element (for example to [`into_static`](crate) forms).
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> List<U> {
        List(self.0.into_iter().map(f).collect())
    }
}

impl<T> Default for List<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for List<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl<T> Deref for List<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T> DerefMut for List<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

impl<T> From<Vec<T>> for List<T> {
    fn from(v: Vec<T>) -> Self {
        Self(SmallVec::from_vec(v))
    }
}

impl<T> From<List<T>> for Vec<T> {
    fn from(l: List<T>) -> Self {
        l.into_vec()
    }
}

impl<T> FromIterator<T> for List<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl<T> IntoIterator for List<T> {
    type Item = T;
    type IntoIter = smallvec::IntoIter<[T; 4]>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'l, T> IntoIterator for &'l List<T> {
    type Item = &'l T;
    type IntoIter = std::slice::Iter<'l, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T> Extend<T> for List<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

/// A list the grammar requires to hold at least one element (`1*` or `x *(SP x)`), such as
/// the keys of a SEARCH, the items of a STATUS, a sequence set or a header list. It derefs to a slice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NonEmpty<T>(pub(crate) List<T>);

impl<T> NonEmpty<T> {
    /// A list of one element.
    pub fn one(value: T) -> Self {
        let mut l = List::new();
        l.push(value);
        NonEmpty(l)
    }

    /// The list, refused when empty.
    pub fn new(list: impl Into<List<T>>) -> Result<Self, crate::error::ValidationError> {
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
    pub fn into_list(self) -> List<T> {
        self.0
    }

    /// Map every element.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> NonEmpty<U> {
        NonEmpty(self.0.map(f))
    }
}

impl<T> Deref for NonEmpty<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T> TryFrom<Vec<T>> for NonEmpty<T> {
    type Error = crate::error::ValidationError;
    fn try_from(v: Vec<T>) -> Result<Self, crate::error::ValidationError> {
        NonEmpty::new(v)
    }
}

impl<T> TryFrom<List<T>> for NonEmpty<T> {
    type Error = crate::error::ValidationError;
    fn try_from(v: List<T>) -> Result<Self, crate::error::ValidationError> {
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
        assert_eq!(List::from(vec![1u8]), [1u8].into_iter().collect());
    }
}
