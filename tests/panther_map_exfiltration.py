"""Panther rules that claim what analyze_exfiltration.py detects (see panther_agreement.py)."""

MAPPING = {
    "AWS.CloudTrail.SnapshotMadePublic": ("analyze_exfiltration", "ebs_snapshot_shared"),
    "AWS.CloudTrail.AMIModifiedForPublicAccess": ("analyze_exfiltration", "ami_shared"),
    "AWS.RDS.SnapshotShared": ("analyze_exfiltration", "rds_snapshot_shared"),
    "AWS.CloudTrail.ResourceMadePublic": ("analyze_exfiltration", "bucket_policy_granted_public_or_cross_account"),
    "AWS.S3.DeletePublicAccessBlock": ("analyze_exfiltration", "public_access_block_removed"),
    "AWS.SSM.DecryptSSMParams": ("analyze_exfiltration", "secrets_read_in_bulk"),
    "AWS.SecretsManager.RetrieveSecrets": ("analyze_exfiltration", "secrets_read_in_bulk"),
    "AWS.EC2.ManyPasswordReadAttempts": ("analyze_exfiltration", "secrets_read_in_bulk"),
    "AWS.SecretsManager.BatchRetrieveSecrets": ("analyze_exfiltration", "secrets_batch_read_by_filter"),
    "AWS.SecretsManager.BatchRetrieveSecretsCatchAll": ("analyze_exfiltration", "secrets_batch_read_by_filter"),
    "AWS.SecretsManager.RetrieveSecretsMultiRegion": ("analyze_exfiltration", "secrets_batch_read_by_filter"),
}

_ATTEMPT = "reported as a failed attempt (marked failed), as every failed call is"
_NOT_S3 = "the toolkit reads S3 bucket policies only; other resource policies are outside this detection"
_BELOW_BURST = ("one read is below the burst thresholds (secret_read_distinct, secret_read_calls); Panther's "
                "rule counts reads elsewhere (Threshold / cache) and its test checks only the single-event match")

DIFFERENCES = {
    ("AWS.CloudTrail.SnapshotMadePublic", "Error Making Snapshot Publicly Accessible"): _ATTEMPT,
    ("AWS.CloudTrail.AMIModifiedForPublicAccess", "Error Making AMI Public"): _ATTEMPT,
    ("AWS.CloudTrail.AMIModifiedForPublicAccess", "AMI Added to User"):
        "Panther checks the account against its own list of known accounts (a mock in its test); the toolkit "
        "has no such list and reports every account other than the owner",
    ("AWS.CloudTrail.ResourceMadePublic", "S3 Failed to make Publicly Accessible"): _ATTEMPT,
    ("AWS.CloudTrail.ResourceMadePublic", "All Restrictive Conditions Types (Should Not Alert)"):
        "a statement for everyone narrowed by conditions is reported at low severity with the conditions "
        "listed, so the analyst sees them instead of the toolkit deciding they are enough",
    ("AWS.CloudTrail.ResourceMadePublic", "ECR Made Public"): _NOT_S3,
    ("AWS.CloudTrail.ResourceMadePublic", "Public Finding Keywords (Should Alert)"): _NOT_S3,
    ("AWS.CloudTrail.ResourceMadePublic", "Wildcard Principal No Conditions (Should Alert)"): _NOT_S3,
    ("AWS.CloudTrail.ResourceMadePublic", "Mixed Conditions Some Restrictive (Should Alert)"): _NOT_S3,
    ("AWS.S3.DeletePublicAccessBlock", "Public Access Block Deletion Failed"): _ATTEMPT,
    ("AWS.SecretsManager.RetrieveSecrets", "GetSecretValue Denied"): _BELOW_BURST,
    ("AWS.EC2.ManyPasswordReadAttempts", "Unsuccessful Attempt"): _BELOW_BURST,
    ("AWS.EC2.ManyPasswordReadAttempts", "Successful Attempt"): _BELOW_BURST,
    ("AWS.SecretsManager.BatchRetrieveSecretsCatchAll", "BatchGetSecretValue Catch-All with other filters"):
        "every filter-based batch read is reported; a filter that matches every secret raises it to high, "
        "this one (a second filter narrows it) stays medium",
}
