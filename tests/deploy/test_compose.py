"""`compose.yaml` for a one-host trial: valid against the Compose Specification's JSON schema (the copy
check-jsonschema ships, so offline), and its services wired as the product needs: PostgreSQL 16
healthy first, then `wa-inbox db migrate` once, then `serve`, which never migrates; secrets only
from a `.env` that git ignores, every variable it needs named in the committed `.env.example`."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values

from tests.deploy.files import COMPOSE, ROOT, load_yaml, tool


def services() -> dict[str, dict[str, Any]]:
    return dict(load_yaml(COMPOSE)["services"])


def check_compose(path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", path],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_is_valid_against_the_compose_specification() -> None:
    result = check_compose(str(COMPOSE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_mistake(tmp_path: Path) -> None:
    """So that the test above passing means the schema was applied."""
    wrong = tmp_path / "compose.yaml"
    wrong.write_text(COMPOSE.read_text().replace("service_completed_successfully", "service_done"))
    result = check_compose(str(wrong))
    assert result.returncode == 1 and "depends_on" in result.stdout


def test_postgres_16_is_healthy_before_migrate_and_migrate_done_before_serve() -> None:
    postgres, migrate, serve = (services()[name] for name in ("postgres", "migrate", "wa-inbox"))
    assert re.fullmatch(r"postgres:16\.\d+(-\w+)?", postgres["image"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert migrate["command"] == ["db", "migrate"]
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert migrate["restart"] == "no"
    assert serve["command"][0] == "serve"
    assert serve["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert serve["environment"]["WA_INBOX_MIGRATE"] == "never"


def test_both_wa_inbox_services_run_the_image_of_the_dockerfile_on_the_postgres_service() -> None:
    postgres = services()["postgres"]["environment"]
    for name in ("migrate", "wa-inbox"):
        service = services()[name]
        assert service["build"] == "." and (ROOT / "Dockerfile").is_file()
        assert service["image"] == services()["migrate"]["image"]
        assert service["read_only"] is True
        url = urlsplit(service["environment"]["WA_INBOX_DB"])
        assert url.scheme == "postgresql" and url.hostname == "postgres"
        assert (url.username, url.password) == (postgres["POSTGRES_USER"], "${POSTGRES_PASSWORD}")
        assert url.path == f"/{postgres['POSTGRES_DB']}"


def test_serve_publishes_its_port_on_loopback_and_keeps_media_on_a_volume() -> None:
    serve = services()["wa-inbox"]
    port = serve["command"][serve["command"].index("--port") + 1]
    assert serve["ports"] == [f"127.0.0.1:{port}:{port}"]
    volume, _, mounted = serve["volumes"][0].partition(":")
    assert volume in load_yaml(COMPOSE)["volumes"]
    assert mounted == "/var/lib/wa-inbox"  # the image's data folder: [media] storage_dir inside it


def test_secrets_come_from_an_ignored_env_file_that_the_example_describes() -> None:
    assert services()["wa-inbox"]["env_file"] == ".env"
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
    assert ".env" not in tracked() and ".env.example" in tracked()
    example = dotenv_values(ROOT / ".env.example")
    interpolated = set(re.findall(r"\$\{(\w+)", COMPOSE.read_text()))
    assert interpolated <= set(example)
    assert {"TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL", "TWILIO_ACCOUNT_SID"} <= set(example)
    assert all(
        value and ("replace-with" in value or "x" * 8 in value or "example" in value)
        for value in example.values()
    )


def tracked() -> set[str]:
    listing = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(listing.stdout.splitlines())
