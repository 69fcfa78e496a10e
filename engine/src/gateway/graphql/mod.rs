//! GraphQL at `/graphql` (async-graphql): queries and mutations over POST,
//! subscriptions over the `graphql-transport-ws` protocol (WebSocket) on the
//! same path, and the explorer (GraphiQL, bundled with the dashboard) for a
//! browser's GET. Every field answers through the functions REST uses, so
//! validation, errors naming the field, limits and store access are one;
//! the guard admits `/graphql` with a `read` key, and each operation checks
//! the scope it needs as it runs (mutations `write`, scenarios `admin`).
//! Depth and complexity are bounded, and so are a request's body (axum's
//! default 2 MB), a subscription message (1 MiB) and the subscriptions one
//! connection runs (16).

mod mutation;
mod query;
mod subscription;

use std::{collections::HashMap, sync::Arc};

use async_graphql::{Context, ErrorExtensions, Schema, http::ALL_WEBSOCKET_PROTOCOLS};
use async_graphql_axum::{GraphQLProtocol, GraphQLResponse, GraphQLWebSocket};
use axum::{
    Extension,
    body::Bytes,
    extract::{FromRequestParts, Request, State, WebSocketUpgrade},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use self::{
    mutation::Mutation,
    query::Query,
    subscription::{Running, Subscription},
};
use super::{ApiError, GatewayState, StreamSlot, ws::HARD_FRAME_LIMIT};
use crate::{auth::Caller, model::Scope};

/// The schema.
pub type TickstreamSchema = Schema<Query, Mutation, Subscription>;

/// Deepest selection a query may make (the standard introspection query,
/// which explorers and code generators send, nests 13 deep).
const MAX_DEPTH: usize = 15;
/// Most fields (each list counting as ten) a query may select.
const MAX_COMPLEXITY: usize = 2_000;

/// Who sent the operation: the API key the guard admitted, or none when the
/// gateway has no keys.
#[derive(Clone)]
struct Access(Option<Caller>);

/// The schema over `state`.
pub fn schema(state: Arc<GatewayState>) -> TickstreamSchema {
    Schema::build(Query, Mutation, Subscription)
        .data(state)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

/// `/graphql`, with its operations.
pub fn routes<S: Clone + Send + Sync + 'static>(schema: TickstreamSchema) -> OpenApiRouter<S> {
    OpenApiRouter::new()
        .routes(routes!(execute, upgrade))
        .with_state(schema)
}

#[utoipa::path(post, path = "/graphql", summary = "A GraphQL query or mutation", tag = "graphql",
    description = "`{\"query\": …, \"variables\": {…}, \"operationName\": …}`; the schema is at `/graphiql.html` (explorer) and in the README.",
    request_body(content = Object, description = "A GraphQL request"),
    responses(
        (status = 200, description = "The GraphQL response: `data`, and `errors` each with `extensions.code`", body = Object),
        (status = 400, description = "Not a GraphQL request", content_type = "text/plain"),
    ))]
async fn execute(
    State(schema): State<TickstreamSchema>,
    caller: Option<Extension<Caller>>,
    body: Bytes,
) -> Response {
    // Read as `Bytes`, the body is bounded like every REST body (axum's
    // default limit); async-graphql's own extractor reads it unbounded.
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            let message = format!("not a GraphQL request: {error}\n");
            return (StatusCode::BAD_REQUEST, message).into_response();
        }
    };
    let access = Access(caller.map(|c| c.0));
    GraphQLResponse::from(schema.execute(request.data(access)).await).into_response()
}

#[utoipa::path(get, path = "/graphql", summary = "GraphQL subscriptions, or the explorer", tag = "graphql",
    description = "A WebSocket upgrade with subprotocol `graphql-transport-ws` runs subscriptions; a browser is sent to the explorer.",
    responses(
        (status = 101, description = "Switching to the `graphql-transport-ws` protocol"),
        (status = 303, description = "To the explorer, `/graphiql.html`"),
        (status = 400, description = "Neither a WebSocket upgrade nor a browser", content_type = "text/plain"),
    ))]
async fn upgrade(
    State(schema): State<TickstreamSchema>,
    caller: Option<Extension<Caller>>,
    slot: Option<Extension<Arc<StreamSlot>>>,
    request: Request,
) -> Response {
    let (mut parts, _) = request.into_parts();
    if !parts.headers.contains_key(header::UPGRADE) {
        let browser = parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
        return if browser {
            Redirect::to("/graphiql.html").into_response()
        } else {
            (
                StatusCode::BAD_REQUEST,
                "POST GraphQL requests; subscriptions are a WebSocket with subprotocol graphql-transport-ws\n",
            )
                .into_response()
        };
    }
    let protocol = match GraphQLProtocol::from_request_parts(&mut parts, &()).await {
        Ok(protocol) => protocol,
        Err(status) => return status.into_response(),
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let caller = caller.map(|c| c.0);
    let revoked = caller.as_ref().map(|c| c.revoked.clone());
    let shutdown = schema
        .data::<Arc<GatewayState>>()
        .map(|state| state.shutdown.clone());
    upgrade
        .max_message_size(HARD_FRAME_LIMIT)
        .max_frame_size(HARD_FRAME_LIMIT)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            let mut data = async_graphql::Data::default();
            data.insert(Access(caller));
            data.insert(Running::default());
            let serve = GraphQLWebSocket::new(socket, schema, protocol)
                .with_data(data)
                .serve();
            let revoked = async {
                match revoked {
                    Some(token) => token.cancelled().await,
                    None => std::future::pending().await,
                }
            };
            let shutdown = async {
                match shutdown {
                    Some(token) => token.cancelled().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = serve => {}
                () = revoked => {}
                () = shutdown => {}
            }
            // The stream's place is given back when it ends.
            drop(slot);
        })
}

/// The gateway's state, which the schema carries.
fn state<'a>(cx: &Context<'a>) -> &'a Arc<GatewayState> {
    cx.data_unchecked::<Arc<GatewayState>>()
}

/// Refuses an operation the caller's key may not run.
fn require(cx: &Context<'_>, needed: Scope) -> async_graphql::Result<()> {
    match cx.data_opt::<Access>() {
        Some(Access(Some(caller))) if !caller.scope.allows(needed) => {
            Err(async_graphql::Error::new(format!(
                "the key {:?} has scope {}; this operation needs {needed}",
                caller.name, caller.scope
            ))
            .extend_with(|_, e| {
                e.set("code", "forbidden");
                e.set("status", 403);
            }))
        }
        _ => Ok(()),
    }
}

/// A REST refusal as a GraphQL error: its message, and its code and status
/// in `extensions`.
fn refusal(error: ApiError) -> async_graphql::Error {
    let status = error.status().as_u16();
    let code = async_graphql::to_value(error.code()).unwrap_or_default();
    async_graphql::Error::new(error.message().to_owned()).extend_with(|_, e| {
        e.set("code", code.clone());
        e.set("status", status);
    })
}

/// Query parameters as REST takes them, from GraphQL's arguments: the ones
/// given, as text.
fn params<const N: usize>(given: [(&str, Option<String>); N]) -> HashMap<String, String> {
    given
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_owned(), value?)))
        .collect()
}

/// A GraphQL JSON input as the REST body it stands for.
fn body(value: &async_graphql::Json<serde_json::Value>) -> Vec<u8> {
    serde_json::to_vec(&value.0).expect("JSON values serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes the schema's SDL to `docs/api/schema.graphql` for clients'
    /// code generators; named like the TypeScript exports, so `cargo xtask
    /// lint` regenerates it and fails when the committed one is stale.
    #[test]
    fn export_bindings_graphql_schema() {
        let sdl = Schema::build(Query, Mutation, Subscription).finish().sdl();
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/api/schema.graphql");
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("docs/api");
        std::fs::write(&path, sdl).expect("the schema is written");
    }
}
