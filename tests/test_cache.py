"""The Redis cache keeps one client per connection pool instead of one per call."""

import os
import uuid

import pytest

from purworejo_portal.cache import RedisCache

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_cache():
    # A prefix of its own and no clear(): clear() empties the whole Redis database.
    cache = RedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    yield cache
    cache.delete("page")


def test_cache_reuses_its_client_when_called_again(redis_cache) -> None:
    client = redis_cache._cache.get_client()
    assert redis_cache._cache.get_client() is client
    assert redis_cache._cache.get_client(write=True) is client  # one server: one pool


def test_cache_stores_reads_and_deletes_when_the_client_is_kept(redis_cache) -> None:
    assert redis_cache.get("page") is None
    redis_cache.set("page", {"html": "<p>ok</p>"}, 30)
    assert redis_cache.get("page") == {"html": "<p>ok</p>"}
    assert redis_cache.get_many(["page", "none"]) == {"page": {"html": "<p>ok</p>"}}
    redis_cache.delete("page")
    assert redis_cache.get("page") is None
