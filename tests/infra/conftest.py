"""Parsed view of terraform/ shared by the infra tests (python-hcl2, no provider downloads)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import hcl2
import pytest
from hcl2 import SerializationOptions

REPO = Path(__file__).resolve().parents[2]
_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)


def parse_tf(path: Path) -> dict[str, Any]:
    """One .tf file as python-hcl2's dict (string literals unquoted, expressions as ${...})."""
    with path.open(encoding="utf-8") as fh:
        return hcl2.load(fh, serialization_options=_OPTIONS)


class TerraformTree:
    """Every .tf file under a root, parsed once, with lookups by block kind."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = {p.relative_to(root).as_posix(): parse_tf(p)
                      for p in sorted(root.rglob("*.tf")) if ".terraform" not in p.parts}

    def blocks(self, kind: str, under: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
        """(file, block) for each top-level block of a kind (resource, module, variable ...)."""
        for rel, doc in self.files.items():
            if rel.startswith(under):
                for block in doc.get(kind, []):
                    yield rel, block

    def resources(self, rtype: str, under: str = "") -> list[tuple[str, str, dict[str, Any]]]:
        """(file, name, body) of every resource of one type."""
        found = []
        for rel, block in self.blocks("resource", under):
            for name, body in block.get(rtype, {}).items():
                found.append((rel, name, body))
        return found

    def resource(self, rtype: str, under: str) -> dict[str, Any]:
        """The single resource of a type under a folder."""
        found = self.resources(rtype, under)
        assert len(found) == 1, f"expected one {rtype} under {under}, found {len(found)}"
        return found[0][2]

    def named(self, kind: str, under: str = "") -> list[tuple[str, str, dict[str, Any]]]:
        """(file, name, body) of labelled blocks such as variable, output, module."""
        return [(rel, name, body) for rel, block in self.blocks(kind, under) for name, body in block.items()]

    def module_call(self, under: str, name: str) -> dict[str, Any]:
        """Arguments of one module call in a folder."""
        calls = [body for _, n, body in self.named("module", under) if n == name]
        assert len(calls) == 1, f"module {name} under {under}: {len(calls)} calls"
        return calls[0]

    def locals(self, under: str) -> dict[str, Any]:
        """All locals of a folder merged."""
        merged: dict[str, Any] = {}
        for _, block in self.blocks("locals", under):
            merged.update(block)
        return merged


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(scope="session")
def tf() -> TerraformTree:
    """terraform/ of the working tree, parsed."""
    return TerraformTree(REPO / "terraform")


@pytest.fixture(scope="session")
def load_tree() -> Callable[[Path], TerraformTree]:
    """Parse another Terraform root (a mutated copy)."""
    return TerraformTree
