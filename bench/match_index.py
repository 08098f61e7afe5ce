"""Benchmark MatchIndex at scale: build an index of N synthetic registrations, then time find_matches.

Usage: .venv/bin/python bench/match_index.py [--size 1000000] [--queries 2000] [--seed 7] [--json PATH]
Memory is the process RSS growth while the index is built from a streaming generator, so it covers
everything the index keeps alive (registration objects, profiles, features, postings) and nothing else.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.conflict.matching import CustomerProfile, IndexedRegistration, MatchIndex  # noqa: E402

ONSETS = ["b", "br", "c", "ch", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "kl", "l", "m", "n", "p", "pr",
          "qu", "r", "s", "sh", "st", "t", "tr", "v", "w", "z", "x", "sk", "pl", "cr", "bl", "sn", "th", "vr"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "io", "ou", "y"]
CODAS = ["", "n", "r", "x", "l", "m", "s", "t", "nd", "rk", "lt", "ns", "ck", "st", "v", "ra", "ta", "on", "ex"]
GENERIC = ["Group", "Holdings", "Systems", "Solutions", "Technologies", "Services", "Global", "International",
           "Capital", "Partners", "Logistics", "Healthcare", "Pharmaceuticals", "Bank", "Energy", "Foods",
           "Consulting", "Engineering", "Industries", "Software", "Media", "Insurance", "Retail", "Digital",
           "Construction", "Medical", "Networks", "Labs", "Trading", "Manufacturing"]
LEGAL = {"US": ["Inc.", "LLC", "Corp."], "GB": ["Ltd", "plc", "Limited"], "DE": ["GmbH", "AG", "GmbH & Co. KG"],
         "FR": ["SAS", "S.A.", "SARL"], "IT": ["S.r.l.", "S.p.A."], "ES": ["S.L.", "S.A."], "NL": ["B.V.", "N.V."],
         "SE": ["AB"], "JP": ["Co., Ltd.", "K.K."], "IN": ["Pvt Ltd"], "BR": ["Ltda"], "AU": ["Pty Ltd"],
         "PL": ["Sp. z o.o."], "CH": ["AG", "SA"], "CA": ["Inc."], "MX": ["S.A. de C.V."], "KR": ["Co., Ltd."],
         "DK": ["A/S"], "FI": ["Oy"], "NO": ["AS"], "AT": ["GmbH"], "BE": ["NV"], "IE": ["Ltd"], "SG": ["Pte Ltd"]}
TLD = {"US": "com", "GB": "co.uk", "DE": "de", "FR": "fr", "IT": "it", "ES": "es", "NL": "nl", "SE": "se",
       "JP": "co.jp", "IN": "in", "BR": "com.br", "AU": "com.au", "PL": "pl", "CH": "ch", "CA": "ca", "MX": "mx",
       "KR": "co.kr", "DK": "dk", "FI": "fi", "NO": "no", "AT": "at", "BE": "be", "IE": "ie", "SG": "sg"}
COUNTRIES = list(LEGAL)
FREE_MAIL = ["gmail.com", "outlook.com", "yahoo.com", "gmx.de", "hotmail.fr", "qq.com", "web.de"]
PRODUCTS = [f"prod-{n:02d}" for n in range(40)]
PARTNERS = [f"p{n:05d}" for n in range(5000)] + ["direct"]


def brand(rng: random.Random) -> str:
    word = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(rng.choice([1, 2, 2, 3])))
    return (word + rng.choice(CODAS)).capitalize()


class Organisation:
    __slots__ = ("name", "country", "domain", "core")

    def __init__(self, rng: random.Random) -> None:
        self.country = rng.choice(COUNTRIES)
        words = [brand(rng)]
        if rng.random() < 0.3:
            words.append(brand(rng))
        words += rng.sample(GENERIC, k=rng.choice([0, 1, 1, 2]))
        self.name = " ".join(words)
        slug = "".join(w.lower() for w in words[:2])
        self.domain = f"{slug}.{TLD[self.country]}" if rng.random() < 0.7 else None
        self.core = rng.choice(PRODUCTS)


def registration(rng: random.Random, org: Organisation, deal_id: str) -> IndexedRegistration:
    name = org.name
    roll = rng.random()
    if roll < 0.15:
        name = name.upper()
    elif roll < 0.25 and len(name) > 8:
        i = rng.randrange(1, len(name) - 2)
        name = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    name = f"{name} {rng.choice(LEGAL[org.country])}"
    evidence = rng.random()
    domain = f"https://www.{org.domain}/" if org.domain and evidence < 0.5 else None
    if org.domain and evidence >= 0.5 and evidence < 0.75:
        email = f"buyer{rng.randrange(1000)}@{org.domain}"
    elif evidence >= 0.75:
        email = f"someone{rng.randrange(10**6)}@{rng.choice(FREE_MAIL)}"
    else:
        email = None
    profile = CustomerProfile(name=name, country=org.country, domain=domain, contact_email=email)
    products = frozenset({org.core, *rng.sample(PRODUCTS, k=rng.choice([0, 0, 1, 2]))})
    return IndexedRegistration(deal_id, rng.choice(PARTNERS), profile, products)


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def run(size: int, queries: int, seed: int) -> dict:
    rng = random.Random(seed)
    organisations: list[Organisation] = []
    index = MatchIndex()
    gc.collect()
    gc.disable()  # bulk load: cyclic GC passes over a million live objects only cost time (none are garbage)
    rss_before = rss_mb()
    started = time.perf_counter()
    step = max(size // 20, 1)

    def streamed():
        for n in range(size):
            if not organisations or rng.random() < 0.55:
                organisations.append(Organisation(rng))
                org = organisations[-1]
            else:
                org = organisations[rng.randrange(len(organisations))]
            yield registration(rng, org, f"d{n}")
            if (n + 1) % step == 0:
                elapsed = time.perf_counter() - started
                print(f"  built {n + 1:>9,} / {size:,}  {elapsed:6.1f}s  rss {rss_mb():7.0f} MB", file=sys.stderr,
                      flush=True)

    index.add_many(streamed())  # as the consumer rebuilds its index on start
    build_s = time.perf_counter() - started
    gc.enable()
    gc.collect()
    # The organisation list is benchmark bookkeeping, not index memory: subtract its rough size.
    org_mb = len(organisations) * 200 / 2**20
    index_mb = rss_mb() - rss_before - org_mb

    timings = []
    overlapping = found = 0
    for q in range(queries):
        if rng.random() < 0.5:
            org = organisations[rng.randrange(len(organisations))]
            overlapping += 1
        else:
            org = Organisation(rng)
        fresh = registration(rng, org, f"q{q}")
        t0 = time.perf_counter()
        matches = index.find_matches(fresh)
        timings.append((time.perf_counter() - t0) * 1000)
        found += bool(matches)
    timings.sort()
    result = {
        "size": size,
        "queries": queries,
        "match_p50_ms": round(statistics.median(timings), 3),
        "match_p99_ms_1m": round(timings[int(len(timings) * 0.99) - 1], 3),
        "match_max_ms": round(timings[-1], 3),
        "match_index_mb_1m": round(index_mb, 1),
        "memory_method": "RSS growth while building with add_many (streamed input; excludes benchmark org list)",
        "match_build_s": round(build_s, 1),
        "queries_for_existing_customers": overlapping,
        "queries_with_matches": found,
    }
    if size != 1_000_000:
        result["note"] = f"figures measured at size={size:,}, not 1,000,000"
    return result


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args.size, args.queries, args.seed)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
