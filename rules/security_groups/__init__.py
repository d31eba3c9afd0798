"""Security groups and network exposure: security groups opened to the Internet or to public
addresses, egress opened to all, security groups created or deleted, network ACL entries that
allow all, network ACL changes, bursts of security-group changes, routes to an internet gateway,
databases made public, traffic mirroring, and RDS DB security groups opened.

The detections are the .sql files beside this module; views.sql defines the views they share.
"""
import casedb
import charts
import common
from detections import Area, Setting
from rules.aws_policy import arn_resource

def short_actor(session_issuer_name, actor):
    """A short actor label for charts: the role for role sessions (each CI run has its own session
    name, which would scatter one pipeline over many colours), else the ARN after the account."""
    if isinstance(session_issuer_name, str):
        return f"role/{session_issuer_name}"
    actor = actor if isinstance(actor, str) else None
    return arn_resource(actor) or actor or "(unknown)"


def exposure_charts(con, outcomes, folder, moment):
    """Security-group openings to the Internet by port, and network-control changes by actor."""
    ports = con.execute("""
        select
            exposure as label,
            max(exposure_rank) as rank,
            count(distinct event_id) as calls
        from security_group_grants
        where scope = 'internet'
          and direction in ('ingress', 'unknown')
        group by label
        order by calls desc, rank desc, label
        limit 15
    """).fetchall()
    by_port = charts.bar_chart(
        [label for label, _, _ in ports], [calls for _, _, calls in ports],
        "Ingress opened to the Internet, by port (colour = severity)", "API calls, failed attempts included", common.new_output_path(folder, "security_groups_internet_ports", ".png", moment),
        colours=[charts.SEVERITY_COLOURS[{3: "high", 2: "medium"}.get(rank, "low")] for _, rank, _ in ports])
    frame = casedb.frame(con, """
        select date_trunc('minute', event_time) as minute, session_issuer_name, actor, count(*) as changes
        from network_control_changes
        where event_time is not null
        group by all
    """)
    frame["actor"] = [short_actor(issuer, actor) for issuer, actor in zip(frame["session_issuer_name"], frame["actor"])]
    frame = frame.groupby(["minute", "actor"], as_index=False)["changes"].sum()
    # With one actor this chart would repeat the activity chart.
    by_actor = charts.time_series_by_group(
        frame, "minute", "actor", "changes", "Network-control changes by actor", "changes",
        common.new_output_path(folder, "security_groups_changes_by_actor", ".png", moment), min_groups=2)
    return [("Security-group ingress opened to the Internet, by port and service (API calls, failed attempts "
             "included; red high, orange medium, blue low)", by_port),
            ("Network-control changes by actor", by_actor)]


SETTINGS = (
    Setting("sg_burst_changes", "CLOUDTRAIL_SG_BURST_CHANGES", 10,
            "Security-group changes by one actor that count as a burst"),
    Setting("sg_burst_minutes", "CLOUDTRAIL_SG_BURST_MINUTES", 10, "Security-group burst window in minutes"),
)

AREA = Area(
    name="security_groups",
    title="Security group and network exposure report",
    tool="analyze_security_groups.py",
    activity_sql="""
        select
            date_trunc('minute', event_time) as minute,
            count(*) filter (where error_code is null) as succeeded,
            count(*) filter (where error_code is not null) as failed
        from network_control_changes
        where event_time is not null
        group by minute
    """,
    activity_title="EC2 network-control changes (security groups, network ACLs, routes, gateways, mirroring)",
    charts=(exposure_charts,),
    settings=SETTINGS,
    notes=(
        "\"The Internet\" means a CIDR with prefix length 0 (0.0.0.0/0, ::/0, or any address written "
        "with /0). A public range is any other CIDR outside the private, loopback, link-local, "
        "shared (100.64.0.0/10) and multicast ranges (IPv6: outside fc00::/7, fe80::/10, ::1).",
        "Severity of an Internet or public-range rule follows its ports: all protocols, or a port "
        "range that includes a remote-administration, file-sharing, database or cluster port (20-23, "
        "69, 111, 135-139, 161, 389, 445, 873, 1433-1434, 1521, 2049, 2375-2376, 2379, 3306, 3389, "
        "5432, 5601, 5900, 5984-5986, 6379, 6443, 9042, 9092, 9200, 9300, 10250, 11211, 27017-27018) "
        "is high; a single web port (80, 443, 8080, 8443) or ICMP is low; anything else is medium.",
        "One finding per API call: a call that adds several rules gives one finding listing every "
        "rule it asked for (details.rules), never one row per rule.",
        "ModifySecurityGroupRules does not record whether the rule is ingress or egress. The direction "
        "is taken from the call that created the rule when that call is in the case; otherwise the "
        "change is reported with the ingress detections and marked 'direction unknown'.",
        "A new security group gets an allow-all egress rule from AWS without any API call, so "
        "security_group_egress_opened_to_internet only sees egress rules someone added explicitly "
        "(infrastructure-as-code tools often re-add the default one).",
    ),
)
