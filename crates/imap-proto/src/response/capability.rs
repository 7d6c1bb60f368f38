//! [`Capability`]: one entry of a CAPABILITY response or response code, or of ENABLED.

use std::borrow::Cow;

use crate::core::Atom;
use crate::encode::{Encode, Writer};
use crate::error::ValidationError;
use crate::parse::{PResult, Reader};

/// `capability` (RFC 3501 / RFC 9051 section 9: `("AUTH=" auth-type) / atom`), with the
/// capabilities of the extensions this crate implements recognised. Matching is
/// case-insensitive; encoding writes the names as their RFCs spell them.
///
/// A name this crate does not know is kept as [`Capability::Other`]. Build values with
/// [`Capability::from_atom`] (or [`Capability::new`]), which recognise the known names: an
/// `Other` holding a known name would parse back as the known variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability<'a> {
    /// `IMAP4rev1` (RFC 3501).
    Imap4Rev1,
    /// `IMAP4rev2` (RFC 9051).
    Imap4Rev2,
    /// `AUTH=<mechanism>`: a SASL mechanism the server offers.
    Auth(Atom<'a>),
    /// `LOGINDISABLED`.
    LoginDisabled,
    /// `STARTTLS`.
    StartTls,
    /// `IDLE` (RFC 2177).
    Idle,
    /// `LITERAL+` (RFC 7888).
    LiteralPlus,
    /// `LITERAL-` (RFC 7888).
    LiteralMinus,
    /// `UIDPLUS` (RFC 4315).
    UidPlus,
    /// `MOVE` (RFC 6851).
    Move,
    /// `ENABLE` (RFC 5161).
    Enable,
    /// `NAMESPACE` (RFC 2342).
    Namespace,
    /// `ID` (RFC 2971).
    Id,
    /// `UNSELECT` (RFC 3691).
    Unselect,
    /// `SASL-IR` (RFC 4959).
    SaslIr,
    /// `SPECIAL-USE` (RFC 6154).
    SpecialUse,
    /// `CREATE-SPECIAL-USE` (RFC 6154).
    CreateSpecialUse,
    /// `LIST-EXTENDED` (RFC 5258).
    ListExtended,
    /// `LIST-STATUS` (RFC 5819).
    ListStatus,
    /// `CHILDREN` (RFC 3348).
    Children,
    /// `ESEARCH` (RFC 4731).
    Esearch,
    /// `SEARCHRES` (RFC 5182).
    SearchRes,
    /// `CONDSTORE` (RFC 7162).
    CondStore,
    /// `QRESYNC` (RFC 7162).
    QResync,
    /// `BINARY` (RFC 3516).
    Binary,
    /// `QUOTA` (RFC 9208).
    Quota,
    /// `QUOTA=RES-<resource>` (RFC 9208): the resource name after `RES-`.
    QuotaRes(Atom<'a>),
    /// `QUOTASET` (RFC 9208).
    QuotaSet,
    /// `STATUS=SIZE` (RFC 8438).
    StatusSize,
    /// `APPENDLIMIT` or `APPENDLIMIT=<n>` (RFC 7889).
    AppendLimit(Option<u32>),
    /// `MULTIAPPEND` (RFC 3502).
    MultiAppend,
    /// `SORT` (RFC 5256).
    Sort,
    /// `THREAD=<algorithm>` (RFC 5256).
    Thread(Atom<'a>),
    /// `UTF8=ACCEPT` (RFC 6855).
    Utf8Accept,
    /// `UTF8=ONLY` (RFC 6855).
    Utf8Only,
    /// `COMPRESS=<algorithm>` (RFC 4978), e.g. `DEFLATE`.
    Compress(Atom<'a>),
    /// Any other capability, kept as sent.
    Other(Atom<'a>),
}

/// The capabilities without a parameter, with their wire names.
const SIMPLE: &[(&str, Capability<'static>)] = &[
    ("IMAP4rev1", Capability::Imap4Rev1),
    ("IMAP4rev2", Capability::Imap4Rev2),
    ("LOGINDISABLED", Capability::LoginDisabled),
    ("STARTTLS", Capability::StartTls),
    ("IDLE", Capability::Idle),
    ("LITERAL+", Capability::LiteralPlus),
    ("LITERAL-", Capability::LiteralMinus),
    ("UIDPLUS", Capability::UidPlus),
    ("MOVE", Capability::Move),
    ("ENABLE", Capability::Enable),
    ("NAMESPACE", Capability::Namespace),
    ("ID", Capability::Id),
    ("UNSELECT", Capability::Unselect),
    ("SASL-IR", Capability::SaslIr),
    ("SPECIAL-USE", Capability::SpecialUse),
    ("CREATE-SPECIAL-USE", Capability::CreateSpecialUse),
    ("LIST-EXTENDED", Capability::ListExtended),
    ("LIST-STATUS", Capability::ListStatus),
    ("CHILDREN", Capability::Children),
    ("ESEARCH", Capability::Esearch),
    ("SEARCHRES", Capability::SearchRes),
    ("CONDSTORE", Capability::CondStore),
    ("QRESYNC", Capability::QResync),
    ("BINARY", Capability::Binary),
    ("QUOTA", Capability::Quota),
    ("QUOTASET", Capability::QuotaSet),
    ("STATUS=SIZE", Capability::StatusSize),
    ("APPENDLIMIT", Capability::AppendLimit(None)),
    ("MULTIAPPEND", Capability::MultiAppend),
    ("SORT", Capability::Sort),
    ("UTF8=ACCEPT", Capability::Utf8Accept),
    ("UTF8=ONLY", Capability::Utf8Only),
];

/// `s` without the case-insensitive `prefix`, when it has it and something follows.
fn strip_prefix_ci<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    let tail = s.get(prefix.len()..)?;
    (head.eq_ignore_ascii_case(prefix) && !tail.is_empty()).then_some(tail)
}

impl<'a> Capability<'a> {
    /// The capability an atom names: a known one, or [`Capability::Other`].
    pub fn from_atom(atom: Atom<'a>) -> Capability<'a> {
        match Self::classify(atom.as_str()) {
            Some(c) => c.into_static(),
            None => Capability::Other(atom),
        }
    }

    /// The capability named by `name` (an atom: no space, parenthesis, brace, `%`, `*`, `"`,
    /// `\`, `]` or control character).
    pub fn new(name: impl Into<Cow<'a, str>>) -> Result<Capability<'a>, ValidationError> {
        Ok(Self::from_atom(Atom::new(name)?))
    }

    /// The known capability `s` names, borrowing its parameter.
    fn classify<'s>(s: &'s str) -> Option<Capability<'s>> {
        if let Some((_, c)) = SIMPLE.iter().find(|(n, _)| n.eq_ignore_ascii_case(s)) {
            return Some(c.clone());
        }
        let param = |prefix: &str| strip_prefix_ci(s, prefix).and_then(|p| Atom::new(p).ok());
        if let Some(m) = param("AUTH=") {
            return Some(Capability::Auth(m));
        }
        if let Some(r) = param("QUOTA=RES-") {
            return Some(Capability::QuotaRes(r));
        }
        if let Some(t) = param("THREAD=") {
            return Some(Capability::Thread(t));
        }
        if let Some(c) = param("COMPRESS=") {
            return Some(Capability::Compress(c));
        }
        let n = strip_prefix_ci(s, "APPENDLIMIT=")?;
        if n.bytes().all(|b| b.is_ascii_digit()) {
            return n.parse().ok().map(|n| Capability::AppendLimit(Some(n)));
        }
        None
    }

    /// `capability`.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Capability<'a>> {
        let s = r.atom()?;
        Ok(match Self::classify(s) {
            Some(c) => c,
            None => Capability::Other(Atom::new(s).map_err(|_| r.error("capability"))?),
        })
    }

    /// The value with its borrowed parts copied.
    pub fn into_static(self) -> Capability<'static> {
        match self {
            Capability::Auth(a) => Capability::Auth(a.into_static()),
            Capability::QuotaRes(a) => Capability::QuotaRes(a.into_static()),
            Capability::Thread(a) => Capability::Thread(a.into_static()),
            Capability::Compress(a) => Capability::Compress(a.into_static()),
            Capability::Other(a) => Capability::Other(a.into_static()),
            Capability::Imap4Rev1 => Capability::Imap4Rev1,
            Capability::Imap4Rev2 => Capability::Imap4Rev2,
            Capability::LoginDisabled => Capability::LoginDisabled,
            Capability::StartTls => Capability::StartTls,
            Capability::Idle => Capability::Idle,
            Capability::LiteralPlus => Capability::LiteralPlus,
            Capability::LiteralMinus => Capability::LiteralMinus,
            Capability::UidPlus => Capability::UidPlus,
            Capability::Move => Capability::Move,
            Capability::Enable => Capability::Enable,
            Capability::Namespace => Capability::Namespace,
            Capability::Id => Capability::Id,
            Capability::Unselect => Capability::Unselect,
            Capability::SaslIr => Capability::SaslIr,
            Capability::SpecialUse => Capability::SpecialUse,
            Capability::CreateSpecialUse => Capability::CreateSpecialUse,
            Capability::ListExtended => Capability::ListExtended,
            Capability::ListStatus => Capability::ListStatus,
            Capability::Children => Capability::Children,
            Capability::Esearch => Capability::Esearch,
            Capability::SearchRes => Capability::SearchRes,
            Capability::CondStore => Capability::CondStore,
            Capability::QResync => Capability::QResync,
            Capability::Binary => Capability::Binary,
            Capability::Quota => Capability::Quota,
            Capability::QuotaSet => Capability::QuotaSet,
            Capability::StatusSize => Capability::StatusSize,
            Capability::AppendLimit(n) => Capability::AppendLimit(n),
            Capability::MultiAppend => Capability::MultiAppend,
            Capability::Sort => Capability::Sort,
            Capability::Utf8Accept => Capability::Utf8Accept,
            Capability::Utf8Only => Capability::Utf8Only,
        }
    }
}

impl Encode for Capability<'_> {
    fn encode(&self, w: &mut Writer) {
        let (prefix, atom) = match self {
            Capability::Auth(a) => ("AUTH=", a),
            Capability::QuotaRes(a) => ("QUOTA=RES-", a),
            Capability::Thread(a) => ("THREAD=", a),
            Capability::Compress(a) => ("COMPRESS=", a),
            Capability::Other(a) => ("", a),
            Capability::AppendLimit(Some(n)) => {
                w.raw(b"APPENDLIMIT=");
                w.number(u64::from(*n));
                return;
            }
            simple => {
                if let Some((name, _)) = SIMPLE.iter().find(|(_, c)| c == simple) {
                    w.raw(name.as_bytes());
                }
                return;
            }
        };
        w.raw(prefix.as_bytes());
        w.raw(atom.as_str().as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Quirks;

    fn parse(s: &str) -> Capability<'_> {
        let mut r = Reader::new(s.as_bytes(), Quirks::STRICT);
        let c = Capability::read(&mut r).unwrap();
        assert!(r.is_empty());
        c
    }

    #[test]
    fn known_answers() {
        for (wire, want, out) in [
            ("imap4REV1", Capability::Imap4Rev1, "IMAP4rev1"),
            ("IMAP4rev2", Capability::Imap4Rev2, "IMAP4rev2"),
            (
                "auth=plain",
                Capability::Auth(Atom::new("plain").unwrap()),
                "AUTH=plain",
            ),
            ("LITERAL-", Capability::LiteralMinus, "LITERAL-"),
            (
                "QUOTA=RES-STORAGE",
                Capability::QuotaRes(Atom::new("STORAGE").unwrap()),
                "QUOTA=RES-STORAGE",
            ),
            ("APPENDLIMIT", Capability::AppendLimit(None), "APPENDLIMIT"),
            (
                "APPENDLIMIT=35651584",
                Capability::AppendLimit(Some(35_651_584)),
                "APPENDLIMIT=35651584",
            ),
            (
                "THREAD=REFERENCES",
                Capability::Thread(Atom::new("REFERENCES").unwrap()),
                "THREAD=REFERENCES",
            ),
            (
                "COMPRESS=DEFLATE",
                Capability::Compress(Atom::new("DEFLATE").unwrap()),
                "COMPRESS=DEFLATE",
            ),
            ("UTF8=ACCEPT", Capability::Utf8Accept, "UTF8=ACCEPT"),
            (
                "AUTH=",
                Capability::Other(Atom::new("AUTH=").unwrap()),
                "AUTH=",
            ),
            (
                "APPENDLIMIT=99999999999",
                Capability::Other(Atom::new("APPENDLIMIT=99999999999").unwrap()),
                "APPENDLIMIT=99999999999",
            ),
            (
                "XAPPLEPUSHSERVICE",
                Capability::Other(Atom::new("XAPPLEPUSHSERVICE").unwrap()),
                "XAPPLEPUSHSERVICE",
            ),
        ] {
            let c = parse(wire);
            assert_eq!(c, want, "{wire}");
            assert_eq!(c.to_bytes(), out.as_bytes());
            assert_eq!(parse(out), c);
        }
    }

    #[test]
    fn constructors_classify() {
        assert_eq!(Capability::new("idle").unwrap(), Capability::Idle);
        assert_eq!(
            Capability::new(String::from("AUTH=XOAUTH2")).unwrap(),
            Capability::Auth(Atom::new("XOAUTH2").unwrap())
        );
        assert!(Capability::new("A B").is_err());
        assert!(Capability::new("").is_err());
    }
}
