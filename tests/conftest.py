"""Fixtures shared by every test."""

from __future__ import annotations

from pathlib import Path

import pytest

from wa_inbox.config import ENV_KEYS


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No developer's environment, `.env` or config reaches a test (platformdirs reads XDG_* per call)."""
    for name in (*ENV_KEYS, "WA_INBOX_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.chdir(tmp_path)
