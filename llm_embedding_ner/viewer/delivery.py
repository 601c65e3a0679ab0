"""Where the recording goes, and what happens when it cannot get there.

By default the tool spawns a Rerun viewer. That needs the ``rerun`` executable and, on Linux, a
display: a remote box over SSH, a server or a container has no display, and a venv's Python run
without activating the venv does not find ``rerun`` on PATH. Rerun then fails only after the
whole analysis, with a traceback. So the tool decides before the model loads whether a viewer
can be spawned; when it cannot, or when delivery fails later for any reason, the recording is
saved to a new file in the current directory and one line says where and how to open it.
``--serve`` says which address to open, and how to reach it from another machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from ..errors import UserError, first_line

if TYPE_CHECKING:
    import rerun as rr
    import rerun.blueprint as rrb

    from ..analysis.changes import Comparison
    from ..analysis.result import Analysis

    Result = Analysis | Comparison  # one model's analysis, or several models'

VIEWER = "rerun"
RECORDING_PREFIX = "llm_embedding_ner"
WEB_PORT = 9090  # rerun's own default for its web viewer
DEFAULT_VIEWER_URL = "rerun+http://127.0.0.1:9876/proxy"  # where --connect goes without --url


def viewer_executable(
    environ: Mapping[str, str] | None = None,
    python: str | None = None,
    which: Callable[..., str | None] = shutil.which,
) -> str | None:
    """The ``rerun`` executable: on PATH, or next to the running Python (a venv's ``bin/``, used
    without activating the venv, as IDEs and cron do)."""
    environ = os.environ if environ is None else environ
    python = python or sys.executable
    found = which(VIEWER, path=environ.get("PATH"))
    if found:
        return found
    beside = Path(python).parent / (VIEWER + (".exe" if sys.platform == "win32" else ""))
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def spawn_blocker(
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    python: str | None = None,
    which: Callable[..., str | None] = shutil.which,
) -> str | None:
    """Why no viewer can be spawned here (a few words), or None when one can."""
    environ = os.environ if environ is None else environ
    platform = platform or sys.platform
    if viewer_executable(environ, python, which) is None:
        return f"no `{VIEWER}` executable on PATH or beside {python or sys.executable}"
    if not has_display(environ, platform):
        return "no display (DISPLAY and WAYLAND_DISPLAY are unset)"
    return None


def new_recording_path(directory: Path | None = None, stamp: str | None = None) -> Path:
    """A file name that no file has yet, in ``directory`` (the current one by default, or the
    temporary folder when that cannot be written), created empty so that no other run takes it:
    ``llm_embedding_ner-20261126-174512.rrd``, then ``-2``, ``-3``... if taken."""
    stamp = stamp or time.strftime("%Y%m%d-%H%M%S")
    folders = [directory] if directory is not None else [Path("."), Path(tempfile.gettempdir())]
    for folder in folders:
        for n in range(1, 1000):
            path = folder / f"{RECORDING_PREFIX}-{stamp}{'' if n == 1 else f'-{n}'}.rrd"
            try:
                with open(path, "x"):
                    return path
            except FileExistsError:
                continue
            except OSError:
                break  # not writable: the next folder
    raise OSError(f"cannot create a recording file in {', '.join(str(f) for f in folders)}")


def how_to_open(path: Path) -> str:
    return (
        f"open it with `{VIEWER} {path}` on a machine with a screen, "
        "or run again with --serve to view it in a browser"
    )


def save_recording(analysis: Result, path: Path, source: str) -> None:
    """The whole recording, with its default blueprint, in the .rrd file ``path``."""
    import rerun as rr

    from .blueprint import blueprint_for
    from .comparison_logging import log_result
    from .rerun_logging import APPLICATION_ID

    recording = rr.RecordingStream(APPLICATION_ID)
    recording.save(str(path), default_blueprint=blueprint_for(analysis))
    log_result(analysis, recording, source=source)
    recording.flush()


def has_display(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Linux needs DISPLAY or WAYLAND_DISPLAY for a window; macOS and Windows always have one."""
    environ = os.environ if environ is None else environ
    platform = platform or sys.platform
    return not platform.startswith("linux") or bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def serve(recording: rr.RecordingStream, blueprint: rrb.Blueprint) -> str:
    """``--serve``: the recording from a gRPC server and a web viewer connected to it (a browser
    opened where there is a screen); returns the line that says where to point a browser."""
    import rerun as rr

    grpc_url = recording.serve_grpc(default_blueprint=blueprint)
    rr.serve_web_viewer(web_port=WEB_PORT, open_browser=has_display(), connect_to=grpc_url)
    return serving_message(grpc_url)


def serving_message(grpc_url: str) -> str:
    grpc_port = urlsplit(grpc_url.replace("rerun+", "", 1)).port
    address = f"http://localhost:{WEB_PORT}/?url={quote(grpc_url, safe='')}"
    return (
        f"serving the recording: open {address} in a browser (Ctrl-C stops). From another machine, "
        f"forward both ports first: ssh -L {WEB_PORT}:localhost:{WEB_PORT} "
        f"-L {grpc_port}:localhost:{grpc_port} THIS-HOST"
    )


def chosen_sink(args: argparse.Namespace) -> str:
    """Where rr.script_setup sends the recording, in its own order of precedence."""
    for sink in ("stdout", "serve", "connect"):
        if getattr(args, sink):
            return sink
    if args.save is not None:
        return "save"
    return "none" if args.headless else "spawn"


def prepare_spawn(args: argparse.Namespace) -> str | None:
    """For the default sink, a spawned viewer: why none can be started here (the recording is
    then saved to a file instead), or None; a venv's ``rerun`` found beside Python goes on PATH
    for rerun's spawn to find."""
    if chosen_sink(args) != "spawn":
        return None
    blocker = spawn_blocker()
    executable = viewer_executable()
    if blocker is None and executable is not None:
        folder = str(Path(executable).parent)
        if folder not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = folder + os.pathsep + os.environ.get("PATH", "")
    return blocker


def deliver(analysis: Result, args: argparse.Namespace, source: str, no_viewer: str | None) -> str | None:
    """Send the recording where the command line says (rerun's script options), or save it to a
    new file when ``no_viewer`` says why no viewer can be spawned. Returns the line to end the run
    with: where the recording was saved, or where it is served; None for the other sinks."""
    from .blueprint import blueprint_for
    from .comparison_logging import log_result

    recording, line = open_recording(args, no_viewer, blueprint_for(analysis))
    log_result(analysis, recording, source=source)
    recording.flush()  # the .rrd is complete when the run ends, also when called in-process
    return line


def open_recording(
    args: argparse.Namespace, no_viewer: str | None, blueprint: rrb.Blueprint
) -> tuple[rr.RecordingStream, str | None]:
    """A recording that goes where the command line says, or to a new file when ``no_viewer``
    says why no viewer can be spawned; and the line that says where it went (None for a viewer
    that was spawned or connected to, or for a file or stdout the user named)."""
    import rerun as rr

    from .rerun_logging import APPLICATION_ID

    if no_viewer:
        path = new_recording_path()
        recording = rr.RecordingStream(APPLICATION_ID)
        recording.save(path, default_blueprint=blueprint)
        return (
            recording,
            f"no viewer can be started here: {no_viewer}. Saved the recording to {path}: {how_to_open(path)}",
        )
    serving = chosen_sink(args) == "serve"
    # --serve is set up here rather than by rerun, to say where to point a browser.
    setup = argparse.Namespace(**{**vars(args), "serve": False, "headless": True}) if serving else args
    recording = rr.script_setup(setup, APPLICATION_ID, default_blueprint=blueprint)
    return recording, serve(recording, blueprint) if serving else None


def save_after_failure(analysis: Result, source: str, error: Exception) -> str:
    """After a failed delivery, the whole recording in a new file, and the line that says so.
    Should saving fail too, ``error`` is a bug and is raised with its traceback."""
    try:
        path = new_recording_path()
        save_recording(analysis, path, source)
    except Exception:
        raise error from None
    return (
        f"error: the recording could not be delivered ({first_line(error)}). Saved it to {path}: "
        f"{how_to_open(path)}"
    )


def check_sink(args: argparse.Namespace) -> None:
    """Fail before the model loads (which can take minutes) when the recording could not be delivered."""
    sink = chosen_sink(args)
    if sink == "save":
        _check_writable(Path(args.save))
    elif sink == "connect":
        _check_viewer_listening(args.url or DEFAULT_VIEWER_URL)


def _check_writable(path: Path) -> None:
    if path.is_dir():
        raise UserError(f"--save {path} is a directory; name a file, such as {path / 'recording.rrd'}")
    existed = path.exists()
    try:
        with open(path, "ab"):  # append mode: an existing file is left as it is
            pass
    except OSError as e:
        raise UserError(f"cannot write --save {path}: {e.strerror or e}") from None
    if not existed:
        path.unlink()


def _check_viewer_listening(url: str) -> None:
    parsed = urlsplit(url.replace("rerun+", "", 1))
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 9876
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError:
        raise UserError(
            f"no Rerun viewer is listening at {url}; start one with `rerun`, or use --serve or --save instead"
        ) from None


def named_file_line(args: argparse.Namespace) -> str | None:
    """With ``--save``, the line that ends the run: where the recording is and how to open it."""
    if chosen_sink(args) != "save":
        return None
    return f"saved the recording to {args.save}: {how_to_open(Path(args.save))}"


def discard_partial(args: argparse.Namespace) -> str:
    if chosen_sink(args) == "save":
        path = Path(args.save)
        if path.exists():
            path.unlink()
            return f"removed the partial recording {path}"
        return "nothing was saved"
    return "the viewer may have received part of the recording"
