"""The Gateway applying the rules to whole conversations, on a real SQLite database."""

from __future__ import annotations

from sqlalchemy import func, select

from intake.core.states import State
from intake.core.types import Action, Inbound, Turn
from storage.database import Database
from storage.records import Records
from storage.tables import ConsentRecord, Conversation, Message
from storage.values import Channel, ConsentMethod, Contact
from tests.conftest import make_gateway

CALLER = Contact.phone("07911 123456")


def voice(turn: Turn, thread: str = "CA100", **kw) -> Inbound:
    return Inbound(Channel.VOICE, thread, turn, contact=CALLER, **kw)


async def count(db: Database, table) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(table))


async def test_yes_by_keypad_keeps_consent_and_words(sqlite_db: Database):
    gateway = make_gateway(sqlite_db)
    start = await gateway.handle(voice(Turn.START))
    assert start.action is Action.ASK_CONSENT and "999" in " ".join(start.say)
    yes = await gateway.handle(voice(Turn.ANSWER, digits="1"))
    assert yes.action is Action.ASK_HOW_TO_HELP and yes.consented
    said = await gateway.handle(voice(Turn.MESSAGE, text="I need help with an EHC plan"))
    assert said.action is Action.ROUTE_TO_ADVISER
    await gateway.handle(voice(Turn.HANGUP))

    records = Records(sqlite_db)
    view = await records.conversations.view(yes.conversation_id)
    assert view.status == "closed" and view.contact == CALLER
    assert [m.text for m in view.messages] == ["I need help with an EHC plan"]
    async with sqlite_db.sessions() as session:
        record = await session.scalar(select(ConsentRecord))
    assert record.method == ConsentMethod.KEYPAD
    assert record.wording_version == gateway.wording.version
    assert gateway.wording["consent_question_voice"] in record.wording_text


async def test_duplicate_yes_does_not_duplicate_records(sqlite_db: Database):
    gateway = make_gateway(sqlite_db)
    await gateway.handle(voice(Turn.START, "CA101"))
    await gateway.handle(voice(Turn.ANSWER, "CA101", text="yes please"))
    again = await gateway.handle(voice(Turn.ANSWER, "CA101", text="yes please"))
    assert again.consented
    assert await count(sqlite_db, Conversation) == 1
    assert await count(sqlite_db, ConsentRecord) == 1


async def test_no_keeps_nothing_but_still_helps(sqlite_db: Database):
    gateway = make_gateway(sqlite_db)
    await gateway.handle(voice(Turn.START, "CA102"))
    no = await gateway.handle(voice(Turn.ANSWER, "CA102", text="I'd rather not"))
    assert no.action is Action.HELP_WITHOUT_RECORDS and not no.consented
    assert "still help" in " ".join(no.say)
    later = await gateway.handle(voice(Turn.MESSAGE, "CA102", text="school won't assess him"))
    assert later.action is Action.ROUTE_TO_ADVISER and later.state is State.DECLINED
    await gateway.handle(voice(Turn.HANGUP, "CA102"))
    for table in (Conversation, Message, ConsentRecord):
        assert await count(sqlite_db, table) == 0
    assert await Records(sqlite_db).pending.held(Channel.VOICE, "CA102") is None


async def test_two_silences_mean_no(sqlite_db: Database):
    gateway = make_gateway(sqlite_db)
    await gateway.handle(voice(Turn.START, "CA103"))
    first = await gateway.handle(voice(Turn.ANSWER, "CA103"))
    assert first.action is Action.ASK_AGAIN
    second = await gateway.handle(voice(Turn.ANSWER, "CA103"))
    assert second.action is Action.HELP_WITHOUT_RECORDS and second.state is State.DECLINED
    assert await count(sqlite_db, Conversation) == 0


async def test_risk_in_the_consent_answer_raises_concern_after_no(sqlite_db: Database):
    gateway = make_gateway(sqlite_db)
    await gateway.handle(voice(Turn.START, "CA104"))
    reply = await gateway.handle(
        voice(Turn.ANSWER, "CA104", text="my partner hits my son when he has been drinking")
    )
    assert reply.action is Action.CONNECT_SAFEGUARDING and reply.concern_id
    assert await count(sqlite_db, Conversation) == 0  # a concern is not a record
    no = await gateway.handle(voice(Turn.ANSWER, "CA104", digits="2"))
    assert no.state is State.DECLINED
    after = await gateway.handle(voice(Turn.MESSAGE, "CA104", text="he hits my son a lot"))
    assert after.action is Action.CONNECT_SAFEGUARDING
    summaries = await Records(sqlite_db).concerns.list()
    assert len(summaries) == 2 and {s.channel for s in summaries} == {"voice"}
    assert await count(sqlite_db, Message) == 0


async def test_email_thread_held_until_yes_then_becomes_conversation(sqlite_db: Database):
    gateway = make_gateway(sqlite_db)
    parent = Contact.email("parent@example.org")
    first = await gateway.handle(
        Inbound(Channel.EMAIL, "thr-1", Turn.MESSAGE, text="Help with tribunal", contact=parent)
    )
    assert first.action is Action.ASK_CONSENT and first.state is State.ASKING_CONSENT
    more = await gateway.handle(
        Inbound(Channel.EMAIL, "thr-1", Turn.MESSAGE, text="Also transport", contact=parent)
    )
    assert more.action is Action.NOTHING  # one consent request per thread
    yes = await gateway.handle(
        Inbound(
            Channel.EMAIL,
            "thr-1",
            Turn.ANSWER,
            text="YES",
            contact=parent,
        )
    )
    view = await Records(sqlite_db).conversations.view(yes.conversation_id)
    assert [m.text for m in view.messages] == ["Help with tribunal", "Also transport"]
    assert view.contact == parent


async def test_separate_threads_from_the_same_person_stay_separate(sqlite_db: Database):
    gateway = make_gateway(sqlite_db)
    for thread in ("CA200", "CA201"):
        await gateway.handle(voice(Turn.START, thread))
        await gateway.handle(voice(Turn.ANSWER, thread, digits="1"))
    assert await count(sqlite_db, Conversation) == 2
