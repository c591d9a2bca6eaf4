"""Shared test set-up."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_limits

# the PostgreSQL / SQLite database fixtures (db_url) of the app tests
pytest_plugins = ["_pg"]


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """Pin BLAS to one thread: on small matrices two OpenBLAS threads are many times slower
    on a busy 2-core machine, and results must not depend on the thread count."""
    import sklearn  # noqa: F401  (load the BLAS libraries before limiting them)

    with threadpool_limits(limits=1):
        yield
