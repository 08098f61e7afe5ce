"""The unit of work publishes what the aggregates it saw recorded: at commit, in order, and never on rollback."""
from __future__ import annotations

import dataclasses

from shared.events import CloudEvent
from shared.uow import FakeUnitOfWorkBase, SeenAggregates, collect_new_events


@dataclasses.dataclass(eq=False)
class Counter:
    name: str
    events: list[str] = dataclasses.field(default_factory=list)

    def bump(self) -> None:
        self.events.append(f"{self.name}.bumped")


def counter_events(counter: Counter) -> list[tuple[str, CloudEvent]]:
    recorded, counter.events = counter.events, []
    return [("counters.v1", CloudEvent(type=event_type, source="/test", subject=counter.name, data={}))
            for event_type in recorded]


def types(pairs: list[tuple[str, CloudEvent]]) -> list[str]:
    return [event.type for _, event in pairs]


def test_commit_publishes_what_a_stored_aggregate_recorded_without_the_handler_asking():
    uow = FakeUnitOfWorkBase(counter_events)
    counter = Counter("a")
    with uow:
        counter.bump()
        uow.seen.add(counter)  # what a repository's add/save does
        uow.commit()
    assert types(uow.published) == ["a.bumped"]
    assert counter.events == []


def test_rollback_publishes_nothing():
    uow = FakeUnitOfWorkBase(counter_events)
    with uow:
        counter = Counter("a")
        counter.bump()
        uow.seen.add(counter)
    with uow:
        uow.commit()
    assert uow.published == []


def test_events_come_out_in_the_order_their_aggregates_were_last_stored():
    seen = SeenAggregates()
    first, second = Counter("first"), Counter("second")
    seen.add(first)  # loaded first ...
    seen.add(second)
    second.bump()
    seen.add(second)
    first.bump()
    seen.add(first)  # ... but changed and stored last
    assert types(collect_new_events(seen, counter_events)) == ["second.bumped", "first.bumped"]
    assert list(seen) == []


def test_an_aggregate_registered_twice_publishes_once():
    seen = SeenAggregates()
    counter = Counter("once")
    counter.bump()
    seen.add(counter)
    seen.add(counter)
    assert types(collect_new_events(seen, counter_events)) == ["once.bumped"]
