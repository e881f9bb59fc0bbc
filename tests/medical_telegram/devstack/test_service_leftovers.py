"""What a dead service leaves behind (devstack/service.py): found by its session and ended, zombies aside."""

from __future__ import annotations

import os
import subprocess
import time
from types import SimpleNamespace

from medical_telegram.devstack import service


def _orphaned_session(pids_dir) -> tuple[int, list[int]]:
    """A leader (in a session of its own, as `_start` starts services) that starts two children and dies."""
    leader = subprocess.Popen(["bash", "-c", "sleep 300 >/dev/null & echo $!; sleep 300 >/dev/null & echo $!; exit 0"],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    children = [int(line) for line in leader.stdout.read().split()]
    leader.wait()
    (pids_dir / "scheduler.pid").write_text(str(leader.pid))
    return leader.pid, children


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_dead_leaders_processes_are_found_and_ended(tmp_path):
    stack = SimpleNamespace(pids=tmp_path)
    leader, children = _orphaned_session(tmp_path)
    try:
        assert service._pid(stack, "scheduler") is None  # the service itself is gone
        found = sorted(p.pid for p in service._leftovers(stack, "scheduler"))
        assert found == sorted(children)
        service._end(service._leftovers(stack, "scheduler"), grace=5)
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in children)
        assert service._leftovers(stack, "scheduler") == []
    finally:
        for pid in children:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass


def test_a_service_never_started_has_no_leftovers(tmp_path):
    assert service._leftovers(SimpleNamespace(pids=tmp_path), "scheduler") == []
