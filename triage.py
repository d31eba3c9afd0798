"""Triage state in the case database: the analyst's verdicts and allowlist, kept apart from the
findings so that a rerun of a detector (which replaces its findings) or a new ingest loses none
of it.

Tables (created here with `create table if not exists`):
  verdicts   one row per verdict recorded; the latest (by recorded_at, then verdict_id) for a
             target counts. target_kind 'finding': keyed by detection_id + event_id (the
             detection and its triggering event - both stay the same when the detector runs
             again over the same events). target_kind 'incident': keyed by the incident's
             earliest finding, `incident:<detection_id>:<event_id>` (stable while that finding
             stays the earliest of the incident).
  allowlist  known-good principals, access keys, IPs, CIDRs and user-agent patterns, each with
             a reason, optionally limited to one detection and a time span. A finding that
             matches is kept, marked and listed last; it is never dropped.
  Both tables draw their ids from one sequence (triage_ids), so `analyze_triage.py DB remove ID`
  names exactly one row. Removing sets removed_at/removed_by; nothing is deleted.
View:
  findings_triaged  findings with verdict, verdict_note, verdict_by, verdict_at,
                    allowlisted_by (entry ids) and ranked_down (allowlisted, benign or false
                    positive: listed after the rest). Refreshed by apply_triage(con).
"""
import datetime as dt
import getpass
import ipaddress
import os
import re

import casedb
import common
import ipcontext

VERDICTS = ("confirmed", "benign", "false_positive", "needs_review")
ALLOW_KINDS = ("principal", "key", "ip", "cidr", "user_agent")
INCIDENT_PREFIX = "incident:"

SCHEMA_SQL = """
create sequence if not exists triage_ids;

create table if not exists verdicts (
    verdict_id bigint default nextval('triage_ids'),
    target_kind varchar not null,      -- finding | incident
    detection_id varchar not null,     -- of the finding, or of the incident's earliest finding
    event_id varchar not null,         -- its triggering event
    verdict varchar not null,          -- confirmed | benign | false_positive | needs_review
    note varchar,
    analyst varchar,
    recorded_at timestamptz,
    removed_at timestamptz,
    removed_by varchar
);

create table if not exists allowlist (
    entry_id bigint default nextval('triage_ids'),
    kind varchar not null,             -- principal | key | ip | cidr | user_agent
    value varchar not null,
    reason varchar not null,
    detection_id varchar,              -- NULL: every detection
    since timestamptz,                 -- NULL: open; compared with the finding's first_time
    until timestamptz,                 -- exclusive (an UNTIL date given covers that whole day)
    analyst varchar,
    added_at timestamptz,
    removed_at timestamptz,
    removed_by varchar
);

-- IP and CIDR entries are matched in Python (ipaddress: IPv4 and IPv6, every spelling of an
-- address), once per distinct source IP of the findings; apply_triage() refreshes this table.
create table if not exists allowlist_ip_hits (
    entry_id bigint,
    source_ip varchar
);
"""

# The triggering event's identity fields; event_id can repeat in hand-made data, so one row per id.
VIEW_SQL = """
create or replace view findings_triaged as
with latest_verdicts as (
    select detection_id, event_id, verdict_id, verdict, note, analyst, recorded_at
    from verdicts
    where target_kind = 'finding'
      and removed_at is null
    qualify row_number() over (partition by detection_id, event_id
                               order by recorded_at desc, verdict_id desc) = 1
),
active_entries as (
    select * from allowlist where removed_at is null
),
trigger_events as (
    select
        event_id,
        min(user_arn) as user_arn,
        min(user_name) as user_name,
        min(principal_id) as principal_id,
        min(session_issuer_arn) as session_issuer_arn,
        min(session_issuer_name) as session_issuer_name,
        min(access_key_id) as access_key_id,
        min(user_agent) as user_agent
    from events
    where event_id in (select event_id from findings)
    group by event_id
),
matches as (
    select
        f.detection_id,
        f.event_id,
        f.detector,
        list(distinct a.entry_id order by a.entry_id) as entry_ids
    from findings as f
    left join trigger_events as e on e.event_id = f.event_id
    join active_entries as a
      on (a.detection_id is null or a.detection_id = f.detection_id)
     and (a.since is null or f.first_time >= a.since)
     and (a.until is null or f.first_time < a.until)
     and (
        (a.kind = 'principal' and list_contains([f.actor, e.user_arn, e.user_name, e.principal_id,
                                                  e.session_issuer_arn, e.session_issuer_name], a.value))
        or (a.kind = 'key' and e.access_key_id = a.value)
        or (a.kind = 'user_agent' and e.user_agent ilike
              replace(replace(replace(replace(a.value, '\\', '\\\\'), '%', '\\%'), '_', '\\_'), '*', '%') escape '\\')
        or (a.kind in ('ip', 'cidr') and exists (
              select 1 from allowlist_ip_hits as h
              where h.entry_id = a.entry_id and h.source_ip = f.source_ip))
     )
    group by f.detection_id, f.event_id, f.detector
)
select
    f.*,
    v.verdict,
    v.note as verdict_note,
    v.analyst as verdict_by,
    v.recorded_at as verdict_at,
    v.verdict_id,
    coalesce(m.entry_ids, []::bigint[]) as allowlisted_by,
    (m.entry_ids is not null or coalesce(v.verdict in ('benign', 'false_positive'), false)) as ranked_down
from findings as f
left join latest_verdicts as v
  on v.detection_id = f.detection_id and v.event_id = f.event_id
left join matches as m
  on m.detection_id = f.detection_id and m.event_id = f.event_id and m.detector = f.detector
"""


def ensure_schema(con):
    """Creates the triage tables and view when missing (an older case database gets them too)."""
    con.execute(SCHEMA_SQL)
    con.execute(VIEW_SQL)


def analyst():
    """Who is recording: $CLOUDTRAIL_ANALYST, else the login name."""
    name = common.env_text("CLOUDTRAIL_ANALYST", "")
    if name:
        return name
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


# ---------------------------------------------------------------- recording

def parse_target(con, text):
    """FINDING_OR_INCIDENT as typed -> (target_kind, [(detection_id, event_id), ...]).

    Accepted: DETECTION_ID:EVENT_ID (one finding), EVENT_ID (every current finding that event
    triggered), incident:DETECTION_ID:EVENT_ID (an incident, by its earliest finding).
    """
    value = text.strip()
    kind = "finding"
    if value.startswith(INCIDENT_PREFIX):
        kind, value = "incident", value[len(INCIDENT_PREFIX):]
    head, sep, tail = value.partition(":")
    if sep and re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", head):
        detection_id, event_id = head, tail
        found = casedb.scalar(con, "select count(*) from findings where detection_id = ? and event_id = ?",
                              [detection_id, event_id])
        if not found:
            raise common.ToolError(f"no finding of {detection_id} is triggered by event {event_id} - "
                                   "list the findings with: select detection_id, event_id, summary from findings")
        return kind, [(detection_id, event_id)]
    if kind == "incident":
        raise common.UsageError(f"an incident is named incident:DETECTION_ID:EVENT_ID (its earliest finding), not {text!r}")
    keys = casedb.rows(con, """
        select distinct detection_id, event_id from findings where event_id = ? order by detection_id""", [value])
    if not keys:
        raise common.ToolError(f"no finding is triggered by event {value} - give DETECTION_ID:EVENT_ID as the "
                               "findings table or a report shows them")
    return kind, [tuple(key) for key in keys]


def record_verdict(con, text, verdict, note, who=None, when=None):
    """Records a verdict; returns [(verdict_id, detection_id, event_id)]."""
    if verdict not in VERDICTS:
        raise common.UsageError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    ensure_schema(con)
    kind, keys = parse_target(con, text)
    recorded = []
    for detection_id, event_id in keys:
        verdict_id = casedb.scalar(con, """
            insert into verdicts (target_kind, detection_id, event_id, verdict, note, analyst, recorded_at)
            values (?, ?, ?, ?, ?, ?, ?) returning verdict_id""",
            [kind, detection_id, event_id, verdict, note, who or analyst(), when or common.now_utc()])
        recorded.append((verdict_id, detection_id, event_id))
    return recorded


def check_allow_value(kind, value):
    """The value of an allowlist entry as stored; a CIDR or IP that cannot be read is a usage error."""
    if kind not in ALLOW_KINDS:
        raise common.UsageError(f"allowlist kind must be one of {', '.join(ALLOW_KINDS)}, not {kind!r}")
    value = value.strip()
    if not value:
        raise common.UsageError("the allowlist value is empty")
    if kind == "ip":
        address = parse_ip(value)
        if address is None:
            raise common.UsageError(f"{value!r} is not an IPv4 or IPv6 address")
        return str(address)
    if kind == "cidr":
        try:
            return str(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise common.UsageError(f"{value!r} is not a CIDR range like 203.0.113.0/24 or 2001:db8::/32") from None
    return value


def add_allow_entry(con, kind, value, reason, detection_id=None, since=None, until=None, who=None, when=None):
    """Adds an allowlist entry; returns its id. since/until: datetimes, until exclusive."""
    value = check_allow_value(kind, value)
    if not reason.strip():
        raise common.UsageError("give a REASON for the allowlist entry")
    if detection_id and not re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", detection_id):
        raise common.UsageError(f"{detection_id!r} is not a detection id (lowercase words joined by _)")
    ensure_schema(con)
    return casedb.scalar(con, """
        insert into allowlist (kind, value, reason, detection_id, since, until, analyst, added_at)
        values (?, ?, ?, ?, ?, ?, ?, ?) returning entry_id""",
        [kind, value, reason.strip(), detection_id or None, since, until, who or analyst(), when or common.now_utc()])


def remove(con, entry_id, who=None):
    """Marks a verdict or allowlist entry removed; returns 'verdict' or 'allowlist entry'."""
    ensure_schema(con)
    now, who = common.now_utc(), who or analyst()
    if casedb.scalar(con, "select count(*) from verdicts where verdict_id = ? and removed_at is null", [entry_id]):
        con.execute("update verdicts set removed_at = ?, removed_by = ? where verdict_id = ?", [now, who, entry_id])
        return "verdict"
    if casedb.scalar(con, "select count(*) from allowlist where entry_id = ? and removed_at is null", [entry_id]):
        con.execute("update allowlist set removed_at = ?, removed_by = ? where entry_id = ?", [now, who, entry_id])
        return "allowlist entry"
    raise common.ToolError(f"no verdict or allowlist entry {entry_id} (or it was already removed) - "
                           "see analyze_triage.py DATABASE list")


# ---------------------------------------------------------------- applying

def parse_ip(text):
    """An address as ipaddress reads it, or None (see ipcontext.parse_address)."""
    return ipcontext.parse_address(text)


def apply_triage(con):
    """Brings findings_triaged up to date with the findings and allowlist now stored
    (matches IP and CIDR entries against the findings' source IPs)."""
    ensure_schema(con)
    entries = casedb.rows(con, """
        select entry_id, kind, value from allowlist
        where removed_at is null and kind in ('ip', 'cidr') order by entry_id""")
    hits = []
    if entries:
        networks = [(entry_id, ipaddress.ip_network(value, strict=False)) for entry_id, _, value in entries]
        for (source_ip,) in casedb.rows(con, """
                select distinct source_ip from findings where source_ip is not null order by source_ip"""):
            address = parse_ip(source_ip)
            if address is None:
                continue
            hits += [(entry_id, source_ip) for entry_id, network in networks
                     if address.version == network.version and address in network]
    con.begin()
    try:
        con.execute("delete from allowlist_ip_hits")
        if hits:
            con.executemany("insert into allowlist_ip_hits values (?, ?)", hits)
        con.commit()
    except BaseException:
        con.rollback()
        raise


def entry_label(kind, value, reason, detection_id=None, since=None, until=None):
    """'cidr 203.0.113.0/24 - office IP', with its limits."""
    limits = []
    if detection_id:
        limits.append(f"only {detection_id}")
    if since or until:
        end = (until - dt.timedelta(microseconds=1)) if until else None
        limits.append(f"{common.format_time(since) or 'start'} to {common.format_time(end) or 'end'}")
    return f"{kind} {value} - {reason}" + "".join(f"; {limit}" for limit in limits)


def triage_summary(con, detector=None, keys=None):
    """Counts and the lines a report shows about triage, for one detector's findings, the
    findings in keys [(detection_id, event_id)], or all.

    Returns {"verdicts": {verdict: n}, "allowlisted": n, "entries": [(entry_id, label, n)],
             "lines": [text], "marks": {(detection_id, event_id): text}}.
    """
    apply_triage(con)
    scope, params = "true", []
    if detector:
        scope, params = "f.detector = ?", [detector]
    elif keys is not None:
        con.execute("create or replace temp table triage_scope (detection_id varchar, event_id varchar)")
        if keys:
            con.executemany("insert into triage_scope values (?, ?)", [list(k) for k in keys])
        scope = ("exists (select 1 from triage_scope as k "
                 "where k.detection_id = f.detection_id and k.event_id = f.event_id)")
    verdict_counts = dict(casedb.rows(con, f"""
        select verdict, count(*) from findings_triaged as f
        where {scope} and verdict is not null group by verdict order by verdict""", params))
    entries = casedb.rows(con, f"""
        select a.entry_id, a.kind, a.value, a.reason, a.detection_id, a.since, a.until,
               (select count(*) from findings_triaged as f
                where {scope} and list_contains(f.allowlisted_by, a.entry_id)) as matched
        from allowlist as a
        where a.removed_at is null
        order by a.entry_id""", params)
    allowlisted = casedb.scalar(con, f"""
        select count(*) from findings_triaged as f where {scope} and len(allowlisted_by) > 0""", params)
    marks = {}
    for detection_id, event_id, verdict, by, allowed in casedb.rows(con, f"""
            select detection_id, event_id, verdict, verdict_by, allowlisted_by from findings_triaged as f
            where {scope} and (verdict is not null or len(allowlisted_by) > 0)
            order by detection_id, event_id""", params):
        parts = ([f"{verdict.replace('_', ' ')} by {by}"] if verdict else []) + \
                ([f"allowlisted #{', #'.join(map(str, allowed))}"] if allowed else [])
        marks[(detection_id, event_id)] = "; ".join(parts)
    lines = [f"{count} finding(s) marked {verdict.replace('_', ' ')}" for verdict, count in
             sorted(verdict_counts.items(), key=lambda item: VERDICTS.index(item[0]))]
    lines += [f"{matched} finding(s) matched allowlist entry {entry_id} "
              f"({entry_label(kind, value, reason, detection_id, since, until)}): kept, listed last"
              for entry_id, kind, value, reason, detection_id, since, until, matched in entries if matched]
    quiet = [entry[0] for entry in entries if not entry[7]]
    if quiet:
        lines.append(f"allowlist entr{'y' if len(quiet) == 1 else 'ies'} {', '.join(map(str, quiet))} "
                     "matched nothing here")
    return {"verdicts": verdict_counts, "allowlisted": allowlisted,
            "entries": [(e[0], entry_label(*e[1:7]), e[7]) for e in entries], "lines": lines, "marks": marks}


def verdict_for_incident(con, detection_id, event_id):
    """The latest verdict on the incident whose earliest finding is (detection_id, event_id):
    (verdict, note, analyst, recorded_at) or None. For the incidents report."""
    ensure_schema(con)
    return casedb.one(con, """
        select verdict, note, analyst, recorded_at from verdicts
        where target_kind = 'incident' and detection_id = ? and event_id = ? and removed_at is null
        order by recorded_at desc, verdict_id desc limit 1""", [detection_id, event_id])
