"""The real `wa-inbox` console script in a subprocess, configured as a user would, against a test world.

A subprocess, so that this event loop keeps serving the emulator and the receiver meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wa_inbox.config import Settings
from wa_inbox.dburl import DatabaseUrl


@dataclass(frozen=True, slots=True)
class Run:
    status: int
    stdout: str
    stderr: str


def database_setting(settings: Settings) -> str:
    """`WA_INBOX_DB` for the settings' database: a file path, or a URL with its password."""
    path = settings.store.path
    return path.conninfo if isinstance(path, DatabaseUrl) else str(path)


def cli_env(settings: Settings) -> dict[str, str]:
    """The environment variables that give the CLI these settings."""
    twilio = settings.twilio
    assert twilio.account_sid and twilio.auth_token and twilio.messaging_service_sid
    assert twilio.public_base_url and twilio.base_url
    return {
        **os.environ,
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token.get_secret_value(),
        "TWILIO_MESSAGING_SERVICE_SID": twilio.messaging_service_sid,
        "PUBLIC_BASE_URL": twilio.public_base_url,
        "WA_INBOX_TWILIO_BASE_URL": twilio.base_url,
        "WA_INBOX_DB": database_setting(settings),
    }


async def run_cli(settings: Settings, *args: str, env: Mapping[str, str] | None = None) -> Run:
    """`wa-inbox ARGS` with `settings` (and `env` on top); its exit status and output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wa_inbox",
        *args,
        env={**cli_env(settings), **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode(), stderr.decode())


# --- `python -m wa_inbox` with nothing but what a test gives it -------------------------------------


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m wa_inbox` with only the environment given here (no developer settings leak in)."""
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "PYTHONIOENCODING": "utf-8",
    }
    if "PYTHONPATH" in os.environ:  # which wa-inbox runs (a worktree's), not a setting of it
        base["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return subprocess.run(
        [sys.executable, "-m", "wa_inbox", *args],
        env={**base, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], status: int, *fragments: str) -> None:
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("wa-inbox: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert result.stdout == ""
