#!/usr/bin/env bash
# The load benchmark: `./manage_all.sh bench [OPTIONS]` (see bench/README.md, or --help).
# Installs the hash-locked requirements/bench.txt into the virtualenv once, then runs bench/run.py.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
[[ -x "$PY" ]] || { echo "error: no virtualenv at $VENV; run ./manage_all.sh setup" >&2; exit 2; }

stamp="$VENV/.bench-installed"
want="$(sha256sum "$ROOT/requirements/bench.txt" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "==> installing the benchmark requirements (requirements/bench.txt)" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --require-hashes \
    -r "$ROOT/requirements/bench.txt"
  echo "$want" >"$stamp"
fi

export PATH="$VENV/bin:$PATH"
exec "$PY" "$ROOT/bench/run.py" "$@"
