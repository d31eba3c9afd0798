"""IAM policy documents and ARNs: the one module every area uses to read them.

read_policy turns a document as CloudTrail recorded it (a JSON string, sometimes URL-encoded,
sometimes truncated) into a dict; wildcard_grants, is_full_access and outside_principals read
Allow statements; account_of_arn, arn_parts and arn_resource read ARNs. Pure Python, no database.
"""
import re
import urllib.parse

import orjson

# Action patterns that mean "every action" or "every IAM action" (action names ignore case).
WILDCARD_ACTIONS = {"*", "*:*", "iam:*"}
# "*" and ARNs made only of wildcards ("arn:aws:*:*:*:*") mean every resource.
ALL_RESOURCES = re.compile(r"^(\*|arn:(\*|aws[a-z-]*)(:\*)+)$", re.IGNORECASE)
ACCOUNT_ID = re.compile(r"^\d{12}$")
ACCOUNT_IN_ARN = re.compile(r"^arn:[^:]*:(?:iam|sts)::(\d{12}):")
# arn:partition:service:region:account:resource (the resource part may hold more colons).
ARN = re.compile(r"^arn:([^:]*):([^:]*):([^:]*):([^:]*):(.+)$")


def read_policy(text):
    """A policy document as CloudTrail recorded it -> (dict, None) or (None, why it cannot be read).

    requestParameters carry the document as a JSON string, sometimes URL-encoded; a document
    CloudTrail truncated, or an event without one, cannot be read and says so.
    """
    if text is None:
        return None, "document not recorded in the event"
    attempts = [text]
    if "%" in text:
        attempts += [urllib.parse.unquote(text), urllib.parse.unquote_plus(text)]
    for attempt in attempts:
        try:
            document = orjson.loads(attempt)
            if isinstance(document, str):
                document = orjson.loads(document)
        except orjson.JSONDecodeError:
            continue
        if isinstance(document, dict):
            return document, None
    return None, f"document is not readable JSON (truncated by CloudTrail?): {text[:60]}"


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def allow_statements(document):
    for statement in as_list(document.get("Statement")):
        if isinstance(statement, dict) and str(statement.get("Effect", "")).lower() == "allow":
            yield statement


def wildcard_grants(document):
    """Allow statements granting every action, every IAM action, or everything but a list (NotAction).

    One entry per statement: the wildcard actions, whether it covers every resource, and whether
    a Condition limits it.
    """
    grants = []
    for statement in allow_statements(document):
        actions = [a for a in as_list(statement.get("Action"))
                   if isinstance(a, str) and a.strip().lower() in WILDCARD_ACTIONS]
        if "NotAction" in statement:
            actions.append("NotAction " + orjson.dumps(statement["NotAction"]).decode()[:80])
        if not actions:
            continue
        resources = [r for r in as_list(statement.get("Resource")) if isinstance(r, str)]
        every_resource = any(ALL_RESOURCES.match(r.strip()) for r in resources) or "NotResource" in statement
        grants.append({"sid": statement.get("Sid"), "actions": actions,
                       "every_resource": every_resource, "resources": resources[:5],
                       "condition": bool(statement.get("Condition"))})
    return grants


def is_full_access(grants):
    """True when some grant covers every resource: the policy is admin-equivalent."""
    return any(g["every_resource"] for g in grants)


def outside_principals(document, role_account):
    """Who outside the role's account a trust policy lets assume it: [(kind, principal, conditioned)].

    kind is 'anyone' ("*" or NotPrincipal), 'other account', or 'web identity' (a public
    identity provider with no Condition, which admits any of its users).
    """
    found = []
    for statement in allow_statements(document):
        conditioned = bool(statement.get("Condition"))
        if "NotPrincipal" in statement:
            found.append(("anyone", "NotPrincipal " + orjson.dumps(statement["NotPrincipal"]).decode()[:80], conditioned))
        principal = statement.get("Principal")
        if principal == "*":
            found.append(("anyone", "*", conditioned))
            continue
        if not isinstance(principal, dict):
            continue
        for key, values in principal.items():
            for value in as_list(values):
                if not isinstance(value, str):
                    continue
                if key == "AWS" and value.strip() == "*":
                    found.append(("anyone", "*", conditioned))
                elif key in ("AWS", "Federated"):
                    account = account_of_arn(value)
                    if account and account != role_account:
                        found.append(("other account", value, conditioned))
                    elif key == "Federated" and not value.startswith("arn:") and not conditioned:
                        found.append(("web identity", value, conditioned))
    return found


def account_of_arn(principal):
    """The 12-digit account of an IAM/STS ARN or a bare account id; None for anything else."""
    principal = principal.strip()
    if ACCOUNT_ID.match(principal):
        return principal
    match = ACCOUNT_IN_ARN.match(principal)
    return match.group(1) if match else None


def arn_parts(arn):
    """(partition, service, region, account, resource) of an ARN, or None when it is not one."""
    match = ARN.match((arn or "").strip())
    return match.groups() if match else None


def arn_resource(arn):
    """The resource part of an ARN ('user/alice', 'assumed-role/Admin/session'); the text itself
    when it is not an ARN."""
    parts = arn_parts(arn)
    return parts[4] if parts else arn
