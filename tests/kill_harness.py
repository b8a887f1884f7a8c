"""Kill-at-random for the lead store: a forked worker loads, replaces, saves versions and imports a config until it is SIGKILLed; a checker says what must be there.

Shared by tests/test_kill_store.py and benchmarks/bench_kills.py. ``run_kills(folder, kills)``:

- writes the inputs once (``make_inputs``): a few CSVs of 2,000-3,250 leads (variant k's lead ids
  are ``k<k>-<row>``) and a shipping config with a sign-off (``lead_model.export.config``);
- starts one fresh interpreter, the zygote (``python tests/kill_harness.py zygote FOLDER``), that
  imports lead_model and then only forks workers on request, so a kill costs no Python start-up and
  no worker inherits the caller's state (pytest's process has loaded leads: leads.py's thread pools
  think they have live threads, and a forked load would wait for them forever; DuckDB instances);
- each worker does, chosen at random (seeded): load a new dataset, replace one (load another CSV
  under the same name), save a version, import the config as a version (``lead-model versions save
  --model config.yaml``, run in-process); before each operation it appends its intent to a journal
  (fsync), after it the completion;
- the caller SIGKILLs the worker after a seeded random delay (or once it has entered an aimed phase),
  then opens the store as a fresh process would (``LeadStore(path).connect()`` runs the orphan
  cleanup), checks it (``Checker``), and asks for the next worker.

Where each kill landed is read from a shared page the worker writes as it goes (the operation, and
the phase: read/encode, open, tidy, stage, publish, version insert, close = checkpoint); the wrappers
that write it only pass calls through.
"""

from __future__ import annotations

import csv
import functools
import json
import mmap
import os
import random
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from click.testing import CliRunner

import lead_model.data.leads as leads_module
from lead_model.cli.main import main  # imported here, not in each worker (it registers every command)
from lead_model.data.leads import load_leads
from lead_model.data.store import LeadStore, StoreConnection
from lead_model.export.config import build_config, make_signoff
from lead_model.model.schema import ScoringModel
from lead_model.model.versions import VersionRegistry

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_MODEL = ROOT / "sample_data" / "sample_model.yaml"
OPS = ("load", "replace", "version", "config")
OP_WEIGHTS = (0.2, 0.3, 0.25, 0.25)
KINDS = ("between ops", *OPS)  # marker byte 0: what the worker was doing (0 = between two operations)
PHASES = ("journal", "encode", "read file", "open", "tidy", "stage", "publish", "version insert", "close", "parse model", "cli", "load")
COLUMNS = ("lead_id", "industry", "employees", "page_views", "newsletter", "converted")
# The store's own tables; any other table must be some dataset's.
BOOKKEEPING = {"lead_datasets", "lead_store_meta", "lead_staging", "lead_versions", "lead_live"}
# Half the kills are aimed: the parent waits until the worker enters one of these phases, then kills it within AIM_DELAY.
AIMED = ("read file", "encode", "open", "tidy", "stage", "publish", "version insert", "close")
AIM_DELAY = (0.0, 0.004)  # seconds after the phase began (a checkpoint on close takes a few ms; longer phases get the random kills)
AIM_WAIT = 5.0  # seconds an aimed kill waits for its phase before it kills anyway
# The page the worker writes: [0] the operation (KINDS), [DEPTH] how deep it is in STACK (phases, outermost first),
# [ENTRIES + phase] how many times it entered that phase (mod 256).
DEPTH, ENTRIES, STACK, PAGE = 1, 2, 32, 64
DEFAULT_DELAY = (0.002, 0.6)  # seconds a worker lives before its kill: uniform (an op takes ~50-400 ms on a busy 2-core machine)


# ----- inputs ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Inputs:
    """The files the worker loads and imports, and what the store must hold for each."""

    csvs: tuple[Path, ...]
    signatures: tuple[tuple[int, int], ...]  # per CSV: (rows, order-independent hash of every row with its position)
    model: ScoringModel  # the model versions are saved from (mql_threshold varied per save)
    config: Path  # the shipping config imported as a version
    config_model_json: str  # what a version imported from it keeps


VARIANTS = 6  # CSVs


def make_inputs(folder: Path, seed: int = 0) -> Inputs:
    """Write VARIANTS CSVs and one shipping config (YAML, signed off) into ``folder``; with their signatures."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    csvs = []
    for k in range(VARIANTS):
        path = folder / f"leads_{k}.csv"
        with open(path, "w", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(COLUMNS)
            for i in range(2000 + 250 * k):
                writer.writerow([f"k{k}-{i}", rng.choice(["Software", "Retail", "Education", "Health"]), rng.randint(1, 5000),
                                 rng.randint(0, 40), rng.choice(["true", "false"]), rng.choice(["yes", "no", "no"])])
        csvs.append(path)
    model = ScoringModel.from_file(SAMPLE_MODEL)
    build_config(model, signed=make_signoff("Priya Shah", "Tom Berg", "2025-06-30", "kill test")).to_file(folder / "config.yaml")
    inputs = read_inputs(folder)
    return Inputs(inputs.csvs, tuple(csv_signature(p) for p in inputs.csvs), inputs.model, inputs.config, inputs.config_model_json)


def read_inputs(folder: Path) -> Inputs:
    """The Inputs ``make_inputs`` wrote, without signatures (the zygote opens no DuckDB database before it forks)."""
    config = folder / "config.yaml"
    return Inputs(tuple(folder / f"leads_{k}.csv" for k in range(VARIANTS)), (), ScoringModel.from_file(SAMPLE_MODEL), config,
                  ScoringModel.from_file(config).to_json())


def csv_signature(path: Path) -> tuple[int, int]:
    """(rows, hash) of a CSV read as text by plain DuckDB (not lead_model's reader); the position comes from the lead id."""
    con = duckdb.connect()
    try:
        rows, total = con.execute(
            f"SELECT count(*), sum(hash(CAST(split_part(lead_id, '-', 2) AS BIGINT), {', '.join(COLUMNS)}))::HUGEINT"
            " FROM read_csv(?, all_varchar = true, header = true)", [str(path)]
        ).fetchone()
    finally:
        con.close()
    return int(rows), int(total)


def table_signature(con, table: str) -> tuple[int, int]:
    """The same (rows, hash) of a stored dataset's table, its values cast back to text."""
    cast = ", ".join(f"CAST({c} AS VARCHAR)" for c in COLUMNS)
    rows, total = con.execute(f'SELECT count(*), sum(hash(__row, {cast}))::HUGEINT FROM "{table}"').fetchone()
    return int(rows), int(total or 0)


# ----- the journal -------------------------------------------------------------------------
def journal_append(fd: int, record: dict) -> None:
    """One line per record, one write (a kill cannot cut it), synced before the operation goes on."""
    os.write(fd, (json.dumps(record) + "\n").encode())
    os.fsync(fd)


def journal_read(path: Path, offset: int) -> tuple[list[dict], int]:
    """The whole records after ``offset`` (bytes) and the offset after them."""
    if not path.exists():
        return [], offset
    with open(path, "rb") as fh:
        fh.seek(offset)
        data = fh.read()
    end = data.rfind(b"\n") + 1
    return [json.loads(line) for line in data[:end].splitlines() if line], offset + end


# ----- the worker --------------------------------------------------------------------------
def _enter(marker: mmap.mmap, phase: str, push: bool = False) -> None:
    """Say the worker is in ``phase``: in place of the innermost phase, or inside it (``push``)."""
    code = PHASES.index(phase)
    depth = marker[DEPTH]
    if push or depth == 0:
        depth += 1
    marker[STACK + depth - 1] = code
    marker[DEPTH] = depth
    marker[ENTRIES + code] = (marker[ENTRIES + code] + 1) % 256  # the parent aiming at this phase waits for a change


def phase_path(marker: mmap.mmap) -> str:
    """Where the worker is, outermost store step first: 'publish > close' is the checkpoint as publish's connection closes.

    The operation's own frame (read file/encode, parse model, cli) is named only when no store step runs inside it.
    """
    frames = [PHASES[marker[STACK + i]] for i in range(marker[DEPTH])]
    return " > ".join(frames[1:] if len(frames) > 1 else frames)


def _instrument(marker: mmap.mmap) -> None:
    """Wrap the store's steps so the shared page says which one runs (the wrappers only pass calls through)."""

    def wrap(owner, attr: str, phase: str, after: str | None = None) -> None:
        original = getattr(owner, attr)

        @functools.wraps(original)
        def wrapped(*args, **kwargs):
            depth = marker[DEPTH]
            _enter(marker, phase, push=True)
            try:
                return original(*args, **kwargs)
            finally:
                marker[DEPTH] = depth
                if after is not None:
                    _enter(marker, after)

        setattr(owner, attr, wrapped)

    wrap(leads_module, "read_file", "read file", after="encode")  # load_leads encodes the rows right after reading them
    wrap(LeadStore, "connect", "open")
    wrap(LeadStore, "_drop_abandoned", "tidy")
    wrap(LeadStore, "stage", "stage")
    wrap(LeadStore, "publish", "publish")
    wrap(LeadStore, "transaction", "version insert")
    wrap(StoreConnection, "close", "close")
    wrap(ScoringModel, "from_file", "parse model")


def _import_config(store: Path, config: Path, name: str) -> int:
    """What `lead-model versions save --model config.yaml --name NAME --store STORE` does, run in this process; the version id it prints."""
    result = CliRunner().invoke(main, ["versions", "save", "--model", str(config), "--name", name, "--store", str(store)], catch_exceptions=True)
    if result.exit_code != 0:
        raise RuntimeError(f"versions save failed ({result.exit_code}): {result.output}") from result.exception
    return int(result.output.strip().splitlines()[-1])


def _work(store: Path, journal: Path, inputs: Inputs, datasets: dict[str, int], seq: int, seed: int, marker: mmap.mmap) -> None:
    """Do operations on ``store`` until killed; ``datasets``: name -> CSV index of what the store holds now."""
    rng = random.Random(seed)
    datasets = dict(datasets)
    registry = VersionRegistry(store)
    fd = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    variants = range(len(inputs.csvs))
    while True:
        op = rng.choices(OPS, OP_WEIGHTS)[0]
        if op == "replace" and not datasets:
            op = "load"
        record: dict = {"seq": seq, "ev": "intent", "op": op}
        if op == "load":
            record.update(name=f"d{seq}", variant=rng.choice(variants))
        elif op == "replace":
            name = rng.choice(sorted(datasets))
            record.update(name=name, variant=rng.choice([v for v in variants if v != datasets[name]]))
        else:
            record.update(name=f"{op[0]}{seq}", mql_threshold=seq + 1)
        journal_append(fd, record)
        marker[0], marker[DEPTH] = KINDS.index(op), 0
        _enter(marker, "load" if op in ("load", "replace") else "cli" if op == "config" else "parse model")
        done: dict = {"seq": seq, "ev": "done"}
        if op in ("load", "replace"):
            load_leads(inputs.csvs[record["variant"]], "converted", store=store, name=record["name"])
            datasets[record["name"]] = record["variant"]
        elif op == "version":
            done["id"] = registry.save(inputs.model.replace(mql_threshold=record["mql_threshold"]), record["name"], author="kill test",
                                       notes=f"save {seq}").id
        else:
            done["id"] = _import_config(store, inputs.config, record["name"])
        marker[DEPTH] = 0
        _enter(marker, "journal")
        journal_append(fd, done)
        marker[0], marker[DEPTH] = 0, 0
        seq += 1


# ----- breaking the store on purpose (tests of the checker) -----------------------------------
def _publish_in_two_transactions() -> None:
    """Publish takes the old dataset out (row and table) and commits before it puts the new one in: what LeadStore.publish must not do.

    The gap between the two is widened (0.3 s) so a kill lands in it within a few kills.
    """
    publish = LeadStore.publish

    def split(self, table_name, name, source, rows, settings=None):
        con = self.connect()
        try:
            for (old,) in con.execute("SELECT tbl FROM lead_datasets WHERE name = ?", [name]).fetchall():
                con.execute(f'DROP TABLE IF EXISTS "{old}"')
            con.execute("DELETE FROM lead_datasets WHERE name = ?", [name])
        finally:
            con.close()
        time.sleep(0.3)
        return publish(self, table_name, name, source, rows, settings)

    LeadStore.publish = split


def _stage_one_row_short() -> None:
    stage = LeadStore.stage
    LeadStore.stage = lambda self, table, threads=None: stage(self, table.slice(0, table.num_rows - 1), threads)


def _save_another_model() -> None:
    save = VersionRegistry.save
    VersionRegistry.save = lambda self, model, name, **kw: save(self, model.replace(mql_threshold=model.mql_threshold + 1), name, **kw)


# Run in each worker before it starts, by name (the worker is forked by the zygote, another process).
SABOTAGES: dict[str, Callable[[], None]] = {
    "publish in two transactions": _publish_in_two_transactions,
    "stage one row short": _stage_one_row_short,
    "save another model": _save_another_model,
}


# ----- the zygote ----------------------------------------------------------------------------
def _zygote(folder: Path) -> None:
    """Fork a worker per request on stdin (a JSON line), answer its pid; reap one on request, answer its wait status."""
    inputs = read_inputs(folder / "inputs")
    store, journal = folder / "store.duckdb", folder / "journal.jsonl"
    with open(folder / "marker.bin", "r+b") as fh:
        marker = mmap.mmap(fh.fileno(), PAGE)  # shared with the caller and the workers
    for line in sys.stdin:
        request = json.loads(line)
        if request["cmd"] == "reap":
            _, status = os.waitpid(request["pid"], 0)
            answer = {"status": status}
        else:
            pid = os.fork()
            if pid == 0:  # the worker: never returns
                try:
                    for name in filter(None, (request["sabotage"] or "").split(" + ")):
                        SABOTAGES[name]()
                    _instrument(marker)  # after the sabotage, so its replacements are marked too
                    _work(store, journal, inputs, request["datasets"], request["seq"], request["seed"], marker)
                except BaseException:  # noqa: BLE001 - said in the journal, for the checker
                    fd = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                    journal_append(fd, {"ev": "error", "error": traceback.format_exc()})
                finally:
                    os._exit(3)
            answer = {"pid": pid}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


class Zygote:
    """The fresh interpreter that forks the workers (``python tests/kill_harness.py zygote FOLDER``)."""

    def __init__(self, folder: Path):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
        self._stderr = open(folder / "zygote.err", "wb")
        self._proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "zygote", str(folder)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=self._stderr, text=True, env=env)

    def _ask(self, request: dict) -> dict:
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the zygote ended: {(Path(self._stderr.name)).read_text()[-2000:]}")
        return json.loads(line)

    def fork(self, seed: int, seq: int, datasets: dict[str, int], sabotage: str | None) -> int:
        return self._ask({"cmd": "fork", "seed": seed, "seq": seq, "datasets": datasets, "sabotage": sabotage})["pid"]

    def reap(self, pid: int) -> int:
        return self._ask({"cmd": "reap", "pid": pid})["status"]

    def close(self) -> None:
        self._proc.stdin.close()
        self._proc.wait(timeout=60)
        self._stderr.close()


# ----- the checker -------------------------------------------------------------------------
@dataclass
class Checker:
    """What the store must hold, from the journal; ``check()`` after each kill lists what is wrong (empty: all is well).

    A completed load must be listed with exactly its CSV's rows (the one it last completed under
    that name); the load in flight at the kill may have landed or not (either is fine, then that is
    what the store holds). A completed version save must be listed and equal; the one in flight may
    exist once, equal to what it saved. Every table is some dataset's or the store's own, no dataset
    names a missing table, ``lead_staging`` is empty after the open.
    """

    store: Path
    journal: Path
    inputs: Inputs
    datasets: dict[str, int] = field(default_factory=dict)  # name -> CSV index the store must hold
    versions: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (name, model JSON)
    verified: dict[str, str] = field(default_factory=dict)  # dataset -> table whose rows were checked (a table's rows never change)
    offset: int = 0
    next_seq: int = 0
    in_flight: dict | None = None  # the intent the last kill cut

    def _expected_json(self, intent: dict) -> str:
        if intent["op"] == "config":
            return self.inputs.config_model_json
        return self.inputs.model.replace(mql_threshold=intent["mql_threshold"]).to_json()

    def read_journal(self) -> list[str]:
        """Take in the records written since the last check; the completions apply, the last intent left open is in flight."""
        records, self.offset = journal_read(self.journal, self.offset)
        problems, pending = [], {}
        for r in records:
            if r["ev"] == "intent":
                pending[r["seq"]] = r
                self.next_seq = r["seq"] + 1
            elif r["ev"] == "done":
                intent = pending.pop(r["seq"])
                if intent["op"] in ("load", "replace"):
                    self.datasets[intent["name"]] = intent["variant"]
                else:
                    self.versions[r["id"]] = (intent["name"], self._expected_json(intent))
            else:
                problems.append(f"the worker failed: {r.get('error')}")
        if len(pending) > 1:
            problems.append(f"intents {sorted(pending)} were left open; only the last one can have been cut by the kill")
        self.in_flight = next(iter(pending.values()), None)
        return problems

    def check(self, full: bool = False) -> list[str]:
        """Open the store as a fresh process would and compare it with the journal; ``full`` checks every dataset's rows again."""
        problems = self.read_journal()
        flying = self.in_flight or {}
        try:
            con = LeadStore(self.store).connect()  # runs the orphan cleanup
        except Exception as exc:  # noqa: BLE001 - any failure to open is the finding
            return problems + [f"the store does not open: {type(exc).__name__}: {exc}"]
        try:
            listed = {r[0]: (r[1], r[2], r[3]) for r in con.execute("SELECT name, tbl, source, rows FROM lead_datasets").fetchall()}
            tables = {r[0] for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'").fetchall()}
            staging = [r[0] for r in con.execute("SELECT tbl FROM lead_staging").fetchall()]
            sources = {str(p): k for k, p in enumerate(self.inputs.csvs)}
            # orphans and dangling rows
            orphans = sorted(tables - BOOKKEEPING - {t for t, _, _ in listed.values()})
            if orphans:
                problems.append(f"orphan tables no dataset lists after the next open: {orphans}")
            if staging:
                problems.append(f"lead_staging still records {staging} after the next open")
            dangling = sorted(n for n, (t, _, _) in listed.items() if t not in tables)
            if dangling:
                problems.append(f"datasets {dangling} name a table that does not exist")
            # datasets
            for name in sorted(set(self.datasets) | set(listed) | ({flying["name"]} if flying.get("op") in ("load", "replace") else set())):
                want = self.datasets.get(name)
                allowed = {want}
                if flying.get("op") in ("load", "replace") and flying["name"] == name:
                    allowed.add(flying["variant"])
                if name not in listed:
                    if None not in allowed:
                        problems.append(f"dataset '{name}' is lost (its load of {self.inputs.csvs[want].name} completed)")
                    continue
                tbl, source, rows = listed[name]
                got = sources.get(source)
                if got not in allowed:
                    what = sorted(self.inputs.csvs[a].name if a is not None else "absent" for a in allowed)
                    problems.append(f"dataset '{name}' holds {source}; allowed: {what}")
                    continue
                if tbl in tables and (full or self.verified.get(name) != tbl):
                    signature = table_signature(con, tbl)
                    if signature != self.inputs.signatures[got] or rows != signature[0]:
                        problems.append(f"dataset '{name}' ({tbl}) has rows {signature} (listed {rows}); {source} has {self.inputs.signatures[got]}")
                    else:
                        self.verified[name] = tbl
                self.datasets[name] = got  # the in-flight load is settled by what the store holds
            versions = {}
            if "lead_versions" in tables:
                versions = {r[0]: (r[1], r[2]) for r in con.execute("SELECT id, name, model FROM lead_versions").fetchall()}
        finally:
            con.close()
        if full:  # through the public reader too: what 'lead-model versions list' would show
            try:
                versions = {v.id: (v.name, v.model_json) for v in VersionRegistry(self.store).list(include_archived=True)}
            except Exception as exc:  # noqa: BLE001
                return problems + [f"the versions do not read: {type(exc).__name__}: {exc}"]
        return problems + self._check_versions(versions, flying)

    def _check_versions(self, listed: dict[int, tuple[str, str]], flying: dict) -> list[str]:
        problems = []
        for vid, (name, model_json) in self.versions.items():
            got = listed.pop(vid, None)
            if got is None:
                problems.append(f"version {vid} '{name}' is lost (its save completed)")
            elif got != (name, model_json):
                problems.append(f"version {vid} reads back as '{got[0]}' with another model than '{name}' was saved with")
        if flying.get("op") in ("version", "config"):
            landed = [vid for vid, (name, _) in listed.items() if name == flying["name"]]
            if len(landed) == 1 and listed[landed[0]][1] == self._expected_json(flying):
                self.versions[landed[0]] = listed.pop(landed[0])  # settled: it committed before the kill
        for vid, (name, _) in listed.items():
            problems.append(f"version {vid} '{name}' is in the store but no save of it completed or was in flight")
        return problems


# ----- the run -----------------------------------------------------------------------------
@dataclass
class KillRun:
    """What a run did: kills by kind of operation and by phase, operations completed, checks, problems found, seconds."""

    kills: int = 0
    by_kind: Counter = field(default_factory=Counter)
    by_phase: Counter = field(default_factory=Counter)  # "<kind>: <phase>" where the kill landed
    aimed: Counter = field(default_factory=Counter)  # phase -> kills aimed at it
    completed: Counter = field(default_factory=Counter)
    checks: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    datasets: int = 0
    versions: int = 0

    def landed(self) -> Counter:
        """Kills per phase they landed in, counting every phase of the path ('publish > close' counts for both)."""
        return Counter(phase for path, n in self.by_phase.items() for phase in path.split(": ")[-1].split(" > ") for _ in range(n))

    def lines(self) -> list[str]:
        kinds = ", ".join(f"{k} {self.by_kind[k]}" for k in KINDS)
        phases = ", ".join(f"{p} {n}" for p, n in self.by_phase.most_common())
        done = ", ".join(f"{k} {self.completed[k]}" for k in OPS)
        aimed = ", ".join(f"{p} {self.aimed[p]}" for p in AIMED)
        landed = self.landed()
        return [f"kills: {self.kills} ({kinds})", f"kills aimed at a phase: {aimed}",
                f"kills by the phase they landed in: {', '.join(f'{p} {n}' for p, n in landed.most_common())}",
                f"kills by kind and phase: {phases}", f"operations completed: {done}",
                f"checks: {self.checks}, problems: {len(self.problems)}; store at the end: {self.datasets} datasets, {self.versions} versions",
                f"seconds: {self.seconds:.1f}"]


def run_kills(folder: Path, kills: int = 200, seed: int = 12, delay: tuple[float, float] = DEFAULT_DELAY,
              sabotage: str | None = None, stop_when: Callable[[list[str]], bool] | None = None, aimed: bool = True) -> KillRun:
    """Kill a worker ``kills`` times on one store in ``folder``, checking the store after every kill and fully at the end.

    ``sabotage`` names SABOTAGES entries (joined by ' + ') each worker runs before it starts (breaking
    the product on purpose, to see the checker catch it); the run ends early once ``stop_when(problems)``. The store is ``folder/store.duckdb``, the journal
    ``folder/journal.jsonl``. With ``aimed`` half the kills (every other one) are aimed at a phase of
    AIMED in turn, the others come after a random ``delay`` (seconds).
    """
    start = time.perf_counter()
    inputs = make_inputs(folder / "inputs", seed=seed)
    store, journal = folder / "store.duckdb", folder / "journal.jsonl"
    (folder / "marker.bin").write_bytes(bytes(PAGE))
    with open(folder / "marker.bin", "r+b") as fh:
        marker = mmap.mmap(fh.fileno(), PAGE)
    checker = Checker(store, journal, inputs)
    rng = random.Random(seed)
    run = KillRun()
    zygote = Zygote(folder)
    try:
        for k in range(kills):
            marker[0], marker[DEPTH] = 0, 0
            worker_seed = rng.randrange(2**32)
            aim = AIMED[(k // 2) % len(AIMED)] if aimed and k % 2 else None
            entries = marker[ENTRIES + PHASES.index(aim)] if aim else 0
            pid = zygote.fork(worker_seed, checker.next_seq, checker.datasets, sabotage)
            if aim is None:
                time.sleep(rng.uniform(*delay))
            else:
                deadline = time.monotonic() + AIM_WAIT
                while marker[ENTRIES + PHASES.index(aim)] == entries and time.monotonic() < deadline:
                    time.sleep(0.0005)
                time.sleep(rng.uniform(*AIM_DELAY))
                run.aimed[aim] += 1
            os.kill(pid, signal.SIGKILL)  # the zygote has not reaped it yet, so the pid is still the worker's (or its zombie)
            status = zygote.reap(pid)
            run.kills += 1
            run.by_kind[KINDS[marker[0]]] += 1
            run.by_phase[f"{KINDS[marker[0]]}: {phase_path(marker)}" if marker[0] else "between ops"] += 1
            if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL):
                run.problems.append(f"kill {k + 1}: the worker ended by itself (status {status})")
            found = checker.check(full=k == kills - 1)
            run.checks += 1
            run.problems += [f"kill {k + 1}: {p}" for p in found]
            if stop_when is not None and stop_when(run.problems):
                break
    finally:
        zygote.close()
    records, _ = journal_read(journal, 0)
    intents = {r["seq"]: r["op"] for r in records if r["ev"] == "intent"}
    run.completed.update(intents[r["seq"]] for r in records if r["ev"] == "done")
    run.datasets, run.versions = len(checker.datasets), len(checker.versions)
    run.seconds = time.perf_counter() - start
    return run


if __name__ == "__main__" and sys.argv[1:2] == ["zygote"]:
    _zygote(Path(sys.argv[2]))
