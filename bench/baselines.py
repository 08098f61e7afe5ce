"""Reference apps for benchmarks, run under the same gunicorn settings as the services they are compared with.

gunicorn -c deploy/gunicorn.conf.py "bench.baselines:create_json_app()"
"""
from __future__ import annotations

from flask import Flask, Response

CONSTANT_BODY = b'{"items":[],"next_cursor":null}'


def create_json_app() -> Flask:
    """A bare Flask endpoint answering a constant JSON body: the ceiling any JSON API here can reach."""
    app = Flask("baseline-json")

    @app.get("/json")
    def constant_json():
        return Response(CONSTANT_BODY, mimetype="application/json")

    return app


# --- The insert baseline for bench/deals_submit.py ------------------------------------------------------------

def insert_tables():
    """The baseline's two tables: one row per request, plus its outbox row (what a submission writes, minimally)."""
    import sqlalchemy as sa

    metadata = sa.MetaData()
    sa.Table("baseline_items", metadata,
             sa.Column("id", sa.String(36), primary_key=True),
             sa.Column("document", sa.JSON, nullable=False))
    sa.Table("baseline_outbox", metadata,
             sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
             sa.Column("message_key", sa.String(200), nullable=False),
             sa.Column("payload", sa.Text, nullable=False))
    return metadata


def create_insert_app(database_url: str) -> Flask:
    """A bare Flask + SQLAlchemy endpoint: POST /insert stores the JSON body and one outbox row in one transaction.

    The tables must exist (bench/deals_submit.py creates them with insert_tables() before gunicorn starts).
    """
    import json
    import uuid

    from flask import request

    from shared.db import create_engine  # the same engine settings (pool, driver) the services use

    engine = create_engine(database_url)
    tables = insert_tables().tables
    items, outbox = tables["baseline_items"], tables["baseline_outbox"]
    app = Flask("baseline-insert")

    @app.post("/insert")
    def insert_one():
        document = request.get_json()
        item_id = str(uuid.uuid4())
        with engine.begin() as connection:
            connection.execute(items.insert().values(id=item_id, document=document))
            connection.execute(outbox.insert().values(message_key=item_id, payload=json.dumps(document)))
        return Response(json.dumps({"id": item_id}), status=201, mimetype="application/json")

    return app
