"""Settings per environment, read from the environment at app creation (never at import)."""

from __future__ import annotations

import math
import os
import zlib
from pathlib import Path
from urllib.parse import urlsplit

TRUE_WORDS = {"1", "true", "yes", "on"}


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in TRUE_WORDS


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from exc


class ConfigError(RuntimeError):
    """The environment does not describe a runnable tool."""


SECRET_KEY_MIN_BITS = 256  # as much as the 32 random bytes of secrets.token_urlsafe(32)
MAKE_A_SECRET_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
# Keys published with the code: the development and test defaults, .env.example's placeholder.
KNOWN_SECRET_KEYS = frozenset({"dev-only-secret-change-me", "test-secret", "change-me-to-a-long-random-string"})
_HEX = frozenset("0123456789abcdefABCDEF")
_BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=")
_ZLIB_OVERHEAD = len(zlib.compress(b"", 9))


def secret_key_bits(key: str) -> float:
    """A generous estimate of how many random bits `key` holds: its length times what one
    character carries in the smallest alphabet all its characters fit (hexadecimal 4 bits,
    base64 6, anything else that of printable ASCII, 6.6), but never more than its size once
    compressed, so that a repeated pattern ("passwordpassword…") counts once. A random key
    reaches its full size; a short, repetitive or hexadecimal-short key does not."""
    characters = set(key)
    alphabet = 16 if characters <= _HEX else 64 if characters <= _BASE64 else 95
    compressed = len(zlib.compress(key.encode("utf-8"), 9)) - _ZLIB_OVERHEAD
    return min(len(key) * math.log2(alphabet), 8 * compressed)


def secret_key_problem(key: str) -> str | None:
    """Why `key` may not protect a production database, or None if it may."""
    if key.strip() in KNOWN_SECRET_KEYS:
        return "SECRET_KEY is a value published with the code (a development default or .env.example's placeholder)"
    bits = secret_key_bits(key)
    if bits < SECRET_KEY_MIN_BITS:
        return (f"SECRET_KEY is too weak: it holds about {int(bits)} random bits where at least "
                f"{SECRET_KEY_MIN_BITS} (32 random bytes) are needed")
    return None


class Config:
    """Base settings. Each subclass reads the environment when instantiated."""

    ENV_NAME = "base"
    DEFAULT_SECRET_KEY: str | None = None
    DEFAULT_DEMO_PLATFORM = False
    DEFAULT_OUTBOX_THREAD = False
    DEFAULT_LLM_ALLOW_INTERNAL_ENDPOINTS = False
    DEFAULT_PLATFORM_ALLOW_INTERNAL_ENDPOINTS = False

    def __init__(self, instance_path: Path) -> None:
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or self.DEFAULT_SECRET_KEY
        if not self.SECRET_KEY:
            raise ConfigError("SECRET_KEY must be set (it also derives the key that encrypts private keys).")
        self.SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or (
            f"sqlite:///{instance_path / 'mentorat_ia.sqlite3'}"
        )
        # A pooled connection is tested when a request takes it (pool_pre_ping: one `SELECT 1`,
        # a fraction of a millisecond on the same network): after a database restart every pooled
        # connection is dead, and without the test each would fail one request before the pool
        # replaces it. Recycled every half hour too (a proxy or firewall may drop idle ones).
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_recycle": 1800}
        if not self.SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
            # Connections per worker process: DB_POOL_SIZE kept open, DB_MAX_OVERFLOW more at a peak.
            # A request holds one only while it works (a streamed answer gives its back before the
            # answer: activities/assistant.py), so far fewer than gunicorn's threads are needed.
            # PostgreSQL's max_connections must exceed (size + overflow) x workers x instances.
            self.SQLALCHEMY_ENGINE_OPTIONS |= {"pool_size": env_int("DB_POOL_SIZE", 10),
                                               "max_overflow": env_int("DB_MAX_OVERFLOW", 10)}
        self.REDIS_URL = os.environ.get("REDIS_URL") or None
        self.TOOL_BASE_URL = (os.environ.get("TOOL_BASE_URL") or "http://localhost:5000").rstrip("/")
        self.DEMO_PLATFORM = env_bool("DEMO_PLATFORM", self.DEFAULT_DEMO_PLATFORM)
        # The demo platform lives on another site than the tool (127.0.0.1 vs localhost) so
        # that the iframe is cross-site, as it is under a real Moodle.
        self.DEMO_PLATFORM_URL = (
            os.environ.get("DEMO_PLATFORM_URL") or self.TOOL_BASE_URL.replace("//localhost", "//127.0.0.1")
        ).rstrip("/")
        self.LAUNCH_SESSION_TTL = env_int("LAUNCH_SESSION_TTL", 8 * 3600)
        self.REGISTRATION_INVITE_TTL = env_int("REGISTRATION_INVITE_TTL", 24 * 3600)
        self.KEY_ROTATION_GRACE = env_int("KEY_ROTATION_GRACE", 7 * 24 * 3600)
        self.JWT_LEEWAY = env_int("JWT_LEEWAY", 60)
        self.PLATFORM_JWKS_TTL = env_int("PLATFORM_JWKS_TTL", 3600)
        self.HTTP_TIMEOUT = env_int("HTTP_TIMEOUT", 10)
        # The largest request body, in bytes (Flask answers 413 before reading a longer one). The
        # largest legitimate bodies are a role play's draft (a conversation stops at the assistant's
        # 60,000 characters, plus its last answer and a reflection) and a draft of 20 reflections:
        # a few hundred kilobytes of French text. 1 MiB leaves room, and refuses a
        # million-item list before any of it is parsed.
        self.MAX_CONTENT_LENGTH = env_int("MAX_CONTENT_LENGTH", 1024 * 1024)
        if self.MAX_CONTENT_LENGTH < 1:
            raise ConfigError("MAX_CONTENT_LENGTH must be a positive number of bytes.")
        self.BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
        self.BABEL_DEFAULT_LOCALE = "fr"
        # The centres' time zone: times are stored in UTC and shown in it.
        self.BABEL_DEFAULT_TIMEZONE = os.environ.get("TIMEZONE") or "Europe/Paris"
        self.SUPPORTED_LOCALES = ("fr", "en")
        # The grade outbox worker as a thread of the dev server; production runs `flask lti-tool worker`.
        self.OUTBOX_THREAD = env_bool("OUTBOX_THREAD", self.DEFAULT_OUTBOX_THREAD)
        self.LLM_PROVIDER = os.environ.get("LLM_PROVIDER") or "fake"
        # The operator's LLM defaults; a centre overrides them on its admin page (except
        # LLM_ALLOW_NON_EU and LLM_EU_CONFIRMED, which only the operator decides, here).
        # Values stay strings: lti_tool.llm.base.ProviderSettings.from_mapping parses and checks them.
        for name in ("MODEL", "BASE_URL", "API_KEY", "SERVER", "TIMEOUT", "CONNECT_TIMEOUT", "TEMPERATURE",
                     "MAX_TOKENS", "ALLOW_NON_EU", "EU_CONFIRMED", "STREAM_USAGE", "FAKE_CHUNK_DELAY"):
            setattr(self, "LLM_" + name, os.environ.get("LLM_" + name) or None)
        # May a centre's administrator point the assistant at a private-network address (the
        # operator's own network)? Off in production unless the operator hosts the model there.
        self.LLM_ALLOW_INTERNAL_ENDPOINTS = env_bool("LLM_ALLOW_INTERNAL_ENDPOINTS",
                                                     self.DEFAULT_LLM_ALLOW_INTERNAL_ENDPOINTS)
        # May a platform make the tool call a private-network address off its registered origins
        # (a service URL in a launch, the addresses of a dynamic registration)? Off in production
        # unless the platforms live on the operator's network.
        self.PLATFORM_ALLOW_INTERNAL_ENDPOINTS = env_bool("PLATFORM_ALLOW_INTERNAL_ENDPOINTS",
                                                          self.DEFAULT_PLATFORM_ALLOW_INTERNAL_ENDPOINTS)
        # Quotas (0: no limit), counted from the AI log; a centre may set its own.
        self.LLM_QUOTA_LEARNER_DAILY_CALLS = env_int("LLM_QUOTA_LEARNER_DAILY_CALLS", 50)
        self.LLM_QUOTA_LEARNER_DAILY_TOKENS = env_int("LLM_QUOTA_LEARNER_DAILY_TOKENS", 50_000)
        self.LLM_QUOTA_CENTRE_MONTHLY_CALLS = env_int("LLM_QUOTA_CENTRE_MONTHLY_CALLS", 0)
        self.LLM_QUOTA_CENTRE_MONTHLY_TOKENS = env_int("LLM_QUOTA_CENTRE_MONTHLY_TOKENS", 0)
        # Months the AI log keeps the texts of a call (then `lti-tool purge` removes them, keeping
        # the figures); a centre may set its own.
        self.LLM_LOG_RETENTION_MONTHS = env_int("LLM_LOG_RETENTION_MONTHS", 6)
        # Catalogue text rendered once per process (lti_tool.catalogue.text.catalogue_fragment);
        # off while editing templates or catalogue content under a running server.
        self.FRAGMENT_CACHE = env_bool("FRAGMENT_CACHE", True)
        self.SQLALCHEMY_RECORD_QUERIES = False
        self.validate()

    def validate(self) -> None:
        """Refuse combinations that would be unsafe in this environment."""


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    # Dev only: `make run` must work with no set-up. Production refuses to start without a key.
    DEFAULT_SECRET_KEY = "dev-only-secret-change-me"
    DEFAULT_DEMO_PLATFORM = True
    DEFAULT_OUTBOX_THREAD = True
    DEFAULT_LLM_ALLOW_INTERNAL_ENDPOINTS = True  # a local Ollama or vLLM while developing
    DEFAULT_PLATFORM_ALLOW_INTERNAL_ENDPOINTS = True  # registering a Moodle on this machine (make test-moodle)


class TestConfig(Config):
    ENV_NAME = "test"
    DEFAULT_SECRET_KEY = "test-secret"
    DEFAULT_DEMO_PLATFORM = True
    DEFAULT_LLM_ALLOW_INTERNAL_ENDPOINTS = True  # the providers' fakes listen on 127.0.0.1
    DEFAULT_PLATFORM_ALLOW_INTERNAL_ENDPOINTS = True  # as in development; the tests of the rule turn it off

    def __init__(self, instance_path: Path) -> None:
        super().__init__(instance_path)
        self.TESTING = True
        self.TOOL_BASE_URL = "https://tool.test"
        self.DEMO_PLATFORM_URL = "https://demo-platform.test"
        self.SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or "sqlite://"
        self.REDIS_URL = None


class ProductionConfig(Config):
    ENV_NAME = "production"

    def validate(self) -> None:
        problem = secret_key_problem(self.SECRET_KEY)
        if problem:
            raise ConfigError(f"{problem}. It derives the key that encrypts the tool's private keys and the centres' "
                              "AI keys: with a guessable SECRET_KEY, a copy of the database gives them away. "
                              f"Make one with: {MAKE_A_SECRET_KEY}")
        if self.DEMO_PLATFORM:
            raise ConfigError("DEMO_PLATFORM cannot be on in production: it lets anyone launch the tool.")
        if not self.TOOL_BASE_URL.startswith("https://"):
            raise ConfigError("TOOL_BASE_URL must be an https:// URL in production (LTI cookies need TLS).")
        if not self.REDIS_URL:
            raise ConfigError("REDIS_URL must be set in production: the OIDC state and nonces of a launch must be "
                              "shared by every gunicorn worker (in-process, a launch reaching another worker fails).")


CONFIGS = {c.ENV_NAME: c for c in (DevelopmentConfig, TestConfig, ProductionConfig)}


LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def load_config(name: str | None, instance_path: Path) -> Config:
    """Build the settings object named by `name` or by $LTI_TOOL_ENV.

    Without either, development, but only for a tool on this machine (TOOL_BASE_URL unset or a
    loopback address): development turns the demo platform on and has a known secret key, so
    a public TOOL_BASE_URL with no environment named is refused rather than served that way.
    """
    name = name or os.environ.get("LTI_TOOL_ENV")
    if not name:
        base_url = os.environ.get("TOOL_BASE_URL") or ""
        if base_url and urlsplit(base_url).hostname not in LOOPBACK_HOSTS:
            raise ConfigError("LTI_TOOL_ENV is not set and TOOL_BASE_URL is not on this machine: set "
                              "LTI_TOOL_ENV=production (or development, explicitly, to run the demo platform there).")
        name = "development"
    try:
        cls = CONFIGS[name]
    except KeyError as exc:
        raise ConfigError(f"Unknown environment {name!r}; use one of {sorted(CONFIGS)}") from exc
    return cls(instance_path)
