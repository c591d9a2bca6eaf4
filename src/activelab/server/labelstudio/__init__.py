"""Label Studio ML backend: activelab's strategies inside Label Studio.

Speaks Label Studio's ML backend protocol (as sent by Label Studio 1.23) directly
with FastAPI:

- ``GET /health`` (and ``GET /``): ``{"status": "UP", ...}``.
- ``POST /setup``: parses the labeling config (``<Choices>`` over ``<Text>`` or
  ``<Image>``, single or multiple choice), remembers Label Studio's URL and token,
  returns the current ``model_version``.
- ``POST /predict``: one prediction per task, in order, each with ``result``,
  ``score`` and ``model_version``.  The score encodes the strategy so that Label
  Studio's ascending sort puts the most informative task first (see
  :mod:`activelab.server.ls_scoring`).
- ``POST /webhook``: acknowledged at once; annotations are stored before the reply
  and the model is retrained in the background.  ``START_TRAINING`` fetches every
  annotation from Label Studio's export API with the token from ``/setup``.
- ``GET /versions``; legacy ``POST /train``.

Every retrain gives a new ``model_version``.  With ``push_predictions`` the backend
then imports fresh predictions for every unlabeled task into Label Studio and sets
the project's model version, so that Label Studio's "Uncertainty sampling" follows
activelab's ranking.

Labels and model versions live in a database (:class:`activelab.store.ls_state.LSState`)
and survive a restart: the model is refitted on the stored labels and keeps its
version when the labels are unchanged.

=================  ====================================================================
module             job
=================  ====================================================================
``settings``       :class:`LSBackendConfig`, the ``--model`` names (the model table's)
``config``         labeling config XML -> what to predict (classes, object, checks)
``tasks``          Label Studio payloads -> stored label rows; project keys, image paths
``model``          fit a project's model, predict and score tasks
``worker``         the background trainer queue
``client``         Label Studio's REST API (export, prediction import, model version)
``backend``        :class:`LSBackend`: the protocol calls and model versions
``app``            the FastAPI application and the uvicorn server (needs the app extra)
=================  ====================================================================

Importing this package does not import FastAPI; :func:`create_app` and :func:`serve`
load it when first used.
"""

from __future__ import annotations

from typing import Any

from .backend import LSBackend
from .model import ProjectModel
from .settings import ESTIMATORS, LSBackendConfig, make_estimator
from .tasks import ANNOTATION_EVENTS, DELETE_EVENTS, image_path_from_ls, project_key

__all__ = [
    "LSBackendConfig",
    "LSBackend",
    "ProjectModel",
    "create_app",
    "serve",
    "make_estimator",
    "project_key",
    "image_path_from_ls",
    "ESTIMATORS",
    "SECRET_HEADER",
    "MAX_BODY_BYTES",
    "ANNOTATION_EVENTS",
    "DELETE_EVENTS",
]

_HTTP_NAMES = frozenset({"create_app", "serve", "SECRET_HEADER", "MAX_BODY_BYTES"})


def __getattr__(name: str) -> Any:
    """Load the HTTP side (FastAPI) on first use of one of its names."""
    if name in _HTTP_NAMES:
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
