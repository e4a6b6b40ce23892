"""``stormcom-server``: operator commands. Errors are one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Sequence

from server.config import ConfigError, Settings


class CommandError(Exception):
    """An operator mistake with a readable message (no traceback)."""


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    from server.db import encrypted
    from server.db.engine import check_connection, make_engine

    engine = make_engine(settings.database_url, echo=settings.sql_echo)
    encrypted.configure_from_settings(settings)
    check_connection(engine)
    return engine


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> None:
    from server.db import migrate

    engine = _engine(settings)
    migrate.upgrade(engine, args.revision)
    print(f"database at revision {migrate.current_revision(engine)}")


def cmd_downgrade(settings: Settings, args: argparse.Namespace) -> None:
    from server.db import migrate

    migrate.downgrade(_engine(settings), args.revision)
    print(f"downgraded to {args.revision}")


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    from server.serving import Listen, ServeError, serve

    engine = _engine(settings)
    engine.dispose()  # checked; each worker opens its own pool
    if args.workers > 1 and engine.dialect.name == "sqlite":
        raise CommandError("--workers above 1 needs PostgreSQL: the embedded SQLite file "
                           "takes one writer at a time. Serve it with one process.")
    listen = Listen(host=args.host or settings.host, port=args.port or settings.port,
                    workers=args.workers, log_level=args.log_level,
                    access_log=not args.no_access_log)
    try:
        serve(settings, listen)
    except ServeError as exc:
        raise CommandError(str(exc)) from exc


def cmd_seed_demo(settings: Settings, args: argparse.Namespace) -> None:
    from server.seed.demo import SeedRefused, seed_demo

    engine = _engine(settings)
    try:
        report = seed_demo(engine, products=args.products, if_empty=args.if_empty)
    except SeedRefused as exc:
        raise CommandError(str(exc)) from exc
    print(report)


def cmd_create_store(settings: Settings, args: argparse.Namespace) -> None:
    from server.seed.operators import create_store

    with _session(settings) as session:
        store = create_store(
            session,
            name=args.name,
            slug=args.slug,
            email=args.email,
            currency=args.currency,
            plan=args.plan,
        )
        session.commit()
        print(f"created store {store.slug} ({store.id})")


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> None:
    from server.seed.operators import create_user

    password = args.password or getpass.getpass("Password for the new user: ")
    with _session(settings) as session:
        user = create_user(
            session,
            email=args.email,
            name=args.name,
            password=password,
            store_slug=args.store,
            role=args.role,
        )
        session.commit()
        print(f"created user {user.email} ({user.id})")


def cmd_pair_terminal(settings: Settings, args: argparse.Namespace) -> None:
    from sqlalchemy import select

    from server.clock import system_clock
    from server.errors import ServiceError
    from server.seed.operators import (
        create_pairing_code,
        pending_terminal,
        reissue_pairing_code,
    )
    from server.stores import plan_service
    from server.stores.models import Store

    with _session(settings) as session:
        store = session.scalar(select(Store).where(Store.slug == args.store,
                                                   Store.deleted_at.is_(None)))
        if store is None:
            raise CommandError(f"no store with the slug {args.store!r}")
        try:  # the same plan check as pairing from the back office
            plan_service.require_pos_access(session, store_id=store.id, now=system_clock())
        except ServiceError as exc:
            raise CommandError(f"store {store.slug!r}: {exc.detail}") from exc
        # A till of this name still waiting (the demo seed makes one, or an earlier run):
        # a fresh code for it rather than a second pending terminal.
        waiting = pending_terminal(session, store=store, name=args.name)
        if waiting is not None:
            code = reissue_pairing_code(session, device=waiting)
        else:
            _, code = create_pairing_code(session, store=store, name=args.name)
        session.commit()
        print(code if args.quiet else f"pairing code for {args.name!r} in {store.slug}: {code}")


def cmd_gen_data_key(settings: Settings, args: argparse.Namespace) -> None:
    from server.db import encrypted

    print(encrypted.generate_key())


def cmd_rotate_data_key(settings: Settings, args: argparse.Namespace) -> None:
    from server.db import encrypted
    from server.db.all_models import Base

    engine = _engine(settings)
    try:
        with engine.begin() as conn:
            count = encrypted.rewrite_columns(conn, encrypted.secret_columns(Base.metadata),
                                              encrypted.rotate)
    except encrypted.WrongDataKey as exc:
        raise CommandError(str(exc)) from exc
    finally:
        engine.dispose()
    print(f"re-encrypted {count} stored secrets with the first data key; the keys after it "
          "can now be removed")


def _session(settings: Settings):  # type: ignore[no-untyped-def]
    from server.db.engine import make_session_factory

    return make_session_factory(_engine(settings))()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stormcom-server", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the HTTP API with uvicorn")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes sharing the port (PostgreSQL; default 1)")
    p.add_argument("--log-level", default="info",
                   choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--no-access-log", action="store_true", help="no line per request")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="upgrade the database schema (to head by default)")
    p.add_argument("--revision", default="head")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("downgrade", help="downgrade the database schema (to base by default)")
    p.add_argument("--revision", default="base")
    p.set_defaults(func=cmd_downgrade)

    p = sub.add_parser("seed-demo", help="create the demo store, staff, catalog and a pairing code")
    p.add_argument("--products", type=int, default=60, help="number of products (default 60)")
    p.add_argument(
        "--if-empty",
        action="store_true",
        help="do nothing (exit 0) when the demo store already exists",
    )
    p.set_defaults(func=cmd_seed_demo)

    p = sub.add_parser("create-store", help="create a store on a plan")
    p.add_argument("--name", required=True)
    p.add_argument("--slug", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--currency", default="USD")
    p.add_argument("--plan", default="FREE", choices=["FREE", "BASIC", "PRO", "ENTERPRISE"])
    p.set_defaults(func=cmd_create_store)

    p = sub.add_parser("create-user", help="create a staff user in a store with a role")
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--store", required=True, help="the store's slug")
    p.add_argument(
        "--role",
        default="CASHIER",
        choices=["OWNER", "ADMIN", "MANAGER", "CASHIER", "STAFF", "VIEWER"],
    )
    p.add_argument("--password", help="prompted for when omitted")
    p.set_defaults(func=cmd_create_user)

    p = sub.add_parser("pair-terminal", help="print a single-use pairing code for a new till")
    p.add_argument("--store", required=True, help="the store's slug")
    p.add_argument("--name", default="Till", help="the till's name (default: Till)")
    p.add_argument("--quiet", action="store_true", help="print the code only")
    p.set_defaults(func=cmd_pair_terminal)

    p = sub.add_parser("gen-data-key", help="print a new key for STORMCOM_DATA_KEYS")
    p.set_defaults(func=cmd_gen_data_key)

    p = sub.add_parser("rotate-data-key", help="re-encrypt every stored secret with the first "
                       "data key, after putting a new key first (older keys may then go)")
    p.set_defaults(func=cmd_rotate_data_key)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[Settings, argparse.Namespace], None] = args.func
    try:
        func(Settings(), args)
    except (ConfigError, CommandError) as exc:
        print(f"stormcom-server: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
