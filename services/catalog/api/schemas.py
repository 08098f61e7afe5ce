"""Request and response schemas of the listings resource."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.catalog.domain.model import CHANNELS, REGIONS, STATUSES


class MoneySchema(Schema):
    amount = fields.Decimal(required=True, as_string=True, places=None, validate=validate.Range(min=0))
    currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{3}$"))


class PricingSchema(Schema):
    model = fields.String(required=True, validate=validate.OneOf(("flat", "per_unit", "subscription")))
    price = fields.Nested(MoneySchema, required=True)
    unit = fields.String(validate=validate.Length(max=40))
    term_months = fields.Integer(validate=validate.Range(min=1, max=120))


class OfferSchema(Schema):
    id = fields.String(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)), required=True,
                           validate=validate.Length(min=1))
    regions = fields.List(fields.String(validate=validate.OneOf(REGIONS)), required=True,
                          validate=validate.Length(min=1))
    pricing = fields.Nested(PricingSchema, required=True)
    visibility = fields.String(load_default="public", validate=validate.OneOf(("public", "private")))
    private_to = fields.String(allow_none=True, validate=validate.Length(max=253))


class ListingCreateSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    summary = fields.String(required=True, validate=validate.Length(max=2000))
    vendor = fields.String(required=True, validate=validate.Length(min=1, max=120))
    category = fields.String(required=True, validate=validate.Length(min=1, max=100))
    tags = fields.List(fields.String(validate=validate.Length(min=1, max=40)), load_default=list,
                       validate=validate.Length(max=20))
    offers = fields.List(fields.Nested(OfferSchema), load_default=list, validate=validate.Length(max=50))


class ListingPatchSchema(ListingCreateSchema):
    class Meta:
        partial = True


class ListingSchema(ListingCreateSchema):
    id = fields.String()
    status = fields.String(validate=validate.OneOf(STATUSES))
    version = fields.Integer()
    created_at = fields.String()
    updated_at = fields.String()


class ListingQuerySchema(Schema):
    q = fields.String(validate=validate.Length(max=200))
    category = fields.String(validate=validate.Length(max=100))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    region = fields.String(validate=validate.OneOf(REGIONS))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=validate.Length(max=200))


class ListingPageSchema(Schema):
    items = fields.List(fields.Nested(ListingSchema))
    next_cursor = fields.String(allow_none=True)
