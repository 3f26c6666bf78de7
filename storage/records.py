"""The records stores, built together over one database: what a composition root or a test
needs to hand out. Each store has one job in its own module; this only wires them."""

from __future__ import annotations

from storage.callbacks import Callbacks
from storage.concerns import ConcernStore
from storage.conversations import Conversations
from storage.database import Database
from storage.erasure import Erasure
from storage.keys import LookupKeys
from storage.outbox import Outbox
from storage.pending import PendingHold
from storage.referrals import Referrals
from storage.replays import WebhookReplays
from storage.reply_limits import AutoReplyLimit
from storage.rights import CaseRights
from storage.subject_access import SubjectAccess
from storage.tallies import Tallies
from storage.turns import ThreadTurns


class Records:
    """Every store over one database; no behaviour of its own."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.keys = LookupKeys(db.cipher)
        self.tallies = Tallies(db)
        self.pending = PendingHold(db, self.keys, self.tallies)
        self.conversations = Conversations(db, self.keys, self.tallies)
        self.callbacks = Callbacks(db, self.keys)
        self.access = SubjectAccess(db, self.keys, self.conversations, self.pending, self.callbacks)
        self.concerns = ConcernStore(db, self.keys, self.tallies)
        self.outbox = Outbox(db)
        self.rights = CaseRights(db, self.outbox)
        self.referrals = Referrals(db, self.conversations)
        self.erasure = Erasure(db)
        self.reply_limit = AutoReplyLimit(db, self.keys)
        self.replays = WebhookReplays(db, self.keys)
        self.turns = ThreadTurns(self)
