"""Incidents: the findings grouped into the attacks they belong to, ranked by what happened,
and the case summary the hunt report opens with.

build(con) reads `findings` and `identity_lineage` (lineage.build first) and writes:
  incidents            one row per incident (columns in COLUMNS, documented in README.md)
  incident_events      (incident_id, event_id, event_time): every event of the incident
  findings.incident_id the incident a finding belongs to (NULL: none)

Grouping. Two findings belong together when they share an identity (the first principal of
their keys' chain, or the session when that is unknown or a service), an attacker address (a
public source IP, not an AWS service or a private one), or a rare user agent (one seen with at
most CLOUDTRAIL_INCIDENT_AGENT_PRINCIPALS principals), and are at most
CLOUDTRAIL_INCIDENT_GAP_HOURS apart. A group becomes an incident when its findings rest on two
or more events, or one of them is high or critical; the others stay outside incidents.

An incident holds every event of its session keys, every event of its long-term keys from its
addresses, and every event from its public addresses, between its first and last finding
(widened by CLOUDTRAIL_INCIDENT_PAD_MINUTES): the GetCallerIdentity, the denied ListObjects
and the GetObject that no detection flags are part of the story.

Ranking (references/incidents.md explains it; every weight is a setting): points for the
severity of each distinct event (two findings on one event count once, capped), for each
ATT&CK tactic beyond the first, for failures followed by success, for a key or session used
from an address its principal had not used before, for privilege gained, for data touched;
points off when every address and client matches the principal's own earlier history.

facts(con, ...) is "one finding per fact" for the report: the findings on one event become one
line naming every reason, and repeats of the same kind by the same principal on the same
resource one line with a count (the findings stay stored per detection).
"""
import time
from dataclasses import dataclass

import pyarrow as pa

import casedb
import common
import detections
import reports
from common import Markdown, format_time, md_code, md_table, md_text

TACTICS = ("reconnaissance", "resource-development", "initial-access", "execution", "persistence",
           "privilege-escalation", "defense-evasion", "credential-access", "discovery", "lateral-movement",
           "collection", "command-and-control", "exfiltration", "impact")

# ATT&CK technique -> tactic it stands for here (the first tactic ATT&CK lists for it, except where
# the cloud use is plainly another: T1078.004 is how attackers get in, T1098.003 gains privilege).
TECHNIQUE_TACTIC = {
    "T1037": "persistence", "T1546": "persistence", "T1566": "initial-access", "T1574": "persistence",
    "T1020": "exfiltration", "T1021": "lateral-movement", "T1021.007": "lateral-movement",
    "T1033": "discovery", "T1040": "credential-access", "T1048": "exfiltration",
    "T1059": "execution", "T1059.009": "execution", "T1069": "discovery", "T1069.003": "discovery",
    "T1070": "defense-evasion", "T1078": "initial-access", "T1078.004": "initial-access",
    "T1082": "discovery", "T1087": "discovery", "T1087.004": "discovery",
    "T1098": "persistence", "T1098.001": "persistence", "T1098.003": "privilege-escalation",
    "T1098.004": "persistence", "T1110": "credential-access", "T1110.001": "credential-access",
    "T1110.003": "credential-access", "T1110.004": "credential-access", "T1119": "collection",
    "T1133": "persistence", "T1136": "persistence", "T1136.003": "persistence", "T1190": "initial-access",
    "T1199": "initial-access", "T1201": "discovery", "T1204": "execution", "T1213": "collection",
    "T1484": "privilege-escalation", "T1484.002": "privilege-escalation", "T1485": "impact",
    "T1486": "impact", "T1489": "impact", "T1490": "impact", "T1496": "impact", "T1496.001": "impact",
    "T1496.004": "impact", "T1525": "persistence", "T1526": "discovery", "T1528": "credential-access",
    "T1530": "collection", "T1531": "impact", "T1535": "defense-evasion", "T1537": "exfiltration",
    "T1538": "discovery", "T1548": "privilege-escalation", "T1548.005": "privilege-escalation",
    "T1550": "lateral-movement", "T1550.001": "lateral-movement", "T1552": "credential-access",
    "T1552.001": "credential-access", "T1552.005": "credential-access", "T1555": "credential-access",
    "T1555.006": "credential-access", "T1556": "credential-access", "T1556.006": "defense-evasion",
    "T1562": "defense-evasion", "T1562.001": "defense-evasion", "T1562.007": "defense-evasion",
    "T1562.008": "defense-evasion", "T1567": "exfiltration", "T1578": "defense-evasion",
    "T1578.002": "defense-evasion", "T1580": "discovery", "T1606": "credential-access",
    "T1619": "discovery", "T1621": "credential-access", "T1648": "execution", "T1651": "execution",
    "T1666": "defense-evasion",
}
TACTIC_WORDS = {"reconnaissance": "reconnaissance", "resource-development": "resource development",
                "initial-access": "initial access", "execution": "execution", "persistence": "persistence",
                "privilege-escalation": "privilege escalation", "defense-evasion": "defense evasion",
                "credential-access": "credential access", "discovery": "discovery",
                "lateral-movement": "lateral movement", "collection": "collection",
                "command-and-control": "command and control", "exfiltration": "exfiltration", "impact": "impact"}

DATA_READS = ("GetObject", "ListObjects", "ListObjectsV2", "ListObjectVersions", "GetSecretValue",
              "BatchGetSecretValue", "GetParameter", "GetParameters", "GetParametersByPath", "GetPasswordData")


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: float
    meaning: str


SETTINGS = (
    Setting("gap_hours", "CLOUDTRAIL_INCIDENT_GAP_HOURS", 8, "hours between two findings that can still join one incident"),
    Setting("pad_minutes", "CLOUDTRAIL_INCIDENT_PAD_MINUTES", 30,
            "minutes before the first and after the last finding whose events of the attacker's keys, sessions and addresses belong to the incident"),
    Setting("agent_principals", "CLOUDTRAIL_INCIDENT_AGENT_PRINCIPALS", 3,
            "a user agent seen with at most this many principals is rare enough to link findings"),
    Setting("history_hours", "CLOUDTRAIL_INCIDENT_HISTORY_HOURS", 1,
            "an address a principal used at least this many hours before an incident is its own history"),
    Setting("weight_critical", "CLOUDTRAIL_INCIDENT_WEIGHT_CRITICAL", 10, "points for an event behind a critical finding"),
    Setting("weight_high", "CLOUDTRAIL_INCIDENT_WEIGHT_HIGH", 6, "points for an event behind a high finding"),
    Setting("weight_medium", "CLOUDTRAIL_INCIDENT_WEIGHT_MEDIUM", 3, "points for an event behind a medium finding"),
    Setting("weight_low", "CLOUDTRAIL_INCIDENT_WEIGHT_LOW", 1, "points for an event behind a low finding"),
    Setting("weight_info", "CLOUDTRAIL_INCIDENT_WEIGHT_INFO", 0, "points for an event behind an info finding"),
    Setting("severity_cap", "CLOUDTRAIL_INCIDENT_SEVERITY_CAP", 20, "most points the severities of an incident's events can give"),
    Setting("tactic_points", "CLOUDTRAIL_INCIDENT_TACTIC_POINTS", 4, "points for each ATT&CK tactic beyond the first"),
    Setting("failed_then_succeeded", "CLOUDTRAIL_INCIDENT_FAILED_THEN_SUCCEEDED", 5,
            "points when failed or denied calls come before a success"),
    Setting("new_infrastructure", "CLOUDTRAIL_INCIDENT_NEW_INFRASTRUCTURE", 6,
            "points when a key or session is used from an address its principal had not used before"),
    Setting("privilege_gained", "CLOUDTRAIL_INCIDENT_PRIVILEGE_GAINED", 6,
            "points when privilege was gained or persistence set up (a successful call)"),
    Setting("data_touched", "CLOUDTRAIL_INCIDENT_DATA_TOUCHED", 4, "points when objects, secrets or parameters were read"),
    Setting("known_history", "CLOUDTRAIL_INCIDENT_KNOWN_HISTORY", 12,
            "points taken off when every address and client matches the principal's own earlier history"),
)

SEVERITY_ORDER = tuple(reversed(detections.SEVERITIES))       # most severe first
COLUMNS = [
    ("incident_id", "number of the incident, in order of its first event"),
    ("rank", "1 = look at this first (highest score)"),
    ("title", "who, from where, and the stages"),
    ("summary", "a few chronological sentences: who, from where, how they got in, what they did and touched, what to check now"),
    ("first_time, last_time", "first and last event of the incident"),
    ("principals", "the principals behind its keys and sessions (one spelling each)"),
    ("first_principals", "the first principal of each key chain, 'unknown' when the minting call is outside the logs"),
    ("access_keys", "the keys and sessions of the incident"),
    ("source_ips", "the addresses its findings came from"),
    ("user_agents", "the user agents of its findings"),
    ("tactics", "ATT&CK tactics of its findings, in ATT&CK order"),
    ("stages", "per tactic: first time and the findings' titles"),
    ("severity", "most severe finding"),
    ("finding_count", "findings in it"),
    ("event_count", "events in it (flagged or not)"),
    ("event_ids", "every event of the incident, in time order"),
    ("score", "ranking points"),
    ("reasons", "the ranking points in words, one per line"),
]


def settings():
    """{name: value} from the environment (CLOUDTRAIL_INCIDENT_*), defaults otherwise."""
    return {s.name: common.env_number(s.env, s.default, float) for s in SETTINGS}


def tactic_of(technique):
    if technique in TECHNIQUE_TACTIC:
        return TECHNIQUE_TACTIC[technique]
    return TECHNIQUE_TACTIC.get(technique.split(".")[0])


# ---------------------------------------------------------------- grouping

# One row per finding with what links it: its keys' identities, public addresses and user agents.
FINDING_LINKS_SQL = """
create or replace temp table inc_findings as
select
    row_number() over (order by first_time, event_id, detector, detection_id, resource, summary) as fid,
    *
from findings;

create or replace temp table inc_finding_events as
select fid, unnest(case when len(event_ids) > 0 then event_ids else [event_id] end) as event_id
from inc_findings;

create or replace temp table inc_evidence as
select
    fe.fid,
    e.event_id,
    e.event_time,
    nullif(e.access_key_id, '') as access_key_id,
    e.source_ip,
    e.user_agent,
    e.error_code,
    coalesce(l.principal, ct_principal(e.user_type, e.user_arn, e.user_name, e.principal_id,
                                       coalesce(nullif(e.user_account_id, ''), e.recipient_account_id),
                                       e.session_issuer_arn, e.invoked_by)) as principal,
    l.first_principal,
    l.service,
    l.session_arn,
    l.key_type
from inc_finding_events as fe
join events as e
  on e.event_id = fe.event_id
left join identity_lineage as l
  on l.access_key_id = nullif(e.access_key_id, '');
"""

# The identity that ties findings together: a person or a long-term key chain when the lineage
# knows it; the session itself for service sessions and sessions of unknown origin (all EC2
# sessions share the first principal ec2.amazonaws.com, and must not be one incident).
IDENTITIES_SQL = """
select distinct
    fid,
    case
        when first_principal is not null and first_principal <> 'unknown' and service is null
             and first_principal like 'arn:%' then concat(first_principal, ' from ', coalesce(source_ip, '?'))
        -- a service session or one of unknown origin is its key: every session of one Lambda
        -- function or one instance has the same name, and must not join them all
        when access_key_id is not null then access_key_id
        else principal
    end as identity
from inc_evidence
where coalesce(principal, access_key_id) is not null
order by fid, identity
"""

ADDRESSES_SQL = """
select distinct fid, source_ip
from inc_evidence
where ct_network(source_ip) not like 'aws:%'
  and ct_network(source_ip) <> 'private'
  and source_ip is not null
order by fid, source_ip
"""

RARE_AGENTS_SQL = """
with candidates as (
    select distinct user_agent
    from inc_evidence
    -- A common client (the aws-cli, an SDK, Terraform, a browser) links nothing: owners use them too.
    -- A distinctive one does: a tool of its own, or a common client on an attack distribution.
    where regexp_matches(lower(user_agent), 'kali|parrot|pacu|trufflehog|cloudfox|stratus|scoutsuite|weirdaal|nmap|sqlmap')
       or (ct_agent_family(user_agent) not in ('none', 'aws-internal', 'console', 'browser', 'lambda-runtime',
                                               'ecs-runtime', 'boto', 'java-sdk', 'go-sdk', 'js-sdk', 'dotnet-sdk',
                                               'ruby-sdk', 'terraform')
           and ct_agent_family(user_agent) not like 'aws-cli%'
           and ct_agent_family(user_agent) not like 'aws-runtime:%')
),
spread as (
    select e.user_agent, count(distinct coalesce(nullif(e.access_key_id, ''), e.actor)) as principals
    from events as e
    semi join candidates as c
      on c.user_agent = e.user_agent
    group by e.user_agent
)
select distinct i.fid, i.user_agent
from inc_evidence as i
join spread as s
  on s.user_agent = i.user_agent
where s.principals <= $limit
order by i.fid, i.user_agent
"""


CREATED_KEYS_SQL = """
select distinct i.fid, fe.fid
from inc_evidence as i
join identity_lineage as l
  on l.access_key_id = i.access_key_id
join inc_finding_events as fe
  on fe.event_id = l.created_by_event_id
order by 1, 2
"""


class _Groups:
    def __init__(self, ids):
        self.parent = {i: i for i in ids}

    def find(self, i):
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a, b):
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def _link(groups, pairs, spans, gap_seconds):
    """Joins findings that share a value and lie within the gap of each other (in time order)."""
    by_value = {}
    for fid, value in pairs:
        by_value.setdefault(value, set()).add(fid)
    for value in sorted(by_value):
        reach, first = None, None
        for fid in sorted(by_value[value], key=lambda f: (spans[f][0], f)):
            start, end = spans[fid]
            if reach is not None and (start - reach).total_seconds() <= gap_seconds:
                groups.union(first, fid)
                reach = max(reach, end)
            else:
                reach, first = end, fid


# ---------------------------------------------------------------- building

INCIDENT_EVENTS_SQL = """
create or replace temp table inc_events_raw as
with spans as (
    select incident_id, first_time - to_minutes(cast($pad as bigint)) as low, last_time + to_minutes(cast($pad as bigint)) as high
    from inc_spans
)
select k.incident_id, e.event_id, e.event_time
from events as e
join inc_keys as k
  on k.access_key_id = e.access_key_id
join spans as s
  on s.incident_id = k.incident_id
where e.event_time between s.low and s.high
  and (k.any_address or list_contains(k.addresses, e.source_ip))
union
select a.incident_id, e.event_id, e.event_time
from events as e
join inc_addresses as a
  on a.source_ip = e.source_ip
join spans as s
  on s.incident_id = a.incident_id
where e.event_time between s.low and s.high
union
select f.incident_id, e.event_id, e.event_time
from events as e
join inc_finding_events2 as f
  on f.event_id = e.event_id
"""

INCIDENT_EVENTS_STORE_SQL = """
create or replace table incident_events as
select distinct incident_id, event_id, event_time
from inc_events_raw
order by incident_id, event_time, event_id;
drop table inc_events_raw;
"""

# What the ranking looks at, per incident, from its events.
INCIDENT_FACTS_SQL = """
select
    ie.incident_id,
    count(*) as events,
    count(*) filter (where e.error_code is not null
                     or (e.event_name = 'ConsoleLogin' and e.response_elements->>'$.ConsoleLogin' = 'Failure')) as failed,
    min(e.event_time) filter (where e.error_code is not null
                              or (e.event_name = 'ConsoleLogin' and e.response_elements->>'$.ConsoleLogin' = 'Failure')) as first_failure,
    count(distinct e.event_source) as services,
    count(*) filter (where e.error_code is null and e.event_name in $reads) as data_reads,
    list(distinct concat(e.event_name, ' ', coalesce(e.request_parameters->>'$.bucketName', e.request_parameters->>'$.secretId',
                                                     e.request_parameters->>'$.name', e.request_parameters->>'$.instanceId', ''),
                         case when e.request_parameters->>'$.key' is not null then concat('/', e.request_parameters->>'$.key') else '' end)
         order by concat(e.event_name, ' ', coalesce(e.request_parameters->>'$.bucketName', e.request_parameters->>'$.secretId',
                                                     e.request_parameters->>'$.name', e.request_parameters->>'$.instanceId', ''),
                         case when e.request_parameters->>'$.key' is not null then concat('/', e.request_parameters->>'$.key') else '' end))
        filter (where e.error_code is null and e.event_name in $reads) as data_touched,
    list(e.event_id order by e.event_time, e.event_id) as event_ids,
    list(distinct e.access_key_id order by e.access_key_id) filter (where nullif(e.access_key_id, '') is not null) as keys
from incident_events as ie
join events as e
  on e.event_id = ie.event_id
group by ie.incident_id
"""

# Has each principal of an incident used each of its public addresses before the incident?
HISTORY_SQL = """
with pairs as (
    select distinct i.incident_id, i.first_time, l.principal, e.source_ip, ct_agent_family(e.user_agent) as agent
    from incident_events as ie
    join inc_spans as i on i.incident_id = ie.incident_id
    join events as e on e.event_id = ie.event_id
    join identity_lineage as l on l.access_key_id = e.access_key_id
    where ct_network(e.source_ip) not like 'aws:%'
      and ct_network(e.source_ip) <> 'private'
),
addresses as (
    select distinct source_ip from pairs
),
seen as (
    -- only the calls from the incidents' addresses are read
    select l.principal, c.source_ip, ct_agent_family(c.user_agent) as agent, min(c.event_time) as first_seen
    from events as c
    semi join addresses as a on a.source_ip = c.source_ip
    join identity_lineage as l on l.access_key_id = c.access_key_id
    group by all
),
principal_seen as (
    select principal, min(first_seen) as first_seen
    from identity_lineage
    semi join pairs using (principal)
    group by principal
)
select
    p.incident_id, p.principal, p.source_ip, p.agent,
    (select min(s.first_seen) from seen as s where s.principal = p.principal and s.source_ip = p.source_ip) as ip_first_seen,
    (select min(s.first_seen) from seen as s
     where s.principal = p.principal and s.source_ip = p.source_ip and s.agent = p.agent) as pair_first_seen,
    ps.first_seen as principal_first_seen,
    p.first_time
from pairs as p
left join principal_seen as ps on ps.principal = p.principal
order by p.incident_id, p.principal, p.source_ip, p.agent
"""


def build(con, values=None):
    """Groups the findings into incidents and ranks them; returns (incidents, seconds)."""
    started = time.monotonic()
    values = values or settings()
    con.execute("alter table findings add column if not exists incident_id integer")
    con.execute(FINDING_LINKS_SQL)
    findings = _finding_rows(con)
    spans = {f["fid"]: (f["first_time"], f["last_time"] or f["first_time"]) for f in findings}
    groups = _Groups(list(spans))
    gap = values["gap_hours"] * 3600
    identities = casedb.rows(con, IDENTITIES_SQL)
    addresses = casedb.rows(con, ADDRESSES_SQL)
    agents = casedb.rows(con, RARE_AGENTS_SQL, {"limit": int(values["agent_principals"])})
    for pairs in (identities, addresses, agents):
        _link(groups, pairs, spans, gap)
    # A key the attacker made itself belongs with the finding on the call that made it, however
    # much later it is used.
    for fid, creator in casedb.rows(con, CREATED_KEYS_SQL):
        groups.union(fid, creator)
    members = {}
    for f in findings:
        members.setdefault(groups.find(f["fid"]), []).append(f)
    evidence = _evidence(con)
    incidents = []
    for group in members.values():
        events = {f["event_id"] for f in group}
        if len(events) < 2 and not any(f["severity"] in ("critical", "high") for f in group):
            continue
        incidents.append(group)
    incidents.sort(key=lambda g: (min(f["first_time"] for f in g), min(f["event_id"] or "" for f in g)))
    rows = [_describe(number, group, evidence) for number, group in enumerate(incidents, 1)]
    _store_membership(con, rows, values)
    facts = {row[0]: row for row in casedb.rows(con, INCIDENT_FACTS_SQL, {"reads": list(DATA_READS)})}
    history = {}
    for row in casedb.rows(con, HISTORY_SQL):
        history.setdefault(row[0], []).append(row[1:])
    for row in rows:
        _score(row, facts.get(row["incident_id"]), history.get(row["incident_id"], []), values)
    rows.sort(key=lambda r: (-r["score"], SEVERITY_ORDER.index(r["severity"]), r["first_time"], r["incident_id"]))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
        row["summary"] = _summary(row)
    _store(con, rows)
    con.execute("drop table if exists inc_findings; drop table if exists inc_finding_events; drop table if exists inc_evidence")
    return len(rows), time.monotonic() - started


def _finding_rows(con):
    cursor = con.execute("""
        select fid, detector, detection_id, title, severity, mitre, first_time, last_time, event_id, error_code,
               actor, source_ip, resource, summary
        from inc_findings
        where first_time is not null
        order by fid""")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _evidence(con):
    """{fid: {keys, principals, first_principals, ips, agents, key_types}} from the findings' events."""
    found = {}
    for fid, key, principal, first, ip, agent, key_type, service, session in casedb.rows(con, """
            select distinct fid, access_key_id, principal, first_principal, source_ip, user_agent, key_type, service, session_arn
            from inc_evidence
            order by all"""):
        item = found.setdefault(fid, {"keys": {}, "principals": set(), "first_principals": set(), "ips": set(),
                                      "agents": set(), "services": set()})
        if key:
            item["keys"][key] = key_type
        if principal:
            item["principals"].add(principal)
        if first:
            item["first_principals"].add(first)
        if ip:
            item["ips"].add(ip)
        if agent:
            item["agents"].add(agent)
        if service:
            item["services"].add(service)
    return found


def _public(ip):
    if not ip or ip.endswith(".amazonaws.com") or ip == "AWS Internal":
        return False
    parts = ip.split(".")
    if len(parts) == 4 and parts[0] == "10":
        return False
    if len(parts) == 4 and parts[0] == "192" and parts[1] == "168":
        return False
    if len(parts) == 4 and parts[0] == "172" and parts[1].isdigit() and 16 <= int(parts[1]) <= 31:
        return False
    return True


def _describe(number, group, evidence):
    group = sorted(group, key=lambda f: (f["first_time"], f["fid"]))
    keys, principals, firsts, ips, agents, services = {}, {}, set(), {}, set(), set()
    # principals and addresses in the order of the most severe findings first (titles name them first)
    for f in sorted(group, key=lambda f: (SEVERITY_ORDER.index(f["severity"]), f["first_time"], f["fid"])):
        item = evidence.get(f["fid"], {})
        keys.update(item.get("keys", {}))
        for principal in sorted(item.get("principals", set())):
            principals.setdefault(principal, len(principals))
        firsts |= item.get("first_principals", set())
        for ip in sorted(ip for ip in item.get("ips", set()) if _public(ip)):
            ips.setdefault(ip, len(ips))
        agents |= item.get("agents", set())
        services |= item.get("services", set())
    stages = {}
    for f in group:
        for technique in f["mitre"] or []:
            tactic = tactic_of(technique)
            if tactic:
                stage = stages.setdefault(tactic, {"first_time": f["first_time"], "titles": []})
                stage["first_time"] = min(stage["first_time"], f["first_time"])
                if f["title"] not in stage["titles"]:
                    stage["titles"].append(f["title"])
    tactics = [t for t in TACTICS if t in stages]
    severity = min((f["severity"] for f in group), key=SEVERITY_ORDER.index)
    return {
        "incident_id": number, "findings": group, "fids": [f["fid"] for f in group],
        "first_time": group[0]["first_time"], "last_time": max(f["last_time"] or f["first_time"] for f in group),
        "principals": list(principals), "first_principals": sorted(firsts), "keys": keys,
        "access_keys": sorted(keys), "source_ips": list(ips), "user_agents": sorted(agents)[:10],
        "services": sorted(services), "tactics": tactics,
        "stages": [{"tactic": t, "first_time": stages[t]["first_time"], "titles": stages[t]["titles"]} for t in tactics],
        "severity": severity, "finding_count": len(group),
    }


def _store_membership(con, rows, values):
    """Writes inc_spans, inc_keys, inc_addresses and findings' incident ids; then incident_events."""
    spans, keys, addresses, finding_events = [], [], [], []
    for row in rows:
        spans.append({"incident_id": row["incident_id"], "first_time": row["first_time"], "last_time": row["last_time"]})
        for key, key_type in row["keys"].items():
            keys.append({"incident_id": row["incident_id"], "access_key_id": key,
                         "any_address": key_type == "session", "addresses": row["source_ips"]})
        for ip in row["source_ips"]:
            addresses.append({"incident_id": row["incident_id"], "source_ip": ip})
        for fid in row["fids"]:
            finding_events.append({"incident_id": row["incident_id"], "fid": fid})
    timestamp = pa.timestamp("us", tz="UTC")
    con.register("inc_spans_arrow", pa.Table.from_pylist(spans, schema=pa.schema(
        [("incident_id", pa.int64()), ("first_time", timestamp), ("last_time", timestamp)])))
    con.register("inc_keys_arrow", pa.Table.from_pylist(keys, schema=pa.schema(
        [("incident_id", pa.int64()), ("access_key_id", pa.string()), ("any_address", pa.bool_()),
         ("addresses", pa.list_(pa.string()))])))
    con.register("inc_addresses_arrow", pa.Table.from_pylist(addresses, schema=pa.schema(
        [("incident_id", pa.int64()), ("source_ip", pa.string())])))
    con.register("inc_members_arrow", pa.Table.from_pylist(finding_events, schema=pa.schema(
        [("incident_id", pa.int64()), ("fid", pa.int64())])))
    con.execute("""
        create or replace temp table inc_spans as select * from inc_spans_arrow;
        create or replace temp table inc_addresses as select * from inc_addresses_arrow;
        create or replace temp table inc_members as select * from inc_members_arrow;
        -- Sessions minted by an incident's keys inside its span belong to it too (role chaining).
        create or replace temp table inc_keys as
        select * from inc_keys_arrow
        union all
        select distinct k.incident_id, l.access_key_id, true, []::varchar[]
        from identity_lineage as l
        join inc_keys_arrow as k
          on list_contains(l.chain_keys, k.access_key_id)
        join inc_spans_arrow as s
          on s.incident_id = k.incident_id
        where l.access_key_id <> k.access_key_id
          and l.minted_at between s.first_time and s.last_time;
        create or replace temp table inc_finding_events2 as
        select m.incident_id, fe.event_id
        from inc_members as m
        join inc_finding_events as fe on fe.fid = m.fid;
    """)
    for name in ("inc_spans_arrow", "inc_keys_arrow", "inc_addresses_arrow", "inc_members_arrow"):
        con.unregister(name)
    con.execute(INCIDENT_EVENTS_SQL, {"pad": int(values["pad_minutes"])})
    con.execute(INCIDENT_EVENTS_STORE_SQL)
    # One query for all incidents: one per incident took seconds with hundreds of incidents.
    extra = {}
    for incident_id, key in casedb.rows(con, "select incident_id, access_key_id from inc_keys order by 1, 2"):
        extra.setdefault(incident_id, []).append(key)
    for row in rows:
        for key in extra.get(row["incident_id"], []):
            if key not in row["keys"]:
                row["keys"][key] = "session"
        row["access_keys"] = sorted(row["keys"])


def _score(row, facts, history, values):
    reasons, score = [], 0.0
    weights = {s: values[f"weight_{s}"] for s in SEVERITY_ORDER}
    per_event = {}
    for f in row["findings"]:
        per_event[f["event_id"]] = max(per_event.get(f["event_id"], 0), weights[f["severity"]])
    doubled = len(row["findings"]) - len(per_event)
    severity_points = min(sum(per_event.values()), values["severity_cap"])
    score += severity_points
    counts = {}
    for f in row["findings"]:
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    reasons.append(f"+{severity_points:g}: findings on {len(per_event)} event(s) ("
                   + ", ".join(f"{counts[s]} {s}" for s in SEVERITY_ORDER if s in counts) + ")"
                   + (f"; {doubled} finding(s) on an event already counted count once" if doubled else "")
                   + (f"; capped at {values['severity_cap']:g}" if sum(per_event.values()) > values["severity_cap"] else ""))
    if len(row["tactics"]) > 1:
        points = values["tactic_points"] * (len(row["tactics"]) - 1)
        score += points
        reasons.append(f"+{points:g}: went through {len(row['tactics'])} ATT&CK tactics ("
                       + " -> ".join(TACTIC_WORDS[t] for t in row["tactics"]) + ")")
    events, failed, first_failure, services, data_reads, touched, event_ids, keys = (facts or (None,) * 9)[1:9]
    row["event_ids"] = event_ids or []
    row["event_count"] = events or 0
    row["failed_events"] = failed or 0
    row["services"] = services or 0
    row["data_touched"] = touched or []
    succeeded = [f for f in row["findings"] if f["error_code"] is None and first_failure is not None
                 and f["first_time"] > first_failure and f["severity"] in ("critical", "high", "medium")
                 and "failed" not in (f["title"] or "").lower()]
    if failed and succeeded:
        score += values["failed_then_succeeded"]
        reasons.append(f"+{values['failed_then_succeeded']:g}: {failed} failed or denied call(s) from "
                       f"{format_time(first_failure)}, then succeeded: {succeeded[0]['title']} at "
                       f"{format_time(succeeded[0]['first_time'])}")
    history_hours = values["history_hours"]
    new_pairs, known_pairs, unknown_pairs = [], [], []
    for principal, ip, agent, ip_first, pair_first, principal_first, start in history:
        earlier = principal_first is not None and (start - principal_first).total_seconds() >= history_hours * 3600
        if pair_first is not None and (start - pair_first).total_seconds() >= history_hours * 3600:
            known_pairs.append((principal, ip, agent, pair_first))
        elif earlier:
            new_pairs.append((principal, ip, agent))
        else:
            unknown_pairs.append((principal, ip))
    if new_pairs:
        score += values["new_infrastructure"]
        principal, ip, agent = new_pairs[0]
        reasons.append(f"+{values['new_infrastructure']:g}: {_short(principal)} used from {ip} ({agent}), "
                       "an address or client it had not used before in these logs"
                       + (f" (and {len(new_pairs) - 1} more such pair(s))" if len(new_pairs) > 1 else ""))
    privileged = [f for f in row["findings"] if f["error_code"] is None and
                  any(tactic_of(t) in ("privilege-escalation", "persistence") for t in f["mitre"] or [])]
    if privileged:
        score += values["privilege_gained"]
        reasons.append(f"+{values['privilege_gained']:g}: gained privilege or persistence: "
                       + "; ".join(sorted({f["title"] for f in privileged})[:3]))
    if data_reads:
        score += values["data_touched"]
        reasons.append(f"+{values['data_touched']:g}: read data: {data_reads} successful read(s) of objects, "
                       f"secrets or parameters (" + ", ".join(t.strip() for t in touched[:3])
                       + (", ..." if len(touched) > 3 else "") + ")")
    if history and not new_pairs and not unknown_pairs and known_pairs:
        score -= values["known_history"]
        principal, ip, agent, since = known_pairs[0]
        reasons.append(f"-{values['known_history']:g}: matches its own history: {_short(principal)} had used "
                       f"{ip} with {agent} since {format_time(since)}, before this began")
    elif unknown_pairs and not new_pairs:
        principal, ip = unknown_pairs[0]
        reasons.append(f"+0: {_short(principal)} has no earlier activity in these logs to compare {ip} with")
    row["score"] = round(score, 2)
    row["reasons"] = reasons


def _short(principal):
    return common.short_identity(principal, with_account=False) if principal else "?"


def _title(row):
    names = list(dict.fromkeys(_short(p) for p in row["principals"]))
    who = ", ".join(names[:2]) or "unknown caller"
    if len(names) > 2:
        who += f" and {len(names) - 2} more"
    where = ", ".join(row["source_ips"][:2]) or "AWS or private addresses"
    stages = " -> ".join(TACTIC_WORDS[t] for t in row["tactics"]) or "findings"
    return f"{who} from {where}: {stages}"


def _summary(row):
    findings = row["findings"]
    first = findings[0]
    sentences = []
    keys = row["access_keys"]
    sentences.append(
        f"From {format_time(row['first_time'])} to {format_time(row['last_time'])}, "
        f"{', '.join(_short(p) for p in row['principals'][:3]) or 'an unknown caller'}"
        + (f" (keys {', '.join(keys[:3])}{' and more' if len(keys) > 3 else ''})" if keys else "")
        + (f" acted from {', '.join(row['source_ips'][:3])}{' and more' if len(row['source_ips']) > 3 else ''}"
           if row["source_ips"] else " acted from AWS or private addresses") + ".")
    origins = [p for p in row["first_principals"] if p not in row["principals"]]
    if origins:
        sentences.append("Behind the keys: " + ", ".join(_short(p) for p in origins[:3]) + ".")
    sentences.append(f"It began with: {first['title']} ({first['summary']}).")
    if row["stages"]:
        sentences.append("Then: " + "; ".join(
            f"{TACTIC_WORDS[s['tactic']]} from {format_time(s['first_time'])[11:16]} ({', '.join(s['titles'][:2])})"
            for s in row["stages"]) + ".")
    if row.get("data_touched"):
        touched = list(dict.fromkeys(_touched(t) for t in row["data_touched"]))
        sentences.append("Read: " + ", ".join(touched[:4]) + (f" and {len(touched) - 4} more" if len(touched) > 4 else "") + ".")
    resources = sorted({f["resource"] for f in findings if f["resource"] and f["resource"] != "(not recorded)"
                        and "HIDDEN_DUE_TO_SECURITY_REASONS" not in f["resource"] and len(f["resource"]) <= 80})
    if resources:
        sentences.append("Resources named by the findings: " + ", ".join(resources[:4])
                         + (f" and {len(resources) - 4} more" if len(resources) > 4 else "") + ".")
    sentences.append("Check now: " + "; ".join(_checks(row, resources)) + ".")
    row["title"] = _title(row)
    return " ".join(sentences)


def _touched(text):
    """'GetSecretValue arn:...:secret:prod/db-AbCdEf' -> 'GetSecretValue prod/db-AbCdEf'."""
    text = text.strip()
    if ":secret:" in text:
        action, _, rest = text.partition(" ")
        return f"{action} {rest.split(':secret:', 1)[1]}"
    return text[:80]


def _checks(row, resources):
    """What to do first, from what the incident holds."""
    checks = []
    if row["source_ips"]:
        checks.append(f"whether {', '.join(row['source_ips'][:3])} and these clients are known to the owners")
    long_term = [k for k in row["access_keys"] if k.startswith("AKIA")]
    sessions = [k for k in row["access_keys"] if k.startswith("ASIA")]
    if long_term:
        checks.append("deactivate and rotate " + ", ".join(long_term[:3]))
    roles = sorted({_short(p) for p in row["principals"] if ":role/" in p})
    if sessions and roles:
        checks.append("revoke the active sessions of " + ", ".join(roles[:2]))
    elif sessions:
        checks.append("end the sessions " + ", ".join(sessions[:2]) + " (they expire on their own; the user's password or keys do not)")
    made = [r for r in resources if r.startswith(("user/", "role/")) or "access key" in r]
    if made or "persistence" in row["tactics"]:
        checks.append("remove what was created or changed for persistence" + (f" ({', '.join(made[:3])})" if made else ""))
    if {"exfiltration", "collection"} & set(row["tactics"]) or row.get("data_touched"):
        checks.append("what the data read or shared contains, and who can still reach it")
    return checks or ["whether the owners recognise this activity"]


def _store(con, rows):
    table = pa.Table.from_pylist([{
        "incident_id": r["incident_id"], "rank": r["rank"], "title": r["title"], "summary": r["summary"],
        "first_time": r["first_time"], "last_time": r["last_time"], "principals": r["principals"],
        "first_principals": r["first_principals"], "access_keys": r["access_keys"], "source_ips": r["source_ips"],
        "user_agents": r["user_agents"], "tactics": r["tactics"],
        "stages": [f"{TACTIC_WORDS[s['tactic']]} from {format_time(s['first_time'])}: {', '.join(s['titles'])}"
                   for s in r["stages"]],
        "severity": r["severity"], "finding_count": r["finding_count"], "event_count": r["event_count"],
        "event_ids": r["event_ids"], "score": float(r["score"]), "reasons": r["reasons"],
    } for r in rows], schema=pa.schema([
        ("incident_id", pa.int64()), ("rank", pa.int64()), ("title", pa.string()), ("summary", pa.string()),
        ("first_time", pa.timestamp("us", tz="UTC")), ("last_time", pa.timestamp("us", tz="UTC")),
        ("principals", pa.list_(pa.string())), ("first_principals", pa.list_(pa.string())),
        ("access_keys", pa.list_(pa.string())), ("source_ips", pa.list_(pa.string())),
        ("user_agents", pa.list_(pa.string())), ("tactics", pa.list_(pa.string())), ("stages", pa.list_(pa.string())),
        ("severity", pa.string()), ("finding_count", pa.int64()), ("event_count", pa.int64()),
        ("event_ids", pa.list_(pa.string())), ("score", pa.float64()), ("reasons", pa.list_(pa.string())),
    ]))
    con.register("new_incidents", table)
    con.begin()
    try:
        con.execute("create or replace table incidents as select * from new_incidents order by rank")
        con.execute("update findings set incident_id = null where incident_id is not null")
        con.execute("""
            update findings set incident_id = m.incident_id
            from (select f.detector, f.detection_id, f.event_id, f.first_time, f.resource, f.summary, m.incident_id
                  from inc_members as m join inc_findings as f on f.fid = m.fid) as m
            where findings.detector = m.detector and findings.detection_id = m.detection_id
              and findings.event_id is not distinct from m.event_id
              and findings.first_time is not distinct from m.first_time
              and findings.resource is not distinct from m.resource
              and findings.summary is not distinct from m.summary""")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.unregister("new_incidents")


# ---------------------------------------------------------------- one finding per fact

FACTS_SQL = """
with per_event as (
    -- every finding on one event is one fact, naming every reason
    select
        event_id,
        min(first_time) as first_time,
        max(last_time) as last_time,
        min({rank}) as worst,
        list(distinct title order by title) as reasons,
        list(distinct detection_id order by detection_id) as detection_ids,
        list(distinct concat(title, chr(31), detection_id) order by concat(title, chr(31), detection_id)) as named,
        list(distinct detector order by detector) as detectors,
        arg_min(summary, ({rank}, detection_id)) as summary,
        arg_min(actor, ({rank}, detection_id)) as actor,
        arg_min(resource, ({rank}, detection_id)) as resource,
        arg_min(source_ip, ({rank}, detection_id)) as source_ip,
        bool_and(error_code is not null) as failed,
        min(error_code) as error_code,
        min(incident_id) as incident_id
    from findings
    where ($scope = 'all' or ($scope = 'outside' and incident_id is null) or ($scope = 'inside' and incident_id = $incident)
           or ($scope = 'incidents' and incident_id is not null))
      and found_at >= $since
    group by {by}event_id
)
-- repeats of the same kind by the same principal on the same resource are one fact with a count
select
    min(first_time) as first_time,
    max(last_time) as last_time,
    {order}[min(worst)] as severity,
    reasons,
    detection_ids,
    any_value(named) as named,
    any_value(detectors) as detectors,
    actor,
    resource,
    failed,
    min(error_code) as error_code,
    count(*) as times,
    list(distinct source_ip order by source_ip) filter (where source_ip is not null) as source_ips,
    arg_min(summary, (first_time, event_id)) as summary,
    list(event_id order by first_time, event_id) as event_ids,
    min(incident_id) as incident_id
from per_event
group by {by}reasons, detection_ids, actor, resource, failed
order by {by}min(worst), min(first_time), min(event_id)
""".replace("{rank}", detections.SEVERITY_RANK_SQL).replace(
    "{order}", "[" + ", ".join(f"'{severity}'" for severity in SEVERITY_ORDER) + "]")


def facts(con, scope="all", incident=None, since=None):
    """One row per fact (see FACTS_SQL): dicts ordered most severe first, then by time."""
    return _fact_rows(con, "", scope, incident, since)


def facts_by_incident(con):
    """{incident_id: facts(con, "inside", incident=incident_id)} for every incident, in one query
    (one query per incident took several seconds for the 355 incidents of a 2M-event case)."""
    found = {}
    for fact in _fact_rows(con, "incident_id, ", "incidents"):
        found.setdefault(fact["incident_id"], []).append(fact)
    return found


def _fact_rows(con, by, scope, incident=None, since=None):
    """FACTS_SQL grouped by `by` as well (a column list ending in ', ', or ''), as dicts."""
    con.execute("alter table findings add column if not exists incident_id integer")
    cursor = con.execute(FACTS_SQL.replace("{by}", by), {"scope": scope, "incident": incident,
                                                         "since": since or common.parse_utc_time("1970-01-01")})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


# ---------------------------------------------------------------- the case summary

TIMELINE_ROWS = 25          # unflagged events shown per incident timeline (all flagged ones are shown)
TIMELINES_SHOWN = 5         # incidents that get a timeline in the report


def case_summary(con, db_path, since=None, report_links=None, marks=None):
    """The first sections of the hunt report: incidents as stories, their timelines, the findings
    outside incidents (one line per fact) and coverage notes. Returns markdown lines.
    report_links: {area name: markdown link to its report}; marks: the analyst's verdicts and
    allowlist matches, {(detection_id, event_id): text} (triage.triage_summary)."""
    report_links = report_links or {}
    marks = marks or {}
    import shlex
    cursor = con.execute("select * from incidents order by rank")
    names = [d[0] for d in cursor.description]
    incidents = [dict(zip(names, row)) for row in cursor.fetchall()]
    lines = ["## Incidents, most important first", ""]
    if not incidents:
        lines += ["No incident: no finding rests on two events or is high or critical.", ""]
    db = shlex.quote(str(db_path))
    inside_facts = facts_by_incident(con)
    detectors = dict(casedb.rows(con, """select incident_id, list(distinct detector order by detector) from findings
                                         where incident_id is not null group by incident_id"""))
    for row in incidents:
        pivot = (row["access_keys"] or row["principals"] or [None])[0]
        lines += [f"### {row['rank']}. {md_text(row['title'])}", "",
                  md_text(row["summary"]), ""]
        lines += ["Why it ranks here (score " + f"{row['score']:g}): " + md_text("; ".join(row["reasons"])), ""]
        lines += ["Findings: " + findings_line(inside_facts.get(row["incident_id"], []), marks), ""]
        deeper = [f"analyze_actor.py {db} {shlex.quote(p)}" for p in ([pivot] if pivot else [])]
        deeper += [f"analyze_actor.py {db} {shlex.quote(p)}" for p in row["principals"][:2] if p != pivot]
        if deeper:
            lines += ["Go deeper: " + ", ".join(md_code(c, None) for c in deeper), ""]
        areas = detectors.get(row["incident_id"], [])
        if any(a in report_links for a in areas):
            lines += ["Area reports: " + ", ".join(report_links[a] for a in areas if a in report_links), ""]
    for row in incidents[:TIMELINES_SHOWN]:
        lines += [f"### Timeline of incident {row['rank']} ({row['event_count']} events, "
                  f"{row['finding_count']} findings)", ""]
        events = casedb.rows(con, TIMELINE_SQL, {"incident": row["incident_id"], "unflagged": TIMELINE_ROWS})
        shown = events
        lines += md_table(["time", "principal", "key", "IP", "action", "result", "finding"],
                          [(format_time(t), _short(p), k or "", ip or "", action,
                            "ok" if not err else f"failed: {err}",
                            Markdown(reports.summarise_list(finding.split("; "), "findings", md_text)) if finding else "")
                           for t, p, k, ip, action, err, finding, _ in shown])
        if len(shown) < row["event_count"]:
            lines += ["", f"{row['event_count'] - len(shown)} more events of this incident are in the `incident_events` table "
                      f"(`select * from incident_events join events using (event_id) where incident_id = {row['incident_id']}`)."]
        lines.append("")
    if len(incidents) > TIMELINES_SHOWN:
        lines += [f"Incidents {TIMELINES_SHOWN + 1} to {len(incidents)} have no timeline here: "
                  "`select * from incident_events join events using (event_id) where incident_id = N`.", ""]
    # A fact the analyst judged (a verdict or an allowlist match) is kept, marked, and listed last.
    outside = sorted(facts(con, "outside", since=since), key=lambda f: bool(_mark(f, marks)))
    lines += ["## Findings outside incidents", ""]
    if not outside:
        lines += ["None.", ""]
    else:
        lines += ["One line per fact: the findings on one event are one line naming every reason; repeats of the "
                  "same kind by the same principal on the same resource are one line with a count.", ""]
        lines += md_table(["severity", "first", "times", "reasons", "principal", "resource", "summary", "report"],
                          [(f["severity"] + (f" ({_mark(f, marks)})" if _mark(f, marks) else ""),
                            format_time(f["first_time"]), f["times"],
                            Markdown(reports.summarise_list(_named_items(f["named"]), "reasons", str)),
                            Markdown(md_code(_short(f["actor"]), 80)), f["resource"] or "", f["summary"],
                            Markdown(reports.summarise_list([report_links[d] for d in f["detectors"] if d in report_links],
                                                            "reports", str)))
                           for f in outside[:30]])
        if len(outside) > 30:
            lines += ["", f"{len(outside) - 30} more: see the area reports."]
        lines.append("")
    lines += ["## Coverage: what these logs cannot show", ""] + [f"- {md_text(n)}" for n in coverage_notes(con)] + [""]
    return lines


def _mark(fact, marks):
    """The analyst's verdicts and allowlist matches on the findings behind a fact ('' for none)."""
    found = {marks[(detection, event)] for detection in fact["detection_ids"] for event in fact["event_ids"]
             if (detection, event) in marks}
    return "; ".join(sorted(found))


def findings_line(facts, marks, shown=8):
    """An incident's findings in one line: each kind once, most severe first, with how many
    times it fired (facts of the same detections on other events or resources are counted,
    not repeated), and the analyst's mark when there is one."""
    times = {}
    for fact in facts:
        # A fact behind several detections counts for each of them.
        for name in _named_items(fact["named"]):
            key = (name, _mark(fact, marks))
            times[key] = times.get(key, 0) + fact["times"]
    items = [name + (f" x{count}" if count > 1 else "") + (f" ({md_text(mark)})" if mark else "")
             for (name, mark), count in times.items()]
    return "; ".join(items[:shown]) + (f"; and {len(items) - shown} more" if len(items) > shown else "")


def _named(pairs):
    """'title (`detection_id`)' for each reason of a fact, joined by '; '."""
    return "; ".join(_named_items(pairs))


def _named_items(pairs):
    return [f"{md_text(title)} ({md_code(detection)})" for title, _, detection in (p.partition(chr(31)) for p in pairs)]


# Every flagged event of an incident, and its first unflagged ones (the rest are in incident_events).
TIMELINE_SQL = """
with flagged as (
    select event_id, string_agg(distinct title, '; ' order by title) as finding
    from findings
    where incident_id = $incident
    group by event_id
),
rows as (
    select
        e.event_time, coalesce(l.principal, e.actor) as principal, e.access_key_id, e.source_ip,
        concat(split_part(e.event_source, '.', 1), ':', e.event_name) as action,
        coalesce(e.error_code, case when e.response_elements->>'$.ConsoleLogin' = 'Failure' then 'Failure' end) as error,
        f.finding,
        e.event_id,
        row_number() over (partition by f.finding is null order by e.event_time, e.event_id) as nth
    from incident_events as ie
    join events as e on e.event_id = ie.event_id
    left join identity_lineage as l on l.access_key_id = e.access_key_id
    left join flagged as f on f.event_id = e.event_id
    where ie.incident_id = $incident
)
select event_time, principal, access_key_id, source_ip, action, error, finding, event_id
from rows
where finding is not null or nth <= $unflagged
order by event_time, event_id
"""


COVERAGE_SQL = """
select
    min(event_time) as first_event,
    max(event_time) as last_event,
    min(event_time) filter (where event_category = 'Data') as first_data_event,
    min(event_time) filter (where event_category = 'Data' and event_source = 's3.amazonaws.com') as first_s3_data_event,
    count(*) filter (where event_category = 'Data') as data_events,
    list(distinct aws_region order by aws_region) filter (where aws_region is not null) as regions
from events
"""

EMPTY_DAYS_SQL = """
with days as (
    select cast(event_time as date) as day, count(*) as events
    from events
    where event_time is not null
    group by 1
),
span as (
    select unnest(generate_series(min(day), max(day), interval 1 day)) as day from days
)
select cast(s.day as date)
from span as s
left join days as d on d.day = cast(s.day as date)
where d.day is null
order by 1
"""


def coverage_notes(con):
    """Plain statements that help judge the silence: data events, empty days, regions."""
    first, last, first_data, first_s3, data_events, regions = casedb.one(con, COVERAGE_SQL)
    notes = []
    if first is None:
        return ["No events are loaded."]
    notes.append(f"Events from {format_time(first)} to {format_time(last)}; nothing before or after can be judged.")
    if not data_events:
        notes.append("No data events (S3 object reads and writes, Lambda invocations): reads of objects and "
                     "downloads are not in these logs, only management calls.")
    elif first_s3 and first_s3 > first:
        notes.append(f"S3 data events are logged only from {format_time(first_s3)}: object reads before that are "
                     "not in these logs.")
    empty = [d for (d,) in casedb.rows(con, EMPTY_DAYS_SQL)]
    if empty:
        shown = ", ".join(str(d) for d in empty[:5]) + (f" and {len(empty) - 5} more" if len(empty) > 5 else "")
        notes.append(f"{len(empty)} day(s) with no events at all inside the span: {shown} (logging off or files missing).")
    quiet = casedb.rows(con, """
        with per_region as (
            select aws_region, min(event_time) as first, max(event_time) as last, count(*) as n
            from events where aws_region is not null group by 1)
        select aws_region, first, last from per_region
        where last < (select max(event_time) from events) - interval 1 day
        order by aws_region""")
    for region, region_first, region_last in quiet[:5]:
        notes.append(f"Region {region} has events only from {format_time(region_first)} to {format_time(region_last)}.")
    notes.append(f"Regions with events: {', '.join(regions[:12])}" + (" and more" if len(regions) > 12 else "")
                 + "; a region not listed has no events in these logs.")
    return notes
