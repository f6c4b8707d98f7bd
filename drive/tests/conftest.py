import pytest


@pytest.fixture
def make_connection(make_user):
    """A connected DriveConnection for a new user, holding the given refresh token (encrypted)."""
    from drive.models import DriveConnection

    def make(name, token=None, **fields):
        user = make_user(name)
        connection = DriveConnection(user=user, google_email=f"{name}@gmail.example", **fields)
        connection.refresh_token = token or f"1//refresh-{name}-secret"
        connection.save()
        return connection

    return make


@pytest.fixture
def fake_google(settings):
    """The fake Google on a loopback port, with every Google endpoint setting pointed at it."""
    from drive.tests.fake_google import FakeGoogle

    fake = FakeGoogle().start()
    settings.GOOGLE_OAUTH_CLIENT_ID = "test-client-id"
    settings.GOOGLE_OAUTH_CLIENT_SECRET = "test-client-secret"
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = "test-client-id"
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = "test-client-secret"
    settings.GOOGLE_AUTH_URI = fake.url + "/authorize"
    settings.GOOGLE_TOKEN_URI = fake.url + "/token"
    settings.GOOGLE_REVOKE_URI = fake.url + "/revoke"
    settings.GOOGLE_USERINFO_URI = fake.url + "/userinfo"
    settings.GOOGLE_DRIVE_API_ROOT = fake.url + "/drive/v3/"
    settings.DRIVE_MAX_RETRIES = 3
    settings.DRIVE_BACKOFF_BASE_SECONDS = 0.001
    yield fake
    fake.stop()


@pytest.fixture
def recorded_sleeps(monkeypatch):
    from drive.services import google_api

    delays = []
    monkeypatch.setattr(google_api, "sleep", delays.append)
    return delays


class TaskQueue:
    """django-q2 as the cluster would run our tasks, in this process: async_task appends to a FIFO
    queue, `run` takes tasks in order and records how long each ran. Needs committed data (use
    it in transaction=True tests: enqueueing happens on commit)."""

    def __init__(self):
        from collections import deque

        self.queue = deque()
        self.ran: list[tuple[str, tuple, float]] = []  # (func, args, seconds)

    def async_task(self, func, *args, task_name=None, **kwargs):
        self.queue.append((func, args))

    def run(self, *, after_each=None, limit=5000):
        import time

        from django.utils.module_loading import import_string

        while self.queue:
            assert limit > 0, "the task chain did not end"
            limit -= 1
            func, args = self.queue.popleft()
            started = time.monotonic()
            import_string(func)(*args)
            self.ran.append((func, args, time.monotonic() - started))
            if after_each is not None:
                after_each()

    def seconds(self, func_suffix: str) -> list[float]:
        return [seconds for func, _, seconds in self.ran if func.endswith(func_suffix)]


@pytest.fixture
def task_queue(monkeypatch):
    """Tasks are queued (not run inline as Q_SYNC does in tests) and run by `task_queue.run()`."""
    import django_q.tasks
    from django_q.conf import Conf

    queue = TaskQueue()
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(django_q.tasks, "async_task", queue.async_task)
    return queue


@pytest.fixture
def realistic_google(fake_google):
    """The fake Google with Google's own page sizes (100 by default, up to 1000)."""
    fake_google.page_size_cap = None
    return fake_google
