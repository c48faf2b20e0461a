"""`wa-inbox templates sync|list`, and `send --template` re-syncing when Twilio refuses the template."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.cli import run_cli
from tests.support.world import customer_writes, quick
from wa_inbox.domain.errors import describe
from wa_inbox.emulator.templates import BY_NAME
from wa_inbox.testing import EmulatedInbox, emulated_inbox

ANA = "whatsapp:+5511987654321"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[EmulatedInbox]:
    """No sender in the world, so no start-up sync: the templates table is the CLI's alone."""
    async with emulated_inbox(tmp_path / "inbox.db", quick, send=False) as running:
        yield running


async def test_sync_then_list(world: EmulatedInbox) -> None:
    synced = await run_cli(world.settings, "templates", "sync")
    assert synced.status == 0, synced.stderr
    assert synced.stdout.strip() == (
        "Synced 8 templates: 4 approved, 1 paused, 1 pending, 1 rejected, 1 unsubmitted."
    )

    listed = await run_cli(world.settings, "templates", "list", "--output", "json")
    records = {record["name"]: record for record in json.loads(listed.stdout)}
    assert set(records) == set(BY_NAME)
    winback = records["winback_discount"]
    assert (winback["approval"], winback["category"]) == ("rejected", "UTILITY")
    assert winback["rejection_reason"].startswith("INCORRECT_CATEGORY")
    assert records["order_shipped"]["variables"] == {"1": "Ana", "2": "#10452"}
    assert records["order_shipped"]["synced_at"].endswith("Z")

    tsv = (await run_cli(world.settings, "templates", "list")).stdout.splitlines()
    assert tsv[0].split("\t") == ["sid", "name", "language", "kind", "approval", "category", "body"]
    assert len(tsv) == 1 + len(BY_NAME)


async def test_list_before_any_sync_says_how_to_get_them(world: EmulatedInbox) -> None:
    listed = await run_cli(world.settings, "templates", "list", "--output", "json")
    assert (listed.status, json.loads(listed.stdout)) == (0, [])
    assert "wa-inbox templates sync" in listed.stderr


async def test_a_refused_template_send_resyncs_and_says_so(world: EmulatedInbox) -> None:
    await customer_writes(world, ANA)
    await world.emulator.fail_next(21656, via="api")
    sent = await run_cli(
        world.settings, "send", "--to", ANA, "--template", BY_NAME["order_shipped"].sid, "--var", "1=Ana"
    )
    info = describe(21656)
    assert info is not None and info.template_problem
    assert sent.status == 1
    assert "error 21656" in sent.stderr and "re-syncs its templates" in sent.stderr
    assert {t.name for t in await world.store.list_templates()} == set(BY_NAME)
