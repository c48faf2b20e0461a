"""WhatsApp templates (Twilio Content API) as the inbox needs them: what they say and how they render.

Whether one may be sent to a customer now is the policy's to say (`policy.refusal`, `policy.sendable`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wa_inbox.domain.fuzzy import is_subsequence

APPROVED = "approved"
_VARIABLE = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    """One template of the account (a Content API resource) with WhatsApp's verdict on it."""

    sid: str
    name: str
    language: str
    kind: str
    """The Content API type, like "twilio/text" or "twilio/quick-reply"."""
    body: str
    variables: Mapping[str, str] = field(default_factory=dict)
    """Variable number -> sample value, as declared on the template."""
    approval: str = "unsubmitted"
    category: str | None = None
    actions: tuple[str, ...] = ()
    """Button titles (quick replies, calls to action), shown in the preview."""
    media: tuple[str, ...] = ()
    rejection_reason: str | None = None
    """WhatsApp's reason, when it rejected the template: shown so the agent knows why it is not offered."""
    types: Mapping[str, Any] = field(default_factory=dict)
    """The Content API's `types` object as Twilio returned it, kinds the inbox does not render included."""
    synced_at: datetime | None = None
    """When the store last read it from Twilio; None for a template not stored yet."""

    @property
    def approved(self) -> bool:
        return self.approval == APPROVED

    def render(self, values: Mapping[str, str]) -> str:
        """The text the customer will read; a variable without a value keeps its `{{n}}`."""
        return _VARIABLE.sub(lambda m: values.get(m.group(1)) or m.group(0), self.body)

    def missing(self, values: Mapping[str, str]) -> list[str]:
        """Variables still without a value: a template never goes out with a sample or a `{{n}}` in it."""
        return [n for n in self.placeholders() if not values.get(n, "").strip()]

    def placeholders(self) -> list[str]:
        """Variable numbers used in the body, in order of first use (the form asks for these)."""
        seen: dict[str, None] = {}
        for match in _VARIABLE.finditer(self.body):
            seen.setdefault(match.group(1), None)
        return list(seen) or sorted(self.variables, key=lambda k: (len(k), k))


def matches(template: TemplateInfo, query: str) -> bool:
    """Fuzzy: every character of the query appears, in order, in name, language, type or approval."""
    return is_subsequence(query, f"{template.name} {template.language} {template.kind} {template.approval}")
