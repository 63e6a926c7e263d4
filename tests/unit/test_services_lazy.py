"""Services.lazy builds a component once, even when threads race for it."""
from __future__ import annotations

import threading
import time

from pipeline.bootstrap import Services
from pipeline.settings import load_settings


def test_lazy_component_is_built_once_under_concurrency():
    svc = Services(settings=load_settings(), engine=None, uow_factory=lambda: None, blobs=None, queue=None,
                   bus=None, parse=lambda *_: None, check_upload=lambda *_: None, extractor=None)
    built = []

    def factory():
        built.append(1)
        time.sleep(0.05)
        return object()

    got = []
    threads = [threading.Thread(target=lambda: got.append(svc.lazy("embedder", factory))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(built) == 1 and len({id(g) for g in got}) == 1
