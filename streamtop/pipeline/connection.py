"""How to reach the server, as redis-cli users expect, and who answered.

`ConnectionSpec` is built from the command line and environment once; it makes clients and a
display form of the URL that never carries the password. `describe_error` turns any connection
failure into one line a person can act on.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import os
import re
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

import hiredis
import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from streamtop import numbers as num
from streamtop.errors import ConfigError, ConnectError
from streamtop.pipeline.model import ServerInfo
from streamtop.pipeline.parse import Reply, parse_info, version_tuple

if TYPE_CHECKING:
    from redis._parsers.hiredis import _AsyncHiredisParser

DEFAULT_URL = "redis://127.0.0.1:6379/0"
SCHEMES = ("redis", "rediss", "unix")

# The collector parses these replies itself (see parse.py); its client must hand them over raw.
RAW_COMMANDS = (
    "XINFO STREAM",
    "XINFO GROUPS",
    "XINFO CONSUMERS",
    "XPENDING",
    "XRANGE",
    "XREVRANGE",
    "XAUTOCLAIM",
    "XCLAIM",
)

REPLY_TIMEOUT = 10.0  # seconds a command waits for its reply: an action on a hung server fails
# after this, saying the server is not answering (the bound docs/dashboard.md states)


RETRY_CAP = 10.0  # seconds: the longest wait between two tries at a server that does not answer


def retry_delay(failures: int) -> float:
    """Seconds to wait after `failures` consecutive failures: 1, 2, 4, 8, 10, 10, ..."""
    if failures <= 0:
        return 0.0
    return min(RETRY_CAP, float(2 ** min(failures - 1, 10)))


def host_port(host: str, port: int | str) -> str:
    """host:port as a person types it: an IPv6 address in brackets ([::1]:6379), as in a URL."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


AUTH_WARNING = (
    "Warning: Using a password with '-a' or '-u' option on the command line interface "
    "may not be safe."
)  # redis-cli's words, so operators recognise it


@dataclass(frozen=True)
class ConnectionSpec:
    scheme: str = "redis"
    host: str = "127.0.0.1"
    port: int = 6379
    db: int = 0
    path: str | None = None  # unix socket
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never printed, not even in a repr
    tls: bool = False
    cacert: str | None = None
    cert: str | None = None
    key: str | None = None
    cluster: bool = False
    connect_timeout: float = 3.0
    insecure: bool = False  # TLS without certificate or hostname checks (redis-cli --insecure)
    sni: str | None = None  # TLS server name to send and to check the certificate against

    @property
    def address(self) -> str:
        return self.path or "" if self.scheme == "unix" else host_port(self.host, self.port)

    def display_url(self) -> str:
        """The URL without the password (the user name stays: it helps and is not a secret)."""
        user = f"{quote(self.username)}@" if self.username else ""
        if self.scheme == "unix":
            return f"unix://{user}{self.path}" + (f"?db={self.db}" if self.db else "")
        scheme = "rediss" if self.tls else "redis"
        return f"{scheme}://{user}{host_port(self.host, self.port)}/{self.db}"

    @property
    def tls_server_name(self) -> str:
        """The name the server's certificate must hold: --sni, else the host (an IP address is
        checked against the certificate's IP SANs, as OpenSSL does for redis-cli)."""
        return self.sni or self.host

    def ssl_context(self) -> ssl.SSLContext:
        """TLS as redis-cli: verify the chain against --cacert, or the system CA store without
        one; --insecure turns verification off. Unlike redis-cli (which checks the chain only),
        the name is checked too: --sni, else the host. A client cert is sent when given."""
        return _tls_context(self.cacert, self.cert, self.key, self.insecure)

    def client_kwargs(self, socket_timeout: float | None = REPLY_TIMEOUT) -> dict[str, Any]:
        """Keyword arguments for a redis-py client (forwarded as **kw: the clients differ)."""
        kw: dict[str, Any] = dict(
            db=self.db,
            username=self.username,
            password=self.password,
            socket_timeout=socket_timeout,
            socket_connect_timeout=self.connect_timeout,
            protocol=2,
            retry=Retry(NoBackoff(), 0),
            client_name="streamtop",
        )
        if self.scheme == "unix":
            kw["unix_socket_path"] = self.path
        else:
            kw.update(host=self.host, port=self.port)
        if self.tls:  # redis-py's own TLS (cluster and walrus clients): verified the same way
            kw.update(
                ssl=True,
                ssl_ca_certs=self.cacert,
                ssl_certfile=self.cert,
                ssl_keyfile=self.key,
                ssl_cert_reqs="none" if self.insecure else "required",
                ssl_check_hostname=not self.insecure,
            )
        return kw

    def make_client(
        self, *, raw: bool = False, block_ms: int | None = None, max_connections: int | None = None
    ) -> aioredis.Redis:
        """An asyncio client. `raw`: stream replies unparsed (for parse.py). `block_ms`: for a
        connection that blocks (XREADGROUP BLOCK), whose socket timeout must outlast the block."""
        timeout = REPLY_TIMEOUT if block_ms is None else block_ms / 1000 + REPLY_TIMEOUT
        kw = self.client_kwargs(timeout)
        kw["redis_connect_func"] = _name_connection_async
        client = aioredis.Redis(max_connections=max_connections, **kw)
        if self.tls:
            _use_tls_class(client.connection_pool, _AsyncTLSConnection, self)
        if raw:
            strip_callbacks(client)
        return client

    def make_sync_client(self, *, block_ms: int | None = None) -> redis.Redis:
        """A blocking client (walrus in the demo workload, scripts)."""
        timeout = 10.0 if block_ms is None else block_ms / 1000 + 10.0
        kw = self.client_kwargs(timeout)
        kw["retry"] = None
        kw["redis_connect_func"] = _name_connection_sync
        client = redis.Redis(**kw)
        if self.tls:
            _use_tls_class(client.connection_pool, _SyncTLSConnection, self)
        return client


@functools.lru_cache(maxsize=8)
def _tls_context(cacert: str | None, cert: str | None, key: str | None, insecure: bool) -> ssl.SSLContext:
    """One context per configuration (loading the system store costs milliseconds per copy)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname by default
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif cacert:
        ctx.load_verify_locations(cafile=cacert)  # this CA only, as redis-cli --cacert
    else:
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)  # honours SSL_CERT_FILE / SSL_CERT_DIR
    if cert or key:
        ctx.load_cert_chain(certfile=cert or key or "", keyfile=key)
    return ctx


# Best-effort client name: a read-only ACL user may not run CLIENT SETNAME (nor a server with CLIENT
# renamed away), and a name is a courtesy for `CLIENT LIST`, not a reason to refuse to connect. The
# hooks run redis-py's handshake (AUTH, SELECT) without the name, then ask for it and ignore a refusal.


async def _name_connection_async(conn: aioredis.connection.AbstractConnection) -> None:
    name, conn.client_name = conn.client_name, None
    try:
        await conn.on_connect_check_health(check_health=True)
    finally:
        conn.client_name = name
    if name:
        await conn.send_command("CLIENT", "SETNAME", name, check_health=False)
        with contextlib.suppress(redis.ResponseError):  # NOPERM, or CLIENT renamed: stay unnamed
            await conn.read_response()


def _name_connection_sync(conn: redis.connection.AbstractConnection) -> None:
    name, conn.client_name = conn.client_name, None
    try:
        conn.on_connect_check_health(check_health=True)
    finally:
        conn.client_name = name
    if name:
        conn.send_command("CLIENT", "SETNAME", name, check_health=False)
        with contextlib.suppress(redis.ResponseError):
            conn.read_response()


def _use_tls_class(
    pool: aioredis.ConnectionPool | redis.ConnectionPool,
    cls: type[_AsyncTLSConnection] | type[_SyncTLSConnection],
    spec: ConnectionSpec,
) -> None:
    """Make the pool's connections use our TLS context and server name (redis-py always sends
    and checks the host, so `--sni` needs a connection class of its own)."""
    pool.connection_class = cls
    pool.connection_kwargs.update(tls_spec=spec)


class _AsyncTLSConnection(aioredis.SSLConnection):
    def __init__(self, *, tls_spec: ConnectionSpec, **kw: Any) -> None:
        super().__init__(**kw)
        self.tls_spec = tls_spec

    def _connection_arguments(self) -> Mapping[str, object]:
        # the context is made on connect, so a bad certificate file is a connection error
        return {
            "host": self.host,
            "port": self.port,
            "ssl": self.tls_spec.ssl_context(),
            "server_hostname": self.tls_spec.tls_server_name,
        }


class _SyncTLSConnection(redis.SSLConnection):
    def __init__(self, *, tls_spec: ConnectionSpec, **kw: Any) -> None:
        super().__init__(**kw)
        self.tls_spec = tls_spec

    def _wrap_socket_with_ssl(self, sock: socket.socket) -> ssl.SSLSocket:
        return self.tls_spec.ssl_context().wrap_socket(sock, server_hostname=self.tls_spec.tls_server_name)


# The asyncio clients streamtop makes: one per server, or one that routes keys across a cluster;
# their pipelines; the blocking client (the demo's walrus Database is one: walrus ships no types).
# Use these, never Any, for a client; a reply is parse.Reply (raw: parse.py reads it).
AsyncClient = aioredis.Redis | aioredis.RedisCluster
AsyncPipeline = aioredis.client.Pipeline | aioredis.cluster.ClusterPipeline
SyncClient = redis.Redis
Arg = bytes | str | int | float  # one argument of a command as sent
Command = Sequence[Arg]  # a command and its arguments: ("XLEN", b"key")


try:  # the sentinel redis-py gives its hiredis reader for "no complete reply buffered yet"
    from redis._parsers.hiredis import NOT_ENOUGH_DATA as _NOT_ENOUGH_DATA
except ImportError:  # pragma: no cover - another redis-py layout: the slower generic path
    _NOT_ENOUGH_DATA = None

_PIPELINE_PREFIX = re.compile(r"^Command # \d+ \(.*?\) of pipeline caused error: ")


def error_text(exc: BaseException) -> str:
    """A server error as the server said it, on one line: "NOGROUP ...", "WRONGTYPE ...",
    "MOVED 1234 host:port", "NOPERM ...". redis-py strips the code of the errors it has a class
    for (MOVED, ASK, NOPERM, READONLY, ...) and may wrap pipeline errors; both are undone here."""
    if (said := cluster_error_text(exc)) is not None:  # the cluster client's own words
        return said
    text = " ".join(str(exc).split())
    if _PIPELINE_PREFIX.match(text):
        text = _PIPELINE_PREFIX.sub("", text).strip(" (),'\"")
    code = getattr(exc, "status_code", None)
    if isinstance(code, str) and code not in ("ERR", "") and not text.startswith(code):
        text = f"{code} {text}".strip()
    return text or type(exc).__name__


async def execute_raw(
    client: AsyncClient, commands: Sequence[Command], timeout: float | None = 30.0
) -> list[Reply]:
    """Send `commands` in one write and read their replies in order: one round trip, as a
    pipeline, without its per-command costs (Python packing, one timeout per reply), which are
    most of the poll's client time at 1,000 streams. Replies are raw (no callbacks); a server
    error stays in place as its exception; a lost connection raises. `timeout` bounds the whole.
    A client without a connection pool (cluster) gets a plain pipeline instead."""
    pool = getattr(client, "connection_pool", None)
    if pool is None:
        pipe = client.pipeline(transaction=False)
        for args in commands:
            pipe.execute_command(*args)
        return await pipe.execute(raise_on_error=False)
    if not commands:
        return []
    # hiredis's stub types the argument as a 1-tuple; it packs any number of arguments
    packed = b"".join(hiredis.pack_command(tuple(args)) for args in commands)  # type: ignore[arg-type]
    conn = await pool.get_connection()
    try:
        async with asyncio.timeout(timeout):
            await conn.send_packed_command(packed, check_health=False)
            replies = await _read_replies(conn, len(commands))
    except BaseException as exc:
        await conn.disconnect(nowait=True)  # replies may still be in flight: never reuse it
        if isinstance(exc, TimeoutError):
            raise redis.TimeoutError(f"no complete reply within {timeout} s") from None
        raise
    finally:
        await pool.release(conn)
    return replies


def hiredis_reader(
    conn: aioredis.connection.AbstractConnection,
) -> tuple[_AsyncHiredisParser, hiredis.Reader] | None:
    """(parser, reader) when the connection parses with hiredis and the installed redis-py still
    has the internals the fast path reads (`_parser._reader`, `read_from_socket`, NOT_ENOUGH_DATA;
    redis is pinned below its next major for them), else None: then replies are read one by one."""
    parser = getattr(conn, "_parser", None)
    reader = getattr(parser, "_reader", None)
    if _NOT_ENOUGH_DATA is None or parser is None or reader is None:
        return None
    return (parser, reader) if hasattr(parser, "read_from_socket") else None


async def _read_replies(conn: aioredis.connection.AbstractConnection, n: int) -> list[Reply]:
    """`n` replies in order, errors in place. With redis-py's hiredis parser the replies are taken
    straight from its reader, which parsed them in C as the bytes arrived (a Python call per
    reply less: a fifth of the poll at 1,000 streams); any other parser goes reply by reply."""
    fast = hiredis_reader(conn)
    if fast is None:
        replies: list[Reply] = []
        for _ in range(n):
            try:
                replies.append(await conn.read_response(timeout=math.inf))
            except redis.ResponseError as exc:
                replies.append(exc)
        return replies
    parser, reader = fast
    replies = []
    while len(replies) < n:
        reply = reader.gets()
        if reply is _NOT_ENOUGH_DATA:
            await parser.read_from_socket()
        elif isinstance(reply, redis.ConnectionError):
            raise reply
        else:
            replies.append(reply)  # a server error arrives as a ResponseError instance
    return replies


def strip_callbacks(client: AsyncClient) -> None:
    for name in RAW_COMMANDS:
        client.response_callbacks.pop(name, None)


def _port(value: object, origin: str) -> int:
    try:
        port = num.ascii_int(value)
    except (TypeError, ValueError):
        # a URL's text is not echoed: "redis://user:pw" (no host) puts the password here
        shown = "" if origin == "in the URL" else f" {value!r}"
        raise ConfigError(f"the port{shown} {origin} is not a number") from None
    if not num.PORT.lo <= port <= num.PORT.hi:
        raise ConfigError(f"port {port} {origin} is out of range (1-65535)")
    return port


def _db(value: object, origin: str) -> int:
    try:
        db = num.ascii_int(value)
    except (TypeError, ValueError):
        shown = "" if origin == "in the URL" else f" {value!r}"
        raise ConfigError(f"the database{shown} {origin} is not a number") from None
    if db < 0:
        raise ConfigError(f"database {db} {origin} is negative")
    if db > num.DB.hi:
        raise ConfigError(f"database {db} {origin} is out of range")
    return db


def parse_url(url: str) -> ConnectionSpec:
    """redis://[[user:]password@]host[:port][/db], rediss://..., unix://[[user:]pw@]/path[?db=N].
    As redis-cli: the part before `@` is the password unless it holds a `:` (user:password)."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ConfigError(f"cannot read URL: {exc}") from None
    scheme = parts.scheme.lower()
    if not scheme:  # the rest is not echoed: it may hold a password
        raise ConfigError("the URL has no scheme: use redis://, rediss:// or unix://")
    if scheme not in SCHEMES:
        raise ConfigError(f"unknown URL scheme {scheme!r}: use redis://, rediss:// or unix://")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is None and username is not None:  # redis://SECRET@host: a password, as redis-cli
        username, password = None, username
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    if scheme == "unix":
        if not parts.path:
            raise ConfigError("unix:// URL needs a socket path, e.g. unix:///run/redis.sock")
        db = _db(query.get("db", 0), "in the URL")
        return ConnectionSpec(scheme="unix", path=parts.path, db=db, username=username, password=password)
    hostport = parts.netloc.rsplit("@", 1)[-1]
    port_text = hostport.rsplit("]", 1)[-1].rpartition(":")[2] if ":" in hostport else ""
    port = _port(port_text, "in the URL") if port_text else 6379
    path = parts.path.strip("/")
    db = _db(path or query.get("db", 0), "in the URL")
    return ConnectionSpec(
        scheme=scheme,
        host=parts.hostname or "127.0.0.1",
        port=port,
        db=db,
        username=username,
        password=password,
        tls=scheme == "rediss",
    )


def build_spec(
    url: str | None = None,
    host: str | None = None,
    port: int | str | None = None,
    db: int | str | None = None,
    user: str | None = None,
    password: str | None = None,
    tls: bool = False,
    cacert: str | None = None,
    cert: str | None = None,
    key: str | None = None,
    cluster: bool = False,
    env: Mapping[str, str] | None = None,
    insecure: bool = False,
    sni: str | None = None,
) -> ConnectionSpec:
    """Options over URL over environment, as redis-cli: -h/-p/-n/--user/-a win over --url,
    --url wins over REDIS_URL, and -a wins over REDISCLI_AUTH, which wins over the URL's password."""
    environ: Mapping[str, str] = os.environ if env is None else env
    spec = parse_url(url or environ.get("REDIS_URL") or DEFAULT_URL)
    port_n = spec.port if port is None else _port(port, "given with -p")
    db_n = spec.db if db is None else _db(db, "given with -n")
    if password is None and environ.get("REDISCLI_AUTH"):
        password = environ["REDISCLI_AUTH"]
    with_tls = bool(tls or cacert or cert or key)
    if with_tls and spec.scheme == "unix":
        raise ConfigError("TLS options do not apply to a unix:// socket")
    for name, value in (("cacert", cacert), ("cert", cert), ("key", key)):
        if value is not None and not os.path.isfile(value):
            raise ConfigError(f"--{name} file not found: {value}")
    spec = replace(
        spec,
        host=spec.host if host is None else host,
        port=port_n,
        db=db_n,
        username=spec.username if user is None else user,
        password=spec.password if password is None else password,
        tls=with_tls or spec.tls,
        scheme="rediss" if with_tls else spec.scheme,
        cacert=spec.cacert if cacert is None else cacert,
        cert=spec.cert if cert is None else cert,
        key=spec.key if key is None else key,
        cluster=cluster,
    )
    if (insecure or sni is not None) and not spec.tls:
        flag = "--insecure" if insecure else "--sni"
        raise ConfigError(f"{flag} applies to TLS only: add --tls or use a rediss:// URL")
    if sni is not None and not sni.strip():
        raise ConfigError("--sni needs a server name")
    return replace(spec, insecure=insecure, sni=sni)


def password_on_command_line(url: str | None, password: str | None) -> bool:
    """True when a password was typed as an argument (-a, or in --url), where `ps` shows it to
    anyone on the machine: redis-cli then warns. REDISCLI_AUTH and REDIS_URL do not warn."""
    if password is not None:
        return True
    if not url:
        return False
    try:
        return parse_url(url).password is not None
    except ConfigError:
        return False


# redis-py parses these replies into exceptions and drops the word that names them
_REPLY_WORDS: tuple[tuple[type[BaseException], str], ...] = (
    (redis.exceptions.MovedError, "MOVED"),
    (redis.exceptions.AskError, "ASK"),
    (redis.exceptions.ClusterDownError, "CLUSTERDOWN"),
    (redis.exceptions.TryAgainError, "TRYAGAIN"),
    (redis.exceptions.MasterDownError, "MASTERDOWN"),
)


def reply_error_text(exc: BaseException) -> str:
    """A server's error reply on one line, with its first word (MOVED, ASK, CLUSTERDOWN...) kept."""
    text = " ".join(str(exc).split())
    for cls, word in _REPLY_WORDS:
        if isinstance(exc, cls):
            return text if text.startswith(word) else f"{word} {text}".strip()
    return text


# a URL's password field, whatever it holds: scheme://[user]:PASSWORD@
_URL_PASSWORD = re.compile(r"((?:rediss?|unix|valkeys?)://[^\s:@/]*:)[^\s@]*@", re.IGNORECASE)


def redact(text: str, password: str | None) -> str:
    """`text` with the password taken out where a password stands, and only there: a URL's
    password field, and the exact password as AUTH's argument (`AUTH pw`, `AUTH user pw`, also
    inside HELLO, as redis-py quotes a failed pipeline command). Never a substring of other words:
    a password `e` must not turn "connecting" into "conn***cting" (and tell its letters)."""
    text = _URL_PASSWORD.sub(r"\1***@", text)
    if password:
        after_auth = re.compile(
            r"(\bAUTH\s+(?:\S+\s+)?)" + re.escape(password) + r"(?=[\s)\]'\",]|$)", re.IGNORECASE
        )
        text = after_auth.sub(r"\1***", text)
    return text


# Every exception redis-py raises, for `except` clauses. RedisClusterException (SlotNotCoveredError,
# RedisClusterUnreachableError, CrossSlotTransactionError, ...) is not a RedisError, and redis-py 8.2
# raises SlotNotCoveredError where 8.1 sent the command and got CLUSTERDOWN back: catching RedisError
# alone lets it out as a traceback. By class, never by name, so a class a release adds under either
# root is covered; `is_redis_error` also takes any other class redis-py defines.
REDIS_ERRORS: tuple[type[Exception], ...] = (redis.RedisError, redis.exceptions.RedisClusterException)

# Part of a cluster is out (a slot served by no node, CLUSTERDOWN, slots moving: redirects or
# TRYAGAIN until redis-py gives up): `streamtop status` exits 2 for these, as for a node down.
# redis.exceptions.ClusterError is what redis-py raises when MOVED/ASK/TRYAGAIN outlast its retries.
CLUSTER_OUTAGES: tuple[type[Exception], ...] = (
    redis.exceptions.ClusterError,  # ClusterDownError, MasterDownError, "TTL exhausted."
    redis.exceptions.SlotNotCoveredError,
    redis.exceptions.AskError,  # MovedError too
    redis.exceptions.TryAgainError,
)

_SLOT = re.compile(r"[Ss]lot \"?(\d+)")


def is_redis_error(exc: BaseException) -> bool:
    """redis-py raised it (any class under redis.*), as opposed to a bug of ours."""
    if isinstance(exc, REDIS_ERRORS) or unserved_slot(exc) is not None:
        return True
    return any(c.__module__.split(".", 1)[0] == "redis" for c in type(exc).__mro__)


def is_cluster_outage(exc: BaseException) -> bool:
    """Part of a cluster is out (see CLUSTER_OUTAGES): `status` exits 2."""
    return isinstance(exc, CLUSTER_OUTAGES) or unserved_slot(exc) is not None


def unserved_slot(exc: BaseException) -> int | None:
    """The slot of redis-py 8.1's KeyError(slot) from its cluster client's slots cache, for a slot
    no node serves (8.2 raises SlotNotCoveredError there): None for any other exception."""
    if type(exc) is not KeyError or len(exc.args) != 1:
        return None
    slot = exc.args[0]
    if not isinstance(slot, int) or not 0 <= slot < 16384:
        return None
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    raised_in = tb.tb_frame.f_code.co_filename if tb is not None else ""
    return slot if "redis" in raised_in.replace("\\", "/").split("/") else None


def cluster_error_text(exc: BaseException) -> str | None:
    """The one line for what redis-py's cluster client says in its own words (no server reply to
    show), worded as the server would: None for anything else."""
    text = " ".join(str(exc).split())
    if (slot := unserved_slot(exc)) is not None:
        return f"CLUSTERDOWN hash slot {slot} is served by no node of the cluster"
    if isinstance(exc, redis.exceptions.SlotNotCoveredError):
        m = _SLOT.search(text)
        which = f"hash slot {m.group(1)}" if m else "the key's hash slot"
        return f"CLUSTERDOWN {which} is served by no node of the cluster"
    if isinstance(exc, redis.exceptions.CrossSlotTransactionError):
        return f"CROSSSLOT {text}" if not text.startswith("CROSSSLOT") else text
    if isinstance(exc, redis.exceptions.RedisClusterException):  # RedisClusterUnreachableError...
        return f"no node of the cluster answered: {text}" if "cannot be connected" in text else text
    if type(exc) is redis.exceptions.ClusterError:  # redirects (MOVED/ASK) or TRYAGAIN never settled
        return f"the cluster kept redirecting the command (slots moving?): {text or 'gave up'}"
    if isinstance(exc, redis.exceptions.MaxConnectionsError):
        return f"too many connections open at once (redis-py's max_connections): {text}"
    return None


def describe_error(exc: BaseException, spec: ConnectionSpec) -> str:
    """One line for a person: what failed, where, and what to try. Never the password."""
    said = cluster_error_text(exc)
    if said is None and isinstance(exc, CLUSTER_OUTAGES):  # CLUSTERDOWN, MOVED, TRYAGAIN replies
        said = reply_error_text(exc)
    if said is not None:
        return " ".join(f"cluster at {spec.address}: {redact(said, spec.password)}".split())
    # the server's text only: our own words ("wrong password") stay
    text = redact(" ".join(str(exc).split()), spec.password)
    msg = (
        _refused_access(exc, text, spec)
        or _tls_failure(exc, text, spec)
        or _unreachable(exc, text, spec)
        or f"{type(exc).__name__} at {spec.address}: {text}"
    )
    return " ".join(msg.split())


def _refused_access(exc: BaseException, text: str, spec: ConnectionSpec) -> str | None:
    """The server answered and refused us: a password wanted, unwanted or wrong, a right missing."""
    where, low = spec.address, text.lower()
    if "noauth" in low or "authentication required" in low:
        return f"the server at {where} requires a password: give -a, REDISCLI_AUTH or put it in --url"
    if "without any password configured" in low or "no password is set" in low:
        return f"the server at {where} has no password set: drop -a / REDISCLI_AUTH"
    if isinstance(exc, redis.AuthenticationError) or "wrongpass" in low or "invalid username" in low:
        who = f"user {spec.username!r}" if spec.username else "the default user"
        return f"authentication failed at {where} for {who}: wrong password or unknown user"
    if "noperm" in low:
        return f"permission denied at {where}: {text}"
    return None


def _tls_failure(exc: BaseException, text: str, spec: ConnectionSpec) -> str | None:
    """The TLS handshake failed: the certificate not verified (what to give), or anything else."""
    where, low = spec.address, text.lower()
    if (reason := _verify_failure(exc, text)) is not None:
        hint = "use --sni NAME for the name it holds, " if "mismatch" in reason.lower() else ""
        return (
            f"the TLS certificate of {where} could not be verified ({reason}): {hint}give the CA "
            "that signed it with --cacert, or --insecure to skip verification"
        )
    if isinstance(exc, ssl.SSLError) or "ssl" in low or "tls" in low or "certificate" in low:
        return f"TLS handshake with {where} failed: {text or type(exc).__name__}"
    return None


def _unreachable(exc: BaseException, text: str, spec: ConnectionSpec) -> str | None:
    """No server to talk to: refused, timed out, no socket, a name that does not resolve, a
    connection that failed otherwise (a plain client on a TLS port is dropped: said so)."""
    where, low = spec.address, text.lower()
    if "refused" in low or "errno 111" in low or "connect call failed" in low:
        return f"connection refused at {where}: is the server running? (try `streamtop demo`)"
    if isinstance(exc, redis.TimeoutError | TimeoutError) or "timeout" in low or "timed out" in low:
        if spec.tls:  # a plain server waits for a newline that a TLS ClientHello never sends
            return f"TLS handshake with {where} timed out: does the server speak TLS? (drop --tls)"
        return f"timed out talking to {where}"
    if "no such file" in low and spec.scheme == "unix":
        return f"no socket at {where}"
    if "name or service not known" in low or "nodename nor servname" in low or "errno -2" in low:
        return f"cannot resolve host {spec.host!r}"
    if isinstance(exc, redis.ConnectionError | ConnectionError | OSError):
        hint = "" if spec.tls else " (server stopped? or a TLS port: try --tls or rediss://)"
        # a TLS port drops a plain client: "closed", "reset", or "connection lost" while writing
        if not any(word in low for word in ("closed", "reset", "connection lost")):
            hint = ""
        return f"connection to {where} failed: {text or type(exc).__name__}{hint}"
    return None


_VERIFY_FAILED = re.compile(r"certificate verify failed: (.+?)(?: \(_ssl\.c:\d+\))?\.?$")


def _verify_failure(exc: BaseException, text: str) -> str | None:
    """Why the server's certificate was refused ("self-signed certificate", "Hostname mismatch,
    ..."), or None when the failure was something else. redis-py wraps the ssl error in its own."""
    cur: BaseException | None = exc
    seen = 0
    while cur is not None and seen < 10:
        if isinstance(cur, ssl.SSLCertVerificationError):
            return " ".join(str(cur.verify_message or "certificate verify failed").split()).rstrip(".")
        cur, seen = cur.__cause__ or cur.__context__, seen + 1
    found = _VERIFY_FAILED.search(text)
    return found.group(1).rstrip(".") if found else None


async def probe_server(client: aioredis.Redis) -> ServerInfo:
    """INFO server (+ cluster): name, version, mode. Valkey freezes redis_version at 7.2.4, which
    still decides the reply fields, while valkey_version is what it is. Without INFO (an ACL such
    as `+@all -@dangerous`, or a renamed command), HELLO says the same three things; without
    either, the version is unknown (the fields every version has are read, lag is counted)."""
    pipe = client.pipeline(transaction=False)
    pipe.execute_command("INFO", "server")
    pipe.execute_command("INFO", "cluster")
    server_reply, cluster_reply = await pipe.execute(raise_on_error=False)
    if not isinstance(server_reply, Exception):
        cluster = None if isinstance(cluster_reply, Exception) else parse_info(cluster_reply)
        return server_info_from(parse_info(server_reply), cluster)
    if not isinstance(server_reply, redis.ResponseError):
        raise server_reply
    try:
        hello = await client.execute_command("HELLO")
    except redis.ResponseError:
        return ServerInfo(version="unknown", known=False, info_refused=True)
    return server_info_from_hello(hello)


def server_info_from_hello(reply: Reply) -> ServerInfo:
    """HELLO's map (RESP3) or flat list (RESP2): server, version, mode. Valkey's version is its
    own; its replies are those of Redis 7.2.4 (what its frozen redis_version says)."""
    if isinstance(reply, list | tuple):
        reply = dict(zip(reply[::2], reply[1::2], strict=False))
    fields = {_text(k): v for k, v in (reply.items() if isinstance(reply, dict) else ())}
    name = _text(fields.get("server", "redis")).lower()
    version = _text(fields.get("version", ""))
    valkey = name == "valkey"
    compat = (7, 2, 4) if valkey else version_tuple(version or "0.0.0")
    return ServerInfo(
        name="valkey" if valkey else "redis",
        version=version or "unknown",
        compat_version=compat,
        mode="cluster" if _text(fields.get("mode", "")) == "cluster" else "standalone",
        known=bool(version),
        info_refused=True,
    )


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def server_info_from(info: dict[str, str], cluster: dict[str, str] | None = None) -> ServerInfo:
    valkey = info.get("valkey_version") or (
        info.get("redis_version") if info.get("server_name") == "valkey" else None
    )
    redis_version = info.get("redis_version", "0.0.0")
    cluster_enabled = (cluster or {}).get("cluster_enabled") in ("1", 1)
    mode = "cluster" if cluster_enabled or info.get("redis_mode") == "cluster" else "standalone"
    return ServerInfo(
        name="valkey" if valkey else "redis",
        version=valkey or redis_version,
        compat_version=version_tuple(redis_version),
        mode=mode,
    )


async def connect(spec: ConnectionSpec, *, raw: bool = True) -> tuple[aioredis.Redis, ServerInfo]:
    """A client and who answered, or ConnectError with a one-line message."""
    client = spec.make_client(raw=raw)
    try:
        return client, await probe_server(client)
    except Exception as exc:
        await client.aclose()
        raise ConnectError(describe_error(exc, spec)) from None
