"""Issue 10, ingest and command-line side: dead parsers, lost chunks, odd file names, odd
times, signals, settings, arguments, sizes, output files, foreign databases, parse_flatten.sh.
Each test reproduces one point of the issue (the number is in its docstring)."""
import gzip
import importlib
import io
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import orjson
import pytest

import analyze_ingest
import casedb
import common
import logfiles
from conftest import REPO, build_case, event, ingest, stored, write_log_file, analyst_logs

PYTHON = sys.executable
SCRIPTS = sorted(path.stem for path in REPO.glob("analyze_*.py"))


def _env(tmp_path, **extra):
    return os.environ | {"CLOUDTRAIL_OUTPUT_DIR": str(tmp_path / "reports")} | extra


# ---------------------------------------------------------------- 1. a parser that dies

DRIVER_KILLED_PARSER = """
import os, signal, sys
sys.path.insert(0, {repo!r})
import analyze_ingest, logfiles
analyze_ingest.INLINE_BYTES = 0          # use the parser processes even for a small input
real = logfiles.read_file
def read_file(item):
    if item.path.endswith("die.json.gz"):
        os.kill(os.getpid(), signal.SIGKILL)     # as the out-of-memory killer does
    return real(item)
logfiles.read_file = read_file
sys.exit(analyze_ingest.main(sys.argv))
"""


def test_parser_killed_during_an_ingest_stops_with_one_line_not_a_hang(tmp_path):
    """1: a parser process killed by the system made the ingest wait forever."""
    logs = tmp_path / "logs"
    for number in range(6):
        write_log_file(logs, [event() for _ in range(50)], f"f{number}.json.gz")
    write_log_file(logs, [event()], "die.json.gz")
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER_KILLED_PARSER.format(repo=str(REPO)))
    db = tmp_path / "case.db"
    try:
        done = subprocess.run([PYTHON, str(driver), str(db), str(logs)], capture_output=True, text=True,
                              timeout=120, env=_env(tmp_path, CLOUDTRAIL_WORKERS="2"))
    except subprocess.TimeoutExpired:
        pytest.fail("the ingest hung after a parser process was killed")
    assert done.returncode == 1, done.stderr
    assert "parser process ended unexpectedly" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    # The rerun (with nothing killing parsers) loads everything.
    assert ingest(db, logs) == 0
    assert stored(db, "select count(*) from events") == [(301,)]


# ---------------------------------------------------------------- 2. a chunk of stdin that fails

def _stdin(monkeypatch, data):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


@pytest.fixture
def small_parser_memory(monkeypatch):
    """Each parser's DuckDB capped at 64 MB: a 20 MB record cannot be split into columns."""
    real = logfiles.init_worker

    def init_worker(max_mb=logfiles.MAX_DECOMPRESSED_MB, in_pool=True, duckdb_memory="64MB"):
        real(max_mb, in_pool, "64MB")
        logfiles._extractor = None
    monkeypatch.setattr(logfiles, "init_worker", init_worker)
    monkeypatch.setenv("CLOUDTRAIL_WORKERS", "1")
    logfiles._extractor = None
    yield
    logfiles._extractor = None
    real(in_pool=False)


def test_stdin_chunk_that_cannot_be_extracted_loses_only_its_bad_record(tmp_path, monkeypatch, capsys,
                                                                         small_parser_memory):
    """2: one record too large to extract cost the whole chunk (5,001 of 10,001 records),
    reported as loaded with exit 0."""
    before = [event(requestParameters={"n": i}) for i in range(3000)]
    after = [event(requestParameters={"n": i}) for i in range(3000)]
    huge = event(requestParameters={"blob": "x" * 20_000_000})
    lines = [orjson.dumps(r) for r in before + [huge] + after]
    _stdin(monkeypatch, b"\n".join(lines) + b"\n")
    db = tmp_path / "case.db"
    assert ingest(db, "-") == 1
    assert stored(db, "select count(*) from events") == [(6000,)]
    (status, read, bad, reason), = stored(db, "select status, records_read, bad_records, reason from ingested_files")
    assert (status, read, bad) == ("partial", 6000, 1)
    assert "could not be turned into columns" in reason and "CLOUDTRAIL_MEMORY_LIMIT" in reason
    assert "6,000 read" in capsys.readouterr().out


def test_file_with_one_record_too_large_keeps_the_others(tmp_path, small_parser_memory):
    """2 (files): the same failure inside a file kept none of its records."""
    logs = tmp_path / "logs"
    write_log_file(logs, [event(), event(requestParameters={"blob": "x" * 20_000_000}), event()], "mixed.json.gz")
    db = tmp_path / "case.db"
    assert ingest(db, logs) == 1
    assert stored(db, "select count(*) from events") == [(2,)]
    assert stored(db, "select status, records_read, bad_records from ingested_files") == [("partial", 2, 1)]


# ---------------------------------------------------------------- 3. file names that are not UTF-8

def test_file_name_with_bytes_that_are_not_utf8_is_loaded(tmp_path, capsys):
    """3: a name like bad\\xff\\xfe.json gave a UnicodeEncodeError traceback and no batch stored."""
    logs = tmp_path / "logs"
    write_log_file(logs, [event()], "good.json.gz")
    with open(os.path.join(os.fsencode(logs), b"bad\xff\xfe.json"), "wb") as handle:
        handle.write(orjson.dumps({"Records": [event()]}))
    db = tmp_path / "case.db"
    assert ingest(db, logs) == 0
    assert stored(db, "select count(*) from events") == [(2,)]
    assert stored(db, "select count(*) from ingested_files where path like '%bad\\xff\\xfe.json'") == [(1,)]
    capsys.readouterr()
    assert ingest(db, logs) == 0            # and the rerun recognises it as unchanged
    assert "2 unchanged" in capsys.readouterr().out


# ---------------------------------------------------------------- 4. "Records" twice, lone surrogates

def test_records_key_twice_keeps_every_list(tmp_path):
    """4: {"Records": [a, b], "Records": [c]} kept only c, with status loaded."""
    a, b, c = event(), event(), event()
    text = b'{"Records": [' + orjson.dumps(a) + b"," + orjson.dumps(b) + b'], "Records": [' + orjson.dumps(c) + b"]}"
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "twice.json").write_bytes(text)
    (logs / "twice-compact.json.gz").write_bytes(gzip.compress(text.replace(b", ", b",").replace(b": ", b":")))
    db = tmp_path / "case.db"
    assert ingest(db, logs) == 0
    assert sorted(stored(db, "select event_id from events")) == sorted((r["eventID"],) for r in (a, b, c))
    rows = stored(db, "select status, records_read, reason from ingested_files order by path")
    assert [row[:2] for row in rows] == [("loaded", 3), ("loaded", 3)]
    assert all("'Records' appears 2 times" in row[2] for row in rows)


def test_lone_low_surrogate_after_hex_letters_is_repaired_not_fatal(tmp_path):
    """4: "cafe\\udc00" (a low surrogate after four hex-like letters) failed the whole file."""
    logs = tmp_path / "logs"
    logs.mkdir()
    record = event()
    text = orjson.dumps({"Records": [record, event()]}).replace(b'"aws-cli', b'"cafe\\udc00aws-cli', 1)
    (logs / "surrogate.json").write_bytes(text)
    db = tmp_path / "case.db"
    assert ingest(db, logs) == 0
    assert stored(db, "select status, records_read from ingested_files") == [("loaded", 2)]
    assert stored(db, "select user_agent from events where event_id = ?", [record["eventID"]])[0][0].startswith(
        "cafe\ufffd")


# ---------------------------------------------------------------- 6. times that are not real times

NOT_TIMES = ["infinity", "-infinity", "epoch", "10000-01-01T00:00:00Z", "99999-01-01T00:00:00Z",
             "9999-12-31T23:59:59Z", "1969-07-20T20:17:00Z"]


def test_infinite_and_out_of_range_event_times_are_stored_as_unreadable(tmp_path):
    """6: 'infinity', '-infinity', 'epoch' and years past 9999 were stored as real times and
    crashed the reports (OverflowError)."""
    records = [event(time=text) for text in NOT_TIMES] + [event(time="2026-11-02T10:00:00Z")]
    db = build_case(tmp_path, records)
    rows = dict(stored(db, "select event_id, ingest_note from events where event_time is null"))
    assert set(rows) == {r["eventID"] for r in records[:-1]}
    assert all("eventTime not a real time" in note for note in rows.values())
    assert stored(db, "select count(*) from events where event_time is not null") == [(1,)]
    import analyze_overview
    assert analyze_overview.main(["analyze_overview.py", str(db)]) == 0


# ---------------------------------------------------------------- 7. Ctrl-C and SIGTERM

def _corpus(folder, files=120, per_file=300):
    for number in range(files):
        write_log_file(folder, [event(requestParameters={"padding": "y" * 900, "n": i}) for i in range(per_file)],
                       f"f{number:04d}.json.gz")


@pytest.mark.slow
@pytest.mark.parametrize("signal_number, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_an_ingest_is_one_line_and_the_rerun_is_exact(tmp_path, signal_number, code):
    """7: Ctrl-C gave a 19-line traceback and exit 1; SIGTERM exit 143 with ~64 lines of
    BrokenPipeError. Now: one line, 130 or 143, no parser left, and the rerun is exact."""
    logs = tmp_path / "logs"
    _corpus(logs)
    clean = tmp_path / "clean.db"
    assert ingest(clean, logs) == 0
    query = "select event_id, event_time, record from events order by event_id"
    expected = stored(clean, query)
    # While the libraries load, while the parsers start, and at three points of the writing.
    for seconds, size_at_signal in ((0.4, 0), (1.2, 0), (0, 1), (0, 3_000_000), (0, 9_000_000)):
        db = tmp_path / f"stopped-{seconds}-{size_at_signal}.db"
        # Its own process group, as a terminal's: Ctrl-C reaches the parsers too.
        process = subprocess.Popen([PYTHON, str(REPO / "analyze_ingest.py"), str(db), str(logs)],
                                   env=_env(tmp_path, CLOUDTRAIL_BATCH_MB="2", CLOUDTRAIL_WORKERS="2"),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)
        time.sleep(seconds)
        deadline = time.monotonic() + 60
        while size_at_signal and process.poll() is None and time.monotonic() < deadline and \
                (not db.exists() or db.stat().st_size < size_at_signal):
            time.sleep(0.005)
        if process.poll() is not None:
            continue                    # finished before the signal: nothing to check this round
        if signal_number == signal.SIGINT:
            os.killpg(process.pid, signal_number)        # Ctrl-C: the terminal signals the whole group
        else:
            process.send_signal(signal_number)           # kill PID, timeout, a service manager
        _, err = process.communicate(timeout=60)
        if process.returncode == 0:
            continue                    # the signal arrived as it was finishing
        assert process.returncode == code, err
        assert len(err.strip().splitlines()) == 1, err
        assert ("interrupted" if code == 130 else "terminated") in err
        children = subprocess.run(["pgrep", "-g", str(process.pid)], capture_output=True, text=True).stdout
        assert not children.strip(), f"parser processes left behind: {children}"
        assert ingest(db, logs) == 0
        assert stored(db, query) == expected


def test_sigterm_to_a_cli_body_exits_143_with_one_line(capsys):
    """7: run_cli turns SIGTERM into exit 143 and one line for every script."""
    def body(argv):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
        return 0
    assert common.run_cli("usage: x", ["x.py"], body) == 143
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [err.strip()] and "terminated" in err


def test_importing_the_ingest_leaves_the_importers_signal_handlers_alone():
    """7: the one-line handlers for the first seconds are the script's, not its importers'. A test
    process that imported analyze_ingest kept them, and pool workers it forked (the sample-log
    generator's) then sometimes never acted on the pool's SIGTERM: the suite hung."""
    # Compared with what the process had before the import, not with Python's defaults: a run in
    # the background of a non-interactive shell starts with SIGINT ignored.
    code = ("import signal, sys; sys.path.insert(0, {repo!r}); "
            "before = [signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)]; import analyze_ingest; "
            "after = [signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)]; "
            "print(before[0] is after[0], before[1] is after[1])").format(repo=str(REPO))
    result = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["True", "True"], result.stderr


def test_interrupt_reported_as_another_error_still_exits_130(capsys):
    """7: DuckDB reports a Ctrl-C inside a query as its own error; that must not become exit 1."""
    def body(argv):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except KeyboardInterrupt:
            raise common.ToolError("database error: INTERRUPT Error: Interrupted!") from None
        return 0
    assert common.run_cli("usage: x", ["x.py"], body) == 130
    assert "interrupted" in capsys.readouterr().err


def test_interrupt_swallowed_by_the_body_still_exits_130(capsys):
    """7: an interrupt caught somewhere inside and carried on from still ends the run as 130."""
    def body(argv):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except KeyboardInterrupt:
            pass
        return 0
    assert common.run_cli("usage: x", ["x.py"], body) == 130


# ---------------------------------------------------------------- 9. settings

@pytest.mark.parametrize("name, value", [
    ("CLOUDTRAIL_BATCH_MB", "nan"), ("CLOUDTRAIL_BATCH_MB", "inf"), ("CLOUDTRAIL_BATCH_MB", "1e308"),
    ("CLOUDTRAIL_BATCH_MB", "0"), ("CLOUDTRAIL_THREADS", "0"), ("CLOUDTRAIL_WORKERS", "0"),
    ("CLOUDTRAIL_WORKERS", "1000"), ("CLOUDTRAIL_MAX_FILE_MB", "-1"), ("CLOUDTRAIL_MEMORY_LIMIT", "1e308GB"),
    ("CLOUDTRAIL_MEMORY_LIMIT", "1MB"), ("CLOUDTRAIL_MEMORY_LIMIT", "lots"), ("CLOUDTRAIL_LOCK_WAIT", "nan"),
])
def test_nonsense_setting_is_a_usage_error_naming_it_before_anything_is_created(tmp_path, monkeypatch, capsys,
                                                                                  name, value):
    """9: nan/inf/1e308 gave tracebacks, THREADS=0 blamed the database, WORKERS=1000 started
    1,001 processes."""
    logs = tmp_path / "logs"
    write_log_file(logs, [event()])
    monkeypatch.setenv(name, value)
    assert ingest(tmp_path / "case.db", logs) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith(f"analyze_ingest.py: environment variable {name}=")
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs"]


def test_settings_are_checked_by_every_script(tmp_path, monkeypatch, capsys):
    """9: the same check runs first in every script (run_cli)."""
    db = build_case(tmp_path, [event()])
    monkeypatch.setenv("CLOUDTRAIL_THREADS", "0")
    for name in SCRIPTS:
        module = importlib.import_module(name)
        assert module.main([f"{name}.py", str(db)]) == 2, name
        assert "CLOUDTRAIL_THREADS='0' must be at least 1" in capsys.readouterr().err


# ---------------------------------------------------------------- 10. command line

@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_prints_usage_and_exits_0_in_every_script(tmp_path, monkeypatch, capsys, flag):
    """10: --help was taken as a database name (analyze_ingest.py --help logs/ created a
    database called --help and loaded 8 files into it)."""
    monkeypatch.chdir(tmp_path)
    logs = tmp_path / "logs"
    write_log_file(logs, [event()])
    for name in SCRIPTS:
        module = importlib.import_module(name)
        assert module.main([f"{name}.py", flag, "logs"]) == 0, name
        out = capsys.readouterr().out
        assert "usage:" in out, name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs"]


def test_parse_flatten_help_exits_0():
    """10: the shell script too."""
    done = subprocess.run([str(REPO / "parse_flatten.sh"), "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "usage: parse_flatten.sh" in done.stdout


def test_bad_arguments_create_nothing(tmp_path, capsys):
    """10: a nonexistent input path still created x.db and x.db.tmp."""
    assert ingest(tmp_path / "x.db", tmp_path / "no-such-folder") == 2
    assert "no-such-folder' does not exist" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_empty_folder_says_so_and_exits_1(tmp_path, capsys):
    """10: an empty folder exited 0 with no warning."""
    (tmp_path / "empty").mkdir()
    assert ingest(tmp_path / "x.db", tmp_path / "empty") == 1
    assert "no files found in" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_empty_stdin_says_so_and_exits_1(tmp_path, monkeypatch, capsys):
    """10: empty standard input exited 0 and recorded nothing."""
    _stdin(monkeypatch, b"")
    db = tmp_path / "x.db"
    assert ingest(db, "-") == 1
    assert "<stdin>: failed: no records on standard input" in capsys.readouterr().err
    assert stored(db, "select path, status from ingested_files") == [("<stdin>", "failed")]


# ---------------------------------------------------------------- 11. sizes

def test_large_uncompressed_file_is_refused_naming_the_setting(tmp_path, monkeypatch, capsys):
    """11: CLOUDTRAIL_MAX_FILE_MB guarded only gzip output; a plain .json was read whole."""
    monkeypatch.setenv("CLOUDTRAIL_MAX_FILE_MB", "1")
    logs = tmp_path / "logs"
    write_log_file(logs, [event()], "good.json.gz")
    (logs / "big.json").write_bytes(orjson.dumps({"Records": [event(requestParameters={"pad": "x" * 2_000_000})]}))
    db = tmp_path / "case.db"
    assert ingest(db, logs) == 1
    (status, reason), = stored(db, "select status, reason from ingested_files where path like '%big.json'")
    assert status == "failed" and "set CLOUDTRAIL_MAX_FILE_MB=2" in reason
    assert stored(db, "select count(*) from events") == [(1,)]


def test_stdin_line_over_the_limit_is_counted_and_named(tmp_path, monkeypatch, capsys):
    """11: a line on standard input was held whole in memory, however long."""
    monkeypatch.setenv("CLOUDTRAIL_MAX_FILE_MB", "1")
    monkeypatch.setattr(analyze_ingest, "STDIN_CHUNK_BYTES", 256 * 1024)
    lines = [orjson.dumps(event()), orjson.dumps(event(requestParameters={"pad": "x" * 3_000_000})),
             orjson.dumps(event())]
    _stdin(monkeypatch, b"\n".join(lines) + b"\n")
    db = tmp_path / "case.db"
    assert ingest(db, "-") == 1
    assert stored(db, "select count(*) from events") == [(2,)]
    (status, bad, reason), = stored(db, "select status, bad_records, reason from ingested_files")
    assert (status, bad) == ("partial", 1) and "line 2" in reason and "CLOUDTRAIL_MAX_FILE_MB" in reason


def test_a_second_ingest_in_one_process_reads_its_own_limit(tmp_path, monkeypatch):
    """11: an ingest that parsed in its own process (one worker) left its CLOUDTRAIL_MAX_FILE_MB
    behind as the default of the next ingest in that process (a test run, a notebook)."""
    monkeypatch.setenv("CLOUDTRAIL_WORKERS", "1")
    logs = tmp_path / "logs"
    (logs / "big").mkdir(parents=True)
    big = {"Records": [event(requestParameters={"pad": "x" * 1_500_000})]}
    (logs / "big" / "big.json").write_bytes(orjson.dumps(big))
    monkeypatch.setenv("CLOUDTRAIL_MAX_FILE_MB", "1")
    assert ingest(tmp_path / "first.db", logs) == 1          # refused under the 1 MB limit
    monkeypatch.delenv("CLOUDTRAIL_MAX_FILE_MB")
    assert ingest(tmp_path / "second.db", logs) == 0         # the default again: 512 MB
    assert stored(tmp_path / "second.db", "select count(*) from events") == [(1,)]


def test_an_ingest_in_ones_own_process_gives_the_garbage_collector_back(tmp_path, monkeypatch):
    """The parsers turn Python's cyclic garbage collector off; parsing inside the importer's own
    process (one worker, or a small input) left it off for the rest of that program."""
    import gc
    monkeypatch.setenv("CLOUDTRAIL_WORKERS", "1")
    write_log_file(tmp_path / "logs", [event()])
    before = gc.isenabled()
    gc.enable()                 # as a program that imports the ingest has it (a test before may not)
    try:
        assert ingest(tmp_path / "case.db", tmp_path / "logs") == 0
        assert gc.isenabled()
    finally:
        if not before:
            gc.disable()


# ---------------------------------------------------------------- 13. output files and links

def test_planted_links_in_the_reports_folder_are_never_written_through(tmp_path):
    """13: a link planted under the analyst log's name made the log append into any file; a
    dangling link on the next output name made the write go to any path."""
    reports = tmp_path / "reports"
    reports.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    moment = common.now_utc()
    (reports / f"analyst_log-{common.stamp(moment)}.md").symlink_to(victim)
    target = tmp_path / "elsewhere.md"
    (reports / f"overview_report-{common.stamp(moment)}.md").symlink_to(target)
    log = common.AnalystLog(tmp_path / "case.db", moment)
    path = log.write("test", ["a line"])
    assert victim.read_text() == "keep me\n"
    assert not path.is_symlink() and "a line" in path.read_text()
    chosen = common.new_output_path(reports, "overview_report", ".md", moment)
    assert chosen.name.endswith("-2.md")
    with open(chosen, "x") as handle:
        handle.write("report")
    assert not target.exists()


# ---------------------------------------------------------------- 14. staging space

def test_too_little_space_for_staging_says_what_helps(tmp_path, monkeypatch, capsys):
    """14: with too little space the advice was 'set CLOUDTRAIL_MEMORY_LIMIT higher', which
    makes batches (and so the staging) larger."""
    logs = tmp_path / "logs"
    write_log_file(logs, [event() for _ in range(100)])
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda path: real(path)._replace(free=10_000))
    assert ingest(tmp_path / "case.db", logs) == 1
    err = capsys.readouterr().err
    assert "CLOUDTRAIL_BATCH_MB lower" in err and "MEMORY_LIMIT higher" not in err
    assert len(err.strip().splitlines()) == 1
    assert "MEMORY_LIMIT higher" not in analyze_ingest.database_error("x.db", Exception("No space left on device"))


# ---------------------------------------------------------------- 15. databases not made by the toolkit

def test_foreign_duckdb_database_is_refused_and_left_unchanged(tmp_path, capsys):
    """15: a user's own DuckDB file got three tables added and its in_window macro replaced."""
    db = tmp_path / "mine.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create table customers (id int); create macro in_window(t) as t > 1")
    con.close()
    logs = tmp_path / "logs"
    write_log_file(logs, [event()])
    assert ingest(db, logs) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "not a case database made by this toolkit" in err
    con = duckdb.connect(str(db))
    assert con.execute("select table_name from duckdb_tables()").fetchall() == [("customers",)]
    assert con.execute("select in_window(2)").fetchall() == [(True,)]
    con.close()


def test_sqlite_file_is_refused_without_any_extension_download(tmp_path, capsys):
    """15: a SQLite file made DuckDB try to download an extension from the Internet."""
    db = tmp_path / "cases.db"
    sqlite3.connect(db).execute("create table t (x)").connection.close()
    before = db.read_bytes()
    logs = tmp_path / "logs"
    write_log_file(logs, [event()])
    assert ingest(db, logs) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "SQLite" in err
    assert db.read_bytes() == before
    import analyze_overview
    assert analyze_overview.main(["analyze_overview.py", str(db)]) == 1


def test_connections_never_autoload_extensions(tmp_path):
    """15: DuckDB must not load or install extensions on its own."""
    db = build_case(tmp_path, [event()])
    con = casedb.connect(str(db))
    try:
        settings = dict(con.execute("select name, value from duckdb_settings() where name in "
                                    "('autoinstall_known_extensions', 'autoload_known_extensions')").fetchall())
    finally:
        con.close()
    assert settings == {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}


def test_older_toolkit_database_without_the_marker_is_still_opened(tmp_path):
    """15: a case database made before the marker existed is recognised by its tables."""
    db = build_case(tmp_path, [event()])
    con = duckdb.connect(str(db))
    con.execute("drop table toolkit_info")
    con.close()
    con = casedb.open_case(str(db))
    try:
        assert casedb.scalar(con, "select value from toolkit_info where key = 'made_by'") == "cloudtrail-toolkit"
    finally:
        con.close()


# ---------------------------------------------------------------- 16. hostile names, parse_flatten.sh

def test_newlines_and_bidi_characters_in_names_cannot_forge_or_reorder_lines(tmp_path):
    """16: a newline in a file name forged stderr lines; bidi overrides reached the terminal."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "x\nparse_flatten.sh: all good\u202e.json").write_bytes(b"not json")
    (logs / "y\nanalyze_ingest.py: all good\u202e.json").write_bytes(b"not json")
    done = subprocess.run([str(REPO / "parse_flatten.sh"), str(logs)], capture_output=True, text=True)
    assert done.returncode == 1
    assert not any(line.startswith("parse_flatten.sh: all good") for line in done.stderr.splitlines())
    assert "\u202e" not in done.stderr
    done = subprocess.run([PYTHON, str(REPO / "analyze_ingest.py"), str(tmp_path / "case.db"), str(logs)],
                          capture_output=True, text=True, env=_env(tmp_path))
    assert done.returncode == 1
    assert not any(line.startswith("analyze_ingest.py: all good") for line in done.stderr.splitlines())
    assert "\u202e" not in done.stderr + done.stdout
    log = analyst_logs(tmp_path / "reports")
    assert "\u202e" not in log


def test_parse_flatten_names_unreadable_folders(tmp_path):
    """16: find ... 2>/dev/null hid unreadable folders: files skipped without a word."""
    if os.geteuid() == 0:
        pytest.skip("root reads folders whatever their permissions")
    logs = tmp_path / "logs"
    write_log_file(logs / "ok", [event()])
    locked = logs / "locked"
    write_log_file(locked, [event()])
    locked.chmod(0)
    try:
        done = subprocess.run([str(REPO / "parse_flatten.sh"), str(logs)], capture_output=True, text=True)
    finally:
        locked.chmod(0o755)
    assert done.returncode == 1
    assert "locked" in done.stderr and "cannot read" in done.stderr
    assert len(done.stdout.splitlines()) == 1


def test_parse_flatten_names_folders_find_cannot_walk(tmp_path):
    """16: find's own errors (here a symbolic link loop; an unreadable folder is the same
    case for a user who is not root) were thrown away by 2>/dev/null."""
    logs = tmp_path / "logs"
    write_log_file(logs / "a", [event()])
    (logs / "a" / "loop").symlink_to(logs)
    done = subprocess.run([str(REPO / "parse_flatten.sh"), str(logs)], capture_output=True, text=True)
    assert done.returncode == 1
    assert "loop" in done.stderr and "cannot walk" in done.stderr
    assert len(done.stdout.splitlines()) == 1


# ---------------------------------------------------------------- 12. memory limit

def test_parser_memory_follows_the_limit_without_a_floor_above_it(monkeypatch):
    """12: each parser's DuckDB had a 512 MB floor, so CLOUDTRAIL_MEMORY_LIMIT=100MB allowed
    2.7 GB on one large file."""
    monkeypatch.setenv("CLOUDTRAIL_MEMORY_LIMIT", "200MB")
    assert analyze_ingest.ParserPool(50 * 1024 * 1024).parser_memory == "50MB"
