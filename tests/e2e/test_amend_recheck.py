"""An approved registration whose customer is changed goes back through conflict detection, over Kafka."""
import uuid


def test_changing_the_customer_of_an_approved_registration_is_judged_again(api):
    listing_id = api.published_listing()
    customer = {"name": f"Recheck {uuid.uuid4().hex[:6]} SA", "domain": f"recheck-{uuid.uuid4().hex[:6]}.fr",
                "country": "FR"}
    direct = api.headers("sales")
    reseller = api.headers("partner", partner_id=f"recheck-{uuid.uuid4().hex[:6]}")
    held = api.submit(direct, [listing_id], customer=customer).json()
    assert api.wait_for_verdict(held["id"], direct)["status"] == "approved"
    mine = api.submit(reseller, [listing_id]).json()
    assert api.wait_for_verdict(mine["id"], reseller)["status"] == "approved"

    approved = api.call("GET", "deals", f"/v1/deals/{mine['id']}", as_=reseller)
    amended = api.call("PATCH", "deals", f"/v1/deals/{mine['id']}", json={"customer": customer},
                       as_={**reseller, "If-Match": approved.headers["ETag"]})
    assert amended.status_code == 200, amended.text
    assert amended.json()["status"] == "submitted"
    decided = api.wait_for_verdict(mine["id"], reseller)
    assert decided["status"] == "in_conflict" and decided["case_ref"], decided
    assert [h["status"] for h in decided["history"]] == ["submitted", "approved", "submitted", "in_conflict"]
