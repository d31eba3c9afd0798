"""Hostile input, interruptions, concurrency, full disks, small memory, untrusted text."""
import ast
import os
import resource
import signal
import subprocess
import sys
import time

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import analyze_console_logins
import casedb
import charts
import common
import hostile_inputs
import logfiles
from conftest import REPO, build_case, event, ingest, stored, write_log_file, analyst_logs

PYTHON = sys.executable
CASES = hostile_inputs.cases()


# ---------------------------------------------------------------- broken files

@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_file_is_named_counted_and_the_rest_loaded(tmp_path, capsys, monkeypatch, name):
    monkeypatch.setenv("CLOUDTRAIL_MAX_FILE_MB", "64")
    content, status, reason_words, kept = CASES[name]
    logs = tmp_path / "logs"
    good = event()
    write_log_file(logs, [good], "good.json.gz")
    (logs / name).write_bytes(content)
    db = tmp_path / "case.db"
    code = ingest(db, logs)
    assert code == (1 if status in ("failed", "partial") else 0)
    (found_status, reason, records), = stored(
        db, "select status, coalesce(reason, ''), records_read from ingested_files where path like ?", [f"%{name}"])
    assert (found_status, records) == (status, kept)
    assert reason_words in reason
    if status in ("failed", "partial"):
        assert name in capsys.readouterr().err
    assert stored(db, "select count(*) from events where event_id = ?", [good["eventID"]]) == [(1,)]


def test_symlink_loop_is_walked_once(tmp_path):
    logs = tmp_path / "logs"
    write_log_file(logs / "a", [event()])
    (logs / "a" / "back").symlink_to(logs)
    db = tmp_path / "case.db"
    assert ingest(db, logs) == 0
    assert stored(db, "select count(*) from events") == [(1,)]
    assert stored(db, "select status from ingested_files where reason like '%link loop%'") == [("skipped",)]


def test_unreadable_folder_is_named(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root reads folders whatever their permissions")
    logs = tmp_path / "logs"
    write_log_file(logs / "ok", [event()])
    locked = logs / "locked"
    write_log_file(locked, [event()])
    locked.chmod(0)
    try:
        assert ingest(tmp_path / "case.db", logs) == 1
    finally:
        locked.chmod(0o755)
    assert "cannot read folder" in capsys.readouterr().err


def test_pipe_named_as_a_file_is_refused_not_waited_on(tmp_path, capsys):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    assert ingest(tmp_path / "case.db", fifo) == 1
    assert "not a regular file" in capsys.readouterr().err


# ---------------------------------------------------------------- interruptions

def _corpus(folder, files=200, per_file=300):
    for number in range(files):
        write_log_file(folder, [event(requestParameters={"padding": "y" * 900, "n": i}) for i in range(per_file)],
                       f"f{number:04d}.json.gz")


def _run_ingest(db, logs, tmp_path, **extra):
    environment = os.environ | {"CLOUDTRAIL_OUTPUT_DIR": str(tmp_path / "r")} | extra
    return subprocess.Popen([PYTHON, str(REPO / "analyze_ingest.py"), str(db), str(logs)], env=environment,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_kill_at_several_points_then_rerun_equals_a_clean_run(tmp_path):
    logs = tmp_path / "logs"
    _corpus(logs)
    clean = tmp_path / "clean.db"
    assert ingest(clean, logs) == 0
    query = "select event_id, event_time, record from events order by event_id"
    expected = stored(clean, query)
    for size_at_kill in (1_500_000, 6_000_000, 12_000_000):
        db = tmp_path / f"killed-{size_at_kill}.db"
        process = _run_ingest(db, logs, tmp_path, CLOUDTRAIL_BATCH_MB="2")
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline and \
                (not db.exists() or db.stat().st_size < size_at_kill):
            time.sleep(0.005)
        process.kill()
        process.communicate()
        assert _run_ingest(db, logs, tmp_path).wait() == 0
        assert stored(db, query) == expected
        assert stored(db, "select count(*), sum(records_read) from ingested_files where status = 'loaded'") == \
            [(200, 200 * 300)]


# ---------------------------------------------------------------- concurrency

@pytest.mark.slow
def test_detector_during_an_ingest_gets_one_clear_line_or_waits(tmp_path):
    logs = tmp_path / "logs"
    _corpus(logs, files=150)
    db = tmp_path / "case.db"
    assert ingest(db, logs / "f0000.json.gz") == 0
    writer = _run_ingest(db, logs, tmp_path, CLOUDTRAIL_BATCH_MB="1")
    time.sleep(0.5)
    reader = subprocess.run([PYTHON, str(REPO / "analyze_console_logins.py"), str(db)], capture_output=True,
                            text=True, env=os.environ | {"CLOUDTRAIL_OUTPUT_DIR": str(tmp_path / "r")})
    waiting = subprocess.Popen([PYTHON, str(REPO / "analyze_console_logins.py"), str(db)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=os.environ | {"CLOUDTRAIL_OUTPUT_DIR": str(tmp_path / "r"),
                                                 "CLOUDTRAIL_LOCK_WAIT": "120"})
    assert writer.wait() == 0
    out, err = waiting.communicate()
    assert waiting.returncode == 0, err
    if reader.returncode != 0:
        assert reader.returncode == 1
        assert len(reader.stderr.strip().splitlines()) == 1 and "in use by another process" in reader.stderr
    assert stored(db, "select count(*) from events") == [(150 * 300,)]


# ---------------------------------------------------------------- disk and memory

def _file_size_limit(limit_bytes):
    def apply():
        # Writes past the limit fail as they would on a full disk (instead of killing the process).
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return apply


def test_full_disk_gives_one_clear_line_and_the_database_stays_usable(tmp_path):
    logs = tmp_path / "logs"
    _corpus(logs, files=100)
    db = tmp_path / "case.db"
    result = subprocess.run([PYTHON, str(REPO / "analyze_ingest.py"), str(db), str(logs)], capture_output=True,
                            text=True, preexec_fn=_file_size_limit(8_000_000),
                            env=os.environ | {"CLOUDTRAIL_OUTPUT_DIR": str(tmp_path / "r"), "CLOUDTRAIL_BATCH_MB": "3"})
    assert result.returncode == 1
    message = [line for line in result.stderr.splitlines() if "cannot write" in line]
    assert len(message) == 1 and "free disk space" in message[0] and "Traceback" not in result.stderr
    assert ingest(db, logs) == 0
    assert stored(db, "select count(*), count(distinct event_id) from events") == [(100 * 300, 100 * 300)]


def test_read_only_location_gives_one_clear_line(tmp_path):
    folder = tmp_path / "readonly"
    folder.mkdir()
    target = folder / "case.db"
    if os.geteuid() == 0:
        target = "/sys/case.db"     # root writes anywhere but a read-only file system
    else:
        folder.chmod(0o555)
    logs = tmp_path / "logs"
    write_log_file(logs, [event()])
    result = subprocess.run([PYTHON, str(REPO / "analyze_ingest.py"), str(target), str(logs)], capture_output=True,
                            text=True, env=os.environ | {"CLOUDTRAIL_OUTPUT_DIR": str(tmp_path / "r")})
    folder.chmod(0o755)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "cannot open" in result.stderr


def test_small_memory_limit_still_completes(tmp_path):
    logs = tmp_path / "logs"
    _corpus(logs, files=120, per_file=500)
    db = tmp_path / "case.db"
    process = _run_ingest(db, logs, tmp_path, CLOUDTRAIL_MEMORY_LIMIT="256MB")
    _, err = process.communicate()
    assert process.returncode == 0, err
    assert stored(db, "select count(*) from events") == [(120 * 500,)]


# ---------------------------------------------------------------- untrusted text

NASTY = [
    "a|b|c", "line\nbreak", "back`tick``s", "<script>alert(1)</script>", "[click](https://evil.example/x)",
    "![img](https://evil.example/i.png)", "\x1b[31mred\x1b[0m\x07", "$x^2$ mathtext", "www.evil.example",
    "**bold** _it_ ~~s~~ <b>", "\\| escaped", "&lt;entity&gt;",
]


def test_nasty_text_is_inert_in_reports_terminal_and_charts(tmp_path, capsys):
    records = []
    for number, text in enumerate(NASTY):
        identity = {"type": "IAMUser", "principalId": f"AIDA{number}", "accountId": "111122223333",
                    "userName": text}
        failure = event("ConsoleLogin", "signin.amazonaws.com", identity=identity, userAgent=text,
                        sourceIPAddress="203.0.113.5", errorMessage="Failed authentication",
                        responseElements={"ConsoleLogin": "Failure"},
                        additionalEventData={"MFAUsed": "No"}, time=f"2026-11-02T10:{number:02d}:00Z")
        records.append(failure)
    db = build_case(tmp_path, records)
    assert analyze_console_logins.main(["analyze_console_logins.py", str(db)]) == 0
    printed = capsys.readouterr()
    assert "\x1b" not in printed.out + printed.err and "\x07" not in printed.out + printed.err
    report = next((tmp_path / "reports").glob("console_logins_report-*.md")).read_text()
    assert "\x1b" not in report and "\x07" not in report
    # HTML and URLs are shown only inside code spans, where markdown renders them as text.
    for needle in ("<script>", "https://evil", "www.evil", "<b>"):
        assert _only_inside_code(report, needle), needle
    for line in report.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            assert _cells(line) in (_cells(_header_for(report, line)),), line
    log = analyst_logs(tmp_path / "reports")
    assert "\x1b" not in log and _only_inside_code(log, "<script>")


def _only_inside_code(report, needle):
    """Every occurrence of needle sits inside a code span (an odd number of backtick runs before it)."""
    import re
    for line in report.splitlines():
        position = line.find(needle)
        while position >= 0:
            if len(re.findall(r"`+", line[:position])) % 2 == 0:
                return False
            position = line.find(needle, position + 1)
    return True


def _cells(line):
    """Cells of a markdown table row, honouring \\| escapes."""
    return len([c for c in line.replace("\\|", "").split("|")]) - 2


def _header_for(report, row):
    lines = report.splitlines()
    index = lines.index(row)
    while index > 0 and lines[index - 1].startswith("|"):
        index -= 1
    return lines[index]


def test_nasty_text_in_chart_labels_draws(tmp_path):
    path = charts.bar_chart(NASTY, list(range(1, len(NASTY) + 1)), "title $x$ \x1b[31m", "count",
                            tmp_path / "labels.png")
    assert path.exists() and path.stat().st_size > 1000
    assert all("\x1b" not in charts.chart_label(text) for text in NASTY)


def test_terminal_and_markdown_escaping():
    assert common.terminal_safe("\x1b[2J\x07ok") == "\\x1b[2J\\x07ok"
    assert "|" not in common.md_text("a|b").replace("\\|", "")
    assert common.md_code("a`b") == "``a`b``"
    assert common.md_text("[x](https://evil)").startswith("`")


# ---------------------------------------------------------------- SQL never formats values

def _sql_calls_with_formatting():
    """(file, line) of execute/sql/executemany calls whose SQL is an f-string, % or .format."""
    found = []
    for path in list(REPO.glob("*.py")) + list((REPO / "scripts").glob("*.py")) + list((REPO / "samples").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            formatted = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr in ("execute", "executemany", "sql", "query") and node.args:
                formatted = node.args[0]
            elif isinstance(node, ast.keyword) and node.arg in ("sql", "activity_sql", "setup_sql"):
                formatted = node.value
            if formatted is not None and (isinstance(formatted, ast.JoinedStr) or (
                    isinstance(formatted, ast.BinOp) and isinstance(formatted.op, (ast.Mod, ast.Add))) or (
                    isinstance(formatted, ast.Call) and getattr(formatted.func, "attr", "") == "format")):
                found.append(f"{path.name}:{node.lineno if hasattr(node, 'lineno') else formatted.lineno}")
    return found


# The one place a name (never a value) is written into SQL: a threshold's variable name,
# checked against [a-z_]+ before use.
# detections.py wraps rule SQL; analyze_export.py writes COPY ... TO 'path', whose target DuckDB
# takes only as a literal (quoted by analyze_export._literal), never as a parameter.
ALLOWED_FORMATTING = {"detections.py", "analyze_export.py"}


def test_sql_never_takes_values_by_string_formatting():
    offending = [place for place in _sql_calls_with_formatting() if place.split(":")[0] not in ALLOWED_FORMATTING]
    assert offending == []


# ---------------------------------------------------------------- record shapes (property-based)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.floats(allow_nan=False, allow_infinity=False) |
    st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)

RECORDS = st.fixed_dictionaries(
    {"eventSource": st.one_of(st.just("iam.amazonaws.com"), JSON_VALUES)},
    optional={"eventVersion": JSON_VALUES, "eventID": st.one_of(st.uuids().map(str), JSON_VALUES),
              "eventTime": st.one_of(st.datetimes().map(lambda d: d.isoformat() + "Z"), JSON_VALUES),
              "eventName": JSON_VALUES, "awsRegion": JSON_VALUES, "sourceIPAddress": JSON_VALUES,
              "userIdentity": st.one_of(st.fixed_dictionaries({}, optional={
                  "type": JSON_VALUES, "arn": JSON_VALUES, "userName": JSON_VALUES,
                  "sessionContext": JSON_VALUES}), JSON_VALUES),
              "requestParameters": JSON_VALUES, "responseElements": JSON_VALUES, "readOnly": JSON_VALUES,
              "recipientAccountId": JSON_VALUES, "errorCode": JSON_VALUES, "extra": JSON_VALUES})


@pytest.fixture(scope="module")
def shape_db(tmp_path_factory):
    con = casedb.connect(str(tmp_path_factory.mktemp("shapes") / "case.db"), create=True)
    casedb.ensure_schema(con)
    yield con
    con.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(RECORDS, min_size=1, max_size=5))
def test_any_record_shape_is_stored_and_reads_back(shape_db, records, tmp_path_factory):
    """Whatever types the fields have, every record becomes a row whose record equals the original."""
    import analyze_ingest
    text = b"\n".join(orjson.dumps(r) for r in records)
    folder = tmp_path_factory.mktemp("parts")
    results, part = logfiles.extract([logfiles.read_lines("<shapes>", text, 1)], str(folder))
    assert results[0].bad_records == 0 and part[1] == len(records)
    batch = analyze_ingest.Batch()
    batch.add(results, part)
    con = shape_db
    con.execute("delete from events")
    con.register("batch", batch.table())
    low, high = casedb.one(con, "select min(event_time), max(event_time) from batch")
    con.execute(casedb.NEW_RECORDS_SQL, {"low": low, "high": high})
    con.execute(casedb.INSERT_BATCH_SQL, {"load_id": 1})
    batch.remove_parts()
    rows = casedb.rows(con, "select record, event_id, event_time, ingest_note from events")
    stored_records = sorted(orjson.dumps(orjson.loads(r[0]), option=orjson.OPT_SORT_KEYS) for r in rows)
    distinct = {orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in records}
    assert set(stored_records) <= distinct and len(rows) >= 1
    for record, event_id, event_time, note in rows:
        assert event_id
        if event_time is None:
            assert note and "eventTime" in note


def test_a_file_duckdb_cannot_split_into_columns_is_named_and_the_group_goes_on(tmp_path):
    """With a small cap on the parser's DuckDB a 20 MB record does not fit: the group falls back
    to one file at a time, the large file is marked failed with the reason, the other is kept."""
    normal = write_log_file(tmp_path / "logs", [event(), event()], "normal.json.gz")
    large = write_log_file(tmp_path / "logs", [event(requestParameters={"blob": "x" * 20_000_000})], "large.json.gz")
    items = [logfiles.InputFile(str(path), path.stat().st_size, 0) for path in (normal, large)]
    logfiles.init_worker(in_pool=False, duckdb_memory="64MB")
    logfiles._extractor = None          # this test's own cap, not one left by an earlier test
    try:
        results, part = logfiles.read_group((items, str(tmp_path)))
    finally:
        logfiles._extractor = None
        logfiles.init_worker(in_pool=False)
    by_name = {os.path.basename(r.path): r for r in results}
    assert by_name["large.json.gz"].status == "failed"
    assert "could not be turned into columns" in by_name["large.json.gz"].reason
    assert by_name["normal.json.gz"].status == "loaded" and part[1] == 2
