"""`python -m jobs.sweep`: the scheduled safety net (lost uploads, stuck documents, outbox relay)."""
from __future__ import annotations

import sys

from jobs.sweep_job import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
