"""The `plume` command: run a service, prepare Kafka, load campaigns, manage API keys.
Each service adds its own commands through a `register(subparsers)` function."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from shared import apikeys
from shared.catalog import publish_campaign
from shared.contracts.catalog import CampaignFile
from shared.db import create_pool
from shared.kafka import durable_producer, ensure_topics
from shared.settings import InfraSettings
from shared.topic_health import topics_health
from shared.topics import ACTIONS, TOPICS, with_retention

SERVICES = ("intake", "counter", "delivery")
Command = Callable[[argparse.Namespace, InfraSettings], int]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="plume", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _register_core(sub)
    for service in SERVICES:
        importlib.import_module(f"services.{service}.entrypoints.cli").register(sub)
    importlib.import_module("services.supporters_cli").register(sub)
    args = parser.parse_args(argv)
    handler: Command = args.handler
    sys.exit(handler(args, InfraSettings()))


def _register_core(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run a service in the foreground")
    serve.add_argument("service", choices=SERVICES)
    serve.set_defaults(handler=_serve)

    topics = sub.add_parser(
        "topics", help="ensure: create the contract's topics if missing; status: their replicas"
    )
    topics.add_argument("action", choices=["ensure", "status"])
    topics.set_defaults(handler=_topics)

    campaign = sub.add_parser("campaign", help="campaigns")
    campaign_sub = campaign.add_subparsers(dest="action", required=True)
    load = campaign_sub.add_parser("load", help="create or update a campaign from its file")
    load.add_argument("file", type=Path)
    load.set_defaults(handler=_campaign_load)

    keys = sub.add_parser("keys", help="API keys")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    create = keys_sub.add_parser("create", help="create a key and print it once")
    create.add_argument("--name", required=True)
    create.add_argument("--scopes", required=True, help="comma-separated scopes")
    create.add_argument("--rate-limit", type=int, default=0, help="actions/minute, 0 = unlimited")
    create.set_defaults(handler=_keys_create)
    revoke = keys_sub.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("name")
    revoke.set_defaults(handler=_keys_revoke)
    listing = keys_sub.add_parser("list", help="list keys (never the keys themselves)")
    listing.set_defaults(handler=_keys_list)


def _serve(args: argparse.Namespace, _: InfraSettings) -> int:
    # Every service is served by its composition root.
    importlib.import_module(f"services.{args.service}.bootstrap").run()
    return 0


def _topics(args: argparse.Namespace, infra: InfraSettings) -> int:
    if args.action == "status":
        for topic in asyncio.run(topics_health(infra.kafka_bootstrap)):
            print(f"  {topic.describe()}")
        return 0
    specs = with_retention(TOPICS, ACTIONS, infra.actions_retention_days)
    created = asyncio.run(ensure_topics(infra.kafka_bootstrap, specs))
    print(f"topics created: {', '.join(created) or 'none (all present)'}")
    return 0


def _campaign_load(args: argparse.Namespace, infra: InfraSettings) -> int:
    try:
        campaign = CampaignFile.model_validate_json(args.file.read_bytes())
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        print(f"{args.file} is not a valid campaign file:\n{exc}", file=sys.stderr)
        return 2

    async def load() -> int:
        producer = durable_producer(infra.kafka_bootstrap, "plume-cli")
        await producer.start()
        try:
            return await publish_campaign(producer, campaign)
        finally:
            await producer.stop()

    count = asyncio.run(load())
    print(f"campaign {campaign.id}: {count} cases published")
    return 0


def _keys_create(args: argparse.Namespace, infra: InfraSettings) -> int:
    try:
        scopes = {apikeys.Scope(s.strip()) for s in args.scopes.split(",") if s.strip()}
    except ValueError as exc:
        valid = ", ".join(s.value for s in apikeys.Scope)
        print(f"{exc}; scopes are: {valid}", file=sys.stderr)
        return 2
    if not scopes or args.rate_limit < 0:
        print("at least one scope and a rate limit >= 0 are needed", file=sys.stderr)
        return 2

    async def create() -> str:
        pool = await create_pool(infra.database_url, max_size=1)
        try:
            await apikeys.prepare(pool)
            async with pool.acquire() as conn:
                return await apikeys.create_key(conn, args.name, scopes, args.rate_limit)
        finally:
            await pool.close()

    try:
        secret = asyncio.run(create())
    except apikeys.KeyNameTaken:
        reserved = ", ".join(sorted(apikeys.RESERVED_NAMES))
        print(f"a key named {args.name!r} exists already (reserved: {reserved})", file=sys.stderr)
        return 1
    print(secret)
    return 0


def _keys_revoke(args: argparse.Namespace, infra: InfraSettings) -> int:
    async def revoke() -> bool:
        pool = await create_pool(infra.database_url, max_size=1)
        try:
            await apikeys.prepare(pool)
            async with pool.acquire() as conn:
                return await apikeys.revoke_key(conn, args.name)
        finally:
            await pool.close()

    if not asyncio.run(revoke()):
        print(f"no live key named {args.name!r}", file=sys.stderr)
        return 1
    print(f"revoked {args.name}")
    return 0


def _keys_list(_: argparse.Namespace, infra: InfraSettings) -> int:
    async def listing() -> list[dict[str, object]]:
        pool = await create_pool(infra.database_url, max_size=1)
        try:
            await apikeys.prepare(pool)
            async with pool.acquire() as conn:
                return [dict(r) for r in await apikeys.list_keys(conn)]
        finally:
            await pool.close()

    for row in asyncio.run(listing()):
        print(json.dumps(row, default=str))
    return 0
