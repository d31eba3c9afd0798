"""rules/aws_policy.py: the one module reading policy documents and ARNs (pure Python), and the
exfiltration area's byte-count macro, which must write what DuckDB's format_bytes writes."""
import random
import urllib.parse

import duckdb
import orjson
import pytest

from conftest import REPO
from rules import aws_policy

OWNER = "111122223333"
OTHER = "444455556666"


def bucket_policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(principal=None, **more):
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    if principal is not None:
        statement["Principal"] = principal
    return statement | more


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::111122223333:root", " * "]}])
def test_everyone_is_public(principal):
    grants = aws_policy.resource_policy_grants(bucket_policy(allow(principal)), OWNER)
    assert len(grants["public"]) == 1 and grants["accounts"] == set()
    assert grants["public"][0]["actions"] == ["s3:GetObject"]


def test_not_principal_counts_as_everyone():
    statement = allow(None, NotPrincipal={"AWS": f"arn:aws:iam::{OWNER}:root"})
    assert aws_policy.statement_principals(statement, OWNER) == (True, set())


def test_other_accounts_by_arn_or_id_and_never_the_owner():
    principal = {"AWS": [f"arn:aws:iam::{OTHER}:root", "999988887777", f"arn:aws:iam::{OWNER}:role/Reader",
                         f"arn:aws-us-gov:sts::{OTHER}:assumed-role/R/s", "not-an-account"]}
    grants = aws_policy.resource_policy_grants(bucket_policy(allow(principal)), OWNER)
    assert grants["accounts"] == {OTHER, "999988887777"} and grants["public"] == []
    assert grants["cross_account"][0]["accounts"] == sorted({OTHER, "999988887777"})


def test_deny_statements_services_and_unreadable_documents_grant_nothing():
    deny = allow("*") | {"Effect": "Deny"}
    service = allow({"Service": "logging.s3.amazonaws.com"})
    assert aws_policy.resource_policy_grants(bucket_policy(deny, service), OWNER) == \
        {"public": [], "cross_account": [], "accounts": set()}
    assert aws_policy.resource_policy_grants(None, OWNER)["public"] == []


def test_not_action_is_listed_as_all_except():
    statement = {"Effect": "Allow", "Principal": "*", "NotAction": ["s3:DeleteObject"], "Resource": "*"}
    [summary] = aws_policy.resource_policy_grants(bucket_policy(statement), OWNER)["public"]
    assert summary["actions"] == ["all except s3:DeleteObject"]


@pytest.mark.parametrize("condition, restricting", [
    ({"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}, ["StringEquals aws:PrincipalOrgID"]),
    ({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}, ["IpAddress aws:SourceIp"]),
    ({"IpAddress": {"aws:SourceIp": ["0.0.0.0/0", "::/0"]}}, []),       # every address narrows nothing
    ({"StringLike": {"aws:PrincipalArn": "*"}}, []),
    ({"Null": {"aws:SourceVpce": "false"}}, []),                          # a Null test narrows nothing
    ({"Bool": {"aws:SecureTransport": "true"}}, []),                      # not about who
])
def test_restricting_conditions(condition, restricting):
    assert aws_policy.restricting_conditions(condition) == restricting
    [summary] = aws_policy.resource_policy_grants(bucket_policy(allow("*", Condition=condition)), OWNER)["public"]
    assert summary["restricting_conditions"] == restricting and summary["conditions"] == condition


@pytest.mark.parametrize("as_recorded", ["object", "json string", "url-encoded string"])
def test_a_bucket_policy_reads_in_every_shape_cloudtrail_records(as_recorded):
    """requestParameters.bucketPolicy is an object, a JSON string or a URL-encoded JSON string;
    the rule reads it with ->> (the object's JSON text, or the string itself)."""
    document = bucket_policy(allow("*"))
    text = {"object": orjson.dumps(document).decode(), "json string": orjson.dumps(document).decode(),
            "url-encoded string": urllib.parse.quote(orjson.dumps(document).decode())}[as_recorded]
    parsed, problem = aws_policy.read_policy(text)
    assert problem is None and parsed == document


@pytest.mark.parametrize("arn, name", [
    ("arn:aws:iam::111122223333:user/alice", "alice"),
    ("arn:aws:iam::111122223333:user/dev/alice", "alice"),
    ("arn:aws:sts::111122223333:assumed-role/Admin/session-1", "Admin"),
    ("arn:aws:iam::111122223333:role/service-role/Backup", "Backup"),
    ("arn:aws-cn:iam::111122223333:role/Reader", "Reader"),
    ("anonymous at 203.0.113.9", "anonymous at 203.0.113.9"),
    ("arn:aws:s3:::bucket", "arn:aws:s3:::bucket"),
    (None, "?"),
])
def test_principal_name(arn, name):
    assert aws_policy.principal_name(arn) == name


def test_arn_resource_of_a_bucket_arn_is_the_bucket():
    assert aws_policy.arn_resource("arn:aws:s3:::backup-bucket") == "backup-bucket"
    assert aws_policy.arn_resource("backup-bucket") == "backup-bucket"


@pytest.mark.parametrize("arn, admin", [
    ("arn:aws:iam::aws:policy/AdministratorAccess", True),
    ("arn:aws-us-gov:iam::aws:policy/IAMFullAccess", True),
    ("arn:aws:iam::aws:policy/poweruseraccess", True),
    ("arn:aws:iam::aws:policy/ReadOnlyAccess", False),
    ("arn:aws:iam::111122223333:policy/AdministratorAccess", False),   # a customer policy of that name
    (None, False),
])
def test_admin_managed_policies(arn, admin):
    assert aws_policy.is_admin_managed_policy(arn) is admin


def test_bytes_text_macro_writes_what_format_bytes_writes():
    views = (REPO / "rules" / "exfiltration" / "views.sql").read_text()
    con = duckdb.connect()
    con.execute(views[views.index("create or replace macro exfiltration_in_unit"):])
    generator = random.Random(16)
    values = [0, 1, 2, 1023, 1024, 1025, 1536, 10239, 10240, 1048575, 1048576, 1073741823, 1073741824,
              2 ** 40 - 1, 2 ** 40, 2 ** 50, 3 * 2 ** 50 + 12345]
    values += [generator.randrange(0, 2 ** generator.randrange(1, 53)) for _ in range(5000)]
    found = con.execute("""
        select list(v) filter (where format_bytes(v) <> exfiltration_bytes_text(v))
        from (select unnest(?::bigint[]) as v)
    """, [values]).fetchall()
    assert found == [(None,)] or found == [([],)]
