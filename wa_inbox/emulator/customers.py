"""Simulated customers and the things they write, so the demo and benchmarks have live traffic.

Customers have valid WhatsApp numbers in several countries and write in their own language:
mostly text, sometimes a photo, a location pin or a quick-reply tap, and now and then STOP
(followed, some time later, by START).
"""

from __future__ import annotations

import asyncio
import logging
import random
import struct
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import phonenumbers

from wa_inbox.emulator.inbound import Location
from wa_inbox.emulator.validation import whatsapp_e164

log = logging.getLogger(__name__)
Say = Callable[..., Awaitable[str]]


@dataclass(frozen=True)
class Customer:
    """A person on WhatsApp: display name, channel address and language."""

    name: str
    address: str
    language: str


PEOPLE: tuple[tuple[str, str, str], ...] = (
    ("Ana Silva", "BR", "pt"),
    ("João Pereira", "BR", "pt"),
    ("Beatriz Costa", "PT", "pt"),
    ("María González", "MX", "es"),
    ("Carlos Ruiz", "ES", "es"),
    ("Diego Fernández", "AR", "es"),
    ("Emily Carter", "US", "en"),
    ("James O'Neill", "GB", "en"),
    ("Priya Sharma", "IN", "en"),
    ("Thabo Nkosi", "ZA", "en"),
    ("Lukas Becker", "DE", "en"),
    ("Chloé Martin", "FR", "en"),
)

TEXT: dict[str, tuple[str, ...]] = {
    "en": (
        "Hi, where is my order? It was supposed to arrive yesterday.",
        "Can I change the delivery address to my office?",
        "I was charged twice for order #10452",
        "Do you have the blue jacket in size M?",
        "The package arrived damaged 😞",
        "What time do you close today?",
        "Can I talk to a person please?",
        "Thanks, that worked!",
        "ok",
    ),
    "pt": (
        "Oi, meu pedido ainda não chegou",
        "Vocês entregam no sábado?",
        "Quero trocar o tamanho da camiseta, pode ser?",
        "O código de rastreio não funciona",
        "Obrigada pela ajuda! 🙏",
        "blz",
    ),
    "es": (
        "Hola, ¿dónde está mi pedido?",
        "¿Puedo cambiar la dirección de entrega?",
        "Me llegó el producto equivocado",
        "¿Tienen envío gratis a Guadalajara?",
        "¡Muchas gracias!",
    ),
}

CAPTIONS: dict[str, tuple[str, ...]] = {
    "en": ("This is how it arrived", "Photo of the receipt", ""),
    "pt": ("Olha como chegou a caixa", "Foto da nota fiscal", ""),
    "es": ("Así llegó la caja", "Foto del recibo", ""),
}

LOCATIONS: tuple[Location, ...] = (
    {
        "latitude": -23.561414,
        "longitude": -46.655881,
        "address": "Av. Paulista, 1578 - Bela Vista, São Paulo",
        "label": "MASP",
    },
    {"latitude": 40.416775, "longitude": -3.70379, "label": "Puerta del Sol"},
    {"latitude": 51.501364, "longitude": -0.14189},
)

BUTTONS: tuple[tuple[str, str], ...] = (
    ("Yes, confirm", "confirm_delivery"),
    ("Reschedule", "reschedule_delivery"),
    ("Talk to an agent", "talk_to_agent"),
)
"""Quick-reply taps; the payloads are the action ids of the delivery_slot_confirm template."""

KINDS = ("text", "image", "location", "button", "stop")
WEIGHTS = (70, 10, 7, 10, 3)


def make_roster(rng: random.Random) -> list[Customer]:
    return [Customer(name, _address(region, rng), lang) for name, region, lang in PEOPLE]


def _address(region: str, rng: random.Random) -> str:
    """A valid mobile number of region: the example number with random last digits."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None, f"phonenumbers has no example mobile number for {region}"
    number = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    for _ in range(20):
        candidate = f"whatsapp:{number[:-4]}{rng.randrange(10_000):04d}"
        if whatsapp_e164(candidate):
            return candidate
    return f"whatsapp:{number}"


def tiny_png(rgb: tuple[int, int, int], size: int = 8) -> bytes:
    """A real, single-colour PNG: small, but any image decoder accepts it."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data)
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    pixels = (b"\x00" + bytes(rgb) * size) * size
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b"")


class Chatter:
    """Picks a random customer every so often and has them say something."""

    def __init__(self, rng: random.Random, say: Say) -> None:
        self._rng = rng
        self._say = say
        self.roster = make_roster(rng)
        self._stopped: set[str] = set()

    async def run(self, interval: float) -> None:
        """Forever (until cancelled): one line roughly every interval seconds."""
        while True:
            await asyncio.sleep(interval * self._rng.uniform(0.5, 1.5))
            try:
                await self.say_something()
            except (httpx.HTTPError, RuntimeError) as exc:
                log.warning("chatter line was not delivered: %r", exc)

    async def say_something(self) -> str:
        customer = self._rng.choice(self.roster)
        line = self._line(customer)
        return await self._say(customer.address, profile_name=customer.name, **line)

    def _line(self, customer: Customer) -> dict[str, Any]:
        """What customer says next; someone who sent STOP comes back with START."""
        if customer.address in self._stopped:
            self._stopped.discard(customer.address)
            return {"body": "START"}
        kind = self._rng.choices(KINDS, WEIGHTS)[0]
        if kind == "stop":
            self._stopped.add(customer.address)
            return {"body": "STOP"}
        return self._content(kind, customer.language)

    def _content(self, kind: str, language: str) -> dict[str, Any]:
        rng = self._rng
        if kind == "image":
            colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            return {"body": rng.choice(CAPTIONS[language]), "media": [(tiny_png(colour), "image/png")]}
        if kind == "location":
            return {"location": rng.choice(LOCATIONS)}
        if kind == "button":
            return {"button": rng.choice(BUTTONS)}
        return {"body": rng.choice(TEXT[language])}
