"""Labeling projects in a database: SQLite by default, PostgreSQL by URL (SQLAlchemy 2)."""

from __future__ import annotations

from .db import check_url, make_engines
from .projects import Annotator, LeaseLost, Store, hash_token, majority_vote

__all__ = ["Store", "Annotator", "LeaseLost", "hash_token", "majority_vote", "make_engines",
           "check_url"]
