import json

import pytest

from shared.events import CloudEvent, CloudEventSchema, InvalidEvent


def test_envelope_round_trips_with_every_required_attribute():
    event = CloudEvent(type="deal.submitted", source="/dealgate/deals", subject="d-1", data={"x": 1},
                       correlationid="c-1")
    document = json.loads(event.to_json())
    assert set(document) == {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data",
                             "correlationid"}
    assert document["specversion"] == "1.0" and document["time"].endswith("Z")
    assert CloudEvent.from_json(event.to_json()) == event
    assert CloudEventSchema().validate(document) == {}


@pytest.mark.parametrize("raw", [b"not json", b"[]", b'{"specversion": "1.0"}',
                                 json.dumps({"specversion": "0.3", "id": "x", "source": "s", "type": "a.b",
                                             "subject": "s", "time": "2026-01-01T00:00:00Z",
                                             "datacontenttype": "application/json", "data": {}}).encode()])
def test_anything_else_is_rejected_as_invalid(raw):
    with pytest.raises(InvalidEvent):
        CloudEvent.from_json(raw)
