#!/usr/bin/env bash
# The one entry point for ecommerce-backend: set up, run, test and manage every service.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
SERVICES=(user_service product_service order_service integration_service)

usage() {
  cat <<'TXT'
Usage: ./manage_all.sh COMMAND [ARGS...]

System:
  up [--real] [-d]   set up, migrate, load demo data and start every service, the worker and the
                     scheduler; --real uses the local PostgreSQL and RabbitMQ instead of embedded
                     stores; -d returns once it is up (otherwise Ctrl-C stops it)
  down               stop everything `up` started
  status             show each part of the running system
  logs [PART] [--raw] follow the logs (all parts, or one) as readable lines; the files stay
                     JSON (--raw shows them as they are); the worker: one line per event
  flower [--port N]  run Flower (the Celery view) against the system's broker, on 127.0.0.1:5555

Development:
  setup              create the virtualenv and install the hash-locked dev requirements and common/
  lock [OPTIONS]     recompile requirements/*.in into the hash-locked requirements/*.txt
                     (pip-tools; --upgrade or --upgrade-package NAME to move pins)
  test [--only SUITE] [PYTEST ARGS]
                     run every test suite: common, each service, deploy, cross-service (and Postman);
                     --only runs one suite (common, user_service, ..., deploy, cross-service)
  lint               ruff check, ruff format --check, makemigrations --check
  bench              run the load benchmark (writes bench/RESULTS.md)

Django (with the stores, secrets and ports `up` uses; .env is read, the real environment wins):
  SERVICE COMMAND... run `manage.py COMMAND` in one service (e.g. `order_service migrate`,
                     `user_service runserver` on the port `up` gives it, `user_service shell`)
  COMMAND...         run `manage.py COMMAND` in every service (e.g. `migrate`, `check`)

Services: user_service product_service order_service integration_service
TXT
}

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# --- environment -------------------------------------------------------------------------------

setup() {
  local stamp="$VENV/.installed"
  local want
  want="$(cat "$ROOT"/requirements/*.txt "$ROOT/common/pyproject.toml" | sha256sum | cut -d' ' -f1)"
  if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating virtualenv in $VENV"
    "$PYTHON" -m venv --upgrade-deps "$VENV"
  fi
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    log "installing requirements (hash-locked)"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --require-hashes \
      -r "$ROOT/requirements/dev.txt"
    # common/'s own dependencies are in the lock (base.in); its build backend too (setuptools).
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
      -e "$ROOT/common"
    echo "$want" >"$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
}

is_service() {
  local s
  for s in "${SERVICES[@]}"; do [[ "$s" == "$1" ]] && return 0; done
  return 1
}

# manage.py in one service with the stores, secrets and ports `up` gives it (scripts/system.py
# is their one source; it reads .env too), so what a command changes is what `up` serves.
manage() {
  local service="$1"; shift
  [[ -f "$ROOT/$service/manage.py" ]] || die "$service has no manage.py yet"
  "$VENV/bin/python" "$ROOT/scripts/system.py" manage "$service" "$@"
}

existing_services() {
  local s
  for s in "${SERVICES[@]}"; do [[ -f "$ROOT/$s/manage.py" ]] && echo "$s"; done
}

# Compile the human-edited requirements/*.in into the hash-locked requirements/*.txt that every
# install uses (setup, CI, the image). dev.txt first; every other lock is constrained by it, so a
# package shared by two files has one version everywhere. Existing pins are kept unless asked:
# `lock --upgrade` or `lock --upgrade-package NAME` (any pip-compile option is passed on).
lock() {
  local options=(--quiet --generate-hashes --allow-unsafe --strip-extras
                 --no-emit-index-url --no-emit-find-links)
  local input
  cd "$ROOT"
  log "lock: requirements/dev.txt"
  CUSTOM_COMPILE_COMMAND="./manage_all.sh lock" "$VENV/bin/pip-compile" "${options[@]}" "$@" \
    --output-file requirements/dev.txt requirements/dev.in
  for input in requirements/*.in; do
    [[ "$input" == requirements/dev.in ]] && continue
    log "lock: ${input%.in}.txt"
    CUSTOM_COMPILE_COMMAND="./manage_all.sh lock" "$VENV/bin/pip-compile" "${options[@]}" "$@" \
      --constraint requirements/dev.txt --output-file "${input%.in}.txt" "$input"
  done
}

# --- tests -------------------------------------------------------------------------------------

# The tests' own connection settings: the machine's PostgreSQL, RabbitMQ and Redis (see README).
test_env() {
  export PGHOST="${PGHOST:-127.0.0.1}" PGUSER="${PGUSER:-postgres}"
  export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
  export CELERY_BROKER_URL="${TEST_CELERY_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672//}"
  # The suites run with per-process caches; the tests that need Redis use TEST_REDIS_URL.
  export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/1}"
  unset REDIS_URL CACHE_KEY_PREFIX
  export DJANGO_DEBUG=false DJANGO_SECRET_KEY="test-secret-key-not-for-deployment-0123456789"
  export INTERNAL_API_TOKENS="test-internal-token,test-internal-token-previous"
  export DJANGO_ALLOWED_HOSTS="*" LOG_LEVEL="${LOG_LEVEL:-WARNING}" LOG_FORMAT="${LOG_FORMAT:-text}"
}

# The browser tests (tests/browser) drive Debian's Chromium; Playwright never downloads one.
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
ensure_chromium() {
  [[ -x "$CHROMIUM" ]] && return 0
  if [[ "$CHROMIUM" == /usr/bin/chromium && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    log "installing Debian's chromium for the browser tests (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  [[ -x "$CHROMIUM" ]] || die "the browser tests need Chromium at $CHROMIUM: run (as root) \
\`apt-get update && apt-get install -y chromium\`, or point CHROMIUM at a Chromium binary"
}

run_tests() {
  test_env
  local failed=() suite only=""
  if [[ "${1:-}" == "--only" ]]; then only="${2:?--only needs a suite name}"; shift 2; fi
  run_suite() {
    local name="$1" dir="$2"; shift 2
    [[ -z "$only" || "$only" == "$name" ]] || return 0
    log "tests: $name"
    if ! (cd "$dir" && "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"); then
      failed+=("$name")
    fi
  }
  # TEST_DATABASE_PREFIX keeps concurrent runs on one machine apart (pytest-django adds "test_").
  local db="${TEST_DATABASE_PREFIX:-ecommerce_}"
  run_suite common "$ROOT/common" "$@"
  for suite in $(existing_services); do
    case "$suite" in
      user_service)        DATABASE_URL="$TEST_POSTGRES_URL/${db}users" run_suite "$suite" "$ROOT/$suite" "$@" ;;
      order_service)       DATABASE_URL="$TEST_POSTGRES_URL/${db}orders" run_suite "$suite" "$ROOT/$suite" "$@" ;;
      integration_service) DATABASE_URL="$TEST_POSTGRES_URL/${db}integration" run_suite "$suite" "$ROOT/$suite" "$@" ;;
      product_service)     run_suite "$suite" "$ROOT/$suite" "$@" ;;
    esac
  done
  [[ -d "$ROOT/deploy/tests" ]] && run_suite deploy "$ROOT/deploy" "$@"
  if [[ -d "$ROOT/tests" && -n "$(ls "$ROOT"/tests/*/test_*.py 2>/dev/null)" ]]; then
    [[ -z "$only" || "$only" == cross-service ]] && ensure_chromium
    run_suite cross-service "$ROOT/tests" "$@"
  fi
  if ((${#failed[@]})); then
    log "FAILED: ${failed[*]}"
    return 1
  fi
  log "all test suites passed"
}

lint() {
  log "ruff"
  "$VENV/bin/ruff" check "$ROOT"
  "$VENV/bin/ruff" format --check "$ROOT"
  local s
  for s in $(existing_services); do
    log "makemigrations --check: $s"
    # Needs no store: the settings' debug defaults do, without starting anything.
    (cd "$ROOT/$s" && DJANGO_DEBUG=true "$VENV/bin/python" manage.py makemigrations --check --dry-run)
  done
}

# --- dispatch ----------------------------------------------------------------------------------

main() {
  local cmd="${1:-}"
  [[ -n "$cmd" ]] || { usage; exit 2; }
  shift
  case "$cmd" in
    -h|--help|help) usage ;;
    setup) setup ;;
    lock) setup; lock "$@" ;;
    test) setup; run_tests "$@" ;;
    lint) setup; lint ;;
    up|down|status|logs|flower)
      setup
      exec "$VENV/bin/python" "$ROOT/scripts/system.py" "$cmd" "$@" ;;
    bench)
      setup
      [[ -f "$ROOT/bench/run.sh" ]] || die "'bench' is not available yet"
      exec bash "$ROOT/bench/run.sh" "$@" ;;
    *)
      setup
      if is_service "$cmd"; then
        [[ $# -gt 0 ]] || die "give a manage.py command for $cmd"
        manage "$cmd" "$@"
      elif [[ "$cmd" == *_service ]]; then
        die "unknown service '$cmd' (known: ${SERVICES[*]})"
      elif [[ "$cmd" =~ ^[a-z_]+$ ]]; then
        local s
        for s in $(existing_services); do log "$s: manage.py $cmd $*"; manage "$s" "$cmd" "$@"; done
      else
        usage; die "unknown command '$cmd'"
      fi ;;
  esac
}

main "$@"
