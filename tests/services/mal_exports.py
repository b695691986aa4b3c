"""MyAnimeList exports for the tests: the hand-written fixture and hostile or broken variants."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

SAMPLE_EXPORT = Path(__file__).resolve().parent.parent / "fixtures" / "animelist_sample.xml"
# What the fixture holds: anime_id -> (my_score, status); 5114 is not in the test catalogue.
SAMPLE_ENTRIES = {
    1: (9, "completed"),
    20: (0, "dropped"),
    21: (8, "watching"),
    199: (10, "completed"),
    1575: (0, "plan_to_watch"),
    5114: (10, "on_hold"),
}
MIB = 1024 * 1024


def sample_export() -> bytes:
    return SAMPLE_EXPORT.read_bytes()


def anime_xml(anime_id: object, score: object = 0, status: str = "Watching") -> str:
    return (
        f"<anime><series_animedb_id>{anime_id}</series_animedb_id>"
        f"<series_title><![CDATA[Title {anime_id}]]></series_title>"
        f"<my_score>{score}</my_score><my_status>{status}</my_status></anime>"
    )


def export_of(*entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" ?><myanimelist>' + "".join(entries) + "</myanimelist>"
    ).encode()


def entries_export(count: int) -> bytes:
    """An export of ``count`` entries (ids 1..count)."""
    return export_of(*(anime_xml(anime_id) for anime_id in range(1, count + 1)))


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<myanimelist><anime><series_animedb_id>1</series_animedb_id><my_score>9</my_score>
<my_status>&lol9;</my_status></anime></myanimelist>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE myanimelist [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<myanimelist><anime><series_animedb_id>1</series_animedb_id><my_score>9</my_score>
<my_status>Completed</my_status><my_comments>&secret;</my_comments></anime></myanimelist>"""


def gzip_bomb(xml_bytes: int, *, truncated: bool = False) -> bytes:
    """Gzip of a valid export padded with whitespace to ``xml_bytes`` bytes (a few hundred KB).

    ``truncated`` cuts the gzip stream's end off: a reader that decompressed it all would fail
    on the truncation, so a size error proves reading stopped at the limit.
    """
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    head, tail = b"<myanimelist>", b"</myanimelist>"
    parts = [compressor.compress(head)]
    block = b" " * MIB
    remaining = xml_bytes - len(head) - len(tail)
    while remaining > 0:
        parts.append(compressor.compress(block[: min(remaining, MIB)]))
        remaining -= MIB
    parts += [compressor.compress(tail), compressor.flush()]
    data = b"".join(parts)
    return data[: len(data) // 2] if truncated else data


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data)
