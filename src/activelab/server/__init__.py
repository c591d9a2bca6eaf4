"""Web servers: the labeling app (``app``, ``scorer``, ``static/``) and the Label Studio backend.

Submodules import FastAPI and friends (the ``app`` extra); importing this package does not.
Shared protections for every app live in :mod:`activelab.server.security`.
"""
