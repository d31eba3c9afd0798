"""Case overview: gap detection (a steady region's empty hours; a region that goes silent; sparse
regions left alone), newcomers in the last day, and the script end to end."""
import datetime as dt

import pytest

import analyze_overview as overview
import casedb
import detections
from conftest import build_case, event, needs_shared_data, shared_log_trees, ingest

START = dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc)


def at(hours, minutes=10):
    return (START + dt.timedelta(hours=hours, minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def hourly(region, hours, **fields):
    return [event("DescribeInstances", time=at(h), awsRegion=region, **fields) for h in hours]


def gaps_of(db, since=None, until=None, step="1 hour", min_buckets=12, share=0.5):
    con, _ = detections.open_scope(str(db), since, until)
    try:
        series, gaps = overview.find_gaps(con, step, min_buckets, share)
    finally:
        con.close()
    return ({(a, r): steady for a, r, *_, steady in series},
            [(a, r, start.hour, n, to_end) for a, r, start, _, n, _, _, to_end in gaps])


def test_hours_without_events_inside_a_steady_region_are_listed(tmp_path):
    busy = hourly("us-east-1", [h for h in range(24) if h not in (5, 6, 7)])
    sparse = hourly("eu-west-1", [1, 9, 23])
    steady, gaps = gaps_of(build_case(tmp_path, busy + sparse))
    assert steady[("111122223333", "us-east-1")] and not steady[("111122223333", "eu-west-1")]
    # The region and its account as a whole (eu-west-1's events at 01:00 and 23:00 do not cover 05-07).
    assert ("111122223333", "us-east-1", 5, 3, False) in gaps
    assert ("111122223333", "(all regions)", 5, 3, False) in gaps
    assert not [g for g in gaps if g[1] == "eu-west-1"]


def test_a_region_that_goes_silent_shows_a_gap_to_the_end_of_the_data(tmp_path):
    records = hourly("us-east-1", range(24)) + hourly("eu-west-1", range(14))
    _, gaps = gaps_of(build_case(tmp_path, records))
    assert gaps == [("111122223333", "eu-west-1", 14, 10, True)]


@pytest.mark.parametrize("hours", [range(0, 24, 2), range(0, 24), range(10)],
                         ids=["below the share", "no empty hour", "span too short"])
def test_no_gaps_for_sparse_complete_or_short_series(tmp_path, hours):
    _, gaps = gaps_of(build_case(tmp_path, hourly("us-east-1", hours)), share=0.6)
    assert gaps == []


def test_days_without_events_are_judged_by_day_for_quiet_regions(tmp_path):
    days = [0, 1, 2, 3, 6, 7, 8, 9]
    records = [event(time=at(24 * d + 3), awsRegion="ap-southeast-2") for d in days]
    steady, gaps = gaps_of(build_case(tmp_path, records), step="1 day", min_buckets=7)
    assert ("111122223333", "ap-southeast-2", 0, 2, False) in gaps
    assert steady[("111122223333", "ap-southeast-2")]


def test_new_identities_and_ips_in_the_last_day(tmp_path):
    records = [event(time=at(24 * d), identity="alice") for d in range(3)]
    records += [event(time=at(48 + 2), identity="mallory", sourceIPAddress="203.0.113.66")]
    records += [event(time=at(48 + 3), identity="role:web/i-0new", sourceIPAddress="10.0.1.9")]
    records += [event(time=at(1), identity="role:web/i-0old")]
    db = build_case(tmp_path, records)
    assert overview.main(["analyze_overview.py", str(db)]) == 0
    text = next((tmp_path / "reports").glob("overview_report-*.md")).read_text()
    new = text.split("## New in the last day of data")[1].split("## Gaps")[0]
    assert "user/mallory" in new and "203.0.113.66" in new
    assert "user/alice" not in new
    # a new session of a role already seen is not new; a private address is counted, not listed
    assert "i-0new" not in new and "10.0.1.9" not in new and "1 new private" in new


def test_one_identity_and_one_address_get_no_bar_charts(tmp_path):
    db = build_case(tmp_path, hourly("us-east-1", range(6)))
    assert overview.main(["analyze_overview.py", str(db)]) == 0
    reports = tmp_path / "reports"
    assert [path.name.rsplit("-", 5)[0] for path in reports.glob("overview_*.png")] == ["overview_volume_by_account"]
    text = next(reports.glob("overview_report-*.md")).read_text()
    assert "overview_top_identities" not in text and "overview_rarest" not in text


def test_script_writes_report_charts_and_log(tmp_path, capsys):
    records = hourly("us-east-1", [h for h in range(24) if h != 4]) + hourly("eu-west-1", range(0, 24, 6))
    records.append(event("StopLogging", "cloudtrail.amazonaws.com", at(3, 30), requestParameters={"name": "main"}))
    records += [event(time=at(h, 20), identity="bob", sourceIPAddress="198.51.100.20") for h in range(0, 24, 3)]
    records.append(event("ListUsers", "iam.amazonaws.com", at(22, 5), identity="mallory", sourceIPAddress="203.0.113.66"))
    db = build_case(tmp_path, records)
    assert overview.main(["analyze_overview.py", str(db), "2026-11-02"]) == 0
    reports = tmp_path / "reports"
    text = next(reports.glob("overview_report-*.md")).read_text()
    for section in ("## What the case holds", "## Events per day", "## Top identities", "## Rarest identities",
                    "## Top source IPs", "## Rarest source IPs", "## Top user agents", "## Error codes",
                    "## New in the last day", "## Gaps in the timeline", "**Limits.**",
                    "### Trail changes in the window"):
        assert section in text
    assert "2026-11-02 04:00:00 UTC" in text and "StopLogging" in text
    charts = {path.name.rsplit("-", 5)[0] for path in reports.glob("overview_*.png")}
    assert charts == {"overview_volume_by_account", "overview_top_identities", "overview_rarest_identities",
                      "overview_top_source_ips", "overview_rarest_source_ips"}
    # The one-off caller comes first among the rarest, however quiet it is next to the busy ones.
    rarest = text.split("## Rarest identities")[1].split("## Top source IPs")[0]
    assert [line for line in rarest.splitlines() if line.startswith("| `")][0].startswith("| `arn:aws:iam::111122223333:user/mallory`")
    rare_ips = text.split("## Rarest source IPs")[1].split("## Top user agents")[0]
    assert [line for line in rare_ips.splitlines() if line.startswith("| 2")][0].startswith("| 203.0.113.66 | 1 | 1 |")
    assert "overview_report-" in capsys.readouterr().out
    assert "analyze\\_overview.py" in next(reports.glob("analyst_log-*.md")).read_text()


@pytest.mark.parametrize("window, code", [(["yesterday"], 2), (["2026-11-02", "2026-11-01"], 2), (["2030-01-01"], 1)])
def test_bad_or_empty_window(tmp_path, capsys, window, code):
    db = build_case(tmp_path, [event()])
    assert overview.main(["analyze_overview.py", str(db), *window]) == code
    err = capsys.readouterr().err
    assert ("usage: analyze_overview.py" in err) is (code == 2)
    assert not list((tmp_path / "reports").glob("overview_report-*.md"))


@needs_shared_data
def test_runs_on_the_public_records(tmp_path):
    db = tmp_path / "case.db"
    assert ingest(db, *shared_log_trees()) in (0, 1)
    assert overview.main(["analyze_overview.py", str(db)]) == 0
    text = next((tmp_path / "reports").glob("overview_report-*.md")).read_text()
    assert "## Events per month" in text  # the public records span four years
    con = casedb.connect(str(db))
    try:
        assert casedb.scalar(con, "select count(*) from runs where tool = 'analyze_overview.py'") == 1
    finally:
        con.close()
