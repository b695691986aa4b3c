"""Ranking quality of semantic search on the labelled queries (bench/semantic_queries.json).

Needs the 2020 synopses at ../shared/data (skipped when absent; never copied into the project).

- ``test_quality_on_a_subset`` (default run): the real bundled model over a seeded subset of the
  catalogue (each query's most popular title plus 100 random other anime): 151 passages to encode.
  It proves the whole pipeline ranks with the real model; the subset is easier than the full
  catalogue, so its bar is higher.
- ``test_quality_on_the_full_catalogue`` (``-m slow``): all 12,294 anime, the figures recorded in
  BENCHMARKS.md. Encoding the catalogue takes minutes on two cores, so embeddings are cached by
  text under bench/results/embedding_cache/ (gitignored); a changed text is re-encoded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.semantic_quality import (
    ANIME_CSV,
    SYNOPSES_CSV,
    evaluate,
    load_queries,
    make_encoder,
)
from ml.services.embedding_service import DEFAULT_MODEL, EmbeddingService
from ml.services.faiss_service import FAISSService
from scripts.build_faiss_index import read_catalogue_csv

pytestmark = pytest.mark.skipif(
    not SYNOPSES_CSV.exists(), reason=f"synopses not available at {SYNOPSES_CSV}"
)
MAIN_TITLES_PER_QUERY = 1
DISTRACTORS = 100


@pytest.fixture(scope="module")
def catalogue() -> pd.DataFrame:
    return read_catalogue_csv(ANIME_CSV, SYNOPSES_CSV)


def subset(catalogue: pd.DataFrame) -> pd.DataFrame:
    """Each known-item query's most popular expected titles plus seeded random anime."""
    by_members = catalogue.sort_values("members", ascending=False)
    keep: set[int] = set()
    for _, _, expected in load_queries(catalogue):
        if len(expected) < 100:  # a title or franchise, not a genre
            main = by_members[by_members.anime_id.isin(expected)].anime_id[:MAIN_TITLES_PER_QUERY]
            keep.update(int(a) for a in main)
    rest = catalogue[~catalogue.anime_id.isin(keep)]
    rng = np.random.default_rng(7)
    keep.update(int(a) for a in rng.choice(rest.anime_id.to_numpy(), DISTRACTORS, replace=False))
    return catalogue[catalogue.anime_id.isin(keep)].reset_index(drop=True)


def test_quality_on_a_subset(catalogue: pd.DataFrame) -> None:
    small = subset(catalogue)
    service = FAISSService(encoder=EmbeddingService(DEFAULT_MODEL))
    service.build_index(small)
    scores = evaluate(service, load_queries(small))
    assert scores.recall_at_5 >= 0.9, scores.misses
    assert scores.mrr_at_10 >= 0.8, scores.misses


@pytest.mark.slow
def test_quality_on_the_full_catalogue(catalogue: pd.DataFrame) -> None:
    service = FAISSService(encoder=make_encoder())
    service.build_index(catalogue)
    service.encoder.save()
    scores = evaluate(service, load_queries(catalogue))
    assert scores.recall_at_5 >= 0.8, scores.misses
    assert scores.mrr_at_10 >= 0.6, scores.misses
