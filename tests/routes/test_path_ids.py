"""One rule for ids in paths: malformed is a 400 naming the id, well-formed but unknown a 404.

Anime ids are integers up to 2**63 - 1 (beyond, a 404 from routing: see
tests/integration/test_catalogue_integration.py, where the database would refuse to encode them).
"""

from __future__ import annotations

import pytest
from bson import ObjectId

MALFORMED = ["not-an-id", "0" * 23, "g" * 24, "$where"]
OBJECT_ID_PATHS = [
    ("get", "/api/ratings/user/{id}", "user"),
    ("get", "/api/history/{id}", "user"),
    ("get", "/api/recommendations/{id}", "user"),
    ("get", "/api/recommendations/{id}/similar/1", "user"),
    ("get", "/api/admin/train/{id}", "training job"),
    ("delete", "/api/ratings/{id}", "rating"),
]


@pytest.fixture
def admin_headers(make_user, token_for) -> dict[str, str]:
    """An admin may read anyone's history and any job, so only the id decides the answer."""
    return token_for(make_user("root", is_admin=True))


@pytest.mark.parametrize("value", MALFORMED)
@pytest.mark.parametrize(("method", "template", "kind"), OBJECT_ID_PATHS)
def test_malformed_id_is_400(client, admin_headers, sample_anime, method, template, kind, value):
    response = getattr(client, method)(template.format(id=value), headers=admin_headers)
    assert response.status_code == 400
    assert f"malformed {kind} id" in response.get_json()["error"]


@pytest.mark.parametrize(("method", "template", "kind"), OBJECT_ID_PATHS)
def test_unknown_well_formed_id_is_404(client, admin_headers, sample_anime, method, template, kind):
    response = getattr(client, method)(template.format(id=ObjectId()), headers=admin_headers)
    assert response.status_code == 404
    assert "not found" in response.get_json()["error"]


def test_largest_64_bit_anime_id_is_an_unknown_anime(client, sample_anime) -> None:
    response = client.get(f"/api/anime/{2**63 - 1}")
    assert response.status_code == 404
    assert response.get_json()["error"] == f"anime {2**63 - 1} not found"


def test_the_document_gives_each_id_its_pattern_or_maximum(client) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    object_ids = {
        "/api/ratings/user/{user_id}": "user_id",
        "/api/ratings/{rating_id}": "rating_id",
        "/api/history/{user_id}": "user_id",
        "/api/recommendations/{user_id}": "user_id",
        "/api/admin/train/{job_id}": "job_id",
    }
    for path, name in object_ids.items():
        (parameter,) = [p for p in paths[path]["parameters"] if p["name"] == name]
        assert parameter["schema"] == {"type": "string", "pattern": "^[0-9a-fA-F]{24}$"}, path
    for path in ("/api/anime/{anime_id}", "/api/recommendations/{user_id}/similar/{anime_id}"):
        (parameter,) = [p for p in paths[path]["parameters"] if p["name"] == "anime_id"]
        assert parameter["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
