from __future__ import annotations

import ast
import subprocess
import sys

FRAMEWORKS = "{'textual','starlette','uvicorn','twilio','aiosqlite','httpx'}"
PROBE = (
    "import wa_inbox.domain.addresses, wa_inbox.domain.status, wa_inbox.domain.window, "
    "wa_inbox.domain.optout, wa_inbox.domain.errors, wa_inbox.domain.models, wa_inbox.domain.clock; "
    "import sys; "
    f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FRAMEWORKS}))"
)


def test_domain_imports_no_framework() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert ast.literal_eval(result.stdout.strip()) == []
