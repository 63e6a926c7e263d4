"""`python -m jobs.index index:<org>:<doc> …` (or `reindex`): the single index writer's process entry."""
from __future__ import annotations

import sys

from jobs.index_job import main

if __name__ == "__main__":
    sys.exit(main())
