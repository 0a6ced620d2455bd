"""When a create crosses a warning threshold, and how the operator sets the thresholds.

`crossed_threshold(before, after, limit)` answers with the highest threshold (percent; 100 is
"quota reached") that usage passed going from `before` to `after` items, or None.
"""

from __future__ import annotations

import pytest

from bot.domain.quota import DEFAULT_THRESHOLDS, FULL, crossed_threshold
from bot.settings import Settings

FREE_TICKETS = 25


def test_the_default_thresholds_are_80_and_90_percent_and_full_is_100() -> None:
    assert DEFAULT_THRESHOLDS == (80, 90)
    assert FULL == 100
    assert Settings().quota_thresholds == (80, 90)
    assert Settings.from_env({}).quota_thresholds == (80, 90)


# -- no crossing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (0, 1),  # 4 %
        (18, 19),  # 72 % -> 76 %: still below 80 %
        (20, 21),  # 80 % was crossed by the 20th item, not by the 21st
        (21, 22),  # 84 % -> 88 %
        (23, 24),  # 92 % -> 96 %
        (25, 26),  # over the limit already (after a downgrade): nothing new to say
        (19, 19),  # nothing created
    ],
)
def test_a_step_that_crosses_no_threshold_reports_none(before: int, after: int) -> None:
    assert crossed_threshold(before, after, FREE_TICKETS) is None


# -- exact boundaries ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (19, 20, 80),  # 20 of 25 is exactly 80 %
        (22, 23, 90),  # 22.5 is 90 %: the 23rd item passes it
        (24, 25, 100),  # the last item of the quota: "quota reached"
    ],
)
def test_reaching_a_threshold_exactly_counts_as_crossing_it(
    before: int, after: int, expected: int
) -> None:
    assert crossed_threshold(before, after, FREE_TICKETS) == expected


def test_a_threshold_that_falls_between_two_items_is_crossed_by_the_item_after_it() -> None:
    # 80 % of 7 is 5.6 items: the 6th item crosses it, the 5th does not.
    assert crossed_threshold(4, 5, 7) is None
    assert crossed_threshold(5, 6, 7) == 80
    # 80 % of 10 is exactly 8; 90 % exactly 9; 100 % exactly 10.
    assert [crossed_threshold(n - 1, n, 10) for n in range(1, 11)] == [
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        80,
        90,
        100,
    ]


def test_walking_up_to_the_limit_item_by_item_crosses_each_threshold_once() -> None:
    crossings = [
        (after, level)
        for after in range(1, FREE_TICKETS + 1)
        if (level := crossed_threshold(after - 1, after, FREE_TICKETS)) is not None
    ]
    assert crossings == [(20, 80), (23, 90), (25, 100)]


# -- jumps over several thresholds ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "limit", "expected"),
    [
        (0, 25, 25, 100),  # everything at once
        (10, 23, 25, 90),  # over 80 and 90, not to 100
        (19, 24, 25, 90),
        (6, 7, 7, 100),  # 85.7 % -> 100 %: over 90 % and onto the limit in one item
        (4, 5, 5, 100),  # 80 % -> 100 %: over 90 %
        (0, 1, 1, 100),  # a quota of one
    ],
)
def test_a_jump_over_several_thresholds_reports_only_the_highest(
    before: int, after: int, limit: int, expected: int
) -> None:
    assert crossed_threshold(before, after, limit) == expected


def test_a_jump_over_configured_thresholds_reports_only_the_highest() -> None:
    # 84 % -> 88 % passes 85, 86 and 87.
    assert crossed_threshold(21, 22, 25, (85, 86, 87)) == 87
    # The order the thresholds are given in does not matter.
    assert crossed_threshold(21, 22, 25, (87, 85, 86)) == 87
    assert crossed_threshold(10, 24, 25, (90, 50, 70)) == 90


def test_configured_thresholds_replace_the_defaults() -> None:
    assert crossed_threshold(17, 18, 25, (70, 85)) == 70  # 68 % -> 72 %
    assert crossed_threshold(19, 20, 25, (70, 85)) is None  # 80 % is not a threshold here
    assert crossed_threshold(21, 22, 25, (70, 85)) == 85
    assert crossed_threshold(24, 25, 25, (70, 85)) == 100


def test_without_thresholds_only_reaching_the_quota_is_reported() -> None:
    assert crossed_threshold(19, 20, 25, ()) is None
    assert crossed_threshold(24, 25, 25, ()) == 100


# -- limits that are not positive ----------------------------------------------------------------


@pytest.mark.parametrize(("before", "after"), [(0, 0), (0, 1), (3, 4)])
def test_a_quota_of_zero_never_reports_a_crossing(before: int, after: int) -> None:
    assert crossed_threshold(before, after, 0) is None


def test_a_negative_limit_never_reports_a_crossing() -> None:
    assert crossed_threshold(0, 1, -5) is None


# -- large quotas ---------------------------------------------------------------------------------


def test_thresholds_of_a_large_quota_are_exact() -> None:
    # Professional: 5,000 tickets; 80 % = 4,000, 90 % = 4,500.
    assert crossed_threshold(3_998, 3_999, 5_000) is None
    assert crossed_threshold(3_999, 4_000, 5_000) == 80
    assert crossed_threshold(4_499, 4_500, 5_000) == 90
    assert crossed_threshold(4_999, 5_000, 5_000) == 100
    # A prorated quota: 32 items; 80 % = 25.6, 90 % = 28.8.
    assert crossed_threshold(25, 26, 32) == 80
    assert crossed_threshold(28, 29, 32) == 90


# -- QUOTA_WARNING_THRESHOLDS ---------------------------------------------------------------------


def test_thresholds_are_read_from_the_environment() -> None:
    settings = Settings.from_env({"QUOTA_WARNING_THRESHOLDS": "70,85"})
    assert settings.quota_thresholds == (70, 85)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("85,70", (70, 85)),  # sorted
        (" 70 , 85 ", (70, 85)),  # spaces
        ("70;85", (70, 85)),  # semicolons
        ("80,80,90", (80, 90)),  # duplicates
        ("75", (75,)),
        ("1,99", (1, 99)),  # the extremes still allowed
        ("70,85,", (70, 85)),  # a trailing comma
    ],
)
def test_threshold_lists_are_normalised(text: str, expected: tuple[int, ...]) -> None:
    assert Settings.from_env({"QUOTA_WARNING_THRESHOLDS": text}).quota_thresholds == expected


@pytest.mark.parametrize(
    "text",
    [
        "eighty",
        "80,ninety",
        "80.5",
        "80%",
        "0",
        "100",  # 100 % is the "quota reached" notice, always sent; not a warning threshold
        "150",
        "-10",
        "80,100",
        "0,90",
    ],
)
def test_bad_thresholds_stop_the_bot_with_a_clear_error(text: str) -> None:
    with pytest.raises(ValueError, match="QUOTA_WARNING_THRESHOLDS"):
        Settings.from_env({"QUOTA_WARNING_THRESHOLDS": text})
