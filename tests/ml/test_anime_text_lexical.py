"""Text construction per anime and the BM25 ranker."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ml.services import anime_text
from ml.services.lexical import BM25Index, tokenize

ANIME = {
    "anime_id": 1,
    "name": "Hachimitsu to Clover &#039;Specials&#039;",
    "genre": "Comedy, Drama, Josei",
    "type": "Special",
    "description": "Art students share a flat. (Source: ANN)",
}


@pytest.mark.parametrize(
    "value",
    [
        None,
        float("nan"),
        "",
        "No synopsis information has been added to this title. Help improve our database.",
        "No synopsis has been added for this series yet.",
    ],
)
def test_missing_or_placeholder_synopsis_is_empty(value: object) -> None:
    assert anime_text.clean_synopsis(value) == ""


def test_short_fields_first_entities_unescaped_source_note_dropped() -> None:
    expected = (
        "Hachimitsu to Clover 'Specials'. Comedy, Drama, Josei. Special. Art students share a flat."
    )
    assert anime_text.plain_text(ANIME) == expected
    assert anime_text.passages(ANIME) == [expected]


def test_long_synopsis_is_split_on_sentences_with_the_header_repeated() -> None:
    synopsis = " ".join(f"Sentence {i} has exactly six words." for i in range(200))
    chunks = anime_text.split_synopsis(synopsis, words=30, limit=10)
    assert all(len(chunk.split()) <= 30 for chunk in chunks)
    assert all(chunk.endswith(".") for chunk in chunks)
    texts = anime_text.passages({**ANIME, "description": synopsis})
    assert len(texts) == anime_text.MAX_PASSAGES
    assert all(text.startswith("Hachimitsu to Clover") for text in texts)


def test_no_synopsis_gives_the_header_only() -> None:
    assert anime_text.passages({**ANIME, "description": None}) == [anime_text.header(ANIME)]


def test_tokenize_stems_and_drops_stop_words() -> None:
    assert tokenize("The Pirates were hunting treasures!") == ["pirat", "hunt", "treasur"]


def test_bm25_ranks_term_matches_and_prefers_rare_terms() -> None:
    index = BM25Index.build(["pirate ship sea", "sea sea sea", "ninja village", "pirate ninja"])
    scores = index.scores("pirate sea")
    assert scores.argmax() == 0
    assert index.scores("unknownword").sum() == 0
    rare = index.scores("village")
    assert rare[2] > 0 and rare[[0, 1, 3]].sum() == 0


def test_bm25_upsert_replaces_and_appends(tmp_path: Path) -> None:
    index = BM25Index.build(["pirate ship", "ninja village", "robot pilot"])
    index.upsert([1, 3], ["cooking contest", "pirate robot"])
    assert index.n_documents == 4
    assert index.scores("ninja").sum() == 0
    assert index.scores("cooking").argmax() == 1
    assert set(np.flatnonzero(index.scores("pirate"))) == {0, 3}
    index.save(tmp_path / "bm25")
    loaded = BM25Index.load(tmp_path / "bm25")
    np.testing.assert_allclose(loaded.scores("pirate robot"), index.scores("pirate robot"))
