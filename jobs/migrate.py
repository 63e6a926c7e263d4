"""`python -m jobs.migrate`: apply database migrations (a Cloud Run job run by the deploy pipeline)."""
from __future__ import annotations

import sys

from jobs.migrate_job import main

if __name__ == "__main__":
    sys.exit(main())
