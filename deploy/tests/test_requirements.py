"""The requirements are locked with hashes (pip-tools), and every install goes through the locks."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

import pytest
from chart_support import REPO, SERVICES
from lock_support import REQUIREMENTS, locked, normalise, pinned
from packaging.requirements import Requirement

INPUTS = sorted(path.stem for path in REQUIREMENTS.glob("*.in"))
# The lock files whose packages are all installed in the test virtualenv (bench.txt is not).
INSTALLED = ["dev", "local", "base", *SERVICES]
INSTALLERS = [
    REPO / "manage_all.sh",
    REPO / "bench" / "run.sh",
    REPO / ".ci" / "run",
    REPO / "deploy" / "Dockerfile",
]


def _pip_installs(path) -> list[str]:
    text = re.sub(r"\s*\\\n\s*", " ", path.read_text())
    return [
        line.strip()
        for line in text.splitlines()
        if re.search(r"pip\"?\s+install\b", line) and not line.lstrip().startswith("#")
    ]


def test_every_input_has_a_lock_and_every_lock_an_input():
    assert {"base", "dev", "bench", "local", *SERVICES} <= set(INPUTS)
    assert sorted(path.stem for path in REQUIREMENTS.glob("*.txt")) == INPUTS


@pytest.mark.parametrize("name", INPUTS)
def test_every_locked_package_is_an_exact_pin_with_sha256_hashes(name):
    packages = locked(REQUIREMENTS / f"{name}.txt")
    assert packages
    for package, lock in packages.items():
        assert lock.hashes, f"{name}.txt: {package} has no hash (--require-hashes would refuse)"
        for digest in lock.hashes:
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest), f"{package}: {digest}"


@pytest.mark.parametrize("name", INPUTS)
def test_every_pin_of_an_input_is_locked_at_that_version(name):
    packages = locked(REQUIREMENTS / f"{name}.txt")
    for package, version in pinned(REQUIREMENTS / f"{name}.in").items():
        assert package in packages, f"{package} is in {name}.in but not in {name}.txt: re-lock"
        assert packages[package].version == version, (
            f"{name}.in pins {package}=={version}, {name}.txt has {packages[package].version}: "
            "run ./manage_all.sh lock"
        )


@pytest.mark.parametrize("name", [n for n in INPUTS if n != "dev"])
def test_every_lock_agrees_with_the_dev_lock_on_the_packages_they_share(name):
    dev = locked(REQUIREMENTS / "dev.txt")
    for package, lock in locked(REQUIREMENTS / f"{name}.txt").items():
        if package in dev:
            assert lock.version == dev[package].version, f"{name}.txt: {package}"


@pytest.mark.parametrize("name", INSTALLED)
def test_a_lock_holds_every_dependency_of_every_package_it_locks(name):
    packages = locked(REQUIREMENTS / f"{name}.txt")
    for package, lock in packages.items():
        assert metadata.version(package) == lock.version, f"the virtualenv is not {name}.txt"
        for text in metadata.requires(package) or []:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue  # an optional extra, or another platform's dependency
            dependency = normalise(requirement.name)
            assert dependency in packages, f"{name}.txt lacks {dependency} (needed by {package})"
            assert requirement.specifier.contains(packages[dependency].version, prereleases=True), (
                f"{name}.txt: {package} needs {requirement}"
            )


def test_the_dependencies_of_common_are_in_the_base_lock_with_its_build_backend():
    project = tomllib.loads((REPO / "common" / "pyproject.toml").read_text())
    base = locked(REQUIREMENTS / "base.txt")
    wanted = [*project["project"]["dependencies"], *project["build-system"]["requires"]]
    for text in wanted:
        requirement = Requirement(text)
        package = normalise(requirement.name)
        assert package in base, f"common/ needs {requirement}, base.txt lacks it"
        assert requirement.specifier.contains(base[package].version), f"{requirement}"


@pytest.mark.parametrize("installer", INSTALLERS, ids=lambda path: path.name)
def test_every_install_takes_the_hash_locked_requirements_and_then_common_without_deps(installer):
    for command in _pip_installs(installer):
        if "--require-hashes" in command:
            assert re.search(r"-r \S*requirements/\S+\.txt", command), command
        else:
            # common/ (a local folder, so no hash): its dependencies and build backend are locked.
            assert "--no-deps" in command, command
            assert "--no-build-isolation" in command, command
            assert re.search(r"\S*common\"?$", command), command


def test_virtualenvs_are_created_with_upgraded_pip_and_setup_installs_the_dev_lock():
    for installer in (REPO / "manage_all.sh", REPO / "deploy" / "Dockerfile"):
        creates = re.findall(r".*-m venv .*", installer.read_text())
        assert creates, installer.name
        assert all("--upgrade-deps" in line for line in creates), creates
    installs = " ".join(_pip_installs(REPO / "manage_all.sh"))
    assert '--require-hashes -r "$ROOT/requirements/dev.txt"' in installs
    assert "--require-hashes" in " ".join(_pip_installs(REPO / "bench" / "run.sh"))


def test_the_lock_command_compiles_every_input_with_hashes_using_the_pinned_pip_tools():
    script = (REPO / "manage_all.sh").read_text()
    body = script[script.index("\nlock() {") : script.index("\n}\n", script.index("\nlock() {"))]
    for option in ("--generate-hashes", "--allow-unsafe", "--strip-extras"):
        assert option in body
    assert "requirements/*.in" in body
    assert "pip-tools" in pinned(REQUIREMENTS / "dev.in")
    for name in INPUTS:
        assert "./manage_all.sh lock" in (REQUIREMENTS / f"{name}.txt").read_text(), name
