"""The emulator must be able to disagree with the product, so it may not import it."""

from __future__ import annotations

import ast
import subprocess
import sys

PROBE = "import sys, wa_inbox.emulator; print(sorted(m for m in sys.modules if m.startswith('wa_inbox')))"


def test_emulator_imports_nothing_else_from_wa_inbox() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    loaded = ast.literal_eval(result.stdout.strip())
    assert [m for m in loaded if m != "wa_inbox" and not m.startswith("wa_inbox.emulator")] == []
