"""Hunt for logging and detection tampering: CloudTrail trails stopped, deleted or narrowed,
trail buckets set to expire logs, GuardDuty / Security Hub / Macie / AWS Config switched off
or muted, VPC flow logs, DNS query logs, CloudWatch logs and alarms deleted, S3 access
logging disabled, accounts leaving the organization, and requests whose parameters
CloudTrail left out as too large.

usage: analyze_defense_evasion.py DATABASE [SINCE [UNTIL]]

  DATABASE  case database written by analyze_ingest.py
  SINCE     first moment to look at, ISO date or time in UTC (e.g. 2026-11-01 or 2026-11-01T13:30)
  UNTIL     last moment to look at (a date includes that whole day)

Writes findings to the database (replacing this script's earlier findings), a report
defense_evasion_report-YY-MM-DD-HH-MM.md with PNG charts, and an analyst log entry.

The detections are the files in rules/defense_evasion/ (see rules/README.md).

thresholds (environment variables):
  CLOUDTRAIL_SHORT_RETENTION_DAYS  log retention shorter than this many days counts as shortened:
                                   S3 lifecycle expiry on log buckets, CloudWatch log group retention (default 7)
"""
import sys

import common
import detections


def main(argv):
    return common.run_cli(__doc__, argv, lambda args: detections.area_main(args, "defense_evasion"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
