"""Compute: resource hijacking (GPU and large instances, unused regions, spot fleets, new
compute by an unusual principal, quota increases, Bedrock LLMjacking, SES abuse) and
persistence or execution in compute and serverless (Lambda code, layers and permissions,
EC2 user data and SSH keys, SSM commands and sessions, ECR images, IAM Roles Anywhere, IAM
Identity Center).

The detections are the .sql files beside this module; views.sql defines the views they share.
"""
from detections import Area, Setting

SETTINGS = (
    Setting("baseline_days", "CLOUDTRAIL_BASELINE_DAYS", 7,
            "Days of a principal's history the data must hold before a first use counts fully (less: low)"),
    Setting("run_instances_count", "CLOUDTRAIL_RUN_INSTANCES_COUNT", 10,
            "Instances asked for in one launch request that count as many"),
    Setting("ssm_instance_count", "CLOUDTRAIL_SSM_INSTANCE_COUNT", 10,
            "Instances targeted by one SSM command that count as many"),
)

AREA = Area(
    name="compute",
    title="Compute: resource hijacking, and persistence in compute and serverless",
    tool="analyze_compute.py",
    activity_sql="""
        select
            date_trunc('minute', event_time) as minute,
            count(*) filter (where error_code is null) as succeeded,
            count(*) filter (where error_code is not null) as failed
        from compute_events
        where event_time is not null
          and not read_only
          and event_source in ('ec2.amazonaws.com', 'lambda.amazonaws.com', 'ecs.amazonaws.com', 'batch.amazonaws.com',
                               'sagemaker.amazonaws.com', 'bedrock.amazonaws.com', 'ses.amazonaws.com',
                               'ssm.amazonaws.com', 'ecr.amazonaws.com', 'ec2-instance-connect.amazonaws.com',
                               'servicequotas.amazonaws.com', 'rolesanywhere.amazonaws.com', 'sso.amazonaws.com',
                               'email.amazonaws.com')
        group by minute
    """,
    activity_title="Calls that start or change compute (EC2, Lambda, ECS, Batch, SageMaker, Bedrock, SSM, ECR, ...)",
    settings=SETTINGS,
    notes=(
        "Failed calls are reported as attempts: RunInstances refused by a vCPU limit or an IAM policy, or a "
        "denied InvokeModel, shows what the caller tried to do.",
        "\"Never before\" is judged against all the loaded data, not only the window: the principal (the role "
        "for role sessions, so a stolen Lambda or ECS role session is judged by its role's history, else the "
        "user or root ARN) made no earlier call of that kind. When the data holds less than baseline_days of "
        "the principal's history, everything it does looks new and such findings are low; load more days of "
        "logs to judge them.",
        "A person is an IAM user, root, an IAM Identity Center (AWSReservedSSO_) role or a console session.",
        "Calls made by AWS services (userIdentity type AWSService) are left out.",
    ),
)


def find_repository_policy_opened(rows):
    """SetRepositoryPolicy rows whose policy admits everyone or another account."""
    from rules import aws_policy

    for row in rows:
        details = row["details"]
        document, _ = aws_policy.read_policy(details["policy"])
        if document is None:
            continue
        outside = aws_policy.outside_principals(document, details["account"])
        if not outside:
            continue
        unconditioned = [(kind, who) for kind, who, conditioned in outside if not conditioned]
        shown = unconditioned or [(kind, who) for kind, who, _ in outside]
        actions = sorted({action for statement in aws_policy.allow_statements(document)
                          for action in aws_policy.as_list(statement.get("Action")) if isinstance(action, str)})
        attempt = f"attempt, {details['error_code']}: " if details["error_code"] else ""
        yield {
            "event_id": row["event_id"],
            "resource": f"ECR {row['resource']}",
            "summary": f"{attempt}ECR repository {row['resource']} opened to "
                       + ", ".join(f"{who} ({kind})" for kind, who in shown[:5])
                       + ("" if unconditioned else ", narrowed by a condition"),
            "details": {"outside": [{"kind": kind, "principal": who, "conditioned": conditioned}
                                    for kind, who, conditioned in outside],
                        "actions": actions[:20]},
            "severity": None if unconditioned else "medium",
        }
