"""Finding the registrations a new one overlaps: the in-memory MatchIndex proposes, the database decides.

Each consumer process holds its own MatchIndex, rebuilt from the database on start and kept current by the
events it applies. With several consumer processes, each index misses what the others recorded since it was
built, so every lookup also asks the database for registrations filed (by any process) under the same
blocking keys since then. The verdict transaction first locks its lock keys (see `lock_keys`), so of two
registrations that could match, the second one's lookup runs after the first one committed.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Callable

import structlog

from services.conflict.domain.model import (
    ACTIVE_DEAL_STATUSES, INACTIVE_DEAL_STATUSES, TrackedRegistration, utcnow,
)
from services.conflict.matching import CustomerProfile, IndexedRegistration, MatchIndex, compare_customers
from services.conflict.matching.scoring import normalise_country, profile_domains

log = structlog.get_logger(__name__)
# Commits of other processes can land slightly after the rebuild's snapshot; look back this far beyond it.
REBUILD_OVERLAP = dt.timedelta(minutes=2)
INACTIVE_LOOKUP_LIMIT = 50


@dataclasses.dataclass
class Overlap:
    other: TrackedRegistration
    evidence: dict[str, Any]
    band: str

    @property
    def score(self) -> float:
        return self.evidence["score"]


@dataclasses.dataclass
class Findings:
    overlaps: list[Overlap]  # active registrations for the same customer sharing a product, best first
    inactive: list[Overlap]  # withdrawn, expired, lost or rejected ones; filled only when no active overlap


def profile_of(registration: TrackedRegistration) -> CustomerProfile:
    return CustomerProfile.from_registration(registration.customer, registration.contact)


def customer_domains(registrations: list[dict[str, Any]]) -> frozenset[str]:
    """The registrable domains the registrations give for their customer (free mail never counts)."""
    return frozenset(d for r in registrations
                     for d in profile_domains(CustomerProfile.from_registration(r["customer"], r.get("contact"))))


class OverlapDetector:
    def __init__(self, index: MatchIndex | None = None, *, clock: Callable[[], dt.datetime] = utcnow):
        self.index = index or MatchIndex()
        self._clock = clock
        # Registrations recorded before this moment are in the index; None: the index was never built, so the
        # database lookup is not limited in time (correct, only slower).
        self.recorded_since: dt.datetime | None = None

    def rebuild(self, uow_factory) -> int:
        """Load every active registration into a fresh index (consumer start-up)."""
        started = self._clock()
        index = MatchIndex()
        with uow_factory() as uow:
            for registration in uow.registrations.iter_active():
                index.add(_indexed(registration))
        self.index, self.recorded_since = index, started - REBUILD_OVERLAP
        log.info("match_index.rebuilt", registrations=len(index),
                 seconds=round((self._clock() - started).total_seconds(), 3))
        return len(index)

    def lock_keys(self, registration: TrackedRegistration) -> list[str]:
        """Keys that any two registrations able to match share.

        Without a shared identifier a name match needs the same country (a country mismatch outweighs any
        name), and with one the identifier key is shared; typo, acronym and domain-label matches share no
        stored key, which is why the country is the coarse name lock rather than a name token.
        """
        profile = profile_of(registration)
        country = normalise_country(profile.country) or "??"
        return [f"country:{country}"] + self.index.identifier_keys(profile)

    def blocking_keys(self, registration: TrackedRegistration) -> list[str]:
        return self.index.blocking_keys(profile_of(registration))

    def find(self, registration: TrackedRegistration, *, uow) -> Findings:
        profile = profile_of(registration)
        # Only keys selective enough to be worth scoring: a hot name token would make this lookup grow with
        # the table, and the index would not score its registrations anyway.
        keys = self.index.selective_keys(self.index.lookup_keys(profile))
        recent = uow.registrations.ids_by_keys(keys, statuses=ACTIVE_DEAL_STATUSES,
                                               recorded_since=self.recorded_since)
        unseen = [deal_id for deal_id in recent if deal_id not in self.index and deal_id != registration.deal_id]
        for other in uow.registrations.get_many(unseen).values():
            self.index.add(_indexed(other))  # committed by another process: this index should know it too
        matches = self.index.find_matches(_indexed(registration))
        current = uow.registrations.get_many(m.other_deal_id for m in matches)
        overlaps = []
        for match in matches:
            other = current.get(match.other_deal_id)
            if other is None or not other.is_active:
                self.index.remove(match.other_deal_id)  # stale: the database is the arbiter
                continue
            overlaps.append(Overlap(other, _evidence(other.deal_id, registration.deal_id, match.match.to_evidence(),
                                                     match.shared_products), match.match.band))
        inactive = [] if overlaps else self._inactive_overlaps(registration, profile, uow)
        return Findings(overlaps=overlaps, inactive=inactive)

    def remember(self, registration: TrackedRegistration) -> None:
        if registration.is_active:
            self.index.add(_indexed(registration))
        else:
            self.index.remove(registration.deal_id)

    def forget(self, deal_id: str) -> None:
        self.index.remove(deal_id)

    def _inactive_overlaps(self, registration: TrackedRegistration, profile: CustomerProfile, uow) -> list[Overlap]:
        """Ended registrations for the same customer and product: they do not count, but the verdict says so."""
        ids = uow.registrations.ids_by_keys(self.index.selective_keys(self.index.lookup_keys(profile)),
                                            statuses=INACTIVE_DEAL_STATUSES,
                                            limit=INACTIVE_LOOKUP_LIMIT)
        found = []
        for other in uow.registrations.get_many(ids).values():
            shared = sorted(set(other.products) & set(registration.products))
            if not shared:
                continue
            match = compare_customers(profile, profile_of(other))
            if match.band != "none":
                found.append(Overlap(other, _evidence(other.deal_id, registration.deal_id, match.to_evidence(),
                                                      shared), match.band))
        return found


def _indexed(registration: TrackedRegistration) -> IndexedRegistration:
    return IndexedRegistration(deal_id=registration.deal_id, partner_key=registration.partner_key,
                               profile=profile_of(registration), products=frozenset(registration.products))


def _evidence(other_id: str, new_id: str, match: dict[str, Any], shared_products: list[str]) -> dict[str, Any]:
    return {"deal_ids": [other_id, new_id], **match, "shared_products": list(shared_products)}
