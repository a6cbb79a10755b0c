"""The one schema every tenant shares (SQLAlchemy Core). Alembic migrations mirror it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = sa.JSON().with_variant(JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Name = sa.String(63)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out — also on SQLite, which stores naive text."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return (
            value.astimezone(UTC)
            if dialect.name != "sqlite"
            else value.astimezone(UTC).replace(tzinfo=None)
        )

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", Name, primary_key=True),
    sa.Column("name", Json, nullable=False),
    sa.Column("active_version", sa.Integer, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

config_versions = sa.Table(
    "config_versions",
    metadata,
    sa.Column("tenant_id", Name, sa.ForeignKey("tenants.id"), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("files", Json, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=True),
)

records = sa.Table(
    "records",
    metadata,
    sa.Column("tenant_id", Name, primary_key=True),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("entity", Name, nullable=False),
    sa.Column("data", Json, nullable=False),
    sa.Column("owner", Name, nullable=True),
    sa.Column("pool", Name, nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("config_version", sa.Integer, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("deleted_at", UTCDateTime, nullable=True),
    sa.Column("created_by", sa.String(200), nullable=True),
    sa.Column("pool_entered_at", UTCDateTime, nullable=True),
    # Ownership clocks: since when the owner has it, until when it is theirs without results,
    # and when to remind them (cleared once reminded).
    sa.Column("owner_since", UTCDateTime, nullable=True),
    sa.Column("protected_until", UTCDateTime, nullable=True),
    sa.Column("remind_at", UTCDateTime, nullable=True),
    sa.Column("queue", Name, nullable=True),  # where an unassigned record waits for a manager
    sa.Index("ix_records_list", "tenant_id", "entity", "created_at", "id"),
    sa.Index("ix_records_owner", "tenant_id", "entity", "owner", "deleted_at", "pool"),
    sa.Index("ix_records_pool", "tenant_id", "entity", "pool", "deleted_at"),
    # visibility filters (owner in …, or in the public pool) counted from the index alone
    sa.Index("ix_records_pool_owner", "tenant_id", "entity", "pool", "deleted_at", "owner"),
    sa.Index("ix_records_protected", "tenant_id", "entity", "protected_until"),
    sa.Index("ix_records_remind", "tenant_id", "entity", "remind_at"),
    sa.Index("ix_records_queue", "tenant_id", "entity", "queue", "deleted_at"),
)

# One row per (tenant, entity, unique field, value): the primary key makes uniqueness race-free.
record_unique = sa.Table(
    "record_unique",
    metadata,
    sa.Column("tenant_id", Name, primary_key=True),
    sa.Column("entity", Name, primary_key=True),
    sa.Column("field", Name, primary_key=True),
    sa.Column("value", sa.String(512), primary_key=True),
    sa.Column("record_id", sa.String(36), nullable=False),
    sa.Index("ix_record_unique_record", "tenant_id", "record_id"),  # a record's values
)

record_history = sa.Table(
    "record_history",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", Name, nullable=False),
    sa.Column("entity", Name, nullable=False),
    sa.Column("record_id", sa.String(36), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("actor", sa.String(200), nullable=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("changes", Json, nullable=False),
    sa.Index("ix_history_record", "tenant_id", "record_id", "id"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("tenant_id", Name, sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
    sa.Column("user_id", Name, nullable=True),  # a key acting for a user of the bundle
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("tenant_id", Name, primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("result", Json, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# Every automatic change (a pool move, later scores, assignments, campaign firings): which rule,
# under which config version, what changed, and the evaluated condition — the answer to "why?".
decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", Name, nullable=False),
    sa.Column("entity", Name, nullable=False),
    sa.Column("record_id", sa.String(36), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("rule", sa.String(200), nullable=False),
    sa.Column("config_version", sa.Integer, nullable=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("before", Json, nullable=False),
    sa.Column("after", Json, nullable=False),
    sa.Column("trace", Json, nullable=True),
    sa.Index("ix_decisions_record", "tenant_id", "record_id", "id"),
)

# Per user, kind (e.g. "claim") and day in the tenant's zone: the row a user's claims lock, so
# caps hold under concurrent requests.
user_counters = sa.Table(
    "user_counters",
    metadata,
    sa.Column("tenant_id", Name, primary_key=True),
    sa.Column("user_id", Name, primary_key=True),
    sa.Column("kind", sa.String(40), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)

# Each assignment rule's rotation state (per by_field group), locked while a record is assigned.
assignment_state = sa.Table(
    "assignment_state",
    metadata,
    sa.Column("tenant_id", Name, primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("state", Json, nullable=False),
)

# Users switched off (or on again) through the API, over what the bundle says.
user_status = sa.Table(
    "user_status",
    metadata,
    sa.Column("tenant_id", Name, primary_key=True),
    sa.Column("user_id", Name, primary_key=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("changed_at", UTCDateTime, nullable=False),
    sa.Column("changed_by", sa.String(200), nullable=True),
)

# Work that leaves the database (webhooks, emails) or waits for its time (planned campaign
# firings, campaign steps): written in the transaction that causes it (an outbox), run at least
# once by workers. `key` makes a job once-only: (campaign, record, occurrence, action).
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", Name, nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("payload", Json, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending | done | dead | cancelled
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("run_at", UTCDateTime, nullable=False),  # not before (waits, backoff, quiet hours)
    sa.Column("locked_until", UTCDateTime, nullable=True),  # a worker's lease on it
    sa.Column("locked_by", sa.String(100), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("done_at", UTCDateTime, nullable=True),
    sa.Column("campaign", Name, nullable=True),
    sa.Column("firing_id", BigId, nullable=True),
    sa.Column("record_id", sa.String(36), nullable=True),  # a campaign's planned firing of it
    sa.UniqueConstraint("tenant_id", "key", name="uq_jobs_key"),
    sa.Index("ix_jobs_due", "status", "run_at"),
    sa.Index("ix_jobs_firing", "firing_id"),
    sa.Index("ix_jobs_plans", "tenant_id", "campaign", "record_id"),
)

# Each time a campaign fired for a record: once per (campaign, record, occurrence); the variant
# of its split; whether what it sent arrived; whether its goal was reached in time.
campaign_firings = sa.Table(
    "campaign_firings",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", Name, nullable=False),
    sa.Column("campaign", Name, nullable=False),
    sa.Column("entity", Name, nullable=False),
    sa.Column("record_id", sa.String(36), nullable=False),
    sa.Column("occurrence", sa.String(100), nullable=False),
    sa.Column("variant", sa.String(40), nullable=True),  # None: no split; "holdout": nothing done
    sa.Column("status", sa.String(16), nullable=False),  # sent | delivered | failed | held_out
    sa.Column("fired_at", UTCDateTime, nullable=False),
    sa.Column("day", sa.Date, nullable=False),  # the tenant's day: caps and stats per day
    sa.Column("config_version", sa.Integer, nullable=True),
    sa.Column("goal_until", UTCDateTime, nullable=True),
    sa.Column("converted_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("tenant_id", "campaign", "record_id", "occurrence", name="uq_firings_once"),
    sa.Index("ix_firings_day", "tenant_id", "campaign", "day"),
    sa.Index("ix_firings_record", "tenant_id", "record_id"),
)

# Who is in each segment now: entering and leaving are events, fired once per transition.
segment_members = sa.Table(
    "segment_members",
    metadata,
    sa.Column("tenant_id", Name, primary_key=True),
    sa.Column("segment", Name, primary_key=True),
    sa.Column("record_id", sa.String(36), primary_key=True),
    sa.Column("entity", Name, nullable=False),
    sa.Column("since", UTCDateTime, nullable=False),
)

# In-app notifications a campaign leaves for a user.
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", Name, nullable=False),
    sa.Column("user_id", Name, nullable=False),
    sa.Column("entity", Name, nullable=True),
    sa.Column("record_id", sa.String(36), nullable=True),
    sa.Column("campaign", Name, nullable=True),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("body", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("read_at", UTCDateTime, nullable=True),
    sa.Index("ix_notifications_user", "tenant_id", "user_id", "id"),
)

# Per tenant: small engine state that is not a record (a schedule's last tick, the webhook
# signing secret), by key.
tenant_state = sa.Table(
    "tenant_state",
    metadata,
    sa.Column("tenant_id", Name, primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", Json, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Every activation of a config version: who switched to which, from which (rollback goes back).
config_activations = sa.Table(
    "config_activations",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", Name, nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("previous", sa.Integer, nullable=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("by", sa.String(200), nullable=True),
    sa.Index("ix_config_activations_tenant", "tenant_id", "id"),
)

# Admin UI sign-in: a user of the tenant's bundle and their password's argon2 hash.
user_credentials = sa.Table(
    "user_credentials",
    metadata,
    sa.Column("tenant_id", Name, primary_key=True),
    sa.Column("user_id", Name, primary_key=True),
    sa.Column("password_hash", sa.String(300), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Secrets of the installation itself (the admin UI's session signing key), made on first use.
app_secrets = sa.Table(
    "app_secrets",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("value", sa.String(300), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# Every submission of a form that reached the service (hosted page or API): the basis of the
# rate limits (counted per network address and per form) and the submissions report.
form_submissions = sa.Table(
    "form_submissions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", Name, nullable=False),
    sa.Column("form", Name, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),  # created|duplicate|invalid|spam
    sa.Column("channel", Json, nullable=True),  # the hidden URL fields' values: {field: value}
    sa.Column("client", sa.String(64), nullable=True),  # keyed hash of the network address
    sa.Column("record_id", sa.String(36), nullable=True),
    # the report's range and the form's limit (its count reads the index alone)
    sa.Index("ix_form_submissions_form", "tenant_id", "form", "at", "outcome", "client"),
    sa.Index("ix_form_submissions_client", "tenant_id", "form", "client", "at"),
)

# The last record a form's submitter (by the form's `duplicates.by` values) made: a second
# submission within the window finds it here, under the row's lock, and makes no record.
form_dedupe = sa.Table(
    "form_dedupe",
    metadata,
    sa.Column("tenant_id", Name, primary_key=True),
    sa.Column("form", Name, primary_key=True),
    sa.Column("key", sa.String(64), primary_key=True),  # sha256 of the values
    sa.Column("record_id", sa.String(36), nullable=True),
    sa.Column("at", UTCDateTime, nullable=False),
)

# Admin UI sessions kept on the server: the cookie carries a random token, this row its
# sha256 (a copy of the table signs nobody in). Sign-out, a password change or the user
# being switched off ends them.
admin_sessions = sa.Table(
    "admin_sessions",
    metadata,
    sa.Column("tenant_id", Name, primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),  # sha256 of the cookie's token
    sa.Column("user_id", Name, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("seen_at", UTCDateTime, nullable=False),  # the idle timeout counts from here
    # the last config activation the session was checked against (later ones are checked
    # once: a version that switches the user off ends it)
    sa.Column("activation", BigId, nullable=False),
    sa.Index("ix_admin_sessions_user", "tenant_id", "user_id"),
    sa.Index("ix_admin_sessions_expiry", "tenant_id", "expires_at"),
)

# Failed admin UI sign-ins per user (by id, or a hash of the name typed for an unknown one):
# after a few, each further try waits longer; a success resets the count.
sign_in_failures = sa.Table(
    "sign_in_failures",
    metadata,
    sa.Column("tenant_id", Name, primary_key=True),
    sa.Column("user_key", sa.String(64), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_at", UTCDateTime, nullable=False),
    sa.Index("ix_sign_in_failures_last", "tenant_id", "last_at"),
)

# Each failed admin UI sign-in per client address (keyed hash): the per-address cap's window.
sign_in_address_failures = sa.Table(
    "sign_in_address_failures",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", Name, nullable=False),
    sa.Column("client", sa.String(64), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_sign_in_address_failures_client", "tenant_id", "client", "at"),
    sa.Index("ix_sign_in_address_failures_at", "tenant_id", "at"),
)
