"""Network-exposure detections: a positive and a near-miss negative for each, the real records
in ../shared/data, and the script end to end."""
import datetime as dt

import orjson

import analyze_security_groups as sg
from conftest import (ACCOUNT, build_case, detect, event, fired_ids, ingest, labelled_records, needs_shared_data,
                      shared_log_trees, stored)


def at(minutes):
    start = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.timezone.utc)
    return (start + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def permission(protocol="tcp", ports=(22, 22), v4=(), v6=(), groups=()):
    """One item of requestParameters.ipPermissions.items as the EC2 API records it."""
    item = {"ipProtocol": protocol, "groups": {}, "ipRanges": {}, "ipv6Ranges": {}, "prefixListIds": {}}
    if protocol != "-1":
        item["fromPort"], item["toPort"] = ports
    if v4:
        item["ipRanges"] = {"items": [{"cidrIp": cidr} for cidr in v4]}
    if v6:
        item["ipv6Ranges"] = {"items": [{"cidrIpv6": cidr} for cidr in v6]}
    if groups:
        item["groups"] = {"items": [{"groupId": group, "userId": ACCOUNT} for group in groups]}
    return item


def rule_set(group, items, egress=False):
    """responseElements.securityGroupRuleSet for the rules a successful call created."""
    rules = []
    for number, item in enumerate(items):
        for key, field in (("ipRanges", "cidrIpv4"), ("ipv6Ranges", "cidrIpv6")):
            for source in item[key].get("items", []):
                rules.append({"groupId": group, "groupOwnerId": ACCOUNT, "isEgress": egress,
                              "ipProtocol": item["ipProtocol"], "fromPort": item.get("fromPort", -1),
                              "toPort": item.get("toPort", -1), field: source["cidrIp" if field == "cidrIpv4" else "cidrIpv6"],
                              "securityGroupRuleId": f"sgr-{group[3:]}{'e' if egress else 'i'}{number:02d}{len(rules):02d}"})
    return {"requestId": "r", "_return": True, "securityGroupRuleSet": {"items": rules}}


def authorize(*items, group="sg-0a1b2c3d", egress=False, error=None, time="2026-11-02T10:00:00Z", **fields):
    """AuthorizeSecurityGroupIngress/Egress in the nested request shape."""
    record = event("AuthorizeSecurityGroupEgress" if egress else "AuthorizeSecurityGroupIngress", time=time,
                   requestParameters={"groupId": group, "ipPermissions": {"items": list(items)}},
                   responseElements=None if error else rule_set(group, items, egress), **fields)
    if error:
        record.update(errorCode=error, errorMessage="the call failed")
    return record


def modify(group, *rules, time="2026-11-02T10:30:00Z"):
    """ModifySecurityGroupRules: rules are (rule id, new rule) pairs; one rule is an object, several a list."""
    items = [{"SecurityGroupRuleId": rule_id, "SecurityGroupRule": rule, "tag": number + 1}
             for number, (rule_id, rule) in enumerate(rules)]
    request = {"GroupId": group, "SecurityGroupRule": items[0] if len(items) == 1 else items}
    return event("ModifySecurityGroupRules", time=time,
                 requestParameters={"ModifySecurityGroupRulesRequest": request},
                 responseElements={"ModifySecurityGroupRulesResponse": {"return": True}})


def nacl_entry(cidr="0.0.0.0/0", protocol="-1", ports=None, egress=False, action="allow",
               name="CreateNetworkAclEntry", time="2026-11-02T10:00:00Z", **fields):
    return event(name, time=time, requestParameters={
        "networkAclId": "acl-0123", "ruleNumber": 100, "egress": egress, "ruleAction": action,
        "icmpTypeCode": {}, "portRange": {"from": ports[0], "to": ports[1]} if ports else {},
        "aclProtocol": protocol, "cidrBlock": cidr}, responseElements={"_return": True}, **fields)


def found_for(tmp_path, records, **window):
    return detect(build_case(tmp_path, records), "security_groups", **window)


# ---------------------------------------------------------------- ingress from the Internet

def test_several_permission_items_give_one_finding_with_every_rule(tmp_path):
    call = authorize(permission("tcp", (22, 22), v4=["0.0.0.0/0", "10.0.0.0/8"]),
                     permission("tcp", (443, 443), v6=["::/0"]),
                     permission("tcp", (5432, 5432), groups=["sg-0app"]))
    found = found_for(tmp_path, [call])
    [finding] = found["security_group_opened_to_internet"]
    assert finding["event_id"] == call["eventID"] and finding["severity"] == "high"
    assert finding["resource"] == "sg-0a1b2c3d"
    assert "tcp 22 (SSH) from 0.0.0.0/0" in finding["summary"] and "tcp 443 from ::/0" in finding["summary"]
    rules = finding["details"]["rules"]
    assert {(r["ports"], r["source"], r["scope"]) for r in rules} == {
        ("tcp 22", "0.0.0.0/0", "internet"), ("tcp 22", "10.0.0.0/8", "private"),
        ("tcp 443", "::/0", "internet"), ("tcp 5432", "sg-0app", "security group")}
    assert found["security_group_opened_to_public_range"] == []


def test_flat_request_shape_with_an_anonymised_slash_zero(tmp_path):
    flat = event("AuthorizeSecurityGroupIngress", requestParameters={
        "cidrIp": "208.236.235.254/0", "fromPort": 22, "groupId": "sg-003d", "ipPermissions": {},
        "ipProtocol": "tcp", "toPort": 22})
    found = found_for(tmp_path, [flat])
    [finding] = found["security_group_opened_to_internet"]
    assert finding["severity"] == "high" and finding["error_code"] is None
    assert finding["summary"] == "sg-003d ingress opened to the Internet: tcp 22 (SSH) from 208.236.235.254/0"


SEVERITY_BY_PORTS = [
    ("-1", None, "high"),
    ("tcp", (3389, 3389), "high"),
    ("tcp", (80, 443), "high"),          # the range includes 135-139 and 445
    ("tcp", (1024, 65535), "high"),      # includes 1433, 3306, 5432 ...
    ("6", (27017, 27017), "high"),       # protocol given as a number
    ("tcp", ("3306", "3306"), "high"),   # ports given as strings
    ("tcp", (443, 443), "low"),
    ("tcp", (8080, 8080), "low"),
    ("icmp", (-1, -1), "low"),
    ("udp", (53, 53), "medium"),
    ("tcp", (8000, 8001), "medium"),
]


def test_severity_follows_protocol_and_ports(tmp_path):
    records = [authorize(permission(protocol, ports, v4=["0.0.0.0/0"]), time=at(i))
               for i, (protocol, ports, _) in enumerate(SEVERITY_BY_PORTS)]
    found = found_for(tmp_path, records)
    severities = {f["event_id"]: f["severity"] for f in found["security_group_opened_to_internet"]}
    assert severities == {r["eventID"]: severity for r, (_, _, severity) in zip(records, SEVERITY_BY_PORTS)}


def test_failed_call_is_a_failed_attempt(tmp_path):
    duplicate = authorize(permission("tcp", (22, 22), v4=["0.0.0.0/0"]), error="InvalidPermission.Duplicate")
    denied = authorize(permission("tcp", (22, 22), v4=["0.0.0.0/0"]), error="Client.UnauthorizedOperation",
                       time=at(1))
    found = found_for(tmp_path, [duplicate, denied])
    rows = {f["event_id"]: f["error_code"] for f in found["security_group_opened_to_internet"]}
    assert rows == {duplicate["eventID"]: "InvalidPermission.Duplicate",
                    denied["eventID"]: "Client.UnauthorizedOperation"}


def test_private_and_narrow_ranges_are_not_the_internet(tmp_path):
    records = [authorize(permission("tcp", (22, 22), v4=[cidr]), time=at(i))
               for i, cidr in enumerate(["10.0.0.0/8", "172.16.0.0/12", "192.168.1.0/24", "0.0.0.0/16"])]
    records.append(authorize(permission("tcp", (22, 22), v6=["fd00::/8"]), time=at(9)))
    found = found_for(tmp_path, records)
    assert found["security_group_opened_to_internet"] == []
    assert found["security_group_opened_to_public_range"] == []


def test_response_rule_set_is_read_when_the_request_was_omitted(tmp_path):
    call = authorize(permission("tcp", (3389, 3389), v4=["0.0.0.0/0"]))
    call["requestParameters"] = {"groupId": "sg-0a1b2c3d", "ipPermissions": {}}
    found = found_for(tmp_path, [call])
    assert [f["severity"] for f in found["security_group_opened_to_internet"]] == ["high"]


# ---------------------------------------------------------------- ingress from public ranges

PUBLIC_RANGES = [
    ("203.0.113.5/32", (22, 22), "medium"),      # one outside address on SSH: one level below the Internet
    ("203.0.113.0/24", (443, 443), "low"),
    ("0.0.0.0/1", (22, 22), "high"),             # half the Internet counts as the Internet
    ("10.0.0.0/7", (22, 22), "high"),            # wider than 10/8: covers public 11.0.0.0/8, and is /8 or wider
    ("2001:db8::/32", (8000, 8000), "low"),
]


def test_public_range_severity(tmp_path):
    records = [authorize(permission("tcp", ports, v4=[] if ":" in cidr else [cidr], v6=[cidr] if ":" in cidr else []),
                         time=at(i)) for i, (cidr, ports, _) in enumerate(PUBLIC_RANGES)]
    found = found_for(tmp_path, records)
    severities = {f["event_id"]: f["severity"] for f in found["security_group_opened_to_public_range"]}
    assert severities == {r["eventID"]: severity for r, (_, _, severity) in zip(records, PUBLIC_RANGES)}
    assert found["security_group_opened_to_internet"] == []


def test_call_opened_to_the_internet_is_not_reported_again_as_public_range(tmp_path):
    call = authorize(permission("tcp", (22, 22), v4=["0.0.0.0/0", "203.0.113.5/32"]))
    found = found_for(tmp_path, [call])
    assert fired_ids(found, "security_group_opened_to_internet") == {call["eventID"]}
    assert found["security_group_opened_to_public_range"] == []


# ---------------------------------------------------------------- ModifySecurityGroupRules and egress

def test_modified_rule_direction_comes_from_the_call_that_created_it(tmp_path):
    ingress = authorize(permission("tcp", (22, 22), v4=["10.0.0.0/8"]), group="sg-0aaa")
    egress = authorize(permission("-1", None, v4=["10.0.0.0/8"]), group="sg-0aaa", egress=True, time=at(1))
    ingress_rule = ingress["responseElements"]["securityGroupRuleSet"]["items"][0]["securityGroupRuleId"]
    egress_rule = egress["responseElements"]["securityGroupRuleSet"]["items"][0]["securityGroupRuleId"]
    both = modify("sg-0aaa", (ingress_rule, {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "0.0.0.0/0"}),
                  (egress_rule, {"IpProtocol": "-1", "CidrIpv4": "0.0.0.0/0"}))
    unknown = modify("sg-0bbb", ("sgr-0notloaded", {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389,
                                                    "CidrIpv4": "0.0.0.0/0"}), time=at(40))
    found = found_for(tmp_path, [ingress, egress, both, unknown])
    rows = {f["event_id"]: f for f in found["security_group_opened_to_internet"]}
    assert set(rows) == {both["eventID"], unknown["eventID"]}
    assert rows[both["eventID"]]["summary"] == "sg-0aaa ingress opened to the Internet: tcp 22 (SSH) from 0.0.0.0/0"
    assert rows[unknown["eventID"]]["summary"].endswith("(direction unknown)")
    assert fired_ids(found, "security_group_egress_opened_to_internet") == {both["eventID"]}


def test_egress_to_the_internet_is_its_own_low_detection(tmp_path):
    everything_out = authorize(permission("-1", None, v4=["0.0.0.0/0"]), egress=True)
    internal_out = authorize(permission("-1", None, v4=["10.0.0.0/8"]), egress=True, time=at(1))
    found = found_for(tmp_path, [everything_out, internal_out])
    rows = found["security_group_egress_opened_to_internet"]
    assert [(r["event_id"], r["severity"]) for r in rows] == [(everything_out["eventID"], "low")]
    assert found["security_group_opened_to_internet"] == []


# ---------------------------------------------------------------- groups created and deleted

def test_group_created_and_deleted_by_the_same_actor(tmp_path):
    created = event("CreateSecurityGroup", requestParameters={"groupName": "tmp", "groupDescription": "x",
                                                               "vpcId": "vpc-1"},
                    responseElements={"_return": True, "groupId": "sg-0tmp"})
    denied = event("CreateSecurityGroup", time=at(1), requestParameters={"groupName": "other"},
                   errorCode="Client.UnauthorizedOperation", errorMessage="not allowed")
    deleted = event("DeleteSecurityGroup", time=at(30), requestParameters={"groupId": "sg-0tmp"})
    unknown = event("DeleteSecurityGroup", time=at(31), requestParameters={"groupId": "sg-0old"}, identity="bob")
    found = found_for(tmp_path, [created, denied, deleted, unknown])
    assert {f["event_id"]: f["error_code"] for f in found["security_group_created"]} == {
        created["eventID"]: None, denied["eventID"]: "Client.UnauthorizedOperation"}
    rows = {f["event_id"]: f for f in found["security_group_deleted"]}
    assert rows[deleted["eventID"]]["summary"] == "deleted security group sg-0tmp (created by the same actor)"
    assert rows[deleted["eventID"]]["event_ids"] == [created["eventID"], deleted["eventID"]]
    assert rows[unknown["eventID"]]["summary"] == "deleted security group sg-0old"


# ---------------------------------------------------------------- network ACLs

NACL_ENTRIES = [
    ({"protocol": "-1"}, "high"),
    ({"protocol": "6", "ports": (0, 65535)}, "high"),
    ({"protocol": "6", "ports": (700, 702)}, "medium"),
    ({"protocol": "-1", "egress": True}, "low"),
    ({"protocol": "-1", "name": "ReplaceNetworkAclEntry"}, "high"),
    ({"protocol": "17", "ports": (53, 53), "cidr": "::/0"}, "medium"),
]


def test_nacl_allow_all_severity(tmp_path):
    records = [nacl_entry(time=at(i), **entry) for i, (entry, _) in enumerate(NACL_ENTRIES)]
    found = found_for(tmp_path, records)
    severities = {f["event_id"]: f["severity"] for f in found["network_acl_opened_to_internet"]}
    assert severities == {r["eventID"]: severity for r, (_, severity) in zip(records, NACL_ENTRIES)}
    assert found["network_acl_changed"] == []


def test_other_nacl_changes_are_reported_low_and_once(tmp_path):
    deny_all = nacl_entry(action="deny")
    narrow = nacl_entry(cidr="203.0.113.5/32", time=at(1))
    removed = event("DeleteNetworkAclEntry", time=at(2),
                    requestParameters={"networkAclId": "acl-0123", "ruleNumber": 90, "egress": False})
    moved = event("ReplaceNetworkAclAssociation", time=at(3),
                  requestParameters={"associationId": "aclassoc-1", "networkAclId": "acl-0open"})
    found = found_for(tmp_path, [deny_all, narrow, removed, moved])
    assert found["network_acl_opened_to_internet"] == []
    rows = {f["event_id"]: f["summary"] for f in found["network_acl_changed"]}
    assert set(rows) == {deny_all["eventID"], narrow["eventID"], removed["eventID"], moved["eventID"]}
    assert rows[removed["eventID"]] == "DeleteNetworkAclEntry on acl-0123 (ingress rule 90)"


# ---------------------------------------------------------------- bursts

def test_burst_needs_enough_changes_close_together(tmp_path):
    def changes(actor, count, spread_minutes):
        return [authorize(permission("tcp", (22, 22), v4=["10.0.0.0/8"]), group=f"sg-0{i:03d}", identity=actor,
                          time=at(i * spread_minutes / max(count - 1, 1)),
                          error="Client.UnauthorizedOperation" if i % 2 else None)
                for i in range(count)]
    burst, too_few, too_slow = changes("alice", 10, 9), changes("bob", 9, 8), changes("carol", 10, 180)
    found = found_for(tmp_path, burst + too_few + too_slow)
    [row] = found["security_groups_changed_in_burst"]
    assert row["event_ids"] == [r["eventID"] for r in burst]
    assert row["details"]["failed"] == 5 and row["error_code"] is None
    assert row["resource"] == "10 security group(s)"


def test_burst_is_counted_per_actor(tmp_path):
    records = [authorize(permission("tcp", (22, 22), v4=["10.0.0.0/8"]), time=at(i),
                         identity="alice" if i % 2 else "bob") for i in range(12)]
    found = found_for(tmp_path, records)
    assert found["security_groups_changed_in_burst"] == []


# ---------------------------------------------------------------- routes, databases, mirroring

def test_default_route_to_an_internet_gateway(tmp_path):
    public = event("CreateRoute", requestParameters={"routeTableId": "rtb-1", "destinationCidrBlock": "0.0.0.0/0",
                                                     "gatewayId": "igw-1"})
    ipv6 = event("ReplaceRoute", time=at(1), requestParameters={"routeTableId": "rtb-1",
                                                                "destinationIpv6CidrBlock": "::/0", "gatewayId": "igw-1"})
    via_nat = event("CreateRoute", time=at(2), requestParameters={"routeTableId": "rtb-2",
                                                                  "destinationCidrBlock": "0.0.0.0/0", "natGatewayId": "nat-1"})
    narrow = event("CreateRoute", time=at(3), requestParameters={"routeTableId": "rtb-3",
                                                                 "destinationCidrBlock": "10.1.0.0/16", "gatewayId": "igw-1"})
    found = found_for(tmp_path, [public, ipv6, via_nat, narrow])
    assert fired_ids(found, "route_added_to_internet_gateway") == {public["eventID"], ipv6["eventID"]}


def test_database_made_public(tmp_path):
    def rds(name, request, response=None, **fields):
        return event(name, "rds.amazonaws.com", requestParameters=request, responseElements=response, **fields)
    made_public = rds("ModifyDBInstance", {"dBInstanceIdentifier": "prod", "publiclyAccessible": True})
    already_public = rds("ModifyDBInstance", {"dBInstanceIdentifier": "prod", "allocatedStorage": 200},
                         {"dBInstanceIdentifier": "prod", "publiclyAccessible": True}, time=at(1))
    made_private = rds("ModifyDBInstance", {"dBInstanceIdentifier": "prod", "publiclyAccessible": False}, time=at(2))
    restored_public = rds("RestoreDBInstanceFromDBSnapshot", {"dBInstanceIdentifier": "copy"},
                          {"dBInstanceIdentifier": "copy", "publiclyAccessible": True}, time=at(3))
    denied = rds("ModifyDBCluster", {"dBClusterIdentifier": "aurora", "publiclyAccessible": True}, time=at(4),
                 errorCode="AccessDenied", errorMessage="no")
    found = found_for(tmp_path, [made_public, already_public, made_private, restored_public, denied])
    rows = {f["event_id"]: (f["resource"], f["error_code"]) for f in found["db_instance_made_public"]}
    assert rows == {made_public["eventID"]: ("prod", None), restored_public["eventID"]: ("copy", None),
                    denied["eventID"]: ("aurora", "AccessDenied")}


def test_traffic_mirroring_severity_by_action(tmp_path):
    session = event("CreateTrafficMirrorSession", requestParameters={"CreateTrafficMirrorSessionRequest": {
        "NetworkInterfaceId": "eni-victim", "TrafficMirrorTargetId": "tmt-1", "TrafficMirrorFilterId": "tmf-1",
        "SessionNumber": 1}})
    target = event("CreateTrafficMirrorTarget", time=at(1), requestParameters={
        "CreateTrafficMirrorTargetRequest": {"NetworkInterfaceId": "eni-attacker"}})
    cleanup = event("DeleteTrafficMirrorTarget", time=at(2), requestParameters={
        "DeleteTrafficMirrorTargetRequest": {"TrafficMirrorTargetId": "tmt-1"}})
    looked = event("DescribeTrafficMirrorTargets", time=at(3),
                   requestParameters={"DescribeTrafficMirrorTargetsRequest": {"MaxResults": 1000}})
    found = found_for(tmp_path, [session, target, cleanup, looked])
    rows = {f["event_id"]: (f["severity"], f["resource"]) for f in found["traffic_mirror_configured"]}
    assert rows == {session["eventID"]: ("high", "tmt-1"), target["eventID"]: ("medium", "eni-attacker"),
                    cleanup["eventID"]: ("low", "tmt-1")}


def test_db_security_group_ingress_severity_by_source(tmp_path):
    def db_ingress(request, **fields):
        return event("AuthorizeDBSecurityGroupIngress", "rds.amazonaws.com",
                     requestParameters={"dBSecurityGroupName": "db-sg", **request}, **fields)
    internet = db_ingress({"cIDRIP": "0.0.0.0/0"})
    office = db_ingress({"cIDRIP": "203.0.113.0/24"}, time=at(1))
    app = db_ingress({"eC2SecurityGroupName": "app", "eC2SecurityGroupOwnerId": ACCOUNT}, time=at(2))
    revoked = event("RevokeDBSecurityGroupIngress", "rds.amazonaws.com", time=at(3),
                    requestParameters={"dBSecurityGroupName": "db-sg", "cIDRIP": "0.0.0.0/0"})
    found = found_for(tmp_path, [internet, office, app, revoked])
    rows = {f["event_id"]: f["severity"] for f in found["db_security_group_ingress_authorized"]}
    assert rows == {internet["eventID"]: "high", office["eventID"]: "medium", app["eventID"]: "low"}


# ---------------------------------------------------------------- real records

def _all_findings(found):
    return {(detection_id, event_id) for detection_id, rows in found.items()
            for row in rows for event_id in row["event_ids"]}


@needs_shared_data
def test_real_logs_fire_only_on_the_stratus_port_22_opening(tmp_path):
    """Every real trail in ../shared/data: the Stratus 'open port 22' event (flat shape) is high,
    and nothing else in those 700-odd events is reported."""
    label = next(row for row in labelled_records("stratus-red-team/labels.jsonl")
                 if row["technique"] == "aws.exfiltration.ec2-security-group-open-port-22-ingress")
    db = tmp_path / "real.db"
    assert ingest(db, *shared_log_trees()) == 0
    found = detect(db, "security_groups")
    assert _all_findings(found) == {("security_group_opened_to_internet", label["eventID"])}
    assert found["security_group_opened_to_internet"][0]["severity"] == "high"


@needs_shared_data
def test_traildiscover_failed_attempts_are_reported_as_attempts(tmp_path):
    wanted = {"CreateNetworkAclEntry": "network_acl_opened_to_internet",
              "DeleteNetworkAclEntry": "network_acl_changed", "DeleteNetworkAcl": "network_acl_changed",
              "CreateSecurityGroup": "security_group_created",
              "CreateTrafficMirrorSession": "traffic_mirror_configured",
              "CreateTrafficMirrorTarget": "traffic_mirror_configured",
              "CreateTrafficMirrorFilter": "traffic_mirror_configured"}
    records = [row["event"] for row in labelled_records("traildiscover/labelled_events.jsonl")
               if row["event"].get("eventSource") in ("ec2.amazonaws.com", "rds.amazonaws.com")]
    found = found_for(tmp_path, records)
    by_name = {r["eventName"]: r["eventID"] for r in records}
    for name, detection_id in wanted.items():
        [finding] = [f for f in found[detection_id] if f["event_id"] == by_name[name]]
        assert finding["error_code"], name
    # 0.0.0.0/24 and 0.0.0.0/16 are not the Internet; the CreateRoute placeholder is no default route.
    assert found["security_group_opened_to_internet"] == []
    assert found["security_group_egress_opened_to_internet"] == []
    assert found["route_added_to_internet_gateway"] == []


@needs_shared_data
def test_panther_security_group_records_outside_the_mapped_rules(tmp_path):
    """Panther's manual-change and modified-group tests: the Go script's 0.0.0.0/0 SSH opening is
    high, Terraform's allow-all egress is the egress detection, 127.0.0.1/32 SSH is neither."""
    rows = [row for row in labelled_records("panther/labelled_events.jsonl")
            if row["rule_id"] in ("AWS.EC2.ManualSecurityGroupChange", "AWS.EC2.SecurityGroupModified")]
    records = []
    for index, row in enumerate(rows):
        record = dict(row["event"], eventID=f"panther-{index:03d}")
        records.append((row["test_name"], record))
    found = found_for(tmp_path, [record for _, record in records])
    ids = {name: record["eventID"] for name, record in records}
    assert [(f["event_id"], f["severity"]) for f in found["security_group_opened_to_internet"]] == [
        (ids["Go Script Authorize Ingress"], "high")]
    assert fired_ids(found, "security_group_egress_opened_to_internet") == {ids["Terraform Security Group Authorize Egress"]}
    assert found["security_group_opened_to_public_range"] == []
    assert fired_ids(found, "security_group_created") == {ids["Terraform Security Group Creation"]}


# ---------------------------------------------------------------- the script

def test_script_writes_report_charts_and_findings(tmp_path, capsys):
    records = [authorize(permission("tcp", (22, 22), v4=["0.0.0.0/0"]), group=f"sg-0{i:03d}", time=at(i))
               for i in range(11)]
    records += [authorize(permission("tcp", (443, 443), v4=["0.0.0.0/0"]), time=at(20)),
                nacl_entry(time=at(25), identity="role:network-admin/carol")]
    db = build_case(tmp_path, records)
    assert sg.main(["analyze_security_groups.py", str(db), "2026-11-02", "2026-11-02"]) == 0
    printed = capsys.readouterr().out
    reports = tmp_path / "reports"
    report = next(reports.glob("security_groups_report-*.md"))
    text = report.read_text()
    assert str(report) in printed
    for detection_id in ("security_group_opened_to_internet", "security_groups_changed_in_burst",
                         "network_acl_opened_to_internet"):
        assert detection_id in text
    for chart in ("security_groups_activity", "security_groups_internet_ports", "security_groups_changes_by_actor"):
        assert list(reports.glob(f"{chart}-*.png")), chart
    assert list(reports.glob("analyst_log-*.md"))
    assert stored(db, "select distinct detector from findings") == [("security_groups",)]
    details = orjson.loads(stored(db, """
        select details from findings where detection_id = 'security_group_opened_to_internet' limit 1""")[0][0])
    assert details["rules"][0]["source"] == "0.0.0.0/0"
    # A rerun replaces the detector's findings instead of adding to them.
    count = stored(db, "select count(*) from findings")[0][0]
    assert sg.main(["analyze_security_groups.py", str(db)]) == 0
    assert stored(db, "select count(*) from findings")[0][0] == count


def test_bad_window_is_a_usage_error(tmp_path, capsys):
    db = build_case(tmp_path, [nacl_entry()])
    assert sg.main(["analyze_security_groups.py", str(db), "2026-11-03", "2026-11-01"]) == 2
    assert "is not after SINCE" in capsys.readouterr().err
