"""`python -m jobs.relay`: publish every pending outbox event (Cloud Scheduler's safety net for the relay)."""
from __future__ import annotations

import sys

from pipeline.settings import load_settings


def main() -> int:
    """Relay until the outbox is drained; exit 1 when some events could not be published (retry later)."""
    from pipeline.bootstrap import build
    from pipeline.logging_setup import configure_logging
    from pipeline.relay import relay_outbox, relay_queue

    settings = load_settings()
    configure_logging(settings.log_level)
    svc = build(settings)
    result = relay_outbox(relay_queue(svc.engine), svc.bus, max_events=10_000)
    return 1 if result.deferred else 0


if __name__ == "__main__":
    sys.exit(main())
