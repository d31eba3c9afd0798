"""What the case holds: volume by day, account, region and service; the busiest and the rarest
identities and source IPs; top user agents and error codes; what is new in the last day; and gaps where logging went quiet.

usage: analyze_overview.py DATABASE [SINCE [UNTIL]]

  DATABASE  case database written by analyze_ingest.py
  SINCE     first moment to look at, ISO date or time in UTC (e.g. 2026-11-01 or 2026-11-01T13:30)
  UNTIL     last moment to look at (a date includes that whole day)

Writes overview_report-YY-MM-DD-HH-MM.md with PNG charts (volume over time by account, the
busiest and the rarest identities and source IPs) and an analyst log entry.

gap detection (environment variables):
  CLOUDTRAIL_GAP_MIN_SHARE  a region counts as logging normally when it has events in at least
                            this share of the hours (or days) of its active span (default 0.5)
  CLOUDTRAIL_GAP_MIN_HOURS  ... and that span is at least this many hours long (default 12)
  CLOUDTRAIL_GAP_MIN_DAYS   ... or, judged by day, at least this many days long (default 7)
"""
import datetime as dt
import re
import sys

import duckdb
import orjson

import casedb
import charts
import common
import detections
import reports
from common import Markdown, format_time, md_code, md_table, md_text

TOP = 15
NO_IDENTITY = "(no identity recorded)"
ARN_PREFIX = re.compile(r"^arn:aws[a-z-]*:(iam|sts)::(\d{12}):")

FAILED = "error_code is not null"

OVERVIEW_SQL = """
select
    count(distinct recipient_account_id) as accounts,
    count(distinct aws_region) as regions,
    count(distinct event_source) as services,
    count(distinct actor) as identities,
    count(distinct source_ip) as source_ips,
    count(*) filter (where error_code is not null) as failed,
    count(*) filter (where event_time is null) as no_time,
    count(distinct date_trunc('day', event_time)) as days
from scoped_events
"""

# One row per day, or per month when the case spans many days (the unit is given).
VOLUME_SQL = """
select
    date_trunc($unit, event_time) as period,
    count(*) as events,
    count(*) filter (where error_code is not null) as failed,
    count(distinct recipient_account_id) as accounts,
    count(distinct aws_region) as regions,
    count(distinct actor) as identities
from scoped_events
where event_time is not null
group by period
order by period
"""

ACCOUNTS_SQL = """
select
    recipient_account_id,
    count(*) as events,
    count(*) filter (where error_code is not null) as failed,
    count(distinct aws_region) as regions,
    count(distinct actor) as identities,
    min(event_time) as first_event,
    max(event_time) as last_event
from scoped_events
group by recipient_account_id
order by events desc
limit 50
"""

REGIONS_SQL = """
select
    aws_region,
    count(*) as events,
    count(*) filter (where error_code is not null) as failed,
    count(distinct recipient_account_id) as accounts,
    min(event_time) as first_event,
    max(event_time) as last_event
from scoped_events
group by aws_region
order by events desc
limit 50
"""

SERVICES_SQL = """
select
    event_source,
    count(*) as events,
    count(*) filter (where error_code is not null) as failed,
    count(distinct event_name) as actions,
    count(distinct actor) as identities
from scoped_events
group by event_source
order by events desc
limit 30
"""

IDENTITIES_SQL = """
select
    actor,
    any_value(user_type) as user_type,
    count(*) as events,
    count(*) filter (where error_code is not null) as failed,
    count(distinct source_ip) as source_ips,
    min(event_time) as first_event,
    max(event_time) as last_event
from scoped_events
group by actor
order by events desc
limit $top
"""

SOURCE_IPS_SQL = """
select
    source_ip,
    count(*) as events,
    count(*) filter (where error_code is not null) as failed,
    count(distinct actor) as identities,
    min(event_time) as first_event,
    max(event_time) as last_event
from scoped_events
group by source_ip
order by events desc
limit $top
"""

# A source that is not a public address: a private (VPC) address, or an AWS service acting for
# the account (its name, or 'AWS Internal'). Left out of the rarest addresses and counted apart
# among the new ones.
INTERNAL_SOURCE_SQL = """(regexp_matches(source_ip, '^(10\\.|192\\.168\\.|172\\.(1[6-9]|2[0-9]|3[01])\\.)')
     or source_ip like '%.amazonaws.com'
     or source_ip = 'AWS Internal')"""

# The rarest identities and addresses: attacker activity is usually a handful of events on one
# day, lost under the busy ones. A role's sessions count as the role (each CI run or Lambda
# start is a new session); AWS services acting for the account are left out.
RAREST_IDENTITIES_SQL = """
select
    coalesce(session_issuer_arn, actor) as identity,
    count(*) as events,
    count(distinct cast(event_time as date)) as days,
    -- failed console sign-ins carry no errorCode: counted from their ConsoleLogin result
    count(*) filter (where error_code is not null
                        or (event_name = 'ConsoleLogin' and response_elements->>'$.ConsoleLogin' = 'Failure')) as failed,
    min(event_time) as first_event,
    max(event_time) as last_event
from scoped_events
where actor is not null
  and user_type is distinct from 'AWSService'
group by identity
order by days, events, identity
limit $top
"""

# Private (VPC) addresses and AWS service names are left out, as in "new source IPs" below.
RAREST_SOURCE_IPS_SQL = """
select
    source_ip,
    count(*) as events,
    count(distinct cast(event_time as date)) as days,
    count(distinct actor) as identities,
    min(event_time) as first_event,
    max(event_time) as last_event
from scoped_events
where source_ip is not null
  and not """ + INTERNAL_SOURCE_SQL + """
group by source_ip
order by days, events, source_ip
limit $top
"""

USER_AGENTS_SQL = """
select
    user_agent,
    count(*) as events,
    count(distinct actor) as identities,
    count(distinct source_ip) as source_ips
from scoped_events
group by user_agent
order by events desc
limit $top
"""

ERRORS_SQL = """
select
    error_code,
    count(*) as events,
    count(distinct actor) as identities,
    mode(event_name) as top_action,
    min(event_time) as first_event,
    max(event_time) as last_event
from scoped_events
where error_code is not null
group by error_code
order by events desc
limit $top
"""

# Failed console sign-ins carry no errorCode, only responseElements.ConsoleLogin "Failure".
FAILED_SIGNINS_SQL = """
select count(*)
from scoped_events
where event_source = 'signin.amazonaws.com'
  and event_name = 'ConsoleLogin'
  and error_code is null
  and response_elements->>'$.ConsoleLogin' = 'Failure'
"""

# First appearance is judged against all data loaded up to the window's last event, so an
# identity seen last month is not "new" just because SINCE cut it off. A role session counts
# as its role: a fresh session of a familiar role (a CI job, an instance) is nothing new.
NEW_IDENTITIES_SQL = """
with bounds as (
    select max(event_time) as last_time from scoped_events
)
select
    coalesce(session_issuer_arn, actor) as identity,
    min(event_time) as first_seen,
    count(distinct actor) as sessions,
    count(*) filter (where event_time > last_time - interval 1 day) as recent_events,
    count(*) filter (where event_time > last_time - interval 1 day and error_code is not null) as recent_failed,
    list(distinct source_ip)[:3] as source_ips,
    list(distinct event_name)[:5] as actions
from events, bounds
where event_time <= last_time
group by identity
having min(event_time) > any_value(last_time) - interval 1 day
order by first_seen
limit 50
"""

# Private (VPC) addresses and AWS service names come and go all the time; they are counted,
# not listed, so that an outside address is not lost among them.
NEW_SOURCE_IPS_SQL = """
with bounds as (
    select max(event_time) as last_time from scoped_events
),
newcomers as (
    select
        source_ip,
        min(event_time) as first_seen,
        count(*) filter (where event_time > last_time - interval 1 day) as recent_events,
        count(*) filter (where event_time > last_time - interval 1 day and error_code is not null) as recent_failed,
        list(distinct actor)[:3] as identities,
        list(distinct event_name)[:5] as actions,
        """ + INTERNAL_SOURCE_SQL + """ as internal
    from events, bounds
    where event_time <= last_time
    group by source_ip
    having min(event_time) > any_value(last_time) - interval 1 day
)
select
    source_ip, first_seen, recent_events, recent_failed, identities, actions, internal,
    count(*) filter (where internal) over () as internal_count
from newcomers
order by internal, recent_events desc, first_seen
limit 50
"""

HISTORY_SQL = """
select
    min(event_time) as first_time,
    (select max(event_time) from scoped_events) as last_time
from events
"""

# Events per time bucket ($step: 1 hour or 1 day) for every account and region, and for every
# account as a whole (region '(all regions)').
BUCKETS_SQL = """
create or replace temp table overview_buckets as
select
    recipient_account_id as account,
    case when grouping(aws_region) = 1 then '(all regions)' else coalesce(aws_region, '(none)') end as region,
    time_bucket($step::interval, event_time) as bucket,
    count(*) as events
from scoped_events
where event_time is not null
group by grouping sets ((recipient_account_id, aws_region, bucket), (recipient_account_id, bucket))
"""

# Each series' active span (first to last bucket with events), and whether it logs steadily
# enough that an empty bucket inside it means something.
SERIES_SQL = """
create or replace temp table overview_series as
select
    account,
    region,
    min(bucket) as first_bucket,
    max(bucket) as last_bucket,
    count(*) as active_buckets,
    (epoch(max(bucket)) - epoch(min(bucket))) // epoch($step::interval) + 1 as span_buckets,
    sum(events) as events,
    span_buckets >= $min_buckets and active_buckets >= $min_share * span_buckets as steady
from overview_buckets
group by account, region
"""

# Empty buckets of the steady series, from their first bucket to the end of the data (so a
# region that went silent and stayed silent shows too), joined into runs.
GAPS_SQL = """
with data_end as (
    select max(bucket) as last_bucket from overview_buckets
),
expected as (
    select
        s.account,
        s.region,
        s.active_buckets,
        s.span_buckets,
        unnest(generate_series(s.first_bucket, d.last_bucket, $step::interval)) as bucket
    from overview_series as s, data_end as d
    where s.steady
      and not list_contains($skip::varchar[], concat(s.account, '|', s.region))
),
silent as (
    select
        e.*,
        epoch(e.bucket) // epoch($step::interval)
            - row_number() over (partition by e.account, e.region order by e.bucket) as island
    from expected as e
    anti join overview_buckets as b
        on b.account is not distinct from e.account
       and b.region = e.region
       and b.bucket = e.bucket
)
select
    account,
    region,
    min(bucket) as gap_start,
    max(bucket) + $step::interval as gap_end,
    count(*) as empty_buckets,
    any_value(active_buckets) as active_buckets,
    any_value(span_buckets) as span_buckets,
    max(bucket) = (select last_bucket from data_end) as to_end
from silent
group by account, region, island
order by empty_buckets desc, gap_start, account, region
limit 60
"""

TRAIL_CHANGES_SQL = """
select
    event_time,
    event_name,
    actor,
    recipient_account_id,
    aws_region,
    coalesce(request_parameters->>'$.name', request_parameters->>'$.trailName') as trail,
    error_code
from scoped_events
where event_source = 'cloudtrail.amazonaws.com'
  and event_name in ('StopLogging', 'StartLogging', 'DeleteTrail', 'CreateTrail', 'UpdateTrail',
                     'PutEventSelectors', 'PutInsightSelectors')
order by event_time
limit 50
"""

VOLUME_BY_ACCOUNT_SQL = """
select
    date_trunc($unit, event_time) as period,
    coalesce(recipient_account_id, '(none)') as account,
    count(*) as events
from scoped_events
where event_time is not null
group by all
"""


def short_identity(actor, limit=40, with_account=False):
    """An identity short enough for a chart label: no ARN prefix, the distinctive end kept, and
    with_account the account's last four digits (@3333) so that two accounts' roles differ."""
    if not actor:
        return NO_IDENTITY
    found = ARN_PREFIX.match(actor)
    text = actor[found.end():] if found else actor
    suffix = f" @{found.group(2)[-4:]}" if with_account and found else ""
    room = limit - len(suffix)
    if len(text) > room:
        text = text[:12] + "..." + text[-(room - 15):]
    return text + suffix


def find_gaps(con, step, min_buckets, min_share, skip=()):
    """(series, gaps) for one bucket size: series rows (account, region, first, last, active,
    span, events, steady) and the runs of empty buckets of the steady ones."""
    con.execute(BUCKETS_SQL, {"step": step})
    con.execute(SERIES_SQL, {"step": step, "min_buckets": min_buckets, "min_share": min_share})
    series = casedb.rows(con, "select * from overview_series order by account, region")
    gaps = casedb.rows(con, GAPS_SQL, {"step": step, "skip": sorted(skip)})
    return series, gaps


def run(argv):
    db_path, _, since, until = detections.parse_detector_args(argv)
    started = common.now_utc()
    try:
        con, context = detections.open_scope(db_path, since, until)
    except duckdb.Error as error:
        raise common.database_error(db_path, error) from None
    try:
        return _overview(argv, con, context, started)
    except duckdb.Error as error:
        raise common.database_error(db_path, error) from None
    finally:
        con.close()


def _overview(argv, con, context, started):
    if not context.events_in_scope:
        raise common.ToolError(f"{context.db_path}: no events in {common.describe_window(context.since, context.until)}"
                               " - check SINCE/UNTIL, or load logs with analyze_ingest.py")
    totals = casedb.one(con, OVERVIEW_SQL)
    unit = "day" if totals[7] <= 92 else "month"
    folder = common.output_dir(context.db_path)
    identities = casedb.rows(con, IDENTITIES_SQL, {"top": TOP})
    source_ips = casedb.rows(con, SOURCE_IPS_SQL, {"top": TOP})
    rarest = (casedb.rows(con, RAREST_IDENTITIES_SQL, {"top": TOP}), casedb.rows(con, RAREST_SOURCE_IPS_SQL, {"top": TOP}))
    drawn, chart_notes = _charts(con, identities, source_ips, rarest, folder, started)
    lines = [f"# Case overview", "",
             f"Written {format_time(common.now_utc())} by `analyze_overview.py` (run `{context.run_id}`). "
             "All times are UTC.", ""]
    lines += _holdings_section(con, context, totals)
    lines += ["## Charts", ""]
    for caption, png in drawn:
        lines += [f"![{caption}]({png.name})", "", f"*{caption}*", ""]
    lines += [f"- {note}" for note in chart_notes] + ([""] if chart_notes else [])
    lines += _volume_section(con, unit)
    lines += _tops_section(con, identities, source_ips, rarest)
    new_identities, new_ips, new_lines = _new_section(con)
    lines += new_lines
    gap_lines, gap_count = _gaps_section(con)
    lines += gap_lines
    path = common.new_output_path(folder, "overview_report", ".md", started)
    common.write_markdown(path, lines)
    log = common.AnalystLog(context.db_path, started).write("analyze_overview.py", [
        f"Command: {md_code(' '.join(['analyze_overview.py'] + argv[1:]))}",
        f"- window: {common.describe_window(context.since, context.until)}",
        f"- events: {context.events_in_scope:,} in {totals[0]} account(s), {totals[1]} region(s), {totals[2]} service(s)",
        f"- new in the last day: {len(new_identities)} identity(ies), {len(new_ips)} source IP(s)",
        f"- gaps listed: {gap_count}",
        f"- report: {path.name}" + "".join(f"; chart: {png.name}" for _, png in drawn), "",
        "Busiest identities:", ""] + md_table(
        ["identity", "events", "errors", "first event", "last event"],
        [(Markdown(md_code(a, 120)), f"{n:,}", f"{bad:,}", format_time(f), format_time(l))
         for a, _, n, bad, _, f, l in identities[:5]]))
    casedb.record_run(con, context.run_id, "analyze_overview.py", " ".join(argv[1:]), started, common.now_utc(), 0,
                      orjson.dumps({"events": context.events_in_scope, "gaps": gap_count}).decode())
    print(f"analyze_overview.py: {context.events_in_scope:,} events, {totals[0]} account(s), {totals[1]} region(s); "
          f"{gap_count} gap(s) listed ({common.describe_window(context.since, context.until)})")
    print(f"  report: {path}")
    for _, png in drawn:
        print(f"  chart: {png}")
    print(f"  analyst log: {log}")
    return common.EXIT_OK


def _charts(con, identities, source_ips, rarest, folder, moment):
    drawn, notes = [], []
    rare_identities, rare_ips = rarest
    accounts = {found.group(2) for a, *_ in identities + rare_identities for found in [ARN_PREFIX.match(a or "")]
                if found}
    several = len(accounts) > 1
    account_note = " (@NNNN: the account's last four digits)" if several else ""
    jobs = [
        ("Events over time by account", lambda path: charts.time_series_by_group(
            casedb.frame(con, VOLUME_BY_ACCOUNT_SQL, {"unit": _chart_unit(con)}), "period", "account", "events",
            "Events over time by account", "events", path,
            finest="1h" if _chart_unit(con) == "hour" else None), "overview_volume_by_account"),
        ("Busiest identities" + account_note,
         lambda path: charts.bar_chart(
            [short_identity(a, CHART_LABEL, with_account=several) for a, *_ in identities],
            [row[2] for row in identities], "Busiest identities (events)", "events", path,
            label_limit=45, label_lines=4),
         "overview_top_identities"),
        ("Rarest identities: seen on the fewest days, then with the fewest events (a role's sessions count "
         "as the role; AWS services left out)" + account_note,
         lambda path: charts.bar_chart(
            [f"{short_identity(a, CHART_LABEL, with_account=several)}, {_days(days)}" for a, _, days, *_ in rare_identities],
            [row[1] for row in rare_identities], "Rarest identities (events; fewest days seen first)", "events", path,
            label_limit=45, label_lines=4),
         "overview_rarest_identities"),
        ("Busiest source IPs", lambda path: charts.bar_chart(
            [ip or "(none)" for ip, *_ in source_ips], [row[1] for row in source_ips],
            "Busiest source IPs (events)", "events", path), "overview_top_source_ips"),
        ("Rarest source IPs: seen on the fewest days, then with the fewest events (private addresses and AWS "
         "service names left out)",
         lambda path: charts.bar_chart(
            [f"{ip}, {_days(days)}" for ip, _, days, *_ in rare_ips], [row[1] for row in rare_ips],
            "Rarest public source IPs (events; fewest days seen first)", "events", path),
         "overview_rarest_source_ips"),
    ]
    for caption, draw, name in jobs:
        try:
            png = draw(common.new_output_path(folder, name, ".png", moment))
        except detections.CHART_ERRORS as error:
            notes.append(f"The chart '{caption}' could not be drawn: "
                         f"{md_text(common.first_line(error))}")
            continue
        if png:
            drawn.append((caption, png))
    return drawn, notes


CHART_LABEL = 110     # characters of an identity in a chart label (wrapped onto up to three lines)


def _days(days):
    return f"{days} day" + ("" if days == 1 else "s")


def _chart_unit(con):
    """Minutes for a short case, hours otherwise: fine enough for the chart's own buckets, small to pull."""
    hours = casedb.scalar(con, "select (epoch(max(event_time)) - epoch(min(event_time))) / 3600 from scoped_events")
    return "minute" if (hours or 0) <= 48 else "hour"


def _holdings_section(con, context, totals):
    accounts, regions, services, identities, ips, failed, no_time, days = totals
    failed_signins = casedb.scalar(con, FAILED_SIGNINS_SQL)
    files = casedb.one(con, "select count(*), count(*) filter (where status in ('failed', 'partial')) from ingested_files")
    span = (f"{format_time(context.first_event)} to {format_time(context.last_event)}"
            if context.first_event else "no event has a readable time")
    rows = [
        ("database", Markdown(md_code(context.db_path))),
        ("window", common.describe_window(context.since, context.until)),
        ("events", f"{context.events_in_scope:,} ({span}, on {days} day(s))"),
        ("failed calls", f"{failed:,} with an error code, plus {failed_signins:,} failed console sign-ins "
                         "(recorded without one)"),
        ("accounts / regions / services", f"{accounts} / {regions} / {services}"),
        ("identities / source IPs", f"{identities:,} / {ips:,}"),
        ("log files loaded", f"{files[0]:,} ({files[1]:,} failed or partly read: see `ingested_files`)"),
    ]
    if no_time:
        rows.append(("events without a readable time", f"{no_time:,} (see `ingest_note`); they are left out of "
                     "every time-based table and chart"))
    return ["## What the case holds", ""] + md_table(["", ""], rows) + [""]


def _volume_section(con, unit):
    lines = [f"## Events per {unit}", ""]
    if unit == "month":
        lines += ["The case spans more than 92 days with events, so volume is shown per month.", ""]
    lines += [f"A {unit} without any event is left out (see Gaps below). `errors` counts calls that returned an "
              "error code; failed console sign-ins usually carry none and are counted under What the case holds.", ""]
    volume = casedb.rows(con, VOLUME_SQL, {"unit": unit})
    lines += md_table([unit + " (UTC)", "events", "errors", "accounts", "regions", "identities"],
                      [(p.strftime("%Y-%m-%d" if unit == "day" else "%Y-%m"), f"{n:,}", f"{bad:,}", a, r, i)
                       for p, n, bad, a, r, i in volume])
    lines += ["", "### Accounts", ""]
    lines += md_table(["account", "events", "errors", "regions", "identities", "first event", "last event"],
                      [(a or "(none)", f"{n:,}", f"{bad:,}", r, i, format_time(f), format_time(l))
                       for a, n, bad, r, i, f, l in casedb.rows(con, ACCOUNTS_SQL)])
    lines += ["", "### Regions", ""]
    lines += md_table(["region", "events", "errors", "accounts", "first event", "last event"],
                      [(r or "(none)", f"{n:,}", f"{bad:,}", a, format_time(f), format_time(l))
                       for r, n, bad, a, f, l in casedb.rows(con, REGIONS_SQL)])
    lines += ["", "### Services", ""]
    lines += md_table(["service", "events", "errors", "actions", "identities"],
                      [(s or "(none)", f"{n:,}", f"{bad:,}", a, i) for s, n, bad, a, i in casedb.rows(con, SERVICES_SQL)])
    return lines + [""]


def _tops_section(con, identities, source_ips, rarest):
    rare_identities, rare_ips = rarest
    lines = ["## Top identities", ""]
    lines += md_table(["identity", "type", "events", "errors", "source IPs", "first event", "last event"],
                      [(Markdown(md_code(a, 120)) if a else NO_IDENTITY, t, f"{n:,}", f"{bad:,}", ips, format_time(f),
                        format_time(l)) for a, t, n, bad, ips, f, l in identities])
    lines += ["", "## Rarest identities", "",
              "Seen on the fewest days, then with the fewest events: stolen keys, a new user or a one-off "
              "sign-in are a handful of events among thousands. A role's sessions count as the role; AWS "
              "services acting for the account are left out.", ""]
    lines += md_table(["identity", "events", "days seen", "failed calls and sign-ins", "first event", "last event"],
                      [(Markdown(md_code(a, 120)) if a else NO_IDENTITY, f"{n:,}", days, f"{bad:,}", format_time(f),
                        format_time(l)) for a, n, days, bad, f, l in rare_identities])
    lines += ["", "## Top source IPs", ""]
    lines += md_table(["source IP", "events", "errors", "identities", "first event", "last event"],
                      [(ip or "(none)", f"{n:,}", f"{bad:,}", i, format_time(f), format_time(l))
                       for ip, n, bad, i, f, l in source_ips])
    lines += ["", "## Rarest source IPs", "",
              "Public addresses seen on the fewest days, then with the fewest events. Private (VPC) addresses "
              "and AWS service names are left out.", ""]
    lines += md_table(["source IP", "events", "days seen", "identities", "first event", "last event"],
                      [(ip, f"{n:,}", days, i, format_time(f), format_time(l))
                       for ip, n, days, i, f, l in rare_ips]) if rare_ips else ["None."]
    lines += ["", "## Top user agents", ""]
    lines += md_table(["user agent", "events", "identities", "source IPs"],
                      [(Markdown(md_code(ua, 140)) if ua else "(none)", f"{n:,}", i, ips)
                       for ua, n, i, ips in casedb.rows(con, USER_AGENTS_SQL, {"top": TOP})])
    lines += ["", "## Error codes", ""]
    errors = casedb.rows(con, ERRORS_SQL, {"top": TOP})
    if errors:
        lines += md_table(["error code", "events", "identities", "most frequent action", "first event", "last event"],
                          [(e, f"{n:,}", i, a, format_time(f), format_time(l)) for e, n, i, a, f, l in errors])
    else:
        lines.append("No call in the window failed with an error code.")
    return lines + [""]


def _new_section(con):
    first_time, last_time = casedb.one(con, HISTORY_SQL)
    lines = ["## New in the last day of data", ""]
    if last_time is None:
        return [], [], lines + ["No event in the window has a readable time.", ""]
    cutoff = last_time - dt.timedelta(days=1)
    if first_time is None or first_time > cutoff:
        return [], [], lines + [
            f"The data loaded starts {format_time(first_time)}, less than a day before the window's last event "
            f"({format_time(last_time)}): there is no earlier history to compare with, so nothing can be called new.", ""]
    lines += [f"Identities and source IPs whose first event in all the data loaded falls in the 24 hours before "
              f"the window's last event ({format_time(cutoff)} to {format_time(last_time)}). A newcomer is not "
              f"necessarily bad: new staff, new automation and AWS services all appear this way; an unfamiliar IP "
              f"or an identity created during the incident is worth a look.", ""]
    identities = casedb.rows(con, NEW_IDENTITIES_SQL)
    newcomers = casedb.rows(con, NEW_SOURCE_IPS_SQL)
    internal = newcomers[0][-1] if newcomers else 0
    ips = [row[:6] for row in newcomers if not row[6]]
    lines += ["### Identities seen for the first time", ""]
    lines += ["A role's sessions count as the role (the sessions column says how many there were).", ""]
    lines += md_table(["identity", "first seen", "sessions", "events in the last day", "errors", "source IPs",
                       "actions"],
                      [(Markdown(md_code(a, 140)) if a else NO_IDENTITY, format_time(f), sessions, f"{n:,}", f"{bad:,}",
                        Markdown(reports.summarise_list([x for x in sips if x], "addresses", md_text, room=60)),
                        Markdown(reports.summarise_list([x for x in acts if x], "actions", md_text, room=80)))
                       for a, f, sessions, n, bad, sips, acts in identities]) if identities else ["None."]
    lines += ["", "### Source IPs seen for the first time", "",
              f"Busiest first. Not listed: {internal:,} new private (VPC) addresses and AWS service names, "
              "which appear all the time as instances, functions and services start.", ""]
    lines += md_table(["source IP", "first seen", "events in the last day", "errors", "identities", "actions"],
                      [(ip or "(none)", format_time(f), f"{n:,}", f"{bad:,}",
                        Markdown(reports.summarise_list([short_identity(x, 60) for x in who if x], "identities",
                                                        room=90)),
                        Markdown(reports.summarise_list([x for x in acts if x], "actions", md_text, room=80)))
                       for ip, f, n, bad, who, acts in ips]) if ips else ["None."]
    if len(identities) == 50 or len(ips) == 50:
        lines += ["", "Only the first 50 of each are listed."]
    return identities, ips, lines + [""]


def _gaps_section(con):
    share = common.env_number("CLOUDTRAIL_GAP_MIN_SHARE", 0.5, float)
    min_hours = common.env_number("CLOUDTRAIL_GAP_MIN_HOURS", 12)
    min_days = common.env_number("CLOUDTRAIL_GAP_MIN_DAYS", 7)
    hourly_series, hourly_gaps = find_gaps(con, "1 hour", min_hours, share)
    by_hour = {f"{s[0]}|{s[1]}" for s in hourly_series if s[7]}
    daily_series, daily_gaps = find_gaps(con, "1 day", min_days, share, skip=by_hour)
    by_day = {f"{s[0]}|{s[1]}" for s in daily_series if s[7]} - by_hour
    lines = ["## Gaps in the timeline", "",
             "A stretch with no events from a region that normally logs is a sign that logging was stopped, "
             "that log files are missing from the download, or that the trail's settings changed.", "",
             "**Method.** Events are counted per hour for every account and region, and for every account as a "
             f"whole. A series logs normally when it has events in at least {share:.0%} of the hours of its "
             f"active span (its first to its last event) and that span is at least {min_hours:g} hours long. "
             "For such series every hour without events is listed, from its first event to the last event of "
             f"the window (so a region that went silent and stayed silent shows too). Series too quiet for "
             f"hours are judged the same way by day (at least {min_days:g} days, events on {share:.0%} of them).", ""]
    gaps = [(g, "hour") for g in hourly_gaps] + [(g, "day") for g in daily_gaps]
    total_series = len(hourly_series)
    lines += [f"{len(by_hour)} of {total_series} series log normally by the hour, {len(by_day)} more by the day; "
              f"the other {total_series - len(by_hour) - len(by_day)} are too sparse to judge.", ""]
    if gaps:
        gaps.sort(key=lambda item: (-(item[0][4] * (24 if item[1] == "day" else 1)), item[0][2]))
        lines += md_table(["account", "region", "no events from", "until", "length", "the series normally",
                           "note"],
                          [(a or "(none)", r, format_time(start), format_time(end), _length(n, unit),
                            f"has events in {active}/{int(span)} {unit}s ({active / span:.0%})",
                            "silent to the end of the data" if to_end else "")
                           for (a, r, start, end, n, active, span, to_end), unit in gaps])
        if len(hourly_gaps) == 60 or len(daily_gaps) == 60:
            lines += ["", "Only the 60 longest gaps of each kind are listed."]
    elif by_hour or by_day:
        lines.append("No gaps: every series that logs normally has events in every hour (or day) of its span.")
    else:
        lines.append("No series logs steadily enough to judge gaps, so none are listed. That says nothing either way.")
    lines += ["", "**Limits.** An empty hour is normal for quiet regions at night or at weekends: read each gap "
              "against how busy the series normally is. CloudTrail delivers a file about every five minutes, on "
              "average about five minutes after the call but with no guarantee, so a download made soon after "
              "the last events looks like a short gap at the end. Only the events that were loaded count: a trail that records "
              "management events only, or a region the trail does not cover, shows nothing here. Stretches before "
              "a series' first event are not checked. The window's own edges (SINCE/UNTIL) cut series too.", ""]
    changes = casedb.rows(con, TRAIL_CHANGES_SQL)
    lines += ["### Trail changes in the window", ""]
    if changes:
        lines += ["Calls that stop, start, delete or reconfigure a trail, to read next to the gaps:", ""]
        lines += md_table(["time", "action", "by", "account", "region", "trail", "result"],
                          [(format_time(t), name, Markdown(md_code(by, 120)), a, r, Markdown(md_code(trail, 120)),
                            "succeeded" if not err else f"failed: {err}") for t, name, by, a, r, trail, err in changes])
    else:
        lines.append("None recorded (StopLogging, StartLogging, DeleteTrail, CreateTrail, UpdateTrail, "
                     "PutEventSelectors, PutInsightSelectors).")
    return lines + [""], len(gaps)


def _length(buckets, unit):
    if unit == "hour" and buckets >= 48:
        return f"{buckets} hours ({buckets / 24:.1f} days)"
    return f"{buckets} {unit}{'s' if buckets != 1 else ''}"


def main(argv):
    return common.run_cli(__doc__, argv, run)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
