"""The form of an inbound WhatsApp webhook ("a message comes in", reference §1).

Only parameters that apply are sent, as Twilio does: media, location, button and referral
fields appear only on messages that carry them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from wa_inbox.emulator.resources import API_VERSION

if TYPE_CHECKING:
    from wa_inbox.emulator.state import Message


class Location(TypedDict):
    """A shared location pin; address and label are set for named places."""

    latitude: float
    longitude: float
    address: NotRequired[str]
    label: NotRequired[str]


@dataclass(frozen=True)
class InboundMedia:
    """A stored media item as the webhook announces it."""

    url: str
    content_type: str


@dataclass(frozen=True)
class Inbound:
    """A stored customer message and everything else its webhook announces."""

    message: Message
    media: Sequence[InboundMedia] = ()
    profile_name: str | None = None
    location: Location | None = None
    button: tuple[str, str] | None = None
    referral: Mapping[str, Any] | None = None

    def params(self) -> dict[str, str]:
        """The complete, flat form Twilio would post."""
        return {
            **self._common(),
            **self._media_params(),
            **self._location_params(),
            **self._button_params(),
            **_referral_params(self.referral or {}),
        }

    def message_type(self) -> str:
        if self.location is not None:
            return "location"
        if self.button is not None:
            return "button"
        if self.media:
            kind = self.media[0].content_type.split("/")[0]
            return kind if kind in ("image", "video", "audio") else "document"
        return "text"

    def _common(self) -> dict[str, str]:
        m = self.message
        params = {
            "MessageSid": m.sid,
            "SmsSid": m.sid,
            "SmsMessageSid": m.sid,
            "AccountSid": m.account_sid,
            "From": m.from_,
            "To": m.to,
            "Body": m.body,
            "NumMedia": str(len(self.media)),
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": API_VERSION,
            "WaId": m.from_.removeprefix("whatsapp:+"),
            "MessageType": self.message_type(),
            "ReferralNumMedia": "0",
        }
        if self.profile_name:
            params["ProfileName"] = self.profile_name
        return params

    def _media_params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        for n, item in enumerate(self.media):
            params[f"MediaContentType{n}"] = item.content_type
            params[f"MediaUrl{n}"] = item.url
        return params

    def _location_params(self) -> dict[str, str]:
        if self.location is None:
            return {}
        loc = self.location
        params = {"Latitude": str(loc["latitude"]), "Longitude": str(loc["longitude"])}
        if "address" in loc:
            params["Address"] = loc["address"]
        if "label" in loc:
            params["Label"] = loc["label"]
        return params

    def _button_params(self) -> dict[str, str]:
        if self.button is None:
            return {}
        text, payload = self.button
        return {"ButtonText": text, "ButtonPayload": payload}


def _referral_params(referral: Mapping[str, Any]) -> dict[str, str]:
    """Click-to-WhatsApp fields: snake keys like 'ctwa_clid' become 'ReferralCtwaClid'."""
    params = {}
    for key, value in referral.items():
        name = key if key.startswith("Referral") else "Referral" + key.title().replace("_", "")
        params[name] = str(value)
    return params
