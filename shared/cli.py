"""The `dealgate` command: operator chores such as printing a bearer token for a role."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import requests

from shared.auth import CHANNELS, PARTNER_ROLES, ROLES, TokenService, parse_ttl
from shared.cli_audit import add_audit_parser, audit_main
from shared.cli_erase import add_erase_parser, erase_main
from shared.config import ConfigError, Settings

LOCAL_KEYCLOAK_ISSUER = "http://127.0.0.1:8080/realms/dealgate"  # what `make up IDP=keycloak` starts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dealgate", description="Dealgate operator commands.")
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="print a bearer token: signed with DEALGATE_JWT_SECRET, or with --idp "
                                              "one from the identity provider")
    token.add_argument("--role", required=True, choices=ROLES)
    token.add_argument("--partner-id", help="required for partner and marketplace roles")
    token.add_argument("--channel", choices=CHANNELS, help="defaults from the role")
    token.add_argument("--ttl", help="lifetime such as 30m, 1h, 7d (default 1h)")
    token.add_argument("--sub", help="subject (defaults to role:partner-id)")
    token.add_argument("--idp", action="store_true",
                       help="get a real access token from the OpenID Connect issuer (DEALGATE_OIDC_ISSUER, else the "
                            f"local Keycloak {LOCAL_KEYCLOAK_ISSUER}) through the client-credentials grant of the "
                            "client dealgate-<role>[-<partner-id>]; its secret from DEALGATE_OIDC_CLIENT_SECRET, or in "
                            "development from deploy/keycloak/realm-dealgate.json")
    add_erase_parser(commands)
    add_audit_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "erase":
        return erase_main(args, parser)
    if args.command == "audit":
        return audit_main(args, parser)

    try:
        settings = Settings.from_env("deals")
    except ConfigError as exc:
        parser.exit(2, f"dealgate token: error: {exc}\n")
    try:
        if args.idp:
            printed = token_from_idp(settings, args.role, args.partner_id, channel=args.channel, ttl=args.ttl,
                                     sub=args.sub)
        elif not settings.hs256_enabled:
            raise ValueError("this deployment accepts no HS256 tokens (DEALGATE_ENV=production without "
                             "DEALGATE_JWT_SECRET): get one from the identity provider with --idp")
        else:
            printed = TokenService(settings.jwt_secret, settings.jwt_issuer).issue(
                args.role, partner_id=args.partner_id, channel=args.channel, ttl=parse_ttl(args.ttl or "1h"),
                sub=args.sub)
    except ValueError as exc:
        parser.exit(2, f"dealgate token: error: {exc}\n")
    sys.stdout.write(printed + "\n")
    return 0


def token_from_idp(settings: Settings, role: str, partner_id: str | None, *, channel: str | None = None,
                   ttl: str | None = None, sub: str | None = None) -> str:
    """An access token from the issuer's token endpoint, through the client-credentials grant."""
    if channel or ttl or sub:
        raise ValueError("with --idp the channel, lifetime and subject come from the identity provider")
    if role == "desk":
        raise ValueError("the desk is a person: sign in at /desk (--idp gets tokens for clients)")
    if role in PARTNER_ROLES and not partner_id:
        raise ValueError(f"a {role} token needs --partner-id")
    if role not in PARTNER_ROLES and partner_id:
        raise ValueError(f"{'an' if role == 'admin' else 'a'} {role} token cannot carry a partner id")
    client_id = f"dealgate-{role}-{partner_id}" if partner_id else f"dealgate-{role}"
    secret = os.environ.get("DEALGATE_OIDC_CLIENT_SECRET")
    if not secret and not settings.is_production:
        from deploy.keycloak import client_secret

        secret = client_secret(client_id)
    if not secret:
        raise ValueError(f"no secret for the client {client_id}: set DEALGATE_OIDC_CLIENT_SECRET")
    issuer = settings.oidc_issuer or LOCAL_KEYCLOAK_ISSUER
    try:
        discovery = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
        discovery.raise_for_status()
        endpoint = discovery.json()["token_endpoint"]
        answer = requests.post(endpoint, timeout=10, data={"grant_type": "client_credentials", "client_id": client_id,
                                                           "client_secret": secret})
    except (requests.RequestException, ValueError, KeyError) as exc:
        raise ValueError(f"the identity provider at {issuer} did not answer: {exc}") from None
    body: Any = answer.json() if answer.headers.get("Content-Type", "").startswith("application/json") else {}
    if answer.status_code != 200 or not isinstance(body.get("access_token"), str):
        reason = body.get("error_description") or body.get("error") or f"HTTP {answer.status_code}"
        raise ValueError(f"the identity provider refused the client {client_id}: {reason}")
    return str(body["access_token"])


if __name__ == "__main__":
    sys.exit(main())
