"""The gateway's own small HTTP/1.1 client (``proxy.HttpTransport``) against a scripted
server: framing of answers (length, chunked, until close, none), keep-alive reuse, stale
connections, what is sent. (Against real servers: tests/integration/gateway.)"""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading

import pytest

from gateway_service.proxy import ForwardRequest, HttpTransport, ServiceUnavailable

CLOSE = b"<then close>"


class Scripted:
    """A TCP server answering each request on a connection with the next scripted bytes
    (``None``: close the connection instead; ending in CLOSE: answer, then close it); it
    records what it received."""

    def __init__(self, answers: list[bytes | None]):
        self.answers = list(answers)
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        # a client that stops reading early resets the connection: that ends this one
        with conn, contextlib.suppress(ConnectionError):
            self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        buffer = b""
        while self.answers:
            while b"\r\n\r\n" not in buffer:
                data = conn.recv(65536)
                if not data:
                    return
                buffer += data
            head, _, rest = buffer.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(rest) < length:
                rest += conn.recv(65536)
            self.requests.append(head + b"\r\n\r\n" + rest[:length])
            buffer = rest[length:]
            answer = self.answers.pop(0)
            if answer is None:
                return
            conn.sendall(answer.removesuffix(CLOSE))
            if b"Connection: close" in answer or answer.endswith(CLOSE):
                return

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def scripted():
    servers = []

    def make(*answers):
        server = Scripted(list(answers))
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def ok(body: bytes, *headers: str) -> bytes:
    head = "".join(f"{h}\r\n" for h in headers)
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{head}\r\n".encode() + body


GET = ForwardRequest("GET", "/api/v1/customers/c 1", b"a=1", {"X-Request-ID": "r1"})


def test_answers_by_length_are_read_and_the_connection_kept(scripted):
    server = scripted(ok(b'{"n": 1}', "Content-Type: application/json"), ok(b"second"))
    transport = HttpTransport(server.url())
    first = transport.send(GET)
    assert (first.status, first.body) == (200, b'{"n": 1}')
    assert first.header("content-type") == "application/json"
    assert transport.send(GET).body == b"second"
    assert server.connections == 1
    sent = server.requests[0].decode("latin-1")
    assert sent.startswith("GET /api/v1/customers/c%201?a=1 HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}\r\n" in sent
    assert "X-Request-ID: r1\r\n" in sent
    assert "Content-Length" not in sent  # a GET without a body


def test_chunked_answers(scripted):
    body = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
    body += b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n"
    server = scripted(body, ok(b"again"))
    transport = HttpTransport(server.url())
    resp = transport.send(ForwardRequest("POST", "/x", body=b'{"a": 1}'))
    assert (resp.status, resp.body) == (201, b"hello, world")
    assert transport.send(GET).body == b"again"
    assert server.connections == 1
    assert server.requests[0].endswith(b'Content-Length: 8\r\n\r\n{"a": 1}')


def test_answers_until_close_and_connection_close(scripted):
    server = scripted(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it")
    transport = HttpTransport(server.url())
    assert transport.send(GET).body == b"all of it"
    assert transport._idle == []  # not reused


def test_bodyless_answers_and_interim_ones(scripted):
    server = scripted(
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"after 100"),
        b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n",  # HEAD: the length, no body
    )
    transport = HttpTransport(server.url())
    assert (transport.send(GET).status, transport.send(GET).body) == (204, b"after 100")
    head = transport.send(ForwardRequest("HEAD", "/x"))
    assert (head.status, head.body) == (200, b"")
    assert server.connections == 1


def test_an_empty_post_says_so(scripted):
    server = scripted(ok(b""))
    HttpTransport(server.url()).send(ForwardRequest("POST", "/x"))
    assert b"Content-Length: 0\r\n" in server.requests[0]


def test_gzip_bodies_are_decoded(scripted):
    server = scripted(ok(gzip.compress(b"plain"), "Content-Encoding: gzip"))
    assert HttpTransport(server.url()).send(GET).body == b"plain"


def test_a_connection_closed_while_idle_is_not_used(scripted):
    server = scripted(ok(b"one") + CLOSE, ok(b"two"))  # answers once, then closes
    transport = HttpTransport(server.url(), retries=0)
    assert transport.send(GET).body == b"one"
    threading.Event().wait(0.2)  # the close reaches us
    assert transport.send(ForwardRequest("POST", "/x")).body == b"two"
    assert server.connections == 2


def test_connections_idle_too_long_are_not_used(scripted, monkeypatch):
    server = scripted(ok(b"one"), ok(b"never"))
    transport = HttpTransport(server.url())
    transport.send(GET)
    monkeypatch.setattr(transport, "IDLE_SECONDS", -1.0)
    server.answers[:] = [ok(b"fresh")]
    assert transport.send(GET).body == b"fresh"
    assert server.connections == 2


@pytest.mark.parametrize(
    "answer",
    [
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
)
def test_broken_answers_are_503(scripted, answer):
    server = scripted(answer + CLOSE)
    with pytest.raises(ServiceUnavailable):
        HttpTransport(server.url(), retries=0, read_timeout=5).send(ForwardRequest("POST", "/x"))


def test_header_values_cannot_smuggle_lines(scripted):
    server = scripted(ok(b""))
    with pytest.raises(ValueError):
        HttpTransport(server.url()).send(
            ForwardRequest("GET", "/x", headers={"X-Evil": "a\r\nX-Revisit-Role: admin"})
        )
    assert server.requests == []


def test_nothing_in_a_path_or_query_can_end_the_request_line(scripted):
    server = scripted(ok(b""))
    HttpTransport(server.url()).send(
        ForwardRequest(
            "GET",
            "/api/v1/customers/a b\r\nX-Revisit-Role: admin",
            b"q=%E4%B8%AD&x=a b\r\nX-Revisit-Tenant: t2#frag\xff",
        )
    )
    line, _, rest = server.requests[0].partition(b"\r\n")
    assert line == (
        b"GET /api/v1/customers/a%20b%0D%0AX-Revisit-Role:%20admin"
        b"?q=%E4%B8%AD&x=a%20b%0D%0AX-Revisit-Tenant:%20t2%23frag%FF HTTP/1.1"
    )
    assert b"X-Revisit" not in rest


# --------------------------------------------------------------------------- streamed


def chunked(*pieces: bytes) -> bytes:
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces)
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body + b"0\r\n\r\n"


def test_an_opened_answer_comes_piece_by_piece_then_the_connection_is_reused(scripted):
    server = scripted(chunked(b"id,name\r\n", b"1,a\r\n", b"2,b\r\n"), ok(b"next"))
    transport = HttpTransport(server.url())
    resp = transport.open(GET)
    assert (resp.status, resp.body) == (200, b"")
    assert list(resp.stream) == [b"id,name\r\n", b"1,a\r\n", b"2,b\r\n"]
    assert transport.send(GET).body == b"next"
    assert server.connections == 1


def test_an_opened_answer_by_length_and_one_left_early(scripted):
    server = scripted(ok(b"x" * 200_000), ok(b"y" * 200_000), ok(b"fresh"))
    transport = HttpTransport(server.url())
    assert b"".join(transport.open(GET).stream) == b"x" * 200_000
    assert server.connections == 1
    left = transport.open(GET).stream
    assert 0 < len(next(left)) < 200_000
    left.close()  # the client stopped reading: the rest is unread, the connection closed
    assert transport.send(GET).body == b"fresh"
    assert server.connections == 2


def test_only_reads_are_opened(scripted):
    server = scripted(ok(b""))
    with pytest.raises(ValueError, match="only GET and HEAD"):
        HttpTransport(server.url()).open(ForwardRequest("POST", "/x"))


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A:  one \r\nX-B:two\r\n\r\n",
        b"HTTP/1.1 200 OK\nContent-Length: 2\nX-A:  one \nX-B:two\n\n",  # bare LF line ends
        b"HTTP/1.1 200 OK\nContent-Length: 2\r\nX-A:  one \r\nX-B:two\r\n\r\n",
        # larger than what one read brings: read line by line
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: one\r\nX-B: two\r\n"
        + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 80) for i in range(120))
        + b"\r\n",
    ],
)
def test_heads_are_read_whole_or_line_by_line_alike(scripted, head):
    server = scripted(head + b"ok", ok(b"next"))
    transport = HttpTransport(server.url())
    resp = transport.send(GET)
    assert (resp.status, resp.body) == (200, b"ok")
    assert resp.headers[:3] == [("Content-Length", "2"), ("X-A", "one"), ("X-B", "two")]
    assert transport.send(GET).body == b"next"  # the head was consumed exactly
    assert server.connections == 1


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 201 + b"\r\n",  # too many headers
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 OK\r\n\r\n",
    ],
)
def test_bad_heads_are_503_whole_or_line_by_line(scripted, head):
    for each in (head, head.replace(b"\r\n", b"\n")):
        server = scripted(each + CLOSE)
        with pytest.raises(ServiceUnavailable):
            HttpTransport(server.url(), retries=0, read_timeout=5).send(GET)
