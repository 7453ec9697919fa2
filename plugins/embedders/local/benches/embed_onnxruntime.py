"""Python peer of `cargo bench -p forecastlab-embed-local --features enabled --bench embed`.

Embeds the same texts with the same ONNX graph and the same steps as the
Rust embedder: the `tokenizers` package (truncation at 256, no padding),
texts sorted by token count, batches padded to their longest text, one
onnxruntime session (`intra_op_num_threads` = --threads, all graph
optimisations), mean pooling and L2 normalisation in numpy.

Prints one line per repetition and a final `MEDIAN_S <seconds>` line.
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import minilm  # noqa: E402


def embed(session, tokenizer, texts, batch_size):
    tokenizer.no_padding()
    encodings = tokenizer.encode_batch(texts)
    order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
    vectors = [None] * len(texts)
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        seq = max(len(encodings[i].ids) for i in batch)
        ids = np.zeros((len(batch), seq), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, i in enumerate(batch):
            e = encodings[i]
            n = len(e.ids)
            ids[row, :n] = e.ids
            mask[row, :n] = e.attention_mask
            types[row, :n] = e.type_ids
        (hidden,) = session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": types},
        )
        for i, vector in zip(batch, minilm.mean_pool_normalise(hidden, mask)):
            vectors[i] = vector
    return np.stack(vectors)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--texts", required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    with open(args.texts, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f if line.strip()]
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(
        os.path.join(args.model_dir, "model.onnx"), options, providers=["CPUExecutionProvider"]
    )
    tokenizer = minilm.load_tokenizer(args.model_dir)
    embed(session, tokenizer, texts[: args.batch], args.batch)  # warm-up
    times = []
    for rep in range(args.reps):
        started = time.perf_counter()
        embed(session, tokenizer, texts, args.batch)
        elapsed = time.perf_counter() - started
        times.append(elapsed)
        print(f"python rep {rep + 1}: {elapsed:.3f} s ({len(texts) / elapsed:.1f} sentences/s)")
    print(f"MEDIAN_S {statistics.median(times):.6f}")


if __name__ == "__main__":
    main()
