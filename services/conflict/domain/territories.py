"""Territories, set up front: who owns which countries and which named accounts, and what the rules do with them.

A territory `{owner, countries, industries, named_accounts, channels}` belongs to a partner or to `direct`.
Named accounts are registrable domains or tax ids, kept normalised (shared.identity, the same normalisers deals
and the matching use), and no account may be named by two territories. Every change makes a new version,
recorded with who made it, and is published on the compacted conflicts.territories.v1.

The rules file's `territories:` section says what a registration meets:
- `named_account: case | reject` for a named account registered by anyone but its owner: a case in the owner's
  queue (`queue`, "{owner}" replaced), judged against the owner even when the owner has no registration, or a
  rejection by rule;
- `out_of_territory: flag | review | reject` for a partner registering a customer outside the countries of its
  profile (deals.partners.v1): recorded on the verdict, a case for the desk, or a rejection by rule.
Partners read reasons that name no one. Standard library and shared.identity only.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from shared.clock import iso, parse_iso, utcnow
from shared.identity import (
    InvalidDomain,
    customer_keys,
    normalise_tax_id,
    registrable_domain,
    tax_id_core,
    web_domain,
)
from shared.reference import is_country

DIRECT = "direct"
NAMED_ACCOUNT_ACTIONS = ("case", "reject")
OUT_OF_TERRITORY_ACTIONS = ("flag", "review", "reject")
CHANNELS = ("reseller", "distributor", "msp", "marketplace", "direct")
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_TAX_ID = re.compile(r"^[A-Z0-9]{5,40}$")
NAMED_ACCOUNT_REASON = ("This customer is a named account that the vendor's territory plan assigns to another "
                        "sales team, so registrations for it by others are not accepted.")
OUT_OF_TERRITORY_REASON = ("Your partner agreement does not cover customers in {country}, so this registration "
                           "cannot be accepted.")


class TerritoryInvalid(ValueError):
    """Bad input; `errors` maps each field (e.g. named_accounts.2) to messages naming the conflict."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("The territory cannot be saved.")
        self.errors = errors


def named_account(text: str) -> dict[str, str]:
    """{kind: domain|tax_id, key, given}: a registrable domain (any pasted form) or a tax id, normalised."""
    given = str(text).strip()
    if any(mark in given for mark in ".:/@") and any(ch.isalpha() for ch in given.rsplit(".", 1)[-1]):
        try:
            domain = web_domain(given)
        except InvalidDomain:
            domain = None
        if domain is not None:
            if registrable_domain(given) is None:
                raise ValueError(f"{given}: a free-mail domain names no customer")
            return {"kind": "domain", "key": domain, "given": given}
    tax_id = normalise_tax_id(given)
    if tax_id and _TAX_ID.match(tax_id) and any(ch.isdigit() for ch in tax_id):
        return {"kind": "tax_id", "key": tax_id_core(tax_id), "given": given}
    raise ValueError(f"{given}: neither a web domain (acme.com) nor a tax id (DE123456789)")


def customer_accounts(customer: Mapping[str, Any]) -> set[tuple[str, str]]:
    """The (kind, key) pairs by which a registration's customer can be a named account."""
    keys = customer_keys(customer)
    accounts = set()
    if keys["domain"]:
        accounts.add(("domain", keys["domain"]))
    if keys["tax_id"]:
        accounts.add(("tax_id", tax_id_core(keys["tax_id"])))
    return accounts


@dataclasses.dataclass
class Territory:
    name: str
    owner: str
    countries: list[str]
    industries: list[str]
    named_accounts: list[dict[str, str]]
    channels: list[str]
    updated_by: str
    updated_at: dt.datetime
    version: int = 1
    events: list[str] = dataclasses.field(default_factory=list, repr=False, compare=False)

    @classmethod
    def define(cls, name: str, fields: dict[str, Any], *, by: str, now: dt.datetime | None = None) -> Territory:
        territory = cls(name=name, updated_by=by, updated_at=now or utcnow(), **fields)
        territory.events.append("territory.updated")
        return territory

    def change(self, fields: dict[str, Any], *, by: str, now: dt.datetime | None = None) -> bool:
        """A new version when anything differs; False (no version, no event) when nothing does."""
        if all(getattr(self, name) == value for name, value in fields.items()):
            return False
        for name, value in fields.items():
            setattr(self, name, value)
        self.updated_by, self.updated_at = by, now or utcnow()
        self.version += 1
        self.events.append("territory.updated")
        return True

    def names_account(self, accounts: set[tuple[str, str]]) -> dict[str, str] | None:
        return next((a for a in self.named_accounts if (a["kind"], a["key"]) in accounts), None)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "owner": self.owner, "countries": list(self.countries),
                "industries": list(self.industries), "named_accounts": [dict(a) for a in self.named_accounts],
                "channels": list(self.channels), "version": self.version, "updated_by": self.updated_by,
                "updated_at": iso(self.updated_at)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Territory:
        return cls(name=d["name"], owner=d["owner"], countries=list(d["countries"]),
                   industries=list(d.get("industries") or []), named_accounts=list(d.get("named_accounts") or []),
                   channels=list(d.get("channels") or []), updated_by=d.get("updated_by", ""),
                   updated_at=parse_iso(d["updated_at"]) or utcnow(), version=int(d["version"]))


def checked_fields(name: str, raw: Mapping[str, Any], *, others: Iterable[Territory],
                   known_partners: set[str]) -> dict[str, Any]:
    """The territory's fields, normalised; TerritoryInvalid naming every problem (the conflicting territory and
    account, the unknown countries, the unknown owner) otherwise."""
    errors: dict[str, list[str]] = {}
    if not NAME.match(name):
        errors["name"] = ["1 to 100 lower-case letters, digits, '.', '_' or '-'."]
    owner = str(raw.get("owner") or "").strip()
    if owner != DIRECT and owner not in known_partners:
        errors["owner"] = [f"Unknown owner {owner!r}: give 'direct' or the id of a partner with a profile "
                           "(PUT /v1/partners/{id} on deals; conflict learns it from deals.partners.v1)."]
    countries = sorted({str(c).strip().upper() for c in raw.get("countries") or []})
    unknown = [c for c in countries if not is_country(c)]
    if unknown:
        errors["countries"] = [f"Unknown countries: {', '.join(unknown)}; use ISO 3166-1 alpha-2 codes."]
    channels = sorted(set(raw.get("channels") or []))
    if any(c not in CHANNELS for c in channels):
        errors["channels"] = [f"Channels are {', '.join(CHANNELS)}."]
    accounts: list[dict[str, str]] = []
    seen: dict[tuple[str, str], int] = {}
    taken = {(a["kind"], a["key"]): other for other in others if other.name != name for a in other.named_accounts}
    for position, given in enumerate(raw.get("named_accounts") or []):
        try:
            account = named_account(given)
        except ValueError as exc:
            errors[f"named_accounts.{position}"] = [str(exc)]
            continue
        pair = (account["kind"], account["key"])
        if pair in taken:
            errors[f"named_accounts.{position}"] = [
                f"{account['key']} is already a named account of territory {taken[pair].name!r} "
                f"(owner {taken[pair].owner}); an account belongs to one territory."]
        elif pair in seen:
            errors[f"named_accounts.{position}"] = [f"{account['key']} is listed twice (also at {seen[pair]})."]
        else:
            seen[pair] = position
            accounts.append(account)
    if errors:
        raise TerritoryInvalid(errors)
    return {"owner": owner, "countries": countries,
            "industries": sorted({str(i).strip() for i in raw.get("industries") or [] if str(i).strip()}),
            "named_accounts": accounts, "channels": channels}


# --- The rules ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TerritoryPolicy:
    """The rules file's `territories:` section."""

    named_account: str = "case"
    queue: str = "named-accounts-{owner}"
    out_of_territory: str = "flag"
    out_of_territory_queue: str = "out-of-territory"

    @classmethod
    def from_dict(cls, raw: Any) -> TerritoryPolicy:
        raw = raw or {}
        if not isinstance(raw, dict):
            raise ValueError("territories: a mapping is required")
        policy = cls(**{k: str(v) for k, v in raw.items() if k in {f.name for f in dataclasses.fields(cls)}})
        unknown = set(raw) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"territories.{sorted(unknown)[0]}: unknown setting")
        if policy.named_account not in NAMED_ACCOUNT_ACTIONS:
            raise ValueError(f"territories.named_account: one of {', '.join(NAMED_ACCOUNT_ACTIONS)}")
        if policy.out_of_territory not in OUT_OF_TERRITORY_ACTIONS:
            raise ValueError(f"territories.out_of_territory: one of {', '.join(OUT_OF_TERRITORY_ACTIONS)}")
        return policy

    def queue_of(self, owner: str) -> str:
        return self.queue.replace("{owner}", owner)[:100]


@dataclasses.dataclass(frozen=True)
class TerritoryJudgement:
    """What the territories say about one registration: the named account it hits, or the countries it is
    outside of; `effects` go into the verdict's rules_applied."""

    policy: TerritoryPolicy
    named: Territory | None = None
    account: dict[str, str] | None = None
    outside: tuple[str, list[str]] | None = None  # (the customer's country, the partner's countries)

    @property
    def refusal(self) -> tuple[str, str] | None:
        """(rule, partner-readable reason) when a rule refuses the registration."""
        if self.named is not None and self.policy.named_account == "reject":
            return "territories.named_account", NAMED_ACCOUNT_REASON
        if self.outside is not None and self.policy.out_of_territory == "reject":
            return "territories.out_of_territory", OUT_OF_TERRITORY_REASON.format(country=self.outside[0])
        return None

    @property
    def review_queue(self) -> str | None:
        """The queue of the case the registration needs on its own, with no competing registration."""
        if self.named is not None:
            return self.policy.queue_of(self.named.owner)
        if self.outside is not None and self.policy.out_of_territory == "review":
            return self.policy.out_of_territory_queue
        return None

    @property
    def effects(self) -> list[dict[str, str]]:
        effects = []
        if self.named is not None and self.account is not None:
            action = ("rejected" if self.policy.named_account == "reject"
                      else f"case in {self.policy.queue_of(self.named.owner)}")
            effects.append({"rule": "territories.named_account",
                            "effect": f"{action}: {self.account['key']} is a named account of territory "
                                      f"{self.named.name} v{self.named.version} (owner {self.named.owner})"})
        if self.outside is not None:
            country, countries = self.outside
            action = {"flag": "flagged", "review": f"case in {self.policy.out_of_territory_queue}",
                      "reject": "rejected"}[self.policy.out_of_territory]
            effects.append({"rule": "territories.out_of_territory",
                            "effect": f"{action}: customer in {country}, outside the partner's countries "
                                      f"({', '.join(countries)})"})
        return effects


def judge(*, partner_id: str, customer: Mapping[str, Any], territories: Iterable[Territory],
          partner_countries: list[str] | None, policy: TerritoryPolicy) -> TerritoryJudgement:
    """`partner_countries`: from the registering partner's profile (None: no profile, nothing to say)."""
    accounts = customer_accounts(customer)
    named, account = None, None
    if accounts:
        for territory in territories:
            hit = territory.names_account(accounts)
            if hit is not None:
                if territory.owner != partner_id:
                    named, account = territory, hit
                break
    country = str(customer.get("country") or "").upper()
    outside = None
    if partner_id != DIRECT and partner_countries and country and country not in partner_countries:
        outside = (country, list(partner_countries))
    return TerritoryJudgement(policy=policy, named=named, account=account, outside=outside)
