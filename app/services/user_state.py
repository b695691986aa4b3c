"""What a user has done, as recommendations need it: ratings, watched titles and their list."""

from __future__ import annotations

from dataclasses import dataclass

from bson import ObjectId
from pymongo.database import Database

from app.db import list_entries as list_db
from app.db import ratings as ratings_db
from app.db import watch_history as history_db
from ml.data import INTERACTION_STATUSES


@dataclass(frozen=True)
class UserState:
    """What a user has done now: ratings, titles watched (or listed as watching, completed, on
    hold, planned) and every anime never to recommend (all of those and the rest of the list)."""

    ratings: dict[int, float]
    watched: set[int]
    hidden: set[int]

    @property
    def is_empty(self) -> bool:
        return not self.ratings and not self.watched

    def seen(self) -> list[int]:
        return sorted(set(self.ratings) | self.watched)


def read_user_state(db: Database, user: ObjectId) -> UserState:
    """The user's ratings, watched entries and list, three indexed queries."""
    ratings = ratings_db.rating_map_for_user(db, user)
    statuses = list_db.status_map_for_user(db, user)
    listed = {anime for anime, status in statuses.items() if status in INTERACTION_STATUSES}
    watched = history_db.watched_by_user(db, user) | listed
    return UserState(ratings, watched - set(ratings), set(ratings) | watched | set(statuses))
