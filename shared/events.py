"""The CloudEvents 1.0 envelope (structured JSON mode) that every Dealgate event travels in."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate

from shared.clock import iso, utcnow

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json"
CORRELATION_KAFKA_HEADER = "correlationid"


@dataclasses.dataclass(frozen=True)
class CloudEvent:
    type: str
    source: str
    subject: str
    data: dict[str, Any]
    id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    time: str = dataclasses.field(default_factory=lambda: iso(utcnow()))
    correlationid: str | None = None
    specversion: str = SPEC_VERSION
    datacontenttype: str = "application/json"

    def to_dict(self) -> dict[str, Any]:
        document = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time,
            "datacontenttype": self.datacontenttype,
            "data": self.data,
        }
        if self.correlationid:
            document["correlationid"] = self.correlationid
        return document

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":"), default=str).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> CloudEvent:
        """Parse and validate; raises InvalidEvent for anything that is not a CloudEvents 1.0 document."""
        try:
            document = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidEvent(f"not JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise InvalidEvent("a CloudEvent must be a JSON object")
        try:
            loaded = _ENVELOPE.load(document)
        except ValidationError as exc:
            raise InvalidEvent(f"not a CloudEvent: {exc.messages}") from exc
        return cls(
            type=loaded["type"], source=loaded["source"], subject=loaded["subject"], data=loaded["data"],
            id=loaded["id"], time=document["time"], correlationid=loaded.get("correlationid"),
            specversion=loaded["specversion"], datacontenttype=loaded["datacontenttype"],
        )


class InvalidEvent(ValueError):
    pass


class CloudEventSchema(Schema):
    """The contract every event on every topic satisfies (tests/contract checks the producers against it)."""

    class Meta:
        unknown = INCLUDE  # CloudEvents allows extension attributes

    specversion = fields.String(required=True, validate=validate.Equal(SPEC_VERSION))
    id = fields.UUID(required=True)
    source = fields.String(required=True, validate=validate.Length(min=1))
    type = fields.String(required=True, validate=validate.Regexp(r"^[a-z_]+\.[a-z_]+$"))
    subject = fields.String(required=True, validate=validate.Length(min=1))
    time = fields.AwareDateTime(required=True, default_timezone=dt.UTC)
    datacontenttype = fields.String(required=True, validate=validate.Equal("application/json"))
    data = fields.Dict(required=True)
    correlationid = fields.String()

    def load(self, *args: Any, **kwargs: Any) -> Any:  # keep the id as the text that travelled
        result = super().load(*args, **kwargs)
        result["id"] = str(result["id"])
        return result


# One instance for every parse: building a marshmallow Schema deep-copies its declared fields, which cost twice
# the load itself (every event each consumer reads passes here). load() keeps no state between calls.
_ENVELOPE = CloudEventSchema()
