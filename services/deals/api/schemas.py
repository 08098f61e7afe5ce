"""Request and response schemas of the deals resource."""
from __future__ import annotations

import datetime as dt

from marshmallow import Schema, ValidationError, fields, validate, validates

from services.deals.domain.model import ACTIVE_STATUSES, FINAL_STATUSES


class CustomerSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    domain = fields.String(validate=validate.Length(max=253))
    country = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2}$", error="Use ISO 3166-1 alpha-2."))
    tax_id = fields.String(validate=validate.Length(max=40))
    duns = fields.String(validate=validate.Regexp(r"^\d{9}$", error="A DUNS number has 9 digits."))


class ContactSchema(Schema):
    name = fields.String(validate=validate.Length(max=200))
    email = fields.Email(validate=validate.Length(max=254))


class MoneySchema(Schema):
    amount = fields.Decimal(required=True, as_string=True, places=None,
                            validate=validate.Range(min=0, min_inclusive=False))
    currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{3}$"))


class DealSubmitSchema(Schema):
    customer = fields.Nested(CustomerSchema, required=True)
    contact = fields.Nested(ContactSchema, allow_none=True)
    products = fields.List(fields.String(validate=validate.Length(min=1, max=64)), required=True,
                           validate=validate.Length(min=1, max=20))
    amount = fields.Nested(MoneySchema, required=True)
    expected_close = fields.Date(required=True)
    opportunity_name = fields.String(validate=validate.Length(max=200))
    notes = fields.String(validate=validate.Length(max=2000))

    @validates("expected_close")
    def not_in_the_past(self, value: dt.date, **_):
        if value < dt.datetime.now(dt.timezone.utc).date():
            raise ValidationError("The expected close date cannot be in the past.")


class StatusChangeSchema(Schema):
    status = fields.String()
    reason = fields.String()
    at = fields.String()


class DealSchema(Schema):
    id = fields.String()
    status = fields.String()
    reason = fields.String()
    partner_id = fields.String()
    channel = fields.String()
    customer = fields.Dict()
    contact = fields.Dict(allow_none=True)
    products = fields.List(fields.String())
    amount = fields.Dict()
    expected_close = fields.String()
    opportunity_name = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    submitted_at = fields.String()
    protection_until = fields.String(allow_none=True)
    case_ref = fields.String(allow_none=True)
    extensions_used = fields.Integer()
    version = fields.Integer()
    history = fields.List(fields.Nested(StatusChangeSchema))


class DealQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(ACTIVE_STATUSES + FINAL_STATUSES))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=validate.Length(max=64))


class DealPageSchema(Schema):
    items = fields.List(fields.Nested(DealSchema))
    next_cursor = fields.String(allow_none=True)


class CloseSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(("won", "lost")))
