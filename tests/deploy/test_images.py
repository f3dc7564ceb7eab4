"""Must show 3 (images): hadolint passes every Dockerfile, and each image is what the issue asks:
multi-stage from one pinned slim base, only its service's runtime dependencies at pinned
versions, a numeric non-root user, an exec-form command, a HEALTHCHECK without curl, PORT."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .dockerfiles import DOCKER, IMAGES, Image, image_env, last, stages
from .tools import REPO, run

DOCKERFILES = sorted(DOCKER.glob("*.Dockerfile"))
PINNED_PYTHON = re.compile(r"^python:3\.11\.\d+-slim-[a-z]+$")
CONSTRAINTS = DOCKER / "constraints.txt"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SERVICES = REPO / "services"


def by_dockerfile() -> dict[str, Image]:
    """One image per Dockerfile (notification's V1 stands for both versions)."""
    return {image.dockerfile.name: image for image in reversed(list(IMAGES.values()))}


def pins() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in CONSTRAINTS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and version, f"{CONSTRAINTS}: {line!r} is not name==version"
            assert canonicalize_name(name) not in found, f"{name} pinned twice"
            found[canonicalize_name(name)] = version
    return found


def test_every_dockerfile_is_known() -> None:
    assert {p.name for p in DOCKERFILES} == {i.dockerfile.name for i in IMAGES.values()}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_passes(dockerfile: Path) -> None:
    result = run("hadolint", "--no-color", dockerfile)
    assert result.returncode == 0, f"hadolint {dockerfile}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("image", by_dockerfile().values(), ids=lambda i: i.dockerfile.name)
def test_built_in_stages_from_one_pinned_slim_base(image: Image) -> None:
    found = stages(image.dockerfile)
    assert len(found) >= 2, "multi-stage: the build stage's tools stay out of the image"
    bases = {stage[0].arguments.split()[0] for stage in found}
    assert len(bases) == 1 and PINNED_PYTHON.match(bases.pop() or ""), bases
    final = found[-1]
    copies = [i.arguments for i in final if i.keyword in ("COPY", "ADD")]
    # Only the build stage's virtualenv: no source tree, no build tools, no test extras.
    assert copies == ["--from=build /opt/venv /opt/venv"], copies
    install = " ".join(i.arguments for i in found[0] if "pip install" in i.arguments)
    assert f'".[{image.extra}]"' in install and "--constraint docker/constraints.txt" in install


@pytest.mark.parametrize("image", by_dockerfile().values(), ids=lambda i: i.dockerfile.name)
def test_runs_as_a_numeric_non_root_user(image: Image) -> None:
    user = last(stages(image.dockerfile)[-1], "USER").arguments
    uid = user.split(":")[0]
    # A name cannot be checked by the kubelet's runAsNonRoot; a number can.
    assert uid.isdigit() and int(uid) > 0, user


@pytest.mark.parametrize("image", by_dockerfile().values(), ids=lambda i: i.dockerfile.name)
def test_command_and_healthcheck_are_exec_form_python(image: Image) -> None:
    final = stages(image.dockerfile)[-1]
    command = last(final, "CMD").exec_form()
    assert command[:2] == ["python", "-m"], "exec form: python is PID 1 and gets SIGTERM"
    health = last(final, "HEALTHCHECK").exec_form()
    assert health[:2] == ["python", "-c"], "slim images have no curl or wget"
    env = image_env(image)
    if "PORT" in env:
        assert "os.environ['PORT']" in health[2], "the check must follow PORT"
        exposed = last(final, "EXPOSE").arguments.split()
        assert env["PORT"] in exposed


def test_constraints_pin_every_direct_dependency_of_every_image() -> None:
    pinned = pins()
    for extra in sorted({image.extra for image in IMAGES.values()}):
        for text in (
            PYPROJECT["project"]["dependencies"]
            + PYPROJECT["project"]["optional-dependencies"][extra]
        ):
            requirement = Requirement(text)
            name = canonicalize_name(requirement.name)
            assert name in pinned, f"{CONSTRAINTS.name}: pin {name} (image extra {extra})"
            assert pinned[name] in requirement.specifier, (
                f"{CONSTRAINTS.name}: {name}=={pinned[name]} is outside pyproject's {text!r}"
            )


def test_dockerignore_lets_in_exactly_what_the_builds_copy() -> None:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*", "start from nothing, so a new folder cannot leak into images"
    allowed = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    for image in IMAGES.values():
        for instruction in stages(image.dockerfile)[0]:
            if instruction.keyword == "COPY":
                for source in instruction.arguments.split()[:-1]:
                    assert source.rstrip("/") in allowed, f"{image.dockerfile.name} copies {source}"


def test_package_data_reaches_the_images() -> None:
    """The images install a wheel, not the source tree: a non-Python file a package reads
    (xray_local's web page) is in it only if pyproject declares it as package data."""
    declared = PYPROJECT.get("tool", {}).get("setuptools", {}).get("package-data", {})
    missing = []
    for path in sorted(SERVICES.rglob("*")):
        relative = path.relative_to(SERVICES)
        if (
            not path.is_file()
            or path.suffix in (".py", ".pyc")
            or relative.parts[0].endswith(".egg-info")
        ):
            continue
        if "__pycache__" in relative.parts:
            continue
        package, inside = relative.parts[0], "/".join(relative.parts[1:])
        globs = declared.get(package, []) + declared.get("*", [])
        if not any(fnmatch.fnmatch(inside, g) for g in globs):
            missing.append(str(relative))
    assert not missing, (
        "files the packages ship but the wheel (and so every image) would lack; declare them in "
        f"pyproject.toml [tool.setuptools.package-data]: {missing}"
    )
