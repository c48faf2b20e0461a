"""Check Twilio's X-Twilio-Signature header, fast, with exactly the SDK's verdicts.

Every webhook request is checked, so this is the receiver's hot path. twilio's
``RequestValidator.validate`` re-parses the URL, always signs both URL variants it accepts and
compares in a Python loop: 90-165 µs a call. ``SignatureChecker`` caches the two variants per URL,
signs the form once and usually needs a single HMAC-SHA1 and ``hmac.compare_digest``.

Its contract is the SDK's: for a form-encoded webhook it returns what
``RequestValidator(auth_token).validate(url, form, signature)`` returns (only HMAC-SHA1 with the
Auth Token; a ``bodySHA256`` in the query is ignored, as the SDK ignores it for forms), and it
raises where the SDK raises (``ValueError`` for a URL with a malformed port). The one deliberate
difference: a missing signature (``None``) is invalid rather than a ``TypeError``.
tests/receiver/test_signature.py holds the SDK as its oracle.
"""

import base64
import hmac
from collections.abc import Mapping, Sequence
from functools import lru_cache
from hashlib import sha1
from urllib.parse import urlparse


@lru_cache(maxsize=64)
def _signed_urls(url: str) -> tuple[bytes, bytes]:
    """The two URLs the SDK accepts a signature of, UTF-8 encoded, most likely first.

    Twilio signs the URL as configured, so the parsed URL itself comes first, then the same URL
    with its port toggled. Both are ``twilio.request_validator.add_port``/``remove_port`` with
    all their quirks, because agreeing with the SDK is the point: ``urlparse`` lower-cases the
    scheme and drops an empty query or fragment, port 0 counts as no port, and removing a port
    keeps the netloc up to its first ":" (``user:pw@host:8080`` becomes ``user``).
    """
    parsed = urlparse(url)
    if parsed.port:
        other = parsed._replace(netloc=parsed.netloc.split(":")[0])
    else:
        default_port = 443 if parsed.scheme == "https" else 80
        other = parsed._replace(netloc=f"{parsed.netloc}:{default_port}")
    return parsed.geturl().encode(), other.geturl().encode()


class SignatureChecker:
    """Validates X-Twilio-Signature for one Auth Token; see the module docstring for why."""

    def __init__(self, auth_token: str) -> None:
        self._mac = hmac.new(auth_token.encode(), digestmod=sha1)

    def is_valid(self, url: str, params: Mapping[str, Sequence[str]], signature: str | None) -> bool:
        """Whether ``signature`` is Twilio's for a POST of ``params`` to ``url``.

        ``url`` is the full URL Twilio called, query included; ``params`` maps each form key to
        its values in arrival order. Twilio signs the URL followed by every key and value
        concatenated, keys sorted, each key's distinct values sorted.
        """
        # URL and form are prepared before looking at the signature so that bad input raises
        # exactly where the SDK's would.
        urls = _signed_urls(url)
        form = _concatenated(params)
        # Twilio's signature is ASCII; anything else (even a lone surrogate) just doesn't match.
        if not signature or not signature.isascii():
            return False
        expected = signature.encode()
        for signed_url in urls:
            mac = self._mac.copy()
            mac.update(signed_url)
            mac.update(form)
            if hmac.compare_digest(base64.b64encode(mac.digest()), expected):
                return True
        return False


def _concatenated(params: Mapping[str, Sequence[str]]) -> bytes:
    """Each key followed by each of its distinct values, keys and values sorted: what Twilio signs.

    Nearly every key has one value, which skips the set and the sort: this is a third of the check.
    """
    parts: list[str] = []
    for key in sorted(params):
        values = params[key]
        if len(values) == 1:
            parts += (key, values[0])
            continue
        for value in sorted(set(values)):
            parts += (key, value)
    return "".join(parts).encode()
