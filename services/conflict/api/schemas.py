"""Request and response schemas of cases, queues and channel analytics."""
from __future__ import annotations

import datetime as dt

from marshmallow import Schema, ValidationError, fields, post_load, validate

from services.conflict.analytics import (
    DEFAULT_WINDOW,
    EARLIEST_MOMENT,
    LATEST_MOMENT,
    MAX_WINDOW_YEARS,
    REGIONS,
)
from services.conflict.domain.model import CASE_STATUSES, DECISIONS, utcnow


class CaseSchema(Schema):
    id = fields.String()
    queue = fields.String()
    priority = fields.String()
    status = fields.String()
    sla_due_at = fields.String()
    sla_breached = fields.Boolean()
    opened_at = fields.String()
    registrations = fields.List(fields.Dict())
    evidence = fields.List(fields.Dict())
    recommendation = fields.Dict(allow_none=True)
    resolution = fields.Dict(allow_none=True)
    claimed_by = fields.String(allow_none=True)
    rules_applied = fields.List(fields.Dict())
    rules_version = fields.Integer(allow_none=True)
    history = fields.List(fields.Dict())
    version = fields.Integer()


class CaseQuerySchema(Schema):
    queue = fields.String(validate=validate.Length(max=100))
    status = fields.List(fields.String(validate=validate.OneOf(CASE_STATUSES)), load_default=list,
                         metadata={"description": "repeat for several, e.g. status=open&status=claimed"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=validate.Length(max=200),
                           metadata={"description": "the next_cursor of the previous page (oldest first)"})


class CasePageSchema(Schema):
    items = fields.List(fields.Nested(CaseSchema))
    next_cursor = fields.String(allow_none=True)


class ResolveSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    winner = fields.String(validate=validate.Length(max=64))
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class QueueSchema(Schema):
    name = fields.String()
    open = fields.Integer()
    claimed = fields.Integer()
    oldest_open_age_s = fields.Float(allow_none=True)
    sla_breached = fields.Integer()


# --- channel analytics -------------------------------------------------------------------------------------------


class MomentField(fields.String):
    """An ISO 8601 date-time (UTC when it has no offset) or a date: its first moment, or with `through_day` the
    first moment of the next day, so that `to=2030-01-31` includes the 31st."""

    def __init__(self, *, through_day: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.through_day = through_day

    def _deserialize(self, value, attr, data, **kwargs) -> dt.datetime:  # type: ignore[override]
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            if len(text) == 10:
                moment = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), tzinfo=dt.UTC)
                moment += dt.timedelta(days=1) if self.through_day else dt.timedelta()
            else:
                moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except (ValueError, OverflowError) as exc:
            raise ValidationError("Not a valid ISO 8601 date or date-time.") from exc
        moment = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
        if not EARLIEST_MOMENT <= moment <= LATEST_MOMENT:
            raise ValidationError(f"Must lie between {EARLIEST_MOMENT.year} and {LATEST_MOMENT.year}.")
        return moment


class AnalyticsQuerySchema(Schema):
    start = MomentField(data_key="from", metadata={"description": "Start of the window (default: 90 days before "
                                                                  "`to`); a date means its first moment."})
    end = MomentField(data_key="to", through_day=True,
                      metadata={"description": "End of the window, excluded (default: now); a date includes "
                                               "that whole day."})
    region = fields.String(validate=validate.OneOf(REGIONS), metadata={"description": "Only customers of a region."})

    @post_load
    def window(self, data: dict, **_kwargs) -> dict:
        end = data.get("end") or utcnow()
        start = data.get("start") or end - DEFAULT_WINDOW
        if start >= end:
            raise ValidationError("`from` must come before `to`.", "from")
        if end > _years_after(start, MAX_WINDOW_YEARS):
            raise ValidationError(f"The window may span at most {MAX_WINDOW_YEARS} years.", "to")
        return {**data, "start": start, "end": end}


def _years_after(moment: dt.datetime, years: int) -> dt.datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


class RegistrationFiguresSchema(Schema):
    total = fields.Integer()
    by_channel = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_region = fields.Dict(keys=fields.String(), values=fields.Integer())


class ChannelPairSchema(Schema):
    pair = fields.List(fields.String(), metadata={"description": "Two channels, partner channels first."})
    registrations = fields.Integer(metadata={"description": "Registrations of the pair's channels in the window."})
    cases = fields.Integer(metadata={"description": "Cases where registrations of these channels collide."})
    rate = fields.Float(allow_none=True, metadata={"description": "cases / registrations"})


class ConflictFiguresSchema(Schema):
    cases = fields.Integer()
    by_channel_pair = fields.List(fields.Nested(ChannelPairSchema))


class SpreadSchema(Schema):
    p50 = fields.Float(allow_none=True)
    p90 = fields.Float(allow_none=True)


class TimeToDecisionSchema(SpreadSchema):
    max = fields.Float(allow_none=True)


class DecisionDaySchema(SpreadSchema):
    date = fields.String()
    decisions = fields.Integer()


class DecisionFiguresSchema(Schema):
    time_to_decision_s = fields.Nested(TimeToDecisionSchema, metadata={"description": "The desk's own decisions."})
    by_decision = fields.Dict(keys=fields.String(), values=fields.Integer())
    awards_by_channel = fields.Dict(keys=fields.String(), values=fields.Integer())
    over_time = fields.List(fields.Nested(DecisionDaySchema))


class SlaFiguresSchema(Schema):
    met = fields.Integer()
    breached = fields.Integer()
    pending = fields.Integer()
    breach_rate = fields.Float(allow_none=True)


class SlaQueueSchema(SlaFiguresSchema):
    queue = fields.String()


class SlaSchema(SlaFiguresSchema):
    by_queue = fields.List(fields.Nested(SlaQueueSchema))


class PartnerFiguresSchema(Schema):
    partner_id = fields.String()
    channel = fields.String()
    registrations = fields.Integer()
    conflicts = fields.Integer()
    conflict_rate = fields.Float(allow_none=True)
    awards = fields.Integer()
    award_rate = fields.Float(allow_none=True)


class AnalyticsSchema(Schema):
    start = fields.String(data_key="from", attribute="from")
    end = fields.String(data_key="to", attribute="to")
    region = fields.String(allow_none=True)
    registrations = fields.Nested(RegistrationFiguresSchema)
    conflicts = fields.Nested(ConflictFiguresSchema)
    decisions = fields.Nested(DecisionFiguresSchema)
    sla = fields.Nested(SlaSchema)
    partners = fields.List(fields.Nested(PartnerFiguresSchema))
