"""Django's PostgreSQL backend, with a health check that needs no round trip while the server is quiet.

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` before the first query of every request, to find
a persistent connection that died meanwhile: one more round trip on each page a respondent opens
or saves. A connection the server has ended (a restart, pg_terminate_backend, an idle timeout on
its side) always has something to read while the client waits: the server's last message, or the
end of the stream. So the socket is asked first, which costs a system call: nothing to read, and
the connection is taken as sound, as a `SELECT 1` would have found it; something to read, and
Django's `SELECT 1` decides as before. A network that silently drops the connection is no worse
off: a `SELECT 1` would hang on it just as the request's first query does.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


def _quiet(connection) -> bool:
    """Whether an idle client connection looks sound without asking the server."""
    if connection.closed or connection.broken:
        return False
    if connection.pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    try:
        poller = select.poll()
        poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
        return not poller.poll(0)
    except (OSError, ValueError, TypeError):
        return False


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.pool
            and _quiet(self.connection)
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
