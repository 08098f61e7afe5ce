"""`dealgate erase --deal ID`: erase a deal registration's personal data through the deals API (admin).

The API redacts the contact and the notes in deals and, through `deal.erased`, in conflict, and records who erased
which fields when in the registration's history; this prints what it answered.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import requests

from shared.auth import TokenService
from shared.config import ConfigError, Settings

DEFAULT_DEALS_URL = "http://127.0.0.1:8002"  # the local deals API of `make run` / `make up`


def add_erase_parser(commands: Any) -> None:  # argparse's private _SubParsersAction
    erase = commands.add_parser("erase", help="erase a deal registration's personal data (contact, notes) in deals "
                                              "and conflict, as admin")
    erase.add_argument("--deal", required=True, help="the registration's id")
    erase.add_argument("--url", default=os.environ.get("DEALGATE_DEALS_URL", DEFAULT_DEALS_URL),
                       help=f"the deals API (DEALGATE_DEALS_URL, default {DEFAULT_DEALS_URL})")
    erase.add_argument("--token", help="an admin bearer token; by default one signed like `dealgate token --role "
                                       "admin` (DEALGATE_JWT_SECRET), or with --idp one from the identity provider")
    erase.add_argument("--idp", action="store_true", help="get the admin token from the identity provider (as "
                                                          "`dealgate token --role admin --idp`)")


def erase_main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Call POST /v1/deals/{id}/erase and print the outcome: 0 when erased (or nothing was left), 1 otherwise."""
    try:
        token = args.token or _admin_token(args.idp)
    except (ConfigError, ValueError) as exc:
        parser.exit(2, f"dealgate erase: error: {exc}\n")
    url = f"{args.url.rstrip('/')}/v1/deals/{args.deal}/erase"
    try:
        answer = requests.post(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    except requests.RequestException as exc:
        sys.stderr.write(f"dealgate erase: the deals API at {args.url} did not answer: {exc}\n")
        return 1
    body: Any = answer.json() if "json" in answer.headers.get("Content-Type", "") else {}
    if answer.status_code != 200 or not isinstance(body, dict):
        detail = body.get("detail") if isinstance(body, dict) else None
        sys.stderr.write(f"dealgate erase: HTTP {answer.status_code}: {detail or answer.text[:300]}\n")
        return 1
    erasures = [entry for entry in body.get("history", []) if entry.get("erased")]
    last = erasures[-1] if erasures else None
    sys.stdout.write(json.dumps({
        "deal": body.get("id"), "version": body.get("version"),
        "erased": last["erased"] if last else [], "by": last.get("by") if last else None,
        "at": last.get("at") if last else None,
        "note": "erased in deals; conflict redacts its copy when it consumes deal.erased" if last else
                "no personal data left to erase"}, indent=2) + "\n")
    return 0


def _admin_token(idp: bool) -> str:
    settings = Settings.from_env("deals")
    if idp:
        from shared.cli import token_from_idp

        return token_from_idp(settings, "admin", None)
    if not settings.hs256_enabled:
        raise ValueError("this deployment accepts no HS256 tokens: pass --token, or --idp")
    return TokenService(settings.jwt_secret, settings.jwt_issuer).issue("admin", sub="admin:dealgate-erase")
