"""Property-based fuzzing of all three OpenAPI documents with schemathesis, with a token for every role.

Zero 5xx, and every response must match its documented status, content type and schema. `make test` runs a
bounded pass (DEALGATE_FUZZ_EXAMPLES, default 5 per operation); `make fuzz` runs a long one.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = int(os.environ.get("DEALGATE_FUZZ_EXAMPLES", "5"))
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
ROLES = {
    "anonymous": None,
    "partner": {"partner_id": "fuzz-partner"},
    "marketplace": {"partner_id": "fuzz-market"},
    "sales": {},
    "desk": {},
    "admin": {},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("service", ["catalog", "deals", "conflict"])
def test_fuzzing_finds_no_server_error_and_no_contract_break(stack, api, service, role):
    command = [str(Path(sys.executable).parent / "st"), "run", stack.url(service) + "/openapi.json",
               "--checks", CHECKS, "-n", str(EXAMPLES), "--request-timeout", "15", "--max-failures", "5",
               "--generation-deterministic"]
    claims = ROLES[role]
    if claims is not None:
        command += ["-H", f"Authorization: {api.headers(role, **claims)['Authorization']}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
