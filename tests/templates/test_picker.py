"""The template picker offers the store's copy, and syncs through Twilio only while there is none."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from textual.widgets import OptionList

from tests.support.tui import inbound, offline_backend, template_info, until, world_backend
from tests.support.world import customer_writes, eventually, running_world
from wa_inbox.emulator.templates import BY_NAME
from wa_inbox.running.services import Backend
from wa_inbox.store import open_store
from wa_inbox.tui.app import InboxApp
from wa_inbox.tui.screens.template_picker import TemplatePicker

ANA = "whatsapp:+5511987654321"


async def offered(backend: Backend) -> list[str]:
    """The labels the picker lists for Ana, once it has loaded."""
    app = InboxApp(backend)
    async with app.run_test(size=(120, 32)) as pilot:
        await until(pilot, lambda: app.inbox.services is not None)
        services = app.inbox.services
        assert services is not None
        contact = await services.store.get_contact(ANA)
        assert contact is not None
        picker = TemplatePicker(services, contact, lambda: datetime.now(UTC))
        await app.push_screen(picker)
        options = picker.query_one("#picker-list", OptionList)
        await until(pilot, lambda: options.option_count > 0)
        return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_the_picker_offers_the_stored_templates(tmp_path: Path) -> None:
    """Offline (no Twilio client), so what it shows can only have come from the store."""
    store = await open_store(tmp_path / "inbox.db")
    try:
        await inbound(store, ANA, "Hi", datetime.now(UTC), name="Ana")
        renamed = replace(template_info(BY_NAME["order_shipped"]), name="shipped_as_stored")
        await store.replace_templates([renamed])
    finally:
        await store.close()
    (label,) = await offered(offline_backend(tmp_path / "inbox.db"))
    assert label.startswith("shipped_as_stored")


async def test_an_empty_store_is_filled_through_twilio(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await customer_writes(world, ANA)
        await eventually(world.store.list_templates, bool)  # the start-up sync, then as if it had not run
        await world.store.replace_templates([])

        labels = await offered(world_backend(world))
        stored = await world.store.list_templates()
    assert len(labels) == len(BY_NAME)  # Ana's window is open: every template
    assert {t.name for t in stored} == set(BY_NAME)
