"""Tracked registrations keep no contact person: of the contact only the e-mail's registrable domain.

deals.registrations.v1 carried the whole contact (name and e-mail) until now, and conflict stored it with each
registration. Matching needs only the domain, so every stored contact becomes {"email_domain": ...} (None for
free mail), as new events carry it.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_PAGE = 2000


def upgrade() -> None:
    from services.conflict.matching.scoring import contact_for_matching

    connection = op.get_bind()
    registrations = sa.table("registrations", sa.column("deal_id", sa.String), sa.column("document", sa.JSON))
    last = ""
    while True:
        page = connection.execute(
            sa.select(registrations.c.deal_id, registrations.c.document)
            .where(registrations.c.deal_id > last).order_by(registrations.c.deal_id).limit(_PAGE)).all()
        if not page:
            return
        for row in page:
            contact = row.document.get("contact")
            reduced = contact_for_matching(contact)
            if contact != reduced:
                connection.execute(registrations.update().where(registrations.c.deal_id == row.deal_id)
                                   .values(document={**row.document, "contact": reduced}))
        last = page[-1].deal_id


def downgrade() -> None:
    pass  # the names and addresses are gone; the previous revision reads the reduced contact as it is
