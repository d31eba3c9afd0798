"""Panther rules that claim what analyze_defense_evasion.py detects (see panther_agreement.py)."""

MAPPING = {
    "AWS.CloudTrail.Stopped": ("analyze_defense_evasion", "cloudtrail_logging_stopped"),
    "AWS.CloudTrail.SecurityConfigurationChange": ("analyze_defense_evasion", "cloudtrail_trail_deleted"),
    "AWS.CloudTrail.EventSelectorsDisabled": ("analyze_defense_evasion", "cloudtrail_event_selectors_narrowed"),
    "AWS.CloudTrail.ShortLifecycle": ("analyze_defense_evasion", "cloudtrail_bucket_lifecycle_shortened"),
    "AWS.CloudTrail.DNSLogsDeleted": ("analyze_defense_evasion", "dns_query_logging_deleted"),
    "AWS.VPCFlow.LogsDeleted": ("analyze_defense_evasion", "vpc_flow_logs_deleted"),
    "AWS.ConfigService.DisabledDeleted": ("analyze_defense_evasion", "config_recorder_stopped"),
    "AWS.IPSet.Modified": ("analyze_defense_evasion", "guardduty_ip_list_changed"),
    "AWS.CloudTrail.AttemptToLeaveOrg": ("analyze_defense_evasion", "account_left_organization"),
    "AWS.S3.DisableBucketLogging": ("analyze_defense_evasion", "s3_access_logging_disabled"),
    "AWS.SecurityHub.Finding.Evasion": ("analyze_defense_evasion", "securityhub_findings_suppressed"),
    "AWS.Macie.Evasion": ("analyze_defense_evasion", "macie_disabled"),
}

_FAILED_CALL = "reported as a failed attempt (marked failed), as every failed call is"
_LOWERCASE_KEYS = ("Panther's record spells the keys in lower case (eventname, eventsource), which AWS never "
                   "writes, so it has no eventName; real CreateIPSet/UpdateIPSet records fire")

DIFFERENCES = {
    ("AWS.CloudTrail.Stopped", "Error Stopping CloudTrail"): _FAILED_CALL,
    ("AWS.CloudTrail.SecurityConfigurationChange", "Security Configuration Not Changed - Error"): _FAILED_CALL,
    ("AWS.ConfigService.DisabledDeleted", "Error Deleting Config Recorder"): _FAILED_CALL,
    ("AWS.S3.DisableBucketLogging", "Bucket Logging Disabled - Failed"): _FAILED_CALL,
    ("AWS.IPSet.Modified", "CreateIPSet Event"): _LOWERCASE_KEYS,
    ("AWS.IPSet.Modified", "UpdateIPSet"): _LOWERCASE_KEYS,
}
