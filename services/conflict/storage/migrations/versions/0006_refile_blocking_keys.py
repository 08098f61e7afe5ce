"""File every active registration again under the blocking keys the current matcher gives it.

The name normaliser learned regional and departmental tags, designators and one-slip corrections, so keys
stored before differ from what a lookup now asks for. A consumer's in-memory index is rebuilt at start and
already has the new keys; this brings the database's key table (what other consumer processes look up) in step.

Revision ID: 0006
Revises: 0005
"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ACTIVE = ("submitted", "approved", "in_conflict")
_PAGE = 2000
_KEY_LENGTH = 255


def upgrade() -> None:
    from services.conflict.domain.model import TrackedRegistration
    from services.conflict.overlaps import OverlapDetector

    connection = op.get_bind()
    registrations = sa.table("registrations", sa.column("deal_id", sa.String), sa.column("status", sa.String),
                             sa.column("recorded_at", sa.DateTime(timezone=True)), sa.column("document", sa.JSON))
    keys = sa.table("registration_keys", sa.column("key", sa.String), sa.column("deal_id", sa.String),
                    sa.column("recorded_at", sa.DateTime(timezone=True)))
    detector, now, last = OverlapDetector(), dt.datetime.now(dt.UTC), ""
    while True:
        page = connection.execute(
            sa.select(registrations.c.deal_id, registrations.c.recorded_at, registrations.c.document)
            .where(registrations.c.status.in_(_ACTIVE), registrations.c.deal_id > last)
            .order_by(registrations.c.deal_id).limit(_PAGE)).all()
        if not page:
            return
        ids = [row.deal_id for row in page]
        connection.execute(keys.delete().where(keys.c.deal_id.in_(ids)))
        rows = [{"key": key, "deal_id": row.deal_id, "recorded_at": row.recorded_at or now}
                for row in page
                for key in dict.fromkeys(detector.blocking_keys(TrackedRegistration(**row.document)))
                if len(key) <= _KEY_LENGTH]
        if rows:
            connection.execute(keys.insert(), rows)
        last = ids[-1]


def downgrade() -> None:
    pass  # keys are derived data: the previous revision's code files new registrations its own way
