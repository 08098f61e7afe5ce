"""HTTP resource for the desk's queues: open and claimed counts, ageing and SLA breaches per queue."""
from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from services.conflict import handlers
from services.conflict.api.schemas import QueueSchema
from shared.auth import require_roles
from shared.http import problems

blp = Blueprint("queues", __name__, url_prefix="/v1/queues", description="Conflict queues")


@blp.route("")
@blp.response(200, QueueSchema(many=True))
@problems(403)
def list_queues():
    """Every queue with its open and claimed cases, the oldest open case's age and its SLA breaches."""
    require_roles("desk", "admin")
    conflict = current_app.extensions["dealgate"]
    return handlers.queue_overview(uow=conflict.uow_factory(), rules=conflict.rules)
