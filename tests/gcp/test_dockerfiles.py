"""Static checks of the Dockerfiles (Docker cannot run here): buildable by construction and safe by default."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILES = ["Dockerfile.api", "Dockerfile.jobs"]


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def stages(ins: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    for i in ins:
        if i[0] == "FROM":
            out.append([])
        if out:
            out[-1].append(i)
    return out


def makefile_pip_installs() -> list[str]:
    """The pip install arguments of the Makefile's install recipe, flags dropped."""
    text = (REPO / "Makefile").read_text()
    cmds = re.findall(r"\$\(BIN\)/pip install ([^\n]+)", text)
    return [" ".join(a for a in shlex.split(c) if not a.startswith("-")) for c in cmds]


@pytest.fixture(params=DOCKERFILES)
def dockerfile(request) -> Path:  # type: ignore[no-untyped-def]
    path = REPO / request.param
    assert path.exists(), f"{request.param} is missing"
    return path


def test_base_images_are_pinned_slim_python_311(dockerfile: Path) -> None:
    froms = [rest for word, rest in instructions(dockerfile) if word == "FROM"]
    assert len(froms) >= 2, "multi-stage build expected"
    aliases = {ref.split()[2] for ref in froms if len(ref.split()) == 3 and ref.split()[1].upper() == "AS"}
    for ref in froms:
        image = ref.split()[0]
        if image in aliases:  # a stage built on an earlier stage
            continue
        assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?", image), image
        assert ":latest" not in image


def test_final_stage_runs_as_a_non_root_user(dockerfile: Path) -> None:
    final = stages(instructions(dockerfile))[-1]
    users = [rest for word, rest in final if word == "USER"]
    assert users, "no USER in the final stage"
    assert users[-1].split(":")[0] not in ("root", "0")
    # nothing after USER switches back or installs packages as root
    after = final[[w for w, _ in final].index("USER"):]
    assert not any(w == "RUN" and "apt-get" in r for w, r in after)


def test_no_remote_add_and_no_secrets_baked_in(dockerfile: Path) -> None:
    for word, rest in instructions(dockerfile):
        if word == "ADD":
            assert not re.search(r"https?://|git@", rest), f"ADD of a URL: {rest}"
        if word in ("ENV", "ARG"):
            assert not re.search(r"(KEY|SECRET|PASSWORD|TOKEN|PEPPER)\w*=", rest, re.I), rest
        if word == "COPY":
            assert ".env" not in rest and "tests" not in rest.split()


def test_install_commands_are_the_makefiles(dockerfile: Path) -> None:
    runs = " ".join(rest for word, rest in instructions(dockerfile) if word == "RUN")
    torch_pin, project = makefile_pip_installs()
    assert torch_pin.startswith("torch==")
    assert f"pip install {torch_pin}" in runs
    assert re.search(r"pip install \.(\s|$)", runs), "the project must be installed with `pip install .`"
    assert runs.index(torch_pin) < runs.index("pip install ."), "torch must be installed first (CPU build)"
    assert project.startswith(".")  # the Makefile installs the same project (plus dev extras)


def test_healthcheck_is_declared(dockerfile: Path) -> None:
    checks = [rest for word, rest in instructions(dockerfile) if word == "HEALTHCHECK"]
    assert checks, "HEALTHCHECK missing"


def test_api_image_probes_health_on_port_and_shuts_down_gracefully() -> None:
    ins = instructions(REPO / "Dockerfile.api")
    [check] = [rest for word, rest in ins if word == "HEALTHCHECK"]
    assert "/health" in check and "PORT" in check
    [cmd] = [rest for word, rest in ins if word == "CMD"]
    assert "exec gunicorn" in cmd and "${PORT}" in cmd and "--graceful-timeout" in cmd
    assert "'api.wsgi:create()'" in cmd
    assert "exec atlas serve" in cmd  # single box: API + embedded worker
    assert ("VOLUME", '["/app/data"]') in ins
    assert any(w == "ENV" and "ATLAS_DATA_DIR=/app/data" in r for w, r in ins)


def test_jobs_image_has_tesseract_like_the_makefile() -> None:
    runs = " ".join(rest for word, rest in instructions(REPO / "Dockerfile.jobs") if word == "RUN")
    make_pkgs = re.search(r"apt-get install -y -qq ([\w\- ]+?) >", (REPO / "Makefile").read_text()).group(1).split()
    for pkg in make_pkgs:
        assert pkg in runs
    assert "rm -rf /var/lib/apt/lists" in runs


def test_dockerignore_keeps_dev_files_and_secrets_out() -> None:
    entries = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".venv", "var", "tests", ".git", "*.env"} <= entries


def test_gunicorn_factory_builds_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ATLAS_RUNTIME", "embedded")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from api.wsgi import create

    app = create()
    assert app.test_client().get("/health").status_code == 200


def test_index_target_runs_as_root_to_write_the_nfs_share_and_the_default_does_not() -> None:
    from support.tfstack import dockerfile_user, is_root

    assert is_root(dockerfile_user(REPO / "Dockerfile.jobs", "index"))
    assert not is_root(dockerfile_user(REPO / "Dockerfile.jobs"))
    assert not is_root(dockerfile_user(REPO / "Dockerfile.api"))


def test_api_concurrency_matches_gunicorn_threads() -> None:
    from support.tfstack import Stack

    [cmd] = [rest for word, rest in instructions(REPO / "Dockerfile.api") if word == "CMD"]
    threads = int(re.search(r"--threads (\d+)", cmd).group(1))
    assert Stack().defaults["api_concurrency"] == threads
    for env in ("staging", "prod"):
        text = (REPO / "terraform" / "envs" / env / "main.tf").read_text()
        assert int(re.search(r"api_concurrency\s+=\s+(\d+)", text).group(1)) == threads, env
