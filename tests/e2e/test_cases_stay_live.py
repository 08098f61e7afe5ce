"""Cases stay live on the real stack: a withdrawal leaves a case moot, and a bridging registration merges two."""
import time

from tests.conftest import unique
from tests.e2e.test_conflict_story import wait_for


def test_a_withdrawal_leaves_the_case_moot_and_the_registration_left_is_approved(api):
    product = api.published_listing()
    domain = f"{unique('moot')}.de"
    staying = api.headers("partner", partner_id=unique("stay"))
    leaving = api.headers("sales")
    desk = api.headers("desk", sub=unique("desk"))
    customer = {"name": "Mootwerk Analytics GmbH", "domain": domain, "country": "DE"}
    first = api.submit(staying, [product], customer=customer).json()
    # Judged before the second is even sent: two submissions in one millisecond may be judged in either order.
    assert api.wait_for_verdict(first["id"], staying)["status"] == "approved"
    second = api.submit(leaving, [product], customer=customer).json()
    in_review = api.wait_for_verdict(second["id"], leaving)
    case_id = in_review["case_ref"]
    assert in_review["status"] == "in_conflict" and case_id, in_review

    def case():
        return api.call("GET", "conflict", f"/v1/cases/{case_id}", as_=desk).json()

    assert wait_for(lambda: {r["status"] for r in case()["registrations"]} == {"approved", "in_conflict"})
    withdrawn_at = time.monotonic()
    assert api.call("POST", "deals", f"/v1/deals/{second['id']}/withdraw", as_=leaving).status_code == 200
    moot = wait_for(lambda: (c := case())["status"] == "resolved" and c)
    moot_s = time.monotonic() - withdrawn_at
    assert moot, case()
    assert moot["resolution"]["decision"] == "moot"
    assert moot["resolution"]["decided_by"] == "rules:auto_resolve.moot"
    assert {r["deal_id"]: r["status"] for r in moot["registrations"]}[second["id"]] == "withdrawn"
    assert any(h["action"] == "registration_ended" and h["deal_id"] == second["id"] for h in moot["history"])
    queues = api.call("GET", "conflict", "/v1/cases", as_=desk, params={"status": ["open", "claimed"]}).json()
    assert case_id not in {c["id"] for c in queues["items"]}
    stayed = api.call("GET", "deals", f"/v1/deals/{first['id']}", as_=staying).json()
    assert stayed["status"] == "approved" and stayed["protection_until"]
    print(f"moot: withdrawal to case resolved as moot in {moot_s:.2f} s; case {case_id}; "
          f"remaining registration {first['id']} {stayed['status']}")


def test_a_registration_bridging_two_open_cases_merges_them_on_the_real_stack(api):
    product = api.published_listing()
    tax_id, domain = f"DE{unique('')[-9:].upper()}", f"{unique('bridge')}.de"
    north = {"name": "Borealis Systemhaus GmbH", "country": "DE", "tax_id": tax_id}
    south = {"name": "Suedwind Datenwerk GmbH", "country": "DE", "domain": domain}
    partners = [api.headers("partner", partner_id=unique("p")) for _ in range(4)]
    desk = api.headers("desk", sub=unique("desk"))
    members = []
    for headers, customer in zip(partners, (north, north, south, south), strict=True):
        members.append((headers, api.submit(headers, [product], customer=customer).json()))
    # Each pair's case: whichever of the two was judged second holds it (two submissions within the same
    # millisecond may be judged in either order).
    verdicts = [api.wait_for_verdict(deal["id"], headers) for headers, deal in members]
    refs = [verdicts[i].get("case_ref") or verdicts[i + 1].get("case_ref") for i in (0, 2)]
    assert all(refs) and refs[0] != refs[1], refs
    bridge_as = api.headers("marketplace", partner_id=unique("m"))
    bridge = api.submit(bridge_as, [product], customer={**north, "domain": domain}).json()
    joined = api.wait_for_verdict(bridge["id"], bridge_as)
    survivor = joined["case_ref"]
    gone = refs[1] if survivor == refs[0] else refs[0]
    merged = wait_for(lambda: (c := api.call("GET", "conflict", f"/v1/cases/{gone}", as_=desk).json())
                      ["status"] == "resolved" and c)
    assert merged and merged["resolution"]["decision"] == "merged"
    assert merged["resolution"]["merged_into"] == survivor
    case = api.call("GET", "conflict", f"/v1/cases/{survivor}", as_=desk).json()
    assert {r["deal_id"] for r in case["registrations"]} == {d["id"] for _, d in members} | {bridge["id"]}
    moved = wait_for(lambda: all(api.call("GET", "deals", f"/v1/deals/{d['id']}", as_=h).json()["case_ref"]
                                 in (survivor, None) for h, d in members))
    assert moved, "the merged case's registrations follow the surviving case"
