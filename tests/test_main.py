"""`python -m bot` refuses to start on a bad configuration, saying what to fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_bot(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            "PORT": "1",  # never reached: the bot must stop before it serves
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_bad_plan_catalog_stops_the_bot_naming_plan_and_field(tmp_path: Path) -> None:
    catalog = json.loads((ROOT / "bot/domain/default_plans.json").read_text())
    premium = next(p for p in catalog["plans"] if p["id"] == "premium")
    premium["price"] = "forty-nine"
    bad = tmp_path / "plans.json"
    bad.write_text(json.dumps(catalog))

    result = run_bot(tmp_path, PLANS_FILE=str(bad))

    assert result.returncode == 2
    assert "plan 'premium'" in result.stderr
    assert "field 'price'" in result.stderr


def test_bad_warning_thresholds_stop_the_bot(tmp_path: Path) -> None:
    result = run_bot(tmp_path, QUOTA_WARNING_THRESHOLDS="80,ninety")

    assert result.returncode == 2
    assert "QUOTA_WARNING_THRESHOLDS" in result.stderr


def test_migrate_applies_the_migrations_and_exits(tmp_path: Path) -> None:
    result = run_bot_migrate(tmp_path)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "bot.db").exists()
    assert "0003" in result.stderr


def run_bot_migrate(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
