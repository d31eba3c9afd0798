"""IAM detections: a positive and a near-miss negative for each, real records from ../shared/data,
policy-document parsing, and the script end to end.

The hand-made scenarios share one case database, built once (building a case is the slow part):
each scenario uses its own callers, users, roles and groups, and each test looks only at the
findings on its own scenario's events.
"""
import datetime as dt
import json
import urllib.parse

import pytest

import analyze_iam as iam
from rules import aws_policy
from conftest import (ACCOUNT, SHARED_DATA, build_case, detect, event, fired_ids, ingest, labelled_records,
                      needs_shared_data, stored)

OTHER_ACCOUNT = "999988887777"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def call(name, identity="alice", request=None, response=None, denied=None, time="2026-11-02T10:00:00Z", **fields):
    """An IAM API call. denied='user bob' makes it an AccessDenied call as AWS records one:
    requestParameters null and the target only in the error message."""
    record = event(name, "iam.amazonaws.com", time, identity, requestParameters=request,
                   responseElements=response, **fields)
    if denied:
        caller = record["userIdentity"].get("arn", "?")
        record.update(requestParameters=None, responseElements=None, errorCode="AccessDenied",
                      errorMessage=f"User: {caller} is not authorized to perform: iam:{name} on resource: "
                                   f"{denied} because no identity-based policy allows the iam:{name} action")
    return record


def at(minutes):
    start = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.timezone.utc)
    return (start + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def found_for(tmp_path, records, **window):
    return detect(build_case(tmp_path, records), "iam", **window)


SCENARIOS = []


def scenario(**records):
    """Named records for the shared case; returns them so a test can refer to them by name."""
    SCENARIOS.append(records)
    return records


@pytest.fixture(scope="module")
def found(tmp_path_factory):
    records = [record for named in SCENARIOS for record in named.values()]
    return found_for(tmp_path_factory.mktemp("scenarios"), records)


def fired(found, detection_id, named):
    """{record name: finding} for the scenario's records the detection fired on."""
    names = {record["eventID"]: name for name, record in named.items()}
    return {names[event_id]: finding for finding in found[detection_id]
            for event_id in finding["event_ids"] if event_id in names}


# ---------------------------------------------------------------- users and keys

USERS = scenario(
    created=call("CreateUser", identity="ursula", request={"userName": "mallory"},
                 response={"user": {"userName": "mallory", "arn": f"arn:aws:iam::{ACCOUNT}:user/mallory"}}),
    denied=call("CreateUser", identity="ursula", denied=f"arn:aws:iam::{ACCOUNT}:user/eve", time=at(1)),
    by_stack=call("CreateUser", request={"userName": "svc-stack"}, time=at(2), identity={
        "type": "AssumedRole", "principalId": "AROACFN:AWSCloudFormation", "accountId": ACCOUNT,
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/AWSCloudFormation",
        "invokedBy": "cloudformation.amazonaws.com"}),
    role=call("CreateRole", identity="ursula", request={"roleName": "ursula-role"}, time=at(3)),
)


def test_user_created_and_denied_attempt(found):
    rows = fired(found, "iam_user_created", USERS)
    assert set(rows) == {"created", "denied", "by_stack"}
    assert rows["denied"]["error_code"] == "AccessDenied"
    assert rows["denied"]["resource"] == "user/eve"
    assert rows["created"]["severity"] == "medium"
    assert rows["by_stack"]["severity"] == "low"


KEYS = scenario(
    for_bob=call("CreateAccessKey", identity="kate", request={"userName": "bob"},
                 response={"accessKey": {"userName": "bob", "accessKeyId": "AKIANEWKEY", "status": "Active"}}),
    own=call("CreateAccessKey", identity="kate", time=at(1),
             response={"accessKey": {"userName": "kate", "accessKeyId": "AKIAOWN", "status": "Active"}}),
    own_named_in_other_case=call("CreateAccessKey", identity="kate", request={"userName": "Kate"}, time=at(2)),
    user_with_path=call("CreateAccessKey", request={"userName": "ops"}, time=at(3), identity={
        "type": "IAMUser", "principalId": "AIDAOPS", "accountId": ACCOUNT, "userName": "ops",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/division/ops"}),
    from_role=call("CreateAccessKey", identity="role:Admin/carol", request={"userName": "bob"}, time=at(4)),
    role_session_named_bob=call("CreateAccessKey", identity="role:Admin/bob", request={"userName": "bob"}, time=at(5)),
    denied=call("CreateAccessKey", identity="kate", denied="user bob", time=at(6)),
    denied_own=call("CreateAccessKey", identity="kate", denied="user kate", time=at(7)),
)


def test_access_key_for_another_user_is_a_backdoor_and_own_key_is_not(found):
    other = fired(found, "access_key_created_for_another_user", KEYS)
    assert set(other) == {"for_bob", "from_role", "role_session_named_bob", "denied"}
    assert other["for_bob"]["details"]["access_key_id"] == "AKIANEWKEY"
    assert other["for_bob"]["severity"] == "high"
    assert other["role_session_named_bob"]["severity"] == "medium"
    assert other["denied"]["error_code"] == "AccessDenied"
    assert set(fired(found, "access_key_created", KEYS)) == {"own", "own_named_in_other_case", "user_with_path",
                                                             "denied_own"}
    assert fired(found, "root_access_key_created", KEYS) == {}


ROOT_KEYS = scenario(
    own=call("CreateAccessKey", identity="root",
             response={"accessKey": {"accessKeyId": "AKIAROOT", "status": "Active", "userName": "Root"}}),
    for_user=call("CreateAccessKey", identity="root", request={"userName": "rootsbob"}, time=at(1)),
)


def test_root_key_for_itself_but_not_for_a_user(found):
    assert set(fired(found, "root_access_key_created", ROOT_KEYS)) == {"own"}
    assert set(fired(found, "access_key_created_for_another_user", ROOT_KEYS)) == {"for_user"}
    assert fired(found, "access_key_created", ROOT_KEYS) == {}


PASSWORDS = scenario(
    create=call("CreateLoginProfile", identity="paula", request={"userName": "pete", "passwordResetRequired": False}),
    update=call("UpdateLoginProfile", identity="paula", request={"userName": "pete"}, time=at(1)),
    reset=call("UpdateLoginProfile", identity="paula", request={"userName": "pete", "passwordResetRequired": True},
               time=at(2)),
    own=call("UpdateLoginProfile", identity="paula", request={"userName": "paula"}, time=at(3)),
    denied=call("UpdateLoginProfile", identity="paula", denied="user pete", time=at(4)),
    denied_own=call("CreateLoginProfile", identity="paula", denied="user paula", time=at(5)),
)


def test_login_profile_for_another_user(found):
    rows = fired(found, "login_profile_set_for_another_user", PASSWORDS)
    assert set(rows) == {"create", "update", "reset", "denied"}
    assert rows["create"]["severity"] == "high"
    assert rows["reset"]["severity"] == "medium"
    assert rows["denied"]["error_code"] == "AccessDenied"


# ---------------------------------------------------------------- admin policies

def _attaches():
    named = {}
    for partition in ("aws", "aws-cn", "aws-us-gov"):
        for policy_name in ("AdministratorAccess", "IAMFullAccess", "PowerUserAccess"):
            arn = f"arn:{partition}:iam::aws:policy/{policy_name}"
            named[f"user {arn}"] = call("AttachUserPolicy", identity="adam", request={"userName": "abe", "policyArn": arn})
            named[f"role {arn}"] = call("AttachRolePolicy", identity="adam", request={"roleName": "abe-app", "policyArn": arn})
            named[f"group {arn}"] = call("AttachGroupPolicy", identity="adam",
                                         request={"groupName": "abe-devs", "policyArn": arn})
    named["read only"] = call("AttachUserPolicy", identity="adam",
                              request={"userName": "abe", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"})
    named["customer policy named like one"] = call("AttachUserPolicy", identity="adam", request={
        "userName": "abe", "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccess"})
    return named


ATTACHES = scenario(**_attaches())


def test_admin_policy_attached_in_every_partition(found):
    rows = fired(found, "admin_policy_attached", ATTACHES)
    assert set(rows) == set(ATTACHES) - {"read only", "customer policy named like one"}
    assert {f["resource"] for f in rows.values()} == {"user/abe", "role/abe-app", "group/abe-devs"}


DENIED_ATTACHES = scenario(
    with_params=call("AttachUserPolicy", identity="dora", request={"userName": "dora", "policyArn": ADMIN},
                     errorCode="AccessDenied", errorMessage="not authorized"),
    without_params=call("AttachUserPolicy", identity="dora", denied="user dora", time=at(1)),
)


def test_denied_admin_attach_is_a_failed_attempt(found):
    rows = fired(found, "admin_policy_attached", DENIED_ATTACHES)
    assert rows["with_params"]["error_code"] == "AccessDenied"
    assert rows["with_params"]["severity"] == "high"
    assert rows["without_params"]["error_code"] == "AccessDenied"
    assert rows["without_params"]["severity"] == "medium"
    assert rows["without_params"]["resource"] == "user/dora"


CUSTOMER_ADMIN = f"arn:aws:iam::{ACCOUNT}:policy/backup-tools"
CUSTOMER_POLICIES = scenario(
    created=call("CreatePolicy", identity="cora", response={"policy": {"arn": CUSTOMER_ADMIN}}, request={
        "policyName": "backup-tools", "policyDocument": policy({"Effect": "Allow", "Action": "*", "Resource": "*"})}),
    attached=call("AttachRolePolicy", identity="cora", request={"roleName": "cora-app", "policyArn": CUSTOMER_ADMIN},
                  time=at(1)),
    harmless=call("AttachRolePolicy", identity="cora", time=at(2),
                  request={"roleName": "cora-app", "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/other"}),
)


def test_customer_policy_created_with_full_access_counts_as_admin(found):
    rows = fired(found, "admin_policy_attached", CUSTOMER_POLICIES)
    assert set(rows) == {"attached"}
    assert "backup-tools" in rows["attached"]["summary"]
    assert fired(found, "policy_granted_wildcard_access", CUSTOMER_POLICIES)["created"]["severity"] == "medium"


# ---------------------------------------------------------------- policy documents

@pytest.mark.parametrize("document, full", [
    (policy({"Effect": "Allow", "Action": "*", "Resource": "*"}), True),
    (json.dumps({"Statement": {"Effect": "Allow", "Action": ["s3:GetObject", "IAM:*"], "Resource": ["*"]}}), True),
    (policy({"Effect": "Allow", "Action": "*:*", "Resource": "arn:aws:*:*:*:*"}), True),
    (policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), True),
    (urllib.parse.quote(policy({"Effect": "Allow", "Action": "*", "Resource": "*"})), True),
    (json.dumps(policy({"Effect": "Allow", "Action": "*", "Resource": "*"})), True),
    (policy({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::bucket/*"}), False),
])
def test_wildcard_grants_read_every_shape(document, full):
    parsed, problem = aws_policy.read_policy(document)
    assert problem is None
    grants = aws_policy.wildcard_grants(parsed)
    assert grants and aws_policy.is_full_access(grants) is full


@pytest.mark.parametrize("document", [
    policy({"Effect": "Deny", "Action": "*", "Resource": "*"}),
    policy({"Effect": "Allow", "Action": ["s3:GetObject", "ec2:Describe*"], "Resource": "*"}),
    policy({"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}),
    json.dumps({"Version": "2012-10-17"}),
])
def test_no_wildcard_grant(document):
    parsed, _ = aws_policy.read_policy(document)
    assert aws_policy.wildcard_grants(parsed) == []


@pytest.mark.parametrize("text", [None, '{"Version": "2012-10-17", "Statement": [{"Effect": "All', "[]", "%7B%22broken"])
def test_unreadable_documents_say_why(text):
    parsed, problem = aws_policy.read_policy(text)
    assert parsed is None and problem


POLICY_WRITES = scenario(
    two_statements=call("PutRolePolicy", identity="wendy", request={
        "roleName": "wendy-app", "policyName": "inline", "policyDocument": policy(
            {"Sid": "a", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "b", "Effect": "Allow", "Action": ["iam:*"], "Resource": "*"},
            {"Sid": "c", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})}),
    version=call("CreatePolicyVersion", identity="wendy", time=at(1), request={
        "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/wendy-policy", "setAsDefault": True,
        "policyDocument": urllib.parse.quote(policy({"Effect": "Allow", "Action": "*", "Resource": "*"}))}),
    scoped=call("PutUserPolicy", identity="wendy", time=at(2), request={
        "userName": "walt", "policyName": "s3", "policyDocument": policy(
            {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::logs/*"})}),
    truncated=call("PutGroupPolicy", identity="wendy", time=at(3), request={
        "groupName": "wendy-group", "policyName": "big", "policyDocument": '{"Version": "2012-10-17", "Statem'}),
    denied=call("PutUserPolicy", identity="wendy", denied="user wendy", time=at(4)),
    omitted=call("PutRolePolicy", identity="wendy", time=at(7), request={
        "omitted": True, "originalSize": 131512, "reason": "requestParameters too large"}),
    deny_all=call("PutUserPolicy", identity="wendy", time=at(5), request={
        "userName": "walt", "policyName": "deny", "policyDocument": policy(
            {"Effect": "Deny", "Action": "*", "Resource": "*"})}),
    narrow=call("PutUserPolicy", identity="wendy", time=at(6), request={
        "userName": "walt", "policyName": "narrow", "policyDocument": policy(
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"})}),
)


def test_wildcard_policy_one_finding_per_call_with_every_statement(found):
    rows = fired(found, "policy_granted_wildcard_access", POLICY_WRITES)
    assert set(rows) == {"two_statements", "version", "scoped", "truncated", "denied", "omitted"}
    assert len(found["policy_granted_wildcard_access"]) == len({f["event_id"] for f in found["policy_granted_wildcard_access"]})
    assert [g["sid"] for g in rows["two_statements"]["details"]["grants"]] == ["a", "b"]
    assert rows["two_statements"]["severity"] == "high"
    assert rows["version"]["severity"] == "high"
    assert "set as the default version" in rows["version"]["summary"]
    assert rows["scoped"]["severity"] == "medium"
    assert rows["truncated"]["severity"] == "low"
    assert "not readable" in rows["truncated"]["details"]["unparseable"]
    assert "omitted requestParameters (requestParameters too large" in rows["omitted"]["summary"]
    assert rows["omitted"]["severity"] == "low"
    assert rows["denied"]["error_code"] == "AccessDenied"


# ---------------------------------------------------------------- groups

GROUPS = scenario(
    to_admin_policy_group=call("AddUserToGroup", identity="gina", request={"groupName": "gops", "userName": "gus"}),
    grant=call("AttachGroupPolicy", identity="gina", request={"groupName": "GOPS", "policyArn": ADMIN}, time=at(5)),
    to_named_group=call("AddUserToGroup", identity="gina", request={"groupName": "PowerUsers", "userName": "gus"},
                        time=at(6)),
    to_plain_group=call("AddUserToGroup", identity="gina", request={"groupName": "developers", "userName": "gus"},
                        time=at(7)),
    denied=call("AddUserToGroup", identity="gina", denied="group Admins", time=at(8)),
)


def test_user_added_to_group_with_admin_policy_or_admin_name(found):
    rows = fired(found, "user_added_to_privileged_group", GROUPS)
    assert set(rows) == {"to_admin_policy_group", "to_named_group", "denied"}
    assert rows["to_admin_policy_group"]["severity"] == "high"
    assert rows["to_named_group"]["severity"] == "medium"
    assert rows["denied"]["error_code"] == "AccessDenied"


# ---------------------------------------------------------------- role trust

def trust(*principals, condition=None):
    statements = [{"Effect": "Allow", "Principal": p, "Action": "sts:AssumeRole"} for p in principals]
    if condition:
        statements[-1]["Condition"] = condition
    return policy(*statements)


TRUST = scenario(
    other=call("UpdateAssumeRolePolicy", identity="tara", request={"roleName": "tara-app", "policyDocument": trust(
        {"Service": "ec2.amazonaws.com"}, {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"})}),
    anyone=call("UpdateAssumeRolePolicy", identity="tara", time=at(1),
                request={"roleName": "tara-app", "policyDocument": trust("*")}),
    anyone_conditioned=call("UpdateAssumeRolePolicy", identity="tara", time=at(2), request={
        "roleName": "tara-app", "policyDocument": trust({"AWS": "*"},
                                                        condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})}),
    created=call("CreateRole", identity="tara", time=at(3), request={
        "roleName": "tara-vendor", "assumeRolePolicyDocument": trust({"AWS": [OTHER_ACCOUNT]})}),
    web_identity=call("UpdateAssumeRolePolicy", identity="tara", time=at(4), request={
        "roleName": "tara-web", "policyDocument": trust({"Federated": "accounts.google.com"})}),
    inside=call("UpdateAssumeRolePolicy", identity="tara", time=at(5), request={"roleName": "tara-app", "policyDocument": trust(
        {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci"}, {"Service": "lambda.amazonaws.com"})}),
    created_inside=call("CreateRole", identity="tara", time=at(6), request={
        "roleName": "tara-lambda", "assumeRolePolicyDocument": trust({"Service": "lambda.amazonaws.com"})}),
    unreadable=call("UpdateAssumeRolePolicy", identity="tara", time=at(7), request={"roleName": "tara-app"}),
)


def test_trust_opened_to_other_account_or_anyone(found):
    outside = fired(found, "role_trust_granted_to_outside_principal", TRUST)
    assert set(outside) == {"other", "anyone", "anyone_conditioned", "created", "web_identity"}
    assert outside["other"]["severity"] == "high"
    assert outside["anyone"]["severity"] == "critical"
    assert outside["anyone_conditioned"]["severity"] == "high"
    changed = fired(found, "role_trust_policy_changed", TRUST)
    assert set(changed) == {"inside", "unreadable"}
    assert changed["unreadable"]["details"]["unparseable"]


def _probes(session, count):
    return {f"{session} {i}": call("UpdateAssumeRolePolicy", identity=f"role:Prober/{session}", time=at(i),
                                   errorCode="MalformedPolicyDocumentException",
                                   errorMessage=f"Invalid principal in policy: \"AWS\":\"arn:aws:iam::{OTHER_ACCOUNT}:user/g{i}\"",
                                   request={"roleName": "probe", "policyDocument": trust(
                                       {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:user/g{i}"})})
            for i in range(count)}


PROBES = scenario(**_probes("ten", 10), **_probes("nine", 9))


def test_principal_enumeration_needs_enough_malformed_trust_policies(found):
    rows = fired(found, "principals_enumerated_via_trust_policy", PROBES)
    assert set(rows) == {f"ten {i}" for i in range(10)}
    assert len({id(f) for f in rows.values()}) == 1
    assert fired(found, "role_trust_granted_to_outside_principal", PROBES) == {}
    assert fired(found, "role_trust_policy_changed", PROBES) == {}


# ---------------------------------------------------------------- MFA, boundaries, identity providers

MFA = scenario(
    root=call("DeactivateMFADevice", identity="root", request={
        "userName": "AWS ROOT USER", "serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/root-account-mfa-device"}),
    other=call("DeactivateMFADevice", identity="mia", time=at(1), request={
        "userName": "max", "serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/max"}),
    own=call("DeactivateMFADevice", identity="mia", time=at(2), request={
        "userName": "mia", "serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/mia"}),
    deleted=call("DeleteVirtualMFADevice", identity="mia", time=at(3),
                 request={"serialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/max"}),
    enabled=call("EnableMFADevice", identity="mia", time=at(4), request={"userName": "mia"}),
)


def test_mfa_removal_severity_by_whose_device(found):
    rows = {name: f["severity"] for name, f in fired(found, "mfa_device_deactivated", MFA).items()}
    assert rows == {"root": "high", "other": "medium", "own": "low", "deleted": "medium"}


BOUNDARIES = scenario(
    user=call("DeleteUserPermissionsBoundary", identity="bea", request={"userName": "ben"}),
    role=call("DeleteRolePermissionsBoundary", identity="bea", denied="role bea-app", time=at(1)),
    put=call("PutRolePermissionsBoundary", identity="bea", time=at(2),
             request={"roleName": "bea-app", "permissionsBoundary": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
)


def test_permissions_boundary_removed(found):
    rows = fired(found, "permissions_boundary_removed", BOUNDARIES)
    assert set(rows) == {"user", "role"}
    assert rows["role"]["resource"] == "role/bea-app"
    assert rows["user"]["resource"] == "user/ben"


PROVIDERS = scenario(
    created=call("CreateOpenIDConnectProvider", identity="ivy", request={
        "url": "https://token.actions.githubusercontent.com", "clientIDList": ["sts.amazonaws.com"]}),
    deleted=call("DeleteSAMLProvider", identity="ivy", time=at(1),
                 request={"sAMLProviderArn": f"arn:aws:iam::{ACCOUNT}:saml-provider/Okta"}),
    by_identity_center=call("CreateSAMLProvider", time=at(2), request={"name": "AWSSSO_1234_DO_NOT_DELETE"}, identity={
        "type": "AssumedRole", "principalId": "AROASSO:AWS-SSO", "invokedBy": "sso.amazonaws.com",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSServiceRoleForSSO/AWS-SSO", "accountId": ACCOUNT,
        "sessionContext": {"sessionIssuer": {
            "type": "Role", "userName": "AWSServiceRoleForSSO", "accountId": ACCOUNT,
            "arn": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/sso.amazonaws.com/AWSServiceRoleForSSO"}}}),
    listed=call("ListSAMLProviders", identity="ivy", time=at(3)),
)


def test_identity_provider_changes_except_identity_centers_own(found):
    rows = {name: f["severity"] for name, f in fired(found, "identity_provider_changed", PROVIDERS).items()}
    assert rows == {"created": "high", "deleted": "medium"}


# ---------------------------------------------------------------- the create-admin-user chain

CHAIN = scenario(
    created=call("CreateUser", identity="chad", request={"userName": "chad-backdoor"}),
    admin=call("AttachUserPolicy", identity="chad", request={"userName": "chad-backdoor", "policyArn": ADMIN}, time=at(2)),
    key=call("CreateAccessKey", identity="chad", request={"userName": "chad-backdoor"}, time=at(3)),
)


def test_create_admin_chain_is_one_critical_finding(found):
    rows = fired(found, "iam_user_created_with_admin_or_keys", CHAIN)
    assert set(rows) == {"created", "admin", "key"}
    chain = rows["created"]
    assert chain["event_ids"] == [CHAIN[name]["eventID"] for name in ("created", "admin", "key")]
    assert (chain["severity"], chain["resource"], chain["error_code"]) == ("critical", "user/chad-backdoor", None)


@pytest.mark.parametrize("order", [1, -1])
def test_two_create_users_sharing_one_event_id_keep_their_own_steps(tmp_path, order):
    # Hand-made logs (Panther's test scenarios) reuse event id and second for two CreateUser calls;
    # in either storage order, the chain belongs to the user who got the admin policy. (Another
    # source IP, or the ingest would take the second for a repeat of the first.)
    quiet = call("CreateUser", identity="root-ish", request={"userName": "plain-user"}, eventID="1",
                 sourceIPAddress="198.51.100.1")
    backdoor = call("CreateUser", identity="root-ish", request={"userName": "backdoor-user"}, eventID="1",
                    sourceIPAddress="198.51.100.2")
    admin = call("AttachUserPolicy", identity="root-ish", request={"userName": "backdoor-user", "policyArn": ADMIN},
                 time=at(1))
    chains = found_for(tmp_path, [quiet, backdoor, admin][::order])["iam_user_created_with_admin_or_keys"]
    assert [c["resource"] for c in chains] == ["user/backdoor-user"]


NEAR_CHAINS = scenario(
    created=call("CreateUser", identity="nick", request={"userName": "nick-svc"}),
    key=call("CreateAccessKey", identity="nick", request={"userName": "nick-svc"}, time=at(5)),
    late_created=call("CreateUser", identity="nick", request={"userName": "nick-late"}, time=at(10)),
    late_key=call("CreateAccessKey", identity="nick", request={"userName": "nick-late"}, time=at(45)),
    handed_created=call("CreateUser", identity="nick", request={"userName": "nick-handed"}, time=at(11)),
    handed_key=call("CreateAccessKey", identity="nora", request={"userName": "nick-handed"}, time=at(12)),
    reader_created=call("CreateUser", identity="nick", request={"userName": "nick-reader"}, time=at(13)),
    reader_policy=call("AttachUserPolicy", identity="nick", time=at(14),
                       request={"userName": "nick-reader", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
)


def test_chain_with_credentials_only_is_high_and_needs_same_caller_in_time(found):
    rows = fired(found, "iam_user_created_with_admin_or_keys", NEAR_CHAINS)
    assert set(rows) == {"created", "key"}
    assert rows["created"]["severity"] == "high"


DENIED_CHAIN = scenario(
    created=call("CreateUser", identity="dina", request={"userName": "dina-backdoor"}),
    group=call("AddUserToGroup", identity="dina", request={"userName": "dina-backdoor", "groupName": "Administrators"},
               time=at(1), errorCode="AccessDenied", errorMessage="not authorized"),
)


def test_chain_through_an_admin_group_with_every_step_denied(found):
    rows = fired(found, "iam_user_created_with_admin_or_keys", DENIED_CHAIN)
    assert rows["created"]["error_code"] == "AccessDenied"


QUARANTINE = scenario(
    attached=call("AttachUserPolicy", identity="quinn", request={
        "userName": "leaky", "policyArn": "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"}),
    put=call("PutUserPolicy", identity="leaky", time=at(1), request={
        "userName": "leaky", "policyName": "AWSCompromisedKeyQuarantineV3", "policyDocument": policy(
            {"Effect": "Deny", "Action": ["iam:CreateUser"], "Resource": "*"})}),
    removed=call("DetachUserPolicy", identity="quinn", time=at(2), request={
        "userName": "leaky", "policyArn": "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"}),
    other=call("PutUserPolicy", identity="quinn", time=at(3), request={
        "userName": "leaky", "policyName": "TestUserDenyAll",
        "policyDocument": policy({"Effect": "Deny", "Action": "*", "Resource": "*"})}),
)


def test_quarantine_applied_and_removed(found):
    rows = fired(found, "access_key_quarantined_by_aws", QUARANTINE)
    assert set(rows) == {"attached", "put", "removed"}
    assert "removed" in rows["removed"]["summary"]
    assert fired(found, "policy_granted_wildcard_access", QUARANTINE) == {}


# ---------------------------------------------------------------- real records

STRATUS_EXPECTED = {
    "aws.persistence.iam-backdoor-user": {"CreateAccessKey": "access_key_created_for_another_user"},
    "aws.persistence.iam-backdoor-role": {"UpdateAssumeRolePolicy": "role_trust_granted_to_outside_principal"},
    "aws.persistence.iam-create-admin-user": {"CreateUser": "iam_user_created",
                                              "AttachUserPolicy": "admin_policy_attached",
                                              "CreateAccessKey": "access_key_created_for_another_user"},
    "aws.persistence.iam-create-backdoor-role": {"CreateRole": "role_trust_granted_to_outside_principal",
                                                 "AttachRolePolicy": "admin_policy_attached"},
    "aws.persistence.iam-create-user-login-profile": {"CreateLoginProfile": "login_profile_set_for_another_user"},
    "aws.privilege-escalation.iam-update-user-login-profile": {
        "UpdateLoginProfile": "login_profile_set_for_another_user"},
}


@pytest.fixture(scope="module")
def stratus_found(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stratus")
    assert ingest(folder / "case.db", SHARED_DATA / "stratus-red-team" / "s3") == 0
    return detect(folder / "case.db", "iam")


@needs_shared_data
@pytest.mark.parametrize("technique", sorted(STRATUS_EXPECTED))
def test_stratus_technique_fires_its_detection(stratus_found, technique):
    labels = [row for row in labelled_records("stratus-red-team/labels.jsonl") if row["technique"] == technique]
    for label in labels:
        expected = STRATUS_EXPECTED[technique].get(label["eventName"])
        if expected:
            assert label["eventID"] in fired_ids(stratus_found, expected), (label["eventName"], expected)


@needs_shared_data
def test_stratus_create_admin_user_is_one_chain(stratus_found):
    labels = {row["eventID"] for row in labelled_records("stratus-red-team/labels.jsonl")
              if row["technique"] == "aws.persistence.iam-create-admin-user"}
    [chain] = stratus_found["iam_user_created_with_admin_or_keys"]
    assert set(chain["event_ids"]) == labels and chain["severity"] == "critical"


@needs_shared_data
def test_panther_compromised_root_story_chain(tmp_path):
    db = tmp_path / "case.db"
    assert ingest(db, SHARED_DATA / "panther" / "s3_test_scenarios") == 0
    found = detect(db, "iam")
    chains = found["iam_user_created_with_admin_or_keys"]
    assert {c["resource"] for c in chains} == {"user/tracy_stone"}
    assert all(c["severity"] == "critical" for c in chains)
    assert found["root_access_key_created"]


@needs_shared_data
def test_traildiscover_denied_calls_are_attempts(tmp_path):
    records = [row["event"] for row in labelled_records("traildiscover/labelled_events.jsonl")
               if row["event"].get("eventSource") == "iam.amazonaws.com"]
    found = found_for(tmp_path, records)
    names = {d: {f["event_name"] for f in rows} for d, rows in found.items()}
    assert names["admin_policy_attached"] == {"AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy"}
    assert all(f["error_code"] == "AccessDenied" for f in found["admin_policy_attached"])
    # The user was denied keys and a password for itself: not a backdoor.
    assert names["access_key_created_for_another_user"] == set()
    assert names["login_profile_set_for_another_user"] == set()
    assert names["access_key_created"] == {"CreateAccessKey"}
    assert names["identity_provider_changed"] == {"UpdateSAMLProvider"}
    assert names["permissions_boundary_removed"] == {"DeleteUserPermissionsBoundary", "DeleteRolePermissionsBoundary"}
    assert names["mfa_device_deactivated"] == {"DeactivateMFADevice"}


@needs_shared_data
def test_aws_documentation_examples(tmp_path):
    records = [row["event"] for row in labelled_records("awsdocs/example_events.jsonl")
               if row["event"].get("eventSource") == "iam.amazonaws.com"]
    found = found_for(tmp_path, records)
    assert [f["resource"] for f in found["user_added_to_privileged_group"]] == ["group/admin"]
    assert [f["resource"] for f in found["iam_user_created"]] == ["user/Bob"]
    assert len(found["role_trust_granted_to_outside_principal"]) == 1
    assert found["mfa_device_deactivated"] == []


# ---------------------------------------------------------------- the script

def test_script_writes_report_charts_and_findings(tmp_path, capsys):
    records = [call("CreateUser", request={"userName": "backdoor"}),
               call("AttachUserPolicy", request={"userName": "backdoor", "policyArn": ADMIN}, time=at(1)),
               call("CreateAccessKey", request={"userName": "backdoor"}, time=at(2)),
               call("AttachUserPolicy", denied="user alice", identity="eve", time=at(3)),
               call("ListUsers", time=at(4), readOnly=True)]
    db = build_case(tmp_path, records)
    assert iam.main(["analyze_iam.py", str(db), "2026-11-02", "2026-11-02"]) == 0
    printed = capsys.readouterr().out
    report = next((tmp_path / "reports").glob("iam_report-*.md"))
    text = report.read_text()
    assert str(report) in printed
    assert "iam_user_created_with_admin_or_keys" in text and "failed: AccessDenied" in text
    assert list((tmp_path / "reports").glob("iam_activity-*.png"))
    assert list((tmp_path / "reports").glob("iam_write_calls_by_actor-*.png"))
    assert stored(db, "select distinct detector from findings") == [("iam",)]
    count = stored(db, "select count(*) from findings")[0][0]
    assert count >= 5
    assert iam.main(["analyze_iam.py", str(db)]) == 0
    assert stored(db, "select count(*) from findings")[0][0] == count


def test_chain_minutes_setting_and_the_window(tmp_path, monkeypatch):
    records = [call("CreateUser", request={"userName": "svc"}),
               call("CreateAccessKey", request={"userName": "svc"}, time=at(45))]
    db = build_case(tmp_path, records)
    assert detect(db, "iam")["iam_user_created_with_admin_or_keys"] == []
    monkeypatch.setenv("CLOUDTRAIL_IAM_CHAIN_MINUTES", "60")
    assert len(detect(db, "iam")["iam_user_created_with_admin_or_keys"]) == 1
    # A chain belongs to the window its CreateUser is in; its later steps are found outside it.
    until = dt.datetime(2026, 11, 2, 10, 30, tzinfo=dt.timezone.utc)
    assert len(detect(db, "iam", until=until)["iam_user_created_with_admin_or_keys"]) == 1
    assert detect(db, "iam", since=until)["iam_user_created_with_admin_or_keys"] == []


def test_missing_database_is_one_line(tmp_path, capsys):
    assert iam.main(["analyze_iam.py", str(tmp_path / "nope.db")]) == 1
    assert "no such database" in capsys.readouterr().err


# ---------------------------------------------------------------- federation tokens

def federation_token(policy_document=None, policy_arns=None, name="backup", time="2026-11-02T12:00:00Z"):
    request = {"name": name, "durationSeconds": 43200}
    if policy_document is not None:
        request["policy"] = policy_document
    if policy_arns is not None:
        request["policyArns"] = [{"arn": arn} for arn in policy_arns]
    return event("GetFederationToken", "sts.amazonaws.com", time, "mallory", requestParameters=request,
                 userAgent="python-requests/2.31.0")


def test_federation_token_rated_by_the_permissions_it_carries(tmp_path):
    everything = federation_token(policy({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    admin_arn = federation_token(policy_arns=[ADMIN], name="b2")
    scoped = federation_token(policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}),
                              name="b3")
    no_policy = federation_token(name="b4")
    session_token = event("GetSessionToken", "sts.amazonaws.com", "2026-11-02T12:05:00Z", "mallory")
    found = found_for(tmp_path, [everything, admin_arn, scoped, no_policy, session_token])
    rows = {f["event_id"]: f["severity"] for f in found["federation_token_requested"]}
    assert rows == {everything["eventID"]: "high", admin_arn["eventID"]: "high", scoped["eventID"]: "medium",
                    no_policy["eventID"]: "low"}
