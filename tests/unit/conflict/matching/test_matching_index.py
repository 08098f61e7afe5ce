"""MatchIndex: blocking keys, add/remove, candidate sourcing (no scan), product filter, same-partner flag."""

import pytest

from services.conflict.matching import CustomerProfile, IndexedRegistration, MatchIndex
from services.conflict.matching import index as index_module


def reg(deal_id, partner, name, products=("edr",), country="DE", **kw):
    return IndexedRegistration(deal_id, partner, CustomerProfile(name=name, country=country, **kw), frozenset(products))


@pytest.fixture
def index():
    idx = MatchIndex()
    idx.add_many([
        reg("d1", "p1", "Acme Widgets GmbH", domain="https://www.acme.de/"),
        reg("d2", "p2", "ACME Widgets", contact_email="jo@acme.de"),
        reg("d3", "p3", "Bank of Hope", country="US", products=("edr", "siem")),
        reg("d4", "p4", "Zentrix Analytics AG", tax_id="DE 999 888 777", products=("siem",)),
    ])
    return idx


def test_blocking_keys_are_stable_strings():
    idx = MatchIndex()
    profile = CustomerProfile(name="Acme Widgets GmbH", country="DE", domain="https://www.acme.de/",
                              tax_id="de 123.456.789", duns="12-345-6789")
    keys = idx.blocking_keys(profile)
    assert keys[:3] == ["dom:acme.de", "tax:123456789", "duns:123456789"]
    assert "name:acme|widgets" in keys and "tok:acme" in keys
    assert keys == idx.blocking_keys(profile)
    assert all(isinstance(k, str) for k in keys)


def test_free_mail_contact_gives_no_domain_key():
    keys = MatchIndex().blocking_keys(CustomerProfile(name="Acme", country="DE", contact_email="x@gmail.com"))
    assert not any(k.startswith("dom:") for k in keys)


def test_len_add_remove(index):
    assert len(index) == 4
    index.remove("d2")
    assert len(index) == 3 and "d2" not in index
    index.remove("does-not-exist")
    assert len(index) == 3
    assert [o.other_deal_id for o in index.find_matches(reg("q", "p9", "Acme Widgets", domain="acme.de"))] == ["d1"]
    index.remove("d1")
    assert index.find_matches(reg("q", "p9", "Acme Widgets", domain="acme.de")) == []


def test_re_adding_a_deal_replaces_it(index):
    index.add(reg("d1", "p1", "Totally Different Co", country="FR"))
    assert len(index) == 4
    found = index.find_matches(reg("q", "p9", "Acme Widgets GmbH", domain="acme.de"))
    assert [o.other_deal_id for o in found] == ["d2"]


def test_find_matches_returns_evidence_and_shared_products(index):
    found = index.find_matches(reg("q", "p9", "Acme Widgets Deutschland GmbH", products=("edr", "fw"),
                                   domain="acme.de"))
    assert [o.other_deal_id for o in found] == ["d1", "d2"]
    first = found[0]
    assert first.other_partner_key == "p1" and first.shared_products == ["edr"] and not first.same_partner
    assert first.match.band == "clear"
    assert any(s["kind"] == "domain" and s["value"] == "acme.de" for s in first.match.signals)


def test_product_filter(index):
    assert index.find_matches(reg("q", "p9", "Acme Widgets", products=("backup",), domain="acme.de")) == []


def test_same_partner_duplicates_are_flagged(index):
    found = index.find_matches(reg("q", "p1", "Acme Widgets GmbH", domain="acme.de"))
    assert {o.other_deal_id: o.same_partner for o in found} == {"d1": True, "d2": False}


def test_own_deal_is_excluded(index):
    registration = reg("d1", "p1", "Acme Widgets GmbH", domain="https://www.acme.de/")
    assert "d1" not in [o.other_deal_id for o in index.find_matches(registration)]


def test_tax_id_finds_a_renamed_customer(index):
    found = index.find_matches(reg("q", "p9", "ZX Data Holding", tax_id="DE999888777", products=("siem",)))
    assert [o.other_deal_id for o in found] == ["d4"]


def test_typo_in_only_distinctive_word_is_found():
    idx = MatchIndex()
    idx.add(reg("d1", "p1", "Scania AB", country="SE", domain="scania.com"))
    idx.add(reg("d2", "p1", "Microsoft Corporation", country="US"))
    idx.add(reg("d3", "p1", "Volvo AB", country="SE"))
    assert [o.other_deal_id for o in idx.find_matches(reg("q", "p2", "Scnaia AB", country="SE"))] == ["d1"]
    assert [o.other_deal_id for o in idx.find_matches(reg("q", "p2", "Mircosoft", country="US"))] == ["d2"]
    # A slip in a short single-word name with no domain behind either spelling is only worth a review.
    assert idx.find_matches(reg("q", "p2", "Vovlo AB", country="SE")) == []
    assert [(o.other_deal_id, o.match.band) for o in idx.find_matches(reg("q", "p2", "Vovlo AB", country="SE"),
                                                                      min_band="review")] == [("d3", "review")]


@pytest.mark.parametrize(
    ("stored", "query"),
    [("Halma plc", "Hlama"), ("Halma plc", "Hallma Ltd"), ("Halma plc", "Hama"), ("Bunzl", "BUNLZ PLC")],
)
def test_one_slip_in_a_short_name_reaches_the_domain_bearing_registration_both_ways(stored, query):
    idx = MatchIndex()
    added = {"with-domain": reg("with-domain", "p1", stored, country="GB", domain=f"{stored.split()[0].lower()}.com"),
             "name-only": reg("name-only", "p2", query, country="GB")}
    for registration in added.values():
        idx.add(registration)
    other = {"with-domain": "name-only", "name-only": "with-domain"}
    for deal_id in other:
        registration = added[deal_id]
        assert [o.other_deal_id for o in idx.find_matches(registration)] == [other[deal_id]]


def test_slip_spellings_are_looked_up_but_not_stored():
    idx = MatchIndex()
    profile = CustomerProfile(name="Hama", country="GB")
    assert "tok:halma" in idx.lookup_keys(profile)  # a dropped letter, spelled out for a one-word short name
    assert not any(k.startswith("tok:") and k != "tok:hama" for k in idx.blocking_keys(profile))


def test_min_band_clear_drops_possible_matches():
    idx = MatchIndex()
    idx.add(reg("d1", "p1", "Acme Logistics"))
    query = reg("q", "p2", "Acme")
    assert [o.match.band for o in idx.find_matches(query)] == ["possible"]
    assert idx.find_matches(query, min_band="clear") == []
    with pytest.raises(ValueError):
        idx.find_matches(query, min_band="none")


def test_candidates_come_only_from_blocking_keys(monkeypatch):
    idx = MatchIndex()
    for n in range(50):
        idx.add(reg(f"d{n}", "p1", f"Company Number{n} Widgets", country="FR"))
    idx.add(reg("target", "p1", "Zentrix Analytics", country="FR"))
    scored = []
    real_assess = index_module.assess

    def spy(left, right, *args, **kwargs):
        scored.append(right)
        return real_assess(left, right, *args, **kwargs)

    monkeypatch.setattr(index_module, "assess", spy)
    found = idx.find_matches(reg("q", "p2", "Zentrix Analytics SARL", country="FR"))
    assert [o.other_deal_id for o in found] == ["target"]
    assert len(scored) == 1  # none of the 50 unrelated registrations was even scored


def test_very_common_name_keys_are_not_expanded(monkeypatch):
    monkeypatch.setattr(index_module, "COMMON_KEY_LIMIT", 5)
    idx = MatchIndex()
    for n in range(20):
        idx.add(reg(f"d{n}", "p1", f"Zentrix Brand{chr(97 + n)}x", country="FR"))
    idx.add(reg("target", "p1", "Zentrix Quorvane", country="FR"))
    found = idx.find_matches(reg("q", "p2", "Zentrix Quorvane", country="FR"))
    assert [o.other_deal_id for o in found] == ["target"]  # found through the rare token, not "zentrix"


def test_corpus_frequency_lowers_weight_of_common_tokens(monkeypatch):
    monkeypatch.setattr(index_module, "MIN_CORPUS_FOR_FREQUENCY", 10)
    monkeypatch.setattr(index_module, "COMMON_TOKEN_SHARE", 0.5)
    idx = MatchIndex()
    for n in range(30):
        idx.add(reg(f"d{n}", "p1", f"Quorvane Item{n}"))
    assert idx.token_weight("quorvane") < idx.token_weight("item7")
