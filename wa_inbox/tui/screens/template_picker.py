"""Pick a template: fuzzy search, a form for its variables, a live preview, then send.

Outside the 24-hour window only approved templates are offered, since WhatsApp refuses the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from wa_inbox.domain import window
from wa_inbox.domain.models import Contact
from wa_inbox.domain.policy import Draft, sendable, template_draft
from wa_inbox.domain.templates import TemplateInfo, matches
from wa_inbox.running.services import Services
from wa_inbox.tui.format import display_name, plain


class TemplatePicker(ModalScreen[Draft | None]):
    """Dismisses with the template draft to send, or None.

    Keyboard: type to filter, Enter (or Tab) to the list, Enter on a template to its first variable,
    Enter in a variable to the next one and, after the last, sends; ctrl+s sends from anywhere.
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"), Binding("ctrl+s", "send", "Send")]

    def __init__(
        self,
        services: Services,
        contact: Contact,
        clock: Callable[[], datetime],
        templates: list[TemplateInfo] | None = None,
    ) -> None:
        super().__init__()
        self._services = services
        self._contact = contact
        self._clock = clock
        self._window_open = window.is_open(contact.last_inbound_at, clock())
        self._all: list[TemplateInfo] = templates or []
        self._shown: list[TemplateInfo] = []
        self.chosen: TemplateInfo | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-dialog"):
            note = (
                "window open: any template" if self._window_open else "window closed: approved templates only"
            )
            title = plain(display_name(self._contact), 40)
            title.append(f" ({note})")
            yield Label(Text("Template for ") + title)
            yield Input(
                placeholder="Search templates by name, language, type or approval…", id="picker-search"
            )
            with Horizontal():
                yield OptionList(id="picker-list")
                with Vertical(id="picker-side"):
                    yield VerticalScroll(id="picker-form", can_focus=False)
                    yield Static("", id="picker-preview", markup=False)
            yield Static("", id="picker-problem", markup=False)
            yield Button("Send (ctrl+s)", id="picker-send", variant="primary", disabled=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self._all:
            self._show(self._typed())
        else:
            self._load()

    def _typed(self) -> str:
        """The search typed so far: keys of the burst that opened the picker may be there already."""
        return self.query_one("#picker-search", Input).value

    @work(exclusive=True, group="templates", exit_on_error=False)
    async def _load(self) -> None:
        """The store's copy, synced at start-up; through the gateway only while that is still empty."""
        from wa_inbox.gateway.template_sync import sync_templates

        store, outbox = self._services.store, self._services.outbox
        self._all = await store.list_templates()
        if not self._all and outbox is not None:
            self._all = await sync_templates(outbox.client, store)
        self._show(self._typed())

    def _show(self, query: str = "") -> None:
        offered = sendable(self._all, self._contact, self._clock(), self._services.settings.limits())
        self._shown = [t for t in offered if matches(t, query)]
        options = self.query_one("#picker-list", OptionList)
        options.clear_options()
        options.add_options(Option(self._label(t), id=t.sid) for t in self._shown)
        if self._shown:
            options.highlighted = 0
        else:
            self.chosen = None
            self.query_one("#picker-form", VerticalScroll).remove_children()
            self.query_one("#picker-send", Button).disabled = True
            self.query_one("#picker-preview", Static).update("No template matches.")

    @staticmethod
    def _label(template: TemplateInfo) -> Text:
        kind = template.kind.split("/")[-1]
        category = f" {template.category}" if template.category else ""
        return plain(f"{template.name}  {template.language}  {kind}  [{template.approval}{category}]", 200)

    @on(Input.Changed, "#picker-search")
    def _search(self, event: Input.Changed) -> None:
        self._show(event.value)

    @on(Input.Submitted, "#picker-search")
    def _to_list(self) -> None:
        self.query_one("#picker-list", OptionList).focus()

    @on(OptionList.OptionSelected, "#picker-list")
    def _to_form(self) -> None:
        fields = list(self.query(".var").results(Input))
        if fields:
            fields[0].focus()
        else:
            self.action_send()

    @on(Input.Submitted, ".var")
    def _next_field(self, event: Input.Submitted) -> None:
        fields = list(self.query(".var").results(Input))
        later = fields[fields.index(event.input) + 1 :] if event.input in fields else []
        if later:
            later[0].focus()
        else:
            self.action_send()

    @on(OptionList.OptionHighlighted, "#picker-list")
    async def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        # Keys in a burst can filter the list again before this runs: the option may be gone by now.
        chosen = next((t for t in self._shown if t.sid == event.option.id), None)
        if chosen is None or chosen is self.chosen:
            return
        self.chosen = chosen
        form = self.query_one("#picker-form", VerticalScroll)
        await form.remove_children()
        fields = [
            Input(
                placeholder=f"{{{{{n}}}}} e.g. {self.chosen.variables.get(n, '')}",
                id=f"var-{n}",
                classes="var",
            )
            for n in self.chosen.placeholders()
        ]
        await form.mount_all(fields)
        self.query_one("#picker-send", Button).disabled = False
        self._preview()

    @on(Input.Changed, ".var")
    def _variable_changed(self) -> None:
        self._preview()

    def _values(self) -> dict[str, str]:
        return {
            field.id.removeprefix("var-"): field.value
            for field in self.query(".var").results(Input)
            if field.id
        }

    def _preview(self) -> None:
        template = self.chosen
        if template is None:
            return
        lines = [template.render(self._values())]
        lines += [f"[ {title} ]" for title in template.actions]
        lines += [f"📎 {url}" for url in template.media]
        self.query_one("#picker-preview", Static).update(plain("\n".join(lines), 4000))

    @on(Button.Pressed, "#picker-send")
    def action_send(self) -> None:
        if self.chosen is None:
            return
        values = self._values()
        if missing := self.chosen.missing(values):
            names = ", ".join(f"{{{{{n}}}}}" for n in missing)
            self.query_one("#picker-problem", Static).update(f"Not sent: fill in {names} first.")
            self.query_one(f"#var-{missing[0]}", Input).focus()
            return
        self.dismiss(template_draft(self._contact.address, self.chosen, values))
