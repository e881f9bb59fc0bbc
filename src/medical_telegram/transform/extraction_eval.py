"""How well marts.fct_product_mentions finds products and prices: precision and recall on a labelled set.

The set (sample/extraction_eval, see its README) labels every product mention of the 100 real posts of the
bundled sample, of posts written the way Ethiopian shops write (English, Amharic, both), and item by item of
real posts of seven more channels (three that sell, four that sell nothing), part of them held out. `evaluate`
loads those posts into a warehouse through the project's own loader, builds the models with real dbt, reads
the mentions back and compares them with the labels:

- product: a predicted (post, product) that the labels hold;
- price: a predicted (post, price) that the labels hold, over mentions that carry a price;
- product and price: a predicted (post, product, price) that the labels hold, "no price" included;
- own price: among predicted mentions with a price whose product the post's labels hold, the price is one the
  labels give that product (the item's own price, not a neighbour's);
- variant: among product matches, pack size, strength and pack count all equal.

Product names match after normalisation (case, punctuation, a plural "s"), and a label may give equally right
names separated by "|". Precision divides by what the model predicted, recall by what the labels hold. Figures
are given for all posts, per language of the post (en, am for Amharic-only, mixed), per origin and per real
channel (tuned on, and held out, apart); the channels that sell nothing get their mentions per 100 posts.
Confusions pair, within one post, what was predicted but not labelled with what was labelled but not predicted.

Run it with `make eval-extraction` (python -m medical_telegram.transform.extraction_eval): it creates a database of its
own on TEST_WAREHOUSE_ADMIN_DSN (default the machine's server at 127.0.0.1:5432) and drops it at the end.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import logging
import os
import re
import sys
import tempfile
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path

import psycopg

from medical_telegram import lake
from medical_telegram.transform.dbt_runner import REPO_DIR, run_dbt
from medical_telegram.warehouse.loader import load_messages
from medical_telegram.warehouse.migrate import migrate

log = logging.getLogger(__name__)

EVAL_DIR = REPO_DIR / "sample" / "extraction_eval"
SAMPLE_LAKE = REPO_DIR / "sample" / "lake"
LANGUAGES = ("en", "am", "mixed")
ORIGINS = ("sample", "written", "held_out", "channel", "channel_held_out")
# Real channels of the set: shops get precision and recall, the others their mentions per 100 posts.
SHOP_CHANNELS = ("lobelia4cosmetics", "tikvahpharma", "pharmacyhubethiopia", "addispharma")
QUIET_CHANNELS = ("eahci", "doctorset", "tenamereja", "thequorachannel")
# Only what the mentions need: the seeds and models upstream of fct_product_mentions, without their tests
# (`make test` runs those); the evaluation judges the output.
DBT_ARGS = ["build", "--select", "+fct_product_mentions", "--exclude-resource-type", "test",
            "--exclude-resource-type", "unit_test"]

PostKey = tuple[str, int]


@dataclasses.dataclass(frozen=True, slots=True)
class Mention:
    channel_name: str
    message_id: int
    product_name: str
    price_birr: Decimal | None = None
    pack_size: str = ""
    strength: str = ""
    pack_count: str = ""

    @property
    def post(self) -> PostKey:
        return (self.channel_name, self.message_id)

    @property
    def variant(self) -> tuple[str, str, str]:
        return (self.pack_size, self.strength, self.pack_count)


@dataclasses.dataclass(frozen=True, slots=True)
class Figure:
    """Matches over predicted (precision) and over labelled (recall)."""

    matched_predicted: int
    predicted: int
    matched_labelled: int
    labelled: int

    @property
    def precision(self) -> float | None:
        return self.matched_predicted / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.matched_labelled / self.labelled if self.labelled else None


@dataclasses.dataclass(slots=True)
class Report:
    posts: dict[str, int]
    # "all", a language ("en", "am" = Amharic only, "mixed"), an origin ("sample", "written", "held_out",
    # "channel", "channel_held_out") or a real channel ("tikvahpharma", "tikvahpharma (held out)")
    figures: dict[str, dict[str, Figure]]
    confusions: list[tuple[PostKey, Mention | None, Mention | None]]  # (post, predicted, labelled)
    # the channels that sell nothing: (posts, mentions predicted there)
    quiet: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)


def _price(value: str | None) -> Decimal | None:
    return Decimal(value).normalize() if value not in (None, "") else None


def name_key(name: str) -> str:
    """A product name as matching compares it: lower case, words of letters and digits, no plural "s"."""
    words = re.findall(r"[a-z0-9\u1200-\u137f]+", name.lower())
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")) else w
                    for w in words)


def load_posts(eval_dir: Path = EVAL_DIR) -> dict[PostKey, dict[str, str]]:
    """Every post of the set with its language and origin."""
    with (eval_dir / "posts.csv").open(newline="", encoding="utf-8") as f:
        return {(r["channel_name"], int(r["message_id"])): {"language": r["language"], "origin": r["origin"]}
                for r in csv.DictReader(f)}


def load_labels(eval_dir: Path = EVAL_DIR) -> list[Mention]:
    mentions = []
    for name in ("labels.csv", "channel_labels.csv"):
        with (eval_dir / name).open(newline="", encoding="utf-8") as f:
            mentions += [Mention(r["channel_name"], int(r["message_id"]), r["product_name"], _price(r["price_birr"]),
                                 r["pack_size"], r["strength"], r["pack_count"]) for r in csv.DictReader(f)]
    return mentions


def _record(post: dict) -> lake.MessageRecord:
    return lake.MessageRecord.from_dict({
        "channel_name": post["channel_name"], "message_id": post["message_id"],
        "message_date": post["message_date"], "scraped_at": post["message_date"], "source": "telethon",
        "message_text": post["message_text"], "views": 0, "forwards": 0, "has_media": False,
        "raw": {"text": post["message_text"]},
    })


def held_out_posts(eval_dir: Path = EVAL_DIR) -> set[PostKey]:
    """The posts no rule was tuned on: written after the matcher, or real posts set aside when labelled."""
    return {post for post, facts in load_posts(eval_dir).items() if facts["origin"] in ("held_out", "channel_held_out")}


def written_records(eval_dir: Path = EVAL_DIR) -> list[lake.MessageRecord]:
    """The written posts and the real channels' posts as lake records, the way the scraper would have saved them."""
    posts = json.loads((eval_dir / "written_posts.json").read_text(encoding="utf-8"))
    posts += json.loads((eval_dir / "channel_posts.json").read_text(encoding="utf-8"))
    return [_record(p) for p in posts]


def build(dsn: str, eval_dir: Path = EVAL_DIR) -> list[Mention]:
    """Load the set's posts into the (empty) warehouse at dsn, build the models, return the mentions found."""
    with tempfile.TemporaryDirectory(prefix="extraction_eval_") as tmp:
        written_lake = Path(tmp)
        lake.write_messages(written_lake, written_records(eval_dir))
        with psycopg.connect(dsn) as conn:
            migrate(conn)
            for root in (SAMPLE_LAKE, written_lake):
                summary = load_messages(conn, root)
                log.info("loaded %s", summary)
    run_dbt(DBT_ARGS, dsn)
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("""
            select channel_name, message_id, product_name, price_birr,
                   coalesce(pack_size, ''), coalesce(strength, ''), coalesce(pack_count::text, '')
            from marts.fct_product_mentions""").fetchall()
    return [Mention(c, m, p, price.normalize() if price is not None else None, s, st, n)
            for c, m, p, price, s, st, n in rows]


def _resolve_alternatives(predicted: list[Mention], labelled: list[Mention]) -> list[Mention]:
    """Labels with their names as matching compares them: of a label's equally right names ("A|B"), the one
    predicted in its post, else the first."""
    named = defaultdict(set)
    for m in predicted:
        named[m.post].add(name_key(m.product_name))
    resolved = []
    for m in labelled:
        keys = [name_key(n) for n in m.product_name.split("|")]
        chosen = next((k for k in keys if k in named[m.post]), keys[0])
        resolved.append(dataclasses.replace(m, product_name=chosen))
    return resolved


def _figure(predicted: Iterable, labelled: Iterable) -> Figure:
    """Multiset matching: a key predicted twice matches twice only if labelled twice."""
    predicted, labelled = Counter(predicted), Counter(labelled)
    matched = sum((predicted & labelled).values())
    return Figure(matched, sum(predicted.values()), matched, sum(labelled.values()))


def _figures(predicted: list[Mention], labelled: list[Mention]) -> dict[str, Figure]:
    """Figures of mentions whose names are already keys (name_key) on both sides."""
    labelled_products = {(m.post, m.product_name): m.variant for m in labelled}
    labelled_prices = defaultdict(set)
    for m in labelled:
        labelled_prices[(m.post, m.product_name)].add(m.price_birr)
    predicted_products = {(m.post, m.product_name) for m in predicted}
    product_hits = [m for m in predicted if (m.post, m.product_name) in labelled_products]
    priced_hits = [m for m in product_hits if m.price_birr is not None]
    own = sum(1 for m in priced_hits if m.price_birr in labelled_prices[(m.post, m.product_name)])
    priced_labels = [m for m in labelled if m.price_birr is not None and (m.post, m.product_name) in predicted_products]
    own_labelled = sum(1 for m in priced_labels
                       if any(p.post == m.post and p.product_name == m.product_name and p.price_birr == m.price_birr
                              for p in priced_hits))
    return {
        "product": _figure(((m.post, m.product_name) for m in predicted),
                           ((m.post, m.product_name) for m in labelled)),
        "price": _figure(((m.post, m.price_birr) for m in predicted if m.price_birr is not None),
                         ((m.post, m.price_birr) for m in labelled if m.price_birr is not None)),
        "product+price": _figure(((m.post, m.product_name, m.price_birr) for m in predicted),
                                 ((m.post, m.product_name, m.price_birr) for m in labelled)),
        "own price": Figure(own, len(priced_hits), own_labelled, len(priced_labels)),
        "variant": _figure(((m.post, m.product_name, m.variant) for m in product_hits),
                           ((m.post, m.product_name, labelled_products[(m.post, m.product_name)])
                            for m in product_hits)),
    }


def _names(m: Mention) -> set[str]:
    return {name_key(n) for n in m.product_name.split("|")}


def _confusions(predicted: list[Mention], labelled: list[Mention]) -> list[tuple[PostKey, Mention | None,
                                                                                 Mention | None]]:
    """Per post, the mentions predicted but not labelled against those labelled but not predicted (as product
    and price): first the same product with another price, then the rest in order."""
    by_post: dict[PostKey, tuple[list[Mention], list[Mention]]] = defaultdict(lambda: ([], []))
    for m in predicted:
        by_post[m.post][0].append(m)
    for m in labelled:
        by_post[m.post][1].append(m)
    confusions = []
    for post in sorted(by_post):
        wrong, lost = list(by_post[post][0]), list(by_post[post][1])
        for m in list(wrong):
            same = next((w for w in lost if name_key(m.product_name) in _names(w) and w.price_birr == m.price_birr),
                        None)
            if same is not None:
                wrong.remove(m)
                lost.remove(same)
        for m in list(wrong):
            twin = next((w for w in lost if name_key(m.product_name) in _names(w)), None)
            if twin is not None:
                confusions.append((post, m, twin))
                wrong.remove(m)
                lost.remove(twin)
        for index in range(max(len(wrong), len(lost))):
            confusions.append((post, wrong[index] if index < len(wrong) else None,
                               lost[index] if index < len(lost) else None))
    return confusions


def _groups(posts: dict[PostKey, dict[str, str]]) -> dict[str, Callable[[PostKey], bool]]:
    groups: dict[str, Callable[[PostKey], bool]] = {"all": lambda post: True}
    groups |= {lang: (lambda post, lang=lang: posts[post]["language"] == lang) for lang in LANGUAGES}
    groups |= {origin: (lambda post, origin=origin: posts[post]["origin"] == origin) for origin in ORIGINS}
    for channel in SHOP_CHANNELS:
        groups[channel] = lambda post, c=channel: post[0] == c and posts[post]["origin"] != "channel_held_out"
        groups[f"{channel} (held out)"] = lambda post, c=channel: (
            post[0] == c and posts[post]["origin"] == "channel_held_out")
    return groups


def score(predicted: list[Mention], labelled: list[Mention], posts: dict[PostKey, dict[str, str]]) -> Report:
    unknown = {m.post for m in labelled} - posts.keys()
    if unknown:
        raise ValueError(f"labels name posts that posts.csv does not list: {sorted(unknown)[:5]}")
    # Only the set's posts count: a warehouse holding others is not judged on them.
    predicted = [m for m in predicted if m.post in posts]
    keyed_labels = _resolve_alternatives(predicted, labelled)
    keyed_predicted = [dataclasses.replace(m, product_name=name_key(m.product_name)) for m in predicted]
    groups = {name: keep for name, keep in _groups(posts).items() if any(keep(post) for post in posts)}
    figures = {name: _figures([m for m in keyed_predicted if keep(m.post)],
                              [m for m in keyed_labels if keep(m.post)])
               for name, keep in groups.items()}
    counts = {name: sum(1 for post in posts if keep(post)) for name, keep in groups.items()}
    quiet = {channel: (sum(1 for post in posts if post[0] == channel),
                       sum(1 for m in predicted if m.channel_name == channel))
             for channel in QUIET_CHANNELS if any(post[0] == channel for post in posts)}
    return Report(counts, figures, _confusions(predicted, labelled), quiet)


def _fmt(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def _mention(m: Mention | None) -> str:
    if m is None:
        return "(nothing)"
    price = f"{m.price_birr:,f} birr" if m.price_birr is not None else "no price"
    return f"{m.product_name} @ {price}"


def format_report(report: Report, held_out_posts: set[PostKey] | None = None) -> str:
    """The figures, then the confusions; those of held_out_posts only counted, not shown (read them and they are
    no longer held out)."""
    lines = [f"{'posts':<36}{'measure':<15}{'precision':>10}{'recall':>9}   matched/predicted, matched/labelled"]
    for group, measures in report.figures.items():
        label = f"{group} ({report.posts[group]})"
        for measure, f in measures.items():
            lines.append(f"{label:<36}{measure:<15}{_fmt(f.precision):>10}{_fmt(f.recall):>9}   "
                         f"{f.matched_predicted}/{f.predicted}, {f.matched_labelled}/{f.labelled}")
            label = ""
    if report.quiet:
        lines.append("")
        lines.append("channels that sell nothing: mentions per 100 posts (mentions/posts)")
        for channel, (count, mentions) in report.quiet.items():
            lines.append(f"  {channel:<16}{100 * mentions / count:>6.1f}   {mentions}/{count}")
        count, mentions = (sum(v) for v in zip(*report.quiet.values()))
        lines.append(f"  {'all':<16}{100 * mentions / count:>6.1f}   {mentions}/{count}")
    shown = [c for c in report.confusions if c[0] not in (held_out_posts or set())]
    lines.append("")
    lines.append(f"confusions ({len(report.confusions)}, {len(report.confusions) - len(shown)} of them in held-out "
                 "posts, not shown): predicted  <-  in place of labelled")
    for (channel, message_id), got, want in shown:
        lines.append(f"  {channel}/{message_id}: {_mention(got)}  <-  {_mention(want)}")
    tally = Counter((got.product_name if got else None, want.product_name if want else None)
                    for _, got, want in shown
                    if not (got and want and name_key(got.product_name) in _names(want)))
    if tally:
        lines.append("")
        lines.append("products confused (count: predicted <- labelled)")
        for (got, want), n in tally.most_common():
            lines.append(f"  {n}: {got or '(nothing)'} <- {want or '(nothing)'}")
    return "\n".join(lines)


def evaluate(admin_dsn: str, eval_dir: Path = EVAL_DIR) -> Report:
    """Build the set in a scratch database of its own on the server of admin_dsn, score it, drop the database."""
    name = f"mtw_eval_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    try:
        params = psycopg.conninfo.conninfo_to_dict(admin_dsn) | {"dbname": name}
        predicted = build(psycopg.conninfo.make_conninfo(**params), eval_dir)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
    return score(predicted, load_labels(eval_dir), load_posts(eval_dir))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-dsn", default=os.environ.get("TEST_WAREHOUSE_ADMIN_DSN",
                                                            "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="a server where a scratch database may be created (default: %(default)s)")
    parser.add_argument("--show-held-out", action="store_true",
                        help="also list the confusions of held-out posts (once read, they are held out no more)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    report = evaluate(args.admin_dsn)
    print(format_report(report, None if args.show_held_out else held_out_posts()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
