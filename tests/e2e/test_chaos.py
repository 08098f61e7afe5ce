"""The short `make chaos`: 1,000 registrations through one kill of each kind; nothing lost, nothing twice."""
from deploy.stack import Ports
from tests.conftest import PORT_OFFSET, RUN_DIR


def test_faults_lose_nothing_duplicate_nothing_and_change_no_case():
    from bench.chaos import run_chaos

    ports = Ports(kafka=24601 + PORT_OFFSET,
                  http={"catalog": 24001 + PORT_OFFSET, "deals": 24002 + PORT_OFFSET, "conflict": 24003 + PORT_OFFSET},
                  doorbell={"catalog": 24301 + PORT_OFFSET, "deals": 24302 + PORT_OFFSET,
                            "conflict": 24303 + PORT_OFFSET})
    report = run_chaos(1000, 25, rounds=1, ports=ports, base_dir=RUN_DIR / "chaos", pg_port=24901 + PORT_OFFSET)
    problems = {k: v[:10] for k, v in report["details"].items() if v}
    print(f"chaos: {report['acknowledged']} acknowledged, lost {report['lost']}, duplicated {report['duplicated']}; "
          f"recovery {report['recovery_s']} s; faults: {report['fault_log']}")
    assert report["acknowledged"] == 1000
    assert (report["lost"], report["duplicated"]) == (0, 0), problems
    assert report["cases_equal_fault_free"], (report["cases"], report["fault_free_cases"])
    assert report["recovery_s"] is not None and report["recovery_s"] < 30
