"""Write to a number that has never written (f6): the number, checked, then the template picker.

Someone who never wrote has no open 24-hour window, so a template is the only first message WhatsApp
takes; the picker (the same one as ctrl+t) offers the approved ones. Its draft goes back to the inbox,
which sends it through the normal submitter (the policy first), like any template.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import phonenumbers
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

from wa_inbox.domain.addresses import PREFIX
from wa_inbox.domain.models import Contact
from wa_inbox.domain.policy import Draft, standing_refusal
from wa_inbox.running.services import Services
from wa_inbox.tui.format import plain

EXAMPLE = "+34 612 345 678"
"""The example a sentence gives when the number's country is not known."""
NUMBER_CHARS = 40
"""Of the typed text, this much is quoted back in a sentence."""
_PERMITTED = re.compile(r"\+?[0-9\s().-]+")


class InvalidNumber(ValueError):
    """The typed text is no number WhatsApp could reach; the message is one sentence saying how to fix it."""


def check_number(typed: str) -> str:
    """The WhatsApp address (`whatsapp:+E164`) of a number typed with its country code; `InvalidNumber`
    with one sentence otherwise. `whatsapp:` and an international `00` in front are accepted."""
    text = typed.strip()
    if text[: len(PREFIX)].lower() == PREFIX:
        text = text[len(PREFIX) :].strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    shown = " ".join(typed.split())[:NUMBER_CHARS]
    if not text:
        raise InvalidNumber(f"Type the number with its country code, like {EXAMPLE}.")
    if not _PERMITTED.fullmatch(text) or not any(c.isdigit() for c in text):
        raise InvalidNumber(f"{shown} is not a phone number: type it with its country code, like {EXAMPLE}.")
    if not text.startswith("+"):
        raise InvalidNumber(f"{shown} has no country code: type it with one, like {EXAMPLE}.")
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(
            f"{shown} starts with no country's code: type the number with its country code, like {EXAMPLE}."
        ) from exc
    region = phonenumbers.region_code_for_number(number)
    example = _example(region)
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == phonenumbers.ValidationResult.INVALID_COUNTRY_CODE:
        raise InvalidNumber(
            f"{shown} starts with no country's code: type the number with its country code, like {EXAMPLE}."
        )
    if reason in (phonenumbers.ValidationResult.TOO_SHORT, phonenumbers.ValidationResult.INVALID_LENGTH):
        raise InvalidNumber(
            f"{shown} is not a complete number: type it with its country code, like {example}."
        )
    if reason == phonenumbers.ValidationResult.TOO_LONG:
        raise InvalidNumber(f"{shown} has too many digits: type it with its country code, like {example}.")
    if not phonenumbers.is_valid_number(number):
        raise InvalidNumber(f"{shown} is not a number in use: check it, and type it like {example}.")
    return PREFIX + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _example(region: str | None) -> str:
    """A mobile number of `region` as people write it (+34 612 34 56 78), else the general example."""
    if region is None or region in (phonenumbers.UNKNOWN_REGION, phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY):
        return EXAMPLE
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        return EXAMPLE
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def new_contact(address: str) -> Contact:
    """Someone who never wrote: no name, no window, not opted out."""
    return Contact(address, None, None, None, False, None, None)


class NewConversation(ModalScreen[Draft | None]):
    """Dismisses with the template draft to send to the new number, or None.

    Enter checks the number; a good one opens the template picker for it (Esc there comes back here).
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, services: Services, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self._services = services
        self._clock = clock

    def compose(self) -> ComposeResult:
        with Vertical(id="new-conversation-dialog"):
            yield Label("Write to a new number: its first message is a template (no window is open)")
            yield Input(
                placeholder=f"Number with its country code, like {EXAMPLE}", id="new-conversation-number"
            )
            yield Static("", id="new-conversation-problem")
        yield Footer(compact=True)

    def say(self, sentence: str | Text) -> None:
        problem = self.query_one("#new-conversation-problem", Static)
        problem.update(plain(sentence) if isinstance(sentence, str) else sentence)
        problem.set_class(bool(sentence), "-visible")

    @on(Input.Changed, "#new-conversation-number")
    def _typing(self) -> None:
        self.say("")

    @on(Input.Submitted, "#new-conversation-number")
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            address = check_number(event.value)
        except InvalidNumber as invalid:
            self.say(str(invalid))
            return
        self._open_picker(address)

    @work(exclusive=True, group="new-conversation", exit_on_error=False)
    async def _open_picker(self, address: str) -> None:
        from wa_inbox.tui.screens.template_picker import TemplatePicker

        contact = await self._services.store.get_contact(address) or new_contact(address)
        standing = standing_refusal(contact, self._clock(), self._services.settings.limits())
        if standing is not None and not standing.template_possible:
            self.say(standing.reason)  # opted out: no template would go either
            return
        picker = TemplatePicker(self._services, contact, self._clock)
        await self.app.push_screen(picker, self._chosen)

    def _chosen(self, draft: Draft | None) -> None:
        if draft is not None:
            self.dismiss(draft)
        else:
            self.query_one("#new-conversation-number", Input).focus()
