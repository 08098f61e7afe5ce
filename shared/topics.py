"""The topics are part of the contract between services: names, partitions and retention."""
from __future__ import annotations

import dataclasses

CATALOG_LISTINGS = "catalog.listings.v1"
DEALS_REGISTRATIONS = "deals.registrations.v1"
CONFLICT_CASES = "conflicts.cases.v1"
# Set up front (issue 18): partner profiles (deals), territories (conflict), vendor leads (deals).
DEALS_PARTNERS = "deals.partners.v1"
DEALS_LEADS = "deals.leads.v1"
CONFLICT_TERRITORIES = "conflicts.territories.v1"


@dataclasses.dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = dataclasses.field(default_factory=dict)


def dlq_name(topic: str) -> str:
    return f"{topic}.dlq"


TOPICS = (
    # Compacted: the latest state of every listing stays, so a new consumer can rebuild its read model.
    TopicSpec(CATALOG_LISTINGS, 3, {"cleanup.policy": "compact", "min.compaction.lag.ms": "60000"}),
    TopicSpec(DEALS_REGISTRATIONS, 6),
    TopicSpec(CONFLICT_CASES, 3),
    # Compacted like the listings: the latest profile of each partner and the latest version of each territory
    # stay, so the other service rebuilds its read model from the topic alone.
    TopicSpec(DEALS_PARTNERS, 1, {"cleanup.policy": "compact", "min.compaction.lag.ms": "60000"}),
    TopicSpec(CONFLICT_TERRITORIES, 1, {"cleanup.policy": "compact", "min.compaction.lag.ms": "60000"}),
    TopicSpec(DEALS_LEADS, 3),
    *(TopicSpec(dlq_name(name), 1) for name in (CATALOG_LISTINGS, DEALS_REGISTRATIONS, CONFLICT_CASES,
                                                DEALS_PARTNERS, CONFLICT_TERRITORIES, DEALS_LEADS)),
)

# The topics each service's relay publishes to (its outbox holds nothing else): checked at the relay's start-up.
PUBLISHED_BY = {"catalog": (CATALOG_LISTINGS,), "deals": (DEALS_REGISTRATIONS, DEALS_PARTNERS, DEALS_LEADS),
                "conflict": (CONFLICT_CASES, CONFLICT_TERRITORIES)}
# The topics each service's consumers read (every run_consumer in services/<name>/workers/; a unit test keeps this
# equal to them): a secured cluster's ACLs let each service read these and nothing else (deploy/kafka.py).
CONSUMED_BY = {"catalog": (), "deals": (CATALOG_LISTINGS, CONFLICT_CASES, CONFLICT_TERRITORIES, DEALS_REGISTRATIONS),
               "conflict": (DEALS_REGISTRATIONS, CATALOG_LISTINGS, DEALS_PARTNERS, DEALS_LEADS)}
