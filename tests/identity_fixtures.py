"""CloudTrail records for the lineage, incident and identity-rule tests: keys minted by STS
calls, services minting sessions for themselves, and the sessions using them."""
from conftest import ACCOUNT, event

LAMBDA_AGENT = "aws-sdk-nodejs/2.1000.0 linux/v18.17.0 exec-env/AWS_Lambda_nodejs18.x promise"
LAPTOP_CLI = "aws-cli/2.15.0 Python/3.11.6 Darwin/23.1.0 exe/x86_64 prompt/off command/s3.ls"
KALI = "aws-cli/2.13.5 Python/3.11.4 Linux/6.1.0-kali9-amd64 exe/x86_64.kali.2023 prompt/off"


def user(name, key):
    return {"type": "IAMUser", "principalId": f"AIDA{name.upper()}", "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
            "accountId": ACCOUNT, "accessKeyId": key, "userName": name}


def role_session(role, session, key, issuer_key=None):
    identity = {"type": "AssumedRole", "principalId": f"AROA{role.upper()}:{session}",
                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}", "accountId": ACCOUNT,
                "accessKeyId": key,
                "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": f"AROA{role.upper()}",
                                                     "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                                                     "accountId": ACCOUNT, "userName": role},
                                   "attributes": {"creationDate": "2026-11-02T09:00:00Z", "mfaAuthenticated": "false"}}}
    return identity


def assume_role(caller, role, session, minted_key, time, ip="198.51.100.7", agent=KALI, source_ip=None):
    return event("AssumeRole", "sts.amazonaws.com", time, caller, sourceIPAddress=source_ip or ip, userAgent=agent,
                 requestParameters={"roleArn": f"arn:aws:iam::{ACCOUNT}:role/{role}", "roleSessionName": session},
                 responseElements={"credentials": {"accessKeyId": minted_key, "sessionToken": "x",
                                                   "expiration": "Nov 2, 2026, 11:00:00 AM"},
                                   "assumedRoleUser": {"assumedRoleId": f"AROA{role.upper()}:{session}",
                                                       "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"}},
                 readOnly=True)


def service_assume_role(service, role, session, minted_key, time):
    return event("AssumeRole", "sts.amazonaws.com", time, {"type": "AWSService", "invokedBy": service},
                 sourceIPAddress=service, userAgent=service,
                 requestParameters={"roleArn": f"arn:aws:iam::{ACCOUNT}:role/{role}", "roleSessionName": session},
                 responseElements={"credentials": {"accessKeyId": minted_key, "sessionToken": "x",
                                                   "expiration": "Nov 2, 2026, 11:00:00 AM"},
                                   "assumedRoleUser": {"assumedRoleId": f"AROA{role.upper()}:{session}",
                                                       "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"}})


def denied(name, source, time, identity, ip, agent=KALI):
    return event(name, source, time, identity, sourceIPAddress=ip, userAgent=agent, errorCode="AccessDenied",
                 errorMessage=f"User is not authorized to perform: {source.split('.')[0]}:{name}")


def get_object(time, identity, ip, agent, bucket="acme-secret-data", key="emergency.txt"):
    return event("GetObject", "s3.amazonaws.com", time, identity, sourceIPAddress=ip, userAgent=agent,
                 requestParameters={"bucketName": bucket, "key": key}, eventCategory="Data", managementEvent=False,
                 readOnly=True)


def stolen_lambda_records():
    """The Lambda function's own use of its role (from an AWS address with the runtime's agent),
    then the same session's credentials used from a laptop."""
    key = "ASIALAMBDA0000000001"
    session = role_session("level1", "level1", key)
    records = [service_assume_role("lambda.amazonaws.com", "level1", "level1", key, "2026-11-02T09:00:00Z")]
    for n, name in enumerate(("ListObjects", "GetObject", "PutObject")):
        records.append(event(name, "s3.amazonaws.com", f"2026-11-02T09:0{n + 1}:00Z", session,
                             sourceIPAddress="3.92.10.20", userAgent=LAMBDA_AGENT, eventCategory="Data",
                             requestParameters={"bucketName": "level1-bucket"}))
    stolen = [event("ListObjects", "s3.amazonaws.com", "2026-11-02T09:30:00Z", session, sourceIPAddress="203.0.113.9",
                    userAgent=LAPTOP_CLI, requestParameters={"bucketName": "level1-bucket"}, eventCategory="Data"),
              event("ListImages", "ecr.amazonaws.com", "2026-11-02T09:31:00Z", session, sourceIPAddress="203.0.113.9",
                    userAgent=LAPTOP_CLI, requestParameters={"repositoryName": "level2"})]
    return records, stolen


def escalation_records(storm=25):
    """A user's key brute-forces permissions, assumes an admin role and reads a bucket with it."""
    mallory = user("mallory", "AKIAMALLORY000000001")
    admin = role_session("AdminRole", "escalated", "ASIAESCALATED0000001")
    records = [event("GetCallerIdentity", "sts.amazonaws.com", "2026-11-02T10:00:00Z", mallory,
                     sourceIPAddress="203.0.113.50", userAgent=KALI)]
    services = ("ec2", "iam", "lambda", "s3", "rds")
    for n in range(storm):
        service = services[n % len(services)]
        # the storm comes from rotating addresses: it must be counted per key, not per IP
        records.append(denied(f"List{n}Things", f"{service}.amazonaws.com", f"2026-11-02T10:01:{n % 60:02d}Z",
                              mallory, f"203.0.113.{50 + n % 5}"))
    records.append(assume_role(mallory, "AdminRole", "escalated", "ASIAESCALATED0000001", "2026-11-02T10:03:00Z",
                               ip="203.0.113.50"))
    records.append(denied("ListObjects", "s3.amazonaws.com", "2026-11-02T10:04:00Z", admin, "203.0.113.50"))
    records.append(get_object("2026-11-02T10:05:00Z", admin, "203.0.113.50", KALI))
    return records
