"""What each benchmark subprocess runs, and how the parent runs and watches it.

Every measured run is its own process (``python bench/pipeline.py --worker KIND ...``): its wall
time includes interpreter start-up and exit, and its peak resident memory is the one it reports
itself (VmHWM at its end, or its stages' highest peak), not ``wait4``'s ``ru_maxrss``, which also
counts the parent's memory copied at fork. The parent stops a run that exceeds the time budget
or the memory limit.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: One ``circles run`` as a planner types it (the study name comes from the file name).
CIRCLES_ARGS = ("run", "-q", "--facilities", "osm:primary-care")


@dataclass
class Spawned:
    """How a subprocess ended: ``status`` is "ok", "failed: ...", "did not finish ..." or "stopped ..."."""

    status: str
    wall_s: float
    peak_kib: int
    result: dict | None


def _status_peak_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def spawn(kind: str, args: list[str], workdir: Path, *, budget_s: float, mem_limit_gib: float) -> Spawned:
    """Run one worker; stop it past ``budget_s`` seconds or ``mem_limit_gib`` of resident memory."""
    result_path = workdir / f"{kind}_result.json"
    result_path.unlink(missing_ok=True)
    cmd = [sys.executable, str(HERE / "pipeline.py"), "--worker", kind, "--result", str(result_path), *args]
    log = (workdir / f"{kind}_stderr.txt").open("w")
    env = os.environ | {"PYTHONWARNINGS": "ignore"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, env=env)
    why: list[str] = []
    seen_kib = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set() and not why:
            seen_kib[0] = max(seen_kib[0], _rss_kib(proc.pid))
            if time.perf_counter() - t0 > budget_s:
                why.append(f"did not finish within the {budget_s:.0f} s budget")
            elif seen_kib[0] > mem_limit_gib * 1024**2:
                why.append(f"stopped at the {mem_limit_gib:g} GiB memory limit")
            else:
                time.sleep(0.2)
                continue
            proc.kill()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, status = os.waitpid(proc.pid, 0)
    wall_s = time.perf_counter() - t0
    done.set()
    proc.returncode = os.waitstatus_to_exitcode(status)
    log.close()
    # A run that did not finish has only the watcher's samples (every 0.2 s) to say its peak.
    if why:
        return Spawned(why[0], wall_s, seen_kib[0], None)
    if proc.returncode != 0:
        tail = (workdir / f"{kind}_stderr.txt").read_text().strip().splitlines() or ["?"]
        return Spawned(f"failed: {tail[-1][:160]}", wall_s, seen_kib[0], None)
    result = json.loads(result_path.read_text())
    return Spawned("ok", wall_s, result["peak_kib_total"], result)


def bare_pass(path: Path) -> dict:
    """One bare pyosmium pass: a handler counting ways, with node locations (what reading costs at least)."""
    import osmium

    class Count(osmium.SimpleHandler):
        def __init__(self) -> None:
            super().__init__()
            self.ways = 0

        def way(self, w) -> None:
            self.ways += 1

    handler = Count()
    t0 = time.perf_counter()
    handler.apply_file(str(path), locations=True)
    return {"seconds": time.perf_counter() - t0, "ways": handler.ways}


def circles_run(path: Path, out: Path) -> dict:
    """``circles run`` in this process, every stage timed from outside (``_stages``)."""
    t0 = time.perf_counter()
    sys.path.insert(0, str(HERE))
    from _stages import StageRecorder, install

    recorder = StageRecorder()
    install(recorder)
    import circles.cli
    import circles.report

    imports_s = time.perf_counter() - t0
    seen: dict = {}
    write_outputs = circles.report.write_outputs

    def capture(result, *args, **kwargs):
        seen["timings_s"] = dict(result.timings_s)
        summary = result.summary.to_dict()
        seen["summary"] = {k: summary.get(k) for k in ("homes", "covered_share", "population")}
        seen["summary"]["facilities"] = summary["facilities"]["inside"]
        seen["network"] = summary.get("network")
        return write_outputs(result, *args, **kwargs)

    circles.report.write_outputs = capture
    t1 = time.perf_counter()
    code = circles.cli.main([*CIRCLES_ARGS, "--pbf", str(path), "--out", str(out)])
    main_s = time.perf_counter() - t1
    if code != 0:
        raise SystemExit(f"circles run exited {code}")
    return {
        "imports_s": imports_s,
        "main_s": main_s,
        "stages": recorder.as_dict(),
        "missing_stages": recorder.missing,
        **seen,
        # Resetting the peak for each stage also resets what wait4 reports (ru_maxrss), so the
        # whole run's peak is the highest stage peak or the peak since the last reset.
        "peak_kib_total": max([_status_peak_kib()] + [r.peak_kib or 0 for r in recorder.records.values()]),
    }


def reference_run(kind: str, path: Path, out: Path, walk_xml: Path | None, all_xml: Path | None) -> dict:
    """One of the straightforward pipelines (``_reference``)."""
    sys.path.insert(0, str(HERE))
    import _reference

    out.mkdir(parents=True, exist_ok=True)
    if kind == "pyrosm":
        counts, steps = _reference.run_pyrosm(path, out)
    else:
        counts, steps = _reference.run_osmnx(walk_xml, all_xml, out)
    return {"counts": counts, "steps": steps}


def worker_main(kind: str, path: Path, out: Path, result: Path, xml: list[Path] | None) -> int:
    """Entry point of ``--worker``: run one measurement and write its JSON."""
    if kind == "bare":
        payload = bare_pass(path)
    elif kind == "circles":
        payload = circles_run(path, out)
    else:
        walk_xml, all_xml = xml if xml else (None, None)
        payload = reference_run(kind, path, out, walk_xml, all_xml)
    # The process's own peak (wait4's ru_maxrss also counts the parent's memory copied at fork).
    payload["peak_kib_total"] = max(_status_peak_kib(), payload.get("peak_kib_total", 0))
    result.write_text(json.dumps(payload))
    return 0
