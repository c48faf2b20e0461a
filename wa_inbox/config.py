"""The one typed settings object: a TOML file, then a `.env` file, then the environment (which wins).

Settings are validated once at start-up; a bad value becomes one `ConfigError` sentence naming the key
and the fix, which the CLI prints without a traceback.
"""

from __future__ import annotations

import getpass
import logging
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import platformdirs
from dotenv import dotenv_values
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from wa_inbox.dburl import SCHEMES as DATABASE_SCHEMES
from wa_inbox.dburl import DatabaseUrl, scheme_of
from wa_inbox.domain import medialinks
from wa_inbox.domain.optout import DEFAULT_START_KEYWORDS, DEFAULT_STOP_KEYWORDS, OptKeywords
from wa_inbox.domain.policy import Limits

log = logging.getLogger(__name__)

APP_NAME = "wa-inbox"
TWILIO_HOSTS = "https://api.twilio.com"
METRICS_PATH = "/metrics"

ENV_KEYS: Mapping[str, tuple[str, str]] = {
    "TWILIO_ACCOUNT_SID": ("twilio", "account_sid"),
    "TWILIO_AUTH_TOKEN": ("twilio", "auth_token"),
    "TWILIO_API_KEY_SID": ("twilio", "api_key_sid"),
    "TWILIO_API_KEY_SECRET": ("twilio", "api_key_secret"),
    "TWILIO_MESSAGING_SERVICE_SID": ("twilio", "messaging_service_sid"),
    "PUBLIC_BASE_URL": ("twilio", "public_base_url"),
    "WA_INBOX_TWILIO_BASE_URL": ("twilio", "base_url"),
    "WA_INBOX_DB": ("store", "path"),
    "WA_INBOX_MIGRATE": ("store", "migrate"),
    "TWILIO_WHATSAPP_FROM": ("twilio", "from_address"),
    "WA_INBOX_AGENT": ("agent", "name"),
    "WA_INBOX_KAFKA_BOOTSTRAP": ("events", "kafka_bootstrap"),
    "WA_INBOX_KAFKA_SASL_PASSWORD": ("events", "sasl_password"),
}
"""Environment variables and the settings they fill; the environment wins over `.env` and TOML."""


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one sentence with the fix."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    """TOML has `inf` and `nan`: no setting means either."""


class TwilioSettings(_Section):
    account_sid: str | None = Field(None, pattern=r"^AC[0-9a-fA-F]{32}$")
    """The account every request and webhook belongs to (AC…)."""
    auth_token: SecretStr | None = None
    """Signs webhooks; also authenticates REST calls when no API key is set."""
    api_key_sid: str | None = Field(None, pattern=r"^SK[0-9a-fA-F]{32}$")
    """API key (SK…): the recommended credential for REST calls."""
    api_key_secret: SecretStr | None = None
    messaging_service_sid: str | None = Field(None, pattern=r"^MG[0-9a-fA-F]{32}$")
    """Messaging Service (MG…) that sends replies and chooses the sender."""
    public_base_url: str | None = None
    """The URL Twilio calls (ngrok or reverse proxy): signatures are computed over it."""
    base_url: str | None = None
    """Send every https://*.twilio.com request here instead (the emulator); unset in production."""
    from_address: str | None = None
    """A WhatsApp sender (whatsapp:+E164) to send from when no Messaging Service is set."""

    @field_validator("public_base_url", "base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        """Twilio signs the URL without any `user:password@`, so keep none; and no trailing slash."""
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0 or not value.isprintable() or " " in value:
            raise ValueError("must be an http:// or https:// URL with a valid port (1 to 65535), if any")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query string or fragment")
        netloc = parts.netloc.rpartition("@")[2]
        return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


class WebhookSettings(_Section):
    inbound_path: str = "/twilio/inbound"
    """Path of the "a message comes in" webhook."""
    status_path: str = "/twilio/status"
    """Path of the status callback."""
    validate_signatures: bool = True
    """Turning this off is refused unless `[dev] allow_unsigned_webhooks` is also set."""
    signature_auth_token_env: str = "TWILIO_AUTH_TOKEN"
    """Name of the environment variable holding the token that signs webhooks."""
    max_body_bytes: int = Field(64 * 1024, gt=0, le=16 * 1024 * 1024)
    """Larger requests get 413: Twilio's webhooks are a few kilobytes."""

    @field_validator("inbound_path", "status_path")
    @classmethod
    def _absolute_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /")
        if not value.isprintable() or any(c in value for c in " ?#%"):
            raise ValueError("must be a plain path such as /twilio/inbound, with no spaces, ? # or %")
        if value in ("/healthz", METRICS_PATH) or value.startswith("/media/"):
            raise ValueError(
                "must not be /healthz, /metrics or under /media/, which the receiver serves itself"
            )
        return value

    @field_validator("status_path")
    @classmethod
    def _paths_differ(cls, value: str, info: ValidationInfo) -> str:
        """A field validator (not a model one) so that the error names `webhooks.status_path`."""
        if value == info.data.get("inbound_path"):
            raise ValueError("must differ from webhooks.inbound_path: each webhook needs its own path")
        return value

    @field_validator("signature_auth_token_env")
    @classmethod
    def _variable_name(cls, value: str) -> str:
        if not value or not all(c.isascii() and (c.isalnum() or c == "_") for c in value):
            raise ValueError("must be the name of an environment variable, such as TWILIO_AUTH_TOKEN")
        return value


class ReceiverSettings(_Section):
    """How much any client, Twilio or not, may ask of the receiver's connections (see
    `receiver.connections`)."""

    max_connections: int = Field(1000, ge=16, le=1_000_000)
    """Open connections at most; at the limit, the one waiting longest without a request in service
    is closed for the newcomer. Keep it below the open-file limit (`LimitNOFILE`)."""
    keep_alive_seconds: float = Field(5.0, gt=0, le=300)
    """An idle connection is closed after this long."""
    read_timeout_seconds: float = Field(10.0, gt=0, le=300)
    """A request's headers and body must arrive within this long (Twilio waits 15 s for an answer)."""
    max_header_bytes: int = Field(16 * 1024, ge=1024, le=1024 * 1024)
    """The request line and headers together; larger gets 431."""
    max_headers: int = Field(100, ge=8, le=10_000)
    """More headers than this gets 431."""


class OptSettings(_Section):
    stop_keywords: tuple[str, ...] = DEFAULT_STOP_KEYWORDS
    """A message that is exactly one of these (any case) opts the customer out."""
    start_keywords: tuple[str, ...] = DEFAULT_START_KEYWORDS
    """A message that is exactly one of these opts the customer back in."""
    suppression_ttl_days: int | None = Field(None, gt=0, le=36500)
    """Forget an opt-out after this many days; unset keeps it until the customer sends START."""
    stop_confirmation: str = "You are opted out. Reply START to re-subscribe."
    """The only message ever sent to an opted-out customer."""
    start_confirmation: str = "You are subscribed again. Reply STOP to opt out."

    def keywords(self) -> OptKeywords:
        return OptKeywords.from_lists(self.stop_keywords, self.start_keywords)

    @field_validator("start_keywords")
    @classmethod
    def _keywords_are_unambiguous(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        """A field validator (not a model one) so that the error names `opt.start_keywords`."""
        if "stop_keywords" in info.data:
            OptKeywords.from_lists(info.data["stop_keywords"], value)
        return value


class MediaSettings(_Section):
    max_image_bytes: int = Field(5 * 1024 * 1024, gt=0, le=1024**3)
    """WhatsApp's limit for images is 5 MB."""
    max_doc_bytes: int = Field(16 * 1024 * 1024, gt=0, le=1024**3)
    """WhatsApp's limit for other media is 16 MB."""
    presign_ttl_seconds: int = Field(3600, gt=0, le=31 * 86400)
    """How long a signed link to an outbound file stays valid for Twilio to fetch."""
    allowed_mime_prefixes: tuple[str, ...] = (
        "image/",
        "audio/",
        "video/",
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument",
        "text/vcard",
    )
    storage_dir: Path = Field(default_factory=lambda: platformdirs.user_data_path(APP_NAME) / "media")
    """Where files sent (copied here, served by the receiver) and received (downloaded here) are kept."""
    download_attempts: int = Field(6, gt=0, le=20)
    """Tries per inbound media item: Twilio's media can lag behind its webhook (404 at first)."""
    download_backoff_seconds: float = Field(2.0, gt=0, le=3600)
    """The first retry of a download waits this long, each next one twice as long (capped at 5 minutes)."""


class StoreSettings(_Section):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    path: Path | DatabaseUrl = Field(
        default_factory=lambda: platformdirs.user_data_path(APP_NAME) / "inbox.db"
    )
    """The database `wa-inbox serve` and every attached TUI share: a SQLite file on one host, or a
    `postgresql://` URL for several replicas and agents on other machines (`str()` hides its password)."""
    migrate: Literal["auto", "never"] = "auto"
    """Whether `serve` brings an older schema up to date itself ("auto": one host), or leaves that to
    `wa-inbox db migrate`, run once before the replicas start, and refuses an older schema ("never":
    several replicas, which must not each migrate the database they share while others run on it)."""

    @field_validator("path", mode="before")
    @classmethod
    def _file_path(cls, value: Any) -> Any:
        """Before `Path` drops a trailing slash (a folder is not a database file) or the `//` of a URL."""
        if isinstance(value, DatabaseUrl):
            return value
        text = str(value)
        if "\0" in text or not text.strip() or text.endswith(("/", "/.", "/..")) or text in (".", ".."):
            raise ValueError("must be the path of a file, such as /var/lib/wa-inbox/inbox.db")
        scheme = scheme_of(text)
        if scheme in DATABASE_SCHEMES and "://" in text:
            return DatabaseUrl(text)
        if scheme is not None:
            raise ValueError(
                f"is a {scheme}: URL; wa-inbox takes a SQLite file path (/var/lib/wa-inbox/inbox.db) "
                "or a postgresql:// URL"
            )
        return value


class OutboxSettings(_Section):
    rate_per_second: float = Field(80.0, gt=0, le=10_000)
    """Messages per second per sender: WhatsApp's default is 80; Twilio queues (up to 4 h) beyond it."""
    concurrency: int = Field(16, gt=0, le=256)
    """Requests in flight to Twilio at once."""
    max_attempts: int = Field(6, gt=0, le=20)
    """Tries per message for 429, 5xx and network errors, with exponential backoff and full jitter."""
    max_retry_seconds: float = Field(120.0, gt=0, le=86400)
    """Stop retrying a message after this long; it is then marked failed with the last error."""
    backoff_base_seconds: float = Field(0.25, gt=0, le=60)
    """The first retry waits up to twice this, the next up to four times, and so on (capped at 30 s)."""
    request_timeout_seconds: float = Field(15.0, gt=0, le=600)


class TuiSettings(_Section):
    send_key: str = "enter"
    """The composer's send key (Textual key names, like "enter" or "ctrl+s")."""
    newline_key: str = "ctrl+j"
    """The composer's new-line key: most terminals cannot tell shift+enter from enter."""
    bell: bool = False
    """Ring the terminal bell, besides the toast, for a new message in another conversation."""
    notify: Literal["mine", "mine_and_unassigned", "all"] = "mine_and_unassigned"
    """Which new customer messages in other conversations the notice line announces: those of
    conversations assigned to this agent, also the unassigned ones, or all. Mentions always are."""


class RetentionSettings(_Section):
    webhook_log_days: int = Field(30, gt=0, le=36500)
    """The server deletes raw webhook log rows older than this, hourly; the dedupe keys stay."""
    media_days: int | None = Field(None, strict=True)
    """The server deletes media files (downloaded and sent) older than this, hourly; unset keeps them."""

    @field_validator("media_days")
    @classmethod
    def _days(cls, value: int | None) -> int | None:
        if value is not None and not 0 < value <= 36500:
            raise ValueError("must be a number of days from 1 to 36500, or left unset to keep media forever")
        return value


_KAFKA_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")
"""What Kafka accepts as a topic name."""
_SASL = ("SASL_PLAINTEXT", "SASL_SSL")
_TLS = ("SSL", "SASL_SSL")


class EventSettings(_Section):
    """The event stream to Kafka (`gateway.event_relay`): off until `kafka_bootstrap` is set.

    Each field that depends on another is checked by its own validator (not a model one), so that a
    mistake names its key; those run even when the field is left unset (`validate_default`).
    """

    kafka_bootstrap: str | None = None
    """The brokers to start from, `host:port[,host:port…]` (WA_INBOX_KAFKA_BOOTSTRAP); unset: no events."""
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        None, validate_default=True
    )
    """Required with a SASL_* `security_protocol`, refused without one."""
    sasl_username: str | None = Field(None, validate_default=True)
    sasl_password: SecretStr | None = Field(None, validate_default=True)
    """Best kept in the environment (WA_INBOX_KAFKA_SASL_PASSWORD) or `.env`; never logged."""
    ssl_cafile: Path | None = None
    """The CA certificates (PEM) that sign the brokers' certificates, when the system's do not."""
    inbound_topic: str = "twilio.inbound.v1"
    status_topic: str = "twilio.status.v1"
    retention_days: int = Field(7, gt=0, le=36500)
    """The server deletes events published longer ago than this, hourly; unpublished ones stay."""
    idempotent_producer: bool = True
    """Kafka's idempotent producer (no duplicates from the producer's own retries); turn it off only for
    a broker that cannot do it, such as Tansu 0.6 for the tests (duplicates stay recognisable by key)."""

    @property
    def enabled(self) -> bool:
        return self.kafka_bootstrap is not None

    @field_validator("kafka_bootstrap")
    @classmethod
    def _brokers(cls, value: str | None) -> str | None:
        if value is None:
            return None
        for broker in value.split(","):
            host, colon, port = broker.strip().rpartition(":")
            if not (colon and host and port.isascii() and port.isdigit() and 0 < int(port) < 65536):
                raise ValueError("must be host:port of a Kafka broker, such as kafka1:9092 (several: a,b)")
            if not host.isprintable() or " " in host or "/" in host:
                raise ValueError("must be host:port of a Kafka broker, with no scheme, path or spaces")
        return value

    @field_validator("sasl_mechanism")
    @classmethod
    def _mechanism_fits_protocol(cls, value: str | None, info: ValidationInfo) -> str | None:
        protocol = info.data.get("security_protocol")
        if protocol in _SASL and value is None:
            raise ValueError(f"must be set (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512) with {protocol}")
        if protocol is not None and protocol not in _SASL and value is not None:
            raise ValueError("needs security_protocol SASL_SSL (or SASL_PLAINTEXT)")
        return value

    @field_validator("sasl_username", "sasl_password")
    @classmethod
    def _credentials_with_mechanism(cls, value: Any, info: ValidationInfo) -> Any:
        mechanism = info.data.get("sasl_mechanism")
        if mechanism is not None and not value:
            raise ValueError(f"must be set with sasl_mechanism {mechanism}")
        if mechanism is None and value and "sasl_mechanism" in info.data:
            raise ValueError("needs sasl_mechanism (and a SASL_* security_protocol); remove it otherwise")
        return value

    @field_validator("ssl_cafile")
    @classmethod
    def _readable_cafile(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        if info.data.get("security_protocol") not in _TLS:
            raise ValueError("needs security_protocol SSL or SASL_SSL")
        if not os.access(value, os.R_OK) or not value.is_file():
            raise ValueError(f"{value} is not a readable file of CA certificates (PEM)")
        return value

    @field_validator("inbound_topic", "status_topic")
    @classmethod
    def _topic_name(cls, value: str) -> str:
        if not _KAFKA_TOPIC.fullmatch(value) or value in (".", ".."):
            raise ValueError("must be a Kafka topic name: letters, digits, '.', '_' and '-' only")
        return value

    @field_validator("status_topic")
    @classmethod
    def _topics_differ(cls, value: str, info: ValidationInfo) -> str:
        if value == info.data.get("inbound_topic"):
            raise ValueError("must differ from events.inbound_topic: consumers tell events apart by topic")
        return value


class AgentSettings(_Section):
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
    """Who this inbox answers as (`--agent`, WA_INBOX_AGENT); unset: the operating system's user name."""

    @property
    def resolved(self) -> str:
        """The name in use: the setting, else the OS user's name made valid, else "agent"."""
        if self.name:
            return self.name
        user = re.sub(r"[^A-Za-z0-9._-]", "", getpass.getuser() if _has_user() else "")[:32].lstrip("._-")
        return user or "agent"


class TeamSettings(_Section):
    auto_assign: bool = False
    """The server assigns each new conversation to the agents seen in the last 15 minutes, in turn."""


def _has_user() -> bool:
    try:
        getpass.getuser()
    except (KeyError, OSError):
        return False
    return True


class MetricsSettings(_Section):
    """Prometheus metrics at `/metrics` (see `wa_inbox.metrics`)."""

    enabled: bool = True
    """Serve `/metrics`; counting goes on either way (it costs next to nothing)."""
    port: int | None = Field(None, ge=1, le=65535)
    """Serve `/metrics` on a port of its own instead of the receiver's (which a tunnel or reverse
    proxy may expose to the internet)."""
    host: str = "127.0.0.1"
    """The interface of that port; only used with `port`."""

    @field_validator("host")
    @classmethod
    def _interface(cls, value: str) -> str:
        if not value or not value.isprintable() or any(c in value for c in " /@"):
            raise ValueError("must be an interface address such as 127.0.0.1 or 0.0.0.0")
        return value


class LogSettings(_Section):
    format: Literal["text", "json"] = "text"
    """`json`: one JSON object per line (time, level, logger, message and fields such as
    message_sid, status, error_code, request_id, http_status), for journald or Loki."""


class DevSettings(_Section):
    allow_unsigned_webhooks: bool = False
    """Required, on purpose, to run with `validate_signatures = false`."""


class Settings(_Section):
    """Everything wa-inbox reads from its configuration, validated."""

    twilio: TwilioSettings = TwilioSettings()
    webhooks: WebhookSettings = WebhookSettings()
    receiver: ReceiverSettings = ReceiverSettings()
    opt: OptSettings = OptSettings()
    media: MediaSettings = Field(default_factory=MediaSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    """Factories, not instances: default paths must follow XDG_DATA_HOME at load time, not import."""
    outbox: OutboxSettings = OutboxSettings()
    tui: TuiSettings = TuiSettings()
    retention: RetentionSettings = RetentionSettings()
    agent: AgentSettings = AgentSettings()
    team: TeamSettings = TeamSettings()
    events: EventSettings = EventSettings()
    metrics: MetricsSettings = MetricsSettings()
    log: LogSettings = LogSettings()
    routing: dict[str, str] = {}
    """Country code (ISO 3166, like "BR") -> Messaging Service SID; "default" for the rest."""
    dev: DevSettings = DevSettings()
    webhook_auth_token: SecretStr | None = None
    """Resolved from the variable named by `webhooks.signature_auth_token_env`."""

    @field_validator("routing")
    @classmethod
    def _routing_targets(cls, value: dict[str, str]) -> dict[str, str]:
        for country, service in value.items():
            if not (country == "default" or (len(country) == 2 and country.isupper())):
                raise ValueError(f"{country!r} is not a two-letter country code like BR, nor 'default'")
            if not (service.startswith("MG") and len(service) == 34):
                raise ValueError(f"{service!r} for {country} is not a Messaging Service SID (MG…)")
        return value

    def limits(self) -> Limits:
        """The policy's configurable rules, from `[media]` and `[opt]`."""
        days = self.opt.suppression_ttl_days
        return Limits(
            self.media.max_image_bytes,
            self.media.max_doc_bytes,
            self.media.allowed_mime_prefixes,
            timedelta(days=days) if days else None,
        )

    def media_link_key(self) -> bytes | None:
        """Signs outbound media links; derived from the webhook token, so there is no new secret to keep."""
        token = self.webhook_auth_token
        return medialinks.derive_key(token.get_secret_value()) if token else None

    def messaging_service_sids(self) -> list[str]:
        """The default Messaging Service and each one `[routing]` names, once each: ours to configure."""
        sids = [self.twilio.messaging_service_sid, *self.routing.values()]
        return list(dict.fromkeys(sid for sid in sids if sid))

    def require_receiver(self) -> None:
        """Check what the webhook receiver cannot run without."""
        if not self.webhooks.validate_signatures:
            if not self.dev.allow_unsigned_webhooks:
                raise ConfigError(
                    "webhooks.validate_signatures is false: set [dev] allow_unsigned_webhooks = true "
                    "as well if you really mean to accept unsigned webhooks (development only)."
                )
            return
        if self.webhook_auth_token is None:
            name = self.webhooks.signature_auth_token_env
            raise ConfigError(
                f"{name} is not set: put your Twilio auth token in it (environment or .env) "
                "so that webhook signatures can be checked."
            )
        if self.twilio.public_base_url is None:
            raise ConfigError(
                "PUBLIC_BASE_URL is not set: set it (or [twilio] public_base_url) to the URL Twilio "
                "calls, such as your ngrok https URL, because signatures are computed over it."
            )

    def require_sender(self) -> None:
        """Check what sending through Twilio cannot run without."""
        twilio = self.twilio
        if twilio.account_sid is None:
            raise ConfigError(
                "TWILIO_ACCOUNT_SID is not set: put your account SID (AC…) in it to send messages."
            )
        has_key = twilio.api_key_sid is not None and twilio.api_key_secret is not None
        if not has_key and twilio.auth_token is None:
            raise ConfigError(
                "No Twilio credential is set: set TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET "
                "(recommended) or TWILIO_AUTH_TOKEN."
            )
        if twilio.messaging_service_sid is None and twilio.from_address is None and not self.routing:
            raise ConfigError(
                "No sender is set: set TWILIO_MESSAGING_SERVICE_SID (MG…) or TWILIO_WHATSAPP_FROM "
                "(whatsapp:+E164) so wa-inbox knows what to send from."
            )


def default_config_path() -> Path:
    return platformdirs.user_config_path(APP_NAME) / "wa-inbox.toml"


def load_settings(
    config_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    dotenv_path: Path | None = None,
) -> Settings:
    """Merge TOML, `.env` and the environment into a validated `Settings`, or raise `ConfigError`."""
    env = os.environ if env is None else env
    explicit = config_path or (Path(env["WA_INBOX_CONFIG"]) if env.get("WA_INBOX_CONFIG") else None)
    data = _read_toml(explicit or default_config_path(), required=explicit is not None)
    variables = {**_read_dotenv(dotenv_path or Path(".env")), **env}
    for name, (section, key) in ENV_KEYS.items():
        if variables.get(name) and isinstance(data.setdefault(section, {}), dict):
            data[section][key] = variables[name]
    webhooks = data.get("webhooks")
    token_env = "TWILIO_AUTH_TOKEN"
    if isinstance(webhooks, dict):
        token_env = webhooks.get("signature_auth_token_env", token_env)
    if isinstance(token_env, str) and variables.get(token_env):  # not a name: validation says so
        data["webhook_auth_token"] = variables[token_env]
    return _validate(data)


def _read_toml(path: Path, *, required: bool) -> dict[str, Any]:
    if not path.exists():
        if required:
            raise ConfigError(f"The config file {path} does not exist: create it or fix the path.")
        return {}
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"The config file {path} is not valid TOML ({error}): fix it.") from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"The config file {path} is not valid TOML (it is not UTF-8 text): point --config "
            "(or WA_INBOX_CONFIG) at your wa-inbox.toml."
        ) from None
    except OSError as error:
        raise ConfigError(
            f"The config file {path} cannot be read ({error.strerror}): fix its permissions."
        ) from None


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s is readable by other users: run `chmod 600 %s`.", path, path)
    try:
        values = dotenv_values(path)
    except UnicodeDecodeError:
        raise ConfigError(
            f"The file {path.resolve()} is not a .env file (not UTF-8 text): fix or remove it."
        ) from None
    except OSError as error:
        raise ConfigError(
            f"The file {path.resolve()} cannot be read ({error.strerror}): fix its permissions."
        ) from None
    return {key: value for key, value in values.items() if value is not None}


def _validate(data: dict[str, Any]) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_sentence(error)) from None


def _sentence(error: ValidationError) -> str:
    """Turn pydantic's first complaint into one sentence naming the key, without its value."""
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    env_name = next((name for name, loc in ENV_KEYS.items() if ".".join(loc) == key), None)
    where = f"{key} (or {env_name})" if env_name else key
    if first["type"] == "extra_forbidden":
        return f"Unknown setting {where}: remove it or check its spelling."
    reason = first["msg"].removeprefix("Value error, ").rstrip(".")
    reason = reason[:1].lower() + reason[1:]
    return f"Setting {where} is invalid: {reason}; fix it in the config file or environment."
