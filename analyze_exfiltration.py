"""Hunt for data exposure and exfiltration: EBS snapshots, AMIs and RDS snapshots shared with
other accounts or made public, bucket policies opened to everyone or to other accounts, S3 Block
Public Access removed, bucket replication to another account, mass reads of secrets (Secrets
Manager, SSM SecureString parameters, EC2 Windows passwords), and unusual volumes of S3 object
reads.

usage: analyze_exfiltration.py DATABASE [SINCE [UNTIL]]

  DATABASE  case database written by analyze_ingest.py
  SINCE     first moment to look at, ISO date or time in UTC (e.g. 2026-11-01 or 2026-11-01T13:30)
  UNTIL     last moment to look at (a date includes that whole day)

Writes findings to the database (replacing this script's earlier findings), a report
exfiltration_report-YY-MM-DD-HH-MM.md with PNG charts, and an analyst log entry.

The detections are the files in rules/exfiltration/ (see rules/README.md).

thresholds (environment variables):
  CLOUDTRAIL_SECRET_READ_DISTINCT  distinct secrets, parameters or instance passwords one identity reads that count as a mass read (default 10)
  CLOUDTRAIL_SECRET_READ_CALLS     ... or this many read calls, whatever was read (default 100)
  CLOUDTRAIL_SECRET_READ_MINUTES   ... within this many minutes (default 60)
  CLOUDTRAIL_OBJECT_READ_CALLS     GetObject calls by one identity on one bucket that count as a large read (default 1000)
  CLOUDTRAIL_OBJECT_READ_MEGABYTES ... or this many MiB sent out (default 1024)
  CLOUDTRAIL_OBJECT_READ_MINUTES   ... within this many minutes (default 60)
  CLOUDTRAIL_OBJECT_READ_BASELINE_FACTOR  times the identity's usual reads per window that count as unusual (default 10)
  CLOUDTRAIL_OBJECT_READ_BASELINE_MINIMUM  ... but never fewer reads than this (default 100)
"""
import sys

import common
import detections


def main(argv):
    return common.run_cli(__doc__, argv, lambda args: detections.area_main(args, "exfiltration"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
