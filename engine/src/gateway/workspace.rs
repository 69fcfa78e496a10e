//! `/api/v1/watchlists` and `/api/v1/portfolios`: the user's named lists of
//! symbols and positions, listed, created, read, replaced and deleted; a
//! portfolio is also served valued at the latest quotes
//! (`/api/v1/portfolios/{id}/value`).

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::de::DeserializeOwned;
use utoipa::{
    ToSchema,
    openapi::{
        ArrayBuilder, ContentBuilder, HttpMethod, ObjectBuilder, Ref, RefOr, Required,
        ResponseBuilder, Schema,
        path::{OperationBuilder, ParameterBuilder, ParameterIn},
        request_body::RequestBodyBuilder,
        schema::Type,
    },
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    GatewayState,
    openapi::error_response as error,
    rest::{ApiError, blocking},
};
use crate::{
    model::{ErrorBody, ErrorCode, Portfolio, Symbol, Valuation, Watchlist},
    store::StoredItem,
    workspace::ItemError,
};

/// The routes, with their operations.
pub fn routes() -> OpenApiRouter<Arc<GatewayState>> {
    let router = items::<Watchlist>(OpenApiRouter::new(), "/api/v1/watchlists");
    items::<Portfolio>(router, "/api/v1/portfolios").routes(routes!(value))
}

/// Adds the routes of one kind of item under `base` (list, create, read,
/// replace, delete) and their operations, described by hand because the
/// handlers are generic over the kind.
fn items<T: Item + ToSchema + DeserializeOwned>(
    router: OpenApiRouter<Arc<GatewayState>>,
    base: &str,
) -> OpenApiRouter<Arc<GatewayState>> {
    let one = format!("{base}/{{id}}");
    let mut router = router
        .route(base, get(list::<T>).post(create::<T>))
        .route(&one, get(read::<T>).put(replace::<T>).delete(remove::<T>));
    let api = router.get_openapi_mut();
    let mut schemas = vec![(<T as ToSchema>::name().into_owned(), T::schema())];
    T::schemas(&mut schemas);
    api.components
        .get_or_insert_with(Default::default)
        .schemas
        .extend(schemas);
    let kind = T::KIND;
    let item = || Ref::from_schema_name(<T as ToSchema>::name());
    let operation = |verb: &str, summary: String| {
        OperationBuilder::new()
            .tag("workspace")
            .operation_id(Some(format!("{verb}_{}", kind.replace(' ', "_"))))
            .summary(Some(summary))
    };
    let id = ParameterBuilder::new()
        .name("id")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(format!("The {kind}'s id")))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        ))
        .build();
    let body = |description: &str| {
        RequestBodyBuilder::new()
            .description(Some(description))
            .required(Some(Required::True))
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(item())).build(),
            )
            .build()
    };
    let answer = |description: String, schema: RefOr<Schema>| {
        ResponseBuilder::new().description(description).content(
            "application/json",
            ContentBuilder::new().schema(Some(schema)).build(),
        )
    };
    let invalid = || {
        error(&format!(
            "The {kind} or id is invalid; the message names the field"
        ))
    };
    let missing = || error(&format!("No such {kind}"));
    let paths = &mut api.paths;
    paths.add_path_operation(
        base,
        vec![HttpMethod::Get],
        operation("list", format!("Every {kind}")).response(
            "200",
            answer(
                format!("Every {kind}"),
                ArrayBuilder::new().items(item()).into(),
            ),
        ),
    );
    paths.add_path_operation(
        base,
        vec![HttpMethod::Post],
        operation("create", format!("Creates a {kind}"))
            .request_body(Some(body("The item; `id` is assigned")))
            .response(
                "201",
                answer(format!("The {kind} as stored, with its id"), item().into()),
            )
            .response("400", invalid())
            .response("409", error(&format!("A {kind} has this name"))),
    );
    paths.add_path_operation(
        &one,
        vec![HttpMethod::Get],
        operation("read", format!("One {kind}"))
            .parameter(id.clone())
            .response("200", answer(format!("The {kind}"), item().into()))
            .response("400", invalid())
            .response("404", missing()),
    );
    paths.add_path_operation(
        &one,
        vec![HttpMethod::Put],
        operation("replace", format!("Replaces a {kind}"))
            .parameter(id.clone())
            .request_body(Some(body("The new item; its `id` is ignored")))
            .response(
                "200",
                answer(format!("The {kind} as stored"), item().into()),
            )
            .response("400", invalid())
            .response("404", missing())
            .response("409", error(&format!("Another {kind} has this name"))),
    );
    paths.add_path_operation(
        &one,
        vec![HttpMethod::Delete],
        operation("delete", format!("Deletes a {kind}"))
            .parameter(id)
            .response("204", ResponseBuilder::new().description("Deleted"))
            .response("400", invalid())
            .response("404", missing()),
    );
    router
}

/// A watchlist or portfolio as the REST API takes it.
pub(super) trait Item: StoredItem + Send + 'static {
    /// The error code of a body that cannot be one.
    const INVALID: ErrorCode;
    fn validate(&self, known: impl Fn(&Symbol) -> bool) -> Result<(), ItemError>;
}

impl Item for Watchlist {
    const INVALID: ErrorCode = ErrorCode::InvalidWatchlist;
    fn validate(&self, known: impl Fn(&Symbol) -> bool) -> Result<(), ItemError> {
        Watchlist::validate(self, known)
    }
}

impl Item for Portfolio {
    const INVALID: ErrorCode = ErrorCode::InvalidPortfolio;
    fn validate(&self, known: impl Fn(&Symbol) -> bool) -> Result<(), ItemError> {
        Portfolio::validate(self, known)
    }
}

fn id_of<T: StoredItem>(text: &str) -> Result<u64, ApiError> {
    text.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidParameter,
            format!("id: {text:?} is not a {} id", T::KIND),
        )
    })
}

fn not_found<T: StoredItem>(id: u64) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        format!("no {} {id}", T::KIND),
    )
}

/// Reads and checks an item from a request body.
fn item_from<T: Item + DeserializeOwned>(state: &GatewayState, body: &[u8]) -> Result<T, ApiError> {
    let invalid = |message: String| ApiError::new(StatusCode::BAD_REQUEST, T::INVALID, message);
    let item: T = ApiError::parse_body(body, T::INVALID, T::KIND)?;
    item.validate(|s| state.market.is_known(s))
        .map_err(|e| invalid(format!("invalid {} field {e}", T::KIND)))?;
    Ok(item)
}

async fn list<T: Item>(State(state): State<Arc<GatewayState>>) -> Result<Json<Vec<T>>, ApiError> {
    Ok(Json(list_items(&state).await?))
}

async fn create<T: Item + DeserializeOwned>(
    State(state): State<Arc<GatewayState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let created: T = create_item(&state, &body).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn read<T: Item>(
    State(state): State<Arc<GatewayState>>,
    Path(id): Path<String>,
) -> Result<Json<T>, ApiError> {
    Ok(Json(get_item(&state, id_of::<T>(&id)?).await?))
}

async fn replace<T: Item + DeserializeOwned>(
    State(state): State<Arc<GatewayState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<T>, ApiError> {
    Ok(Json(replace_item(&state, id_of::<T>(&id)?, &body).await?))
}

async fn remove<T: Item>(
    State(state): State<Arc<GatewayState>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    delete_item::<T>(&state, id_of::<T>(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

// What the REST routes above and GraphQL's workspace fields and mutations do.

/// Every item of a kind.
pub(super) async fn list_items<T: Item>(state: &GatewayState) -> Result<Vec<T>, ApiError> {
    let store = state.stored.workspace.clone();
    blocking(move || store.lock().list::<T>()).await
}

/// Item `id`.
pub(super) async fn get_item<T: Item>(state: &GatewayState, id: u64) -> Result<T, ApiError> {
    let store = state.stored.workspace.clone();
    blocking(move || store.lock().get::<T>(id))
        .await?
        .ok_or_else(|| not_found::<T>(id))
}

/// Creates the item in a JSON `body`.
pub(super) async fn create_item<T: Item + DeserializeOwned>(
    state: &GatewayState,
    body: &[u8],
) -> Result<T, ApiError> {
    let item: T = item_from(state, body)?;
    let store = state.stored.workspace.clone();
    blocking(move || store.lock().create(item)).await
}

/// Replaces item `id` with the item in a JSON `body`.
pub(super) async fn replace_item<T: Item + DeserializeOwned>(
    state: &GatewayState,
    id: u64,
    body: &[u8],
) -> Result<T, ApiError> {
    let mut item: T = item_from(state, body)?;
    item.set_id(id);
    let store = state.stored.workspace.clone();
    let stored = item.clone();
    if blocking(move || store.lock().update(&stored)).await? {
        Ok(item)
    } else {
        Err(not_found::<T>(id))
    }
}

/// Deletes item `id`.
pub(super) async fn delete_item<T: Item>(state: &GatewayState, id: u64) -> Result<(), ApiError> {
    let store = state.stored.workspace.clone();
    if blocking(move || store.lock().delete::<T>(id)).await? {
        Ok(())
    } else {
        Err(not_found::<T>(id))
    }
}

#[utoipa::path(get, path = "/api/v1/portfolios/{id}/value", summary = "A portfolio's value", tag = "workspace",
    params(("id" = u64, Path, description = "The portfolio's id")),
    responses(
        (status = 200, description = "The portfolio valued at the latest quotes", body = Valuation),
        (status = 400, description = "The id is invalid", body = ErrorBody),
        (status = 404, description = "No such portfolio", body = ErrorBody),
    ))]
async fn value(
    State(state): State<Arc<GatewayState>>,
    Path(id): Path<String>,
) -> Result<Json<Valuation>, ApiError> {
    let portfolio: Portfolio = get_item(&state, id_of::<Portfolio>(&id)?).await?;
    Ok(Json(portfolio.value(&state.market.quotes.read())))
}
