"""Tenant and activity id in every log record of a turn."""

from __future__ import annotations

import logging
from contextvars import ContextVar

tenant_var: ContextVar[str] = ContextVar("tenant", default="-")
activity_var: ContextVar[str] = ContextVar("activity", default="-")

LOG_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s tenant=%(tenant)s activity=%(activity)s %(message)s"
)


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
