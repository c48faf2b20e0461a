"""Every key of the inbox in one place (the command palette, ctrl+p, has them too)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Markdown

HELP = """\
# wa-inbox keys

| key | what it does |
|---|---|
| ↑ ↓ / j k | move in the list (it holds its order while you move; "N updated" sorts at a pause) |
| pgup pgdn / home end | a screenful, or the top and the bottom of the list |
| enter | open the conversation and write in it (typing goes straight to its composer) |
| esc | back to the conversation list |
| enter (composer) | send exactly what is in the composer |
| ctrl+j | new line (in the composer) |
| ctrl+n | next unread conversation (the newest notice first) |
| ctrl+w | the conversation whose window closes soonest (in the composer, ctrl+w deletes a word) |
| ctrl+g | go to a conversation by name or number (fuzzy) |
| ctrl+t | pick a template (the only way to write once the 24-hour window is closed) |
| f2 | attach a file (tab completes; enter shows what goes to whom, enter again sends it) |
| f4 | quiet: no notices of new messages (the list's unread marks stay) |
| ctrl+v | the next view: Mine, Unassigned, All (active conversations; a label filter ends here) |
| ctrl+y | take the conversation, give it to another agent, or to nobody |
| ctrl+d | its status: open, pending, resolved, or snoozed (a customer's message reopens it) |
| f5 | the composer writes an internal note (never sent; @name tells that agent) |
| / (composer start) | insert a saved reply, filled in, to edit before sending |
| ctrl+k | the customer: number, window, opt-out and its history, labels, opt out by hand |
| f6 | write to a number that never wrote (a template) |
| ctrl+e / ctrl+o | write in the shown conversation / back to the list |
| ↑ ↓ in the thread, enter | pick a message; on a failed one, its error and the fix |
| o | open the picked message's attachment with the system's viewer |
| p | preview the picked message's image in the terminal (sixel, Kitty graphics or half-cells) |
| end | back to the newest message |
| ctrl+f | search names, numbers and messages; a message hit opens its thread at that message |
| ctrl+r | rejected webhooks and why |
| f3 | health: the checks of `wa-inbox doctor`, each failure with its fix |
| ctrl+l | the receiver's and sender's log (also in ~/.local/state/wa-inbox/log/wa-inbox.log) |
| ctrl+p | command palette |
| f1 | this help |
| ctrl+q | quit (unsent drafts are kept, one per conversation) |

Each conversation keeps its own draft, also across restarts. New messages elsewhere show on the line
above the thread, one per conversation, never over what you type.
Ticks: 🕓 queued · ✓ sent · ✓✓ delivered · ✓✓ (accent) read · ✗ failed, with its code.
The window shows hours:minutes left; amber under 2 hours, red when closed. ⊘ marks a customer who sent STOP.
No default key uses ctrl+b or ctrl+a, so tmux and screen keep their prefixes.
A send that could cross another agent's reply (or their typing) asks first: enter sends anyway, esc cancels.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Markdown(HELP)
        yield Footer(compact=True)
