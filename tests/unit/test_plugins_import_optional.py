"""import_optional: an absent capability module is skipped, a broken one is not."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pipeline.plugins import import_optional


def test_present_module_is_imported_and_absent_one_is_none() -> None:
    assert import_optional("pipeline.plugins") is sys.modules["pipeline.plugins"]
    assert import_optional("pipeline.no_such_capability") is None
    assert import_optional("no_such_package_atlas.cli") is None


def test_a_missing_dependency_inside_a_present_module_propagates(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "atlas_broken_capability.py").write_text("import atlas_dependency_that_is_not_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as err:
        import_optional("atlas_broken_capability")
    assert err.value.name == "atlas_dependency_that_is_not_installed"
