"""The one write convention: every write the store submits is a registered command taking `tx` first,
each exists once, by one name, and the writer process runs it by that name."""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import wa_inbox.store.committer  # noqa: F401 - imports every module of the store that registers commands
from wa_inbox.store import commands, writes
from wa_inbox.store.tx import COMMANDS, Tx, command
from wa_inbox.store.writer import BatchWriter

STORE = Path(writes.__file__).parent
NOW = "2026-03-01T12:00:00.000000Z"


@pytest.fixture
async def writer(tmp_path: Path) -> AsyncIterator[BatchWriter]:
    started = BatchWriter(tmp_path / "w.db")
    await started.start()
    yield started
    await started.stop()


def test_the_store_s_writes_are_registered_by_their_names() -> None:
    store_commands = {
        name for name, function in COMMANDS.items() if function.__module__.startswith("wa_inbox.")
    }
    assert store_commands == {
        "ingest_inbound",
        "ingest_status",
        "nothing",
        "set_opt_state",
        "queue_outbound",
        "claim_unsent",
        "record_accepted",
        "record_failed",
        "mark_read",
        "save_draft",
        "add_hosted_file",
        "claim_media",
        "record_media_downloaded",
        "record_media_failed",
        "record_media_removed",
        "acquire",
        "release",
        "take_over_sending",
        "replace_all",
        "log_rejection",
        "prune",
        "vacuum_pages",
        "mark_events_published",
        "record_event_failure",
        "prune_events",
        "record_agent",
        "assign",
        "set_conversation_status",
        "add_note",
        "set_label",
        "save_reply",
        "delete_reply",
        "touch_presence",
        "leave_presence",
    }
    for name, function in COMMANDS.items():
        assert function.__name__ == name


def test_every_registered_command_takes_tx_first_and_nothing_else_of_the_context() -> None:
    for name, function in COMMANDS.items():
        parameters = list(inspect.signature(function).parameters)
        assert parameters[0] == "tx", name
        assert not {"conn", "seq", "now"} & set(parameters), name


def test_write_steps_take_tx_first_and_no_connection_change_number_or_time_of_their_own() -> None:
    for module in (
        "writes.py",
        "commands.py",
        "lease.py",
        "templates.py",
        "webhook_log.py",
        "team_writes.py",
    ):
        for function in functions_of(STORE / module):
            names = [argument.arg for argument in function.args.args]
            if "tx" in names:
                assert names[0] == "tx", (module, function.name)
                assert not {"conn", "seq", "now"} & set(names), (module, function.name)
            if module in (
                "writes.py",
                "commands.py",
                "team_writes.py",
            ):  # nothing there but steps and plain helpers
                assert "conn" not in names and "seq" not in names, (module, function.name)


def test_writes_and_commands_define_no_function_twice_by_name() -> None:
    in_writes = [function.name for function in functions_of(STORE / "writes.py")]
    in_commands = [function.name for function in functions_of(STORE / "commands.py")]

    assert len(set(in_writes)) == len(in_writes)
    assert len(set(in_commands)) == len(in_commands)
    assert not set(in_writes) & set(in_commands)


def test_registration_refuses_a_command_without_tx_first() -> None:
    def takes_conn(conn: object, seq: int) -> None: ...

    takes_conn.__qualname__ = takes_conn.__name__  # as if module-level: only its parameters are wrong
    with pytest.raises(TypeError, match="first parameter must be `tx: Tx`"):
        command(takes_conn)
    assert "takes_conn" not in COMMANDS


def test_registration_refuses_a_command_the_writer_process_cannot_find_by_name() -> None:
    def nested(tx: Tx) -> None: ...

    with pytest.raises(TypeError, match="module-level functions"):
        command(nested)
    with pytest.raises(TypeError, match="module-level functions"):
        command(lambda tx: None)
    assert "nested" not in COMMANDS and "<lambda>" not in COMMANDS


def test_one_name_is_one_command() -> None:
    def set_opt_state(tx: Tx) -> None: ...

    set_opt_state.__qualname__ = set_opt_state.__name__
    with pytest.raises(TypeError, match=re.escape("wa_inbox.store.writes.set_opt_state is registered")):
        command(set_opt_state)
    assert COMMANDS["set_opt_state"] is writes.set_opt_state
    assert command(writes.set_opt_state) is writes.set_opt_state  # the same function again is no second
    assert COMMANDS["set_opt_state"] is writes.set_opt_state


async def test_a_command_the_writer_process_does_not_know_fails_alone(writer: BatchWriter) -> None:
    """Registered after the writer process started, in a module it never imported."""

    def registered_late(tx: Tx) -> None: ...

    registered_late.__qualname__ = registered_late.__name__
    registered_late.__module__ = "tests.store.nowhere"
    command(registered_late)
    try:
        with pytest.raises(LookupError, match="No write command 'registered_late'"):
            await writer.submit(registered_late, NOW)
        assert await writer.submit(commands.nothing, NOW) is None  # the writer goes on
    finally:
        del COMMANDS["registered_late"]


def functions_of(path: Path) -> list[ast.FunctionDef]:
    return [node for node in ast.parse(path.read_text()).body if isinstance(node, ast.FunctionDef)]
