"""Issue 18 end to end on the real stack (gunicorn, workers, Kafka, PostgreSQL): a named account defended for its
owner, a partner outside its countries, a vendor lead assigned by score and accepted into a protected
registration, a lead that times out and moves on, and the bad inputs."""
import time

from tests.conftest import unique
from tests.e2e.test_desk_browser import browser_page  # noqa: F401 - the Chromium page fixture


def wait_for(check, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def profile(api, partner_id, *, tier="gold", countries=("DE",), capacity=5):
    response = api.call("PUT", "deals", f"/v1/partners/{partner_id}", as_=api.headers("admin"), json={
        "tier": tier, "countries": list(countries), "channels": ["reseller"], "lead_capacity": capacity})
    assert response.status_code in (200, 201), response.text
    return response.json()


def put_territory(api, name, body, *, until_owner_known=True):
    """PUT a territory; while conflict has not yet read the owner's profile from deals.partners.v1, it answers 422
    on `owner`, so this retries on that one error only."""
    deadline = time.monotonic() + 30
    while True:
        response = api.call("PUT", "conflict", f"/v1/territories/{name}", as_=api.headers("admin"), json=body)
        owner_unknown = response.status_code == 422 and list(response.json().get("errors", {})) == ["owner"]
        if not (until_owner_known and owner_unknown) or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def create_lead(api, customer, products, **extra):
    """POST /v1/leads, retrying only while deals has not yet seen the listing (422 on products)."""
    deadline = time.monotonic() + 20
    while True:
        response = api.call("POST", "deals", "/v1/leads", as_=api.headers("sales"),
                            json={"customer": customer, "products": products, **extra})
        if response.status_code != 422 or time.monotonic() > deadline:
            assert response.status_code == 201, response.text
            return response.json()
        time.sleep(0.1)


def test_a_named_account_is_defended_for_its_owner_who_registered_nothing(api):
    owner, intruder = unique("owner"), unique("intruder")
    profile(api, owner, countries=("DE", "AT"))
    domain = f"{unique('kunde')}.de"
    saved = put_territory(api, unique("dach").lower(), {"owner": owner, "countries": ["DE", "AT"],
                                                        "named_accounts": [f"https://www.{domain}/"]})
    assert saved.status_code == 201, saved.text
    assert saved.json()["named_accounts"][0]["key"] == domain
    product = api.published_listing()
    reseller = api.headers("partner", partner_id=intruder)
    submitted = api.submit(reseller, [product], customer={"name": "Kunde GmbH", "domain": domain, "country": "DE"})
    assert submitted.status_code == 201, submitted.text
    deal = api.wait_for_verdict(submitted.json()["id"], reseller)
    assert deal["status"] == "in_conflict", deal
    assert owner not in str(deal) and "territor" not in deal["reason"].lower()  # names no one
    case = api.call("GET", "conflict", f"/v1/cases/{deal['case_ref']}", as_=api.headers("desk")).json()
    assert case["queue"] == f"named-accounts-{owner}"
    assert [r["deal_id"] for r in case["registrations"]] == [deal["id"]]
    assert case["rules_applied"][0]["rule"] == "territories.named_account" and owner in case["rules_applied"][0][
        "effect"]
    queues = {q["name"] for q in api.call("GET", "conflict", "/v1/queues", as_=api.headers("desk")).json()}
    assert f"named-accounts-{owner}" in queues
    # the desk upholds the owner's claim: the intruder's registration is rejected, with a reason naming no one
    decided = api.call("POST", "conflict", f"/v1/cases/{case['id']}/resolve", as_=api.headers("desk"),
                       json={"decision": "reject_all", "note": f"named account of {owner}"})
    assert decided.status_code == 200, decided.text
    rejected = wait_for(lambda: (d := api.call("GET", "deals", f"/v1/deals/{deal['id']}", as_=reseller).json())
                        ["status"] == "rejected" and d)
    assert rejected and owner not in str(rejected)
    # deals read the territory from conflicts.territories.v1: a vendor lead for the named account goes to its owner
    # (in a country no partner sells in, so before deals knows the territory it would wait for the desk instead)
    lead = wait_for(lambda: (made := create_lead(api, {"name": "Kunde KK", "domain": domain, "country": "JP"},
                                                 [product]))["assignee"] == owner and made, timeout_s=20)
    assert lead and lead["attempts"][0]["basis"] == "named_account", "deals routes leads by the territory"


def test_a_partner_outside_its_countries_is_flagged_on_the_case(api):
    dach, other = unique("dach-only"), unique("rival")
    profile(api, dach, countries=("DE", "AT"))
    wait_for(lambda: put_territory(api, unique("probe").lower(), {"owner": dach, "countries": ["DE"]}
                                   ).status_code == 201)  # conflict knows the profile now
    product = api.published_listing()
    customer = {"name": "Société Exemple SA", "domain": f"{unique('exemple')}.fr", "country": "FR"}
    first = api.submit(api.headers("partner", partner_id=other), [product], customer=customer)
    assert first.status_code == 201, first.text
    api.wait_for_verdict(first.json()["id"], api.headers("partner", partner_id=other))
    outsider = api.headers("partner", partner_id=dach)
    second = api.submit(outsider, [product], customer=customer)
    deal = api.wait_for_verdict(second.json()["id"], outsider)
    assert deal["status"] == "in_conflict", deal
    case = api.call("GET", "conflict", f"/v1/cases/{deal['case_ref']}", as_=api.headers("desk")).json()
    flags = [a for a in case["rules_applied"] if a["rule"] == "territories.out_of_territory"]
    assert flags and "customer in FR" in flags[0]["effect"] and "DE" in flags[0]["effect"]
    assert other not in str(deal)


def test_a_lead_is_assigned_by_score_accepted_and_becomes_a_protected_registration(api):
    platinum, silver, full = unique("plat"), unique("silv"), unique("full")
    profile(api, platinum, tier="platinum", countries=("IE",))
    profile(api, silver, tier="silver", countries=("IE",))
    profile(api, full, tier="platinum", countries=("IE",), capacity=0)
    product = api.published_listing()
    customer = {"name": "Éire Analytics Ltd", "domain": f"{unique('eire')}.ie", "country": "IE"}
    lead = create_lead(api, customer, [product], notes="Met at the Dublin summit")
    assert lead["status"] == "assigned" and lead["assignee"] == platinum, lead
    reasons = {r["factor"]: r for r in lead["attempts"][0]["reasons"]}
    assert lead["attempts"][0]["basis"] == "score" and reasons["tier"]["basis"] == "tier platinum"
    assert reasons["capacity"]["value"] == 1.0 and lead["due_at"]
    partner = api.headers("partner", partner_id=platinum)
    inbox = api.call("GET", "deals", "/v1/leads", as_=partner).json()["items"]
    assert [item["id"] for item in inbox] == [lead["id"]]
    accepted = api.call("POST", "deals", f"/v1/leads/{lead['id']}/accept", as_=partner,
                        json={"amount": {"amount": "42000.00", "currency": "EUR"}})
    assert accepted.status_code == 200, accepted.text
    registration = accepted.json()["registration"]
    assert registration["status"] == "approved" and registration["protection_until"]
    assert registration["source"] == "vendor_lead" and registration["lead_id"] == lead["id"]
    # protected: a later registration by another partner for the same customer and product goes to review,
    # and the vendor-sourced one stays approved
    rival = api.headers("partner", partner_id=silver)
    late = api.submit(rival, [product], customer=customer)
    assert api.wait_for_verdict(late.json()["id"], rival)["status"] == "in_conflict"
    still = api.call("GET", "deals", f"/v1/deals/{registration['id']}", as_=partner).json()
    assert still["status"] == "approved"
    stats = api.call("GET", "deals", "/v1/leads/analytics", as_=api.headers("desk")).json()
    assert stats["by_tier"]["platinum"]["accepted"] >= 1 and stats["time_to_accept_hours"]["count"] >= 1


def test_a_lead_not_accepted_in_time_is_reassigned_to_the_next_partner(api):
    first, second = unique("slow"), unique("next")
    profile(api, first, tier="platinum", countries=("PT",))
    profile(api, second, tier="registered", countries=("PT",))
    product = api.published_listing()
    lead = create_lead(api, {"name": "Lusitania Lda", "domain": f"{unique('lus')}.pt", "country": "PT"}, [product],
                       sla_hours=0.001)  # 3.6 s (the e2e stack counts wall-clock hours: DEALS_LEAD_SLA_CLOCK=wall)
    assert lead["assignee"] == first
    moved = wait_for(lambda: (d := api.call("GET", "deals", f"/v1/leads/{lead['id']}", as_=api.headers("admin"))
                              .json())["assignee"] == second and d)
    assert moved, "the expire worker reassigned the lead"
    assert moved["attempts"][0]["outcome"] == "expired" and moved["attempts"][1]["partner_id"] == second
    assert api.call("GET", "deals", f"/v1/leads/{lead['id']}",
                    as_=api.headers("partner", partner_id=first)).status_code == 404
    seen_by_next = api.call("GET", "deals", f"/v1/leads/{lead['id']}", as_=api.headers("partner", partner_id=second))
    assert seen_by_next.status_code == 200 and first not in seen_by_next.text  # who had it before stays hidden


def test_bad_territories_profiles_and_leads_get_422_naming_the_problem(api):
    owner = unique("bad-owner")
    profile(api, owner, countries=("SE",))
    account = f"{unique('nord')}.se"
    first_name = unique("north").lower()
    assert put_territory(api, first_name, {"owner": owner, "countries": ["SE"],
                                           "named_accounts": [account]}).status_code == 201
    overlapping = put_territory(api, unique("south").lower(), {"owner": "direct", "countries": ["SE"],
                                                               "named_accounts": [f"WWW.{account.upper()}"]})
    assert overlapping.status_code == 422
    message = overlapping.json()["errors"]["named_accounts.0"][0]
    assert account in message and first_name in message and owner in message
    countries = put_territory(api, unique("x").lower(), {"owner": "direct", "countries": ["SE", "QQ"]})
    assert countries.status_code == 422 and "QQ" in countries.json()["errors"]["countries"][0]
    nobody = put_territory(api, unique("y").lower(), {"owner": unique("ghost"), "countries": ["SE"]},
                           until_owner_known=False)
    assert nobody.status_code == 422 and "Unknown owner" in nobody.json()["errors"]["owner"][0]
    not_admin = api.call("PUT", "conflict", "/v1/territories/z", as_=api.headers("desk"),
                         json={"owner": "direct", "countries": []})
    assert not_admin.status_code == 403
    bad_profile = api.call("PUT", "deals", f"/v1/partners/{owner}", as_=api.headers("admin"),
                           json={"tier": "gold", "countries": ["SE", "QQ"], "channels": ["reseller"],
                                 "lead_capacity": 1})
    assert bad_profile.status_code == 422 and "QQ" in str(bad_profile.json()["errors"])
    bad_lead = api.call("POST", "deals", "/v1/leads", as_=api.headers("sales"),
                        json={"customer": {"name": "X AB", "country": "SE"}, "products": [unique("nope")]})
    assert bad_lead.status_code == 422 and "products.0" in bad_lead.json()["errors"]


def test_the_desk_shows_each_lead_and_why_it_went_where_it_went(api, browser_page, tmp_path):  # noqa: F811
    gold = unique("desk-gold")
    profile(api, gold, tier="gold", countries=("NZ",))
    product = api.published_listing()
    hostile = f"<img src=x onerror=alert(1)> {unique('Kiwi')} Ltd"
    lead = create_lead(api, {"name": hostile, "domain": f"{unique('kiwi')}.co.nz", "country": "NZ"}, [product])
    stranded = create_lead(api, {"name": "Nowhere Ltd", "country": "NZ"}, [product], sla_hours=100)
    desk = api.headers("desk")
    declined = api.call("POST", "deals", f"/v1/leads/{stranded['id']}/decline",
                        as_=api.headers("partner", partner_id=gold), json={"reason": "Too far"})
    assert declined.status_code == 200 and declined.json()["status"] == "unassigned"  # nobody else sells in NZ
    board = wait_for(lambda: (b := api.call("GET", "conflict", "/v1/leads", as_=desk).json()) and {
        item["id"]: item for item in b["items"]}.get(stranded["id"], {}).get("status") == "unassigned" and b)
    assert board, "conflict read the leads from deals.leads.v1"
    items = {item["id"]: item for item in board["items"]}
    mine = items[lead["id"]]
    assert mine["assignee"] == gold and mine["attempts"][0]["tier"] == "gold"
    assert mine["attempts"][0]["channel"] == "reseller"
    assert {r["factor"] for r in mine["attempts"][0]["reasons"]} >= {"tier", "capacity", "win_rate"}
    assert board["figures"]["by_tier"]["gold"]["assigned"] >= 2 and board["figures"]["leads"] >= 2
    assert "notes" not in mine
    assert api.call("GET", "conflict", "/v1/leads", as_=api.headers("partner", partner_id=gold)).status_code == 403

    page = browser_page
    alerts = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    page.goto(api.stack.url("conflict") + "/desk#leads")
    page.fill("#token", api.tokens.issue("desk", sub=unique("desk:leads")))
    page.click("#signin button[type=submit]")
    page.wait_for_selector("#leads[data-loaded='true']")
    row = page.locator(f"#leads-table tr[data-lead='{lead['id']}']")
    assert hostile in row.inner_text() and gold in row.inner_text()
    assert "tier gold" in row.inner_text() and "capacity" in row.inner_text()
    page.select_option("#leads-status", "unassigned")
    # the filtered page replaces the list: the assigned lead leaves it, the one in the desk's queue stays
    page.wait_for_selector(f"#leads-table tr[data-lead='{lead['id']}']", state="detached")
    stranded_row = page.locator(f"#leads-table tr[data-lead='{stranded['id']}']")
    assert "No partner with free capacity" in stranded_row.inner_text()
    assert page.locator("#nav-leads[aria-current='page']").count() == 1 and alerts == []
    screenshot = tmp_path / "desk-leads.png"
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"leads view screenshot: {screenshot}")
