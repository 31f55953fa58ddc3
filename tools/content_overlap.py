"""Measure how much of the catalogue's wording is copied from the source guide.

Text is normalised (lower case, accents and punctuation removed, split on whitespace); the word
n-grams (8 by default) of the source are compared with those of every string field of the content
YAML files. Reported: the share of the content's n-grams that also occur in the source, and the
shared passages (maximal runs of shared n-grams) with file and field, longest first.

URL fields are ignored. Resource titles (names of cited books, articles, reports, websites) may
legitimately match the source: they are counted and listed separately.

    .venv/bin/python tools/content_overlap.py               # French content vs the main guide
    .venv/bin/python tools/content_overlap.py --limit 0     # figures only
    .venv/bin/python tools/content_overlap.py --json        # machine-readable
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "lti_tool" / "catalogue" / "content"
DEFAULT_SOURCE = Path("/work/shared/seeds/000_9e715f5cd1cd8daf.txt")

LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
NON_WORD = re.compile(r"[^0-9a-z]+")
URL = re.compile(r"^\s*(https?://|www\.)\S+\s*$", re.IGNORECASE)
TITLE_PATH = re.compile(r"(^|\.)resources\[\d+\]\.title$")


def normalise(text: str) -> list[str]:
    """Lower case, no accents, no punctuation, split on whitespace."""
    text = unicodedata.normalize("NFKD", text.translate(LIGATURES))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return NON_WORD.sub(" ", text).split()


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def string_fields(node, path: str = ""):
    """Yield (path, text) for every string in a YAML document, skipping URLs."""
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            if key == "url":
                continue
            yield from string_fields(value, child)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from string_fields(value, f"{path}[{i}]")
    elif isinstance(node, str):
        if not URL.match(node):
            yield path, node


@dataclass
class Passage:
    file: str
    field: str
    words: int
    text: str
    title: bool


@dataclass
class Tally:
    grams: int = 0
    shared: int = 0
    fields: set = field(default_factory=set)

    def pct(self) -> float:
        return 100.0 * self.shared / self.grams if self.grams else 0.0


def measure(lang: str, source: Path, n: int):
    source_grams = set(ngrams(normalise(source.read_text(encoding="utf-8")), n))
    totals = {"all": Tally(), "titles": Tally(), "other": Tally()}
    passages: list[Passage] = []
    for path in sorted((CONTENT / lang).rglob("*.yaml")):
        rel = path.relative_to(CONTENT).as_posix()
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for fpath, text in string_fields(doc):
            tokens = normalise(text)
            grams = ngrams(tokens, n)
            if not grams:
                continue
            hits = [g in source_grams for g in grams]
            is_title = bool(TITLE_PATH.search(fpath))
            for key in ("all", "titles" if is_title else "other"):
                totals[key].grams += len(grams)
                totals[key].shared += sum(hits)
                if any(hits):
                    totals[key].fields.add((rel, fpath))
            # maximal runs of consecutive shared n-grams -> word spans
            i = 0
            while i < len(hits):
                if not hits[i]:
                    i += 1
                    continue
                j = i
                while j + 1 < len(hits) and hits[j + 1]:
                    j += 1
                span = tokens[i:j + n]
                passages.append(Passage(rel, fpath, len(span), " ".join(span), is_title))
                i = j + 1
    passages.sort(key=lambda p: (-p.words, p.file, p.field))
    return totals, passages


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", default="fr")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("-n", type=int, default=8, help="n-gram size in words (default 8)")
    parser.add_argument("--limit", type=int, default=None, help="list at most this many passages per group")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    totals, passages = measure(args.lang, args.source, args.n)
    if args.json:
        json.dump({
            "n": args.n,
            "totals": {k: {"grams": t.grams, "shared": t.shared, "pct": round(t.pct(), 3),
                           "fields": len(t.fields)} for k, t in totals.items()},
            "passages": [p.__dict__ for p in passages],
        }, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0

    print(f"{args.lang} content vs {args.source.name}, word {args.n}-grams")
    labels = {"all": "all fields", "titles": "resource titles", "other": "outside resource titles"}
    for key, t in totals.items():
        print(f"  {labels[key]:<24} {t.shared:>6} / {t.grams:<7} shared  ({t.pct():.2f} %)"
              f"  in {len(t.fields)} field(s)")
    for title, group in (("Offending passages (outside resource titles)", [p for p in passages if not p.title]),
                         ("Resource titles matching the source", [p for p in passages if p.title])):
        shown = group if args.limit is None else group[:args.limit]
        if args.limit == 0:
            continue
        print(f"\n{title}: {len(group)}")
        for p in shown:
            print(f"  [{p.words:>3} words] {p.file} :: {p.field}\n      {p.text}")
        if len(shown) < len(group):
            print(f"  … {len(group) - len(shown)} more")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
