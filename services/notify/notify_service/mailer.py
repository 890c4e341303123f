"""Sending the pending emails over SMTP, retried with back-off (the worker's job).

Never in a request, never inside a database transaction: claim a batch of due emails (a
short transaction that leases them, SKIP LOCKED on PostgreSQL so workers share the work),
send them over one SMTP conversation (``smtplib``; TLS from the start for ``smtps://``,
STARTTLS with ``?starttls=true``, login when the URL has a user), then record each outcome
(another short transaction). A refused or failed attempt is retried after
``backoff * 2**(attempts-1)`` seconds, up to ``max_attempts``; then the email is
``failed``. ``last_error`` holds the SMTP reply code or the class of error, never the
server's address or credentials. Without ``REVISIT_SMTP_URL`` nothing is sent: emails wait,
pending.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import sqlalchemy as sa

from revisit_common.db import Database

from .models import Email
from .notification_rules import SmtpTarget, retry_delay
from .options import NotifyOptions

log = logging.getLogger(__name__)
# Errors that are a server's reply: the conversation goes on with the next email.
REPLIES = (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused)


@dataclass(frozen=True)
class MailConfig:
    target: SmtpTarget | None
    timeout: float = 10.0
    backoff: float = 60.0  # seconds before the first retry; doubled each time
    max_attempts: int = 8
    batch: int = 50
    lease: float = 300.0  # a claimed email is not claimed again before this

    @classmethod
    def from_options(cls, options: NotifyOptions) -> MailConfig:
        return cls(
            target=options.smtp,
            timeout=options.smtp_timeout,
            backoff=options.smtp_backoff,
            max_attempts=options.smtp_max_attempts,
        )


@dataclass(frozen=True)
class Outgoing:
    email_id: str
    recipient: str
    subject: str
    body: str


@dataclass(frozen=True)
class Outcome:
    email_id: str
    error: str | None


def send_due(db: Database, config: MailConfig, at: datetime) -> int:
    """One round: claim, send, record. Returns how many emails were attempted."""
    if config.target is None:
        return 0
    claimed = claim(db, config, at)
    if not claimed:
        return 0
    outcomes = send(claimed, config.target, config.timeout, at)
    record(db, config, outcomes, at)
    return len(outcomes)


def claim(db: Database, config: MailConfig, at: datetime) -> list[Outgoing]:
    due = sa.or_(Email.next_attempt_at.is_(None), Email.next_attempt_at <= at)
    query = (
        sa.select(Email)
        .where(Email.status == "pending", due)
        .order_by(Email.id)
        .limit(config.batch)
    )
    if db.is_postgres:
        query = query.with_for_update(skip_locked=True)
    with db.transaction() as session:
        emails = session.scalars(query).all()
        for email in emails:
            email.next_attempt_at = at + timedelta(seconds=config.lease)
        return [Outgoing(e.id, e.recipient, e.subject, e.body) for e in emails]


def message(item: Outgoing, sender: str, at: datetime) -> EmailMessage:
    """The email as sent: UTF-8 plain text, the subject encoded as RFC 2047 when needed."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = item.recipient
    msg["Subject"] = item.subject
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = make_msgid(idstring=item.email_id, domain=sender.rpartition("@")[2])
    msg.set_content(item.body, charset="utf-8")
    return msg


def connect(target: SmtpTarget, timeout: float) -> smtplib.SMTP:
    if target.tls:
        conn: smtplib.SMTP = smtplib.SMTP_SSL(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = smtplib.SMTP(target.host, target.port, timeout=timeout)
    try:
        if target.starttls:
            conn.starttls(context=ssl.create_default_context())
        if target.username is not None:
            conn.login(target.username, target.password or "")
    except BaseException:
        conn.close()
        raise
    return conn


def error_of(exc: BaseException) -> str:
    """What is kept of a failed attempt: the SMTP reply code or the class of error."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _ in exc.recipients.values()})
        return f"SMTP {'/'.join(codes)} (recipient refused)"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP {exc.smtp_code} ({type(exc).__name__})"
    return type(exc).__name__


def send(items: list[Outgoing], target: SmtpTarget, timeout: float, at: datetime) -> list[Outcome]:
    """Send each email over one conversation (opened again after a broken one)."""
    outcomes: list[Outcome] = []
    conn: smtplib.SMTP | None = None
    try:
        for item in items:
            try:
                if conn is None:
                    conn = connect(target, timeout)
                conn.send_message(message(item, target.sender, at))
            except (smtplib.SMTPException, OSError) as exc:
                error = error_of(exc)
                log.info("email %s not sent: %s", item.email_id, error)
                outcomes.append(Outcome(item.email_id, error))
                if not isinstance(exc, REPLIES):  # no reply: the conversation is broken
                    _close(conn)
                    conn = None
            else:
                outcomes.append(Outcome(item.email_id, None))
    finally:
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                _close(conn)
    return outcomes


def _close(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        conn.close()


def record(db: Database, config: MailConfig, outcomes: list[Outcome], at: datetime) -> None:
    with db.transaction() as session:
        for outcome in outcomes:
            email = session.get(Email, outcome.email_id)
            if email is None or email.status != "pending":
                continue
            email.attempts += 1
            if outcome.error is None:
                email.status, email.sent_at, email.next_attempt_at = "sent", at, None
                email.last_error = None
            else:
                email.last_error = outcome.error[:500]
                if email.attempts >= config.max_attempts:
                    email.status, email.next_attempt_at = "failed", None
                else:
                    email.next_attempt_at = at + retry_delay(email.attempts, config.backoff)
