"""Hunt for resource hijacking and for persistence and execution in compute and serverless:
GPU, very large or many instances, instances in unused regions, spot fleets; Lambda, ECS, Batch
and SageMaker compute started by a principal that never did; service quota increases; Bedrock
models used or enabled by a new principal and invocation logging removed (LLMjacking); SES
sending prepared by a principal new to SES; Lambda code or configuration changed outside its
usual deployer, layers from other accounts, functions opened to everyone; EC2 user data changed,
SSH keys pushed through Instance Connect or the serial console; SSM commands and sessions;
ECR images pushed by a new principal; IAM Roles Anywhere trust anchors; IAM Identity Center
permission sets and assignments.

usage: analyze_compute.py DATABASE [SINCE [UNTIL]]

  DATABASE  case database written by analyze_ingest.py
  SINCE     first moment to look at, ISO date or time in UTC (e.g. 2026-11-01 or 2026-11-01T13:30)
  UNTIL     last moment to look at (a date includes that whole day)

Writes findings to the database (replacing this script's earlier findings), a report
compute_report-YY-MM-DD-HH-MM.md with PNG charts, and an analyst log entry.

The detections are the files in rules/compute/ (see rules/README.md).

thresholds (environment variables):
  CLOUDTRAIL_BASELINE_DAYS        days of a principal's history the data must hold before a first use counts fully (default 7)
  CLOUDTRAIL_RUN_INSTANCES_COUNT  instances asked for in one launch request that count as many (default 10)
  CLOUDTRAIL_SSM_INSTANCE_COUNT   instances targeted by one SSM command that count as many (default 10)
"""
import sys

import common
import detections


def main(argv):
    return common.run_cli(__doc__, argv, lambda args: detections.area_main(args, "compute"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
