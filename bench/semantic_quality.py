"""Ranking quality of semantic search on the labelled queries in bench/semantic_queries.json.

    nice .venv/bin/python -m bench.semantic_quality            # every step, full catalogue
    nice .venv/bin/python -m bench.semantic_quality --no-synopses

recall@5: share of queries with an expected anime in the top 5; MRR@10: mean of 1/rank of the
first expected anime in the top 10 (0 when none). Embeddings are cached by text under
bench/results/embedding_cache/ (gitignored), so a step only encodes texts it has not seen.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml.services.anime_text import genres_of
from ml.services.embedding_service import DEFAULT_MODEL, EmbeddingService
from ml.services.faiss_service import FAISSService, SearchSettings
from scripts.build_faiss_index import read_catalogue_csv

log = logging.getLogger("semantic_quality")

ROOT = Path(__file__).resolve().parent.parent
QUERIES_FILE = ROOT / "bench" / "semantic_queries.json"
ANIME_CSV = ROOT / "data" / "sample" / "anime.csv"
SYNOPSES_CSV = ROOT.parent / "shared" / "data" / "anime-2020-synopses" / "anime_with_synopsis.csv"
CACHE_DIR = ROOT / "bench" / "results" / "embedding_cache"

STEPS: dict[str, SearchSettings] = {
    "1 plain: one 'name. genres. type. synopsis' vector, flat IP": SearchSettings(
        plain_text=True, lexical_weight=0.0, popularity_weight=0.0
    ),
    "2 + long synopses as several passages (<=4 vectors)": SearchSettings(
        lexical_weight=0.0, popularity_weight=0.0
    ),
    "3 + BM25 over name/genres/synopsis, reciprocal rank fusion": SearchSettings(
        popularity_weight=0.0
    ),
    "4 + popularity prior (the default)": SearchSettings(),
    "reference: BM25 alone": SearchSettings(dense_weight=0.0, popularity_weight=0.0),
    "reference: BM25 + popularity, no dense": SearchSettings(dense_weight=0.0),
}


class CachedEncoder:
    """Wrap an encoder with an on-disk text -> vector cache (plain .npz, no pickle)."""

    def __init__(self, encoder: Any, path: Path):
        self.encoder = encoder
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path, allow_pickle=False) as data:
                self.vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    def encode(self, texts: Sequence[str], show_progress_bar: bool = False) -> np.ndarray:
        keys = [hashlib.sha1(text.encode()).hexdigest() for text in texts]
        missing = {
            key: text for key, text in zip(keys, texts, strict=True) if key not in self.vectors
        }
        if missing:
            fresh = self.encoder.encode(list(missing.values()), show_progress_bar=show_progress_bar)
            self.vectors.update(zip(missing, fresh, strict=True))
            if len(missing) > 50:
                self.save()
        return np.vstack([self.vectors[key] for key in keys]).astype(np.float32)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self.vectors))
        np.savez(self.path, keys=keys, vectors=np.vstack(list(self.vectors.values())))


@dataclass
class Scores:
    recall_at_5: float
    mrr_at_10: float
    misses: list[str]


def load_queries(catalogue: pd.DataFrame) -> list[tuple[str, str, set[int]]]:
    """(query, label, expected anime ids); a genre query expects every anime of that genre."""
    queries = json.loads(QUERIES_FILE.read_text())["queries"]
    genres = {
        int(a): set(genres_of(g)) for a, g in zip(catalogue.anime_id, catalogue.genre, strict=True)
    }
    out = []
    for item in queries:
        if "genre" in item:
            expected = {a for a, gs in genres.items() if item["genre"] in gs}
        else:
            expected = set(item["expected"])
        out.append((item["query"], item["label"], expected))
    return out


def evaluate(service: FAISSService, queries: list[tuple[str, str, set[int]]]) -> Scores:
    hits, reciprocal, misses = 0, 0.0, []
    for query, label, expected in queries:
        ranked = [anime_id for anime_id, _ in service.search(query, k=10)]
        rank = next((i for i, a in enumerate(ranked, 1) if a in expected), None)
        hits += rank is not None and rank <= 5
        reciprocal += 1.0 / rank if rank else 0.0
        if rank is None or rank > 5:
            misses.append(f"{label} (rank {rank or '>10'})")
    return Scores(hits / len(queries), reciprocal / len(queries), misses)


def make_encoder(model_name: str = DEFAULT_MODEL) -> CachedEncoder:
    key = hashlib.sha1(model_name.encode()).hexdigest()[:10]
    return CachedEncoder(EmbeddingService(model_name), CACHE_DIR / f"{key}.npz")


def run(with_synopses: bool, steps: dict[str, SearchSettings]) -> dict[str, Any]:
    catalogue = read_catalogue_csv(ANIME_CSV, SYNOPSES_CSV if with_synopses else None)
    queries = load_queries(catalogue)
    encoder = make_encoder()
    results: dict[str, Any] = {}
    built: dict[tuple[bool, int], FAISSService] = {}
    for name, settings in steps.items():
        key = (settings.plain_text, settings.max_passages)
        started = time.perf_counter()
        if key not in built:
            built[key] = FAISSService(encoder=encoder, settings=settings)
            built[key].build_index(catalogue, show_progress_bar=True)
        service = built[key]
        service.settings = replace(settings)
        build_s = time.perf_counter() - started
        scores = evaluate(service, queries)
        results[name] = {
            "recall@5": round(scores.recall_at_5, 3),
            "mrr@10": round(scores.mrr_at_10, 3),
            "misses": scores.misses,
            "vectors": int(service.index.ntotal),
        }
        log.info(
            "%-62s recall@5 %.3f  MRR@10 %.3f  (%.0f s)",
            name,
            scores.recall_at_5,
            scores.mrr_at_10,
            build_s,
        )
        log.info("    misses: %s", ", ".join(scores.misses) or "none")
    encoder.save()
    return results


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-synopses", action="store_true", help="names, genres and type only")
    args = parser.parse_args()
    results = run(not args.no_synopses, STEPS)
    out = (
        ROOT / "bench" / "results" / f"semantic_quality{'_nosyn' if args.no_synopses else ''}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    log.info("written %s", out)


if __name__ == "__main__":
    main()
