"""Many browser sessions on one server: slider latency, errors, memory and the shared dataset.

    .venv/bin/python benchmarks/bench_sessions.py --rows 1000000 --sessions 8 --seconds 60

Generates ``--rows`` leads with benchmarks/synthetic.py (12 categorical and 6 count attributes,
~5% converted; ``--generator sample`` uses the bundled sample's generator instead, which has an
opportunity_amount column and so a Pipeline tile), writes a model for them (the starter
model's layout with points from synthetic.py's effects, a threshold that makes ~20% MQLs),
and starts one ``streamlit run`` server with LEAD_MODEL_TIMINGS=1. Then, in one chromium:

1. ONE session (a browser context of its own) opens the Designer, takes the model (Export
   page upload, as a person would) and moves sliders for ``--warmup`` seconds: the baseline
   latency figures, and the server's RSS with one session.
2. ``--sessions - 1`` more contexts open the Designer and take the model; then all of them
   press arrow keys for ``--seconds``: each session picks the MQL threshold or one of the
   points sliders of the open attribute at random, and a direction that moves it, and presses
   its next key only when its previous move has painted and settled (its own pace).

A move is timed inside the page with benchmarks/bench_browser.py's hooks (INIT_JS, STATE_JS):
from the keydown event to the last tile / chart update; it is over when no rerun runs and
nothing changed for ``--quiet`` ms (that wait is not in the figure). Errors counted: an
exception or error box or "No leads loaded" in any session, a move that never settled, and
"Traceback" in the server log. Memory: VmRSS of the server process and its children
(/proc/<pid>/status), sampled about once a second. Shared dataset: every Workbench and every
scoring engine the server makes logs the LeadSet it works on (``workbench leadset=<version>:<id>``,
``engine_ms=... leadset=<version>:<id>``, behind LEAD_MODEL_TIMINGS; the id is the object's
``id()``): one LeadSet among all sessions' workbenches means they share one LeadSet object.

Prints figures only; no assertions.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_browser  # noqa: E402  (its in-page timing hooks and percentile)
import browser_support as bs  # noqa: E402
import synthetic  # noqa: E402

ERRORS_JS = """() => ({
  exceptions: document.querySelectorAll('[data-testid="stException"]').length,
  error_boxes: document.querySelectorAll('[data-testid="stAlertContentError"]').length,
  no_leads: (document.body.innerText || '').includes('No leads loaded'),
})"""

SLIDER_JS = """el => ({now: Number(el.getAttribute('aria-valuenow') ?? el.value), min: Number(el.getAttribute('aria-valuemin') ?? el.min),
                      max: Number(el.getAttribute('aria-valuemax') ?? el.max)})"""


# ----- data and model ---------------------------------------------------------------------------
def make_data(rows: int, generator: str, workdir: Path) -> Path:
    """``rows`` leads as CSV under ``workdir`` (the sample's own file at 50,000 with ``--generator sample``)."""
    t0 = time.perf_counter()
    if generator == "sample":
        path = bench_browser.generated_csv(rows, workdir)
    else:
        path = workdir / f"synthetic_{rows}.csv"
        synthetic.write_csv(rows, path)
        print(f"generated {rows:,} leads (benchmarks/synthetic.py) -> {path} in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


def make_model(generator: str, workdir: Path) -> Path:
    """A model file for the generated leads: the sample model, or synthetic.py's effects as points on the starter layout."""
    if generator == "sample":
        return bs.SAMPLE_MODEL
    import lead_model
    from lead_model.model.starter import starter_model

    small = workdir / "synthetic_model_basis.csv"
    synthetic.write_csv(20_000, small)
    leads = lead_model.load_leads(small, store=workdir / "model_basis.duckdb")
    m = starter_model(leads, name="Synthetic effects")
    for name, effects in synthetic.EFFECTS.items():
        for level, effect in zip(synthetic.CATEGORICAL[name], effects):
            m = m.with_points(name, level, round(10 * effect))
    for name, effect in synthetic.COUNT_EFFECTS.items():
        for i in range(1, len(m.attribute(name).bins)):
            m = m.with_points(name, f"bin:{i}", round(10 * effect * i))
    sweep = lead_model.backtest(leads, m).sweep
    threshold = int(sweep.loc[sweep["mql_rate"] <= 0.2, "threshold"].min())
    path = workdir / "synthetic_model.yaml"
    m.model_copy(update={"mql_threshold": threshold}).to_file(path)
    return path


def adopt_model(page, model_file: Path) -> None:
    """Take ``model_file`` on the Export page (as bench_browser.adopt_sample_model does) and come back to the Designer."""
    page.get_by_role("link", name="Export").first.click()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(model_file))
    page.get_by_text("it is now the current model and the baseline").wait_for(timeout=180_000)
    page.get_by_role("link", name="Designer").first.click()
    bs.wait_app_ready(page, timeout=180)
    bs.wait_points_sliders(page, timeout=120)


# ----- memory -----------------------------------------------------------------------------------
def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int(d.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d.name))
            except (OSError, IndexError, ValueError):
                pass
    return out


def server_rss_mb(pid: int) -> float:
    """VmRSS of ``pid`` and every descendant, MB (1e6 bytes)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _rss_kb(p)
        todo.extend(_children(p))
    return total * 1024 / 1e6


# ----- sessions ---------------------------------------------------------------------------------
@dataclass
class Session:
    """One browser context driving the Designer at its own pace."""

    name: str
    page: object
    points: list[str]
    rng: random.Random
    pressed: float | None = None  # time.monotonic() of the pending key press
    kind: str = ""
    moves: dict[str, list[float]] = field(default_factory=lambda: {"threshold": [], "points": []})
    stuck: int = 0  # moves that never settled
    exceptions: int = 0
    error_boxes: int = 0
    no_leads: int = 0

    def press(self) -> None:
        """Press an arrow key on a random slider, in a direction that moves it."""
        self.kind = "threshold" if self.rng.random() < 0.5 else "points"
        label = bs.THRESHOLD if self.kind == "threshold" else self.rng.choice(self.points)
        loc = bs.reveal_slider(self.page, label)
        v = loc.evaluate(SLIDER_JS)
        key = self.rng.choice(("ArrowRight", "ArrowLeft"))
        if v["now"] >= v["max"]:
            key = "ArrowLeft"
        elif v["now"] <= v["min"]:
            key = "ArrowRight"
        if not loc.evaluate("el => document.activeElement === el"):
            loc.focus()
        self.page.keyboard.press(key)
        self.pressed = time.monotonic()

    def poll(self, quiet_ms: int, timeout: float) -> None:
        """Record the pending move once it has painted and settled (bench_browser.one_move's rule)."""
        s = self.page.evaluate(bench_browser.STATE_JS)
        last = max(s["mut"], s["canvas"], s["recv"], s["anyMut"], s["kd"])
        if s["nrecv"] and not s["busy"] and s["now"] - last >= quiet_ms:
            update = max(s["mut"], s["canvas"])
            if update:
                self.moves[self.kind].append(update - s["kd"])
            self.pressed = None
        elif time.monotonic() - self.pressed > timeout:
            self.stuck += 1
            self.pressed = None

    def check_errors(self) -> None:
        e = self.page.evaluate(ERRORS_JS)
        self.exceptions = max(self.exceptions, e["exceptions"])
        self.error_boxes = max(self.error_boxes, e["error_boxes"])
        self.no_leads = max(self.no_leads, int(e["no_leads"]))


def open_session(browser, server, name: str, model_file: Path, seed: int) -> Session:
    """A new browser context on the Designer, the model taken, its points sliders listed."""
    context = browser.new_context(viewport={"width": 1600, "height": 1800})
    page = context.new_page()
    page.add_init_script(bs.RUN_TRACKER_JS)
    page.add_init_script(bench_browser.INIT_JS)
    page.goto(server.url + bs.DESIGNER_PATH)
    bs.wait_app_ready(page, timeout=300)
    bs.wait_points_sliders(page, timeout=120)
    adopt_model(page, model_file)
    labels = bs.wait_points_sliders(page, timeout=120)
    # the points sliders of the attribute whose expander is open (no expander clicks in the timed loop)
    points = [lb for lb in labels if lb and lb != bs.THRESHOLD and ": " in lb]
    return Session(name, page, points, random.Random(seed))


def drive(sessions: list[Session], seconds: float, quiet_ms: int, server_pid: int, timeout: float = 60.0) -> list[tuple[float, float]]:
    """Every session moves sliders at its own pace for ``seconds``; returns (seconds since the start, RSS in MB), at most 1 a second.

    One thread drives every page (Playwright's sync API is not thread-safe): each turn presses
    a key in every session that is free and polls every session with a move pending.
    """
    t0 = time.monotonic()
    rss = [(0.0, server_rss_mb(server_pid))]
    end = t0 + seconds
    next_sample = time.monotonic() + 1.0
    next_check = time.monotonic() + 5.0
    while True:
        now = time.monotonic()
        pending = [s for s in sessions if s.pressed is not None]
        if now >= end and not pending:
            break
        for s in sessions:
            if s.pressed is None:
                if now < end:
                    s.press()
            else:
                s.poll(quiet_ms, timeout)
        if now >= next_sample:
            rss.append((now - t0, server_rss_mb(server_pid)))
            next_sample = now + 1.0
        if now >= next_check:
            for s in sessions:
                s.check_errors()
            next_check = now + 5.0
        time.sleep(0.02)
    for s in sessions:
        s.check_errors()
    rss.append((time.monotonic() - t0, server_rss_mb(server_pid)))
    return rss


# ----- report -----------------------------------------------------------------------------------
def latency_lines(sessions: list[Session]) -> list[str]:
    lines = []
    for kind in ("threshold", "points"):
        ms = [x for s in sessions for x in s.moves[kind]]
        if ms:
            lines.append(f"  {kind:9s}: {len(ms):4d} moves, key press -> painted median {statistics.median(ms):6.0f} ms, "
                         f"p95 {bench_browser.pct(ms, 0.95):6.0f} ms, max {max(ms):6.0f} ms")
        else:
            lines.append(f"  {kind:9s}: no moves")
    return lines


def error_line(sessions: list[Session], log: str) -> str:
    tracebacks = log.count("Traceback")
    parts = {
        "moves that never settled": sum(s.stuck for s in sessions),
        "sessions showing an exception": sum(1 for s in sessions if s.exceptions),
        "sessions showing an error box": sum(1 for s in sessions if s.error_boxes),
        "sessions showing 'No leads loaded'": sum(s.no_leads for s in sessions),
        "tracebacks in the server log": tracebacks,
    }
    total = sum(parts.values())
    return f"errors: {total} (" + ", ".join(f"{k} {v}" for k, v in parts.items()) + ")"


def _short(leadset: str) -> str:
    """'<version>:<id>' as the log has it, shortened: 'ab12cd34../7f3a...'."""
    version, _, ident = leadset.partition(":")
    return f"{version[:8]}../{ident}"


def sharing_lines(log: str) -> list[str]:
    """What the server logged about the LeadSets its workbenches and engines work on."""
    benches = re.findall(r"^workbench leadset=([\w:]+) leads=(\d+)", log, re.M)
    engines = re.findall(r"^engine_ms=([0-9.]+) leadset=([\w:]+) leads=(\d+)", log, re.M)
    if not benches and not engines:
        return ["shared dataset: the server logged no 'workbench leadset=' / 'engine_ms=' lines (core without that log?)"]
    shared = {v for v, _ in benches}
    lines = [
        f"shared dataset: {len(benches)} workbenches made (one per session, and per reload of data) on {len(shared)} LeadSet object(s) "
        f"({', '.join(f'{_short(v)} {int(n):,} leads' for v, n in sorted(set(benches)))})",
    ]
    on_shared = [float(ms) for ms, v, _ in engines if v in shared]
    lines.append(f"  scoring engines built on it: {len(on_shared)} ({sum(on_shared):.0f} ms in all; one per model layout)")
    others: dict[int, set[str]] = {}
    for _, v, n in engines:
        if v not in shared:
            others.setdefault(int(n), set()).add(v)
    if others:
        parts = ", ".join(f"{len(vs)} of {n:,} leads" for n, vs in sorted(others.items(), reverse=True))
        lines.append(f"  engines on other LeadSets (parts the core makes of it, e.g. a Suggestions fit's train/holdout split or the leads "
                     f"with an amount): {parts}")
    return lines


def rss_timeline(samples: list[tuple[float, float]], every: float = 10.0) -> str:
    """The first RSS sample of each ``every`` seconds, and the last: '0 s 1032, 10 s 760, ...' (MB)."""
    shown, mark = [], 0.0
    for t, mb in samples:
        if t >= mark:
            shown.append(f"{t:.0f} s {mb:.0f}")
            mark = (t // every + 1) * every
    t, mb = samples[-1]
    return ", ".join(shown) + f"; end {t:.0f} s {mb:.0f}"


def script_line(log: str) -> str:
    """Median and p95 of the server's script_ms lines (every full or fragment run, LEAD_MODEL_TIMINGS) in ``log``."""
    ms = [float(x) for x in re.findall(r"script_ms=([0-9.]+)", log)]
    if not ms:
        return "server script: no script_ms lines"
    return f"server script per run (script_ms, {len(ms)} runs): median {statistics.median(ms):.0f} ms, p95 {bench_browser.pct(ms, 0.95):.0f} ms"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60.0, help="how long every session moves sliders")
    ap.add_argument("--warmup", type=float, default=None, help="seconds the first session moves alone (default: --seconds / 2, at least 20)")
    ap.add_argument("--quiet", type=int, default=300, help="ms without changes that ends a move")
    ap.add_argument("--generator", choices=("synthetic", "sample"), default="synthetic")
    ap.add_argument("--seed", type=int, default=12)
    args = ap.parse_args(argv)
    warmup = args.warmup if args.warmup is not None else max(20.0, args.seconds / 2)
    if reason := bs.chromium_missing_reason():
        sys.exit(f"cannot run: {reason}")
    from playwright.sync_api import sync_playwright

    print(f"machine: {os.cpu_count()} cores, shared by the server, {args.sessions} chromium pages and this driver "
          f"(and other people's work); load average at start: {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_sessions_") as tmp:
        tmp = Path(tmp)
        data = make_data(args.rows, args.generator, tmp)
        model_file = make_model(args.generator, tmp)
        t0 = time.perf_counter()
        env = {"LEAD_MODEL_TIMINGS": "1"}
        with bs.running_server(data, tmp / "lead_store.duckdb", timeout=120, extra_env=env, log_dir=tmp) as server, sync_playwright() as pw:
            pid = server.process.pid
            print(f"server up in {time.perf_counter() - t0:.1f} s; RSS before any session: {server_rss_mb(pid):.0f} MB", flush=True)
            browser = bs.launch_chromium(pw)
            try:
                t0 = time.perf_counter()
                first = open_session(browser, server, "s1", model_file, args.seed)
                print(f"session 1 ready in {time.perf_counter() - t0:.1f} s (load {args.rows:,} leads + first render + model upload); "
                      f"points sliders moved: {first.points}", flush=True)
                log_from = len(server.log())
                rss_one = drive([first], warmup, args.quiet, pid)
                one = server_rss_mb(pid)
                one_log = server.log()[log_from:]
                print(f"\nONE session, {warmup:.0f} s (the baseline):")
                for line in latency_lines([first]):
                    print(line)
                print("  " + script_line(one_log))
                print(f"  RSS with one session: {one:.0f} MB (peak while it moved {max(mb for _, mb in rss_one):.0f} MB)", flush=True)

                t0 = time.perf_counter()
                sessions = [first]
                for i in range(2, args.sessions + 1):
                    sessions.append(open_session(browser, server, f"s{i}", model_file, args.seed + i))
                print(f"\n{args.sessions - 1} more sessions opened (model taken in each) in {time.perf_counter() - t0:.1f} s; "
                      f"RSS now {server_rss_mb(pid):.0f} MB", flush=True)
                for s in sessions:
                    for kind in s.moves:
                        s.moves[kind] = []
                    s.stuck = 0
                log_from = len(server.log())
                load = Path("/proc/loadavg").read_text().split()[:3]
                rss_many = drive(sessions, args.seconds, args.quiet, pid)
                final = server_rss_mb(pid)
                log = server.log()
                print(f"\n{args.sessions} sessions at once, {args.seconds:.0f} s (load average at start {load}, at end "
                      f"{Path('/proc/loadavg').read_text().split()[:3]}):")
                done = sum(len(v) for s in sessions for v in s.moves.values())
                per = ", ".join(f"{s.name} {sum(len(v) for v in s.moves.values())}" for s in sessions)
                print(f"  moves done: {done} ({per})")
                for line in latency_lines(sessions):
                    print(line)
                print("  " + script_line(log[log_from:]))
                print("  " + error_line(sessions, log[log_from:]))
                hwm = 0
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        hwm = int(line.split()[1]) * 1024 / 1e6
                peak = max(mb for _, mb in rss_many)
                print(f"  RSS with {args.sessions} sessions: peak {peak:.0f} MB, final {final:.0f} MB "
                      f"(server's VmHWM since start, load included: {hwm:.0f} MB)")
                ratio = peak / one
                print(f"  RSS while the {args.sessions} sessions moved, MB: {rss_timeline(rss_many)}")
                print(f"  memory ratio (peak with {args.sessions} / one session): {ratio:.2f}x; bar <= 2x: {'met' if ratio <= 2 else 'NOT met'}; "
                      f"final / one session: {final / one:.2f}x")
                print("  " + "\n  ".join(sharing_lines(log)))
                print(f"  server log lines with 'Traceback' since start: {log.count('Traceback')}")
                print(f"\nnote: {os.cpu_count()} cores run the server (one Python process: scripts take turns on the GIL), "
                      f"{args.sessions} chromium renderers and this driver; latency with many sessions is mostly that contention.")
            finally:
                browser.close()


if __name__ == "__main__":
    main()
