"""A BM25 ranking over each anime's name, genres and synopsis (scipy sparse, no network).

Tokens are lower-case words without English stop words, stemmed with NLTK's Porter stemmer
(pure code, no downloaded data). For a document d and query terms q:

    score(d) = sum_t idf(t) * tf(t, d) * (k1 + 1) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl))
    idf(t)   = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))

The per-document weights are precomputed into one sparse matrix, so a query is a column sum.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from nltk.stem import PorterStemmer
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

_TOKEN = re.compile(r"[a-z0-9]+")
_stemmer = PorterStemmer()


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer.stem(word)


def tokenize(text: str) -> list[str]:
    """Lower-case, drop stop words and one-letter tokens, Porter-stem."""
    return [
        _stem(word)
        for word in _TOKEN.findall(text.lower())
        if len(word) > 1 and word not in ENGLISH_STOP_WORDS
    ]


class BM25Index:
    """Documents x terms BM25 weights; ``scores(query)`` ranks every document at once."""

    def __init__(
        self,
        weights: sparse.csr_matrix,
        vocabulary: dict[str, int],
        idf: np.ndarray,
        avgdl: float,
        k1: float = 1.2,
        b: float = 0.75,
    ):
        self.vocabulary = vocabulary
        self.idf = idf
        self.avgdl = avgdl
        self.k1 = k1
        self.b = b
        self._set_weights(weights)

    def _set_weights(self, weights: sparse.spmatrix) -> None:
        self.weights = sparse.csc_matrix(weights, dtype=np.float32)

    def _term_counts(self, texts: Sequence[str], grow: bool) -> sparse.csr_matrix:
        rows: list[int] = []
        cols: list[int] = []
        for row, text in enumerate(texts):
            for token in tokenize(text):
                column = self.vocabulary.get(token)
                if column is None and grow:
                    column = self.vocabulary.setdefault(token, len(self.vocabulary))
                if column is not None:
                    rows.append(row)
                    cols.append(column)
        shape = (len(texts), max(len(self.vocabulary), 1))
        ones = np.ones(len(rows), dtype=np.float32)
        counts = sparse.csr_matrix((ones, (rows, cols)), shape=shape, dtype=np.float32)
        counts.sum_duplicates()
        return counts

    def _weigh(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        norm = self.k1 * (1 - self.b + self.b * lengths / self.avgdl)
        row_of = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        tf = counts.data
        idf = self.idf[counts.indices]
        counts.data = (idf * tf * (self.k1 + 1) / (tf + norm[row_of])).astype(np.float32)
        return counts

    @classmethod
    def build(cls, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> BM25Index:
        """Index ``texts`` (row i of the matrix is texts[i])."""
        index = cls(sparse.csr_matrix((0, 1)), {}, np.zeros(0), 1.0, k1, b)
        counts = index._term_counts(texts, grow=True)
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        index.avgdl = float(lengths.mean()) if len(texts) and lengths.mean() > 0 else 1.0
        df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
        index.idf = np.log1p((len(texts) - df + 0.5) / (df + 0.5))
        index._set_weights(index._weigh(counts))
        return index

    def upsert(self, rows: Sequence[int], texts: Sequence[str]) -> None:
        """Replace (row < n) or append (row == n, n+1, ...) documents, keeping idf and avgdl.

        A term first seen here gets the idf of a term in one document; a full rebuild refreshes
        every statistic.
        """
        counts = self._term_counts(texts, grow=True)
        n_terms = len(self.vocabulary)
        if n_terms > len(self.idf):
            rare = np.log1p((self.n_documents - 0.5) / 1.5)
            self.idf = np.concatenate([self.idf, np.full(n_terms - len(self.idf), rare)])
        new = self._weigh(counts)
        old = sparse.csr_matrix(self.weights)
        n_rows = max(self.n_documents, max(rows, default=-1) + 1)
        old.resize((n_rows, n_terms))
        new.resize((len(rows), n_terms))
        keep = np.ones(n_rows, dtype=np.float32)
        keep[list(rows)] = 0.0
        placed = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (list(rows), range(len(rows)))),
            shape=(n_rows, len(rows)),
        )
        self._set_weights(sparse.diags(keep) @ old + placed @ new)

    @property
    def n_documents(self) -> int:
        return int(self.weights.shape[0])

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for ``query`` (zeros when no query term is known)."""
        columns = sorted({self.vocabulary[t] for t in tokenize(query) if t in self.vocabulary})
        if not columns:
            return np.zeros(self.n_documents, dtype=np.float32)
        return np.asarray(self.weights[:, columns].sum(axis=1), dtype=np.float32).ravel()

    def save(self, path: str | Path) -> None:
        """``<path>.npz`` of plain arrays (matrix, idf, parameters), ``<path>.json`` vocabulary."""
        matrix = sparse.csr_matrix(self.weights)
        with open(f"{path}.npz", "wb") as handle:
            np.savez(
                handle,
                data=matrix.data,
                indices=matrix.indices,
                indptr=matrix.indptr,
                shape=np.array(matrix.shape),
                idf=self.idf,
                params=np.array([self.avgdl, self.k1, self.b]),
            )
        Path(f"{path}.json").write_text(json.dumps(self.vocabulary))

    @classmethod
    def load(cls, path: str | Path) -> BM25Index:
        with np.load(f"{path}.npz", allow_pickle=False) as arrays:
            matrix = sparse.csr_matrix(
                (arrays["data"], arrays["indices"], arrays["indptr"]),
                shape=tuple(int(v) for v in arrays["shape"]),
            )
            idf = arrays["idf"]
            avgdl, k1, b = (float(v) for v in arrays["params"])
        vocabulary = json.loads(Path(f"{path}.json").read_text())
        return cls(matrix, vocabulary, idf, avgdl, k1, b)
