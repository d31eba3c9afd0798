"""analyze_ingest.py: layouts, real records read back exactly, reruns, copies, stdin, bad inputs,
interrupted runs, times, and a second writer."""
import gzip
import os
import shutil
import signal
import subprocess
import sys
import time

import orjson
import pytest

from conftest import (REPO, SHARED_DATA, analyst_logs, build_case, event, ingest, labelled_records, needs_shared_data,
                      shared_log_trees, stored, write_log_file)

PYTHON = sys.executable


def canonical(record):
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)


def stored_records(db):
    return [orjson.loads(text) for (text,) in stored(db, "select record from events")]


# ---------------------------------------------------------------- real records

@needs_shared_data
def test_real_log_trees_read_back_exactly(tmp_path):
    """Every record of the public S3 trees is stored, and its record column equals the original."""
    originals = []
    for tree in shared_log_trees():
        for path in tree.rglob("*.json.gz"):
            originals += orjson.loads(gzip.decompress(path.read_bytes()))["Records"]
    db = tmp_path / "case.db"
    assert ingest(db, *shared_log_trees()) == 0
    kept = sorted(map(canonical, stored_records(db)))
    assert kept == sorted(map(canonical, originals))
    assert stored(db, "select count(*) from ingested_files where status <> 'loaded'") == [(0,)]


@needs_shared_data
def test_every_labelled_public_record_ingests_and_reads_back(tmp_path):
    """The labelled records of Panther, TrailDiscover, AWS docs and Stratus, as NDJSON."""
    events = [row["event"] for name in ("panther/labelled_events.jsonl", "traildiscover/labelled_events.jsonl",
                                        "awsdocs/example_events.jsonl", "panther/test_scenarios_events.jsonl")
              for row in labelled_records(name)]
    # Panther's "Standard" rule tests hold stubs with no CloudTrail field at all.
    stubs = [e for e in events if not any(k.lower() in ("eventsource", "eventversion", "useridentity", "awsregion")
                                          for k in e)]
    assert len(stubs) <= 8
    path = tmp_path / "labelled.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in events))
    db = tmp_path / "case.db"
    assert ingest(db, path) == 1            # the stubs are named as bad records
    (status, bad), = stored(db, "select status, bad_records from ingested_files")
    assert (status, bad) == ("partial", len(stubs))
    kept = {canonical(r) for r in stored_records(db)}
    records = [e for e in events if e not in stubs]
    missing = [e for e in records if canonical(e) not in kept]
    # Only exact repeats (the same test event under several rules) may be missing.
    assert all(any(canonical(e) == canonical(other) for other in records if other is not e) or
               _same_event_stored(e, kept) for e in missing)


def _same_event_stored(record, kept):
    """A repeat of an event that is stored: same id, time, action, account, source and caller."""
    key = lambda r: (r.get("eventID"), r.get("eventTime"), r.get("eventName"), r.get("recipientAccountId"),
                     r.get("sourceIPAddress"), (r.get("userIdentity") or {}).get("principalId"))
    return any(key(orjson.loads(k)) == key(record) for k in kept)


# ---------------------------------------------------------------- layouts and bucket objects

def test_real_bucket_layouts_and_objects(tmp_path):
    logs = tmp_path / "logs"
    write_log_file(logs / "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/02", [event()], "a.json.gz")
    write_log_file(logs / "AWSLogs/o-a1b2c3d4e5/444455556666/CloudTrail/eu-west-1/2026/11/02",
                   [event(recipientAccountId="444455556666")], "b.json.gz")
    write_log_file(logs / "444455556666/CloudTrail/us-west-2/2026/11/02", [event()], "c.json.gz")
    write_log_file(logs / "flat", [event()], "d.json.gz")
    (logs / "flat/e.json").write_bytes(orjson.dumps({"Records": [event()]}))
    (logs / "flat/f.jsonl").write_bytes(orjson.dumps(event()) + b"\n" + orjson.dumps(event()) + b"\n")
    (logs / "flat/g.ndjson.gz").write_bytes(gzip.compress(orjson.dumps(event())))
    digest = logs / "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/02/d.json.gz"
    digest.parent.mkdir(parents=True)
    digest.write_bytes(gzip.compress(orjson.dumps({"digestStartTime": "2026-11-02T00:00:00Z", "logFiles": []})))
    (logs / "AWSLogs/111122223333/CloudTrail/ConfigWritabilityCheckFile").write_bytes(b"")
    insight = {"eventVersion": "1.08", "eventTime": "2026-11-02T10:00:00Z", "awsRegion": "us-east-1",
               "eventID": "insight-1", "eventType": "AwsCloudTrailInsight", "eventCategory": "Insight",
               "eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey",
               "recipientAccountId": "111122223333", "sharedEventID": "shared-1",
               "insightDetails": {"state": "Start", "eventName": "CreateAccessKey",
                                  "insightType": "ApiCallRateInsight"}}
    write_log_file(logs / "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/11/02", [insight], "i.json.gz")
    db = tmp_path / "case.db"
    assert ingest(db, logs) == 0
    assert stored(db, "select count(*) from events") == [(9,)]
    statuses = dict(stored(db, "select status, count(*) from ingested_files group by 1"))
    assert statuses == {"loaded": 8, "skipped": 2}
    assert stored(db, "select event_category from events where event_id = 'insight-1'") == [("Insight",)]


# ---------------------------------------------------------------- reruns, copies, duplicates

def test_rerun_reads_nothing_and_adds_nothing(tmp_path, capsys):
    logs = tmp_path / "logs"
    files = [write_log_file(logs, [event() for _ in range(3)], f"f{i}.json.gz") for i in range(4)]
    db = tmp_path / "case.db"
    assert ingest(db, logs) == 0
    before = stored(db, "select count(*), count(distinct event_id) from events")
    # An unchanged file is recognised by path, size and modification time without being read:
    # garbage of the same size with the same time goes unnoticed.
    stat = files[0].stat()
    files[0].write_bytes(b"x" * stat.st_size)
    os.utime(files[0], ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert ingest(db, logs) == 0
    assert stored(db, "select count(*), count(distinct event_id) from events") == before == [(12, 12)]
    assert "0 loaded" in capsys.readouterr().out
    assert stored(db, "select count(*) from ingested_files") == [(4,)]


def test_copied_or_renamed_file_adds_nothing(tmp_path):
    logs = tmp_path / "logs"
    original = write_log_file(logs, [event() for _ in range(3)], "a.json.gz")
    db = tmp_path / "case.db"
    assert ingest(db, logs) == 0
    shutil.copy(original, logs / "copy.json.gz")
    original.rename(logs / "renamed.json.gz")
    assert ingest(db, logs) == 0
    assert stored(db, "select count(*) from events") == [(3,)]
    reasons = stored(db, "select reason from ingested_files where status = 'skipped'")
    assert len(reasons) == 2 and all("same content as" in r for (r,) in reasons)


def test_event_delivered_in_two_files_is_stored_once(tmp_path):
    shared = event("CreateUser", "iam.amazonaws.com")
    logs = tmp_path / "logs"
    write_log_file(logs, [shared, event()], "a.json.gz")
    write_log_file(logs, [event(), shared], "b.json.gz")
    db = tmp_path / "case.db"
    assert ingest(db, logs) == 0
    assert stored(db, "select count(*) from events where event_id = ?", [shared["eventID"]]) == [(1,)]
    assert stored(db, "select sum(new_events), sum(duplicate_events) from ingested_files") == [(3, 1)]


def test_different_events_sharing_an_id_are_all_kept(tmp_path):
    """Hand-made data reuses ids for different events; none may be silently dropped."""
    victim = event("ConsoleLogin", "signin.amazonaws.com", eventID="1", sourceIPAddress="198.51.100.1")
    attacker = event("ConsoleLogin", "signin.amazonaws.com", eventID="1", sourceIPAddress="203.0.113.1")
    db = build_case(tmp_path, [victim, attacker])
    assert stored(db, "select count(*) from events where event_id = '1'") == [(2,)]


def test_record_without_event_id_gets_a_stable_content_id(tmp_path):
    record = event()
    del record["eventID"]
    db = build_case(tmp_path, [record, dict(record)])
    rows = stored(db, "select event_id, ingest_note from events")
    assert len(rows) == 1
    assert rows[0][0].startswith("sha256:") and "no eventID" in rows[0][1]
    again = build_case(tmp_path, [dict(record)], name="again.db")
    assert stored(again, "select event_id from events") == [(rows[0][0],)]


# ---------------------------------------------------------------- stdin and parse_flatten.sh

def test_stdin_and_files_give_identical_tables(tmp_path):
    logs = tmp_path / "logs"
    write_log_file(logs / "a", [event(requestParameters={"maxResults": 0.0, "filter": {"n": [1, 2]}})
                                for _ in range(5)], "a.json.gz")
    write_log_file(logs / "b", [event("ConsoleLogin", "signin.amazonaws.com") for _ in range(5)], "b.json.gz")
    from_files, from_stdin = tmp_path / "files.db", tmp_path / "stdin.db"
    assert ingest(from_files, logs) == 0
    flatten = subprocess.run([str(REPO / "parse_flatten.sh"), str(logs)], capture_output=True, check=True)
    result = subprocess.run([PYTHON, str(REPO / "analyze_ingest.py"), str(from_stdin), "-"], input=flatten.stdout,
                            capture_output=True, env=os.environ | {"CLOUDTRAIL_OUTPUT_DIR": str(tmp_path / "r")})
    assert result.returncode == 0, result.stderr
    json_columns = ("request_parameters", "response_elements", "additional_event_data",
                    "resources", "tls_details", "service_event_details", "record")
    plain = f"select * exclude (source_file, load_id, {', '.join(json_columns)}) from events order by event_id"
    assert stored(from_files, plain) == stored(from_stdin, plain)
    # jq 1.6 prints 0.0 as 0: the JSON text may differ, the values are equal.
    as_json = f"select {', '.join(json_columns)} from events order by event_id"
    parse = lambda rows: [[orjson.loads(v) if v else v for v in row] for row in rows]
    assert parse(stored(from_files, as_json)) == parse(stored(from_stdin, as_json))
    assert stored(from_stdin, "select distinct source_file from events") == [("<stdin>",)]


def test_parse_flatten_names_bad_files_and_goes_on(tmp_path):
    logs = tmp_path / "logs with spaces"
    write_log_file(logs, [event(), event()], "good one.json.gz")
    (logs / "corrupt.json.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    digest = logs / "CloudTrail-Digest" / "x.json.gz"
    digest.parent.mkdir()
    digest.write_bytes(gzip.compress(b'{"digestStartTime": "x"}'))
    result = subprocess.run([str(REPO / "parse_flatten.sh"), str(logs)], capture_output=True)
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 2
    assert b"corrupt.json.gz" in result.stderr and b"1 digest" in result.stderr


def test_bad_stdin_lines_are_named_and_the_rest_stored(tmp_path):
    lines = [orjson.dumps(event()), b"{not json", orjson.dumps({"hello": "world"}), orjson.dumps(event())]
    result = subprocess.run([PYTHON, str(REPO / "analyze_ingest.py"), str(tmp_path / "case.db"), "-"],
                            input=b"\n".join(lines), capture_output=True,
                            env=os.environ | {"CLOUDTRAIL_OUTPUT_DIR": str(tmp_path / "r")})
    assert result.returncode == 1
    assert b"line 2: not valid JSON" in result.stderr and b"line 3: not a CloudTrail record" in result.stderr
    assert stored(tmp_path / "case.db", "select count(*) from events") == [(2,)]
    assert stored(tmp_path / "case.db", "select status, bad_records from ingested_files") == [("partial", 2)]


# ---------------------------------------------------------------- bad files never stop the run

BAD_FILES = {
    "corrupt.json.gz": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage",
    "truncated.json.gz": gzip.compress(orjson.dumps({"Records": [event()]}))[:-12],
    "truncated.json": orjson.dumps({"Records": [event()]})[:-20],
    "not_cloudtrail.json": orjson.dumps({"hello": "world"}),
    "records_not_a_list.json": orjson.dumps({"Records": {"a": 1}}),
    "empty.json.gz": b"",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_is_named_counted_and_the_rest_loaded(tmp_path, capsys, name):
    logs = tmp_path / "logs"
    write_log_file(logs, [event(), event()], "good.json.gz")
    (logs / name).write_bytes(BAD_FILES[name])
    db = tmp_path / "case.db"
    assert ingest(db, logs) == 1
    captured = capsys.readouterr()
    assert name in captured.err
    assert stored(db, "select count(*) from events") == [(2,)]
    (status, reason), = stored(db, "select status, reason from ingested_files where path like ?", [f"%{name}"])
    assert status == "failed" and reason
    log = analyst_logs(tmp_path / "reports")
    assert name in log


def test_broken_link_is_named(tmp_path, capsys):
    logs = tmp_path / "logs"
    write_log_file(logs, [event()], "good.json.gz")
    (logs / "gone.json.gz").symlink_to(tmp_path / "missing.json.gz")
    assert ingest(tmp_path / "case.db", logs) == 1
    assert "gone.json.gz: failed: cannot read: No such file or directory" in capsys.readouterr().err
    assert stored(tmp_path / "case.db", "select count(*) from events") == [(1,)]


def test_unreadable_file_is_named(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions; test_broken_link_is_named covers the path")
    logs = tmp_path / "logs"
    locked = write_log_file(logs, [event()], "locked.json.gz")
    write_log_file(logs, [event()], "good.json.gz")
    os.chmod(locked, 0)
    try:
        assert ingest(tmp_path / "case.db", logs) == 1
    finally:
        os.chmod(locked, 0o644)
    assert "Permission denied" in capsys.readouterr().err


def test_missing_input_is_named_and_nothing_is_created(tmp_path, capsys):
    """A path argument that does not exist is a bad argument: named, exit 2, and no database
    or DATABASE.tmp/ is left behind (the other inputs are read once the command is fixed)."""
    logs = tmp_path / "logs"
    write_log_file(logs, [event()])
    assert ingest(tmp_path / "case.db", tmp_path / "nope", logs) == 2
    assert "nope' does not exist" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs"]


def test_usage_errors(tmp_path, capsys):
    import analyze_ingest
    assert analyze_ingest.main(["analyze_ingest.py"]) == 2
    assert analyze_ingest.main(["analyze_ingest.py", str(tmp_path / "x.db"), "-", "-"]) == 2
    assert "usage: analyze_ingest.py DATABASE INPUT" in capsys.readouterr().err


# ---------------------------------------------------------------- times

def test_event_times_in_every_form_are_read_as_utc(tmp_path):
    records = [event(time="2026-11-02T10:00:00Z"), event(time="2026-11-02T10:00:00.250Z"),
               event(time="2026-11-02 10:00:00"), event(time="2026-11-02T12:00:00+02:00"),
               event(time="not a time"), event(time="9999-99-99T00:00:00Z")]
    del records[0]["eventTime"]
    db = build_case(tmp_path, records)
    rows = dict(stored(db, "select event_id, strftime(event_time, '%Y-%m-%d %H:%M:%S.%g') from events"))
    assert [rows[r["eventID"]] for r in records[1:4]] == ["2026-11-02 10:00:00.250", "2026-11-02 10:00:00.000",
                                                          "2026-11-02 10:00:00.000"]
    notes = dict(stored(db, "select event_id, ingest_note from events where event_time is null"))
    assert notes == {records[0]["eventID"]: "no eventTime",
                     records[4]["eventID"]: "eventTime not understood: not a time",
                     records[5]["eventID"]: "eventTime not understood: 9999-99-99T00:00:00Z"}


# ---------------------------------------------------------------- interruptions and a second writer

def _write_corpus(folder, files, per_file):
    for number in range(files):
        write_log_file(folder, [event(requestParameters={"padding": "x" * 800, "n": i}) for i in range(per_file)],
                       f"f{number:04d}.json.gz")


def test_killed_run_then_rerun_equals_a_clean_run(tmp_path):
    logs = tmp_path / "logs"
    _write_corpus(logs, 240, 400)
    clean, killed = tmp_path / "clean.db", tmp_path / "killed.db"
    assert ingest(clean, logs) == 0
    environment = os.environ | {"CLOUDTRAIL_BATCH_MB": "2", "CLOUDTRAIL_OUTPUT_DIR": str(tmp_path / "r")}
    process = subprocess.Popen([PYTHON, str(REPO / "analyze_ingest.py"), str(killed), str(logs)],
                               env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # The writer holds the database lock, so progress is watched through the file's size:
    # it grows as each batch is committed.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not killed.exists() or killed.stat().st_size < 4_000_000):
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    partial = stored(killed, "select count(*) from events")[0][0]
    assert 0 < partial < 240 * 400, "the kill did not land in the middle of the run"
    assert subprocess.run([PYTHON, str(REPO / "analyze_ingest.py"), str(killed), str(logs)], env=environment,
                          capture_output=True).returncode == 0
    query = "select event_id, event_time, event_name, record from events order by event_id"
    assert stored(killed, query) == stored(clean, query)
    assert stored(killed, "select count(*) from ingested_files where status = 'loaded'") == [(240,)]


def test_second_writer_gets_a_clear_message(tmp_path):
    logs = tmp_path / "logs"
    _write_corpus(logs, 60, 400)
    db = tmp_path / "case.db"
    environment = os.environ | {"CLOUDTRAIL_OUTPUT_DIR": str(tmp_path / "r"), "CLOUDTRAIL_BATCH_MB": "1"}
    first = subprocess.Popen([PYTHON, str(REPO / "analyze_ingest.py"), str(db), str(logs)], env=environment,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not db.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        second = subprocess.run([PYTHON, str(REPO / "analyze_ingest.py"), str(db), str(logs)], env=environment,
                                capture_output=True, text=True)
    finally:
        first.wait()
    assert first.returncode == 0
    if second.returncode == 0:
        pytest.skip("the first run finished before the second started")
    assert second.returncode == 1
    message = second.stderr.strip()
    assert len(message.splitlines()) == 1 and "in use by another process" in message and "Traceback" not in message
