"""The text the embedding model and the lexical ranker see for each anime.

MiniLM reads at most ``max_seq_length`` word pieces (256 for all-MiniLM-L6-v2, about 190 words),
so the short, telling fields come first (name, genres, type) and a synopsis longer than
``PASSAGE_WORDS`` words is cut on sentence boundaries into several passages, each prefixed with
those fields, rather than truncated: every part of the story stays searchable.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from typing import Any

PLACEHOLDER_PREFIXES = ("no synopsis",)
PASSAGE_WORDS = 150
MAX_PASSAGES = 4
_SOURCE_NOTE = re.compile(r"\s*[\(\[](?:source|written by)[^\)\]]*[\)\]]\s*$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WHITESPACE = re.compile(r"\s+")


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return _WHITESPACE.sub(" ", html.unescape(str(value))).strip()


def clean_name(value: Any) -> str:
    """The display name with HTML entities (``&#039;``) unescaped."""
    return _text(value)


def clean_synopsis(value: Any) -> str:
    """The synopsis without the dataset's placeholder and trailing source notes ('' when none)."""
    text = _text(value)
    if text.lower().startswith(PLACEHOLDER_PREFIXES):
        return ""
    previous = None
    while previous != text:
        previous, text = text, _SOURCE_NOTE.sub("", text)
    return text.strip()


def genres_of(value: Any) -> list[str]:
    return [genre.strip() for genre in _text(value).split(",") if genre.strip()]


def header(anime: Mapping[str, Any]) -> str:
    """'Name. Genre, Genre. TV' - the fields every passage starts with."""
    fields = [clean_name(anime.get("name")), ", ".join(genres_of(anime.get("genre")))]
    fields.append(_text(anime.get("type")))
    return ". ".join(field for field in fields if field)


def plain_text(anime: Mapping[str, Any]) -> str:
    """The baseline text: 'name. genres. type. synopsis' (one vector per anime)."""
    synopsis = clean_synopsis(anime.get("description"))
    return f"{header(anime)}. {synopsis}" if synopsis else header(anime)


def split_synopsis(
    synopsis: str, words: int = PASSAGE_WORDS, limit: int = MAX_PASSAGES
) -> list[str]:
    """Sentence-aligned chunks of at most about ``words`` words (a longer sentence stays whole)."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for sentence in _SENTENCE_END.split(synopsis):
        length = len(sentence.split())
        if current and size + length > words:
            chunks.append(" ".join(current))
            current, size = [], 0
        current.append(sentence)
        size += length
    if current:
        if chunks and size < words // 6:
            chunks[-1] = f"{chunks[-1]} {' '.join(current)}"  # no stub passage for a short tail
        else:
            chunks.append(" ".join(current))
    return chunks[:limit]


def passages(anime: Mapping[str, Any], limit: int = MAX_PASSAGES) -> list[str]:
    """The texts to embed: 'name. genres. type. chunk' for each chunk of the synopsis.

    A synopsis that fits in one passage gives exactly ``plain_text``; a longer one gives several
    passages, so no part of it is cut off by the model's sequence limit.
    """
    head = header(anime)
    synopsis = clean_synopsis(anime.get("description"))
    if not synopsis:
        return [head]
    return [f"{head}. {chunk}" for chunk in split_synopsis(synopsis, limit=limit)]


def lexical_text(anime: Mapping[str, Any]) -> str:
    """What the lexical ranker indexes: name, genres and the whole synopsis."""
    return " ".join(
        [
            clean_name(anime.get("name")),
            " ".join(genres_of(anime.get("genre"))),
            clean_synopsis(anime.get("description")),
        ]
    )
