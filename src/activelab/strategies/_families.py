"""Imports every built-in strategy family so that their names are registered.

Add a new family module here.
"""

from . import committee, random_sampling, uncertainty  # noqa: F401
