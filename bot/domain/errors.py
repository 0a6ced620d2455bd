"""Domain errors.

Each error carries the catalog key of the message the user should see and the values that
message needs; the Teams edge turns any of them into a card in one place.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the product refused the request; `key` names the user-facing message."""

    key: str = "error.generic"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or type(self).key
        self.params: dict[str, Any] = params
        super().__init__(f"{self.key} {params}")


class NotFound(DomainError):
    key = "error.not_found"


class Forbidden(DomainError):
    key = "error.forbidden"


class OnlyAdmins(Forbidden):
    key = "error.only_admins"


class InvalidTransition(DomainError):
    key = "error.invalid_transition"


class InvalidInput(DomainError):
    """One or more fields are wrong. `fields` maps a field name to (message key, params)."""

    key = "error.invalid_input"

    def __init__(self, fields: dict[str, tuple[str, dict[str, Any]]]) -> None:
        super().__init__()
        self.fields = fields


class MissingTenant(DomainError):
    key = "error.no_tenant"


class MissingSender(DomainError):
    """The activity has an organization but no `from`: nobody to act for."""

    key = "error.no_sender"
