"""GET /api/channels and /api/channels/{channel_name}/activity against the sample, checked by hand."""

from __future__ import annotations

import statistics
from datetime import date

import pytest

from tests.api import api_expected as expected

CHANNEL = "lobelia4cosmetics"


def test_read_channels_lists_the_sample_channel(api):
    response = api.get("/api/channels")
    assert response.status_code == 200
    (channel,) = response.json()["items"]
    posts = expected.channel_posts(CHANNEL)
    assert channel["channel_name"] == CHANNEL
    assert channel["channel_title"] == "Lobelia pharmacy and cosmetics"
    assert channel["channel_type"] == "Cosmetics"
    assert channel["total_posts"] == len(posts) == 100
    assert channel["first_post_date"] == min(p["posted_at"] for p in posts).date().isoformat()
    assert channel["last_post_date"] == max(p["posted_at"] for p in posts).date().isoformat()
    assert channel["avg_views"] == pytest.approx(statistics.mean(p["views"] for p in posts), abs=0.01)


def test_read_activity_by_day_matches_the_posts(api):
    response = api.get(f"/api/channels/{CHANNEL}/activity")
    assert response.status_code == 200
    body = response.json()
    assert body["channel_name"] == CHANNEL and body["granularity"] == "day"
    assert body["periods"] == expected.activity(CHANNEL, "day")
    assert sum(p["post_count"] for p in body["periods"]) == 100


def test_read_activity_by_week_starts_on_monday(api):
    body = api.get(f"/api/channels/{CHANNEL}/activity", params={"granularity": "week"}).json()
    assert body["periods"] == expected.activity(CHANNEL, "week")
    assert all(date.fromisoformat(p["period_start"]).weekday() == 0 for p in body["periods"])


def test_read_activity_between_dates(api):
    params = {"since": "2026-01-15", "until": "2026-01-16"}
    body = api.get(f"/api/channels/{CHANNEL}/activity", params=params).json()
    assert body["periods"] == expected.activity(CHANNEL, "day", date(2026, 1, 15), date(2026, 1, 16))
    assert [p["period_start"] for p in body["periods"]] == ["2026-01-15", "2026-01-16"]
    assert body["since"] == "2026-01-15" and body["until"] == "2026-01-16"


def test_read_activity_accepts_an_at_sign_and_capitals(api):
    body = api.get("/api/channels/@Lobelia4Cosmetics/activity").json()
    assert body["channel_name"] == CHANNEL
    assert body["periods"] == expected.activity(CHANNEL, "day")


def test_read_activity_outside_the_channel_life_is_empty(api):
    body = api.get(f"/api/channels/{CHANNEL}/activity", params={"until": "2020-01-01"}).json()
    assert body["periods"] == []


def test_read_activity_unknown_channel_is_404(api):
    response = api.get("/api/channels/no_such_channel/activity")
    assert response.status_code == 404
    assert "no_such_channel" in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"granularity": "month"}, "granularity"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-02-30"}, "until"),
    ],
)
def test_read_activity_bad_input_is_422(api, params, field):
    response = api.get(f"/api/channels/{CHANNEL}/activity", params=params)
    assert response.status_code == 422
    assert field in response.json()["message"]


def test_read_activity_reversed_range_is_422(api):
    response = api.get(f"/api/channels/{CHANNEL}/activity", params={"since": "2026-01-18", "until": "2026-01-14"})
    assert response.status_code == 422
    assert "after" in response.json()["message"]


def test_read_activity_malformed_channel_name_is_422(api):
    response = api.get("/api/channels/bad name;drop/activity")
    assert response.status_code == 422
