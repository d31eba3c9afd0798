"""Logging and detection tampering: a positive and a near-miss negative for each detection (most
in one shared case, each record named), the UpdateTrail console trap, trail-bucket knowledge and
thresholds, the real Stratus Red Team and TrailDiscover records, and the script end to end."""
import datetime as dt
import gzip

import orjson
import pytest

import analyze_defense_evasion as evasion
from conftest import (ACCOUNT, SHARED_DATA, build_case, detect, event, fired_ids, labelled_records,
                      needs_shared_data, stored)

OTHER_ACCOUNT = "444455556666"
CT, S3, GD = "cloudtrail.amazonaws.com", "s3.amazonaws.com", "guardduty.amazonaws.com"
CONSOLE = {"sessionCredentialFromConsole": "true", "userAgent": "AWS Internal"}


def at(minutes):
    start = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.timezone.utc)
    return (start + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def trail_settings(name, bucket, multi_region=True, global_events=True, validation=True, kms=None):
    """A trail's configuration as CreateTrail/UpdateTrail responses carry it."""
    settings = {"name": name, "s3BucketName": bucket, "includeGlobalServiceEvents": global_events,
                "isMultiRegionTrail": multi_region, "logFileValidationEnabled": validation,
                "isOrganizationTrail": False, "trailARN": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{name}"}
    if kms:
        settings["kmsKeyId"] = kms
    return settings


def create_trail(name, bucket, time=at(0), **settings):
    response = trail_settings(name, bucket, **settings)
    return event("CreateTrail", CT, time, requestParameters={"name": name, "s3BucketName": bucket,
                                                            "isMultiRegionTrail": response["isMultiRegionTrail"]},
                 responseElements=response)


def console_update(name, bucket, time=at(1), multi_region=True, global_events=True, validation=True, **fields):
    """UpdateTrail as the console sends it: every setting, changed or not."""
    request = {"name": name, "s3BucketName": bucket, "s3KeyPrefix": "", "snsTopicName": "",
               "includeGlobalServiceEvents": global_events, "isMultiRegionTrail": multi_region,
               "enableLogFileValidation": validation, "cloudWatchLogsLogGroupArn": "", "cloudWatchLogsRoleArn": "",
               "kmsKeyId": "", "isOrganizationTrail": False}
    return event("UpdateTrail", CT, time, "role:Admin/alice", requestParameters=request,
                 responseElements=trail_settings(name, bucket, multi_region, global_events, validation),
                 **CONSOLE | fields)


def cli_update(name, time=at(1), **settings):
    """UpdateTrail as the CLI sends it: the name and only the settings given."""
    response = trail_settings(name, settings.get("s3BucketName", f"{name}-bucket"),
                              settings.get("isMultiRegionTrail", True), settings.get("includeGlobalServiceEvents", True),
                              settings.get("enableLogFileValidation", True), settings.get("kmsKeyId"))
    return event("UpdateTrail", CT, time, requestParameters={"name": name, **settings}, responseElements=response)


def lifecycle(bucket, days=1, status="Enabled", rules=None, **fields):
    rule = {"Expiration": {"Days": days}, "Filter": {"Prefix": ""}, "ID": "expire", "Status": status}
    return event("PutBucketLifecycle", S3, requestParameters={
        "bucketName": bucket, "Host": f"{bucket}.s3.us-east-1.amazonaws.com", "lifecycle": "",
        "LifecycleConfiguration": {"Rule": rules or rule, "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}}, **fields)


def denied(record):
    return record | {"errorCode": "AccessDenied", "errorMessage": "User is not authorized to perform this action",
                     "responseElements": None}


def basic_selectors(*selectors):
    return {"trailName": "main", "eventSelectors": list(selectors)}


def advanced_selectors(*field_selector_lists):
    return {"trailName": "main", "advancedEventSelectors": [
        {"name": f"selector {i}", "fieldSelectors": fields} for i, fields in enumerate(field_selector_lists)]}


MANAGEMENT = {"field": "eventCategory", "equals": ["Management"]}
SERVICE = {"type": "AWSService", "invokedBy": "securityhub.amazonaws.com"}

# (name, record, detection, expected severity, or None where the detection must stay quiet)
CASES = [
    # cloudtrail_logging_stopped
    ("StopLogging", event("StopLogging", CT, requestParameters={"name": "main"}), "cloudtrail_logging_stopped", "high"),
    ("StopLogging denied", denied(event("StopLogging", CT, requestParameters={"name": "main"})),
     "cloudtrail_logging_stopped", "high"),
    ("StopEventDataStoreIngestion", event("StopEventDataStoreIngestion", CT, requestParameters={"eventDataStore": "eds-1"}),
     "cloudtrail_logging_stopped", "high"),
    ("StartLogging", event("StartLogging", CT, requestParameters={"name": "main"}), "cloudtrail_logging_stopped", None),
    # cloudtrail_trail_deleted
    ("DeleteTrail", event("DeleteTrail", CT, requestParameters={"name": "main"}), "cloudtrail_trail_deleted", "high"),
    ("DeleteEventDataStore", event("DeleteEventDataStore", CT, requestParameters={"eventDataStore": "eds-1"}),
     "cloudtrail_trail_deleted", "high"),
    ("DescribeTrails", event("DescribeTrails", CT, requestParameters={"trailNameList": ["main"]}),
     "cloudtrail_trail_deleted", None),
    # cloudtrail_trail_updated_to_log_less, CLI (only changed settings sent) and denied calls
    ("CLI: one region only", cli_update("t-region", isMultiRegionTrail=False), "cloudtrail_trail_updated_to_log_less", "high"),
    ("CLI: global events off", cli_update("t-global", includeGlobalServiceEvents=False),
     "cloudtrail_trail_updated_to_log_less", "high"),
    ("CLI: new bucket", cli_update("t-bucket", s3BucketName="attacker-sink"), "cloudtrail_trail_updated_to_log_less", "high"),
    ("CLI: KMS key of another account",
     cli_update("t-kms-x", kmsKeyId=f"arn:aws:kms:us-east-1:{OTHER_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
     "cloudtrail_trail_updated_to_log_less", "high"),
    ("CLI: KMS key of the same account",
     cli_update("t-kms", kmsKeyId=f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
     "cloudtrail_trail_updated_to_log_less", "medium"),
    ("CLI: validation off", cli_update("t-valid", enableLogFileValidation=False),
     "cloudtrail_trail_updated_to_log_less", "medium"),
    ("CLI: turning global events on", cli_update("t-more", includeGlobalServiceEvents=True),
     "cloudtrail_trail_updated_to_log_less", None),
    ("CLI: SNS topic only", cli_update("t-sns", snsTopicName="trail-notes"), "cloudtrail_trail_updated_to_log_less", None),
    ("UpdateTrail denied, parameters not recorded",
     denied(event("UpdateTrail", CT, requestParameters=None)), "cloudtrail_trail_updated_to_log_less", "low"),
    ("UpdateTrail denied with a reducing request",
     denied(event("UpdateTrail", CT, requestParameters={"name": "t-denied", "isMultiRegionTrail": False})),
     "cloudtrail_trail_updated_to_log_less", "high"),
    ("UpdateTrail on a missing trail, name only",
     event("UpdateTrail", CT, requestParameters={"name": "myTrail2"}, errorCode="TrailNotFoundException",
           errorMessage="Unknown trail: myTrail2 for the user: 111122223333"),
     "cloudtrail_trail_updated_to_log_less", None),
    # ... console: every setting is sent, so only a difference from the earlier configuration counts
    ("earlier config of t-console", create_trail("t-console", "corp-audit-1"), "cloudtrail_trail_updated_to_log_less", None),
    ("console: nothing weakened", console_update("t-console", "corp-audit-1", time=at(2)),
     "cloudtrail_trail_updated_to_log_less", None),
    ("console: bucket changed", console_update("t-console", "elsewhere-bucket", time=at(3)),
     "cloudtrail_trail_updated_to_log_less", "high"),
    ("earlier config of t-single", create_trail("t-single", "corp-audit-2", multi_region=False),
     "cloudtrail_trail_updated_to_log_less", None),
    ("console: single-region trail stays single-region",
     console_update("t-single", "corp-audit-2", time=at(2), multi_region=False),
     "cloudtrail_trail_updated_to_log_less", None),
    ("console: region narrowed, no earlier config", console_update("t-unknown", "corp-audit-3", multi_region=False),
     "cloudtrail_trail_updated_to_log_less", "low"),
    ("console: no earlier config, nothing weakening", console_update("t-unknown-2", "corp-audit-4"),
     "cloudtrail_trail_updated_to_log_less", None),
    # cloudtrail_event_selectors_narrowed
    ("management events off", event("PutEventSelectors", CT, requestParameters=basic_selectors(
        {"includeManagementEvents": False, "readWriteType": "All", "dataResources": []})),
     "cloudtrail_event_selectors_narrowed", "high"),
    ("management reads only", event("PutEventSelectors", CT, requestParameters=basic_selectors(
        {"includeManagementEvents": True, "readWriteType": "ReadOnly"})), "cloudtrail_event_selectors_narrowed", "high"),
    ("KMS events excluded", event("PutEventSelectors", CT, requestParameters=basic_selectors(
        {"includeManagementEvents": True, "readWriteType": "All", "excludeManagementEventSources": ["kms.amazonaws.com"]})),
     "cloudtrail_event_selectors_narrowed", "medium"),
    ("all management events", event("PutEventSelectors", CT, requestParameters=basic_selectors(
        {"includeManagementEvents": True, "readWriteType": "All", "dataResources": []})),
     "cloudtrail_event_selectors_narrowed", None),
    ("a data-only selector beside a management one", event("PutEventSelectors", CT, requestParameters=basic_selectors(
        {"includeManagementEvents": False, "readWriteType": "All",
         "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]},
        {"includeManagementEvents": True, "readWriteType": "WriteOnly"})), "cloudtrail_event_selectors_narrowed", None),
    ("advanced: management reads only", event("PutEventSelectors", CT, requestParameters=advanced_selectors(
        [MANAGEMENT, {"field": "readOnly", "equals": ["true"]}])), "cloudtrail_event_selectors_narrowed", "high"),
    ("advanced: data events only", event("PutEventSelectors", CT, requestParameters=advanced_selectors(
        [{"field": "eventCategory", "equals": ["Data"]}, {"field": "resources.type", "equals": ["AWS::S3::Object"]}])),
     "cloudtrail_event_selectors_narrowed", "high"),
    ("advanced: all management events", event("PutEventSelectors", CT, requestParameters=advanced_selectors([MANAGEMENT])),
     "cloudtrail_event_selectors_narrowed", None),
    ("advanced: KMS excluded", event("PutEventSelectors", CT, requestParameters=advanced_selectors(
        [MANAGEMENT, {"field": "eventSource", "notEquals": ["kms.amazonaws.com"]}])),
     "cloudtrail_event_selectors_narrowed", "medium"),
    ("Insights off", event("PutInsightSelectors", CT, requestParameters={"trailName": "main", "insightSelectors": []}),
     "cloudtrail_event_selectors_narrowed", "low"),
    ("Insights on", event("PutInsightSelectors", CT, requestParameters={
        "trailName": "main", "insightSelectors": [{"insightType": "ApiCallRateInsight"}]}),
     "cloudtrail_event_selectors_narrowed", None),
    # cloudtrail_bucket_lifecycle_shortened: the bucket is a trail bucket when the data says so
    ("trail of corp-ct-store", create_trail("t-store", "corp-ct-store"), "cloudtrail_bucket_lifecycle_shortened", None),
    ("1 day on a known trail bucket", lifecycle("corp-ct-store"), "cloudtrail_bucket_lifecycle_shortened", "high"),
    ("CloudTrail checking its bucket", event("GetBucketAcl", S3, identity={"type": "AWSService", "invokedBy": CT},
                                             sourceIPAddress=CT, userAgent=CT, requestParameters={"bucketName": "corp-x1"}),
     "cloudtrail_bucket_lifecycle_shortened", None),
    ("3 days on a bucket CloudTrail writes to", lifecycle("corp-x1", days=3), "cloudtrail_bucket_lifecycle_shortened", "high"),
    ("1 day on a bucket named for logs", lifecycle("acme-cloudtrail-logs"), "cloudtrail_bucket_lifecycle_shortened", "medium"),
    ("1 day among several rules", lifecycle("acme-audit", rules=[
        {"Expiration": {"Days": 365}, "ID": "a", "Status": "Enabled"},
        {"Expiration": {"Days": 1}, "ID": "b", "Status": "Enabled"}]), "cloudtrail_bucket_lifecycle_shortened", "medium"),
    ("1 day denied", denied(lifecycle("corp-ct-store")), "cloudtrail_bucket_lifecycle_shortened", "high"),
    ("30 days on a trail bucket", lifecycle("corp-ct-store", days=30), "cloudtrail_bucket_lifecycle_shortened", None),
    ("disabled 1-day rule", lifecycle("corp-ct-store", status="Disabled"), "cloudtrail_bucket_lifecycle_shortened", None),
    ("1 day on an ordinary bucket", lifecycle("team-photos"), "cloudtrail_bucket_lifecycle_shortened", None),
    ("1 day on a 'catalog' bucket", lifecycle("product-catalog"), "cloudtrail_bucket_lifecycle_shortened", None),
    # guardduty_detector_disabled
    ("DeleteDetector", event("DeleteDetector", GD, requestParameters={"detectorId": "d1"}), "guardduty_detector_disabled",
     "high"),
    ("detector suspended", event("UpdateDetector", GD, requestParameters={"detectorId": "d1", "enable": False}),
     "guardduty_detector_disabled", "high"),
    ("S3 protection off", event("UpdateDetector", GD, requestParameters={
        "detectorId": "d1", "features": [{"name": "S3_DATA_EVENTS", "status": "DISABLED"}]}),
     "guardduty_detector_disabled", "low"),
    ("publishing frequency changed", event("UpdateDetector", GD, requestParameters={
        "detectorId": "d1", "enable": True, "findingPublishingFrequency": "SIX_HOURS"}), "guardduty_detector_disabled", None),
    # guardduty_ip_list_changed
    ("trusted IP list activated", event("CreateIPSet", GD, requestParameters={
        "detectorId": "d1", "name": "ok-ips", "format": "TXT", "location": "s3://b/ips.txt", "activate": True}),
     "guardduty_ip_list_changed", "high"),
    ("trusted IP list updated, not activated", event("UpdateIPSet", GD, requestParameters={
        "detectorId": "d1", "ipSetId": "ips1", "location": "s3://b/ips2.txt"}), "guardduty_ip_list_changed", "medium"),
    ("threat list replaced", event("UpdateThreatIntelSet", GD, requestParameters={
        "detectorId": "d1", "threatIntelSetId": "t1", "location": "s3://b/empty.txt"}), "guardduty_ip_list_changed", "low"),
    ("IP lists read", event("ListIPSets", GD, requestParameters={"detectorId": "d1"}), "guardduty_ip_list_changed", None),
    ("WAF IP set updated", event("UpdateIPSet", "wafv2.amazonaws.com", requestParameters={"Name": "block"}),
     "guardduty_ip_list_changed", None),
    # guardduty_members_disassociated
    ("member leaves administrator", event("DisassociateFromAdministratorAccount", GD, requestParameters={"detectorId": "d1"}),
     "guardduty_members_disassociated", "medium"),
    ("members no longer monitored", event("StopMonitoringMembers", GD, requestParameters={
        "detectorId": "d1", "accountIds": [OTHER_ACCOUNT, "777788889999"]}), "guardduty_members_disassociated", "medium"),
    ("invitations deleted", event("DeleteInvitations", GD, requestParameters={"accountIds": [OTHER_ACCOUNT]}),
     "guardduty_members_disassociated", "low"),
    ("members listed", event("ListMembers", GD, requestParameters={"detectorId": "d1"}),
     "guardduty_members_disassociated", None),
    # guardduty_findings_suppressed
    ("suppression rule", event("CreateFilter", GD, requestParameters={
        "detectorId": "d1", "name": "quiet", "action": "ARCHIVE",
        "findingCriteria": {"criterion": {"service.action.networkConnectionAction.remoteIpDetails.ipAddressV4": {
            "eq": ["203.0.113.9"]}}}}), "guardduty_findings_suppressed", "medium"),
    ("findings archived by a person", event("ArchiveFindings", GD, requestParameters={
        "detectorId": "d1", "findingIds": ["f1", "f2"]}), "guardduty_findings_suppressed", "low"),
    ("saved filter that archives nothing", event("CreateFilter", GD, requestParameters={
        "detectorId": "d1", "name": "view", "action": "NOOP"}), "guardduty_findings_suppressed", None),
    ("findings archived by GuardDuty itself", event("ArchiveFindings", GD, identity={
        "type": "AWSService", "invokedBy": GD}, requestParameters={"detectorId": "d1", "findingIds": ["f3"]}),
     "guardduty_findings_suppressed", None),
    # config_recorder_stopped / config_rule_deleted
    ("recorder stopped", event("StopConfigurationRecorder", "config.amazonaws.com", requestParameters={
        "configurationRecorderName": "default"}), "config_recorder_stopped", "high"),
    ("delivery channel deleted", event("DeleteDeliveryChannel", "config.amazonaws.com", requestParameters={
        "deliveryChannelName": "default"}), "config_recorder_stopped", "high"),
    ("recorder started", event("StartConfigurationRecorder", "config.amazonaws.com", requestParameters={
        "configurationRecorderName": "default"}), "config_recorder_stopped", None),
    ("rule deleted", event("DeleteConfigRule", "config.amazonaws.com", requestParameters={"configRuleName": "s3-public"}),
     "config_rule_deleted", "medium"),
    ("rule deleted by CloudFormation", event("DeleteConfigRule", "config.amazonaws.com", identity={
        "type": "AssumedRole", "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Deploy/cfn", "accountId": ACCOUNT,
        "invokedBy": "cloudformation.amazonaws.com"}, requestParameters={"configRuleName": "stack-rule"}),
     "config_rule_deleted", "low"),
    ("rule added", event("PutConfigRule", "config.amazonaws.com", requestParameters={"configRule": {"configRuleName": "r"}}),
     "config_rule_deleted", None),
    # vpc_flow_logs_deleted
    ("two flow logs deleted", event("DeleteFlowLogs", "ec2.amazonaws.com", requestParameters={"DeleteFlowLogsRequest": {
        "FlowLogId": [{"content": "fl-0aaa", "tag": 1}, {"content": "fl-0bbb", "tag": 2}]}}), "vpc_flow_logs_deleted", "medium"),
    ("flow log created", event("CreateFlowLogs", "ec2.amazonaws.com", requestParameters={"CreateFlowLogsRequest": {}}),
     "vpc_flow_logs_deleted", None),
    # dns_query_logging_deleted
    ("query logging detached from a VPC", event("DisassociateResolverQueryLogConfig", "route53resolver.amazonaws.com",
                                                requestParameters={"resolverQueryLogConfigId": "rqlc-1",
                                                                   "resourceId": "vpc-0abc"}),
     "dns_query_logging_deleted", "medium"),
    ("query logging attached", event("AssociateResolverQueryLogConfig", "route53resolver.amazonaws.com",
                                     requestParameters={"resolverQueryLogConfigId": "rqlc-1", "resourceId": "vpc-0abc"}),
     "dns_query_logging_deleted", None),
    # cloudwatch_logs_deleted
    ("log group deleted", event("DeleteLogGroup", "logs.amazonaws.com", requestParameters={"logGroupName": "CloudTrail/main"}),
     "cloudwatch_logs_deleted", "medium"),
    ("subscription to the SIEM deleted", event("DeleteSubscriptionFilter", "logs.amazonaws.com", requestParameters={
        "logGroupName": "CloudTrail/main", "filterName": "to-siem"}), "cloudwatch_logs_deleted", "medium"),
    ("log stream deleted", event("DeleteLogStream", "logs.amazonaws.com", requestParameters={
        "logGroupName": "app", "logStreamName": "i-0abc"}), "cloudwatch_logs_deleted", "low"),
    ("another stream of the same group", event("DeleteLogStream", "logs.amazonaws.com", at(7), requestParameters={
        "logGroupName": "app", "logStreamName": "i-0def"}), "cloudwatch_logs_deleted", "low"),
    ("log group deleted by CloudFormation", event("DeleteLogGroup", "logs.amazonaws.com", identity={
        "type": "AssumedRole", "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Deploy/cfn", "accountId": ACCOUNT,
        "invokedBy": "cloudformation.amazonaws.com"}, requestParameters={"logGroupName": "/aws/lambda/fn"}),
     "cloudwatch_logs_deleted", "low"),
    ("retention cut to 1 day", event("PutRetentionPolicy", "logs.amazonaws.com", requestParameters={
        "logGroupName": "CloudTrail/main", "retentionInDays": 1}), "cloudwatch_logs_deleted", "low"),
    ("retention of 30 days", event("PutRetentionPolicy", "logs.amazonaws.com", requestParameters={
        "logGroupName": "app", "retentionInDays": 30}), "cloudwatch_logs_deleted", None),
    ("log group created", event("CreateLogGroup", "logs.amazonaws.com", requestParameters={"logGroupName": "app"}),
     "cloudwatch_logs_deleted", None),
    # cloudwatch_alarms_deleted
    ("three alarms deleted", event("DeleteAlarms", "monitoring.amazonaws.com", requestParameters={
        "alarmNames": ["root-login", "trail-changed", "billing"]}), "cloudwatch_alarms_deleted", "medium"),
    ("alarm actions disabled", event("DisableAlarmActions", "monitoring.amazonaws.com", requestParameters={
        "alarmNames": ["root-login"]}), "cloudwatch_alarms_deleted", "medium"),
    ("alarm actions enabled", event("EnableAlarmActions", "monitoring.amazonaws.com", requestParameters={
        "alarmNames": ["root-login"]}), "cloudwatch_alarms_deleted", None),
    # s3_access_logging_disabled
    ("access logging off", event("PutBucketLogging", S3, requestParameters={
        "bucketName": "data", "logging": "", "BucketLoggingStatus": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}}),
     "s3_access_logging_disabled", "medium"),
    ("access logging off on a trail bucket", event("PutBucketLogging", S3, requestParameters={
        "bucketName": "corp-ct-store", "logging": "", "BucketLoggingStatus": {}}), "s3_access_logging_disabled", "high"),
    ("access logging on", event("PutBucketLogging", S3, requestParameters={
        "bucketName": "data", "BucketLoggingStatus": {"LoggingEnabled": {"TargetBucket": "logs", "TargetPrefix": "data/"}}}),
     "s3_access_logging_disabled", None),
    # securityhub_disabled
    ("Security Hub disabled", event("DisableSecurityHub", "securityhub.amazonaws.com"), "securityhub_disabled", "high"),
    ("a standard disabled", event("BatchDisableStandards", "securityhub.amazonaws.com", requestParameters={
        "StandardsSubscriptionArns": ["arn:aws:securityhub:us-east-1:111122223333:subscription/cis/1.2.0"]}),
     "securityhub_disabled", "medium"),
    ("a control disabled", event("UpdateStandardsControl", "securityhub.amazonaws.com", requestParameters={
        "StandardsControlArn": "arn:aws:securityhub:us-east-1:111122223333:control/cis/1.2.0/1.1",
        "ControlStatus": "DISABLED", "DisabledReason": "n/a"}), "securityhub_disabled", "low"),
    ("a control enabled", event("UpdateStandardsControl", "securityhub.amazonaws.com", requestParameters={
        "StandardsControlArn": "arn:aws:securityhub:us-east-1:111122223333:control/cis/1.2.0/1.1",
        "ControlStatus": "ENABLED"}), "securityhub_disabled", None),
    # securityhub_findings_suppressed
    ("two findings suppressed", event("BatchUpdateFindings", "securityhub.amazonaws.com", requestParameters={
        "FindingIdentifiers": [{"Id": "f1", "ProductArn": "p"}, {"Id": "f2", "ProductArn": "p"}],
        "Workflow": {"Status": "SUPPRESSED"}}), "securityhub_findings_suppressed", "medium"),
    ("automation rule that suppresses", event("CreateAutomationRule", "securityhub.amazonaws.com", requestParameters={
        "RuleName": "quiet", "RuleStatus": "ENABLED", "Actions": [{"Type": "FINDING_FIELDS_UPDATE",
                                                                 "FindingFieldsUpdate": {"Workflow": {"Status": "SUPPRESSED"}}}]}),
     "securityhub_findings_suppressed", "medium"),
    ("findings archived (old API)", event("UpdateFindings", "securityhub.amazonaws.com", requestParameters={
        "Filters": {}, "RecordState": "ARCHIVED"}), "securityhub_findings_suppressed", "medium"),
    ("findings marked notified", event("BatchUpdateFindings", "securityhub.amazonaws.com", requestParameters={
        "FindingIdentifiers": [{"Id": "f1", "ProductArn": "p"}], "Workflow": {"Status": "NOTIFIED"}}),
     "securityhub_findings_suppressed", None),
    ("findings resolved by an AWS service", event("BatchUpdateFindings", "securityhub.amazonaws.com", identity=SERVICE,
                                                  requestParameters={"FindingIdentifiers": [{"Id": "f1", "ProductArn": "p"}],
                                                                     "Workflow": {"Status": "RESOLVED"}}),
     "securityhub_findings_suppressed", None),
    ("automation rule that notifies", event("CreateAutomationRule", "securityhub.amazonaws.com", requestParameters={
        "RuleName": "tag", "Actions": [{"Type": "FINDING_FIELDS_UPDATE",
                                        "FindingFieldsUpdate": {"Workflow": {"Status": "NOTIFIED"}}}]}),
     "securityhub_findings_suppressed", None),
    # macie_disabled
    ("Macie disabled", event("DisableMacie", "macie2.amazonaws.com"), "macie_disabled", "high"),
    ("Macie paused", event("UpdateMacieSession", "macie2.amazonaws.com", requestParameters={"status": "PAUSED"}),
     "macie_disabled", "high"),
    ("Macie findings filter that archives", event("CreateFindingsFilter", "macie2.amazonaws.com", requestParameters={
        "name": "quiet", "action": "ARCHIVE", "findingCriteria": {}}), "macie_disabled", "medium"),
    ("Macie findings filter that only saves a view", event("CreateFindingsFilter", "macie2.amazonaws.com",
                                                           requestParameters={"name": "view", "action": "NOOP"}),
     "macie_disabled", None),
    # account_left_organization
    ("account leaves the organization", event("LeaveOrganization", "organizations.amazonaws.com"),
     "account_left_organization", "high"),
    ("account removed by the management account", event("RemoveAccountFromOrganization", "organizations.amazonaws.com",
                                                         requestParameters={"accountId": OTHER_ACCOUNT}),
     "account_left_organization", "medium"),
    ("organization described", event("DescribeOrganization", "organizations.amazonaws.com"),
     "account_left_organization", None),
    # cloudtrail_request_parameters_omitted
    ("IAM policy too large to log", event("PutRolePolicy", "iam.amazonaws.com", requestParameters={
        "omitted": True, "originalSize": 110000, "reason": "requestParameters too large"}),
     "cloudtrail_request_parameters_omitted", "high"),
    ("Glue table too large to log (string flag)", event("CreateTable", "glue.amazonaws.com", requestParameters={
        "omitted": "true", "originalSize": "149893", "reason": "requestParameters too large"}),
     "cloudtrail_request_parameters_omitted", "medium"),
    ("the word omitted in a normal request", event("CreateRole", "iam.amazonaws.com", requestParameters={
        "roleName": "r", "description": "omitted: nothing"}), "cloudtrail_request_parameters_omitted", None),
]


@pytest.fixture(scope="module")
def shared_case(tmp_path_factory):
    records = [record for _, record, _, _ in CASES]
    return detect(build_case(tmp_path_factory.mktemp("cases"), records), "defense_evasion")


@pytest.mark.parametrize("name, record, detection_id, severity", CASES, ids=[case[0] for case in CASES])
def test_each_case(shared_case, name, record, detection_id, severity):
    findings = [f for f in shared_case[detection_id] if record["eventID"] in f["event_ids"]]
    if severity is None:
        assert findings == []
        return
    assert len(findings) == 1, f"{name}: expected one finding from {detection_id}"
    assert findings[0]["severity"] == severity
    assert findings[0]["error_code"] == record.get("errorCode")
    assert findings[0]["summary"]


def test_one_finding_per_event_with_every_item_listed(shared_case):
    flow = next(f for f in shared_case["vpc_flow_logs_deleted"] if f["resource"] == "fl-0aaa, fl-0bbb")
    assert "fl-0aaa, fl-0bbb" in flow["summary"]
    alarms = shared_case["cloudwatch_alarms_deleted"]
    assert any(f["details"]["alarm_names"] == ["root-login", "trail-changed", "billing"] for f in alarms)
    streams = next(f for f in shared_case["cloudwatch_logs_deleted"] if f["event_name"] == "DeleteLogStream")
    assert len(streams["event_ids"]) == 2 and streams["summary"] == "DeleteLogStream: 2 stream(s) of app"
    assert sorted(streams["details"]["log_streams"]) == ["i-0abc", "i-0def"]
    suppressed = next(f for f in shared_case["securityhub_findings_suppressed"] if f["event_name"] == "BatchUpdateFindings")
    assert suppressed["summary"] == "2 finding(s) set to SUPPRESSED"


def test_update_trail_summary_names_old_and_new_values(shared_case):
    by_resource = {f["resource"]: f for f in shared_case["cloudtrail_trail_updated_to_log_less"]}
    assert "log files now go to bucket elsewhere-bucket (was corp-audit-1)" in by_resource["t-console"]["summary"]
    assert by_resource["t-console"]["details"]["earlier_config_known"] is True
    assert "earlier value not in the data" in by_resource["t-unknown"]["summary"]
    assert "failed" not in by_resource["t-denied"]["summary"] and by_resource["t-denied"]["summary"].startswith("attempt, ")


def test_trail_history_before_the_window_is_used(tmp_path):
    """A console update inside the window is compared with the trail's creation before it."""
    records = [create_trail("main", "corp-audit", time="2026-10-01T09:00:00Z"),
               console_update("main", "corp-audit", time="2026-11-02T09:00:00Z", global_events=False),
               console_update("main", "corp-audit", time="2026-11-02T09:30:00Z", global_events=False)]
    db = build_case(tmp_path, records)
    found = detect(db, "defense_evasion", since=dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc))
    rows = found["cloudtrail_trail_updated_to_log_less"]
    # The second update changes nothing: global events were already off after the first.
    assert [f["event_id"] for f in rows] == [records[1]["eventID"]]
    assert rows[0]["severity"] == "high"


def test_short_retention_setting_is_read_from_the_environment(tmp_path, monkeypatch):
    records = [lifecycle("acme-logs", days=30),
               event("PutRetentionPolicy", "logs.amazonaws.com", requestParameters={"logGroupName": "app", "retentionInDays": 30})]
    db = build_case(tmp_path, records)
    assert detect(db, "defense_evasion")["cloudtrail_bucket_lifecycle_shortened"] == []
    monkeypatch.setenv("CLOUDTRAIL_SHORT_RETENTION_DAYS", "60")
    found = detect(db, "defense_evasion")
    assert fired_ids(found, "cloudtrail_bucket_lifecycle_shortened") == {records[0]["eventID"]}
    assert fired_ids(found, "cloudwatch_logs_deleted") == {records[1]["eventID"]}


STRATUS_TECHNIQUES = {
    "aws.defense-evasion.cloudtrail-stop": "cloudtrail_logging_stopped",
    "aws.defense-evasion.cloudtrail-delete": "cloudtrail_trail_deleted",
    "aws.defense-evasion.cloudtrail-event-selectors": "cloudtrail_event_selectors_narrowed",
    "aws.defense-evasion.dns-delete-logs": "dns_query_logging_deleted",
    "aws.defense-evasion.vpc-remove-flow-logs": "vpc_flow_logs_deleted",
    "aws.defense-evasion.organizations-leave": "account_left_organization",
}


@needs_shared_data
def test_stratus_red_team_detonations_fire_and_nothing_else_does(tmp_path):
    labels = labelled_records("stratus-red-team/labels.jsonl")
    records = []
    for path in sorted((SHARED_DATA / "stratus-red-team" / "s3").rglob("*.json.gz")):
        records += orjson.loads(gzip.decompress(path.read_bytes()))["Records"]
    found = detect(build_case(tmp_path, records), "defense_evasion")
    for technique, detection_id in STRATUS_TECHNIQUES.items():
        # organizations-leave also labels the AssumeRole calls that set it up
        expected = {row["eventID"] for row in labels if row["technique"] == technique and row["eventName"] != "AssumeRole"}
        assert expected and fired_ids(found, detection_id) == expected, technique
    evasion_ids = {row["eventID"] for row in labels if row["technique"].startswith("aws.defense-evasion.")}
    everything = {event_id for findings in found.values() for f in findings for event_id in f["event_ids"]}
    assert everything <= evasion_ids


TRAILDISCOVER = {  # (eventSource, eventName) of TrailDiscover's denied calls -> detection that must report them
    (CT, "DeleteTrail"): "cloudtrail_trail_deleted",
    (CT, "StopLogging"): "cloudtrail_logging_stopped",
    (CT, "UpdateTrail"): "cloudtrail_trail_updated_to_log_less",
    ("monitoring.amazonaws.com", "DeleteAlarms"): "cloudwatch_alarms_deleted",
    ("logs.amazonaws.com", "DeleteLogGroup"): "cloudwatch_logs_deleted",
    ("logs.amazonaws.com", "DeleteLogStream"): "cloudwatch_logs_deleted",
    ("config.amazonaws.com", "DeleteConfigRule"): "config_rule_deleted",
    ("config.amazonaws.com", "DeleteConfigurationRecorder"): "config_recorder_stopped",
    ("config.amazonaws.com", "DeleteDeliveryChannel"): "config_recorder_stopped",
    ("config.amazonaws.com", "StopConfigurationRecorder"): "config_recorder_stopped",
    ("ec2.amazonaws.com", "DeleteFlowLogs"): "vpc_flow_logs_deleted",
    (GD, "CreateIPSet"): "guardduty_ip_list_changed",
    (GD, "DeleteDetector"): "guardduty_detector_disabled",
    (GD, "DeleteInvitations"): "guardduty_members_disassociated",
    (GD, "DeleteMembers"): "guardduty_members_disassociated",
    (GD, "DisassociateFromMasterAccount"): "guardduty_members_disassociated",
    (GD, "DisassociateMembers"): "guardduty_members_disassociated",
    (GD, "StopMonitoringMembers"): "guardduty_members_disassociated",
    ("organizations.amazonaws.com", "LeaveOrganization"): "account_left_organization",
    ("securityhub.amazonaws.com", "DeleteMembers"): "securityhub_disabled",
}


@needs_shared_data
def test_traildiscover_denied_calls_are_reported_as_attempts(tmp_path):
    records = [row["event"] for row in labelled_records("traildiscover/labelled_events.jsonl")]
    found = detect(build_case(tmp_path, records), "defense_evasion")
    for record in records:
        key = (record["eventSource"], record["eventName"])
        fired = {d for d, findings in found.items() for f in findings if record["eventID"] in f["event_ids"]}
        assert fired == ({TRAILDISCOVER[key]} if key in TRAILDISCOVER else set()), key
    # UpdateDetector asking for enable=true, denied, is not an attempt to disable anything.
    assert not any(f["event_name"] == "UpdateDetector" for f in found["guardduty_detector_disabled"])
    assert all(f["error_code"] for findings in found.values() for f in findings)


def test_script_writes_report_charts_and_findings(tmp_path, capsys):
    records = [event("StopLogging", CT, at(0), requestParameters={"name": "main"}),
               denied(event("DeleteDetector", GD, at(5), "role:Intruder/x", requestParameters={"detectorId": "d1"})),
               lifecycle("acme-cloudtrail-logs", time=at(9)),
               event("DescribeTrails", CT, at(12)),
               # A second StopLogging: with one call of each kind the bars would all be the same length,
               # and such a chart is not drawn (charts.worth_drawing).
               event("StopLogging", CT, at(15), requestParameters={"name": "audit"})]
    db = build_case(tmp_path, records)
    assert evasion.main(["analyze_defense_evasion.py", str(db), "2026-11-02", "2026-11-02"]) == 0
    printed = capsys.readouterr().out
    report = next((tmp_path / "reports").glob("defense_evasion_report-*.md"))
    text = report.read_text()
    assert str(report) in printed
    for detection_id in ("cloudtrail_logging_stopped", "guardduty_detector_disabled", "cloudtrail_bucket_lifecycle_shortened"):
        assert detection_id in text
    assert "failed: AccessDenied" in text
    for chart in ("activity", "calls_by_service", "findings_by_actor"):
        assert list((tmp_path / "reports").glob(f"defense_evasion_{chart}-*.png")), chart
    assert stored(db, "select count(*) from defense_evasion_calls")[0][0] == 4
    assert stored(db, "select distinct detector from findings") == [("defense_evasion",)]
    count = stored(db, "select count(*) from findings")[0][0]
    assert count == 4
    # A rerun replaces the detector's findings instead of adding to them.
    assert evasion.main(["analyze_defense_evasion.py", str(db)]) == 0
    assert stored(db, "select count(*) from findings")[0][0] == count


def test_bad_window_is_a_usage_error(tmp_path, capsys):
    db = build_case(tmp_path, [event("StopLogging", CT)])
    assert evasion.main(["analyze_defense_evasion.py", str(db), "last tuesday"]) == 2
    assert "cannot read 'last tuesday'" in capsys.readouterr().err


def test_adding_cloudwatch_delivery_and_settings_given_at_creation_are_not_logging_less(tmp_path):
    """Issue 12: root creating a trail from the console, the console setting its Insights to []
    in the same second, and root later adding CloudWatch Logs delivery: none of it records less.
    Removing delivery, moving it away, or turning Insights off later still count."""
    root_console = CONSOLE | {"userAgent": "AWS Internal"}
    arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/lab-trail"
    create = event("CreateTrail", CT, at(0), "root", requestParameters={"name": "lab-trail", "s3BucketName": "lab-ct"},
                   responseElements=trail_settings("lab-trail", "lab-ct"), **root_console)
    insights_at_creation = event("PutInsightSelectors", CT, at(0), "root", requestParameters={
        "trailName": arn, "insightSelectors": []}, **root_console)
    log_group = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:aws-cloudtrail-logs:*"
    add_delivery = console_update("lab-trail", "lab-ct", time=at(5), cloudWatchLogsLogGroupArn=log_group)
    add_delivery["requestParameters"]["cloudWatchLogsLogGroupArn"] = log_group
    add_delivery["responseElements"]["cloudWatchLogsLogGroupArn"] = log_group
    cli_add = cli_update("other-trail", time=at(5), cloudWatchLogsLogGroupArn=log_group)
    move = cli_update("lab-trail", time=at(10), cloudWatchLogsLogGroupArn=log_group.replace("aws-cloudtrail-logs", "quiet"))
    move["responseElements"]["cloudWatchLogsLogGroupArn"] = log_group.replace("aws-cloudtrail-logs", "quiet")
    remove = cli_update("lab-trail", time=at(15), cloudWatchLogsLogGroupArn="")
    insights_later = event("PutInsightSelectors", CT, at(20), "root", requestParameters={
        "trailName": arn, "insightSelectors": []})
    found = detect(build_case(tmp_path, [create, insights_at_creation, add_delivery, cli_add, move, remove,
                                         insights_later]), "defense_evasion")
    less = {f["event_id"]: f for f in found["cloudtrail_trail_updated_to_log_less"]}
    assert set(less) == {move["eventID"], remove["eventID"]}
    assert "moved to" in less[move["eventID"]]["summary"] and less[move["eventID"]]["severity"] == "low"
    assert "delivery to CloudWatch Logs removed" in less[remove["eventID"]]["summary"]
    narrowed = [f["event_id"] for f in found["cloudtrail_event_selectors_narrowed"]]
    assert narrowed == [insights_later["eventID"]]
