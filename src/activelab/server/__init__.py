"""Web servers: the labeling app and the Label Studio backend.

The labeling app is ``app`` (``create_app`` wires the routers of ``routes`` over the project's
``state``; ``views`` builds the JSON; ``scorer`` retrains in the background; ``static/`` is the
page).  The Label Studio backend is the ``labelstudio`` package.  Both build their models with
:func:`activelab.engine.models.make_model` and query through :mod:`activelab.strategies.query`.

Submodules import FastAPI and friends (the ``app`` extra); importing this package does not.
Shared protections for every app live in :mod:`activelab.server.security`.
"""
