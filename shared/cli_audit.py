"""`dealgate audit verify`: walk a service's audit hash chain from its first entry and report the first break."""
from __future__ import annotations

import argparse
import sys
from typing import Any

import sqlalchemy as sa

from shared.audit import define_audit_tables, verify_chain
from shared.config import ConfigError, Settings
from shared.db import create_engine

SERVICES = ("catalog", "deals", "conflict")


def add_audit_parser(commands: Any) -> None:
    audit = commands.add_parser("audit", help="the audit trail: verify its hash chain")
    actions = audit.add_subparsers(dest="audit_command", required=True)
    verify = actions.add_parser("verify", help="walk each service's chain and report the first break (exit 1)")
    verify.add_argument("--service", choices=SERVICES, action="append",
                        help="the service whose database to check (repeatable; default: all three)")
    verify.add_argument("--database-url", help="check this database instead (with one --service); default: the "
                                               "service's <SERVICE>_DATABASE_URL")


def audit_main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    services = args.service or list(SERVICES)
    if args.database_url and len(services) != 1:
        parser.exit(2, "dealgate audit verify: error: --database-url needs exactly one --service\n")
    entries, chain = define_audit_tables(sa.MetaData())
    broken = False
    for service in services:
        try:
            url = args.database_url or Settings.from_env(service).database_url
        except ConfigError as exc:
            parser.exit(2, f"dealgate audit verify: error: {exc}\n")
        engine = create_engine(url)
        try:
            result = verify_chain(engine, entries, chain)
        except sa.exc.SQLAlchemyError as exc:
            print(f"{service}: cannot read the audit trail: {str(exc).splitlines()[0][:200]}", file=sys.stderr)
            return 2
        finally:
            engine.dispose()
        if result.first_break is None:
            print(f"{service}: intact: {result.sealed} sealed entries, {result.unsealed} not sealed yet; "
                  f"head {result.head_hash}")
        else:
            broken = True
            print(f"{service}: BROKEN at seq {result.first_break.seq}: {result.first_break.reason} "
                  f"({result.sealed} entries verified before it)")
    return 1 if broken else 0
