//! [`Secret<T>`]: a value that must never reach a log.

use core::fmt;

/// A password, token or key whose `Debug` output is redacted.
///
/// `Secret` has no `Display` implementation, so it cannot be interpolated into a log
/// line by accident, and its `Debug` output is always `Secret([REDACTED])`. Read the value
/// with [`Secret::expose`] at the single place that needs it (the credential check).
///
/// Equality compares in constant time for byte-like values ([`Secret::ct_eq`]), so a
/// comparison against a stored token does not leak the length of the matching prefix.
///
/// ```
/// use mail_wire::Secret;
///
/// let password = Secret::new(String::from("hunter2"));
/// assert_eq!(format!("{password:?}"), "Secret([REDACTED])");
/// assert_eq!(password.expose(), "hunter2");
/// ```
#[derive(Clone, Default)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a value.
    pub const fn new(value: T) -> Self {
        Secret(value)
    }

    /// Borrows the secret value. Keep the borrow short and never log it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the secret value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: AsRef<[u8]>> Secret<T> {
    /// Compares with `other` in time that depends only on the lengths, not on the contents.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        constant_time_eq(self.0.as_ref(), other)
    }
}

impl<T: AsRef<[u8]>> PartialEq for Secret<T> {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other.0.as_ref())
    }
}

impl<T: AsRef<[u8]>> Eq for Secret<T> {}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Secret(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

/// Compares two byte strings without an early exit on the first difference.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    core::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_even_nested() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Login {
            user: String,
            password: Secret<String>,
        }
        let login = Login {
            user: "alice".into(),
            password: Secret::new("correct horse".into()),
        };
        let printed = format!("{login:?} {login:#?}");
        assert!(!printed.contains("correct horse"), "{printed}");
        assert!(printed.contains("alice"));
        assert!(printed.contains("Secret([REDACTED])"));
    }

    #[test]
    fn equality_compares_contents() {
        let a = Secret::new(b"token".to_vec());
        assert_eq!(a, Secret::new(b"token".to_vec()));
        assert_ne!(a, Secret::new(b"tokem".to_vec()));
        assert_ne!(a, Secret::new(b"token2".to_vec()));
        assert!(a.ct_eq(b"token"));
        assert!(!a.ct_eq(b""));
    }

    #[test]
    fn into_inner_returns_value() {
        assert_eq!(Secret::from(7u32).into_inner(), 7);
    }
}
