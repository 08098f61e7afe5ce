"""Production refuses to start without safe identity configuration: every process, with one line naming the variable."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.deals.settings import DealsSettings
from shared.config import DEFAULT_JWT_SECRET, ConfigError, Settings

REPO = Path(__file__).resolve().parents[3]
STRONG = "an-operators-own-secret-of-32-bytes-or-more"
REFUSAL = ("DEALGATE_ENV=production needs DEALGATE_OIDC_ISSUER (an OpenID Connect issuer) or DEALGATE_JWT_SECRET "
           "(an HS256 secret of at least 32 bytes, not the built-in one); refusing to start with the development "
           "secret")


def test_development_is_the_default_and_signs_with_the_built_in_secret():
    settings = Settings.from_env("deals", {})
    assert (settings.environment, settings.hs256_enabled, settings.jwt_secret) == (
        "development", True, DEFAULT_JWT_SECRET)
    assert settings.oidc_issuer is None
    assert (settings.oidc_role_claim, settings.oidc_partner_id_claim, settings.oidc_channel_claim,
            settings.oidc_audience) == ("realm_access.roles", "partner_id", "channel", "dealgate")


@pytest.mark.parametrize("env, named", [
    ({}, REFUSAL),
    ({"DEALGATE_JWT_SECRET": DEFAULT_JWT_SECRET}, "DEALGATE_JWT_SECRET is the built-in development secret"),
    ({"DEALGATE_JWT_SECRET": "x" * 31}, "DEALGATE_JWT_SECRET must be at least 32 bytes in production, not 31"),
    ({"DEALGATE_JWT_SECRET": "é" * 15}, "DEALGATE_JWT_SECRET must be at least 32 bytes in production, not 30"),
    ({"DEALGATE_OIDC_ISSUER": "http://idp.example.com/realms/dealgate"}, "DEALGATE_OIDC_ISSUER must use https"),
    ({"DEALGATE_OIDC_ISSUER": "idp.example.com"}, "DEALGATE_OIDC_ISSUER must be the issuer's http"),
    ({"DEALGATE_OIDC_ISSUER": "https://idp.example.com", "DEALGATE_OIDC_ROLE_CLAIM": " "},
     "DEALGATE_OIDC_ROLE_CLAIM must not be empty"),
])
def test_production_refuses_unsafe_identity_configuration(env, named):
    with pytest.raises(ConfigError, match=named.replace("(", r"\(").replace(")", r"\)")):
        DealsSettings.from_env(env={"DEALGATE_ENV": "production", **env})


def test_an_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="DEALGATE_ENV must be development or production, not 'prod'"):
        Settings.from_env("deals", {"DEALGATE_ENV": "prod"})


def test_production_starts_with_an_issuer_and_then_accepts_no_hs256_token():
    settings = Settings.from_env("deals", {"DEALGATE_ENV": "production",
                                           "DEALGATE_OIDC_ISSUER": "https://idp.example.com/realms/dealgate/",
                                           "DEALGATE_OIDC_AUDIENCE": "dealgate-deals"})
    assert settings.is_production and not settings.hs256_enabled
    assert settings.oidc_issuer == "https://idp.example.com/realms/dealgate"
    assert settings.oidc_audience == "dealgate-deals"


def test_production_starts_with_a_strong_secret_of_its_own():
    settings = Settings.from_env("deals", {"DEALGATE_ENV": "production", "DEALGATE_JWT_SECRET": STRONG})
    assert settings.hs256_enabled and settings.jwt_secret == STRONG and settings.oidc_issuer is None


def _production_env(tmp_path: Path) -> dict[str, str]:
    return {"DEALGATE_ENV": "production", "DEALGATE_VAR_DIR": str(tmp_path), "PATH": os.environ.get("PATH", "")}


def test_a_production_worker_refuses_to_start_with_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "services.deals.workers.relay"], capture_output=True, text=True,
                            env=_production_env(tmp_path), cwd=REPO, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == f"dealgate deals: {REFUSAL}"


@pytest.mark.parametrize("service", ["catalog", "deals", "conflict"])
def test_a_production_api_refuses_to_start_with_one_line_and_gunicorn_exits(tmp_path, service):
    gunicorn = Path(sys.executable).parent / "gunicorn"
    result = subprocess.run([str(gunicorn), "-c", str(REPO / "deploy" / "gunicorn.conf.py"), "--bind",
                             "127.0.0.1:0", f"services.{service}.app:create_app()"], capture_output=True, text=True,
                            env=_production_env(tmp_path), cwd=REPO, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"dealgate {service}: {REFUSAL}"]


def test_the_app_factory_itself_refuses_with_gunicorns_app_load_exit(monkeypatch, capsys):
    from services.deals.app import create_app

    monkeypatch.setenv("DEALGATE_ENV", "production")
    monkeypatch.delenv("DEALGATE_JWT_SECRET", raising=False)
    monkeypatch.delenv("DEALGATE_OIDC_ISSUER", raising=False)
    with pytest.raises(SystemExit) as exited:
        create_app()
    assert exited.value.code == 4
    assert capsys.readouterr().err.strip() == f"dealgate deals: {REFUSAL}"
