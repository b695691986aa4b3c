"""Read a MyAnimeList export (``animelist_*.xml`` or ``.xml.gz``) safely into plain entries.

The XML is streamed through defusedxml's SAX parser with DTDs forbidden (no entity expansion,
no external entities), never built into a tree, so memory stays bounded whatever the file holds.
A gzip stream is decompressed chunk by chunk and refused once the XML passes ``max_xml_bytes``.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.sax import SAXException
from xml.sax.handler import ContentHandler

from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser

from app.db import list_entries as list_db

MAX_ENTRIES = 20_000
MIB = 1024 * 1024
MAX_XML_BYTES = 100 * MIB
CHUNK_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"
ROOT = "myanimelist"
ENTRY = "anime"
ID_FIELD, SCORE_FIELD, STATUS_FIELD = "series_animedb_id", "my_score", "my_status"
MAX_FIELD_CHARS = 32  # longer than any valid id, score or status
# MAL's export spells statuses out; older exports and third-party tools write MAL's numeric codes.
MAL_STATUSES = {
    "watching": list_db.WATCHING,
    "completed": list_db.COMPLETED,
    "on-hold": list_db.ON_HOLD,
    "dropped": list_db.DROPPED,
    "plan to watch": list_db.PLAN_TO_WATCH,
    "1": list_db.WATCHING,
    "2": list_db.COMPLETED,
    "3": list_db.ON_HOLD,
    "4": list_db.DROPPED,
    "6": list_db.PLAN_TO_WATCH,
}
MAX_SCORE = 10


class InvalidExport(ValueError):
    """The upload is not a MyAnimeList export this API can read; the message says why."""


@dataclass(frozen=True)
class MalEntry:
    anime_id: int
    score: int  # 0: not scored
    status: str  # one of list_entries.STATUSES


@dataclass
class MalExport:
    entries: list[MalEntry] = field(default_factory=list)  # one per anime, the file's last
    skipped: int = 0  # malformed entries and repeats of an anime


def _entry_from(values: dict[str, str]) -> MalEntry | None:
    """The entry of one ``<anime>``'s fields, or None when one of them is missing or invalid."""
    anime_id, score = values.get(ID_FIELD, ""), values.get(SCORE_FIELD, "0")
    status = MAL_STATUSES.get(values.get(STATUS_FIELD, "").casefold())
    if not (anime_id.isdigit() and score.isdigit() and status):
        return None
    if not (0 < int(anime_id) < 2**63 and int(score) <= MAX_SCORE):
        return None
    return MalEntry(int(anime_id), int(score), status)


class _ExportHandler(ContentHandler):
    """Collects the three fields of each ``<anime>`` (children of the root) as it streams by."""

    def __init__(self, max_entries: int) -> None:
        super().__init__()
        self.max_entries = max_entries
        self.export = MalExport()
        self._by_anime: dict[int, MalEntry] = {}
        self._depth = 0
        self._entries = 0
        self._values: dict[str, str] | None = None
        self._field: str | None = None
        self._text: list[str] = []
        self._chars = 0

    def startElement(self, name: str, attrs: Any) -> None:  # noqa: N802 - SAX's name
        self._depth += 1
        if self._depth == 1 and name != ROOT:
            raise InvalidExport(f"not a MyAnimeList export: the root is <{name}>, not <{ROOT}>")
        if self._depth == 2 and name == ENTRY:
            self._entries += 1
            if self._entries > self.max_entries:
                raise InvalidExport(f"the export holds more than {self.max_entries:,} entries")
            self._values = {}
        elif self._depth == 3 and self._values is not None:
            self._field, self._text, self._chars = name, [], 0

    def characters(self, content: str) -> None:
        if self._field is not None and self._chars <= MAX_FIELD_CHARS:
            self._text.append(content)
            self._chars += len(content)

    def endElement(self, name: str) -> None:  # noqa: N802 - SAX's name
        if self._depth == 3 and self._values is not None and self._field is not None:
            text = "".join(self._text).strip()
            self._values[self._field] = text if self._chars <= MAX_FIELD_CHARS else "invalid"
            self._field = None
        elif self._depth == 2 and self._values is not None:
            self._keep(_entry_from(self._values))
            self._values = None
        self._depth -= 1

    def _keep(self, entry: MalEntry | None) -> None:
        if entry is None:
            self.export.skipped += 1
            return
        if entry.anime_id in self._by_anime:
            self.export.skipped += 1
        self._by_anime[entry.anime_id] = entry

    def endDocument(self) -> None:  # noqa: N802 - SAX's name
        self.export.entries = list(self._by_anime.values())


def _size(limit: int) -> str:
    mebibytes, rest = divmod(limit, MIB)
    return f"{mebibytes} MiB" if mebibytes and not rest else f"{limit:,} bytes"


def _xml_chunks(data: bytes, *, declared_gzip: bool) -> Callable[[], bytes]:
    """A reader of the export's XML, ``CHUNK_BYTES`` at a time, gunzipped when it is gzip."""
    if data.startswith(GZIP_MAGIC):
        stream = gzip.GzipFile(fileobj=io.BytesIO(data))
        return lambda: stream.read(CHUNK_BYTES)
    if declared_gzip:
        raise InvalidExport("not a gzip file: the upload was sent as .gz but is not gzip")
    plain = io.BytesIO(data)
    return lambda: plain.read(CHUNK_BYTES)


def read_export(
    data: bytes,
    *,
    declared_gzip: bool = False,
    max_entries: int = MAX_ENTRIES,
    max_xml_bytes: int = MAX_XML_BYTES,
) -> MalExport:
    """The entries of a MyAnimeList export given as XML or gzipped XML; InvalidExport if it is not.

    ``declared_gzip`` (a ``.gz`` name or a gzip content type) makes anything but gzip an error.
    Reading stops as soon as the XML passes ``max_xml_bytes`` or ``max_entries`` ``<anime>``.
    """
    if not data:
        raise InvalidExport("the export is empty")
    handler = _ExportHandler(max_entries)
    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setContentHandler(handler)
    read_chunk = _xml_chunks(data, declared_gzip=declared_gzip)
    total = 0
    try:
        while chunk := read_chunk():
            total += len(chunk)
            if total > max_xml_bytes:
                raise InvalidExport(f"the export's XML is larger than {_size(max_xml_bytes)}")
            parser.feed(chunk)
        parser.close()
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise InvalidExport(f"not a valid gzip file: {error}") from None
    except DefusedXmlException:
        raise InvalidExport(
            "refused: the export declares a DTD or entities (MyAnimeList exports have none)"
        ) from None
    except SAXException as error:
        raise InvalidExport(f"not XML: {error}") from None
    return handler.export
