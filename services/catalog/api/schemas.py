"""Request and response schemas of the listings resource: the shape and the field rules a vendor expects."""
from __future__ import annotations

import decimal
import re

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.catalog.domain.model import CHANNELS, STATUSES
from shared.reference import REGIONS, is_price_currency

PRICING_MODELS = ("flat", "per_unit", "subscription")
_DECIMAL = re.compile(r"^\d{1,15}(\.\d{1,6})?$")
_SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
# A partner id ("acme-reseller") or a customer's domain ("example.co.uk").
_AUDIENCE = r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$"


class DecimalString(fields.Field):
    """An amount as a decimal string ("1000.00"). JSON numbers are refused: they would pass through a float."""

    default_error_messages = {
        "type": 'Send the amount as a decimal string, e.g. "1000.00".',
        "format": "Use digits with at most 6 decimal places and no sign or exponent, e.g. \"1000.00\".",
    }

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        if not isinstance(value, str):
            raise self.make_error("type")
        if not _DECIMAL.match(value):
            raise self.make_error("format")
        return str(decimal.Decimal(value))  # canonical text, exact: "0100.50" -> "100.50"

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)


class Text(fields.String):
    """A string with surrounding white space removed, so "   " counts as empty."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


def _currency(code: str) -> None:
    if not is_price_currency(code):
        raise ValidationError("Use an ISO 4217 currency code such as USD, EUR or JPY.")


def _distinct(values: list) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("List each value once.")


class MoneySchema(Schema):
    amount = DecimalString(required=True, metadata={"type": "string", "example": "1000.00"})
    currency = fields.String(required=True, validate=_currency, metadata={"example": "USD"})


class PricingSchema(Schema):
    model = fields.String(required=True, validate=validate.OneOf(PRICING_MODELS))
    price = fields.Nested(MoneySchema, required=True)
    unit = Text(validate=validate.Length(min=1, max=40), metadata={"example": "seat"})
    term_months = fields.Integer(validate=validate.Range(min=1, max=120), metadata={"example": 12})

    @validates_schema
    def check_model_needs(self, data, **kwargs):
        if data.get("model") == "per_unit" and not data.get("unit"):
            raise ValidationError("A per-unit price needs the unit it is charged per.", "unit")
        if data.get("model") == "subscription" and not data.get("term_months"):
            raise ValidationError("A subscription needs its term in months.", "term_months")


class OfferSchema(Schema):
    id = fields.String(validate=validate.Length(max=36),
                       metadata={"description": "Sent back on PATCH to keep an existing offer's id."})
    name = Text(required=True, validate=validate.Length(min=1, max=120))
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)), required=True,
                           validate=[validate.Length(min=1, max=len(CHANNELS)), _distinct])
    regions = fields.List(fields.String(validate=validate.OneOf(REGIONS)), required=True,
                          validate=[validate.Length(min=1, max=len(REGIONS)), _distinct])
    pricing = fields.Nested(PricingSchema, required=True)
    visibility = fields.String(load_default="public", validate=validate.OneOf(("public", "private")))
    private_to = fields.String(allow_none=True, validate=validate.Regexp(
        _AUDIENCE, error="Name a partner id or a customer domain, e.g. acme-reseller or example.com."),
        metadata={"description": "For a private offer: the partner id or customer domain that may see it."})

    @validates_schema
    def check_audience(self, data, **kwargs):
        if data.get("visibility") == "private" and not data.get("private_to"):
            raise ValidationError("A private offer needs private_to: a partner id or a customer domain.",
                                  "private_to")
        if data.get("visibility", "public") == "public" and data.get("private_to"):
            raise ValidationError("Only a private offer has private_to.", "private_to")


class ListingCreateSchema(Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    summary = Text(required=True, validate=validate.Length(min=1, max=2000))
    vendor = Text(required=True, validate=validate.Length(min=1, max=120))
    category = fields.String(required=True, validate=[
        validate.Length(min=1, max=60),
        validate.Regexp(_SLUG, error="Use a lower-case slug such as network-security.")])
    tags = fields.List(Text(validate=validate.Length(min=1, max=40)), load_default=list,
                       validate=validate.Length(max=20))
    offers = fields.List(fields.Nested(OfferSchema), load_default=list, validate=validate.Length(max=50))


class ListingPatchSchema(ListingCreateSchema):
    """Any subset of the create fields; views load it with partial=True."""

    @validates_schema
    def check_not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Send at least one field to change.")


class ListingSchema(ListingCreateSchema):
    id = fields.String()
    status = fields.String(validate=validate.OneOf(STATUSES))
    version = fields.Integer()
    created_at = fields.String(metadata={"format": "date-time"})
    updated_at = fields.String(metadata={"format": "date-time"})


class ListingQuerySchema(Schema):
    q = fields.String(validate=validate.Length(max=200),
                      metadata={"description": "Words to find in title, summary and tags (all must match)."})
    category = fields.String(validate=validate.Length(max=60))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    region = fields.String(validate=validate.OneOf(REGIONS))
    status = fields.String(validate=validate.OneOf(STATUSES),
                           metadata={"description": "Admins only; everyone else sees published listings."})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=validate.Length(max=200),
                           metadata={"description": "next_cursor of the previous page."})


class ListingPageSchema(Schema):
    items = fields.List(fields.Nested(ListingSchema))
    next_cursor = fields.String(allow_none=True)
