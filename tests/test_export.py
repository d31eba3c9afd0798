"""analyze_export.py: Parquet, CSV and JSON Lines round trips (row counts equal the database's,
columns as documented, hostile text neutralised for spreadsheets), filters, and refusals."""
import csv
import subprocess
import sys

import duckdb
import orjson
import pytest

import analyze_export
import analyze_iam
from conftest import REPO, build_case, detect, event, stored

HOSTILE = "=HYPERLINK(\"http://evil.example\",\"click\")"


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("export-case")
    records = [
        event("CreateUser", "iam.amazonaws.com", "2026-11-02T10:00:00Z", requestParameters={"userName": "mallory"}),
        event("CreateAccessKey", "iam.amazonaws.com", "2026-11-02T10:01:00Z", requestParameters={"userName": "mallory"},
              userAgent=HOSTILE),
        event("ListBuckets", "s3.amazonaws.com", "2026-11-03T09:00:00Z", identity="bob", sourceIPAddress="203.0.113.9",
              userAgent="+cmd|' /C calc'!A0"),
        event("GetCallerIdentity", "sts.amazonaws.com", "2026-11-03T09:00:01Z", recipientAccountId="000000000000",
              userAgent="-2+3", errorCode="@SUM(1)"),
    ]
    db_path = build_case(tmp_path, records)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLOUDTRAIL_OUTPUT_DIR", str(tmp_path / "reports"))
        assert analyze_iam.main(["analyze_iam.py", str(db_path)]) == 0
    return db_path


def export(db_path, folder, *words):
    return analyze_export.main(["analyze_export.py", str(db_path), str(folder), *words])


def test_parquet_layout_round_trips(case, tmp_path):
    out = tmp_path / "export"
    assert export(case, out) == 0
    days = sorted(path.name for path in (out / "events").iterdir())
    assert days == ["event_date=2026-11-02", "event_date=2026-11-03"]
    con = duckdb.connect()
    events = f"read_parquet('{out}/events/*/*.parquet', hive_partitioning = true, hive_types_autocast = false)"
    assert con.sql(f"select count(*) from {events}").fetchall()[0][0] == stored(case, "select count(*) from events")[0][0]
    # every events column is there, account ids keep their leading zeros, the partition is text
    columns = [row[0] for row in con.sql(f"describe select * from {events}").fetchall()]
    assert columns[:-1] == [name for name, _ in stored(case, "select column_name, ordinal_position from "
                                                             "information_schema.columns where table_name = 'events' "
                                                             "order by 2")]
    assert columns[-1] == "event_date"
    assert con.sql(f"select count(*) from {events} where recipient_account_id = '000000000000'").fetchall()[0][0] == 1
    assert con.sql(f"select typeof(event_date) from {events} limit 1").fetchall()[0][0] == "VARCHAR"
    ids = {row[0] for row in con.sql(f"select event_id from {events}").fetchall()}
    assert ids == {row[0] for row in stored(case, "select event_id from events")}
    for table in ("findings", "ingested_files"):
        count = con.sql(f"select count(*) from read_parquet('{out}/{table}/*.parquet')").fetchall()[0][0]
        assert count == stored(case, f"select count(*) from {table}")[0][0] and count > 0
    assert not (out / "incidents").exists()  # this case has no incidents table


def test_parquet_files_are_sorted_by_account_region_and_time(case, tmp_path):
    out = tmp_path / "export"
    assert export(case, out) == 0
    rows = duckdb.sql(f"select recipient_account_id, aws_region, event_time, event_id from "
                      f"read_parquet('{out}/events/event_date=2026-11-03/*.parquet')").fetchall()
    assert rows == sorted(rows)


def test_csv_and_jsonl_have_the_documented_columns_and_counts(case, tmp_path):
    out = tmp_path / "tables"
    assert export(case, out, "csv", "jsonl") == 0
    with open(out / "findings.csv", newline="", encoding="utf-8") as handle:
        findings = list(csv.DictReader(handle))
    assert list(findings[0]) == [name for name, _ in analyze_export.FINDINGS_EXPORT]
    assert len(findings) == stored(case, "select count(*) from findings")[0][0] > 0
    with open(out / "timeline.csv", newline="", encoding="utf-8") as handle:
        timeline = list(csv.DictReader(handle))
    assert list(timeline[0]) == [name for name, _ in analyze_export.TIMELINE_EXPORT]
    assert len(timeline) == 4
    lines = (out / "timeline.jsonl").read_bytes().splitlines()
    assert len(lines) == 4
    first = orjson.loads(lines[0])
    assert list(first) == [name for name, _ in analyze_export.TIMELINE_EXPORT]
    assert first["time"] == "2026-11-02T10:00:00Z" and first["action"] == "CreateUser" and first["service"] == "iam"
    assert first["resource"] == "mallory"
    # the events behind a finding carry its id: detection_id:triggering event
    flagged = [row for row in timeline if row["finding_ids"]]
    assert flagged and all(":" in row["finding_ids"] for row in flagged)
    json_findings = [orjson.loads(line) for line in (out / "findings.jsonl").read_bytes().splitlines()]
    assert len(json_findings) == len(findings) and isinstance(json_findings[0]["event_ids"], list)


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(case, tmp_path):
    out = tmp_path / "tables"
    assert export(case, out, "csv", "jsonl") == 0
    with open(out / "timeline.csv", newline="", encoding="utf-8") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert "'" + HOSTILE in cells and "'+cmd|' /C calc'!A0" in cells and "'-2+3" in cells and "'@SUM(1)" in cells
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    # JSON Lines keeps the text exactly (JSON consumers do not evaluate formulas)
    agents = {orjson.loads(line)["user_agent"] for line in (out / "timeline.jsonl").read_bytes().splitlines()}
    assert HOSTILE in agents


@pytest.mark.parametrize("words, expected", [
    (["principal=arn:aws:iam::111122223333:user/bob"], {"ListBuckets"}),
    (["principal=bob"], {"ListBuckets"}),
    (["ip=203.0.113.9"], {"ListBuckets"}),
    (["since=2026-11-03", "until=2026-11-03"], {"ListBuckets", "GetCallerIdentity"}),
    (["jsonl", "since=2026-11-02T10:00:30", "until=2026-11-02"], {"CreateAccessKey"}),
])
def test_timeline_filters(case, tmp_path, words, expected):
    out = tmp_path / "one"
    assert export(case, out, *words) == 0
    kind = "jsonl" if "jsonl" in words else "csv"
    if kind == "csv":
        with open(out / "timeline.csv", newline="", encoding="utf-8") as handle:
            actions = {row["action"] for row in csv.DictReader(handle)}
    else:
        actions = {orjson.loads(line)["action"] for line in (out / "timeline.jsonl").read_bytes().splitlines()}
    assert actions == expected


def test_an_existing_export_is_never_overwritten(case, tmp_path, capsys):
    out = tmp_path / "export"
    assert export(case, out, "csv") == 0
    before = (out / "findings.csv").read_bytes()
    assert export(case, out, "csv") == 1
    assert "already exists" in capsys.readouterr().err
    assert (out / "findings.csv").read_bytes() == before


@pytest.mark.parametrize("words", [[], ["xml"], ["colour=red"], ["parquet", "ip=1.2.3.4"], ["since=yesterday"]])
def test_bad_arguments_print_usage_and_exit_2(case, tmp_path, words):
    argv = [sys.executable, str(REPO / "analyze_export.py")]
    argv += [str(case), str(tmp_path / "x"), *words] if words else []
    result = subprocess.run(argv, capture_output=True, text=True)
    assert result.returncode == 2
    assert "usage: analyze_export.py" in result.stderr and "Traceback" not in result.stderr


def test_export_streams_through_copy_not_python(case, tmp_path, monkeypatch):
    """Rows never pass through Python: the export issues COPY statements only."""
    seen = []
    original = analyze_export._copy
    monkeypatch.setattr(analyze_export, "_copy", lambda con, query, *rest: seen.append(query) or original(con, query, *rest))
    assert export(case, tmp_path / "t", "jsonl") == 0
    assert len(seen) == 2  # findings and timeline (this case has no incidents table)


def test_detect_helper_still_sees_findings(case):
    # the fixture's detector run is the one exported above
    assert detect(case, analyze_iam)["iam_user_created"]


def test_readme_documents_the_export_columns():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- export-columns:start -->")[1].split("<!-- export-columns:end -->")[0]
    documented = [line.split("|")[1].strip().strip("`") for line in section.splitlines()
                  if line.startswith("| `")]
    code = [name for name, _ in analyze_export.FINDINGS_EXPORT] + [name for name, _ in analyze_export.TIMELINE_EXPORT]
    assert documented == code
    meanings = [line.split("|")[2].strip() for line in section.splitlines() if line.startswith("| `")]
    assert meanings == [meaning for _, meaning in analyze_export.FINDINGS_EXPORT + analyze_export.TIMELINE_EXPORT]
