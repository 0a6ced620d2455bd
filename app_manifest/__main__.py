"""``python -m app_manifest --app-id GUID --out PATH.zip [--version 1.0.0]``.

Builds the Teams app package.  Exit codes: 0 on success, 2 on invalid arguments
(e.g. an app id that is not a GUID), 1 if the package could not be written.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from app_manifest.package import (
    DEFAULT_VERSION,
    PackageError,
    build_package,
    validate_app_id,
    validate_offer,
    validate_version,
)

logger = logging.getLogger("app_manifest")


def _app_id(value: str) -> str:
    try:
        return validate_app_id(value)
    except PackageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _version(value: str) -> str:
    try:
        return validate_version(value)
    except PackageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _offer(value: str) -> str:
    try:
        return validate_offer(value)
    except PackageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app_manifest",
        description="Build the TeamsWork Microsoft Teams app package "
        "(manifest.json, color.png and outline.png in a zip).",
    )
    parser.add_argument(
        "--app-id",
        required=True,
        type=_app_id,
        help="the bot's Microsoft App ID (a GUID); used as the app id and bots[0].botId",
    )
    parser.add_argument("--out", required=True, type=Path, help="path of the zip file to write")
    parser.add_argument(
        "--version",
        default=DEFAULT_VERSION,
        type=_version,
        help=f"app version, MAJOR.MINOR.PATCH (default: {DEFAULT_VERSION})",
    )
    parser.add_argument(
        "--offer",
        type=_offer,
        default=None,
        help="the marketplace SaaS offer, publisherId.offerId: written to subscriptionOffer",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # exits with code 2 on invalid arguments
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        path = build_package(args.app_id, args.out, version=args.version, offer=args.offer)
    except PackageError as exc:
        logger.error("cannot build the app package: %s", exc)
        return 2
    except OSError as exc:
        logger.error("cannot build %s: %s", args.out, exc)
        return 1
    sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
