"""Read requirements/*.in (what people pin) and the hash-locked requirements/*.txt (pip-tools)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from chart_support import REPO

REQUIREMENTS = REPO / "requirements"


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Locked:
    version: str
    hashes: tuple[str, ...]


def locked(path: Path) -> dict[str, Locked]:
    """Every package of a lock file with its exact version and its hashes."""
    text = re.sub(r"\\\n", " ", path.read_text())
    packages: dict[str, Locked] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, *options = line.split()
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^=\s;]+)", requirement)
        assert match, f"{path.name}: not an exact pin: {line}"
        hashes = tuple(o.removeprefix("--hash=") for o in options if o.startswith("--hash="))
        packages[normalise(match.group(1))] = Locked(match.group(2), hashes)
    return packages


def pinned(path: Path) -> dict[str, str]:
    """The exact pins of an .in file and of the .in files it includes with -r."""
    pins: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r"):
            pins.update(pinned(path.parent / line.split()[1]))
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==(\S+)", line)
        assert match, f"{path.name}: pin exact versions (NAME==VERSION): {line}"
        pins[normalise(match.group(1))] = match.group(3)
    return pins
