"""Job and dispatcher entrypoints: the dispatcher overrides only args, so each job must pin its command."""
from __future__ import annotations

from pathlib import Path

import hcl2

STACK = Path(__file__).resolve().parents[2] / "terraform" / "modules" / "stack" / "main.tf"


def _modules() -> dict[str, dict]:
    with STACK.open() as fh:
        doc = hcl2.load(fh)
    out: dict[str, dict] = {}
    for block in doc.get("module", []):
        for name, body in block.items():
            out[name.strip('"')] = body
    return out


def _strings(values: list[str]) -> list[str]:
    return [v.strip('"') for v in values]


def test_jobs_pin_their_python_module_so_arg_overrides_are_document_ids():
    mods = _modules()
    assert _strings(mods["extract_job"]["command"]) == ["python", "-m", "jobs.extract"]
    assert _strings(mods["index_job"]["command"]) == ["python", "-m", "jobs.index"]


def test_dispatcher_runs_the_functions_framework_target():
    cmd = _strings(_modules()["dispatcher"]["command"])
    assert cmd[0] == "functions-framework" and "--target=dispatch" in cmd
    assert any(part.endswith("jobs/dispatcher.py") for part in cmd)
    assert (Path(__file__).resolve().parents[2] / "jobs" / "dispatcher.py").exists()
