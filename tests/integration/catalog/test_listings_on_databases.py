"""Search, pages and optimistic concurrency on both stores: SQLite (FTS5) and PostgreSQL (tsvector + GIN)."""
import threading
import uuid

import pytest

from services.catalog.app import create_app
from services.catalog.bootstrap import MIGRATIONS, bootstrap
from services.catalog.settings import CatalogSettings
from shared.auth import TokenService
from shared.bus import InMemoryBus
from shared.db import upgrade_to_head


@pytest.fixture
def client(database_url, tmp_path):
    upgrade_to_head(database_url, MIGRATIONS)
    settings = CatalogSettings.from_env(env={"DEALGATE_VAR_DIR": str(tmp_path), "CATALOG_DATABASE_URL": database_url,
                                             "CATALOG_RELAY_DOORBELL_PORT": "0"})
    catalog = bootstrap(settings, bus=InMemoryBus())
    yield create_app({"SETTINGS": settings}, catalog=catalog).test_client()
    catalog.engine.dispose()


@pytest.fixture
def admin(client):
    return {"Authorization": "Bearer " + TokenService(CatalogSettings.from_env(env={}).jwt_secret).issue("admin")}


def publish(client, admin, *, title, summary="Nothing special here.", tags=(), **extra) -> str:
    created = client.post("/v1/listings", headers=admin, json={
        "title": title, "summary": summary, "vendor": "Vendor", "category": extra.get("category", "security"),
        "tags": list(tags), "offers": [{"name": "Std", "channels": extra.get("channels", ["reseller"]),
                                        "regions": ["NA"],
                                        "pricing": {"model": "flat", "price": {"amount": "1.00", "currency": "USD"}}}]})
    assert created.status_code == 201, created.json
    assert client.post(f"/v1/listings/{created.json['id']}/publish", headers=admin).status_code == 200
    return created.json["id"]


def test_search_ranks_title_over_tags_over_summary_and_needs_every_word(client, admin):
    word = "w" + uuid.uuid4().hex[:8]
    in_summary = publish(client, admin, title="Plain", summary=f"Mentions {word} and storage.")
    in_title = publish(client, admin, title=f"{word.upper()} Storage Manager")
    in_tags = publish(client, admin, title="Other", tags=[word, "storage"])
    publish(client, admin, title="Unrelated", summary="storage only")
    found = client.get(f"/v1/listings?q={word}").json["items"]
    assert [item["id"] for item in found] == [in_title, in_tags, in_summary]
    both = client.get("/v1/listings", query_string={"q": f"{word} stor"}).json["items"]
    assert [item["id"] for item in both] == [in_title, in_tags, in_summary], "prefix of storage; all words must match"
    assert client.get(f"/v1/listings?q={word}+absentword").json["items"] == []


def test_filters_combine_with_search(client, admin):
    word = "f" + uuid.uuid4().hex[:8]
    msp = publish(client, admin, title=f"{word} one", channels=["msp"], category="backup")
    publish(client, admin, title=f"{word} two", channels=["reseller"], category="backup")
    assert [i["id"] for i in client.get(f"/v1/listings?q={word}&channel=msp").json["items"]] == [msp]
    assert len(client.get(f"/v1/listings?q={word}&category=backup&region=NA").json["items"]) == 2
    assert client.get(f"/v1/listings?q={word}&region=APAC").json["items"] == []


def test_pages_stay_stable_while_listings_are_added(client, admin):
    word = "p" + uuid.uuid4().hex[:8]
    before = {publish(client, admin, title=f"{word} {n}") for n in range(12)}
    stop = threading.Event()
    added: list[str] = []

    def keep_adding():
        while not stop.is_set() and len(added) < 30:
            added.append(publish(client, admin, title=f"{word} late {len(added)}"))

    writer = threading.Thread(target=keep_adding)
    writer.start()
    try:
        seen, cursor = [], None
        while True:
            page = client.get("/v1/listings",
                              query_string={"q": word, "limit": 3, **({"cursor": cursor} if cursor else {})})
            assert page.status_code == 200
            seen.extend(item["id"] for item in page.json["items"])
            cursor = page.json["next_cursor"]
            if not cursor:
                break
    finally:
        stop.set()
        writer.join()
    assert len(seen) == len(set(seen)), "no listing appears twice"
    assert before <= set(seen), "no listing that existed when paging began is skipped"
    assert added, "listings were being added meanwhile"


def test_two_patches_with_the_same_if_match_one_wins_one_gets_412(client, admin):
    listing_id = publish(client, admin, title="Contended " + uuid.uuid4().hex[:6])
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def patch(title):
        barrier.wait()
        statuses.append(client.patch(f"/v1/listings/{listing_id}", json={"title": title},
                                     headers={**admin, "If-Match": '"2"'}).status_code)

    threads = [threading.Thread(target=patch, args=(f"Title {n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 412]
    assert client.get(f"/v1/listings/{listing_id}").json["version"] == 3


def test_every_change_to_a_published_listing_goes_through_the_outbox(client, admin, database_url):
    import sqlalchemy as sa

    from services.catalog.storage.tables import outbox
    from shared.db import create_engine

    listing_id = publish(client, admin, title="Outboxed " + uuid.uuid4().hex[:6])
    client.patch(f"/v1/listings/{listing_id}", json={"summary": "Changed"}, headers={**admin, "If-Match": '"2"'})
    client.post(f"/v1/listings/{listing_id}/retire", headers=admin)
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(outbox.c.event_type, outbox.c.message_key, outbox.c.topic)
                                  .where(outbox.c.message_key == listing_id).order_by(outbox.c.id)).all()
    engine.dispose()
    assert [(r.event_type, r.topic) for r in rows] == [("listing.published", "catalog.listings.v1"),
                                                       ("listing.updated", "catalog.listings.v1"),
                                                       ("listing.retired", "catalog.listings.v1")]
