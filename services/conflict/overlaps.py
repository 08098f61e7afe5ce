"""Finding the registrations a new one overlaps: the in-memory MatchIndex proposes, the database decides.

Each consumer process holds its own MatchIndex, rebuilt from the database on start and kept current by the
events it applies. With several consumer processes, each index misses what the others recorded since it was
built, so every lookup also asks the database which registrations are filed (by any process) under the same
blocking keys; those the index does not hold are read and added. The same one lookup also finds the ended
registrations, which the index never holds. The verdict transaction first locks its lock keys (see
`lock_keys`), so of two registrations that could match, the second one's lookup runs after the first one
committed.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import structlog

from services.conflict.domain.model import (
    TrackedRegistration,
    utcnow,
)
from services.conflict.matching import CustomerProfile, IndexedRegistration, MatchIndex, compare_customers
from services.conflict.matching.scoring import normalise_country, profile_domains

log = structlog.get_logger(__name__)
# Newest registrations read per key: selective keys hold a few each, so this bounds only the odd customer
# with hundreds of ended registrations (the newest of them are the ones a verdict mentions).
KEY_LOOKUP_LIMIT = 50


@dataclasses.dataclass
class OverlappingRegistration:
    """A tracked registration that overlaps the one being judged, with the evidence and its band.

    (matching.index.Overlap is the index's raw match, before the registration is read back from storage.)
    """

    other: TrackedRegistration
    evidence: dict[str, Any]
    band: str

    @property
    def score(self) -> float:
        return self.evidence["score"]


@dataclasses.dataclass
class Findings:
    # Active registrations for the same customer sharing a product, best first.
    overlaps: list[OverlappingRegistration]
    # Withdrawn, expired, lost or rejected ones; filled only when no active registration overlaps.
    inactive: list[OverlappingRegistration]
    # Active ones the matcher cannot call the same customer or a different one (the "review" band: the same name
    # in another country, an unbacked one-letter slip). Recorded with the verdict; never a case on their own.
    weak: list[OverlappingRegistration] = dataclasses.field(default_factory=list)


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

    def rebuild(self, uow_factory) -> int:
        """Load every active registration into a fresh index (consumer start-up)."""
        started = self._clock()
        index = MatchIndex()
        with uow_factory() as uow:
            index.add_many(_indexed(registration) for registration in uow.registrations.iter_active())
        self.index = index
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
        filed = uow.registrations.ids_by_keys(keys, per_key=KEY_LOOKUP_LIMIT)
        unknown = [deal_id for deal_id in filed if deal_id not in self.index and deal_id != registration.deal_id]
        ended = []
        for other in uow.registrations.get_many(unknown).values():
            if other.is_active:
                self.index.add(_indexed(other))  # committed by another process: this index should know it too
            else:
                ended.append(other)
        matches = self.index.find_matches(_indexed(registration), min_band="review")
        current = uow.registrations.get_many(m.other_deal_id for m in matches)
        overlaps: list[OverlappingRegistration] = []
        weak: list[OverlappingRegistration] = []
        for match in matches:
            other = current.get(match.other_deal_id)
            if other is None or not other.is_active:
                self.index.remove(match.other_deal_id)  # stale: the database is the arbiter
                continue
            evidence = _evidence(other.deal_id, registration.deal_id, match.match.to_evidence(), match.shared_products)
            found = OverlappingRegistration(other, evidence, match.match.band)
            (weak if match.match.band == "review" else overlaps).append(found)
        inactive = [] if overlaps else self._inactive_overlaps(registration, profile, ended)
        return Findings(overlaps=overlaps, inactive=inactive, weak=weak)

    def remember(self, registration: TrackedRegistration) -> None:
        if registration.is_active:
            self.index.add(_indexed(registration))
        else:
            self.index.remove(registration.deal_id)

    def forget(self, deal_id: str) -> None:
        self.index.remove(deal_id)

    def _inactive_overlaps(self, registration: TrackedRegistration, profile: CustomerProfile,
                           ended: list[TrackedRegistration]) -> list[OverlappingRegistration]:
        """Ended registrations for the same customer and product: they do not count, but the verdict says so."""
        found = []
        for other in ended:
            shared = sorted(set(other.products) & set(registration.products))
            if not shared:
                continue
            match = compare_customers(profile, profile_of(other))
            if match.band in ("possible", "clear"):
                evidence = _evidence(other.deal_id, registration.deal_id, match.to_evidence(), shared)
                found.append(OverlappingRegistration(other, evidence, match.band))
        return found


def _indexed(registration: TrackedRegistration) -> IndexedRegistration:
    return IndexedRegistration(deal_id=registration.deal_id, partner_key=registration.partner_id,
                               profile=profile_of(registration), products=frozenset(registration.products))


def _evidence(other_id: str, new_id: str, match: dict[str, Any], shared_products: list[str]) -> dict[str, Any]:
    return {"deal_ids": [other_id, new_id], **match, "shared_products": list(shared_products)}
