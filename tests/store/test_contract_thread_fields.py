"""What the thread shows beside a message: the text it replies to and its template's name, from every read."""

from __future__ import annotations

from tests.support.store import ANA, inbound, sid, we_send
from wa_inbox.domain.models import Message
from wa_inbox.domain.policy import Draft
from wa_inbox.domain.templates import TemplateInfo
from wa_inbox.store import MessageQuery, Store

OURS = "SM" + "a" * 32
HX = "HX" + "b" * 32


async def customer_writes(store: Store, n: int, body: str, replied_to: str | None = None) -> None:
    await inbound(store, n, body, replied_to=replied_to)


async def every_read(store: Store, message_sid: str, words: str) -> list[Message]:
    """The message as each read returns it (it must be the conversation's latest)."""
    reads = [
        [await store.get_message(message_sid)],
        await store.list_messages(MessageQuery()),
        await store.thread_page(ANA),
        await store.messages_changed_since(0),
        (await store.changes_since(0)).messages,
        await store.search(words),
        [conversation.last_message for conversation in await store.list_conversations()],
    ]
    found = [m for read in reads for m in read if m is not None and m.sid == message_sid]
    assert len(found) == len(reads)
    by_id = await store.get_message_by_id(found[0].id)
    assert by_id is not None
    return [*found, by_id]


async def test_a_reply_carries_the_text_it_replies_to(store: Store) -> None:
    await customer_writes(store, 1, "Meu pedido não chegou")
    await we_send(store, Draft(ANA, "Já verifico!"), OURS)
    await customer_writes(store, 2, "Obrigada", replied_to=OURS)
    assert {m.replied_to_body for m in await every_read(store, sid(2), "Obrigada")} == {"Já verifico!"}

    await customer_writes(store, 3, "E o outro?", replied_to=sid(1))
    assert {m.replied_to_body for m in await every_read(store, sid(3), "outro")} == {"Meu pedido não chegou"}
    first = await store.get_message(sid(1))
    assert first is not None and first.replied_to_body is None  # replies to nothing


async def test_a_reply_to_a_message_not_stored_here_has_no_text(store: Store) -> None:
    await customer_writes(store, 1, "Sobre aquela mensagem", replied_to="SM" + "f" * 32)

    (message,) = await store.thread_page(ANA)
    assert (message.replied_to_sid, message.replied_to_body) == ("SM" + "f" * 32, None)


async def test_a_template_message_carries_the_template_name(store: Store) -> None:
    await store.replace_templates([TemplateInfo(HX, "order_shipped", "en", "twilio/text", "Hi {{1}}")])
    await we_send(store, Draft(ANA, content_sid=HX, content_variables={"1": "Ana"}, preview="Hi Ana"), OURS)

    assert {m.template_name for m in await every_read(store, OURS, "Ana")} == {"order_shipped"}

    await store.replace_templates([])  # deleted at Twilio since
    message = await store.get_message(OURS)
    assert message is not None and (message.content_sid, message.template_name) == (HX, None)


async def test_a_session_message_has_no_template_name(store: Store) -> None:
    await store.replace_templates([TemplateInfo(HX, "order_shipped", "en", "twilio/text", "Hi")])
    await customer_writes(store, 1, "Oi")

    (message,) = await store.thread_page(ANA)
    assert message.template_name is None
