"""Roles of a user inside an organization (tenant)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"
    MEMBER = "member"

    @property
    def works_all_items(self) -> bool:
        """Agents and admins see and work every item of the tenant; members only their own."""
        return self in (Role.ADMIN, Role.AGENT)
