"""Starting a conversation (f6): a number checked as E.164 (one sentence when it is not one), then the
template picker for it, whose template goes through the normal send; its conversation then opens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from tests.support.tui import ZOE, open_address, running_app, type_text, until, world_backend
from tests.support.world import customer_writes, eventually, running_world
from wa_inbox.emulator.templates import BY_NAME
from wa_inbox.tui.screens.inbox import InboxScreen
from wa_inbox.tui.screens.new_conversation import InvalidNumber, NewConversation, check_number
from wa_inbox.tui.screens.template_picker import TemplatePicker
from wa_inbox.tui.widgets.composer import Composer

NEW = "whatsapp:+34612345678"


@pytest.mark.parametrize(
    ("typed", "address"),
    [
        ("+34 612 345 678", NEW),
        ("+34612345678", NEW),
        ("0034 612-345-678", NEW),
        ("whatsapp:+34 612 345 678", NEW),
        ("  +1 (415) 555-0100 ", "whatsapp:+14155550100"),
    ],
)
def test_a_number_with_its_country_code_is_an_address(typed: str, address: str) -> None:
    assert check_number(typed) == address


@pytest.mark.parametrize(
    ("typed", "sentence"),
    [
        (
            "+34 612",
            "+34 612 is not a complete number: type it with its country code, like +34 612 34 56 78.",
        ),
        ("612 345 678", "612 345 678 has no country code: type it with one, like +34 612 345 678."),
        ("", "Type the number with its country code, like +34 612 345 678."),
        ("ana", "ana is not a phone number: type it with its country code, like +34 612 345 678."),
        ("+999 123 456", "+999 123 456 starts with no country's code"),
        ("+34 612 345 678 901", "+34 612 345 678 901 has too many digits"),
        ("+34 012 345 678", "+34 012 345 678 is not a number in use"),
    ],
)
def test_anything_else_gets_one_sentence(typed: str, sentence: str) -> None:
    with pytest.raises(InvalidNumber) as refused:
        check_number(typed)
    assert str(refused.value).startswith(sentence)
    assert str(refused.value).count(".") >= 1 and "\n" not in str(refused.value)


def problem(screen: object) -> str:
    assert isinstance(screen, NewConversation)
    return str(screen.query_one("#new-conversation-problem", Static).render())


async def test_an_incomplete_number_gets_the_sentence_and_a_valid_one_opens_the_template_picker(
    tmp_path: Path,
) -> None:
    async with running_world(tmp_path) as world:
        await customer_writes(world, ZOE, "Hi")
        async with running_app(world_backend(world)) as (app, pilot):
            await pilot.press("ctrl+e", "f6")  # from the composer too (where f6 would select the line)
            await until(pilot, lambda: isinstance(app.screen, NewConversation))
            dialog = app.screen
            await type_text(pilot, "+34 612")
            await pilot.press("enter")
            await until(pilot, lambda: "not a complete number" in problem(dialog))
            assert app.screen is dialog
            assert problem(dialog) == (
                "+34 612 is not a complete number: type it with its country code, like +34 612 34 56 78."
            )

            await type_text(pilot, " 345 678")
            assert problem(dialog) == ""  # typing clears it
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, TemplatePicker))
            picker = app.screen
            assert isinstance(picker, TemplatePicker)
            assert "window closed: approved templates only" in str(picker.query_one("Label").render())
            await until(pilot, lambda: picker.query_one("#picker-list").option_count > 0)
            offered = [str(o.prompt) for o in picker.query_one("#picker-list").options]
            assert offered and all("[approved" in label for label in offered)

            await pilot.press("escape")  # back to the number, to fix it or leave
            await until(pilot, lambda: app.screen is dialog)
            assert dialog.query_one(Input).has_focus
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, InboxScreen))
            assert await world.emulator.sent() == []


async def test_the_template_goes_through_the_normal_send_and_the_conversation_opens(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await customer_writes(world, ZOE, "Hi")
        async with running_app(world_backend(world)) as (app, pilot):
            await pilot.press("f6")
            await until(pilot, lambda: isinstance(app.screen, NewConversation))
            await type_text(pilot, "+34 612 345 678")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, TemplatePicker))
            picker = app.screen
            await until(pilot, lambda: picker.query_one("#picker-list").option_count > 0)
            await type_text(pilot, "order_sh")
            await until(pilot, lambda: bool(picker.query("#var-2")))
            await pilot.click("#var-1")
            await type_text(pilot, "Lucía")
            await pilot.click("#var-2")
            await type_text(pilot, "#7")
            await pilot.press("ctrl+s")

            (sent,) = await eventually(world.emulator.sent, lambda sent: len(sent) == 1)
            assert sent["params"]["To"] == NEW
            assert sent["params"]["ContentSid"] == BY_NAME["order_shipped"].sid
            assert json.loads(sent["params"]["ContentVariables"]) == {"1": "Lucía", "2": "#7"}
            await until(pilot, lambda: isinstance(app.screen, InboxScreen))
            await until(pilot, lambda: open_address(app) == NEW)
            assert app.inbox.query_one(Composer).address == NEW


async def test_an_opted_out_number_is_told_so_before_any_template(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await customer_writes(world, ZOE, "STOP")
        await eventually(world.emulator.sent, lambda sent: len(sent) == 1)  # the confirmation
        async with running_app(world_backend(world)) as (app, pilot):
            await pilot.press("f6")
            await until(pilot, lambda: isinstance(app.screen, NewConversation))
            dialog = app.screen
            await type_text(pilot, ZOE.removeprefix("whatsapp:"))
            await pilot.press("enter")
            await until(pilot, lambda: "opted out" in problem(dialog))
            assert app.screen is dialog
