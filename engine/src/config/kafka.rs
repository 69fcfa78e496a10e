//! `[kafka]`: the cluster's typed settings and the librdkafka properties
//! passed through unchanged, with secrets kept out of `Debug` and logs.

use std::{collections::BTreeMap, fmt};

use serde::{Deserialize, Serialize, ser::SerializeMap};

/// `[kafka]`: typed settings, plus `[kafka.properties]`, librdkafka
/// properties passed through unchanged (SASL, SSL, timeouts…). Secrets are
/// redacted in `Debug` output, logs and when serialized (the effective
/// configuration the gateway shows): only the engine reads them.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Bootstrap servers (`bootstrap.servers`), e.g. `"k1:9092,k2:9092"`.
    pub brokers: String,
    /// Replication factor of the topics Tickstream creates.
    pub replication_factor: i32,
    /// Where a bridge starts reading.
    pub start: StartPosition,
    /// Where `stored` starts a partition the store never held: `latest` or
    /// `earliest`.
    pub start_fallback: StartPosition,
    /// How producers encode records: `json` or `avro` (single-object
    /// encoding, or Confluent's wire format with `schema_registry`).
    /// Bridges read every one, whatever this says.
    pub format: Format,
    /// A Confluent-compatible schema registry's URL, e.g.
    /// `http://registry:8081`: Avro producers register their schemas there
    /// and write Confluent's wire format; bridges look up the schemas of
    /// such records there. Empty: none.
    pub schema_registry: String,
    /// The registry's HTTP basic credentials, `user:password` (Confluent
    /// clients' `basic.auth.user.info`); empty: none. A secret: redacted
    /// wherever the configuration is shown.
    #[serde(serialize_with = "serialize_secret")]
    pub schema_registry_auth: String,
    /// librdkafka properties, e.g. `"security.protocol" = "SASL_SSL"`.
    #[serde(serialize_with = "serialize_redacted")]
    pub properties: BTreeMap<String, PropertyValue>,
}

/// A librdkafka property value: written as a TOML string, number or boolean,
/// passed on as text.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PropertyValue {
    /// `"lz4"`
    Text(String),
    /// `5`
    Integer(i64),
    /// `0.5`
    Float(f64),
    /// `true`
    Bool(bool),
}

impl fmt::Display for PropertyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PropertyValue::Text(s) => f.write_str(s),
            PropertyValue::Integer(n) => write!(f, "{n}"),
            PropertyValue::Float(x) => write!(f, "{x}"),
            PropertyValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// How records are encoded on Kafka.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JSON, as `docs/api/schemas/*.json` describe.
    #[default]
    Json,
    /// Avro's single-object encoding, by `docs/api/schemas/*.avsc`.
    Avro,
}

/// Where a bridge starts reading each partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartPosition {
    /// New messages only.
    Latest,
    /// Everything the cluster retains.
    Earliest,
    /// The first message at or after this time.
    Time(chrono::DateTime<chrono::Utc>),
    /// Where this bridge's store left off (`kafka.start_fallback` for
    /// partitions it never read), so a restarted bridge misses nothing.
    Stored,
}

impl std::str::FromStr for StartPosition {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "latest" => Ok(Self::Latest),
            "earliest" => Ok(Self::Earliest),
            "stored" => Ok(Self::Stored),
            _ => crate::model::timestamp::parse(s)
                .map(Self::Time)
                .map_err(|_| {
                    format!(
                        "invalid start {s:?}: expected latest, earliest, stored or an RFC 3339 time"
                    )
                }),
        }
    }
}

impl<'de> Deserialize<'de> for StartPosition {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for StartPosition {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Latest => serializer.serialize_str("latest"),
            Self::Earliest => serializer.serialize_str("earliest"),
            Self::Stored => serializer.serialize_str("stored"),
            Self::Time(at) => serializer.serialize_str(&crate::model::timestamp::to_string(at)),
        }
    }
}

/// The properties with each secret's value replaced by `***`.
fn serialize_redacted<S: serde::Serializer>(
    properties: &BTreeMap<String, PropertyValue>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(properties.len()))?;
    for (name, value) in properties {
        if is_secret(name) {
            map.serialize_entry(name, REDACTED)?;
        } else {
            map.serialize_entry(name, value)?;
        }
    }
    map.end()
}

/// A secret text as it is shown: `***`, or empty when unset.
fn shown_secret(secret: &str) -> &'static str {
    if secret.is_empty() { "" } else { REDACTED }
}

fn serialize_secret<S: serde::Serializer>(secret: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(shown_secret(secret))
}

/// What a secret is shown as.
const REDACTED: &str = "***";

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: String::new(),
            replication_factor: 1,
            start: StartPosition::Stored,
            start_fallback: StartPosition::Latest,
            format: Format::Json,
            schema_registry: String::new(),
            schema_registry_auth: String::new(),
            properties: BTreeMap::new(),
        }
    }
}

/// Whether a librdkafka property holds a secret (`sasl.password`,
/// `ssl.key.password`, `ssl.key.pem`, `ssl.keystore.password`,
/// `sasl.oauthbearer.client.secret`, `sasl.oauthbearer.config`, …): never
/// written to a settings file or a log. The one list, for the engine and
/// the desktop.
pub fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "password",
        "secret",
        "token",
        "credential",
        "key.pem",
        "private.key",
        "oauthbearer.config",
    ]
    .iter()
    .any(|word| key.contains(word))
}

/// Whether a librdkafka property makes the client run a command or load
/// code (`sasl.kerberos.kinit.cmd`, `plugin.library.paths`,
/// `ssl.engine.location`): never taken from a web view.
pub fn runs_code(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["kinit.cmd", "plugin.library.paths", "ssl.engine.location"]
        .iter()
        .any(|word| key.contains(word))
}

impl KafkaConfig {
    /// Whether Kafka is configured.
    pub fn enabled(&self) -> bool {
        !self.brokers.trim().is_empty()
    }

    /// Every property passed to librdkafka: `defaults`, then
    /// `bootstrap.servers`, then `[kafka.properties]` (which win).
    pub fn client_properties(&self, defaults: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut all: BTreeMap<String, String> = defaults
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        all.insert("bootstrap.servers".into(), self.brokers.clone());
        for (k, v) in &self.properties {
            all.insert(k.clone(), v.to_string());
        }
        all
    }

    /// `client_properties` with secrets replaced by `***`, for logs.
    pub fn redacted(properties: &BTreeMap<String, String>) -> String {
        properties
            .iter()
            .map(|(k, v)| format!("{k}={}", if is_secret(k) { REDACTED } else { v }))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let properties: BTreeMap<&str, String> = self
            .properties
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str(),
                    if is_secret(k) {
                        REDACTED.into()
                    } else {
                        v.to_string()
                    },
                )
            })
            .collect();
        f.debug_struct("KafkaConfig")
            .field("brokers", &self.brokers)
            .field("replication_factor", &self.replication_factor)
            .field("start", &self.start)
            .field("start_fallback", &self.start_fallback)
            .field("format", &self.format)
            .field("schema_registry", &self.schema_registry)
            .field(
                "schema_registry_auth",
                &shown_secret(&self.schema_registry_auth),
            )
            .field("properties", &properties)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_code_running_properties_are_recognised() {
        for secret in [
            "sasl.password",
            "ssl.key.password",
            "ssl.key.pem",
            "ssl.keystore.password",
            "sasl.oauthbearer.client.secret",
            "sasl.oauthbearer.config",
            "SASL.PASSWORD",
        ] {
            assert!(is_secret(secret), "{secret}");
        }
        for plain in ["sasl.username", "security.protocol", "ssl.ca.location"] {
            assert!(!is_secret(plain), "{plain}");
        }
        for dangerous in [
            "sasl.kerberos.kinit.cmd",
            "plugin.library.paths",
            "ssl.engine.location",
        ] {
            assert!(runs_code(dangerous), "{dangerous}");
        }
        assert!(!runs_code("sasl.kerberos.service.name"));
    }
}
