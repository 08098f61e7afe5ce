"""Database errors reach logs (consumer.attempt_failed, http.unhandled_error) and DLQ headers (dlq-error) as text:
that text must never carry a statement's parameters, which hold registrations and their contacts."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from services.catalog.storage.reader import create_read_engine
from shared.db import create_engine

EMAIL = "erika.mustermann@example.org"


def test_a_failed_statement_does_not_show_its_parameters(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'private.db'}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE contacts (email TEXT PRIMARY KEY)"))
        connection.execute(sa.text("INSERT INTO contacts VALUES (:email)"), {"email": EMAIL})
    with pytest.raises(sa.exc.IntegrityError) as failure, engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO contacts VALUES (:email)"), {"email": EMAIL})
    assert EMAIL not in str(failure.value)
    assert "parameters hidden" in str(failure.value)


def test_the_catalog_read_engine_hides_them_too(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    reader = create_read_engine(url, create_engine(url))
    with pytest.raises(sa.exc.OperationalError) as failure, reader.connect() as connection:
        connection.execute(sa.text("SELECT * FROM nowhere WHERE email = :email"), {"email": EMAIL})
    assert EMAIL not in str(failure.value)


def test_postgresql_engines_hide_them():
    assert create_engine("postgresql://u:p@127.0.0.1:1/db").hide_parameters
