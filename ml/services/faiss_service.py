"""FAISSService: semantic search and content similarity over the anime catalogue.

Each anime is one or more passages (``anime_text.passages``: name, genres and type, then the
synopsis or, when long, each chunk of it), each a unit vector in a FAISS inner-product index, so
inner product = cosine. A query is encoded once; an anime's dense score is the best cosine among
its passages. A BM25 ranking over names, genres and synopses is fused with the dense one by
reciprocal rank fusion, plus a mild popularity prior (log of members); the score returned is the
cosine, the order is the fused one.

Files (``index_path`` and sidecars, no pickle): ``<index>`` (faiss), ``<index>.bm25.npz`` and
``<index>.bm25.json`` (lexical), ``<index>.json`` (row -> anime map, per-anime genres, popularity
and text fingerprint, settings) written last: its mtime says a new index is complete.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import faiss
import numpy as np
import pandas as pd

from ml.exceptions import IndexNotBuiltError
from ml.services import anime_text
from ml.services._faiss_index import (
    meta_path,
    new_index,
    read_files,
    search_parameters,
    write_files,
)
from ml.services.embedding_service import DEFAULT_MODEL, EmbeddingService
from ml.services.lexical import BM25Index

log = logging.getLogger(__name__)

DEFAULT_INDEX_PATH = Path(__file__).resolve().parents[1] / "saved_models" / "faiss" / "anime.index"
FORMAT_VERSION = 1


class Encoder(Protocol):
    def encode(self, texts: Sequence[str], show_progress_bar: bool = False) -> np.ndarray: ...


@dataclass(frozen=True)
class SearchSettings:
    """How the index is built and queried (stored in the sidecar, restored by ``load``)."""

    plain_text: bool = False  # one "name. genres. type. synopsis" vector (the baseline)
    max_passages: int = anime_text.MAX_PASSAGES  # vectors per long synopsis (1 = truncate)
    dense_weight: float = 1.0  # weight of the dense reciprocal rank; 0 = BM25 only
    lexical_weight: float = 1.0  # weight of the BM25 reciprocal rank; 0 = dense only
    popularity_weight: float = 0.002  # times log1p(members) / log1p(max members)
    rrf_k: int = 60  # reciprocal rank fusion constant: 1 / (rrf_k + rank)
    candidates: int = 100  # anime taken from each ranking before fusing
    flat_limit: int = 100_000  # exact IndexFlatIP up to this many anime, HNSW above
    index_type: str = "auto"  # "auto", "flat", "hnsw" or "ivf"


def fingerprint(texts: Sequence[str]) -> str:
    return hashlib.sha1("\n".join(texts).encode()).hexdigest()[:16]


class FAISSService:
    """Build, persist, search and update the catalogue's vector index."""

    def __init__(
        self,
        index_path: str | os.PathLike[str] | None = None,
        model_name: str | None = None,
        *,
        encoder: Encoder | None = None,
        settings: SearchSettings | None = None,
        threads: int | None = None,
    ):
        self.index_path = Path(index_path or DEFAULT_INDEX_PATH)
        self.model_name = model_name or DEFAULT_MODEL
        self.encoder: Encoder = encoder or EmbeddingService(self.model_name, threads=threads)
        self.settings = settings or SearchSettings()
        if threads:
            faiss.omp_set_num_threads(threads)
        self.index: Any = None
        self.lexical: BM25Index | None = None
        self.anime_ids: list[int] = []
        self.genres: list[frozenset[str]] = []
        self.fingerprints: list[str] = []
        self.popularity = np.zeros(0, dtype=np.float32)
        self.popularity_scale = 1.0
        self.row_doc = np.zeros(0, dtype=np.int64)
        self.built_at: str | None = None
        self._doc_of: dict[int, int] = {}
        self._rows_of: dict[int, np.ndarray] | None = None

    # ----------------------------------------------------------------- building
    def _texts(self, record: Mapping[str, Any]) -> list[str]:
        if self.settings.plain_text:
            return [anime_text.plain_text(record)]
        return anime_text.passages(record, self.settings.max_passages)

    def build_index(self, anime_df: pd.DataFrame, show_progress_bar: bool = False) -> int:
        """Encode every anime of ``anime_df`` (anime_id, name, genre, type, description, members).

        Returns the number of anime indexed; replaces whatever index was loaded.
        """
        records = anime_df.to_dict("records")
        texts = [self._texts(record) for record in records]
        flat = [text for group in texts for text in group]
        vectors = self.encoder.encode(flat, show_progress_bar=show_progress_bar)
        index = new_index(vectors, len(records), self.settings)
        index.add(vectors)
        self.index = index
        self.row_doc = np.repeat(np.arange(len(records)), [len(group) for group in texts])
        self._rows_of = None
        self.anime_ids = [int(record["anime_id"]) for record in records]
        self.genres = [frozenset(anime_text.genres_of(r.get("genre"))) for r in records]
        self.fingerprints = [fingerprint(group) for group in texts]
        self.popularity, self.popularity_scale = self._popularity(
            [r.get("members") for r in records]
        )
        self.lexical = BM25Index.build([anime_text.lexical_text(r) for r in records])
        self._doc_of = {anime_id: doc for doc, anime_id in enumerate(self.anime_ids)}
        self.built_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return len(records)

    @staticmethod
    def _popularity(members: Iterable[Any]) -> tuple[np.ndarray, float]:
        """log1p(members) scaled to [0, 1] by the catalogue's largest, and that scale."""
        values = np.array(
            [float(m) if m is not None and not pd.isna(m) else 0.0 for m in members],
            dtype=np.float64,
        )
        logs = np.log1p(np.clip(values, 0, None))
        top = float(logs.max()) if len(logs) and logs.max() > 0 else 1.0
        return (logs / top).astype(np.float32), top

    def changed(self, records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The records that are new to the index or whose text differs from the indexed one."""
        out = []
        for record in records:
            doc = self._doc_of.get(int(record["anime_id"]))
            if doc is None or self.fingerprints[doc] != fingerprint(self._texts(record)):
                out.append(record)
        return out

    def update(self, records: Sequence[Mapping[str, Any]]) -> int:
        """Re-encode ``records`` (new or changed anime) into the loaded index; no full rebuild.

        Old passages of a changed anime are tombstoned (row -> -1) and its new ones appended.
        """
        self._require()
        assert self.lexical is not None
        if not records:
            return 0
        texts = [self._texts(record) for record in records]
        vectors = self.encoder.encode([text for group in texts for text in group])
        docs = []
        for record, group in zip(records, texts, strict=True):
            anime_id = int(record["anime_id"])
            doc = self._doc_of.get(anime_id)
            if doc is None:
                doc = len(self.anime_ids)
                self.anime_ids.append(anime_id)
                self.genres.append(frozenset())
                self.fingerprints.append("")
                self.popularity = np.append(self.popularity, np.float32(0))
                self._doc_of[anime_id] = doc
            self.row_doc[self._rows(doc)] = -1
            self.genres[doc] = frozenset(anime_text.genres_of(record.get("genre")))
            self.fingerprints[doc] = fingerprint(group)
            members = record.get("members")
            if members is not None and not pd.isna(members):
                scaled = np.log1p(max(float(members), 0.0)) / self.popularity_scale
                self.popularity[doc] = min(1.0, scaled)
            docs.append(doc)
        self.index.add(vectors)
        sizes = [len(group) for group in texts]
        self.row_doc = np.concatenate([self.row_doc, np.repeat(docs, sizes)])
        self._rows_of = None
        self.lexical.upsert(docs, [anime_text.lexical_text(record) for record in records])
        return len(records)

    # ----------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the index and its sidecars (each atomically; the JSON sidecar last)."""
        self._require()
        assert self.lexical is not None
        path = Path(path or self.index_path)
        meta = {
            "format": FORMAT_VERSION,
            "model": self.model_name,
            "built_at": self.built_at,
            "ntotal": int(self.index.ntotal),
            "settings": asdict(self.settings),
            "anime_ids": self.anime_ids,
            "genres": [sorted(g) for g in self.genres],
            "fingerprints": self.fingerprints,
            "popularity": [round(float(p), 5) for p in self.popularity],
            "popularity_scale": self.popularity_scale,
            "row_doc": self.row_doc.tolist(),
        }
        write_files(path, self.index, self.lexical, meta)
        return path

    meta_path = staticmethod(meta_path)

    def load(self, path: str | os.PathLike[str] | None = None) -> FAISSService:
        """Read an index written by ``save``; IndexNotBuiltError when it is missing or torn."""
        self.index, self.lexical, meta = read_files(Path(path or self.index_path))
        self.model_name = meta["model"]
        self.settings = replace(SearchSettings(), **meta["settings"])
        self.built_at = meta["built_at"]
        self.anime_ids = [int(a) for a in meta["anime_ids"]]
        self.genres = [frozenset(g) for g in meta["genres"]]
        self.fingerprints = list(meta["fingerprints"])
        self.popularity = np.asarray(meta["popularity"], dtype=np.float32)
        self.popularity_scale = float(meta["popularity_scale"])
        self.row_doc = np.asarray(meta["row_doc"], dtype=np.int64)
        self._rows_of = None
        self._doc_of = {anime_id: doc for doc, anime_id in enumerate(self.anime_ids)}
        return self

    # ----------------------------------------------------------------- queries
    @property
    def is_built(self) -> bool:
        return self.index is not None

    def __len__(self) -> int:
        return len(self.anime_ids)

    def __contains__(self, anime_id: object) -> bool:
        return anime_id in self._doc_of

    def _require(self) -> None:
        if self.index is None:
            raise IndexNotBuiltError(
                "the search index is not built; run scripts/build_faiss_index.py"
            )

    def _dense(
        self, vector: np.ndarray, fetch: int, allowed: np.ndarray | None
    ) -> dict[int, float]:
        """doc -> best passage cosine among the ``fetch`` nearest passages."""
        params = None
        if allowed is not None:
            rows = np.flatnonzero(allowed[self.row_doc.clip(0)] & (self.row_doc >= 0))
            params = search_parameters(self.index)
            params.sel = faiss.IDSelectorBatch(rows.astype(np.int64))
        fetch = min(fetch, int(self.index.ntotal))
        scores, rows = self.index.search(vector.reshape(1, -1), fetch, params=params)
        best: dict[int, float] = {}
        for score, row in zip(scores[0], rows[0], strict=True):
            doc = int(self.row_doc[row]) if row >= 0 else -1
            if doc >= 0 and doc not in best:
                best[doc] = float(score)
        return best

    def _rows(self, doc: int) -> np.ndarray:
        """The index rows (passages) of ``doc``, from a doc -> rows map built once."""
        if self._rows_of is None:
            order = np.argsort(self.row_doc, kind="stable")
            docs, starts = np.unique(self.row_doc[order], return_index=True)
            groups = np.split(order, starts[1:])
            self._rows_of = {int(d): g for d, g in zip(docs, groups, strict=True) if d >= 0}
        return self._rows_of.get(doc, np.zeros(0, dtype=np.int64))

    def _cosine(self, vector: np.ndarray, doc: int) -> float:
        rows = self._rows(doc)
        stored = np.vstack([self.index.reconstruct(int(row)) for row in rows])
        return float((stored @ vector).max())

    def _doc_vector(self, doc: int) -> np.ndarray:
        rows = self._rows(doc)
        mean = np.vstack([self.index.reconstruct(int(row)) for row in rows]).mean(axis=0)
        return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)

    def _allowed(self, genres: Sequence[str]) -> np.ndarray | None:
        """Per anime: has every one of ``genres`` (case-insensitive); None when no filter."""
        wanted = {genre.strip().casefold() for genre in genres if genre.strip()}
        if not wanted:
            return None
        return np.array([wanted <= {g.casefold() for g in gs} for gs in self.genres], dtype=bool)

    def search(self, text: str, k: int = 10, genres: Sequence[str] = ()) -> list[tuple[int, float]]:
        """[(anime_id, cosine)] for the ``k`` anime best matching ``text`` (and every genre)."""
        self._require()
        assert self.lexical is not None
        s = self.settings
        vector = np.asarray(self.encoder.encode([text]), dtype=np.float32)[0]
        allowed = self._allowed(genres)
        pool = max(s.candidates, k)
        dense = self._dense(vector, pool * 4, allowed)
        dense_rank = sorted(dense, key=dense.__getitem__, reverse=True)[:pool]
        fused = {doc: s.dense_weight / (s.rrf_k + rank) for rank, doc in enumerate(dense_rank, 1)}
        if s.lexical_weight > 0:
            lexical = self.lexical.scores(text)
            if allowed is not None:
                lexical = np.where(allowed[: len(lexical)], lexical, 0.0)
            matched = np.flatnonzero(lexical > 0)
            top = matched[np.argsort(-lexical[matched], kind="stable")[:pool]]
            for rank, doc in enumerate(int(d) for d in top):
                fused[doc] = fused.get(doc, 0.0) + s.lexical_weight / (s.rrf_k + rank + 1)
        for doc in fused:
            fused[doc] += s.popularity_weight * float(self.popularity[doc])
        order = sorted(fused, key=fused.__getitem__, reverse=True)[:k]
        return [
            (self.anime_ids[doc], dense[doc] if doc in dense else self._cosine(vector, doc))
            for doc in order
        ]

    def similarity(self, anime_id: int, others: Iterable[int]) -> dict[int, float]:
        """Cosine between ``anime_id``'s vector and each of ``others`` (unknown ones left out)."""
        self._require()
        doc = self._doc_of.get(int(anime_id))
        if doc is None or not len(self._rows(doc)):
            return {}
        vector = self._doc_vector(doc)
        out = {}
        for other in others:
            other_doc = self._doc_of.get(int(other))
            if other_doc is not None and len(self._rows(other_doc)):
                out[int(other)] = float(self._doc_vector(other_doc) @ vector)
        return out

    def similar(self, anime_id: int, k: int = 10) -> list[tuple[int, float]]:
        """[(anime_id, cosine)] nearest to ``anime_id``'s stored vector (itself left out).

        Unknown anime -> []. The anime's vector is the normalised mean of its passages.
        """
        self._require()
        doc = self._doc_of.get(int(anime_id))
        if doc is None or not len(self._rows(doc)):
            return []
        dense = self._dense(self._doc_vector(doc), (k + 1) * 4 + 20, None)
        dense.pop(doc, None)
        order = sorted(dense, key=dense.__getitem__, reverse=True)[:k]
        return [(self.anime_ids[d], dense[d]) for d in order]
