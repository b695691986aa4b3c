"""POST /api/list/import: uploads and raw bodies, XML and gzip, re-import, every bad file."""

from __future__ import annotations

import io
from collections import Counter
from functools import cache
from typing import Any

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from app.db.common import count
from tests.services.mal_exports import (
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    MIB,
    entries_export,
    export_of,
    gzip_bomb,
    gzipped,
    sample_export,
)

IMPORT = "/api/list/import"
FIRST_IMPORT = {
    "ratings_imported": 3,
    "ratings_updated": 0,
    "statuses_imported": 5,
    "unknown_anime": 1,
    "skipped": 0,
}
NOTHING_NEW = {**FIRST_IMPORT, "ratings_imported": 0, "statuses_imported": 0}


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def headers(alice, token_for):
    return token_for(alice)


def upload(
    client, headers, data: bytes, filename: str = "animelist_1700000000_-_1.xml", field="file"
) -> Any:
    """A multipart upload, encoded in memory (the test client spools large ones to a file)."""
    stream, length, boundary = stream_encode_multipart(
        {field: FileStorage(io.BytesIO(data), filename)}, use_tempfile=False
    )
    return client.post(
        IMPORT,
        input_stream=stream,
        content_length=length,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=headers,
    )


def send_body(client, headers, data: bytes, content_type: str = "application/xml") -> Any:
    return client.post(IMPORT, data=data, content_type=content_type, headers=headers)


def counts(db) -> dict[str, int]:
    return {name: count(db[name]) for name in db.list_collection_names()}


@pytest.mark.parametrize(
    "send",
    [
        lambda c, h: upload(c, h, sample_export()),
        lambda c, h: upload(c, h, gzipped(sample_export()), "animelist_1700000000_-_1.xml.gz"),
        lambda c, h: send_body(c, h, sample_export()),
        lambda c, h: send_body(c, h, gzipped(sample_export()), "application/gzip"),
        lambda c, h: send_body(c, h, gzipped(sample_export()), "application/octet-stream"),
    ],
    ids=["upload-xml", "upload-gz", "body-xml", "body-gzip", "body-octet-stream-gzip"],
)
def test_the_export_round_trips_and_re_imports_as_nothing_new(
    client, db, sample_anime, headers, send
) -> None:
    first = send(client, headers)
    assert first.status_code == 200, first.get_json()
    assert first.get_json() == FIRST_IMPORT
    before = counts(db)
    again = send(client, headers)
    assert again.status_code == 200
    assert again.get_json() == NOTHING_NEW
    assert counts(db) == before


def test_the_imported_list_ratings_and_history_read_back(client, sample_anime, alice, headers):
    upload(client, headers, sample_export())
    listed = client.get("/api/list?limit=100", headers=headers).get_json()
    assert {e["anime_id"]: e["status"] for e in listed["entries"]} == {
        1: "completed",
        20: "dropped",
        21: "watching",
        199: "completed",
        1575: "plan_to_watch",
    }
    ratings = client.get(f"/api/ratings/user/{alice['_id']}").get_json()["ratings"]
    assert {r["anime_id"]: r["rating"] for r in ratings} == {1: 9, 21: 8, 199: 10}
    history = client.get("/api/history?limit=100", headers=headers).get_json()["history"]
    assert Counter(h["action"] for h in history) == {"rated": 3, "listed": 5}


def test_a_changed_score_updates_the_rating(client, db, sample_anime, headers) -> None:
    upload(client, headers, sample_export())
    changed = sample_export().replace(b"<my_score>9</my_score>", b"<my_score>6</my_score>")
    response = upload(client, headers, changed)
    assert response.get_json() == {**NOTHING_NEW, "ratings_updated": 1}
    assert db.ratings.find_one({"anime_id": 1})["rating"] == 6
    assert db.watch_history.find_one({"action": "re-rated"})["previous_rating"] == 9


def test_the_import_stamps_the_user(client, db, sample_anime, alice, headers) -> None:
    upload(client, headers, sample_export())
    assert db.users.find_one({"_id": alice["_id"]}).get("ratings_changed_at") is not None


def test_the_import_needs_a_token(client, db, sample_anime) -> None:
    response = upload(client, {}, sample_export())
    assert response.status_code == 401
    assert count(db.ratings) == 0 and count(db.list_entries) == 0


@cache
def too_large_stream() -> bytes:
    return gzip_bomb(100 * MIB + 1)


BAD_FILES = [
    ("empty-body", lambda c, h: send_body(c, h, b""), "empty"),
    ("text", lambda c, h: send_body(c, h, b"these are my favourite anime"), "not XML"),
    ("json", lambda c, h: send_body(c, h, b'{"anime": [1]}', "application/json"), "not XML"),
    ("html", lambda c, h: upload(c, h, b"<html><body/></html>"), "<myanimelist>"),
    ("truncated-xml", lambda c, h: upload(c, h, sample_export()[:-200]), "not XML"),
    ("xml-named-gz", lambda c, h: upload(c, h, sample_export(), "animelist.xml.gz"), "gzip"),
    (
        "xml-sent-as-gzip",
        lambda c, h: send_body(c, h, sample_export(), "application/gzip"),
        "gzip",
    ),
    (
        "corrupt-gzip",
        lambda c, h: upload(c, h, gzipped(sample_export())[:-30], "animelist.xml.gz"),
        "gzip",
    ),
    ("xml-bomb", lambda c, h: upload(c, h, BILLION_LAUGHS), "DTD or entities"),
    ("gzipped-xml-bomb", lambda c, h: upload(c, h, gzipped(BILLION_LAUGHS), "a.xml.gz"), "DTD"),
    ("external-entity", lambda c, h: send_body(c, h, EXTERNAL_ENTITY), "DTD or entities"),
    ("20001-entries", lambda c, h: send_body(c, h, entries_export(20_001)), "20,000 entries"),
    (
        "over-100-mib-decompressed",
        lambda c, h: upload(c, h, too_large_stream(), "animelist.xml.gz"),
        "larger than 100 MiB",
    ),
    (
        "no-file-field",
        lambda c, h: upload(c, h, sample_export(), field="export"),
        "file field 'file'",
    ),
]


@pytest.mark.parametrize(
    ("send", "message"), [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES]
)
def test_a_bad_file_is_400_and_writes_nothing(
    client, db, sample_anime, alice, headers, send, message: str
) -> None:
    upload(client, headers, export_of())  # an empty export: the user exists, nothing written
    before = counts(db)
    response = send(client, headers)
    assert response.status_code == 400, response.get_json()
    assert message in response.get_json()["error"]
    assert counts(db) == before
    assert "ratings_changed_at" not in db.users.find_one({"_id": alice["_id"]})


def test_an_export_of_exactly_20000_entries_is_read(client, db, sample_anime, headers) -> None:
    response = send_body(client, headers, entries_export(20_000))
    assert response.status_code == 200
    body = response.get_json()
    assert body["unknown_anime"] == 20_000 - 5  # all but the test catalogue's five
    assert body["statuses_imported"] == 5


def test_a_body_over_10_mib_is_413_but_over_1_mib_is_accepted(client, db, sample_anime, headers):
    padding = b" " * (10 * MIB)
    too_large = send_body(client, headers, export_of() + padding)
    assert too_large.status_code == 413
    assert "larger than 10,485,760 bytes" in too_large.get_json()["error"]
    too_large_upload = upload(client, headers, export_of() + padding)
    assert too_large_upload.status_code == 413
    assert count(db.list_entries) == 0
    large = send_body(client, headers, sample_export() + b" " * (2 * MIB))
    assert large.status_code == 200


def test_other_routes_keep_the_1_mib_limit(client, db, sample_anime, headers) -> None:
    body = b'{"anime_id": 1, "rating": 9' + b" " * (2 * MIB) + b"}"
    response = client.post(
        "/api/ratings", data=body, content_type="application/json", headers=headers
    )
    assert response.status_code == 413
    assert "error" in response.get_json()
    assert count(db.ratings) == 0
