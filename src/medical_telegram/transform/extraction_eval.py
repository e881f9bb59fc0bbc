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
import json
import logging
import os
import sys
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg

from medical_telegram import lake
from medical_telegram.transform.dbt_runner import REPO_DIR, run_dbt
from medical_telegram.transform.extraction_score import (  # noqa: F401  (the evaluation's API: ev.<name>)
    LANGUAGES, ORIGINS, QUIET_CHANNELS, SHOP_CHANNELS, Figure, Mention, PostKey, Report, format_report, name_key,
    score,
)
from medical_telegram.warehouse.loaders.messages import load_messages
from medical_telegram.warehouse.migrate import migrate

log = logging.getLogger(__name__)

EVAL_DIR = REPO_DIR / "sample" / "extraction_eval"
SAMPLE_LAKE = REPO_DIR / "sample" / "lake"
# Only what the mentions need: the seeds and models upstream of fct_product_mentions, without their tests
# (`make test` runs those); the evaluation judges the output.
DBT_ARGS = ["build", "--select", "+fct_product_mentions", "--exclude-resource-type", "test",
            "--exclude-resource-type", "unit_test"]

def _price(value: str | None) -> Decimal | None:
    return Decimal(value).normalize() if value not in (None, "") else None


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
