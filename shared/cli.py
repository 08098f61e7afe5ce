"""The `dealgate` command: operator chores such as printing a signed token for a role."""
from __future__ import annotations

import argparse
import sys

from shared.auth import CHANNELS, ROLES, TokenService, parse_ttl
from shared.config import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dealgate", description="Dealgate operator commands.")
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="print a signed bearer token (uses DEALGATE_JWT_SECRET)")
    token.add_argument("--role", required=True, choices=ROLES)
    token.add_argument("--partner-id", help="required for partner and marketplace roles")
    token.add_argument("--channel", choices=CHANNELS, help="defaults from the role")
    token.add_argument("--ttl", default="1h", help="lifetime such as 30m, 1h, 7d (default 1h)")
    token.add_argument("--sub", help="subject (defaults to role:partner-id)")
    args = parser.parse_args(argv)

    settings = Settings.from_env("deals")
    try:
        printed = TokenService(settings.jwt_secret, settings.jwt_issuer).issue(
            args.role, partner_id=args.partner_id, channel=args.channel, ttl=parse_ttl(args.ttl), sub=args.sub)
    except ValueError as exc:
        parser.exit(2, f"dealgate token: error: {exc}\n")
    sys.stdout.write(printed + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
