"""Content API fixtures: the account's WhatsApp templates in every approval state.

Enough variety for the product's template picker and the window rules: approved utility and
marketing templates in two languages, quick replies whose ids match the simulated customers'
button taps, and templates that are pending, rejected, paused or never submitted.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

_VARIABLE = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_CREATED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
_UPDATED = datetime(2026, 3, 3, 14, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Template:
    """One Content resource and its WhatsApp approval request."""

    friendly_name: str
    language: str
    variables: Mapping[str, str]
    types: dict[str, dict[str, Any]]
    approval: Mapping[str, Any]
    created: datetime = _CREATED
    updated: datetime = _UPDATED

    @property
    def sid(self) -> str:
        """Stable across runs (derived from the name) so tests and the demo can name it."""
        return "HX" + hashlib.md5(self.friendly_name.encode()).hexdigest()

    @property
    def approved(self) -> bool:
        return self.approval.get("status") == "approved"

    def judged(self, status: str, reason: str = "") -> Template:
        """The same template after WhatsApp changed its verdict (approved, paused, rejected, …)."""
        return replace(self, approval={**self.approval, "status": status, "rejection_reason": reason})

    def render(self, values: Mapping[str, str]) -> str:
        """The text Twilio stores as the message body: the first body, variables filled in."""
        body = next((t.get("body") or t.get("title", "") for t in self.types.values()), "")
        merged = {**self.variables, **values}
        return _VARIABLE.sub(lambda m: merged.get(m.group(1), m.group(0)), body)


def _approval(name: str, category: str, kind: str, status: str, reason: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "category": category,
        "content_type": kind,
        "status": status,
        "rejection_reason": reason,
        "allow_category_change": True,
    }


UNSUBMITTED = {
    "name": "",
    "category": "",
    "content_type": "",
    "status": "unsubmitted",
    "rejection_reason": "",
    "allow_category_change": True,
}

TEMPLATES: tuple[Template, ...] = (
    Template(
        "order_shipped",
        "en",
        {"1": "Ana", "2": "#10452"},
        {"twilio/text": {"body": "Hi {{1}}, your order {{2}} has shipped."}},
        _approval("order_shipped", "UTILITY", "twilio/text", "approved"),
    ),
    Template(
        "pedido_enviado",
        "pt_BR",
        {"1": "Ana", "2": "#10452"},
        {"twilio/text": {"body": "Olá {{1}}, seu pedido {{2}} foi enviado e chega em breve."}},
        _approval("pedido_enviado", "UTILITY", "twilio/text", "approved"),
    ),
    Template(
        "spring_sale",
        "en",
        {"1": "Ana", "2": "20%"},
        {
            "twilio/media": {
                "body": "Hi {{1}}! Our spring sale starts today: {{2}} off everything in store.",
                "media": ["https://cdn.example.com/promo/spring-sale.jpg"],
            }
        },
        _approval("spring_sale", "MARKETING", "twilio/media", "approved"),
    ),
    Template(
        "delivery_slot_confirm",
        "en",
        {"1": "Ana", "2": "#10452"},
        {
            "twilio/quick-reply": {
                "body": "Hi {{1}}, can we deliver order {{2}} tomorrow between 9am and 1pm?",
                "actions": [
                    {"title": "Yes, confirm", "id": "confirm_delivery"},
                    {"title": "Reschedule", "id": "reschedule_delivery"},
                    {"title": "Talk to an agent", "id": "talk_to_agent"},
                ],
            }
        },
        _approval("delivery_slot_confirm", "UTILITY", "twilio/quick-reply", "approved"),
    ),
    Template(
        "track_order",
        "en",
        {"1": "10452"},
        {
            "twilio/call-to-action": {
                "body": "Your order #{{1}} is on its way. Track it or call us below.",
                "actions": [
                    {"type": "URL", "title": "Track order", "url": "https://shop.example.com/t/{{1}}"},
                    {"type": "PHONE_NUMBER", "title": "Call support", "phone": "+14155550123"},
                ],
            }
        },
        _approval("track_order", "UTILITY", "twilio/call-to-action", "pending"),
    ),
    Template(
        "winback_discount",
        "en",
        {"1": "Ana"},
        {"twilio/text": {"body": "We miss you {{1}}! Come back for 50% off, today only!!!"}},
        _approval(
            "winback_discount",
            "UTILITY",
            "twilio/text",
            "rejected",
            "INCORRECT_CATEGORY. Promotional content was submitted as UTILITY; resubmit it as MARKETING.",
        ),
    ),
    Template(
        "new_arrivals_card",
        "en",
        {"1": "Ana"},
        {
            "twilio/card": {
                "title": "New arrivals for you, {{1}}",
                "subtitle": "Fresh picks from this week's collection",
                "media": ["https://cdn.example.com/cards/new-arrivals.jpg"],
                "actions": [{"type": "URL", "title": "Shop now", "url": "https://shop.example.com/new"}],
            }
        },
        UNSUBMITTED,
    ),
    Template(
        "recordatorio_cita",
        "es",
        {"1": "María", "2": "jueves 10:30"},
        {"twilio/text": {"body": "Hola {{1}}, te recordamos tu cita del {{2}}."}},
        _approval("recordatorio_cita", "UTILITY", "twilio/text", "paused"),
    ),
)

BY_SID: dict[str, Template] = {t.sid: t for t in TEMPLATES}
BY_NAME: dict[str, Template] = {t.friendly_name: t for t in TEMPLATES}
