"""What Terraform gives each Atlas component, read from terraform/modules/stack with python-hcl2 and evaluated
against a table of stand-in values (the test's project, bucket, database users…).

Only the expression forms the stack uses are understood; anything else raises Unresolved, so a new kind of
expression makes the contract tests fail loudly instead of passing with a guessed value.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import hcl2
from hcl2 import SerializationOptions

REPO = Path(__file__).resolve().parents[2]
STACK_DIR = REPO / "terraform" / "modules" / "stack"
_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
SITE_PACKAGES = "/opt/venv/lib/python3.11/site-packages/"

# component -> (module call, kind)
COMPONENTS = {
    "api": ("api", "service"),
    "dispatcher": ("dispatcher", "service"),
    "extract": ("extract_job", "job"),
    "index": ("index_job", "job"),
    "sweep": ("sweep_job", "job"),
    "migrate": ("migrate_job", "job"),
}


class Unresolved(AssertionError):
    """An expression the evaluator does not understand or a reference with no stand-in value."""


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        return hcl2.load(fh, serialization_options=_OPTIONS)


@dataclass
class Stack:
    """The stack module's locals, module calls and variable defaults."""

    root: Path = STACK_DIR
    locals: dict[str, Any] = field(default_factory=dict)
    modules: dict[str, dict[str, Any]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for path in sorted(self.root.glob("*.tf")):
            doc = _load(path)
            for block in doc.get("locals", []):
                self.locals.update(block)
            for block in doc.get("module", []):
                self.modules.update(block)
            for block in doc.get("variable", []):
                for name, body in block.items():
                    if "default" in body:
                        self.defaults[name] = body["default"]


class Evaluator:
    """Evaluates stack expressions: var.*, local.*, module.<m>.<output>[key], + N, == / ?:, join, map literals."""

    def __init__(self, stack: Stack, variables: Mapping[str, Any], outputs: Mapping[str, Any]) -> None:
        self.stack = stack
        self.variables = {**stack.defaults, **variables}
        self.outputs = outputs  # "module.storage.bucket_name" -> value; "module.database.iam_users" -> dict

    def value(self, v: Any) -> Any:
        """A literal, a map/list of them, or a string with ${…} interpolations."""
        if isinstance(v, dict):
            return {k: self.value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if not isinstance(v, str):
            return v
        whole = re.fullmatch(r"\$\{(.*)\}", v, re.DOTALL)
        if whole and _balanced(whole.group(1)):
            return self.expr(whole.group(1).strip())
        return re.sub(r"\$\{([^{}]*(?:\[[^\]]*\])?[^{}]*)\}", lambda m: str(self.expr(m.group(1).strip())), v)

    def expr(self, e: str) -> Any:
        """One expression (no surrounding ${})."""
        parser = _Parser(e, self)
        out = parser.ternary()
        parser.expect_end()
        return out

    def ref(self, name: str, key: str | None) -> Any:
        """var.x, local.x, module.m.output, optionally indexed by a string key."""
        kind, _, rest = name.partition(".")
        if kind == "var":
            if rest not in self.variables:
                raise Unresolved(f"var.{rest} has no default and no test value")
            out = self.variables[rest]
        elif kind == "local":
            if rest not in self.stack.locals:
                raise Unresolved(f"local.{rest} is not defined")
            out = self.value(self.stack.locals[rest])
        elif kind == "module":
            if name not in self.outputs:
                raise Unresolved(f"{name} has no stand-in value")
            out = self.outputs[name]
        else:
            raise Unresolved(f"reference {name!r} not understood")
        if key is None:
            return out
        if not isinstance(out, dict) or key not in out:
            raise Unresolved(f'{name}["{key}"] does not exist (known: {sorted(out) if isinstance(out, dict) else out})')
        return out[key]


_TOKEN = re.compile(r'\s*(?:(?P<str>"[^"]*")|(?P<num>-?\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_.]*)'
                    r'|(?P<op>==|!=|[{}\[\]()=,?:+]))')
_FUNCS = {
    "merge": lambda *maps: {k: v for m in maps for k, v in m.items()},
    "concat": lambda *lists: [x for lst in lists for x in lst],
    "join": lambda sep, items: sep.join(str(x) for x in items),
    "tostring": str,
}


class _Parser:
    """Recursive descent over the HCL expression subset the stack uses."""

    def __init__(self, text: str, ev: "Evaluator") -> None:
        self.ev = ev
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text.rstrip()):
            m = _TOKEN.match(text, pos)
            if not m:
                raise Unresolved(f"cannot read expression at {text[pos:pos + 30]!r}")
            self.tokens.append((m.lastgroup or "", m.group(m.lastgroup or "")))
            pos = m.end()
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self, want: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.tokens):
            raise Unresolved("expression ends early")
        tok = self.tokens[self.i]
        if want is not None and tok[1] != want:
            raise Unresolved(f"expected {want!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def expect_end(self) -> None:
        if self.i != len(self.tokens):
            raise Unresolved(f"unexpected {self.tokens[self.i][1]!r}")

    def ternary(self) -> Any:
        cond = self.comparison()
        if self.peek() != "?":
            return cond
        self.take("?")
        yes = self.ternary()
        self.take(":")
        no = self.ternary()
        return yes if cond else no

    def comparison(self) -> Any:
        left = self.additive()
        if self.peek() in ("==", "!="):
            op = self.take()[1]
            right = self.additive()
            return (left == right) if op == "==" else (left != right)
        return left

    def additive(self) -> Any:
        out = self.atom()
        while self.peek() == "+":
            self.take("+")
            out = int(out) + int(self.atom())
        return out

    def atom(self) -> Any:
        kind, tok = self.take()
        if kind == "str":
            return self.ev.value(tok[1:-1])
        if kind == "num":
            return int(tok)
        if tok == "{":
            out = {}
            while self.peek() != "}":
                key = self.take()[1].strip('"')
                self.take("=")
                out[key] = self.ternary()
                if self.peek() == ",":
                    self.take(",")
            self.take("}")
            return out
        if tok == "[":
            items = []
            while self.peek() != "]":
                items.append(self.ternary())
                if self.peek() == ",":
                    self.take(",")
            self.take("]")
            return items
        if tok == "(":
            out = self.ternary()
            self.take(")")
            return out
        if kind == "name":
            if tok in ("true", "false"):
                return tok == "true"
            if self.peek() == "(":
                if tok not in _FUNCS:
                    raise Unresolved(f"function {tok}() not understood")
                self.take("(")
                args = []
                while self.peek() != ")":
                    args.append(self.ternary())
                    if self.peek() == ",":
                        self.take(",")
                self.take(")")
                return _FUNCS[tok](*args)
            key = None
            if self.peek() == "[":
                self.take("[")
                key = self.take()[1].strip('"')
                self.take("]")
            return self.ev.ref(tok, key)
        raise Unresolved(f"unexpected {tok!r}")


def _balanced(s: str) -> bool:
    depth = 0
    for i, ch in enumerate(s):
        if s[i:i + 2] == "${":
            return False
        depth += ch == "{"
        depth -= ch == "}"
        if depth < 0:
            return False
    return depth == 0


@dataclass
class Component:
    """One Cloud Run service or job as Terraform declares it."""

    name: str
    call: str
    kind: str
    args: dict[str, Any]
    env: dict[str, str]
    secret_env: dict[str, str]  # env name -> secret key (module.secrets.secret_ids key)
    command: list[str] | None
    job_args: list[str] | None
    nfs: dict[str, Any] | None
    service_account: str  # key in module.iam service_accounts

    def argv(self, python: str, functions_framework: str) -> list[str]:
        """The container command with the image's paths mapped to this checkout and interpreter."""
        if not self.command:
            raise Unresolved(f"{self.call} has no command: use the image's CMD")
        out = []
        for part in self.command:
            part = part.replace(SITE_PACKAGES, f"{REPO}/")
            out.append({"python": python, "functions-framework": functions_framework}.get(part, part))
        return out


def components(ev: Evaluator) -> dict[str, Component]:
    """Every component's environment, secrets, command, volume and identity, evaluated."""
    out = {}
    for name, (call, kind) in COMPONENTS.items():
        args = ev.stack.modules.get(call)
        if args is None:
            raise Unresolved(f"module {call} is not declared in the stack")
        env = {k: _env_str(v) for k, v in (ev.value(args.get("env")) or {}).items()}
        secrets = {}
        for k, v in (ev.value(args.get("secret_env")) or {}).items():
            m = re.fullmatch(r"secret:(.+)", str(v))
            if not m:
                raise Unresolved(f"{call}.secret_env {k} is not a module.secrets.secret_ids entry: {v!r}")
            secrets[k] = m.group(1)
        sa = re.fullmatch(r'\$\{module\.iam\.emails\["([a-z_]+)"\]\}', str(args.get("service_account_email")))
        if not sa:
            raise Unresolved(f"{call}.service_account_email is not a module.iam.emails entry")
        nfs = ev.value(args["nfs"]) if args.get("nfs") else None
        out[name] = Component(name=name, call=call, kind=kind, args=args, env=env, secret_env=secrets,
                              command=ev.value(args.get("command")), job_args=ev.value(args.get("args")),
                              nfs=nfs, service_account=sa.group(1))
    return out


def _env_str(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def dockerfile_cmd(path: Path) -> list[str]:
    """The exec-form CMD of a Dockerfile's last stage."""
    import json

    cmds = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("CMD ")]
    if not cmds:
        raise Unresolved(f"{path.name} has no CMD")
    return json.loads(cmds[-1][4:])


def dockerfile_user(path: Path, target: str | None = None) -> str:
    """The USER in effect at the end of a stage (the last stage when target is None); 'root' when none is set."""
    stages: list[tuple[str | None, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if not words or words[0].upper() not in ("FROM", "USER"):
            continue
        if words[0].upper() == "FROM":
            alias = words[3] if len(words) >= 4 and words[2].upper() == "AS" else None
            base = words[1]
            inherited = next((u for a, u in reversed(stages) if a == base), "root")
            stages.append((alias, inherited))
        elif words[0].upper() == "USER" and stages:
            stages[-1] = (stages[-1][0], words[1])
    if target is None:
        return stages[-1][1]
    for alias, user in stages:
        if alias == target:
            return user
    raise Unresolved(f"{path.name} has no stage {target}")


def is_root(user: str) -> bool:
    """Whether a Dockerfile USER value means root."""
    return user.split(":")[0] in ("root", "0")
