//! A small JSON reader feeding serde: revision rows as JSON text (from JS
//! or a database dump) and the JSON text of a `partial_hashes` column.
//!
//! In wasm, reading 10,000 row objects field by field crosses the JS/wasm
//! boundary over 100,000 times; one `JSON.stringify` and this reader are
//! about four times faster, and far smaller than `serde_json`. Values still
//! go through the core's own `Deserialize` impls (one rule for their
//! shape). Numbers are integers only: rows hold no fractions, and leaving
//! float parsing out keeps the module small; callers that must accept more
//! fall back to a slower path with better messages.

use serde::de::value::{Error, MapDeserializer, SeqDeserializer};
use serde::de::{self, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;
use std::borrow::Cow;

/// A parsed JSON value. Keys and strings without escapes borrow from the
/// text.
pub(crate) enum Value<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Str(Cow<'a, str>),
    Arr(Vec<Value<'a>>),
    Obj(Vec<(Cow<'a, str>, Value<'a>)>),
}

/// Parses `text` as one JSON value; the error is the byte offset where
/// reading stopped.
pub(crate) fn parse(text: &str) -> Result<Value<'_>, usize> {
    let mut p = Parser { b: text.as_bytes(), i: 0, depth: 0 };
    let v = p.value();
    p.ws();
    match v {
        Ok(v) if p.i == p.b.len() => Ok(v),
        _ => Err(p.i),
    }
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn lit(&mut self, word: &[u8], v: Value<'a>) -> Result<Value<'a>, ()> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(())
        }
    }

    fn value(&mut self) -> Result<Value<'a>, ()> {
        self.ws();
        match *self.b.get(self.i).ok_or(())? {
            b'n' => self.lit(b"null", Value::Null),
            b't' => self.lit(b"true", Value::Bool(true)),
            b'f' => self.lit(b"false", Value::Bool(false)),
            b'"' => self.string().map(Value::Str),
            b'[' | b'{' if self.depth >= 64 => Err(()),
            b'[' => {
                self.depth += 1;
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                } else {
                    loop {
                        items.push(self.value()?);
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                break;
                            }
                            _ => return Err(()),
                        }
                    }
                }
                self.depth -= 1;
                Ok(Value::Arr(items))
            }
            b'{' => {
                self.depth += 1;
                self.i += 1;
                let mut fields = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        if self.b.get(self.i) != Some(&b'"') {
                            return Err(());
                        }
                        let k = self.string()?;
                        self.ws();
                        if self.b.get(self.i) != Some(&b':') {
                            return Err(());
                        }
                        self.i += 1;
                        fields.push((k, self.value()?));
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                break;
                            }
                            _ => return Err(()),
                        }
                    }
                }
                self.depth -= 1;
                Ok(Value::Obj(fields))
            }
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                self.i += 1;
                while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
                    self.i += 1;
                }
                if matches!(self.b.get(self.i), Some(b'.' | b'e' | b'E')) {
                    return Err(());
                }
                std::str::from_utf8(&self.b[start..self.i]).ok().and_then(|s| s.parse().ok()).map(Value::Int).ok_or(())
            }
            _ => Err(()),
        }
    }

    fn hex4(&mut self) -> Result<u32, ()> {
        let h = self.b.get(self.i..self.i + 4).ok_or(())?;
        self.i += 4;
        let s = std::str::from_utf8(h).map_err(|_| ())?;
        u32::from_str_radix(s, 16).map_err(|_| ())
    }

    fn string(&mut self) -> Result<Cow<'a, str>, ()> {
        self.i += 1; // the opening quote
        let start = self.i;
        while self.b.get(self.i).is_some_and(|&c| c != b'"' && c != b'\\' && c >= 0x20) {
            self.i += 1;
        }
        if self.b.get(self.i) == Some(&b'"') {
            let s = std::str::from_utf8(&self.b[start..self.i]).map_err(|_| ())?;
            self.i += 1;
            return Ok(Cow::Borrowed(s));
        }
        self.i = start;
        let mut out = String::new();
        loop {
            let start = self.i;
            while self.b.get(self.i).is_some_and(|&c| c != b'"' && c != b'\\' && c >= 0x20) {
                self.i += 1;
            }
            out.push_str(std::str::from_utf8(&self.b[start..self.i]).map_err(|_| ())?);
            match *self.b.get(self.i).ok_or(())? {
                b'"' => {
                    self.i += 1;
                    return Ok(Cow::Owned(out));
                }
                b'\\' => {
                    self.i += 1;
                    let e = *self.b.get(self.i).ok_or(())?;
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let mut c = self.hex4()?;
                            if (0xd800..0xdc00).contains(&c) && self.b[self.i..].starts_with(b"\\u") {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xdc00..0xe000).contains(&lo) {
                                    c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                                } else {
                                    self.i = save;
                                }
                            }
                            // A lone surrogate (JSON.stringify escapes them) cannot be
                            // a Rust string; U+FFFD as TextDecoder would give.
                            out.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                        }
                        _ => return Err(()),
                    }
                }
                _ => return Err(()),
            }
        }
    }
}

impl<'de, 'a> IntoDeserializer<'de, Error> for Value<'a> {
    type Deserializer = Value<'a>;
    fn into_deserializer(self) -> Value<'a> {
        self
    }
}

/// A key: visited as `&str`, so serde matches field names without a copy.
struct Key<'a>(Cow<'a, str>);

impl<'de, 'a> IntoDeserializer<'de, Error> for Key<'a> {
    type Deserializer = Key<'a>;
    fn into_deserializer(self) -> Key<'a> {
        self
    }
}

impl<'de> de::Deserializer<'de> for Key<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_str(&self.0)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> de::Deserializer<'de> for Value<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self {
            Value::Null => v.visit_unit(),
            Value::Bool(b) => v.visit_bool(b),
            Value::Int(n) => v.visit_i64(n),
            Value::Str(Cow::Borrowed(s)) => v.visit_str(s),
            Value::Str(Cow::Owned(s)) => v.visit_string(s),
            Value::Arr(items) => v.visit_seq(SeqDeserializer::new(items.into_iter())),
            Value::Obj(fields) => v.visit_map(MapDeserializer::new(fields.into_iter().map(|(k, x)| (Key(k), x)))),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self {
            Value::Null => v.visit_none(),
            other => v.visit_some(other),
        }
    }

    /// A string is a unit variant (`"succeeded"`), as serde_json reads it.
    /// Anything else fails with serde's "invalid type … expected enum".
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        match self {
            Value::Str(s) => v.visit_enum(de::value::CowStrDeserializer::<Error>::new(s)),
            other => other.deserialize_any(v),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Revision;
    use serde::Deserialize;

    #[test]
    fn strings_are_unit_variants() {
        use crate::registry::DeploymentStatus;
        let read = |t: &str| Vec::<DeploymentStatus>::deserialize(parse(t).unwrap());
        assert_eq!(
            read(r#"["succeeded","dry-run"]"#).unwrap(),
            [DeploymentStatus::Succeeded, DeploymentStatus::DryRun]
        );
        assert!(read(r#"["nope"]"#).unwrap_err().to_string().contains("unknown variant `nope`"));
        assert!(read("[1]").unwrap_err().to_string().contains("expected"));
    }

    fn rows(text: &str) -> Result<Vec<Revision>, ()> {
        Vec::<Revision>::deserialize(parse(text).map_err(|_| ())?).map_err(|_| ())
    }

    #[test]
    fn reads_rows_as_serde_would() {
        let r = rows(
            r#"[{"version":"1","description":"a","type":"applied","applied":2,"total":3,"error":"x\n\"y\" \u00e9\ud83d\ude00",
                "error_stmt":null,"partial_hashes":"[\"h1:a\"]","executedAt":"2024-01-01T00:00:00Z","extra":[1,{"k":true}]}]"#,
        )
        .unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].version.as_str(), r[0].applied, r[0].total, r[0].kind.0), ("1", 2, 3, 2));
        assert_eq!(r[0].error, "x\n\"y\" é😀");
        assert_eq!(r[0].error_stmt, "");
        assert_eq!(r[0].partial_hashes, Some(vec!["h1:a".to_string()]));
        assert!(rows("[]").unwrap().is_empty());
        for bad in ["", "[", "[{]", "[1.5]", r#"[{"applied":1e3}]"#, r#"["\x"]"#, "[] x", r#"[{"applied":-1}]"#] {
            assert!(rows(bad).is_err(), "{bad}");
        }
        assert!(parse(&"[".repeat(100)).is_err());
    }
}
