"""The deals service's settings: the shared ones plus its policy, limits and caches, checked at start-up."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from services.deals.lead_settings import lead_values
from shared.config import Settings, read_float, read_int


@dataclasses.dataclass(frozen=True)
class DealsSettings(Settings):
    SERVICE: ClassVar[str] = "deals"

    # Vendor leads (issue 18): services/deals/lead_settings.py reads and checks them.
    lead_sla_hours: float = 48.0  # DEALS_LEAD_SLA_HOURS: how long a partner has to accept a lead
    lead_sla_clock: str = "business"  # DEALS_LEAD_SLA_CLOCK: business (Mon-Fri 09-17 UTC) or wall hours
    lead_max_declines: int = 3  # DEALS_LEAD_MAX_DECLINES: declines after which a lead goes back to the desk
    lead_weights: str = ""  # DEALS_LEAD_WEIGHTS: factor=weight pairs (services/deals/domain/assignment.py)
    lead_tier_points: str = ""  # DEALS_LEAD_TIER_POINTS: tier=points pairs

    protection_days: int = 90  # DEALS_PROTECTION_DAYS (SPEC section 5)
    extension_days: int = 30  # DEALS_EXTENSION_DAYS
    extension_window_days: int = 14  # DEALS_EXTENSION_WINDOW_DAYS: how long before expiry an extension is allowed
    max_extensions: int = 1  # DEALS_MAX_EXTENSIONS
    rate_limit_per_minute: int = 3000  # DEALS_RATE_LIMIT_PER_MINUTE, per partner and API process; 0 turns it off
    check_rate_limit_per_minute: int = 30  # DEALS_CHECK_RATE_LIMIT_PER_MINUTE, per partner; 0 turns it off
    listing_cache_s: float = 1.0  # DEALS_LISTING_CACHE_S: how long an API process reuses a listing it read
    expiry_interval_s: float = 60.0  # DEALS_EXPIRY_INTERVAL_S: how often the expiry worker looks
    webhook_max_endpoints: int = 10  # DEALS_WEBHOOK_MAX_ENDPOINTS, per partner
    webhook_timeout_s: float = 10.0  # DEALS_WEBHOOK_TIMEOUT_S: connect and read, per delivery attempt
    webhook_poll_s: float = 1.0  # DEALS_WEBHOOK_POLL_S: how often the webhook worker looks for due deliveries
    portal_client_id: str = "dealgate-portal"  # DEALS_PORTAL_CLIENT_ID: the portal's public OpenID Connect client

    @classmethod
    def service_values(cls, env: Mapping[str, str]) -> dict[str, Any]:
        return dict(
            **lead_values(env),
            protection_days=read_int(env, "DEALS_PROTECTION_DAYS", 90, minimum=1),
            extension_days=read_int(env, "DEALS_EXTENSION_DAYS", 30, minimum=1),
            extension_window_days=read_int(env, "DEALS_EXTENSION_WINDOW_DAYS", 14, minimum=1),
            max_extensions=read_int(env, "DEALS_MAX_EXTENSIONS", 1),
            rate_limit_per_minute=read_int(env, "DEALS_RATE_LIMIT_PER_MINUTE", 3000),
            check_rate_limit_per_minute=read_int(env, "DEALS_CHECK_RATE_LIMIT_PER_MINUTE", 30),
            listing_cache_s=read_float(env, "DEALS_LISTING_CACHE_S", 1.0),
            expiry_interval_s=read_float(env, "DEALS_EXPIRY_INTERVAL_S", 60.0, minimum=0.1),
            webhook_max_endpoints=read_int(env, "DEALS_WEBHOOK_MAX_ENDPOINTS", 10, minimum=1),
            webhook_timeout_s=read_float(env, "DEALS_WEBHOOK_TIMEOUT_S", 10.0, minimum=0.1),
            webhook_poll_s=read_float(env, "DEALS_WEBHOOK_POLL_S", 1.0, minimum=0.05),
            portal_client_id=(env.get("DEALS_PORTAL_CLIENT_ID") or "dealgate-portal").strip(),
        )
