from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import wa_inbox

PACKAGE = Path(wa_inbox.__file__).parent

FRAMEWORKS = "{'textual','starlette','uvicorn','twilio','aiosqlite','httpx','aiokafka'}"
PROBE = (
    "import wa_inbox.domain.addresses, wa_inbox.domain.status, wa_inbox.domain.window, "
    "wa_inbox.domain.optout, wa_inbox.domain.errors, wa_inbox.domain.models, wa_inbox.domain.clock, "
    "wa_inbox.domain.events; "
    "import sys; "
    f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FRAMEWORKS}))"
)

HEADLESS_PROBE = (
    "import wa_inbox.cli, wa_inbox.cli.serve, wa_inbox.running.sockets, wa_inbox.running.inbox, "
    "wa_inbox.running.services, wa_inbox.demo; "
    "import sys; "
    "print(sorted(m for m in sys.modules if m.split('.')[0] in {'textual', 'textual_image'}))"
)

FEATURES = ("domain", "store", "receiver", "gateway")
"""The parts `running/` puts together: none of them knows how it is started."""


def test_domain_imports_no_framework() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert ast.literal_eval(result.stdout.strip()) == []


def test_serve_and_the_running_services_import_no_textual() -> None:
    """`wa-inbox serve` runs on servers without a terminal: the composition root loads no Textual."""
    probe = [sys.executable, "-c", HEADLESS_PROBE]
    result = subprocess.run(probe, capture_output=True, text=True, check=True)
    assert ast.literal_eval(result.stdout.strip()) == []


def test_running_imports_the_parts_but_not_the_front_ends() -> None:
    """`running/` may import receiver, gateway and store (it wires them), never `tui/` or `cli/`."""
    imported = {name for path in _modules("running") for name in _imports(path)}
    assert {"wa_inbox.receiver", "wa_inbox.gateway", "wa_inbox.store"} <= {_layer(name) for name in imported}
    front_ends = sorted(name for name in imported if _layer(name) in {"wa_inbox.tui", "wa_inbox.cli"})
    assert front_ends == []


@pytest.mark.parametrize("layer", FEATURES)
def test_no_feature_imports_the_composition_root(layer: str) -> None:
    offenders = sorted(
        f"{path.relative_to(PACKAGE.parent)}: {name}"
        for path in _modules(layer)
        for name in _imports(path)
        if _layer(name) == "wa_inbox.running"
    )
    assert offenders == []


def _modules(layer: str) -> list[Path]:
    paths = sorted((PACKAGE / layer).rglob("*.py"))
    assert paths, f"no modules under wa_inbox/{layer}/"
    return paths


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, at the top, inside functions and under TYPE_CHECKING alike."""
    here = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _layer(module: str) -> str:
    """`wa_inbox.gateway.outbox` -> `wa_inbox.gateway`; modules outside the package as they are."""
    return ".".join(module.split(".")[:2]) if module.startswith("wa_inbox.") else module


def test_the_metrics_module_imports_nothing_but_the_prometheus_client() -> None:
    """Any layer may count: `wa_inbox.metrics` brings no framework and no other part of wa-inbox."""
    imported = {name.split(".")[0] for name in _imports(PACKAGE / "metrics.py")}
    assert imported - sys.stdlib_module_names == {"prometheus_client"}


def test_an_attached_inbox_and_the_commands_load_no_prometheus_client() -> None:
    """Only what serves `/metrics` (the receiver, `running.inbox`) loads it: tens of milliseconds that
    an attached inbox's start and every command would pay for metrics nobody scrapes."""
    probe = (
        "import wa_inbox.cli, wa_inbox.running.services, wa_inbox.gateway.outbox, "
        "wa_inbox.gateway.client, wa_inbox.gateway.media_download; import sys; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'prometheus_client'))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert ast.literal_eval(result.stdout.strip()) == []
