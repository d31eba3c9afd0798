"""Context for source IP addresses, from files the analyst already has; nothing is downloaded.

- AWS's published ranges (`ip-ranges.json`): the AWS service(s) and region an address belongs
  to, by the longest matching prefix (IPv4 and IPv6). Path: $CLOUDTRAIL_IP_RANGES, else
  `ip-ranges.json` beside the case database.
- MaxMind-format databases (`.mmdb`: GeoLite2/GeoIP2 City or Country, GeoLite2 ASN, GeoIP2
  ISP, IPinfo): country (and city when the file has it), ASN and organisation, read with
  MaxMind's own `maxminddb` reader. Paths: $CLOUDTRAIL_MMDB (several separated by the path
  separator, `:` on Linux and macOS), else every `*.mmdb` beside the case database. When
  several files answer for the same field, the first file wins.

The distinct source IPs of a case are labelled once, into the table ip_context of the case
database (refresh() labels only addresses not seen before, and everything again when the files
change), so a report joins a few thousand rows instead of looking up millions of events.

Table ip_context: source_ip (as in events), is_address, aws_service, aws_region, aws_prefix,
in_aws, country, city, asn, as_org, label (one line, e.g. "AWS EC2 us-east-1; US; AS14618
AMAZON-AES"), labelled_at. in_aws is true inside one of AWS's published prefixes, false for a
public address outside all of them, and NULL when no ip-ranges.json was given (or the source is
a service name or a private address): a detection may treat only false as "outside AWS".
Table ip_context_sources: the files the labels came from.
"""
import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pyarrow as pa

import casedb
import common

SCHEMA_SQL = """
create table if not exists ip_context (
    source_ip varchar,
    is_address boolean,
    aws_service varchar,
    aws_region varchar,
    aws_prefix varchar,
    in_aws boolean,
    country varchar,
    city varchar,
    asn varchar,
    as_org varchar,
    label varchar,
    labelled_at timestamptz
);

-- in_aws came after the first cases were labelled: added to them (their labels are redone, see
-- LABELS_VERSION).
alter table ip_context add column if not exists in_aws boolean;

create table if not exists ip_context_sources (
    fingerprint varchar,
    description varchar,
    labelled_at timestamptz
);
"""

# Part of the sources' fingerprint: a change of what a label holds relabels every case once.
LABELS_VERSION = "labels-2"

HOW_TO_ADD = ("IP context: no address files found. To label source IPs with their AWS service and region, "
              "save AWS's published ip-ranges.json beside the case database (or set CLOUDTRAIL_IP_RANGES to "
              "its path); for country and ASN, put a MaxMind-format .mmdb file (GeoLite2 City or ASN, IPinfo) "
              "beside it (or set CLOUDTRAIL_MMDB). Nothing is downloaded by the toolkit.")


def parse_address(text):
    """An address as ipaddress reads it, or None (service names such as ec2.amazonaws.com).
    Dotted quads with leading zeros (anonymised public data writes 075.050.255.67) are read as
    the numbers they show."""
    if not text:
        return None
    value = text.strip()
    if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", value):
        parts = [int(p) for p in value.split(".")]
        return ipaddress.IPv4Address(".".join(map(str, parts))) if all(p <= 255 for p in parts) else None
    try:
        return ipaddress.ip_address(value.split("%")[0])
    except ValueError:
        return None


class AwsRanges:
    """AWS's ip-ranges.json, indexed for longest-prefix lookups: per prefix length, a dict from
    network number to its entries, so a lookup costs one dict probe per prefix length used."""

    def __init__(self, path):
        self.path = Path(path)
        try:
            document = orjson.loads(self.path.read_bytes())
        except OSError as error:
            raise common.ToolError(f"{path}: cannot read ip ranges ({error.strerror})") from None
        except orjson.JSONDecodeError:
            raise common.ToolError(f"{path}: not JSON - expected AWS's ip-ranges.json") from None
        if not isinstance(document, dict) or not isinstance(document.get("prefixes"), list):
            raise common.ToolError(f"{path}: no 'prefixes' list - expected AWS's ip-ranges.json")
        self.sync_token = str(document.get("syncToken", ""))
        self.created = str(document.get("createDate", ""))
        self.index = {4: {}, 6: {}}
        count = 0
        for entries, key in ((document.get("prefixes") or [], "ip_prefix"),
                             (document.get("ipv6_prefixes") or [], "ipv6_prefix")):
            for entry in entries:
                try:
                    network = ipaddress.ip_network(entry[key], strict=False)
                except (KeyError, TypeError, ValueError):
                    continue
                by_length = self.index[network.version].setdefault(network.prefixlen, {})
                by_length.setdefault(int(network.network_address), []).append(
                    (str(network), str(entry.get("service") or ""), str(entry.get("region") or "")))
                count += 1
        self.prefix_count = count
        self.lengths = {version: sorted(index, reverse=True) for version, index in self.index.items()}

    def lookup(self, address):
        """(services, region, prefix) of the longest prefix holding address, or None.
        AWS lists a prefix once per service ("AMAZON" plus e.g. "EC2"); AMAZON alone says only
        that the address is Amazon's, so it is shown only when nothing more specific is listed."""
        bits = address.max_prefixlen
        number = int(address)
        for length in self.lengths[address.version]:
            masked = number & (((1 << length) - 1) << (bits - length)) if length else 0
            entries = self.index[address.version][length].get(masked)
            if entries:
                services = sorted({service for _, service, _ in entries if service})
                specific = [s for s in services if s != "AMAZON"]
                regions = sorted({region for _, _, region in entries if region})
                return " ".join(specific or services), ", ".join(regions), entries[0][0]
        return None


class MmdbFile:
    """One MaxMind-format database, read with maxminddb."""

    def __init__(self, path):
        import maxminddb

        self.path = Path(path)
        try:
            self.reader = maxminddb.open_database(str(self.path))
        except (OSError, ValueError, maxminddb.InvalidDatabaseError) as error:
            raise common.ToolError(f"{path}: not a readable .mmdb database ({error}) - "
                                   "give a MaxMind-format file (GeoLite2, GeoIP2, IPinfo)") from None
        metadata = self.reader.metadata()
        self.database_type = metadata.database_type
        self.ip_version = metadata.ip_version
        self.build_epoch = metadata.build_epoch

    def lookup(self, address):
        """{country, city, asn, as_org} (values None when the file does not say)."""
        if address.version == 6 and self.ip_version == 4:
            return {}
        try:
            record = self.reader.get(str(address))
        except ValueError:
            return {}
        if not isinstance(record, dict):
            return {}
        return _fields(record)

    def close(self):
        self.reader.close()


def _name(value):
    """A MaxMind place ({'iso_code': ..., 'names': {'en': ...}}) or IPinfo text, as text."""
    if isinstance(value, dict):
        return value.get("iso_code") or (value.get("names") or {}).get("en")
    return value if isinstance(value, str) and value else None


def _fields(record):
    """The fields this module shows, from the record shapes of MaxMind City/Country/ASN/ISP and IPinfo."""
    # MaxMind: {"country": {"iso_code": "US", ...}}; IPinfo: "country_code": "US" (lite) or "country": "US".
    country = (_name(record.get("country")) if isinstance(record.get("country"), dict) else None) \
        or record.get("country_code") or _name(record.get("country")) or _name(record.get("registered_country"))
    city = _name(record.get("city"))
    number = record.get("autonomous_system_number")
    asn = f"AS{number}" if isinstance(number, int) else None
    asn = asn or (record.get("asn") if isinstance(record.get("asn"), str) else None)
    if asn and not asn.upper().startswith("AS"):
        asn = f"AS{asn}"
    org = (record.get("autonomous_system_organization") or record.get("as_name") or record.get("isp")
           or record.get("organization") or record.get("org"))
    return {"country": country, "city": city if isinstance(city, str) else None, "asn": asn,
            "as_org": org if isinstance(org, str) else None}


@dataclass
class Sources:
    """The address files found for a case."""
    ranges: AwsRanges = None
    mmdbs: list = field(default_factory=list)
    problems: list = field(default_factory=list)     # files given but unusable, one line each

    @property
    def empty(self):
        return self.ranges is None and not self.mmdbs

    def fingerprint(self):
        """Changes when a file changes, so the labels are redone."""
        parts = [LABELS_VERSION]
        for path in ([self.ranges.path] if self.ranges else []) + [m.path for m in self.mmdbs]:
            stat = path.stat()
            parts.append(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}")
        return ";".join(parts)

    def describe(self):
        """One line for a report: what the labels come from, or how to add files."""
        if self.empty:
            return HOW_TO_ADD + "".join(f" ({problem})" for problem in self.problems)
        used = []
        if self.ranges:
            used.append(f"{self.ranges.path.name} ({self.ranges.prefix_count:,} AWS prefixes, created "
                        f"{self.ranges.created or 'unknown'})")
        used += [f"{m.path.name} ({m.database_type})" for m in self.mmdbs]
        return "IP context from " + ", ".join(used) + "." + "".join(f" Not used: {p}." for p in self.problems)

    def lookup(self, text):
        """Everything known about one address (a dict; label '' when nothing is known)."""
        address = parse_address(text)
        found = {"is_address": address is not None, "aws_service": None, "aws_region": None, "aws_prefix": None,
                 "in_aws": None, "country": None, "city": None, "asn": None, "as_org": None}
        if address is None:
            found["label"] = ""
            return found
        if self.ranges:
            hit = self.ranges.lookup(address)
            if hit:
                found["aws_service"], found["aws_region"], found["aws_prefix"] = hit
            if hit or address.is_global:
                found["in_aws"] = hit is not None
        for mmdb in self.mmdbs:
            for key, value in mmdb.lookup(address).items():
                if value and not found[key]:
                    found[key] = value
        found["label"] = _label(address, found)
        return found

    def label(self, text):
        return self.lookup(text)["label"]

    def close(self):
        for mmdb in self.mmdbs:
            mmdb.close()


def _label(address, found):
    parts = []
    if found["aws_service"] or found["aws_region"]:
        parts.append(" ".join(p for p in ("AWS", found["aws_service"], found["aws_region"]) if p))
    if found["country"]:
        parts.append(f"{found['city']}, {found['country']}" if found["city"] else found["country"])
    if found["asn"] or found["as_org"]:
        parts.append(" ".join(p for p in (found["asn"], found["as_org"]) if p))
    if not parts and (address.is_private or address.is_reserved or address.is_loopback or address.is_link_local):
        parts.append("private or reserved range")
    return "; ".join(parts)


def find_sources(db_path):
    """The address files for a case: from the environment, else beside the database."""
    folder = Path(db_path).resolve().parent
    sources = Sources()
    configured = common.env_text("CLOUDTRAIL_IP_RANGES", "")
    ranges_path = Path(configured) if configured else folder / "ip-ranges.json"
    if configured or ranges_path.is_file():
        try:
            sources.ranges = AwsRanges(ranges_path)
        except common.ToolError as error:
            sources.problems.append(str(error))
    configured = common.env_text("CLOUDTRAIL_MMDB", "")
    paths = [Path(p) for p in configured.split(os.pathsep) if p.strip()] if configured else sorted(folder.glob("*.mmdb"))
    for path in paths:
        try:
            sources.mmdbs.append(MmdbFile(path))
        except common.ToolError as error:
            sources.problems.append(str(error))
    return sources


def refresh(con, db_path):
    """Labels the case's distinct source IPs not labelled yet (all of them again when the files
    changed); returns the Sources used (close() it when done)."""
    con.execute(SCHEMA_SQL)
    sources = find_sources(db_path)
    fingerprint = sources.fingerprint()
    before = casedb.scalar(con, "select fingerprint from ip_context_sources order by labelled_at desc limit 1")
    now = common.now_utc()
    con.begin()
    try:
        if before != fingerprint:
            con.execute("delete from ip_context")
            con.execute("delete from ip_context_sources")
            con.execute("insert into ip_context_sources values (?, ?, ?)", [fingerprint, sources.describe(), now])
        new_ips = casedb.rows(con, """
            select distinct source_ip from events
            where source_ip is not null
              and source_ip not in (select source_ip from ip_context)
            order by source_ip""")
        rows = [{"source_ip": source_ip, **sources.lookup(source_ip), "labelled_at": now} for (source_ip,) in new_ips]
        if rows:
            # Through Arrow: executemany inserts row by row, slow for tens of thousands of addresses.
            con.register("new_ip_context", pa.Table.from_pylist(rows))
            con.execute("insert into ip_context by name select * from new_ip_context")
            con.unregister("new_ip_context")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return sources


def labels(con):
    """{source_ip: label} for every labelled address (empty labels left out)."""
    con.execute(SCHEMA_SQL)
    return dict(casedb.rows(con, "select source_ip, label from ip_context where label <> '' order by source_ip"))


def label(con, ip):
    """The label of one source IP from the ip_context table ('' when none; run refresh() first)."""
    con.execute(SCHEMA_SQL)
    return casedb.scalar(con, "select label from ip_context where source_ip = ?", [ip]) or ""


def with_label(ip, known):
    """'3.238.12.183 (AWS EC2 us-east-1)' for a report cell."""
    text = known.get(ip) if ip else None
    return f"{ip} ({text})" if text else (ip or "")
