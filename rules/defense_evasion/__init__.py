"""Defense evasion: logging and detection tampering - CloudTrail trails stopped, deleted or narrowed,
trail buckets set to expire logs, GuardDuty / Security Hub / Macie / AWS Config switched off or
muted, VPC flow logs, DNS query logs, CloudWatch logs and alarms deleted, S3 access logging
disabled, accounts leaving the organization, and request parameters CloudTrail left out as too large.

The detections are the .sql files beside this module; views.sql defines the views they share.
"""
import casedb
import charts
import common
from detections import Area, Setting


def calls_by_service_chart(con, outcomes, folder, moment):
    """Tampering calls per service and action, split into succeeded and failed."""
    rows = casedb.rows(con, """
        select
            concat(replace(event_source, '.amazonaws.com', ''), ': ', event_name) as call,
            count(*) filter (where error_code is null) as succeeded,
            count(*) filter (where error_code is not null) as failed
        from defense_evasion_calls
        group by call
        order by count(*) desc, call
        limit 25
    """)
    path = charts.stacked_bar_chart(
        [call for call, _, _ in rows],
        [("succeeded", [ok for _, ok, _ in rows], "#8fb0d6"), ("failed (attempt)", [bad for _, _, bad in rows], "#f0a04b")],
        "Calls that can switch off or narrow logging and detection, by service and action", "calls",
        common.new_output_path(folder, "defense_evasion_calls_by_service", ".png", moment), totals=True)
    return [("Tampering calls by service and action, succeeded and failed", path)]


def findings_by_actor_chart(con, outcomes, folder, moment):
    """Findings per actor, stacked by severity: who is tampering, and how badly."""
    per_actor = {}
    for outcome in outcomes:
        for finding in outcome.findings:
            counts = per_actor.setdefault(finding["actor"] or "(unknown)", dict.fromkeys(charts.SEVERITY_RANK, 0))
            counts[finding["severity"]] += 1
    ranked = sorted(per_actor.items(), key=lambda item: (-sum(item[1].values()), item[0]))[:15]
    severities = [s for s in sorted(charts.SEVERITY_RANK, key=charts.SEVERITY_RANK.get, reverse=True)
                  if any(counts[s] for _, counts in ranked)]
    path = charts.stacked_bar_chart(
        [common.short_identity(actor) for actor, _ in ranked],
        [(severity, [counts[severity] for _, counts in ranked], charts.SEVERITY_COLOURS[severity]) for severity in severities],
        "Tampering findings by actor and severity", "findings",
        common.new_output_path(folder, "defense_evasion_findings_by_actor", ".png", moment))
    return [("Tampering findings by actor and severity", path)]


SETTINGS = (
    Setting("short_retention_days", "CLOUDTRAIL_SHORT_RETENTION_DAYS", 7,
            "Log retention shorter than this many days counts as shortened"),
)

AREA = Area(
    name="defense_evasion",
    title="Defense evasion report",
    tool="analyze_defense_evasion.py",
    activity_sql="""
        select
            date_trunc('minute', event_time) as minute,
            count(*) filter (where error_code is null) as succeeded,
            count(*) filter (where error_code is not null) as failed
        from defense_evasion_calls
        where event_time is not null
        group by minute
    """,
    activity_title="Calls that can switch off or narrow logging and detection",
    charts=(calls_by_service_chart, findings_by_actor_chart),
    settings=SETTINGS,
    notes=(
        "Failed calls are reported as attempts. Someone trying to stop a trail or delete a detector "
        "without the permission to do so is evidence of intent.",
        "UpdateTrail: the CloudTrail console and CloudFormation send every trail setting on each "
        "save, the CLI and SDKs only the ones being changed. A setting therefore counts as changed "
        "when it differs from the trail's configuration before the call (taken from earlier "
        "CreateTrail/UpdateTrail responses in the loaded data), or, when that is not in the data, "
        "when a CLI or SDK caller sent it. A console save that sends isMultiRegionTrail or "
        "includeGlobalServiceEvents false with no earlier configuration to compare is reported as low.",
        "Settings given to a trail within a minute of its CreateTrail (the console and templates create a "
        "trail, then set its selectors and Insights) are its configuration, not a change, and are not "
        "reported. Adding CloudWatch Logs delivery, or encrypting a trail that had no key with a key of "
        "the same account, records and keeps as much as before and is not reported either; removing "
        "delivery, or moving it away from a log group the data shows, is.",
        "A bucket counts as a CloudTrail bucket when the loaded data shows it in a trail's settings, "
        "shows the CloudTrail service accessing it, or shows a bucket policy that lets "
        "cloudtrail.amazonaws.com write to it. Otherwise only a name that suggests logs (trail, "
        "log(s), logging, audit) makes a short lifecycle rule count, at lower severity. Load older "
        "logs (the trail's creation) to make this more certain.",
        "The activity chart counts calls to the APIs these detections read. The check for request "
        "parameters that CloudTrail omitted as too large reads every service and is not in the chart.",
    ),
)
