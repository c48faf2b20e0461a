"""`[metrics]` and `[log]`: their defaults, and a bad value as one sentence naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from wa_inbox.config import ConfigError, Settings, load_settings


def settings_from(tmp_path: Path, toml: str) -> Settings:
    path = tmp_path / "wa-inbox.toml"
    path.write_text(toml)
    return load_settings(path, env={})


def test_metrics_on_the_receivers_port_and_text_logs_by_default(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "")

    assert (settings.metrics.enabled, settings.metrics.port, settings.metrics.host) == (
        True,
        None,
        "127.0.0.1",
    )
    assert settings.log.format == "text"


def test_a_port_of_their_own_and_json_logs(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, '[metrics]\nport = 9464\nhost = "0.0.0.0"\n[log]\nformat = "json"\n')

    assert (settings.metrics.port, settings.metrics.host, settings.log.format) == (9464, "0.0.0.0", "json")


@pytest.mark.parametrize(
    ("toml", "fragments"),
    [
        ("[metrics]\nport = 70000\n", ["metrics.port", "65535"]),
        ("[metrics]\nport = 0\n", ["metrics.port"]),
        ('[metrics]\nhost = "a b"\n', ["metrics.host", "interface address"]),
        ("[metrics]\nenabled = 3\n", ["metrics.enabled"]),
        ('[metrics]\npath = "/m"\n', ["Unknown setting metrics.path"]),
        ('[log]\nformat = "xml"\n', ["log.format", "'text' or 'json'"]),
        ('[webhooks]\ninbound_path = "/metrics"\n', ["webhooks.inbound_path", "/metrics"]),
    ],
)
def test_a_bad_value_is_one_sentence_naming_its_key(tmp_path: Path, toml: str, fragments: list[str]) -> None:
    with pytest.raises(ConfigError) as error:
        settings_from(tmp_path, toml)

    sentence = str(error.value)
    assert "\n" not in sentence and sentence.endswith(".")
    for fragment in fragments:
        assert fragment in sentence
