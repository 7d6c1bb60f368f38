//! [`List`]: the sequence type of the crate's values.

use smallvec::SmallVec;
use std::fmt;
use std::hash::{Hash, Hasher};
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

/// A growable sequence that keeps one element inline, for the short lists of an `ENVELOPE`
/// and a `BODYSTRUCTURE` (address lists, body parameters, languages): most hold one element,
/// which then costs no allocation, and the value stays the size of that element (an envelope
/// of six lists fits the allocator's small-block cache). Unlike
/// [`List`], it is covariant in `T`, so a value holding it (a [`fetch::Envelope<'static>`],
/// say) can be used and compared where a shorter lifetime is expected. It derefs to a slice
/// and converts from and to `Vec`; two lists are equal when their elements are, however they
/// are stored.
///
/// [`fetch::Envelope<'static>`]: crate::fetch::Envelope
#[derive(Clone)]
pub struct Few<T>(Repr<T>);

#[derive(Clone)]
enum Repr<T> {
    Empty,
    One(T),
    Many(Vec<T>),
}

impl<T> Few<T> {
    /// An empty list.
    pub const fn new() -> Self {
        Few(Repr::Empty)
    }

    /// Append an element: the second one moves the list to the heap, with room for four.
    #[inline]
    pub fn push(&mut self, value: T) {
        match &mut self.0 {
            Repr::Many(v) => v.push(value),
            Repr::Empty => self.0 = Repr::One(value),
            Repr::One(_) => self.push_second(value),
        }
    }

    /// [`Few::push`] of the second element, out of line (the parsers push into lists in
    /// their loops, and most lists stay at one element).
    #[inline(never)]
    fn push_second(&mut self, value: T) {
        if let Repr::One(a) = std::mem::replace(&mut self.0, Repr::Empty) {
            let mut v = Vec::with_capacity(4);
            v.push(a);
            v.push(value);
            self.0 = Repr::Many(v);
        }
    }

    /// The elements as a `Vec`.
    pub fn into_vec(self) -> Vec<T> {
        match self.0 {
            Repr::Empty => Vec::new(),
            Repr::One(a) => vec![a],
            Repr::Many(v) => v,
        }
    }

    /// Map every element (for example to [`into_static`](crate) forms); an inline list stays
    /// inline.
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Few<U> {
        Few(match self.0 {
            Repr::Empty => Repr::Empty,
            Repr::One(a) => Repr::One(f(a)),
            Repr::Many(v) => Repr::Many(v.into_iter().map(f).collect()),
        })
    }
}

impl<T> Default for Few<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Deref for Few<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match &self.0 {
            Repr::Empty => &[],
            Repr::One(a) => std::slice::from_ref(a),
            Repr::Many(v) => v,
        }
    }
}

impl<T> DerefMut for Few<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        match &mut self.0 {
            Repr::Empty => &mut [],
            Repr::One(a) => std::slice::from_mut(a),
            Repr::Many(v) => v,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Few<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: PartialEq> PartialEq for Few<T> {
    fn eq(&self, other: &Self) -> bool {
        self[..] == other[..]
    }
}

impl<T: Eq> Eq for Few<T> {}

impl<T: Hash> Hash for Few<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self[..].hash(state);
    }
}

impl<T> From<Vec<T>> for Few<T> {
    fn from(v: Vec<T>) -> Self {
        if v.is_empty() {
            Few::new()
        } else {
            Few(Repr::Many(v))
        }
    }
}

impl<T> From<Few<T>> for Vec<T> {
    fn from(l: Few<T>) -> Self {
        l.into_vec()
    }
}

impl<T> FromIterator<T> for Few<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut l = Few::new();
        l.extend(iter);
        l
    }
}

impl<T> Extend<T> for Few<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for x in iter {
            self.push(x);
        }
    }
}

impl<'l, T> IntoIterator for &'l Few<T> {
    type Item = &'l T;
    type IntoIter = std::slice::Iter<'l, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T> IntoIterator for Few<T> {
    type Item = T;
    type IntoIter = FewIntoIter<T>;
    fn into_iter(self) -> FewIntoIter<T> {
        FewIntoIter(match self.0 {
            Repr::Empty => IterRepr::Many(Vec::new().into_iter()),
            Repr::One(a) => IterRepr::One([a].into_iter()),
            Repr::Many(v) => IterRepr::Many(v.into_iter()),
        })
    }
}

/// The owning iterator of a [`Few`].
#[derive(Debug)]
pub struct FewIntoIter<T>(IterRepr<T>);

#[derive(Debug)]
enum IterRepr<T> {
    One(std::array::IntoIter<T, 1>),
    Many(std::vec::IntoIter<T>),
}

impl<T> Iterator for FewIntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        match &mut self.0 {
            IterRepr::One(i) => i.next(),
            IterRepr::Many(i) => i.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            IterRepr::One(i) => i.size_hint(),
            IterRepr::Many(i) => i.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

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

    #[test]
    fn few_behaves_like_a_vec_whatever_its_storage() {
        let mut l: Few<u32> = Few::new();
        assert!(l.is_empty());
        for i in 0..6 {
            l.push(i);
            assert_eq!(&l[..], &(0..=i).collect::<Vec<_>>()[..]);
            // equal to the same elements held on the heap, with the same hash
            let heap = Few::from((0..=i).collect::<Vec<_>>());
            assert_eq!(l, heap);
            let hash = |x: &Few<u32>| {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                x.hash(&mut h);
                h.finish()
            };
            assert_eq!(hash(&l), hash(&heap));
            assert_eq!(
                l.clone().into_iter().collect::<Vec<_>>(),
                l.clone().into_vec()
            );
            assert_eq!(l.clone().into_iter().size_hint(), (l.len(), Some(l.len())));
            assert_eq!(format!("{l:?}"), format!("{:?}", l.clone().into_vec()));
        }
        l[5] = 50;
        assert_eq!(l.clone().map(|x| x + 1).into_vec(), vec![1, 2, 3, 4, 5, 51]);
        let one: Few<u32> = [7].into_iter().collect();
        assert_eq!(one.map(|x| x * 2).into_vec(), vec![14]);
        assert_eq!(size_of::<Few<[u64; 4]>>(), size_of::<[u64; 4]>() + 8);
        let mut one: Few<u32> = Few::default();
        one.extend([9]);
        if let Some(x) = one.last_mut() {
            *x = 10;
        }
        assert_eq!(Vec::from(one), vec![10]);
        assert_eq!(Few::<u32>::from(Vec::new()), Few::new());
        assert_eq!(Few::<u32>::new().into_iter().next(), None);
    }

    #[test]
    fn few_is_covariant() {
        fn shorten<'s>(l: Few<&'static str>) -> Few<&'s str> {
            l
        }
        let owned = String::from("b");
        let short: Few<&str> = [owned.as_str()].into_iter().collect();
        assert_eq!(shorten(["b"].into_iter().collect()), short);
    }
}
