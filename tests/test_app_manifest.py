"""Tests for the Teams app package built by ``app_manifest``.

Schema validation uses the official Teams manifest schema from the npm package
``@microsoft/app-manifest``.  Install it with::

    npm install --prefix .cache/app-manifest @microsoft/app-manifest

or point ``TEAMS_MANIFEST_SCHEMA_DIR`` at an installed copy of the package (the folder
holding ``build/json-schemas/teams/v1.17/MicrosoftTeams.schema.json``).  Without either, the
test runs that npm install itself when npm is there; if it still has no schema, it is skipped
and the closing summary says so; if the variable is set but the schema is not there, it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest
from PIL import Image
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import specification_with

from app_manifest import make_icons
from app_manifest.package import (
    InvalidAppIdError,
    InvalidVersionError,
    build_package,
    is_guid,
    render_manifest,
)
from bot.apps import build_registry
from tests.support.schemas import not_run

REPO_ROOT = Path(__file__).resolve().parents[1]
APP_ID = "0b7f3c2e-5a1d-4e8f-9c6b-2d4a8e1f7b93"
SCOPES = ["personal", "team", "groupChat"]
# The manifest features what the app registry features, in its order.
EXPECTED_COMMANDS = [command.phrase for command in build_registry().featured()]
PACKAGE_FILES = {"manifest.json", "color.png", "outline.png", "de.json"}

SCHEMA_ENV = "TEAMS_MANIFEST_SCHEMA_DIR"
SCHEMA_REL = Path("build/json-schemas/teams/v1.17/MicrosoftTeams.schema.json")
NPM_PACKAGE_REL = Path("node_modules/@microsoft/app-manifest")
DEFAULT_SCHEMA_PACKAGE = REPO_ROOT / ".cache/app-manifest" / NPM_PACKAGE_REL
NPM_HINT = "npm install --prefix .cache/app-manifest @microsoft/app-manifest"


# --- helpers -------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app_manifest", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def read_package(path: Path) -> tuple[list[str], dict[str, Any], Image.Image, Image.Image]:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
        color = Image.open(archive.open("color.png"))
        color.load()
        outline = Image.open(archive.open("outline.png"))
        outline.load()
    return names, manifest, color, outline


def check_outline(image: Image.Image) -> None:
    assert image.format == "PNG"
    assert image.size == (32, 32)
    assert image.mode == "RGBA"
    width, height = image.size
    bad = [
        (x, y, image.getpixel((x, y)))
        for y in range(height)
        for x in range(width)
        if not _white_or_transparent(image.getpixel((x, y)))
    ]
    assert not bad, f"outline icon must be only white or fully transparent, got {bad[:5]}"
    alphas = {image.getpixel((x, y))[3] for y in range(height) for x in range(width)}  # type: ignore[index]
    assert alphas == {0, 255}, "outline icon should contain both a white glyph and transparency"


def _white_or_transparent(pixel: Any) -> bool:
    r, g, b, a = pixel
    return a == 0 or (r, g, b, a) == (255, 255, 255, 255)


def check_color(image: Image.Image) -> None:
    assert image.format == "PNG"
    assert image.size == (192, 192)
    assert image.mode in {"RGB", "RGBA"}
    colors = image.convert("RGB").getcolors(maxcolors=192 * 192)
    assert colors is not None and len(colors) > 2, "color icon should be full colour"


def check_manifest(manifest: dict[str, Any], app_id: str, version: str) -> None:
    assert manifest["$schema"] == (
        "https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"
    )
    assert manifest["manifestVersion"] == "1.17"
    assert manifest["version"] == version
    assert manifest["id"] == app_id
    assert len(manifest["bots"]) == 1
    bot = manifest["bots"][0]
    assert bot["botId"] == app_id
    assert bot["scopes"] == SCOPES
    assert bot["supportsFiles"] is False
    assert bot["isNotificationOnly"] is False
    assert manifest["name"] == {
        "short": "TeamsWork",
        "full": "TeamsWork: Ticketing, Checklists and CRM",
    }
    assert 0 < len(manifest["description"]["short"]) <= 80
    assert 0 < len(manifest["description"]["full"]) <= 4000
    # It describes the three apps the bot has: Ticketing, Checklists and CRM.
    description = json.dumps(manifest["description"]).lower()
    for app in ("ticket", "checklist", "opportunit"):
        assert app in description, app
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert manifest["developer"][key].startswith("https://")
    assert "{{" not in json.dumps(manifest)

    by_scope: dict[str, list[str]] = {}
    for command_list in bot["commandLists"]:
        assert len(command_list["commands"]) <= 10  # Teams limit per command list
        for scope in command_list["scopes"]:
            assert scope not in by_scope, f"more than one command list for scope {scope}"
            by_scope[scope] = [command["title"] for command in command_list["commands"]]
        for command in command_list["commands"]:
            assert command["description"].strip()
    assert by_scope == {scope: EXPECTED_COMMANDS for scope in SCOPES}


def check_package(path: Path, app_id: str = APP_ID, version: str = "1.0.0") -> dict[str, Any]:
    names, manifest, color, outline = read_package(path)
    assert sorted(names) == sorted(PACKAGE_FILES)  # exactly these, at the zip root
    check_manifest(manifest, app_id, version)
    check_color(color)
    check_outline(outline)
    return manifest


# --- building --------------------------------------------------------------------------


def test_build_package_function(tmp_path: Path) -> None:
    out = build_package(APP_ID, tmp_path / "nested" / "teamswork.zip")
    assert out == tmp_path / "nested" / "teamswork.zip"
    check_package(out)


def test_build_package_is_reproducible(tmp_path: Path) -> None:
    first = build_package(APP_ID, tmp_path / "a.zip", version="2.3.4")
    second = build_package(APP_ID, tmp_path / "b.zip", version="2.3.4")
    assert first.read_bytes() == second.read_bytes()
    check_package(first, version="2.3.4")


def test_cli_builds_package(tmp_path: Path) -> None:
    out = tmp_path / "teamswork.zip"
    result = run_cli("--app-id", APP_ID, "--out", str(out), "--version", "1.2.3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    check_package(out, version="1.2.3")


def test_cli_default_version(tmp_path: Path) -> None:
    out = tmp_path / "teamswork.zip"
    result = run_cli("--app-id", APP_ID, "--out", str(out))
    assert result.returncode == 0, result.stderr
    check_package(out, version="1.0.0")


@pytest.mark.parametrize(
    "bad_id",
    ["not-a-guid", "", "0b7f3c2e5a1d4e8f9c6b2d4a8e1f7b93", "{" + APP_ID + "}", APP_ID + "0"],
)
def test_cli_rejects_bad_app_id(tmp_path: Path, bad_id: str) -> None:
    out = tmp_path / "teamswork.zip"
    result = run_cli("--app-id", bad_id, "--out", str(out))
    assert result.returncode == 2
    assert "not a GUID" in result.stderr
    assert not out.exists()


def test_cli_rejects_bad_version(tmp_path: Path) -> None:
    out = tmp_path / "teamswork.zip"
    result = run_cli("--app-id", APP_ID, "--out", str(out), "--version", "1.0")
    assert result.returncode == 2
    assert "MAJOR.MINOR.PATCH" in result.stderr
    assert not out.exists()


def test_function_rejects_bad_input(tmp_path: Path) -> None:
    assert is_guid(APP_ID)
    assert is_guid(APP_ID.upper())
    assert not is_guid("nope")
    with pytest.raises(InvalidAppIdError):
        build_package("nope", tmp_path / "x.zip")
    with pytest.raises(InvalidVersionError):
        render_manifest(APP_ID, "v1")
    assert not (tmp_path / "x.zip").exists()


def test_make_icons_regenerates_valid_icons(tmp_path: Path) -> None:
    color_path, outline_path = make_icons.write_icons(tmp_path)
    with Image.open(color_path) as color:
        check_color(color)
    with Image.open(outline_path) as outline:
        check_outline(outline)


def test_committed_icons_are_valid() -> None:
    with Image.open(REPO_ROOT / "app_manifest" / "color.png") as color:
        check_color(color)
    with Image.open(REPO_ROOT / "app_manifest" / "outline.png") as outline:
        check_outline(outline)


# --- official schema -------------------------------------------------------------------


def find_schema() -> Path | None:
    """Locate MicrosoftTeams.schema.json v1.17 from @microsoft/app-manifest.

    ``$TEAMS_MANIFEST_SCHEMA_DIR`` may point at the npm package folder, at an npm
    ``--prefix`` folder (containing node_modules/), or directly at the v1.17 folder.
    """
    env = os.environ.get(SCHEMA_ENV)
    if env:
        base = Path(env)
        candidates = [
            base / SCHEMA_REL,
            base / NPM_PACKAGE_REL / SCHEMA_REL,
            base / SCHEMA_REL.name,
        ]
    else:
        candidates = [DEFAULT_SCHEMA_PACKAGE / SCHEMA_REL]
    return next((path for path in candidates if path.is_file()), None)


def install_schema() -> str | None:
    """npm-install the schema package into .cache/app-manifest, as .ci/run does; the reason it
    could not, or None."""
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed"
    command = [npm, "install", "--silent", "--no-audit", "--no-fund"]
    command += ["--prefix", str(REPO_ROOT / ".cache/app-manifest"), "@microsoft/app-manifest"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"`{NPM_HINT}` failed: {error}"
    if result.returncode != 0:
        return f"`{NPM_HINT}` failed: {(result.stderr or result.stdout).strip()[-300:]}"
    return None


def schema_validator(schema_path: Path) -> jsonschema.protocols.Validator:
    """A validator for the schema's declared draft that resolves file $refs locally."""
    schema = json.loads(schema_path.read_text(encoding="utf-8-sig"))
    schema_dir = schema_path.parent
    default_spec = specification_with(schema.get("$schema", ""))

    def retrieve(uri: str) -> Resource[Any]:
        # Relative refs and https://developer.microsoft.com/... refs are served from the
        # schema's own folder, so validation never touches the network.
        name = Path(unquote(urlsplit(uri).path)).name
        candidate = schema_dir / name
        if not name or not candidate.is_file():
            raise NoSuchResource(ref=uri)  # type: ignore[call-arg]
        contents = json.loads(candidate.read_text(encoding="utf-8-sig"))
        return Resource.from_contents(contents, default_specification=default_spec)

    registry: Registry[Any] = Registry(retrieve=retrieve)  # type: ignore[call-arg]
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    cls.check_schema(schema)
    return cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)


def test_manifest_matches_official_schema(tmp_path: Path) -> None:
    schema_path = find_schema()
    if schema_path is None:
        if os.environ.get(SCHEMA_ENV):
            pytest.fail(f"{SCHEMA_ENV}={os.environ[SCHEMA_ENV]} does not contain {SCHEMA_REL}")
        failure = install_schema() or "installed, but without the v1.17 schema"
        schema_path = find_schema()
        if schema_path is None:
            where = DEFAULT_SCHEMA_PACKAGE / SCHEMA_REL
            not_run(
                "Teams manifest schema v1.17",
                f"not found at {where} ({failure}); run `{NPM_HINT}` or set {SCHEMA_ENV}",
            )
    manifest = check_package(build_package(APP_ID, tmp_path / "teamswork.zip"))
    validator = schema_validator(schema_path)
    errors = sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors
    )


def test_cli_writes_the_marketplace_offer(tmp_path: Path) -> None:
    out = tmp_path / "teamswork.zip"
    result = run_cli("--app-id", APP_ID, "--out", str(out), "--offer", "contoso-pub.teamswork")
    assert result.returncode == 0, result.stderr
    manifest = check_package(out)
    assert manifest["subscriptionOffer"] == {"offerId": "contoso-pub.teamswork"}
    schema_path = find_schema()
    if schema_path is not None:
        errors = list(schema_validator(schema_path).iter_errors(manifest))
        assert not errors, [e.message for e in errors]
    assert "subscriptionOffer" not in check_package(build_package(APP_ID, tmp_path / "b.zip"))


@pytest.mark.parametrize("bad", ["teamswork", ".teamswork", "pub.", "pub offer.x"])
def test_cli_rejects_an_offer_that_is_not_publisher_dot_offer(tmp_path: Path, bad: str) -> None:
    result = run_cli("--app-id", APP_ID, "--out", str(tmp_path / "x.zip"), "--offer", bad)
    assert result.returncode == 2
    assert "publisherId.offerId" in result.stderr


# --- German ----------------------------------------------------------------------------


def test_the_package_carries_german_strings_for_the_listing_and_every_command(
    tmp_path: Path,
) -> None:
    path = build_package(APP_ID, tmp_path / "teamswork.zip")
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        german = json.loads(archive.read("de.json"))
    assert manifest["localizationInfo"] == {
        "defaultLanguageTag": "en-us",
        "additionalLanguages": [{"languageTag": "de", "file": "de.json"}],
    }
    assert german["name.full"] == "TeamsWork: Tickets, Checklisten und CRM"
    assert "Abrechnungszeitraums" in german["description.full"]
    registry = build_registry()
    for i, command_list in enumerate(manifest["bots"][0]["commandLists"]):
        for j, command in enumerate(command_list["commands"]):
            title = german[f"bots[0].commandLists[{i}].commands[{j}].title"]
            assert title == registry.featured()[j].phrase_in("de")
            # The German title is a command the bot understands, meaning the English one.
            assert registry.parse(title) == registry.parse(command["title"])
            assert german[f"bots[0].commandLists[{i}].commands[{j}].description"].strip()


def test_the_german_strings_match_the_official_localization_schema(tmp_path: Path) -> None:
    schema_path = find_schema()
    if schema_path is None:
        install_schema()
        schema_path = find_schema()
        if schema_path is None:
            not_run("Teams localization schema v1.17", f"not found; run `{NPM_HINT}`")
    localization_schema = schema_path.with_name("MicrosoftTeams.Localization.schema.json")
    path = build_package(APP_ID, tmp_path / "teamswork.zip")
    with zipfile.ZipFile(path) as archive:
        german = json.loads(archive.read("de.json"))
    validator = schema_validator(localization_schema)
    errors = sorted(validator.iter_errors(german), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(e.message for e in errors)
