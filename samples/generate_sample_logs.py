"""Writes a deterministic, realistic CloudTrail S3 log tree with planted attacks.

usage: generate_sample_logs.py OUTPUT_DIR [EVENTS [SEED]]

  OUTPUT_DIR  folder to write into; the logs go under OUTPUT_DIR/AWSLogs/ as an
              `aws s3 sync` of a trail bucket would leave them
  EVENTS      number of background (benign) events; default 20000, the demo size
              (the benchmark uses 2000000); more events also spread over more days
  SEED        integer seed, default 1; the same arguments always give byte-identical files

Two accounts (111122223333 "prod", and 444455556666 "dev" laid out as an organisation
trail), four regions, digest files, a CloudTrail Insights file and AWS Config's write
check object. A fixed script of attacks is planted in the prod account among the
background; OUTPUT_DIR/planted_incidents.md describes each one, its eventIDs and the
detections that should find it. Rerunning with the same arguments leaves files whose
bytes are unchanged untouched, so their modification times stay.
"""
import base64
import datetime as dt
import functools
import gzip
import hashlib
import multiprocessing
import os
import random
import re
import string
import sys
import time
import urllib.parse
import uuid
from bisect import bisect
from dataclasses import dataclass, field
from itertools import accumulate
from operator import itemgetter

import orjson

DEFAULT_EVENTS = 20000
DEFAULT_SEED = 1

# Fixed so that the output never depends on today's date; a Monday.
START_DAY = dt.date(2025, 6, 2)
START_TS = int(dt.datetime(2025, 6, 2, tzinfo=dt.timezone.utc).timestamp())
DAY = 86400
DELIVERY_SECONDS = 300          # CloudTrail delivers one file per account and region about every 5 minutes

PROD, DEV = "111122223333", "444455556666"
ACCOUNT_NAMES = {PROD: "prod", DEV: "dev"}
ACCOUNT_SHARE = {PROD: 0.65, DEV: 0.35}
ORG_ID = "o-a1b2c3d4e5"          # the dev account is delivered by an organisation trail
EXTERNAL_ACCOUNT = "999988887777"
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2")
REGION_SHARE = {"us-east-1": 0.46, "us-west-2": 0.20, "eu-west-1": 0.24, "ap-southeast-2": 0.10}
VPC_PREFIX = {(PROD, "us-east-1"): "10.0", (PROD, "us-west-2"): "10.2", (PROD, "eu-west-1"): "10.1",
              (PROD, "ap-southeast-2"): "10.3", (DEV, "us-east-1"): "10.20", (DEV, "us-west-2"): "10.22",
              (DEV, "eu-west-1"): "10.21", (DEV, "ap-southeast-2"): "10.23"}
ARTIFACT_BUCKETS = {PROD: "acme-prod-assets", DEV: "acme-dev-artifacts"}
TRAIL_NAME = "management-events"
TRAIL_BUCKET = "acme-cloudtrail-logs"
DIGEST_HOURS = 3                # digests are written for the first hours of the first day only

# Documentation address ranges (RFC 5737): office, CI and vendor in one, people at home
# in another, and every attacker in 203.0.113.0/24.
OFFICE_IPS = tuple(f"192.0.2.{n}" for n in range(10, 20))
CI_IPS = tuple(f"192.0.2.{n}" for n in range(50, 58))
REPORTING_IP = "192.0.2.80"
VENDOR_IP = "192.0.2.200"
HOME_IPS = {"alice": "198.51.100.23", "bob": "198.51.100.41", "carol@example.com": "198.51.100.57",
            "dave@example.com": "198.51.100.88", "erin@example.com": "198.51.100.112"}

ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits

BROWSERS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:126.0) Gecko/20100101 Firefox/126.0",
)
CLI_PREFIXES = (
    "aws-cli/2.15.57 md/awscrt#0.19.19 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.8 md/pyimpl#CPython "
    "cfg/retry-mode#standard md/installer#exe md/prompt#off",
    "aws-cli/2.17.4 md/awscrt#0.20.11 ua/2.0 os/linux#6.5.0-1022-aws md/arch#x86_64 lang/python#3.11.9 "
    "md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off",
)
BOTO_LAMBDA = ("Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.216-225.855.amzn2.x86_64 md/arch#x86_64 "
               "lang/python#3.11.9 md/pyimpl#CPython exec-env/AWS_Lambda_python3.11 cfg/retry-mode#legacy "
               "Botocore/1.34.84")
NODE_LAMBDA = ("aws-sdk-js/3.576.0 ua/2.0 os/linux#5.10.216-225.855.amzn2.x86_64 lang/js md/nodejs#20.13.1 "
               "exec-env/AWS_Lambda_nodejs20.x api/{api}#3.576.0")
JAVA_SDK = ("aws-sdk-java/2.25.60 Linux/5.10.216-225.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS "
            "Java/17.0.11 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy")
BOTO_SERVER = ("Boto3/1.34.120 md/Botocore#1.34.120 ua/2.0 os/linux#5.15.0-1061-aws md/arch#x86_64 lang/python#3.10.12 "
               "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.120")
SSM_AGENT = "aws-sdk-go/1.50.38 (go1.22.3; linux; amd64) amazon-ssm-agent/3.3.418.0"
TERRAFORM = ("APN/1.0 HashiCorp/1.0 Terraform/1.8.5 (+https://www.terraform.io) terraform-provider-aws/5.53.0 "
             "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.27.2 ua/2.0 os/linux "
             "lang/go#1.22.4 md/GOOS#linux md/GOARCH#amd64 api/{api}")
VENDOR_AGENT = ("Boto3/1.28.57 md/Botocore#1.31.57 ua/2.0 os/linux#5.4.0-1103-aws md/arch#x86_64 lang/python#3.9.18 "
                "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.57 monitoring-collector/7.52")
KALI_CLI = "aws-cli/2.13.5 Python/3.11.4 Linux/6.1.0-kali9-amd64 exe/x86_64.kali.2023 prompt/off command/{command}"
ATTACKER_BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"

# Per eventSource, the record version AWS currently writes.
EVENT_VERSIONS = {"ec2.amazonaws.com": "1.10", "iam.amazonaws.com": "1.09", "s3.amazonaws.com": "1.10",
                  "cloudtrail.amazonaws.com": "1.10", "secretsmanager.amazonaws.com": "1.09",
                  "lambda.amazonaws.com": "1.09"}
GLOBAL_HOSTS = {"iam.amazonaws.com": "iam.amazonaws.com", "signin.amazonaws.com": "signin.aws.amazon.com",
                "organizations.amazonaws.com": "organizations.us-east-1.amazonaws.com"}
ZONE_IDS = {"us-east-1": "use1", "us-west-2": "usw2", "eu-west-1": "euw1", "ap-southeast-2": "apse2"}
ACTION_PREFIX = {"monitoring.amazonaws.com": "cloudwatch"}     # IAM action prefixes that differ from the host name
S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"


# ---------------------------------------------------------------- ids, times, identities

def stable_id(prefix, *parts, length=17):
    """An AWS-style id that depends only on its parts, so every shard agrees on it."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return prefix + base64.b32encode(digest).decode()[:length]


def stable_hex(*parts, length=17):
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


@functools.lru_cache(maxsize=64)
def day_text(day_number):
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day_number)).isoformat()


def iso(ts):
    """Epoch seconds to CloudTrail's eventTime text, without datetime objects (hot path)."""
    day_number, seconds = divmod(int(ts), DAY)
    hours, rest = divmod(seconds, 3600)
    return f"{day_text(day_number)}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


def aws_date(ts, comma=True):
    """The 'Jun 3, 2025, 2:26:10 AM' form used inside IAM and STS response elements."""
    moment = dt.datetime.fromtimestamp(ts, dt.timezone.utc)
    hour = moment.hour % 12 or 12
    separator = "," if comma else ""
    return (f"{moment:%b} {moment.day}, {moment.year}{separator} {hour}:{moment:%M:%S} "
            f"{'AM' if moment.hour < 12 else 'PM'}")


# Lambda's eventNames carry the API version: ListFunctions20150331, GetFunction20150331v2.
API_VERSION_SUFFIX = re.compile(r"\d{8}(v\d)?$")


@functools.lru_cache(maxsize=None)
def kebab(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "-", API_VERSION_SUFFIX.sub("", name)).lower()


CLI_SERVICE_NAMES = {"monitoring": "cloudwatch", "elasticloadbalancing": "elbv2"}


def cli_agent(prefix, source, name):
    """aws-cli v2 names the command it ran at the end of its user agent."""
    service = source.split(".")[0]
    return f"{prefix} md/command#{CLI_SERVICE_NAMES.get(service, service)}.{kebab(name)}"


def user_arn(account, name):
    return f"arn:aws:iam::{account}:user/{name}"


def long_term_key(account, user):
    return stable_id("AKIA", account, user, "key-1", length=16)


def iam_user(account, name, access_key=None, session=None):
    """userIdentity of an IAM user; session=(temporary key, created, mfa) for console sign-ins."""
    identity = {"type": "IAMUser", "principalId": stable_id("AIDA", account, name), "arn": user_arn(account, name),
                "accountId": account, "accessKeyId": access_key or long_term_key(account, name), "userName": name}
    if session:
        identity["accessKeyId"] = session[0]
        identity["sessionContext"] = {"sessionIssuer": {}, "webIdFederationData": {},
                                      "attributes": {"creationDate": session[1], "mfaAuthenticated": session[2]}}
    return identity


def assumed_role(account, role, session_name, access_key, created, *, path="", ec2=False, mfa="false", invoked_by=None):
    role_id = stable_id("AROA", account, role)
    context = {"sessionIssuer": {"type": "Role", "principalId": role_id,
                                 "arn": f"arn:aws:iam::{account}:role/{path}{role}", "accountId": account,
                                 "userName": role},
               "webIdFederationData": {}, "attributes": {"creationDate": created, "mfaAuthenticated": mfa}}
    if ec2:
        context["ec2RoleDelivery"] = "2.0"
    identity = {"type": "AssumedRole", "principalId": f"{role_id}:{session_name}",
                "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session_name}", "accountId": account,
                "accessKeyId": access_key, "sessionContext": context}
    if invoked_by:
        identity["invokedBy"] = invoked_by
    return identity


def aws_service(name):
    return {"type": "AWSService", "invokedBy": name}


class Maker:
    """Ids, tokens and role sessions drawn from one seeded Random (one per shard, one for the incidents)."""

    def __init__(self, seed_text):
        self.rng = random.Random(seed_text)
        self.sessions = {}

    def uuid(self):
        # A version-4 UUID, formatted directly: uuid.UUID() costs twice as much on the hot path.
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"

    def hex(self, length):
        return f"{self.rng.getrandbits(4 * length):0{length}x}"

    def text(self, alphabet, length):
        return "".join(self.rng.choices(alphabet, k=length))

    def temp_key(self):
        return "ASIA" + self.text(UPPER_DIGITS, 16)

    def token(self):
        # Real session tokens are 400-1200 characters of base64 and dominate AssumeRole records.
        return "IQoJb3JpZ2luX2Vj" + base64.b64encode(self.rng.randbytes(self.rng.randint(420, 760))).decode()

    def s3_request_id(self):
        return self.text(UPPER_DIGITS, 16)

    def s3_extra(self, bytes_in=0, bytes_out=0):
        """additionalEventData of an S3 call; x-amz-id-2 is S3's own request id."""
        return {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": bytes_in,
                "AuthenticationMethod": "AuthHeader", "x-amz-id-2": base64.b64encode(self.rng.randbytes(57)).decode(),
                "bytesTransferredOut": bytes_out}

    def role_session(self, account, role, session_name, ts, *, path="", ec2=False, invoked_by=None, hours=6,
                     mfa="false"):
        """The same temporary key and identity for hours at a time, as SDK credential caches do.

        Background times are drawn in no particular order, so the session is dated just before
        its time slot begins: every call in the slot then comes after the session's creation.
        """
        slot = ts // (hours * 3600)
        key = (account, role, session_name, slot, invoked_by)
        identity = self.sessions.get(key)
        if identity is None:
            created = slot * hours * 3600 - self.rng.randint(30, 900)
            identity = assumed_role(account, role, session_name, self.temp_key(), iso(created), path=path,
                                    ec2=ec2, mfa=mfa, invoked_by=invoked_by)
            self.sessions[key] = identity
        return identity

    def console_user(self, account, name, ts, mfa=True):
        slot = ts // (4 * 3600)
        key = (account, name, slot, "console", mfa)
        identity = self.sessions.get(key)
        if identity is None:
            created = slot * 4 * 3600 - self.rng.randint(30, 900)
            identity = iam_user(account, name, session=(self.temp_key(), iso(created), "true" if mfa else "false"))
            self.sessions[key] = identity
        return identity

    def credentials(self, ts, hours=1):
        return {"accessKeyId": self.temp_key(), "sessionToken": self.token(),
                "expiration": aws_date(ts + hours * 3600)}


def event(m, ts, account, region, identity, source, name, ip, agent, request=None, response=None, *,
          read_only=True, error=None, extra=None, resources=None, event_type="AwsApiCall", category="Management",
          console=False, request_id=None, host=None, shared=False, vpce=None, tls="1.3"):
    """One CloudTrail record as AWS writes it (same key order); returns (epoch seconds, record).

    error is (errorCode, errorMessage), either may be None; request_id "" leaves requestID out.
    """
    record = {"eventVersion": EVENT_VERSIONS.get(source, "1.08"), "userIdentity": identity, "eventTime": iso(ts),
              "eventSource": source, "eventName": name, "awsRegion": region, "sourceIPAddress": ip,
              "userAgent": agent}
    if error:
        if error[0]:
            record["errorCode"] = error[0]
        if error[1]:
            record["errorMessage"] = error[1]
    record["requestParameters"] = request
    record["responseElements"] = response
    if extra:
        record["additionalEventData"] = extra
    if request_id is None:
        request_id = m.uuid()
    if request_id:
        record["requestID"] = request_id
    record["eventID"] = m.uuid()
    record["readOnly"] = read_only
    if resources:
        record["resources"] = resources
    record["eventType"] = event_type
    record["managementEvent"] = category == "Management"
    record["recipientAccountId"] = account
    if shared:
        record["sharedEventID"] = m.uuid()
    if vpce:
        record["vpcEndpointId"] = vpce
        record["vpcEndpointAccountId"] = account
    record["eventCategory"] = category
    # Calls that an AWS service makes on someone's behalf carry no TLS details.
    if tls and "invokedBy" not in identity:
        if tls == "1.3":
            suite = "TLS_AES_128_GCM_SHA256"
        else:
            suite = "ECDHE-RSA-AES128-GCM-SHA256"
        record["tlsDetails"] = {"tlsVersion": f"TLSv{tls}", "cipherSuite": suite,
                                "clientProvidedHostHeader": host or GLOBAL_HOSTS.get(source)
                                or f"{source.split('.')[0]}.{region}.amazonaws.com"}
    if console:
        record["sessionCredentialFromConsole"] = "true"
    return ts, record


def denied(identity, source, name, resource="*", how="because no identity-based policy allows the {action} action"):
    """errorCode/errorMessage pair of an IAM authorisation failure, worded as each service words it."""
    if source == "s3.amazonaws.com":
        return "AccessDenied", "Access Denied"
    service = ACTION_PREFIX.get(source, source.split(".")[0])
    action = service + ":" + API_VERSION_SUFFIX.sub("", name)
    who = identity.get("arn") or identity.get("principalId")
    message = f"User: {who} is not authorized to perform: {action} on resource: {resource} {how.format(action=action)}"
    if source == "ec2.amazonaws.com":
        return "Client.UnauthorizedOperation", "You are not authorized to perform this operation. " + message
    return "AccessDenied", message


# ---------------------------------------------------------------- the accounts' resources

@dataclass
class Setup:
    """What exists in one account and region: network, instances, functions, buckets, secrets, keys."""
    account: str
    region: str
    env: str
    vpc: str
    vpce_s3: str
    subnets: list
    security_groups: list
    instances: dict          # role -> instance ids
    functions: list          # (function name, role, runtime user agent)
    buckets: list            # buckets that live in this region
    secrets: list
    parameters: list
    kms_keys: list
    log_groups: list
    tables: list
    sso_roles: dict          # permission set -> role name
    ecs_tasks: list


@functools.lru_cache(maxsize=None)
def setup(account, region):
    env = ACCOUNT_NAMES[account]
    tag = (account, region)
    web_instances = [f"i-0{stable_hex(*tag, 'web', str(n), length=16)}" for n in range(4)]
    if tag == (PROD, "us-east-1"):
        web_instances[0] = "i-0a1b2c3d4e5f67890"     # the instance whose credentials are stolen in incident 6
    bucket_regions = {
        PROD: [("acme-prod-data", "us-east-1"), ("acme-prod-reports", "us-east-1"), ("acme-prod-assets", "us-east-1"),
               ("acme-cloudtrail-logs", "us-east-1"), ("acme-prod-backups", "us-west-2"),
               ("acme-prod-eu-data", "eu-west-1"), ("acme-prod-au-data", "ap-southeast-2")],
        DEV: [("acme-dev-scratch", "us-east-1"), ("acme-dev-artifacts", "us-east-1"),
              ("acme-dev-terraform-state", "us-west-2"), ("acme-dev-eu-test", "eu-west-1"),
              ("acme-dev-au-sandbox", "ap-southeast-2")],
    }[account]
    apps = ("orders", "payments", "reporting", "catalog")
    return Setup(
        account=account, region=region, env=env,
        vpc=f"vpc-0{stable_hex(*tag, 'vpc', length=16)}",
        vpce_s3=f"vpce-0{stable_hex(*tag, 'vpce', length=16)}",
        subnets=[f"subnet-0{stable_hex(*tag, 'subnet', str(n), length=16)}" for n in range(3)],
        security_groups=[(f"sg-0{stable_hex(*tag, 'sg', name, length=16)}", name)
                         for name in ("web-alb", "web-app", "batch-workers", "postgres", "bastion", "default")],
        instances={"web-app-role": web_instances,
                   "batch-worker-role": [f"i-0{stable_hex(*tag, 'batch', str(n), length=16)}" for n in range(3)]},
        functions=[("orders-api", "orders-api-lambda-role", NODE_LAMBDA.format(api="dynamodb")),
                   ("report-builder", "report-builder-lambda-role", BOTO_LAMBDA),
                   ("image-resizer", "image-resizer-lambda-role", NODE_LAMBDA.format(api="s3")),
                   ("slack-notifier", "slack-notifier-lambda-role", BOTO_LAMBDA)],
        buckets=[name for name, where in bucket_regions if where == region],
        secrets=[(f"{env}/{app}/{what}", f"arn:aws:secretsmanager:{region}:{account}:secret:{env}/{app}/{what}-"
                  f"{stable_id('', *tag, app, what, length=6)}")
                 for app in apps for what in ("db-credentials", "api-key", "signing-key")],
        parameters=[f"/{env}/{app}/{what}" for app in apps
                    for what in ("db-host", "feature-flags", "queue-url", "log-level")],
        kms_keys=[f"arn:aws:kms:{region}:{account}:key/{uuid.UUID(stable_hex(*tag, 'kms', str(n), length=32), version=4)}"
                  for n in range(3)],
        log_groups=[f"/aws/lambda/{name}" for name in ("orders-api", "report-builder", "image-resizer", "slack-notifier")]
        + ["/ecs/payments", "/aws/vpc/flow-logs"],
        tables=[f"{env}-{app}" for app in apps],
        sso_roles={ps: f"AWSReservedSSO_{ps}_{stable_hex(account, ps, length=16)}"
                   for ps in ("AdministratorAccess", "DeveloperAccess", "ReadOnlyAccess")},
        ecs_tasks=[stable_hex(*tag, "task", str(n), length=32) for n in range(4)],
    )


@dataclass
class Actor:
    identity: dict
    ip: str
    agent: str
    console: bool = False
    person: bool = False


SSO_PATH = "aws-reserved/sso.amazonaws.com/"
SSO_PEOPLE = {"carol@example.com": "AdministratorAccess", "dave@example.com": "DeveloperAccess",
              "erin@example.com": "ReadOnlyAccess"}
CONSOLE_USERS = ("alice", "bob")
LOGIN_TO = ("https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true"
            "&state=hashArgsFromTB_us-east-1_1a2b3c4d5e6f7a8b")


# ---------------------------------------------------------------- background traffic

class Shard(Maker):
    """Background traffic of one account, region and day."""

    def __init__(self, seed, account, region, day_index):
        super().__init__(f"{seed}/{account}/{region}/{day_index}")
        self.account, self.region = account, region
        self.day_start = START_TS + day_index * DAY
        self.setup = setup(account, region)
        self.weekend = (START_DAY + dt.timedelta(days=day_index)).weekday() >= 5

    def pick(self, items):
        return items[int(self.rng.random() * len(items))]

    def private_ip(self):
        prefix = VPC_PREFIX[(self.account, self.region)]
        return f"{prefix}.{self.rng.randint(1, 63)}.{self.rng.randint(4, 250)}"

    def private_dns(self, ip):
        domain = "ec2.internal" if self.region == "us-east-1" else f"{self.region}.compute.internal"
        return f"ip-{ip.replace('.', '-')}.{domain}"

    def app_actor(self, ts):
        """An application principal running in this region: Lambda function, ECS task or EC2 instance."""
        where = self.setup
        roll = self.rng.random()
        if roll < 0.4:
            function, role, agent = self.pick(where.functions)
            identity = self.role_session(self.account, role, function, ts)
        elif roll < 0.6:
            identity = self.role_session(self.account, "payments-task-role", self.pick(where.ecs_tasks), ts)
            agent = JAVA_SDK
        else:
            role = "web-app-role" if roll < 0.85 else "batch-worker-role"
            identity = self.role_session(self.account, role, self.pick(where.instances[role]), ts, ec2=True)
            agent = JAVA_SDK if role == "web-app-role" else BOTO_SERVER
        return identity, self.private_ip(), agent

    def person(self, ts):
        """A person at work: an IAM user in the console, or an SSO user in the console or on the CLI."""
        roll = self.rng.random()
        if roll < 0.35:
            name = "alice" if roll < 0.2 else "bob"
            ip = HOME_IPS[name] if self.rng.random() < 0.3 else self.pick(OFFICE_IPS)
            return Actor(self.console_user(self.account, name, ts), ip, "AWS Internal", console=True, person=True)
        person = self.pick(tuple(SSO_PEOPLE))
        role = self.setup.sso_roles[SSO_PEOPLE[person]]
        identity = self.role_session(self.account, role, person, ts, path=SSO_PATH, hours=8)
        ip = HOME_IPS[person] if self.rng.random() < 0.5 else self.pick(OFFICE_IPS)
        if roll < 0.6:
            return Actor(identity, ip, "AWS Internal", console=True, person=True)
        return Actor(identity, ip, self.pick(CLI_PREFIXES), console=False, person=True)

    def config_recorder(self, ts):
        identity = self.role_session(self.account, "AWSServiceRoleForConfig", "AWSConfig-Describe", ts,
                                     path="aws-service-role/config.amazonaws.com/", invoked_by="config.amazonaws.com")
        return Actor(identity, "config.amazonaws.com", "config.amazonaws.com")

    def call(self, ts, identity, source, name, ip, agent, request=None, response=None, **options):
        return event(self, ts, self.account, self.region, identity, source, name, ip, agent, request, response,
                     **options)

    def act(self, ts, actor, source, name, request=None, response=None, **options):
        """A call by an actor; people get the user agent the console or the CLI sends for that call."""
        agent = actor.agent
        if actor.person and not actor.console:
            agent = cli_agent(agent, source, name)
        elif actor.console and source == "ec2.amazonaws.com":
            agent = "console.ec2.amazonaws.com"
        elif actor.console and source == "s3.amazonaws.com":
            agent = "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.720]"
        return self.call(ts, actor.identity, source, name, actor.ip, agent, request, response,
                         console=actor.console, **options)

    def object_key(self, ts):
        day = iso(ts)[:10].replace("-", "/")
        prefix = self.pick(("exports", "uploads", "reports/daily", "images/original", "images/thumbs", "events"))
        return f"{prefix}/{day}/{self.hex(12)}.{self.pick(('json', 'csv', 'parquet', 'jpg', 'gz'))}"


def kms_by_service(s, ts):
    """KMS calls that S3, Secrets Manager, Lambda and EBS make for an application (the loudest source)."""
    where = s.setup
    identity, _, _ = s.app_actor(ts)
    service = s.pick(("s3.amazonaws.com", "s3.amazonaws.com", "secretsmanager.amazonaws.com", "lambda.amazonaws.com",
                      "ec2.amazonaws.com"))
    key = s.pick(where.kms_keys)
    if service == "s3.amazonaws.com" and where.buckets:
        context = {"aws:s3:arn": f"arn:aws:s3:::{s.pick(where.buckets)}/{s.object_key(ts)}"}
    elif service == "secretsmanager.amazonaws.com":
        _, arn = s.pick(where.secrets)
        context = {"SecretARN": arn, "SecretVersionId": s.uuid()}
    elif service == "ec2.amazonaws.com":
        identity = aws_service("ec2.amazonaws.com")
        context = {"aws:ebs:id": f"vol-0{s.hex(16)}"}
    else:
        function = s.pick(where.functions)[0]
        context = {"aws:lambda:FunctionArn": f"arn:aws:lambda:{s.region}:{s.account}:function:{function}"}
    if "invokedBy" not in identity:
        identity = dict(identity, invokedBy=service)
    records = []
    for n in range(s.rng.randint(1, 3)):
        if s.rng.random() < 0.6:
            name, request = "Decrypt", {"encryptionContext": context, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
        else:
            name, request = "GenerateDataKey", {"keyId": key, "encryptionContext": context, "keySpec": "AES_256"}
        records.append(s.call(ts + n, identity, "kms.amazonaws.com", name, service, service, request, None,
                              resources=[{"accountId": s.account, "type": "AWS::KMS::Key", "ARN": key}]))
    return records


def assume_role_by_service(s, ts):
    """STS handing role credentials to Lambda, ECS and EC2: big records, mostly token text."""
    where = s.setup
    roll = s.rng.random()
    if roll < 0.45:
        function, role, _ = s.pick(where.functions)
        service, session = "lambda.amazonaws.com", function
    elif roll < 0.7:
        service, role, session = "ecs-tasks.amazonaws.com", "payments-task-role", s.pick(where.ecs_tasks)
    else:
        role = s.pick(("web-app-role", "batch-worker-role"))
        service, session = "ec2.amazonaws.com", s.pick(where.instances[role])
    role_arn = f"arn:aws:iam::{s.account}:role/{role}"
    credentials = s.credentials(ts, hours=6 if service == "ec2.amazonaws.com" else 1)
    response = {"credentials": credentials,
                "assumedRoleUser": {"assumedRoleId": f"{stable_id('AROA', s.account, role)}:{session}",
                                    "arn": f"arn:aws:sts::{s.account}:assumed-role/{role}/{session}"}}
    return [s.call(ts, aws_service(service), "sts.amazonaws.com", "AssumeRole", service, service,
                   {"roleArn": role_arn, "roleSessionName": session}, response,
                   resources=[{"accountId": s.account, "type": "AWS::IAM::Role", "ARN": role_arn}], shared=True)]


def lambda_log_streams(s, ts):
    function, role, agent = s.pick(s.setup.functions)
    identity = s.role_session(s.account, role, function, ts)
    stream = f"{iso(ts)[:10].replace('-', '/')}/[$LATEST]{s.hex(32)}"
    return [s.call(ts, identity, "logs.amazonaws.com", "CreateLogStream", s.private_ip(), "AWS Internal",
                   {"logGroupName": f"/aws/lambda/{function}", "logStreamName": stream}, None, tls="1.2")]


EC2_READS = ("DescribeInstances", "DescribeInstances", "DescribeSecurityGroups", "DescribeVpcs", "DescribeSubnets",
             "DescribeVolumes", "DescribeNetworkInterfaces", "DescribeImages", "DescribeSnapshots", "DescribeTags",
             "DescribeInstanceStatus", "DescribeAddresses", "DescribeRouteTables", "DescribeLaunchTemplates",
             "DescribeKeyPairs", "DescribeAvailabilityZones", "DescribeAccountAttributes", "DescribeInstanceTypes")


def ec2_request(s, name):
    where = s.setup
    if name == "DescribeInstances":
        if s.rng.random() < 0.5:
            instance = s.pick(where.instances["web-app-role"])
            return {"instancesSet": {"items": [{"instanceId": instance}]}, "filterSet": {}}
        return {"instancesSet": {}, "filterSet": {"items": [
            {"name": "instance-state-name", "valueSet": {"items": [{"value": "running"}, {"value": "pending"}]}},
            {"name": "tag:Environment", "valueSet": {"items": [{"value": where.env}]}}]}, "maxResults": 1000}
    if name == "DescribeSecurityGroups":
        group, _ = s.pick(where.security_groups)
        return {"securityGroupSet": {}, "securityGroupIdSet": {"items": [{"groupId": group}]}, "filterSet": {}}
    if name in ("DescribeSubnets", "DescribeRouteTables", "DescribeNetworkInterfaces"):
        return {"filterSet": {"items": [{"name": "vpc-id", "valueSet": {"items": [{"value": where.vpc}]}}]}}
    if name == "DescribeImages":
        return {"executableBySet": {}, "imagesSet": {}, "ownersSet": {"items": [{"owner": "self"}]},
                "filterSet": {"items": [{"name": "name", "valueSet": {"items": [{"value": f"{where.env}-base-*"}]}}]}}
    if name == "DescribeSnapshots":
        return {"snapshotSet": {}, "ownersSet": {"items": [{"owner": "self"}]}, "sharedUsersSet": {}, "filterSet": {}}
    if name == "DescribeTags":
        return {"filterSet": {"items": [{"name": "resource-id", "valueSet": {"items": [
            {"value": s.pick(where.instances["batch-worker-role"])}]}}]}}
    if name == "DescribeInstanceTypes":
        return {"instanceTypeSet": {"items": [{"instanceType": s.pick(("m6i.large", "t3.medium", "c6g.xlarge"))}]}}
    return {"filterSet": {}}


def ec2_reads(s, ts):
    """Bursts of EC2 Describe calls by people, Terraform plans, AWS Config and the instances themselves."""
    roll = s.rng.random()
    if roll < 0.35:
        actor = s.person(ts)
    elif roll < 0.55:
        identity = s.role_session(s.account, "terraform-deployer", f"ci-{s.rng.randint(4000, 9999)}", ts, hours=1)
        actor = Actor(identity, s.pick(CI_IPS), TERRAFORM.format(api="ec2#1.162.1"))
    elif roll < 0.75:
        actor = s.config_recorder(ts)
    else:
        actor = Actor(*s.app_actor(ts))
    records = []
    when = ts
    for _ in range(s.rng.randint(2, 12)):
        name = s.pick(EC2_READS)
        records.append(s.act(when, actor, "ec2.amazonaws.com", name, ec2_request(s, name)))
        when += s.rng.randint(0, 3)
    return records


def s3_data_events(s, ts):
    """Object reads and writes by applications (data events are on for the trail)."""
    where = s.setup
    if not where.buckets:
        return []
    identity, ip, agent = s.app_actor(ts)
    bucket = s.pick([b for b in where.buckets if b != TRAIL_BUCKET] or where.buckets)
    host = f"{bucket}.s3.{s.region}.amazonaws.com"
    records = []
    for n in range(s.rng.randint(1, 8)):
        roll = s.rng.random()
        key = s.object_key(ts)
        object_arn = {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"}
        bucket_arn = {"accountId": s.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}
        if roll < 0.5:
            name, request = "GetObject", {"bucketName": bucket, "Host": host, "key": key}
            size, read_only = s.rng.randint(200, 4_000_000), True
            extra, response = s.s3_extra(0, size), None
        elif roll < 0.75:
            name, read_only = "PutObject", False
            kms_key = s.pick(where.kms_keys)
            request = {"bucketName": bucket, "Host": host, "key": key, "x-amz-server-side-encryption": "aws:kms",
                       "x-amz-server-side-encryption-aws-kms-key-id": kms_key}
            size = s.rng.randint(200, 2_000_000)
            extra = s.s3_extra(size, 0)
            response = {"x-amz-server-side-encryption": "aws:kms",
                        "x-amz-server-side-encryption-aws-kms-key-id": kms_key,
                        "x-amz-server-side-encryption-bucket-key-enabled": "true"}
        elif roll < 0.9:
            name, request, read_only = "HeadObject", {"bucketName": bucket, "Host": host, "key": key}, True
            extra, response = s.s3_extra(), None
        else:
            name, read_only = "ListObjects", True
            request = {"bucketName": bucket, "Host": host, "list-type": "2", "prefix": key.rsplit("/", 2)[0] + "/",
                       "max-keys": "1000", "encoding-type": "url"}
            extra, response, object_arn = s.s3_extra(), None, None
        resources = [object_arn, bucket_arn] if object_arn else [bucket_arn]
        records.append(s.call(ts + n, identity, "s3.amazonaws.com", name, ip, f"[{agent}]", request, response,
                              extra=extra, resources=resources, category="Data", read_only=read_only,
                              request_id=s.s3_request_id(), vpce=where.vpce_s3, host=host))
    return records


BUCKET_READS = ("GetBucketLocation", "GetBucketAcl", "GetBucketPolicy", "GetBucketEncryption", "GetBucketVersioning",
                "GetBucketPublicAccessBlock", "GetBucketTagging", "GetBucketLogging", "GetBucketOwnershipControls")


def s3_bucket_reads(s, ts):
    """Bucket configuration reads by the console and AWS Config; NoSuch* errors are routine here."""
    where = s.setup
    actor = s.person(ts) if s.rng.random() < 0.5 else s.config_recorder(ts)
    records = []
    if s.region == "us-east-1":
        records.append(s.act(ts, actor, "s3.amazonaws.com", "ListBuckets", {"Host": "s3.us-east-1.amazonaws.com"},
                             extra=s.s3_extra(), request_id=s.s3_request_id(), host="s3.us-east-1.amazonaws.com"))
    for n in range(s.rng.randint(1, 6)):
        if not where.buckets:
            break
        bucket = s.pick(where.buckets)
        name = s.pick(BUCKET_READS)
        error = None
        if name == "GetBucketPolicy" and bucket not in ("acme-prod-reports", TRAIL_BUCKET):
            error = ("NoSuchBucketPolicy", "The bucket policy does not exist")
        elif name == "GetBucketTagging" and s.rng.random() < 0.5:
            error = ("NoSuchTagSet", "The TagSet does not exist")
        host = f"{bucket}.s3.{s.region}.amazonaws.com"
        query = name[9:].lower().replace("publicaccessblock", "publicAccessBlock").replace(
            "ownershipcontrols", "ownershipControls")
        records.append(s.act(ts + 1 + n, actor, "s3.amazonaws.com", name,
                             {"bucketName": bucket, "Host": host, query: ""}, error=error, extra=s.s3_extra(),
                             request_id=s.s3_request_id(), host=host,
                             resources=[{"accountId": s.account, "type": "AWS::S3::Bucket",
                                         "ARN": f"arn:aws:s3:::{bucket}"}]))
    return records


def ssm_agent(s, ts):
    """The SSM agent on every instance reports in every few minutes."""
    role = s.pick(("web-app-role", "batch-worker-role"))
    instance = s.pick(s.setup.instances[role])
    identity = s.role_session(s.account, role, instance, ts, ec2=True)
    ip = s.private_ip()
    request = {"instanceId": instance, "agentVersion": "3.3.418.0", "agentStatus": "Active",
               "platformType": "Linux", "platformName": "Amazon Linux", "platformVersion": "2023",
               "iPAddress": ip, "computerName": s.private_dns(ip),
               "agentName": "amazon-ssm-agent", "availabilityZone": f"{s.region}a",
               "availabilityZoneId": f"{ZONE_IDS[s.region]}-az1"}
    return [s.call(ts, identity, "ssm.amazonaws.com", "UpdateInstanceInformation", request["iPAddress"], SSM_AGENT,
                   request, None, read_only=False)]


def ssm_parameters(s, ts):
    identity, ip, agent = s.app_actor(ts)
    names = s.setup.parameters
    if s.rng.random() < 0.5:
        name, request = "GetParameter", {"name": s.pick(names), "withDecryption": s.rng.random() < 0.3}
    else:
        picked = sorted({s.pick(names) for _ in range(s.rng.randint(2, 5))})
        name, request = "GetParameters", {"names": picked, "withDecryption": True}
    return [s.call(ts, identity, "ssm.amazonaws.com", name, ip, agent, request, None)]


def secret_reads(s, ts):
    identity, ip, agent = s.app_actor(ts)
    name, arn = s.pick(s.setup.secrets)
    return [s.call(ts, identity, "secretsmanager.amazonaws.com", "GetSecretValue", ip, agent,
                   {"secretId": s.pick((name, arn))}, None)]


IAM_READS = ("ListRoles", "GetRole", "ListAttachedRolePolicies", "ListRolePolicies", "GetPolicy", "GetPolicyVersion",
             "ListUsers", "GetUser", "ListAccessKeys", "ListMFADevices", "ListGroupsForUser", "ListPolicies",
             "GetAccountSummary", "ListInstanceProfilesForRole")


def iam_request(s, name):
    if name in ("GetRole", "ListAttachedRolePolicies", "ListRolePolicies", "ListInstanceProfilesForRole"):
        return {"roleName": s.pick(("web-app-role", "batch-worker-role", "terraform-deployer", "orders-api-lambda-role",
                                    "payments-task-role", "ops-automation-role"))}
    if name in ("GetUser", "ListAccessKeys", "ListMFADevices", "ListGroupsForUser"):
        return {"userName": s.pick(("alice", "bob", "ci-deploy", "svc-reporting"))}
    if name in ("GetPolicy", "GetPolicyVersion"):
        request = {"policyArn": s.pick((f"arn:aws:iam::{s.account}:policy/app-data-access",
                                        "arn:aws:iam::aws:policy/ReadOnlyAccess",
                                        f"arn:aws:iam::{s.account}:policy/ci-deploy-permissions"))}
        if name == "GetPolicyVersion":
            request["versionId"] = f"v{s.rng.randint(1, 6)}"
        return request
    if name == "ListPolicies":
        return {"scope": "Local", "onlyAttached": False, "maxItems": 100}
    if name in ("ListRoles", "ListUsers"):
        return {"maxItems": 1000} if s.rng.random() < 0.5 else None
    return None


def iam_reads(s, ts):
    """IAM console browsing, Access Analyzer and AWS Config (global service, recorded in us-east-1)."""
    roll = s.rng.random()
    if roll < 0.5:
        actor = s.person(ts)
    elif roll < 0.75:
        actor = s.config_recorder(ts)
    else:
        identity = s.role_session(s.account, "AWSServiceRoleForAccessAnalyzer", "access-analyzer", ts,
                                  path="aws-service-role/access-analyzer.amazonaws.com/",
                                  invoked_by="access-analyzer.amazonaws.com")
        actor = Actor(identity, "access-analyzer.amazonaws.com", "access-analyzer.amazonaws.com")
    records = []
    for n in range(s.rng.randint(1, 7)):
        name = s.pick(IAM_READS)
        records.append(s.act(ts + n, actor, "iam.amazonaws.com", name, iam_request(s, name)))
    return records


def cloudtrail_reads(s, ts):
    roll = s.rng.random()
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{PROD}:trail/{TRAIL_NAME}"
    if roll < 0.5:
        actor = s.person(ts)
        start = ts - 3600 * s.rng.randint(1, 48)
        request = {"lookupAttributes": [{"attributeKey": s.pick(("EventName", "Username", "ResourceName")),
                                         "attributeValue": s.pick(("RunInstances", "alice", "ConsoleLogin",
                                                                   "web-app-role", "DeleteObject"))}],
                   "startTime": aws_date(start), "endTime": aws_date(ts), "maxResults": 50}
        return [s.act(ts, actor, "cloudtrail.amazonaws.com", "LookupEvents", request)]
    name = s.pick(("DescribeTrails", "GetTrailStatus", "GetEventSelectors", "ListTrails"))
    if name == "DescribeTrails":
        request = {"trailNameList": [], "includeShadowTrails": True}
    else:
        request = None if name == "ListTrails" else {"name": trail_arn}
    return [s.act(ts, s.config_recorder(ts), "cloudtrail.amazonaws.com", name, request)]


def caller_identity(s, ts):
    roll = s.rng.random()
    # Calls to the global STS endpoint are recorded in us-east-1; elsewhere the SDK uses the regional one.
    host = "sts.amazonaws.com" if s.region == "us-east-1" and s.rng.random() < 0.5 else None
    if roll < 0.45:
        name = "ci-deploy"
        identity, ip, agent = iam_user(s.account, name), s.pick(CI_IPS), TERRAFORM.format(api="sts#1.28.13")
    elif roll < 0.7 and s.account == PROD:
        identity, ip, agent = iam_user(s.account, "svc-reporting"), REPORTING_IP, BOTO_SERVER
    else:
        actor = s.person(ts)
        actor.console, actor.agent = False, CLI_PREFIXES[0]     # nobody calls GetCallerIdentity from the console
        return [s.act(ts, actor, "sts.amazonaws.com", "GetCallerIdentity", host=host)]
    return [s.call(ts, identity, "sts.amazonaws.com", "GetCallerIdentity", ip, agent, host=host)]


def iam_user_sign_in(s, ts):
    """An IAM user signing in to the console with a password and an MFA code."""
    name = s.pick(CONSOLE_USERS)
    ip = HOME_IPS[name] if s.rng.random() < 0.4 else s.pick(OFFICE_IPS)
    agent = s.pick(BROWSERS)
    checking = {"type": "IAMUser", "principalId": stable_id("AIDA", s.account, name), "accountId": s.account,
                "accessKeyId": "", "userName": name}
    signed_in = {"type": "IAMUser", "principalId": stable_id("AIDA", s.account, name),
                 "arn": user_arn(s.account, name), "accountId": s.account, "userName": name}
    extra = {"LoginTo": LOGIN_TO, "MobileVersion": "No",
             "MFAIdentifier": f"arn:aws:iam::{s.account}:mfa/{name}-phone", "MFAUsed": "Yes"}
    return [s.call(ts, checking, "signin.amazonaws.com", "CheckMfa", ip, agent, None, {"CheckMfa": "Success"},
                   extra={"MfaType": "Virtual MFA"}, read_only=False, event_type="AwsConsoleSignIn", request_id=""),
            s.call(ts + 6, signed_in, "signin.amazonaws.com", "ConsoleLogin", ip, agent, None,
                   {"ConsoleLogin": "Success"}, extra=extra, read_only=False, event_type="AwsConsoleSignIn",
                   request_id="")]


def sso_sign_in(s, ts, person=None):
    """An IAM Identity Center user opening the console: SAML federation into an AWSReservedSSO_ role.

    Such logins report MFAUsed "No" (the identity provider did the MFA) and name the SAML provider.
    """
    person = person or s.pick(tuple(SSO_PEOPLE))
    role = s.setup.sso_roles[SSO_PEOPLE[person]]
    ip = HOME_IPS[person] if s.rng.random() < 0.5 else s.pick(OFFICE_IPS)
    provider = f"arn:aws:iam::{s.account}:saml-provider/AWSSSO_{stable_hex(s.account, 'saml', length=16)}_DO_NOT_DELETE"
    role_arn = f"arn:aws:iam::{s.account}:role/{SSO_PATH}{role}"
    saml_user = {"type": "SAMLUser", "principalId": f"{stable_id('', 'saml', person, length=28)}:{person}",
                 "userName": person, "identityProvider": stable_id("", "idp", s.account, length=28)}
    credentials = s.credentials(ts, hours=8)
    assumed = {"assumedRoleId": f"{stable_id('AROA', s.account, role)}:{person}",
               "arn": f"arn:aws:sts::{s.account}:assumed-role/{role}/{person}"}
    records = [s.call(ts, saml_user, "sts.amazonaws.com", "AssumeRoleWithSAML", ip, "AWS Internal",
                      {"sAMLAssertionID": f"_{s.uuid()}", "roleSessionName": person, "principalTags": {},
                       "roleArn": role_arn, "principalArn": provider, "durationSeconds": 28800},
                      {"credentials": credentials, "assumedRoleUser": assumed, "subject": person,
                       "subjectType": "persistent",
                       "issuer": "https://portal.sso.us-east-1.amazonaws.com/saml/assertion/"
                                 + stable_id("", "issuer", length=24),
                       "audience": "https://signin.aws.amazon.com/saml",
                       "nameQualifier": stable_id("", "nq", s.account, length=28)},
                      resources=[{"ARN": role_arn, "accountId": s.account, "type": "AWS::IAM::Role"},
                                 {"ARN": provider, "accountId": s.account, "type": "AWS::IAM::SAMLProvider"}],
                      shared=True, tls=None)]
    identity = assumed_role(s.account, role, person, credentials["accessKeyId"], iso(ts), path=SSO_PATH)
    del identity["accessKeyId"]
    extra = {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "No",
             "SamlProviderArn": provider}
    records.append(s.call(ts + 3, identity, "signin.amazonaws.com", "ConsoleLogin", ip, s.pick(BROWSERS), None,
                          {"ConsoleLogin": "Success"}, extra=extra, read_only=False, event_type="AwsConsoleSignIn",
                          request_id=""))
    return records


def sydney_sign_in(s, ts):
    # Sign-ins through the regional sign-in endpoint are recorded in that region, not us-east-1.
    return sso_sign_in(s, ts, "erin@example.com")


def routine_errors(s, ts):
    """Everyday failures: a read-only person opening pages they may not use, lookups of missing things."""
    where = s.setup
    person = "erin@example.com"
    role = where.sso_roles["ReadOnlyAccess"]
    identity = s.role_session(s.account, role, person, ts, path=SSO_PATH, hours=8)
    ip = HOME_IPS[person]
    roll = s.rng.random()
    if roll < 0.4:
        source, name, request = s.pick((
            ("kms.amazonaws.com", "ListAliases", {"limit": 100}),
            ("secretsmanager.amazonaws.com", "GetSecretValue", {"secretId": where.secrets[0][0]}),
            ("ssm.amazonaws.com", "GetParameter", {"name": where.parameters[0], "withDecryption": True}),
        ))
        return [s.call(ts, identity, source, name, ip, "AWS Internal", request, None,
                       error=denied(identity, source, name), console=True)]
    if roll < 0.7:
        identity, ip, agent = s.app_actor(ts)
        name, _ = s.pick(where.secrets)
        return [s.call(ts, identity, "secretsmanager.amazonaws.com", "DescribeSecret", ip, agent,
                       {"secretId": name + "-old"}, None, error=("ResourceNotFoundException",
                                                                 "Secrets Manager can't find the specified secret."))]
    instance = f"i-0{s.hex(16)}"
    return [s.call(ts, identity, "ec2.amazonaws.com", "DescribeInstances", ip, "console.ec2.amazonaws.com",
                   {"instancesSet": {"items": [{"instanceId": instance}]}, "filterSet": {}}, None,
                   error=("Client.InvalidInstanceID.NotFound", f"The instance ID '{instance}' does not exist"),
                   console=True)]


def instance_launch(s, ts):
    """Auto Scaling replacing an instance: RunInstances with its large response, then CreateTags."""
    where = s.setup
    identity = s.role_session(s.account, "AWSServiceRoleForAutoScaling", "AutoScaling", ts,
                              path="aws-service-role/autoscaling.amazonaws.com/",
                              invoked_by="autoscaling.amazonaws.com")
    instance, interface = f"i-0{s.hex(16)}", f"eni-0{s.hex(16)}"
    subnet = s.pick(where.subnets)
    group_set = {"items": [{"groupId": where.security_groups[1][0], "groupName": where.security_groups[1][1]}]}
    private_ip = s.private_ip()
    dns = s.private_dns(private_ip)
    launched_ms = ts * 1000
    client_token = f"fleet-{s.uuid()}-0"
    template = f"lt-0{stable_hex(s.account, s.region, 'lt', length=16)}"
    request = {
        "instancesSet": {"items": [{"minCount": 1, "maxCount": 1}]}, "blockDeviceMapping": {},
        "monitoring": {"enabled": False}, "disableApiTermination": False, "disableApiStop": False,
        "clientToken": client_token, "launchTemplate": {"launchTemplateId": template, "version": "7"},
        "subnetId": subnet,
        "tagSpecificationSet": {"items": [{"resourceType": "instance", "tags": [
            {"key": "aws:autoscaling:groupName", "value": f"{where.env}-web-asg"}]}]},
    }
    network_interface = {
        "networkInterfaceId": interface, "subnetId": subnet, "vpcId": where.vpc, "ownerId": s.account,
        "status": "in-use", "macAddress": "0e:" + ":".join(s.hex(2) for _ in range(5)),
        "privateIpAddress": private_ip, "privateDnsName": dns, "sourceDestCheck": True,
        "interfaceType": "interface", "groupSet": group_set,
        "attachment": {"attachmentId": f"eni-attach-0{s.hex(16)}", "deviceIndex": 0, "networkCardIndex": 0,
                       "status": "attaching", "attachTime": launched_ms, "deleteOnTermination": True},
        "privateIpAddressesSet": {"item": [{"privateIpAddress": private_ip, "privateDnsName": dns, "primary": True}]},
        "ipv6AddressesSet": {}, "tagSet": {},
    }
    item = {
        "instanceId": instance, "imageId": f"ami-0{stable_hex(s.account, s.region, 'ami', length=16)}",
        "currentInstanceBootMode": "uefi", "instanceState": {"code": 0, "name": "pending"},
        "privateDnsName": dns, "amiLaunchIndex": 0, "productCodes": {}, "instanceType": "m6i.large",
        "launchTime": launched_ms, "placement": {"availabilityZone": f"{s.region}a", "tenancy": "default"},
        "monitoring": {"state": "disabled"}, "subnetId": subnet, "vpcId": where.vpc, "privateIpAddress": private_ip,
        "stateReason": {"code": "pending", "message": "pending"}, "architecture": "x86_64",
        "rootDeviceType": "ebs", "rootDeviceName": "/dev/xvda", "blockDeviceMapping": {},
        "virtualizationType": "hvm", "hypervisor": "xen", "clientToken": client_token, "groupSet": group_set,
        "sourceDestCheck": True, "networkInterfaceSet": {"items": [network_interface]},
        "iamInstanceProfile": {"arn": f"arn:aws:iam::{s.account}:instance-profile/web-app-role",
                               "id": stable_id("AIPA", s.account, "web")},
        "ebsOptimized": True, "enaSupport": True, "cpuOptions": {"coreCount": 1, "threadsPerCore": 2},
        "capacityReservationSpecification": {"capacityReservationPreference": "open"},
        "hibernationOptions": {"configured": False}, "enclaveOptions": {"enabled": False},
        "bootMode": "uefi-preferred",
        "metadataOptions": {"state": "pending", "httpTokens": "required", "httpPutResponseHopLimit": 2,
                            "httpEndpoint": "enabled", "httpProtocolIpv4": "enabled",
                            "httpProtocolIpv6": "disabled", "instanceMetadataTags": "disabled"},
        "maintenanceOptions": {"autoRecovery": "default"},
        "privateDnsNameOptions": {"hostnameType": "ip-name", "enableResourceNameDnsARecord": False,
                                  "enableResourceNameDnsAAAARecord": False},
    }
    response = {"requestId": s.uuid(), "reservationId": f"r-0{s.hex(16)}", "ownerId": s.account,
                "requesterId": "940372691376", "groupSet": {}, "instancesSet": {"items": [item]}}
    tags = {"resourcesSet": {"items": [{"resourceId": instance}, {"resourceId": interface}]},
            "tagSet": {"items": [{"key": "Name", "value": f"{where.env}-web"},
                                 {"key": "Environment", "value": where.env}]}}
    service = "autoscaling.amazonaws.com"
    return [s.call(ts, identity, "ec2.amazonaws.com", "RunInstances", service, service, request, response,
                   read_only=False),
            s.call(ts + 1, identity, "ec2.amazonaws.com", "CreateTags", service, service, tags,
                   {"requestId": s.uuid(), "_return": True}, read_only=False)]


def metrics_reads(s, ts):
    """Dashboards and the monitoring vendor polling CloudWatch and load balancers."""
    if s.rng.random() < 0.5:
        identity = s.role_session(s.account, "monitoring-vendor-readonly", "collector", ts, hours=1)
        ip, agent = VENDOR_IP, VENDOR_AGENT
    else:
        identity, ip, agent = s.app_actor(ts)
    records = []
    for n in range(s.rng.randint(1, 4)):
        roll = s.rng.random()
        if roll < 0.5:
            queries = []
            for number in range(s.rng.randint(1, 4)):
                metric = {"namespace": s.pick(("AWS/EC2", "AWS/ApplicationELB", "AWS/Lambda", "AWS/RDS")),
                          "metricName": s.pick(("CPUUtilization", "RequestCount", "Duration", "Errors")),
                          "dimensions": [{"name": "AutoScalingGroupName", "value": f"{s.setup.env}-web-asg"}]}
                queries.append({"id": f"m{number}", "returnData": True,
                                "metricStat": {"metric": metric, "period": 60, "stat": s.pick(("Average", "Sum", "p99"))}})
            request = {"metricDataQueries": queries, "startTime": aws_date(ts - 600), "endTime": aws_date(ts)}
            records.append(s.call(ts + n, identity, "monitoring.amazonaws.com", "GetMetricData", ip, agent, request))
        elif roll < 0.75:
            records.append(s.call(ts + n, identity, "monitoring.amazonaws.com", "DescribeAlarms", ip, agent,
                                  {"stateValue": "ALARM", "maxRecords": 100}))
        else:
            target_group = f"{s.setup.env}-web/{stable_hex(s.account, s.region, 'tg', length=16)}"
            arn = f"arn:aws:elasticloadbalancing:{s.region}:{s.account}:targetgroup/{target_group}"
            records.append(s.call(ts + n, identity, "elasticloadbalancing.amazonaws.com", "DescribeTargetHealth", ip,
                                  agent, {"targetGroupArn": arn}))
    return records


def container_pulls(s, ts):
    """ECS tasks and instances logging in to ECR and pulling image layers."""
    identity, ip, agent = s.app_actor(ts)
    repository = s.pick(("orders-api", "payments", "catalog", "report-builder"))
    registry = f"{s.account}.dkr.ecr.{s.region}.amazonaws.com"
    resources = [{"accountId": s.account, "ARN": f"arn:aws:ecr:{s.region}:{s.account}:repository/{repository}"}]
    media_types = ["application/vnd.docker.distribution.manifest.v1+json",
                   "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json"]
    records = [s.call(ts, identity, "ecr.amazonaws.com", "GetAuthorizationToken", ip, agent,
                      {"registryIds": [s.account]}),
               s.call(ts + 1, identity, "ecr.amazonaws.com", "BatchGetImage", ip, "AWS Internal",
                      {"imageIds": [{"imageTag": "latest"}], "acceptedMediaTypes": media_types,
                       "repositoryName": repository, "registryId": s.account},
                      resources=resources, host=registry)]
    for n in range(s.rng.randint(0, 3)):
        records.append(s.call(ts + 2 + n, identity, "ecr.amazonaws.com", "GetDownloadUrlForLayer", ip, "AWS Internal",
                              {"repositoryName": repository, "registryId": s.account,
                               "layerDigest": "sha256:" + s.hex(64)},
                              resources=resources, host=registry))
    return records


def database_reads(s, ts):
    identity, ip, agent = s.app_actor(ts)
    name = s.pick(("DescribeTable", "DescribeTable", "ListTables", "DescribeTimeToLive", "DescribeContinuousBackups"))
    request = {"limit": 100} if name == "ListTables" else {"tableName": s.pick(s.setup.tables)}
    return [s.call(ts, identity, "dynamodb.amazonaws.com", name, ip, agent, request, None)]


def lambda_api(s, ts):
    actor = s.person(ts)
    function = s.pick(s.setup.functions)[0]
    name = s.pick(("ListFunctions20150331", "GetFunction20150331v2", "GetFunctionConfiguration20150331v2",
                   "ListVersionsByFunction20150331", "GetPolicy20150331v2"))
    request = {"maxItems": 50} if name.startswith("ListFunctions") else {"functionName": function}
    return [s.act(ts, actor, "lambda.amazonaws.com", name, request)]


def developer_cli(s, ts):
    """An SSO developer working from a terminal: log searches, EC2 and CloudFormation describe calls."""
    person = "dave@example.com"
    identity = s.role_session(s.account, s.setup.sso_roles["DeveloperAccess"], person, ts, path=SSO_PATH, hours=8)
    actor = Actor(identity, HOME_IPS[person] if s.rng.random() < 0.6 else s.pick(OFFICE_IPS), CLI_PREFIXES[0],
                  person=True)
    records = []
    for n in range(s.rng.randint(2, 8)):
        roll = s.rng.random()
        when = ts + n * s.rng.randint(2, 40)
        if roll < 0.4:
            group = s.pick(s.setup.log_groups[:5])
            request = {"logGroupName": group, "startTime": (when - 900) * 1000, "interleaved": True,
                       "filterPattern": s.pick(("ERROR", "Timeout", '"status":500'))}
            records.append(s.act(when, actor, "logs.amazonaws.com", "FilterLogEvents", request))
        elif roll < 0.6:
            records.append(s.act(when, actor, "logs.amazonaws.com", "DescribeLogGroups",
                                 {"logGroupNamePrefix": "/aws/lambda/"}))
        elif roll < 0.8:
            name = s.pick(EC2_READS)
            records.append(s.act(when, actor, "ec2.amazonaws.com", name, ec2_request(s, name)))
        else:
            name = s.pick(("DescribeStacks", "ListStacks", "DescribeStackEvents"))
            stack = f"{s.setup.env}-{s.pick(('orders', 'payments', 'network'))}"
            request = None if name == "ListStacks" else {"stackName": stack}
            records.append(s.act(when, actor, "cloudformation.amazonaws.com", name, request))
    return records


def terraform_apply(s, ts):
    """CI assumes the deploy role, plans (reads) and applies a few routine changes."""
    where = s.setup
    run = f"ci-{s.rng.randint(4000, 9999)}"
    ip = s.pick(CI_IPS)
    records = []
    role_arn = f"arn:aws:iam::{s.account}:role/terraform-deployer"
    credentials = s.credentials(ts)
    assumed = {"assumedRoleId": f"{stable_id('AROA', s.account, 'terraform-deployer')}:{run}",
               "arn": f"arn:aws:sts::{s.account}:assumed-role/terraform-deployer/{run}"}
    records.append(s.call(ts, iam_user(s.account, "ci-deploy"), "sts.amazonaws.com", "AssumeRole", ip,
                          TERRAFORM.format(api="sts#1.28.13"),
                          {"roleArn": role_arn, "roleSessionName": run, "durationSeconds": 3600},
                          {"credentials": credentials, "assumedRoleUser": assumed},
                          resources=[{"accountId": s.account, "type": "AWS::IAM::Role", "ARN": role_arn}], shared=True))
    identity = assumed_role(s.account, "terraform-deployer", run, credentials["accessKeyId"], iso(ts))
    agent = TERRAFORM.format(api="ec2#1.162.1")
    when = ts + 5
    for name in ("DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups", "DescribeInstances",
                 "DescribeLaunchTemplates"):
        when += s.rng.randint(0, 2)
        records.append(s.call(when, identity, "ec2.amazonaws.com", name, ip, agent, ec2_request(s, name)))
    roll = s.rng.random()
    group, _ = where.security_groups[1]
    if roll < 0.3:
        # A routine rule change inside the VPC: a source of harmless security-group alerts.
        vpc_range = f"{VPC_PREFIX[(s.account, s.region)]}.0.0/16"
        permission = {"ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080, "groups": {},
                      "ipRanges": {"items": [{"cidrIp": vpc_range, "description": "internal load balancer"}]},
                      "ipv6Ranges": {}, "prefixListIds": {}}
        rule = {"groupOwnerId": s.account, "groupId": group, "securityGroupRuleId": f"sgr-0{s.hex(16)}",
                "isEgress": False, "ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080, "cidrIpv4": vpc_range,
                "description": "internal load balancer"}
        response = {"requestId": s.uuid(), "_return": True, "securityGroupRuleSet": {"items": [rule]}}
        records.append(s.call(when + 3, identity, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", ip, agent,
                              {"groupId": group, "ipPermissions": {"items": [permission]}}, response, read_only=False))
    elif roll < 0.6:
        function, _, _ = s.pick(where.functions)
        records.append(s.call(when + 3, identity, "lambda.amazonaws.com", "UpdateFunctionCode20150331v2", ip,
                              TERRAFORM.format(api="lambda#1.54.6"),
                              {"functionName": function, "s3Bucket": ARTIFACT_BUCKETS[s.account],
                               "s3Key": f"lambda/{function}/{s.hex(40)}.zip", "publish": True}, None, read_only=False))
    elif s.region == "us-east-1":
        document = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],'
                    f'"Resource":"arn:aws:s3:::acme-{where.env}-data/*"}}]}}')
        records.append(s.call(when + 3, identity, "iam.amazonaws.com", "PutRolePolicy", ip,
                              TERRAFORM.format(api="iam#1.32.0"),
                              {"roleName": "orders-api-lambda-role", "policyName": "orders-data-access",
                               "policyDocument": document}, None, read_only=False))
    return records


def key_rotation(s, ts):
    """A service event with no caller: KMS rotating a key on schedule."""
    key = s.pick(s.setup.kms_keys)
    identity = {"accountId": s.account, "invokedBy": "AWS Internal"}
    return [s.call(ts, identity, "kms.amazonaws.com", "RotateKey", "AWS Internal", "AWS Internal", None, None,
                   read_only=False, event_type="AwsServiceEvent", request_id=s.uuid(),
                   resources=[{"accountId": s.account, "type": "AWS::KMS::Key", "ARN": key}])]


# (weight, activity, driven by people, only in us-east-1 where global services record)
ACTIVITIES = (
    (15, kms_by_service, False, False),
    (9, assume_role_by_service, False, False),
    (5, lambda_log_streams, False, False),
    (13, ec2_reads, True, False),
    (12, s3_data_events, False, False),
    (4, s3_bucket_reads, True, False),
    (6, ssm_agent, False, False),
    (4, ssm_parameters, False, False),
    (0.4, secret_reads, False, False),
    (9, iam_reads, True, True),
    (1.5, cloudtrail_reads, True, False),
    (3, caller_identity, True, False),
    (0.2, iam_user_sign_in, True, True),
    (0.3, sso_sign_in, True, True),
    (1.5, routine_errors, True, False),
    (0.3, instance_launch, False, False),
    (6, metrics_reads, False, False),
    (3, container_pulls, False, False),
    (2, database_reads, False, False),
    (1.5, lambda_api, True, False),
    (2, developer_cli, True, False),
    (0.4, terraform_apply, True, False),
    (0.02, key_rotation, False, False),
)
SYDNEY_SIGN_IN = (0.1, sydney_sign_in, True, False)
# Share of a day's activity per UTC hour for people (offices in Europe and the US); services run all day.
WORK_HOURS = (1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 9, 9, 10, 10, 10, 9, 8, 6, 4, 3, 2, 1, 1)
WORK_HOURS_CUMULATIVE = tuple(accumulate(WORK_HOURS))


def background(shard, count):
    """count background records of one shard, as (epoch seconds, record) pairs."""
    table = [entry for entry in ACTIVITIES if shard.region == "us-east-1" or not entry[3]]
    if shard.region == "ap-southeast-2":
        table.append(SYDNEY_SIGN_IN)
    weights = []
    for weight, _, human, _ in table:
        # Fewer people work at weekends; machines do not notice.
        weights.append(weight * (0.35 if human and shard.weekend else 1.0))
    cumulative = list(accumulate(weights))
    total = cumulative[-1]
    rng = shard.rng
    records = []
    while len(records) < count:
        _, activity, human, _ = table[bisect(cumulative, rng.random() * total)]
        if human:
            hour = bisect(WORK_HOURS_CUMULATIVE, rng.random() * WORK_HOURS_CUMULATIVE[-1])
            offset = hour * 3600 + rng.randrange(3600)
        else:
            offset = rng.randrange(DAY)
        records.extend(activity(shard, shard.day_start + min(offset, DAY - 400)))
    del records[count:]
    return records


# ---------------------------------------------------------------- planted incidents

@dataclass
class Incident:
    key: str
    title: str
    story: str
    detections: list
    records: list = field(default_factory=list)        # (epoch seconds, record)
    delivered_twice: list = field(default_factory=list)  # eventIDs that arrive in two files
    # eventIDs of calls no detection is meant to flag: the attacker's ordinary calls (they belong
    # in the attack's incident), and the owner's routine that sets the scene (detections stay silent)
    unflagged: list = field(default_factory=list)
    routine: list = field(default_factory=list)

    @property
    def event_ids(self):
        return [record["eventID"] for _, record in self.records if "eventID" in record]


class Script(Maker):
    """Builds the incidents' records in the prod account, one call at a time."""

    def __init__(self, seed):
        super().__init__(f"{seed}/incidents")
        self.account = PROD

    def at(self, ts, identity, source, name, ip, agent, request=None, response=None, region="us-east-1", **options):
        return event(self, ts, self.account, region, identity, source, name, ip, agent, request, response, **options)


def leaked_key(m, d1):
    account = PROD
    ip = "203.0.113.45"
    ci = iam_user(account, "ci-deploy")
    t = d1 + 2 * 3600 + 13 * 60 + 5
    records = [m.at(t, ci, "sts.amazonaws.com", "GetCallerIdentity", ip, "TruffleHog", host="sts.amazonaws.com"),
               m.at(t + 65, ci, "sts.amazonaws.com", "GetCallerIdentity", ip,
                    KALI_CLI.format(command="sts.get-caller-identity"), host="sts.amazonaws.com")]

    def kali(when, source, name, request=None, response=None, region="us-east-1", error=None, **options):
        command = f"{source.split('.')[0]}.{kebab(name)}"
        return m.at(when, ci, source, name, ip, KALI_CLI.format(command=command), request, response,
                    region=region, error=error, **options)

    discovery = [
        ("iam.amazonaws.com", "ListUsers", None, "us-east-1"),
        ("iam.amazonaws.com", "ListRoles", None, "us-east-1"),
        ("iam.amazonaws.com", "ListGroups", None, "us-east-1"),
        ("iam.amazonaws.com", "ListPolicies", {"scope": "Local", "onlyAttached": False}, "us-east-1"),
        ("iam.amazonaws.com", "GetAccountAuthorizationDetails",
         {"filter": ["User", "Role", "Group", "LocalManagedPolicy"]}, "us-east-1"),
        ("iam.amazonaws.com", "ListAttachedUserPolicies", {"userName": "ci-deploy"}, "us-east-1"),
        ("iam.amazonaws.com", "ListUserPolicies", {"userName": "ci-deploy"}, "us-east-1"),
        ("iam.amazonaws.com", "ListAccessKeys", {"userName": "ci-deploy"}, "us-east-1"),
        ("iam.amazonaws.com", "GetAccountSummary", None, "us-east-1"),
        ("s3.amazonaws.com", "ListBuckets", {"Host": "s3.us-east-1.amazonaws.com"}, "us-east-1"),
        ("ec2.amazonaws.com", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}, "us-east-1"),
        ("ec2.amazonaws.com", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}, "us-west-2"),
        ("ec2.amazonaws.com", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}, "eu-west-1"),
        ("ec2.amazonaws.com", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}, "ap-southeast-2"),
        ("ec2.amazonaws.com", "DescribeSecurityGroups",
         {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}}, "us-east-1"),
        ("ec2.amazonaws.com", "DescribeVpcs", {"vpcSet": {}, "filterSet": {}}, "us-east-1"),
        ("lambda.amazonaws.com", "ListFunctions20150331", None, "us-east-1"),
        ("secretsmanager.amazonaws.com", "ListSecrets", {"maxResults": 100}, "us-east-1"),
        ("cloudtrail.amazonaws.com", "DescribeTrails", {"trailNameList": [], "includeShadowTrails": True}, "us-east-1"),
        ("ssm.amazonaws.com", "DescribeParameters", {"maxResults": 50}, "us-east-1"),
    ]
    t += 80
    for n, (source, name, request, region) in enumerate(discovery):
        options = {}
        if source == "s3.amazonaws.com":
            options = {"extra": m.s3_extra(), "request_id": m.s3_request_id(), "host": "s3.us-east-1.amazonaws.com"}
        records.append(kali(t + n * 5 + m.rng.randint(0, 3), source, name, request, region=region, **options))
    storm = [
        ("organizations.amazonaws.com", "DescribeOrganization", None),
        ("organizations.amazonaws.com", "ListAccounts", None),
        ("kms.amazonaws.com", "ListKeys", {"limit": 1000}),
        ("kms.amazonaws.com", "ListAliases", None),
        ("secretsmanager.amazonaws.com", "GetSecretValue", {"secretId": "prod/orders/db-credentials"}),
        ("secretsmanager.amazonaws.com", "GetSecretValue", {"secretId": "prod/payments/api-key"}),
        ("secretsmanager.amazonaws.com", "GetSecretValue", {"secretId": "prod/reporting/db-credentials"}),
        ("s3.amazonaws.com", "GetBucketPolicy", "acme-prod-data"),
        ("s3.amazonaws.com", "GetBucketPolicy", "acme-prod-backups"),
        ("s3.amazonaws.com", "GetBucketAcl", "acme-prod-data"),
        ("s3.amazonaws.com", "ListObjects", "acme-cloudtrail-logs"),
        ("rds.amazonaws.com", "DescribeDBInstances", None),
        ("dynamodb.amazonaws.com", "ListTables", None),
        ("guardduty.amazonaws.com", "ListDetectors", None),
        ("ssm.amazonaws.com", "GetParameters",
         {"names": ["/prod/payments/db-host", "/prod/orders/queue-url"], "withDecryption": True}),
        ("iam.amazonaws.com", "GetCredentialReport", None),
        ("iam.amazonaws.com", "ListVirtualMFADevices", None),
        ("iam.amazonaws.com", "ListSAMLProviders", None),
        ("iam.amazonaws.com", "ListOpenIDConnectProviders", None),
        ("iam.amazonaws.com", "ListServerCertificates", None),
        ("logs.amazonaws.com", "DescribeLogGroups", None),
        ("ecr.amazonaws.com", "DescribeRepositories", None),
        ("eks.amazonaws.com", "ListClusters", None),
        ("sso.amazonaws.com", "ListInstances", None),
        ("ec2.amazonaws.com", "DescribeSnapshots", {"snapshotSet": {}, "ownersSet": {}, "filterSet": {}}),
        ("ec2.amazonaws.com", "GetPasswordData", {"instanceId": "i-0f1e2d3c4b5a69788"}),
    ]
    t += 200
    for n, (source, name, request) in enumerate(storm):
        options = {}
        if source == "s3.amazonaws.com":
            bucket = request
            host = f"{bucket}.s3.us-east-1.amazonaws.com"
            query = name[len("GetBucket"):].lower() if name.startswith("GetBucket") else "list-type"
            request = {"bucketName": bucket, "Host": host, query: ""}
            options = {"extra": m.s3_extra(), "request_id": m.s3_request_id(), "host": host}
        records.append(kali(t + n * 11 + m.rng.randint(0, 6), source, name, request,
                            error=denied(ci, source, name), **options))
    t = d1 + 2 * 3600 + 25 * 60
    new_user = "backup-admin"
    new_user_id = stable_id("AIDA", account, new_user)
    records.append(kali(t, "iam.amazonaws.com", "CreateUser", {"userName": new_user},
                        {"user": {"path": "/", "userName": new_user, "userId": new_user_id,
                                  "arn": user_arn(account, new_user), "createDate": aws_date(t, comma=False)}},
                        read_only=False))
    admin_policy = "arn:aws:iam::aws:policy/AdministratorAccess"
    records.append(kali(t + 24, "iam.amazonaws.com", "AttachUserPolicy", {"userName": new_user, "policyArn": admin_policy},
                        read_only=False))
    records.append(kali(t + 49, "iam.amazonaws.com", "CreateAccessKey", {"userName": new_user},
                        {"accessKey": {"userName": new_user, "accessKeyId": long_term_key(account, new_user),
                                       "status": "Active", "createDate": aws_date(t + 49, comma=False)}},
                        read_only=False))
    records.append(kali(t + 71, "iam.amazonaws.com", "CreateLoginProfile",
                        {"userName": new_user, "passwordResetRequired": False},
                        {"loginProfile": {"userName": new_user, "createDate": aws_date(t + 71, comma=False),
                                          "passwordResetRequired": False}}, read_only=False))
    inline = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
    records.append(kali(t + 112, "iam.amazonaws.com", "PutUserPolicy",
                        {"userName": "ci-deploy", "policyName": "ci-deploy-maintenance",
                         "policyDocument": urllib.parse.quote(inline, safe="")}, read_only=False))
    trust = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":['
             f'"arn:aws:iam::{EXTERNAL_ACCOUNT}:root","arn:aws:iam::{account}:role/ops-automation-runner"]}},'
             '"Action":"sts:AssumeRole"}]}')
    records.append(kali(t + 150, "iam.amazonaws.com", "UpdateAssumeRolePolicy",
                        {"roleName": "ops-automation-role", "policyDocument": trust}, read_only=False))
    records.append(kali(t + 181, "iam.amazonaws.com", "AttachRolePolicy",
                        {"roleName": "ops-automation-role", "policyArn": admin_policy}, read_only=False,
                        error=denied(ci, "iam.amazonaws.com", "AttachRolePolicy",
                                     resource=f"role ops-automation-role",
                                     how="because no permissions boundary allows the {action} action")))
    backup_admin = iam_user(account, new_user)
    records.append(m.at(t + 240, backup_admin, "sts.amazonaws.com", "GetCallerIdentity", ip,
                        KALI_CLI.format(command="sts.get-caller-identity"), host="sts.amazonaws.com"))
    return Incident(
        "leaked-access-key", "Leaked CI access key used for discovery and persistence",
        "The long-term access key of the CI user `ci-deploy` (normally used only from the CI runners in "
        "192.0.2.50-57 with a Terraform user agent) is used at 02:13 UTC from 203.0.113.45. The caller first "
        "validates it with TruffleHog and an aws-cli on Kali Linux (GetCallerIdentity), enumerates IAM, S3, EC2 in "
        "all four regions, Lambda, Secrets Manager and CloudTrail (20 calls, 17 distinct APIs, in under two "
        "minutes), then hits 26 AccessDenied/UnauthorizedOperation errors in five minutes. It creates the IAM "
        "user `backup-admin`, attaches AdministratorAccess to it, creates an access key and a console password "
        "for it, adds an inline policy allowing Action * on Resource * (URL-encoded policyDocument) to `ci-deploy`, "
        "rewrites the trust policy of `ops-automation-role` to trust account 999988887777, fails to attach "
        "AdministratorAccess to that role, and tests the new key of `backup-admin`.",
        ["long-term key (AKIA) first seen from a new source IP; offensive-tool user agent (TruffleHog, kali)",
         "burst of distinct discovery calls (List/Describe/Get) by one identity within minutes (section 11.5)",
         "AccessDenied storm: 20+ denied calls from one IP and key within 10 minutes (section 11.5)",
         "IAM user created (A1); create-admin-user chain CreateUser -> AttachUserPolicy -> CreateAccessKey (A23)",
         "AdministratorAccess attached to a user (A15); failed AttachRolePolicy attempt for a role",
         "access key created for another user (A4); login profile created for another user (A7)",
         "inline policy written with Action * / Resource * in a URL-encoded policyDocument (A17)",
         "role trust policy changed to trust an external account (A20)"],
        records)


# Failed console sign-ins carry errorMessage but no errorCode.
FAILED_LOGIN = (None, "Failed authentication")


def console_attack(m, d1, d2):
    account = PROD
    ip = "203.0.113.99"
    existing = {"alice", "bob", "ci-deploy", "svc-reporting"}
    targets = ("admin", "alice", "bob", "administrator", "ci-deploy", "devops", "bob", "svc-reporting", "support",
               "bob", "alice", "root-admin", "bob", "alice")
    records = []
    t = d1 + 21 * 3600 + 2 * 60 + 11
    for n, name in enumerate(targets):
        if name in existing:
            identity = {"type": "IAMUser", "principalId": stable_id("AIDA", account, name), "accountId": account,
                        "accessKeyId": "", "userName": name}
        else:
            # AWS hides user names that do not exist in the account.
            identity = {"type": "IAMUser", "accountId": account, "accessKeyId": "",
                        "userName": "HIDDEN_DUE_TO_SECURITY_REASONS"}
        records.append(m.at(t + n * 31 + m.rng.randint(0, 9), identity, "signin.amazonaws.com", "ConsoleLogin", ip,
                            ATTACKER_BROWSER, None, {"ConsoleLogin": "Failure"}, error=FAILED_LOGIN,
                            extra={"LoginTo": LOGIN_TO, "MobileVersion": "No", "MFAUsed": "No"},
                            read_only=False, event_type="AwsConsoleSignIn", request_id=""))
    # The password of alice is right but her MFA code is not.
    t_mfa = t + len(targets) * 31 + 20
    alice = {"type": "IAMUser", "principalId": stable_id("AIDA", account, "alice"), "accountId": account,
             "accessKeyId": "", "userName": "alice"}
    records.append(m.at(t_mfa, alice, "signin.amazonaws.com", "ConsoleLogin", ip, ATTACKER_BROWSER, None,
                        {"ConsoleLogin": "Failure"}, error=FAILED_LOGIN,
                        extra={"LoginTo": LOGIN_TO, "MobileVersion": "No", "MFAUsed": "Yes"},
                        read_only=False, event_type="AwsConsoleSignIn", request_id=""))
    bob = {"type": "IAMUser", "principalId": stable_id("AIDA", account, "bob"), "arn": user_arn(account, "bob"),
           "accountId": account, "userName": "bob"}
    t_bob = t_mfa + 95
    records.append(m.at(t_bob, bob, "signin.amazonaws.com", "ConsoleLogin", ip, ATTACKER_BROWSER, None,
                        {"ConsoleLogin": "Success"}, extra={"LoginTo": LOGIN_TO, "MobileVersion": "No", "MFAUsed": "No"},
                        read_only=False, event_type="AwsConsoleSignIn", request_id=""))
    # A console session minted from the keys of backup-admin, as aws_consoler does:
    # federation token, then sign-in token, then login.
    attacker = "203.0.113.45"
    t_fed = d1 + 22 * 3600 + 31 * 60 + 4
    backup_admin = iam_user(account, "backup-admin")
    credentials = m.credentials(t_fed, hours=12)
    federated_arn = f"arn:aws:sts::{account}:federated-user/backup"
    records.append(m.at(t_fed, backup_admin, "sts.amazonaws.com", "GetFederationToken", attacker, "python-requests/2.31.0",
                        {"name": "backup", "durationSeconds": 43200,
                         "policy": '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'},
                        {"credentials": credentials,
                         "federatedUser": {"federatedUserId": f"{account}:backup", "arn": federated_arn},
                         "packedPolicySize": 6}, read_only=False, host="sts.amazonaws.com"))
    federated = {"type": "FederatedUser", "principalId": f"{account}:backup", "arn": federated_arn, "accountId": account,
                 "accessKeyId": credentials["accessKeyId"],
                 "sessionContext": {"sessionIssuer": {"type": "IAMUser",
                                                      "principalId": stable_id("AIDA", account, "backup-admin"),
                                                      "arn": user_arn(account, "backup-admin"), "accountId": account,
                                                      "userName": "backup-admin"},
                                    "webIdFederationData": {},
                                    "attributes": {"creationDate": iso(t_fed), "mfaAuthenticated": "false"}}}
    signin_token = m.at(t_fed + 3, federated, "signin.amazonaws.com", "GetSigninToken", attacker, "python-requests/2.31.0",
                        None, {"GetSigninToken": "Success"}, extra={"MobileVersion": "No"}, read_only=False,
                        event_type="AwsConsoleSignIn", request_id="")
    federated_login = m.at(t_fed + 9, dict(federated, accessKeyId=""), "signin.amazonaws.com", "ConsoleLogin", attacker,
                           ATTACKER_BROWSER, None, {"ConsoleLogin": "Success"},
                           extra={"LoginTo": "https://console.aws.amazon.com/", "MobileVersion": "No", "MFAUsed": "No"},
                           read_only=False, event_type="AwsConsoleSignIn", request_id="")
    root = {"type": "Root", "principalId": account, "arn": f"arn:aws:iam::{account}:root", "accountId": account,
            "accessKeyId": ""}
    root_login = m.at(d2 + 6 * 3600 + 47 * 60 + 12, root, "signin.amazonaws.com", "ConsoleLogin", "203.0.113.150",
                      ATTACKER_BROWSER, None, {"ConsoleLogin": "Success"},
                      extra={"LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
                             "MobileVersion": "No", "MFAUsed": "No"}, read_only=False, event_type="AwsConsoleSignIn",
                      request_id="")
    records += [signin_token, federated_login, root_login]
    return Incident(
        "console-attack", "Console password spraying, logins without MFA and console access minted from keys",
        "At 21:02 UTC 203.0.113.99 tries 14 console passwords in about seven minutes against nine user names "
        "(non-existent names are recorded as HIDDEN_DUE_TO_SECURITY_REASONS; failures have no userIdentity.arn). "
        "One attempt for alice passes the password but fails MFA (MFAUsed Yes). Then bob signs in from the same "
        "IP without MFA. At 22:31 the key of `backup-admin` (incident 1) calls GetFederationToken, then "
        "GetSigninToken with a python-requests user agent and signs in to the console as the federated user. "
        "The next morning the root user signs in without MFA from 203.0.113.150 (recorded in us-east-1).",
        ["failed console logins / password spraying: 12+ failures from one IP across several user names (C4, C5)",
         "failed MFA challenge: ConsoleLogin Failure with MFAUsed Yes (C6)",
         "console login without MFA: bob and the federated user (C3); federated console login (C9)",
         "root console login, without MFA (C1)",
         "GetSigninToken from a non-console user agent (C10); GetFederationToken by an IAM user (A29)"],
        records)


def network_exposure(m, d1, bob_login):
    account = PROD
    where = setup(account, "us-east-1")
    ip = "203.0.113.99"
    t = bob_login + 102
    bob = iam_user(account, "bob", session=(m.temp_key(), iso(bob_login), "false"))
    agent = "console.ec2.amazonaws.com"
    groups = dict((name, group) for group, name in where.security_groups)
    records = []

    def ec2(when, name, request, response, region="us-east-1", identity=bob, source_ip=ip, user_agent=agent,
            console=True):
        return m.at(when, identity, "ec2.amazonaws.com", name, source_ip, user_agent, request, response,
                    region=region, read_only=False, console=console)

    def rule(group, protocol, low, high, cidr=None, cidr6=None, egress=False):
        item = {"groupOwnerId": account, "groupId": group, "securityGroupRuleId": f"sgr-0{m.hex(16)}",
                "isEgress": egress, "ipProtocol": protocol, "fromPort": low, "toPort": high}
        if cidr:
            item["cidrIpv4"] = cidr
        if cidr6:
            item["cidrIpv6"] = cidr6
        return item

    def permission(protocol, low, high, cidrs=(), cidrs6=()):
        item = {"ipProtocol": protocol}
        if low is not None:
            item["fromPort"], item["toPort"] = low, high
        item.update({"groups": {}, "ipRanges": {"items": [{"cidrIp": c} for c in cidrs]} if cidrs else {},
                     "ipv6Ranges": {"items": [{"cidrIpv6": c} for c in cidrs6]} if cidrs6 else {},
                     "prefixListIds": {}})
        return item

    maint = f"sg-0{m.hex(16)}"
    records.append(ec2(t, "CreateSecurityGroup",
                       {"groupName": "maint-access", "groupDescription": "temporary maintenance access",
                        "vpcId": where.vpc},
                       {"requestId": m.uuid(), "_return": True, "groupId": maint}))
    records.append(ec2(t + 41, "AuthorizeSecurityGroupIngress",
                       {"groupId": maint,
                        "ipPermissions": {"items": [permission("tcp", 3389, 3389, ["0.0.0.0/0"], ["::/0"])]}},
                       {"requestId": m.uuid(), "_return": True, "securityGroupRuleSet": {"items": [
                           rule(maint, "tcp", 3389, 3389, cidr="0.0.0.0/0"),
                           rule(maint, "tcp", 3389, 3389, cidr6="::/0")]}}))
    web = groups["web-app"]
    records.append(ec2(t + 88, "AuthorizeSecurityGroupIngress",
                       {"groupId": web, "ipPermissions": {"items": [permission("tcp", 443, 443, ["0.0.0.0/0"]),
                                                                    permission("-1", None, None, ["0.0.0.0/0"])]}},
                       {"requestId": m.uuid(), "_return": True, "securityGroupRuleSet": {"items": [
                           rule(web, "tcp", 443, 443, cidr="0.0.0.0/0"), rule(web, "-1", -1, -1, cidr="0.0.0.0/0")]}}))
    postgres = groups["postgres"]
    records.append(ec2(t + 130, "ModifySecurityGroupRules",
                       {"ModifySecurityGroupRulesRequest": {"GroupId": postgres, "SecurityGroupRule": {
                           "SecurityGroupRuleId": f"sgr-0{m.hex(16)}", "tag": 1,
                           "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                                                 "CidrIpv4": "0.0.0.0/0", "Description": ""}}}},
                       {"ModifySecurityGroupRulesResponse": {"xmlns": EC2_NS, "requestId": m.uuid(), "return": True}}))
    records.append(ec2(t + 171, "AuthorizeSecurityGroupEgress",
                       {"groupId": maint, "ipPermissions": {"items": [permission("-1", None, None, ["0.0.0.0/0"])]}},
                       {"requestId": m.uuid(), "_return": True, "securityGroupRuleSet": {"items": [
                           rule(maint, "-1", -1, -1, cidr="0.0.0.0/0", egress=True)]}}))
    # More rule changes on other groups: together a burst of 10+ changes by one person.
    for n, (name, port, cidr) in enumerate((("bastion", 22, "203.0.113.99/32"), ("batch-workers", 9000, "10.0.0.0/8"),
                                            ("bastion", 2222, "203.0.113.99/32"), ("web-alb", 8443, "0.0.0.0/0"),
                                            ("batch-workers", 6379, "0.0.0.0/0"))):
        group = groups[name]
        records.append(ec2(t + 215 + n * 37, "AuthorizeSecurityGroupIngress",
                           {"groupId": group, "ipPermissions": {"items": [permission("tcp", port, port, [cidr])]}},
                           {"requestId": m.uuid(), "_return": True, "securityGroupRuleSet": {"items": [
                               rule(group, "tcp", port, port, cidr=cidr)]}}))
    vpc_range = f"{VPC_PREFIX[(account, 'us-east-1')]}.0.0/16"
    for n, (name, port) in enumerate((("bastion", 22), ("web-alb", 80))):
        group = groups[name]
        records.append(ec2(t + 420 + n * 29, "RevokeSecurityGroupIngress",
                           {"groupId": group, "ipPermissions": {"items": [permission("tcp", port, port, [vpc_range])]}},
                           {"requestId": m.uuid(), "_return": True}))
    records.append(ec2(t + 503, "CreateNetworkAclEntry",
                       {"networkAclId": f"acl-0{stable_hex(account, 'us-east-1', 'acl', length=16)}", "ruleNumber": 90,
                        "egress": False, "ruleAction": "allow", "icmpTypeCode": {}, "portRange": {}, "aclProtocol": "-1",
                        "cidrBlock": "0.0.0.0/0"},
                       {"requestId": m.uuid(), "_return": True}))
    records.append(ec2(t + 560, "DeleteSecurityGroup", {"groupId": f"sg-0{stable_hex(account, 'legacy-deny', length=16)}"},
                       {"requestId": m.uuid(), "_return": True}))
    # The legacy flat request shape, from the attacker's aws-cli in another region.
    eu = setup(account, "eu-west-1")
    eu_group = eu.security_groups[1][0]
    t_cli = d1 + 22 * 3600 + 40 * 60 + 17
    records.append(ec2(t_cli, "AuthorizeSecurityGroupIngress",
                       {"groupId": eu_group, "ipPermissions": {}, "cidrIp": "0.0.0.0/0", "fromPort": 22, "toPort": 22,
                        "ipProtocol": "tcp"},
                       {"requestId": m.uuid(), "_return": True, "securityGroupRuleSet": {"items": [
                           rule(eu_group, "tcp", 22, 22, cidr="0.0.0.0/0")]}},
                       region="eu-west-1", identity=iam_user(account, "backup-admin"), source_ip="203.0.113.45",
                       user_agent=KALI_CLI.format(command="ec2.authorize-security-group-ingress"), console=False))
    return Incident(
        "network-exposure", "Security groups and a network ACL opened to the Internet",
        "Right after signing in without MFA (incident 2), bob's console session (sessionCredentialFromConsole, "
        "mfaAuthenticated false) makes 13 security-group changes in under ten minutes in us-east-1: creates "
        "`maint-access`, opens RDP 3389 to 0.0.0.0/0 and ::/0 (nested ipPermissions shape), opens 443 and all "
        "protocols (-1) to 0.0.0.0/0 in one call with two permission items, opens Postgres 5432 with "
        "ModifySecurityGroupRules, allows all egress, adds and revokes further rules, adds a network ACL entry "
        "allowing all protocols from 0.0.0.0/0, and deletes a security group. At 22:40 the key of `backup-admin` "
        "opens SSH 22 to 0.0.0.0/0 in eu-west-1 with the legacy flat request shape (cidrIp/fromPort/toPort, "
        "ipPermissions {}).",
        ["security group rule changes (B1); security group created and deleted (B5)",
         "security group opened to 0.0.0.0/0 or ::/0, in both request shapes and via ModifySecurityGroupRules (B2)",
         "SSH port 22 opened, flat shape (B3); RDP 3389 opened",
         "burst of 10+ security-group changes by one identity (B6)",
         "network ACL entry allowing all traffic from 0.0.0.0/0 (B8, B9)",
         "all-traffic egress rule to 0.0.0.0/0"],
        records)


def defense_evasion(m, d2):
    account = PROD
    ip = "203.0.113.46"
    actor = iam_user(account, "backup-admin")
    t = d2 + 1 * 3600 + 5 * 60 + 9
    records = []

    def kali(when, source, name, request=None, response=None, region="us-east-1", **options):
        return m.at(when, actor, source, name, ip, KALI_CLI.format(command=f"{source.split('.')[0]}.{kebab(name)}"),
                    request, response, region=region, read_only=False, **options)

    audit_trail = f"arn:aws:cloudtrail:us-east-1:{account}:trail/security-audit-trail"
    selectors = [{"readWriteType": "All", "includeManagementEvents": False, "dataResources": [],
                  "excludeManagementEventSources": []}]
    records.append(kali(t, "cloudtrail.amazonaws.com", "PutEventSelectors",
                        {"trailName": "security-audit-trail", "eventSelectors": selectors},
                        {"trailARN": audit_trail, "eventSelectors": selectors}))
    records.append(kali(t + 38, "cloudtrail.amazonaws.com", "StopLogging", {"name": audit_trail}))
    main_trail = f"arn:aws:cloudtrail:us-east-1:{account}:trail/{TRAIL_NAME}"
    records.append(kali(t + 71, "cloudtrail.amazonaws.com", "DeleteTrail", {"name": TRAIL_NAME},
                        error=denied(actor, "cloudtrail.amazonaws.com", "DeleteTrail", resource=main_trail,
                                     how="with an explicit deny in a service control policy")))
    for n, region in enumerate(("us-east-1", "eu-west-1")):
        records.append(kali(t + 120 + n * 26, "guardduty.amazonaws.com", "DeleteDetector",
                            {"detectorId": stable_hex(account, region, "guardduty", length=32)}, region=region))
    records.append(kali(t + 190, "ec2.amazonaws.com", "DeleteFlowLogs",
                        {"DeleteFlowLogsRequest": {"FlowLogId": {"content": f"fl-0{stable_hex(account, 'flow', length=16)}",
                                                                 "tag": 1}}},
                        {"DeleteFlowLogsResponse": {"xmlns": EC2_NS, "requestId": m.uuid(), "unsuccessful": ""}}))
    records.append(kali(t + 232, "config.amazonaws.com", "StopConfigurationRecorder",
                        {"configurationRecorderName": "default"}))
    records.append(kali(t + 268, "logs.amazonaws.com", "DeleteLogGroup", {"logGroupName": "/aws/vpc/flow-logs"}))
    host = "acme-prod-data.s3.us-east-1.amazonaws.com"
    records.append(kali(t + 301, "s3.amazonaws.com", "PutBucketLogging",
                        {"bucketName": "acme-prod-data", "Host": host, "logging": "",
                         "BucketLoggingStatus": {"xmlns": S3_NS}},
                        extra=m.s3_extra(), request_id=m.s3_request_id(), host=host,
                        resources=[{"accountId": account, "type": "AWS::S3::Bucket",
                                    "ARN": "arn:aws:s3:::acme-prod-data"}]))
    # A policy padded past CloudTrail's size limit: the record keeps only this marker.
    records.append(kali(t + 355, "iam.amazonaws.com", "PutRolePolicy",
                        {"omitted": True, "originalSize": 131512, "reason": "requestParameters too large"}))
    return Incident(
        "defense-evasion", "Logging and detection switched off",
        "At 01:05 UTC on the third day the key of `backup-admin` (from 203.0.113.46, Kali aws-cli) stops "
        "management events on the secondary trail `security-audit-trail` (PutEventSelectors with "
        "includeManagementEvents false) and stops its logging, tries to delete the main trail (AccessDenied by "
        "a service control policy), deletes the GuardDuty detectors in us-east-1 and eu-west-1, deletes a VPC flow "
        "log, stops the AWS Config recorder, deletes the flow-log log group, disables access logging on "
        "acme-prod-data (empty BucketLoggingStatus) and writes a role policy so large that CloudTrail replaced "
        "requestParameters with omitted: true.",
        ["CloudTrail management events excluded (PutEventSelectors includeManagementEvents false)",
         "CloudTrail logging stopped (StopLogging); attempted trail deletion (DeleteTrail, AccessDenied)",
         "GuardDuty detector deleted; VPC flow logs deleted; AWS Config recorder stopped",
         "CloudWatch log group deleted; S3 access logging disabled (empty BucketLoggingStatus)",
         "IAM call with requestParameters omitted as too large (logging evasion)"],
        records)


def exfiltration(m, d2):
    account = PROD
    ip = "203.0.113.46"
    actor = iam_user(account, "backup-admin")
    where = setup(account, "us-east-1")
    t = d2 + 1 * 3600 + 30 * 60 + 3
    records = []

    def kali(when, source, name, request=None, response=None, read_only=False, **options):
        return m.at(when, actor, source, name, ip, KALI_CLI.format(command=f"{source.split('.')[0]}.{kebab(name)}"),
                    request, response, read_only=read_only, **options)

    def s3(when, name, bucket, request):
        host = f"{bucket}.s3.us-east-1.amazonaws.com"
        return kali(when, "s3.amazonaws.com", name, dict({"bucketName": bucket, "Host": host}, **request),
                    extra=m.s3_extra(), request_id=m.s3_request_id(), host=host,
                    resources=[{"accountId": account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}])

    snapshot = f"snap-0{stable_hex(account, 'db-snapshot', length=16)}"
    records.append(kali(t, "ec2.amazonaws.com", "ModifySnapshotAttribute",
                        {"snapshotId": snapshot, "attributeType": "CREATE_VOLUME_PERMISSION",
                         "createVolumePermission": {"add": {"items": [{"userId": EXTERNAL_ACCOUNT}]}}},
                        {"requestId": m.uuid(), "_return": True}))
    image = f"ami-0{stable_hex(account, 'us-east-1', 'ami', length=16)}"
    records.append(kali(t + 47, "ec2.amazonaws.com", "ModifyImageAttribute",
                        {"imageId": image, "attributeType": "launchPermission",
                         "launchPermission": {"add": {"items": [{"group": "all"}]}}},
                        {"requestId": m.uuid(), "_return": True}))
    records.append(s3(t + 102, "DeleteBucketPublicAccessBlock", "acme-prod-reports", {"publicAccessBlock": ""}))
    policy = {"Version": "2012-10-17",
              "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                             "Resource": "arn:aws:s3:::acme-prod-reports/*"}]}
    records.append(s3(t + 131, "PutBucketPolicy", "acme-prod-reports", {"policy": "", "bucketPolicy": policy}))
    replication = {"xmlns": S3_NS, "Role": f"arn:aws:iam::{account}:role/s3-replication-role",
                   "Rule": {"ID": "nightly-copy", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": ""},
                            "DeleteMarkerReplication": {"Status": "Disabled"},
                            "Destination": {"Bucket": f"arn:aws:s3:::exfil-drop-{EXTERNAL_ACCOUNT}",
                                            "Account": EXTERNAL_ACCOUNT,
                                            "AccessControlTranslation": {"Owner": "Destination"}}}}
    records.append(s3(t + 176, "PutBucketReplication", "acme-prod-data",
                      {"replication": "", "ReplicationConfiguration": replication}))
    # Every secret, several times, in four minutes.
    t_secrets = t + 11 * 60
    for n in range(34):
        name, arn = where.secrets[n % len(where.secrets)]
        records.append(kali(t_secrets + n * 7 + m.rng.randint(0, 5), "secretsmanager.amazonaws.com", "GetSecretValue",
                            {"secretId": arn if n % 3 else name}, None, read_only=True))
    windows_host = "i-0f1e2d3c4b5a69788"
    records.append(kali(t_secrets + 270, "ec2.amazonaws.com", "GetPasswordData", {"instanceId": windows_host}, None,
                        read_only=True))
    # CloudTrail Insights notices the GetSecretValue rate; these two records go to the Insight file.
    shared = m.uuid()
    for state, when in (("Start", t_secrets + 60), ("End", t_secrets + 360)):
        statistics = {"baseline": {"average": 0.0416}, "insight": {"average": 6.8}}
        if state == "End":
            statistics.update({"insightDuration": 5, "baselineDuration": 10080})
        details = {"state": state, "eventSource": "secretsmanager.amazonaws.com", "eventName": "GetSecretValue",
                   "insightType": "ApiCallRateInsight",
                   "insightContext": {"statistics": statistics, "attributions": [
                       {"attribute": "userIdentityArn",
                        "insight": [{"value": user_arn(account, "backup-admin"), "average": 6.8}],
                        "baseline": [{"value": f"arn:aws:sts::{account}:assumed-role/payments-task-role",
                                      "average": 0.0416}]},
                       {"attribute": "userAgent",
                        "insight": [{"value": KALI_CLI.format(command="secretsmanager.get-secret-value"), "average": 6.8}],
                        "baseline": [{"value": JAVA_SDK, "average": 0.0416}]},
                       {"attribute": "errorCode", "insight": [{"value": "null", "average": 6.8}],
                        "baseline": [{"value": "null", "average": 0.0416}]}]}}
        records.append((when, {"eventVersion": "1.08", "eventTime": iso(when), "awsRegion": "us-east-1",
                               "eventID": m.uuid(), "eventType": "AwsCloudTrailInsight", "recipientAccountId": account,
                               "sharedEventID": shared, "insightDetails": details, "eventCategory": "Insight"}))
    return Incident(
        "exfiltration", "Snapshot, image, bucket and secrets exfiltration",
        "From 01:30 UTC on the third day the key of `backup-admin` shares an EBS snapshot with account 999988887777, "
        "makes an AMI public (launchPermission group all), removes the public access block of acme-prod-reports "
        "and gives it a bucket policy with Principal *, replicates acme-prod-data to a bucket in account "
        "999988887777, reads every Secrets Manager secret (34 GetSecretValue in about four minutes) and fetches "
        "the Windows administrator password of an instance (GetPasswordData). CloudTrail Insights records an "
        "ApiCallRateInsight Start/End pair for GetSecretValue (in the CloudTrail-Insight folder).",
        ["EBS snapshot shared with an external account; AMI made public (section 11.6)",
         "S3 public access block removed; bucket policy with Principal * (section 11.6)",
         "S3 replication to another account's bucket (section 11.6)",
         "30+ GetSecretValue calls by one identity within minutes; GetPasswordData",
         "CloudTrail Insights ApiCallRateInsight on GetSecretValue"],
        records)


def stolen_instance_credentials(m, d2):
    account = PROD
    ip = "203.0.113.7"
    agent = "aws-cli/1.32.101 Python/3.12.3 Darwin/23.5.0 botocore/1.34.101"
    t = d2 + 14 * 3600 + 20 * 60 + 41
    instance = "i-0a1b2c3d4e5f67890"
    identity = assumed_role(account, "web-app-role", instance, m.temp_key(), iso(t - 5400), ec2=True)
    records = []

    def call(when, source, name, request=None, response=None, **options):
        return m.at(when, identity, source, name, ip, agent, request, response, **options)

    records.append(call(t, "sts.amazonaws.com", "GetCallerIdentity", host="sts.amazonaws.com"))
    records.append(call(t + 14, "s3.amazonaws.com", "ListBuckets", {"Host": "s3.us-east-1.amazonaws.com"},
                        extra=m.s3_extra(), request_id=m.s3_request_id(), host="s3.us-east-1.amazonaws.com"))
    records.append(call(t + 31, "ec2.amazonaws.com", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}))
    records.append(call(t + 47, "iam.amazonaws.com", "ListAttachedRolePolicies", {"roleName": "web-app-role"},
                        error=denied(identity, "iam.amazonaws.com", "ListAttachedRolePolicies",
                                     resource=f"role web-app-role")))
    records.append(call(t + 62, "secretsmanager.amazonaws.com", "ListSecrets", {"maxResults": 100},
                        error=denied(identity, "secretsmanager.amazonaws.com", "ListSecrets")))
    bucket = "acme-prod-data"
    host = f"{bucket}.s3.us-east-1.amazonaws.com"
    bucket_arn = {"accountId": account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}
    records.append(call(t + 80, "s3.amazonaws.com", "ListObjects",
                        {"bucketName": bucket, "Host": host, "list-type": "2", "prefix": "exports/",
                         "encoding-type": "url"},
                        extra=m.s3_extra(), request_id=m.s3_request_id(), host=host, resources=[bucket_arn],
                        category="Data"))
    exports = ("exports/customers-2025-05.csv", "exports/customers-2025-06.csv", "exports/orders-full.parquet",
               "exports/payments-2025-q2.csv", "exports/users.json")
    for n, key in enumerate(exports):
        extra = m.s3_extra()
        extra["bytesTransferredOut"] = 10_000_000 + m.rng.randint(0, 90_000_000)
        records.append(call(t + 95 + n * 12, "s3.amazonaws.com", "GetObject",
                            {"bucketName": bucket, "Host": host, "key": key},
                            extra=extra, request_id=m.s3_request_id(), host=host, category="Data",
                            resources=[{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"}, bucket_arn]))
    return Incident(
        "stolen-instance-credentials", "EC2 instance credentials used from outside AWS",
        "At 14:20 UTC on the third day the role session of instance i-0a1b2c3d4e5f67890 (web-app-role, "
        "normally used from 10.0.x.x inside the VPC with the AWS Java SDK) is used from 203.0.113.7 with an "
        "aws-cli on macOS: GetCallerIdentity, ListBuckets, DescribeInstances, two AccessDenied probes, and five "
        "large GetObject downloads from acme-prod-data/exports/.",
        ["instance credentials used outside AWS: assumed-role/<role>/i-... from an Internet IP with a non-AWS "
         "user agent (section 11.5, instance-role enumeration)",
         "role session first seen from a new IP; AccessDenied probes; large S3 downloads (data events)"],
        records)


def log_quality(m, d1):
    account = PROD
    t = d1 + 10 * 3600 + 15 * 60 + 30
    alice = m.console_user(account, "alice", t)
    where = setup(account, "us-east-1")
    instance = where.instances["batch-worker-role"][0]
    change = {"instanceId": instance, "currentState": {"code": 64, "name": "stopping"},
              "previousState": {"code": 16, "name": "running"}}
    stop = m.at(t, alice, "ec2.amazonaws.com", "StopInstances", "192.0.2.12", "console.ec2.amazonaws.com",
                {"instancesSet": {"items": [{"instanceId": instance}]}, "force": False},
                {"requestId": m.uuid(), "instancesSet": {"items": [change]}}, read_only=False, console=True)
    del stop[1]["eventID"]
    update = m.at(t + 140, iam_user(account, "ci-deploy"), "lambda.amazonaws.com", "UpdateFunctionCode20150331v2",
                  CI_IPS[2], TERRAFORM.format(api="lambda#1.54.6"),
                  {"functionName": "orders-api", "s3Bucket": "acme-prod-assets",
                   "s3Key": f"lambda/orders-api/{stable_hex('orders-api-build', length=40)}.zip", "publish": True},
                  None, read_only=False)
    incident = Incident(
        "log-quality", "A record without eventID and a record delivered twice",
        "Two benign records that exercise the ingest: alice's console StopInstances at 10:15 UTC on the second "
        "day has no eventID (the ingest must give it a content-based id), and ci-deploy's UpdateFunctionCode "
        "two minutes later arrives in two different log files with the same eventID and content (the ingest "
        "must store it once).",
        ["dedup on eventID: the duplicated UpdateFunctionCode is stored once",
         "records without eventID are kept, with a content hash as id"],
        [stop, update])
    incident.delivered_twice.append(update[1]["eventID"])
    return incident


def stolen_lambda_credentials(m, d2):
    """A Lambda function's role session used by the function, then from a laptop."""
    account = PROD
    function, role = "image-resizer", "image-resizer-lambda-role"
    bucket = "acme-prod-assets"
    t_mint = d2 + 15 * 3600 + 2 * 60 + 7
    credentials = m.credentials(t_mint, hours=1)
    key = credentials["accessKeyId"]
    role_arn = f"arn:aws:iam::{account}:role/{role}"
    session_arn = f"arn:aws:sts::{account}:assumed-role/{role}/{function}"
    response = {"credentials": credentials,
                "assumedRoleUser": {"assumedRoleId": f"{stable_id('AROA', account, role)}:{function}",
                                    "arn": session_arn}}
    mint = m.at(t_mint, aws_service("lambda.amazonaws.com"), "sts.amazonaws.com", "AssumeRole", "lambda.amazonaws.com",
                "lambda.amazonaws.com", {"roleArn": role_arn, "roleSessionName": function}, response,
                resources=[{"accountId": account, "type": "AWS::IAM::Role", "ARN": role_arn}], shared=True)
    identity = assumed_role(account, role, function, key, iso(t_mint))
    agent = NODE_LAMBDA.format(api="s3")
    host = f"{bucket}.s3.us-east-1.amazonaws.com"
    bucket_arn = {"accountId": account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}

    def s3(when, name, object_key, ip, user_agent, **options):
        request = {"bucketName": bucket, "Host": host}
        resources = [bucket_arn]
        if object_key:
            request["key"] = object_key
            resources = [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{object_key}"}, bucket_arn]
        else:
            request.update({"list-type": "2", "prefix": "images/original/"})
        return m.at(when, identity, "s3.amazonaws.com", name, ip, user_agent, request, None, extra=m.s3_extra(),
                    request_id=m.s3_request_id(), host=host, category="Data", resources=resources, **options)

    # The function at work: from an AWS address, with the Lambda runtime's user agent.
    own = [s3(t_mint + 2 + n * 9, name, f"images/original/{m.hex(12)}.jpg" if name != "ListObjects" else None,
              "3.92.144.17", agent) for n, name in enumerate(("GetObject", "PutObject", "GetObject", "PutObject"))]
    laptop, cli = "203.0.113.71", "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/macos#23.4.0 md/arch#arm64 lang/python#3.11.8"
    t = t_mint + 23 * 60
    whoami = m.at(t, identity, "sts.amazonaws.com", "GetCallerIdentity", laptop, cli + " md/command#sts.get-caller-identity",
                  host="sts.amazonaws.com")
    stolen = [whoami,
              s3(t + 21, "ListObjects", None, laptop, cli + " md/command#s3api.list-objects-v2"),
              m.at(t + 40, identity, "ecr.amazonaws.com", "ListImages", laptop, cli + " md/command#ecr.list-images",
                   {"repositoryName": "image-resizer"}, None),
              m.at(t + 52, identity, "ecr.amazonaws.com", "BatchGetImage", laptop, cli + " md/command#ecr.batch-get-image",
                   {"repositoryName": "image-resizer", "imageIds": [{"imageTag": "latest"}]}, None,
                   error=denied(identity, "ecr.amazonaws.com", "BatchGetImage",
                                resource=f"arn:aws:ecr:us-east-1:{account}:repository/image-resizer")),
              s3(t + 70, "GetObject", "config/resizer-settings.json", laptop, cli + " md/command#s3api.get-object")]
    incident = Incident(
        "stolen-lambda-credentials", "Lambda function credentials used from a laptop",
        f"At 15:02 UTC on the third day Lambda mints a session of `{role}` for the function `{function}` "
        "(AssumeRole by lambda.amazonaws.com; the key is in its response). The function uses it from an AWS address "
        "with the Lambda runtime's user agent (routine, must stay silent). From 15:25 the same key is used from "
        f"{laptop} with an aws-cli on macOS: GetCallerIdentity, ListObjects on {bucket}, ECR ListImages, a denied "
        "BatchGetImage and a GetObject of the function's settings file - the credentials were read from the "
        "function's environment and replayed.",
        ["service session credentials used outside the service: the Lambda session from a laptop "
         "(service_credentials_used_outside_service); the function's own calls stay silent",
         "identity lineage: the session key resolves to the AssumeRole by lambda.amazonaws.com"],
        [mint] + own + stolen)
    incident.routine = [record["eventID"] for _, record in [mint] + own]
    return incident


def permission_brute_force(m, d2):
    """A key brute-forces its permissions, assumes an admin role and reads a bucket with the session."""
    account = PROD
    user = "svc-reporting"
    identity = iam_user(account, user)
    agent = "Boto3/1.28.85 md/Botocore#1.31.85 ua/2.0 os/linux#6.5.0-kali3-amd64 md/arch#x86_64 lang/python#3.11.6"
    addresses = [f"203.0.113.{n}" for n in range(81, 86)]
    t = d2 + 18 * 3600 + 40 * 60 + 3
    whoami = m.at(t, identity, "sts.amazonaws.com", "GetCallerIdentity", addresses[0], agent, host="sts.amazonaws.com")
    records = [whoami]
    probes = [("ec2.amazonaws.com", name) for name in ("DescribeVolumes", "DescribeSnapshots", "DescribeImages",
                                                        "DescribeKeyPairs", "DescribeVpcs", "DescribeSubnets")]
    probes += [("iam.amazonaws.com", name) for name in ("ListUsers", "ListRoles", "ListPolicies", "ListGroups",
                                                        "GetAccountSummary", "ListAccessKeys")]
    probes += [("lambda.amazonaws.com", "ListFunctions20150331"), ("rds.amazonaws.com", "DescribeDBInstances"),
               ("dynamodb.amazonaws.com", "ListTables"), ("kms.amazonaws.com", "ListKeys"),
               ("sns.amazonaws.com", "ListTopics"), ("sqs.amazonaws.com", "ListQueues"),
               ("cloudformation.amazonaws.com", "ListStacks"), ("logs.amazonaws.com", "DescribeLogGroups"),
               ("ecs.amazonaws.com", "ListClusters"), ("eks.amazonaws.com", "ListClusters"),
               ("glue.amazonaws.com", "GetDatabases"), ("route53.amazonaws.com", "ListHostedZones")]
    for n, (source, name) in enumerate(probes * 2):
        records.append(m.at(t + 20 + n // 2, identity, source, name, addresses[n % len(addresses)], agent,
                            error=denied(identity, source, name)))
    role = "ops-admin-role"
    t_assume = t + 20 + len(probes) + 31
    credentials = m.credentials(t_assume, hours=1)
    role_arn = f"arn:aws:iam::{account}:role/{role}"
    assume = m.at(t_assume, identity, "sts.amazonaws.com", "AssumeRole", addresses[2], agent,
                  {"roleArn": role_arn, "roleSessionName": "reporting"},
                  {"credentials": credentials,
                   "assumedRoleUser": {"assumedRoleId": f"{stable_id('AROA', account, role)}:reporting",
                                       "arn": f"arn:aws:sts::{account}:assumed-role/{role}/reporting"}},
                  resources=[{"accountId": account, "type": "AWS::IAM::Role", "ARN": role_arn}], shared=True,
                  host="sts.amazonaws.com")
    records.append(assume)
    admin = assumed_role(account, role, "reporting", credentials["accessKeyId"], iso(t_assume))
    host = "acme-prod-backups.s3.us-west-2.amazonaws.com"
    bucket_arn = {"accountId": account, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::acme-prod-backups"}
    listing = m.at(t_assume + 14, admin, "s3.amazonaws.com", "ListObjects", addresses[2], agent,
                   {"bucketName": "acme-prod-data", "Host": "acme-prod-data.s3.us-east-1.amazonaws.com",
                    "list-type": "2", "prefix": "finance/"}, None, extra=m.s3_extra(), request_id=m.s3_request_id(),
                   host="acme-prod-data.s3.us-east-1.amazonaws.com", category="Data",
                   resources=[{"accountId": account, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::acme-prod-data"}],
                   error=denied(admin, "s3.amazonaws.com", "ListObjects"))
    read = m.at(t_assume + 41, admin, "s3.amazonaws.com", "GetObject", addresses[2], agent,
                {"bucketName": "acme-prod-backups", "Host": host, "key": "break-glass/emergency.txt"}, None,
                extra=m.s3_extra(bytes_out=1873), request_id=m.s3_request_id(), host=host, category="Data",
                region="us-west-2",
                resources=[{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::acme-prod-backups/break-glass/emergency.txt"},
                           bucket_arn])
    records += [listing, read]
    incident = Incident(
        "permission-brute-force", "Permission brute force, role assumption and a data read",
        f"At 18:40 UTC on the third day the long-term key of `{user}` (normally used from {REPORTING_IP} by a "
        "reporting job) is used from five addresses in 203.0.113.81-85 with a Boto3 on Kali: GetCallerIdentity, "
        f"then {2 * len(probes)} denied calls across {len(set(s for s, _ in probes))} services in about half a "
        f"minute (an enumerate-iam style permission brute force), then a successful AssumeRole into `{role}`. "
        "With the new session it is denied ListObjects on acme-prod-data and reads "
        "acme-prod-backups/break-glass/emergency.txt.",
        ["role assumed right after a storm of denied calls, counted per key across the five addresses "
         "(role_assumed_after_denied_storm)",
         "data read by the session born from that role assumption (data_read_by_escalated_session)",
         "the GetCallerIdentity and the denied ListObjects are flagged by nothing but belong to the incident"],
        records)
    incident.unflagged = [whoami[1]["eventID"], listing[1]["eventID"]]
    return incident


def planted_incidents(seed=DEFAULT_SEED):
    """The planted incidents (records and eventIDs) for a seed; they fall on the second and third day."""
    m = Script(seed)
    d1, d2 = START_TS + DAY, START_TS + 2 * DAY
    console = console_attack(m, d1, d2)
    bob_login = next(ts for ts, record in console.records
                     if record["userIdentity"].get("arn") == user_arn(PROD, "bob"))
    return [leaked_key(m, d1), console, network_exposure(m, d1, bob_login), defense_evasion(m, d2),
            exfiltration(m, d2), stolen_instance_credentials(m, d2), log_quality(m, d1),
            stolen_lambda_credentials(m, d2), permission_brute_force(m, d2)]


# ---------------------------------------------------------------- writing the tree

@dataclass
class WrittenFile:
    path: str                # relative to OUTPUT_DIR, with forward slashes
    records: int
    json_bytes: int
    written: bool
    delivered: int = 0       # epoch seconds in the file name
    sha256: str = ""         # of the uncompressed JSON, for digest files
    oldest: str = ""
    newest: str = ""


def day_count(events):
    """About 3 days for the demo, growing with the cube root of EVENTS up to 14 days for 2M events."""
    return max(3, min(14, round(3 * (max(events, 1) / DEFAULT_EVENTS) ** (1 / 3))))


def account_prefix(account):
    return f"AWSLogs/{ORG_ID}/{account}" if account == DEV else f"AWSLogs/{account}"


def folder_date(ts):
    return iso(ts)[:10].replace("-", "/")


def file_stamp(ts, seconds=False):
    text = iso(ts)
    stamp = text[:4] + text[5:7] + text[8:10] + "T" + text[11:13] + text[14:16]
    return stamp + (text[17:19] if seconds else "") + "Z"


def gzip_bytes(data):
    # Level 5 compresses these files as well as the default 9 (about 8:1) in a third of the time.
    return gzip.compress(data, compresslevel=5, mtime=0)


def write_if_changed(path, data):
    """Writes data unless the file already holds exactly these bytes; True when written.

    Leaving unchanged files alone keeps their modification times, which is how the ingest
    recognises files it has already loaded. Changed files go through a temporary name so a
    reader never sees half a file.
    """
    try:
        if os.path.getsize(path) == len(data):
            with open(path, "rb") as handle:
                if handle.read() == data:
                    return False
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)
    return True


def allocate(total, weights):
    """Splits total into integers proportional to weights (largest remainder), summing exactly to total."""
    scale = total / sum(weights)
    shares = [weight * scale for weight in weights]
    counts = [int(share) for share in shares]
    by_remainder = sorted(range(len(shares)), key=lambda n: (counts[n] - shares[n], n))
    for n in by_remainder[:total - sum(counts)]:
        counts[n] += 1
    return counts


def plan_shards(events):
    """Background event count per (account, region, day index)."""
    keys, weights = [], []
    for day_index in range(day_count(events)):
        weekend = (START_DAY + dt.timedelta(days=day_index)).weekday() >= 5
        for account, account_share in ACCOUNT_SHARE.items():
            for region in REGIONS:
                keys.append((account, region, day_index))
                weights.append(account_share * REGION_SHARE[region] * (0.6 if weekend else 1.0))
    return dict(zip(keys, allocate(events, weights)))


def deliveries_by_shard(incidents):
    """Routes each planted record to the shard (account, region, day) whose files it lands in.

    Returns the shard map and the Insight records, which go to their own file.
    """
    routed, insights = {}, []
    for incident in incidents:
        for ts, record in incident.records:
            if record.get("eventCategory") == "Insight":
                insights.append((ts, record))
                continue
            key = (record["recipientAccountId"], record["awsRegion"], (ts - START_TS) // DAY)
            routed.setdefault(key, []).append((ts, record, 0))
            if record.get("eventID") in incident.delivered_twice:
                # The second copy arrives ten minutes later, in another file.
                routed[key].append((ts, record, 600))
    return routed, insights


def write_shard(task):
    """Worker: generates one shard's records and writes its 5-minute delivery files."""
    output_dir, seed, account, region, day_index, count, planted = task
    shard = Shard(seed, account, region, day_index)
    rng = shard.rng
    queued = []
    for ts, record in background(shard, count):
        # Each record reaches S3 20 s to ~5 min after it happened; inside a file the order is loose.
        queued.append(((ts + rng.randint(20, 280)) // DELIVERY_SECONDS, ts + rng.random() * 20, record))
    for ts, record, extra_delay in planted:
        queued.append(((ts + 90 + extra_delay) // DELIVERY_SECONDS, ts, record))
    queued.sort(key=itemgetter(0, 1))
    keep_hashes = account == PROD and day_index == 0
    written = []
    start = 0
    while start < len(queued):
        window = queued[start][0]
        end = start
        while end < len(queued) and queued[end][0] == window:
            end += 1
        group = [record for _, _, record in queued[start:end]]
        delivered = (window + 1) * DELIVERY_SECONDS
        name = f"{account}_CloudTrail_{region}_{file_stamp(delivered)}_{shard.text(ALNUM, 16)}.json.gz"
        relative = f"{account_prefix(account)}/CloudTrail/{region}/{folder_date(delivered)}/{name}"
        document = orjson.dumps({"Records": group})
        changed = write_if_changed(os.path.join(output_dir, relative), gzip_bytes(document))
        info = WrittenFile(relative, len(group), len(document), changed, delivered)
        if keep_hashes:
            times = sorted(record["eventTime"] for record in group)
            info.sha256, info.oldest, info.newest = hashlib.sha256(document).hexdigest(), times[0], times[-1]
        written.append(info)
        start = end
    return written


def write_digests(output_dir, seed, log_files):
    """Hourly digest files of the prod trail for the first hours: hashes of the log files delivered in each hour."""
    m = Maker(f"{seed}/digests")
    fingerprint = stable_hex(PROD, "digest-key", length=32)
    written = []
    for region in REGIONS:
        previous = None
        for hour in range(DIGEST_HOURS):
            start = START_TS + hour * 3600 + 31
            end = start + 3600
            listed = sorted((f for f in log_files
                             if f.sha256 and f"/CloudTrail/{region}/" in f.path and start <= f.delivered < end),
                            key=lambda f: f.path)
            name = (f"{PROD}_CloudTrail-Digest_{region}_{TRAIL_NAME}_{region}_{file_stamp(end, seconds=True)}.json.gz")
            relative = f"{account_prefix(PROD)}/CloudTrail-Digest/{region}/{folder_date(end)}/{name}"
            digest = {"awsAccountId": PROD, "digestStartTime": iso(start), "digestEndTime": iso(end),
                      "digestS3Bucket": TRAIL_BUCKET, "digestS3Object": relative,
                      "digestPublicKeyFingerprint": fingerprint, "digestSignatureAlgorithm": "SHA256withRSA",
                      "newestEventTime": max((f.newest for f in listed), default=None),
                      "oldestEventTime": min((f.oldest for f in listed), default=None),
                      "previousDigestS3Bucket": TRAIL_BUCKET if previous else None,
                      "previousDigestS3Object": previous[0] if previous else None,
                      "previousDigestHashValue": previous[1] if previous else None,
                      "previousDigestHashAlgorithm": "SHA-256" if previous else None,
                      "previousDigestSignature": m.hex(512) if previous else None,
                      "logFiles": [{"s3Bucket": TRAIL_BUCKET, "s3Object": f.path, "hashValue": f.sha256,
                                    "hashAlgorithm": "SHA-256", "newestEventTime": f.newest,
                                    "oldestEventTime": f.oldest} for f in listed]}
            document = orjson.dumps(digest)
            changed = write_if_changed(os.path.join(output_dir, relative), gzip_bytes(document))
            written.append(WrittenFile(relative, 0, len(document), changed, end))
            previous = (relative, hashlib.sha256(document).hexdigest())
    return written


def write_insights(output_dir, seed, insights):
    m = Maker(f"{seed}/insights")
    records = [record for _, record in sorted(insights, key=lambda item: item[0])]
    delivered = (max(ts for ts, _ in insights) // DELIVERY_SECONDS + 2) * DELIVERY_SECONDS
    region = records[0]["awsRegion"]
    name = f"{PROD}_CloudTrail-Insight_{region}_{file_stamp(delivered)}_{m.text(ALNUM, 16)}.json.gz"
    relative = f"{account_prefix(PROD)}/CloudTrail-Insight/{region}/{folder_date(delivered)}/{name}"
    document = orjson.dumps({"Records": records})
    changed = write_if_changed(os.path.join(output_dir, relative), gzip_bytes(document))
    return WrittenFile(relative, len(records), len(document), changed, delivered)


def incidents_markdown(incidents, seed):
    lines = ["# Planted incidents", "",
             f"Written by `samples/generate_sample_logs.py` (seed {seed}). Every incident is in account "
             f"{PROD} (prod); times are UTC. The eventIDs below are in the log files under `AWSLogs/`. "
             "The same list is available from Python as `planted_incidents(seed)`.", ""]
    for number, incident in enumerate(incidents, 1):
        lines += [f"## {number}. {incident.title} (`{incident.key}`)", "", incident.story, "",
                  "Detections that should find it:", ""]
        lines += [f"- {detection}" for detection in incident.detections]
        lines += ["", "| eventTime | region | eventSource | eventName | eventID | note |", "|---|---|---|---|---|---|"]
        for ts, record in sorted(incident.records, key=lambda item: item[0]):
            details = record.get("insightDetails", {})
            source = record.get("eventSource") or details.get("eventSource", "")
            name = record.get("eventName") or f"Insight {details.get('state', '')} ({details.get('eventName', '')})"
            notes = []
            if record.get("errorCode"):
                notes.append(record["errorCode"])
            elif record.get("errorMessage"):
                notes.append(record["errorMessage"])
            if "eventID" not in record:
                notes.append(f"no eventID (requestID {record.get('requestID')})")
            if record.get("eventID") in incident.delivered_twice:
                notes.append("delivered in two files")
            if record.get("eventID") in incident.unflagged:
                notes.append("no detection flags it; it belongs to the incident")
            if record.get("eventID") in incident.routine:
                notes.append("routine use: detections stay silent")
            event_id = f"`{record['eventID']}`" if "eventID" in record else "-"
            lines.append(f"| {record['eventTime']} | {record['awsRegion']} | {source} | {name} | {event_id} | "
                         f"{'; '.join(notes)} |")
        lines.append("")
    return "\n".join(lines)


def remove_stale_files(output_dir, produced):
    """Deletes files this generator wrote on an earlier run with other arguments (other names).

    Only names of the generator's own accounts are touched, so a real log tree in the same
    folder is never modified.
    """
    owned = tuple(f"{account}_CloudTrail" for account in ACCOUNT_NAMES)
    removed = 0
    for folder, _, names in os.walk(os.path.join(output_dir, "AWSLogs")):
        for name in names:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, output_dir).replace(os.sep, "/")
            if name.startswith(owned) and relative not in produced:
                os.remove(path)
                removed += 1
    return removed


def generate(output_dir, events, seed):
    """Writes the whole tree; returns (all written file infos, incidents, stale files removed)."""
    incidents = planted_incidents(seed)
    routed, insights = deliveries_by_shard(incidents)
    counts = plan_shards(events)
    tasks = [(output_dir, seed, account, region, day_index, count, routed.get((account, region, day_index), []))
             for (account, region, day_index), count in counts.items()
             if count or (account, region, day_index) in routed]
    # Largest shards first so the last worker to finish is not left with a big one.
    tasks.sort(key=lambda task: -task[5])
    try:
        processes = len(os.sched_getaffinity(0))
    except AttributeError:
        processes = os.cpu_count() or 1
    processes = max(1, min(processes, len(tasks)))
    if processes == 1:
        results = [write_shard(task) for task in tasks]
    else:
        with multiprocessing.Pool(processes) as pool:
            results = list(pool.imap_unordered(write_shard, tasks, chunksize=1))
            # Let the workers end on their own: the with-block's terminate() alone relies on
            # SIGTERM, which a worker forked from a process with its own SIGTERM handler
            # (a test run that imported a script) sometimes never acted on - a hang.
            pool.close()
            pool.join()
    log_files = sorted((info for result in results for info in result), key=lambda info: info.path)
    extra_files = write_digests(output_dir, seed, log_files)
    extra_files.append(write_insights(output_dir, seed, insights))
    check_file = f"{account_prefix(PROD)}/CloudTrail/ConfigWritabilityCheckFile"
    extra_files.append(WrittenFile(check_file, 0, 0, write_if_changed(os.path.join(output_dir, check_file), b"")))
    produced = {info.path for info in log_files + extra_files}
    removed = remove_stale_files(output_dir, produced)
    markdown = incidents_markdown(incidents, seed).encode()
    extra_files.append(WrittenFile("planted_incidents.md", 0, len(markdown),
                                   write_if_changed(os.path.join(output_dir, "planted_incidents.md"), markdown)))
    return log_files, extra_files, incidents, removed


def main(argv):
    program = os.path.basename(argv[0]) if argv else "generate_sample_logs.py"
    arguments = argv[1:]
    if arguments and arguments[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0

    def usage(reason):
        print(f"{program}: {reason}\n\n{__doc__.strip()}", file=sys.stderr)
        return 2

    if not 1 <= len(arguments) <= 3:
        return usage("expected OUTPUT_DIR [EVENTS [SEED]]")
    output_dir = arguments[0]
    try:
        events = int(arguments[1]) if len(arguments) > 1 else DEFAULT_EVENTS
        seed = int(arguments[2]) if len(arguments) > 2 else DEFAULT_SEED
    except ValueError:
        return usage(f"EVENTS and SEED must be whole numbers, got {' '.join(arguments[1:])!r}")
    if events < 0:
        return usage(f"EVENTS must not be negative, got {events}")
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        return usage(f"OUTPUT_DIR {output_dir!r} exists and is not a folder")

    started = time.monotonic()
    log_files, extra_files, incidents, removed = generate(output_dir, events, seed)
    elapsed = time.monotonic() - started
    records = sum(info.records for info in log_files)
    json_bytes = sum(info.json_bytes for info in log_files)
    insight_records = sum(1 for incident in incidents for _, record in incident.records
                          if record.get("eventCategory") == "Insight")
    planted = sum(len(incident.records) for incident in incidents) - insight_records
    twice = sum(len(incident.delivered_twice) for incident in incidents)
    all_files = log_files + extra_files
    changed = sum(info.written for info in all_files)
    days = day_count(events)
    last_day = START_DAY + dt.timedelta(days=days - 1)
    print(f"{output_dir}: {len(all_files)} files, {changed} written, {len(all_files) - changed} unchanged"
          + (f", {removed} stale removed" if removed else ""))
    print(f"records: {events} background + {planted} planted + {twice} delivered twice = {records} in "
          f"{len(log_files)} log files ({json_bytes / max(records, 1) / 1024:.2f} KB of JSON per record), "
          f"plus {insight_records} in the CloudTrail Insights file")
    print(f"accounts: {PROD} (prod), {DEV} (dev, organisation trail {ORG_ID})")
    print(f"regions: {', '.join(REGIONS)}")
    print(f"days: {START_DAY} to {last_day} ({days} days)")
    print(f"planted incidents: {os.path.join(output_dir, 'planted_incidents.md')} ({len(incidents)} incidents)")
    print(f"took {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except BrokenPipeError:
        # Whoever read stdout stopped (`| head`); the tree is written. Silence the final flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
