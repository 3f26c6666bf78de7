"""The `intake` command: serve, migrate, staff, on-call rota, risk scoring, subject access,
concerns. Errors are one clear line on stderr and a non-zero exit; nothing is half-done."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from intake.settings import Settings, SettingsError
from nlp.model import ModelFileError
from storage.crypto import SecretKeyError
from storage.database import Database
from storage.engine import DatabaseUnavailable
from storage.values import Contact, InvalidContact

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class CommandError(Exception):
    """A user-facing failure: the message is printed as it is."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="intake", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("serve", help="serve HTTP, SMTP and the background workers")
    sub.add_parser("migrate", help="create or upgrade the database schema")

    staff = sub.add_parser("staff", help="staff accounts").add_subparsers(
        dest="action", required=True
    )
    add = staff.add_parser("add", help="add a staff account")
    add.add_argument("email")
    add.add_argument("--role", required=True, help="adviser|safeguarding_lead|admin|maintainer")
    add.add_argument("--name", required=True)
    add.add_argument("--password-stdin", action="store_true", help="read a password from stdin")

    oncall = sub.add_parser("oncall", help="the safeguarding on-call rota").add_subparsers(
        dest="action", required=True
    )
    oset = oncall.add_parser("set", help="set who is on call")
    oset.add_argument("slot", choices=["primary", "deputy"])
    oset.add_argument("--name", required=True)
    oset.add_argument("--phone", required=True, help="E.164, e.g. +447700900123")
    oset.add_argument("--email", required=True)
    oncall.add_parser("show", help="show who is on call")

    risk = sub.add_parser("risk", help="the child-risk detector").add_subparsers(
        dest="action", required=True
    )
    score = risk.add_parser("score", help="score JSONL lines {id, text} from FILE or stdin")
    score.add_argument("file", nargs="?")

    sar = sub.add_parser(
        "sar",
        help="subject access: everything held about a person, as JSON (an admin or the "
        "safeguarding lead; audited)",
    )
    who = sar.add_mutually_exclusive_group(required=True)
    who.add_argument("--phone")
    who.add_argument("--email")
    sar.add_argument("--staff", required=True, help="your staff email address")
    sar.add_argument("--password-stdin", action="store_true", help="read it from stdin")

    concerns = sub.add_parser("concerns", help="safeguarding concerns").add_subparsers(
        dest="action", required=True
    )
    clist = concerns.add_parser("list", help="list concerns and their alert status")
    clist.add_argument("--json", action="store_true")
    for verb, text in (
        ("show", "read one concern's evidence and contact (safeguarding lead only; audited)"),
        ("ack", "acknowledge a concern, stopping its alerts (safeguarding lead only)"),
        (
            "release",
            "let subject access give a concern and its thread to the parent (lead only)",
        ),
    ):
        one = concerns.add_parser(verb, help=text)
        one.add_argument("concern", help="the concern's id or the reference in its alert")
        one.add_argument("--staff", required=True, help="your staff email address")
        one.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    rotate = sub.add_parser(
        "rotate-key",
        help="re-encrypt every field under a new secret key while the service runs, then retire "
        "the old one (see the README: Rotating the key)",
    )
    rotate.add_argument("--batch", type=int, default=200, help="rows per transaction")
    purge = sub.add_parser(
        "purge",
        help="apply the retention periods: erase closed conversations and decided concerns "
        "past them (audited)",
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="list what would go (counts and ids), change nothing"
    )
    outbox = sub.add_parser("outbox", help="outbound mail and messages waiting or failed")
    outbox_actions = outbox.add_subparsers(dest="action", required=True)
    outbox_status = outbox_actions.add_parser(
        "status", help="how many items wait, and every permanent failure (no recipients shown)"
    )
    outbox_status.add_argument("--json", action="store_true")

    simulate = sub.add_parser("simulate", help="try the service locally as a parent would")
    simulate_kinds = simulate.add_subparsers(dest="action", required=True)
    sim_call = simulate_kinds.add_parser("call", help="a terminal phone call to the gateway")
    sim_call.add_argument(
        "--from",
        dest="caller",
        default="+447911123456",
        help="the caller's number, or 'withheld' (default: +447911123456)",
    )
    sim_call.add_argument("--url", help="the gateway's address (default: from INTAKE_HTTP_*)")
    sim_mail = simulate_kinds.add_parser(
        "email", help="email the gateway (text from --text or stdin) and show its SMTP answer"
    )
    sim_mail.add_argument("--from", dest="sender", default="parent@example.org")
    sim_mail.add_argument("--subject", default="A question about my child")
    sim_mail.add_argument("--text", help="the message (default: read from stdin)")
    sim_mail.add_argument("--ref", help="reply on a thread: the reference from our reply")
    sim_mail.add_argument("--to", help="recipient (default: INTAKE_MAIL_ADDRESS)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "risk":
            from nlp.score import run

            return run(args.file, sys.stdin.buffer, sys.stdout, sys.stderr)
        settings = Settings.from_env()
        if args.command == "serve":
            return _serve(settings)
        if args.command == "simulate" and args.action == "call":
            return _simulate_call(settings, args)
        if args.command == "simulate" and args.action == "email":
            return _simulate_email(settings, args)
        if args.command == "rotate-key":
            return _rotate_key(settings, args)
        args.settings = settings
        return asyncio.run(_with_database(settings, _COMMANDS[args.command], args))
    except (
        CommandError,
        SettingsError,
        DatabaseUnavailable,
        SecretKeyError,
        ModelFileError,
    ) as exc:
        print(f"intake: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_ERROR


def _serve(settings: Settings) -> int:
    from intake.app import serve
    from intake.logs import configure_logging

    fixed = settings.prepare_data_dir()
    configure_logging(settings.data_dir, settings.log_level)
    if fixed:
        import logging

        from intake.logs import log_event

        log_event(logging.getLogger("intake.app"), "file_modes_tightened", count=fixed)
    asyncio.run(serve(settings))
    return EXIT_OK


def _simulate_call(settings: Settings, args: argparse.Namespace) -> int:
    from intake.voice.signature import TwilioSignature
    from intake.voice.simulate import play_call

    token = settings.twilio_auth_token or asyncio.run(_development_token(settings))
    url = args.url or f"http://{settings.http_host}:{settings.http_port}"
    caller = None if args.caller.lower() in {"withheld", "anonymous", ""} else args.caller
    try:
        asyncio.run(play_call(url, TwilioSignature(token, settings.public_url), caller))
    except OSError as exc:
        raise CommandError(f"cannot reach the gateway at {url} ({type(exc).__name__})") from None
    except EOFError:
        pass
    return EXIT_OK


async def _development_token(settings: Settings) -> str:
    """The token the gateway signs with when no Twilio account is set: from the database's own
    signing key, which outlives a rotation of the secret key."""
    from intake.app import open_database
    from intake.voice.signature import development_auth_token

    db = await open_database(settings)
    try:
        return development_auth_token(db.keyring)
    finally:
        await db.close()


def _simulate_email(settings: Settings, args: argparse.Namespace) -> int:
    from intake.mail.simulate import build, send_email

    text = args.text if args.text is not None else sys.stdin.read()
    msg = build(
        text,
        sender=args.sender,
        to=args.to or settings.mail_address,
        subject=args.subject,
        ref=args.ref,
    )
    started = datetime.now(UTC)
    try:
        code = asyncio.run(send_email(settings.smtp_host, settings.smtp_port, msg, sys.stdout))
    except OSError as exc:
        where = f"{settings.smtp_host}:{settings.smtp_port}"
        raise CommandError(f"cannot reach the gateway's SMTP server at {where}") from exc
    if code == 0 and settings.smtp_relay is None:
        asyncio.run(_show_reply(settings, args.sender, started))
    return code


async def _show_reply(settings: Settings, sender: str, since: datetime) -> None:
    """With no relay, nothing is sent: show the reply the parent would receive, from the
    outbox, so a newcomer sees the whole exchange."""
    from intake.app import open_database
    from storage.outbox import Outbox

    db = await open_database(settings)
    try:
        for _ in range(50):  # the gateway queues its reply in the same turn: a moment at most
            waiting = await Outbox(db).waiting_for(sender, since)
            if waiting:
                break
            await asyncio.sleep(0.1)
    finally:
        await db.close()
    for payload in waiting:
        print("\nThe reply the parent would receive (no relay is set, so it waits in the outbox):")
        print(f"Subject: {payload.get('subject', '')}\n\n{payload.get('body', '').strip()}")
    if not waiting:
        print("\nNo reply was queued for this sender (see the gateway's log for why).")


def _rotate_key(settings: Settings, args: argparse.Namespace) -> int:
    """With the generated key file, the first run makes the new key (keeping the old one beside
    it); with INTAKE_SECRET_KEY, the operator has set the new key and INTAKE_OLD_SECRET_KEY."""
    from storage.crypto import new_key_file

    if settings.key_file is not None:
        settings.prepare_data_dir()
        if new_key_file(settings.data_dir):
            print(
                f"A new secret key is in {settings.key_file}; the old one stays beside it "
                "(secret.key.old) until every field is re-encrypted."
            )
    elif not settings.old_secret_key:
        print(
            "INTAKE_OLD_SECRET_KEY is not set: only values in the old form, or under no other "
            "key, are re-sealed under the current key."
        )
    if args.batch < 1:
        raise CommandError("--batch must be at least 1")
    args.settings = settings
    return asyncio.run(_with_database(settings, _reencrypt, args))


async def _reencrypt(db: Database, args: argparse.Namespace) -> int:
    from storage import audit, key_material
    from storage.rotation import KeyRotation

    current = db.cipher.key_id.hex()
    stale = [p for p in await key_material.live_processes(db.engine) if p.key_id != current]
    if stale:
        raise CommandError(
            f"{len(stale)} running gateway process(es) still seal under another key "
            f"({', '.join(sorted({p.key_id for p in stale}))}): restart them with the new key "
            "(keeping the old one readable), then run `intake rotate-key` again"
        )
    rotation = KeyRotation(db, args.batch)
    progress = await rotation.reseal_all(lambda table, n: print(f"{table}: {n} re-encrypted"))
    left = await rotation.remaining()
    if left or progress.unreadable:
        unreadable = ", ".join(f"{t} {n}" for t, n in progress.unreadable.items())
        raise CommandError(
            f"{sum(left.values())} values are not yet under key {current}"
            + (f" ({unreadable} could not be opened with any key given)" if unreadable else "")
            + ": the old key is kept; run `intake rotate-key` again"
        )
    retired = [k.label for k in db.keyring.previous]
    async with db.transaction() as session:
        await audit.record(
            session,
            "cli",
            "key_rotated",
            "key",
            current,
            resealed=progress.total,
            retired=",".join(retired) or None,
        )
    print(f"Every field is sealed under key {current} ({progress.total} re-encrypted now).")
    if not retired:
        return EXIT_OK
    settings: Settings = args.settings
    if settings.key_file is not None:
        from storage.crypto import retire_old_key_file

        retire_old_key_file(settings.data_dir)
        print(f"The old key {', '.join(retired)} is retired: secret.key.old is deleted.")
    else:
        print(
            f"The old key {', '.join(retired)} is retired: remove INTAKE_OLD_SECRET_KEY from "
            "every process's environment (and the secret store) and restart them."
        )
    return EXIT_OK


async def _with_database(
    settings: Settings,
    command: Callable[[Database, argparse.Namespace], Awaitable[int]],
    args: argparse.Namespace,
) -> int:
    from intake.app import open_database

    db = await open_database(settings)
    try:
        return await command(db, args)
    finally:
        await db.close()


async def _migrate(db: Database, _args: argparse.Namespace) -> int:
    print("database schema is up to date")
    return EXIT_OK


async def _staff(db: Database, args: argparse.Namespace) -> int:
    from storage.staff import StaffError, StaffStore

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError("no password was given on stdin")
    try:
        member = await StaffStore(db).add(args.email, args.name, args.role, password)
    except StaffError as exc:
        raise CommandError(str(exc)) from None
    print(f"added {member.role} {member.email} ({member.id})")
    return EXIT_OK


async def _oncall(db: Database, args: argparse.Namespace) -> int:
    from storage.rota import RotaError, RotaStore

    rota = RotaStore(db)
    if args.action == "set":
        try:
            entry = await rota.set(args.slot, args.name, args.phone, args.email)
        except RotaError as exc:
            raise CommandError(str(exc)) from None
        print(f"{entry.slot}: {entry.name} {entry.phone} {entry.email}")
        return EXIT_OK
    for slot, entry in (await rota.show()).items():
        print(f"{slot}: {entry.name} {entry.phone} {entry.email}" if entry else f"{slot}: (nobody)")
    return EXIT_OK


async def _signed_in(db: Database, args: argparse.Namespace):  # noqa: ANN202
    """The member of staff running a command that reads personal data, by their password."""
    import getpass

    from storage.staff import StaffStore

    if args.password_stdin or not sys.stdin.isatty():
        # no terminal to ask on (a script, a pipe): the password is the first line of stdin
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError(
                "no password: give it on stdin (with --password-stdin), or run this in a terminal"
            )
    else:
        password = getpass.getpass("Password: ")
    staff = await StaffStore(db).verify(args.staff, password)
    if staff is None:
        raise CommandError("sign-in failed: unknown staff email or wrong password")
    return staff


async def _sar(db: Database, args: argparse.Namespace) -> int:
    from storage.records import Records
    from storage.subject_access import AccessNotPermitted

    try:
        contact = Contact.phone(args.phone) if args.phone else Contact.email(args.email)
    except InvalidContact as exc:
        raise CommandError(str(exc)) from None
    staff = await _signed_in(db, args)
    try:
        result = await Records(db).access.export(contact, staff.id, staff.role)
    except AccessNotPermitted as exc:
        raise CommandError(str(exc)) from None
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return EXIT_OK


async def _concerns(db: Database, args: argparse.Namespace) -> int:
    from storage.records import Records
    from storage.values import concern_reference

    store = Records(db).concerns
    if args.action in ("show", "ack", "release"):
        return await _one_concern(db, store, args)
    concerns = await store.list()
    if args.json:
        rows = [
            {
                "id": c.id,
                "ref": concern_reference(c.id),
                "raised_at": c.raised_at.isoformat(),
                "channel": c.channel,
                "severity": c.severity,
                "categories": list(c.categories),
                "status": c.status,
                "alert_status": c.alert_status,
                "alerted": c.alerted,
                "alert_channels": dict(c.channels),
            }
            for c in concerns
        ]
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    if not concerns:
        print("no safeguarding concerns")
    for c in concerns:
        print(
            f"{c.raised_at:%Y-%m-%d %H:%M} {c.id} {c.severity:<9} {c.channel:<5} "
            f"{','.join(c.categories) or '-'} status={c.status} alert={c.alert_status}"
            + "".join(f" {channel}={status}" for channel, status in c.channels)
        )
    return EXIT_OK


async def _one_concern(db: Database, store, args: argparse.Namespace) -> int:  # noqa: ANN001
    """A concern's content is for the safeguarding role only: the lead signs in to read it."""
    from storage.concerns import NotPermitted
    from storage.values import Role

    staff = await _signed_in(db, args)
    concern_id = await store.resolve(args.concern)
    if concern_id is None:
        raise CommandError(f"no single concern matches {args.concern!r}")
    if staff.role is not Role.SAFEGUARDING_LEAD:
        raise CommandError("only the safeguarding role may read or acknowledge a concern")
    if args.action == "release":
        done = await store.release_for_access(concern_id, staff.role, staff.id)
        state = "released" if done else "was already released"
        print(f"concern {concern_id} {state} for subject access by {staff.name}")
        return EXIT_OK
    if args.action == "ack":
        await store.acknowledge(concern_id, f"{staff.name} (command line)")
        print(f"concern {concern_id} acknowledged by {staff.name}")
        return EXIT_OK
    try:
        detail = await store.read(concern_id, staff.role, staff.id)
    except NotPermitted as exc:
        raise CommandError(str(exc)) from None
    summary = detail.summary
    contact = detail.contact.value if detail.contact else "withheld"
    print(
        f"concern {summary.id}  {summary.severity}  {summary.channel}  "
        f"{summary.raised_at:%Y-%m-%d %H:%M} UTC  status={summary.status}"
    )
    print(f"categories: {', '.join(summary.categories) or '-'}   rules: {', '.join(detail.rules)}")
    print(f"contact: {contact}")
    print(f"judged by: rules{' and model ' + detail.model_version if detail.model_version else ''}")
    print("alert chronology:")
    for line in await store.chronology(summary.id):
        where = " ".join(x for x in (line.channel, line.slot) if x)
        note = f" ({line.detail})" if line.detail else ""
        print(f"  {line.at:%Y-%m-%d %H:%M:%S} UTC  {line.event:<18} {where}{note}")
    print(f"evidence: {detail.evidence}")
    return EXIT_OK


async def _outbox(db: Database, args: argparse.Namespace) -> int:
    from storage.outbox import Outbox

    outbox = Outbox(db)
    counts, failures = await outbox.counts(), await outbox.failures()
    if args.json:
        rows = [
            {
                "id": f.id,
                "kind": f.kind,
                "reference": f.reference,
                "attempts": f.attempts,
                "error": f.last_error,
                "created_at": f.created_at.isoformat(),
                "content_erased": f.erased,
            }
            for f in failures
        ]
        json.dump({"counts": counts, "failures": rows}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "empty"
    print(f"outbox: {summary}")
    for f in failures:
        erased = " (content erased: the parent had not consented)" if f.erased else ""
        print(
            f"FAILED {f.created_at:%Y-%m-%d %H:%M} {f.id} {f.kind} after {f.attempts} attempts: "
            f"{f.last_error or 'unknown error'}{erased}"
        )
    return EXIT_OK


async def _purge(db: Database, args: argparse.Namespace) -> int:
    """Counts and ids only: nothing a parent said, and no contact, is printed."""
    from storage.retention import Retention

    settings: Settings = args.settings
    retention = Retention(db, settings.retention_days, settings.concern_retention_days)
    plan = await (retention.due() if args.dry_run else retention.purge(actor="cli"))
    verb = "would be purged" if args.dry_run else "purged"
    for kind, ids, days, variable in (
        ("closed conversations", plan.conversations, settings.retention_days, "RETENTION"),
        ("decided concerns", plan.concerns, settings.concern_retention_days, "CONCERN_RETENTION"),
    ):
        if not days:
            print(f"{kind}: kept (INTAKE_{variable}_DAYS is not set)")
            continue
        print(f"{kind} older than {days} days {verb}: {len(ids)}")
        for one in ids:
            print(f"  {one}")
    if args.dry_run:
        print("dry run: nothing was changed")
    return EXIT_OK


_COMMANDS = {
    "migrate": _migrate,
    "purge": _purge,
    "staff": _staff,
    "oncall": _oncall,
    "sar": _sar,
    "concerns": _concerns,
    "outbox": _outbox,
}
