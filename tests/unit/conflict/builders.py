"""Deal events as deals publishes them, with unique ids per call, for the conflict unit tests."""
from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from services.conflict.bootstrap import load_rules
from services.conflict.settings import DEFAULT_RULES_FILE
from shared.events import CloudEvent

RULES = load_rules(DEFAULT_RULES_FILE)
MONDAY_10AM = dt.datetime(2030, 1, 7, 10, 0, tzinfo=dt.UTC)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def deal(*, partner_id: str | None = None, channel: str = "reseller", customer: dict | None = None,
         products: list[str] | None = None, amount: str = "25000.00", currency: str = "USD",
         submitted_at: str = "2030-01-07T09:00:00Z", status: str = "submitted", contact: dict | None = None) -> dict:
    return {"id": str(uuid.uuid4()), "status": status, "reason": "Received.",
            "partner_id": partner_id or ("direct" if channel == "direct" else unique("partner")), "channel": channel,
            "customer": customer or {"name": f"Customer {uuid.uuid4().hex[:8]} Ltd", "country": "GB"},
            "contact": contact, "products": products or [unique("listing")],
            "amount": {"amount": amount, "currency": currency}, "expected_close": "2030-03-01",
            "submitted_at": submitted_at, "protection_until": None, "case_ref": None, "history": []}


def submitted(data: dict) -> CloudEvent:
    return CloudEvent(type="deal.submitted", source="/dealgate/deals", subject=data["id"], data=data)


def changed(data: dict, status: str, event_type: str) -> CloudEvent:
    return CloudEvent(type=event_type, source="/dealgate/deals", subject=data["id"], data={**data, "status": status})


def rules_from(tmp_path: Path, text: str):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    return load_rules(path)
