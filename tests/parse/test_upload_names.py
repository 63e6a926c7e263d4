"""Client-supplied file names only ever feed the extension check: never a path, never a shell argument."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from pipeline.domain.errors import InvalidDocument
from pipeline.parse import check_upload, parse_document
from pipeline.parse.formats import declared_extension

PARSE_DIR = Path(__file__).resolve().parents[2] / "pipeline" / "parse"
_PATH_CALLS = {"open", "Path", "PurePath", "remove", "unlink", "rename", "makedirs", "mkdir", "chdir", "system",
               "popen", "Popen", "run", "call", "check_call", "check_output"}


def test_parse_never_builds_paths_from_names():
    """No parse module passes a variable called *name*/*filename* to a file-system or process call."""
    for source in sorted(PARSE_DIR.glob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in _PATH_CALLS:
                    names = {n.id for arg in node.args for n in ast.walk(arg) if isinstance(n, ast.Name)}
                    assert not any("name" in n.lower() for n in names), (source.name, ast.unparse(node))


def test_parse_document_takes_no_file_name():
    import inspect

    params = inspect.signature(parse_document).parameters
    assert not any("name" in p or "path" in p for p in params)


def test_hostile_names_only_affect_the_extension(shared_dir, tmp_path, monkeypatch):
    names_file = shared_dir / "badinputs" / "upload_names.json"
    if not names_file.is_file():
        pytest.skip("upload_names.json not found")
    monkeypatch.chdir(tmp_path)
    for entry in json.loads(names_file.read_text(encoding="utf-8")):
        data = (shared_dir / "badinputs" / "files" / entry["carries"]).read_bytes()
        try:
            check_upload(data, entry["name"])
        except InvalidDocument as exc:
            assert exc.code in ("type_mismatch", "unsupported_type", "no_text", "empty_file"), entry["name"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, ext", [("../../etc/passwd.pdf", "pdf"), ("..\\..\\win.ini.PDF", "pdf"),
                                        ("lease", ""), ("", ""), (".pdf", "pdf"), ("lease.pdf ", "pdf"),
                                        ("lease\u202efdp.exe", "exe"), ("a.tar.gz", "gz")])
def test_declared_extension(name, ext):
    assert declared_extension(name) == ext
