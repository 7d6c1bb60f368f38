//! A small, read-only view of an X.509 certificate: subject, issuer, validity and DNS names.
//!
//! This is not a verifier (rustls and webpki verify); it exists so that certificate loading can
//! reject an expired certificate with a clear message and so that tools can print what a server
//! presented. It reads the DER structure of RFC 5280 section 4.1 with a minimal parser.

use rustls_pki_types::{CertificateDer, UnixTime};

use crate::error::TlsError;

/// What this crate reads from a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// The subject distinguished name, as `CN=..., O=...` in encoding order.
    pub subject: String,
    /// The issuer distinguished name, in the same format.
    pub issuer: String,
    /// Start of the validity period, in seconds since the Unix epoch (may be negative).
    pub not_before: i64,
    /// End of the validity period, in seconds since the Unix epoch.
    pub not_after: i64,
    /// The `dNSName` entries of the subject alternative name extension.
    pub dns_names: Vec<String>,
}

/// Where a time lies relative to a certificate's validity period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// `not_before <= now <= not_after`.
    Valid,
    /// `now < not_before`.
    NotYetValid,
    /// `now > not_after`.
    Expired,
}

impl CertificateInfo {
    /// Parse a DER certificate.
    pub fn parse(cert: &CertificateDer<'_>) -> Result<Self, TlsError> {
        parse(cert.as_ref()).map_err(|what| TlsError::MalformedCertificate(what.to_string()))
    }

    /// Where `now` lies relative to the validity period.
    pub fn validity_at(&self, now: UnixTime) -> Validity {
        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        if now < self.not_before {
            Validity::NotYetValid
        } else if now > self.not_after {
            Validity::Expired
        } else {
            Validity::Valid
        }
    }

    /// `not_before` formatted as `YYYY-MM-DD HH:MM:SS UTC`.
    pub fn not_before_utc(&self) -> String {
        format_utc(self.not_before)
    }

    /// `not_after` formatted as `YYYY-MM-DD HH:MM:SS UTC`.
    pub fn not_after_utc(&self) -> String {
        format_utc(self.not_after)
    }
}

/// Format seconds since the Unix epoch as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn format_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

// Howard Hinnant's algorithms, proleptic Gregorian calendar.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

type R<T> = Result<T, &'static str>;

struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(rest: &'a [u8]) -> Self {
        Self { rest }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    fn any(&mut self) -> R<(u8, &'a [u8])> {
        let [tag, len0, rest @ ..] = self.rest else {
            return Err("truncated TLV");
        };
        if tag & 0x1f == 0x1f {
            return Err("multi-byte tags are not used in certificates");
        }
        let (len, rest) = if *len0 < 0x80 {
            (usize::from(*len0), rest)
        } else {
            let n = usize::from(len0 & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return Err("bad length");
            }
            let len = rest[..n]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (len, &rest[n..])
        };
        if rest.len() < len {
            return Err("truncated value");
        }
        let (value, rest) = rest.split_at(len);
        self.rest = rest;
        Ok((*tag, value))
    }

    fn expect(&mut self, tag: u8, what: &'static str) -> R<&'a [u8]> {
        match self.any()? {
            (t, v) if t == tag => Ok(v),
            _ => Err(what),
        }
    }
}

fn parse(der: &[u8]) -> R<CertificateInfo> {
    let cert = Der::new(der).expect(0x30, "certificate is not a SEQUENCE")?;
    let tbs = Der::new(cert).expect(0x30, "tbsCertificate is not a SEQUENCE")?;
    let mut tbs = Der::new(tbs);
    if tbs.peek_tag() == Some(0xa0) {
        tbs.any()?; // version
    }
    tbs.expect(0x02, "serialNumber is not an INTEGER")?;
    tbs.expect(0x30, "signature is not a SEQUENCE")?;
    let issuer = name(tbs.expect(0x30, "issuer is not a SEQUENCE")?)?;
    let mut validity = Der::new(tbs.expect(0x30, "validity is not a SEQUENCE")?);
    let not_before = time(validity.any()?)?;
    let not_after = time(validity.any()?)?;
    let subject = name(tbs.expect(0x30, "subject is not a SEQUENCE")?)?;
    tbs.expect(0x30, "subjectPublicKeyInfo is not a SEQUENCE")?;
    let mut dns_names = Vec::new();
    while !tbs.is_empty() {
        let (tag, value) = tbs.any()?;
        if tag == 0xa3 {
            let exts = Der::new(value).expect(0x30, "extensions is not a SEQUENCE")?;
            let mut exts = Der::new(exts);
            while !exts.is_empty() {
                let mut ext = Der::new(exts.expect(0x30, "extension is not a SEQUENCE")?);
                let oid = ext.expect(0x06, "extension id is not an OID")?;
                if ext.peek_tag() == Some(0x01) {
                    ext.any()?; // critical
                }
                let value = ext.expect(0x04, "extension value is not an OCTET STRING")?;
                if oid == [0x55, 0x1d, 0x11] {
                    let mut names = Der::new(Der::new(value).expect(0x30, "bad subjectAltName")?);
                    while !names.is_empty() {
                        let (tag, v) = names.any()?;
                        if tag == 0x82 {
                            dns_names.push(String::from_utf8_lossy(v).into_owned());
                        }
                    }
                }
            }
        }
    }
    Ok(CertificateInfo {
        subject,
        issuer,
        not_before,
        not_after,
        dns_names,
    })
}

fn two(b: &[u8]) -> R<i64> {
    match b {
        [a @ b'0'..=b'9', c @ b'0'..=b'9'] => Ok(i64::from(a - b'0') * 10 + i64::from(c - b'0')),
        _ => Err("bad digit in time"),
    }
}

fn time((tag, v): (u8, &[u8])) -> R<i64> {
    let (year, rest) = match tag {
        // UTCTime YYMMDDHHMMSSZ; RFC 5280 4.1.2.5.1: YY >= 50 means 19YY.
        0x17 if v.len() == 13 => {
            let yy = two(&v[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &v[2..])
        }
        // GeneralizedTime YYYYMMDDHHMMSSZ.
        0x18 if v.len() == 15 => (two(&v[..2])? * 100 + two(&v[2..4])?, &v[4..]),
        _ => return Err("validity time is neither UTCTime nor GeneralizedTime"),
    };
    if rest.last() != Some(&b'Z') {
        return Err("validity time is not in UTC");
    }
    let (mo, d, h, mi, s) = (
        two(&rest[0..2])?,
        two(&rest[2..4])?,
        two(&rest[4..6])?,
        two(&rest[6..8])?,
        two(&rest[8..10])?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return Err("validity time out of range");
    }
    Ok(days_from_civil(year, mo, d) * 86_400 + h * 3600 + mi * 60 + s)
}

fn name(rdns: &[u8]) -> R<String> {
    let mut out = String::new();
    let mut rdns = Der::new(rdns);
    while !rdns.is_empty() {
        let mut set = Der::new(rdns.expect(0x31, "RDN is not a SET")?);
        while !set.is_empty() {
            let mut atv = Der::new(set.expect(0x30, "attribute is not a SEQUENCE")?);
            let oid = atv.expect(0x06, "attribute type is not an OID")?;
            let (tag, value) = atv.any()?;
            if !out.is_empty() {
                out.push_str(", ");
            }
            out.push_str(&attribute_name(oid));
            out.push('=');
            out.push_str(&string_value(tag, value));
        }
    }
    Ok(out)
}

fn attribute_name(oid: &[u8]) -> String {
    match oid {
        [0x55, 0x04, 0x03] => "CN".into(),
        [0x55, 0x04, 0x06] => "C".into(),
        [0x55, 0x04, 0x07] => "L".into(),
        [0x55, 0x04, 0x08] => "ST".into(),
        [0x55, 0x04, 0x0a] => "O".into(),
        [0x55, 0x04, 0x0b] => "OU".into(),
        [0x55, 0x04, 0x05] => "serialNumber".into(),
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "emailAddress".into(),
        _ => dotted_oid(oid),
    }
}

fn dotted_oid(oid: &[u8]) -> String {
    let mut parts = Vec::new();
    let mut acc: u64 = 0;
    for (i, b) in oid.iter().enumerate() {
        acc = (acc << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if parts.is_empty() && i < oid.len() {
                let (a, b) = if acc < 40 {
                    (0, acc)
                } else if acc < 80 {
                    (1, acc - 40)
                } else {
                    (2, acc - 80)
                };
                parts.push(a.to_string());
                parts.push(b.to_string());
            } else {
                parts.push(acc.to_string());
            }
            acc = 0;
        }
    }
    parts.join(".")
}

fn string_value(tag: u8, v: &[u8]) -> String {
    match tag {
        // BMPString: UTF-16BE.
        0x1e => {
            let units: Vec<u16> = v
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        // TeletexString: treat as Latin-1.
        0x14 => v.iter().map(|&b| char::from(b)).collect(),
        _ => String::from_utf8_lossy(v).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for days in [-800_000, -1, 0, 1, 11_016, 19_000, 60_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400 + 3661), "2000-02-29 01:01:01 UTC");
        assert_eq!(format_utc(-1), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn times() {
        assert_eq!(time((0x17, b"700101000000Z")), Ok(0));
        assert_eq!(time((0x17, b"491231235959Z")), Ok(2_524_607_999));
        assert_eq!(time((0x18, b"99991231235959Z")), Ok(253_402_300_799));
        assert!(time((0x17, b"700101000000+")).is_err());
        assert!(time((0x17, b"701301000000Z")).is_err());
        assert!(time((0x04, b"700101000000Z")).is_err());
    }

    #[test]
    fn oids() {
        assert_eq!(dotted_oid(&[0x55, 0x04, 0x2a]), "2.5.4.42");
        assert_eq!(
            dotted_oid(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d]),
            "1.2.840.113549"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for input in [
            &b""[..],
            b"\x30",
            b"\x30\x85\x00",
            b"\x30\x02\x30\x00",
            b"\x30\x81\xff",
        ] {
            assert!(CertificateInfo::parse(&CertificateDer::from(input.to_vec())).is_err());
        }
    }
}
