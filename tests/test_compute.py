"""Compute area (rules/compute/): resource hijacking and persistence in compute and serverless.
Each detection fires on a realistic or recorded attack and stays quiet on a routine near miss."""
import orjson

from area_rules import run_area
from conftest import ACCOUNT, SHARED_DATA, build_case, event, ingest, labelled_records, needs_shared_data

STOLEN = "role:lambda-orders-role/orders-fn"      # a Lambda role session, stolen from the function


def found(tmp_path, records, since=None):
    """Findings of the compute rules; since: the window an analyst investigates, with the
    principals' history (the baseline) loaded before it."""
    return run_area(build_case(tmp_path, records), "compute", since=since)


def history(identity, name, source, days_before=30, **fields):
    """An earlier call by the same principal: the baseline."""
    return event(name, source, time=f"2026-10-{31 - days_before + 1:02d}T09:00:00Z", identity=identity, **fields)


# ------------------------------------------------------------------ instances

def run_instances(instance_type, count=1, identity=STOLEN, region="us-east-1", time="2026-11-02T10:00:00Z", **fields):
    return event("RunInstances", identity=identity, time=time, awsRegion=region, requestParameters={
        "instanceType": instance_type, "instancesSet": {"items": [{"imageId": "ami-0abc", "minCount": 1, "maxCount": count}]}},
        **fields)


def test_gpu_launch_denied_by_vcpu_limit_is_an_attempt(tmp_path):
    record = run_instances("p4d.24xlarge", count=10, errorCode="VcpuLimitExceeded",
                           errorMessage="You have requested more vCPU capacity than your current vCPU limit")
    [finding] = found(tmp_path, [record])["instances_launched_for_hijacking"]
    assert finding["severity"] == "high" and finding["error_code"] == "VcpuLimitExceeded"
    assert finding["summary"].startswith("attempt, VcpuLimitExceeded: RunInstances for 10 x p4d.24xlarge")


def test_launch_in_a_region_the_account_never_used_is_medium(tmp_path):
    records = [history("alice", "DescribeInstances", "ec2.amazonaws.com"),
               run_instances("t3.medium", identity="alice", region="ap-southeast-3")]
    [finding] = found(tmp_path, records)["instances_launched_for_hijacking"]
    assert finding["severity"] == "medium" and "not used before" in finding["summary"]


def test_ordinary_launch_in_a_used_region_is_quiet(tmp_path):
    records = [history("alice", "DescribeInstances", "ec2.amazonaws.com"), run_instances("t3.micro", count=2, identity="alice")]
    assert found(tmp_path, records)["instances_launched_for_hijacking"] == []


# ------------------------------------------------------------------ new compute, quotas

def test_stolen_lambda_role_creating_functions_is_reported(tmp_path):
    records = [history(STOLEN, "GetObject", "s3.amazonaws.com"),
               event("CreateFunction20150331", "lambda.amazonaws.com", identity=STOLEN,
                     requestParameters={"functionName": "miner", "runtime": "python3.12"})]
    [finding] = found(tmp_path, records)["compute_started_by_new_principal"]
    assert finding["severity"] == "medium" and "first CreateFunction20150331" in finding["summary"]


def test_deploy_role_creating_another_function_is_quiet(tmp_path):
    records = [history("role:deployer/ci", "CreateFunction20150331", "lambda.amazonaws.com",
                       requestParameters={"functionName": "orders"}),
               event("CreateFunction20150331", "lambda.amazonaws.com", identity="role:deployer/ci2",
                     requestParameters={"functionName": "invoices"})]
    assert found(tmp_path, records, since="2026-11-01")["compute_started_by_new_principal"] == []


def test_quota_increase_for_ec2_is_high(tmp_path):
    record = event("RequestServiceQuotaIncrease", "servicequotas.amazonaws.com", identity=STOLEN,
                   requestParameters={"serviceCode": "ec2", "quotaCode": "L-417A185B", "desiredValue": 384.0},
                   responseElements={"requestedQuota": {"quotaName": "Running On-Demand P instances"}})
    [finding] = found(tmp_path, [record])["service_quota_increase_requested"]
    assert finding["severity"] == "high" and "Running On-Demand P instances to 384.0" in finding["summary"]


# ------------------------------------------------------------------ Bedrock

def invoke(identity, time="2026-11-02T10:00:00Z", model="anthropic.claude-3-sonnet-20240229-v1:0", **fields):
    return event("InvokeModel", "bedrock.amazonaws.com", identity=identity, time=time,
                 requestParameters={"modelId": model}, **fields)


def test_llmjacking_first_model_use_by_a_known_principal_is_medium(tmp_path):
    records = [history(STOLEN, "GetObject", "s3.amazonaws.com"),
               invoke(STOLEN, errorCode="AccessDeniedException", errorMessage="denied"),
               invoke(STOLEN, time="2026-11-02T10:01:00Z")]
    [finding] = found(tmp_path, records)["bedrock_model_invoked_by_new_principal"]
    assert finding["severity"] == "medium" and "2 call(s)" in finding["summary"] and "1 denied" in finding["summary"]


def test_application_that_always_used_bedrock_is_quiet(tmp_path):
    records = [invoke("role:chatbot/app", time="2026-10-20T10:00:00Z"), invoke("role:chatbot/app")]
    assert found(tmp_path, records, since="2026-11-01")["bedrock_model_invoked_by_new_principal"] == []


def test_invocation_logging_deleted_is_high(tmp_path):
    record = event("DeleteModelInvocationLoggingConfiguration", "bedrock.amazonaws.com", identity=STOLEN)
    [finding] = found(tmp_path, [record])["bedrock_model_access_or_logging_changed"]
    assert finding["severity"] == "high"


# ------------------------------------------------------------------ SES

def test_ses_quota_checked_and_identity_verified_by_new_principal(tmp_path):
    records = [event("GetSendQuota", "ses.amazonaws.com", identity="bob"),
               event("VerifyEmailIdentity", "ses.amazonaws.com", identity="bob", time="2026-11-02T10:01:00Z",
                     requestParameters={"emailAddress": "billing@example.com"})]
    [finding] = found(tmp_path, records)["ses_sending_enabled_by_new_principal"]
    assert finding["severity"] == "high" and finding["resource"] == "billing@example.com"


def test_mail_team_using_ses_as_before_is_quiet(tmp_path):
    records = [history("role:mail-team/x", "GetSendQuota", "ses.amazonaws.com"),
               event("GetSendQuota", "ses.amazonaws.com", identity="role:mail-team/y")]
    assert found(tmp_path, records, since="2026-11-01")["ses_sending_enabled_by_new_principal"] == []


# ------------------------------------------------------------------ Lambda

def update_code(identity, function="orders", time="2026-11-02T10:00:00Z"):
    return event("UpdateFunctionCode20150331v2", "lambda.amazonaws.com", identity=identity, time=time,
                 requestParameters={"functionName": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}", "publish": True},
                 responseElements={"functionName": function, "codeSha256": "Pt1c8vVaBygmNtAeSyjlpdy7r8nHRqJAAL++HEGlQkc="})


def test_function_code_replaced_by_someone_else_than_its_deployer_is_high(tmp_path):
    records = [update_code("role:deployer/ci", time="2026-10-30T10:00:00Z"), update_code("bob")]
    findings = found(tmp_path, records, since="2026-11-01")["lambda_function_modified_by_new_principal"]
    assert [(f["event_id"], f["severity"]) for f in findings] == [(records[1]["eventID"], "high")]
    assert "role/deployer" in findings[0]["summary"]


def test_deploy_role_updating_its_own_function_is_quiet(tmp_path):
    create = event("CreateFunction20150331", "lambda.amazonaws.com", identity="role:deployer/ci",
                   time="2026-10-01T10:00:00Z", requestParameters={"functionName": "orders"})
    records = [create, update_code("role:deployer/ci-build-42")]
    assert found(tmp_path, records, since="2026-11-01")["lambda_function_modified_by_new_principal"] == []


def test_layer_from_another_account_fires_and_own_layer_does_not(tmp_path):
    def configure(layer):
        return event("UpdateFunctionConfiguration20150331v2", "lambda.amazonaws.com", identity="bob",
                     requestParameters={"functionName": "orders", "layers": [layer]})
    foreign = configure("arn:aws:lambda:us-east-1:999988887777:layer:collector:3")
    own = configure(f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:shared-libs:12")
    findings = found(tmp_path, [foreign, own])["lambda_layer_from_other_account"]
    assert [f["event_id"] for f in findings] == [foreign["eventID"]]


def test_function_url_without_auth_fires_and_service_permission_does_not(tmp_path):
    url = event("CreateFunctionUrlConfig20211031", "lambda.amazonaws.com", identity="bob",
                requestParameters={"functionName": "orders", "authType": "NONE"})
    s3_trigger = event("AddPermission20150331v2", "lambda.amazonaws.com", identity="role:deployer/ci",
                       requestParameters={"functionName": "orders", "action": "lambda:InvokeFunction",
                                          "principal": "s3.amazonaws.com", "sourceAccount": ACCOUNT,
                                          "sourceArn": "arn:aws:s3:::uploads", "statementId": "s3"})
    findings = found(tmp_path, [url, s3_trigger])["lambda_function_exposed"]
    assert [f["event_id"] for f in findings] == [url["eventID"]]
    assert "public function URL" in findings[0]["summary"]


# ------------------------------------------------------------------ EC2 access

def test_instance_connect_first_use_is_medium_and_routine_use_low(tmp_path):
    def push(identity, time):
        return event("SendSSHPublicKey", "ec2-instance-connect.amazonaws.com", identity=identity, time=time,
                     requestParameters={"instanceId": "i-0abc", "instanceOSUser": "ec2-user",
                                        "sSHPublicKey": "ssh-ed25519 AAAA"})
    records = [push("alice", "2026-10-20T10:00:00Z"), push("alice", "2026-11-02T10:00:00Z"),
               push("bob", "2026-11-02T10:00:00Z")]
    severities = {f["summary"].split()[0] + f["event_id"]: f["severity"]
                  for f in run_area(build_case(tmp_path, records), "compute", since="2026-11-01")["instance_ssh_key_pushed"]}
    assert sorted(severities.values()) == ["low", "medium"]


# ------------------------------------------------------------------ SSM

def send_command(identity, instances, time="2026-11-02T10:00:00Z"):
    return event("SendCommand", "ssm.amazonaws.com", identity=identity, time=time, requestParameters={
        "documentName": "AWS-RunShellScript", "instanceIds": instances, "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS"})


def test_command_on_many_instances_is_high(tmp_path):
    records = [send_command("role:patching/run", [f"i-{n:04d}" for n in range(3)], time="2026-10-20T10:00:00Z"),
               send_command("role:patching/run", [f"i-{n:04d}" for n in range(12)])]
    findings = run_area(build_case(tmp_path, records), "compute", since="2026-11-01")["ssm_command_or_session_started"]
    assert [(f["severity"], "many targets" in f["summary"]) for f in findings] == [("high", True)]


def test_automation_role_running_its_usual_commands_is_quiet(tmp_path):
    records = [send_command("role:patching/run", ["i-0001"], time="2026-10-20T10:00:00Z"),
               send_command("role:patching/run", ["i-0002"])]
    assert run_area(build_case(tmp_path, records), "compute", since="2026-11-01")["ssm_command_or_session_started"] == []


# ------------------------------------------------------------------ ECR, Roles Anywhere, Identity Center

def test_image_pushed_by_a_new_principal_over_the_pipeline(tmp_path):
    def push(identity, time):
        return event("PutImage", "ecr.amazonaws.com", identity=identity, time=time,
                     requestParameters={"repositoryName": "orders", "imageTag": "latest"})
    records = [push("role:ci/build-1", "2026-10-30T10:00:00Z"), push("role:ci/build-2", "2026-11-02T09:00:00Z"),
               push("bob", "2026-11-02T10:00:00Z")]
    findings = found(tmp_path, records)["ecr_image_pushed_by_new_principal"]
    assert [(f["event_id"], f["severity"]) for f in findings] == [(records[0]["eventID"], "low"),
                                                                   (records[2]["eventID"], "medium")]


def test_trust_anchor_backed_by_the_accounts_private_ca_is_medium(tmp_path):
    record = event("CreateTrustAnchor", "rolesanywhere.amazonaws.com", identity="alice", requestParameters={
        "name": "onprem", "enabled": True,
        "source": {"sourceType": "AWS_ACM_PCA",
                   "sourceData": {"acmPcaArn": f"arn:aws:acm-pca:us-east-1:{ACCOUNT}:certificate-authority/abc"}}})
    [finding] = found(tmp_path, [record])["roles_anywhere_trust_changed"]
    assert finding["severity"] == "medium"


def test_identity_center_admin_assignment_is_high_and_description_change_quiet(tmp_path):
    attach = event("AttachManagedPolicyToPermissionSet", "sso.amazonaws.com", identity="bob", requestParameters={
        "instanceArn": "arn:aws:sso:::instance/ssoins-1", "permissionSetArn": "arn:aws:sso:::permissionSet/ssoins-1/ps-1",
        "managedPolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})
    describe = event("UpdatePermissionSet", "sso.amazonaws.com", identity="bob", requestParameters={
        "permissionSetArn": "arn:aws:sso:::permissionSet/ssoins-1/ps-1", "description": "read only"})
    findings = found(tmp_path, [attach, describe])["identity_center_access_granted"]
    assert [(f["event_id"], f["severity"]) for f in findings] == [(attach["eventID"], "high")]


# ------------------------------------------------------------------ recorded attacks

@needs_shared_data
def test_stratus_compute_techniques_fire(tmp_path):
    db = tmp_path / "stratus.db"
    assert ingest(db, SHARED_DATA / "stratus-red-team" / "s3") == 0
    result = run_area(db, "compute")
    expected = {
        "aws.execution.ec2-launch-unusual-instances": "instances_launched_for_hijacking",
        "aws.execution.ec2-user-data": "instance_user_data_modified",
        "aws.execution.ssm-send-command": "ssm_command_or_session_started",
        "aws.execution.ssm-start-session": "ssm_command_or_session_started",
        "aws.impact.bedrock-invoke-model": "bedrock_model_invoked_by_new_principal",
        "aws.lateral-movement.ec2-instance-connect": "instance_ssh_key_pushed",
        "aws.lateral-movement.ec2-serial-console-send-ssh-public-key": "instance_ssh_key_pushed",
        "aws.persistence.lambda-backdoor-function": "lambda_function_exposed",
        "aws.persistence.lambda-layer-extension": "lambda_function_modified_by_new_principal",
        "aws.persistence.lambda-overwrite-code": "lambda_function_modified_by_new_principal",
        "aws.persistence.rolesanywhere-create-trust-anchor": "roles_anywhere_trust_changed",
    }
    labels = labelled_records("stratus-red-team/labels.jsonl")
    for technique, detection in expected.items():
        labelled = {row["eventID"] for row in labels if row["technique"] == technique}
        fired = {e for f in result[detection] for e in f["event_ids"]}
        assert labelled & fired, (technique, detection)


def test_repository_policy_opened_to_everyone_fires_and_org_share_is_medium(tmp_path):
    def policy(principal, condition=None):
        statement = {"Sid": "s", "Effect": "Allow", "Principal": principal,
                     "Action": ["ecr:BatchGetImage", "ecr:PutImage"]}
        if condition:
            statement["Condition"] = condition
        return orjson.dumps({"Version": "2012-10-17", "Statement": [statement]}).decode()
    public = event("SetRepositoryPolicy", "ecr.amazonaws.com", identity="bob",
                   requestParameters={"repositoryName": "orders", "policyText": policy("*")})
    org = event("SetRepositoryPolicy", "ecr.amazonaws.com", identity="alice", requestParameters={
        "repositoryName": "base-images",
        "policyText": policy({"AWS": "*"}, {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})})
    own = event("SetRepositoryPolicy", "ecr.amazonaws.com", identity="alice", requestParameters={
        "repositoryName": "tools", "policyText": policy({"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci"})})
    findings = found(tmp_path, [public, org, own])["ecr_repository_policy_opened"]
    assert [(f["event_id"], f["severity"]) for f in findings] == [(public["eventID"], "high"), (org["eventID"], "medium")]
