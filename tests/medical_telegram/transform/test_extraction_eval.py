"""Product and price extraction measured on the labelled set (sample/extraction_eval): real dbt builds
marts.fct_product_mentions from the set's posts, loaded by the project's loader into a real PostgreSQL, and
precision and recall must stay above floors a little below the figures measured when they were set
(include/dbt/medical_warehouse/README.md), so a regression fails here. No timing is asserted."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from medical_telegram.transform import extraction_eval as ev

# measured (include/dbt/medical_warehouse/README.md): all 458 posts product 0.964 / 0.889, price 1.000 / 0.966;
# Amharic-only product+price 1.000 / 0.960; per channel below. Held-out parts have floors too: a regression
# there fails as well, although no rule was tuned on them.
FLOORS = {
    ("all", "product+price"): (0.94, 0.87),
    ("all", "product"): (0.95, 0.87),
    ("all", "price"): (0.98, 0.95),
    ("am", "product+price"): (0.97, 0.93),
    ("sample", "product+price"): (1.0, 1.0),
    ("tikvahpharma", "product"): (0.94, 0.89),           # 0.955 / 0.909
    ("tikvahpharma", "own price"): (0.98, 0.98),         # 0.995 / 1.000
    ("tikvahpharma (held out)", "product"): (0.94, 0.91),   # 0.958 / 0.929
    ("pharmacyhubethiopia", "product"): (0.95, 0.85),    # 0.968 / 0.868
    ("pharmacyhubethiopia", "own price"): (0.95, 0.87),  # 0.979 / 0.896
    ("pharmacyhubethiopia (held out)", "product"): (0.92, 0.81),  # 0.947 / 0.823
    ("addispharma", "product"): (0.98, 0.95),            # 1.000 / 0.969
}
QUIET_MENTIONS_PER_100_POSTS = 2.0


@pytest.fixture(scope="module")
def report(make_database) -> ev.Report:
    predicted = ev.build(make_database("mtw_eval"))
    report = ev.score(predicted, ev.load_labels(), ev.load_posts())
    print("\n" + ev.format_report(report))
    return report


def test_the_set_labels_every_sample_post_and_at_least_100_written_ones():
    posts = ev.load_posts()
    origins = [p["origin"] for p in posts.values()]
    assert origins.count("sample") == 100
    assert origins.count("written") + origins.count("held_out") >= 100
    assert {p["language"] for p in posts.values()} == set(ev.LANGUAGES)
    assert {m.post for m in ev.load_labels()} <= posts.keys()


def test_the_set_labels_the_real_channels_item_by_item_with_a_part_held_out():
    posts, labels = ev.load_posts(), ev.load_labels()
    items = Counter((m.channel_name, posts[m.post]["origin"]) for m in labels)
    assert items[("tikvahpharma", "channel")] + items[("tikvahpharma", "channel_held_out")] >= 600
    assert items[("pharmacyhubethiopia", "channel")] + items[("pharmacyhubethiopia", "channel_held_out")] >= 150
    for channel in ("tikvahpharma", "pharmacyhubethiopia", "addispharma"):
        assert items[(channel, "channel_held_out")] > 0, channel
    # every addispharma post, 40 of the channels that sell nothing
    labelled_posts = Counter(post[0] for post in posts)
    assert labelled_posts["addispharma"] == 20
    assert sum(labelled_posts[channel] for channel in ev.QUIET_CHANNELS) == 40
    assert ev.held_out_posts() and ev.held_out_posts() < posts.keys()


@pytest.mark.parametrize(("group", "measure"), sorted(FLOORS))
def test_precision_and_recall_stay_above_their_floors(report, group, measure):
    figure = report.figures[group][measure]
    precision_floor, recall_floor = FLOORS[(group, measure)]
    assert figure.precision >= precision_floor, ev.format_report(report)
    assert figure.recall >= recall_floor, ev.format_report(report)


def test_channels_that_sell_nothing_get_almost_no_mentions(report):
    posts, mentions = (sum(v) for v in zip(*report.quiet.values()))
    assert posts == 40
    assert 100 * mentions / posts <= QUIET_MENTIONS_PER_100_POSTS, ev.format_report(report)


def test_no_brand_stands_in_for_one_of_its_products(report):
    """A post naming only a brand ("NIVEA / Price 650 birr", "ENSURE 850GM") is never credited to a product."""
    confused = [(got.product_name, want.product_name) for _, got, want in report.confusions
                if got and want and want.product_name.endswith("(unspecified product)")]
    assert confused == []


def test_scoring_counts_matches_and_pairs_confusions():
    posts = {("shop", 1): {"language": "en", "origin": "written"}, ("shop", 2): {"language": "am", "origin": "written"}}
    labelled = [ev.Mention("shop", 1, "Nivea Body Lotion", Decimal(850)), ev.Mention("shop", 1, "Dove Soap", None),
                ev.Mention("shop", 2, "Paracetamol", Decimal(150))]
    predicted = [ev.Mention("shop", 1, "Nivea Cream", Decimal(850)), ev.Mention("shop", 1, "Dove Soap", None),
                 ev.Mention("shop", 2, "Paracetamol", Decimal(2026)), ev.Mention("other", 9, "Zinc", None)]
    report = ev.score(predicted, labelled, posts)
    both = report.figures["all"]["product+price"]
    assert (both.matched_predicted, both.predicted, both.matched_labelled, both.labelled) == (1, 3, 1, 3)
    product = report.figures["all"]["product"]
    assert (product.precision, product.recall) == (2 / 3, 2 / 3)
    assert report.figures["am"]["price"].precision == 0.0
    assert report.confusions == [
        (("shop", 1), predicted[0], labelled[0]),
        (("shop", 2), predicted[2], labelled[2]),
    ]


def test_names_match_whatever_their_case_punctuation_or_plural_and_labels_may_give_alternatives():
    assert ev.name_key("Examination Gloves") == ev.name_key("examination glove")
    assert ev.name_key("Povidone-Iodine") == ev.name_key("Povidone Iodine")
    assert ev.name_key("Oral Rehydration Salts") != ev.name_key("Oral Rehydration")
    posts = {("shop", 1): {"language": "en", "origin": "channel"}}
    labelled = [ev.Mention("shop", 1, "Cefalexin|Cephalexin", Decimal(310)), ev.Mention("shop", 1, "Syringe", None)]
    predicted = [ev.Mention("shop", 1, "Cephalexin", Decimal(310)), ev.Mention("shop", 1, "Syringes", Decimal(5))]
    report = ev.score(predicted, labelled, posts)
    assert report.figures["all"]["product"].precision == 1.0
    assert report.figures["all"]["product+price"].precision == 0.5
    # the second mention's price is not its item's: own price counts it against
    own = report.figures["all"]["own price"]
    assert (own.matched_predicted, own.predicted) == (1, 2)
    assert [(got.product_name, want.product_name) for _, got, want in report.confusions] == [("Syringes", "Syringe")]
