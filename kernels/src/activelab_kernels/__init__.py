"""Optional compiled kernels for activelab.

activelab uses them when this package is installed (``pip install ./kernels`` from a
checkout) and falls back to its numpy code otherwise, with the same query ids.
"""

from ._linear import score, set_simd, simd

__all__ = ["score", "set_simd", "simd"]
