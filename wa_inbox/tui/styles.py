"""Where the `.tcss` files are: inside the installed package, or in the checkout's `styles/`."""

from __future__ import annotations

from pathlib import Path

import wa_inbox

_PACKAGED = Path(wa_inbox.__file__).parent / "styles"
_CHECKOUT = Path(wa_inbox.__file__).parent.parent / "styles"


def stylesheet(name: str) -> Path:
    """A wheel carries `styles/` as `wa_inbox/styles` (hatch force-include); a checkout at its top."""
    folder = _PACKAGED if _PACKAGED.is_dir() else _CHECKOUT
    return folder / name
