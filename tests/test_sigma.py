"""Sigma rules the analyst brings (sigma_rules.py, analyze_sigma.py).

The 57 SigmaHQ CloudTrail rules in ../shared/data/sigma/rules are run over the public records
and every rule's hits are compared with an independent evaluation written here: a small
Sigma matcher in plain Python over the parsed JSON records, which shares no code with the
converter (it reads the rule YAML itself, walks the records as Python objects, matches with
Python regular expressions and evaluates the condition with Python's own and/or/not)."""
import functools
import ipaddress
import re
import shutil
from collections import Counter
from pathlib import Path

import orjson
import pytest
import yaml

import analyze_sigma
import casedb
import sigma_rules
from conftest import (SHARED_DATA, as_read, build_case, event, ingest, labelled_records, needs_shared_data,
                      shared_log_trees, stored, write_log_file)

SIGMA_RULES = SHARED_DATA / "sigma" / "rules"
MFA_RULE = "aws_cloudtrail_console_login_success_without_mfa.yml"


# ---------------------------------------------------------------- the independent matcher

def _values_at(node, path):
    """Every value at the dotted path, looking into every element of a list on the way."""
    if isinstance(node, list):
        return [v for item in node for v in _values_at(item, path)]
    if not path:
        return [node]
    if isinstance(node, dict) and path[0] in node:
        return _values_at(node[path[0]], path[1:])
    return []


def _leaves(value):
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [] if value is None else [value]


def _as_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _wildcard_regex(text):
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in "*?\\":
            out.append(re.escape(text[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=None)
def _value_test(rule_value, modifiers):
    """function(text) -> bool for one value of the rule (modifiers: a frozenset)."""
    if "re" in modifiers:
        flags = (re.IGNORECASE if "i" in modifiers else 0) | (re.MULTILINE if "m" in modifiers else 0) \
            | (re.DOTALL if "s" in modifiers else 0)
        compiled = re.compile(str(rule_value), flags)
        return lambda text: compiled.search(text) is not None
    if "cidr" in modifiers:
        network = ipaddress.ip_network(str(rule_value), strict=False)

        def in_network(text):
            try:
                return ipaddress.ip_address(text) in network
            except ValueError:
                return False
        return in_network
    for name, compare in (("gt", float.__gt__), ("gte", float.__ge__), ("lt", float.__lt__), ("lte", float.__le__)):
        if name in modifiers:
            def numeric(text, compare=compare):
                try:
                    return compare(float(text), float(rule_value))
                except ValueError:
                    return False
            return numeric
    if isinstance(rule_value, (int, float)) and not isinstance(rule_value, bool) and not modifiers - {"all"}:
        def same_number(text):
            try:
                return text.lower() == str(rule_value).lower() or float(text) == float(rule_value)
            except ValueError:
                return False
        return same_number
    text = _as_text(rule_value)
    if "windash" in modifiers:     # a dash that starts a word may be written as any of the five
        text = re.sub(r"(?<!\w)[-/\u2013\u2014\u2015](?=\w)", "\x01", text)
    body = _wildcard_regex(text).replace("\x01", "[-/\u2013\u2014\u2015]")
    if "contains" in modifiers:
        body = ".*" + body + ".*"
    elif "startswith" in modifiers:
        body = body + ".*"
    elif "endswith" in modifiers:
        body = ".*" + body
    compiled = re.compile(body, re.DOTALL | (0 if "cased" in modifiers else re.IGNORECASE))
    return lambda text: compiled.fullmatch(text) is not None


def _field_matches(record, record_text, key, wanted):
    name, *mods = key.split("|")
    mods = frozenset(mods)
    wanted = wanted if isinstance(wanted, list) else [wanted]
    if not name:     # keywords: the record's text
        return (all if "all" in mods else any)(_value_test(w, frozenset({"contains"}) | mods)(record_text) for w in wanted)
    path = name.split(".")
    found = _values_at(record, path)
    if "exists" in mods:      # the key is there, whatever its value
        return bool(found) == wanted[0]
    texts = [_as_text(leaf) for v in found for leaf in _leaves(v)]
    if "fieldref" in mods:
        others = [_as_text(leaf) for w in wanted for v in _values_at(record, w.split(".")) for leaf in _leaves(v)]
        return any(a.lower() == b.lower() for a in texts for b in others)

    def one(w):
        if w is None:
            return not any(v is not None for v in found)
        test = _value_test(w, mods)
        return any(test(t) for t in texts)
    results = [one(w) for w in wanted]
    return all(results) if "all" in mods else any(results)


def _selection_matches(selection, record, record_text):
    if isinstance(selection, dict):
        return all(_field_matches(record, record_text, k, v) for k, v in selection.items())
    if all(isinstance(item, dict) for item in selection):
        return any(_selection_matches(item, record, record_text) for item in selection)
    return _field_matches(record, record_text, "", selection)


def independent_match(rule, record, record_text):
    """Does this Sigma rule (parsed YAML) match this record (parsed JSON)?"""
    detection = dict(rule["detection"])
    condition = detection.pop("condition")
    results = {name: _selection_matches(body, record, record_text) for name, body in detection.items()}

    def of(pattern, every):
        names = [n for n in results if (fnmatch_name(pattern, n))]
        return (all if every else any)(results[n] for n in names)

    def fnmatch_name(pattern, name):
        if pattern == "them":
            return not name.startswith("_")
        return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), name) is not None

    # Python's not/and/or have Sigma's precedence; '1 of x' and 'all of x' become calls.
    expression = re.sub(r"\b(1|all|any) of ([\w*\-]+)",
                        lambda m: f"of({m.group(2)!r}, {m.group(1) == 'all'})", condition)
    expression = re.sub(r"(?<!['\w])([A-Za-z_][\w\-]*)(?!['\w(])",
                        lambda m: m.group(1) if m.group(1) in ("and", "or", "not", "True", "False")
                        else f"results[{m.group(1)!r}]", expression)
    return eval(expression, {"__builtins__": {}}, {"results": results, "of": of})   # noqa: S307 - test's own text


# ---------------------------------------------------------------- the public data

@pytest.fixture(scope="module")
def public_case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sigma-public")
    records = []
    for relative in ("panther/labelled_events.jsonl", "panther/test_scenarios_events.jsonl",
                     "traildiscover/labelled_events.jsonl", "awsdocs/example_events.jsonl"):
        records += [row["event"] for row in labelled_records(relative)]
    write_log_file(folder / "labelled", records, "labelled.json.gz")
    db = folder / "public.db"
    assert ingest(db, folder / "labelled", *shared_log_trees()) in (0, 1)   # 1: a deliberately bad sample file
    return db


def _rule_documents():
    return {path.name: yaml.safe_load(path.read_text()) for path in sorted(SIGMA_RULES.glob("*.yml"))}


@needs_shared_data
def test_every_sigmahq_rule_converts():
    rules, problems = sigma_rules.load_rules(sigma_rules.rule_files(SIGMA_RULES))
    assert problems == []
    assert len(rules) == 57
    mfa = next(r for r in rules if r.path.endswith(MFA_RULE))
    assert mfa.severity == "medium" and mfa.mitre == ("T1078.004",)
    assert all(m.startswith("T") for r in rules for m in r.mitre)


@needs_shared_data
def test_every_rule_agrees_with_the_independent_evaluation(public_case):
    con = casedb.connect(str(public_case))
    try:
        events = con.execute("select event_id, record from events order by event_id, record").fetchall()
        parsed = [(event_id, text, orjson.loads(text)) for event_id, text in events]
        documents = _rule_documents()
        rules = {Path(r.path).name: r for r in sigma_rules.load_rules(sigma_rules.rule_files(SIGMA_RULES))[0]}
        assert set(rules) == set(documents)
        disagreements, fired = {}, 0
        for name, document in documents.items():
            converted = Counter(con.execute(
                f"select event_id, record from events e where {rules[name].condition_sql}").fetchall())
            expected = Counter((event_id, text) for event_id, text, record in parsed
                               if independent_match(document, record, text))
            if converted != expected:
                disagreements[name] = (sorted(i for i, _ in converted - expected), sorted(i for i, _ in expected - converted))
            fired += bool(expected)
        assert disagreements == {}
        assert fired >= 30, "the public data should make most rules fire"
        # Sigma compares case-insensitively: 'NO' in the rule matches AWS's 'No'.
        mfa_hits = con.execute(f"""select count(*) from events e where
            {rules[MFA_RULE].condition_sql}""").fetchone()[0]
        as_aws_writes = con.execute("""select count(*) from events
            where event_name = 'ConsoleLogin' and additional_event_data ->> 'MFAUsed' = 'No'
              and response_elements ->> 'ConsoleLogin' = 'Success'""").fetchone()[0]
        assert mfa_hits == as_aws_writes > 0
    finally:
        con.close()


@needs_shared_data
def test_the_script_runs_every_rule_and_stores_its_hits(public_case, tmp_path, capsys):
    db = tmp_path / "case.db"
    shutil.copy(public_case, db)
    assert analyze_sigma.main(["analyze_sigma.py", str(db), str(SIGMA_RULES)]) == 0
    out = capsys.readouterr()
    assert "from 57 Sigma rule(s)" in out.out and "failed" not in out.out
    reports = list((tmp_path / "reports").glob("sigma_report-*.md"))
    assert len(reports) == 1
    text = reports[0].read_text()
    assert "57 ran" in text and "0 failed" in text
    rows = stored(db, """select detection_id, title, severity, mitre, event_id, summary from findings
                         where detector = 'sigma' order by detection_id, event_id""")
    mfa = [r for r in rows if r[1] == "AWS Successful Console Login Without MFA"]
    assert mfa and all(r[2] == "medium" and r[3] == ["T1078.004"] for r in mfa)
    assert {r[0] for r in mfa} == {yaml.safe_load((SIGMA_RULES / MFA_RULE).read_text())["id"]}
    con = casedb.connect(str(db))
    try:
        hits_per_rule = {r.id: con.execute(f"select count(*) from events e where {r.condition_sql}").fetchone()[0]
                         for r in sigma_rules.load_rules(sigma_rules.rule_files(SIGMA_RULES))[0]}
    finally:
        con.close()
    assert Counter(r[0] for r in rows) == Counter({i: n for i, n in hits_per_rule.items() if n})
    assert list((tmp_path / "reports").glob("analyst_log-*.md"))


# ---------------------------------------------------------------- modifiers and conditions

ACCOUNT_ARN = "arn:aws:iam::111122223333:user/"

RECORDS = [
    event("ConsoleLogin", "signin.amazonaws.com", eventID="mfa-no", sourceIPAddress="203.0.113.5",
          additionalEventData={"MFAUsed": "No", "LoginTo": "https://console.aws.amazon.com"},
          responseElements={"ConsoleLogin": "Success"}),
    event("ConsoleLogin", "signin.amazonaws.com", eventID="mfa-yes", sourceIPAddress="198.51.100.7",
          additionalEventData={"MFAUsed": "Yes"}, responseElements={"ConsoleLogin": "Success"}),
    event("CreateAccessKey", "iam.amazonaws.com", eventID="key-other", identity="alice",
          requestParameters={"userName": "bob"}, responseElements={"accessKey": {"userName": "bob"}}),
    event("CreateAccessKey", "iam.amazonaws.com", eventID="key-self", identity="bob",
          requestParameters={"userName": "BOB"}, responseElements={"accessKey": {"userName": "bob"}}),
    event("RegisterTaskDefinition", "ecs.amazonaws.com", eventID="ecs-creds",
          requestParameters={"containerDefinitions": [{"command": ["echo", "hi"]},
                                                      {"command": ["sh", "-c", "curl $AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]}]}),
    event("RegisterTaskDefinition", "ecs.amazonaws.com", eventID="ecs-plain",
          requestParameters={"containerDefinitions": [{"command": ["echo", "hi"]}]}),
    event("PutBucketVersioning", "s3.amazonaws.com", eventID="versioning-off",
          requestParameters={"bucketName": "logs", "VersioningConfiguration": {"Status": "Suspended"}}),
    event("PutBucketVersioning", "s3.amazonaws.com", eventID="versioning-on",
          requestParameters={"bucketName": "logs", "VersioningConfiguration": {"Status": "Enabled"}}),
    event("DeleteTrail", "cloudtrail.amazonaws.com", eventID="denied", errorCode="AccessDenied",
          errorMessage="User is not authorized", userAgent="50%_off*?\\tool"),
    event("DescribeInstances", eventID="numbers", userAgent="powershell -enc abc",
          requestParameters={"maxResults": 50, "fromPort": "22", "enabled": True, "ratio": 0.5}),
    event("DescribeInstances", eventID="hostile", userAgent="x' or 1=1 --; drop table events; \"",
          requestParameters={"filter": None}),
]


@pytest.fixture(scope="module")
def small_case(tmp_path_factory):
    return build_case(tmp_path_factory.mktemp("sigma-small"), RECORDS)


def hits(db, detection, strict=True):
    """The eventIDs a detection section matches, checked against the independent matcher too."""
    sql = sigma_rules.compile_detection(detection)
    con = casedb.connect(str(db))
    try:
        rows = con.execute(f"select event_id, record from events e where {sql}").fetchall()
        every = con.execute("select event_id, record from events").fetchall()
    finally:
        con.close()
    found = {event_id for event_id, _ in rows}
    if strict:
        expected = {event_id for event_id, text in every
                    if independent_match({"detection": detection}, orjson.loads(text), text)}
        assert found == expected
    return found


CASES = [
    # (name, detection, the eventIDs it must match)
    ("case-insensitive equality", {"s": {"additionalEventData.MFAUsed": "NO"}, "condition": "s"}, {"mfa-no"}),
    ("a path through lists", {"s": {"requestParameters.containerDefinitions.command|contains":
                                    "$aws_container_credentials"}, "condition": "s"}, {"ecs-creds"}),
    ("an object field matches any value inside it",
     {"s": {"requestParameters|contains": "suspended"}, "condition": "s"}, {"versioning-off"}),
    ("list = any value", {"s": {"eventName": ["ConsoleLogin", "DeleteTrail"]}, "condition": "s"},
     {"mfa-no", "mfa-yes", "denied"}),
    ("contains|all = every value", {"s": {"userAgent|contains|all": ["50%", "tool"]}, "condition": "s"}, {"denied"}),
    ("contains|all near miss", {"s": {"userAgent|contains|all": ["50%", "absent"]}, "condition": "s"}, set()),
    ("startswith", {"s": {"eventName|startswith": "createacc"}, "condition": "s"}, {"key-other", "key-self"}),
    ("endswith", {"s": {"sourceIPAddress|endswith": ".5"}, "condition": "s"}, {"mfa-no"}),
    ("wildcard *", {"s": {"errorMessage": "user * authorized"}, "condition": "s"}, {"denied"}),
    ("wildcard ?", {"s": {"eventName": "Consol?Login"}, "condition": "s"}, {"mfa-no", "mfa-yes"}),
    ("? is one character", {"s": {"eventName": "Consol?ogin"}, "condition": "s"}, set()),
    ("escaped * ? and backslash are literal", {"s": {"userAgent": "50%_off\\*\\?\\\\tool"}, "condition": "s"}, {"denied"}),
    ("% and _ are not wildcards", {"s": {"userAgent|startswith": "5_%"}, "condition": "s"}, set()),
    ("re is case-sensitive", {"s": {"userIdentity.arn|re": ":user/BOB$"}, "condition": "s"}, set()),
    ("re matches", {"s": {"userIdentity.arn|re": ":user/(bob|carol)$"}, "condition": "s"}, {"key-self"}),
    ("re|i", {"s": {"userIdentity.arn|re|i": ":user/BOB$"}, "condition": "s"}, {"key-self"}),
    ("cidr", {"s": {"sourceIPAddress|cidr": "203.0.113.0/24"}, "condition": "s"}, {"mfa-no"}),
    ("cidr near miss", {"s": {"sourceIPAddress|cidr": "203.0.112.0/24"}, "condition": "s"}, set()),
    ("exists true", {"s": {"errorCode|exists": True}, "condition": "s"}, {"denied"}),
    ("exists: a null value is present", {"s": {"requestParameters.filter|exists": True}, "condition": "s"},
     {"hostile"}),
    ("exists false", {"s": {"eventName": "DescribeInstances", "requestParameters.filter|exists": False},
                      "condition": "s"}, {"numbers"}),
    ("exists on a nested field", {"s": {"responseElements.accessKey.userName|exists": True}, "condition": "s"},
     {"key-other", "key-self"}),
    ("null = absent or null", {"s": {"eventName": "DescribeInstances", "requestParameters.filter": None},
                               "condition": "s"}, {"hostile", "numbers"}),
    ("fieldref equal case-insensitively", {"s": {"eventName": "CreateAccessKey",
                                                 "userIdentity.userName|fieldref": "requestParameters.userName"},
                                           "condition": "s"}, {"key-self"}),
    ("a number matches its text", {"s": {"requestParameters.maxResults": 50}, "condition": "s"}, {"numbers"}),
    ("a number matches the same number written as text", {"s": {"requestParameters.fromPort": 22.0},
                                                          "condition": "s"}, {"numbers"}),
    ("a boolean matches true", {"s": {"requestParameters.enabled": True}, "condition": "s"}, {"numbers"}),
    ("gte", {"s": {"requestParameters.maxResults|gte": 50}, "condition": "s"}, {"numbers"}),
    ("gt near miss", {"s": {"requestParameters.maxResults|gt": 50}, "condition": "s"}, set()),
    ("windash", {"s": {"userAgent|windash|contains": " -enc "}, "condition": "s"}, {"numbers"}),
    ("keywords search the record text", {"k": ["SUSPENDED"], "condition": "k"}, {"versioning-off"}),
    ("keywords with |all", {"k": {"|all": ["suspended", "logs"]}, "condition": "k"}, {"versioning-off"}),
    ("keywords with |all near miss", {"k": {"|all": ["suspended", "absent"]}, "condition": "k"}, set()),
    ("windash reads / as -", {"s": {"userAgent|windash|contains": " /enc "}, "condition": "s"}, {"numbers"}),
    ("windash leaves a dash inside a word", {"s": {"userAgent|windash|contains": "aws/cli"}, "condition": "s"},
     set()),
    ("cased", {"s": {"additionalEventData.MFAUsed|cased": "NO"}, "condition": "s"}, set()),
    ("and / not", {"a": {"eventName": "ConsoleLogin"}, "b": {"additionalEventData.MFAUsed": "yes"},
                   "condition": "a and not b"}, {"mfa-no"}),
    ("not binds tighter than and, and than or",
     {"a": {"eventName": "ConsoleLogin"}, "b": {"additionalEventData.MFAUsed": "yes"}, "c": {"eventName": "DeleteTrail"},
      "condition": "not b and a or c"}, {"mfa-no", "denied"}),
    ("parentheses", {"a": {"eventName": "ConsoleLogin"}, "b": {"additionalEventData.MFAUsed": "yes"},
                     "c": {"eventName": "DeleteTrail"}, "condition": "not (b or c) and a"}, {"mfa-no"}),
    ("1 of sel*", {"sel_a": {"eventName": "DeleteTrail"}, "sel_b": {"eventName": "RegisterTaskDefinition"},
                   "other": {"eventName": "ConsoleLogin"}, "condition": "1 of sel_*"},
     {"denied", "ecs-creds", "ecs-plain"}),
    ("all of sel*", {"sel_a": {"eventName": "RegisterTaskDefinition"},
                     "sel_b": {"requestParameters.containerDefinitions.command": "sh"}, "condition": "all of sel_*"},
     {"ecs-creds"}),
    ("1 of them", {"a": {"eventName": "DeleteTrail"}, "b": {"eventName": "PutBucketVersioning"}, "condition": "1 of them"},
     {"denied", "versioning-off", "versioning-on"}),
    ("all of them", {"a": {"eventName": "PutBucketVersioning"}, "b": {"requestParameters|contains": "enabled"},
                     "condition": "all of them"}, {"versioning-on"}),
    ("a list of maps = any map", {"s": [{"eventName": "DeleteTrail"}, {"userIdentity.userName": "bob"}],
                                  "condition": "s"}, {"denied", "key-self"}),
]


@pytest.mark.parametrize("name, detection, expected", CASES, ids=[c[0] for c in CASES])
def test_modifiers_and_conditions(small_case, name, detection, expected):
    assert hits(small_case, detection) == expected


def test_hostile_rule_text_is_inert(small_case):
    for value in ["x' or 1=1 --; drop table events; \"", "'); drop table events; --", "\\'", "%' or ''='"]:
        assert hits(small_case, {"s": {"userAgent": value}, "condition": "s"}, strict=False) == (
            {"hostile"} if value.startswith("x'") else set())
        assert hits(small_case, {"s": {"userAgent|contains": value}, "condition": "s"}, strict=False) <= {"hostile"}
    with pytest.raises(sigma_rules.RuleError):
        sigma_rules.compile_detection({"s": {"userAgent": "a\x00b"}, "condition": "s"})
    with pytest.raises(sigma_rules.RuleError):
        sigma_rules.compile_detection({"s": {'requestParameters."x': "a"}, "condition": "s"})
    with pytest.raises(sigma_rules.RuleError):
        sigma_rules.compile_detection({"s": {"eventName": "x"}, "condition": "s; drop table events"})
    assert stored(small_case, "select count(*) from events")[0][0] == len(RECORDS)


@pytest.mark.parametrize("detection, reason", [
    ({"s": {"eventName|utf16le": "x"}, "condition": "s"}, "modifier 'utf16le' is not supported"),
    ({"s": {"eventName": "x"}, "condition": "s | count() > 5"}, "aggregation"),
    ({"s": {"eventName": "x"}, "condition": "s and missing"}, "not a selection"),
    ({"s": {"eventName": "x"}, "condition": "1 of nothing*"}, "names no selection"),
    ({"s": {"eventName": "x"}, "condition": "(s"}, "ends too early"),
    ({"s": {"sourceIPAddress|cidr": "2001:db8::/32"}, "condition": "s"}, "IPv6"),
    ({"s": {"userAgent|re": "(?<=a)b"}, "condition": "s"}, "regular expression"),
    ({"s": {"requestParameters.maxResults": float("inf")}, "condition": "s"}, "not a finite number"),
    ({"s": {"requestParameters.maxResults|gt": 10 ** 400}, "condition": "s"}, "not a finite number"),
    ({"s": {"eventName": {"nested": "map"}}, "condition": "s"}, "Sigma values are plain"),
    ({"s": {"eventName": []}, "condition": "s"}, "empty list"),
    ({"s": {"eventName": "x"}, "condition": "not " * 5000 + "s"}, "nested too deeply"),
])
def test_unconvertible_detections_say_why(detection, reason):
    with pytest.raises(sigma_rules.RuleError, match=re.escape(reason)):
        sigma_rules.compile_detection(detection)


def test_rule_metadata():
    rule = sigma_rules.parse_rule({
        "title": "t", "id": "abc", "level": "informational", "logsource": {"product": "aws", "service": "cloudtrail"},
        "tags": ["attack.t1078.004", "attack.persistence", "attack.T1098", "cve.2021-1"],
        "falsepositives": ["admins", "tests"], "description": "Detects   things\nhere",
        "detection": {"s": {"eventName": "x"}, "condition": "s"}})
    assert (rule.severity, rule.mitre, rule.false_positives, rule.description) == (
        "info", ("T1078.004", "T1098"), "admins; tests", "Detects things here")
    for document, reason in [
        ({"title": "t", "correlation": {}}, "correlation"),
        ({"title": "t", "logsource": {"product": "windows"}, "detection": {}}, "another log source"),
        ({"title": "t", "logsource": {"product": "aws", "service": "cloudtrail"}, "level": "severe",
          "detection": {"s": {"a": 1}, "condition": "s"}}, "level"),
    ]:
        with pytest.raises(sigma_rules.RuleError, match=reason):
            sigma_rules.parse_rule(document)


# ---------------------------------------------------------------- the script

GOOD_RULE = """
title: Console login without MFA
id: 11111111-2222-3333-4444-555555555555
level: high
tags: [attack.t1078.004]
logsource: {product: aws, service: cloudtrail}
detection:
    selection:
        eventName: ConsoleLogin
        additionalEventData.MFAUsed: 'NO'
    condition: selection
falsepositives: [break-glass accounts]
"""


def _rules_folder(tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "good.yml").write_text(GOOD_RULE)
    (folder / "broken.yml").write_text("title: [unclosed\n")
    (folder / "windows.yml").write_text("title: w\nlogsource: {product: windows}\ndetection: {s: {a: 1}, condition: s}\n")
    return folder


def test_script_end_to_end(small_case, tmp_path, capsys):
    db = tmp_path / "case.db"
    shutil.copy(small_case, db)
    folder = _rules_folder(tmp_path)
    assert analyze_sigma.main(["analyze_sigma.py", str(db), str(folder), "2026-11-01", "2026-11-30"]) == 0
    out = capsys.readouterr()
    assert "broken.yml: not run - is not valid YAML" in out.err
    assert "windows.yml: not run - is for another log source" in out.err
    assert "1 finding(s) from 1 Sigma rule(s)" in out.out
    rows = stored(db, "select detector, detection_id, title, severity, mitre, event_id, window_since is not null "
                      "from findings")
    assert rows == [("sigma", "11111111-2222-3333-4444-555555555555", "Console login without MFA", "high",
                     ["T1078.004"], "mfa-no", True)]
    report = next((tmp_path / "reports").glob("sigma_report-*.md")).read_text()
    report = as_read(report)
    assert "broken.yml" in report and "is not valid YAML" in report and "Console login without MFA" in report
    assert "analyze_sigma.py" in next((tmp_path / "reports").glob("analyst_log-*.md")).read_text()
    # A second run with other rules keeps the first rules' findings.
    other = tmp_path / "other.yml"
    other.write_text(GOOD_RULE.replace("11111111", "99999999").replace("ConsoleLogin", "DeleteTrail")
                     .replace("additionalEventData.MFAUsed: 'NO'", "errorCode: accessdenied"))
    assert analyze_sigma.main(["analyze_sigma.py", str(db), str(other)]) == 0
    assert stored(db, "select detection_id, event_id from findings order by 1") == [
        ("11111111-2222-3333-4444-555555555555", "mfa-no"), ("99999999-2222-3333-4444-555555555555", "denied")]


def test_a_window_outside_the_events_finds_nothing(small_case, tmp_path, capsys):
    db = tmp_path / "case.db"
    shutil.copy(small_case, db)
    folder = _rules_folder(tmp_path)
    assert analyze_sigma.main(["analyze_sigma.py", str(db), str(folder / "good.yml"), "2020-01-01", "2020-01-02"]) == 0
    assert "0 finding(s)" in capsys.readouterr().out


@pytest.mark.parametrize("arguments", [
    [],
    ["case.db"],
    ["case.db", "2026-11-01"],                      # a date is not a rule
    ["case.db", "no-such-rules"],
    ["case.db", "RULES", "2026-11-01", "RULES"],    # dates go last
    ["case.db", "RULES", "2026-11-02", "2026-11-01"],
    ["case.db", "RULES", "2026-13-45"],             # reads as neither a date nor a path
])
def test_bad_arguments_are_usage_errors(tmp_path, capsys, arguments):
    folder = _rules_folder(tmp_path)
    argv = ["analyze_sigma.py"] + [str(folder) if a == "RULES" else str(tmp_path / a) if a == "case.db" else a
                                   for a in arguments]
    assert analyze_sigma.main(argv) == 2
    assert "usage: analyze_sigma.py DATABASE RULE_OR_FOLDER" in capsys.readouterr().err


def test_a_rule_failing_at_runtime_is_exit_1(small_case, tmp_path, monkeypatch, capsys):
    db = tmp_path / "case.db"
    shutil.copy(small_case, db)
    folder = _rules_folder(tmp_path)
    real = sigma_rules.compile_detection
    monkeypatch.setattr(sigma_rules, "compile_detection",
                        lambda detection: real(detection) + " and error('boom') is null")
    assert analyze_sigma.main(["analyze_sigma.py", str(db), str(folder / "good.yml")]) == 1
    captured = capsys.readouterr()
    assert "failed" in captured.err and "1 rule(s) failed" in captured.out


def test_an_empty_folder_is_a_runtime_error(small_case, tmp_path, capsys):
    db = tmp_path / "case.db"
    shutil.copy(small_case, db)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert analyze_sigma.main(["analyze_sigma.py", str(db), str(empty)]) == 1
    assert "no .yml or .yaml files" in capsys.readouterr().err


def test_an_unreadable_rule_is_named_and_the_rest_run(small_case, tmp_path, monkeypatch, capsys):
    db = tmp_path / "case.db"
    shutil.copy(small_case, db)
    folder = _rules_folder(tmp_path)
    (folder / "unreadable.yml").write_text(GOOD_RULE)
    (folder / "latin1.yml").write_bytes(b"title: caf\xe9\n")
    (folder / "deep.yml").write_text("title: " + "[" * 20000 + "]" * 20000 + "\n")
    read_bytes = Path.read_bytes

    def refuse(path):
        if path.name == "unreadable.yml":      # chmod 0 does not stop root, so the refusal is simulated
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)
    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert analyze_sigma.main(["analyze_sigma.py", str(db), str(folder)]) == 0
    captured = capsys.readouterr()
    assert "unreadable.yml: not run - cannot be read: Permission denied" in captured.err
    assert "latin1.yml: not run - is not UTF-8 text" in captured.err
    assert "deep.yml: not run - is nested too deeply to read" in captured.err
    assert "1 finding(s) from 1 Sigma rule(s)" in captured.out


def test_run_sigma_for_the_hunt(small_case, tmp_path, monkeypatch):
    db = tmp_path / "case.db"
    shutil.copy(small_case, db)
    folder = _rules_folder(tmp_path)
    monkeypatch.setenv("CLOUDTRAIL_SIGMA_RULES", f"{folder / 'good.yml'}{__import__('os').pathsep}{folder / 'windows.yml'}")
    paths = analyze_sigma.rule_paths_from_env()
    result = analyze_sigma.run_sigma(str(db), paths, None, None, ["analyze_hunt.py", str(db)])
    assert (result.rules_run, result.findings, result.failed, result.exit_code) == (1, 1, [], 0)
    assert [Path(name).name for name, _ in result.not_converted] == ["windows.yml"]
    assert result.report.exists() and result.log.exists()
