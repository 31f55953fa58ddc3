"""The areas' dependencies point one way, and no area reaches into another's models, views or
routes: the import-linter contracts in pyproject.toml (also run by `make test` on their own)."""

from __future__ import annotations

import logging
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_are_kept(monkeypatch):
    monkeypatch.chdir(ROOT)
    # import-linter configures logging with dictConfig, which disables every logger that exists
    # by then (the LLM SDKs' ones, if a test before this one built a provider): tests after this
    # one read those loggers' records, so they are left as they were.
    loggers = [logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    disabled = {logger: logger.disabled for logger in loggers}
    try:
        assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0
    finally:
        for logger, was_disabled in disabled.items():
            logger.disabled = was_disabled
