"""Console sign-in detections: a positive and a near-miss negative for each, and the script end to end."""
import datetime as dt

import pytest

import analyze_console_logins as console
from conftest import ACCOUNT, build_case, detect, event, fired_ids, stored


def sign_in(user="alice", ok=True, mfa="Yes", ip="198.51.100.7", time="2026-11-02T10:00:00Z", identity=None,
            **fields):
    """A ConsoleLogin record in AWS's shapes: failures carry no arn and no errorCode."""
    if identity is None:
        identity = {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root",
                    "accountId": ACCOUNT} if user == "root" else {
            "type": "IAMUser", "principalId": f"AIDA{user.upper()}", "accountId": ACCOUNT,
            "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}", "userName": user}
        if not ok:
            identity.pop("arn", None)
            identity.setdefault("userName", user)
    record = event("ConsoleLogin", "signin.amazonaws.com", time, identity, sourceIPAddress=ip,
                   userAgent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", eventType="AwsConsoleSignIn",
                   readOnly=False, responseElements={"ConsoleLogin": "Success" if ok else "Failure"},
                   additionalEventData={"LoginTo": "https://console.aws.amazon.com/console/home",
                                        "MobileVersion": "No", "MFAUsed": mfa}, **fields)
    if not ok:
        record["errorMessage"] = "Failed authentication"
    return record


def at(minutes):
    start = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.timezone.utc)
    return (start + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def found_for(tmp_path, records, **window):
    return detect(build_case(tmp_path, records), console, **window)


def test_root_sign_in_fires_with_severity_by_mfa(tmp_path):
    without_mfa, with_mfa = sign_in("root", mfa="No"), sign_in("root", mfa="Yes", time=at(5))
    found = found_for(tmp_path, [without_mfa, with_mfa, sign_in("root", ok=False, time=at(9)), sign_in("alice")])
    rows = {f["event_id"]: f for f in found["root_console_login_succeeded"]}
    assert set(rows) == {without_mfa["eventID"], with_mfa["eventID"]}
    assert rows[without_mfa["eventID"]]["severity"] == "critical"
    assert rows[with_mfa["eventID"]]["severity"] == "high"


def test_sign_in_without_mfa_for_iam_user_and_root_only(tmp_path):
    alice, root = sign_in("alice", mfa="No"), sign_in("root", mfa="No", time=at(1))
    sso = sign_in(mfa="No", time=at(2), identity={
        "type": "AssumedRole", "principalId": "AROA:bob@example.com", "accountId": ACCOUNT,
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0123/bob@example.com"})
    saml = sign_in("carol", mfa="No", time=at(3))
    saml["additionalEventData"]["SamlProviderArn"] = f"arn:aws:iam::{ACCOUNT}:saml-provider/Okta"
    found = found_for(tmp_path, [alice, root, sso, saml, sign_in("dave", mfa="Yes", time=at(4)),
                                 sign_in("erin", ok=False, mfa="No", time=at(5))])
    rows = {f["event_id"]: f["severity"] for f in found["console_login_succeeded_without_mfa"]}
    assert rows == {alice["eventID"]: "medium", root["eventID"]: "critical"}


def test_failed_sign_ins_grouped_per_user_and_ip(tmp_path):
    first, second = sign_in("bob", ok=False), sign_in("bob", ok=False, time=at(1))
    other_ip = sign_in("bob", ok=False, ip="203.0.113.9", time=at(2))
    found = found_for(tmp_path, [first, second, other_ip, sign_in("bob", time=at(3))])
    rows = found["console_login_failed"]
    assert len(rows) == 2
    grouped = next(r for r in rows if r["source_ip"] == "198.51.100.7")
    assert grouped["event_ids"] == [first["eventID"], second["eventID"]]
    assert grouped["error_code"] == "Failed authentication"


@pytest.mark.parametrize("failures, spread_minutes, fires", [(10, 9, True), (9, 8, False), (10, 150, False)])
def test_brute_force_from_ip_needs_enough_failures_close_together(tmp_path, failures, spread_minutes, fires):
    records = [sign_in("bob", ok=False, ip="203.0.113.50", time=at(i * spread_minutes / max(failures - 1, 1)))
               for i in range(failures)]
    found = found_for(tmp_path, records)
    assert bool(found["console_login_brute_forced_from_ip"]) is fires


@pytest.mark.parametrize("users, fires", [(5, True), (4, False)])
def test_password_spraying_counts_distinct_user_names(tmp_path, users, fires):
    records = [sign_in(f"user{i}", ok=False, ip="203.0.113.60", time=at(i * 5)) for i in range(users)]
    records += [sign_in("user0", ok=False, ip="203.0.113.60", time=at(30 + i)) for i in range(3)]
    found = found_for(tmp_path, records)
    assert bool(found["console_password_sprayed_from_ip"]) is fires


@pytest.mark.parametrize("failures, fires", [(10, True), (9, False)])
def test_brute_force_on_one_user_from_many_ips(tmp_path, failures, fires):
    records = [sign_in("carol", ok=False, ip=f"203.0.113.{i + 1}", time=at(i)) for i in range(failures)]
    found = found_for(tmp_path, records)
    assert bool(found["console_login_brute_forced_on_user"]) is fires


def test_success_after_failures_from_the_same_ip(tmp_path):
    failures = [sign_in(f"user{i}", ok=False, ip="203.0.113.70", time=at(i)) for i in range(3)]
    success = sign_in("bob", mfa="No", ip="203.0.113.70", time=at(10))
    elsewhere = sign_in("alice", ip="198.51.100.8", time=at(11))
    found = found_for(tmp_path, failures + [success, elsewhere])
    rows = found["console_login_succeeded_after_failures"]
    assert [r["event_id"] for r in rows] == [success["eventID"]]
    assert rows[0]["event_ids"] == [f["eventID"] for f in failures] + [success["eventID"]]


def test_success_long_after_failures_does_not_fire(tmp_path):
    failures = [sign_in("bob", ok=False, ip="203.0.113.70", time=at(i)) for i in range(3)]
    found = found_for(tmp_path, failures + [sign_in("bob", ip="203.0.113.70", time=at(180))])
    assert found["console_login_succeeded_after_failures"] == []


def test_new_source_ip_uses_history_before_the_window(tmp_path):
    first = sign_in("alice", ip="198.51.100.7", time="2026-11-01T09:00:00Z")
    again = sign_in("alice", ip="198.51.100.7", time="2026-11-02T09:00:00Z")
    new_ip = sign_in("alice", ip="203.0.113.80", time="2026-11-03T09:00:00Z")
    newcomer = sign_in("bob", ip="203.0.113.81", time="2026-11-03T09:30:00Z")
    db = build_case(tmp_path, [first, again, new_ip, newcomer])
    since = dt.datetime(2026, 11, 3, tzinfo=dt.timezone.utc)
    for window in ({}, {"since": since}):
        found = detect(db, console, **window)
        assert [f["event_id"] for f in found["console_login_from_new_ip"]] == [new_ip["eventID"]]


def test_failed_mfa_means_the_password_was_accepted(tmp_path):
    mfa_failed = sign_in("alice", ok=False, mfa="Yes")
    found = found_for(tmp_path, [mfa_failed, sign_in("bob", ok=False, mfa="No", time=at(1))])
    assert fired_ids(found, "console_mfa_failed") == {mfa_failed["eventID"]}


def test_signin_token_from_a_script_but_not_from_the_sso_portal(tmp_path):
    scripted = event("GetSigninToken", "signin.amazonaws.com", identity="role:Admin/attacker",
                     userAgent="python-requests/2.31.0")
    portal = event("GetSigninToken", "signin.amazonaws.com", identity="role:AWSReservedSSO_Admin/bob",
                   userAgent="Jersey/${project.version}")
    found = found_for(tmp_path, [scripted, portal])
    assert fired_ids(found, "console_signin_token_requested") == {scripted["eventID"]}


def test_root_password_change_and_failed_attempt(tmp_path):
    changed = event("PasswordUpdated", "signin.amazonaws.com", identity="root",
                    responseElements={"PasswordUpdated": "Success"})
    attempt = event("PasswordUpdated", "signin.amazonaws.com", identity="root", time=at(5),
                    responseElements={"PasswordUpdated": "Failure"})
    by_user = event("PasswordUpdated", "signin.amazonaws.com", identity="alice", time=at(6),
                    responseElements={"PasswordUpdated": "Success"})
    found = found_for(tmp_path, [changed, attempt, by_user])
    rows = {f["event_id"]: f["error_code"] for f in found["root_password_changed_or_recovered"]}
    assert rows == {changed["eventID"]: None, attempt["eventID"]: "Failure"}


def test_script_writes_report_charts_and_findings(tmp_path, capsys):
    records = [sign_in(f"user{i}", ok=False, ip="203.0.113.90", time=at(i)) for i in range(12)]
    records += [sign_in("bob", mfa="No", ip="203.0.113.90", time=at(20)), sign_in("root", mfa="No", time=at(30))]
    db = build_case(tmp_path, records)
    assert console.main(["analyze_console_logins.py", str(db), "2026-11-02", "2026-11-02"]) == 0
    printed = capsys.readouterr().out
    report = next((tmp_path / "reports").glob("console_logins_report-*.md"))
    text = report.read_text()
    assert str(report) in printed
    assert "console_password_sprayed_from_ip" in text and "console_login_succeeded_after_failures" in text
    assert list((tmp_path / "reports").glob("console_logins_activity-*.png"))
    assert list((tmp_path / "reports").glob("analyst_log-*.md"))
    detectors = stored(db, "select distinct detector from findings")
    assert detectors == [("console_logins",)]
    # A rerun replaces the detector's findings instead of adding to them.
    count = stored(db, "select count(*) from findings")[0][0]
    assert console.main(["analyze_console_logins.py", str(db)]) == 0
    assert stored(db, "select count(*) from findings")[0][0] == count


def test_bad_window_is_a_usage_error(tmp_path, capsys):
    db = build_case(tmp_path, [sign_in()])
    assert console.main(["analyze_console_logins.py", str(db), "yesterday"]) == 2
    assert "cannot read 'yesterday'" in capsys.readouterr().err


def test_federated_user_console_session_but_not_sso(tmp_path):
    federated = sign_in(mfa="No", identity={"type": "FederatedUser", "principalId": f"{ACCOUNT}:backup",
                                            "arn": f"arn:aws:sts::{ACCOUNT}:federated-user/backup",
                                            "accountId": ACCOUNT})
    sso = sign_in(mfa="No", time=at(1), identity={
        "type": "AssumedRole", "principalId": "AROA:bob@example.com", "accountId": ACCOUNT,
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0123/bob@example.com"})
    found = found_for(tmp_path, [federated, sso])
    assert fired_ids(found, "console_login_succeeded_as_federated_user") == {federated["eventID"]}


def test_new_ip_for_an_sso_session_is_low(tmp_path):
    sso = {"type": "AssumedRole", "principalId": "AROA:bob@example.com", "accountId": ACCOUNT,
           "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0123/bob@example.com"}
    first = sign_in(mfa="No", identity=sso, ip="198.51.100.7")
    new_ip = sign_in(mfa="No", identity=sso, ip="203.0.113.44", time=at(60))
    rows = found_for(tmp_path, [first, new_ip])["console_login_from_new_ip"]
    assert [(r["event_id"], r["severity"]) for r in rows] == [(new_ip["eventID"], "low")]
