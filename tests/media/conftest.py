"""A running world for media tests, files to attach, and small servers that record who asked them what."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.media import ANA, media_world
from tests.support.world import customer_writes
from wa_inbox.testing import EmulatedInbox


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[EmulatedInbox]:
    """A world where Ana has just written, so session messages to her are allowed."""
    async with media_world(tmp_path) as running:
        await customer_writes(running, ANA)
        yield running
