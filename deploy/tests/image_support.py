"""Read deploy/Dockerfile with Docker's own parser and .dockerignore with Docker's rules."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import dockerfile
from chart_support import DEPLOY, REPO

DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"


@dataclass
class Stage:
    name: str
    base: str
    commands: list[dockerfile.Command] = field(default_factory=list)
    args: dict[str, str] = field(default_factory=dict)


def _substitute(text: str, variables: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        assert name in variables, f"${name} is not defined at this point of the Dockerfile"
        return variables[name]

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", replace, text)


def stages(build_args: dict[str, str]) -> list[Stage]:
    """The Dockerfile's stages with ARG values resolved as `docker build --build-arg` would."""
    global_args: dict[str, str] = {}
    result: list[Stage] = []
    for command in dockerfile.parse_file(str(DOCKERFILE)):
        if command.cmd == "ARG":
            name, _, default = command.value[0].partition("=")
            value = build_args.get(name, default)
            if result:
                # Inside a stage, a bare `ARG NAME` re-imports the global value.
                if not default and name in global_args and name not in build_args:
                    value = global_args[name]
                result[-1].args[name] = value
            else:
                global_args[name] = value
            continue
        if command.cmd == "FROM":
            base = _substitute(command.value[0], global_args)
            name = command.value[2] if len(command.value) > 2 else str(len(result))
            result.append(Stage(name=name, base=base))
            continue
        result[-1].commands.append(command)
    return result


def resolve(stage: Stage, text: str) -> str:
    variables = dict(stage.args)
    for command in stage.commands:
        if command.cmd == "ENV":
            pairs = command.value
            for index in range(0, len(pairs), 2):
                if pairs[index] not in ("PATH",):
                    variables.setdefault(pairs[index], _substitute(pairs[index + 1], variables))
    return _substitute(text, variables)


@cache
def _ignore_patterns() -> tuple[tuple[re.Pattern[str], bool], ...]:
    patterns = []
    for raw in DOCKERIGNORE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        pattern = pattern.strip("/")
        regex = ""
        index = 0
        while index < len(pattern):
            if pattern.startswith("**", index):
                regex += ".*"
                index += 2
                if pattern.startswith("/", index):
                    regex = regex[:-2] + "(.*/)?"
                    index += 1
                continue
            char = pattern[index]
            regex += "[^/]*" if char == "*" else "[^/]" if char == "?" else re.escape(char)
            index += 1
        patterns.append((re.compile(f"^{regex}$"), negate))
    return tuple(patterns)


def ignored(relative: str) -> bool:
    """Whether Docker leaves `relative` out of the build context (moby's patternmatcher)."""
    parts = relative.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for regex, negate in _ignore_patterns():
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not negate
    return excluded


def context_files(source: str) -> list[Path]:
    """Files a `COPY source` takes from the build context (after .dockerignore)."""
    path = REPO / source
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return [p for p in files if not ignored(p.relative_to(REPO).as_posix())]
