"""The extract job with an extractor that stalls mid-document, so a test can SIGKILL the task right there."""
from __future__ import annotations

import dataclasses
import sys
import time
from typing import Any

import pipeline.bootstrap as bootstrap
from jobs.extract_job import main

_real_build = bootstrap.build


class StallingExtractor:
    """Same name and version as the real one; sleeps before extracting."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.version = inner.version

    def extract(self, doc: Any) -> Any:
        time.sleep(600)
        return self.inner.extract(doc)


def _build(settings: Any, **kw: Any) -> Any:
    svc = _real_build(settings, **kw)
    return dataclasses.replace(svc, extractor=StallingExtractor(svc.extractor))


if __name__ == "__main__":
    bootstrap.build = _build
    sys.exit(main())
