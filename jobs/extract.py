"""`python -m jobs.extract <document ids…>`: the extract job's process entry (exit code = Cloud Run's retry signal)."""
from __future__ import annotations

import sys

from jobs.extract_job import main

if __name__ == "__main__":
    sys.exit(main())
