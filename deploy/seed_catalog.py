"""Loads the demo catalog through the catalog API (so its events flow like real ones): python -m deploy.seed_catalog

Idempotent: a listing whose title is already in the catalog is left alone, so `make up` twice adds nothing.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable

import requests

ALL_CHANNELS = ["reseller", "distributor", "msp", "marketplace", "direct"]
PARTNER_CHANNELS = ["reseller", "distributor", "msp"]


def _offer(name: str, model: str, amount: str, currency: str = "USD", *, channels=ALL_CHANNELS,
           regions=("NA", "EMEA", "APAC", "LATAM"), unit: str | None = None, term_months: int | None = None,
           private_to: str | None = None) -> dict:
    pricing: dict[str, object] = {"model": model, "price": {"amount": amount, "currency": currency}}
    if unit:
        pricing["unit"] = unit
    if term_months:
        pricing["term_months"] = term_months
    offer = {"name": name, "channels": list(channels), "regions": list(regions), "pricing": pricing}
    if private_to:
        offer.update(visibility="private", private_to=private_to)
    return offer


def _listing(title: str, summary: str, vendor: str, category: str, tags: list[str], offers: list[dict]) -> dict:
    return {"title": title, "summary": summary, "vendor": vendor, "category": category, "tags": tags, "offers": offers}


DEMO_LISTINGS = [
    _listing("Sentinel Zero Trust Gateway", "Identity-aware access to private apps without a VPN, with device posture "
             "checks and per-app policies.", "Northwind Security", "network-security", ["zero trust", "vpn", "sase"],
             [_offer("Per user, annual", "subscription", "96.00", unit="user", term_months=12),
              _offer("EMEA sovereign edition", "subscription", "89.00", "EUR", regions=["EMEA"], term_months=12,
                     channels=PARTNER_CHANNELS)]),
    _listing("Sentinel Cloud Firewall", "Managed next-generation firewall for AWS, Azure and GCP with central policy.",
             "Northwind Security", "network-security", ["firewall", "cloud", "ngfw"],
             [_offer("Per protected VPC", "per_unit", "450.00", unit="vpc"),
              _offer("Marketplace private offer", "subscription", "48000.00", channels=["marketplace"],
                     regions=["NA"], term_months=36, private_to="cloud-marketplace")]),
    _listing("Aegis Endpoint Detection & Response", "Behavioural EDR for Windows, macOS and Linux with 30-day "
             "telemetry retention and automated isolation.", "Aegis Labs", "endpoint-security",
             ["edr", "xdr", "malware", "ransomware"],
             [_offer("Per endpoint, annual", "subscription", "42.00", unit="endpoint", term_months=12),
              _offer("MSP monthly", "per_unit", "4.10", channels=["msp"], unit="endpoint")]),
    _listing("Aegis Mobile Threat Defense", "Protects iOS and Android fleets from phishing, rogue Wi-Fi and risky "
             "apps.", "Aegis Labs", "endpoint-security", ["mobile", "phishing", "mdm"],
             [_offer("Per device, annual", "subscription", "30.00", unit="device", term_months=12)]),
    _listing("Ledgerline Cloud ERP", "Finance, procurement and inventory for mid-market companies, multi-entity and "
             "multi-currency.", "Ledgerline", "erp", ["finance", "accounting", "inventory"],
             [_offer("Core, per named user", "subscription", "1200.00", unit="user", term_months=12,
                     channels=["reseller", "distributor", "direct"]),
              _offer("Implementation package", "flat", "25000.00", channels=["reseller", "direct"])]),
    _listing("Ledgerline Payroll", "Payroll and statutory filing for 40 countries with employee self-service.",
             "Ledgerline", "hr", ["payroll", "compliance", "hcm"],
             [_offer("Per employee, monthly", "per_unit", "6.50", unit="employee", regions=["NA", "EMEA"]),
              _offer("LATAM edition", "per_unit", "24.00", "BRL", unit="employee", regions=["LATAM"])]),
    _listing("Harbor Kubernetes Platform", "Hardened, upstream Kubernetes with fleet management, GitOps and "
             "policy guardrails.", "Harbor Systems", "devops", ["kubernetes", "containers", "gitops"],
             [_offer("Per vCPU, annual", "subscription", "180.00", unit="vcpu", term_months=12),
              _offer("Enterprise agreement", "flat", "250000.00", channels=["direct"])]),
    _listing("Harbor Container Registry", "Private OCI registry with vulnerability scanning, signing and "
             "replication.", "Harbor Systems", "devops", ["containers", "registry", "supply chain"],
             [_offer("Team", "subscription", "3600.00", term_months=12)]),
    _listing("Pulse Observability Suite", "Metrics, logs and traces in one place, with OpenTelemetry ingestion and "
             "SLO alerting.", "Pulse Analytics", "observability", ["monitoring", "apm", "opentelemetry", "logs"],
             [_offer("Per host, monthly", "per_unit", "23.00", unit="host"),
              _offer("Per GB ingested", "per_unit", "0.1000", unit="GB", channels=["marketplace", "direct"])]),
    _listing("Pulse Real User Monitoring", "Front-end performance and error tracking from real browser sessions.",
             "Pulse Analytics", "observability", ["rum", "web performance", "monitoring"],
             [_offer("Per 10k sessions", "per_unit", "1.80", unit="10k sessions")]),
    _listing("Quanta Data Warehouse", "Serverless columnar warehouse with separation of storage and compute.",
             "Quanta Data", "analytics", ["data warehouse", "sql", "bi"],
             [_offer("On demand, per TB scanned", "per_unit", "5.00", unit="TB", channels=["marketplace", "direct"]),
              _offer("Committed capacity", "subscription", "120000.00", term_months=12,
                     channels=["reseller", "distributor", "direct"])]),
    _listing("Quanta Streaming Analytics", "SQL over event streams with exactly-once sinks to the warehouse.",
             "Quanta Data", "analytics", ["streaming", "kafka", "real-time"],
             [_offer("Per processing unit", "per_unit", "0.2200", unit="PU-hour")]),
    _listing("Beacon Customer Data Platform", "Unifies customer profiles across web, app and CRM for segmentation.",
             "Beacon Marketing", "marketing", ["cdp", "segmentation", "personalisation"],
             [_offer("Growth", "subscription", "30000.00", term_months=12, regions=["NA", "EMEA"]),
              _offer("APAC Growth", "subscription", "4200000", "JPY", term_months=12, regions=["APAC"])]),
    _listing("Beacon Email Automation", "Journeys, A/B tests and deliverability tooling for lifecycle email.",
             "Beacon Marketing", "marketing", ["email", "automation", "campaigns"],
             [_offer("Per 1,000 contacts", "per_unit", "15.00", unit="1k contacts")]),
    _listing("Helix Service Desk", "ITSM with incident, problem and change management, plus an AI triage "
             "assistant.", "Helix Software", "itsm", ["service desk", "itil", "ticketing"],
             [_offer("Per agent, annual", "subscription", "720.00", unit="agent", term_months=12),
              _offer("MSP multi-tenant", "per_unit", "55.00", unit="agent", channels=["msp"])]),
    _listing("Helix Asset Manager", "Discovery and lifecycle tracking of hardware, software licences and SaaS "
             "spend.", "Helix Software", "itsm", ["asset management", "licences", "saas"],
             [_offer("Per 100 assets", "per_unit", "40.00", unit="100 assets")]),
    _listing("Vault Backup for Microsoft 365", "Immutable backup and granular restore for Exchange, SharePoint, "
             "OneDrive and Teams.", "Vaultkeep", "backup", ["backup", "microsoft 365", "ransomware"],
             [_offer("Per user, annual", "subscription", "24.00", unit="user", term_months=12),
              _offer("MSP per user, monthly", "per_unit", "1.75", unit="user", channels=["msp"])]),
    _listing("Vault Server Backup", "Image-level backup for VMware, Hyper-V and physical servers with instant "
             "recovery.", "Vaultkeep", "backup", ["backup", "disaster recovery", "vmware"],
             [_offer("Per socket", "per_unit", "890.00", unit="socket", channels=PARTNER_CHANNELS)]),
    _listing("Atlas Identity Governance", "Access reviews, joiner-mover-leaver automation and SoD controls.",
             "Atlas Identity", "identity", ["iam", "iga", "compliance"],
             [_offer("Per identity, annual", "subscription", "36.00", unit="identity", term_months=12),
              _offer("Private pilot", "flat", "15000.00", channels=["reseller"], regions=["NA"],
                     private_to="acme-reseller")]),
    _listing("Atlas Single Sign-On", "SAML and OIDC single sign-on with adaptive MFA and passwordless login.",
             "Atlas Identity", "identity", ["sso", "mfa", "passwordless"],
             [_offer("Per user, monthly", "per_unit", "3.00", unit="user")]),
    _listing("Meridian Contact Center", "Omnichannel cloud contact centre with voice, chat and workforce "
             "management.", "Meridian Communications", "communications", ["ccaas", "voice", "chat"],
             [_offer("Per agent seat", "subscription", "1500.00", unit="seat", term_months=12,
                     regions=["NA", "EMEA", "LATAM"])]),
    _listing("Meridian Team Messaging", "Secure team chat with channels, huddles and e-discovery.",
             "Meridian Communications", "communications", ["chat", "collaboration", "messaging"],
             [_offer("Per user, annual", "subscription", "84.00", unit="user", term_months=12)]),
    _listing("Forge Low-Code Platform", "Build internal apps and workflows on a governed low-code platform.",
             "Forge Apps", "developer-tools", ["low-code", "workflow", "automation"],
             [_offer("Per builder", "subscription", "2400.00", unit="builder", term_months=12),
              _offer("Per end user", "per_unit", "6.00", unit="user")]),
    _listing("Forge API Gateway", "Rate limiting, authentication and analytics for public and partner APIs.",
             "Forge Apps", "developer-tools", ["api", "gateway", "rate limiting"],
             [_offer("Per million calls", "per_unit", "3.50", unit="1M calls", channels=["marketplace", "direct"]),
              _offer("Self-hosted", "flat", "40000.00", channels=["reseller", "distributor", "direct"])]),
    _listing("Cobalt Email Security", "Blocks phishing, BEC and malicious attachments before they reach the inbox.",
             "Northwind Security", "email-security", ["phishing", "email", "bec"],
             [_offer("Per mailbox, annual", "subscription", "28.00", unit="mailbox", term_months=12),
              _offer("Distribution bundle", "per_unit", "2.20", "GBP", unit="mailbox", channels=["distributor"],
                     regions=["EMEA"])]),
]


def seed(base_url: str, admin_token: str, listings: Iterable[dict] = DEMO_LISTINGS, *,
         progress: Callable[[str], None] = print, session: requests.Session | None = None) -> int:
    """Create and publish every listing whose title is not in the catalog yet; returns how many were added."""
    session = session or requests.Session()
    session.headers["Authorization"] = f"Bearer {admin_token}"
    existing = _existing_titles(session, base_url)
    added = 0
    for listing in listings:
        if listing["title"] in existing:
            continue
        created = session.post(f"{base_url}/v1/listings", json=listing, timeout=10)
        created.raise_for_status()
        published = session.post(f"{base_url}/v1/listings/{created.json()['id']}/publish", timeout=10)
        published.raise_for_status()
        existing.add(listing["title"])
        added += 1
    progress(f"demo catalog: {added} listings added, {len(existing) - added} already there")
    return added


def _existing_titles(session: requests.Session, base_url: str) -> set[str]:
    titles: set[str] = set()
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = session.get(f"{base_url}/v1/listings", params=params, timeout=10)
        page.raise_for_status()
        titles.update(item["title"] for item in page.json()["items"])
        cursor = page.json()["next_cursor"]
        if not cursor:
            return titles


def main(argv: list[str] | None = None) -> int:
    from shared.auth import TokenService
    from shared.config import SERVICE_PORTS, Settings

    parser = argparse.ArgumentParser(prog="python -m deploy.seed_catalog", description=__doc__)
    parser.add_argument("--url", default=f"http://127.0.0.1:{SERVICE_PORTS['catalog']}")
    args = parser.parse_args(argv)
    settings = Settings.from_env("catalog")
    seed(args.url, TokenService(settings.jwt_secret, settings.jwt_issuer).issue("admin"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
