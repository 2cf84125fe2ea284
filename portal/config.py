"""Settings, read from ``PORTAL_*`` environment variables.

The embedded default is SQLite in ``instance/portal.db``; production runs on PostgreSQL
(``postgresql+psycopg://…``).  In production the app refuses to start with a missing or weak
secret key or with debug on (see :func:`check_production`).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path

# Values a careless deployment might leave in place; none of them is a real secret.
_PLACEHOLDER_SECRETS = {"", "dev", "changeme", "change-me", "secret", "please-change-me"}
MIN_SECRET_LENGTH = 32


class ConfigurationError(RuntimeError):
    """The environment describes a configuration the portal refuses to run with."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"PORTAL_{name}")
    return value if value not in (None, "") else default


def _env_bool(name: str, default: bool = False) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value is not None else default


def _development_secret(instance_path: Path) -> str:
    """A key generated once into instance/ so sessions survive restarts in development."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_config(instance_path: str) -> dict:
    """Build the Flask config mapping from the environment."""
    instance = Path(instance_path)
    env = (_env("ENV", "development") or "development").lower()
    production = env == "production"
    database_url = _env("DATABASE_URL") or f"sqlite:///{instance / 'portal.db'}"
    redis_url = _env("REDIS_URL")
    secret = _env("SECRET_KEY")
    if secret is None and not production:
        secret = _development_secret(instance)
    config = {
        "PORTAL_ENV": env,
        "DEBUG": _env_bool("DEBUG", False),
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": True,
            # Audit changes and other JSON stay readable Chinese in the database.
            "json_serializer": lambda value: json.dumps(value, ensure_ascii=False),
        },
        # The portal's absolute address in links (emails, feeds, QR codes: portal/urls.py).
        # Unset in development: each request's own address (cron and the CLI use the default).
        "BASE_URL": (_env("BASE_URL", "http://127.0.0.1:5000") or "").rstrip("/"),
        "BASE_URL_FROM_REQUEST": not production and _env("BASE_URL") is None,
        # Sessions: signed cookies; the per-user session epoch ends them server-side.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": _env_int("SESSION_HOURS", 12) * 3600,
        "REMEMBER_COOKIE_DURATION": timedelta(days=_env_int("REMEMBER_DAYS", 14)),
        # Requests larger than this get a 413 (the feedback form says so beside its photos):
        # room for 5 photos of UPLOAD_IMAGE_MAX_MB (8) each plus the form.
        "MAX_CONTENT_LENGTH": _env_int("MAX_UPLOAD_MB", 48) * 1024 * 1024,
        "UPLOAD_IMAGE_MAX_MB": _env_int("UPLOAD_IMAGE_MAX_MB", 8),
        # Uploaded files live outside static/ (default: instance/uploads).
        "UPLOAD_FOLDER": _env("UPLOAD_FOLDER"),
        "WTF_CSRF_TIME_LIMIT": _env_int("CSRF_HOURS", 8) * 3600,
        "WTF_CSRF_HEADERS": ["X-CSRFToken"],
        # i18n: Simplified Chinese first, English complete beside it.
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "BABEL_TRANSLATION_DIRECTORIES": "translations",
        "PORTAL_LOCALES": ["zh_Hans_CN", "en"],
        # Rate limits live in Redis when configured so several app servers share them.
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_ENABLED": _env_bool("RATELIMIT_ENABLED", True),
        "LOGIN_RATE_LIMIT": _env("LOGIN_RATE_LIMIT", "10 per minute"),
        "REGISTER_RATE_LIMIT": _env("REGISTER_RATE_LIMIT", "10 per minute"),
        "REDIS_URL": redis_url,
        # The page cache (portal/cache.py): Redis when configured, else each process's memory.
        "PAGE_CACHE": _env_bool("PAGE_CACHE", True),
        # Stored results of closed periods for the heavy reports (portal/stored_figures.py).
        "STORED_FIGURES": _env_bool("STORED_FIGURES", True),
        # X-Page-Cache: hit|miss|bypass on cached pages, for the benchmark only (off: it would
        # tell anyone whether a page was opened by someone else in the last minute).
        "PAGE_CACHE_HEADER": _env_bool("PAGE_CACHE_HEADER", False),
        "CACHE_TYPE": "RedisCache" if redis_url else "SimpleCache",
        "CACHE_REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": "portal:",
        "CACHE_THRESHOLD": _env_int("PAGE_CACHE_ENTRIES", 2000),
        "CACHE_DEFAULT_TIMEOUT": _env_int("PAGE_CACHE_SECONDS", 60),  # a page's longest life
        # One JSON line per request (portal/request_log.py): stdout, stderr or off.
        "ACCESS_LOG": _env("ACCESS_LOG", "stdout"),
        # Behind a load balancer or reverse proxy: trust this many X-Forwarded-* hops.
        "PROXY_HOPS": _env_int("PROXY_HOPS", 0),
        # Mail goes through the outbox table; SMTP is used only when a server is configured.
        "MAIL_SERVER": _env("MAIL_SERVER"),
        "MAIL_PORT": _env_int("MAIL_PORT", 25),
        "MAIL_USERNAME": _env("MAIL_USERNAME"),
        "MAIL_PASSWORD": _env("MAIL_PASSWORD"),
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _env_bool("MAIL_USE_SSL", False),
        "MAIL_SENDER": _env("MAIL_SENDER", "机关事务服务门户 <noreply@portal.localhost>"),
        "MAIL_MAX_ATTEMPTS": _env_int("MAIL_MAX_ATTEMPTS", 5),
        # Token lifetimes.
        "EMAIL_VERIFY_HOURS": _env_int("EMAIL_VERIFY_HOURS", 48),
        "PASSWORD_RESET_MINUTES": _env_int("PASSWORD_RESET_MINUTES", 60),
        "INVITATION_HOURS": _env_int("INVITATION_HOURS", 72),
        # A new verification or reset link for the same account at most this often.
        "TOKEN_RESEND_SECONDS": _env_int("TOKEN_RESEND_SECONDS", 120),
        # Argon2id at the OWASP baseline (19 MiB, 2 iterations, 1 lane).
        "ARGON2_MEMORY_KIB": _env_int("ARGON2_MEMORY_KIB", 19 * 1024),
        "ARGON2_TIME_COST": _env_int("ARGON2_TIME_COST", 2),
        "ARGON2_PARALLELISM": _env_int("ARGON2_PARALLELISM", 1),
        "PER_PAGE": 25,
        # The home page's satisfaction headline is the latest round with an adequate sample:
        # at least this many responses and this response rate (percent of those invited).
        "SURVEY_HEADLINE_MIN_RESPONSES": _env_int("SURVEY_HEADLINE_MIN_RESPONSES", 5),
        "SURVEY_HEADLINE_MIN_RESPONSE_RATE": _env_int("SURVEY_HEADLINE_MIN_RESPONSE_RATE", 50),
        # Bookings: how far ahead, how long a request holds its slots, the cancellation policy.
        "BOOKING_HORIZON_DAYS": _env_int("BOOKING_HORIZON_DAYS", 180),
        "BOOKING_EXPIRY_HOURS": _env_int("BOOKING_EXPIRY_HOURS", 72),
        "BOOKING_CANCEL_CUTOFF_HOURS": _env_int("BOOKING_CANCEL_CUTOFF_HOURS", 48),
        # A slot freed for the first client on its waitlist is held for them this long.
        "WAITLIST_HOLD_HOURS": _env_int("WAITLIST_HOLD_HOURS", 24),
        # A deposit asked for at approval is due this many days later unless staff say when.
        "BOOKING_DEPOSIT_DUE_DAYS": _env_int("BOOKING_DEPOSIT_DUE_DAYS", 7),
        # The day check-in on the day went live (ISO date): an approved booking that began
        # before it counts as a meeting served without a recorded arrival (see the reports).
        "BOOKING_CHECK_IN_SINCE": _env("BOOKING_CHECK_IN_SINCE", "2026-12-07"),
        "BOOKINGS_DESK_EMAIL": _env("BOOKINGS_DESK_EMAIL", "huiyi@jgj.example.gov.cn"),
        "RENTALS_DESK_EMAIL": _env("RENTALS_DESK_EMAIL", "fangchan@jgj.example.gov.cn"),
        # Rentals: where tenants pay (printed on every payment notice, 缴费通知单), the prefix
        # of the portal's receipt numbers (收据, e.g. "ZJ" gives ZJ2026-000123) and how many
        # days before a rent period is due its notice is mailed.
        "RENTALS_ACCOUNT_NAME": _env("RENTALS_ACCOUNT_NAME", ""),
        "RENTALS_ACCOUNT_BANK": _env("RENTALS_ACCOUNT_BANK", ""),
        "RENTALS_ACCOUNT_NUMBER": _env("RENTALS_ACCOUNT_NUMBER", ""),
        "RENTALS_PAYMENT_INSTRUCTIONS": _env("RENTALS_PAYMENT_INSTRUCTIONS", ""),
        "RENTALS_RECEIPT_PREFIX": _env("RENTALS_RECEIPT_PREFIX", ""),
        "RENTALS_NOTICE_DAYS": _env_int("RENTALS_NOTICE_DAYS", 7),
        # Feedback of a service with no default assignee is announced here (else to staff).
        "FEEDBACK_DESK_EMAIL": _env("FEEDBACK_DESK_EMAIL"),
        # Contract expiry warnings go here (else to every active member of staff).
        "CONTRACTS_DESK_EMAIL": _env("CONTRACTS_DESK_EMAIL"),
        # Surveys: the default target satisfaction rate (percent) of a new round.
        "SURVEY_TARGET_RATE": _env_int("SURVEY_TARGET_RATE", 90),
    }
    return config


def check_production(config: dict) -> None:
    """Refuse to run a production app that is not safe to expose."""
    if config.get("PORTAL_ENV") != "production":
        return
    secret = config.get("SECRET_KEY") or ""
    if secret.strip().lower() in _PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH:
        raise ConfigurationError(
            f"PORTAL_SECRET_KEY must be set to a random value of at least {MIN_SECRET_LENGTH} "
            "characters in production"
        )
    if config.get("DEBUG") or config.get("TESTING"):
        raise ConfigurationError("debug and testing modes are refused in production")
    if not config.get("REDIS_URL"):
        logging.getLogger("portal.config").warning(
            "PORTAL_REDIS_URL is not set: rate limits are counted per process; with several "
            "gunicorn workers or servers set it so that they are shared"
        )
