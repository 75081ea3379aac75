"""Django's PostgreSQL backend, with a health check that needs no round trip while the server is quiet.

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` before the first query of every request, to find
a persistent connection that died meanwhile: one more round trip on each page a respondent opens
or saves. A connection the server ended (a restart, pg_terminate_backend, an idle timeout on its
side) has something to read while the client waits: the server's last message, or the end of the
stream. So the socket is asked first, which costs a system call: nothing to read, and the
connection is taken as sound; something to read, and Django's `SELECT 1` decides as before.

What the socket cannot tell: a connection whose other end vanished without a word (the database's
address moved to another machine, a NAT or load balancer forgot it). There Django's `SELECT 1`
would have failed at once and reconnected; now the request's first query fails, once per worker,
and the connection is replaced for the next request. With CONN_MAX_AGE at a minute, that is rare;
set CONN_HEALTH_CHECKS_QUIET_SOCKET=false to ask the server every time.
"""

import select

from django.conf import settings
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
    except (OSError, ValueError, TypeError, AttributeError):  # AttributeError: no poll() (Windows)
        return False


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if (
            settings.CONN_HEALTH_CHECKS_QUIET_SOCKET
            and self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.pool
            and _quiet(self.connection)
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
