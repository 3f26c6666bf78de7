"""How loud an alert is: which channels reach the person on call, by the concern's tier.

Why one place: the first alert, every escalation and the voice channel's routing must agree.

- ``immediate`` (danger now): an SMS, a phone call that asks the lead to press 1, and an email;
  but while the caller is being put through to the lead, the caller's call is the call;
- ``concern``: an SMS and an email;
- ``review`` (a lower-confidence flag, read the same day): an email, and an SMS within office
  hours only; it also stands at the top of the console's queue.
"""

from __future__ import annotations

from datetime import timedelta

SEVERITIES = ("immediate", "concern", "review")
RETRY_FIRST = timedelta(seconds=5)
RETRY_MOST = timedelta(seconds=30)  # a failed SMS or call is tried again within this


def alert_channels(
    severity: str, *, in_hours: bool, caller_put_through: bool = False
) -> tuple[str, ...]:
    """The channels of one person's alert, in the order they go (all at once)."""
    if severity == "immediate":
        return ("sms", "email") if caller_put_through else ("sms", "call", "email")
    if severity == "review":
        return ("email", "sms") if in_hours else ("email",)
    return ("sms", "email")


def caller_goes_to_lead(severity: str, *, in_hours: bool) -> bool:
    """On a call, any flag puts the caller through to a person: the lead for immediate and
    concern, an adviser for review (the lead out of hours, when no adviser is there)."""
    return severity != "review" or not in_hours


def retry_after(attempts: int) -> timedelta:
    """Back-off after the n-th failed try: 5 s, 10 s, 20 s, then every 30 s."""
    return min(RETRY_MOST, RETRY_FIRST * (2 ** max(0, attempts - 1)))
