"""The inbox driven by keys against the real emulator, receiver and sender on loopback."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.pilot import Pilot

from tests.support.tui import (
    ANA,
    BEN,
    ZOE,
    idle,
    inbound,
    list_rows,
    offline_backend,
    open_address,
    row_of,
    running_app,
    static_text,
    status_text,
    thread_text,
    type_text,
    until,
    world_backend,
)
from tests.support.world import customer_writes, eventually, running_world
from wa_inbox.domain.errors import describe
from wa_inbox.domain.models import Direction
from wa_inbox.emulator.templates import BY_NAME
from wa_inbox.running.services import attached
from wa_inbox.testing import EmulatedInbox
from wa_inbox.tui.screens.failed import FailedMessageScreen
from wa_inbox.tui.screens.template_picker import TemplatePicker
from wa_inbox.tui.widgets.composer import Composer


async def outbound_bodies(world: EmulatedInbox, address: str) -> list[str]:
    page = await world.store.thread_page(address)
    return [m.body for m in page if m.direction is Direction.OUTBOUND]


async def send_from_composer(pilot: Pilot[None], text: str) -> None:
    await pilot.press("ctrl+e")
    await type_text(pilot, text)
    await pilot.press("enter")


async def test_a_customer_message_appears_live_in_the_list_and_the_open_thread(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world, running_app(world_backend(world)) as (app, pilot):
        assert list_rows(app) == []

        await world.emulator.customer_says(ZOE, "Hello there", profile_name="Zoe")
        await until(pilot, lambda: any("Zoe" in row for row in list_rows(app)))
        assert row_of(app, "Zoe").startswith("● Zoe")  # unread until opened

        await pilot.press("enter")
        await until(pilot, lambda: "Hello there" in thread_text(app))
        assert open_address(app) == ZOE

        await world.emulator.customer_says(ZOE, "Are you there?", profile_name="Zoe")
        await until(pilot, lambda: "Are you there?" in thread_text(app))
        await until(pilot, lambda: "Are you" in row_of(app, "Zoe"))
        await until(pilot, lambda: not row_of(app, "Zoe").startswith("●"))  # seen where it arrived


async def test_b_a_reply_from_the_composer_ticks_up_to_read(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await customer_writes(world, ZOE, "Hi, is my order on its way?")
        async with running_app(world_backend(world)) as (app, pilot):
            assert open_address(app) == ZOE

            await send_from_composer(pilot, "Yes, it ships today")

            page = await eventually(
                lambda: world.store.thread_page(ZOE), lambda page: page[-1].status == "read"
            )
            assert page[-1].body == "Yes, it ships today"
            (sent,) = await world.emulator.sent()
            assert sent["params"]["Body"] == "Yes, it ships today"

            await until(pilot, lambda: row_of(app, "You: Yes").rstrip().endswith("✓✓"))
            lines = thread_text(app).splitlines()
            mine = lines.index(next(line for line in lines if "Yes, it ships today" in line))
            assert lines[mine - 1].rstrip().endswith("✓✓")  # the meta line above the bubble
            assert app.inbox.query_one(Composer).text == ""


async def test_c_closed_window_refuses_text_and_a_template_goes_out(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        wrote = datetime.now(UTC) - timedelta(hours=30)
        await inbound(world.store, BEN, "Can I change my address?", wrote, name="Ben")
        await world.emulator.set_last_inbound(BEN, wrote)
        async with running_app(world_backend(world)) as (app, pilot):
            assert "24-hour window with Ben closed" in static_text(app, "#banner")

            await send_from_composer(pilot, "Sure")
            await until(pilot, lambda: "Not sent" in static_text(app, "#banner"))
            assert "window" in static_text(app, "#banner")
            assert app.inbox.query_one(Composer).text == "Sure"  # kept for the agent
            assert await world.emulator.sent() == []
            assert await outbound_bodies(world, BEN) == []

            await pilot.press("ctrl+t")
            await until(pilot, lambda: isinstance(app.screen, TemplatePicker))
            picker = app.screen
            await until(pilot, lambda: picker.query_one("#picker-list").option_count > 0)
            offered = [str(o.prompt) for o in picker.query_one("#picker-list").options]
            assert all("[approved" in label for label in offered)  # outside the window
            await type_text(pilot, "order_sh")
            await until(pilot, lambda: bool(picker.query("#var-2")))
            await pilot.click("#var-1")
            await type_text(pilot, "Ben")
            await pilot.click("#var-2")
            await type_text(pilot, "#42")
            assert "Hi Ben, your order #42 has shipped." in static_text(app, "#picker-preview")
            await pilot.press("ctrl+s")

            (sent,) = await eventually(world.emulator.sent, lambda sent: len(sent) == 1)
            assert sent["params"]["ContentSid"] == BY_NAME["order_shipped"].sid
            assert json.loads(sent["params"]["ContentVariables"]) == {"1": "Ben", "2": "#42"}
            await until(pilot, lambda: "Hi Ben, your order #42 has shipped." in thread_text(app))


async def test_d_an_opted_out_contact_gets_nothing_but_the_stop_confirmation(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await customer_writes(world, ANA, "STOP")
        (confirmation,) = await eventually(world.emulator.sent, lambda sent: len(sent) == 1)
        async with running_app(world_backend(world)) as (app, pilot):
            assert open_address(app) == ANA

            await send_from_composer(pilot, "Wait, one more thing")
            await until(pilot, lambda: "Not sent" in static_text(app, "#banner"))
            assert "opted out" in static_text(app, "#banner")
            app.inbox._tick()  # the once-a-second redraw keeps the refusal in view
            assert "Not sent" in static_text(app, "#banner")
            assert await world.emulator.sent() == [confirmation]
            assert confirmation["params"]["Body"] == world.settings.opt.stop_confirmation
            assert await outbound_bodies(world, ANA) == [world.settings.opt.stop_confirmation]
            assert "⊘" in row_of(app, "+5511987654321")
            assert "template" not in static_text(app, "#banner")  # none would go: none is offered

            await pilot.press("ctrl+t")
            await until(pilot, lambda: "opted out" in static_text(app, "#notice"))
            assert not isinstance(app.screen, TemplatePicker)


async def test_e_a_failed_message_explains_itself_and_offers_a_template(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await customer_writes(world, ZOE, "Any news?")
        await world.emulator.fail_next(63016, via="callback")
        async with running_app(world_backend(world)) as (app, pilot):
            await send_from_composer(pilot, "Checking now")
            await until(pilot, lambda: "✗ 63016" in thread_text(app))
            assert "✗ 63016" in row_of(app, "+14155550100")

            await pilot.press("ctrl+o", "tab", "up", "enter")  # list, thread, the newest message
            await until(pilot, lambda: isinstance(app.screen, FailedMessageScreen))
            info = describe(63016)
            assert info is not None
            assert "63016" in static_text(app, "#failed-title")
            assert static_text(app, "#failed-meaning") == info.meaning
            assert info.action in static_text(app, "#failed-action")

            await pilot.press("t")
            await until(pilot, lambda: isinstance(app.screen, TemplatePicker))


async def test_f_search_opens_the_conversation_it_finds(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await customer_writes(world, ZOE, "My blender arrived broken")
        await customer_writes(world, BEN, "Where is my parcel?")
        async with running_app(world_backend(world)) as (app, pilot):
            assert open_address(app) == BEN  # the newest conversation opens first

            await pilot.press("ctrl+f")
            await type_text(pilot, "blend")
            await pilot.press("enter")

            await until(pilot, lambda: open_address(app) == ZOE)
            await until(pilot, lambda: "My blender arrived broken" in thread_text(app))


async def test_g_next_unread_walks_the_unread_conversations(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await world.store.record_agent(world.settings.agent.resolved)  # at work before they wrote
        for address in (ZOE, BEN, ANA):
            await customer_writes(world, address, f"Hello from {address[-4:]}")
        async with running_app(world_backend(world)) as (app, pilot):
            assert open_address(app) == ANA  # newest, shown: not read until the agent opens it
            assert row_of(app, "+5511987654321").startswith("●")

            await pilot.press("ctrl+n")
            await until(pilot, lambda: not row_of(app, "+5511987654321").startswith("●"))
            await pilot.press("ctrl+n")
            await until(pilot, lambda: open_address(app) == BEN)
            await until(pilot, lambda: not row_of(app, "+14155550123").startswith("●"))
            await pilot.press("ctrl+n")
            await until(pilot, lambda: open_address(app) == ZOE)
            await until(pilot, lambda: not any(row.startswith("●") for row in list_rows(app)))
            await pilot.press("ctrl+n")
            await until(pilot, lambda: idle(app))
            assert open_address(app) == ZOE
            assert "Hello from 0100" in thread_text(app)
            assert "No unread conversations." in static_text(app, "#notice")


async def test_h_attached_to_another_process_sees_a_new_message_within_a_second(tmp_path: Path) -> None:
    async with (
        running_world(tmp_path) as serve,  # another process: its receiver writes the database
        running_app(attached(serve.settings)) as (app, pilot),
    ):
        assert "attached to wa-inbox serve" in status_text(app)
        assert status_text(app).startswith("sent by ")  # the serving process holds the sender lease

        await serve.emulator.customer_says(ZOE, "Anyone there?", profile_name="Zoe")

        async def shown() -> bool:
            await pilot.pause()
            return any("Zoe" in row for row in list_rows(app))

        await eventually(shown, bool, seconds=1.0)


async def test_h_attached_queues_and_the_serving_process_sends(tmp_path: Path) -> None:
    async with running_world(tmp_path) as serve:
        await customer_writes(serve, ZOE, "Hi")
        async with running_app(attached(serve.settings)) as (app, pilot):
            await send_from_composer(pilot, "Hello Zoe")
            (sent,) = await eventually(serve.emulator.sent, lambda sent: len(sent) == 1)
            assert sent["params"]["Body"] == "Hello Zoe"
            await until(pilot, lambda: "Hello Zoe" in thread_text(app))


async def test_h_attached_without_credentials_queues_and_the_server_delivers(tmp_path: Path) -> None:
    async with running_world(tmp_path) as serve:
        await customer_writes(serve, ZOE, "Hi")
        agent = offline_backend(serve.settings.store.path)  # no Twilio settings or secrets at all
        async with running_app(agent) as (app, pilot):
            assert app.inbox.services is not None and app.inbox.services.outbox is None
            await send_from_composer(pilot, "Queued by an agent without secrets")
            (sent,) = await eventually(serve.emulator.sent, lambda sent: len(sent) == 1)
            assert sent["params"]["Body"] == "Queued by an agent without secrets"
            await until(pilot, lambda: status_text(app).startswith("sent by "))


async def test_h_the_status_line_says_when_no_sender_runs(tmp_path: Path) -> None:
    async with running_world(tmp_path) as serve:
        await customer_writes(serve, ZOE, "Hi")
    async with running_app(attached(serve.settings)) as (app, pilot):  # the server has stopped
        await until(pilot, lambda: status_text(app).startswith("no sender running"))


async def test_a_narrow_terminal_keeps_the_window_and_ticks_in_the_list(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await customer_writes(world, ZOE, "A rather long first message that will not fit in the list")
        async with running_app(world_backend(world), size=(80, 24)) as (app, _):
            (row,) = list_rows(app)
            assert "23:59" in row  # the window countdown was not pushed off by the preview
