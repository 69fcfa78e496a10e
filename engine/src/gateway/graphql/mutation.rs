//! GraphQL's mutations: what REST's `POST`, `PUT` and `DELETE` routes do,
//! by the same functions (a rule, watchlist, portfolio or scenario is given
//! as the JSON REST takes, so its errors name the same fields), each
//! refused without the scope REST would need.

use async_graphql::{Context, ID, Json, Object, Result};
use serde_json::Value;

use super::{body, refusal, require, state};
use crate::{
    gateway::{alerts, replays, scenarios, trading, workspace},
    model::{
        Account, AlertRule, Order, PlacedOrder, Portfolio, ReplayStatus, ScenarioStatus, Scope,
        Watchlist,
    },
};

/// The mutation root.
pub struct Mutation;

/// An item id as GraphQL's `ID`.
fn id_of(id: &ID) -> Result<u64> {
    id.parse().map_err(|_| {
        super::refusal(crate::gateway::ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            crate::model::ErrorCode::InvalidParameter,
            format!("id: {:?} is not an id", id.as_str()),
        ))
    })
}

#[Object]
impl Mutation {
    /// Creates an alert rule from its JSON (as `POST /api/v1/alerts` takes it).
    async fn create_alert_rule(&self, cx: &Context<'_>, rule: Json<Value>) -> Result<AlertRule> {
        require(cx, Scope::Write)?;
        alerts::create_rule(state(cx), &body(&rule))
            .await
            .map_err(refusal)
    }

    /// Replaces alert rule `id`.
    async fn replace_alert_rule(
        &self,
        cx: &Context<'_>,
        id: ID,
        rule: Json<Value>,
    ) -> Result<AlertRule> {
        require(cx, Scope::Write)?;
        alerts::replace_rule(state(cx), id_of(&id)?, &body(&rule))
            .await
            .map_err(refusal)
    }

    /// Deletes alert rule `id`; true when done.
    async fn delete_alert_rule(&self, cx: &Context<'_>, id: ID) -> Result<bool> {
        require(cx, Scope::Write)?;
        alerts::delete_rule(state(cx), id_of(&id)?)
            .await
            .map(|()| true)
            .map_err(refusal)
    }

    /// Creates a watchlist from its JSON (`{"name": …, "symbols": […]}`).
    async fn create_watchlist(
        &self,
        cx: &Context<'_>,
        watchlist: Json<Value>,
    ) -> Result<Watchlist> {
        require(cx, Scope::Write)?;
        workspace::create_item(state(cx), &body(&watchlist))
            .await
            .map_err(refusal)
    }

    /// Replaces watchlist `id`.
    async fn replace_watchlist(
        &self,
        cx: &Context<'_>,
        id: ID,
        watchlist: Json<Value>,
    ) -> Result<Watchlist> {
        require(cx, Scope::Write)?;
        workspace::replace_item(state(cx), id_of(&id)?, &body(&watchlist))
            .await
            .map_err(refusal)
    }

    /// Deletes watchlist `id`; true when done.
    async fn delete_watchlist(&self, cx: &Context<'_>, id: ID) -> Result<bool> {
        require(cx, Scope::Write)?;
        workspace::delete_item::<Watchlist>(state(cx), id_of(&id)?)
            .await
            .map(|()| true)
            .map_err(refusal)
    }

    /// Creates a portfolio from its JSON (`{"name": …, "positions": […]}`).
    async fn create_portfolio(
        &self,
        cx: &Context<'_>,
        portfolio: Json<Value>,
    ) -> Result<Portfolio> {
        require(cx, Scope::Write)?;
        workspace::create_item(state(cx), &body(&portfolio))
            .await
            .map_err(refusal)
    }

    /// Replaces portfolio `id`.
    async fn replace_portfolio(
        &self,
        cx: &Context<'_>,
        id: ID,
        portfolio: Json<Value>,
    ) -> Result<Portfolio> {
        require(cx, Scope::Write)?;
        workspace::replace_item(state(cx), id_of(&id)?, &body(&portfolio))
            .await
            .map_err(refusal)
    }

    /// Deletes portfolio `id`; true when done.
    async fn delete_portfolio(&self, cx: &Context<'_>, id: ID) -> Result<bool> {
        require(cx, Scope::Write)?;
        workspace::delete_item::<Portfolio>(state(cx), id_of(&id)?)
            .await
            .map(|()| true)
            .map_err(refusal)
    }

    /// Places a paper order from its JSON (as `POST /api/v1/orders` takes it).
    async fn place_order(&self, cx: &Context<'_>, order: Json<Value>) -> Result<PlacedOrder> {
        require(cx, Scope::Write)?;
        trading::place_order(state(cx), &body(&order))
            .await
            .map_err(refusal)
    }

    /// Changes working paper order `id` (`quantity`, `limit_price`, `stop_price`).
    async fn change_order(
        &self,
        cx: &Context<'_>,
        id: ID,
        change: Json<Value>,
    ) -> Result<PlacedOrder> {
        require(cx, Scope::Write)?;
        trading::change_order(state(cx), id_of(&id)?, &body(&change))
            .await
            .map_err(refusal)
    }

    /// Cancels working paper order `id`.
    async fn cancel_order(&self, cx: &Context<'_>, id: ID) -> Result<Order> {
        require(cx, Scope::Write)?;
        trading::cancel_order(state(cx), id_of(&id)?)
            .await
            .map_err(refusal)
    }

    /// Opens a paper account from its JSON (`{"name": …, "cash": …}`).
    async fn open_account(&self, cx: &Context<'_>, account: Json<Value>) -> Result<Account> {
        require(cx, Scope::Write)?;
        trading::open_account_from(state(cx), &body(&account))
            .await
            .map_err(refusal)
    }

    /// Opens a replay from its JSON (as `POST /api/v1/replays` takes it).
    async fn open_replay(&self, cx: &Context<'_>, replay: Json<Value>) -> Result<ReplayStatus> {
        require(cx, Scope::Write)?;
        replays::open_replay(state(cx), &body(&replay))
            .await
            .map_err(refusal)
    }

    /// Steers replay `id` with a command's JSON (as `POST
    /// /api/v1/replays/{id}/control` takes it: `{"action": "seek", "to": …}`).
    async fn control_replay(
        &self,
        cx: &Context<'_>,
        id: ID,
        command: Json<Value>,
    ) -> Result<ReplayStatus> {
        require(cx, Scope::Write)?;
        replays::control_replay(state(cx), id.as_str(), &body(&command))
            .await
            .map_err(refusal)
    }

    /// Stops and forgets replay `id`; its streams end.
    async fn delete_replay(&self, cx: &Context<'_>, id: ID) -> Result<bool> {
        require(cx, Scope::Write)?;
        replays::delete_replay(state(cx), id.as_str())
            .map(|()| true)
            .map_err(refusal)
    }

    /// Injects a market scenario into the simulator (scope `admin`), from
    /// its JSON as `POST /api/v1/scenarios` takes it.
    async fn inject_scenario(
        &self,
        cx: &Context<'_>,
        scenario: Json<Value>,
    ) -> Result<ScenarioStatus> {
        require(cx, Scope::Admin)?;
        scenarios::inject_into(state(cx).ops.simulator.as_ref(), scenario.0)
            .await
            .map_err(refusal)
    }
}
