"""The session store (SESSION_ENGINE): Django's database sessions, read by one SQL statement."""
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connection
from django.utils import timezone


class SessionStore(DatabaseSessionStore):
    """Django's database sessions (the same table, rows, expiry and signing), except that reading
    one is plain SQL: building the ORM's query cost ~0.3 ms of CPU on every page and API call made
    with a session here."""

    def _get_session_from_db(self):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data, expire_date FROM {self.model._meta.db_table} "
                "WHERE session_key = %s AND expire_date > %s",
                [self.session_key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return self.model(session_key=self.session_key, session_data=row[0], expire_date=row[1])
