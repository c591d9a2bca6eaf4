"""What the labeling app's routes share: one project's state, and who is asking.

:class:`LabelingState` is built once per application (``app.state.labeling``) from the
project's stored settings; the routes receive it, and the authenticated person, through the
FastAPI dependencies :func:`get_state`, :func:`current_user` and :func:`current_admin`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, HTTPException, Request

from ..store import Annotator, Store
from .security import token_from_headers

__all__ = ["DEFAULTS", "LabelingState", "TokenCache", "get_state", "current_user",
           "current_admin"]

#: Project settings the app falls back on when the stored settings lack them.
DEFAULTS: dict[str, Any] = {
    "lease_seconds": 600.0,
    "overlap": 1,
    "budget": None,
    "batch": 10,
    "break_after_minutes": 45.0,
    "root": None,
    "strategy": "margin",
    "show_guess": True,
    "random_share": 0.1,
}


class TokenCache:
    """Token -> annotator for a few seconds, so polling does not hit the database each time."""

    def __init__(self, store: Store, ttl: float = 5.0) -> None:
        self.store = store
        self.ttl = ttl
        self._data: dict[str, tuple[float, Annotator | None]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every token (after a revocation)."""
        with self._lock:
            self._data.clear()

    def get(self, token: str | None) -> Annotator | None:
        """The active person holding ``token``, or None."""
        if not token:
            return None
        now = time.monotonic()
        with self._lock:
            hit = self._data.get(token)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        user = self.store.authenticate(token)
        with self._lock:
            if len(self._data) > 10000:
                self._data.clear()
            self._data[token] = (now, user)
        return user


@dataclass
class LabelingState:
    """One project as the routes see it.

    Attributes
    ----------
    store : Store
    project_id : int
    scorer : Scorer, ScorerProcess or None
        Background retraining, if this process runs it.
    settings : dict
        The stored settings over :data:`DEFAULTS`.
    labels : list of str
        The label choices, in button order.
    tokens : TokenCache
    public_url : str or None
        The address people open (``--public-url``), for the links the app hands out.
    """

    store: Store
    project_id: int
    scorer: Any
    settings: dict[str, Any]
    labels: list[str]
    tokens: TokenCache = field(repr=False)
    public_url: str | None = None

    @classmethod
    def load(cls, store: Store, project_id: int, scorer: Any = None,
             public_url: str | None = None) -> LabelingState:
        """The state of a stored project."""
        project = store.project(project_id)
        return cls(store, project_id, scorer, DEFAULTS | project["settings"],
                   list(project["labels"]), TokenCache(store), public_url)

    def link(self, request: Request, token: str) -> str:
        """The page's address with ``token``: at the public address when one is set."""
        root = self.public_url or str(request.base_url).rstrip("/")
        return f"{root}/#token={token}"

    @property
    def hotkeys(self) -> list[str | None]:
        """The key of each label (None: no key), as chosen or by default."""
        from .options import default_hotkeys

        return self.settings.get("hotkeys") or default_hotkeys(self.labels)

    @property
    def task(self) -> str:
        """``"classification"``, ``"multilabel"`` or ``"regression"``."""
        from .answers import task_name

        return task_name(self.settings)

    @property
    def show_guess(self) -> bool:
        """Whether the page may show the model's guess (once the model beats chance)."""
        return bool(self.settings.get("show_guess", True))

    @property
    def random_share(self) -> float:
        """Share of a ranked queue that are random checks (``--random-share``)."""
        return float(self.settings["random_share"])

    @property
    def lease(self) -> float:
        """Seconds an item stays leased to an annotator."""
        return float(self.settings["lease_seconds"])

    @property
    def overlap(self) -> int:
        """Annotators per item."""
        return int(self.settings["overlap"])

    @property
    def root(self) -> Path | None:
        """The folder image items are read from."""
        root = self.settings.get("root")
        return Path(root).resolve() if root else None

    def current_model(self) -> tuple[Any, int]:
        """The scorer's in-process model and its version: ``(None, 0)`` when there is none,
        or when it does not beat chance yet."""
        scorer = self.scorer
        if scorer is None or scorer.model_ is None or not getattr(scorer, "guess_ok_", False):
            return None, 0
        return scorer.model_, int(scorer.model_version_)

    def poke_scorer(self) -> None:
        """Ask the background scorer (if any) to look again now."""
        if self.scorer is not None:
            self.scorer.poke()


def get_state(request: Request) -> LabelingState:
    """Dependency: the state of the application's project."""
    return request.app.state.labeling


def current_user(request: Request, state: LabelingState = Depends(get_state)) -> Annotator:
    """Dependency: the person whose token the request carries; 401 without a valid one."""
    who = state.tokens.get(token_from_headers(request.headers))
    if who is None or who.project_id != state.project_id:
        raise HTTPException(401, "missing or invalid token: send 'Authorization: Bearer "
                            "<token>'", headers={"WWW-Authenticate": "Bearer"})
    return who


def current_admin(who: Annotator = Depends(current_user)) -> Annotator:
    """Dependency: the project admin; 403 for anyone else."""
    if not who.is_admin:
        raise HTTPException(403, "this route is for the project admin")
    return who
