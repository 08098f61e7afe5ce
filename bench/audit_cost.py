"""What the audit trail costs a submission, and how fast the chain is sealed, on one PostgreSQL database.

Rounds of concurrent submissions through the real handler and SQL unit of work alternate between the audit
entry on (the default: one more INSERT in the submission's transaction) and off; then the sealer's rate over
every entry written. Prints JSON.

    .venv/bin/python -m bench.audit_cost --url postgresql+psycopg://dealgate:dealgate@127.0.0.1:5432/bench
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import threading
import time
import uuid

from services.deals import handlers
from services.deals.api.schemas import DealSubmitSchema
from services.deals.bootstrap import MIGRATIONS, bootstrap
from services.deals.settings import DealsSettings
from services.deals.storage import tables
from shared.audit import AuditChain, verify_chain
from shared.auth import Principal
from shared.db import upgrade_to_head


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="an empty PostgreSQL database")
    parser.add_argument("--per-round", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each variant, alternating")
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    upgrade_to_head(args.url, MIGRATIONS)
    settings = DealsSettings.from_env(env={}, database_url=args.url, relay_doorbell=None,
                                      kafka_bootstrap_servers="127.0.0.1:1")
    deals = bootstrap(settings)
    product = str(uuid.uuid4())
    with deals.uow_factory() as uow:
        uow.catalog.upsert({"id": product, "title": "Bench", "status": "published", "version": 1,
                            "offers": [{"id": "o", "name": "Std", "visibility": "public",
                                        "channels": ["reseller", "direct"], "regions": ["EMEA"]}]})
        uow.commit()

    def without_audit():
        uow = deals.uow_factory()
        setattr(uow, "_audit_log", None)  # noqa: B010 - the variant without the entry, to measure the hook
        return uow

    schema = DealSubmitSchema()
    close = (dt.date.today() + dt.timedelta(days=30)).isoformat()

    def submit_round(factory, count: int) -> float:
        principal = Principal(sub="bench", role="partner", partner_id=f"bench-{uuid.uuid4().hex[:6]}",
                              channel="reseller")
        bodies = [{"customer": {"name": f"Bench {uuid.uuid4().hex[:8]} AB", "country": "SE",
                                "domain": f"{uuid.uuid4().hex[:10]}.se"},
                   "products": [product], "amount": {"amount": "100.00", "currency": "EUR"},
                   "expected_close": close} for _ in range(count)]
        chunks = [bodies[n::args.threads] for n in range(args.threads)]

        def work(chunk):
            for body in chunk:
                handlers.submit_deal(schema.load(body), principal=principal, limits=deals.limits,
                                     uow_factory=factory)
        threads = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return count / (time.perf_counter() - started)

    submit_round(deals.uow_factory, 100)  # warm-up
    rates: dict[str, list[float]] = {"audit_on": [], "audit_off": []}
    for _ in range(args.rounds):
        rates["audit_on"].append(submit_round(deals.uow_factory, args.per_round))
        rates["audit_off"].append(submit_round(without_audit, args.per_round))
    chain = AuditChain(deals.engine, tables.audit_log, tables.audit_chain)
    started = time.perf_counter()
    sealed = chain.seal_all()
    seal_s = time.perf_counter() - started
    started = time.perf_counter()
    verified = verify_chain(deals.engine, tables.audit_log, tables.audit_chain)
    verify_s = time.perf_counter() - started
    on, off = statistics.median(rates["audit_on"]), statistics.median(rates["audit_off"])
    print(json.dumps({
        "submissions_per_s_audit_on": round(on, 1), "submissions_per_s_audit_off": round(off, 1),
        "audit_cost_percent": round(100 * (off - on) / off, 1), "rounds": rates,
        "sealed": sealed, "seal_entries_per_s": round(sealed / seal_s), "verified": verified.sealed,
        "verify_entries_per_s": round(verified.sealed / verify_s), "intact": verified.intact}, indent=1))
    deals.engine.dispose()


if __name__ == "__main__":
    main()
