"""Reconnaissance: bursts of discovery calls, AccessDenied storms, the first GetCallerIdentity
of an access key, offensive-tool user agents, EC2 instance-role credentials used from outside
their instance, and CloudTrail Insights events.

The detections are the .sql files beside this module; views.sql defines the views they share.
"""
import re

import charts
import common
from detections import Area, Setting
from rules.aws_policy import arn_resource

EXTRA_AGENTS_ENV = "CLOUDTRAIL_RECON_EXTRA_AGENTS"

SETTINGS = (
    Setting("recon_burst_new_actions", "CLOUDTRAIL_RECON_BURST_NEW_ACTIONS", 8,
            "Discovery actions new to one identity that count as a burst"),
    Setting("recon_burst_services", "CLOUDTRAIL_RECON_BURST_SERVICES", 4,
            "Services those new actions must span"),
    Setting("recon_burst_minutes", "CLOUDTRAIL_RECON_BURST_MINUTES", 5, "Discovery-burst window in minutes"),
    Setting("recon_denied_calls", "CLOUDTRAIL_RECON_DENIED_CALLS", 10,
            "Denied calls by one identity from one IP that count as a storm"),
    Setting("recon_denied_minutes", "CLOUDTRAIL_RECON_DENIED_MINUTES", 10, "AccessDenied-storm window in minutes"),
    Setting("recon_shared_egress_instances", "CLOUDTRAIL_RECON_SHARED_EGRESS_INSTANCES", 3,
            "Instances calling from one IP that make it look like a NAT gateway (their findings are low)"),
    Setting("recon_extra_agents", "CLOUDTRAIL_RECON_EXTRA_AGENTS", (),
            "Extra offensive-tool user-agent patterns (comma-separated, matched case-insensitively)"),
)

def _labels(rows):
    """Chart labels for (identity, account, extra) rows: the session then the role for role
    sessions, the ARN's resource part otherwise; the account is added where two shown identities
    would otherwise read the same."""
    def short(identity):
        resource = arn_resource(identity)
        role_session = re.fullmatch(r"assumed-role/([^/]+)/(.+)", resource)
        return f"{role_session[2]} ({role_session[1]})" if role_session else resource
    labels = [short(identity) + extra for identity, _, extra in rows]
    shown = [label[:37] for label in labels]   # what is left once charts.chart_label shortens them
    return [f"{account} {label}" if shown.count(label[:37]) > 1 else label
            for label, (_, account, _) in zip(labels, rows)]


BURST_CHART_MINUTES = 10


def recon_charts(con, outcomes, folder, moment):
    """The most distinct discovery actions each identity made in one 10-minute slot of the clock
    (00:00-00:10, 00:10-00:20, ...; which slot), and AccessDenied errors per identity."""
    # A sweep with stolen keys is many different calls in minutes; a person or an application
    # makes as many over days. Counted over the whole window, the two look alike.
    discovery = con.execute("""
        with per_slot as (
            select
                identity,
                recipient_account_id,
                console_session,
                time_bucket(to_minutes($minutes), event_time) as slot,
                count(distinct event_name) as actions
            from recon_calls
            where discovery
              and event_time is not null
            group by identity, recipient_account_id, console_session, slot
        )
        select
            identity,
            recipient_account_id,
            case when console_session then ' (console)' else '' end as extra,
            max(actions) as actions,
            arg_min(slot, [-actions, epoch(slot)]) as peak
        from per_slot
        group by identity, recipient_account_id, console_session
        order by actions desc, identity, recipient_account_id, extra
        limit 15
    """, {"minutes": BURST_CHART_MINUTES}).fetchall()
    by_discovery = charts.bar_chart(
        [f"{peak:%m-%d %H:%M} {label}" for label, peak in zip(_labels([row[:3] for row in discovery]),
                                                                  [row[4] for row in discovery])],
        [row[3] for row in discovery],
        f"Most distinct discovery actions in one {BURST_CHART_MINUTES}-minute slot, per identity (slot start, UTC)",
        f"distinct List/Describe/Get... actions in one {BURST_CHART_MINUTES}-minute slot",
        common.new_output_path(folder, "recon_discovery_by_identity", ".png", moment), label_limit=45)
    denied = con.execute("""
        select
            identity,
            recipient_account_id,
            '' as extra,
            count(*) as errors
        from recon_calls
        where denied
        group by all
        order by errors desc, identity
        limit 15
    """).fetchall()
    by_denied = charts.bar_chart(
        _labels([row[:3] for row in denied]), [row[3] for row in denied], "AccessDenied errors per identity",
        "denied calls", common.new_output_path(folder, "recon_denied_by_identity", ".png", moment),
        colours="#f0a04b")
    return [(f"Discovery sweeps: the most distinct discovery actions each identity made in one "
             f"{BURST_CHART_MINUTES}-minute slot of the clock, and the slot's start (UTC)", by_discovery),
            ("AccessDenied errors per identity", by_denied)]



AREA = Area(
    name="recon",
    title="Reconnaissance and discovery report",
    tool="analyze_recon.py",
    activity_sql="""
        select
            date_trunc('minute', event_time) as minute,
            count(*) filter (where discovery and error_code is null) as succeeded,
            count(*) filter (where denied or (discovery and error_code is not null)) as failed
        from recon_calls
        where event_time is not null
          and (discovery or denied)
        group by minute
    """,
    activity_title="Discovery calls (List/Describe/Get...) and AccessDenied errors",
    settings=SETTINGS,
    charts=(recon_charts,),
    notes=(
        "Calls that AWS services make for someone are left out everywhere: userIdentity type AWSService, "
        "an invokedBy service other than signin.amazonaws.com (which marks older console records), or a "
        "service name or \"AWS Internal\" as source IP or user agent.",
        "Discovery bursts count actions new to the identity (the role or user behind a session) in all "
        "the loaded data, not only the window: an application or a person repeats the calls it always "
        "makes, someone with stolen keys sweeps through calls the keys never made. When the data shows "
        "nothing earlier for the identity, every action is new and the burst is reported at low.",
        "Discovery calls are actions named List*, Describe*, Get*, Search*, Lookup*, BatchGet*, "
        "BatchDescribe*, plus GenerateCredentialReport, GenerateServiceLastAccessedDetails, "
        "GenerateOrganizationsAccessReport, SimulatePrincipalPolicy, SimulateCustomPolicy and "
        "DecodeAuthorizationMessage. Data events (S3 object reads and the like) are the workload, not "
        "enumeration, and are left out of bursts; they still count in AccessDenied storms.",
        "The AWS console issues many Describe/List calls for every page it shows. Bursts from console "
        "sessions (sessionCredentialFromConsole, invokedBy signin.amazonaws.com, console user agents) are "
        "reported apart, at low severity (account_enumerated_from_console); AccessDenied storms made "
        "entirely from the console are lowered to low.",
        "GetCallerIdentity: only the first call per access key in all the loaded data counts. Temporary "
        "(ASIA) keys are new for every session, so their first call is reported only when the same key, "
        "from the same source IP, is behind another finding of this report. A long-term (AKIA) key is "
        "reported at medium when the key had made other calls earlier in the data, at low when the check "
        "is the first thing the data shows it doing. A key behind other findings from the same IP takes "
        "the most severe of them.",
        "Instance credentials: a session named after an EC2 instance id used from a public address that the "
        "data does not show to be that instance's (its SSM agent traffic, its RunInstances response, an "
        "Elastic IP associated with it). Private addresses and the account's own VPC endpoints are inside "
        "the VPC and not reported; another account's VPC endpoint is. The SSM agent's own channels "
        "(ec2messages, ssmmessages, UpdateInstanceInformation and similar) are not reported.",
        f"Offensive-tool user agents are matched case-insensitively against a built-in list; set "
        f"{EXTRA_AGENTS_ENV} to comma-separated extra patterns to add your own (reported at medium).",
    ),
)
