"""Did our own upstream mail server find the sender to be who the From: says? (RFC 8601)

Why: without it, anyone can make the service write to anyone (a consent request to a forged
From:). Only the upstream server's verdict counts: the topmost Authentication-Results header,
and only if it carries that server's authserv-id (INTAKE_MAIL_AUTHSERV_ID). Any other server's,
and any the sender wrote in themselves (they sit below it), are ignored. Parsed by `authres`, a
maintained parser, not a regular expression of ours.
"""

from __future__ import annotations

from collections.abc import Sequence

import authres


def sender_unverified(headers: Sequence[str], authserv_id: str | None) -> bool:
    """True when our upstream says DMARC failed, or SPF failed with no DKIM pass. False when
    no authserv-id is configured, the top header is not our server's, or it cannot be read
    (then the message is treated as before: we cannot tell, so we do not refuse to answer)."""
    if not authserv_id or not headers:
        return False
    try:
        parsed = authres.AuthenticationResultsHeader.parse_value(str(headers[0]))
    except Exception:  # noqa: BLE001 - any unreadable header is "cannot tell"
        return False
    if (parsed.authserv_id or "").lower() != authserv_id.lower():
        return False
    results: dict[str, set[str]] = {}
    for result in parsed.results:
        results.setdefault(str(result.method).lower(), set()).add(str(result.result).lower())
    if "fail" in results.get("dmarc", set()):
        return True
    return "fail" in results.get("spf", set()) and "pass" not in results.get("dkim", set())
