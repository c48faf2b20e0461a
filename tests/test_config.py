"""Settings: the issue's TOML, precedence, secrets kept out of text, and one-sentence errors."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from dotenv import dotenv_values

from wa_inbox.config import ENV_KEYS, ConfigError, Settings, load_settings

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
SERVICE_SID = "MG0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "tok-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
KEY_SECRET = "ksec-a1b2c3d4e5f60718293a4b5c6d7e8f90"

ISSUE_TOML = f"""\
[twilio]
account_sid = "{ACCOUNT_SID}"
messaging_service_sid = "{SERVICE_SID}"
public_base_url = "https://inbox.example.com/"

[webhooks]
inbound_path = "/twilio/inbound"
status_path = "/twilio/status"
validate_signatures = true
signature_auth_token_env = "TWILIO_AUTH_TOKEN"

[opt]
stop_keywords = ["stop", "parar", "baja"]
start_keywords = ["start", "voltar"]
suppression_ttl_days = 365

[media]
max_image_bytes = 5_000_000
max_doc_bytes = 10_000_000
presign_ttl_seconds = 900
allowed_mime_prefixes = ["image/", "application/pdf"]
"""


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def toml_url(url: str) -> str:
    return f'[twilio]\npublic_base_url = "{url}"\n'


def assert_one_sentence(message: str, *names: str) -> None:
    assert "\n" not in message and message.endswith(".")
    assert not re.search(r"\.[\s;:,]", message[:-1]), message  # no second sentence, no "x.; y"
    assert "value error" not in message.lower()
    for name in names:
        assert name in message


def test_issue_toml_is_accepted_as_is(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path / "wa-inbox.toml", ISSUE_TOML), env={})

    assert settings.twilio.account_sid == ACCOUNT_SID
    assert settings.twilio.messaging_service_sid == SERVICE_SID
    assert settings.twilio.public_base_url == "https://inbox.example.com"  # trailing slash dropped
    assert settings.webhooks.inbound_path == "/twilio/inbound"
    assert settings.webhooks.status_path == "/twilio/status"
    assert settings.webhooks.validate_signatures is True
    assert settings.webhooks.signature_auth_token_env == "TWILIO_AUTH_TOKEN"
    assert settings.opt.stop_keywords == ("stop", "parar", "baja")
    assert settings.opt.start_keywords == ("start", "voltar")
    assert settings.opt.suppression_ttl_days == 365
    assert settings.media.max_image_bytes == 5_000_000
    assert settings.media.max_doc_bytes == 10_000_000
    assert settings.media.presign_ttl_seconds == 900
    assert settings.media.allowed_mime_prefixes == ("image/", "application/pdf")


@pytest.mark.parametrize(
    ("in_toml", "in_dotenv", "in_env", "winner"),
    [
        (True, True, False, "dotenv"),
        (False, True, True, "env"),
        (True, False, True, "env"),
    ],
    ids=["dotenv-beats-toml", "env-beats-dotenv", "env-beats-toml"],
)
def test_precedence(tmp_path: Path, in_toml: bool, in_dotenv: bool, in_env: bool, winner: str) -> None:
    config = write(tmp_path / "c.toml", toml_url("https://toml.example.com") if in_toml else "")
    if in_dotenv:
        write(tmp_path / ".env", "PUBLIC_BASE_URL=https://dotenv.example.com\n")
    env = {"PUBLIC_BASE_URL": "https://env.example.com"} if in_env else {}

    settings = load_settings(config, env=env)

    assert settings.twilio.public_base_url == f"https://{winner}.example.com"


def test_process_environment_is_read_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    assert load_settings().twilio.account_sid == ACCOUNT_SID


@pytest.mark.parametrize("chosen", ["flag", "variable", "xdg"])
def test_config_file_choice(tmp_path: Path, chosen: str) -> None:
    flag = write(tmp_path / "flag.toml", toml_url("https://flag.example.com"))
    variable = write(tmp_path / "variable.toml", toml_url("https://variable.example.com"))
    write(tmp_path / "xdg-config" / "wa-inbox" / "wa-inbox.toml", toml_url("https://xdg.example.com"))
    env = {"WA_INBOX_CONFIG": str(variable)} if chosen != "xdg" else {}

    settings = load_settings(flag if chosen == "flag" else None, env=env)

    assert settings.twilio.public_base_url == f"https://{chosen}.example.com"


def test_missing_default_config_file_is_fine() -> None:
    assert load_settings(env={}).twilio.public_base_url is None


def test_default_database_follows_xdg_data_home_at_load_time(tmp_path: Path) -> None:
    assert load_settings(env={}).store.path == tmp_path / "xdg-data" / "wa-inbox" / "inbox.db"


def test_database_from_environment(tmp_path: Path) -> None:
    assert load_settings(env={"WA_INBOX_DB": str(tmp_path / "x.db")}).store.path == tmp_path / "x.db"


def test_signature_token_variable_is_configurable(tmp_path: Path) -> None:
    config = write(
        tmp_path / "c.toml",
        toml_url("https://inbox.example.com") + '[webhooks]\nsignature_auth_token_env = "HOOK_TOKEN"\n',
    )
    write(tmp_path / ".env", "HOOK_TOKEN=from-dotenv\n")

    settings = load_settings(config, env={"TWILIO_AUTH_TOKEN": "rest-token"})
    assert settings.webhook_auth_token is not None
    assert settings.webhook_auth_token.get_secret_value() == "from-dotenv"
    settings.require_receiver()

    (tmp_path / ".env").unlink()
    with pytest.raises(ConfigError) as error:
        load_settings(config, env={"TWILIO_AUTH_TOKEN": "rest-token"}).require_receiver()
    assert_one_sentence(str(error.value), "HOOK_TOKEN")


@pytest.mark.parametrize(("mode", "warns"), [(0o640, True), (0o644, True), (0o600, False)])
def test_dotenv_readable_by_others_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, mode: int, warns: bool
) -> None:
    write(tmp_path / ".env", f"TWILIO_AUTH_TOKEN={AUTH_TOKEN}\n", mode)

    with caplog.at_level(logging.WARNING, logger="wa_inbox.config"):
        load_settings(env={})

    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert bool(warnings) is warns
    assert all("chmod 600" in r.getMessage() and AUTH_TOKEN not in r.getMessage() for r in warnings)


def secrets_env() -> dict[str, str]:
    return {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_KEY_SID": "SK0123456789abcdef0123456789abcdef",
        "TWILIO_API_KEY_SECRET": KEY_SECRET,
    }


def test_secrets_are_not_in_repr_or_str() -> None:
    env = {**secrets_env(), "PUBLIC_BASE_URL": f"https://proxy:{KEY_SECRET}@inbox.example.com/"}
    settings = load_settings(env=env)
    assert settings.twilio.api_key_secret is not None
    assert settings.twilio.api_key_secret.get_secret_value() == KEY_SECRET  # loaded, yet hidden:
    assert settings.twilio.public_base_url == "https://inbox.example.com"  # Twilio signs it without user:pw
    for text in (repr(settings), str(settings), repr(settings.twilio), str(settings.twilio)):
        assert AUTH_TOKEN not in text and KEY_SECRET not in text


def test_secrets_are_not_in_errors() -> None:
    """Even a token pasted into the wrong variable is not echoed."""
    env = {**secrets_env(), "TWILIO_ACCOUNT_SID": AUTH_TOKEN, "PUBLIC_BASE_URL": f"ftp://{KEY_SECRET}"}
    with pytest.raises(ConfigError) as error:
        load_settings(env=env)
    assert "account_sid" in str(error.value)
    assert AUTH_TOKEN not in str(error.value) and KEY_SECRET not in str(error.value)


@pytest.mark.parametrize(
    ("toml", "names"),
    [
        ('[twilio]\naccount_sid = "AC123"\n', ["twilio.account_sid", "TWILIO_ACCOUNT_SID"]),
        (toml_url("ftp://inbox.example.com"), ["twilio.public_base_url", "PUBLIC_BASE_URL"]),
        (toml_url("https://inbox.example.com/?x=1"), ["twilio.public_base_url"]),
        ('[webhooks]\ninbound_path = "twilio/inbound"\n', ["webhooks.inbound_path"]),
        ('[twilio]\nacount_sid = "x"\n', ["Unknown setting twilio.acount_sid"]),
        ('[webhoks]\nstatus_path = "/s"\n', ["Unknown setting webhoks"]),
        ("webhooks = 1\n", ["webhooks"]),
        ('[opt]\nstop_keywords = ["STOP"]\nstart_keywords = ["start", "stop "]\n', ["opt.start_keywords"]),
        ("[twilio\naccount_sid = 1\n", ["not valid TOML", "bad.toml"]),
        ('[twilio]\naccount_sid = "AC\n', ["not valid TOML"]),
    ],
)
def test_bad_value_is_one_sentence_naming_the_key(tmp_path: Path, toml: str, names: list[str]) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(write(tmp_path / "bad.toml", toml), env={})
    assert_one_sentence(str(error.value), *names)


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(env={"TWILIO_MESSAGING_SERVICE_SID": "MG-nope"})
    assert_one_sentence(str(error.value), "twilio.messaging_service_sid", "TWILIO_MESSAGING_SERVICE_SID")


def test_missing_explicit_file(tmp_path: Path) -> None:
    for env in ({}, {"WA_INBOX_CONFIG": str(tmp_path / "nowhere.toml")}):
        with pytest.raises(ConfigError) as error:
            load_settings(tmp_path / "nowhere.toml" if not env else None, env=env)
        assert_one_sentence(str(error.value), "nowhere.toml", "does not exist")


def test_unreadable_explicit_file(tmp_path: Path) -> None:
    (tmp_path / "a-directory.toml").mkdir()
    with pytest.raises(ConfigError) as error:
        load_settings(tmp_path / "a-directory.toml", env={})
    assert_one_sentence(str(error.value), "a-directory.toml", "cannot be read")


def receiver_settings(**data: object) -> Settings:
    base: dict[str, object] = {
        "twilio": {"public_base_url": "https://inbox.example.com"},
        "webhook_auth_token": AUTH_TOKEN,
    }
    return Settings.model_validate({**base, **data})


def test_receiver_runs_with_token_and_public_url() -> None:
    receiver_settings().require_receiver()


@pytest.mark.parametrize(
    ("data", "name"),
    [
        ({"webhook_auth_token": None}, "TWILIO_AUTH_TOKEN"),
        ({"twilio": {}}, "PUBLIC_BASE_URL"),
        ({"webhooks": {"validate_signatures": False}}, "allow_unsigned_webhooks"),
    ],
    ids=["no-token", "no-public-url", "unsigned-without-dev"],
)
def test_receiver_refuses(data: dict[str, object], name: str) -> None:
    with pytest.raises(ConfigError) as error:
        receiver_settings(**data).require_receiver()
    assert_one_sentence(str(error.value), name)


def test_unsigned_webhooks_allowed_in_dev_only_when_asked(tmp_path: Path) -> None:
    config = write(
        tmp_path / "dev.toml",
        "[webhooks]\nvalidate_signatures = false\n[dev]\nallow_unsigned_webhooks = true\n",
    )
    settings = load_settings(config, env={})
    assert settings.webhooks.validate_signatures is False
    settings.require_receiver()  # no token, no public URL: fine when signatures are deliberately off


SERVER = Path(__file__).resolve().parents[1] / "server"
SECRET_KEYS = {"auth_token", "api_key_secret", "sasl_password"}  # environment only, never in the TOML example


def test_example_config_loads_and_documents_every_key() -> None:
    text = (SERVER / "wa-inbox.toml").read_text()
    load_settings(SERVER / "wa-inbox.toml", env={})
    for section, field in Settings.model_fields.items():
        model = field.annotation
        keys = set(model.model_fields) - SECRET_KEYS if isinstance(model, type) else set()
        if section != "webhook_auth_token":
            assert f"[{section}]" in text
        for key in keys:
            assert re.search(rf"^(# )?{key} = ", text, re.MULTILINE), f"{section}.{key}"


def test_env_example_names_every_variable_with_placeholders() -> None:
    text = (SERVER / ".env.example").read_text()
    for name in ENV_KEYS:
        assert re.search(rf"^(# )?{name}=\S", text, re.MULTILINE), name
    env = dotenv_values(SERVER / ".env.example")
    with pytest.raises(ConfigError):  # an unedited copy is refused, not half-used
        load_settings(env={k: v for k, v in env.items() if v is not None})


def test_media_is_kept_forever_unless_media_days_is_set(tmp_path: Path) -> None:
    assert load_settings(env={}).retention.media_days is None
    config = write(tmp_path / "c.toml", "[retention]\nmedia_days = 90\n")
    assert load_settings(config, env={}).retention.media_days == 90


@pytest.mark.parametrize("value", ["0", "-1", "36501", "true", '"30"', "1.5"])
def test_a_bad_media_days_is_one_sentence(tmp_path: Path, value: str) -> None:
    config = write(tmp_path / "c.toml", f"[retention]\nmedia_days = {value}\n")

    with pytest.raises(ConfigError) as error:
        load_settings(config, env={})

    assert_one_sentence(str(error.value), "retention.media_days")
