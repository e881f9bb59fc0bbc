"""The generated seeds of medicine names, written at setup beside the dbt manifest (`python -m
medical_telegram.transform.dbt_runner`), never committed: `seeds/generated/medicine_names.csv` and
`seeds/generated/english_words.csv`.

medicine_names: every name of a medicine that the MIT-licensed `drug-named-entity-recognition` package ships
(generic names, brand names and synonyms from MeSH, DrugBank, MedlinePlus, the NHS and Wikipedia, about 107,000
names of 20,000 substances), mapped to the substance's own name. Kept: substances that a health service or an
encyclopedia describes (a MedlinePlus, NHS or Wikipedia page) or that DrugBank gives a structure for (food and
allergen extracts have none); names of one to three plain words, four letters or more, that are not everyday
English (a name as common in English as "bean" or "heroin" only when it is the substance's own name). The hand
seed `medicine_aliases.csv` corrects and extends what comes out: local brands, abbreviations, misspellings, the
international (INN) names Ethiopian pharmacies write ("Paracetamol" for the package's "Acetaminophen").

english_words: common English words (wordfreq, Zipf frequency 2.5 or more) of six letters or more (the length the
misspelling matcher of int_segment_product_hits starts at), which it never takes for a misspelt name ("plastic"
is no "plastin").
"""

from __future__ import annotations

import bz2
import importlib.resources
import logging
import pickle
import re
from pathlib import Path

log = logging.getLogger(__name__)

_NAME = re.compile(r"[a-z][a-z'-]*(?: [a-z][a-z'-]*){0,2}")
# Whole groups of DrugBank entries that are no product a pharmacy sells (ions, allergen extracts).
_NOT_A_PRODUCT = re.compile(r"\b(?:ion|extract|pollen|dander|hair|feather|venom protein)$")
_DESCRIBED = ("medline_plus_id", "nhs_url", "wikipedia_url")
# The salt or ion part of a name ("Sildenafil Citrate"), never a product on its own.
_SALTS = {"acetate", "bicarbonate", "bromide", "carbonate", "chloride", "citrate", "fumarate", "gluconate",
          "hydrochloride", "hydroxide", "lactate", "maleate", "mesylate", "nitrate", "oxide", "phosphate",
          "sodium", "succinate", "sulfate", "sulphate", "tartrate", "besylate", "trihydrate", "monohydrate"}
# How a monograph names one route or form of a substance ("Clotrimazole Vaginal", "Goserelin Implant"): the
# product is the substance.
_ROUTE = re.compile(r" (?:vaginal|topical|oral|oral inhalation|inhalation|injection|ophthalmic|otic|nasal|rectal|"
                    r"transdermal|implant|buccal|sublingual)$", re.I)


def _dictionary() -> dict:
    source = importlib.resources.files("drug_named_entity_recognition") / "drug_ner_dictionary.pkl.bz2"
    with source.open("rb") as raw, bz2.open(raw) as f:
        return pickle.load(f)  # the package's own data file, read as the package itself reads it


def medicine_names() -> list[tuple[str, str, str]]:
    """(alias, medicine name, is_common) rows, sorted: the names a post may write, each mapped to its substance;
    is_common where MedlinePlus or the NHS describe the substance (the misspelling matcher reads only those)."""
    from wordfreq import zipf_frequency

    data = _dictionary()
    substances = data["drug_canonical_to_data"]
    kept = {key for key, facts in substances.items()
            if any(field in facts for field in _DESCRIBED) or ("drugbank_id" in facts and "smiles" in facts)}
    names = {key: _substance_name(facts["name"], substances) for key, facts in substances.items() if key in kept}
    rows = set()
    for alias, (canonical, *_) in data["drug_variant_to_canonical"].items():
        if (canonical not in kept or len(alias) < 4 or alias in _SALTS or not _NAME.fullmatch(alias)
                or _NOT_A_PRODUCT.search(alias)):
            continue
        frequency = zipf_frequency(alias, "en")
        if frequency >= (4.0 if alias == canonical else 3.0):
            continue
        facts = substances[canonical]
        # a misspelling is read only as a generic name that MedlinePlus or the NHS describe, never a brand
        common = alias == canonical and ("medline_plus_id" in facts or "nhs_url" in facts)
        rows.add((alias, names[canonical], "true" if common else "false"))
    return sorted(rows)


def _substance_name(name: str, substances: dict) -> str:
    """The product's name: the substance without the route a monograph adds, in title case where the package
    writes it in lower case ("Zinc oxide" -> Zinc Oxide)."""
    base = _ROUTE.sub("", name)
    if base != name and "name" in substances.get(base.lower(), {}):
        name = substances[base.lower()]["name"]
    return " ".join(w[:1].upper() + w[1:] if w.islower() else w for w in name.split(" "))


def english_words() -> list[str]:
    from wordfreq import top_n_list, zipf_frequency

    return sorted(w for w in top_n_list("en", 100000)
                  if len(w) >= 6 and w.isalpha() and w.isascii() and zipf_frequency(w, "en") >= 2.5)


def write_seeds(seeds_dir: Path) -> dict[str, int]:
    """Write both seeds into seeds_dir (created), only when their content changed; return their row counts."""
    seeds_dir.mkdir(parents=True, exist_ok=True)
    tables = {
        "medicine_names": (["alias", "medicine_name", "is_common"], medicine_names()),
        "english_words": (["word"], [(w,) for w in english_words()]),
    }
    counts = {}
    for name, (header, rows) in tables.items():
        path = seeds_dir / f"{name}.csv"
        lines = [",".join(header)] + [",".join(_csv_field(v) for v in row) for row in rows]
        text = "\n".join(lines) + "\n"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        counts[name] = len(rows)
    log.info("generated seeds: %s", counts)
    return counts


def _csv_field(value: str) -> str:
    if any(c in value for c in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value
