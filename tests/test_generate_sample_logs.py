"""Tests for samples/generate_sample_logs.py: determinism, tree layout, record content, planted incidents."""
import gzip
import hashlib
import os
import re
import sys
from pathlib import Path

import orjson
import pytest

# Imported by name (not from a file spec) so that the generator's worker processes can import it too.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "samples"))
import generate_sample_logs as generator  # noqa: E402

EVENTS = 3000

LOG_NAME = re.compile(r"^(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$")
LOG_PATH = re.compile(r"^AWSLogs/(?:o-[a-z0-9]+/)?(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/([^/]+)$")


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    output = tmp_path_factory.mktemp("sample")
    assert generator.main(["generate_sample_logs.py", str(output), str(EVENTS)]) == 0
    return output


def files_under(root):
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


def snapshot(root):
    """Relative path -> (bytes, inode, mtime); a rewrite through a temporary name changes the inode."""
    result = {}
    for relative in files_under(root):
        info = os.stat(root / relative)
        result[relative] = ((root / relative).read_bytes(), info.st_ino, info.st_mtime_ns)
    return result


def log_files(root):
    return [relative for relative in files_under(root)
            if "/CloudTrail/" in relative and relative.endswith(".json.gz")]


def read_gzip_json(path):
    return orjson.loads(gzip.decompress(path.read_bytes()))


def all_records(root):
    """(relative path, record) for every record in the CloudTrail and CloudTrail-Insight files."""
    found = []
    for relative in files_under(root):
        if relative.endswith(".json.gz") and ("/CloudTrail/" in relative or "/CloudTrail-Insight/" in relative):
            found += [(relative, record) for record in read_gzip_json(root / relative)["Records"]]
    return found


def test_same_arguments_give_identical_trees_and_rewrite_nothing(tree, tmp_path, capsys):
    before = snapshot(tree)
    assert generator.main(["generate_sample_logs.py", str(tree), str(EVENTS)]) == 0
    assert snapshot(tree) == before
    assert ", 0 written," in capsys.readouterr().out

    other = tmp_path / "again"
    assert generator.main(["generate_sample_logs.py", str(other), str(EVENTS), "1"]) == 0
    assert {path: content for path, (content, _, _) in snapshot(other).items()} == \
        {path: content for path, (content, _, _) in before.items()}


def test_rerun_with_other_arguments_leaves_no_old_files(tmp_path):
    reused, fresh = tmp_path / "reused", tmp_path / "fresh"
    assert generator.main(["generate_sample_logs.py", str(reused), "2000", "5"]) == 0
    first = set(files_under(reused))
    assert generator.main(["generate_sample_logs.py", str(reused), "1000", "6"]) == 0
    assert generator.main(["generate_sample_logs.py", str(fresh), "1000", "6"]) == 0
    assert set(files_under(reused)) == set(files_under(fresh))
    assert first - set(files_under(fresh))      # the seed changed file names, so old ones had to go


def test_tree_layout(tree):
    relatives = files_under(tree)
    assert "planted_incidents.md" in relatives
    assert "AWSLogs/111122223333/CloudTrail/ConfigWritabilityCheckFile" in relatives
    accounts, regions, days, layouts = set(), set(), set(), set()
    for relative in log_files(tree):
        match = LOG_PATH.match(relative)
        assert match, relative
        account, region, year, month, day, name = match.groups()
        name_match = LOG_NAME.match(name)
        assert name_match, name
        assert name_match.group(1) == account and name_match.group(2) == region
        assert name_match.group(3).startswith(year + month + day)
        accounts.add(account)
        regions.add(region)
        days.add((year, month, day))
        layouts.add(relative.split("/")[1].startswith("o-"))
    assert accounts == {"111122223333", "444455556666"}
    assert regions == {"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"}
    assert len(days) >= 3
    assert layouts == {True, False}      # a plain trail and an organisation trail
    digests = [r for r in relatives if "/CloudTrail-Digest/" in r]
    assert digests
    for relative in digests:
        assert re.search(r"/CloudTrail-Digest/([a-z0-9-]+)/\d{4}/\d{2}/\d{2}/111122223333_CloudTrail-Digest_\1_"
                         r"[\w-]+_\1_\d{8}T\d{6}Z\.json\.gz$", relative), relative
    insights = [r for r in relatives if "/CloudTrail-Insight/" in r]
    assert len(insights) == 1
    records = read_gzip_json(tree / insights[0])["Records"]
    assert [r["insightDetails"]["state"] for r in records] == ["Start", "End"]
    assert {r["eventCategory"] for r in records} == {"Insight"}
    assert {r["eventType"] for r in records} == {"AwsCloudTrailInsight"}


def test_log_files_hold_records_of_their_account_region_and_window(tree):
    for relative in log_files(tree):
        document = read_gzip_json(tree / relative)
        assert list(document) == ["Records"] and document["Records"], relative
        account, region, *_, name = LOG_PATH.match(relative).groups()
        stamp = LOG_NAME.match(name).group(3)
        delivered = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:00Z"
        for record in document["Records"]:
            assert record["recipientAccountId"] == account
            assert record["awsRegion"] == region
            assert record["eventTime"] < delivered      # a file holds records written before its time
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["eventTime"])
            assert record["eventVersion"] in ("1.08", "1.09", "1.10")


def test_digests_list_log_file_hashes(tree):
    digests = [r for r in files_under(tree) if "/CloudTrail-Digest/" in r]
    listed = 0
    for relative in digests:
        digest = read_gzip_json(tree / relative)
        assert "Records" not in digest
        assert digest["digestS3Object"] == relative
        assert digest["digestStartTime"] < digest["digestEndTime"]
        for entry in digest["logFiles"]:
            content = gzip.decompress((tree / entry["s3Object"]).read_bytes())
            assert hashlib.sha256(content).hexdigest() == entry["hashValue"]
            listed += 1
    assert listed


def test_average_record_size_and_count(tree):
    total_bytes, count = 0, 0
    for relative in log_files(tree):
        for record in read_gzip_json(tree / relative)["Records"]:
            total_bytes += len(orjson.dumps(record))
            count += 1
    incidents = generator.planted_incidents(1)
    planted = sum(1 for incident in incidents for _, record in incident.records
                  if record.get("eventCategory") != "Insight")
    twice = sum(len(incident.delivered_twice) for incident in incidents)
    assert count == EVENTS + planted + twice
    assert 1024 <= total_bytes / count <= 2.5 * 1024


def test_planted_incidents_are_in_the_files(tree):
    incidents = generator.planted_incidents(1)
    assert len(incidents) == 9
    files_by_id = {}
    for relative, record in all_records(tree):
        files_by_id.setdefault(record.get("eventID"), []).append(relative)
    for incident in incidents:
        assert incident.event_ids and incident.detections and incident.story
        for event_id in incident.event_ids:
            assert event_id in files_by_id, (incident.key, event_id)
    duplicated = [event_id for incident in incidents for event_id in incident.delivered_twice]
    assert duplicated
    for event_id in duplicated:
        assert len(set(files_by_id[event_id])) == 2
    assert None in files_by_id        # the record without eventID
    markdown = (tree / "planted_incidents.md").read_text()
    for incident in incidents:
        assert incident.key in markdown
        assert all(event_id in markdown for event_id in incident.event_ids)


def test_planted_incidents_have_the_real_field_shapes():
    records = [record for incident in generator.planted_incidents(1) for _, record in incident.records
               if record["eventCategory"] != "Insight"]

    def named(name):
        return [r for r in records if r.get("eventName") == name]

    failures = [r for r in named("ConsoleLogin") if r["responseElements"]["ConsoleLogin"] == "Failure"]
    assert len(failures) >= 12
    assert all("arn" not in r["userIdentity"] and r["errorMessage"] == "Failed authentication" for r in failures)
    assert any(r["additionalEventData"]["MFAUsed"] == "Yes" for r in failures)
    root = [r for r in named("ConsoleLogin") if r["userIdentity"]["type"] == "Root"]
    assert root and root[0]["awsRegion"] == "us-east-1" and root[0]["additionalEventData"]["MFAUsed"] == "No"

    ingress = named("AuthorizeSecurityGroupIngress")
    flat = [r for r in ingress if r["requestParameters"].get("cidrIp") == "0.0.0.0/0"]
    assert flat and flat[0]["requestParameters"]["ipPermissions"] == {} and flat[0]["requestParameters"]["fromPort"] == 22
    nested = [item for r in ingress for item in r["requestParameters"]["ipPermissions"].get("items", [])]
    assert any(c["cidrIpv6"] == "::/0" for item in nested for c in item["ipv6Ranges"].get("items", []))
    assert any(len(r["requestParameters"]["ipPermissions"].get("items", [])) == 2 for r in ingress)
    assert all("securityGroupRuleSet" in r["responseElements"] for r in ingress)

    assert named("PutUserPolicy")[0]["requestParameters"]["policyDocument"].startswith("%7B")
    assert any(r["requestParameters"] == {"omitted": True, "originalSize": 131512,
                                          "reason": "requestParameters too large"} for r in records)
    selectors = named("PutEventSelectors")[0]["requestParameters"]["eventSelectors"]
    assert selectors[0]["includeManagementEvents"] is False
    assert named("DeleteTrail")[0]["errorCode"] == "AccessDenied"
    assert len(named("GetSecretValue")) >= 30
    share = named("ModifySnapshotAttribute")[0]["requestParameters"]["createVolumePermission"]["add"]["items"]
    assert share == [{"userId": "999988887777"}]
    stolen = [r for r in records if r["userIdentity"].get("arn", "").endswith("/web-app-role/i-0a1b2c3d4e5f67890")]
    assert stolen and all(not r["sourceIPAddress"].endswith("amazonaws.com") for r in stolen)

    leaked = [r for r in records if r["userIdentity"].get("userName") == "ci-deploy"
              and r["sourceIPAddress"] == "203.0.113.45"]
    assert sum(1 for r in leaked if r.get("errorCode") == "AccessDenied") >= 20
    assert any(r["userAgent"] == "TruffleHog" for r in leaked)


def test_seed_changes_the_event_ids():
    first = {i for incident in generator.planted_incidents(1) for i in incident.event_ids}
    again = {i for incident in generator.planted_incidents(1) for i in incident.event_ids}
    other = {i for incident in generator.planted_incidents(2) for i in incident.event_ids}
    assert first == again and not first & other


@pytest.mark.parametrize("arguments", [[], ["a", "1", "2", "3"], ["out", "many"], ["out", "-5"], ["out", "10", "x"]])
def test_bad_arguments_return_2(arguments, tmp_path, capsys):
    arguments = [str(tmp_path / a) if a == "out" else a for a in arguments]
    assert generator.main(["generate_sample_logs.py", *arguments]) == 2
    error = capsys.readouterr().err
    assert "usage: generate_sample_logs.py OUTPUT_DIR [EVENTS [SEED]]" in error
    assert not (tmp_path / "out").exists()


def test_output_dir_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    assert generator.main(["generate_sample_logs.py", str(target)]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_unflagged_and_routine_events_are_planted_events():
    for incident in generator.planted_incidents(1):
        assert set(incident.unflagged) <= set(incident.event_ids)
        assert set(incident.routine) <= set(incident.event_ids)
    keys = {incident.key: incident for incident in generator.planted_incidents(1)}
    assert keys["stolen-lambda-credentials"].routine and keys["permission-brute-force"].unflagged
