from __future__ import annotations

import pytest

from bot.domain.clock import FixedClock
from storage.uow import UnitOfWorkFactory
from tests.support.apps import dispatcher, policy
from tests.support.dialogs import Dialog


@pytest.fixture
def dialog(uow: UnitOfWorkFactory, clock: FixedClock) -> Dialog:
    quota = policy()
    return Dialog(dispatcher(uow, clock, quota), uow, clock, quota)
