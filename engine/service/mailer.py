"""Email jobs over SMTP (the standard library's smtplib), configured by one URL.

`TIDEPOOL_SMTP_URL=smtp://user:pass@host:587?from=crm@example.com&starttls=1` (`smtps://` for
TLS from the start). Each message's Message-ID comes from its job key, so a message sent
again after a worker crash can be recognised as the same one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, NoReturn
from urllib.parse import parse_qs, unquote, urlsplit

from engine.clock import Clock, SystemClock
from engine.errors import Invalid
from engine.service.jobs import GiveUp, JobRow, Retry

log = logging.getLogger("tidepool.mailer")

ENV = "TIDEPOOL_SMTP_URL"
NOT_CONFIGURED = (
    f"SMTP not configured: set {ENV}, "
    "e.g. smtp://user:pass@host:587?from=crm@example.com&starttls=1"
)
TRUE = {"1", "true", "yes", "on"}
MAX_RECIPIENTS = 100


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    tls: bool = False  # smtps://: TLS from the first byte
    starttls: bool = False
    timeout: float = 30.0


def _flag(query: Mapping[str, list[str]], name: str) -> bool:
    return query.get(name, ["0"])[-1].strip().lower() in TRUE


def parse_smtp_url(url: str) -> SmtpSettings:
    """Settings from an smtp:// or smtps:// URL; Invalid saying what is wrong otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise Invalid(f"{ENV} must start with smtp:// or smtps://, got '{parts.scheme}://'")
    if not parts.hostname:
        raise Invalid(f"{ENV} has no host")
    query = parse_qs(parts.query)
    sender = query.get("from", [""])[-1].strip()
    if "@" not in sender:
        raise Invalid(f"{ENV} needs the sender address as ?from=crm@example.com")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
        timeout = float(query.get("timeout", ["30"])[-1])
    except ValueError as exc:
        raise Invalid(f"{ENV}: {exc}") from None
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        sender=sender,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=parts.scheme == "smtps",
        starttls=_flag(query, "starttls"),
        timeout=timeout,
    )


def configured(env: Mapping[str, str] | None = None) -> bool:
    """Whether an SMTP server is set: notifications are emailed only then."""
    return bool((env if env is not None else os.environ).get(ENV, "").strip())


def message_id(tenant: str, key: str, sender: str) -> str:
    """The same Message-ID for every attempt of one job (unique per tenant and key)."""
    digest = hashlib.sha256(f"{tenant}\0{key}".encode()).hexdigest()[:32]
    return f"<{digest}@{sender.rpartition('@')[2]}>"


def _recipients(payload: Mapping[str, Any]) -> list[str]:
    to = payload.get("to")
    found = [to] if isinstance(to, str) else to
    if (
        not isinstance(found, list)
        or not found
        or len(found) > MAX_RECIPIENTS
        or not all(isinstance(a, str) and "@" in a for a in found)
    ):
        raise GiveUp(f"email 'to' must be an address or a list of 1 to {MAX_RECIPIENTS}: {to!r}")
    return found


def _text(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str):
        raise GiveUp(f"email '{name}' must be text, got {value!r}")
    return value


class Mailer:
    """Sends email jobs; without settings every email job is refused (dead at once)."""

    def __init__(self, settings: SmtpSettings | None, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()

    @classmethod
    def from_env(cls, clock: Clock | None = None, env: Mapping[str, str] | None = None) -> Mailer:
        """Settings read once from TIDEPOOL_SMTP_URL (unset or empty: not configured)."""
        url = (env if env is not None else os.environ).get(ENV, "").strip()
        return cls(parse_smtp_url(url) if url else None, clock)

    def build(self, job: JobRow) -> EmailMessage:
        """The message for a job; GiveUp when its payload cannot make one."""
        settings = self._configured()
        message = EmailMessage()
        try:
            message["From"] = settings.sender
            message["To"] = ", ".join(_recipients(job.payload))
            message["Subject"] = _text(job.payload, "subject")
            message["Date"] = format_datetime(self.clock.now())
            message["Message-ID"] = message_id(job.tenant, job.key, settings.sender)
            message.set_content(_text(job.payload, "body"))
        except ValueError as exc:  # e.g. a line break inside a header
            raise GiveUp(f"email cannot be built: {exc}") from None
        return message

    def send(self, job: JobRow) -> None:
        """Send one email job: Retry on 4xx replies and network trouble, GiveUp on 5xx."""
        message = self.build(job)
        refused = self._transmit(self._configured(), message)
        if refused:  # the others got it: sending again would repeat it to them
            log.warning("email job %s: some recipients refused: %s", job.id, refused)

    def _transmit(
        self, settings: SmtpSettings, message: EmailMessage
    ) -> dict[str, tuple[int, bytes]]:
        try:
            with self._connect(settings) as smtp:
                return smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            _judge_refusals(exc.recipients)
        except smtplib.SMTPResponseException as exc:
            _judge_reply(exc.smtp_code, exc.smtp_error)
        except (smtplib.SMTPException, OSError) as exc:
            where = f"{settings.host}:{settings.port}"
            raise Retry(f"SMTP {where}: {exc or type(exc).__name__}") from None

    def _configured(self) -> SmtpSettings:
        if self.settings is None:
            raise GiveUp(NOT_CONFIGURED)
        return self.settings

    @staticmethod
    def _connect(settings: SmtpSettings) -> smtplib.SMTP:
        """An open (and, as configured, encrypted and logged-in) SMTP session."""
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if settings.tls:
            smtp = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            if settings.starttls:
                smtp.starttls(context=context)
            if settings.username:
                smtp.login(settings.username, settings.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


def _judge_reply(code: int, error: bytes | str) -> NoReturn:
    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
    message = f"SMTP {code}: {text}"
    if 400 <= code < 500:
        raise Retry(message)
    raise GiveUp(message)


def _judge_refusals(refused: Mapping[str, tuple[int, bytes]]) -> NoReturn:
    """Every recipient was refused: retry if any refusal was temporary."""
    detail = "; ".join(
        f"{who}: {code} {text.decode('utf-8', 'replace')}" for who, (code, text) in refused.items()
    )
    if any(400 <= code < 500 for code, _ in refused.values()):
        raise Retry(f"recipients refused for now: {detail}")
    raise GiveUp(f"recipients refused: {detail}")
