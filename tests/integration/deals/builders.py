"""Valid inputs for the deals integration tests, each with its own unique ids."""
import datetime as dt
import uuid


def published_listing() -> dict:
    return {"id": str(uuid.uuid4()), "title": "IT Suite", "status": "published", "version": 1,
            "offers": [{"id": str(uuid.uuid4()), "name": "Std", "visibility": "public",
                        "channels": ["reseller", "distributor", "msp", "marketplace", "direct"],
                        "regions": ["NA", "EMEA", "APAC", "LATAM"]}]}


def body(product: str) -> dict:
    return {"customer": {"name": f"Kunde {uuid.uuid4().hex[:6]} GmbH", "country": "DE",
                         "domain": f"{uuid.uuid4().hex[:8]}.de"},
            "products": [product], "amount": {"amount": "990.00", "currency": "EUR"},
            "expected_close": (dt.date.today() + dt.timedelta(days=30)).isoformat()}
