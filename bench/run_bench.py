"""Measures ingest and detector speed and memory against the alternatives, on one corpus, in one run.

usage: run_bench.py [EVENTS]

  EVENTS  background events in the corpus, default 2000000 (`make bench`); `make bench-quick`
          uses 100000

Every measurement is a separate process, run twice: once for its wall time, with nothing
else watching it, and once for the peak memory of its whole process tree (the sum of each
process's PSS, read from /proc every 0.1 s; reading it takes CPU time from the measured
process, about 1 s in 20 s of ingest). /usr/bin/time -v's maximum resident set of the
largest single process is taken from the timed run when that tool exists. The users'
recipe (2a, 2b) runs once, with the memory sampler: its jq step takes most of its time
and is not measurably slowed. The corpus is cached in bench/corpus-EVENTS/,
scratch databases go to bench/results/work-EVENTS/ (removed at the end) and the table to
bench/results/bench-YY-MM-DD-HH-MM.md (logs of every process beside it). A run with the
default size also puts the table in the performance section of bench/README.md and README.md
(between <!-- bench:start --> and <!-- bench:end -->). bench/README.md explains every row.

environment:
  BENCH_DIR      folder for corpus/ and results/ instead of bench/ (the test uses a tmp folder)
  BENCH_TIMEOUT  seconds before a measurement is stopped, default 3600

exit status: 0 the benchmark ran (whether or not targets were met), 1 it could not run,
2 bad arguments.
"""
import importlib.metadata
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import orjson

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import generate_corpus  # noqa: E402

DEFAULT_EVENTS = 2_000_000
TARGET_EVENTS = 2_000_000           # the targets are stated for this size
SEED = 1
ADDITIONS_SEED = 2                  # another seed gives new event ids
SAMPLE_SECONDS = 0.1   # reading PSS walks page tables: sampled less often than RSS could be
PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1_000_000                      # DuckDB's units: memory_limit=2GB is 2 * 10^9 bytes
DEFAULT_LIMIT, SMALL_LIMIT = "2GB", "512MB"     # CLOUDTRAIL_MEMORY_LIMIT of 1a-1c, and of 1d
DEFAULT_LIMIT_MB, SMALL_LIMIT_MB = 2000, 512
GNU_TIME = "/usr/bin/time"
RECIPE = "find AWSLogs -name '*.json.gz' ! -path '*/CloudTrail-Digest/*' -print0 | xargs -0 gzip -dc | jq -c '.Records[]'"


@dataclass
class Run:
    """One process run: how it ended, how long it took, how much memory its tree held."""
    exit_code: int | None
    seconds: float
    peak_mb: float
    time_mb: float | None
    stdout: str
    stderr: str
    timed_out: bool = False


@dataclass
class Row:
    key: str
    label: str
    seconds: float | None = None
    events: int | None = None          # events the rate is computed on; None: no rate
    peak_mb: float | None = None
    time_mb: float | None = None
    ok: bool = False
    notes: str = ""

    def rate(self):
        if self.ok and self.events and self.seconds:
            return self.events / self.seconds
        return None


# ---------------------------------------------------------------- measuring one process

def ppid_of(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses; the fields after the last ')' do not.
    return int(text[text.rindex(b")") + 2:].split()[1])


def rss_of(pid):
    """The process's proportional set size (shared pages split among the processes sharing
    them, so a tree's sum is what it holds), or its RSS where smaps_rollup is missing."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


class TreeSampler(threading.Thread):
    """Samples the summed memory (PSS) of a process and all its descendants; keeps the peak.

    Forked parser processes share their parent's pages until they write them: summing RSS
    would count those pages once per process, PSS counts each page once.
    """

    def __init__(self, root):
        super().__init__(daemon=True)
        self.root = root
        self.peak = 0
        self.parents = {}
        self.finished = threading.Event()

    def run(self):
        while True:
            self.sample()
            if self.finished.wait(SAMPLE_SECONDS):
                return

    def sample(self):
        pids = {int(name) for name in os.listdir("/proc") if name.isdigit()}
        parents = self.parents
        for gone in parents.keys() - pids:
            del parents[gone]
        # Only processes not seen before are read for their parent: a scan stays cheap.
        for pid in pids - parents.keys():
            parents[pid] = ppid_of(pid)
        children = {}
        for pid, ppid in parents.items():
            children.setdefault(ppid, []).append(pid)
        total, stack = 0, [self.root]
        while stack:
            pid = stack.pop()
            total += rss_of(pid)
            stack.extend(children.get(pid, ()))
        self.peak = max(self.peak, total)


def gnu_time_works():
    if not os.access(GNU_TIME, os.X_OK):
        return False
    probe = subprocess.run([GNU_TIME, "-v", "true"], capture_output=True, text=True)
    return probe.returncode == 0 and "Maximum resident set size" in probe.stderr


def measure(command, env, logs, name, cwd=None):
    """Runs command to completion (or BENCH_TIMEOUT); samples its process tree's memory when
    SAMPLE_MEMORY is set (peak_mb is None otherwise)."""
    logs.mkdir(parents=True, exist_ok=True)
    if SAMPLE_MEMORY:
        name += ".memory"
    time_file = logs / f"{name}.time"
    if USE_GNU_TIME:
        command = [GNU_TIME, "-v", "-o", str(time_file)] + list(command)
    out_path, err_path = logs / f"{name}.out", logs / f"{name}.err"
    timeout = float(os.environ.get("BENCH_TIMEOUT") or 3600)
    timed_out = False
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.monotonic()
        # Its own session, so a measurement that overruns is stopped with all its children.
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd, start_new_session=True)
        sampler = TreeSampler(process.pid)
        if SAMPLE_MEMORY:
            sampler.start()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(process.pid, 9)
            process.wait()
        seconds = time.monotonic() - started
        if SAMPLE_MEMORY:
            sampler.finished.set()
            sampler.join()
    time_mb = None
    if USE_GNU_TIME and time_file.exists():
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_file.read_text(errors="replace"))
        time_mb = int(found.group(1)) * 1024 / MB if found else None
    peak_mb = sampler.peak / MB if SAMPLE_MEMORY else None
    return Run(process.returncode, seconds, peak_mb, time_mb,
               out_path.read_text(errors="replace"), err_path.read_text(errors="replace"), timed_out)


def failure(run):
    """Why a process failed, in one line."""
    if run.timed_out:
        return f"stopped after BENCH_TIMEOUT ({run.seconds:.0f} s)"
    lines = [line for line in run.stderr.splitlines()
             if line.strip() and not line.startswith(("\tCommand being timed", "Command exited"))]
    signal = f"killed by signal {-run.exit_code}" if run.exit_code and run.exit_code < 0 else f"exit {run.exit_code}"
    return f"{signal}: {lines[-1].strip()[:200]}" if lines else signal


def row_from(key, label, run, events=None, notes=""):
    ok = run.exit_code == 0 and not run.timed_out
    return Row(key, label, run.seconds, events, run.peak_mb, run.time_mb, ok, notes if ok else failure(run))


# ---------------------------------------------------------------- the measurements

def clean_env(output_dir, **settings):
    """The caller's environment without CLOUDTRAIL_* settings, which would change what is measured."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLOUDTRAIL_")}
    env["CLOUDTRAIL_OUTPUT_DIR"] = str(output_dir)
    env.update({key: str(value) for key, value in settings.items()})
    return env


def remove_database(path):
    for extra in ("", ".wal", ".tmp"):
        target = Path(str(path) + extra)
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        elif target.exists():
            target.unlink()


def ingest_notes(stdout):
    """The ingest's own summary of a run, shortened: what it read, stored and skipped."""
    events = re.search(r"events: ([\d,]+) read, ([\d,]+) new, ([\d,]+) already stored", stdout)
    files = re.search(r"files: ([\d,]+) loaded, .*?([\d,]+) skipped, ([\d,]+) failed, ([\d,]+) unchanged", stdout)
    parts = []
    if events:
        parts.append(f"{events.group(1)} read, {events.group(2)} new, {events.group(3)} already stored")
    if files:
        parts.append(f"files: {files.group(1)} loaded, {files.group(2)} skipped, {files.group(3)} failed, "
                     f"{files.group(4)} unchanged")
    return "; ".join(parts) or "ran (summary not recognised)"


def ingest(key, label, db, inputs, work, limit, events):
    env = clean_env(work / "reports", CLOUDTRAIL_MEMORY_LIMIT=limit)
    run = measure([sys.executable, str(REPO / "analyze_ingest.py"), str(db), *map(str, inputs)], env,
                  work / "logs", key)
    return row_from(key, label, run, events, f"memory_limit {limit}; " + ingest_notes(run.stdout))


def detectors():
    """The detector scripts, one per area of rules.AREAS (the areas analyze_hunt.py runs)."""
    sys.path.insert(0, str(REPO))
    import rules
    return sorted(path for path in (REPO / f"analyze_{name}.py" for name in rules.AREAS) if path.is_file())


def detector_rows(db, work, events):
    env = clean_env(work / "reports")
    rows = []
    for path in detectors():
        run = measure([sys.executable, str(path), str(db)], env, work / "logs", path.stem)
        first = run.stdout.strip().splitlines()[0] if run.stdout.strip() else "ran"
        rows.append(row_from("4", path.name, run, events, first.removeprefix(f"{path.name}: ")[:160]))
    hunt = REPO / "analyze_hunt.py"
    if hunt.exists():
        run = measure([sys.executable, str(hunt), str(db)], env, work / "logs", "hunt")
        label = "all detectors (analyze_hunt.py)"
    else:
        chain = "; ".join(shlex.join([sys.executable, str(path), str(db)]) for path in detectors())
        run = measure(["bash", "-c", chain], env, work / "logs", "all_detectors")
        label = "all detectors, one after another"
    rows.append(row_from("4", label, run, events, f"{len(detectors())} detectors"))
    return rows


def key_loss(result, originals):
    """Record key paths present in the corpus that a table's types cannot hold."""
    covered = set(result["covered"])
    open_paths = set(result["open"])

    def kept(path):
        parts = path.split(".")
        return path in covered or any(".".join(parts[:n]) in open_paths for n in range(1, len(parts)))

    return sorted(path for path in originals if not kept(path))


def loss_note(lost, originals):
    if not lost:
        return f"every one of {len(originals)} distinct record keys kept"
    return (f"{len(lost)} of {len(originals)} distinct record keys dropped, e.g. "
            + ", ".join(f"`{path}`" for path in lost[:3]))


def alternative(key, label, mode, db, source, work, events, originals, log_name):
    run = measure([sys.executable, str(BENCH / "alternatives.py"), mode, str(db), str(source)],
                  clean_env(work / "reports"), work / "logs", log_name)
    remove_database(db)
    row = row_from(key, label, run, events)
    if not row.ok:
        return row
    try:
        result = orjson.loads(run.stdout.strip().splitlines()[-1])
    except (IndexError, orjson.JSONDecodeError):
        row.ok, row.notes = False, "no result line from alternatives.py"
        return row
    if not result["ok"]:
        row.ok, row.notes = False, f"failed after {run.seconds:.1f} s: {result['error'][:240]}"
        return row
    lost = key_loss(result, originals)
    row.notes = f"{result['rows']:,} rows; " + loss_note(lost, originals)
    return row


def recipe_rows(corpus, work, events, originals):
    """The users' recipe: jq to one NDJSON file, then read_json_auto, as written and with sample_size=-1.

    jq runs once; both loads read its output, and each row's time and memory is jq's plus the load's.
    """
    label_a = "users' recipe as written: jq, then read_json_auto"
    label_b = "users' recipe with read_json_auto(..., sample_size=-1)"
    if not shutil.which("jq"):
        note = "jq not found on PATH (install it, e.g. with `make jq`)"
        return [Row("2a", label_a, notes=note), Row("2b", label_b, notes=note)]
    ndjson = work / "events.ndjson"
    command = f"set -o pipefail; {RECIPE} > {shlex.quote(str(ndjson))}"
    jq_run = measure(["bash", "-c", command], clean_env(work / "reports"), work / "logs", "recipe_jq", cwd=corpus)
    rows = []
    for key, label, mode in (("2a", label_a, "recipe"), ("2b", label_b, "recipe-all")):
        if jq_run.exit_code != 0 or jq_run.timed_out:
            rows.append(Row(key, label, jq_run.seconds, None, jq_run.peak_mb, jq_run.time_mb, False,
                            "jq step " + failure(jq_run)))
            continue
        row = alternative(key, label, mode, work / f"{mode}.duckdb", ndjson, work, events, originals, f"recipe_{mode}")
        load_seconds = row.seconds
        row.seconds += jq_run.seconds
        row.peak_mb = max(row.peak_mb or 0, jq_run.peak_mb or 0) or None
        if row.time_mb is not None and jq_run.time_mb is not None:
            row.time_mb = max(row.time_mb, jq_run.time_mb)
        row.notes = f"jq {jq_run.seconds:.1f} s + DuckDB {load_seconds:.1f} s; {row.notes}"
        rows.append(row)
    ndjson.unlink(missing_ok=True)
    return rows


def database_events(db, default):
    """Events stored in db (the detectors' rate is over them), or default when it cannot be read."""
    import duckdb
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return default
    try:
        return con.execute("select count(*) from events").fetchall()[0][0]
    except duckdb.Error:
        return default
    finally:
        con.close()


def measure_ingest_and_alternatives(tree, additions, work, records, added, originals):
    """1a-1d, the detectors (4) and the direct DuckDB loads (3, 3b), in the order their state needs."""
    rows = {}

    def note(row):
        rows.setdefault(row.key, []).append(row)
        memory = f", {row.peak_mb:,.0f} MB" if row.peak_mb is not None else ""
        print(f"  {row.key} {row.label}: {row.seconds or 0:.1f} s{memory}, {row.notes}", file=sys.stderr)

    db = work / "ingest.db"
    remove_database(db)
    note(ingest("1a", "project ingest, first run", db, [tree], work, DEFAULT_LIMIT, records))
    note(ingest("1b", "project ingest, rerun over the unchanged tree", db, [tree], work, DEFAULT_LIMIT, None))
    stored = database_events(db, records)
    for row in detector_rows(db, work, stored):
        note(row)
    add_inputs = [additions / "AWSLogs", additions / "redelivered", additions / "copied"]
    note(ingest("1c", f"project ingest, adding {added['records']:,} events to that database", db, add_inputs,
                work, DEFAULT_LIMIT, added["records"]))
    rows["1c"][0].notes += (f" (given: {added['new_records']:,} new records, {added['duplicate_records']:,} "
                            f"repeats in {added['redelivered_files']} rewritten files, 1 byte-identical copy "
                            f"of a loaded file)")
    remove_database(db)
    note(ingest("1d", "project ingest, first run, memory_limit 512MB", db, [tree], work, SMALL_LIMIT, records))
    remove_database(db)
    note(alternative("3", "DuckDB read_json, explicit schema, on the .json.gz files", "explicit",
                     work / "explicit.duckdb", tree, work, records, originals, "explicit"))
    note(alternative("3b", "DuckDB read_json_auto on the .json.gz files", "auto",
                     work / "auto.duckdb", tree, work, records, originals, "auto"))
    return rows


def with_memory(timed, sampled):
    """The timed pass's rows, each given the peak memory of the same step in the sampled pass."""
    for key, timed_rows in timed.items():
        for timed_row, sampled_row in zip(timed_rows, sampled.get(key, [])):
            timed_row.peak_mb = sampled_row.peak_mb
            if timed_row.ok and not sampled_row.ok:
                timed_row.notes += f" (the memory run failed: {sampled_row.notes})"
    return timed


def run_all(events, bench_dir):
    global SAMPLE_MEMORY
    corpus = bench_dir / f"corpus-{events}"
    additions = bench_dir / f"corpus-{events}-additions"
    results = bench_dir / "results"
    work = results / f"work-{events}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    print(f"corpus: {corpus} ({events:,} events; generated once, then reused)", file=sys.stderr)
    manifest = generate_corpus.ensure_corpus(corpus, events, SEED)
    added = generate_corpus.ensure_additions(additions, corpus, max(events // 10, 100), ADDITIONS_SEED)
    originals = generate_corpus.corpus_key_paths(corpus)
    records = manifest["records"]
    tree = corpus / "AWSLogs"
    steps = (tree, additions, work, records, added, originals)
    print("timing (each measurement is its own process, nothing samples it):", file=sys.stderr)
    SAMPLE_MEMORY = False
    timed = measure_ingest_and_alternatives(*steps)
    print("memory (the same steps again, their process trees sampled):", file=sys.stderr)
    SAMPLE_MEMORY = True
    rows = with_memory(timed, measure_ingest_and_alternatives(*steps))
    print("the users' recipe (once, sampled):", file=sys.stderr)
    for row in recipe_rows(corpus, work, records, originals):
        rows.setdefault(row.key, []).append(row)
        print(f"  {row.key} {row.label}: {row.seconds or 0:.1f} s, {row.notes}", file=sys.stderr)
    return rows, manifest, added, work


# ---------------------------------------------------------------- the report

ORDER = ("1a", "1b", "1c", "1d", "2a", "2b", "3", "3b", "4")


def number(value, digits=1):
    return "-" if value is None else f"{value:,.{digits}f}"


def table(rows):
    lines = ["| | measurement | wall s | events/s | peak MB (process tree, PSS) | max RSS MB (time -v) | result / notes |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for key in ORDER:
        for row in rows.get(key, []):
            status = "" if row.ok else "**not measured**: " if row.seconds is None else "**not completed**: "
            notes = (status + row.notes).replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {row.key} | {row.label} | {number(row.seconds)} | {number(row.rate(), 0)} | "
                         f"{number(row.peak_mb, 0)} | {number(row.time_mb, 0)} | {notes} |")
    return lines


def first(rows, key):
    found = rows.get(key)
    return found[0] if found else None


def ratio_lines(rows):
    base = first(rows, "1a")
    lines = []
    for key, name in (("2a", "the users' recipe as written"), ("2b", "the recipe with sample_size=-1"),
                      ("3", "DuckDB read_json with an explicit schema")):
        other = first(rows, key)
        if not base or not base.ok:
            lines.append(f"- {key}: no ratio, the ingest (1a) did not complete")
        elif other is None or other.seconds is None:
            lines.append(f"- {key} ({name}): not measured: {other.notes if other else 'missing'}")
        elif not other.ok:
            lines.append(f"- {key} ({name}): did not complete (after {other.seconds:.1f} s); no ratio")
        else:
            speed = other.seconds / base.seconds
            word = "faster" if speed >= 1 else "slower"
            shown = speed if speed >= 1 else 1 / speed
            lines.append(f"- 1a against {key} ({name}): {base.seconds:.1f} s against {other.seconds:.1f} s, "
                         f"the ingest is {shown:.1f}x {word}; memory {number(base.peak_mb, 0)} MB against "
                         f"{number(other.peak_mb, 0)} MB")
    return lines


def targets(rows, events):
    """(target, measured, verdict) for each of the issue's targets."""
    a, b, c, d = (first(rows, key) for key in ("1a", "1b", "1c", "1d"))
    explicit = first(rows, "3")
    recipe = next((row for row in (first(rows, "2a"), first(rows, "2b")) if row and row.ok), None)
    hunt = rows.get("4", [])[-1:] or [None]
    hunt = hunt[0]

    def verdict(condition, *needed):
        if any(row is None or not row.ok for row in needed):
            return "not measured"
        return "met" if condition() else "not met"

    out = [
        ("ingest at least 110,000 events/s (1a)", f"{number(a.rate() if a else None, 0)} events/s",
         verdict(lambda: a.rate() >= 110_000, a)),
        ("ingest never slower than DuckDB read_json with a schema (1a vs 3)",
         f"{number(a and a.seconds)} s vs {number(explicit and explicit.seconds)} s",
         verdict(lambda: a.seconds <= explicit.seconds, a, explicit)),
        ("ingest at least 8x faster than the users' recipe (1a vs 2a, or 2b when 2a fails)",
         f"{recipe.seconds / a.seconds:.1f}x ({recipe.key})" if recipe and a and a.ok else "-",
         verdict(lambda: recipe.seconds >= 8 * a.seconds, a, recipe)),
        ("rerun over an unchanged tree under 1 s (1b)", f"{number(b and b.seconds, 2)} s",
         verdict(lambda: b.seconds < 1, b)),
        ("adding the new events (200k at 2M) under 8 s (1c)", f"{number(c and c.seconds)} s",
         verdict(lambda: c.seconds < 8, c)),
        (f"ingest peak memory under memory_limit + 0.5 GB ({DEFAULT_LIMIT_MB + 500:,} MB) (1a)",
         f"{number(a and a.peak_mb, 0)} MB", verdict(lambda: a.peak_mb is not None and a.peak_mb < DEFAULT_LIMIT_MB + 500, a)),
        ("ingest completes with memory_limit 512MB (1d)", "completed" if d and d.ok else "did not complete",
         "met" if d and d.ok else "not met"),
        (f"... and its peak memory under {SMALL_LIMIT_MB + 500:,} MB (1d)", f"{number(d and d.peak_mb, 0)} MB",
         verdict(lambda: d.peak_mb is not None and d.peak_mb < SMALL_LIMIT_MB + 500, d)),
        ("all detectors together under 20 s (4)", f"{number(hunt and hunt.seconds)} s",
         verdict(lambda: hunt.seconds < 20, hunt)),
    ]
    lines = ["| target | measured | verdict |", "| --- | --- | --- |"]
    lines += [f"| {target} | {measured} | {result} |" for target, measured, result in out]
    if events != TARGET_EVENTS:
        lines += ["", f"The targets are set for {TARGET_EVENTS:,} events; this run has {events:,}, so the "
                      "verdicts only show that the harness works (fixed start-up costs dominate small runs)."]
    return lines


def machine():
    cpu = "unknown CPU"
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = found.group(1).strip() if found else cpu
        total = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
        memory = f"{int(total.group(1)) / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        memory = "unknown"
    jq = shutil.which("jq")
    jq_version = subprocess.run([jq, "--version"], capture_output=True, text=True).stdout.strip() if jq else "not found"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": memory, "python": platform.python_version(),
            "duckdb": importlib.metadata.version("duckdb"), "jq": jq_version,
            "kernel": platform.release()}


def report(rows, events, manifest, added, info, started, load_start):
    load_end = os.getloadavg()
    lines = [f"# Benchmark, {events:,} events", "",
             f"- date: {started:%Y-%m-%d %H:%M} UTC",
             f"- machine: {info['cpu']}, {info['cores']} cores, {info['memory']} memory, Linux {info['kernel']}",
             f"- load average (1 min) at start {load_start[0]:.1f}, at end {load_end[0]:.1f}: "
             "anything above 0 means other work shared the cores",
             f"- versions: Python {info['python']}, DuckDB {info['duckdb']}, jq {info['jq']}",
             f"- corpus: {manifest['records']:,} records in {manifest['log_files']:,} files, "
             f"{manifest['json_bytes'] / MB:,.0f} MB of JSON ({manifest['json_bytes'] / max(manifest['records'], 1):,.0f} "
             f"bytes per record), {manifest['gzip_bytes'] / MB:,.0f} MB gzip; additions for 1c: "
             f"{added['new_records']:,} new records, {added['duplicate_records']:,} repeated in "
             f"{added['redelivered_files']} rewritten files, {added['copied_records']:,} in one copied file",
             f"- recipe (2a, 2b), run in the corpus folder: `{RECIPE} > events.ndjson`, then "
             "`create table t as select * from read_json_auto('events.ndjson')`",
             "- wall s comes from a run that nothing samples; peak MB from a second run of the same step "
             "(2a and 2b run once, sampled), the largest sum of the memory (PSS: pages shared by forked "
             f"processes counted once) of the process and all its children, read every {SAMPLE_SECONDS} s; "
             "MB = 10^6 bytes",
             "", *table(rows), "", "Ratios, measured in this run:", "", *ratio_lines(rows),
             "", "Targets:", "", *targets(rows, events), ""]
    return "\n".join(lines)


def save(text, results):
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%y-%m-%d-%H-%M")
    path, n = results / f"bench-{stamp}.md", 2
    while path.exists():
        path, n = results / f"bench-{stamp}-{n}.md", n + 1
    path.write_text(text, encoding="utf-8")
    return path


def update_readmes(text):
    """Puts the table between the bench markers of bench/README.md and README.md, where present."""
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    body = text.replace("# Benchmark,", "### Last full run,", 1).strip()
    updated = []
    for readme in (BENCH / "README.md", REPO / "README.md"):
        current = readme.read_text(encoding="utf-8") if readme.exists() else ""
        if start in current and end in current:
            before, rest = current.split(start, 1)
            readme.write_text(f"{before}{start}\n{body}\n{end}{rest.split(end, 1)[1]}", encoding="utf-8")
            updated.append(readme)
    return updated


USE_GNU_TIME = False
SAMPLE_MEMORY = True     # run_all switches it off for the timed pass


def main(argv):
    global USE_GNU_TIME
    arguments = argv[1:]
    if arguments and arguments[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    try:
        if len(arguments) > 1:
            raise ValueError("expected at most one argument, EVENTS")
        events = int(arguments[0]) if arguments else DEFAULT_EVENTS
        if events < 1:
            raise ValueError(f"EVENTS must be a positive whole number, got {events}")
    except ValueError as error:
        reason = str(error) if "EVENTS" in str(error) else f"EVENTS must be a whole number, got {arguments[0]!r}"
        print(f"run_bench.py: {reason}\n\n{__doc__.strip()}", file=sys.stderr)
        return 2
    bench_dir = Path(os.environ.get("BENCH_DIR") or BENCH).resolve()
    if not Path("/proc/self/statm").exists():
        print("run_bench.py: needs Linux /proc to measure memory", file=sys.stderr)
        return 1
    USE_GNU_TIME = gnu_time_works()
    started, load_start = datetime.now(timezone.utc), os.getloadavg()
    rows, manifest, added, work = run_all(events, bench_dir)
    text = report(rows, events, manifest, added, machine(), started, load_start)
    path = save(text, bench_dir / "results")
    # Logs stay beside the table; the scratch databases, often gigabytes, do not.
    logs = path.with_suffix("")
    shutil.move(str(work / "logs"), str(logs.with_name(logs.name + "-logs")))
    shutil.rmtree(work, ignore_errors=True)
    print(text)
    print(f"written: {path}")
    # Only a full-size run in the repository stands for the project's performance.
    if events == DEFAULT_EVENTS and "BENCH_DIR" not in os.environ:
        for readme in update_readmes(text):
            print(f"updated: {readme} (performance section)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
