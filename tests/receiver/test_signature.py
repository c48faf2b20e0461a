"""SignatureChecker must give twilio's RequestValidator.validate verdicts; the SDK is the oracle."""

import base64
from urllib.parse import parse_qsl, urlparse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import FormData
from twilio.request_validator import RequestValidator, add_port, remove_port

from wa_inbox.receiver.signature import SignatureChecker

TOKEN = "12345"
URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="

STATUS_CALLBACK = (
    "ChannelPrefix=whatsapp&ApiVersion=2010-04-01&MessageStatus=delivered"
    "&SmsSid=SM0123456789abcdef0123456789abcdef&SmsStatus=delivered"
    "&ChannelInstallSid=XE0123456789abcdef0123456789abcdef"
    "&To=whatsapp%3A%2B14155550123&From=whatsapp%3A%2B14155238886"
    "&MessageSid=SM0123456789abcdef0123456789abcdef"
    "&AccountSid=AC0123456789abcdef0123456789abcdef"
    "&ChannelToAddress=%2B1415555XXXX&StructuredMessage=false"
    "&MessagingServiceSid=MG0123456789abcdef0123456789abcdef&ErrorCode="
)


def grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """The form as the receiver hands it over: key -> values in arrival order."""
    form: dict[str, list[str]] = {}
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return form


def outcome(check, *args):
    """The verdict, or the type of exception raised, so raising counts as agreeing too."""
    try:
        return check(*args)
    except Exception as exc:
        return type(exc)


def verdicts(token: str, url: str, pairs: list[tuple[str, str]], signature: str):
    sdk = outcome(RequestValidator(token).validate, url, FormData(pairs), signature)
    ours = outcome(SignatureChecker(token).is_valid, url, grouped(pairs), signature)
    return sdk, ours


def sdk_signatures(token: str, url: str, pairs: list[tuple[str, str]]) -> list[str]:
    """What a signer could have signed: the URL as given and both variants the SDK accepts."""
    validator = RequestValidator(token)
    parsed = urlparse(url)
    return [
        validator.compute_signature(candidate, FormData(pairs))
        for candidate in (url, add_port(parsed), remove_port(parsed))
    ]


# --- The SDK's published vectors (each re-computed with twilio 9.13.0). ---------------------


@pytest.mark.parametrize(
    ("url", "pairs", "signature"),
    [
        (URI, list(PARAMS.items()), SIGNATURE),
        (
            URI,
            [
                ("Sid", "CA123"),
                ("SidAccount", "AC123"),
                ("Digits", "5678"),
                ("Digits", "1234"),
                ("Digits", "1234"),
            ],
            "IK+Dwps556ElfBT0I3Rgjkr1wJU=",
        ),
        # Signed over "https://mycompany.com/..."; the port is removed before checking.
        ("https://mycompany.com:1234/myapp.php?foo=1&bar=2", list(PARAMS.items()), SIGNATURE),
        # Signed over the http URL with port 1234 itself.
        (
            "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
            list(PARAMS.items()),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
        ),
        # Signed with the default port added (:443 / :80).
        (URI, list(PARAMS.items()), "kvajT1Ptam85bY51eRf/AJRuM3w="),
        (URI.replace("https", "http"), list(PARAMS.items()), "0ZXoZLH/DfblKGATFgpif+LLRf4="),
    ],
)
def test_sdk_vectors(url, pairs, signature):
    assert RequestValidator(TOKEN).validate(url, FormData(pairs), signature) is True
    assert SignatureChecker(TOKEN).is_valid(url, grouped(pairs), signature) is True


def test_sdk_vector_for_the_plain_signature():
    assert RequestValidator(TOKEN).compute_signature(URI, PARAMS) == SIGNATURE


@pytest.mark.parametrize("signature", [None, ""])
def test_missing_or_empty_signature_is_invalid(signature):
    assert SignatureChecker(TOKEN).is_valid(URI, grouped(list(PARAMS.items())), signature) is False


def test_a_checker_is_reusable_and_bound_to_its_token():
    checker = SignatureChecker(TOKEN)
    form = grouped(list(PARAMS.items()))
    assert [checker.is_valid(URI, form, SIGNATURE) for _ in range(3)] == [True] * 3
    assert checker.is_valid(URI, form, "kvajT1Ptam85bY51eRf/AJRuM3w=") is True
    assert checker.is_valid(URI, {}, SIGNATURE) is False
    assert SignatureChecker(TOKEN + "6").is_valid(URI, form, SIGNATURE) is False


def test_realistic_status_callback():
    pairs = parse_qsl(STATUS_CALLBACK, keep_blank_values=True)
    url = "https://inbox.example.com/twilio/status?tenant=7"
    for signature in sdk_signatures(TOKEN, url, pairs):
        assert verdicts(TOKEN, url, pairs, signature) == (True, True)


# --- URL quirks of the SDK, agreed on explicitly. --------------------------------------------

EDGE_URLS = [
    "https://inbox.example.com/twilio/inbound",
    "https://inbox.example.com:443/twilio/inbound",
    "http://inbox.example.com:80/twilio/inbound",
    "https://inbox.example.com:8443/twilio/inbound?x=1&y=",
    "https://inbox.example.com/twilio/inbound?",  # urlparse drops the empty query
    "https://inbox.example.com/twilio/inbound#rc=3&rp=all",
    "https://inbox.example.com/twilio/inbound#",
    "HTTPS://Inbox.Example.com/twilio/inbound",  # scheme is lower-cased, host is not
    "https://user:pass@inbox.example.com/twilio/inbound",
    "https://user:pass@inbox.example.com:8443/twilio/inbound",  # without port: "https://user/..."
    "https://[::1]/twilio/inbound",
    "https://[::1]:8443/twilio/inbound",  # without port: "https://[/twilio/inbound"
    "https://inbox.example.com:0/twilio/inbound",  # port 0 counts as no port
    "https://inbox.example.com:/twilio/inbound",  # empty port: with port is "...com::443"
    "https://bücher.example/ünï?q=ü&bodySHA256=" + "ab" * 32,
    "https://inbox.example.com/twilio/inbound?bodySHA256=deadbeef",
    "https://inbox.example.com/p;params?q#f",
    "https://inbox.example.com/a\tb\n",  # urlsplit deletes tabs and newlines
    " https://inbox.example.com/lead-space",
    "inbox.example.com/no-scheme",
    "",
]
BAD_URLS = [
    "https://inbox.example.com:99999/p",
    "https://inbox.example.com:abc/p",
    "https://inbox.example.com:٣/p",  # a non-ASCII digit is not a port
    "https://[::1/p",
]


@pytest.mark.parametrize("url", EDGE_URLS)
def test_edge_urls_agree(url):
    pairs = [("Body", "hi"), ("Body", "hi"), ("From", "whatsapp:+1"), ("Empty", "")]
    for signature in sdk_signatures(TOKEN, url, pairs):
        sdk, ours = verdicts(TOKEN, url, pairs, signature)
        assert ours == sdk
    # Both variants the SDK accepts are always accepted, by both.
    assert verdicts(TOKEN, url, pairs, sdk_signatures(TOKEN, url, pairs)[1]) == (True, True)
    assert verdicts(TOKEN, url, pairs, sdk_signatures(TOKEN, url, pairs)[2]) == (True, True)


def test_the_sdk_strips_userinfo_when_it_strips_a_port():
    """Twilio signs without credentials, but with userinfo + port the SDK drops the host too."""
    pairs = [("Body", "hi")]
    signature = RequestValidator(TOKEN).compute_signature("https://user/p", FormData(pairs))
    url = "https://user:pw@inbox.example.com:8443/p"
    assert verdicts(TOKEN, url, pairs, signature) == (True, True)


@pytest.mark.parametrize("url", BAD_URLS)
def test_malformed_urls_raise_like_the_sdk(url):
    sdk, ours = verdicts(TOKEN, url, [("Body", "hi")], SIGNATURE)
    assert sdk is ValueError
    assert ours is ValueError
    assert verdicts(TOKEN, url, [("Body", "hi")], "") == (ValueError, ValueError)


def test_non_canonical_base64_of_the_right_digest_is_rejected():
    """The header is compared as text, never decoded: spare low bits must match too."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = SIGNATURE[26]
    twin = SIGNATURE[:26] + alphabet[alphabet.index(last) ^ 1] + "="
    assert base64.b64decode(twin) == base64.b64decode(SIGNATURE)
    assert verdicts(TOKEN, URI, list(PARAMS.items()), twin) == (False, False)
    assert verdicts(TOKEN, URI, list(PARAMS.items()), SIGNATURE[:-1]) == (False, False)


@pytest.mark.parametrize(
    "signature",
    [SIGNATURE[:-1] + "é", "é" * 28, SIGNATURE + "\ud800", "\ud800", "\x00" * 28, SIGNATURE * 2],
)
def test_odd_signatures_are_invalid_not_errors(signature):
    assert verdicts(TOKEN, URI, list(PARAMS.items()), signature) == (False, False)


# --- Property-based agreement with the SDK. ------------------------------------------------

tokens = st.one_of(st.from_regex(r"[0-9a-f]{32}", fullmatch=True), st.text(max_size=80))
keys = st.one_of(
    st.sampled_from(["Body", "From", "To", "MessageSid", "MediaUrl0", "ProfileName", "b", ""]),
    st.text(max_size=8),
)
values = st.one_of(
    st.sampled_from(["", "1", "whatsapp:+14155238886", "héllo 👋", "a+b=c&d"]),
    st.text(max_size=16),
)
pair_lists = st.lists(st.tuples(keys, values), max_size=12)
urls = st.builds(
    "".join,
    st.tuples(
        st.sampled_from(["https://", "http://", "HTTPS://", "Http://"]),
        st.sampled_from(["", "", "user@", "user:pass@", "u%40x:p%3Aw@"]),
        st.sampled_from(
            ["inbox.example.com", "mycompany.com", "127.0.0.1", "[::1]", "[2001:db8::7]", "bü.de"]
        ),
        st.sampled_from(["", "", ":443", ":80", ":8443", ":1234", ":0", ":", ":65535"]),
        st.one_of(
            st.sampled_from(["", "/", "/twilio/inbound"]),
            st.text(max_size=12).map(lambda path: "/" + path),
        ),
        st.one_of(
            st.sampled_from(["", "", "?", "?foo=1&bar=2", "?bodySHA256=" + "0a" * 32]),
            st.text(max_size=12).map(lambda query: "?" + query),
        ),
        st.sampled_from(["", "", "#", "#rc=3&rp=all"]),
    ),
)


@settings(max_examples=1000, deadline=None)
@given(
    token=tokens,
    url=urls,
    pairs=pair_lists,
    signed=st.sampled_from(["as given", "with port", "without port"]),
)
def test_agrees_with_sdk_on_signatures_by_a_signer(token, url, pairs, signed):
    as_given, with_port, without_port = sdk_signatures(token, url, pairs)
    signature = {"as given": as_given, "with port": with_port, "without port": without_port}
    sdk, ours = verdicts(token, url, pairs, signature[signed])
    assert ours == sdk
    if signed != "as given":
        assert ours is True


base64_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


@st.composite
def mutated(draw, signature: str) -> str:
    how = draw(st.sampled_from(["flip", "truncate", "extend", "whitespace", "case"]))
    if how == "flip":
        at = draw(st.integers(0, len(signature) - 1))
        new = draw(
            st.one_of(st.sampled_from(base64_chars), st.characters()).filter(
                lambda char: char != signature[at]
            )
        )
        return signature[:at] + new + signature[at + 1 :]
    if how == "truncate":
        return signature[: draw(st.integers(0, len(signature) - 1))]
    if how == "extend":
        return signature + draw(st.text(min_size=1, max_size=3))
    if how == "whitespace":
        return draw(st.sampled_from([" " + signature, signature + " ", signature + "\n"]))
    return signature.swapcase()


@settings(max_examples=500, deadline=None)
@given(token=tokens, url=urls, pairs=pair_lists, data=st.data())
def test_agrees_with_sdk_on_tampered_signatures(token, url, pairs, data):
    genuine = data.draw(st.sampled_from(sdk_signatures(token, url, pairs)))
    tampered = data.draw(
        st.one_of(
            mutated(genuine),
            st.just(sdk_signatures(token + "x", url, pairs)[2]),
            st.text(max_size=40),
            st.text(alphabet=base64_chars, min_size=28, max_size=28),
        )
    )
    assert verdicts(token, url, pairs, tampered) == (False, False)


@settings(max_examples=300, deadline=None)
@given(
    token=tokens,
    url=st.one_of(
        st.text(st.characters(exclude_categories=()), max_size=40),
        st.text(max_size=40).map(lambda rest: "https://" + rest),
    ),
    pairs=pair_lists,
    signature=st.text(max_size=30),
)
def test_agrees_with_sdk_on_arbitrary_urls(token, url, pairs, signature):
    """Any URL text, even unparseable or with lone surrogates: same verdict or same exception."""
    sdk, ours = verdicts(token, url, pairs, signature)
    assert ours == sdk
    try:
        signed = sdk_signatures(token, url, pairs)
    except Exception:
        return
    for genuine in signed:
        sdk, ours = verdicts(token, url, pairs, genuine)
        assert ours == sdk
