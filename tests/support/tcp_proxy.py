"""A TCP relay on loopback that a test can cut and restore, to take a server "down"."""

from __future__ import annotations

import socket
import threading

from devstack.ports import free_tcp_port

CHUNK = 65536


class _Link:
    """What the two directions of one relayed connection know about each other."""

    def __init__(self) -> None:
        self.drop_next_answer = False


class TcpProxy:
    """Relays 127.0.0.1:<port> to `upstream`. `cut()` refuses new connections and drops
    open ones, as a crashed server would; `restore()` listens again on the same port.
    `freeze()` keeps every connection open, and accepts new ones, but relays nothing, as a
    hung server or a black-holed network would; `thaw()` lets the held bytes through."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_tcp_port()
        self._flowing = threading.Event()
        self._flowing.set()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            # close() alone leaves a listener blocked in accept() listening (Linux):
            # shutdown wakes accept() and stops new connections at once.
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def freeze(self) -> None:
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    def _pick_upstream(self) -> tuple[str, int]:
        """Where the next connection goes: called once per accepted connection."""
        return self.upstream

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(self._pick_upstream(), timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, server))
            link = _Link()
            threading.Thread(
                target=self._pump, args=(client, server, link, True), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(server, client, link, False), daemon=True
            ).start()

    def _pump(
        self, source: socket.socket, sink: socket.socket, link: _Link, upstream: bool
    ) -> None:
        try:
            while data := source.recv(CHUNK):
                self._flowing.wait()
                if not self._relay(data, upstream, link):
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _relay(self, data: bytes, upstream: bool, link: _Link) -> bool:
        """Whether to pass `data` on (`upstream`: from the client); False drops the connection."""
        return True

    def close(self) -> None:
        self.thaw()
        self.cut()


# PyMySQL's commit(): a COM_QUERY packet (command byte 3) whose statement is COMMIT.
MYSQL_COMMIT = b"\x03COMMIT"


class CommitCutter(TcpProxy):
    """A relay to MySQL that, once armed, drops the connection at the next COMMIT: after the
    server has it (committed; the client cannot know it: an ambiguous commit), or before
    (`deliver=False`: the server rolls the transaction back)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        super().__init__(upstream)
        self._armed = threading.Event()
        self._deliver = True
        self.cut_commits = 0

    def arm(self, *, deliver: bool = True) -> None:
        self._deliver = deliver
        self._armed.set()

    def _relay(self, data: bytes, upstream: bool, link: _Link) -> bool:
        if upstream:
            if MYSQL_COMMIT in data and self._armed.is_set():
                self._armed.clear()
                if not self._deliver:
                    self.cut_commits += 1
                    return False
                link.drop_next_answer = True
            return True
        if link.drop_next_answer:
            self.cut_commits += 1
            return False
        return True
