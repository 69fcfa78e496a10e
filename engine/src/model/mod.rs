//! The wire types: what crosses a process boundary (Kafka messages, WebSocket
//! frames, REST bodies), with their JSON encoding and generated TypeScript.
//!
//! These are the only types in the engine that derive `Serialize`.

mod audit;
mod backup;
mod candle;
pub mod desktop;
mod errors;
mod event;
mod health;
mod items;
mod keys;
mod load;
pub mod protocol;
mod quote;
mod reports;
mod scenario;
mod settings;
mod symbol;
mod tick;
pub mod timestamp;

pub use audit::AuditEntry;
pub use backup::{BackupManifest, Replayed, Restored, StoreCheck};
pub use candle::{Candle, Interval, IntervalError};
pub use errors::{ErrorBody, ErrorCode, ErrorDetail};
pub use event::{EventKind, EventLevel, MarketEvent, SystemMetric};
pub use health::{Checks, CircuitState, Failure, Readiness};
pub use items::{AlertRule, Condition, Direction, Portfolio, Position, Watchlist};
pub use keys::{CreatedKey, KeyInfo, NewKey, Scope};
pub use load::{DaemonUsage, Latency, LoadReport};
pub use quote::Quote;
pub use reports::{
    Indicator, IndicatorReply, MetricsSample, PositionValue, SymbolVolume, TimeOfDay, TimeSlot,
    Valuation, VolumeReport,
};
pub use scenario::{Scenario, ScenarioState, ScenarioStatus};
pub use settings::EffectiveConfig;
pub use symbol::{MAX_SYMBOL_LEN, Symbol, SymbolError};
pub use tick::{EncodedTick, Tick, TickDecodeError, TradeCondition};

/// Fixed-point scale used for exact price arithmetic: one unit is 10⁻⁶ of a
/// currency unit, so any price on a tick grid of 0.000001 or coarser is exact.
pub const PRICE_SCALE: i64 = 1_000_000;

/// Converts a price to exact fixed-point units (see [`PRICE_SCALE`]).
pub fn price_to_units(price: f64) -> i64 {
    (price * PRICE_SCALE as f64).round() as i64
}

/// Converts fixed-point units back to a price.
pub fn units_to_price(units: i64) -> f64 {
    units as f64 / PRICE_SCALE as f64
}

#[cfg(test)]
mod tests {
    use utoipa::{ToSchema, openapi::RefOr, openapi::schema::Schema};

    /// A self-contained JSON Schema (2020-12) of `T`: what it references
    /// under `$defs`.
    fn json_schema<T: ToSchema>() -> serde_json::Value {
        let mut referenced: Vec<(String, RefOr<Schema>)> = Vec::new();
        T::schemas(&mut referenced);
        let mut schema = serde_json::to_value(T::schema()).expect("schemas are JSON");
        let defs: serde_json::Map<String, serde_json::Value> = referenced
            .into_iter()
            .map(|(name, schema)| {
                (
                    name,
                    serde_json::to_value(schema).expect("schemas are JSON"),
                )
            })
            .collect();
        let object = schema.as_object_mut().expect("an object schema");
        object.insert(
            "$schema".into(),
            "https://json-schema.org/draft/2020-12/schema".into(),
        );
        object.insert("title".into(), T::name().into_owned().into());
        if !defs.is_empty() {
            object.insert("$defs".into(), defs.into());
        }
        let text = serde_json::to_string_pretty(&schema).expect("schemas are JSON");
        serde_json::from_str(&text.replace("#/components/schemas/", "#/$defs/")).expect("JSON")
    }

    /// Writes the JSON Schemas of what crosses Kafka (ticks, market events,
    /// health samples) to `docs/api/schemas/`; named like the TypeScript
    /// exports, so `cargo xtask lint` regenerates them and fails when the
    /// committed ones are stale.
    #[test]
    fn export_bindings_json_schemas() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/api/schemas");
        std::fs::create_dir_all(&dir).expect("docs/api/schemas");
        for (name, schema) in [
            ("Tick", json_schema::<super::Tick>()),
            ("MarketEvent", json_schema::<super::MarketEvent>()),
            ("SystemMetric", json_schema::<super::SystemMetric>()),
        ] {
            let text = serde_json::to_string_pretty(&schema).expect("JSON") + "\n";
            std::fs::write(dir.join(format!("{name}.json")), text).expect("written");
        }
    }
}
