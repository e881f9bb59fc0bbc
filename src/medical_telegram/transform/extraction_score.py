"""Scoring mentions against labels: precision and recall per group of posts, confusions, the printed report.

Pure functions over Mention lists (extraction_eval.py builds the predicted ones with real dbt).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal

LANGUAGES = ("en", "am", "mixed")
ORIGINS = ("sample", "written", "held_out", "channel", "channel_held_out")
# Real channels of the set: shops get precision and recall, the others their mentions per 100 posts.
SHOP_CHANNELS = ("lobelia4cosmetics", "tikvahpharma", "pharmacyhubethiopia", "addispharma")
QUIET_CHANNELS = ("eahci", "doctorset", "tenamereja", "thequorachannel")
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


def name_key(name: str) -> str:
    """A product name as matching compares it: lower case, words of letters and digits, no plural "s"."""
    words = re.findall(r"[a-z0-9\u1200-\u137f]+", name.lower())
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")) else w
                    for w in words)


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
