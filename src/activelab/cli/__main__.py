"""``python -m activelab.cli``: the ``activelab`` command."""

from . import main

main()
