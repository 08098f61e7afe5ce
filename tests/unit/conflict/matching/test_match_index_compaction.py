"""MatchIndex's compact storage: removals, compaction, re-adding and bulk loading give the same answers as an index
built afresh from what is left."""

import random

from services.conflict.matching import CustomerProfile, IndexedRegistration, MatchIndex

WORDS = ["nordljus", "brakel", "trondix", "vestra", "calder", "omnira", "halvard", "quistor", "felmar", "zentrix"]


def registrations(count: int, seed: int = 3) -> list[IndexedRegistration]:
    rng = random.Random(seed)
    found = []
    for n in range(count):
        first, second = rng.sample(WORDS, 2)
        name = f"{first.capitalize()} {second.capitalize()} {rng.randrange(400)} GmbH"
        domain = f"{first}{second}.de" if rng.random() < 0.5 else None
        found.append(IndexedRegistration(f"deal-{n}", f"p{n % 7}", CustomerProfile(name=name, country="DE",
                                                                                   domain=domain),
                                         frozenset({f"prod-{rng.randrange(3)}"})))
    return found


def answers(index: MatchIndex, queries: list[IndexedRegistration]) -> list[list[tuple[str, float, str]]]:
    return [[(o.other_deal_id, round(o.match.score, 6), o.other_partner_key) for o in index.find_matches(q)]
            for q in queries]


def test_after_removals_and_compaction_the_index_answers_as_one_built_from_what_is_left():
    everything = registrations(3000)
    index = MatchIndex()
    index.add_many(everything)
    removed = {r.deal_id for r in everything[::3]} | {r.deal_id for r in everything[1000:1900]}
    for deal_id in removed:
        index.remove(deal_id)  # more than an eighth dead: compacts (more than once) along the way
    left = [r for r in everything if r.deal_id not in removed]
    fresh = MatchIndex()
    for registration in left:
        fresh.add(registration)
    queries = registrations(60, seed=99)
    assert len(index) == len(fresh) == len(left)
    assert answers(index, queries) == answers(fresh, queries)
    assert all(r.deal_id in index for r in left[:50]) and not any(d in index for d in list(removed)[:50])
    assert index.selective_keys(["tok:nordljus", "dom:nordljusbrakel.de"]) == fresh.selective_keys(
        ["tok:nordljus", "dom:nordljusbrakel.de"])


def test_adding_a_registration_again_replaces_it_and_bulk_input_keeps_the_last_copy():
    first = IndexedRegistration("d1", "p1", CustomerProfile(name="Omnira Felmar GmbH", country="DE"),
                                frozenset({"edr"}))
    moved = IndexedRegistration("d1", "p1", CustomerProfile(name="Vestra Calder GmbH", country="DE"),
                                frozenset({"edr"}))
    query = IndexedRegistration("q", "p2", CustomerProfile(name="Vestra Calder", country="DE"), frozenset({"edr"}))
    bulk = MatchIndex()
    bulk.add_many([first, moved])
    one_by_one = MatchIndex()
    one_by_one.add(first)
    one_by_one.add(moved)
    for index in (bulk, one_by_one):
        assert len(index) == 1
        assert [o.other_deal_id for o in index.find_matches(query)] == ["d1"]
        assert index.find_matches(IndexedRegistration("q2", "p2", first.profile, frozenset({"edr"}))) == []
