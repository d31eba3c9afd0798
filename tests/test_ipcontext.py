"""IP context from a small ip-ranges.json and small .mmdb files the tests build (with mmdb-writer,
read back with maxminddb as real GeoLite2/IPinfo files are): longest prefix, IPv4 and IPv6,
the table of distinct source IPs, and the actor timeline showing the labels."""
import orjson
import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

import analyze_actor
import casedb
import ipcontext
from conftest import as_read, build_case, event

RANGES = {
    "syncToken": "1730419200", "createDate": "2026-11-01-00-00-00",
    "prefixes": [
        {"ip_prefix": "3.0.0.0/9", "region": "GLOBAL", "service": "AMAZON", "network_border_group": "GLOBAL"},
        {"ip_prefix": "3.238.0.0/15", "region": "us-east-1", "service": "AMAZON", "network_border_group": "us-east-1"},
        {"ip_prefix": "3.238.0.0/15", "region": "us-east-1", "service": "EC2", "network_border_group": "us-east-1"},
        {"ip_prefix": "52.94.0.0/22", "region": "us-east-1", "service": "S3", "network_border_group": "us-east-1"},
        {"ip_prefix": "not an address", "region": "x", "service": "EC2"},
    ],
    "ipv6_prefixes": [
        {"ipv6_prefix": "2600:1f00::/24", "region": "GLOBAL", "service": "AMAZON", "network_border_group": "GLOBAL"},
        {"ipv6_prefix": "2600:1f18::/33", "region": "us-east-1", "service": "EC2", "network_border_group": "us-east-1"},
    ],
}


def write_ranges(folder, document=RANGES):
    path = folder / "ip-ranges.json"
    path.write_bytes(orjson.dumps(document))
    return path


def write_city(folder, name="GeoLite2-City-test.mmdb"):
    """A MaxMind City-shaped database (IPv6 tree holding IPv4 too, as GeoLite2's is)."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-City")
    writer.insert_network(IPSet(["3.238.0.0/16"]), {
        "country": {"iso_code": "US", "names": {"en": "United States"}},
        "city": {"names": {"en": "Ashburn"}}})
    writer.insert_network(IPSet(["185.220.101.0/24"]), {"country": {"iso_code": "DE", "names": {"en": "Germany"}}})
    writer.insert_network(IPSet(["2600:1f18::/32"]), {"country": {"iso_code": "US", "names": {"en": "United States"}}})
    path = folder / name
    writer.to_db_file(str(path))
    return path


def write_asn(folder, name="GeoLite2-ASN-test.mmdb"):
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-ASN")
    writer.insert_network(IPSet(["3.238.0.0/16"]), {"autonomous_system_number": 14618,
                                                    "autonomous_system_organization": "AMAZON-AES"})
    writer.insert_network(IPSet(["185.220.101.0/24"]), {"autonomous_system_number": 60729,
                                                        "autonomous_system_organization": "Stiftung Erneuerbare Freiheit"})
    path = folder / name
    writer.to_db_file(str(path))
    return path


def write_ipinfo(folder, name="ipinfo-lite-test.mmdb"):
    """IPinfo's shape: flat text fields."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="ipinfo lite.mmdb")
    writer.insert_network(IPSet(["198.51.100.0/24"]), {"country_code": "NL", "country": "Netherlands",
                                                       "asn": "AS64500", "as_name": "Example Hosting BV"})
    path = folder / name
    writer.to_db_file(str(path))
    return path


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv("CLOUDTRAIL_IP_RANGES", raising=False)
    monkeypatch.delenv("CLOUDTRAIL_MMDB", raising=False)


@pytest.mark.parametrize("ip, service, region, prefix", [
    ("3.238.12.183", "EC2", "us-east-1", "3.238.0.0/15"),        # longest prefix; AMAZON dropped beside EC2
    ("3.1.2.3", "AMAZON", "GLOBAL", "3.0.0.0/9"),                # only the broad Amazon range
    ("52.94.1.9", "S3", "us-east-1", "52.94.0.0/22"),
    ("2600:1f18:4a3:6901::1", "EC2", "us-east-1", "2600:1f18::/33"),
    ("2600:1f00::1", "AMAZON", "GLOBAL", "2600:1f00::/24"),
    ("003.238.012.183", "EC2", "us-east-1", "3.238.0.0/15"),     # anonymised spelling with leading zeros
])
def test_aws_ranges_longest_prefix(tmp_path, ip, service, region, prefix):
    ranges = ipcontext.AwsRanges(write_ranges(tmp_path))
    assert ranges.lookup(ipcontext.parse_address(ip)) == (service, region, prefix)


@pytest.mark.parametrize("ip", ["8.8.8.8", "2001:db8::1", "3.128.0.1"])
def test_aws_ranges_outside_every_prefix(tmp_path, ip):
    assert ipcontext.AwsRanges(write_ranges(tmp_path)).lookup(ipcontext.parse_address(ip)) is None


def test_mmdb_country_city_and_asn_from_maxmind_and_ipinfo_shapes(tmp_path, no_env):
    write_ranges(tmp_path)
    write_city(tmp_path)
    write_asn(tmp_path)
    write_ipinfo(tmp_path)
    sources = ipcontext.find_sources(tmp_path / "case.db")
    try:
        assert len(sources.mmdbs) == 3 and sources.ranges is not None and not sources.problems
        assert sources.label("3.238.12.183") == "AWS EC2 us-east-1; Ashburn, US; AS14618 AMAZON-AES"
        assert sources.label("185.220.101.4") == "DE; AS60729 Stiftung Erneuerbare Freiheit"
        assert sources.label("198.51.100.7") == "NL; AS64500 Example Hosting BV"
        assert sources.label("2600:1f18::9") == "AWS EC2 us-east-1; US"
        assert sources.label("ec2.amazonaws.com") == ""
        assert sources.label("10.0.0.5") == "private or reserved range"
        assert "GeoLite2-ASN" in sources.describe() and "ip-ranges.json" in sources.describe()
    finally:
        sources.close()


def test_environment_names_the_files(tmp_path, monkeypatch):
    elsewhere = tmp_path / "geo"
    elsewhere.mkdir()
    monkeypatch.setenv("CLOUDTRAIL_IP_RANGES", str(write_ranges(elsewhere)))
    monkeypatch.setenv("CLOUDTRAIL_MMDB", f"{write_asn(elsewhere)}:{write_city(elsewhere)}")
    sources = ipcontext.find_sources(tmp_path / "case.db")
    try:
        assert [m.database_type for m in sources.mmdbs] == ["GeoLite2-ASN", "GeoLite2-City"]
        assert sources.label("3.238.1.1").startswith("AWS EC2 us-east-1")
    finally:
        sources.close()


def test_without_files_the_report_says_how_to_add_one(tmp_path, no_env):
    sources = ipcontext.find_sources(tmp_path / "case.db")
    assert sources.empty and "ip-ranges.json" in sources.describe() and ".mmdb" in sources.describe()


def test_unusable_files_are_named_not_fatal(tmp_path, no_env):
    (tmp_path / "ip-ranges.json").write_text("{not json")
    (tmp_path / "broken.mmdb").write_bytes(b"not a database")
    sources = ipcontext.find_sources(tmp_path / "case.db")
    assert sources.empty and len(sources.problems) == 2
    assert "not JSON" in sources.describe() and "broken.mmdb" in sources.describe()


def test_distinct_source_ips_labelled_once_and_again_when_files_change(tmp_path, no_env):
    records = [event(sourceIPAddress="3.238.12.183") for _ in range(3)]
    records += [event(sourceIPAddress="ec2.amazonaws.com"), event(sourceIPAddress="185.220.101.4")]
    db = build_case(tmp_path, records)
    write_ranges(tmp_path)
    con = casedb.open_case(str(db))
    try:
        ipcontext.refresh(con, db).close()
        assert casedb.scalar(con, "select count(*) from ip_context") == 3       # distinct values, not events
        assert ipcontext.label(con, "3.238.12.183") == "AWS EC2 us-east-1"
        assert ipcontext.label(con, "185.220.101.4") == ""
        first = casedb.scalar(con, "select max(labelled_at) from ip_context")
        ipcontext.refresh(con, db).close()                                      # nothing new: nothing redone
        assert casedb.scalar(con, "select max(labelled_at) from ip_context") == first
        write_asn(tmp_path)                                                     # a new file: labels redone
        ipcontext.refresh(con, db).close()
        assert ipcontext.label(con, "185.220.101.4") == "AS60729 Stiftung Erneuerbare Freiheit"
        assert ipcontext.labels(con)["3.238.12.183"] == "AWS EC2 us-east-1; AS14618 AMAZON-AES"
    finally:
        con.close()


def test_actor_timeline_shows_the_labels(tmp_path, no_env, capsys):
    records = [event("ListBuckets", "s3.amazonaws.com", sourceIPAddress="3.238.12.183"),
               event("ListUsers", "iam.amazonaws.com", "2026-11-02T10:05:00Z", sourceIPAddress="198.51.100.7")]
    db = build_case(tmp_path, records)
    write_ranges(tmp_path)
    assert analyze_actor.main(["analyze_actor.py", str(db), "alice"]) == 0
    report = next((tmp_path / "reports").glob("actor_report-*.md")).read_text()
    rows = [line for line in report.splitlines() if "| ListBuckets |" in line and line.startswith("| 2026-")]
    assert rows and "3.238.12.183 (AWS EC2 us-east-1)" in rows[0]
    assert "IP context from ip-ranges.json" in as_read(report)


def test_actor_report_without_files_says_how_to_add_them(tmp_path, no_env):
    db = build_case(tmp_path, [event(sourceIPAddress="3.238.12.183")])
    assert analyze_actor.main(["analyze_actor.py", str(db), "alice"]) == 0
    report = next((tmp_path / "reports").glob("actor_report-*.md")).read_text()
    assert "save AWS's published ip-ranges.json beside the case database" in as_read(report)
