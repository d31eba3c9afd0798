"""Everything one identity did: resolve what belongs to it, then its timeline, findings and failures.

usage: analyze_actor.py DATABASE ACTOR [SINCE [UNTIL]]

  DATABASE  case database written by analyze_ingest.py
  ACTOR     who to follow, one of:
              an ARN        arn:aws:iam::111122223333:user/alice, ...:role/Admin (every session
                            of the role), arn:aws:sts::111122223333:assumed-role/Admin/session
              an access key AKIA... or ASIA... (followed to the identity that used it)
              a source IP   203.0.113.7 (every call from it, by any identity)
              a name        a user, role or role-session name, or a principal id
  SINCE     first moment of the timeline, ISO date or time in UTC (e.g. 2026-11-01 or 2026-11-01T13:30)
  UNTIL     last moment of the timeline (a date includes that whole day)

Resolution always looks at all the data loaded, so a key used before SINCE is still tied to
its user; the timeline and the counts cover SINCE to UNTIL. Names and ARNs are compared
exactly, as AWS writes them.

Writes actor_report-YY-MM-DD-HH-MM.md with a chart of the actor's activity (findings
marked) and an analyst log entry. The actor's name is not put in the file name.

environment:
  CLOUDTRAIL_ACTOR_TIMELINE_ROWS  timeline rows shown in the report (default 500)
"""
import re
import shlex
import sys
from dataclasses import dataclass, field

import duckdb
import orjson

import casedb
import charts
import common
import detections
import ipcontext
import lineage
import reports
import triage
from common import Markdown, UsageError, format_time, md_code, md_table, md_text

KEY_ID = re.compile(r"^(AKIA|ASIA)[A-Z0-9]{12,124}$")
# Loose on purpose: anonymised public data writes addresses such as 06.237.252.245.
IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
IPV6 = re.compile(r"^[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}$")
PLACEHOLDERS = ("HIDDEN_DUE_TO_SECURITY_REASONS", "ANONYMOUS_PRINCIPAL")

# What was acted on, from the request fields services use most; the first one present wins.
TARGET_SQL = """coalesce(
    case when request_parameters->>'$.bucketName' is not null
         then concat(request_parameters->>'$.bucketName', '/' || (request_parameters->>'$.key')) end,
    request_parameters->>'$.userName', request_parameters->>'$.roleName', request_parameters->>'$.groupName',
    request_parameters->>'$.policyArn', request_parameters->>'$.roleArn', request_parameters->>'$.instanceId',
    request_parameters->>'$.instancesSet.items[0].instanceId', request_parameters->>'$.groupId',
    request_parameters->>'$.secretId', request_parameters->>'$.functionName', request_parameters->>'$.trailName',
    request_parameters->>'$.name', request_parameters->>'$.keyId', request_parameters->>'$.snapshotId',
    request_parameters->>'$.volumeId', request_parameters->>'$.dBInstanceIdentifier',
    request_parameters->>'$.logGroupName', request_parameters->>'$.detectorId', request_parameters->>'$.modelId',
    request_parameters->>'$.imageId', request_parameters->>'$.configurationRecorderName',
    request_parameters->>'$.target', resources->>'$[0].ARN')"""

# A failed console sign-in often has no errorCode, only responseElements.ConsoleLogin "Failure".
ERROR_SQL = """coalesce(error_code,
    case when event_name = 'ConsoleLogin' and response_elements->>'$.ConsoleLogin' = 'Failure'
         then coalesce(error_message, 'Failure') end)"""

# The actor's own calls. Failed console sign-ins of an IAM user carry no ARN, only the
# typed user name and the account, so they are matched as "account|name".
OWN_CALL_SQL = """(
    list_contains($actors::varchar[], actor)
    or list_contains($issuers::varchar[], session_issuer_arn)
    or list_contains($keys::varchar[], access_key_id)
    or list_contains($ips::varchar[], source_ip)
    or (user_arn is null and user_type = 'IAMUser'
        and list_contains($signins::varchar[], concat(coalesce(user_account_id, recipient_account_id), '|', user_name))))"""

IDENTITIES_SQL = f"""
select
    actor,
    any_value(user_type) as user_type,
    count(*) as calls,
    min(event_time) as first_seen,
    max(event_time) as last_seen
from events
where {OWN_CALL_SQL}
group by actor
order by calls desc
"""

KEYS_SQL = f"""
select
    access_key_id,
    string_agg(distinct actor, ', ') as used_by,
    count(*) as calls,
    min(event_time) as first_seen,
    max(event_time) as last_seen
from events
where {OWN_CALL_SQL}
  and coalesce(access_key_id, '') <> ''
group by access_key_id
order by first_seen
"""

# Role sessions among the actor's identities: the issuing role and the session name, which
# is what an AssumeRole request names (an instance profile renews the same pair every hour).
SESSIONS_SQL = f"""
select distinct
    session_issuer_arn,
    session_issuer_name,
    recipient_account_id,
    split_part(principal_id, ':', 2) as session_name
from events
where {OWN_CALL_SQL}
  and user_type = 'AssumedRole'
  and session_issuer_arn is not null
"""

# Sessions the actor started for itself or others: where its access may have gone on.
STARTED_SESSIONS_SQL = f"""
select distinct
    event_name,
    coalesce(response_elements->>'$.assumedRoleUser.arn', response_elements->>'$.federatedUser.arn') as session_arn
from events
where event_source = 'sts.amazonaws.com'
  and event_name in ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity', 'GetFederationToken')
  and error_code is null
  and {OWN_CALL_SQL}
  and session_arn is not null
order by session_arn
"""

# Calls by anyone that handed the actor its credentials, or changed the actor's user or role.
RELATED_SQL = """
select
    event_id,
    event_time,
    event_name,
    actor,
    access_key_id,
    source_ip,
    user_agent,
    """ + ERROR_SQL + """ as error_code,
    case when event_source = 'iam.amazonaws.com' and event_name <> 'CreateAccessKey'
         then 'changed this identity' else 'obtained its credentials' end as relation,
    coalesce(response_elements->>'$.credentials.accessKeyId', response_elements->>'$.accessKey.accessKeyId',
             request_parameters->>'$.userName', request_parameters->>'$.roleName') as produced
from events
where (event_source = 'sts.amazonaws.com'
       and event_name in ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity',
                          'GetSessionToken', 'GetFederationToken')
       and (list_contains($keys::varchar[], response_elements->>'$.credentials.accessKeyId')
            or list_contains($actors::varchar[], response_elements->>'$.assumedRoleUser.arn')
            or list_contains($actors::varchar[], response_elements->>'$.federatedUser.arn')
            or list_contains($sessions::varchar[],
                             concat(request_parameters->>'$.roleArn', '|', request_parameters->>'$.roleSessionName'))))
   or (event_source = 'iam.amazonaws.com'
       and event_name = 'CreateAccessKey'
       and list_contains($keys::varchar[], response_elements->>'$.accessKey.accessKeyId'))
   or (event_source = 'iam.amazonaws.com'
       and not coalesce(read_only, false)
       and event_name not like 'Get%' and event_name not like 'List%'
       and (list_contains($users::varchar[], concat(recipient_account_id, '|', request_parameters->>'$.userName'))
            or list_contains($roles::varchar[], concat(recipient_account_id, '|', request_parameters->>'$.roleName'))))
order by event_time
"""

ACTOR_EVENTS_SQL = f"""
create or replace temp table actor_events as
select
    event_id,
    event_time,
    event_source,
    event_name,
    aws_region,
    recipient_account_id,
    source_ip,
    user_agent,
    {ERROR_SQL} as error_code,
    error_message,
    actor,
    access_key_id,
    {TARGET_SQL} as target,
    own,
    case when own then 'own call'
         when list_contains($obtained::varchar[], event_id) then 'obtained its credentials'
         else 'changed this identity' end as relation
from (
    select *, coalesce({OWN_CALL_SQL}, false) as own
    from scoped_events
)
where own
   or list_contains($related::varchar[], event_id)
"""

# Findings whose events include the actor's events. Hand-made records may reuse one event id
# for different events; for such an id a finding counts only when its time span covers the call
# and its source IP field names the call's IP.
ACTOR_FINDINGS_SQL = """
create or replace temp table actor_findings as
with numbered as (
    select row_number() over () as finding_no, *
    from findings
),
hits as (
    select
        finding_no, detector, detection_id, title, severity, summary, first_time, last_time,
        source_ip as finding_ip, event_id as finding_event_id, unnest(event_ids) as hit_id
    from numbered
),
shared_ids as (
    select event_id
    from events
    semi join actor_events using (event_id)
    group by event_id
    having count(*) > 1
)
select distinct
    hits.* exclude (hit_id),
    e.event_id,
    e.event_time
from hits
join actor_events as e on e.event_id = hits.hit_id
where e.event_id not in (select event_id from shared_ids)
   or (e.event_time between hits.first_time and coalesce(hits.last_time, hits.first_time)
       and (hits.finding_ip is null or contains(hits.finding_ip, coalesce(e.source_ip, ''))))
"""

SHARED_IDS_SQL = """
select count(*)
from actor_events
where event_id in (
    select event_id
    from events
    semi join actor_events using (event_id)
    group by event_id
    having count(*) > 1
)
"""

ACTIVITY_SQL = """
select
    date_trunc('minute', event_time) as minute,
    count(*) filter (where error_code is null) as succeeded,
    count(*) filter (where error_code is not null) as failed
from actor_events
where own
  and event_time is not null
group by minute
"""

SUMMARY_SQL = """
select
    count(*) as calls,
    count(*) filter (where error_code is not null) as failed,
    min(event_time) as first_call,
    max(event_time) as last_call,
    count(distinct event_source) as services,
    count(distinct event_name) as actions,
    count(distinct target) as targets,
    string_agg(distinct recipient_account_id, ', ') as accounts,
    string_agg(distinct aws_region, ', ') as regions,
    count(distinct source_ip) as source_ips,
    count(distinct user_agent) as user_agents
from actor_events
where own
"""

CALLS_SQL = """
select
    replace(event_source, '.amazonaws.com', '') as service,
    event_name,
    count(*) as calls,
    count(*) filter (where error_code is not null) as failed,
    min(event_time) as first_call,
    max(event_time) as last_call
from actor_events
where own
group by all
order by calls desc, service, event_name
limit 40
"""

TARGETS_SQL = """
select
    target,
    string_agg(distinct replace(event_source, '.amazonaws.com', ''), ', ') as services,
    list(distinct event_name order by event_name)[:6] as actions,
    count(distinct event_name) as action_count,
    count(*) as calls,
    count(*) filter (where error_code is not null) as failed,
    min(event_time) as first_call
from actor_events
where own
  and target is not null
group by target
order by calls desc, target
limit 30
"""

WHERE_FROM_SQL = """
select
    source_ip,
    count(*) as calls,
    count(*) filter (where error_code is not null) as failed,
    min(event_time) as first_call,
    max(event_time) as last_call,
    count(distinct user_agent) as user_agents,
    mode(user_agent) as usual_user_agent
from actor_events
where own
group by source_ip
order by calls desc
limit 20
"""

FAILED_SQL = """
select
    replace(event_source, '.amazonaws.com', '') as service,
    event_name,
    error_code,
    count(*) as calls,
    min(event_time) as first_call,
    max(event_time) as last_call,
    any_value(target) as example_target,
    any_value(error_message) as example_message
from actor_events
where own
  and error_code is not null
group by all
order by first_call
limit 50
"""

FINDINGS_LIST_SQL = """
select
    severity,
    title,
    detection_id,
    detector,
    min(event_time) as marked_time,
    count(*) as actor_events,
    any_value(summary) as summary
from actor_findings
group by finding_no, severity, title, detection_id, detector
order by {rank}, marked_time
""".replace("{rank}", detections.SEVERITY_RANK_SQL)

# Consecutive calls that differ in nothing shown collapse into one row; a call behind a
# finding always gets its own row so the finding stays next to it.
TIMELINE_SQL = """
with labelled as (
    select
        e.*,
        l.findings,
        [relation, actor, access_key_id, event_source, event_name, target, error_code, source_ip, user_agent] as shown
    from actor_events as e
    left join (
        select
            event_id,
            event_time,
            string_agg(concat(severity, ' ', detection_id), ', '
                       order by {rank}, detection_id) as findings
        from (select distinct event_id, event_time, severity, detection_id from actor_findings)
        group by event_id, event_time
    ) as l using (event_id, event_time)
),
starts as (
    select
        *,
        findings is not null
            or coalesce(lag(findings is not null) over w, true)
            or lag(shown) over w is distinct from shown as starts_run
    from labelled
    window w as (order by event_time nulls last, event_id)
),
runs as (
    select
        *,
        sum(starts_run::int) over (order by event_time nulls last, event_id rows unbounded preceding) as run_no
    from starts
)
select
    min(event_time) as first_time,
    max(event_time) as last_time,
    count(*) as calls,
    any_value(relation) as relation,
    any_value(actor) as actor,
    any_value(access_key_id) as access_key_id,
    replace(any_value(event_source), '.amazonaws.com', '') as service,
    any_value(event_name) as event_name,
    any_value(target) as target,
    any_value(error_code) as error_code,
    any_value(source_ip) as source_ip,
    any_value(user_agent) as user_agent,
    any_value(findings) as findings,
    arg_min(event_id, event_time) as event_id,
    count(*) over () as total_rows
from runs
group by run_no
order by run_no
limit $limit
""".replace("{rank}", detections.SEVERITY_RANK_SQL)


@dataclass
class Resolution:
    """What the ACTOR argument stands for; the sets are matched against every event."""
    text: str
    kind: str = ""
    actors: set = field(default_factory=set)     # the events' actor column (ARN, or service name)
    issuers: set = field(default_factory=set)    # role ARNs: every session of the role
    keys: set = field(default_factory=set)
    ips: set = field(default_factory=set)
    signins: set = field(default_factory=set)    # "account|user name" of failed console sign-ins
    reasons: list = field(default_factory=list)  # (value, what it is, why it belongs)
    source_ips: list = field(default_factory=list)  # (IP, calls) of the identities found, busiest first
    session_names: set = field(default_factory=set)  # role-session names among the identities
    handed_out: list = field(default_factory=list)   # (action, session ARN) of sessions the actor started
    related: list = field(default_factory=list)  # RELATED_SQL rows: credentials obtained, identity changed

    def params(self):
        return {"actors": sorted(self.actors), "issuers": sorted(self.issuers), "keys": sorted(self.keys),
                "ips": sorted(self.ips), "signins": sorted(self.signins)}


def resolve(con, text):
    """Reads ACTOR as a key, ARN, IP or name and finds the identities it stands for."""
    r = Resolution(text)
    if KEY_ID.match(text):
        r.kind = "an access key id"
        r.keys.add(text)
        for actor, user_type, user, account, calls in casedb.rows(con, """
                select actor, any_value(user_type), any_value(user_name),
                       any_value(coalesce(user_account_id, recipient_account_id)), count(*)
                from events
                where access_key_id = ?
                group by actor
                order by 5 desc""", [text]):
            r.actors.add(actor)
            r.reasons.append((actor, "identity", f"made {calls:,} call(s) signed with access key {text}"))
            if user_type == "IAMUser":
                _add_user(con, r, account, user, f"the user of access key {text}")
        for account, user in casedb.rows(con, """
                select distinct recipient_account_id, response_elements->>'$.accessKey.userName'
                from events
                where event_source = 'iam.amazonaws.com' and event_name = 'CreateAccessKey'
                  and response_elements->>'$.accessKey.accessKeyId' = ?""", [text]):
            _add_user(con, r, account, user, f"the key was created for this user (CreateAccessKey in {account})")
    elif text.startswith("arn:"):
        resource = text.split(":", 5)[-1]
        if resource.startswith("role/"):
            r.kind = "a role ARN (every session of the role)"
            r.issuers.add(text)
            r.reasons.append((text, "role", "every session of this role is its activity"))
        else:
            r.kind = "an identity ARN"
            r.actors.add(text)
            if resource.startswith("user/"):
                _add_user(con, r, text.split(":")[4], resource.rsplit("/", 1)[-1], "the user of this ARN")
    elif IPV4.match(text) or IPV6.match(text):
        r.kind = "a source IP address (every call from it, by any identity)"
        r.ips.add(text)
    else:
        r.kind = "a name (user, role or role-session name, or principal id)"
        _resolve_name(con, r, text)
    _explain(con, r)
    return r


def _add_user(con, r, account, user, why):
    """Folds in an IAM user by account and name: its ARN(s), and its failed sign-ins that have none."""
    if not user:
        return
    r.signins.add(f"{account}|{user}")
    for (arn,) in casedb.rows(con, """
            select distinct user_arn from events
            where user_type = 'IAMUser' and user_name = ? and coalesce(user_account_id, recipient_account_id) = ?
              and user_arn is not null""", [user, account]):
        if arn not in r.actors:
            r.actors.add(arn)
            r.reasons.append((arn, "identity", why))


def _resolve_name(con, r, name):
    found = casedb.rows(con, """
        select distinct
            user_type, actor, user_arn, session_issuer_arn, session_issuer_name, user_name, principal_id,
            coalesce(user_account_id, recipient_account_id) as account
        from events
        where user_name = $name
           or session_issuer_name = $name
           or actor = $name
           or principal_id = $name
           or ends_with(principal_id, ':' || $name)
           or (lower($name) = 'root' and user_type = 'Root')
    """, {"name": name})
    for user_type, actor, arn, issuer, issuer_name, user_name, principal, account in found:
        if user_type == "Root" and name.lower() == "root" and actor not in r.actors:
            r.actors.add(actor)
            r.reasons.append((actor, "root user", f"the root user of account {account}"))
        elif issuer_name == name and issuer not in r.issuers:
            r.issuers.add(issuer)
            r.reasons.append((issuer, "role", f"a role named {name}: every session of it is included"))
        elif user_type == "IAMUser" and user_name == name:
            _add_user(con, r, account, name, f"an IAM user named {name} in account {account}")
        elif (principal == name or (principal or "").endswith(":" + name)) and actor not in r.actors:
            r.actors.add(actor)
            r.reasons.append((actor, "identity", f"its principal id or role-session name is {name}"))
        elif actor == name and actor not in r.actors:
            r.actors.add(actor)
            r.reasons.append((actor, "caller", "recorded under this name (e.g. an AWS service acting itself)"))


def _explain(con, r):
    """Adds the keys, sessions and credential-granting calls that go with the identities found."""
    params = r.params()
    if r.ips:
        return
    keys = set(r.keys)
    for key, used_by, calls, first, last in casedb.rows(con, KEYS_SQL, params):
        keys.add(key)
        r.reasons.append((key, "access key", f"used by {used_by} for {calls:,} call(s), {format_time(first)} to {format_time(last)}"))
    r.source_ips = casedb.rows(con, f"select source_ip, count(*) from events where {OWN_CALL_SQL} "
                                    "group by 1 order by 2 desc limit 10", params)
    sessions, roles = set(), {f"{a}|{n}" for a, n in _role_refs(con, r)}
    for issuer, issuer_name, account, session in casedb.rows(con, SESSIONS_SQL, params):
        sessions.add(f"{issuer}|{session}")
        r.session_names.add(session)
        roles.add(f"{account}|{issuer_name}")
        if issuer not in r.issuers:
            r.reasons.append((issuer, "issuing role", f"the role behind session {session}; its other sessions are "
                                                      "not included (give the role ARN to see them)"))
    r.handed_out = casedb.rows(con, STARTED_SESSIONS_SQL, params)
    r.related = casedb.rows(con, RELATED_SQL, {"keys": sorted(keys), "actors": sorted(r.actors),
                                               "sessions": sorted(sessions), "users": sorted(r.signins),
                                               "roles": sorted(roles)})


def _role_refs(con, r):
    """(account, role name) of the roles given as ARNs or names."""
    if not r.issuers:
        return []
    return casedb.rows(con, """
        select distinct recipient_account_id, session_issuer_name from events
        where list_contains(?::varchar[], session_issuer_arn)""", [sorted(r.issuers)])


def load_actor_events(con, r):
    """Fills the temp tables actor_events (the window's calls by the actor, and the related calls
    by others) and actor_findings (findings that include those calls)."""
    con.execute(ACTOR_EVENTS_SQL, r.params() | {
        "obtained": [row[0] for row in r.related if row[8] == "obtained its credentials"],
        "related": [row[0] for row in r.related]})
    con.execute(ACTOR_FINDINGS_SQL)


def suggestions(con, text):
    """Identities whose name contains the last part of what was typed (case-insensitive)."""
    needle = re.split(r"[/:]", text)[-1] or text
    return [actor for actor, _ in casedb.rows(con, """
        select actor, count(*) from events
        where contains(lower(actor), lower($n)) or contains(lower(user_name), lower($n)) or source_ip = $n
        group by actor order by 2 desc limit 5""", {"n": needle})]


def parse_args(argv):
    arguments = argv[1:]
    if not 2 <= len(arguments) <= 4:
        raise UsageError("expected DATABASE ACTOR [SINCE [UNTIL]]")
    db_path, actor = arguments[0], arguments[1].strip()
    if not actor:
        raise UsageError("ACTOR is empty: give an ARN, an access key id, a source IP or a name")
    if actor in PLACEHOLDERS:
        raise UsageError(f"{actor} is what AWS writes instead of a user name that does not exist (or an "
                         "anonymous caller); it is not a principal - follow the source IP of those calls instead")
    since, until = common.parse_window(*arguments[2:])
    return db_path, actor, since, until


def run(argv):
    db_path, actor, since, until = parse_args(argv)
    started = common.now_utc()
    try:
        con, context = detections.open_scope(db_path, since, until)
    except duckdb.Error as error:
        raise common.database_error(db_path, error) from None
    try:
        return _investigate(argv, con, context, actor, started)
    except duckdb.Error as error:
        raise common.database_error(db_path, error) from None
    finally:
        con.close()


def _investigate(argv, con, context, actor, started):
    r = resolve(con, actor)
    identities = casedb.rows(con, IDENTITIES_SQL, r.params())
    log = common.AnalystLog(context.db_path, started)
    command = md_code(" ".join(["analyze_actor.py"] + argv[1:]))
    if not identities and not r.related:
        similar = suggestions(con, actor)
        log.write("analyze_actor.py", [f"Command: {command}", "", "No calls by this actor in the database."])
        hint = f"; similar identities: {', '.join(similar)}" if similar else ""
        raise common.ToolError(common.terminal_safe(
            f"no calls by {actor} in {context.db_path} - names and ARNs are compared exactly{hint}"))
    load_actor_events(con, r)
    summary = casedb.one(con, SUMMARY_SQL)
    findings = casedb.rows(con, FINDINGS_LIST_SQL)
    limit = common.env_number("CLOUDTRAIL_ACTOR_TIMELINE_ROWS", 500)
    timeline = casedb.rows(con, TIMELINE_SQL, {"limit": limit})
    folder = common.output_dir(context.db_path)
    chart, chart_note = _chart(con, r, findings, folder, started)
    sources = ipcontext.refresh(con, context.db_path)
    sources.close()
    ip_labels = (ipcontext.labels(con), sources.describe())
    lines = _report(context, r, identities, summary, findings, timeline, chart, chart_note, con, ip_labels)
    path = common.new_output_path(folder, "actor_report", ".md", started)
    common.write_markdown(path, lines)
    log_path = log.write("analyze_actor.py", [
        f"Command: {command}",
        f"- window: {common.describe_window(context.since, context.until)}",
        f"- actor read as {r.kind}; {len(identities)} identity(ies) folded in",
        f"- own calls in window: {summary[0]:,} ({summary[1]:,} failed); findings on them: {len(findings)}",
        f"- report: {path.name}" + (f"; chart: {chart.name}" if chart else ""), "",
        "Identities folded in:", ""] + md_table(
        ["identity", "calls (all data)", "first seen", "last seen"],
        [(Markdown(md_code(a, 120)), f"{n:,}", format_time(f), format_time(l)) for a, _, n, f, l in identities[:5]]))
    casedb.record_run(con, context.run_id, "analyze_actor.py", " ".join(argv[1:]), started, common.now_utc(), 0,
                      orjson.dumps({"calls": summary[0], "failed": summary[1], "findings": len(findings)}).decode())
    print(f"analyze_actor.py: {summary[0]:,} call(s) by {len(identities)} identity(ies), {summary[1]:,} failed, "
          f"{len(findings)} finding(s) ({common.describe_window(context.since, context.until)})")
    print(f"  report: {path}")
    if chart:
        print(f"  chart: {chart}")
    print(f"  analyst log: {log_path}")
    return common.EXIT_OK


def _chart(con, actor, findings, folder, moment):
    marks = [{"event_time": row[4], "severity": row[0]} for row in findings]
    title = f"Calls from {actor.text}" if actor.ips else f"Calls by {common.short_identity(actor.text, with_account=False)}"
    try:
        path = charts.activity_chart(con, ACTIVITY_SQL, marks, title,
                                     common.new_output_path(folder, "actor_activity", ".png", moment))
        return path, ""
    except detections.CHART_ERRORS as error:
        return None, f"The chart could not be drawn: {md_text(common.first_line(error))}"


# ---------------------------------------------------------------- the report

def _report(context, r, identities, summary, findings, timeline, chart, chart_note, con, ip_labels=({}, "")):
    known, ip_note = ip_labels
    calls, failed, first, last = summary[:4]
    lines = [f"# Actor report: {md_code(r.text, 160)}", "",
             f"Written {format_time(common.now_utc())} by `analyze_actor.py` (run `{context.run_id}`). "
             "All times are UTC.", ""]
    lines += ["## What was analysed", ""] + md_table(["", ""], [
        ("database", Markdown(md_code(context.db_path))),
        ("actor", Markdown(md_code(r.text, 140))),
        ("read as", r.kind),
        ("window", common.describe_window(context.since, context.until)),
        ("events in the window, all identities", f"{context.events_in_scope:,}"),
        ("calls by the actor in the window", f"{calls:,}, of which {failed:,} failed"
                                             + (f" ({format_time(first)} to {format_time(last)})" if calls else "")),
    ]) + [""]
    if not calls:
        lines += ["**The actor made no calls inside the window.** Its activity in all the data loaded is listed "
                  "under the resolution below; widen SINCE/UNTIL to see it.", ""]
    lines += _resolution_section(context, r, identities)
    lines += _lineage_section(con, r)
    lines += _summary_section(summary, con, known)
    lines += _findings_section(findings)
    lines += reports.triage_section(triage.triage_summary(con, keys=casedb.rows(con, """
        select distinct detection_id, finding_event_id from actor_findings order by 1, 2""")))
    lines += ["## Activity over time", ""]
    if chart:
        lines += [f"![Calls by the actor over time]({chart.name})", "",
                  "*The actor's own calls per time bucket (failed calls stacked in orange); the top lane marks "
                  "findings at the actor's first call behind each.*", ""]
    else:
        lines += [chart_note or "No calls to draw in this window.", ""]
    lines += _calls_section(con)
    lines += _failed_section(con)
    lines += _timeline_section(timeline, known)
    lines += ["## Notes", "",
              "- Resolution reads all the data loaded; the counts, chart and timeline cover the window only.",
              "- A role session is followed by its ARN (role and session name). An instance profile renews its "
              "credentials under the same session name, so those renewals count as one session; another holder "
              "of the same temporary keys would show up as a different source IP, listed above.",
              "- CloudTrail records the IP the call came from; calls made through an AWS service show the "
              "service's name instead (e.g. `ec2.amazonaws.com`).",
              f"- {md_text(ip_note)}" if ip_note else "- IP context: none",
              "- Findings are read from the `findings` table as the detectors last left it; run "
              "`analyze_hunt.py` first to bring them up to date."]
    shared = casedb.scalar(con, SHARED_IDS_SQL)
    if shared:
        lines.append(f"- {shared:,} of the calls above share their event id with other events (hand-made or "
                     "test records reuse ids); a finding is tied to such a call only when the finding's time "
                     "span covers it and the finding names its source IP.")
    return lines + [""]


def _resolution_section(context, r, identities):
    lines = ["## How the actor was resolved", ""]
    if r.ips:
        lines += [f"A source IP is followed by every call made from it, whoever made it. These identities "
                  f"used {md_code(r.text)}; their calls from other IPs are not included (follow each one "
                  "with the commands under Pivots).", ""]
    else:
        lines += ["Everything below counts as this actor. Each row says why it was folded in.", ""]
    folded = [(Markdown(md_code(value, 140)), what, why) for value, what, why in r.reasons]
    folded += [(Markdown(md_code(s.replace("|", " / "))), "failed sign-ins without an ARN",
                "console sign-in failures record only the typed user name and the account") for s in sorted(r.signins)]
    if folded:
        lines += md_table(["value", "what it is", "why it belongs"], folded) + [""]
    lines += ["Identities whose own calls are included (all data, not only the window):", ""]
    lines += md_table(["identity", "type", "calls", "first seen", "last seen"],
                      [(Markdown(md_code(a, 140)), t, f"{n:,}", format_time(f), format_time(l))
                       for a, t, n, f, l in identities[:50]])
    if len(identities) > 50:
        lines += ["", f"{len(identities) - 50} more identities are included but not listed."]
    lines += ["", "### How it got its credentials, and who changed it", ""]
    if r.ips:
        lines.append("Not looked up for an IP address: follow one of its identities (Pivots) to see how it got "
                     "its credentials.")
    elif r.related:
        lines += ["Calls by any identity that handed this actor temporary keys or an access key "
                  "(AssumeRole, GetSessionToken, CreateAccessKey, ...), or that changed its user or role. "
                  "They appear in the timeline too, marked as such.", ""]
        lines += md_table(["time", "action", "by", "caller's key", "source IP", "user agent", "result", "produced"],
                          [(format_time(t), name, Markdown(md_code(by, 120)), key, ip, Markdown(md_code(ua, 60)),
                            _result(err), Markdown(md_code(made, 80)))
                           for _, t, name, by, key, ip, ua, err, _, made in r.related[:50]])
        if len(r.related) > 50:
            lines += ["", f"{len(r.related) - 50} more such calls are in the timeline."]
        instances = sorted(name for name in r.session_names if re.fullmatch(r"i-[0-9a-f]+", name or ""))
        if instances and any(row[3] == "ec2.amazonaws.com" for row in r.related):
            lines += ["", f"The EC2 service obtained these credentials for instance {', '.join(instances)}: they "
                      "are the instance's instance-profile credentials. Compare the source IPs under Summary with "
                      "the instance's own addresses; calls from anywhere else mean the credentials were copied "
                      "off the instance."]
    else:
        lines.append("No such call is in the data loaded (it may predate the logs, or the credentials are "
                     "long-term keys created before them).")
    lines += ["", "### Pivots", "", "Where to look next (not included in this report):", ""]
    lines += [f"- {why}: {md_code(command, None)}" for why, command in pivots(context.db_path, r, identities)] or ["- none"]
    return lines + [""]


# The keys the actor used (in all data), and the principals it stands for.
ACTOR_KEYS_SQL = f"""
select distinct access_key_id
from events
where {OWN_CALL_SQL}
  and nullif(access_key_id, '') is not null
order by 1
"""

BEHIND_SQL = """
select access_key_id, key_type, origin, principal, session_arn, minted_by_call, minted_at, minted_from_ip,
       first_principal, chain, service, service_evidence, note
from identity_lineage
where list_contains($keys::varchar[], access_key_id)
order by first_seen nulls last, access_key_id
limit 50
"""

DESCENDANTS_SQL = """
select access_key_id, principal, session_arn, origin, minted_by_call, minted_at, minted_from_ip, events,
       source_ips, agent_families
from identity_lineage
where list_has_any(chain_keys, $keys::varchar[])
  and not list_contains($keys::varchar[], access_key_id)
order by minted_at nulls last, access_key_id
limit 50
"""


def _lineage_section(con, r):
    """Who is behind the actor's keys, and the sessions and keys that came from it (identity_lineage)."""
    lines = ["## Identity lineage", ""]
    if not casedb.scalar(con, "select count(*) from information_schema.tables where table_name = 'identity_lineage'"):
        lineage.build(con)
    keys = [key for (key,) in casedb.rows(con, ACTOR_KEYS_SQL, r.params())]
    if not keys:
        return lines + ["The actor used no access key in the data loaded (console sign-ins without a session, "
                        "or calls AWS made for it).", ""]
    behind = casedb.rows(con, BEHIND_SQL, {"keys": keys})
    lines += ["Who is behind each key the actor used, from the calls that minted it (the `identity_lineage` table; "
              "`unknown` means the minting call is not in these logs):", ""]
    lines += md_table(["key", "type", "how it came to be", "minted by", "chain, first principal first", "note"],
                      [(Markdown(md_code(key)), key_type, origin + (f" ({service})" if service else ""),
                        f"{call} at {format_time(at)} from {ip}" if call else "-",
                        " -> ".join(common.short_identity(p, with_account=False) for p in chain or []),
                        note or (evidence or ""))
                       for key, key_type, origin, _, _, call, at, ip, _, chain, service, evidence, note in behind])
    descendants = casedb.rows(con, DESCENDANTS_SQL, {"keys": keys})
    lines += ["", "Sessions and keys that came from the actor's keys (minted by them, directly or through role "
              "chaining):", ""]
    if descendants:
        lines += md_table(["key", "principal", "how", "minted", "from", "calls", "used from", "clients"],
                          [(Markdown(md_code(key)), common.short_identity(session or principal, with_account=False),
                            f"{origin} ({call})", format_time(at), ip, f"{events:,}",
                            Markdown(reports.summarise_list(ips or [], "addresses", md_text, room=60)),
                            Markdown(reports.summarise_list(agents or [], "clients", md_code, room=80)))
                           for key, principal, session, origin, call, at, ip, events, ips, agents in descendants])
    else:
        lines.append("None in the data loaded.")
    return lines + [""]



def pivots(db_path, r, identities):
    """(why, shell command) for the next identities and IPs to follow; every value is shell-quoted."""
    db = shlex.quote(db_path)
    found = []
    if r.ips:
        found += [(f"everything {md_text(common.short_identity(a, with_account=False))} did ({n:,} call(s) from this IP)",
                    f"analyze_actor.py {db} {shlex.quote(a)}") for a, _, n, _, _ in identities[:10] if a]
    else:
        found += [(f"the session it started with {name}", f"analyze_actor.py {db} {shlex.quote(arn)}")
                   for name, arn in r.handed_out[:5] if arn not in r.actors]
        found += [(f"every call from {md_text(ip)}, by any identity ({n:,} of this actor's calls)",
                    f"analyze_actor.py {db} {shlex.quote(ip)}")
                   for ip, n in r.source_ips[:3] if ip and not ip.endswith(".amazonaws.com")]
    for _, _, name, by, _, ip, *_ in r.related:
        # An AWS service that assumed the role for an instance or function is no lead to follow.
        if name.startswith(("Assume", "Get")) and by and by not in r.actors and not by.endswith(".amazonaws.com"):
            found.append((f"who called {name} for it", f"analyze_actor.py {db} {shlex.quote(by)}"))
            if ip and not ip.endswith(".amazonaws.com"):
                found.append((f"every call from the IP that called {name}", f"analyze_actor.py {db} {shlex.quote(ip)}"))
    seen, unique = set(), []
    for why, command in found:
        if command not in seen:
            seen.add(command)
            unique.append((why, command))
    return unique[:12]


def _summary_section(summary, con, known=None):
    known = known or {}
    calls, failed, first, last, services, actions, targets, accounts, regions, ips, agents = summary
    lines = ["## Summary", ""] + md_table(["", ""], [
        ("own calls", f"{calls:,}"),
        ("failed calls", f"{failed:,}"),
        ("first and last call", f"{format_time(first)} to {format_time(last)}" if calls else "none"),
        ("services / actions / targets", f"{services} / {actions} / {targets}"),
        ("accounts", accounts or "none"),
        ("regions", regions or "none"),
        ("source IPs / user agents", f"{ips} / {agents}"),
    ]) + [""]
    where_from = casedb.rows(con, WHERE_FROM_SQL)
    if where_from:
        lines += ["Where the calls came from:", ""]
        lines += md_table(["source IP", "calls", "failed", "first call", "last call", "user agents",
                           "most used user agent"],
                          [(ipcontext.with_label(ip, known), f"{n:,}", f"{bad:,}", format_time(f), format_time(l), agents,
                            Markdown(md_code(ua, 140)))
                           for ip, n, bad, f, l, agents, ua in where_from])
        lines.append("")
    return lines


def _findings_section(findings):
    lines = ["## Findings on its calls", ""]
    if not findings:
        return lines + ["No finding in the `findings` table includes the actor's calls in this window.", ""]
    lines += md_table(["severity", "detection", "detector", "first call of the actor", "its calls", "summary"],
                      [(sev, Markdown(f"{md_text(title)} ({md_code(det)})"), detector, format_time(t), n, summary)
                       for sev, title, det, detector, t, n, summary in findings[:100]])
    if len(findings) > 100:
        lines += ["", f"{len(findings) - 100} more findings are marked in the timeline."]
    return lines + [""]


def _calls_section(con):
    lines = ["## What it called and touched", ""]
    calls = casedb.rows(con, CALLS_SQL)
    lines += md_table(["service", "action", "calls", "failed", "first call", "last call"],
                      [(s, a, f"{n:,}", f"{bad:,}", format_time(f), format_time(l)) for s, a, n, bad, f, l in calls])
    targets = casedb.rows(con, TARGETS_SQL)
    lines += ["", "Targets (what the calls named, from the request):", ""]
    if targets:
        lines += md_table(["target", "service", "actions", "calls", "failed", "first call"],
                          [(Markdown(md_code(t, 120)), s,
                            Markdown(reports.summarise_list(actions, "actions", md_text, total=count)),
                            f"{n:,}", f"{bad:,}", format_time(f))
                           for t, s, actions, count, n, bad, f in targets])
    else:
        lines.append("No call named a target that the toolkit reads (bucket, user, role, instance, ...).")
    return lines + [""]


def _failed_section(con):
    lines = ["## Failed calls", ""]
    failed = casedb.rows(con, FAILED_SQL)
    if not failed:
        return lines + ["None: every call in the window succeeded.", ""]
    lines += ["A failed call (AccessDenied, a failed sign-in) still shows intent: what the actor tried and "
              "was not allowed to do.", ""]
    lines += md_table(["service", "action", "error", "calls", "first", "last", "example target", "example message"],
                      [(s, a, err, f"{n:,}", format_time(f), format_time(l), Markdown(md_code(t, 80)), msg)
                       for s, a, err, n, f, l, t, msg in failed])
    return lines + [""]


def _timeline_section(timeline, known=None):
    known = known or {}
    lines = ["## Timeline", ""]
    if not timeline:
        return lines + ["No calls in this window.", ""]
    total = timeline[0][-1]
    lines += ["Every call in time order. Consecutive calls that differ in nothing shown here are one row "
              "(`calls` > 1, with the time of the first and the last). `identity` is the actor's own identity "
              "unless marked otherwise.", ""]
    rows = []
    for (first, last, calls, relation, actor, key, service, action, target, error, ip, agent, found,
         event_id, _) in timeline:
        who = common.short_identity(actor, with_account=False) + ("" if relation == "own call" else f" ({relation})")
        rows.append((_when(first, last), calls, Markdown(md_code(who, 100)), key, service, action,
                     Markdown(md_code(target, 80)), _result(error), ipcontext.with_label(ip, known),
                     Markdown(md_code(agent, 50)),
                     found or "", Markdown(md_code(event_id) + (" (first)" if calls > 1 else ""))))
    lines += md_table(["time", "calls", "identity", "access key", "service", "action", "target", "result",
                       "source IP", "user agent", "findings", "event id"], rows)
    if total > len(timeline):
        lines += ["", f"**{total - len(timeline):,} more rows are not shown** (set CLOUDTRAIL_ACTOR_TIMELINE_ROWS "
                  "or narrow SINCE/UNTIL)."]
    return lines + [""]


def _when(first, last):
    if first is None:
        return "time not recorded"
    if last is None or last == first:
        return format_time(first)
    end = last.strftime("%H:%M:%S") if last.date() == first.date() else format_time(last)
    return f"{format_time(first)} to {end}"


def _result(error_code):
    return "succeeded" if not error_code else f"failed: {error_code}"


def main(argv):
    return common.run_cli(__doc__, argv, run)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
