"""Request and response schemas of the deals resource: every bound and format a registration must meet."""
from __future__ import annotations

import datetime as dt
import decimal
import re

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates, validates_schema

from services.deals.domain.commands import SubmitDeal
from services.deals.domain.model import EDITABLE_FIELDS, STATUSES
from shared.auth import CHANNELS
from shared.identity import InvalidDomain, customer_keys, web_domain
from shared.reference import is_country, is_price_currency

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAK = re.compile(r"[\r\n\t]")
_TAX_ID = re.compile(r"^[A-Za-z0-9 ./-]+$")
_MAX_INTEGER_DIGITS = 15
_MAX_DECIMAL_PLACES = 4
_LATEST_CLOSE = dt.timedelta(days=5 * 366)


class Text(fields.String):
    """A string as the person typed it, but never blank, over-long, with control characters or broken Unicode.

    (Databases refuse NUL and lone surrogates, so letting them through would turn bad input into a 500.)
    """

    def __init__(self, max_length: int, *, multiline: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.multiline = multiline
        self.metadata.setdefault("maxLength", max_length)  # type: ignore[attr-defined]  # a dict, typed Mapping

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text.strip():
            raise ValidationError("Cannot be blank.")
        if len(text) > self.max_length:
            raise ValidationError(f"At most {self.max_length} characters.")
        if _CONTROL.search(text) or (not self.multiline and _LINE_BREAK.search(text)):
            raise ValidationError("Contains control characters.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValidationError("Is not valid Unicode text.") from exc
        return text


class DecimalString(fields.Field):
    """A positive money amount as a decimal string ("25000.00"); plain JSON numbers are accepted too."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValidationError('Give the amount as a decimal string, such as "25000.00".')
        try:
            amount = decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation as exc:
            raise ValidationError('Give the amount as a decimal string, such as "25000.00".') from exc
        if not amount.is_finite() or amount <= 0:
            raise ValidationError("The amount must be a positive number.")
        sign, digits, exponent = amount.as_tuple()
        if not isinstance(exponent, int):  # a letter only for NaN and infinities, refused above
            raise ValidationError("The amount must be a positive number.")
        if -exponent > _MAX_DECIMAL_PLACES or len(digits) + exponent > _MAX_INTEGER_DIGITS:
            raise ValidationError(f"At most {_MAX_INTEGER_DIGITS} digits before and {_MAX_DECIMAL_PLACES} after "
                                  "the decimal point.")
        return format(amount, "f")


class CustomerSchema(Schema):
    name = Text(200, required=True)
    domain = Text(2048, allow_none=True, metadata={"description": "Any form people paste: https://www.acme.com/, "
                                                                  "ACME.COM. Kept as given, plus domain_normalised."})
    country = fields.String(required=True, metadata={"description": "ISO 3166-1 alpha-2, e.g. GB"})
    tax_id = Text(40, allow_none=True)
    duns = fields.String(allow_none=True, metadata={"description": "9 digits; dashes and spaces are ignored"})

    @validates("domain")
    def domain_is_a_web_domain(self, value, **_):
        if value is not None:
            try:
                web_domain(value)
            except InvalidDomain as exc:
                raise ValidationError(str(exc)) from exc

    @validates("country")
    def country_is_iso(self, value, **_):
        if not is_country(value.strip().upper()):
            raise ValidationError("Use an ISO 3166-1 alpha-2 country code, such as GB or US.")

    @validates("tax_id")
    def tax_id_is_plain(self, value, **_):
        if value is not None and not _TAX_ID.match(value):
            raise ValidationError("A tax id has letters, digits, spaces, dots, dashes and slashes only.")

    @validates("duns")
    def duns_has_nine_digits(self, value, **_):
        if value is not None and not re.fullmatch(r"\d{9}", re.sub(r"[\s-]", "", value)):
            raise ValidationError("A DUNS number has 9 digits.")

    @post_load
    def normalise(self, data, **_):
        data = {name: value for name, value in data.items() if value is not None}
        data["country"] = data["country"].strip().upper()
        if "domain" in data:
            data["domain"] = data["domain"].strip()
            data["domain_normalised"] = web_domain(data["domain"])
        if "duns" in data:
            data["duns"] = re.sub(r"[\s-]", "", data["duns"])
        return data


class ContactSchema(Schema):
    name = Text(200, allow_none=True)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))

    @post_load
    def drop_empty(self, data, **_):
        return {name: value for name, value in data.items() if value is not None}


class MoneySchema(Schema):
    amount = DecimalString(required=True, metadata={"type": "string", "example": "25000.00"})
    currency = fields.String(required=True, metadata={"description": "ISO 4217, e.g. USD"})

    @validates("currency")
    def currency_is_iso(self, value, **_):
        if not is_price_currency(value.strip().upper()):
            raise ValidationError("Use an ISO 4217 currency code, such as USD or EUR.")

    @post_load
    def normalise(self, data, **_):
        return {**data, "currency": data["currency"].strip().upper()}


def _products(**kwargs):
    return fields.List(Text(64), validate=validate.Length(min=1, max=20, error="Give 1 to 20 products."), **kwargs)


def _no_repeats(products: list[str]) -> None:
    if len(set(products)) != len(products):
        raise ValidationError("Each product may be listed once.")


def _expected_close_is_plausible(value: dt.date) -> None:
    today = dt.datetime.now(dt.UTC).date()
    if value < today:
        raise ValidationError("The expected close date cannot be in the past.")
    if value > today + _LATEST_CLOSE:
        raise ValidationError("The expected close date must be within five years.")


class _DealFieldsSchema(Schema):
    customer = fields.Nested(CustomerSchema, required=True)
    contact = fields.Nested(ContactSchema, allow_none=True)
    products = _products(required=True)
    amount = fields.Nested(MoneySchema, required=True)
    expected_close = fields.Date(required=True)
    opportunity_name = Text(200, allow_none=True)
    notes = Text(2000, multiline=True, allow_none=True)

    @validates("products")
    def products_once_each(self, value, **_):
        _no_repeats(value)

    @validates("expected_close")
    def close_date(self, value, **_):
        _expected_close_is_plausible(value)


class DealSubmitSchema(_DealFieldsSchema):
    """POST /v1/deals: loads into a SubmitDeal command, with the customer's keys computed once."""

    @post_load
    def make_command(self, data, **_) -> SubmitDeal:
        return SubmitDeal(customer=data["customer"], products=data["products"], amount=data["amount"],
                          expected_close=data["expected_close"].isoformat(), contact=data.get("contact"),
                          opportunity_name=data.get("opportunity_name"), notes=data.get("notes"),
                          customer_keys=customer_keys(data["customer"]))


class DealAmendSchema(_DealFieldsSchema):
    """PATCH: any editable field; a new customer is given whole. `null` clears an optional field."""
    customer = fields.Nested(CustomerSchema)
    products = _products()
    amount = fields.Nested(MoneySchema)
    expected_close = fields.Date()

    @validates_schema
    def something_to_change(self, data, **_):
        if not data:
            raise ValidationError(f"Give at least one of: {', '.join(EDITABLE_FIELDS)}.")

    @post_load
    def dates_as_text(self, data, **_):
        """Dates travel in events and documents as ISO text."""
        if data.get("expected_close") is not None:
            data["expected_close"] = data["expected_close"].isoformat()
        return data


class AvailabilityQuerySchema(Schema):
    customer = fields.Nested(CustomerSchema, required=True)
    products = _products(required=True)

    @validates("products")
    def products_once_each(self, value, **_):
        _no_repeats(value)


class AvailabilitySchema(Schema):
    result = fields.String(metadata={"enum": ["available", "claimed", "review"]})
    reason = fields.String()


class StatusChangeSchema(Schema):
    status = fields.String()
    reason = fields.String()
    at = fields.String()
    by = fields.String(metadata={"description": "who erased personal data (an erasure entry only)"})
    erased = fields.List(fields.String(), metadata={"description": "which fields were erased, e.g. contact.email"})


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
    source = fields.String(validate=validate.OneOf(("partner", "vendor_lead")), metadata={
        "description": "partner: registered by the partner; vendor_lead: a vendor lead it accepted (lead_id)"})
    lead_id = fields.String(allow_none=True)
    history = fields.List(fields.Nested(StatusChangeSchema))


class DealQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    partner_id = Text(100, metadata={"description": "desk and admin only; partners always see their own"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=validate.Length(max=200))


class DealPageSchema(Schema):
    items = fields.List(fields.Nested(DealSchema))
    next_cursor = fields.String(allow_none=True)


class CloseSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(("won", "lost")))
