"""The desk's layout in Chromium on the real stack: a paged list (50 a page, cursors), the case beside it on a wide
screen and in its place on a narrow one, the case in the URL, and j / k / c on the keyboard.

Its cases are large deals (the default rules route those to the `strategic` queue, which no other end-to-end test
fills), so the queue holds exactly the cases this test made.
"""
import datetime as dt
import time
import uuid

import requests

from tests.conftest import unique
from tests.e2e.test_desk_browser import browser_page  # noqa: F401 - the Chromium page fixture

QUEUE = "strategic"
CASES = 52  # one more page than the 50 a page holds, and then some


def large_deal(api, headers, product, customer):
    body = {"customer": customer, "products": [product], "amount": {"amount": "300000.00", "currency": "USD"},
            "expected_close": (dt.date.today() + dt.timedelta(days=60)).isoformat()}
    deadline = time.monotonic() + 20
    while True:  # retried only while deals has not yet seen the listing
        response = api.call("POST", "deals", "/v1/deals", as_=headers, json=body)
        if response.status_code != 422 or time.monotonic() > deadline:
            assert response.status_code == 201, response.text
            return response.json()
        time.sleep(0.05)


def strategic_cases(api, count) -> tuple[list[str], str]:
    """`count` cases in the strategic queue, each a reseller and direct sales on one customer; their ids."""
    product = api.published_listing()
    title = api.call("GET", "catalog", f"/v1/listings/{product}").json()["title"]
    sales = api.headers("sales")
    for _ in range(count):
        customer = {"name": f"Grossauftrag {uuid.uuid4().hex[:8]} GmbH", "domain": f"{unique('ga')}.de",
                    "country": "DE"}
        large_deal(api, api.headers("partner", partner_id=unique("big-reseller")), product, customer)
        large_deal(api, sales, product, customer)
    deadline = time.monotonic() + 60
    while True:  # each pair's verdicts arrive in either order (the two events may sit on different partitions)
        listed = api.call("GET", "conflict", f"/v1/cases?queue={QUEUE}&limit=200", as_=api.headers("desk")).json()
        if len(listed["items"]) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(listed["items"]) == count, "the strategic queue holds exactly this test's cases"
    return [c["id"] for c in listed["items"]], title


def until_shown(page, selector, text, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while text not in page.inner_text(selector) and time.monotonic() < deadline:
        page.click("#refresh")
        page.wait_for_timeout(500)
    assert text in page.inner_text(selector)


def shown(page) -> list[str]:
    return [row.get_attribute("data-case") for row in page.locator("#cases tbody tr").all()]


def test_the_desk_pages_the_list_opens_cases_beside_it_in_the_url_and_moves_by_keyboard(api, browser_page, tmp_path):  # noqa: F811
    case_ids, title = strategic_cases(api, CASES)
    page = browser_page
    desk_url = api.stack.url("conflict") + "/desk"
    token = api.tokens.issue("desk", sub=unique("desk:layout"))
    page.goto(desk_url)
    page.fill("#token", token)
    page.click("#signin button[type=submit]")
    page.wait_for_selector("#cases tbody tr")
    page.select_option("#filter-queue", QUEUE)
    page.wait_for_selector("#page-info:has-text('Page 1 · cases 1–50')")
    deadline = time.monotonic() + 20  # the unfiltered first page also reads "cases 1–50": wait for the queue's
    while not set(shown(page)) <= set(case_ids) and time.monotonic() < deadline:
        page.wait_for_timeout(100)

    # Paging: 50, then the rest; the pages neither overlap nor miss a case, and Previous comes back.
    first_page = shown(page)
    oldest_first = requests.get(api.stack.url("conflict") + "/v1/cases", timeout=10,
                                params={"queue": QUEUE, "status": ["open", "claimed"], "limit": 50},
                                headers={"Authorization": f"Bearer {token}"}).json()["items"]
    assert len(first_page) == 50 and first_page == [c["id"] for c in oldest_first], "the API's order, oldest first"
    assert page.is_disabled("#prev-page") and not page.is_disabled("#next-page")
    page.click("#next-page")
    page.wait_for_selector(f"#page-info:has-text('Page 2 · cases 51–{CASES}')")
    second_page = shown(page)
    assert sorted(first_page + second_page) == sorted(case_ids)
    assert page.is_disabled("#next-page")
    page.click("#prev-page")
    page.wait_for_selector("#page-info:has-text('Page 1')")
    assert shown(page) == first_page

    # A case opens beside the list, near the top of the page, and its id goes into the URL.
    third = first_page[2]
    page.click(f"#cases tr[data-case='{third}']")
    page.wait_for_selector(f"#case-title:has-text('{third}')")
    assert page.url.endswith(f"#case={third}")
    listing, case = page.locator("#list-pane").bounding_box(), page.locator("#case").bounding_box()
    assert case["x"] >= listing["x"] + listing["width"] - 1 and case["y"] < 200, (listing, case)
    assert page.locator("#cases tr.selected").get_attribute("data-case") == third

    # Each registration shows its current status, and products show their titles (both reach conflict through
    # events: deals' status changes and the catalog's listings), so the page is refreshed until they are there.
    until_shown(page, "#registrations .products", title)
    until_shown(page, "#registrations", "in_conflict")
    statuses = page.locator("#registrations .deal-status").all_inner_texts()
    assert len(statuses) == 2 and set(statuses) <= {"approved", "in_conflict"}, statuses

    # j / k move through the list (the URL follows), c claims.
    page.keyboard.press("j")
    page.wait_for_selector(f"#case-title:has-text('{first_page[3]}')")
    assert page.url.endswith(f"#case={first_page[3]}")
    page.keyboard.press("k")
    page.keyboard.press("k")
    page.wait_for_selector(f"#case-title:has-text('{first_page[1]}')")
    page.keyboard.press("c")
    page.wait_for_selector("#case[data-status='claimed']")
    claimed = api.call("GET", "conflict", f"/v1/cases/{first_page[1]}", as_=api.headers("desk")).json()
    assert claimed["status"] == "claimed" and claimed["claimed_by"].startswith("desk:layout")
    page.screenshot(path=str(tmp_path / "desk-wide.png"))

    # A shared link opens the case once its reader signs in.
    reader = page.context.browser.new_page()  # a colleague's browser: no token stored yet
    reader.set_viewport_size({"width": 1400, "height": 1000})
    reader.goto(f"{desk_url}#case={second_page[0]}")
    reader.fill("#token", token)
    reader.click("#signin button[type=submit]")
    reader.wait_for_selector(f"#case-title:has-text('{second_page[0]}')")
    reader.close()

    # On a narrow screen the case takes the list's place, and the way back returns to it.
    page.set_viewport_size({"width": 800, "height": 1000})
    assert page.locator("#list-pane").is_hidden() and page.locator("#case").is_visible()
    page.screenshot(path=str(tmp_path / "desk-narrow.png"))
    page.click("#back")
    page.wait_for_selector("#case", state="hidden")
    assert page.locator("#list-pane").is_visible() and page.url.endswith("#cases")
    page.go_back()  # the browser's Back reopens the case
    page.wait_for_selector(f"#case-title:has-text('{first_page[1]}')")
    assert page.locator("#list-pane").is_hidden()
    print(f"\ndesk layout screenshots: {tmp_path / 'desk-wide.png'}, {tmp_path / 'desk-narrow.png'}")
