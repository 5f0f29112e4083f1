"""deploy/Dockerfile, read with Docker's own parser (the `dockerfile` package)."""

from __future__ import annotations

import ast
import re
import shlex
import sys
from importlib import metadata

import pytest
from chart_support import (
    REPO,
    SERVICES,
    conventions_commands,
    of_kind,
    render,
    without_gunicorn_config,
)
from image_support import DOCKERFILE, context_files, ignored, resolve, stages
from lock_support import locked

PINNED_SLIM_PYTHON = re.compile(r"^python:3\.11\.\d+-slim-(bookworm|trixie)$")


@pytest.fixture(params=SERVICES)
def service(request) -> str:
    return request.param


def test_every_stage_uses_a_pinned_slim_python_311(service):
    built = stages({"SERVICE": service})
    assert [stage.name for stage in built] == ["builder", "runtime"]
    for stage in built:
        assert PINNED_SLIM_PYTHON.match(stage.base), stage.base
    assert built[0].base == built[1].base


def test_every_copied_file_exists_and_is_in_the_build_context(service):
    for stage in stages({"SERVICE": service}):
        for command in stage.commands:
            if command.cmd not in ("COPY", "ADD"):
                continue
            assert command.cmd == "COPY", "ADD fetches and unpacks implicitly: use COPY"
            if any(flag.startswith("--from=") for flag in command.flags):
                source_stage = next(f for f in command.flags if f.startswith("--from="))[7:]
                assert source_stage in {s.name for s in stages({"SERVICE": service})}
                continue
            for source in command.value[:-1]:
                source = resolve(stage, source)
                assert (REPO / source).exists(), f"COPY {source}: no such path in the repository"
                assert context_files(source), f"COPY {source}: .dockerignore leaves nothing"


def test_the_image_gets_the_code_it_runs_and_leaves_out_tests_and_local_state(service):
    needed = [
        f"{service}/manage.py",
        f"{service}/{service}/wsgi.py",
        f"{service}/{service}/settings.py",
        "common/pyproject.toml",
        "common/ecommerce_common/__init__.py",
        "requirements/base.txt",
        f"requirements/{service}.txt",
        "deploy/gunicorn.conf.py",
    ]
    for path in needed:
        assert (REPO / path).is_file(), path
        assert not ignored(path), f"{path} is left out of the build context"
    for path in (
        f"{service}/var/state.sqlite3",
        f"{service}/pytest.ini",
        f"{service}/some_app/tests/test_views.py",
        "common/tests/test_settings.py",
        ".venv/bin/python",
        ".git/HEAD",
        "deploy/.env",
        "deploy/helm/ecommerce/values.yaml",
        "postman/collection.json",
        f"{service}/app/__pycache__/x.cpython-311.pyc",
    ):
        assert ignored(path), f"{path} would be sent to the image build"


def test_the_runtime_stage_has_no_compiler_and_no_dev_dependency(service):
    builder, runtime = stages({"SERVICE": service})
    builder_runs = " ".join(
        resolve(builder, c.value[0]) for c in builder.commands if c.cmd == "RUN"
    )
    assert f"--require-hashes -r requirements/{service}.txt" in builder_runs.replace('"', "")
    runtime_text = " ".join(" ".join(c.value) for c in runtime.commands)
    for forbidden in (
        "apt-get install",
        "build-essential",
        "gcc",
        "pip install",
        "dev.txt",
        "local.txt",
    ):
        assert forbidden not in runtime_text
    assert "dev.txt" not in builder_runs
    assert "local.txt" not in builder_runs
    copies_from_builder = [
        c for c in runtime.commands if c.cmd == "COPY" and "--from=builder" in c.flags
    ]
    assert [c.value for c in copies_from_builder] == [("/opt/venv", "/opt/venv")]


def test_the_builder_installs_the_service_lock_with_hashes_then_common_without_deps(service):
    builder = stages({"SERVICE": service})[0]
    runs = [
        resolve(builder, c.value[0]).replace('"', "") for c in builder.commands if c.cmd == "RUN"
    ]
    (install,) = [run for run in runs if "pip install" in run]
    steps = [step.strip() for step in install.split("&&")]
    assert steps == [
        "python -m venv --upgrade-deps /opt/venv",
        f"/opt/venv/bin/pip install --require-hashes -r requirements/{service}.txt",
        "/opt/venv/bin/pip install --no-deps --no-build-isolation ./common",
    ]


def test_service_locks_hold_base_and_no_dev_tool(service):
    packages = locked(REPO / "requirements" / f"{service}.txt")
    base = locked(REPO / "requirements" / "base.txt")
    assert {name: lock.version for name, lock in base.items()}.items() <= {
        name: lock.version for name, lock in packages.items()
    }.items()
    for name in packages:
        assert not name.startswith(
            ("pytest", "ruff", "factory", "helm", "kubernetes", "pip-tools", "playwright")
        ), name


def test_the_final_user_is_the_fixed_non_root_uid_the_chart_runs_as(service):
    runtime = stages({"SERVICE": service})[-1]
    users = [c.value[0] for c in runtime.commands if c.cmd == "USER"]
    assert users, "the runtime stage must switch to a non-root user"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit()
    assert int(uid) != 0
    assert gid.isdigit()
    assert int(gid) != 0
    objects, _ = render({})
    deployment = of_kind(objects, "Deployment")[0]
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == int(uid)
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsGroup"] == int(gid)


def test_the_default_command_is_the_conventions_gunicorn_command(service):
    runtime = stages({"SERVICE": service})[-1]
    (cmd,) = [c for c in runtime.commands if c.cmd == "CMD"]
    assert cmd.json, "CMD must be in exec form (signals reach the process)"
    assert not [c for c in runtime.commands if c.cmd == "ENTRYPOINT"]
    argv = list(cmd.value)
    assert argv[:2] == ["sh", "-c"]
    script = shlex.split(resolve(runtime, argv[2]))
    assert script[0] == "exec", "the shell must hand over PID 1 to gunicorn"
    expected = shlex.split(
        conventions_commands()[
            service
            if service != "integration_service"
            else "integration_service (web: health, ready, admin)"
        ]
    )
    assert without_gunicorn_config(script[1:]) == expected
    workdirs = [resolve(runtime, c.value[0]) for c in runtime.commands if c.cmd == "WORKDIR"]
    assert workdirs[-1] == f"/app/{service}"


def test_the_build_refuses_to_run_without_a_service():
    builder = stages({})[0]
    first_run = next(c for c in builder.commands if c.cmd == "RUN")
    assert 'test -n "${SERVICE}"' in first_run.value[0]


def test_dockerfile_parses_as_docker_would():
    import dockerfile

    commands = dockerfile.parse_file(str(DOCKERFILE))
    assert {c.cmd for c in commands} <= {
        "ARG",
        "FROM",
        "RUN",
        "ENV",
        "WORKDIR",
        "COPY",
        "USER",
        "EXPOSE",
        "CMD",
        "LABEL",
    }


def _requirement_closure(service: str) -> set[str]:
    """Distributions an image installs: requirements/<service>.txt, common/, and their deps."""

    def normalise(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    wanted: list[str] = ["ecommerce-common", *locked(REPO / "requirements" / f"{service}.txt")]
    closure: set[str] = set()
    while wanted:
        name = normalise(wanted.pop())
        if name in closure:
            continue
        closure.add(name)
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in requirements:
            if "extra ==" in requirement and "binary" not in requirement:
                continue
            wanted.append(re.split(r"[\[=<>~!;\s(]", requirement)[0])
    return closure


def test_every_third_party_import_of_a_service_is_in_its_image_requirements(service):
    closure = _requirement_closure(service)
    owners = metadata.packages_distributions()
    missing = set()
    for path in (REPO / service).rglob("*.py"):
        relative = path.relative_to(REPO).as_posix()
        if ignored(relative) or path.name == "conftest.py":
            continue  # not in the image (tests, local state)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top not in owners:
                    continue
                if not {re.sub(r"[-_.]+", "-", d).lower() for d in owners[top]} & closure:
                    missing.add(f"{relative}: {top}")
    assert not missing, f"requirements/{service}.txt lacks: {sorted(missing)}"
