"""Reaching PostgreSQL and Redis for tests: skip with a reason when they are absent, fail
when HUB_REQUIRE_SERVICES=1 (CI)."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

POSTGRES_URL = os.environ.get(
    "HUB_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1",
                                       parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def need(name: str, url: str, default_port: int) -> str:
    if _reachable(url, default_port):
        return url
    reason = f"{name} is not reachable at {url}"
    if os.environ.get("HUB_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}, and HUB_REQUIRE_SERVICES=1 requires it")
    pytest.skip(reason)


def need_postgres() -> str:
    return need("PostgreSQL", POSTGRES_URL, 5432)


def need_redis() -> str:
    return need("Redis", REDIS_URL, 6379)
