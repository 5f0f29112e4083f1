"""The retry schedule of the order-event task (the task itself runs in test_worker.py)."""

import pytest

from events.tasks import retry_countdown


def test_retry_countdown_doubles_each_time_without_jitter(settings):
    settings.EVENT_RETRY_JITTER = False
    settings.EVENT_RETRY_BACKOFF_SECONDS = 2
    settings.EVENT_RETRY_BACKOFF_MAX_SECONDS = 600

    assert [retry_countdown(retries=n) for n in range(5)] == [2, 4, 8, 16, 32]


def test_retry_countdown_is_capped(settings):
    settings.EVENT_RETRY_JITTER = False
    settings.EVENT_RETRY_BACKOFF_SECONDS = 2
    settings.EVENT_RETRY_BACKOFF_MAX_SECONDS = 60

    assert retry_countdown(retries=10) == 60


def test_retry_countdown_supports_sub_second_factors(settings):
    settings.EVENT_RETRY_JITTER = False
    settings.EVENT_RETRY_BACKOFF_SECONDS = 0.25

    assert retry_countdown(retries=1) == pytest.approx(0.5)


def test_retry_countdown_with_jitter_spreads_within_the_exponential_bound(settings):
    settings.EVENT_RETRY_JITTER = True
    settings.EVENT_RETRY_BACKOFF_SECONDS = 1
    settings.EVENT_RETRY_BACKOFF_MAX_SECONDS = 600

    countdowns = {retry_countdown(retries=3) for _ in range(200)}

    assert all(0 <= countdown <= 8 for countdown in countdowns)
    assert len(countdowns) > 20
