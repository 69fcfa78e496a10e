//! Where settings come from besides the file: `TICKSTREAM_<SECTION>__<KEY>`
//! environment variables and command-line flags. Each is a [`Layer`] of
//! keys over the file (later layers win), every entry checked when it is
//! set, so an error names the variable or flag it came from.
//!
//! A value arrives as text (`42`, `max`, `24h`, `["2026-12-31"]`) and is
//! read as a TOML literal where the key accepts one, else as a string: the
//! same deserializers as the file then parse it.

use serde::{
    Deserialize,
    de::{self, Visitor},
    forward_to_deserialize_any,
};

use toml::{Table, Value};

use super::{Config, ConfigError, KafkaConfig};

/// Environment variables of the form `TICKSTREAM_<SECTION>__<KEY>`.
pub const ENV_PREFIX: &str = "TICKSTREAM_";
/// Separates a variable's section and (nested) keys.
const ENV_SEPARATOR: &str = "__";

/// Keys set by one source, in TOML's shape.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    table: Table,
}

impl Layer {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the dotted `key` (e.g. `sim.seed`) from `text`, when given;
    /// `origin` (a flag or variable) names it in errors.
    ///
    /// # Errors
    /// [`ConfigError::Setting`] when the key does not exist or `text` is
    /// not a value it takes.
    pub fn set(&mut self, key: &str, text: Option<&str>, origin: &str) -> Result<(), ConfigError> {
        let Some(text) = text else { return Ok(()) };
        let path: Vec<&str> = key.split('.').collect();
        let value = typed(&path, text).map_err(|message| ConfigError::Setting {
            origin: origin.to_owned(),
            key: key.to_owned(),
            message,
        })?;
        insert(&mut self.table, &path, value);
        Ok(())
    }

    /// Sets the librdkafka property `name` (e.g. `security.protocol`), as
    /// `-X name=value` does; names are checked with the rest of the config.
    pub fn set_property(&mut self, name: &str, value: &str) {
        insert(
            &mut self.table,
            &["kafka", "properties", name],
            Value::String(value.to_owned()),
        );
    }

    /// The layer of `TICKSTREAM_<SECTION>__<KEY>` variables among `vars`
    /// (nested keys by more `__`: `TICKSTREAM_SIM__CORRELATION__MARKET`).
    /// In the `KAFKA` section a key that is not a typed setting is a
    /// librdkafka property, `_` standing for `.`
    /// (`TICKSTREAM_KAFKA__SASL_USERNAME` → `sasl.username`). Variables
    /// without `__` are not settings of a section and are left alone.
    ///
    /// # Errors
    /// [`ConfigError::Setting`] naming the first variable whose section or
    /// key does not exist, or whose value the key does not take.
    pub fn from_env(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let sections = fields_of::<Config>();
        let kafka_keys = fields_of::<KafkaConfig>();
        let mut layer = Self::new();
        let mut vars: Vec<_> = vars.into_iter().collect();
        vars.sort();
        for (name, text) in vars {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let Some((section, key)) = rest.split_once(ENV_SEPARATOR) else {
                continue;
            };
            let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
            let unknown = |message: String| ConfigError::Setting {
                origin: name.clone(),
                key: format!("{section}.{}", key.replace(ENV_SEPARATOR, ".")),
                message,
            };
            if !sections.contains(&section.as_str()) {
                return Err(unknown(format!(
                    "no section {section:?} (sections: {})",
                    sections.join(", ")
                )));
            }
            if section == "kafka" && !kafka_keys.contains(&key.as_str()) {
                layer.set_property(&key.replace('_', "."), &text);
                continue;
            }
            let key = format!("{section}.{}", key.replace(ENV_SEPARATOR, "."));
            layer.set(&key, Some(&text), &name)?;
        }
        Ok(layer)
    }

    /// Lays this layer's keys over `base`: tables merge key by key, any
    /// other value (an array of symbols, say) replaces the one below.
    pub(super) fn apply_to(&self, base: &mut Table) {
        merge(base, &self.table);
    }
}

fn merge(base: &mut Table, over: &Table) {
    for (key, value) in over {
        match (base.get_mut(key), value) {
            (Some(Value::Table(below)), Value::Table(above)) => merge(below, above),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

fn insert(table: &mut Table, path: &[&str], value: Value) {
    let (last, parents) = path.split_last().expect("a key has a name");
    let mut table = table;
    for parent in parents {
        let entry = table
            .entry((*parent).to_owned())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        table = entry.as_table_mut().expect("made a table");
    }
    table.insert((*last).to_owned(), value);
}

/// `text` as the value `path` takes: a TOML literal where it parses and
/// fits, else the string itself; the first candidate's error when neither fits.
fn typed(path: &[&str], text: &str) -> Result<Value, String> {
    let literal = toml::from_str::<Table>(&format!("v = {text}"))
        .ok()
        .and_then(|mut t| t.remove("v"));
    let candidates = literal.into_iter().chain([Value::String(text.to_owned())]);
    let mut first_error = None;
    for candidate in candidates {
        let mut probe = Table::new();
        insert(&mut probe, path, candidate.clone());
        match Value::Table(probe).try_into::<Config>() {
            Ok(_) => return Ok(candidate),
            Err(error) => {
                first_error.get_or_insert_with(|| error.message().trim_end().to_owned());
            }
        }
    }
    Err(first_error.expect("there is always a string candidate"))
}

/// The field names of a struct deriving `Deserialize`: serde hands them to
/// `deserialize_struct`, which this deserializer records and refuses.
fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    #[derive(Debug)]
    struct Fields(&'static [&'static str]);
    impl std::fmt::Display for Fields {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("fields recorded")
        }
    }
    impl std::error::Error for Fields {}
    impl de::Error for Fields {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Fields(&[])
        }
    }
    struct Recorder;
    impl<'de> de::Deserializer<'de> for Recorder {
        type Error = Fields;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fields> {
            Err(Fields(&[]))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Fields> {
            Err(Fields(fields))
        }
        forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    match T::deserialize(Recorder) {
        Ok(_) => &[],
        Err(Fields(fields)) => fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Result<Layer, ConfigError> {
        Layer::from_env(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
    }

    #[test]
    fn sections_and_their_keys_come_from_the_types() {
        assert_eq!(
            fields_of::<Config>(),
            [
                "gateway",
                "store",
                "sim",
                "log",
                "kafka",
                "supervision",
                "logging",
                "trading"
            ]
        );
        assert!(fields_of::<KafkaConfig>().contains(&"brokers"));
    }

    #[test]
    fn every_key_is_settable_from_the_environment() {
        let layer = env(&[
            ("TICKSTREAM_LOG__PARTITIONS", "4"),
            ("TICKSTREAM_STORE__RETENTION", "2h"),
            ("TICKSTREAM_SIM__RATE", "max"),
            ("TICKSTREAM_SIM__SPEED", "10"),
            ("TICKSTREAM_SIM__CORRELATION__MARKET", "0.3"),
            ("TICKSTREAM_SIM__HOLIDAYS", "[\"2026-12-31\"]"),
            ("TICKSTREAM_LOG__TOPIC_PREFIX", "123"),
            ("TICKSTREAM_GATEWAY__LISTEN", "0.0.0.0:9000"),
            ("TICKSTREAM_KAFKA__BROKERS", "k1:9092"),
            ("TICKSTREAM_KAFKA__SASL_USERNAME", "alice"),
            ("TICKSTREAM_PORT", "tcp://10.0.0.1:8080"),
        ])
        .unwrap();
        let c = Config::load(None, &[layer]).unwrap();
        assert_eq!(c.log.partitions, 4);
        assert_eq!(c.store.retention, std::time::Duration::from_secs(7200));
        assert_eq!(c.sim.rate, crate::sim::Rate::Max);
        assert_eq!(c.sim.speed, crate::sim::Speed::Times(10.0));
        assert_eq!(c.sim.correlation.market, 0.3);
        assert_eq!(c.sim.holidays.len(), 1);
        assert_eq!(c.log.topic_prefix, "123");
        assert_eq!(c.gateway.listen.port(), 9000);
        assert_eq!(c.kafka.brokers, "k1:9092");
        assert_eq!(c.kafka.properties["sasl.username"].to_string(), "alice");
    }

    #[test]
    fn a_misspelt_variable_is_named() {
        let err = env(&[("TICKSTREAM_LOG__PARTITONS", "4")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("TICKSTREAM_LOG__PARTITONS") && err.contains("partitions"),
            "{err}"
        );
        let err = env(&[("TICKSTREAM_LOGG__PARTITIONS", "4")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("TICKSTREAM_LOGG__PARTITIONS") && err.contains("sections"),
            "{err}"
        );
        let err = env(&[("TICKSTREAM_LOG__PARTITIONS", "many")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("log.partitions") && err.contains("many"),
            "{err}"
        );
    }

    #[test]
    fn file_then_environment_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        std::fs::write(
            &path,
            "[sim]\nseed = 1\nrate = 5\n[sim.correlation]\nsector = 0.3\n",
        )
        .unwrap();
        let environment = env(&[
            ("TICKSTREAM_SIM__SEED", "2"),
            ("TICKSTREAM_SIM__CORRELATION__MARKET", "0.1"),
        ])
        .unwrap();
        let mut flags = Layer::new();
        flags.set("sim.seed", Some("3"), "--seed").unwrap();
        let c = Config::load(Some(&path), &[environment.clone(), flags]).unwrap();
        assert_eq!(c.sim.seed, 3);
        assert_eq!(c.sim.rate, crate::sim::Rate::PerSecond(5));
        assert_eq!(
            (c.sim.correlation.market, c.sim.correlation.sector),
            (0.1, 0.3)
        );
        assert_eq!(
            Config::load(Some(&path), &[environment]).unwrap().sim.seed,
            2
        );
        let err = Layer::new()
            .set("sim.seed", Some("x"), "--seed")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("--seed (sim.seed)"), "{err}");
    }
}
