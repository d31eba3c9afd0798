"""Identity lineage: every access key resolved to the principal and the chain behind it."""
import pytest

import casedb
import lineage
from conftest import ACCOUNT, SHARED_DATA, build_case, event, ingest, needs_shared_data
from identity_fixtures import (KALI, assume_role, escalation_records, role_session, stolen_lambda_records, user)


def built(db_path):
    con = casedb.connect(str(db_path))
    lineage.build(con)
    return con


def row(con, key):
    return lineage.behind(con, key)


def test_role_chain_resolves_to_the_user_behind_it(tmp_path):
    alice = user("alice", "AKIAALICE00000000001")
    first = role_session("Deploy", "alice-deploy", "ASIACHAIN00000000001")
    second = role_session("Admin", "hop", "ASIACHAIN00000000002")
    records = [assume_role(alice, "Deploy", "alice-deploy", "ASIACHAIN00000000001", "2026-11-02T09:00:00Z"),
               assume_role(first, "Admin", "hop", "ASIACHAIN00000000002", "2026-11-02T09:05:00Z"),
               event("ListUsers", "iam.amazonaws.com", "2026-11-02T09:06:00Z", second)]
    con = built(build_case(tmp_path, records))
    try:
        hop = row(con, "ASIACHAIN00000000002")
        assert hop["principal"] == f"arn:aws:iam::{ACCOUNT}:role/Admin"
        assert hop["origin"] == "assumed-role" and hop["minted_by_call"] == "AssumeRole"
        assert hop["parent_key"] == "ASIACHAIN00000000001"
        assert hop["first_principal"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
        assert hop["first_key"] == "AKIAALICE00000000001"
        assert hop["chain"] == [f"arn:aws:iam::{ACCOUNT}:user/alice", f"arn:aws:iam::{ACCOUNT}:role/Deploy",
                                f"arn:aws:iam::{ACCOUNT}:role/Admin"]
        assert hop["chain_keys"] == ["AKIAALICE00000000001", "ASIACHAIN00000000001", "ASIACHAIN00000000002"]
        assert hop["depth"] == 2 and hop["note"] is None
        long_term = row(con, "AKIAALICE00000000001")
        assert long_term["origin"] == "user-key" and long_term["first_principal"] == long_term["principal"]
    finally:
        con.close()


def test_session_minted_outside_the_logs_is_unknown_never_guessed(tmp_path):
    session = role_session("Admin", "someone", "ASIANOMINT0000000001")
    con = built(build_case(tmp_path, [event("ListUsers", "iam.amazonaws.com", identity=session)]))
    try:
        found = row(con, "ASIANOMINT0000000001")
        assert found["first_principal"] == "unknown"
        assert found["chain"][0] == "unknown"
        assert "not in these logs" in found["note"]
    finally:
        con.close()


def test_a_chain_that_loops_stops(tmp_path):
    a = role_session("A", "a", "ASIALOOP000000000001")
    b = role_session("B", "b", "ASIALOOP000000000002")
    records = [assume_role(a, "B", "b", "ASIALOOP000000000002", "2026-11-02T09:00:00Z"),
               assume_role(b, "A", "a", "ASIALOOP000000000001", "2026-11-02T09:01:00Z")]
    con = built(build_case(tmp_path, records))
    try:
        found = row(con, "ASIALOOP000000000002")
        assert found["first_principal"] == "unknown"
        assert "loops" in found["note"]
    finally:
        con.close()


def test_service_session_is_marked_with_where_it_is_normally_used(tmp_path):
    records, stolen = stolen_lambda_records()
    con = built(build_case(tmp_path, records + stolen))
    try:
        found = row(con, "ASIALAMBDA0000000001")
        assert found["service"] == "lambda.amazonaws.com"
        assert found["origin"] == "service" and found["first_principal"] == "lambda.amazonaws.com"
        assert "minted by lambda.amazonaws.com" in found["service_evidence"]
        assert found["service_agents"] == ["lambda-runtime"]
        assert "203.0.0.0/16" not in found["service_networks"]
        assert set(found["agent_families"]) == {"aws-cli darwin", "lambda-runtime"}
    finally:
        con.close()


def test_one_principal_whatever_the_spelling(tmp_path):
    typed = {"type": "IAMUser", "principalId": "AIDABOB", "accountId": ACCOUNT, "accessKeyId": "", "userName": "bob"}
    hidden = {"type": "IAMUser", "accountId": ACCOUNT, "accessKeyId": "", "userName": "HIDDEN_DUE_TO_SECURITY_REASONS"}
    records = [event("ConsoleLogin", "signin.amazonaws.com", identity=typed, errorMessage="Failed authentication",
                     responseElements={"ConsoleLogin": "Failure"}),
               event("ConsoleLogin", "signin.amazonaws.com", identity=hidden, errorMessage="Failed authentication",
                     responseElements={"ConsoleLogin": "Failure"}),
               event("ConsoleLogin", "signin.amazonaws.com", identity=user("bob", ""),
                     responseElements={"ConsoleLogin": "Success"})]
    con = built(build_case(tmp_path, records))
    try:
        principals = casedb.rows(con, """
            select ct_principal(user_type, user_arn, user_name, principal_id, user_account_id, session_issuer_arn, invoked_by)
            from events order by event_id""")
        assert principals == [(f"arn:aws:iam::{ACCOUNT}:user/bob",), (None,), (f"arn:aws:iam::{ACCOUNT}:user/bob",)]
    finally:
        con.close()


@pytest.mark.parametrize("agent, family", [
    ("aws-cli/2.15.57 md/awscrt#0.19.19 ua/2.0 os/macos#23.5.0 md/arch#arm64", "aws-cli darwin"),
    (KALI, "aws-cli linux"),
    ("AWS Internal", "aws-internal"),
    ("aws-sdk-nodejs/2.1 linux/v18 exec-env/AWS_Lambda_nodejs18.x", "lambda-runtime"),
    ("Boto3/1.34.120 md/Botocore#1.34.120 ua/2.0 os/linux#5.15", "boto"),
    ("TruffleHog", "trufflehog"),
    (None, "none"),
])
def test_agent_families(tmp_path, agent, family):
    con = casedb.connect(str(tmp_path / "x.db"), create=True)
    try:
        lineage.ensure_macros(con)
        assert casedb.scalar(con, "select ct_agent_family(?)", [agent]) == family
    finally:
        con.close()


def test_escalated_session_resolves_to_the_brute_forcing_key(tmp_path):
    con = built(build_case(tmp_path, escalation_records()))
    try:
        found = row(con, "ASIAESCALATED0000001")
        assert found["first_key"] == "AKIAMALLORY000000001"
        assert found["first_principal"] == f"arn:aws:iam::{ACCOUNT}:user/mallory"
    finally:
        con.close()


@needs_shared_data
def test_real_assume_role_keys_resolve_to_the_user(tmp_path):
    db = tmp_path / "real.db"
    assert ingest(db, SHARED_DATA / "stratus-red-team" / "s3", SHARED_DATA / "otrf" / "s3") == 0
    con = built(db)
    try:
        # Stratus: christophe's long-term key assumes the technique's role; the session does the attack.
        found = row(con, "ASIANQQHHS551LWULIWD")
        assert found["minted_by_call"] == "AssumeRole"
        assert found["first_principal"].endswith(":user/christophe")
        assert found["chain_keys"][0].startswith("AKIA")
        # OTRF: the EC2 service minted the instance's session; the session is a service session.
        instance = row(con, "ASIA5FLZVX4OPVKKVBMX")
        assert instance["service"] == "ec2.amazonaws.com" and instance["origin"] == "service"
        # The federation token names its IAM user.
        federated = row(con, "ASIASTJKC5GCM7ZE6LUP")
        assert federated["origin"] == "federation-token"
        assert federated["first_principal"].endswith(":user/stratus-red-team-user-federation-user")
        # Nothing is a placeholder principal.
        assert casedb.scalar(con, """select count(*) from identity_lineage
                                     where principal like '%HIDDEN_DUE_TO_SECURITY_REASONS%'
                                        or first_principal like '%HIDDEN_DUE_TO_SECURITY_REASONS%'""") == 0
    finally:
        con.close()
