"""Public forms: what the hosted page at /f/{tenant}/{form} asks of the engine.

A visitor's submission goes: the form must be public → hidden fields take the page URL's
values only → `RecordService.submit_form`, whose transaction first runs this module's guard
(one submission of the form at a time: the visitor's address and the form under their limits,
counted in the submissions log over the form's window), then the conditional logic, the
duplicate window, the record with its rules and the log row. The honeypot's refusals and
invalid submissions are logged too, so they count against the address (not the form: nobody
can close a form to everyone by failing); a rate-limited request stores nothing, which bounds
what one address can write.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.clock import Clock
from engine.config.model import Bundle, EntityDef, FormDef
from engine.errors import DuplicateValue, Invalid, NotFound, RateLimited, Spam
from engine.fields.validator import EntityValidator
from engine.rules.forms import FormState
from engine.service import submissions
from engine.service.clients import client_key
from engine.service.configs import TenantConfigs
from engine.service.records import DUPLICATE_OF, RecordService
from engine.storage.store import Store, Tx

_SLUG = re.compile("[a-z0-9][a-z0-9_-]{0,62}")  # tenant ids (schemas/common.schema.json)
_NAME = re.compile("[a-z][a-z0-9_]{0,62}")  # form names
HONEYPOT = "website-url"  # bots fill in every input; no field can take this name (a "-")


@dataclass(frozen=True)
class PublicForm:
    """A public form with what its page shows: the bundle's labels and the entity's fields."""

    bundle: Bundle
    form: FormDef
    entity: EntityDef


@dataclass(frozen=True)
class Submitted:
    record_id: str | None  # None: a unique value is already on file (which record is not said)
    duplicate: bool  # the form's duplicate window found an earlier submission


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
        if not (_SLUG.fullmatch(tenant) and _NAME.fullmatch(form)):
            raise NotFound("no such public form")  # nothing looked up for made-up names
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
        validator = cfg.validator(entity)
        usable = _usable(validator, compiled.url_params, params)
        return compiled.state(validator, data, usable, self.clock.now())

    def usable_params(
        self, tenant: str, form: str, params: Mapping[str, str] | None
    ) -> dict[str, str]:
        """The page URL's parameters without values its hidden fields refuse: a visitor who
        scanned a mistyped link cannot fix a field they do not see, so such a value is
        dropped (the field takes its default) instead of refusing the submission."""
        cfg = self.configs.active(tenant)
        entity, compiled = cfg.form(form)
        return _usable(cfg.validator(entity), compiled.url_params, params)

    def client(self, address: str | None) -> str | None:
        """A keyed hash of the client's address (engine/service/clients.py)."""
        return client_key(self.secret, address)

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
        """One visitor's submission (see the module's docstring). Hidden fields take their
        values from the page URL only, so the channel recorded is the link's."""
        found = self.get(tenant, form).form
        client = self.client(address)

        def guard(tx: Tx) -> None:
            self._check_limits(tx, tenant, found, client)

        if honeypot:
            self._log(tenant, form, submissions.SPAM, client, guard)
            raise Spam("the submission looks automated")
        data = _without_hidden(found, data)
        params = self.usable_params(tenant, form, params)
        try:
            written = self.records.submit_form(
                tenant, form, data, params=params, client=client, guard=guard
            )
        except DuplicateValue:
            # A unique value (a phone) already on file: the visitor is thanked as for a new
            # record, never told the CRM knows this number; the record is left as it is.
            self._log(tenant, form, submissions.DUPLICATE, client)
            return Submitted(None, False)
        except Invalid as exc:
            self._log(tenant, form, submissions.INVALID, client)
            others = [e for e in exc.errors if e.code != "unique"]
            raise Invalid(exc.detail, others) from None
        result = written.result
        return Submitted(str(result["id"]), DUPLICATE_OF in result)

    def prune(self, tenant: str, now: datetime | None = None) -> int:
        """Drop duplicate-window rows whose window has passed (run by the sweep)."""
        forms = self.configs.active(tenant).bundle.forms.values()
        windows = {f.name: f.duplicates.within_minutes for f in forms if f.duplicates}
        with self.store.write() as tx:
            return submissions.prune(tx, tenant, now or self.clock.now(), windows)

    def _check_limits(self, tx: Tx, tenant: str, form: FormDef, client: str | None) -> None:
        """In the submission's own transaction, one submission of the form at a time: two
        at once cannot both take the last place under a limit."""
        submissions.serialize(tx, tenant, form.name)
        limits, now = form.limits, self.clock.now()
        window = timedelta(minutes=limits.window_minutes)
        if client is not None:
            _refuse_over(tx, tenant, form.name, now, window, limits.per_ip, client)
        _refuse_over(tx, tenant, form.name, now, window, limits.per_form, None)

    def _log(
        self,
        tenant: str,
        form: str,
        outcome: str,
        client: str | None,
        guard: Callable[[Tx], None] | None = None,
    ) -> None:
        with self.store.write() as tx:
            if guard is not None:
                guard(tx)
            submissions.log(tx, tenant, form, self.clock.now(), outcome, client=client)


def _usable(
    validator: EntityValidator,
    url_params: Mapping[str, str] | None,
    params: Mapping[str, str] | None,
) -> dict[str, str]:
    kept = dict(params or {})
    for param, name in (url_params or {}).items():
        if param in kept and validator.clean({name: kept[param]})[1]:
            del kept[param]
    return kept


def _without_hidden(form: FormDef, data: Any) -> Any:
    if not isinstance(data, Mapping):
        return data  # the create path says "an object expected"
    hidden = {f.name for f in form.fields if f.hidden}
    return {k: v for k, v in data.items() if k not in hidden}


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
    if submissions.count_since(tx, tenant, form, since, client, limit) < limit:
        return
    oldest = submissions.oldest_since(tx, tenant, form, since, client)
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
