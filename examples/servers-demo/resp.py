# SPDX-License-Identifier: Apache-2.0
"""A minimal Redis (RESP2) client over a raw socket, stdlib only, for the
demo's load generator and snapshots: pipelined commands, AUTH, and pushed
pub/sub messages. Every socket operation is bounded by `timeout`."""
import socket


class RespError(Exception):
    pass


class Resp:
    def __init__(self, host, port, password=None, timeout=2.0):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        if password:
            self.call("AUTH", password)

    def close(self):
        self.sock.close()

    @staticmethod
    def encode(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        return b"".join(out)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("redis closed the connection")
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RespError(f"bad reply line {line[:40]!r}")

    def pipeline(self, commands):
        """Sends every command in one write, returns their replies in order."""
        self.sock.sendall(b"".join(self.encode(*c) for c in commands))
        return [self.read() for _ in commands]

    def call(self, *args):
        reply = self.pipeline([args])[0]
        if isinstance(reply, RespError):
            raise reply
        return reply

    def pending(self):
        """True when a reply (e.g. a pub/sub message) can be read without blocking."""
        if self.buf:
            return True
        self.sock.setblocking(False)
        try:
            chunk = self.sock.recv(65536)
        except BlockingIOError:
            return False
        finally:
            self.sock.settimeout(self.timeout)
        if not chunk:
            raise ConnectionError("redis closed the connection")
        self.buf += chunk
        return True


def info(client):
    """INFO as a dict of strings."""
    text = client.call("INFO").decode()
    out = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out
