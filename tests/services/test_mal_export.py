"""Reading MyAnimeList exports: the fixture, MAL's vocabulary, malformed and hostile files."""

from __future__ import annotations

import pytest

from app.services.mal_export import InvalidExport, MalEntry, read_export
from tests.services.mal_exports import (
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    SAMPLE_ENTRIES,
    anime_xml,
    entries_export,
    export_of,
    gzip_bomb,
    gzipped,
    sample_export,
)


def as_map(entries: list[MalEntry]) -> dict[int, tuple[int, str]]:
    return {entry.anime_id: (entry.score, entry.status) for entry in entries}


def test_the_hand_written_export_reads_every_entry() -> None:
    export = read_export(sample_export())
    assert as_map(export.entries) == SAMPLE_ENTRIES
    assert export.skipped == 0


def test_gzip_reads_the_same_entries() -> None:
    assert read_export(gzipped(sample_export()), declared_gzip=True) == read_export(sample_export())


@pytest.mark.parametrize(
    ("mal_status", "status"),
    [
        ("Watching", "watching"),
        ("Completed", "completed"),
        ("On-Hold", "on_hold"),
        ("Dropped", "dropped"),
        ("Plan to Watch", "plan_to_watch"),
        ("plan to watch", "plan_to_watch"),
        ("3", "on_hold"),
        ("6", "plan_to_watch"),
    ],
)
def test_mal_statuses_map_to_list_statuses(mal_status: str, status: str) -> None:
    export = read_export(export_of(anime_xml(1, 7, mal_status)))
    assert export.entries == [MalEntry(1, 7, status)]


@pytest.mark.parametrize(
    "entry",
    [
        anime_xml("", 7),
        anime_xml("abc", 7),
        anime_xml(0, 7),
        anime_xml(-5, 7),
        anime_xml(2**63, 7),
        anime_xml(1, 11),
        anime_xml(1, -1),
        anime_xml(1, 7.5),
        anime_xml(1, 7, "Rewatching someday"),
        anime_xml(1, 7, "5"),
        "<anime><my_score>7</my_score><my_status>Watching</my_status></anime>",
        anime_xml("1" * 40, 7),
    ],
)
def test_malformed_entries_are_skipped_not_fatal(entry: str) -> None:
    export = read_export(export_of(entry, anime_xml(20, 8)))
    assert export.entries == [MalEntry(20, 8, "watching")]
    assert export.skipped == 1


def test_a_repeated_anime_keeps_the_last_entry_and_counts_the_others_as_skipped() -> None:
    export = read_export(export_of(anime_xml(1, 5), anime_xml(1, 9, "Completed"), anime_xml(1, 9)))
    assert export.entries == [MalEntry(1, 9, "watching")]
    assert export.skipped == 2


def test_other_sections_and_nested_elements_are_ignored() -> None:
    data = export_of(
        "<myinfo><user_id>7</user_id><anime>not an entry</anime></myinfo>",
        anime_xml(1, 7),
        "<unknown_section><x/></unknown_section>",
    )
    assert read_export(data).entries == [MalEntry(1, 7, "watching")]


def test_the_entry_limit_is_inclusive() -> None:
    assert len(read_export(entries_export(5), max_entries=5).entries) == 5
    with pytest.raises(InvalidExport, match="more than 4 entries"):
        read_export(entries_export(5), max_entries=4)


@pytest.mark.parametrize(
    ("data", "declared_gzip", "message"),
    [
        (b"", False, "empty"),
        (b"just some text", False, "not XML"),
        (b'{"anime": []}', False, "not XML"),
        (b"<myanimelist><anime>", False, "not XML"),
        (b"<html><body>hi</body></html>", False, "root is <html>"),
        (sample_export(), True, "not a gzip file"),
        (b"\x1f\x8b\x08\x00garbage-after-the-magic", False, "gzip"),
        (gzipped(sample_export())[:-20], True, "gzip"),
        (gzipped(b"plain text, gzipped"), True, "not XML"),
        (BILLION_LAUGHS, False, "DTD or entities"),
        (EXTERNAL_ENTITY, False, "DTD or entities"),
        (gzipped(BILLION_LAUGHS), True, "DTD or entities"),
    ],
    ids=[
        "empty",
        "text",
        "json",
        "unclosed",
        "html",
        "gz-name-plain-xml",
        "gzip-magic-then-garbage",
        "truncated-gzip",
        "gzipped-text",
        "xml-bomb",
        "external-entity",
        "gzipped-xml-bomb",
    ],
)
def test_unreadable_exports_are_refused(data: bytes, declared_gzip: bool, message: str) -> None:
    with pytest.raises(InvalidExport, match=message):
        read_export(data, declared_gzip=declared_gzip)


def test_decompression_stops_at_the_limit() -> None:
    # The stream is cut in half: reading it all would end in a gzip error, not the size error.
    bomb = gzip_bomb(8 * 1024 * 1024, truncated=True)
    with pytest.raises(InvalidExport, match="larger than 1 MiB"):
        read_export(bomb, max_xml_bytes=1024 * 1024)


def test_a_stream_just_under_the_limit_is_read() -> None:
    assert read_export(gzip_bomb(1024 * 1024), max_xml_bytes=1024 * 1024).entries == []
