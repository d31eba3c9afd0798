"""Console sign-in attacks: root sign-ins, sign-ins without MFA, failed sign-ins, brute force
and password spraying, success after failures, new source IPs, failed MFA, console sessions
minted from keys, root password changes.

The detections are the .sql files beside this module; views.sql defines console_logins_all
(every ConsoleLogin event, normalised) and console_logins (the part inside the run's window).
"""
import casedb
import charts
import common
from detections import Area, Setting

SETTINGS = (
    Setting("brute_force_failures", "CLOUDTRAIL_BRUTE_FORCE_FAILURES", 10,
            "Failed sign-ins that count as brute force"),
    Setting("brute_force_minutes", "CLOUDTRAIL_BRUTE_FORCE_MINUTES", 15, "Brute-force window in minutes"),
    Setting("spray_users", "CLOUDTRAIL_SPRAY_USERS", 5, "Distinct user names from one IP that count as spraying"),
    Setting("spray_minutes", "CLOUDTRAIL_SPRAY_MINUTES", 60, "Spraying window in minutes"),
    Setting("failures_before_success", "CLOUDTRAIL_FAILURES_BEFORE_SUCCESS", 3,
            "Failures from an IP before a success from it that count"),
    Setting("failures_lookback_minutes", "CLOUDTRAIL_FAILURES_LOOKBACK_MINUTES", 60,
            "Look-back for failures before a success, in minutes"),
)

def failed_sign_in_charts(con, outcomes, folder, moment):
    """Failed sign-ins per time bucket by source IP, and by user name."""
    frame = casedb.frame(con, """
        select date_trunc('minute', event_time) as minute, coalesce(source_ip, '(none)') as source_ip, count(*) as failures
        from console_logins
        where failed and event_time is not null
        group by all
    """)
    by_ip = charts.time_series_by_group(
        frame, "minute", "source_ip", "failures", "Failed console sign-ins by source IP", "failures",
        common.new_output_path(folder, "console_logins_failures_by_ip", ".png", moment), min_groups=2)
    users = con.execute("""
        select signin_user, count(*) from console_logins where failed group by 1 order by 2 desc limit 15
    """).fetchall()
    by_user = charts.bar_chart([u for u, _ in users], [n for _, n in users], "Failed console sign-ins by user name",
                               "failed sign-ins",
                               common.new_output_path(folder, "console_logins_failures_by_user", ".png", moment))
    return [("Failed console sign-ins by source IP", by_ip), ("Failed console sign-ins by user name", by_user)]



AREA = Area(
    name="console_logins",
    title="Console sign-in report",
    tool="analyze_console_logins.py",
    activity_sql="""
        select
            date_trunc('minute', event_time) as minute,
            count(*) filter (where not failed) as succeeded,
            count(*) filter (where failed) as failed
        from console_logins
        where event_time is not null
        group by minute
    """,
    activity_title="Console sign-ins",
    settings=SETTINGS,
    charts=(failed_sign_in_charts,),
    notes=(
        "Federated sign-ins (IAM Identity Center / SSO, SAML, assumed roles) are left out of "
        "'sign-in without MFA': CloudTrail records MFAUsed \"No\" for them even when the identity "
        "provider enforced MFA, so they would all be false alarms. They still count for failures, "
        "brute force, spraying and new source IPs.",
        "AWS records a failed sign-in for a user name that does not exist as "
        "HIDDEN_DUE_TO_SECURITY_REASONS, so spraying against unknown names counts as one name.",
        "No region filter is applied: root and global-endpoint sign-ins are recorded in us-east-1 "
        "(or a few other regions), whatever region the analyst works in.",
    ),
)
