//! Token and cost accounting per session and model.
//!
//! A session keeps, per model, the tokens it used and what they cost
//! (`usage_by_model`, a JSON object keyed by `provider:model`). Prices come
//! from the `agent_model_price` table (USD per million input and output
//! tokens), read when a message is answered: a model's own row, else its
//! provider's `provider:*` row, else no price (its cost stays `null` and the
//! session total counts only priced models). Each message's cost is added at
//! the price in force then, so a later price change never rewrites history.

use std::collections::HashMap;

use forecastlab_core::ai::Usage;
use serde_json::{json, Map, Value};

use super::schemas::ModelUsage;

/// Input and output USD per million tokens, by model (or `provider:*`).
pub(crate) type PriceTable = HashMap<String, (f64, f64)>;

/// The price of `model` (`provider:name`): its own row, else its
/// provider's wildcard row.
pub(crate) fn price_of(prices: &PriceTable, model: &str) -> Option<(f64, f64)> {
    if let Some(price) = prices.get(model) {
        return Some(*price);
    }
    let provider = model.split_once(':')?.0;
    prices.get(&format!("{provider}:*")).copied()
}

/// USD of `usage` at `price`.
pub(crate) fn cost(usage: Usage, (input, output): (f64, f64)) -> f64 {
    (f64::from(usage.input_tokens) * input + f64::from(usage.output_tokens) * output) / 1e6
}

/// Adds one message's usage (per model, in call order) to the stored
/// `usage_by_model`; returns the new object and the new session total.
pub(crate) fn accumulate(
    stored: &Value,
    run: &[(String, Usage)],
    prices: &PriceTable,
) -> (Value, f64) {
    let mut models: Map<String, Value> = stored.as_object().cloned().unwrap_or_default();
    for (model, usage) in run {
        let entry = models
            .entry(model.clone())
            .or_insert_with(|| json!({"input_tokens": 0, "output_tokens": 0, "cost_usd": null}));
        let input = entry["input_tokens"].as_i64().unwrap_or(0) + i64::from(usage.input_tokens);
        let output = entry["output_tokens"].as_i64().unwrap_or(0) + i64::from(usage.output_tokens);
        let previous = entry["cost_usd"].as_f64();
        let added = price_of(prices, model).map(|price| cost(*usage, price));
        let total = match (previous, added) {
            (None, None) => Value::Null,
            (previous, added) => json!(previous.unwrap_or(0.0) + added.unwrap_or(0.0)),
        };
        *entry = json!({"input_tokens": input, "output_tokens": output, "cost_usd": total});
    }
    let total = models
        .values()
        .filter_map(|entry| entry["cost_usd"].as_f64())
        .sum();
    (Value::Object(models), total)
}

/// The stored `usage_by_model` as a list, by model name.
pub(crate) fn usage_list(stored: &Value) -> Vec<ModelUsage> {
    let Some(models) = stored.as_object() else {
        return Vec::new();
    };
    let mut list: Vec<ModelUsage> = models
        .iter()
        .map(|(model, entry)| ModelUsage {
            model: model.clone(),
            input_tokens: entry["input_tokens"].as_i64().unwrap_or(0),
            output_tokens: entry["output_tokens"].as_i64().unwrap_or(0),
            cost_usd: entry["cost_usd"].as_f64(),
        })
        .collect();
    list.sort_by(|a, b| a.model.cmp(&b.model));
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input_tokens: u32, output_tokens: u32) -> Usage {
        Usage {
            input_tokens,
            output_tokens,
        }
    }

    fn table() -> PriceTable {
        PriceTable::from([
            ("openai:gpt-4o".to_owned(), (2.5, 10.0)),
            ("ollama:*".to_owned(), (0.0, 0.0)),
        ])
    }

    #[test]
    fn prices_fall_back_to_the_provider_row() {
        let prices = table();
        assert_eq!(price_of(&prices, "openai:gpt-4o"), Some((2.5, 10.0)));
        assert_eq!(price_of(&prices, "ollama:llama3.1:8b"), Some((0.0, 0.0)));
        assert_eq!(price_of(&prices, "openai:gpt-unknown"), None);
        assert_eq!(price_of(&prices, "no-colon"), None);
    }

    #[test]
    fn cost_is_per_million_tokens() {
        // 1,000 input at $2.50/M + 500 output at $10/M = 0.0025 + 0.005.
        let dollars = cost(usage(1_000, 500), (2.5, 10.0));
        assert!((dollars - 0.0075).abs() < 1e-12, "{dollars}");
    }

    #[test]
    fn usage_accumulates_per_model_and_unpriced_models_stay_null() {
        let prices = table();
        let run = [
            ("openai:gpt-4o".to_owned(), usage(1_000, 500)),
            ("anthropic:claude-x".to_owned(), usage(10, 5)),
            ("openai:gpt-4o".to_owned(), usage(2_000, 0)),
        ];
        let (stored, total) = accumulate(&json!({}), &run, &prices);
        let gpt = &stored["openai:gpt-4o"];
        assert_eq!(gpt["input_tokens"], 3_000);
        assert_eq!(gpt["output_tokens"], 500);
        let expected = (3_000.0 * 2.5 + 500.0 * 10.0) / 1e6;
        assert!((gpt["cost_usd"].as_f64().unwrap() - expected).abs() < 1e-12);
        assert!(stored["anthropic:claude-x"]["cost_usd"].is_null());
        assert!((total - expected).abs() < 1e-12);
        // A second message adds to the first.
        let (again, total_again) = accumulate(&stored, &run[..1], &prices);
        assert_eq!(again["openai:gpt-4o"]["input_tokens"], 4_000);
        assert!(total_again > total);
        let list = usage_list(&again);
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].model, "anthropic:claude-x");
        assert_eq!(list[1].input_tokens, 4_000);
    }
}
