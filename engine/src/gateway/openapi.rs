//! The API's description, built with its routes: the OpenAPI 3.1 document
//! at `/api/v1/openapi.json` (every route, parameter, body, status and the
//! scope each needs) and the AsyncAPI 3.0 document of the WebSocket
//! protocol at `/api/v1/asyncapi.json`.

use std::sync::Arc;

use axum::{
    Extension, Router,
    body::Bytes,
    http::{Method, header},
    response::IntoResponse,
};
use serde_json::{Map, Value, json};
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::{
        ContentBuilder, Ref, Response, ResponseBuilder,
        path::Operation,
        security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
    },
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::scope_for;
use crate::model::{
    ErrorBody, MarketEvent, Scope, SystemMetric, Tick,
    protocol::{ClientMsg, Ping, ServerMsg, Subscribe, Unsubscribe},
};

/// The document's fixed parts: what it is, its tags, its security schemes
/// and the schemas only the WebSocket protocol uses.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tickstream",
        description = "Real-time market data: REST under `/api/v1`, the WebSocket stream at `/ws` \
            (described by the AsyncAPI document at `/api/v1/asyncapi.json`), Prometheus metrics \
            at `/metrics`. When the gateway has API keys, every route but `/healthz` and \
            `/readyz` needs one, sent as `Authorization: Bearer KEY` (on `/ws` also \
            `?access_token=KEY`), whose scope (`read` < `write` < `admin`) covers the \
            operation's: each operation's `security` names the scope it needs."
    ),
    tags(
        (name = "market", description = "Symbols, tick history, candles, indicators and volume"),
        (name = "stream", description = "The WebSocket stream"),
        (name = "graphql", description = "GraphQL: queries, mutations and subscriptions (`graphql-transport-ws`)"),
        (name = "alerts", description = "Alert rules"),
        (name = "workspace", description = "Watchlists and portfolios"),
        (name = "simulator", description = "Market scenarios injected into the simulator"),
        (name = "admin", description = "API keys and the audit log"),
        (name = "operations", description = "Metrics, health and readiness"),
        (name = "meta", description = "This document and the stream's"),
    ),
    components(schemas(ClientMsg, ServerMsg, Subscribe, Unsubscribe, Ping, Tick, MarketEvent, SystemMetric)),
    modifiers(&Security)
)]
struct Base;

/// The security schemes: an API key as a bearer token, or on `/ws` as the
/// `access_token` query parameter.
struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key: `Authorization: Bearer KEY`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            QUERY,
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Query(
                utoipa::openapi::security::ApiKeyValue::with_description(
                    "access_token",
                    "An API key in the query, for WebSocket clients that cannot set headers (`/ws` only)",
                ),
            )),
        );
    }
}

const BEARER: &str = "api_key";
const QUERY: &str = "access_token";

/// The two documents, serialized once.
#[derive(Clone)]
struct Documents {
    openapi: Bytes,
    asyncapi: Bytes,
}

/// The router of `routes` and of the two documents, which describe them.
pub fn documented<S: Clone + Send + Sync + 'static>(routes: OpenApiRouter<S>) -> Router<S> {
    let (router, mut api) = OpenApiRouter::with_openapi(Base::openapi())
        .routes(routes!(openapi_json))
        .routes(routes!(asyncapi_json))
        .merge(routes)
        .split_for_parts();
    guard(&mut api);
    let mut openapi = serde_json::to_value(&api).expect("an OpenAPI document is JSON");
    flatten_client_frames(&mut openapi["components"]["schemas"]);
    let asyncapi = asyncapi(&openapi);
    let documents = Documents {
        openapi: Bytes::from(openapi.to_string()),
        asyncapi: Bytes::from(asyncapi.to_string()),
    };
    router.layer(Extension(Arc::new(documents)))
}

#[utoipa::path(get, path = "/api/v1/openapi.json", summary = "This document", tag = "meta",
    responses((status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json")))]
async fn openapi_json(Extension(documents): Extension<Arc<Documents>>) -> impl IntoResponse {
    json_reply(documents.openapi.clone())
}

#[utoipa::path(get, path = "/api/v1/asyncapi.json", summary = "The WebSocket protocol's document", tag = "meta",
    responses((status = 200, description = "The WebSocket protocol at `/ws` (AsyncAPI 3.0)", content_type = "application/json")))]
async fn asyncapi_json(Extension(documents): Extension<Arc<Documents>>) -> impl IntoResponse {
    json_reply(documents.asyncapi.clone())
}

fn json_reply(body: Bytes) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], body)
}

/// Adds to every operation the scope it needs (from the guard's own
/// [`scope_for`]) and the refusals the guard may answer with.
fn guard(api: &mut utoipa::openapi::OpenApi) {
    for (path, item) in &mut api.paths.paths {
        let operations = [
            (Method::GET, &mut item.get),
            (Method::PUT, &mut item.put),
            (Method::POST, &mut item.post),
            (Method::DELETE, &mut item.delete),
        ];
        for (method, operation) in operations {
            let (Some(operation), Some(scope)) = (operation.as_mut(), scope_for(&method, path))
            else {
                continue;
            };
            guard_operation(operation, &method, path, scope);
        }
    }
}

fn guard_operation(operation: &mut Operation, method: &Method, path: &str, scope: Scope) {
    let scope = scope.to_string();
    let mut security = vec![SecurityRequirement::new(BEARER, [scope.clone()])];
    if path == "/ws" {
        security.push(SecurityRequirement::new(QUERY, [scope.clone()]));
    }
    operation.security = Some(security);
    let mut refusals = vec![
        ("401", "No API key, or one that is unknown, revoked or expired".to_owned()),
        ("403", format!("The key's scope does not cover `{scope}`, or the Origin or Host is not allowed")),
        ("429", "Too many requests from this client (`Retry-After` says when to retry), or too many streams from its address".to_owned()),
    ];
    if path == "/ws" {
        refusals.push((
            "503",
            "The gateway has as many streams open as it takes".to_owned(),
        ));
    } else {
        refusals.push((
            "408",
            "No answer within `gateway.request_timeout`".to_owned(),
        ));
    }
    if matches!(*method, Method::POST | Method::PUT) {
        refusals.push(("415", "The body is not `application/json`".to_owned()));
        refusals.push((
            "413",
            "The body is larger than 2 MiB (`Content-Length`)".to_owned(),
        ));
    }
    for (status, description) in refusals {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(&description).into());
    }
}

/// A response carrying an [`ErrorBody`].
pub(super) fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ErrorBody::name())))
                .build(),
        )
        .build()
}

/// Writes each client frame's schema as one object: its `op` and the
/// fields of its op. Generated, each is the op's fields (which allow no
/// other) combined with `op`, which no frame could match.
fn flatten_client_frames(schemas: &mut Value) {
    let fields_of = |name: &str| schemas[name].clone();
    let frames: Vec<Value> = schemas["ClientMsg"]["oneOf"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|variant| {
            let Some(parts) = variant["allOf"].as_array() else {
                return variant.clone();
            };
            let mut frame = json!({
                "type": "object",
                "description": variant["description"],
                "properties": {},
                "required": [],
                "additionalProperties": false,
            });
            for part in parts {
                let part = match part["$ref"].as_str() {
                    Some(to) => fields_of(to.trim_start_matches("#/components/schemas/")),
                    None => part.clone(),
                };
                if let (Some(into), Some(from)) = (
                    frame["properties"].as_object_mut(),
                    part["properties"].as_object(),
                ) {
                    into.extend(from.clone());
                }
                if let (Some(into), Some(from)) = (
                    frame["required"].as_array_mut(),
                    part["required"].as_array(),
                ) {
                    into.extend(from.iter().cloned());
                }
            }
            frame
        })
        .collect();
    schemas["ClientMsg"]["oneOf"] = Value::Array(frames);
}

/// The AsyncAPI 3.0 document of `/ws`: one message per frame, its payload
/// the frame's schema from the OpenAPI document's components.
fn asyncapi(openapi: &Value) -> Value {
    let schemas = openapi["components"]["schemas"].clone();
    let mut messages = Map::new();
    let mut client = Vec::new();
    let mut server = Vec::new();
    for (union, tag, list) in [
        ("ClientMsg", "op", &mut client),
        ("ServerMsg", "type", &mut server),
    ] {
        for variant in schemas[union]["oneOf"].as_array().into_iter().flatten() {
            let Some(name) = frame_name(variant, tag) else {
                continue;
            };
            let key = format!("{tag}_{name}");
            messages.insert(
                key.clone(),
                json!({
                    "name": name,
                    "title": format!("{{\"{tag}\":\"{name}\"}}"),
                    "summary": variant.get("description").cloned().unwrap_or(Value::Null),
                    "contentType": "application/json",
                    "payload": variant,
                }),
            );
            list.push(json!({ "$ref": format!("#/channels/stream/messages/{key}") }));
        }
    }
    let channel_messages: Map<String, Value> = messages
        .keys()
        .map(|key| {
            (
                key.clone(),
                json!({ "$ref": format!("#/components/messages/{key}") }),
            )
        })
        .collect();
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "Tickstream stream",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The WebSocket protocol at `/ws`: JSON text frames, clients' tagged by `op`, \
                the gateway's by `type`. An API key goes in `Authorization: Bearer KEY` or \
                `?access_token=KEY` (scope `read`). The README's \"WebSocket protocol\" section \
                explains resume, gaps, batching, conflation and close codes.",
        },
        "defaultContentType": "application/json",
        "channels": {
            "stream": {
                "address": "/ws",
                "title": "The market stream",
                "messages": channel_messages,
            }
        },
        "operations": {
            "clientFrames": {
                "action": "receive",
                "summary": "What a client sends",
                "channel": { "$ref": "#/channels/stream" },
                "messages": client,
            },
            "serverFrames": {
                "action": "send",
                "summary": "What the gateway sends",
                "channel": { "$ref": "#/channels/stream" },
                "messages": server,
            },
        },
        "components": {
            "messages": messages,
            "schemas": schemas,
        },
    })
}

/// The value of a frame variant's tag (`subscribe`, `ticks`, …).
fn frame_name(variant: &Value, tag: &str) -> Option<String> {
    let tagged = |schema: &Value| {
        schema["properties"][tag]["enum"][0]
            .as_str()
            .map(str::to_owned)
    };
    tagged(variant).or_else(|| variant["allOf"].as_array()?.iter().find_map(tagged))
}
