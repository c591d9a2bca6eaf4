"""Run the real command line in a subprocess and say which heavy libraries it imported."""

#: ``python -c REPORT_IMPORTS ARGS`` runs ``activelab ARGS``, then prints on stderr a last
#: line ``imported: ...`` naming the heavy libraries loaded by the time it exited.
REPORT_IMPORTS = """
import sys
from activelab.cli import main
try:
    main()
finally:
    heavy = ("sklearn", "scipy", "pandas", "matplotlib", "fastapi", "uvicorn")
    print("imported:", ",".join(m for m in heavy if m in sys.modules), file=sys.stderr)
"""
