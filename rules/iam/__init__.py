"""IAM persistence and privilege escalation: new users, access keys and console passwords made
for other users, admin policies attached, policies granting every action, users added to admin
groups, role trust opened to outsiders, MFA and permissions boundaries removed, identity
providers changed, root access keys, quarantined keys, federation tokens, and the
create-admin-user chain.

The detections are the .sql files beside this module; views.sql defines iam_events_all (every
IAM event, with the user, role or group it acts on) and iam_events (the part inside the run's
window). The rules that read policy documents are Python (`python:` in their header): the
functions below, using rules.aws_policy.
"""
import re

import orjson

import casedb
import charts
import common
from detections import Area, Setting
from rules.aws_policy import (as_list, is_admin_managed_policy, is_full_access, outside_principals, read_policy,
                              wildcard_grants)

SETTINGS = (
    Setting("iam_chain_minutes", "CLOUDTRAIL_IAM_CHAIN_MINUTES", 30,
            "Minutes after CreateUser in which admin rights or credentials for the new user form a chain"),
    Setting("iam_trust_probes", "CLOUDTRAIL_IAM_TRUST_PROBES", 10,
            "Malformed UpdateAssumeRolePolicy calls by one caller that count as principal enumeration"),
)

# Group names that announce administrative rights.
PRIVILEGED_GROUP_NAME = re.compile(
    r"admin|superuser|super[-_]user|poweruser|power[-_]user|full[-_]?access|privileged|root", re.IGNORECASE)


# ---------------------------------------------------------------- what the case shows to be admin

def admin_evidence(con):
    """What the whole case shows to be admin-equivalent, successful calls only:
    {'policies': {policy arn (lower): event id}, 'groups': {(account, group lower): why}}."""
    rows = casedb.rows(con, """
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
        order by event_time, event_id
    """)
    names = ("event_name", "event_id", "account_id", "target_group", "policy_arn", "policy_document")
    rows = [dict(zip(names, row)) for row in rows]
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
    if is_admin_managed_policy(policy_arn):
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


def _target(row):
    """'user/NAME', 'role/NAME' or 'group/NAME' for the thing an event acts on."""
    for kind in ("user", "role", "group"):
        if row.get(f"target_{kind}"):
            return f"{kind}/{row[f'target_{kind}']}"
    return None


# ---------------------------------------------------------------- Python rules

def find_admin_policy_attached(con, rows):
    """admin_policy_attached: the attach calls whose policy is admin-equivalent (or unrecorded and denied)."""
    evidence = admin_evidence(con)
    for row in rows:
        target = _target(row) or "(target not recorded)"
        why = _admin_policy(row["policy_arn"], evidence["policies"])
        if why:
            yield {"event_id": row["event_id"], "resource": target, "summary": f"{why} attached to {target}",
                   "details": {"policy_arn": row["policy_arn"], "why_admin": why}}
        elif row["policy_arn"] is None and row["error_code"]:
            yield {"event_id": row["event_id"], "resource": target, "severity": "medium",
                   "summary": f"denied attempt to attach a managed policy to {target} "
                              "(CloudTrail did not record which policy)",
                   "details": {"policy_arn": None,
                               "why_admin": "unknown: the denied call's parameters were not recorded"}}


def find_wildcard_policies(rows):
    """policy_granted_wildcard_access: documents with Allow statements for every action."""
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
            yield {"event_id": row["event_id"], "resource": resource, "severity": "low",
                   "summary": f"{row['event_name']} ({name}): document could not be read - {problem}",
                   "details": {"policy": row["policy"], "unparseable": problem}}
            continue
        grants = wildcard_grants(document)
        if not grants:
            continue
        full = is_full_access(grants)
        severity = ("medium" if row["event_name"] == "CreatePolicy" else "high") if full else "medium"
        actions = sorted({a for g in grants for a in g["actions"]})
        scope = "every resource" if full else "specific resources only"
        yield {"event_id": row["event_id"], "resource": resource, "severity": severity,
               "summary": f"{row['event_name']} ({name}) allows {', '.join(actions)} on {scope}"
                          + (", set as the default version" if row["set_as_default"] else ""),
               "details": {"policy": row["policy"], "grants": grants, "full_access": full,
                           "set_as_default": row["set_as_default"]}}


def find_federation_tokens(rows):
    """federation_token_requested: GetFederationToken calls, rated by the permissions the token's
    session policies give."""
    for row in rows:
        arns = [item.get("arn") if isinstance(item, dict) else item
                for item in as_list(orjson.loads(row["policy_arns"]) if row["policy_arns"] else None)]
        admin_arns = [arn for arn in arns if isinstance(arn, str) and is_admin_managed_policy(arn)]
        document, problem = read_policy(row["policy"]) if row["policy"] else (None, None)
        full = bool(document) and is_full_access(wildcard_grants(document))
        # Without a session policy the federated session has no permissions at all (AWS STS docs).
        severity = "high" if admin_arns or full else ("low" if not row["policy"] and not arns else None)
        grants = "admin-equivalent permissions" if admin_arns or full else \
            "no session policy (no permissions)" if not row["policy"] and not arns else "a scoped session policy"
        name = row["token_name"] or "(name not recorded)"
        yield {"event_id": row["event_id"], "resource": f"federated-user/{name}", "severity": severity,
               "summary": f"{row['actor'] or '?'} requested federation token {name} with {grants}",
               "details": {"name": row["token_name"], "duration_seconds": row["duration_seconds"],
                           "policy_arns": arns, "admin_policy_arns": admin_arns,
                           "inline_policy_full_access": full, "inline_policy_unreadable": problem}}


def find_privileged_group_additions(con, rows):
    """user_added_to_privileged_group: AddUserToGroup calls on groups the case or the name shows as admin."""
    evidence = admin_evidence(con)
    for row in rows:
        verdict = _privileged_group(row["account_id"], row["target_group"], evidence)
        if not verdict:
            continue
        severity, why = verdict
        user = row["target_user"] or "(user not recorded)"
        yield {"event_id": row["event_id"], "resource": f"group/{row['target_group']}",
               "severity": None if severity == "high" else severity,
               "summary": f"user {user} added to group {row['target_group']}: {why}",
               "details": {"user": row["target_user"], "group": row["target_group"], "why_privileged": why}}


def _trust_verdicts(rows):
    for row in rows:
        document, problem = read_policy(row["policy_document"])
        outsiders = outside_principals(document, row["account_id"]) if document else []
        yield row, problem and (row["omitted_note"] or problem), outsiders


def find_trust_opened(rows):
    """role_trust_granted_to_outside_principal: trust policies admitting another account or anyone."""
    for row, _, outsiders in _trust_verdicts(rows):
        if not outsiders:
            continue
        open_to_anyone = [p for p in outsiders if p[0] == "anyone"]
        severity = "critical" if any(not conditioned for _, _, conditioned in open_to_anyone) else None
        role = f"role/{row['target_role'] or '?'}"
        who = "; ".join(f"{kind}: {principal}" + (" (with Condition)" if conditioned else "")
                        for kind, principal, conditioned in outsiders[:5])
        verb = "created trusting" if row["event_name"] == "CreateRole" else "trust policy now admits"
        yield {"event_id": row["event_id"], "resource": role, "severity": severity,
               "summary": f"{role} {verb} {who}",
               "details": {"outside_principals": [{"kind": k, "principal": p, "condition": c}
                                                  for k, p, c in outsiders],
                           "role_account": row["account_id"]}}


def find_trust_changed(rows):
    """role_trust_policy_changed: trust policy updates that admit no outsider (or cannot be read)."""
    for row, problem, outsiders in _trust_verdicts(rows):
        if row["event_name"] != "UpdateAssumeRolePolicy" or outsiders:
            continue
        role = f"role/{row['target_role'] or '?'}"
        summary = f"trust policy of {role} changed" + (
            f" ({problem})" if problem else " (principals inside the account or AWS services)")
        yield {"event_id": row["event_id"], "resource": role, "summary": summary,
               "details": {"unparseable": problem} if problem else {"outside_principals": []}}


# The calls by the creator on the new user within iam_chain_minutes of each successful CreateUser.
CHAIN_SQL = """
    select
        c.event_id as created_id,
        c.target_user as created_user,
        f.event_time, f.event_name, f.recipient_account_id as account_id,
        f.event_id, f.error_code, f.target_group,
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


def find_create_admin_chain(con, rows):
    """iam_user_created_with_admin_or_keys: each successful CreateUser (rows) with what its creator
    gave the new user next."""
    evidence = admin_evidence(con)
    # Keyed by event id and user: hand-made logs (Panther's test scenarios) give two CreateUser
    # calls the same event id and second, and one must not take the other's steps.
    created = {(row["event_id"], row["target_user"]): row for row in rows}
    names = ("created_id", "created_user", "event_time", "event_name", "account_id", "event_id", "error_code",
             "target_group", "policy_arn", "policy_document")
    steps = {}
    for values in casedb.rows(con, CHAIN_SQL):
        row = dict(zip(names, values))
        steps.setdefault((row["created_id"], row["created_user"]), []).append(row)
    for key, followed in sorted(steps.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        created_id, start = key[0], created[key]
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
        admin_ok = any(s["error_code"] is None for s, _ in admin)
        credentials_ok = any(s["error_code"] is None for s, _ in credentials)
        user = start["target_user"]
        gave = [why for _, why in admin] + [why for _, why in credentials]
        finding = {
            "event_id": created_id, "resource": f"user/{user}",
            "event_ids": [created_id] + [s["event_id"] for s in followed],
            "severity": None if admin_ok and credentials_ok else "high",
            "summary": f"{start['actor']} created user {user}, then gave it: "
                       + "; ".join(dict.fromkeys(gave)) + ("" if succeeded else " (every step was denied)"),
            "details": {"new_user": user,
                        "steps": [{"event": s["event_name"], "event_id": s["event_id"], "time": s["event_time"],
                                   "error_code": s["error_code"], "policy_arn": s["policy_arn"],
                                   "group": s["target_group"]} for s in followed],
                        "admin_rights": [why for _, why in admin], "credentials": [why for _, why in credentials]}}
        if not succeeded:
            # The CreateUser succeeded; the finding is an attempt: every step after it was denied.
            finding["error_code"] = (admin + credentials)[0][0]["error_code"]
        yield finding


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
    settings=SETTINGS,
    charts=(write_calls_by_actor_chart,),
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
