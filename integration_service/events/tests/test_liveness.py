import os
import time

from events.liveness import heartbeat_age, main, touch


def test_touch_writes_a_fresh_heartbeat(tmp_path):
    path = tmp_path / "sub" / "heartbeat"

    touch(str(path))

    assert heartbeat_age(str(path)) < 5
    assert list(path.parent.iterdir()) == [path]


def test_liveness_check_passes_on_a_fresh_heartbeat(tmp_path, capsys):
    path = tmp_path / "heartbeat"
    touch(str(path))

    assert main(["--file", str(path), "--max-age", "30"]) == 0
    assert "worker alive" in capsys.readouterr().out


def test_liveness_check_fails_on_a_stale_heartbeat(tmp_path, capsys):
    path = tmp_path / "heartbeat"
    touch(str(path))
    old = time.time() - 120
    os.utime(path, (old, old))

    assert main(["--file", str(path), "--max-age", "60"]) == 1
    assert "old" in capsys.readouterr().err


def test_liveness_check_fails_without_a_heartbeat(tmp_path):
    assert main(["--file", str(tmp_path / "missing")]) == 1
