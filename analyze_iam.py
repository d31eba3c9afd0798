"""Hunt for IAM persistence and privilege escalation: new users, access keys and console
passwords made for other users, admin policies attached, policies granting every action,
users added to admin groups, role trust opened to outsiders, MFA and permissions boundaries
removed, identity providers changed, root access keys, and the create-admin-user chain.

usage: analyze_iam.py DATABASE [SINCE [UNTIL]]

  DATABASE  case database written by analyze_ingest.py
  SINCE     first moment to look at, ISO date or time in UTC (e.g. 2026-11-01 or 2026-11-01T13:30)
  UNTIL     last moment to look at (a date includes that whole day)

Writes findings to the database (replacing this script's earlier findings), a report
iam_report-YY-MM-DD-HH-MM.md with PNG charts, and an analyst log entry.

The detections are the files in rules/iam/ (see rules/README.md).

thresholds (environment variables):
  CLOUDTRAIL_IAM_CHAIN_MINUTES      minutes after a CreateUser in which the same caller giving the
                                    new user admin rights or credentials counts as one chain (default 30)
  CLOUDTRAIL_IAM_TRUST_PROBES       malformed UpdateAssumeRolePolicy calls by one caller that count
                                    as principal enumeration (default 10)
"""
import sys

import common
import detections


def main(argv):
    return common.run_cli(__doc__, argv, lambda args: detections.area_main(args, "iam"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
