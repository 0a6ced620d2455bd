"""Tenant and activity id in every log record of a turn."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

tenant_var: ContextVar[str] = ContextVar("tenant", default="-")
activity_var: ContextVar[str] = ContextVar("activity", default="-")

LOG_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s tenant=%(tenant)s activity=%(activity)s %(message)s"
)


@contextmanager
def log_context(tenant: str | None, activity: str | None) -> Iterator[None]:
    """Records logged inside carry this tenant and activity id ("-" when unknown)."""
    tenant_token = tenant_var.set(tenant or "-")
    activity_token = activity_var.set(activity or "-")
    try:
        yield
    finally:
        tenant_var.reset(tenant_token)
        activity_var.reset(activity_token)


class TurnContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.tenant = tenant_var.get()
        record.activity = activity_var.get()
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(TurnContextFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
