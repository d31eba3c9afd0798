"""Hunt for console sign-in attacks: root sign-ins, sign-ins without MFA, failed sign-ins,
brute force and password spraying, success after failures, new source IPs, failed MFA,
console sessions minted from keys, root password changes.

usage: analyze_console_logins.py DATABASE [SINCE [UNTIL]]

  DATABASE  case database written by analyze_ingest.py
  SINCE     first moment to look at, ISO date or time in UTC (e.g. 2026-11-01 or 2026-11-01T13:30)
  UNTIL     last moment to look at (a date includes that whole day)

Writes findings to the database (replacing this script's earlier findings), a report
console_logins_report-YY-MM-DD-HH-MM.md with PNG charts, and an analyst log entry.

thresholds (environment variables):
  CLOUDTRAIL_BRUTE_FORCE_FAILURES  failed sign-ins from one IP, or for one user, that count as brute force (default 10)
  CLOUDTRAIL_BRUTE_FORCE_MINUTES   ... within this many minutes (default 15)
  CLOUDTRAIL_SPRAY_USERS           distinct user names failing from one IP that count as spraying (default 5)
  CLOUDTRAIL_SPRAY_MINUTES         ... within this many minutes (default 60)
  CLOUDTRAIL_FAILURES_BEFORE_SUCCESS  failures from an IP before a success from it that count (default 3)
  CLOUDTRAIL_FAILURES_LOOKBACK_MINUTES  ... looking back this many minutes (default 60)
"""
import sys

import casedb
import charts
import common
import detections
from detections import Area, Detection, Setting

# Sign-in events, normalised once: a ConsoleLogin failure has responseElements.ConsoleLogin
# "Failure" and errorMessage "Failed authentication" but often no errorCode; MFAUsed is
# "Yes"/"No"; failed sign-ins carry no userIdentity.arn. Over all data (baselines need
# history before the window); console_logins is the part inside the run's window.
SETUP_SQL = """
create or replace view console_logins_all as
select
    *,
    coalesce(response_elements->>'$.ConsoleLogin' = 'Success', false) and error_code is null as succeeded,
    coalesce(response_elements->>'$.ConsoleLogin' = 'Failure', false)
        or coalesce(error_message = 'Failed authentication', false)
        or error_code is not null as failed,
    lower(additional_event_data->>'$.MFAUsed') as mfa_used,
    coalesce(user_arn, concat(recipient_account_id, ':', coalesce(user_name, principal_id, user_type))) as login_identity,
    coalesce(user_name, regexp_extract(user_arn, '([^/:]+)$', 1), user_type, '(unknown)') as signin_user,
    coalesce(user_type in ('AssumedRole', 'FederatedUser'), false)
        or coalesce(user_arn like '%:assumed-role/AWSReservedSSO%', false)
        or additional_event_data->>'$.SamlProviderArn' is not null as federated
from events
where event_source = 'signin.amazonaws.com'
  and event_name = 'ConsoleLogin';

create or replace view console_logins as
select *
from console_logins_all
where in_window(event_time);
"""

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
    setup_sql=SETUP_SQL,
    settings=SETTINGS,
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

DETECTIONS = [
    Detection(
        id="root_console_login_succeeded",
        title="Root user signed in to the console",
        severity="high",
        mitre=("T1078.004",),
        description="Detects successful console sign-ins by the account's root user. Root has every "
                    "permission and cannot be limited by policies; AWS advises never to use it for daily "
                    "work, so a root sign-in is either a rare administrative task or a takeover.",
        false_positives="Account owners doing the few tasks that need root (billing settings, closing "
                        "the account, restoring access).",
        triage=("Ask the account owner whether they signed in at this time from this IP.",
                "Check what root did next: `select * from events where user_type = 'Root' order by event_time`.",
                "If unexpected, reset the root password, check its MFA device and rotate any root keys."),
        sql="""
            select
                event_time,
                event_name,
                concat('root of ', recipient_account_id) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when mfa_used = 'no' then 'critical' end as severity,
                concat('root signed in from ', coalesce(source_ip, '?'), ', MFA used: ', coalesce(mfa_used, 'not recorded')) as summary,
                {'mfa_used': mfa_used, 'user_agent': user_agent, 'login_to': additional_event_data->>'$.LoginTo'} as details
            from console_logins
            where user_type = 'Root'
              and succeeded
        """,
    ),
    Detection(
        id="console_login_succeeded_without_mfa",
        title="Console sign-in without MFA (IAM user or root)",
        severity="medium",
        mitre=("T1078.004",),
        description="Detects successful console sign-ins by IAM users or root where MFAUsed is \"No\". "
                    "Without MFA a stolen or guessed password is enough to get in. Federated sign-ins are "
                    "excluded (see Notes).",
        false_positives="IAM users that have no MFA device yet (new users, break-glass users) in accounts "
                        "that do not enforce MFA.",
        triage=("Check whether the user has an MFA device: `aws iam list-mfa-devices --user-name NAME`.",
                "Compare the source IP and user agent with this user's other sign-ins.",
                "Require MFA for console users (an IAM policy that denies actions without aws:MultiFactorAuthPresent)."),
        sql="""
            select
                event_time,
                event_name,
                signin_user as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when user_type = 'Root' then 'critical' end as severity,
                concat(signin_user, ' signed in without MFA from ', coalesce(source_ip, '?')) as summary,
                {'user_type': user_type, 'mfa_used': mfa_used, 'user_agent': user_agent} as details
            from console_logins
            where succeeded
              and mfa_used = 'no'
              and user_type in ('IAMUser', 'Root')
              and not federated
        """,
    ),
    Detection(
        id="console_login_failed",
        title="Failed console sign-ins (per user and source IP)",
        severity="low",
        mitre=("T1110",),
        description="Detects failed console sign-ins, one finding per user name and source IP. A failed "
                    "sign-in is evidence of someone trying a password; many of them, or failures followed "
                    "by a success, are reported by the detections below.",
        false_positives="Users mistyping their password.",
        triage=("Check whether the source IP belongs to your organisation.",
                "Look for a later success from the same IP (console_login_succeeded_after_failures)."),
        sql="""
            select
                min(event_time) as event_time,
                'ConsoleLogin' as event_name,
                signin_user as resource,
                signin_user as actor,
                source_ip,
                recipient_account_id as account_id,
                min(aws_region) as region,
                arg_min(event_id, event_time) as event_id,
                coalesce(any_value(error_code), any_value(error_message), 'Failure') as error_code,
                max(event_time) as last_time,
                list(event_id order by event_time) as event_ids,
                case when bool_or(user_type = 'Root') then 'medium' end as severity,
                concat(count(*), ' failed sign-in(s) as ', signin_user, ' from ', coalesce(source_ip, '?')) as summary,
                {'failures': count(*), 'mfa_used': list(distinct mfa_used), 'user_agents': list(distinct user_agent)[:5]} as details
            from console_logins
            where failed
            group by signin_user, source_ip, recipient_account_id
        """,
    ),
    Detection(
        id="console_login_brute_forced_from_ip",
        title="Brute force: many failed sign-ins from one IP",
        severity="high",
        mitre=("T1110.001",),
        description="Detects a source IP with at least brute_force_failures failed console sign-ins "
                    "within brute_force_minutes (see Notes for the values). This is password guessing "
                    "against the account's console.",
        false_positives="A script or a shared office NAT with a misconfigured saved password.",
        triage=("List the user names tried from this IP and whether any sign-in from it succeeded.",
                "Block the IP at the network edge if it is not yours; reset the passwords of targeted users.",
                "Make sure the targeted users have MFA."),
        sql="""
            with failures as (
                select
                    *,
                    count(*) over recent as failures_in_window
                from console_logins
                where failed
                window recent as (
                    partition by source_ip
                    order by event_time
                    range between to_minutes(getvariable('brute_force_minutes')::bigint) preceding and current row
                )
            )
            select
                min(event_time) as event_time,
                'ConsoleLogin' as event_name,
                string_agg(distinct signin_user, ', ') as resource,
                concat('unknown caller at ', coalesce(source_ip, '?')) as actor,
                source_ip,
                string_agg(distinct recipient_account_id, ', ') as account_id,
                min(aws_region) as region,
                arg_min(event_id, event_time) as event_id,
                'Failed authentication' as error_code,
                max(event_time) as last_time,
                list(event_id order by event_time) as event_ids,
                null as severity,
                concat(count(*), ' failed sign-ins from ', coalesce(source_ip, '?'), ' (up to ', max(failures_in_window),
                       ' within ', getvariable('brute_force_minutes'), ' minutes) against ',
                       count(distinct signin_user), ' user name(s)') as summary,
                {'failures': count(*), 'peak_failures_in_window': max(failures_in_window),
                 'users_tried': list(distinct signin_user)} as details
            from failures
            group by source_ip
            having max(failures_in_window) >= getvariable('brute_force_failures')
        """,
    ),
    Detection(
        id="console_password_sprayed_from_ip",
        title="Password spraying: one IP failing against many user names",
        severity="high",
        mitre=("T1110.003",),
        description="Detects a source IP whose failed console sign-ins name at least spray_users "
                    "different users within spray_minutes. Spraying tries a few common passwords "
                    "against many accounts to stay under per-user lockout limits.",
        false_positives="A shared NAT address used by many people who mistype passwords at the same time.",
        triage=("List the user names tried and check which of them exist.",
                "Check for any success from the IP (console_login_succeeded_after_failures).",
                "Reset passwords of the targeted users and enforce MFA."),
        sql="""
            with failures as (
                select
                    *,
                    count(distinct signin_user) over recent as users_in_window
                from console_logins
                where failed
                window recent as (
                    partition by source_ip
                    order by event_time
                    range between to_minutes(getvariable('spray_minutes')::bigint) preceding and current row
                )
            )
            select
                min(event_time) as event_time,
                'ConsoleLogin' as event_name,
                string_agg(distinct signin_user, ', ') as resource,
                concat('unknown caller at ', coalesce(source_ip, '?')) as actor,
                source_ip,
                string_agg(distinct recipient_account_id, ', ') as account_id,
                min(aws_region) as region,
                arg_min(event_id, event_time) as event_id,
                'Failed authentication' as error_code,
                max(event_time) as last_time,
                list(event_id order by event_time) as event_ids,
                null as severity,
                concat(count(distinct signin_user), ' user names failed from ', coalesce(source_ip, '?'),
                       ' (', count(*), ' failures)') as summary,
                {'users_tried': list(distinct signin_user), 'failures': count(*),
                 'peak_users_in_window': max(users_in_window)} as details
            from failures
            group by source_ip
            having max(users_in_window) >= getvariable('spray_users')
        """,
    ),
    Detection(
        id="console_login_brute_forced_on_user",
        title="Brute force against one user",
        severity="medium",
        mitre=("T1110.001",),
        description="Detects a user name with at least brute_force_failures failed console sign-ins "
                    "within brute_force_minutes, from any number of IPs (a distributed guess at one "
                    "user's password).",
        false_positives="A user who forgot a changed password and keeps retrying; a saved password in a browser.",
        triage=("Ask the user whether they were signing in.",
                "Check the source IPs and whether any sign-in for the user succeeded afterwards.",
                "Reset the password and check the user's MFA."),
        sql="""
            with failures as (
                select
                    *,
                    count(*) over recent as failures_in_window
                from console_logins
                where failed
                window recent as (
                    partition by recipient_account_id, signin_user
                    order by event_time
                    range between to_minutes(getvariable('brute_force_minutes')::bigint) preceding and current row
                )
            )
            select
                min(event_time) as event_time,
                'ConsoleLogin' as event_name,
                signin_user as resource,
                signin_user as actor,
                string_agg(distinct source_ip, ', ') as source_ip,
                recipient_account_id as account_id,
                min(aws_region) as region,
                arg_min(event_id, event_time) as event_id,
                'Failed authentication' as error_code,
                max(event_time) as last_time,
                list(event_id order by event_time) as event_ids,
                null as severity,
                concat(count(*), ' failed sign-ins as ', signin_user, ' from ', count(distinct source_ip), ' IP(s)') as summary,
                {'failures': count(*), 'peak_failures_in_window': max(failures_in_window),
                 'source_ips': list(distinct source_ip)} as details
            from failures
            group by recipient_account_id, signin_user
            having max(failures_in_window) >= getvariable('brute_force_failures')
        """,
    ),
    Detection(
        id="console_login_succeeded_as_federated_user",
        title="Console sign-in as a federated user (session minted with GetFederationToken)",
        severity="medium",
        mitre=("T1550.001", "T1078.004"),
        description="Detects successful console sign-ins whose identity type is FederatedUser "
                    "(arn ...:federated-user/NAME). Such a session comes from an IAM user's keys through "
                    "GetFederationToken and GetSigninToken, not from the identity provider or SSO that people "
                    "normally use: it is how stolen access keys become a browser session that outlives the "
                    "keys.",
        false_positives="Federation brokers built on GetFederationToken (rare since IAM Identity Center).",
        triage=("Find the GetFederationToken call that minted the session (federation_token_requested) and the "
                "IAM user behind it.",
                "Review what the federated user did in the console (analyze_actor.py on its ARN).",
                "Deny the IAM user's older sessions (aws:TokenIssueTime) and rotate its keys."),
        sql="""
            select
                event_time,
                event_name,
                signin_user as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                null as severity,
                concat('federated user ', signin_user, ' signed in to the console from ', coalesce(source_ip, '?')) as summary,
                {'user_arn': user_arn, 'user_agent': user_agent, 'mfa_used': mfa_used} as details
            from console_logins
            where succeeded
              and user_type = 'FederatedUser'
        """,
    ),
    Detection(
        id="console_login_succeeded_after_failures",
        title="Successful sign-in from an IP that had just failed",
        severity="high",
        mitre=("T1110", "T1078.004"),
        description="Detects a successful console sign-in from a source IP that had at least "
                    "failures_before_success failed sign-ins in the failures_lookback_minutes before it. "
                    "After guessing or spraying, this is the moment the attacker got in.",
        false_positives="A user who mistyped the password a few times and then got it right.",
        triage=("Ask the signed-in user whether it was them; compare the IP and user agent with their usual ones.",
                "Review everything the user did after this sign-in (analyze_actor.py).",
                "If not them: disable the console password, revoke sessions, and review changes made."),
        sql="""
            with earlier_failures as (
                select
                    s.event_id,
                    count(*) as failures_before,
                    list(f.event_id order by f.event_time) as failure_ids,
                    list(distinct f.signin_user) as users_that_failed,
                    min(f.event_time) as first_failure
                from console_logins as s
                join console_logins_all as f
                  on f.source_ip = s.source_ip
                 and f.failed
                 and f.event_time < s.event_time
                 and f.event_time >= s.event_time - to_minutes(getvariable('failures_lookback_minutes')::bigint)
                where s.succeeded
                group by s.event_id
                having count(*) >= getvariable('failures_before_success')
            )
            select
                s.event_time,
                s.event_name,
                s.signin_user as resource,
                s.actor,
                s.source_ip,
                s.recipient_account_id as account_id,
                s.aws_region as region,
                s.event_id,
                s.error_code,
                s.event_time as last_time,
                e.failure_ids || [s.event_id] as event_ids,
                null as severity,
                concat(s.signin_user, ' signed in from ', s.source_ip, ' after ', e.failures_before,
                       ' failure(s) from that IP', case when s.mfa_used = 'no' then ' (no MFA)' else '' end) as summary,
                {'failures_before': e.failures_before, 'users_that_failed': e.users_that_failed,
                 'first_failure': e.first_failure, 'mfa_used': s.mfa_used} as details
            from console_logins as s
            join earlier_failures as e using (event_id)
            where s.succeeded
        """,
    ),
    Detection(
        id="console_login_from_new_ip",
        title="Sign-in from a source IP not seen before for that user",
        severity="medium",
        mitre=("T1078.004",),
        description="Detects a successful console sign-in from an IP the user had never signed in from "
                    "before, in all the data loaded (not only the window), for users with earlier "
                    "sign-ins. A user's first sign-in in the data has no history to compare and is not "
                    "reported. Federated (SSO, SAML) sign-ins are low: the identity provider checked them, "
                    "and people reach it from many networks.",
        false_positives="Travel, a new office or home connection, a VPN exit that changed.",
        triage=("Compare the new IP with the user's earlier IPs (details list them).",
                "Ask the user; check what they did after signing in."),
        sql="""
            with history as (
                select
                    *,
                    count(*) over (partition by login_identity order by event_time
                                   rows between unbounded preceding and 1 preceding) as earlier_sign_ins,
                    count(*) over (partition by login_identity, source_ip order by event_time
                                   rows between unbounded preceding and 1 preceding) as earlier_from_ip,
                    list(source_ip) over (partition by login_identity order by event_time
                                          rows between unbounded preceding and 1 preceding) as earlier_ips
                from console_logins_all
                where succeeded
            )
            select
                event_time,
                event_name,
                signin_user as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when federated then 'low' end as severity,
                concat(signin_user, ' signed in from new IP ', source_ip, ' (', earlier_sign_ins,
                       ' earlier sign-in(s) from other IPs)') as summary,
                {'earlier_sign_ins': earlier_sign_ins, 'earlier_ips': list_distinct(earlier_ips)[:10],
                 'user_agent': user_agent} as details
            from history
            where in_window(event_time)
              and earlier_sign_ins > 0
              and earlier_from_ip = 0
        """,
    ),
    Detection(
        id="console_mfa_failed",
        title="Console sign-in failed at the MFA step",
        severity="high",
        mitre=("T1110", "T1078.004"),
        description="Detects failed console sign-ins with MFAUsed \"Yes\": the password was accepted and "
                    "the MFA code was not. Whoever tried knows the user's password.",
        false_positives="A user whose MFA device clock drifted, or who typed an old code.",
        triage=("Ask the user whether they were signing in at that time from that IP.",
                "If not, the password is compromised: reset it now and check the MFA device."),
        sql="""
            select
                event_time,
                event_name,
                signin_user as resource,
                signin_user as actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                coalesce(error_code, error_message, 'Failure') as error_code,
                event_time as last_time,
                [event_id] as event_ids,
                null as severity,
                concat('MFA failed for ', signin_user, ' from ', coalesce(source_ip, '?'), ' after the password was accepted') as summary,
                {'mfa_identifier': additional_event_data->>'$.MFAIdentifier', 'user_agent': user_agent} as details
            from console_logins
            where failed
              and mfa_used = 'yes'
        """,
    ),
    Detection(
        id="console_signin_token_requested",
        title="Console session minted from access keys (GetSigninToken)",
        severity="medium",
        mitre=("T1550.001", "T1021.007"),
        description="Detects GetSigninToken calls not made by the AWS SSO portal. The call turns access "
                    "keys or a role session into a console sign-in URL, a way for someone holding stolen "
                    "keys to get a browser session (tools such as aws_consoler do this).",
        false_positives="Internal tools that open console links for engineers from their CLI credentials.",
        triage=("Identify the keys or role behind the call and whether that principal normally uses the console.",
                "Review the console activity that followed from the same source IP."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(session_issuer_arn, user_arn) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                null as severity,
                concat(coalesce(actor, '?'), ' requested a console sign-in token from ', coalesce(source_ip, '?')) as summary,
                {'user_agent': user_agent, 'access_key_id': access_key_id} as details
            from scoped_events
            where event_source = 'signin.amazonaws.com'
              and event_name = 'GetSigninToken'
              and coalesce(user_agent, '') not like 'Jersey/${project.version}%'
        """,
    ),
    Detection(
        id="root_password_changed_or_recovered",
        title="Root password changed or recovery requested",
        severity="high",
        mitre=("T1098",),
        description="Detects root password changes (PasswordUpdated) and password recovery "
                    "(PasswordRecoveryRequested / PasswordRecoveryCompleted). Whoever controls the root "
                    "password and e-mail controls the account; attackers reset it to lock owners out.",
        false_positives="The account owner changing or recovering the root password.",
        triage=("Confirm with the account owner; check the root e-mail address has not changed (EmailUpdated).",
                "Review root activity after the change."),
        sql="""
            select
                event_time,
                event_name,
                concat('root of ', recipient_account_id) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                case when response_elements->>'$.PasswordUpdated' = 'Failure' then 'Failure' else error_code end as error_code,
                event_time as last_time,
                [event_id] as event_ids,
                null as severity,
                concat(event_name, ' for root of ', coalesce(recipient_account_id, '?'), ' from ', coalesce(source_ip, '?')) as summary,
                {'user_type': user_type, 'user_agent': user_agent, 'response': response_elements} as details
            from scoped_events
            where event_source = 'signin.amazonaws.com'
              and event_name in ('PasswordUpdated', 'PasswordRecoveryRequested', 'PasswordRecoveryCompleted')
              and (user_type = 'Root' or event_name like 'PasswordRecovery%')
        """,
    ),
]


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
        common.new_output_path(folder, "console_logins_failures_by_ip", ".png", moment))
    users = con.execute("""
        select signin_user, count(*) from console_logins where failed group by 1 order by 2 desc limit 15
    """).fetchall()
    by_user = charts.bar_chart([u for u, _ in users], [n for _, n in users], "Failed console sign-ins by user name",
                               "failed sign-ins",
                               common.new_output_path(folder, "console_logins_failures_by_user", ".png", moment))
    return [("Failed console sign-ins by source IP", by_ip), ("Failed console sign-ins by user name", by_user)]


def main(argv):
    return common.run_cli(__doc__, argv, lambda args: detections.run_detector(
        args, AREA, DETECTIONS, extra_charts=[failed_sign_in_charts]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
