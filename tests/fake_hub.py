"""A local stand-in for the Hugging Face Hub, for tests of downloads without network.

huggingface_hub sends every request to ``HF_ENDPOINT``. A file is fetched as a HEAD then a GET of
``/{repo}/resolve/{revision}/{path}``; the HEAD's ``X-Repo-Commit``, ``ETag`` and
``Content-Length`` headers place it in the cache. Anything else gets a 404, as the Hub answers
for a file a repository does not have.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COMMIT = "1" * 40


@contextmanager
def serving(repo_id: str, files: Path, chunk_delay: float = 0.0) -> Iterator[tuple[str, list[str]]]:
    """Serve the files of ``files`` as repository ``repo_id``; yields the endpoint URL and the
    list of request lines received. ``chunk_delay`` seconds pass between 64 KiB chunks of a GET,
    so a download lasts long enough to show progress."""
    requests: list[str] = []
    prefix = f"/{repo_id}/resolve/"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep the test output clean
            pass

        def _file(self) -> Path | None:
            requests.append(f"{self.command} {self.path}")
            if not self.path.startswith(prefix):
                return None
            _revision, _, name = self.path[len(prefix) :].partition("/")
            path = files / name.split("?")[0]
            return path if path.is_file() else None

        def _headers(self, path: Path | None) -> None:
            if path is None:
                self.send_response(404)
                self.send_header("X-Error-Code", "EntryNotFound")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = path.read_bytes()
            self.send_response(200)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()

        def do_HEAD(self) -> None:
            self._headers(self._file())

        def do_GET(self) -> None:
            path = self._file()
            self._headers(path)
            if path is None:
                return
            data = path.read_bytes()
            for start in range(0, len(data), 65536):
                self.wfile.write(data[start : start + 65536])
                if chunk_delay:
                    self.wfile.flush()
                    threading.Event().wait(chunk_delay)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
