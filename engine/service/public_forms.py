"""Public forms: what the hosted page at /f/{tenant}/{form} asks of the engine.

A visitor's submission goes: the form must be public → the visitor's network address and
the form are under their rate limits (counted in the submissions log over the form's window)
→ the honeypot is empty → `RecordService.submit_form` (conditional logic, duplicate window,
the record and its rules, the log row: one transaction). A refusal after the rate limits is
logged too (`invalid`, `spam`) so it counts against the address; a rate-limited request
stores nothing, which bounds what one address can write.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.clock import Clock
from engine.config.model import Bundle, EntityDef, FormDef
from engine.service import submissions
from engine.service.configs import TenantConfigs
from engine.service.errors import DuplicateValue, Invalid, NotFound, ServiceError
from engine.service.form_logic import FormState
from engine.service.records import DUPLICATE_OF, RecordService
from engine.storage.store import Store, Tx

HONEYPOT = "website-url"  # bots fill in every input; no field can take this name (a "-")


class RateLimited(ServiceError):
    """Too many submissions from one address, or to one form, within the window."""

    title = "Too many submissions"

    def __init__(self, detail: str, retry_after: int, scope: str) -> None:
        super().__init__(detail)
        self.retry_after = retry_after  # seconds until one more is allowed
        self.scope = scope  # "address" | "form"

    def extra(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after, "scope": self.scope}


class Spam(ServiceError):
    """The honeypot was filled in: the submission looks automated."""

    title = "Submission refused"


@dataclass(frozen=True)
class PublicForm:
    """A public form with what its page shows: the bundle's labels and the entity's fields."""

    bundle: Bundle
    form: FormDef
    entity: EntityDef


@dataclass(frozen=True)
class Submitted:
    record_id: str | None  # None: a unique value is already on file (which record is not said)
    duplicate: bool  # an earlier submission (or record) has these details


class PublicForms:
    def __init__(
        self,
        store: Store,
        configs: TenantConfigs,
        clock: Clock,
        records: RecordService,
        secret: str,
    ) -> None:
        self.store = store
        self.configs = configs
        self.clock = clock
        self.records = records
        self.secret = secret.encode()

    def get(self, tenant: str, form: str) -> PublicForm:
        """The form if it is public under the tenant's active config; else NotFound (an
        unknown tenant, an unknown form and a private one look the same to a visitor)."""
        try:
            bundle = self.configs.active(tenant).bundle
        except NotFound:
            raise NotFound(f"no public form {form!r}") from None
        found = bundle.forms.get(form)
        if found is None or not found.public:
            raise NotFound(f"no public form {form!r}")
        return PublicForm(bundle, found, bundle.entities[found.entity])

    def state(
        self, tenant: str, form: str, data: Any, params: Mapping[str, str] | None = None
    ) -> FormState:
        """Which fields the page shows and requires for the values entered so far."""
        self.get(tenant, form)
        cfg = self.configs.active(tenant)
        entity, compiled = cfg.form(form)
        usable = self.usable_params(tenant, form, params)
        return compiled.state(cfg.validator(entity), data, usable, self.clock.now())

    def usable_params(
        self, tenant: str, form: str, params: Mapping[str, str] | None
    ) -> dict[str, str]:
        """The page URL's parameters without values its hidden fields refuse: a visitor who
        scanned a mistyped link cannot fix a field they do not see, so such a value is
        dropped (the field takes its default) instead of refusing the submission."""
        cfg = self.configs.active(tenant)
        entity, compiled = cfg.form(form)
        validator = cfg.validator(entity)
        kept = dict(params or {})
        for param, name in (compiled.url_params or {}).items():
            if param in kept and validator.clean({name: kept[param]})[1]:
                del kept[param]
        return kept

    def client(self, address: str | None) -> str | None:
        """A keyed hash of the visitor's address: counted, never stored as such."""
        if not address:
            return None
        return hmac.new(self.secret, address.encode(), hashlib.sha256).hexdigest()[:32]

    def submit(
        self,
        tenant: str,
        form: str,
        data: Any,
        params: Mapping[str, str] | None = None,
        *,
        address: str | None = None,
        honeypot: str | None = None,
    ) -> Submitted:
        found = self.get(tenant, form).form
        client = self.client(address)
        self._check_limits(tenant, found, client)
        if honeypot:
            self._log(tenant, form, submissions.SPAM, client)
            raise Spam("the submission looks automated")
        params = self.usable_params(tenant, form, params)
        try:
            written = self.records.submit_form(tenant, form, data, params=params, client=client)
        except DuplicateValue:
            # A unique value (a phone) already on file: the visitor hears "received", not
            # that the CRM knows this number. The existing record is left as it is.
            self._log(tenant, form, submissions.DUPLICATE, client)
            return Submitted(None, True)
        except Invalid as exc:
            self._log(tenant, form, submissions.INVALID, client)
            others = [e for e in exc.errors if e.code != "unique"]
            raise Invalid(exc.detail, others) from None
        result = written.result
        return Submitted(str(result["id"]), DUPLICATE_OF in result)

    def _check_limits(self, tenant: str, form: FormDef, client: str | None) -> None:
        limits, now = form.limits, self.clock.now()
        window = timedelta(minutes=limits.window_minutes)
        with self.store.read() as tx:
            if client is not None:
                _refuse_over(tx, tenant, form.name, now, window, limits.per_ip, client)
            _refuse_over(tx, tenant, form.name, now, window, limits.per_form, None)

    def _log(self, tenant: str, form: str, outcome: str, client: str | None) -> None:
        with self.store.write() as tx:
            submissions.log(tx, tenant, form, self.clock.now(), outcome, client=client)


def _refuse_over(
    tx: Tx,
    tenant: str,
    form: str,
    now: datetime,
    window: timedelta,
    limit: int,
    client: str | None,
) -> None:
    """RateLimited when the address (or, without one, the whole form) is at its limit."""
    since = now - window
    if submissions.count_since(tx, tenant, since, form=form, client=client) < limit:
        return
    oldest = submissions.oldest_since(tx, tenant, since, form=form, client=client)
    minutes = int(window.total_seconds() // 60)
    who = "from one address" if client is not None else "to this form"
    raise RateLimited(
        f"at most {limit} submissions per {minutes} minutes {who}",
        _wait(oldest, window, now),
        "address" if client is not None else "form",
    )


def _wait(oldest: datetime | None, window: timedelta, now: datetime) -> int:
    """Seconds until the oldest counted submission leaves the window (at least one)."""
    if oldest is None:
        return 1
    return max(1, math.ceil((oldest + window - now).total_seconds()))
