"""Load downloaded CloudTrail logs into a DuckDB case database, adding only what is new.

usage: analyze_ingest.py DATABASE INPUT [INPUT ...]
       analyze_ingest.py -h | --help

  DATABASE  case database file; created on first use
  INPUT     a folder (walked recursively: AWSLogs/<account>/CloudTrail/..., organisation
            trails, trees synced without the AWSLogs prefix, flat folders), a log file
            (.json.gz, .json, .jsonl, .ndjson, plain or gzip), or - for NDJSON records
            on standard input, as parse_flatten.sh writes them

Run it again after new downloads: files already loaded are recognised by path, size and
modification time (or by content hash when copied or renamed) and not read again, and an
event already stored is never stored twice.

examples:
  analyze_ingest.py cases.db logs/
  ./parse_flatten.sh logs/ | analyze_ingest.py cases.db -

environment:
  CLOUDTRAIL_MEMORY_LIMIT  DuckDB memory limit, default 2GB (spills to DATABASE.tmp/)
  CLOUDTRAIL_WORKERS       parser processes, default: number of cores
  CLOUDTRAIL_MAX_FILE_MB   refuse files larger than this, compressed or decompressed, and
                           standard-input lines longer than this, default 512
  CLOUDTRAIL_BATCH_MB      extracted rows stored per transaction, default a quarter of the
                           memory limit, at most 512 (less uses less memory, more is faster)
  CLOUDTRAIL_OUTPUT_DIR    where the analyst log goes, default reports/<DATABASE name>/ beside DATABASE

Nothing is created when the arguments are wrong or an INPUT does not exist. An INPUT folder
with no files at all, and empty standard input, are reported and give exit status 1.

exit status: 0 every input read, 1 some input failed (named on stderr), nothing to read or a
runtime error, 2 bad arguments or settings, 130 interrupted (Ctrl-C), 143 terminated
(SIGTERM); after 130 or 143 rerun to finish: nothing is lost or doubled.
"""
import collections
import concurrent.futures
import contextlib
import dataclasses
import gc
import itertools
import multiprocessing
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

import common  # first: Ctrl-C while the libraries below load ends with one line

if __name__ == "__main__":
    # Only when run as the script: a program importing this module keeps its own handlers.
    common.stop_quietly_until_started()

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import orjson  # noqa: E402
import pyarrow as pa  # noqa: E402
# DuckDB loads pyarrow.dataset (about 60 MB of code) on its first Arrow scan. Imported here,
# before the parser processes are forked, it is loaded once and shared with them instead of
# being loaded again in each.
import pyarrow.dataset  # noqa: F401,E402

import casedb  # noqa: E402
import logfiles  # noqa: E402
from common import ToolError, UsageError, format_time, md_table, terminal_safe  # noqa: E402

FILE_ROW_SCHEMA = [
    ("path", pa.string()), ("size", pa.int64()), ("modified_at", pa.timestamp("us", tz="UTC")),
    ("mtime_ns", pa.int64()), ("sha256", pa.string()), ("records_read", pa.int64()),
    ("bad_records", pa.int64()), ("new_events", pa.int64()), ("duplicate_events", pa.int64()),
    ("status", pa.string()), ("reason", pa.string()), ("ingested_at", pa.timestamp("us", tz="UTC")),
    ("run_id", pa.string()),
]
BATCH_MB = 512                       # most extracted rows per DuckDB insert (CLOUDTRAIL_BATCH_MB): bounds memory
TASK_BYTES = 4 * 1024 * 1024         # bytes of files handed to a worker at once
MAX_PROBLEM_LINES = 20              # stderr lines about bad inputs; the analyst log lists all
STDIN_CHUNK_BYTES = 16 * 1024 * 1024
INLINE_BYTES = 8 * 1024 * 1024       # below this much input, parse in this process


def main(argv):
    return common.run_cli(__doc__, argv, ingest)


def ingest(argv):
    if len(argv) < 3:
        raise UsageError("need a DATABASE and at least one INPUT")
    if argv[2:].count("-") > 1:
        raise UsageError("standard input (-) can be given only once")
    db_path, inputs = argv[1], list(dict.fromkeys(argv[2:]))
    # Arguments are checked before anything is created: a run that fails them leaves no
    # database file and no DATABASE.tmp/ behind.
    missing = [path for path in inputs if path != "-" and not os.path.exists(path)]
    if missing:
        raise UsageError(f"input {terminal_safe(missing[0])!r} does not exist"
                         + (f" (nor {len(missing) - 1} other input(s))" if len(missing) > 1 else "")
                         + " - nothing was read or created")
    if os.path.isdir(db_path):
        raise UsageError(f"DATABASE {terminal_safe(db_path)!r} is a folder; give a database file name")
    run = Run(db_path, argv)
    run.discover(inputs)
    if not run.items and not run.file_rows and "-" not in inputs:
        raise ToolError(f"no files found in {', '.join(terminal_safe(i) for i in inputs)} - nothing to read "
                        "(give the folder the trail's logs were downloaded to); no database was created"
                        if not os.path.exists(db_path) else
                        f"no files found in {', '.join(terminal_safe(i) for i in inputs)} - nothing to read")
    # The parser processes are forked before DuckDB starts its threads: forking is cheap
    # and safe then, and they never touch the database.
    with ParserPool(run.batch_bytes) as parsers:
        # The parsers keep the cores busy; DuckDB's insert gets half of them (measured: more
        # threads only compete with the parsers and cost CPU).
        # The batch of parsed rows the parent maps comes out of the same memory limit: DuckDB
        # gets three quarters of it.
        con = casedb.connect(db_path, create=True, threads=run.insert_threads,
                             memory=f"{casedb.memory_limit_bytes() * 3 // 4 // 1_000_000}MB")
        try:
            casedb.ensure_schema(con)
            run.execute(con, inputs, parsers)
        except duckdb.Error as error:
            raise ToolError(database_error(db_path, error)) from None
        except logfiles.PartNotWritten as error:
            raise ToolError(f"{error} - free disk space (or set CLOUDTRAIL_BATCH_MB lower: less is staged at "
                            "once) and run the same command again; everything stored before is kept") from None
        finally:
            con.close()
    return run.exit_code()


class Run:
    """One ingest run: plans which files to read, reads them, stores batches, reports."""

    def __init__(self, db_path, argv):
        self.db_path = db_path
        self.argv = argv
        self.run_id = uuid.uuid4().hex[:12]
        self.started = common.now_utc()
        self.clock = time.monotonic()
        self.counts = collections.Counter()
        self.problems = []              # (path, status, reason) for stderr and the analyst log
        self.file_rows = []             # ingested_files rows waiting for the next commit
        self.seen_hashes = {}
        self.stdin_total = None
        self.with_stdin = False
        self.items = []
        self.progress = None
        # A batch of extracted rows is a quarter of DuckDB's memory limit, at most 512 MB (at the
        # default 2GB some 140,000 records: more than one DuckDB row group, which DuckDB writes
        # straight to the file; smaller batches go through its write-ahead log, 15% slower).
        default_mb = min(BATCH_MB, max(32, casedb.memory_limit_bytes() / 4 / 1024 / 1024))
        self.batch_bytes = common.env_number("CLOUDTRAIL_BATCH_MB", default_mb, float, low=1, high=16384) * 1024 * 1024
        # DuckDB's threads: half the cores while the parsers work, all once they are done
        # (CLOUDTRAIL_THREADS, when set, throughout).
        self.all_threads = common.env_number("CLOUDTRAIL_THREADS", os.cpu_count() or 2, low=1, high=common.max_workers())
        self.insert_threads = self.all_threads if os.environ.get("CLOUDTRAIL_THREADS") else max(1, self.all_threads // 2)

    # ------------------------------------------------------------ plan

    def discover(self, inputs):
        """Walks the inputs (before the database is opened: nothing is created for a run that
        finds nothing to read)."""
        self.with_stdin = "-" in inputs
        self.items = list(logfiles.discover([i for i in inputs if i != "-"], self.discovery_problem))

    def execute(self, con, inputs, parsers):
        known = {path: (size, mtime_ns, status) for path, size, mtime_ns, status in con.execute(
            "select path, size, mtime_ns, status from ingested_files where path <> '<stdin>'").fetchall()}
        self.seen_hashes = dict(con.execute(
            "select sha256, min(path) from ingested_files where status in ('loaded', 'partial') "
            "and sha256 is not null group by sha256").fetchall())
        to_read = []
        for item in self.items:
            previous = known.get(logfiles.display_path(item.path))
            unchanged = previous is not None and previous[:2] == (item.size, item.mtime_ns)
            if item.status:
                # Named-file skips (digests, other bucket objects) are recorded once.
                if not (unchanged and previous[2] == item.status):
                    self.finish_file(logfiles.FileResult(logfiles.display_path(item.path), item.size, item.mtime_ns,
                                                         status=item.status, reason=item.reason), 0)
                else:
                    self.counts["unchanged"] += 1
            elif unchanged and previous[2] != "failed":
                self.counts["unchanged"] += 1
            else:
                to_read.append(item)
        to_read.sort(key=logfiles.delivery_order)
        check_staging_space(self.db_path, to_read, self.batch_bytes)
        self.progress = Progress(len(to_read), sum(item.size for item in to_read))
        with shared_folder(self.db_path) as folder:
            self.store(con, parsers.results(to_read, "-" in inputs, folder), parsers)
        self.report(con)

    def discovery_problem(self, item):
        """A path that could not be walked (unreadable folder, link loop, missing input)."""
        result = logfiles.FileResult(logfiles.display_path(item.path), status=item.status, reason=item.reason)
        self.finish_file(result, 0)
        if result.status == "skipped":
            self.note_problem(result)

    def note_problem(self, item):
        """An input that could not be (fully) read: named on stderr, kept for the analyst log."""
        self.problems.append((item.path, item.status, item.reason))
        if len(self.problems) <= MAX_PROBLEM_LINES:
            print(f"analyze_ingest.py: {one_line(item.path)}: {item.status}: {one_line(item.reason)}",
                  file=sys.stderr)
        elif len(self.problems) == MAX_PROBLEM_LINES + 1:
            print(f"analyze_ingest.py: more inputs with problems; all are listed in the analyst log "
                  "and the ingested_files table", file=sys.stderr)

    # ------------------------------------------------------------ store

    def store(self, con, parts, parsers=None):
        """Stores what the parsers hand back, (FileResults, part) pairs, in batches."""
        batch = Batch()
        for results, part in parts:
            batch.add([self.unless_copy(result) for result in results], part)
            for result in results:
                self.progress.advance(result)
            # No results: rows of a file split across parsers whose last piece is still to come;
            # a file's rows and its ingested_files row are committed together.
            if results and batch.bytes >= self.batch_bytes:
                self.use_threads(con, parsers)
                self.flush(con, batch)
                batch = Batch()
        self.use_threads(con, None)
        self.flush(con, batch)
        self.progress.done()

    def use_threads(self, con, parsers):
        """DuckDB's insert gets half the cores while the parsers have work (more threads only
        compete with them), and every core once they have none: the last batch (all of a run
        that fits in one batch, such as adding a day of logs to a case) is stored by DuckDB
        alone, and on one thread it would leave the other cores idle."""
        threads = self.insert_threads if parsers is not None and parsers.busy() else self.all_threads
        if threads != getattr(self, "threads_set", None):
            con.execute("set threads = $threads", {"threads": int(threads)})
            self.threads_set = threads

    def unless_copy(self, result):
        """A file whose bytes equal a file already loaded is marked skipped; its rows, already
        extracted, are dropped by the duplicate check, so nothing is stored twice."""
        if result.sha256 and result.status in ("loaded", "partial"):
            first = self.seen_hashes.setdefault(result.sha256, result.path)
            if first != result.path:
                return logfiles.FileResult(result.path, result.size, result.mtime_ns, result.sha256, records=0,
                                           status="skipped", reason=f"same content as {first}, already loaded")
        return result

    def flush(self, con, batch):
        """Stores one batch of files and their ingested_files rows in one transaction.

        A run killed at any point loses at most the uncommitted batch; those files have no
        'loaded' row yet, so the next run reads them again and the event-id check drops
        whatever of them was already stored.
        """
        con.begin()
        try:
            new_by_file = {}
            if batch.count:
                load_id = casedb.scalar(con, "select nextval('load_ids')")
                con.register("batch", batch.table())
                low, high = casedb.one(con, "select min(event_time), max(event_time) from batch")
                con.execute(casedb.NEW_RECORDS_SQL, {"low": low, "high": high})
                # Usually every row is new; then the rows go in without the join on new_records.
                every_row_new = casedb.scalar(con, "select count(*) from new_records") == batch.count
                con.execute(casedb.INSERT_ALL_SQL if every_row_new else casedb.INSERT_BATCH_SQL, {"load_id": load_id})
                con.unregister("batch")
                new_by_file = dict(con.execute(
                    "select source_file, count(*) from events where load_id = ? group by source_file",
                    [load_id]).fetchall())
            for result in batch.results:
                if result.path == "<stdin>":
                    self.add_stdin(result)
                else:
                    self.finish_file(result, new_by_file.get(result.path, 0))
            if "<stdin>" in new_by_file:
                self.stdin_total.new += new_by_file["<stdin>"]
            self.write_file_rows(con)
            con.commit()
            batch.remove_parts()
        except BaseException:
            try:
                con.rollback()
            except duckdb.Error:
                pass    # after a failed write DuckDB refuses everything; its WAL keeps the file consistent
            raise

    def finish_file(self, result, new):
        self.counts[result.status] += 1
        self.counts["records"] += result.records
        self.counts["bad_records"] += result.bad_records
        self.counts["new"] += new
        self.counts["duplicates"] += result.records - new
        if result.status in ("failed", "partial"):
            self.note_problem(result)
        modified = None
        if result.mtime_ns:
            modified = common.dt.datetime.fromtimestamp(result.mtime_ns / 1e9, common.UTC)
        self.file_rows.append((result.path, result.size, modified, result.mtime_ns or None, result.sha256 or None,
                               result.records, result.bad_records, new, result.records - new,
                               result.status, result.reason or None, common.now_utc(), self.run_id))

    def add_stdin(self, chunk):
        """Standard input arrives in chunks; they add up to one ingested_files row per run."""
        stdin = self.stdin_total
        if stdin is None:
            stdin = self.stdin_total = logfiles.FileResult("<stdin>")
            stdin.new = 0
        stdin.size += chunk.size
        stdin.records += chunk.records
        stdin.bad_records += chunk.bad_records
        stdin.problems.extend(chunk.problems[: max(0, logfiles.MAX_PROBLEMS_KEPT - len(stdin.problems))])
        for problem in chunk.problems[:MAX_PROBLEM_LINES]:
            print(f"analyze_ingest.py: <stdin>: {one_line(problem)}", file=sys.stderr)

    def write_file_rows(self, con, replace=True):
        """Writes the pending ingested_files rows; a file read again replaces its old row."""
        if not self.file_rows:
            return
        columns = list(zip(*self.file_rows))
        con.register("file_rows", pa.table({name: pa.array(values, type) for (name, type), values
                                           in zip(FILE_ROW_SCHEMA, columns)}))
        if replace:
            con.execute("delete from ingested_files where path in (select path from file_rows)")
        con.execute("insert into ingested_files by name select * from file_rows")
        con.unregister("file_rows")
        self.file_rows = []

    def close_stdin(self, con):
        stdin = self.stdin_total
        if stdin is None and self.with_stdin:
            # Nothing at all arrived on standard input: said, recorded, and exit 1.
            stdin = self.stdin_total = logfiles.FileResult("<stdin>")
            stdin.new = 0
        if stdin is None:
            return
        if stdin.bad_records:
            more = stdin.bad_records - len(stdin.problems)
            stdin.status = "partial" if stdin.records else "failed"
            stdin.reason = f"{stdin.bad_records} bad line(s): " + "; ".join(stdin.problems) + (f"; and {more} more" if more > 0 else "")
        elif not stdin.records:
            stdin.status, stdin.reason = "failed", "no records on standard input"
        new = stdin.new
        stdin.problems = []
        self.finish_file(stdin, new)
        # stdin rows are kept per run: every run's stream is a different input.
        self.write_file_rows(con, replace=False)

    # ------------------------------------------------------------ report

    def exit_code(self):
        return common.EXIT_RUNTIME if self.counts["failed"] or self.counts["partial"] else common.EXIT_OK

    def report(self, con):
        self.close_stdin(con)
        seconds = time.monotonic() - self.clock
        c = self.counts
        totals = casedb.one(con, """
            select count(*), min(event_time), max(event_time),
                   count(distinct recipient_account_id), count(distinct aws_region)
            from events""")
        accounts = con.execute("""
            select coalesce(recipient_account_id, '(none)'), count(*) from events
            group by 1 order by 2 desc limit 10""").fetchall()
        regions = con.execute("""
            select coalesce(aws_region, '(none)'), count(*) from events
            group by 1 order by 2 desc limit 10""").fetchall()
        sources = con.execute("""
            select coalesce(event_source, '(none)'), count(*) from events
            group by 1 order by 2 desc limit 10""").fetchall()
        undated = casedb.scalar(con, "select count(*) from events where event_time is null")
        rate = c["records"] / seconds if seconds > 0 else 0
        lines = [
            f"files: {c['loaded']} loaded, {c['partial']} partly loaded, {c['skipped']} skipped, "
            f"{c['failed']} failed, {c['unchanged']} unchanged since an earlier run (not read again)",
            f"events: {c['records']:,} read, {c['new']:,} new, {c['duplicates']:,} already stored, "
            f"{c['bad_records']:,} unreadable records",
            f"time: {seconds:.1f} s ({rate:,.0f} events/s)",
            f"database: {totals[0]:,} events from {format_time(totals[1]) or '-'} to {format_time(totals[2]) or '-'}, "
            f"{totals[3]} account(s), {totals[4]} region(s)"
            + (f", {undated:,} without a readable eventTime" if undated else ""),
            "accounts: " + ", ".join(f"{a} ({n:,})" for a, n in accounts),
            "regions: " + ", ".join(f"{r} ({n:,})" for r, n in regions),
            "top event sources: " + ", ".join(f"{s} ({n:,})" for s, n in sources),
        ]
        print(f"{self.db_path}: ingest finished")
        for line in lines:
            print("  " + terminal_safe(line))
        if self.problems:
            print(f"  {len(self.problems)} input(s) with problems (also on stderr and in the analyst log)")
        log_path = self.write_analyst_log(con, lines)
        print(f"  analyst log: {log_path}")
        summary = orjson.dumps(dict(c)).decode()
        casedb.record_run(con, self.run_id, "analyze_ingest.py", " ".join(self.argv[1:]), self.started,
                          common.now_utc(), self.exit_code(), summary)

    def write_analyst_log(self, con, lines):
        sample = con.execute("""
            select event_time, event_name, event_source, actor, source_ip, aws_region, event_id
            from events using sample 3 rows (reservoir, 7)""").fetchall()
        body = [f"Command: `analyze_ingest.py {' '.join(common.md_code(a)[1:-1] for a in self.argv[1:])}`", ""]
        body += [f"- {common.md_text(line)}" for line in lines]
        if self.problems:
            body += ["", "Inputs with problems:", ""]
            body += md_table(["input", "status", "reason"],
                             [(common.Markdown(common.md_code(path, None)), status, reason)
                              for path, status, reason in self.problems[:200]])
            if len(self.problems) > 200:
                body.append(f"\n... and {len(self.problems) - 200} more (see the ingested_files table)")
        body += ["", "Sample of stored events:", ""]
        body += md_table(["event_time", "event_name", "event_source", "actor", "source_ip", "region", "event_id"],
                         [(format_time(r[0]), *r[1:]) for r in sample])
        return common.AnalystLog(self.db_path, self.started).write("analyze_ingest.py", body)


# ---------------------------------------------------------------- helpers

def one_line(text):
    """Untrusted text (a file name, a reason quoting it) for one stderr line: control and
    bidirectional characters escaped, a newline shown as \\x0a so it cannot start a forged line."""
    return terminal_safe(text).replace("\n", "\\x0a")


class Batch:
    """The parts (Arrow files of extracted rows) of a batch of files, in input order."""

    def __init__(self):
        self.parts = []            # (path, rows, bytes)
        self.results = []          # FileResults, for the ingested_files rows
        self.count = 0
        self.bytes = 0

    def add(self, results, part):
        self.results += results
        if part:
            self.parts.append(part)
            self.count += part[1]
            self.bytes += part[2]

    def table(self):
        """The parts mapped from the shared folder (not copied) as one table, plus ord."""
        tables = [pa.ipc.open_file(pa.memory_map(path)).read_all() for path, _, _ in self.parts]
        table = pa.concat_tables(tables)
        return table.append_column("ord", pa.array(np.arange(table.num_rows, dtype=np.int64)))

    def remove_parts(self):
        for path, _, _ in self.parts:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)


def group_files(items, task_bytes=TASK_BYTES, split_into=1):
    """Hands files to workers in groups of a few MB so that small files do not cost a round trip
    each. A file of more than two tasks' worth of bytes becomes split_into tasks of its own,
    SplitFile(item, index, count), so that several parsers share it."""
    group, size = [], 0
    for item in items:
        if split_into > 1 and item.size > 2 * task_bytes:
            if group:
                yield group
                group, size = [], 0
            for index in range(split_into):
                yield SplitFile(item, index, split_into)
            continue
        group.append(item)
        size += item.size
        if size >= task_bytes or len(group) >= 256:
            yield group
            group, size = [], 0
    if group:
        yield group


def database_error(db_path, error):
    """One line for a DuckDB error, with what to do about a full disk."""
    message = common.first_line(error)
    if any(sign in message for sign in ("No space left", "File too large", "Could not write", "Disk quota")):
        # The database, DuckDB's spill files and the staged parser output all live beside the
        # database; a lower CLOUDTRAIL_BATCH_MB stages less at once (a higher memory limit
        # would only make the batches, and so the staging, larger).
        return (f"{db_path}: cannot write to the database ({message}) - free disk space in its folder "
                "(or set CLOUDTRAIL_BATCH_MB lower to stage less at once) and run the same command "
                "again; everything stored before is kept")
    return f"{db_path}: database error: {message}"


@contextlib.contextmanager
def shared_folder(db_path):
    """The folder the parsers write extracted rows into and the parent maps them from: in
    DATABASE.tmp/ beside the database (where DuckDB spills too), so the parts live in the page
    cache, which the system can reclaim, rather than in any process's memory. Removed
    afterwards; folders left by killed runs are removed at the next start."""
    path = Path(db_path).resolve()
    base = path.parent / (path.name + ".tmp")
    for stale in base.glob("ingest-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(stale, ignore_errors=True)
    folder = base / f"ingest-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ToolError(f"cannot create {folder}: {error.strerror} - check the case folder's permissions") from None
    try:
        yield str(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            base.rmdir()            # only when empty: DuckDB may still be using it


# Extracted rows (the parts staged in DATABASE.tmp/) are about this many times the gzip input.
STAGING_GROWTH = 16


def check_staging_space(db_path, to_read, batch_bytes):
    """Stops before reading when the database's folder has clearly too little free space for
    the parts staged there: up to two batches of extracted rows at once (fewer for a small
    input), plus the events they become. Says which setting stages less."""
    input_bytes = sum(item.size for item in to_read)
    staged = min(2 * batch_bytes + TASK_BYTES * STAGING_GROWTH, input_bytes * STAGING_GROWTH)
    folder = Path(db_path).resolve().parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    needed = staged + input_bytes * 2        # the database itself grows by about twice the gzip input
    if free < needed:
        raise ToolError(f"{folder}: {free / 1e6:,.0f} MB free, but this ingest needs about {needed / 1e6:,.0f} MB "
                        f"there ({staged / 1e6:,.0f} MB of parsed records staged at once in "
                        f"{Path(db_path).name}.tmp/, the rest for the database) - free disk space, or set "
                        "CLOUDTRAIL_BATCH_MB lower to stage less at once")


def task_size(task):
    function, (argument, _) = task
    if function is read_split:
        return argument.item.size // argument.count
    return sum(item.size for item in argument) if function is logfiles.read_group else len(argument[1] or b"")


@dataclasses.dataclass
class SplitFile:
    """One of `count` pieces of a large file: the records from index/count to (index+1)/count."""
    item: logfiles.InputFile
    index: int
    count: int


def read_split(task):
    """Parser task for a piece of a large file: every piece reads and slices the whole file
    (cheap next to extracting the columns), then extracts only its share of the records. The
    first piece carries the file's bad records; merge_pieces() makes one result of the pieces."""
    piece, folder = task
    result = logfiles.read_file(piece.item)
    texts = result.texts
    start, end = len(texts) * piece.index // piece.count, len(texts) * (piece.index + 1) // piece.count
    result.texts, result.records = texts[start:end], end - start
    if piece.index:
        result.bad_records, result.problems = 0, []
        if result.status == "partial":
            result.status, result.reason = "loaded", ""
    return logfiles.extract([result], folder)


def merge_pieces(pieces):
    """The FileResults of a split file's pieces as one."""
    first = pieces[0]
    if first.status in ("failed", "skipped") and not first.records:
        return first        # the whole file could not be read: every piece says so
    merged = logfiles.FileResult(first.path, first.size, first.mtime_ns, first.sha256)
    merged.records = sum(piece.records for piece in pieces)
    merged.bad_records = sum(piece.bad_records for piece in pieces)
    merged.problems = [problem for piece in pieces for problem in piece.problems][:logfiles.MAX_PROBLEMS_KEPT]
    reasons = list(dict.fromkeys(piece.reason for piece in pieces if piece.reason))
    merged.reason = "; ".join(reasons)
    if merged.bad_records:
        merged.status = "partial" if merged.records else "failed"
    return merged


def stdin_chunks(max_line_mb=logfiles.MAX_DECOMPRESSED_MB):
    """Standard input in chunks of whole lines: (label, bytes, number of the first line).
    A line longer than max_line_mb is not kept in memory: it is skipped and handed on as
    (label, None, its line number, its length), to be counted as a bad record."""
    stream = sys.stdin.buffer
    limit = max_line_mb * 1024 * 1024
    carry, line_number, skipped = b"", 1, None
    while True:
        block = stream.read(STDIN_CHUNK_BYTES)
        if not block:
            break
        if skipped is not None:
            cut = block.find(b"\n")
            if cut < 0:
                skipped += len(block)
                continue
            yield "<stdin>", None, line_number, skipped + cut
            line_number, skipped, block = line_number + 1, None, block[cut + 1:]
        block = carry + block
        cut = block.rfind(b"\n")
        if cut < 0:
            if len(block) > limit:
                carry, skipped = b"", len(block)
            else:
                carry = block
            continue
        chunk, carry = block[: cut + 1], block[cut + 1:]
        yield "<stdin>", chunk, line_number
        line_number += chunk.count(b"\n")
    if skipped is not None:
        yield "<stdin>", None, line_number, skipped
    elif carry.strip():
        yield "<stdin>", carry, line_number


class ParserPool:
    """Worker processes that parse files; results come back in input order.

    Workers keep parsing while the parent stores a batch, up to about one batch of input
    ahead of it: enough to keep both cores busy, little enough to bound memory.
    """

    def __init__(self, batch_bytes):
        self.workers = common.env_number("CLOUDTRAIL_WORKERS", os.cpu_count() or 2, low=1, high=common.max_workers())
        # A cap on each parser's own DuckDB: a quarter of the memory limit (it takes only what a
        # task needs; a record of tens of MB needs a few hundred MB to be split into columns,
        # and a record too large for the cap is counted as bad, naming CLOUDTRAIL_MEMORY_LIMIT).
        # The floor is 32 MB (below it extraction is several times slower); it used to be
        # 512 MB, which made CLOUDTRAIL_MEMORY_LIMIT=100MB mean 2.7 GB on one large file.
        self.parser_memory = f"{max(32, casedb.memory_limit_bytes() // 4 // 1_000_000)}MB"
        # Compressed input handed out ahead of the parent: about two batches once parsed and
        # extracted (gzip JSON grows about sixteen times into extracted rows), enough that the
        # parsers never wait for the parent's insert.
        self.in_flight_limit = max(TASK_BYTES, batch_bytes // 8)
        # A task (the files a parser holds at once) is a 512th of the memory limit and an 8th of
        # a batch once extracted, between 256 KB and 4 MB of compressed logs: it bounds each
        # parser's memory, and small batches still commit often. Each task costs the parser
        # about 10 ms beyond its records (DuckDB plans EXTRACT_SQL anew), so tasks are no
        # smaller than memory requires: halving them made a 2M-event ingest 2 s slower.
        self.task_bytes = max(256 * 1024, min(TASK_BYTES, casedb.memory_limit_bytes() // 512,
                                              int(batch_bytes) // 16 // 8))
        self.max_file_mb = common.env_number("CLOUDTRAIL_MAX_FILE_MB", logfiles.MAX_DECOMPRESSED_MB, low=1, high=1024 * 1024)
        self.pool = None
        self.pending = collections.deque()     # (compressed bytes, future) handed out, in input order
        self.exhausted = True

    def busy(self):
        """Whether a parser has (or will get) work: tasks not yet handed out or not finished."""
        return not self.exhausted or any(not future.done() for _, future in self.pending)

    def __enter__(self):
        if self.workers > 1:
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            # concurrent.futures rather than multiprocessing.Pool: when a parser dies (the
            # kernel's out-of-memory killer, kill -9), Pool silently replaces it and its task
            # never returns, so the ingest would wait forever; here the wait ends with
            # BrokenProcessPool.
            self.pool = concurrent.futures.ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context(method),
                initializer=logfiles.init_worker, initargs=(self.max_file_mb, True, self.parser_memory))
            # With fork, the first task starts every parser: now, before DuckDB starts threads.
            # Ctrl-C and SIGTERM are held back meanwhile; each parser sets its own handling,
            # then lets them through (a signal between fork and set-up ran the parent's handler
            # in the child: a traceback).
            held = common.block_signals()
            try:
                self.pool.submit(os.getpid).result()
            finally:
                common.unblock_signals(held)
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            processes = list((getattr(self.pool, "_processes", None) or {}).values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                with contextlib.suppress(OSError, ValueError):
                    process.terminate()
            for process in processes:
                with contextlib.suppress(OSError, ValueError, AssertionError):
                    process.join()

    def results(self, to_read, with_stdin, folder):
        """(FileResults, part) pairs in input order; small jobs are parsed in this process.
        Parts are Arrow files of extracted rows, written into folder."""
        total = sum(item.size for item in to_read)
        tasks = [(read_split if isinstance(group, SplitFile) else logfiles.read_group, (group, folder))
                 for group in group_files(to_read, self.task_bytes, self.workers if self.pool else 1)]
        stdin_tasks = ((logfiles.read_chunk, (chunk, folder)) for chunk in stdin_chunks(self.max_file_mb)) \
            if with_stdin else iter(())
        if self.pool is None or (total < INLINE_BYTES and not with_stdin):
            # init_worker turns the cyclic garbage collector off for parsing; a program that
            # imported the ingest (a notebook, the tests) gets it back afterwards.
            collecting = gc.isenabled()
            logfiles.init_worker(self.max_file_mb, in_pool=False, duckdb_memory=self.parser_memory)
            try:
                for function, argument in itertools.chain(tasks, stdin_tasks):
                    yield function(argument)
            finally:
                if collecting:
                    gc.enable()
            return
        pending = self.pending
        self.exhausted = False
        in_flight = 0
        split_of, pieces = {}, []      # future -> SplitFile; the results of a split file's pieces so far
        source = itertools.chain(tasks, stdin_tasks)
        while True:
            while in_flight < self.in_flight_limit or len(pending) < self.workers:
                task = next(source, None)
                if task is None:
                    self.exhausted = True
                    break
                size = task_size(task)
                future = self.pool.submit(task[0], task[1])
                if task[0] is read_split:
                    split_of[future] = task[1][0]
                pending.append((size, future))
                in_flight += size
            if not pending:
                break
            size, result = pending.popleft()
            in_flight -= size
            try:
                results, part = result.result()
                piece = split_of.pop(result, None)
                if piece is not None:
                    # Pieces of a split file: rows go on at once, the file's result with its last piece.
                    pieces.extend(results)
                    if piece.index < piece.count - 1:
                        yield [], part
                        continue
                    results, pieces = [merge_pieces(pieces)], []
                yield results, part
            except concurrent.futures.process.BrokenProcessPool:
                raise ToolError("a parser process ended unexpectedly (killed from outside, most likely by the "
                                "system for lack of memory) - everything stored before is kept; run the same "
                                "command again, with CLOUDTRAIL_WORKERS or CLOUDTRAIL_MEMORY_LIMIT lower if it "
                                "happens again") from None


class Progress:
    """A progress line on stderr for runs longer than a few seconds."""

    def __init__(self, files, total_bytes):
        self.files, self.total_bytes = files, total_bytes
        self.done_files = self.done_bytes = self.events = 0
        self.start = self.last = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.shown = False

    def advance(self, result):
        self.done_files += result.path != "<stdin>"
        self.done_bytes += result.size
        self.events += result.records
        now = time.monotonic()
        if now - self.start < 3 or now - self.last < (1 if self.tty else 15):
            return
        self.last = now
        rate = self.events / (now - self.start)
        left = ""
        if self.total_bytes and self.done_bytes:
            remaining = (now - self.start) * (self.total_bytes - self.done_bytes) / self.done_bytes
            left = f", about {remaining:.0f} s left"
        line = (f"files {self.done_files:,}/{self.files:,}, {self.events:,} events, "
                f"{rate:,.0f} events/s{left}")
        print(("\r" + line + "   ") if self.tty else line, end="" if self.tty else "\n", file=sys.stderr, flush=True)
        self.shown = True

    def done(self):
        if self.shown and self.tty:
            print(file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
