"""Hunt for IAM persistence and privilege escalation: new users, access keys and console
passwords made for other users, admin policies attached, policies granting every action,
users added to admin groups, role trust opened to outsiders, MFA and permissions boundaries
removed, identity providers changed, root access keys, and the create-admin-user chain.

usage: analyze_iam.py DATABASE [SINCE [UNTIL]]

  DATABASE  case database written by analyze_ingest.py
  SINCE     first moment to look at, ISO date or time in UTC (e.g. 2026-11-01 or 2026-11-01T13:30)
  UNTIL     last moment to look at (a date includes that whole day)

Writes findings to the database (replacing this script's earlier findings), a report
iam_report-YY-MM-DD-HH-MM.md with PNG charts, and an analyst log entry.

thresholds (environment variables):
  CLOUDTRAIL_IAM_CHAIN_MINUTES      minutes after a CreateUser in which the same caller giving the
                                    new user admin rights or credentials counts as one chain (default 30)
  CLOUDTRAIL_IAM_TRUST_PROBES       malformed UpdateAssumeRolePolicy calls by one caller that count
                                    as principal enumeration (default 10)
"""
import re
import sys

import orjson

import casedb
import charts
import common
import detections
from rules.aws_policy import (ACCOUNT_ID, ACCOUNT_IN_ARN, ALL_RESOURCES, WILDCARD_ACTIONS,  # noqa: F401
                               account_of_arn, as_list, is_full_access, outside_principals, read_policy,
                               wildcard_grants)
from detections import Area, Detection, Setting

# IAM events, normalised once. Over all data (a group's admin policy or a customer policy's
# document may be recorded before the window); iam_events is the part inside the window.
#
# target_user / target_role / target_group: what the call acts on, as the request names it;
# NULL when the request names no user, which means the caller itself (a key CreateAccessKey
# makes without userName is the caller's own, whatever responseElements.accessKey.userName
# echoes). A denied call often has requestParameters null; its errorMessage still names the
# target ("... on resource: user bob because ..."). Root's own MFA calls name the user
# "AWS ROOT USER": that is root itself.
# caller_user: the caller's own IAM user name (IAM users only). IAM names are not
# distinguished by case, so they are compared lower-cased on purpose.
SETUP_SQL = """
create or replace view iam_events_all as
select
    *,
    case
        when request_parameters->>'$.userName' = 'AWS ROOT USER' then null
        else coalesce(
            request_parameters->>'$.userName',
            nullif(regexp_extract(error_message,
                'on resource: (?:user |arn:aws[a-z-]*:iam::[0-9]*:user/(?:[^ ]*/)?)([^ /]+)', 1), ''))
    end as target_user,
    coalesce(
        request_parameters->>'$.roleName',
        nullif(regexp_extract(error_message,
            'on resource: (?:role |arn:aws[a-z-]*:iam::[0-9]*:role/(?:[^ ]*/)?)([^ /]+)', 1), '')) as target_role,
    coalesce(
        request_parameters->>'$.groupName',
        nullif(regexp_extract(error_message,
            'on resource: (?:group |arn:aws[a-z-]*:iam::[0-9]*:group/(?:[^ ]*/)?)([^ /]+)', 1), '')) as target_group,
    case
        when user_type = 'IAMUser'
        then coalesce(nullif(regexp_extract(user_arn, ':user/(?:.*/)?([^/]+)$', 1), ''), user_name)
    end as caller_user,
    case
        when user_type = 'AssumedRole' then nullif(regexp_extract(user_arn, '/([^/]+)$', 1), '')
    end as session_name,
    case
        when target_user is null then false
        when caller_user is not null then lower(target_user) <> lower(caller_user)
        else true
    end as targets_other_user
from events
where event_source = 'iam.amazonaws.com';

create or replace view iam_events as
select *
from iam_events_all
where in_window(event_time);
"""

SETTINGS = (
    Setting("iam_chain_minutes", "CLOUDTRAIL_IAM_CHAIN_MINUTES", 30,
            "Minutes after CreateUser in which admin rights or credentials for the new user form a chain"),
    Setting("iam_trust_probes", "CLOUDTRAIL_IAM_TRUST_PROBES", 10,
            "Malformed UpdateAssumeRolePolicy calls by one caller that count as principal enumeration"),
)

AREA = Area(
    name="iam",
    title="IAM report",
    tool="analyze_iam.py",
    activity_sql="""
        select
            date_trunc('minute', event_time) as minute,
            count(*) filter (where error_code is null) as succeeded,
            count(*) filter (where error_code is not null) as failed
        from iam_events
        where event_time is not null
        group by minute
    """,
    activity_title="IAM API calls",
    setup_sql=SETUP_SQL,
    settings=SETTINGS,
    notes=(
        "A denied IAM call is often recorded with requestParameters null. The target user, role or group "
        "is then read from the error message (\"... on resource: user bob ...\"); the policy a denied "
        "Attach*Policy call tried to attach is not recorded at all, so such calls are reported as "
        "attempts with the policy unknown.",
        "IAM user, group, role and policy names are compared ignoring case, as IAM does.",
        "\"Admin-equivalent\" means the AWS managed policies AdministratorAccess, IAMFullAccess and "
        "PowerUserAccess (any partition), or a customer managed policy or inline policy whose document "
        "in this case allows \"*\", \"*:*\", \"iam:*\" or NotAction on every resource.",
        "Only IAM events are charted and analysed here; STS calls (AssumeRole, GetFederationToken) "
        "are not.",
    ),
)

# AWS managed policies that hand over the account (or all of IAM, which leads to the same).
ADMIN_MANAGED_POLICY = re.compile(
    r"^arn:aws[a-z-]*:iam::aws:policy/(AdministratorAccess|IAMFullAccess|PowerUserAccess)$", re.IGNORECASE)
# Group names that announce administrative rights.
PRIVILEGED_GROUP_NAME = re.compile(
    r"admin|superuser|super[-_]user|poweruser|power[-_]user|full[-_]?access|privileged|root", re.IGNORECASE)


# ---------------------------------------------------------------- helpers for find() detections

def _event_rows(con, sql):
    result = con.execute(sql)
    names = [column[0] for column in result.description]
    return [dict(zip(names, values)) for values in result.fetchall()]


_FROM_ROW = object()


def _finding(row, resource, summary, details, severity=None, event_ids=None, last_time=None, error_code=_FROM_ROW):
    """A row of FINDING_COLUMNS for one event (or a group led by it)."""
    return (row["event_time"], row["event_name"], resource, row["actor"], row["source_ip"], row["account_id"],
            row["region"], row["event_id"], row["error_code"] if error_code is _FROM_ROW else error_code,
            last_time or row["event_time"], event_ids or [row["event_id"]], severity, summary, details)


def _target(row):
    """'user/NAME', 'role/NAME' or 'group/NAME' for the thing an event acts on."""
    for kind in ("user", "role", "group"):
        if row.get(f"target_{kind}"):
            return f"{kind}/{row[f'target_{kind}']}"
    return None


def admin_evidence(con):
    """What the whole case shows to be admin-equivalent, successful calls only:
    {'policies': {policy arn (lower): event id}, 'groups': {(account, group lower): why}}."""
    rows = _event_rows(con, """
        select
            event_name,
            event_id,
            recipient_account_id as account_id,
            target_group,
            case
                when event_name = 'CreatePolicy'
                then coalesce(response_elements->>'$.policy.arn',
                              concat('arn:aws:iam::', recipient_account_id, ':policy',
                                     coalesce(request_parameters->>'$.path', '/'), request_parameters->>'$.policyName'))
                else request_parameters->>'$.policyArn'
            end as policy_arn,
            request_parameters->>'$.policyDocument' as policy_document
        from iam_events_all
        where event_name in ('CreatePolicy', 'CreatePolicyVersion', 'AttachGroupPolicy', 'PutGroupPolicy')
          and error_code is null
        order by event_time
    """)
    policies, groups = {}, {}
    for row in rows:
        if row["event_name"] in ("CreatePolicy", "CreatePolicyVersion") and row["policy_arn"]:
            document, _ = read_policy(row["policy_document"])
            if document and is_full_access(wildcard_grants(document)):
                policies.setdefault(row["policy_arn"].lower(), row["event_id"])
    for row in rows:
        if not row["target_group"]:
            continue
        key = (row["account_id"], row["target_group"].lower())
        if row["event_name"] == "AttachGroupPolicy":
            why = _admin_policy(row["policy_arn"], policies)
            if why:
                groups.setdefault(key, f"{why} attached (event {row['event_id']})")
        elif row["event_name"] == "PutGroupPolicy":
            document, _ = read_policy(row["policy_document"])
            if document and is_full_access(wildcard_grants(document)):
                groups.setdefault(key, f"inline policy granting full access (event {row['event_id']})")
    return {"policies": policies, "groups": groups}


def _admin_policy(policy_arn, admin_policies):
    """Why a policy ARN is admin-equivalent, or None."""
    if not policy_arn:
        return None
    if ADMIN_MANAGED_POLICY.match(policy_arn):
        return "AWS managed " + policy_arn.rsplit("/", 1)[-1]
    if policy_arn.lower() in admin_policies:
        return f"customer managed {policy_arn.rsplit('/', 1)[-1]} (created granting full access, event {admin_policies[policy_arn.lower()]})"
    return None


def _privileged_group(account, group, evidence):
    """('high', why) when the case shows the group holds admin rights, ('medium', why) when
    only its name says so, else None."""
    if not group:
        return None
    why = evidence["groups"].get((account, group.lower()))
    if why:
        return "high", why
    if PRIVILEGED_GROUP_NAME.search(group):
        return "medium", "group name looks administrative (no admin policy for it in this case)"
    return None


# ---------------------------------------------------------------- find() detections

def find_admin_policy_attached(con):
    evidence = admin_evidence(con)
    rows = _event_rows(con, """
        select
            event_time, event_name, actor, source_ip, recipient_account_id as account_id, aws_region as region,
            event_id, error_code, target_user, target_role, target_group,
            request_parameters->>'$.policyArn' as policy_arn
        from iam_events
        where event_name in ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy')
    """)
    for row in rows:
        target = _target(row) or "(target not recorded)"
        why = _admin_policy(row["policy_arn"], evidence["policies"])
        if why:
            yield _finding(row, target, f"{why} attached to {target}",
                           {"policy_arn": row["policy_arn"], "why_admin": why})
        elif row["policy_arn"] is None and row["error_code"]:
            yield _finding(row, target, f"denied attempt to attach a managed policy to {target} "
                                        "(CloudTrail did not record which policy)",
                           {"policy_arn": None, "why_admin": "unknown: the denied call's parameters were not recorded"},
                           severity="medium")


POLICY_WRITES = ("PutUserPolicy", "PutRolePolicy", "PutGroupPolicy", "CreatePolicyVersion", "CreatePolicy")


# CloudTrail replaces requestParameters that are too large with {"omitted": true, "reason": ...}.
OMITTED_NOTE_SQL = """
    case when request_parameters->>'$.omitted' = 'true'
         then concat('CloudTrail omitted requestParameters (', coalesce(request_parameters->>'$.reason', 'no reason given'),
                     ', original size ', coalesce(request_parameters->>'$.originalSize', '?'), ' bytes)')
    end as omitted_note
"""


def find_wildcard_policies(con):
    rows = _event_rows(con, f"""
        select
            event_time, event_name, actor, source_ip, recipient_account_id as account_id, aws_region as region,
            event_id, error_code, target_user, target_role, target_group,
            coalesce(request_parameters->>'$.policyArn', request_parameters->>'$.policyName') as policy,
            request_parameters->>'$.policyDocument' as policy_document,
            coalesce(request_parameters->>'$.setAsDefault' = 'true', false) as set_as_default,
            {OMITTED_NOTE_SQL}
        from iam_events
        where event_name in ('PutUserPolicy', 'PutRolePolicy', 'PutGroupPolicy', 'CreatePolicyVersion', 'CreatePolicy')
    """)
    for row in rows:
        # Inline policies live on a user, role or group; managed policies are their own resource.
        resource = (_target(row) if row["event_name"].startswith("Put") else row["policy"]) or "(not recorded)"
        if not row["policy"] or row["policy"] == resource:
            name = resource if row["policy"] else "target not recorded"
        else:
            name = f"policy {row['policy']} on {resource}"
        document, problem = read_policy(row["policy_document"])
        if document is None:
            problem = row["omitted_note"] or problem
            yield _finding(row, resource, f"{row['event_name']} ({name}): document could not be read - {problem}",
                           {"policy": row["policy"], "unparseable": problem}, severity="low")
            continue
        grants = wildcard_grants(document)
        if not grants:
            continue
        full = is_full_access(grants)
        severity = ("medium" if row["event_name"] == "CreatePolicy" else "high") if full else "medium"
        actions = sorted({a for g in grants for a in g["actions"]})
        scope = "every resource" if full else "specific resources only"
        yield _finding(row, resource, f"{row['event_name']} ({name}) allows {', '.join(actions)} on {scope}"
                                      + (", set as the default version" if row["set_as_default"] else ""),
                       {"policy": row["policy"], "grants": grants, "full_access": full,
                        "set_as_default": row["set_as_default"]},
                       severity=severity)


def find_federation_tokens(con):
    """GetFederationToken calls, rated by the permissions the token's session policies give."""
    rows = _event_rows(con, """
        select
            event_time, event_name, actor, source_ip, recipient_account_id as account_id, aws_region as region,
            event_id, error_code,
            request_parameters->>'$.name' as token_name,
            request_parameters->>'$.policy' as policy,
            request_parameters->'$.policyArns' as policy_arns,
            request_parameters->>'$.durationSeconds' as duration_seconds
        from scoped_events
        where event_source = 'sts.amazonaws.com'
          and event_name = 'GetFederationToken'
    """)
    for row in rows:
        arns = [item.get("arn") if isinstance(item, dict) else item
                for item in as_list(orjson.loads(row["policy_arns"]) if row["policy_arns"] else None)]
        admin_arns = [arn for arn in arns if isinstance(arn, str) and ADMIN_MANAGED_POLICY.match(arn)]
        document, problem = read_policy(row["policy"]) if row["policy"] else (None, None)
        full = bool(document) and is_full_access(wildcard_grants(document))
        # Without a session policy the federated session has no permissions at all (AWS STS docs).
        severity = "high" if admin_arns or full else ("low" if not row["policy"] and not arns else None)
        grants = "admin-equivalent permissions" if admin_arns or full else \
            "no session policy (no permissions)" if not row["policy"] and not arns else "a scoped session policy"
        name = row["token_name"] or "(name not recorded)"
        yield _finding(row, f"federated-user/{name}",
                       f"{row['actor'] or '?'} requested federation token {name} with {grants}",
                       {"name": row["token_name"], "duration_seconds": row["duration_seconds"],
                        "policy_arns": arns, "admin_policy_arns": admin_arns, "inline_policy_full_access": full,
                        "inline_policy_unreadable": problem}, severity=severity)


def find_privileged_group_additions(con):
    evidence = admin_evidence(con)
    rows = _event_rows(con, """
        select
            event_time, event_name, actor, source_ip, recipient_account_id as account_id, aws_region as region,
            event_id, error_code, target_user, target_group
        from iam_events
        where event_name = 'AddUserToGroup'
    """)
    for row in rows:
        verdict = _privileged_group(row["account_id"], row["target_group"], evidence)
        if not verdict:
            continue
        severity, why = verdict
        user = row["target_user"] or "(user not recorded)"
        yield _finding(row, f"group/{row['target_group']}", f"user {user} added to group {row['target_group']}: {why}",
                       {"user": row["target_user"], "group": row["target_group"], "why_privileged": why},
                       severity=None if severity == "high" else severity)


TRUST_ROWS_SQL = f"""
    select
        event_time, event_name, actor, source_ip, recipient_account_id as account_id, aws_region as region,
        event_id, error_code, target_role,
        coalesce(request_parameters->>'$.policyDocument', request_parameters->>'$.assumeRolePolicyDocument') as policy_document,
        {OMITTED_NOTE_SQL}
    from iam_events
    where event_name in ('UpdateAssumeRolePolicy', 'CreateRole')
      and coalesce(error_code, '') not like 'MalformedPolicyDocument%'
"""


def _trust_verdicts(con):
    for row in _event_rows(con, TRUST_ROWS_SQL):
        document, problem = read_policy(row["policy_document"])
        outsiders = outside_principals(document, row["account_id"]) if document else []
        yield row, problem and (row["omitted_note"] or problem), outsiders


def find_trust_opened(con):
    for row, _, outsiders in _trust_verdicts(con):
        if not outsiders:
            continue
        open_to_anyone = [p for p in outsiders if p[0] == "anyone"]
        severity = "critical" if any(not conditioned for _, _, conditioned in open_to_anyone) else None
        role = f"role/{row['target_role'] or '?'}"
        who = "; ".join(f"{kind}: {principal}" + (" (with Condition)" if conditioned else "")
                        for kind, principal, conditioned in outsiders[:5])
        verb = "created trusting" if row["event_name"] == "CreateRole" else "trust policy now admits"
        yield _finding(row, role, f"{role} {verb} {who}",
                       {"outside_principals": [{"kind": k, "principal": p, "condition": c} for k, p, c in outsiders],
                        "role_account": row["account_id"]}, severity=severity)


def find_trust_changed(con):
    for row, problem, outsiders in _trust_verdicts(con):
        if row["event_name"] != "UpdateAssumeRolePolicy" or outsiders:
            continue
        role = f"role/{row['target_role'] or '?'}"
        summary = f"trust policy of {role} changed" + (f" ({problem})" if problem else " (principals inside the account or AWS services)")
        yield _finding(row, role, summary, {"unparseable": problem} if problem else {"outside_principals": []})


CHAIN_SQL = """
    select
        c.event_id as created_id,
        c.target_user as new_user,
        f.event_time, f.event_name, f.actor, f.source_ip, f.recipient_account_id as account_id,
        f.aws_region as region, f.event_id, f.error_code, f.target_user, f.target_group,
        f.request_parameters->>'$.policyArn' as policy_arn,
        f.request_parameters->>'$.policyDocument' as policy_document
    from iam_events as c
    join iam_events_all as f
      on f.recipient_account_id = c.recipient_account_id
     and f.actor = c.actor
     and lower(f.target_user) = lower(c.target_user)
     and f.event_time >= c.event_time
     and f.event_time <= c.event_time + to_minutes(getvariable('iam_chain_minutes')::bigint)
    where c.event_name = 'CreateUser'
      and c.error_code is null
      and f.event_name in ('AttachUserPolicy', 'PutUserPolicy', 'AddUserToGroup', 'CreateAccessKey', 'CreateLoginProfile')
    order by f.event_time, f.event_id
"""


def find_create_admin_chain(con):
    evidence = admin_evidence(con)
    created = {row["event_id"]: row for row in _event_rows(con, """
        select
            event_time, event_name, actor, source_ip, recipient_account_id as account_id, aws_region as region,
            event_id, error_code, target_user
        from iam_events
        where event_name = 'CreateUser'
          and error_code is null
    """)}
    steps = {}
    for row in _event_rows(con, CHAIN_SQL):
        steps.setdefault(row["created_id"], []).append(row)
    for created_id, followed in steps.items():
        start = created[created_id]
        admin, credentials = [], []
        for step in followed:
            if step["event_name"] == "AttachUserPolicy":
                why = _admin_policy(step["policy_arn"], evidence["policies"])
            elif step["event_name"] == "PutUserPolicy":
                document, _ = read_policy(step["policy_document"])
                why = "inline policy granting full access" if document and is_full_access(wildcard_grants(document)) else None
            elif step["event_name"] == "AddUserToGroup":
                verdict = _privileged_group(step["account_id"], step["target_group"], evidence)
                why = f"added to group {step['target_group']} ({verdict[1]})" if verdict else None
            else:
                why = None
            if why:
                admin.append((step, why))
            elif step["event_name"] in ("CreateAccessKey", "CreateLoginProfile"):
                credentials.append((step, "access key" if step["event_name"] == "CreateAccessKey" else "console password"))
        if not admin and not credentials:
            continue
        succeeded = [s for s, _ in admin + credentials if s["error_code"] is None]
        error_code = None if succeeded else (admin + credentials)[0][0]["error_code"]
        admin_ok = any(s["error_code"] is None for s, _ in admin)
        credentials_ok = any(s["error_code"] is None for s, _ in credentials)
        severity = None if admin_ok and credentials_ok else "high"
        user = start["target_user"]
        gave = [why for _, why in admin] + [why for _, why in credentials]
        yield _finding(start, f"user/{user}",
                       f"{start['actor']} created user {user}, then gave it: "
                       + "; ".join(dict.fromkeys(gave)) + ("" if succeeded else " (every step was denied)"),
                       {"new_user": user,
                        "steps": [{"event": s["event_name"], "event_id": s["event_id"], "time": s["event_time"],
                                   "error_code": s["error_code"], "policy_arn": s["policy_arn"],
                                   "group": s["target_group"]} for s in followed],
                        "admin_rights": [why for _, why in admin], "credentials": [why for _, why in credentials]},
                       severity=severity, event_ids=[created_id] + [s["event_id"] for s in followed],
                       last_time=followed[-1]["event_time"], error_code=error_code)


# ---------------------------------------------------------------- the detections

DETECTIONS = [
    Detection(
        id="iam_user_created",
        title="IAM user created (or attempted)",
        severity="medium",
        mitre=("T1136.003",),
        description="Detects CreateUser calls, successful or denied. A new IAM user with its own long-term "
                    "credentials is the most common way attackers keep access to an account after the "
                    "credentials they came in with are revoked; a denied attempt shows someone tried.",
        false_positives="Administrators provisioning users by hand; infrastructure as code "
                        "(calls invoked by cloudformation.amazonaws.com are reported as low).",
        triage=("Ask the owner of the calling identity whether the user was expected.",
                "Check what was done to the new user next: `select event_time, event_name, request_parameters "
                "from iam_events where lower(target_user) = lower('NAME') order by event_time`.",
                "If unexpected, delete the user's keys and login profile, then the user."),
        sql="""
            select
                event_time,
                event_name,
                concat('user/', coalesce(target_user, '(not recorded)')) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when invoked_by = 'cloudformation.amazonaws.com' and error_code is null then 'low' end as severity,
                concat(coalesce(actor, '?'), case when error_code is null then ' created' else ' tried to create' end,
                       ' IAM user ', coalesce(target_user, '(not recorded)')) as summary,
                {'user_type': user_type, 'user_agent': user_agent, 'invoked_by': invoked_by,
                 'path': request_parameters->>'$.path'} as details
            from iam_events
            where event_name = 'CreateUser'
        """,
    ),
    Detection(
        id="access_key_created_for_another_user",
        title="Access key created for another user (backdoor keys)",
        severity="high",
        mitre=("T1098.001",),
        description="Detects CreateAccessKey calls that make a key for an IAM user other than the caller. "
                    "Whoever holds the new key acts as that user, so creating keys for someone else is how "
                    "attackers plant credentials that survive the loss of their own. Denied attempts are "
                    "included.",
        false_positives="Administrators or automation (working through a role) issuing keys to service users. "
                        "A role session whose name equals the target user is reported as medium: it may be "
                        "that person working through a role.",
        triage=("Ask the target user whether they expected a new key.",
                "Look for the new key (details access_key_id) being used: "
                "`select event_time, event_name, source_ip from events where access_key_id = 'AKIA...'`.",
                "If unexpected, deactivate and delete the key, and review the caller's other actions."),
        sql="""
            select
                event_time,
                event_name,
                concat('user/', target_user) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when lower(session_name) = lower(target_user) then 'medium' end as severity,
                concat(coalesce(actor, '?'), case when error_code is null then ' created' else ' tried to create' end,
                       ' an access key for user ', target_user) as summary,
                {'target_user': target_user, 'caller_type': user_type,
                 'access_key_id': response_elements->>'$.accessKey.accessKeyId', 'user_agent': user_agent} as details
            from iam_events
            where event_name = 'CreateAccessKey'
              and targets_other_user
        """,
    ),
    Detection(
        id="access_key_created",
        title="Access key created by an IAM user for itself",
        severity="low",
        mitre=("T1098.001",),
        description="Detects CreateAccessKey calls that make a key for the calling IAM user itself (keys "
                    "for other users and root's own keys have their own detections). Someone holding a "
                    "user's stolen key often makes a second key so that revoking the first does not lock "
                    "them out.",
        false_positives="Users rotating their own keys.",
        triage=("Check whether the user also deleted or deactivated an old key around this time (rotation).",
                "Compare the source IP and user agent with the user's usual ones."),
        sql="""
            select
                event_time,
                event_name,
                concat('user/', coalesce(target_user, caller_user, response_elements->>'$.accessKey.userName', '(not recorded)')) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                null as severity,
                concat(coalesce(actor, '?'), case when error_code is null then ' created' else ' tried to create' end,
                       ' an access key for itself') as summary,
                {'access_key_id': response_elements->>'$.accessKey.accessKeyId', 'caller_key': access_key_id,
                 'user_agent': user_agent} as details
            from iam_events
            where event_name = 'CreateAccessKey'
              and not targets_other_user
              and coalesce(user_type, '') <> 'Root'
        """,
    ),
    Detection(
        id="root_access_key_created",
        title="Access key created for the root user",
        severity="critical",
        mitre=("T1098.001", "T1078.004"),
        description="Detects the root user creating an access key for itself. Root keys carry every "
                    "permission in the account and no policy can limit them; AWS advises never to have "
                    "any, so a new one is either a grave mistake or an attacker with root keeping access.",
        false_positives="Almost none: a few legacy tools that still require root keys.",
        triage=("Ask the account owner; root sign-in or keys should be known to them.",
                "Delete the key now if it is not needed, and review everything root did: "
                "`select * from events where user_type = 'Root' order by event_time`.",
                "Rotate the root password and check its MFA device."),
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
                null as severity,
                concat('root ', case when error_code is null then 'created' else 'tried to create' end,
                       ' an access key for itself from ', coalesce(source_ip, '?')) as summary,
                {'access_key_id': response_elements->>'$.accessKey.accessKeyId', 'invoked_by': invoked_by,
                 'user_agent': user_agent} as details
            from iam_events
            where event_name = 'CreateAccessKey'
              and user_type = 'Root'
              and target_user is null
        """,
    ),
    Detection(
        id="login_profile_set_for_another_user",
        title="Console password created or changed for another user",
        severity="high",
        mitre=("T1098.001",),
        description="Detects CreateLoginProfile and UpdateLoginProfile calls on an IAM user other than the "
                    "caller. Setting someone else's console password lets the caller sign in as that user "
                    "(a takeover of an existing user, or console access for a backdoor user). Denied "
                    "attempts are included. With passwordResetRequired, or from a role session named like "
                    "the target user, it is reported as medium.",
        false_positives="Help-desk password resets (usually with passwordResetRequired); administrators "
                        "enabling console access for new staff.",
        triage=("Ask the target user whether their password was reset for them.",
                "Look for console sign-ins as the target user afterwards "
                "(`select * from events where event_name = 'ConsoleLogin' and user_name = 'NAME'`).",
                "If unexpected, reset the password, sign the user out (revoke sessions) and check their MFA."),
        sql="""
            select
                event_time,
                event_name,
                concat('user/', target_user) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case
                    when request_parameters->>'$.passwordResetRequired' = 'true' then 'medium'
                    when lower(session_name) = lower(target_user) then 'medium'
                end as severity,
                concat(coalesce(actor, '?'),
                       case when error_code is not null then ' tried to set'
                            when event_name = 'CreateLoginProfile' then ' created'
                            else ' changed' end,
                       ' the console password of user ', target_user,
                       case when request_parameters->>'$.passwordResetRequired' = 'true'
                            then ' (reset required at next sign-in)' else '' end) as summary,
                {'target_user': target_user, 'caller_type': user_type,
                 'password_reset_required': request_parameters->>'$.passwordResetRequired',
                 'user_agent': user_agent} as details
            from iam_events
            where event_name in ('CreateLoginProfile', 'UpdateLoginProfile')
              and targets_other_user
        """,
    ),
    Detection(
        id="admin_policy_attached",
        title="Admin-equivalent managed policy attached to a user, role or group",
        severity="high",
        mitre=("T1098.003",),
        description="Detects AttachUserPolicy, AttachRolePolicy and AttachGroupPolicy with "
                    "AdministratorAccess, IAMFullAccess or PowerUserAccess (any AWS partition), or with a "
                    "customer managed policy that this case shows was created granting every action on "
                    "every resource. This hands the target full control of the account. Denied attaches "
                    "whose policy CloudTrail did not record are reported as medium attempts.",
        false_positives="Administrators granting admin rights on purpose (break-glass roles, new admins).",
        triage=("Confirm with the caller's owner that the target should be an administrator.",
                "Review what the target did after the attach (analyze_actor.py).",
                "If unexpected, detach the policy and investigate how the caller got permission to attach it."),
        find=find_admin_policy_attached,
    ),
    Detection(
        id="policy_granted_wildcard_access",
        title="Inline policy or policy version allows every action",
        severity="high",
        mitre=("T1098.003",),
        description="Detects PutUserPolicy, PutRolePolicy, PutGroupPolicy, CreatePolicyVersion and "
                    "CreatePolicy whose document has an Allow statement with Action \"*\", \"*:*\" or "
                    "\"iam:*\", or NotAction. On every resource this is administrator access written "
                    "directly into a policy, which attackers use because it does not show as an attached "
                    "AdministratorAccess. One finding per call, all such statements listed. A document "
                    "CloudTrail truncated or did not record is reported as low, unreadable.",
        false_positives="Administrators writing broad policies for break-glass or sandbox roles; "
                        "a wildcard limited to specific resources (reported as medium).",
        triage=("Read the document in details and decide whether the grant is intended.",
                "For CreatePolicyVersion, check whether it became the default version (details set_as_default, "
                "or a later SetDefaultPolicyVersion).",
                "If unexpected, delete the inline policy or revert to the previous version."),
        find=find_wildcard_policies,
    ),
    Detection(
        id="user_added_to_privileged_group",
        title="User added to an administrative group",
        severity="high",
        mitre=("T1098.003",),
        description="Detects AddUserToGroup where the group has an admin-equivalent policy somewhere in "
                    "this case (high), or only a name that looks administrative such as admins or "
                    "PowerUsers (medium). Group membership gives the user every right of the group without "
                    "any policy change on the user itself.",
        false_positives="Onboarding of new administrators.",
        triage=("Confirm the user should be an administrator.",
                "Check when the user was created and by whom; a new user added to an admin group is a backdoor.",
                "If unexpected, remove the user from the group (RemoveUserFromGroup)."),
        find=find_privileged_group_additions,
    ),
    Detection(
        id="role_trust_granted_to_outside_principal",
        title="Role trust policy admits another account or anyone",
        severity="high",
        mitre=("T1098.003",),
        description="Detects UpdateAssumeRolePolicy and CreateRole whose trust policy lets a principal "
                    "outside the role's account assume the role: another account id, \"*\" or NotPrincipal "
                    "(critical without a Condition), or a public web identity provider without a Condition. "
                    "Trusting an attacker's account is a backdoor that needs no credentials in the victim "
                    "account at all.",
        false_positives="Cross-account roles for your own other accounts, vendors and auditors "
                        "(compare the account ids with your organisation's).",
        triage=("Check whether the account ids in details belong to your organisation or a known vendor.",
                "Look for AssumeRole calls into this role from those accounts "
                "(`select * from events where event_name = 'AssumeRole' and request_parameters->>'$.roleArn' like '%ROLE'`).",
                "If unexpected, restore the trust policy and review the role's permissions."),
        find=find_trust_opened,
    ),
    Detection(
        id="role_trust_policy_changed",
        title="Role trust policy changed (within the account)",
        severity="medium",
        mitre=("T1098.003",),
        description="Detects UpdateAssumeRolePolicy calls whose new trust policy admits only principals "
                    "in the role's own account or AWS services, or could not be read. Changing who may "
                    "assume a role can give a principal the attacker controls the role's permissions. "
                    "Changes that admit outsiders are reported by role_trust_granted_to_outside_principal; "
                    "malformed-document failures by principals_enumerated_via_trust_policy.",
        false_positives="Routine role maintenance and infrastructure as code.",
        triage=("Compare the new trust policy with the role's previous one (earlier UpdateAssumeRolePolicy or CreateRole).",
                "Check whether the newly trusted principal is one the caller controls."),
        find=find_trust_changed,
    ),
    Detection(
        id="principals_enumerated_via_trust_policy",
        title="Principal enumeration through failed trust policy updates",
        severity="medium",
        mitre=("T1087.004",),
        description="Detects a caller with at least iam_trust_probes UpdateAssumeRolePolicy calls rejected "
                    "as MalformedPolicyDocument. Tools such as Pacu's iam__enum_roles write trust policies "
                    "naming guessed users and roles of another account; IAM rejects the ones that do not "
                    "exist, which tells the caller which do.",
        false_positives="A deployment tool retrying a broken trust policy.",
        triage=("Check the caller's identity and whether it normally edits role trust.",
                "Treat the caller's credentials as compromised if the burst is unexplained."),
        sql="""
            select
                min(event_time) as event_time,
                'UpdateAssumeRolePolicy' as event_name,
                string_agg(distinct concat('role/', coalesce(target_role, '?')), ', ') as resource,
                actor,
                string_agg(distinct source_ip, ', ') as source_ip,
                recipient_account_id as account_id,
                min(aws_region) as region,
                arg_min(event_id, event_time) as event_id,
                min(error_code) as error_code,
                max(event_time) as last_time,
                list(event_id order by event_time) as event_ids,
                null as severity,
                concat(count(*), ' trust policy updates by ', coalesce(actor, '?'),
                       ' rejected as malformed (principal enumeration)') as summary,
                {'failures': count(*), 'roles': list(distinct target_role)[:10],
                 'user_agents': list(distinct user_agent)[:5]} as details
            from iam_events
            where event_name = 'UpdateAssumeRolePolicy'
              and error_code like 'MalformedPolicyDocument%'
            group by actor, recipient_account_id
            having count(*) >= getvariable('iam_trust_probes')
        """,
    ),
    Detection(
        id="mfa_device_deactivated",
        title="MFA device deactivated or deleted",
        severity="medium",
        mitre=("T1556.006",),
        description="Detects DeactivateMFADevice and DeleteVirtualMFADevice. Removing a user's MFA leaves "
                    "only the password between an attacker and the console; attackers do it before "
                    "registering their own device. Root's MFA is reported as high, a user's own device "
                    "as low (device replacement).",
        false_positives="Users replacing a lost or new phone (deactivate, delete, then create and enable a new device).",
        triage=("Check whether a new MFA device was enabled for the same user soon after (EnableMFADevice).",
                "Ask the user; if they did not do it, reset their password and re-register MFA."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(request_parameters->>'$.serialNumber', 'user/' || target_user, '(not recorded)') as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case
                    when user_type = 'Root'
                      or coalesce(request_parameters->>'$.serialNumber' like '%:mfa/root-account-mfa-device', false)
                        then 'high'
                    when targets_other_user then null
                    when event_name = 'DeactivateMFADevice' then 'low'
                end as severity,
                concat(coalesce(actor, '?'), case when error_code is null then ' ran ' else ' tried ' end, event_name,
                       ' on ', coalesce(request_parameters->>'$.serialNumber', 'user ' || target_user, 'an unrecorded device')) as summary,
                {'target_user': target_user, 'serial_number': request_parameters->>'$.serialNumber',
                 'caller_type': user_type, 'user_agent': user_agent} as details
            from iam_events
            where event_name in ('DeactivateMFADevice', 'DeleteVirtualMFADevice')
        """,
    ),
    Detection(
        id="permissions_boundary_removed",
        title="Permissions boundary removed from a user or role",
        severity="high",
        mitre=("T1098.003", "T1548"),
        description="Detects DeleteUserPermissionsBoundary and DeleteRolePermissionsBoundary. A permissions "
                    "boundary caps what a user or role can do whatever its policies say; removing it "
                    "releases every permission its policies grant, a known escalation path.",
        false_positives="Administrators restructuring delegated administration.",
        triage=("Check which boundary was in place (the last Put*PermissionsBoundary for the target).",
                "Review what the target did after the removal; put the boundary back if unexpected."),
        sql="""
            select
                event_time,
                event_name,
                coalesce('user/' || target_user, 'role/' || target_role, '(not recorded)') as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                null as severity,
                concat(coalesce(actor, '?'), case when error_code is null then ' removed' else ' tried to remove' end,
                       ' the permissions boundary of ',
                       coalesce('user ' || target_user, 'role ' || target_role, 'an unrecorded target')) as summary,
                {'caller_type': user_type, 'user_agent': user_agent} as details
            from iam_events
            where event_name in ('DeleteUserPermissionsBoundary', 'DeleteRolePermissionsBoundary')
        """,
    ),
    Detection(
        id="identity_provider_changed",
        title="SAML or OIDC identity provider created, changed or deleted",
        severity="high",
        mitre=("T1484.002",),
        description="Detects changes to the account's SAML and OpenID Connect identity providers. Whoever "
                    "controls a trusted identity provider can sign in as any role that trusts it, with no "
                    "IAM credentials at all (the cloud form of a forged-token attack). Creating or "
                    "updating a provider is high; deleting one, or removing a client id, is medium. "
                    "Changes made by IAM Identity Center through its service-linked role "
                    "(AWSServiceRoleForSSO, which only that service can use) are left out: it manages its "
                    "own providers in every account it is assigned to.",
        false_positives="Setting up SSO or rotating its signing certificate; OIDC providers for CI systems "
                        "(GitHub Actions, GitLab) added by platform teams.",
        triage=("Check the provider's metadata or URL in details against your identity provider.",
                "List roles trusting this provider and any AssumeRoleWithSAML / AssumeRoleWithWebIdentity afterwards."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(request_parameters->>'$.sAMLProviderArn', response_elements->>'$.sAMLProviderArn',
                         request_parameters->>'$.openIDConnectProviderArn',
                         response_elements->>'$.openIDConnectProviderArn',
                         request_parameters->>'$.name', request_parameters->>'$.url', '(not recorded)') as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when event_name like 'Delete%' or event_name like 'Remove%' then 'medium' end as severity,
                concat(coalesce(actor, '?'), case when error_code is null then ' ran ' else ' tried ' end, event_name,
                       case when request_parameters->>'$.url' is not null
                            then concat(' for ', request_parameters->>'$.url') else '' end) as summary,
                {'url': request_parameters->>'$.url', 'name': request_parameters->>'$.name',
                 'client_ids': request_parameters->'$.clientIDList',
                 'metadata_document_start': left(request_parameters->>'$.sAMLMetadataDocument', 200),
                 'user_agent': user_agent} as details
            from iam_events
            where event_name in ('CreateSAMLProvider', 'UpdateSAMLProvider', 'DeleteSAMLProvider',
                                 'CreateOpenIDConnectProvider', 'DeleteOpenIDConnectProvider',
                                 'UpdateOpenIDConnectProviderThumbprint', 'AddClientIDToOpenIDConnectProvider',
                                 'RemoveClientIDFromOpenIDConnectProvider')
              and coalesce(session_issuer_arn not like '%:role/aws-service-role/sso.amazonaws.com/%', true)
        """,
    ),
    Detection(
        id="iam_user_created_with_admin_or_keys",
        title="New IAM user given admin rights and/or credentials by its creator",
        severity="critical",
        mitre=("T1136.003", "T1098.001", "T1098.003"),
        description="Detects the create-admin-user chain as one finding: a successful CreateUser followed, "
                    "by the same caller within iam_chain_minutes, by admin rights for the new user "
                    "(an admin-equivalent managed policy, an inline policy granting every action, or an "
                    "administrative group) and/or credentials for it (an access key or console password). "
                    "Critical when both admin rights and credentials were given; high when only one was. "
                    "Every event of the chain is listed.",
        false_positives="Administrators creating a new admin by hand; provisioning scripts creating "
                        "service users with keys (high, not critical).",
        triage=("Ask the caller's owner whether they created this user.",
                "Look for use of the new user's key or console sign-ins as the user.",
                "If unexpected: delete the user's keys and login profile, detach its policies, delete the "
                "user, and investigate the caller's credentials."),
        find=find_create_admin_chain,
    ),
    Detection(
        id="access_key_quarantined_by_aws",
        title="AWS quarantined an exposed access key (or the quarantine was removed)",
        severity="high",
        mitre=("T1552.001", "T1078.004"),
        description="Detects the AWSCompromisedKeyQuarantine policies (any version) being attached to or put "
                    "on a user, and their removal. AWS applies them when it finds a user's access key "
                    "exposed in public (for example in a public code repository): the key must be treated "
                    "as stolen, and anyone may have used it before the quarantine. Removing the "
                    "quarantine while the key is still active gives a key thief back its full rights.",
        false_positives="The account owner removing the quarantine after deleting the exposed key.",
        triage=("Find the exposed key in the AWS support case and delete it (not only deactivate).",
                "Review everything the key did before the quarantine: "
                "`select * from events where user_name = 'NAME' order by event_time`."),
        sql="""
            select
                event_time,
                event_name,
                coalesce('user/' || target_user, 'role/' || target_role, 'group/' || target_group,
                         '(not recorded)') as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                null as severity,
                concat(coalesce(request_parameters->>'$.policyName',
                                regexp_extract(request_parameters->>'$.policyArn', '[^/]+$')),
                       case when event_name like 'Detach%' or event_name like 'Delete%'
                            then ' quarantine removed from ' else ' quarantine applied to ' end,
                       coalesce(target_user, target_role, target_group, '(not recorded)')) as summary,
                {'policy': coalesce(request_parameters->>'$.policyArn', request_parameters->>'$.policyName'),
                 'caller_type': user_type} as details
            from iam_events
            where event_name in ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy',
                                 'DetachUserPolicy', 'DetachRolePolicy', 'DetachGroupPolicy',
                                 'PutUserPolicy', 'DeleteUserPolicy')
              and (regexp_matches(coalesce(request_parameters->>'$.policyArn', ''),
                                  '^arn:aws[a-z-]*:iam::aws:policy/AWSCompromisedKeyQuarantine')
                   or regexp_matches(coalesce(request_parameters->>'$.policyName', ''),
                                     '^(AWSExposedCredentialPolicy_DO_NOT_REMOVE|AWSCompromisedKeyQuarantine)'))
        """,
    ),
    Detection(
        id="federation_token_requested",
        title="Federation token requested (GetFederationToken)",
        severity="medium",
        mitre=("T1550.001", "T1078.004"),
        description="Detects sts GetFederationToken calls. An IAM user's keys can mint federated sessions "
                    "that last up to 36 hours, survive the deletion of the keys that made them, and can be "
                    "turned into console sessions (GetSigninToken); attackers use them to keep access after "
                    "a leaked key is rotated. High when the session policies grant admin-equivalent access, "
                    "low when there is no session policy (such a session has no permissions).",
        false_positives="Older federation brokers and internal tools that hand out temporary credentials this way.",
        triage=("Check whether the calling user normally mints federation tokens (analyze_actor.py on it).",
                "Look for calls and console sign-ins by arn:aws:sts::ACCOUNT:federated-user/NAME afterwards.",
                "If unexpected, attach to the calling user a policy denying every action with the condition "
                "aws:TokenIssueTime before now: a federated session never has more rights than its user, so "
                "this ends the tokens it minted."),
        find=find_federation_tokens,
    ),
]


# ---------------------------------------------------------------- charts

def write_calls_by_actor_chart(con, outcomes, folder, moment):
    """Horizontal bars: IAM write calls per caller, succeeded and failed stacked. A role's
    sessions are counted together under the role, so one busy role is one bar, not hundreds."""
    found = casedb.rows(con, """
        select
            coalesce(case when user_type = 'AssumedRole' then session_issuer_arn end, actor, '(unknown)') as who,
            count(*) filter (where error_code is null) as succeeded,
            count(*) filter (where error_code is not null) as failed
        from iam_events
        where not coalesce(read_only, regexp_matches(event_name, '^(Get|List|Generate|Simulate)'))
        group by who
        order by count(*) desc, who
        limit 15
    """)
    if not found:
        return []
    path = charts.stacked_bar_chart(
        [common.short_identity(who) for who, _, _ in found],
        [("succeeded", [ok for _, ok, _ in found], "#8fb0d6"),
         ("failed (denied or errored)", [bad for _, _, bad in found], "#f0a04b")],
        "IAM write calls by caller: succeeded and failed",
        "IAM write calls (create, attach, put, update, delete, ...)",
        common.new_output_path(folder, "iam_write_calls_by_actor", ".png", moment), label_limit=55, totals=True)
    return [("IAM write calls by caller (a role's sessions counted under the role), succeeded and failed", path)]


def main(argv):
    return common.run_cli(__doc__, argv, lambda args: detections.run_detector(
        args, AREA, DETECTIONS, extra_charts=[write_calls_by_actor_chart]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
