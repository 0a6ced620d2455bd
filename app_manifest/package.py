"""Build the Microsoft Teams app package (``manifest.json`` + icons, zipped).

The manifest lives in ``manifest.template.json`` next to this module.  Two placeholders
are substituted at build time, wherever they appear in a string value:

* ``{{APP_ID}}``: the Microsoft App ID (a GUID); used for both ``id`` and
  ``bots[0].botId``.
* ``{{APP_VERSION}}``: the app version (``MAJOR.MINOR.PATCH``).
"""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

from bot.apps import build_registry
from bot.apps.registry import Registry
from bot.i18n import t

logger = logging.getLogger(__name__)

TEMPLATE_NAME = "manifest.template.json"
MANIFEST_NAME = "manifest.json"
COLOR_ICON_NAME = "color.png"
OUTLINE_ICON_NAME = "outline.png"
PACKAGE_FILES = (MANIFEST_NAME, COLOR_ICON_NAME, OUTLINE_ICON_NAME, "de.json")

APP_ID_PLACEHOLDER = "{{APP_ID}}"
VERSION_PLACEHOLDER = "{{APP_VERSION}}"
DEFAULT_VERSION = "1.0.0"
BOT_SCOPES = ("personal", "team", "groupChat")
GERMAN_FILE = "de.json"
LOCALIZATION_SCHEMA = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/"
    "MicrosoftTeams.Localization.schema.json"
)

# Same patterns as the "guid" and "semver" definitions of the Teams manifest schema.
_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_VERSION_RE = re.compile(r"^(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)$")
_PLACEHOLDER_RE = re.compile(r"\{\{[A-Z_]+\}\}")

# Fixed timestamp so that the same inputs always give a byte-identical zip.
_ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)


class PackageError(ValueError):
    """The package cannot be built from the given inputs."""


class InvalidAppIdError(PackageError):
    """The app id is not a GUID."""


class InvalidVersionError(PackageError):
    """The version is not MAJOR.MINOR.PATCH."""


def is_guid(value: str) -> bool:
    """True for a GUID in 8-4-4-4-12 hex form, e.g. ``00000000-0000-0000-0000-000000000000``."""
    return bool(_GUID_RE.fullmatch(value))


def validate_app_id(app_id: str) -> str:
    """Return ``app_id`` (whitespace stripped) or raise :class:`InvalidAppIdError`."""
    candidate = app_id.strip()
    if not is_guid(candidate):
        raise InvalidAppIdError(
            f"app id {app_id!r} is not a GUID; expected the bot's Microsoft App ID in the form "
            "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hex digits)"
        )
    return candidate


def validate_version(version: str) -> str:
    """Return ``version`` (whitespace stripped) or raise :class:`InvalidVersionError`."""
    candidate = version.strip()
    if not _VERSION_RE.fullmatch(candidate):
        raise InvalidVersionError(
            f"version {version!r} is not valid; Teams expects MAJOR.MINOR.PATCH, e.g. 1.0.0"
        )
    return candidate


def _asset_bytes(name: str) -> bytes:
    return resources.files(__package__ or "app_manifest").joinpath(name).read_bytes()


def load_template() -> dict[str, Any]:
    """The manifest template, placeholders not yet substituted."""
    data = json.loads(_asset_bytes(TEMPLATE_NAME).decode("utf-8"))
    if not isinstance(data, dict):
        raise PackageError(f"{TEMPLATE_NAME} must contain a JSON object")
    return data


def _substitute(node: Any, values: dict[str, str]) -> Any:
    if isinstance(node, str):
        for placeholder, value in values.items():
            node = node.replace(placeholder, value)
        return node
    if isinstance(node, list):
        return [_substitute(item, values) for item in node]
    if isinstance(node, dict):
        return {key: _substitute(item, values) for key, item in node.items()}
    return node


def _leftover_placeholders(node: Any) -> set[str]:
    if isinstance(node, str):
        return set(_PLACEHOLDER_RE.findall(node))
    if isinstance(node, list):
        return set().union(*(_leftover_placeholders(item) for item in node))
    if isinstance(node, dict):
        return set().union(*(_leftover_placeholders(item) for item in node.values()))
    return set()


def command_lists(registry: Registry) -> list[dict[str, Any]]:
    """The bot's command menu, one list per scope, from the commands the app registry
    features (Teams shows at most ten per scope)."""
    commands = [
        {"title": command.phrase, "description": _sentence(t("en", command.help[0][1]))}
        for command in registry.featured()
    ]
    return [{"scopes": [scope], "commands": commands} for scope in BOT_SCOPES]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


_OFFER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*\.[A-Za-z0-9][A-Za-z0-9_.-]*$")


def validate_offer(offer: str) -> str:
    """A commercial marketplace SaaS offer: ``publisherId.offerId``."""
    offer = offer.strip()
    if not _OFFER.match(offer) or len(offer) > 2048:
        raise PackageError(f"the offer must be publisherId.offerId, got {offer!r}")
    return offer


def render_manifest(
    app_id: str,
    version: str = DEFAULT_VERSION,
    registry: Registry | None = None,
    offer: str | None = None,
) -> dict[str, Any]:
    """Fill the template with ``app_id`` and ``version``, add the command lists of the app
    registry, and sanity-check the result."""
    app_id = validate_app_id(app_id)
    version = validate_version(version)
    manifest: dict[str, Any] = _substitute(
        load_template(), {APP_ID_PLACEHOLDER: app_id, VERSION_PLACEHOLDER: version}
    )
    leftover = _leftover_placeholders(manifest)
    if leftover:
        raise PackageError(f"unknown placeholder(s) left in {TEMPLATE_NAME}: {sorted(leftover)}")
    bots = manifest.get("bots") or []
    if manifest.get("id") != app_id or not bots or bots[0].get("botId") != app_id:
        raise PackageError(f"{TEMPLATE_NAME} must use {APP_ID_PLACEHOLDER} for id and botId")
    registry = registry or build_registry()
    bots[0]["commandLists"] = command_lists(registry)
    listing = {
        "name": {"short": t("en", "manifest.name_short"), "full": t("en", "manifest.name_full")},
        "description": {
            "short": t("en", "manifest.description_short"),
            "full": t("en", "manifest.description_full"),
        },
    }
    if offer is not None:
        # Teams shows "Buy a subscription" on the app for this marketplace offer.
        manifest["subscriptionOffer"] = {"offerId": validate_offer(offer)}
    return {**{k: v for k, v in manifest.items() if k not in listing}, **listing}


def localization(language: str, registry: Registry | None = None) -> dict[str, Any]:
    """The manifest's strings in `language` (a `localizationInfo` file): the store listing
    from the catalog and the command lists from the registry, in the order of manifest.json."""
    registry = registry or build_registry()
    strings: dict[str, Any] = {
        "$schema": LOCALIZATION_SCHEMA,
        "name.short": t(language, "manifest.name_short"),
        "name.full": t(language, "manifest.name_full"),
        "description.short": t(language, "manifest.description_short"),
        "description.full": t(language, "manifest.description_full"),
    }
    for i, _scope in enumerate(BOT_SCOPES):
        for j, command in enumerate(registry.featured()):
            prefix = f"bots[0].commandLists[{i}].commands[{j}]"
            strings[f"{prefix}.title"] = command.phrase_in(language)
            strings[f"{prefix}.description"] = _sentence(t(language, command.help[0][1]))
    return strings


def build_package_bytes(
    app_id: str, version: str = DEFAULT_VERSION, offer: str | None = None
) -> bytes:
    """The app package as zip bytes: manifest.json, the icons and the German strings (de.json)
    at the root."""
    manifest = render_manifest(app_id, version, offer=offer)
    icons = manifest.get("icons", {})
    if icons != {"color": COLOR_ICON_NAME, "outline": OUTLINE_ICON_NAME}:
        raise PackageError(
            f"manifest icons must be {COLOR_ICON_NAME!r} and {OUTLINE_ICON_NAME!r}, got {icons!r}"
        )
    entries = {
        MANIFEST_NAME: (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode(),
        COLOR_ICON_NAME: _asset_bytes(COLOR_ICON_NAME),
        OUTLINE_ICON_NAME: _asset_bytes(OUTLINE_ICON_NAME),
        GERMAN_FILE: (json.dumps(localization("de"), indent=2, ensure_ascii=False) + "\n").encode(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in PACKAGE_FILES:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, entries[name])
    return buffer.getvalue()


def build_package(
    app_id: str, out: Path | str, version: str = DEFAULT_VERSION, offer: str | None = None
) -> Path:
    """Write the app package zip to ``out`` (parent folders are created); return its path."""
    data = build_package_bytes(app_id, version, offer)
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = out_path.with_name(out_path.name + ".tmp")
    tmp_path.write_bytes(data)
    tmp_path.replace(out_path)
    logger.info("wrote Teams app package %s (version %s, %d bytes)", out_path, version, len(data))
    return out_path
