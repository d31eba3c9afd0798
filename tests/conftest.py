"""Shared test helpers: realistic CloudTrail records, case databases built through the real
ingest path, running a detector's detections, and the public records in ../shared/data."""
import dataclasses
import gzip
import itertools
import sys
from pathlib import Path

import orjson
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO))

import analyze_ingest  # noqa: E402
import casedb  # noqa: E402
import detections  # noqa: E402
import rules  # noqa: E402

ACCOUNT = "111122223333"
_ids = itertools.count(1)

needs_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason=f"real CloudTrail records not found at {SHARED_DATA}")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds (deselect with -m 'not slow')")
    config.addinivalue_line("markers", "spark: runs on Apache Spark local[2] (Java 17 and requirements-spark.txt); "
                                       "make test-spark runs them, make test leaves them out")


@pytest.fixture(autouse=True)
def _outputs_in_tmp(tmp_path, monkeypatch):
    """Reports and analyst logs of a test go to its own folder, never into the repository."""
    monkeypatch.setenv("CLOUDTRAIL_OUTPUT_DIR", str(tmp_path / "reports"))


def event(name="DescribeInstances", source="ec2.amazonaws.com", time="2026-11-02T10:00:00Z", identity=None,
          **fields):
    """A CloudTrail record as AWS writes it, with defaults for everything not given.

    identity: a userIdentity dict, or a shortcut: 'alice' (IAM user), 'root', or a role
    session 'role:NAME/SESSION'.
    """
    number = next(_ids)
    record = {
        "eventVersion": "1.09",
        "userIdentity": _identity(identity or "alice"),
        "eventTime": time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0 exe/x86_64.ubuntu.22",
        "requestParameters": None,
        "responseElements": None,
        "requestID": f"req-{number:08d}",
        "eventID": f"00000000-0000-4000-8000-{number:012d}",
        "readOnly": name.startswith(("Describe", "List", "Get")),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    record.update(fields)
    return record


def _identity(shortcut):
    if isinstance(shortcut, dict):
        return shortcut
    if shortcut == "root":
        return {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root",
                "accountId": ACCOUNT, "accessKeyId": "ASIAROOTEXAMPLE0001"}
    if shortcut.startswith("role:"):
        role, session = shortcut[5:].split("/", 1)
        return {"type": "AssumedRole", "principalId": f"AROAEXAMPLE:{session}",
                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}", "accountId": ACCOUNT,
                "accessKeyId": "ASIAEXAMPLE000000001",
                "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE",
                                                     "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                                                     "accountId": ACCOUNT, "userName": role},
                                   "attributes": {"creationDate": "2026-11-02T09:00:00Z",
                                                  "mfaAuthenticated": "false"}}}
    return {"type": "IAMUser", "principalId": f"AIDA{shortcut.upper()}EXAMPLE", "accountId": ACCOUNT,
            "arn": f"arn:aws:iam::{ACCOUNT}:user/{shortcut}", "accessKeyId": "AKIAEXAMPLE000000001",
            "userName": shortcut}


def write_log_file(folder, records, name="111122223333_CloudTrail_us-east-1_20261102T1000Z_test.json.gz"):
    """Writes records as a CloudTrail log file (gzip JSON {"Records": [...]})."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(orjson.dumps({"Records": records}), mtime=0))
    return path


def ingest(db_path, *inputs):
    """Runs analyze_ingest.py on the inputs; returns its exit code."""
    return analyze_ingest.main(["analyze_ingest.py", str(db_path), *map(str, inputs)])


def build_case(tmp_path, records, name="case.db"):
    """A case database holding exactly these records, loaded through the real ingest path."""
    logs = tmp_path / f"logs-{name}"
    write_log_file(logs, records)
    db_path = tmp_path / name
    assert ingest(db_path, logs) == 0
    return db_path


def area_of(area):
    """An Area with its detections: from an area name ("recon"), an Area, or a detector script
    module (analyze_recon, or a script not yet moved to the rules package)."""
    if isinstance(area, str):
        return rules.load_area(area)
    if isinstance(area, detections.Area):
        return area
    if hasattr(area, "DETECTIONS"):
        return dataclasses.replace(area.AREA, detections=tuple(area.DETECTIONS))
    return rules.load_area(area.__name__.removeprefix("analyze_"))


def detect(db_path, area, since=None, until=None):
    """Runs an area's detections (no report or charts): {detection id: [findings]}.
    area: an area name ("console_logins"), an Area, or a detector script module."""
    area = area_of(area)
    con, _ = detections.open_scope(str(db_path), since, until)
    try:
        if area.setup_sql:
            con.execute(area.setup_sql)
        detections.apply_settings(con, area.settings)
        outcomes = detections.run_detections(con, area.detections)
    finally:
        con.close()
    failed = {o.detection.id: o.error for o in outcomes if o.error}
    assert not failed, f"detections failed: {failed}"
    return {o.detection.id: o.findings for o in outcomes}


def fired_ids(found, detection_id):
    """Every event id behind the findings of one detection."""
    return {event_id for finding in found[detection_id] for event_id in finding["event_ids"]}


def stored(db_path, sql, params=None):
    con = casedb.connect(str(db_path))
    try:
        return casedb.rows(con, sql, params)
    finally:
        con.close()


def reports_dir(db_path):
    """The folder a run on db_path writes its reports, charts and analyst log to. Tests set
    CLOUDTRAIL_OUTPUT_DIR to tmp_path/reports (used as given); without it, reports/<stem>/."""
    import common
    return common.output_dir(db_path)


def as_read(markdown):
    """A report's text as a reader of the rendered page sees it: the lines of a wrapped paragraph
    joined (common.wrap_markdown), every run of white space one space."""
    return " ".join(markdown.split())


def analyst_logs(folder):
    """The text of every analyst log in folder, oldest first. A test never reads just the first:
    runs in different minutes (a busy machine, a minute boundary) write different logs."""
    return "".join(path.read_text() for path in sorted(Path(folder).glob("analyst_log-*.md")))


def labelled_records(relative_path):
    """Rows of a labelled JSONL file in ../shared/data (each has an 'event')."""
    path = SHARED_DATA / relative_path
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def shared_log_trees():
    """The S3-layout folders of real records in ../shared/data."""
    return [SHARED_DATA / "stratus-red-team" / "s3", SHARED_DATA / "panther" / "s3_test_scenarios",
            SHARED_DATA / "otrf" / "s3"]
