"""Sampling profiles of the running parts (py-spy), summarised as text for RESULTS.md.

``py-spy record --subprocesses --format raw`` writes collapsed stacks: one line per
distinct stack, ``frame;frame;...;frame count``, each frame ``function (file:line)``.
Mode ``wall`` samples every thread, idle ones included (``--idle``), so the shares are of
wall-clock time: waiting for a socket (PostgreSQL, another service) shows where it happens,
and the idle gunicorn threads waiting for a connection show as such. Mode ``cpu`` samples only
threads holding the GIL (``--gil``): Python CPU time.
"""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


class Recorder:
    """py-spy recording one process tree for a while, into ``output``."""

    def __init__(
        self,
        py_spy: str,
        pid: int,
        output: Path,
        *,
        seconds: int,
        rate: int = 67,
        gil: bool = False,
    ):
        self.output = output
        command = [py_spy, "record", "--pid", str(pid), "--subprocesses", "--nonblocking"]
        command += ["--full-filenames"]
        if gil:
            # Only threads holding the GIL: where the Python CPU time goes, no waiting.
            command += ["--gil"]
        else:
            # Wall clock: idle threads too (a thread blocked on a socket counts as idle to
            # py-spy), so waiting for PostgreSQL or another service shows where it happens.
            command += ["--idle"]
        command += ["--rate", str(rate), "--duration", str(seconds), "--format", "raw"]
        command += ["--output", str(output)]
        self.popen = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait(self, timeout: float = 60) -> None:
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=10)

    def stop(self) -> None:
        """End the recording early; py-spy writes what it has on SIGINT."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=10)


def _short(frame: str, root: str) -> str:
    match = FRAME.match(frame)
    if not match:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "lib/python3."):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "lib/python3.":
                path = "stdlib/" + path.split("/", 1)[-1]
            break
    else:
        path = path.replace(root.rstrip("/") + "/", "")
    return f"{match['function']} ({path})"


def _ours(frame: str, root: str) -> bool:
    match = FRAME.match(frame)
    if not match:
        return False
    path = match["file"]
    return path.startswith(root) and "/.venv/" not in path and "/bench/" not in path


# Only stacks through these frames count: the time inside one request, task or command
# (otherwise idle threads waiting for work would dominate a wall-clock profile).
ANCHORS = {
    "worker": "order_event_process",
    "secantusdb": "dispatch",
}
WEB_ANCHOR = "WSGIHandler.__call__"


def summarise(path: Path, root: str, top: int = 12, anchor: str | None = None) -> dict:
    """Top frames by own samples (leaf) and our code's frames by inclusive samples, among
    the stacks that pass through a frame named ``anchor`` (all stacks without one)."""
    leaf: Counter = Counter()
    ours: Counter = Counter()
    library: Counter = Counter()
    total = 0
    if not path.exists():
        return {"samples": 0, "self": [], "ours": [], "packages": []}
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame for frame in stack.split(";") if not frame.startswith("process ")]
        if not frames:
            continue
        if anchor and not any(frame.split(" (", 1)[0] == anchor for frame in frames):
            continue
        total += count
        leaf[_short(frames[-1], root)] += count
        for frame in set(frames):
            if _ours(frame, root):
                ours[_short(frame, root)] += count
        # Where the leaf sits: the top-level package of the innermost frame.
        match = FRAME.match(frames[-1])
        if match:
            file = match["file"]
            if "site-packages/" in file:
                package = file.split("site-packages/", 1)[1].split("/", 1)[0]
            elif "lib/python3." in file:
                package = "stdlib"
            elif file.startswith(root):
                package = file[len(root) :].lstrip("/").split("/", 1)[0]
            else:
                package = "other"
            library[package] += count

    def share(counter: Counter) -> list[tuple[str, float]]:
        return [(name, round(100 * count / total, 1)) for name, count in counter.most_common(top)]

    return {
        "anchor": anchor,
        "samples": total,
        "self": share(leaf),
        "ours": share(ours),
        "packages": share(library),
    }
