"""Apply, or check, French typography in the French sources: the interface's translations
(lti_tool/translations/fr/LC_MESSAGES/messages.po, translations only) and the French catalogue
(lti_tool/catalogue/content/fr/, every text but URLs and ids). The rules are
lti_tool.common.typography's.

    .venv/bin/python tools/french_typography.py           # report what is not French typography
    .venv/bin/python tools/french_typography.py --fix     # and rewrite it (then pybabel compile)
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lti_tool.common.typography import french, problems  # noqa: E402

PO = ROOT / "lti_tool" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
CONTENT = ROOT / "lti_tool" / "catalogue" / "content" / "fr"
# YAML lines whose value is not French text.
_NOT_TEXT = re.compile(r"^\s*(?:- )?(?:url|id|type|kind|order|answer|count|min_length|max|min|scale):")


def _strings(value, path=""):
    """(path, text) of every string in a loaded YAML document, URLs and ids left out."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in ("url", "id"):
                yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def _frenchified(value):
    if isinstance(value, dict):
        return {k: (v if k in ("url", "id") else _frenchified(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_frenchified(v) for v in value]
    return french(value) if isinstance(value, str) else value


def content_problems() -> list[str]:
    found = []
    for path in sorted(CONTENT.rglob("*.yaml")):
        for where, text in _strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
            found += [f"{path.relative_to(ROOT)} {where}: {p}" for p in problems(text)]
    return found


def po_problems() -> list[str]:
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    found = []
    for message in catalog:
        if not message.id:
            continue
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in texts:
            found += [f"messages.po {message.id!r}: {p}" for p in problems(text or "")]
    return found


def fix_content() -> int:
    changed = 0
    for path in sorted(CONTENT.rglob("*.yaml")):
        source = path.read_text(encoding="utf-8")
        lines = [line if _NOT_TEXT.match(line) else french(line) for line in source.split("\n")]
        fixed = "\n".join(lines)
        # The YAML must say the same, in French typography: nothing but text was touched.
        assert yaml.safe_load(fixed) == _frenchified(yaml.safe_load(source)), path
        if fixed != source:
            path.write_text(fixed, encoding="utf-8")
            changed += 1
    return changed


def fix_po() -> int:
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    changed = 0
    for message in catalog:
        if not message.id or not message.string:
            continue
        if isinstance(message.string, tuple):
            fixed = tuple(french(text) for text in message.string)
        else:
            fixed = french(message.string)
        if fixed != message.string:
            message.string = fixed
            changed += 1
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=100)
    return changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fix", action="store_true", help="rewrite the sources in French typography")
    args = parser.parse_args()
    if args.fix:
        print(f"messages.po: {fix_po()} translations changed; catalogue: {fix_content()} files changed")
    found = po_problems() + content_problems()
    for line in found:
        print(line)
    print(f"{len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
