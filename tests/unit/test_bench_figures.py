"""The figures `python -m bench` derives besides turns/s: how busy the machine was (from
/proc/stat) and the summary of the alternating one-process and two-process rounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.sidebyside import (
    PAIRED,
    STOCK_AGAIN,
    Result,
    busy_and_steal,
    machine_ticks,
    paired_summary,
    rows_of,
)


def _stat(tmp_path: Path, fields: str) -> Path:
    path = tmp_path / "stat"
    path.write_text(f"cpu  {fields}\ncpu0 1 2 3 4 5 6 7 8 0 0\nctxt 99\n")
    return path


def test_the_ticks_are_all_of_them_the_idle_ones_and_the_stolen_ones(tmp_path: Path) -> None:
    # user nice system idle iowait irq softirq steal guest guest_nice
    ticks = machine_ticks(_stat(tmp_path, "100 5 40 800 20 3 7 25 60 0"))
    # Guest time is inside user time already: it is not counted twice.
    assert ticks == (100 + 5 + 40 + 800 + 20 + 3 + 7 + 25, 800 + 20, 25)


def test_a_kernel_without_steal_counts_none(tmp_path: Path) -> None:
    assert machine_ticks(_stat(tmp_path, "100 0 40 800 20 3 7")) == (970, 820, 0)


def test_no_stat_or_an_unreadable_one_gives_nothing(tmp_path: Path) -> None:
    assert machine_ticks(tmp_path / "absent") is None
    assert machine_ticks(_stat(tmp_path, "a b c d e")) is None
    assert machine_ticks(_stat(tmp_path, "1 2 3")) is None


def test_busy_is_what_was_neither_idle_nor_stolen() -> None:
    before = (1000, 600, 10)
    # 400 ticks: 100 idle or waiting, 20 stolen, 280 busy.
    after = (1400, 700, 30)
    assert busy_and_steal(before, after) == (70.0, 5.0)
    assert busy_and_steal(before, (1400, 1000, 10)) == (0.0, 0.0)


@pytest.mark.parametrize("after", [None, (1000, 600, 10), (900, 600, 10)])
def test_no_busy_share_without_two_readings_apart(after: tuple[int, int, int] | None) -> None:
    assert busy_and_steal((1000, 600, 10), after) is None
    assert busy_and_steal(None, (2000, 600, 10)) is None


def _row(round_: int, label: str, rate: float) -> dict[str, object]:
    return {"case": f"{PAIRED} {round_})", "server": f"ours, PG, {label}", "turns_per_second": rate}


def test_the_paired_rounds_give_each_side_its_median_and_who_was_ahead() -> None:
    rows = [
        {"case": "new ticket (steady)", "server": "ours, PG, 2 processes", "turns_per_second": 1.0},
        _row(1, "1 process", 600.0),
        _row(1, "2 processes", 650.0),
        _row(2, "1 process", 700.0),
        _row(2, "2 processes", 640.0),
        _row(3, "1 process", 620.0),
        _row(3, "2 processes", 630.0),
    ]
    assert paired_summary(rows) == {
        "rounds": 3,
        "one_process_median": 620.0,
        "two_processes_median": 640.0,
        "two_ahead_in_rounds": 2,
    }


def test_a_tie_is_not_ahead() -> None:
    rows = [_row(1, "1 process", 600.0), _row(1, "2 processes", 600.0)]
    summary = paired_summary(rows)
    assert summary is not None and summary["two_ahead_in_rounds"] == 0


def test_no_summary_without_whole_pairs() -> None:
    assert paired_summary([]) is None
    assert paired_summary([_row(1, "1 process", 600.0)]) is None


def _result(case: str, turns: int, seconds: float) -> Result:
    return Result(case, "x", turns, seconds, [0.01] * turns, 0)


def test_each_ratio_is_to_the_stock_echo_measured_last_before_it() -> None:
    rows = rows_of(
        [
            _result("stock echo", 100, 2.0),  # 50 turns/s
            _result("new ticket (steady)", 1000, 2.0),  # 500
            _result(f"{STOCK_AGAIN} PostgreSQL)", 100, 2.5),  # 40: a slower spell
            _result("new ticket (steady)", 800, 2.0),  # 400
        ]
    )
    assert [r["x_stock_echo"] for r in rows] == [1.0, 10.0, 1.0, 10.0]


def test_without_a_stock_echo_there_is_no_ratio() -> None:
    assert rows_of([_result("new ticket (steady)", 1000, 2.0)])[0]["x_stock_echo"] is None
