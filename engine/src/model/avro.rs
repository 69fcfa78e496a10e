//! Avro on Kafka: a record's JSON encoded by its Avro schema (see
//! [`super::schemas`]) in Avro's single-object encoding (`C3 01`, the
//! schema's 64-bit Rabin fingerprint, then the datum) or Confluent's wire
//! format (`00`, a schema registry's id for the schema, then the datum),
//! and decoded back to the same JSON, so every reader of JSON records (the
//! tick decoder and its checks) reads Avro ones too. Fields a record has
//! beyond its schema are not carried: Avro has no place for them.

use std::sync::LazyLock;

use apache_avro::{
    Schema,
    rabin::Rabin,
    reader::datum::GenericDatumReader,
    schema::{Name, NamesRef, ResolvedSchema},
    types::Value as Avro,
    writer::datum::GenericDatumWriter,
};
use digest::Digest;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};

use super::{schemas::Record, timestamp};

/// What starts every single-object encoded record.
const MAGIC: [u8; 2] = [0xC3, 0x01];
/// The magic and the 8-byte fingerprint.
const HEADER_LEN: usize = 10;

/// Why a record could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AvroError {
    /// The payload is not single-object encoded by this record's schema.
    #[error("an Avro record of another schema (fingerprint {found}; {record} is {expected})")]
    Fingerprint {
        /// The record kind expected.
        record: &'static str,
        /// Its schema's fingerprint, hex.
        expected: String,
        /// The payload's, hex.
        found: String,
    },
    /// The datum does not decode by the schema.
    #[error("malformed Avro datum: {0}")]
    Datum(String),
    /// A field's JSON value does not fit its Avro type.
    #[error("field {field}: {message}")]
    Field {
        /// The field.
        field: String,
        /// Why.
        message: String,
    },
}

/// Why a record read from Kafka is not one.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// An Avro record that does not decode.
    #[error(transparent)]
    Avro(#[from] AvroError),
    /// JSON that is not the record.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// One record kind's Avro schema, the header its records start with, and
/// a writer and reader of its datums (the schema resolved once).
pub struct AvroCodec {
    record: Record,
    schema: &'static Schema,
    /// The schema's named types, for the later uses that only name them.
    names: NamesRef<'static>,
    header: [u8; HEADER_LEN],
    writer: GenericDatumWriter<'static>,
    reader: GenericDatumReader<'static>,
}

/// The Avro schemas, parsed once, in [`Record::ALL`]'s order.
static SCHEMAS: LazyLock<Vec<Schema>> = LazyLock::new(|| {
    Record::ALL
        .into_iter()
        .map(|record| Schema::parse(&record.avro_schema()).expect("the derived schema is valid"))
        .collect()
});

static CODECS: LazyLock<Vec<AvroCodec>> = LazyLock::new(|| {
    Record::ALL
        .into_iter()
        .zip(SCHEMAS.iter())
        .map(|(record, schema)| {
            let fingerprint = Rabin::digest(canonical_form(schema).as_bytes());
            let mut header = [0u8; HEADER_LEN];
            header[..2].copy_from_slice(&MAGIC);
            header[2..].copy_from_slice(&fingerprint);
            AvroCodec {
                record,
                schema,
                names: ResolvedSchema::new(schema)
                    .expect("the derived schema resolves")
                    .get_names()
                    .clone(),
                header,
                writer: GenericDatumWriter::builder(schema)
                    .build()
                    .expect("the derived schema resolves"),
                reader: GenericDatumReader::builder(schema)
                    .build()
                    .expect("the derived schema resolves"),
            }
        })
        .collect()
});

/// The schema's Parsing Canonical Form, as the specification defines it
/// and Java's and Python's (fastavro) libraries make it: what its
/// fingerprint is taken of. apache-avro 0.22's own `canonical_form` leaves
/// a logical type's primitive as `{"type":"long"}` where the form has
/// `"long"` (the PRIMITIVES rule), which changes the fingerprint and makes
/// other readers refuse the records: those objects are collapsed here.
fn canonical_form(schema: &Schema) -> String {
    // Names and symbols cannot hold `{` or `"`, and the form has no docs:
    // these exact texts are a primitive in the object form, nothing else.
    const PRIMITIVES: [&str; 8] = [
        "null", "boolean", "int", "long", "float", "double", "bytes", "string",
    ];
    PRIMITIVES
        .iter()
        .fold(schema.canonical_form(), |form, primitive| {
            form.replace(
                &format!(r#"{{"type":"{primitive}"}}"#),
                &format!(r#""{primitive}""#),
            )
        })
}

/// Whether `payload` is single-object encoded Avro.
pub fn is_avro(payload: &[u8]) -> bool {
    payload.starts_with(&MAGIC)
}

/// What starts a record in Confluent's wire format.
const CONFLUENT_MAGIC: u8 = 0;

/// The schema id and datum of a record in Confluent's wire format (a JSON
/// record never starts with a zero byte).
pub fn confluent_framed(payload: &[u8]) -> Option<(u32, &[u8])> {
    match payload {
        [CONFLUENT_MAGIC, a, b, c, d, datum @ ..] => {
            Some((u32::from_be_bytes([*a, *b, *c, *d]), datum))
        }
        _ => None,
    }
}

impl Record {
    /// A record of this kind from a Kafka payload, JSON or Avro.
    ///
    /// # Errors
    /// [`RecordError`] saying why it is not one.
    pub fn read<T: DeserializeOwned>(self, payload: &[u8]) -> Result<T, RecordError> {
        if is_avro(payload) {
            Ok(serde_json::from_value(self.avro().decode(payload)?)?)
        } else {
            Ok(serde_json::from_slice(payload)?)
        }
    }

    /// This kind's Avro codec.
    pub fn avro(self) -> &'static AvroCodec {
        CODECS
            .iter()
            .find(|codec| codec.record == self)
            .expect("a codec per record kind")
    }
}

impl AvroCodec {
    /// The record's JSON (as the JSON encoding carries it), single-object
    /// encoded.
    ///
    /// # Errors
    /// [`AvroError::Field`] naming a field whose value its type cannot hold.
    pub fn encode(&self, json: &Value) -> Result<Vec<u8>, AvroError> {
        self.encode_after(&self.header, json)
    }

    /// The record's JSON in Confluent's wire format, by the schema a
    /// registry knows as `id`.
    ///
    /// # Errors
    /// As [`AvroCodec::encode`].
    pub fn encode_confluent(&self, id: u32, json: &Value) -> Result<Vec<u8>, AvroError> {
        let mut prefix = vec![CONFLUENT_MAGIC];
        prefix.extend_from_slice(&id.to_be_bytes());
        self.encode_after(&prefix, json)
    }

    /// The schema, as its `.avsc` file holds it (docs and logical types
    /// included): what a registry is given.
    pub fn schema_text(&self) -> String {
        self.record.avro_schema().to_string()
    }

    fn encode_after(&self, prefix: &[u8], json: &Value) -> Result<Vec<u8>, AvroError> {
        let value = to_avro(self.schema, &self.names, json, self.record.name())?;
        let mut out = prefix.to_vec();
        self.writer
            .write_value_ref(&mut out, &value)
            .map_err(|e| AvroError::Datum(e.to_string()))?;
        Ok(out)
    }

    /// The JSON of a Confluent-framed record's datum written with `writer`
    /// (the schema its id names), read as this kind through Avro's schema
    /// resolution.
    ///
    /// # Errors
    /// [`AvroError::Datum`] when the writer's schema does not resolve to
    /// this kind's or the bytes do not decode.
    pub fn decode_written_with(&self, writer: &Schema, datum: &[u8]) -> Result<Value, AvroError> {
        let reader = GenericDatumReader::builder(writer)
            .reader_schema(self.schema)
            .build()
            .map_err(|e| AvroError::Datum(e.to_string()))?;
        read_whole(&reader, datum)
    }

    /// The JSON of a single-object encoded record of this kind.
    ///
    /// # Errors
    /// [`AvroError::Fingerprint`] for another schema's record,
    /// [`AvroError::Datum`] for bytes that do not decode.
    pub fn decode(&self, payload: &[u8]) -> Result<Value, AvroError> {
        let header = payload.get(..HEADER_LEN).unwrap_or(payload);
        if header != self.header {
            let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
            return Err(AvroError::Fingerprint {
                record: self.record.name(),
                expected: hex(&self.header[2..]),
                found: hex(header.get(2..).unwrap_or_default()),
            });
        }
        read_whole(&self.reader, &payload[HEADER_LEN..])
    }
}

/// The JSON of the one datum `datum` holds, read by `reader`; bytes left
/// over make it malformed.
fn read_whole(reader: &GenericDatumReader<'_>, datum: &[u8]) -> Result<Value, AvroError> {
    let mut rest = datum;
    let value = reader
        .read_value(&mut rest)
        .map_err(|e| AvroError::Datum(e.to_string()))?;
    if !rest.is_empty() {
        return Err(AvroError::Datum(format!(
            "{} bytes after the record",
            rest.len()
        )));
    }
    to_json(value)
}

/// `json` as the Avro value of `schema`, whose named types are `names`;
/// `field` names it in errors.
fn to_avro(
    schema: &Schema,
    names: &NamesRef<'_>,
    json: &Value,
    field: &str,
) -> Result<Avro, AvroError> {
    let wrong = |expected: &str| AvroError::Field {
        field: field.to_owned(),
        message: format!("expected {expected}, got {json}"),
    };
    Ok(match schema {
        Schema::Record(record) => {
            let object = json.as_object().ok_or_else(|| wrong("an object"))?;
            let fields = record
                .fields
                .iter()
                .map(|f| {
                    let value = object.get(&f.name).unwrap_or(&Value::Null);
                    Ok((f.name.clone(), to_avro(&f.schema, names, value, &f.name)?))
                })
                .collect::<Result<_, AvroError>>()?;
            Avro::Record(fields)
        }
        Schema::Union(union) => {
            let variants = union.variants();
            let null = variants.iter().position(|s| *s == Schema::Null);
            match (json, null) {
                (Value::Null, Some(index)) => Avro::Union(index as u32, Box::new(Avro::Null)),
                _ => {
                    let index = variants
                        .iter()
                        .position(|s| *s != Schema::Null)
                        .ok_or_else(|| wrong("null"))?;
                    let value = to_avro(&variants[index], names, json, field)?;
                    Avro::Union(index as u32, Box::new(value))
                }
            }
        }
        Schema::TimestampMicros => {
            let text = json.as_str().ok_or_else(|| wrong("an RFC 3339 time"))?;
            let at = timestamp::parse(text).map_err(|_| wrong("an RFC 3339 time"))?;
            Avro::TimestampMicros(at.timestamp_micros())
        }
        Schema::Long => Avro::Long(json.as_i64().ok_or_else(|| wrong("an integer"))?),
        Schema::Double => Avro::Double(json.as_f64().ok_or_else(|| wrong("a number"))?),
        Schema::Boolean => Avro::Boolean(json.as_bool().ok_or_else(|| wrong("a boolean"))?),
        Schema::String => Avro::String(json.as_str().ok_or_else(|| wrong("a string"))?.into()),
        Schema::Array(array) => Avro::Array(
            json.as_array()
                .ok_or_else(|| wrong("an array"))?
                .iter()
                .map(|item| to_avro(&array.items, names, item, field))
                .collect::<Result<_, _>>()?,
        ),
        Schema::Ref { name } => {
            let named = names.get(name).ok_or_else(|| wrong(name.as_ref()))?;
            to_avro(named, names, json, field)?
        }
        Schema::Enum(e) => {
            let symbol = json.as_str().ok_or_else(|| wrong("a string"))?;
            let index = e
                .symbols
                .iter()
                .position(|s| s == symbol)
                .ok_or_else(|| wrong(&format!("one of {}", e.symbols.join(", "))))?;
            Avro::Enum(index as u32, symbol.to_owned())
        }
        other => {
            let name: Option<&Name> = other.name();
            unreachable!("the derived schemas have no {name:?} {other:?}")
        }
    })
}

/// An Avro value as the JSON encoding carries it: null fields left out,
/// times as RFC 3339 with microseconds.
fn to_json(value: Avro) -> Result<Value, AvroError> {
    Ok(match value {
        Avro::Record(fields) => {
            let mut object = Map::new();
            for (name, value) in fields {
                let value = to_json(value)?;
                if !value.is_null() {
                    object.insert(name, value);
                }
            }
            Value::Object(object)
        }
        Avro::Union(_, value) => to_json(*value)?,
        Avro::Null => Value::Null,
        Avro::TimestampMicros(micros) => {
            let at = chrono::DateTime::from_timestamp_micros(micros)
                .ok_or_else(|| AvroError::Datum(format!("time {micros} µs is out of range")))?;
            timestamp::to_string(&at).into()
        }
        Avro::Long(n) => n.into(),
        Avro::Double(x) => Number::from_f64(x)
            .map(Value::Number)
            .ok_or_else(|| AvroError::Datum(format!("{x} is not a JSON number")))?,
        Avro::Boolean(b) => b.into(),
        Avro::String(s) | Avro::Enum(_, s) => s.into(),
        Avro::Array(items) => items
            .into_iter()
            .map(to_json)
            .collect::<Result<Vec<_>, _>>()?
            .into(),
        other => return Err(AvroError::Datum(format!("unexpected {other:?}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        BookLevel, EncodedTick, EventKind, EventLevel, MarketEvent, OrderBook, Symbol, Tick,
        TopOfBook, TradeCondition,
    };

    fn tick() -> Tick {
        let mut tick = Tick::trade(
            Symbol::new("BRK.B").unwrap(),
            412.37,
            300,
            timestamp::parse("2026-12-03T14:30:00.123456Z").unwrap(),
        );
        tick.bid = Some(412.36);
        tick.ask = Some(412.38);
        tick.seq = Some(77);
        tick.condition = Some(TradeCondition::OpeningAuction);
        tick
    }

    #[test]
    fn a_tick_travels_as_avro_and_decodes_to_the_same_json() {
        let encoded = EncodedTick::new(tick());
        let json: Value = serde_json::from_str(encoded.json()).unwrap();
        let avro = Record::Tick.avro().encode(&json).unwrap();
        assert!(is_avro(&avro));
        assert!(
            avro.len() < encoded.json().len() / 2,
            "{} bytes",
            avro.len()
        );
        let back = Record::Tick.avro().decode(&avro).unwrap();
        assert_eq!(back, json);
        let decoded = EncodedTick::decode(&serde_json::to_vec(&back).unwrap()).unwrap();
        assert_eq!(decoded.tick(), &tick());
    }

    #[test]
    fn the_fingerprint_is_of_the_specifications_canonical_form() {
        let schema = Schema::parse(&Record::Tick.avro_schema()).unwrap();
        let form = canonical_form(&schema);
        assert!(
            form.contains(r#"{"name":"timestamp","type":"long"}"#),
            "{form}"
        );
        assert!(!form.contains(r#"{"type":"long"}"#), "{form}");
        // What fastavro 1.13 computes for docs/api/schemas/Tick.avsc (its
        // little-endian bytes, as the header carries them).
        let header = Record::Tick.avro().header;
        assert_eq!(
            header[2..],
            [0x01, 0x2f, 0x85, 0xf2, 0xc2, 0xe6, 0xe7, 0x87]
        );
    }

    #[test]
    fn a_confluent_record_reads_through_the_writers_schema() {
        let json = serde_json::to_value(tick()).unwrap();
        let codec = Record::Tick.avro();
        let framed = codec.encode_confluent(42, &json).unwrap();
        let (id, datum) = confluent_framed(&framed).unwrap();
        assert_eq!(id, 42);
        let writer = Schema::parse_str(&codec.schema_text()).unwrap();
        assert_eq!(codec.decode_written_with(&writer, datum).unwrap(), json);
        // An older writer without the optional fields resolves too.
        let older = Schema::parse_str(
            r#"{"type":"record","name":"Tick","namespace":"io.tickstream","fields":[
                {"name":"symbol","type":"string"},{"name":"price","type":"double"},
                {"name":"volume","type":"long"},
                {"name":"timestamp","type":{"type":"long","logicalType":"timestamp-micros"}}]}"#,
        )
        .unwrap();
        let value = apache_avro::types::Value::Record(vec![
            ("symbol".into(), Avro::String("AAPL".into())),
            ("price".into(), Avro::Double(1.5)),
            ("volume".into(), Avro::Long(3)),
            (
                "timestamp".into(),
                Avro::TimestampMicros(1_700_000_000_000_000),
            ),
        ]);
        let datum = GenericDatumWriter::builder(&older).build().unwrap();
        let mut bytes = Vec::new();
        datum.write_value_ref(&mut bytes, &value).unwrap();
        let read = codec.decode_written_with(&older, &bytes).unwrap();
        assert_eq!(read["symbol"], "AAPL");
        assert!(read.get("bid").is_none());
        assert!(confluent_framed(b"{}").is_none());
    }

    #[test]
    fn events_and_metrics_travel_too_and_absent_fields_stay_absent() {
        let event = MarketEvent {
            scenario: Some(3),
            ..MarketEvent::new(
                EventKind::Halt,
                EventLevel::Warning,
                None,
                "halted".into(),
                timestamp::parse("2026-12-03T15:00:00Z").unwrap(),
            )
        };
        let json = serde_json::to_value(&event).unwrap();
        let codec = Record::MarketEvent.avro();
        let back = codec.decode(&codec.encode(&json).unwrap()).unwrap();
        assert_eq!(back, json);
        assert!(back.get("symbol").is_none());
    }

    #[test]
    fn a_book_record_travels_with_its_levels_and_a_quote_too() {
        let at = timestamp::parse("2026-12-03T15:00:00.000001Z").unwrap();
        let level = |price, size| BookLevel { price, size };
        let book = OrderBook {
            symbol: Symbol::new("AAPL").unwrap(),
            seq: 513,
            snapshot: true,
            bids: vec![level(189.35, 300), level(189.34, 0)],
            asks: vec![level(189.37, 100)],
            timestamp: at,
        };
        let json = serde_json::to_value(&book).unwrap();
        let codec = Record::OrderBook.avro();
        let back = codec.decode(&codec.encode(&json).unwrap()).unwrap();
        assert_eq!(serde_json::from_value::<OrderBook>(back).unwrap(), book);
        let mut wrong = json.clone();
        wrong["asks"][0]["size"] = "many".into();
        let error = codec.encode(&wrong).unwrap_err();
        assert!(error.to_string().starts_with("field size:"), "{error}");
        let quote = TopOfBook {
            symbol: Symbol::new("AAPL").unwrap(),
            bid: 189.35,
            bid_size: 300,
            ask: 189.37,
            ask_size: 100,
            seq: 513,
            timestamp: at,
        };
        let json = serde_json::to_value(&quote).unwrap();
        let codec = Record::TopOfBook.avro();
        assert_eq!(codec.decode(&codec.encode(&json).unwrap()).unwrap(), json);
    }

    #[test]
    fn another_schema_or_broken_bytes_are_refused_with_a_reason() {
        let json = serde_json::to_value(tick()).unwrap();
        let avro = Record::Tick.avro().encode(&json).unwrap();
        let error = Record::MarketEvent.avro().decode(&avro).unwrap_err();
        assert!(
            matches!(
                error,
                AvroError::Fingerprint {
                    record: "MarketEvent",
                    ..
                }
            ),
            "{error}"
        );
        assert!(matches!(
            Record::Tick.avro().decode(&avro[..avro.len() - 3]),
            Err(AvroError::Datum(_))
        ));
        assert!(matches!(
            Record::Tick.avro().decode(&avro[..4]),
            Err(AvroError::Fingerprint { .. })
        ));
        let mut longer = avro.clone();
        longer.push(0);
        assert!(matches!(
            Record::Tick.avro().decode(&longer),
            Err(AvroError::Datum(_))
        ));
        let mut wrong = json.clone();
        wrong["volume"] = "lots".into();
        let error = Record::Tick.avro().encode(&wrong).unwrap_err();
        assert!(error.to_string().starts_with("field volume:"), "{error}");
    }
}
