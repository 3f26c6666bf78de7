"""The core's decisions, with an in-memory store standing in for the database: what each answer
writes, what each channel is told, and which replies are queued."""

from __future__ import annotations

from datetime import timedelta

from intake.core.answers import Answer
from intake.core.gateway import Gateway
from intake.core.ports import Purpose
from intake.core.states import State
from intake.core.types import Action, Inbound, Reading, Turn
from intake.core.wording import current_wording
from storage.values import Channel, ConsentGiven, ConsentMethod, Contact
from tests.conftest import KeywordRisk
from tests.core.memory_store import MemoryStore

PARENT = Contact.email("jo@example.org")


class Words:
    """A composer that records what it was asked to write."""

    def compose(self, purpose, thread_ref, first, latest, expires_at) -> dict:  # noqa: ANN001
        return {"purpose": str(purpose), "subject": first.get("subject", "")}


def gateway(store: MemoryStore, per_hour: int = 5, callbacks: object = None) -> Gateway:
    return Gateway(
        store,
        KeywordRisk(),
        current_wording().for_service(timedelta(days=7).total_seconds()),
        pending_ttl=timedelta(days=7),
        escalate_after=timedelta(minutes=5),
        composers={Channel.EMAIL: Words()},
        replies_per_hour=per_hour,
        callbacks=callbacks,
    )


def email(token: str, text: str, msgid: str, **kw: object) -> Inbound:
    return Inbound(
        Channel.EMAIL,
        token,
        Turn.MESSAGE,
        text=text,
        contact=PARENT,
        reading=Reading.WRITTEN,
        turn_id=msgid,
        notes={"subject": "EHCP", "reply_to": msgid},
        **kw,
    )


async def test_a_new_email_is_held_and_asked_about_once_even_when_redelivered():
    store = MemoryStore()
    first = await gateway(store).handle(email("t1", "About my son's EHCP", "<m1@x>"))
    again = await gateway(store).handle(email("t1", "About my son's EHCP", "<m1@x>"))
    assert first.state is State.ASKING_CONSENT and first.action is Action.ASK_CONSENT
    assert again.repeated
    assert store.held[(Channel.EMAIL, "t1")].texts == ("About my son's EHCP",)
    assert [p["purpose"] for _, p, _ in store.outbox] == [Purpose.CONSENT_REQUEST]
    assert not store.conversations


async def test_a_written_yes_with_more_words_records_consent_and_keeps_the_words():
    store = MemoryStore()
    core = gateway(store)
    await core.handle(email("t2", "About transport", "<m1@x>"))
    reply = await core.handle(email("t2", "Yes that is fine.\nPlease ring after 3pm.", "<m2@x>"))
    assert reply.answer is Answer.YES and reply.state is State.CONSENTED
    [conversation] = store.conversations.values()
    assert conversation.consent.method is ConsentMethod.EMAIL_REPLY
    assert [text for _, text, _ in conversation.messages] == [
        "About transport",
        "Yes that is fine.\nPlease ring after 3pm.",
    ]
    assert [p["purpose"] for _, p, _ in store.outbox] == ["consent", "acknowledged"]


async def test_a_written_no_keeps_nothing_drops_the_request_and_says_so():
    store = MemoryStore()
    core = gateway(store)
    await core.handle(email("t3", "About my daughter", "<m1@x>"))
    reply = await core.handle(email("t3", "No thank you", "<m2@x>"))
    assert reply.answer is Answer.NO and reply.state is State.DECLINED
    assert (Channel.EMAIL, "t3") not in store.held  # nothing held, not even a marker
    assert [p["purpose"] for _, p, _ in store.outbox] == ["declined"]
    assert not store.conversations
    assert store.tallies == {("email", "declined"): 1}


async def test_more_words_that_are_not_an_answer_are_held_not_read_as_no():
    store = MemoryStore()
    core = gateway(store)
    await core.handle(email("t4", "About my son", "<m1@x>"))
    reply = await core.handle(email("t4", "Nobody at school listens to us", "<m2@x>"))
    assert reply.answer is None and reply.state is State.ASKING_CONSENT
    assert len(store.held[(Channel.EMAIL, "t4")].texts) == 2


async def test_automatic_replies_stop_at_the_limit_per_address():
    store = MemoryStore()
    core = gateway(store, per_hour=2)
    for n in range(4):
        await core.handle(email(f"t5-{n}", "Hello", f"<m{n}@x>"))
    assert len(store.outbox) == 2
    assert len(store.held) == 4  # every message is still held, only the replies stop


async def test_a_bare_answer_to_a_thread_that_is_gone_keeps_nothing_and_says_so_once():
    store = MemoryStore()
    reply = await gateway(store).handle(email("gone", "YES", "<m9@x>", in_reply=True))
    assert reply.stale and not store.held and not store.conversations
    [(_, payload, _)] = store.outbox  # one short reply: nothing is held, how to write again
    assert payload["purpose"] == "nothing_held"


async def test_risk_is_raised_before_anything_else_even_on_a_decline():
    store = MemoryStore()
    core = gateway(store)
    call = Inbound(Channel.VOICE, "CA1", Turn.START)
    await core.handle(call)
    reply = await core.handle(
        Inbound(Channel.VOICE, "CA1", Turn.ANSWER, text="no, but my partner hits my son")
    )
    assert reply.action is Action.CONNECT_SAFEGUARDING
    assert [c.channel for c in store.concerns] == [Channel.VOICE]
    assert not store.conversations


class OwedCallbacks:
    """The call-back store as the core sees it: what was kept, and under which consent."""

    def __init__(self) -> None:
        self.kept: list[tuple[ConsentGiven, Contact]] = []

    async def keep(self, consent: ConsentGiven, phone: Contact) -> str:
        self.kept.append((consent, phone))
        return "cb1"


async def test_everyone_with_a_number_is_offered_a_call_back_under_the_right_consent():
    store, owed = MemoryStore(), OwedCallbacks()
    core = gateway(store, callbacks=owed)
    caller = Contact.phone("+447911123456")
    for thread, contact, key in (("CA2", caller, "1"), ("CA3", None, "1"), ("CA4", caller, "2")):
        await core.handle(Inbound(Channel.VOICE, thread, Turn.START, contact=contact))
        await core.handle(Inbound(Channel.VOICE, thread, Turn.ANSWER, digits=key, contact=contact))
    w = core.wording
    # consented: on the record's number; no number: nobody to ring
    assert await core.callback_question(Channel.VOICE, "CA2", caller) == w["callback_offer"]
    assert await core.callback_question(Channel.VOICE, "CA3", None) is None
    assert await core.request_callback(Channel.VOICE, "CA2")
    assert not await core.request_callback(Channel.VOICE, "CA3")
    assert not owed.kept  # the consented caller's call-back is on their record
    # said no to a record: still offered one, the number kept under its own consent
    question = await core.callback_question(Channel.VOICE, "CA4", caller)
    assert question == w["callback_offer_unrecorded"] and "only to make that call" in question
    yes = Inbound(Channel.VOICE, "CA4", Turn.ANSWER, text="yes please", contact=caller)
    assert await core.request_callback(Channel.VOICE, "CA4", yes)
    [(consent, phone)] = owed.kept
    assert phone == caller and consent.answer_words == "yes please"
    assert consent.wording_text == w["callback_offer_unrecorded"]
    assert (Channel.VOICE, "CA4") not in store.conversations  # and still no record of it


class RiskWithWorker(KeywordRisk):
    """A detector that can also assess in another process: records where each text went."""

    def __init__(self) -> None:
        super().__init__()
        self.elsewhere: list[str] = []

    async def assess_elsewhere(self, text: str):  # noqa: ANN201 - the Assessment
        self.elsewhere.append(text)
        return self.assess(text)


async def test_a_long_message_is_assessed_by_the_worker_and_a_short_one_at_once():
    store = MemoryStore()
    risk = RiskWithWorker()
    core = Gateway(
        store,
        risk,
        current_wording().for_service(timedelta(days=7).total_seconds()),
        pending_ttl=timedelta(days=7),
        escalate_after=timedelta(minutes=5),
        composers={Channel.EMAIL: Words()},
    )
    long = "We have waited months for the assessment. " * 8 + "My partner hits my son."
    reply = await core.handle(email("t1", long, "<m1@example.org>"))
    assert risk.elsewhere == [long]
    assert reply.action is Action.CONNECT_SAFEGUARDING  # its answer is used as it would be
    await core.handle(email("t2", "Help with an EHCP, please.", "<m2@example.org>"))
    assert risk.elsewhere == [long]
