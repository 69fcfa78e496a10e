//! `Symbol`: a validated ticker symbol, cheap to clone.

use std::{fmt, sync::Arc};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest symbol accepted, in bytes.
pub const MAX_SYMBOL_LEN: usize = 16;

/// A ticker symbol such as `AAPL` or `BRK.B`.
///
/// Valid symbols are 1 to [`MAX_SYMBOL_LEN`] characters, start with an
/// uppercase ASCII letter, a digit or `^` (indices) and continue with
/// uppercase letters, digits, `.`, `-`, `/` or `^`. Cloning shares the text.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol(Arc<str>);

/// Why a string is not a valid [`Symbol`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SymbolError {
    /// The string is empty.
    #[error("symbol is empty")]
    Empty,
    /// The string is longer than [`MAX_SYMBOL_LEN`].
    #[error("symbol {0:?} is longer than {MAX_SYMBOL_LEN} characters")]
    TooLong(String),
    /// The string has a character symbols may not contain.
    #[error(
        "symbol {0:?} has invalid characters (allowed: A-Z, 0-9, '.', '-', '/', '^', starting with A-Z, 0-9 or '^')"
    )]
    Invalid(String),
}

impl Symbol {
    /// Parses and validates a symbol.
    ///
    /// # Errors
    /// Returns a [`SymbolError`] saying what is wrong with `text`.
    pub fn new(text: &str) -> Result<Self, SymbolError> {
        if text.is_empty() {
            return Err(SymbolError::Empty);
        }
        if text.len() > MAX_SYMBOL_LEN {
            return Err(SymbolError::TooLong(truncate_for_message(text)));
        }
        let mut bytes = text.bytes();
        let first_ok = bytes
            .next()
            .is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'^');
        let rest_ok = bytes.all(|b| {
            b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'/' | b'^')
        });
        if first_ok && rest_ok {
            Ok(Self(Arc::from(text)))
        } else {
            Err(SymbolError::Invalid(truncate_for_message(text)))
        }
    }

    /// The symbol's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Keeps error messages short when a client sends a huge string.
fn truncate_for_message(text: &str) -> String {
    text.chars().take(32).collect()
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::str::FromStr for Symbol {
    type Err = SymbolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl AsRef<str> for Symbol {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Symbol {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl Serialize for Symbol {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// The pattern [`Symbol::new`] checks, for the API's schemas.
pub const SYMBOL_PATTERN: &str = r"^[A-Z0-9^][A-Z0-9.\-/^]*$";

impl utoipa::PartialSchema for Symbol {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("A ticker symbol such as `AAPL` or `BRK.B`."))
            .min_length(Some(1))
            .max_length(Some(MAX_SYMBOL_LEN))
            .pattern(Some(SYMBOL_PATTERN))
            .into()
    }
}

impl utoipa::ToSchema for Symbol {}

async_graphql::scalar!(
    Symbol,
    "Symbol",
    "A ticker symbol such as `AAPL` or `BRK.B`: 1 to 16 of A-Z, 0-9, `.`, `-`, `/`, `^`, starting with A-Z, 0-9 or `^`."
);

impl<'de> Deserialize<'de> for Symbol {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Symbol::new(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_symbols() {
        for s in ["AAPL", "BRK.B", "BF-B", "^GSPC", "7203", "A"] {
            assert_eq!(Symbol::new(s).unwrap().as_str(), s);
        }
    }

    #[test]
    fn rejects_bad_symbols() {
        assert_eq!(Symbol::new(""), Err(SymbolError::Empty));
        assert!(matches!(Symbol::new("aapl"), Err(SymbolError::Invalid(_))));
        assert!(matches!(Symbol::new(".X"), Err(SymbolError::Invalid(_))));
        assert!(matches!(Symbol::new("A B"), Err(SymbolError::Invalid(_))));
        assert!(matches!(
            Symbol::new("ABCDEFGHIJKLMNOPQ"),
            Err(SymbolError::TooLong(_))
        ));
    }

    #[test]
    fn serde_validates() {
        let s: Symbol = serde_json::from_str("\"MSFT\"").unwrap();
        assert_eq!(s.as_str(), "MSFT");
        assert!(serde_json::from_str::<Symbol>("\"msft\"").is_err());
    }
}
