"""Commands the deals API hands to its handlers, built once from a validated request."""
from __future__ import annotations

import dataclasses
from typing import Any

CustomerKeys = dict[str, str | None]  # country, domain, tax_id, duns, name: see shared/identity/customer.py


@dataclasses.dataclass(frozen=True)
class SubmitDeal:
    """A registration as the caller sent it, validated and normalised; dates as ISO text, as events carry them.

    `customer_keys` are the customer's normalised identifiers, computed once by the schema for the product
    check and the stored query columns. `request_fingerprint` identifies the body for the Idempotency-Key.
    """

    customer: dict[str, Any]
    products: list[str]
    amount: dict[str, str]
    expected_close: str
    customer_keys: CustomerKeys
    contact: dict[str, Any] | None = None
    opportunity_name: str | None = None
    notes: str | None = None
    idempotency_key: str | None = None
    request_fingerprint: str = ""

    def registration_fields(self) -> dict[str, Any]:
        return dict(customer=self.customer, products=self.products, amount=self.amount,
                    expected_close=self.expected_close, contact=self.contact,
                    opportunity_name=self.opportunity_name, notes=self.notes)
