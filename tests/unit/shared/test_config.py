"""Typed settings: each service reads and checks its own variables once, and a wrong one stops start-up clearly."""
from __future__ import annotations

import subprocess
import sys

import pytest

from services.catalog.settings import CatalogSettings
from services.conflict.settings import DEFAULT_RULES_FILE, ConflictSettings
from services.deals.settings import DealsSettings
from shared.config import ConfigError


def test_defaults_follow_the_spec():
    deals = DealsSettings.from_env(env={})
    assert (deals.service, deals.protection_days, deals.max_extensions) == ("deals", 90, 1)
    assert CatalogSettings.from_env(env={}).page_cache_entries == 2048
    assert ConflictSettings.from_env(env={}).rules_file == DEFAULT_RULES_FILE


def test_each_service_reads_its_own_typed_values():
    deals = DealsSettings.from_env(env={"DEALS_PROTECTION_DAYS": "60", "DEALS_LISTING_CACHE_S": "0",
                                        "DEALS_CHECK_RATE_LIMIT_PER_MINUTE": "0"})
    assert deals.protection_days == 60 and deals.listing_cache_s == 0.0 and deals.check_rate_limit_per_minute == 0


@pytest.mark.parametrize("settings_class, env, named", [
    (DealsSettings, {"DEALS_PROTECTION_DAYS": "ninety"}, "DEALS_PROTECTION_DAYS must be a whole number"),
    (DealsSettings, {"DEALS_PROTECTION_DAYS": "0"}, "DEALS_PROTECTION_DAYS must be at least 1"),
    (DealsSettings, {"DEALS_LISTING_CACHE_S": "nan"}, "DEALS_LISTING_CACHE_S must be at least 0"),
    (CatalogSettings, {"CATALOG_PAGE_CACHE_ENTRIES": "-5"}, "CATALOG_PAGE_CACHE_ENTRIES must be at least 1"),
    (ConflictSettings, {"CONFLICT_RULES_FILE": "/no/such/rules.yaml"}, "CONFLICT_RULES_FILE names"),
    (DealsSettings, {"DEALGATE_RELAY_POLL_S": "soon"}, "DEALGATE_RELAY_POLL_S must be a number"),
])
def test_a_wrong_value_is_refused_naming_its_variable(settings_class, env, named):
    with pytest.raises(ConfigError, match=named):
        settings_class.from_env(env=env)


def test_a_worker_with_a_wrong_setting_exits_with_one_line_naming_it(tmp_path):
    result = subprocess.run([sys.executable, "-m", "services.deals.workers.migrate"], capture_output=True, text=True,
                            env={"DEALGATE_VAR_DIR": str(tmp_path), "DEALS_MAX_EXTENSIONS": "many", "PATH": ""},
                            timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == "dealgate deals: DEALS_MAX_EXTENSIONS must be a whole number, not 'many'"
