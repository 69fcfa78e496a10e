//! A Confluent-compatible schema registry (Confluent's own, Karapace,
//! Redpanda's, Apicurio's compatibility API): Avro producers register
//! Tickstream's schemas under `<topic>-value` (the topic-name strategy) and
//! frame records with the id it gives (Confluent's wire format); bridges
//! look up a record's writer schema by its id, once per id, and read the
//! record as Tickstream's schema through Avro's schema resolution.

use std::{collections::HashMap, sync::Arc};

use apache_avro::Schema;
use parking_lot::Mutex;
use serde_json::json;

use crate::{
    config::KafkaConfig,
    model::{avro::AvroError, schemas::Record},
};

/// The registry API's media type.
const MEDIA_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// Why the registry did not give what was asked.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The registry could not be reached, or answered with an error.
    #[error("schema registry {url}: {message}")]
    Unavailable {
        /// What was asked.
        url: String,
        /// Why it failed.
        message: String,
    },
    /// The schema a record's id names does not parse.
    #[error("schema id {id}: {message}")]
    Schema {
        /// The id.
        id: u32,
        /// Why.
        message: String,
    },
    /// The record does not decode by its writer's schema.
    #[error(transparent)]
    Avro(#[from] AvroError),
}

/// A registry at one URL, with the schemas it has been asked for.
pub struct Registry {
    base: String,
    /// HTTP basic credentials: user and password.
    auth: Option<(String, String)>,
    http: reqwest::Client,
    writers: Mutex<HashMap<u32, Arc<Schema>>>,
}

impl Registry {
    /// The registry `config` names (`kafka.schema_registry`, with
    /// `kafka.schema_registry_auth`), if any.
    pub fn configured(config: &KafkaConfig) -> Option<Self> {
        (!config.schema_registry.is_empty())
            .then(|| Self::new(&config.schema_registry, &config.schema_registry_auth))
    }

    /// The registry at `url` (e.g. `http://registry:8081`), with
    /// `user:password` basic credentials when `auth` is not empty.
    pub fn new(url: &str, auth: &str) -> Self {
        Self {
            base: url.trim_end_matches('/').to_owned(),
            auth: auth
                .split_once(':')
                .map(|(user, password)| (user.to_owned(), password.to_owned())),
            http: reqwest::Client::new(),
            writers: Mutex::default(),
        }
    }

    /// Registers `record`'s schema for `topic`'s values (`<topic>-value`);
    /// the id to frame its records with (the same id again for a schema
    /// the subject already has).
    ///
    /// # Errors
    /// [`RegistryError::Unavailable`] when the registry cannot be reached or
    /// refuses the schema (say, as incompatible with the subject's).
    pub async fn register(&self, topic: &str, record: Record) -> Result<u32, RegistryError> {
        let url = format!("{}/subjects/{topic}-value/versions", self.base);
        let body = json!({ "schema": record.avro().schema_text(), "schemaType": "AVRO" });
        let answer = self.call(self.http.post(&url).json(&body), &url).await?;
        answer["id"]
            .as_u64()
            .and_then(|id| u32::try_from(id).ok())
            .ok_or_else(|| RegistryError::Unavailable {
                url,
                message: format!("no schema id in {answer}"),
            })
    }

    /// The JSON of a Confluent-framed `record` of kind `kind` whose writer's
    /// schema is `id`.
    ///
    /// # Errors
    /// [`RegistryError`]: the registry does not know the id, or the record
    /// does not read as `kind`.
    pub async fn decode(
        &self,
        kind: Record,
        id: u32,
        datum: &[u8],
    ) -> Result<serde_json::Value, RegistryError> {
        let writer = self.writer(id).await?;
        Ok(kind.avro().decode_written_with(&writer, datum)?)
    }

    async fn writer(&self, id: u32) -> Result<Arc<Schema>, RegistryError> {
        if let Some(schema) = self.writers.lock().get(&id) {
            return Ok(schema.clone());
        }
        let url = format!("{}/schemas/ids/{id}", self.base);
        let answer = self.call(self.http.get(&url), &url).await?;
        let text = answer["schema"].as_str().unwrap_or_default();
        let schema = Schema::parse_str(text).map_err(|e| RegistryError::Schema {
            id,
            message: e.to_string(),
        })?;
        let schema = Arc::new(schema);
        self.writers.lock().insert(id, schema.clone());
        Ok(schema)
    }

    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<serde_json::Value, RegistryError> {
        let failed = |message: String| RegistryError::Unavailable {
            url: url.to_owned(),
            message,
        };
        let request = match &self.auth {
            Some((user, password)) => request.basic_auth(user, Some(password)),
            None => request,
        };
        let response = request
            .header(reqwest::header::ACCEPT, MEDIA_TYPE)
            .header(reqwest::header::CONTENT_TYPE, MEDIA_TYPE)
            .timeout(std::time::Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| failed(e.to_string()))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| failed(e.to_string()))?;
        if !status.is_success() {
            return Err(failed(format!(
                "{status}: {}",
                body.chars().take(200).collect::<String>()
            )));
        }
        serde_json::from_str(&body).map_err(|e| failed(format!("not JSON: {e}")))
    }
}
