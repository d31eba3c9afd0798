"""Hunt for destruction and ransomware (Impact): S3 versioning suspended, lifecycle rules that
expire data, mass object deletions, objects re-encrypted with customer-provided (SSE-C) or
foreign KMS keys, Object Lock weakened; KMS keys disabled or scheduled for deletion; AWS Backup
vaults and recovery points, snapshots, AMIs and RDS backups destroyed; RDS databases deleted
without a final snapshot; mass instance termination.

usage: analyze_impact.py DATABASE [SINCE [UNTIL]]

  DATABASE  case database written by analyze_ingest.py
  SINCE     first moment to look at, ISO date or time in UTC (e.g. 2026-11-01 or 2026-11-01T13:30)
  UNTIL     last moment to look at (a date includes that whole day)

Writes findings to the database (replacing this script's earlier findings), a report
impact_report-YY-MM-DD-HH-MM.md with PNG charts, and an analyst log entry.

The detections are the files in rules/impact/ (see rules/README.md).

thresholds (environment variables):
  CLOUDTRAIL_LIFECYCLE_EXPIRY_DAYS      lifecycle rules expiring objects or old versions in fewer days count (default 7)
  CLOUDTRAIL_IMPACT_NEW_BUCKET_MINUTES  versioning suspended this soon after the same principal created the bucket is set-up (default 60)
  CLOUDTRAIL_S3_DELETE_CALLS            delete calls by one principal on one bucket that count as a mass deletion (default 50)
  CLOUDTRAIL_S3_DELETE_MINUTES          ... with no pause longer than this many minutes (default 10)
  CLOUDTRAIL_SSE_C_OBJECTS              objects written with SSE-C by one principal to one bucket that count (default 10)
  CLOUDTRAIL_SSE_C_MINUTES              ... with no pause longer than this many minutes (default 10)
  CLOUDTRAIL_BACKUP_DELETE_COUNT        recovery points deleted by one principal that count (default 3)
  CLOUDTRAIL_SNAPSHOT_DELETE_COUNT      snapshots, AMIs or RDS backups deleted by one principal that count (default 5)
  CLOUDTRAIL_SNAPSHOT_DELETE_MINUTES    ... with no pause longer than this many minutes (default 10)
  CLOUDTRAIL_TERMINATE_INSTANCE_COUNT   instances terminated by one principal that count (default 10)
  CLOUDTRAIL_TERMINATE_MINUTES          ... with no pause longer than this many minutes (default 10)
"""
import sys

import common
import detections


def main(argv):
    return common.run_cli(__doc__, argv, lambda args: detections.area_main(args, "impact"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
