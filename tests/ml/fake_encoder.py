"""A tiny deterministic encoder for index tests: hashed bag of words, L2-normalised."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

DIM = 512


class HashingEncoder:
    """Texts sharing words get similar vectors; no model, instant."""

    def __init__(self) -> None:
        self.calls = 0
        self.encoded = 0

    def encode(self, texts: Sequence[str], show_progress_bar: bool = False) -> np.ndarray:
        self.calls += 1
        self.encoded += len(texts)
        vectors = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                bucket = int(hashlib.md5(word.encode()).hexdigest(), 16) % DIM
                vectors[row, bucket] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)
