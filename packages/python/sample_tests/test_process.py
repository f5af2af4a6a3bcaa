"""The server never outlives the Python process that started it."""

import os
import signal
import subprocess
import sys
import time


def _gone(pid, secs=5.0):
    until = time.monotonic() + secs
    while time.monotonic() < until:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # A zombie child of someone else's still answers kill(0); ours are reaped by init.
        time.sleep(0.02)
    return False


def _start_child(rest):
    code = (
        "import s3twin, sys\n"
        "server = s3twin.Server().start()\n"
        "print(server.pid, flush=True)\n" + rest
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    pid = int(proc.stdout.readline())
    return proc, pid


def test_sigkill_of_python_leaves_no_server():
    proc, pid = _start_child("import time\ntime.sleep(60)\n")
    os.kill(pid, 0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _gone(pid), f"s3twin {pid} still running after its Python process was killed"


def test_exit_without_stop_stops_the_server():
    proc, pid = _start_child("")
    assert proc.wait() == 0
    assert _gone(pid)


def test_s3twin_binary_that_is_not_a_binary_is_an_error(monkeypatch):
    import pytest

    import s3twin

    monkeypatch.setenv("S3TWIN_BINARY", "/nonexistent/s3twin")
    with pytest.raises(FileNotFoundError, match="S3TWIN_BINARY=/nonexistent/s3twin is not an executable file"):
        s3twin.Server().start()


def test_the_wheel_binary_is_found_without_path(monkeypatch):
    import s3twin

    monkeypatch.delenv("S3TWIN_BINARY", raising=False)
    monkeypatch.setenv("PATH", "")
    assert os.path.basename(s3twin.find_binary()) == "s3twin"
