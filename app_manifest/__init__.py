"""The TeamsWork Microsoft Teams app package: manifest template, icons and builder.

Build it with ``python -m app_manifest --app-id GUID --out build/teamswork.zip``.
"""

from app_manifest.package import (
    DEFAULT_VERSION,
    PACKAGE_FILES,
    InvalidAppIdError,
    InvalidVersionError,
    PackageError,
    build_package,
    build_package_bytes,
    is_guid,
    render_manifest,
)

__all__ = [
    "DEFAULT_VERSION",
    "PACKAGE_FILES",
    "InvalidAppIdError",
    "InvalidVersionError",
    "PackageError",
    "build_package",
    "build_package_bytes",
    "is_guid",
    "render_manifest",
]
