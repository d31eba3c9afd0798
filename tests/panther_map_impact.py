"""Panther rules that claim what analyze_impact.py detects (see panther_agreement.py)."""

MAPPING = {
    "AWS.S3.SuspendVersioning": ("analyze_impact", "s3_versioning_suspended"),
    "AWS.S3.DisableMfaDelete": ("analyze_impact", "s3_versioning_suspended"),
    "AWS.KMS.CustomerManagedKeyLoss": ("analyze_impact", "kms_key_deletion_scheduled"),
    "AWS.RDS.InstanceDeletion": ("analyze_impact", "rds_deleted_without_final_snapshot"),
    "AWS.S3.CopyObjectWithClientSideEncryption": ("analyze_impact", "s3_objects_encrypted_with_customer_key"),
    "AWS.S3.CopyObject.CrossAccount.Encryption.KMS": ("analyze_impact", "s3_encrypted_with_foreign_kms_key"),
}

_ATTEMPT = "reported as a failed attempt (marked failed), as every failed call is"

DIFFERENCES = {
    ("AWS.S3.SuspendVersioning", "Versioning Change Failed"): _ATTEMPT,
    ("AWS.S3.DisableMfaDelete", "MFA Delete Disabled - Failed"): _ATTEMPT,
    ("AWS.KMS.CustomerManagedKeyLoss", "KMS Disable Key Error"): _ATTEMPT,
    ("AWS.RDS.InstanceDeletion", "RDS Deletion Failed - Access Denied"): _ATTEMPT,
    ("AWS.RDS.InstanceDeletion", "RDS Instance Deleted With Final Snapshot"):
        "a deletion that keeps a final snapshot is the planned case and is not reported; only deletions "
        "without a final snapshot, or with the automated backups, are",
    ("AWS.RDS.InstanceDeletion", "RDS Cluster Deleted"):
        "the cluster is deleted with a final snapshot (finalDBClusterSnapshotIdentifier), the planned case",
    ("AWS.S3.CopyObjectWithClientSideEncryption", "CopyObject with client-side encryption"):
        "one SSE-C copy is below sse_c_objects; the toolkit reports SSE-C writes in bulk (the ransomware "
        "pattern), not an application's single SSE-C upload",
}
