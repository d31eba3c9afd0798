"""Actor resolution (key -> user, role session -> issuer, IP -> identities, name -> user) with a
near miss for each, and the script end to end: timeline, failed calls, findings, escaping."""
import pytest

import analyze_actor as actor_script
import analyze_console_logins as console
import casedb
import common
from conftest import ACCOUNT, build_case, event, needs_shared_data, shared_log_trees, ingest, analyst_logs

ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/Admin"


def user(name, key):
    return {"type": "IAMUser", "principalId": f"AIDA{name.upper()}", "accountId": ACCOUNT,
            "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}", "accessKeyId": key, "userName": name}


def session(role, name, key):
    return {"type": "AssumedRole", "principalId": f"AROA{role.upper()}:{name}", "accountId": ACCOUNT,
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{name}", "accessKeyId": key,
            "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": f"AROA{role.upper()}",
                                                 "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                                                 "accountId": ACCOUNT, "userName": role},
                               "attributes": {"mfaAuthenticated": "false"}}}


def assume_role(caller, role, name, key, ip="198.51.100.7", time="2026-11-02T09:59:00Z"):
    return event("AssumeRole", "sts.amazonaws.com", time, caller, sourceIPAddress=ip,
                 requestParameters={"roleArn": f"arn:aws:iam::{ACCOUNT}:role/{role}", "roleSessionName": name},
                 responseElements={"credentials": {"accessKeyId": key, "expiration": "Nov 2, 2026, 11:00:00 AM"},
                                   "assumedRoleUser": {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{name}",
                                                       "assumedRoleId": f"AROA{role.upper()}:{name}"}})


def resolve(db, text, since=None, until=None):
    """(resolution, event ids of the actor's own calls, {related event id: relation})."""
    con = casedb.open_case(str(db))
    try:
        casedb.set_window(con, since, until)
        r = actor_script.resolve(con, text)
        actor_script.load_actor_events(con, r)
        own = {e for (e,) in casedb.rows(con, "select event_id from actor_events where own")}
        related = dict(casedb.rows(con, "select event_id, relation from actor_events where not own"))
        return r, own, related
    finally:
        con.close()


def test_access_key_resolves_to_its_user_and_the_call_that_created_it(tmp_path):
    created = event("CreateAccessKey", "iam.amazonaws.com", "2026-11-02T09:00:00Z", "root",
                    requestParameters={"userName": "alice"},
                    responseElements={"accessKey": {"accessKeyId": "AKIAALICE00000000001", "userName": "alice",
                                                    "status": "Active"}})
    with_key = event("ListBuckets", "s3.amazonaws.com", identity=user("alice", "AKIAALICE00000000001"))
    other_key = event("ListUsers", "iam.amazonaws.com", "2026-11-02T10:05:00Z", user("alice", "AKIAALICE00000000002"))
    bob = event("ListBuckets", "s3.amazonaws.com", identity=user("bob", "AKIABOB0000000000001"))
    r, own, related = resolve(build_case(tmp_path, [created, with_key, other_key, bob]), "AKIAALICE00000000001")
    assert r.actors == {ALICE}
    assert own == {with_key["eventID"], other_key["eventID"]}
    assert related == {created["eventID"]: "obtained its credentials"}
    assert bob["eventID"] not in own


def test_role_session_resolves_to_its_issuer_and_who_assumed_it(tmp_path):
    target = f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/s1"
    assumed = assume_role("alice", "Admin", "s1", "ASIAS1000000000000001")
    used = event("GetObject", "s3.amazonaws.com", identity=session("Admin", "s1", "ASIAS1000000000000001"),
                 sourceIPAddress="203.0.113.9", requestParameters={"bucketName": "b", "key": "k"})
    other_session = event("GetObject", "s3.amazonaws.com", identity=session("Admin", "s2", "ASIAS2000000000000001"))
    alice_elsewhere = event("ListUsers", "iam.amazonaws.com", "2026-11-02T10:01:00Z", "alice")
    db = build_case(tmp_path, [assumed, used, other_session, alice_elsewhere])
    r, own, related = resolve(db, target)
    assert own == {used["eventID"]}
    assert related == {assumed["eventID"]: "obtained its credentials"}
    assert (ADMIN_ROLE, "issuing role") in {(value, what) for value, what, _ in r.reasons}
    commands = [command for _, command in actor_script.pivots(str(db), r, [])]
    assert any(ALICE in command for command in commands) and any("198.51.100.7" in command for command in commands)
    # The role (by ARN or by name) is every session of it; alice's own calls are never folded in.
    for text in (ADMIN_ROLE, "Admin"):
        _, own, _ = resolve(db, text)
        assert own == {used["eventID"], other_session["eventID"]}


def test_instance_profile_session_collects_every_renewal_of_its_credentials(tmp_path):
    renewals = [event("AssumeRole", "sts.amazonaws.com", f"2026-11-02T0{hour}:00:00Z", identity={
                    "type": "AWSService", "invokedBy": "ec2.amazonaws.com"}, sourceIPAddress="ec2.amazonaws.com",
                    requestParameters={"roleArn": ADMIN_ROLE, "roleSessionName": "i-0abc"},
                    responseElements={"credentials": {"accessKeyId": f"ASIARENEW{hour}00000000001"}})
                for hour in (7, 8)]
    elsewhere = event("AssumeRole", "sts.amazonaws.com", "2026-11-02T08:00:00Z", identity={
                    "type": "AWSService", "invokedBy": "ec2.amazonaws.com"}, sourceIPAddress="ec2.amazonaws.com",
                    requestParameters={"roleArn": ADMIN_ROLE, "roleSessionName": "i-0def"},
                    responseElements={"credentials": {"accessKeyId": "ASIAOTHER00000000001"}})
    used = event("ListBuckets", "s3.amazonaws.com", identity=session("Admin", "i-0abc", "ASIARENEW800000000001"),
                 sourceIPAddress="203.0.113.7")
    r, own, related = resolve(build_case(tmp_path, renewals + [elsewhere, used]), "i-0abc")
    assert own == {used["eventID"]}
    assert set(related) == {e["eventID"] for e in renewals}
    assert r.session_names == {"i-0abc"}


def test_ip_resolves_to_every_identity_that_used_it_but_not_their_other_calls(tmp_path):
    alice_here = event("ListBuckets", "s3.amazonaws.com", identity="alice", sourceIPAddress="203.0.113.50")
    bob_here = event("ListUsers", "iam.amazonaws.com", identity="bob", sourceIPAddress="203.0.113.50")
    alice_elsewhere = event("ListRoles", "iam.amazonaws.com", identity="alice", sourceIPAddress="198.51.100.7")
    db = build_case(tmp_path, [alice_here, bob_here, alice_elsewhere])
    con = casedb.open_case(str(db))
    try:
        r = actor_script.resolve(con, "203.0.113.50")
        identities = casedb.rows(con, actor_script.IDENTITIES_SQL, r.params())
    finally:
        con.close()
    assert {row[0] for row in identities} == {ALICE, f"arn:aws:iam::{ACCOUNT}:user/bob"}
    _, own, _ = resolve(db, "203.0.113.50")
    assert own == {alice_here["eventID"], bob_here["eventID"]}


def test_user_name_includes_failed_sign_ins_that_have_no_arn(tmp_path):
    failed = event("ConsoleLogin", "signin.amazonaws.com", identity={
        "type": "IAMUser", "principalId": "AIDAALICE", "accountId": ACCOUNT, "userName": "alice"},
        responseElements={"ConsoleLogin": "Failure"}, errorMessage="Failed authentication")
    other_account = event("ConsoleLogin", "signin.amazonaws.com", identity={
        "type": "IAMUser", "principalId": "AIDAALICE", "accountId": "444455556666", "userName": "alice"},
        responseElements={"ConsoleLogin": "Failure"}, errorMessage="Failed authentication",
        recipientAccountId="444455556666")
    call = event("ListBuckets", "s3.amazonaws.com", identity="alice")
    alicia = event("ListBuckets", "s3.amazonaws.com", identity="alicia")
    db = build_case(tmp_path, [failed, other_account, call, alicia])
    for text, expected in ((ALICE, [failed, call]), ("alice", [failed, call, other_account])):
        _, own, _ = resolve(db, text)
        assert own == {e["eventID"] for e in expected}, text


def test_unknown_actor_is_an_error_that_suggests_similar_names(tmp_path, capsys):
    db = build_case(tmp_path, [event(identity="alice")])
    assert actor_script.main(["analyze_actor.py", str(db), "alic"]) == 1
    err = capsys.readouterr().err
    assert "no calls by alic" in err and ALICE in err
    assert not list((tmp_path / "reports").glob("actor_report-*.md"))


@pytest.mark.parametrize("window", [["yesterday"], ["2026-11-02", "soon"], ["2026-11-03", "2026-11-01"]])
def test_bad_window_is_a_usage_error(tmp_path, capsys, window):
    db = build_case(tmp_path, [event()])
    assert actor_script.main(["analyze_actor.py", str(db), "alice", *window]) == 2
    assert "usage: analyze_actor.py" in capsys.readouterr().err


def test_report_has_timeline_failed_calls_and_findings_and_escapes_log_text(tmp_path, capsys, monkeypatch):
    hostile = "evil`agent|<img src=x onerror=alert(1)> [x](http://attacker.example)"
    records = [event("ConsoleLogin", "signin.amazonaws.com", f"2026-11-02T10:0{i}:00Z", "alice",
                     userAgent=hostile, eventType="AwsConsoleSignIn",
                     responseElements={"ConsoleLogin": "Success"},
                     additionalEventData={"MFAUsed": "No"}) for i in range(2)]
    denied = event("GetSecretValue", "secretsmanager.amazonaws.com", "2026-11-02T10:05:00Z", "alice",
                   errorCode="AccessDenied", errorMessage="not authorized", requestParameters={"secretId": "prod/db"})
    listed = [event("ListBuckets", "s3.amazonaws.com", f"2026-11-02T10:1{i}:00Z", "alice") for i in range(3)]
    db = build_case(tmp_path, records + [denied] + listed)
    # The runs below happen a few minutes later, as on a busy machine: their analyst log is
    # another file than the ingest's (this once failed when a minute boundary fell between).
    later = common.now_utc() + common.dt.timedelta(minutes=3)
    monkeypatch.setattr(common, "now_utc", lambda: later)
    assert console.main(["analyze_console_logins.py", str(db)]) == 0
    assert actor_script.main(["analyze_actor.py", str(db), "alice", "2026-11-02"]) == 0
    reports = list((tmp_path / "reports").glob("actor_report-*.md"))
    assert len(reports) == 1 and "alice" not in reports[0].name
    text = reports[0].read_text()
    assert "console_login_succeeded_without_mfa" in text
    failed = text.split("## Failed calls")[1].split("## Timeline")[0]
    assert "GetSecretValue" in failed and "AccessDenied" in failed and "prod/db" in failed
    timeline = text.split("## Timeline")[1]
    assert "| 3 |" in timeline  # the three identical ListBuckets calls are one row
    # Log text is shown only inside code spans: the pipe cannot end a cell, the link is not a link.
    assert common.md_code(hostile, 50) in text
    assert "agent|<img" not in text and "[x](http" not in text.replace(common.md_code(hostile, 50), "")
    assert list((tmp_path / "reports").glob("actor_activity-*.png"))
    log = analyst_logs(tmp_path / "reports")
    assert "analyze\\_actor.py" in log and "Identities folded in" in log
    assert str(reports[0]) in capsys.readouterr().out


@needs_shared_data
def test_real_instance_role_session_from_otrf(tmp_path):
    db = tmp_path / "case.db"
    assert ingest(db, *shared_log_trees()) in (0, 1)
    target = ("arn:aws:sts::123456789123:assumed-role/MordorNginxStack-BankingWAFRole-9S3E0UAE1MM0/"
              "i-0317f6c6b66ae9c40")
    r, own, related = resolve(db, target)
    assert len(own) == 11 and {row[3] for row in r.related} == {"ec2.amazonaws.com"}
    assert "ASIA5FLZVX4OPVKKVBMX" in {row[9] for row in r.related}
    # Panther's hand-made records all have eventID "1", so count rows rather than ids.
    con = casedb.open_case(str(db))
    try:
        r = actor_script.resolve(con, "92.55.146.245")
        actor_script.load_actor_events(con, r)
        assert casedb.scalar(con, "select count(*) from actor_events where own") == 12
        assert {a for a, *_ in casedb.rows(con, actor_script.IDENTITIES_SQL, r.params())} == {
            "arn:aws:iam::493859302102:root", "arn:aws:iam::493859302102:user/tracy_stone"}
    finally:
        con.close()
