"""The catalogue: the four modules as data, loaded and validated once per process."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from flask import current_app
from marshmallow import ValidationError

from .schemas import ModuleSchema, ThemeSchema

CONTENT_DIR = Path(__file__).parent / "content"
LANGUAGES = ("fr", "en")


class CatalogueError(ValueError):
    """A content file is invalid: the message names the file and the field."""


@dataclass
class Module:
    id: str
    order: int
    title: str
    summary: str
    themes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Catalogue:
    language: str
    version: str
    modules: list[Module]

    def item(self, item_id: str) -> dict[str, Any] | Module | None:
        """A module, theme/phase or exercise by its stable id."""
        for module in self.modules:
            if module.id == item_id:
                return module
            for theme in module.themes:
                if theme["id"] == item_id:
                    return theme
                for exercise in theme["exercises"]:
                    if exercise["id"] == item_id:
                        return exercise
        return None


def _flatten(messages: Any, prefix: str = "") -> list[str]:
    if isinstance(messages, dict):
        return [line for key, value in messages.items() for line in _flatten(value, f"{prefix}{key}.")]
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{prefix.rstrip('.')}: {'; '.join(messages)}"]
    return [f"{prefix.rstrip('.')}: {messages}"]


def _load_file(path: Path, schema, content_dir: Path) -> dict[str, Any]:
    name = path.relative_to(content_dir).as_posix()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{name}: not valid YAML: {exc}") from exc
    try:
        return schema.load(raw if isinstance(raw, dict) else {})
    except ValidationError as exc:
        problems = ", ".join(_flatten(exc.normalized_messages()))
        raise CatalogueError(f"{name}: {problems}") from exc


def load_catalogue(language: str, content_dir: Path = CONTENT_DIR) -> Catalogue:
    """Read and validate every file of `language`. Raises CatalogueError on the first bad file."""
    root = content_dir / language
    if not root.is_dir():
        raise CatalogueError(f"{language}: no content directory at {root}")
    digest = hashlib.sha256()
    modules: list[Module] = []
    for module_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        module_file = module_dir / "module.yaml"
        digest.update(module_file.read_bytes())
        data = _load_file(module_file, ModuleSchema(), content_dir)
        if data["id"] != module_dir.name:
            raise CatalogueError(f"{module_file.relative_to(content_dir)}: id: must be {module_dir.name}")
        module = Module(**data)
        for theme_file in sorted(module_dir.glob("[tp]*.yaml")):
            digest.update(theme_file.read_bytes())
            theme = _load_file(theme_file, ThemeSchema(), content_dir)
            expected = f"{module.id}.{theme_file.stem}"
            if theme["id"] != expected:
                raise CatalogueError(f"{theme_file.relative_to(content_dir)}: id: must be {expected}")
            module.themes.append(theme)
        module.themes.sort(key=lambda t: t["order"])
        modules.append(module)
    modules.sort(key=lambda m: m.order)
    return Catalogue(language=language, version=digest.hexdigest()[:12], modules=modules)


def get_catalogue(language: str) -> Catalogue:
    """The catalogue in `language` (fr or en), loaded on first use and kept for the process."""
    cache = current_app.extensions.setdefault("lti_tool_catalogue", {})
    if language not in cache:
        cache[language] = load_catalogue(language)
    return cache[language]


def catalogue_outline(catalogue: Catalogue) -> dict[str, Any]:
    """Modules → themes/phases → exercises: ids, titles and types only (no learner data)."""
    return {
        "language": catalogue.language,
        "version": catalogue.version,
        "modules": [
            {
                "id": module.id, "title": module.title,
                "themes": [
                    {
                        "id": theme["id"], "title": theme["title"],
                        "exercises": [{"id": e["id"], "title": e["title"], "type": e["type"]}
                                      for e in theme["exercises"]],
                    }
                    for theme in module.themes
                ],
            }
            for module in catalogue.modules
        ],
    }
