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

thresholds (environment variables):
  CLOUDTRAIL_SHORT_RETENTION_DAYS  log retention shorter than this many days counts as shortened:
                                   S3 lifecycle expiry on log buckets, CloudWatch log group retention (default 7)
"""
import sys

import casedb
import charts
import common
import detections
from detections import Area, Detection, Setting

# Shared knowledge, read from all loaded events (not only the window): what happened before
# the window tells which buckets hold CloudTrail logs and how a trail was set up before it
# was changed.
SETUP_SQL = """
-- The calls that can switch off or narrow logging and detection, inside the run's window.
create or replace view defense_evasion_calls as
select *
from scoped_events
where (event_source = 'cloudtrail.amazonaws.com'
       and event_name in ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors', 'PutInsightSelectors',
                          'StopEventDataStoreIngestion', 'DeleteEventDataStore'))
   or (event_source = 's3.amazonaws.com'
       and event_name in ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration', 'PutBucketLogging'))
   or (event_source = 'guardduty.amazonaws.com'
       and event_name in ('DeleteDetector', 'UpdateDetector', 'CreateIPSet', 'UpdateIPSet', 'CreateThreatIntelSet',
                          'UpdateThreatIntelSet', 'DeleteThreatIntelSet', 'DisassociateFromAdministratorAccount',
                          'DisassociateFromMasterAccount', 'DisassociateMembers', 'DeleteMembers',
                          'StopMonitoringMembers', 'DeleteInvitations', 'CreateFilter', 'UpdateFilter',
                          'ArchiveFindings'))
   or (event_source = 'config.amazonaws.com'
       and event_name in ('StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'DeleteDeliveryChannel',
                          'DeleteConfigRule', 'DeleteConformancePack', 'DeleteOrganizationConfigRule',
                          'DeleteOrganizationConformancePack'))
   or (event_source = 'ec2.amazonaws.com'
       and event_name = 'DeleteFlowLogs')
   or (event_source = 'route53resolver.amazonaws.com'
       and event_name in ('DeleteResolverQueryLogConfig', 'DisassociateResolverQueryLogConfig'))
   or (event_source = 'logs.amazonaws.com'
       and event_name in ('DeleteLogGroup', 'DeleteLogStream', 'DeleteSubscriptionFilter', 'PutRetentionPolicy'))
   or (event_source = 'monitoring.amazonaws.com'
       and event_name in ('DeleteAlarms', 'DisableAlarmActions'))
   or (event_source = 'securityhub.amazonaws.com'
       and event_name in ('DisableSecurityHub', 'BatchDisableStandards', 'UpdateStandardsControl',
                          'BatchUpdateStandardsControlAssociations', 'DisableImportFindingsForProduct',
                          'DisassociateFromAdministratorAccount', 'DisassociateFromMasterAccount',
                          'DisassociateMembers', 'DeleteMembers', 'BatchUpdateFindings', 'UpdateFindings',
                          'DeleteInsight', 'UpdateInsight', 'CreateAutomationRule', 'BatchUpdateAutomationRules'))
   or (event_source in ('macie2.amazonaws.com', 'macie.amazonaws.com')
       and event_name in ('DisableMacie', 'UpdateMacieSession', 'UpdateMemberSession', 'DisableOrganizationAdminAccount',
                          'DisassociateFromAdministratorAccount', 'DisassociateFromMasterAccount', 'DisassociateMember',
                          'DeleteMember', 'CreateFindingsFilter', 'UpdateFindingsFilter', 'ArchiveFindings',
                          'UpdateClassificationJob'))
   or (event_source = 'organizations.amazonaws.com'
       and event_name in ('LeaveOrganization', 'RemoveAccountFromOrganization'));

-- What a denied call was aimed at, from its error message ("... on resource: ARN because ...");
-- denied calls often carry no request parameters. GuardDuty puts the message in responseElements.
create or replace macro evasion_denied_target(error_message, response_elements) as
    nullif(regexp_extract(coalesce(error_message, response_elements->>'$.message'), 'on resource: ([^ ]+)', 1), '');

-- Buckets known to receive CloudTrail logs: named in a trail's settings, written to by the
-- CloudTrail service (it checks the bucket ACL before each delivery), or given a bucket
-- policy that lets cloudtrail.amazonaws.com write.
create or replace view evasion_trail_buckets as
select
    bucket,
    min(how) as how
from (
    select
        coalesce(response_elements->>'$.s3BucketName', request_parameters->>'$.s3BucketName') as bucket,
        concat('named by ', event_name, ' of trail ', request_parameters->>'$.name') as how
    from events
    where event_source = 'cloudtrail.amazonaws.com'
      and event_name in ('CreateTrail', 'UpdateTrail')
      and error_code is null
    union all
    select
        request_parameters->>'$.bucketName' as bucket,
        concat('accessed by the CloudTrail service (', event_name, ')') as how
    from events
    where event_source = 's3.amazonaws.com'
      and (source_ip = 'cloudtrail.amazonaws.com' or invoked_by = 'cloudtrail.amazonaws.com')
    union all
    select
        request_parameters->>'$.bucketName' as bucket,
        'its bucket policy lets cloudtrail.amazonaws.com write' as how
    from events
    where event_source = 's3.amazonaws.com'
      and event_name = 'PutBucketPolicy'
      and error_code is null
      and contains(request_parameters::varchar, 'cloudtrail.amazonaws.com')
)
where coalesce(bucket, '') <> ''
group by bucket;

-- Each trail's settings after every successful CreateTrail / UpdateTrail (the response
-- carries the whole resulting configuration), so an update can be compared with the one
-- before it.
create or replace view evasion_trail_configs as
select
    recipient_account_id,
    regexp_extract(coalesce(response_elements->>'$.trailARN', response_elements->>'$.name'), '([^/]+)$', 1) as trail_name,
    event_time,
    event_id,
    response_elements->>'$.s3BucketName' as s3_bucket,
    response_elements->>'$.s3KeyPrefix' as s3_prefix,
    response_elements->>'$.isMultiRegionTrail' as multi_region,
    response_elements->>'$.includeGlobalServiceEvents' as global_events,
    response_elements->>'$.isOrganizationTrail' as organization_trail,
    response_elements->>'$.logFileValidationEnabled' as log_validation,
    response_elements->>'$.kmsKeyId' as kms_key,
    response_elements->>'$.cloudWatchLogsLogGroupArn' as log_group
from events
where event_source = 'cloudtrail.amazonaws.com'
  and event_name in ('CreateTrail', 'UpdateTrail')
  and error_code is null
  and response_elements is not null;

-- When each trail was created. Settings given to a trail within a minute of its creation
-- (the console and templates create a trail, then set its selectors and Insights) are its
-- configuration, not a change to a trail that was recording.
create or replace view evasion_trail_created as
select
    recipient_account_id,
    regexp_extract(coalesce(response_elements->>'$.trailARN', response_elements->>'$.name',
                            request_parameters->>'$.name'), '([^/]+)$', 1) as trail_name,
    event_time
from events
where event_source = 'cloudtrail.amazonaws.com'
  and event_name = 'CreateTrail'
  and error_code is null;
"""

SETTINGS = (
    Setting("short_retention_days", "CLOUDTRAIL_SHORT_RETENTION_DAYS", 7,
            "Log retention shorter than this many days counts as shortened"),
)

AREA = Area(
    name="defense_evasion",
    title="Defense evasion report",
    tool="analyze_defense_evasion.py",
    activity_sql="""
        select
            date_trunc('minute', event_time) as minute,
            count(*) filter (where error_code is null) as succeeded,
            count(*) filter (where error_code is not null) as failed
        from defense_evasion_calls
        where event_time is not null
        group by minute
    """,
    activity_title="Calls that can switch off or narrow logging and detection",
    setup_sql=SETUP_SQL,
    settings=SETTINGS,
    notes=(
        "Failed calls are reported as attempts. Someone trying to stop a trail or delete a detector "
        "without the permission to do so is evidence of intent.",
        "UpdateTrail: the CloudTrail console and CloudFormation send every trail setting on each "
        "save, the CLI and SDKs only the ones being changed. A setting therefore counts as changed "
        "when it differs from the trail's configuration before the call (taken from earlier "
        "CreateTrail/UpdateTrail responses in the loaded data), or, when that is not in the data, "
        "when a CLI or SDK caller sent it. A console save that sends isMultiRegionTrail or "
        "includeGlobalServiceEvents false with no earlier configuration to compare is reported as low.",
        "Settings given to a trail within a minute of its CreateTrail (the console and templates create a "
        "trail, then set its selectors and Insights) are its configuration, not a change, and are not "
        "reported. Adding CloudWatch Logs delivery, or encrypting a trail that had no key with a key of "
        "the same account, records and keeps as much as before and is not reported either; removing "
        "delivery, or moving it away from a log group the data shows, is.",
        "A bucket counts as a CloudTrail bucket when the loaded data shows it in a trail's settings, "
        "shows the CloudTrail service accessing it, or shows a bucket policy that lets "
        "cloudtrail.amazonaws.com write to it. Otherwise only a name that suggests logs (trail, "
        "log(s), logging, audit) makes a short lifecycle rule count, at lower severity. Load older "
        "logs (the trail's creation) to make this more certain.",
        "The activity chart counts calls to the APIs these detections read. The check for request "
        "parameters that CloudTrail omitted as too large reads every service and is not in the chart.",
    ),
)

DETECTIONS = [
    Detection(
        id="cloudtrail_logging_stopped",
        title="CloudTrail logging stopped",
        severity="high",
        mitre=("T1562.008",),
        description="Detects StopLogging on a trail and StopEventDataStoreIngestion on a CloudTrail Lake "
                    "event data store. While a trail is stopped no API call in the account is "
                    "recorded, so attackers stop it before the actions they want to hide.",
        false_positives="Planned maintenance or a trail being retired (usually followed by DeleteTrail "
                        "or StartLogging from a known administrator).",
        triage=("Check whether logging was started again (StartLogging) and how long the gap lasted: "
                "`select event_time, event_name, actor from events where event_name in ('StartLogging', 'StopLogging') order by event_time`.",
                "Confirm with the trail's owner that the caller was allowed to stop it.",
                "Review what the same actor did during and just before the gap; other trails, "
                "Config or GuardDuty may still show it."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(request_parameters->>'$.name', request_parameters->>'$.eventDataStore',
                         evasion_denied_target(error_message, response_elements)) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                null as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                concat(event_name, ' on ', coalesce(request_parameters->>'$.name', request_parameters->>'$.eventDataStore',
                       evasion_denied_target(error_message, response_elements), '(not recorded)')) as summary,
                {'user_agent': user_agent, 'error_message': error_message} as details
            from scoped_events
            where event_source = 'cloudtrail.amazonaws.com'
              and event_name in ('StopLogging', 'StopEventDataStoreIngestion')
        """,
    ),
    Detection(
        id="cloudtrail_trail_deleted",
        title="CloudTrail trail or event data store deleted",
        severity="high",
        mitre=("T1562.008",),
        description="Detects DeleteTrail and DeleteEventDataStore. Deleting the trail ends the "
                    "account's record of API calls from that moment on; attackers delete it to "
                    "act unrecorded.",
        false_positives="Trails replaced during a logging redesign, or removed when a test account "
                        "is torn down (often by CloudFormation or Terraform).",
        triage=("Check that another trail (an organization trail, another region) still records the account.",
                "Ask the trail's owner whether the deletion was planned; check the caller's other "
                "calls around that time.",
                "Recreate the trail and look for activity during the gap in other sources."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(request_parameters->>'$.name', request_parameters->>'$.eventDataStore',
                         evasion_denied_target(error_message, response_elements)) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                null as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                concat(event_name, ' on ', coalesce(request_parameters->>'$.name', request_parameters->>'$.eventDataStore',
                       evasion_denied_target(error_message, response_elements), '(not recorded)')) as summary,
                {'user_agent': user_agent, 'invoked_by': invoked_by, 'error_message': error_message} as details
            from scoped_events
            where event_source = 'cloudtrail.amazonaws.com'
              and event_name in ('DeleteTrail', 'DeleteEventDataStore')
        """,
    ),
    Detection(
        id="cloudtrail_trail_updated_to_log_less",
        title="CloudTrail trail changed to record or keep less",
        severity="high",
        mitre=("T1562.008",),
        description="Detects UpdateTrail calls that weaken a trail: log files sent to a different "
                    "bucket, the trail limited to one region, global service events (IAM, STS) or "
                    "organization coverage turned off, log file validation off, the KMS key removed "
                    "or replaced (high when the new key belongs to another account), CloudWatch Logs "
                    "delivery removed. Only settings that actually changed count (see Notes on the "
                    "console). Denied UpdateTrail calls whose parameters were not recorded are "
                    "reported as low.",
        false_positives="Logging redesigns (a new central log bucket, a new KMS key) by the team that "
                        "owns the trails.",
        triage=("Read the summary: it lists each weakened setting with its old value where the data has it.",
                "If the bucket or KMS key changed, check who owns the new one (another account?) and "
                "whether log files still arrive where the security team reads them.",
                "Restore the settings and review the caller's other activity."),
        sql="""
            with updates as (
                select
                    *,
                    regexp_extract(request_parameters->>'$.name', '([^/]+)$', 1) as trail_name,
                    -- the console, and CloudFormation applying a template, send every setting
                    coalesce(session_credential_from_console, false)
                        or coalesce(user_agent in ('console.amazonaws.com', 'signin.amazonaws.com', 'AWS Internal'), false)
                        or coalesce(user_agent like 'Mozilla/%', false)
                        or coalesce(invoked_by = 'cloudformation.amazonaws.com', false) as from_console
                from scoped_events
                where event_source = 'cloudtrail.amazonaws.com'
                  and event_name = 'UpdateTrail'
            ),
            compared as (
                -- new_*: the setting after the call (the response when it succeeded, else what
                -- was asked); was_*: the setting before it; sent_*: the caller sent it.
                select
                    u.*,
                    c.event_id is not null as prior_known,
                    c.event_id as prior_event_id,
                    u.request_parameters->>'$.s3BucketName' is not null as sent_bucket,
                    coalesce(u.response_elements->>'$.s3BucketName', u.request_parameters->>'$.s3BucketName') as new_bucket,
                    c.s3_bucket as was_bucket,
                    u.request_parameters->>'$.s3KeyPrefix' is not null as sent_prefix,
                    coalesce(u.response_elements->>'$.s3KeyPrefix', u.request_parameters->>'$.s3KeyPrefix') as new_prefix,
                    c.s3_prefix as was_prefix,
                    u.request_parameters->>'$.isMultiRegionTrail' is not null as sent_multi_region,
                    coalesce(u.response_elements->>'$.isMultiRegionTrail', u.request_parameters->>'$.isMultiRegionTrail') as new_multi_region,
                    c.multi_region as was_multi_region,
                    u.request_parameters->>'$.includeGlobalServiceEvents' is not null as sent_global,
                    coalesce(u.response_elements->>'$.includeGlobalServiceEvents', u.request_parameters->>'$.includeGlobalServiceEvents') as new_global,
                    c.global_events as was_global,
                    u.request_parameters->>'$.isOrganizationTrail' is not null as sent_organization,
                    coalesce(u.response_elements->>'$.isOrganizationTrail', u.request_parameters->>'$.isOrganizationTrail') as new_organization,
                    c.organization_trail as was_organization,
                    u.request_parameters->>'$.enableLogFileValidation' is not null as sent_validation,
                    coalesce(u.response_elements->>'$.logFileValidationEnabled', u.request_parameters->>'$.enableLogFileValidation') as new_validation,
                    c.log_validation as was_validation,
                    coalesce(u.request_parameters->>'$.kmsKeyId', u.request_parameters->>'$.KmsKeyId') is not null as sent_kms,
                    coalesce(u.response_elements->>'$.kmsKeyId', u.request_parameters->>'$.kmsKeyId', u.request_parameters->>'$.KmsKeyId', '') as new_kms,
                    c.kms_key as was_kms,
                    u.request_parameters->>'$.cloudWatchLogsLogGroupArn' is not null as sent_log_group,
                    coalesce(u.response_elements->>'$.cloudWatchLogsLogGroupArn', u.request_parameters->>'$.cloudWatchLogsLogGroupArn', '') as new_log_group,
                    c.log_group as was_log_group
                from updates as u
                asof left join evasion_trail_configs as c
                  on c.recipient_account_id = u.recipient_account_id
                 and c.trail_name = u.trail_name
                 and u.event_time > c.event_time
            ),
            judged as (
                -- A sent setting changed when it differs from the one before; with nothing to
                -- compare, only a non-console caller's setting counts (the console sends all).
                -- A console save with a single-region or no-global-events value and nothing to
                -- compare is kept as low: those are not the console's defaults. Organization and
                -- validation off are (most trails), so they are not.
                select
                    *,
                    list_filter([
                        case when sent_bucket and (case when prior_known then new_bucket is distinct from was_bucket else not from_console end)
                             then {'rank': 3, 'change': concat('log files now go to bucket ', new_bucket,
                                   case when prior_known then concat(' (was ', coalesce(was_bucket, 'none'), ')') else '' end)} end,
                        case when sent_multi_region and new_multi_region = 'false'
                                  and (case when prior_known then was_multi_region is distinct from 'false' else not from_console end)
                             then {'rank': 3, 'change': 'now records its home region only (isMultiRegionTrail false)'}
                             when sent_multi_region and new_multi_region = 'false' and not prior_known and from_console
                             then {'rank': 1, 'change': 'console sent isMultiRegionTrail false (earlier value not in the data)'} end,
                        case when sent_global and new_global = 'false'
                                  and (case when prior_known then was_global is distinct from 'false' else not from_console end)
                             then {'rank': 3, 'change': 'no longer records global services such as IAM and STS (includeGlobalServiceEvents false)'}
                             when sent_global and new_global = 'false' and not prior_known and from_console
                             then {'rank': 1, 'change': 'console sent includeGlobalServiceEvents false (earlier value not in the data)'} end,
                        case when sent_organization and new_organization = 'false'
                                  and (case when prior_known then was_organization is distinct from 'false' else not from_console end)
                             then {'rank': 3, 'change': 'no longer an organization trail (member accounts not recorded)'} end,
                        case when sent_validation and new_validation = 'false'
                                  and (case when prior_known then was_validation is distinct from 'false' else not from_console end)
                             then {'rank': 2, 'change': 'log file integrity validation turned off'} end,
                        case when sent_kms and (case when prior_known
                                                     then new_kms <> coalesce(was_kms, '')
                                                          and not (coalesce(was_kms, '') = '' and new_kms <> ''
                                                                   and regexp_extract(new_kms, '^arn:aws[a-z-]*:kms:[^:]*:([0-9]{12}):', 1)
                                                                       in ('', recipient_account_id))
                                                     else not from_console end)
                             then case when new_kms = ''
                                       then {'rank': 2, 'change': 'KMS encryption of log files removed'}
                                       when regexp_extract(new_kms, '^arn:aws[a-z-]*:kms:[^:]*:([0-9]{12}):', 1) not in ('', recipient_account_id)
                                       then {'rank': 3, 'change': concat('log files now encrypted with a KMS key of another account: ', new_kms)}
                                       else {'rank': 2, 'change': concat('KMS key changed to ', new_kms,
                                             case when prior_known then concat(' (was ', coalesce(was_kms, 'none'), ')') else '' end)} end end,
                        -- Adding CloudWatch Logs delivery records more, not less: only a removal, or a
                        -- move away from a log group the data shows, counts.
                        case when sent_log_group and new_log_group = ''
                                  and (case when prior_known then coalesce(was_log_group, '') <> '' else not from_console end)
                             then {'rank': 2, 'change': 'delivery to CloudWatch Logs removed'}
                             when sent_log_group and new_log_group <> '' and prior_known
                                  and coalesce(was_log_group, '') not in ('', new_log_group)
                             then {'rank': 1, 'change': concat('delivery to CloudWatch Logs moved to ', new_log_group,
                                                               ' (was ', was_log_group, ')')} end,
                        case when sent_prefix and (case when prior_known then coalesce(new_prefix, '') <> coalesce(was_prefix, '') else not from_console end)
                             then {'rank': 1, 'change': concat('log file prefix changed to ', coalesce(new_prefix, '(none)'))} end,
                        case when error_code is not null and request_parameters is null
                             then {'rank': 1, 'change': 'the settings asked for were not recorded'} end
                    ], lambda item: item is not null) as changes
                from compared
            )
            select
                event_time,
                event_name,
                coalesce(request_parameters->>'$.name',
                         evasion_denied_target(error_message, response_elements)) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                ['info', 'low', 'medium', 'high'][list_max(list_transform(changes, lambda item: item.rank)) + 1] as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                concat('trail ', coalesce(request_parameters->>'$.name',
                       evasion_denied_target(error_message, response_elements), '(not recorded)'), ': ',
                       array_to_string(list_transform(changes, lambda item: item.change), '; ')) as summary,
                {'changes': list_transform(changes, lambda item: item.change), 'from_console': from_console,
                 'earlier_config_known': prior_known, 'earlier_config_event': prior_event_id,
                 'request': request_parameters, 'user_agent': user_agent} as details
            from judged as j
            where len(changes) > 0
              and not exists (
                  select 1 from evasion_trail_created as c
                  where c.recipient_account_id = j.recipient_account_id and c.trail_name = j.trail_name
                    and j.event_time >= c.event_time and j.event_time < c.event_time + interval 60 second)
        """,
    ),
    Detection(
        id="cloudtrail_event_selectors_narrowed",
        title="CloudTrail event selectors narrowed (management events off or read-only)",
        severity="high",
        mitre=("T1562.008",),
        description="Detects PutEventSelectors calls after which the trail no longer records "
                    "management events, or records only read-only ones (so no change to the "
                    "account is logged), in basic or advanced selectors; event sources excluded "
                    "from management events; and PutInsightSelectors calls that turn CloudTrail "
                    "Insights off. The trail still looks healthy (it exists and is logging) while "
                    "recording nothing useful.",
        false_positives="Trails intended only for data events, kept beside a separate management-event "
                        "trail; excluding noisy KMS or RDS Data API events to save cost.",
        triage=("Check whether another trail still records management events for the account.",
                "Confirm the change with the trail's owner; restore the selectors if unexpected.",
                "Review the caller's activity after the change: it would not be in this trail."),
        sql="""
            with selectors as (
                select
                    *,
                    json_extract(request_parameters, '$.eventSelectors[*]') as basic,
                    json_extract(request_parameters, '$.advancedEventSelectors[*]') as advanced
                from scoped_events
                where event_source = 'cloudtrail.amazonaws.com'
                  and event_name in ('PutEventSelectors', 'PutInsightSelectors')
            ),
            management as (
                -- Selectors that keep management events: basic ones unless includeManagementEvents
                -- is false (true is the default), advanced ones with eventCategory = Management.
                select
                    *,
                    list_filter(basic, lambda s: coalesce(s->>'$.includeManagementEvents', 'true') <> 'false') as basic_management,
                    list_filter(advanced, lambda s: len(list_filter(json_extract(s, '$.fieldSelectors[*]'),
                        lambda f: f->>'$.field' = 'eventCategory'
                                  and list_contains(json_extract_string(f, '$.equals[*]'), 'Management'))) > 0) as advanced_management
                from selectors
            ),
            judged as (
                select
                    *,
                    len(basic) + len(advanced) > 0 as has_selectors,
                    len(list_filter(basic_management, lambda s: coalesce(s->>'$.readWriteType', 'All') in ('All', 'WriteOnly')))
                        + len(list_filter(advanced_management, lambda s: len(list_filter(json_extract(s, '$.fieldSelectors[*]'),
                              lambda f: f->>'$.field' = 'readOnly' and list_contains(json_extract_string(f, '$.equals[*]'), 'true'))) = 0))
                        > 0 as writes_kept,
                    list_distinct(flatten(list_transform(basic_management,
                        lambda s: coalesce(json_extract_string(s, '$.excludeManagementEventSources[*]'), []::varchar[]))
                        || list_transform(advanced_management, lambda s: flatten(list_transform(
                            list_filter(json_extract(s, '$.fieldSelectors[*]'), lambda f: f->>'$.field' = 'eventSource'),
                            lambda f: coalesce(json_extract_string(f, '$.notEquals[*]'), []::varchar[])))))) as excluded_sources
                from management
            ),
            flagged as (
                select
                    *,
                    list_filter([
                        case when event_name = 'PutEventSelectors' and has_selectors
                                  and len(basic_management) + len(advanced_management) = 0
                             then {'rank': 3, 'change': 'management events no longer recorded'}
                             when event_name = 'PutEventSelectors' and has_selectors and not writes_kept
                             then {'rank': 3, 'change': 'only read-only management events recorded: changes to the account are not logged'} end,
                        case when event_name = 'PutEventSelectors' and len(excluded_sources) > 0
                             then {'rank': 2, 'change': concat('management events from ', array_to_string(excluded_sources, ', '), ' excluded')} end,
                        case when event_name = 'PutInsightSelectors' and request_parameters is not null
                                  and coalesce(len(json_extract(request_parameters, '$.insightSelectors[*]')), 0) = 0
                             then {'rank': 1, 'change': 'CloudTrail Insights turned off'} end,
                        case when error_code is not null and request_parameters is null
                             then {'rank': 1, 'change': 'the selectors asked for were not recorded'} end
                    ], lambda item: item is not null) as changes
                from judged
            )
            select
                event_time,
                event_name,
                coalesce(request_parameters->>'$.trailName',
                         evasion_denied_target(error_message, response_elements)) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                ['info', 'low', 'medium', 'high'][list_max(list_transform(changes, lambda item: item.rank)) + 1] as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                concat('trail ', coalesce(request_parameters->>'$.trailName', '(not recorded)'), ': ',
                       array_to_string(list_transform(changes, lambda item: item.change), '; ')) as summary,
                {'changes': list_transform(changes, lambda item: item.change), 'request': request_parameters,
                 'user_agent': user_agent} as details
            from flagged as f
            where len(changes) > 0
              and not exists (
                  select 1 from evasion_trail_created as c
                  where c.recipient_account_id = f.recipient_account_id
                    and c.trail_name = regexp_extract(f.request_parameters->>'$.trailName', '([^/]+)$', 1)
                    and f.event_time >= c.event_time and f.event_time < c.event_time + interval 60 second)
        """,
    ),
    Detection(
        id="cloudtrail_bucket_lifecycle_shortened",
        title="Log bucket set to delete objects after a few days",
        severity="high",
        mitre=("T1562.008", "T1070"),
        description="Detects S3 lifecycle rules (PutBucketLifecycle) that expire objects after fewer "
                    "than short_retention_days days on a bucket that holds CloudTrail logs (high) or "
                    "whose name suggests logs (medium). S3 then deletes the log files itself, "
                    "destroying the record of the attack without any DeleteObject call.",
        false_positives="Scratch or staging buckets with 'log' in their name; log buckets whose logs "
                        "are copied elsewhere before they expire.",
        triage=("Check whether the bucket is the destination of a trail (`aws cloudtrail describe-trails`) "
                "and whether log files older than the rule's age are already gone.",
                "Remove or lengthen the rule; check versioning and Object Lock on the bucket.",
                "Review the caller's other actions: this is usually done just before or after the "
                "actions the attacker wants forgotten."),
        sql="""
            with lifecycle as (
                select
                    *,
                    request_parameters->>'$.bucketName' as bucket,
                    case when json_type(request_parameters, '$.LifecycleConfiguration.Rule') = 'ARRAY'
                         then json_extract(request_parameters, '$.LifecycleConfiguration.Rule[*]')
                         else [json_extract(request_parameters, '$.LifecycleConfiguration.Rule')] end as rules
                from scoped_events
                where event_source = 's3.amazonaws.com'
                  and event_name in ('PutBucketLifecycle', 'PutBucketLifecycleConfiguration')
            ),
            short as (
                select
                    l.*,
                    list_filter(l.rules, lambda r: r->>'$.Status' = 'Enabled'
                        and try_cast(r->>'$.Expiration.Days' as double) < getvariable('short_retention_days')) as short_rules,
                    b.how as known_as
                from lifecycle as l
                left join evasion_trail_buckets as b
                  on b.bucket = l.bucket
            )
            select
                event_time,
                event_name,
                coalesce(bucket, evasion_denied_target(error_message, response_elements)) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when known_as is null then 'medium' end as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                concat('bucket ', bucket, case when known_as is not null then ' (CloudTrail logs: ' || known_as || ')'
                       else ' (name suggests logs)' end, ': objects expire after ',
                       list_min(list_transform(short_rules, lambda r: try_cast(r->>'$.Expiration.Days' as double)))::bigint,
                       ' day(s)') as summary,
                {'cloudtrail_bucket': known_as, 'short_rules': short_rules, 'user_agent': user_agent} as details
            from short
            where len(short_rules) > 0
              and (known_as is not null
                   or regexp_matches(lower(bucket), '(trail|(^|[^a-z])logs?([^a-z]|$)|logging|audit)'))
        """,
    ),
    Detection(
        id="guardduty_detector_disabled",
        title="GuardDuty detector deleted, suspended or protections turned off",
        severity="high",
        mitre=("T1562.001",),
        description="Detects DeleteDetector and UpdateDetector with enable false (high), and "
                    "UpdateDetector calls that turn off protection plans or data sources such as "
                    "S3, EKS or runtime monitoring (low). Without the detector GuardDuty raises no "
                    "findings for the region.",
        false_positives="Accounts or regions being decommissioned; cost reduction by turning off "
                        "protection plans.",
        triage=("Check the detector's state in each region: `aws guardduty list-detectors` and `get-detector`.",
                "Confirm with the security team; re-enable if unexpected.",
                "Review the caller's activity in that region after the change."),
        sql="""
            with calls as (
                select
                    *,
                    list_transform(list_filter(json_extract(request_parameters, '$.features[*]'),
                                               lambda f: f->>'$.status' = 'DISABLED'),
                                   lambda f: f->>'$.name')
                        || list_filter([case when request_parameters->>'$.dataSources.s3Logs.enable' = 'false' then 'S3_LOGS' end,
                                        case when request_parameters->>'$.dataSources.kubernetes.auditLogs.enable' = 'false'
                                             then 'KUBERNETES_AUDIT_LOGS' end],
                                       lambda n: n is not null) as features_off
                from scoped_events
                where event_source = 'guardduty.amazonaws.com'
                  and event_name in ('DeleteDetector', 'UpdateDetector')
            )
            select
                event_time,
                event_name,
                coalesce(request_parameters->>'$.detectorId',
                         evasion_denied_target(error_message, response_elements)) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when event_name = 'UpdateDetector' and coalesce(request_parameters->>'$.enable', '') <> 'false'
                     then 'low' end as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                concat('detector ', coalesce(request_parameters->>'$.detectorId', '(not recorded)'), ' in ', aws_region, ': ',
                       case when event_name = 'DeleteDetector' then 'deleted'
                            when request_parameters->>'$.enable' = 'false' then 'suspended (enable false)'
                            else 'turned off ' || array_to_string(features_off, ', ') end) as summary,
                {'features_off': features_off, 'request': request_parameters, 'user_agent': user_agent} as details
            from calls
            where event_name = 'DeleteDetector'
               or request_parameters->>'$.enable' = 'false'
               or len(features_off) > 0
        """,
    ),
    Detection(
        id="guardduty_ip_list_changed",
        title="GuardDuty trusted IP list or threat list changed",
        severity="high",
        mitre=("T1562.001",),
        description="Detects CreateIPSet and UpdateIPSet (trusted IP lists: GuardDuty raises no "
                    "findings for traffic from these addresses, so adding an attacker's address "
                    "mutes detection; high when the list is activated, medium otherwise), and "
                    "CreateThreatIntelSet, UpdateThreatIntelSet and DeleteThreatIntelSet (threat "
                    "lists, low: replacing or emptying one removes detections).",
        false_positives="Security teams maintaining their scanner or office address lists.",
        triage=("Read the list at the S3 location in the request and check every address in it.",
                "Confirm the change with the security team; deactivate the list if unexpected.",
                "Check activity from the listed addresses, which GuardDuty would no longer report."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(request_parameters->>'$.ipSetId', request_parameters->>'$.threatIntelSetId',
                         response_elements->>'$.ipSetId', response_elements->>'$.threatIntelSetId',
                         request_parameters->>'$.name',
                         evasion_denied_target(error_message, response_elements)) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when event_name like '%ThreatIntelSet' then 'low'
                     when coalesce(request_parameters->>'$.activate', '') <> 'true' then 'medium' end as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                concat(event_name, ' ', coalesce(request_parameters->>'$.name', request_parameters->>'$.ipSetId',
                       request_parameters->>'$.threatIntelSetId', ''),
                       case when request_parameters->>'$.location' is not null then ' from ' || (request_parameters->>'$.location') else '' end,
                       case when request_parameters->>'$.activate' = 'true' then ' (activated)' else '' end) as summary,
                {'location': request_parameters->>'$.location', 'activate': request_parameters->>'$.activate',
                 'detector_id': request_parameters->>'$.detectorId', 'user_agent': user_agent} as details
            from scoped_events
            where event_source = 'guardduty.amazonaws.com'
              and event_name in ('CreateIPSet', 'UpdateIPSet', 'CreateThreatIntelSet', 'UpdateThreatIntelSet',
                                 'DeleteThreatIntelSet')
        """,
    ),
    Detection(
        id="guardduty_members_disassociated",
        title="GuardDuty member accounts removed from central monitoring",
        severity="medium",
        mitre=("T1562.001",),
        description="Detects a member account leaving its GuardDuty administrator "
                    "(DisassociateFromAdministratorAccount, DisassociateFromMasterAccount), an "
                    "administrator dropping or no longer monitoring members (DisassociateMembers, "
                    "DeleteMembers, StopMonitoringMembers), and invitations deleted "
                    "(DeleteInvitations, low). The central security team stops seeing that account's "
                    "findings.",
        false_positives="Accounts moved between organizations or closed.",
        triage=("List the accounts affected (details) and confirm each change with the security team.",
                "Re-associate the accounts if unexpected; check what happened in them since."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(array_to_string(json_extract_string(request_parameters, '$.accountIds[*]'), ', '),
                         request_parameters->>'$.detectorId', recipient_account_id) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when event_name = 'DeleteInvitations' then 'low' end as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                concat(event_name, case when request_parameters->>'$.accountIds' is not null
                       then ' for ' || array_to_string(json_extract_string(request_parameters, '$.accountIds[*]'), ', ')
                       else ' in ' || coalesce(recipient_account_id, '?') end) as summary,
                {'account_ids': json_extract_string(request_parameters, '$.accountIds[*]'),
                 'detector_id': request_parameters->>'$.detectorId', 'user_agent': user_agent} as details
            from scoped_events
            where event_source = 'guardduty.amazonaws.com'
              and event_name in ('DisassociateFromAdministratorAccount', 'DisassociateFromMasterAccount',
                                 'DisassociateMembers', 'DeleteMembers', 'StopMonitoringMembers', 'DeleteInvitations')
        """,
    ),
    Detection(
        id="guardduty_findings_suppressed",
        title="GuardDuty findings archived or suppression rule created",
        severity="medium",
        mitre=("T1562.001",),
        description="Detects GuardDuty filters created or updated with action ARCHIVE (suppression "
                    "rules: matching findings are archived as they arrive, so nobody sees them) and "
                    "ArchiveFindings calls by people (low). An attacker can hide the findings their "
                    "own activity raises.",
        false_positives="Suppression rules for known scanners or noisy findings, set by the security team; "
                        "analysts archiving findings they have triaged.",
        triage=("Read the filter's criteria (details): which findings, resources or addresses does it hide?",
                "Confirm with the security team; delete the rule if unexpected and look at the findings it archived."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(request_parameters->>'$.filterName', request_parameters->>'$.name',
                         request_parameters->>'$.detectorId',
                         evasion_denied_target(error_message, response_elements)) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when event_name = 'ArchiveFindings' then 'low' end as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                case when event_name = 'ArchiveFindings'
                     then concat(coalesce(len(json_extract(request_parameters, '$.findingIds[*]')), 0), ' finding(s) archived')
                     else concat('filter ', coalesce(request_parameters->>'$.filterName', request_parameters->>'$.name', '?'),
                                 ' archives matching findings automatically') end as summary,
                {'criteria': request_parameters->'$.findingCriteria', 'finding_ids': json_extract_string(request_parameters, '$.findingIds[*]'),
                 'user_agent': user_agent} as details
            from scoped_events
            where event_source = 'guardduty.amazonaws.com'
              and ((event_name in ('CreateFilter', 'UpdateFilter') and request_parameters->>'$.action' = 'ARCHIVE')
                   or (event_name = 'ArchiveFindings' and user_type is distinct from 'AWSService' and invoked_by is null))
        """,
    ),
    Detection(
        id="config_recorder_stopped",
        title="AWS Config recording stopped or delivery channel deleted",
        severity="high",
        mitre=("T1562.008",),
        description="Detects StopConfigurationRecorder, DeleteConfigurationRecorder and "
                    "DeleteDeliveryChannel. AWS Config keeps the history of resource configurations "
                    "and feeds Security Hub and Config rules; stopping it hides what an attacker "
                    "creates or changes.",
        false_positives="Cost reduction in sandbox accounts; recorder reconfiguration by the platform team.",
        triage=("Check that recording was started again (StartConfigurationRecorder) and how long it was off.",
                "Confirm with the account owner; review the caller's changes to resources in that period."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(request_parameters->>'$.configurationRecorderName', request_parameters->>'$.deliveryChannelName',
                         request_parameters->>'$.arn',
                         evasion_denied_target(error_message, response_elements)) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                null as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                concat(event_name, coalesce(' ' || coalesce(request_parameters->>'$.configurationRecorderName',
                       request_parameters->>'$.deliveryChannelName'), ''), ' in ', aws_region) as summary,
                {'request': request_parameters, 'user_agent': user_agent} as details
            from scoped_events
            where event_source = 'config.amazonaws.com'
              and event_name in ('StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'DeleteDeliveryChannel')
        """,
    ),
    Detection(
        id="config_rule_deleted",
        title="AWS Config rules or conformance packs deleted",
        severity="medium",
        mitre=("T1562.001",),
        description="Detects DeleteConfigRule, DeleteOrganizationConfigRule, DeleteConformancePack and "
                    "DeleteOrganizationConformancePack. Config rules flag non-compliant resources "
                    "(public buckets, open security groups); deleting them removes those alerts.",
        false_positives="Rules retired or replaced by the compliance team; conformance packs redeployed.",
        triage=("Check which rule was deleted and what it checked.",
                "Confirm with the compliance team; recreate the rule and re-evaluate resources."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(request_parameters->>'$.configRuleName', request_parameters->>'$.organizationConfigRuleName',
                         request_parameters->>'$.conformancePackName',
                         request_parameters->>'$.organizationConformancePackName',
                         evasion_denied_target(error_message, response_elements)) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when invoked_by is not null then 'low' end as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                concat(event_name, ' ', coalesce(request_parameters->>'$.configRuleName',
                       request_parameters->>'$.organizationConfigRuleName', request_parameters->>'$.conformancePackName',
                       request_parameters->>'$.organizationConformancePackName', '(not recorded)')) as summary,
                {'invoked_by': invoked_by, 'user_agent': user_agent} as details
            from scoped_events
            where event_source = 'config.amazonaws.com'
              and event_name in ('DeleteConfigRule', 'DeleteOrganizationConfigRule', 'DeleteConformancePack',
                                 'DeleteOrganizationConformancePack')
        """,
    ),
    Detection(
        id="vpc_flow_logs_deleted",
        title="VPC flow logs deleted",
        severity="medium",
        mitre=("T1562.008",),
        description="Detects DeleteFlowLogs. Flow logs record network connections to and from "
                    "instances; deleting them hides exfiltration and command-and-control traffic.",
        false_positives="VPCs being torn down; flow logs replaced by new ones with another destination.",
        triage=("Check whether the VPC or subnet still has another flow log.",
                "Confirm with the network owner; recreate the flow log if unexpected."),
        sql="""
            with calls as (
                select
                    *,
                    case when json_type(request_parameters, '$.DeleteFlowLogsRequest.FlowLogId') = 'ARRAY'
                         then json_extract_string(request_parameters, '$.DeleteFlowLogsRequest.FlowLogId[*].content')
                         else [coalesce(request_parameters->>'$.DeleteFlowLogsRequest.FlowLogId.content',
                                        request_parameters->>'$.DeleteFlowLogsRequest.FlowLogId')] end as flow_log_ids
                from scoped_events
                where event_source = 'ec2.amazonaws.com'
                  and event_name = 'DeleteFlowLogs'
            )
            select
                event_time,
                event_name,
                coalesce(nullif(array_to_string(list_filter(flow_log_ids, lambda f: f is not null), ', '), ''),
                         evasion_denied_target(error_message, response_elements)) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                null as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                concat('DeleteFlowLogs for ', coalesce(nullif(array_to_string(list_filter(flow_log_ids, lambda f: f is not null), ', '), ''),
                       '(not recorded)'), ' in ', aws_region) as summary,
                {'flow_log_ids': flow_log_ids,
                 'unsuccessful': response_elements->'$.DeleteFlowLogsResponse.unsuccessful',
                 'user_agent': user_agent} as details
            from calls
        """,
    ),
    Detection(
        id="dns_query_logging_deleted",
        title="Route 53 Resolver DNS query logging deleted or detached",
        severity="medium",
        mitre=("T1562.008",),
        description="Detects DeleteResolverQueryLogConfig and DisassociateResolverQueryLogConfig. DNS "
                    "query logs show which domains instances look up (command-and-control, "
                    "exfiltration over DNS); removing them hides that traffic.",
        false_positives="VPCs being decommissioned; query logging moved to a new configuration.",
        triage=("Check whether the VPCs still have a query logging configuration.",
                "Confirm with the network owner and restore logging if unexpected."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(nullif(coalesce(request_parameters->>'$.resolverQueryLogConfigId', '') ||
                    case when request_parameters->>'$.resourceId' is not null
                         then ' on ' || (request_parameters->>'$.resourceId') else '' end, ''),
                         evasion_denied_target(error_message, response_elements)) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                null as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                concat(event_name, ' ', coalesce(request_parameters->>'$.resolverQueryLogConfigId', '(not recorded)'),
                       case when request_parameters->>'$.resourceId' is not null
                            then ' from ' || (request_parameters->>'$.resourceId') else '' end,
                       case when response_elements->>'$.resolverQueryLogConfig.destinationArn' is not null
                            then ' (logs went to ' || (response_elements->>'$.resolverQueryLogConfig.destinationArn') || ')'
                            else '' end) as summary,
                {'destination': response_elements->>'$.resolverQueryLogConfig.destinationArn',
                 'config_name': response_elements->>'$.resolverQueryLogConfig.name', 'user_agent': user_agent} as details
            from scoped_events
            where event_source = 'route53resolver.amazonaws.com'
              and event_name in ('DeleteResolverQueryLogConfig', 'DisassociateResolverQueryLogConfig')
        """,
    ),
    Detection(
        id="cloudwatch_logs_deleted",
        title="CloudWatch log groups, streams or subscriptions deleted, or retention shortened",
        severity="medium",
        mitre=("T1562.008", "T1070"),
        description="Detects DeleteLogGroup and DeleteSubscriptionFilter (medium; a subscription "
                    "forwards logs to a SIEM or archive), DeleteLogStream (low, one finding per caller "
                    "and log group, since tools delete streams in bulk), and PutRetentionPolicy with "
                    "retention shorter than short_retention_days (low). Log groups hold application, "
                    "VPC, Lambda and CloudTrail logs; deleting them destroys evidence. Calls made by an "
                    "AWS service (CloudFormation deleting a stack) are reported as low.",
        false_positives="Stack or application teardown; retention lowered in development accounts; "
                        "tools that clean up old log streams.",
        triage=("Check what the log group held (its name usually tells: /aws/lambda/..., CloudTrail/..., VPC flow logs).",
                "Confirm with the owner; check whether the logs also exist elsewhere (S3 export, SIEM)."),
        sql="""
            with calls as (
                select
                    *,
                    request_parameters->>'$.logGroupName' as log_group,
                    user_type = 'AWSService' or invoked_by is not null as by_service
                from scoped_events
                where event_source = 'logs.amazonaws.com'
                  and (event_name in ('DeleteLogGroup', 'DeleteLogStream', 'DeleteSubscriptionFilter')
                       or (event_name = 'PutRetentionPolicy'
                           and try_cast(request_parameters->>'$.retentionInDays' as double) < getvariable('short_retention_days')))
            )
            select
                event_time,
                event_name,
                coalesce(log_group || case when request_parameters->>'$.filterName' is not null
                                           then ' filter ' || (request_parameters->>'$.filterName') else '' end,
                         evasion_denied_target(error_message, response_elements)) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when event_name = 'PutRetentionPolicy' or by_service then 'low' end as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                concat(event_name, ' ', coalesce(log_group, '(not recorded)'),
                       case when event_name = 'PutRetentionPolicy'
                            then ': retention ' || (request_parameters->>'$.retentionInDays') || ' day(s)' else '' end,
                       case when invoked_by is not null then ' (via ' || invoked_by || ')' else '' end) as summary,
                {'log_streams': []::varchar[], 'filter': request_parameters->>'$.filterName',
                 'retention_days': request_parameters->>'$.retentionInDays', 'invoked_by': invoked_by,
                 'user_agent': user_agent} as details
            from calls
            where event_name <> 'DeleteLogStream'
            union all
            select
                min(event_time) as event_time,
                'DeleteLogStream' as event_name,
                coalesce(log_group, any_value(evasion_denied_target(error_message, response_elements))) as resource,
                actor,
                string_agg(distinct source_ip, ', ') as source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                arg_min(event_id, event_time) as event_id,
                error_code,
                max(event_time) as last_time,
                list(event_id order by event_time) as event_ids,
                'low' as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                concat('DeleteLogStream: ', count(*), ' stream(s) of ', coalesce(log_group, '(not recorded)'),
                       case when any_value(invoked_by) is not null then ' (via ' || any_value(invoked_by) || ')' else '' end) as summary,
                {'log_streams': list(distinct request_parameters->>'$.logStreamName')[:50], 'filter': null,
                 'retention_days': null, 'invoked_by': any_value(invoked_by),
                 'user_agent': any_value(user_agent)} as details
            from calls
            where event_name = 'DeleteLogStream'
            group by recipient_account_id, aws_region, actor, log_group, error_code
        """,
    ),
    Detection(
        id="cloudwatch_alarms_deleted",
        title="CloudWatch alarms deleted or their actions disabled",
        severity="medium",
        mitre=("T1562.001",),
        description="Detects DeleteAlarms and DisableAlarmActions. Alarms are how many teams are told "
                    "about root sign-ins, trail changes or unusual spend; without them the alert "
                    "never fires.",
        false_positives="Alarms cleaned up with the resources they watched; actions paused during maintenance.",
        triage=("List the alarms (details) and what they watched.",
                "Confirm with the owner; recreate or re-enable them if unexpected."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(array_to_string(json_extract_string(request_parameters, '$.alarmNames[*]'), ', '),
                         evasion_denied_target(error_message, response_elements)) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when user_type = 'AWSService' or invoked_by is not null then 'low' end as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                concat(event_name, coalesce(' for ' || len(json_extract(request_parameters, '$.alarmNames[*]')) || ' alarm(s): '
                       || array_to_string(json_extract_string(request_parameters, '$.alarmNames[*]')[:5], ', '),
                       ' (alarm names not recorded)')) as summary,
                {'alarm_names': json_extract_string(request_parameters, '$.alarmNames[*]'), 'invoked_by': invoked_by,
                 'user_agent': user_agent} as details
            from scoped_events
            where event_source = 'monitoring.amazonaws.com'
              and event_name in ('DeleteAlarms', 'DisableAlarmActions')
        """,
    ),
    Detection(
        id="s3_access_logging_disabled",
        title="S3 server access logging turned off",
        severity="medium",
        mitre=("T1562.008",),
        description="Detects PutBucketLogging with an empty BucketLoggingStatus (no LoggingEnabled), "
                    "which turns off the bucket's server access logs: the record of every object "
                    "read and write, which CloudTrail only has when data events are on. High when "
                    "the bucket holds CloudTrail logs.",
        false_positives="Buckets being retired; logging moved to CloudTrail data events.",
        triage=("Check what the bucket holds and whether CloudTrail data events cover it.",
                "Confirm with the owner; turn logging back on if unexpected."),
        sql="""
            select
                e.event_time,
                e.event_name,
                coalesce(e.request_parameters->>'$.bucketName',
                         evasion_denied_target(e.error_message, e.response_elements)) as resource,
                e.actor,
                e.source_ip,
                e.recipient_account_id as account_id,
                e.aws_region as region,
                e.event_id,
                e.error_code,
                e.event_time as last_time,
                [e.event_id] as event_ids,
                case when b.bucket is not null then 'high' end as severity,
                case when e.error_code is not null then concat('attempt, ', e.error_code, ': ') else '' end ||
                concat('PutBucketLogging with logging off for bucket ', coalesce(e.request_parameters->>'$.bucketName', '?'),
                       case when b.bucket is not null then ' (CloudTrail logs: ' || b.how || ')' else '' end) as summary,
                {'cloudtrail_bucket': b.how, 'user_agent': e.user_agent} as details
            from scoped_events as e
            left join evasion_trail_buckets as b
              on b.bucket = e.request_parameters->>'$.bucketName'
            where e.event_source = 's3.amazonaws.com'
              and e.event_name = 'PutBucketLogging'
              and (e.request_parameters->'$.BucketLoggingStatus') is not null
              and (e.request_parameters->'$.BucketLoggingStatus.LoggingEnabled') is null
        """,
    ),
    Detection(
        id="securityhub_disabled",
        title="Security Hub disabled, standards or controls turned off, or members removed",
        severity="high",
        mitre=("T1562.001",),
        description="Detects DisableSecurityHub (high); BatchDisableStandards, "
                    "DisableImportFindingsForProduct and an account leaving or dropping members "
                    "(medium); controls disabled with UpdateStandardsControl or "
                    "BatchUpdateStandardsControlAssociations (low). Security Hub collects the findings "
                    "of GuardDuty, Inspector, Macie and Config; turning parts of it off hides them "
                    "from the security team.",
        false_positives="Accounts being closed; standards or controls disabled by the security team "
                        "because they do not apply.",
        triage=("Check which standards, products or controls were turned off (summary).",
                "Confirm with the security team and re-enable if unexpected."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(array_to_string(json_extract_string(request_parameters, '$.StandardsSubscriptionArns[*]'), ', '),
                         request_parameters->>'$.ProductSubscriptionArn', request_parameters->>'$.StandardsControlArn',
                         array_to_string(json_extract_string(request_parameters, '$.AccountIds[*]'), ', '),
                         recipient_account_id) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when event_name = 'DisableSecurityHub' then null
                     when event_name in ('UpdateStandardsControl', 'BatchUpdateStandardsControlAssociations') then 'low'
                     else 'medium' end as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                concat(event_name, ' in ', aws_region,
                       case when request_parameters->>'$.ControlStatus' is not null
                            then ': ' || (request_parameters->>'$.StandardsControlArn') || ' ' || (request_parameters->>'$.ControlStatus')
                            when request_parameters->>'$.AccountIds' is not null
                            then ': ' || array_to_string(json_extract_string(request_parameters, '$.AccountIds[*]'), ', ')
                            else '' end) as summary,
                {'request': request_parameters, 'user_agent': user_agent} as details
            from scoped_events
            where event_source = 'securityhub.amazonaws.com'
              and (event_name in ('DisableSecurityHub', 'BatchDisableStandards', 'DisableImportFindingsForProduct',
                                  'DisassociateFromAdministratorAccount', 'DisassociateFromMasterAccount',
                                  'DisassociateMembers', 'DeleteMembers')
                   or (event_name = 'UpdateStandardsControl' and request_parameters->>'$.ControlStatus' = 'DISABLED')
                   or (event_name = 'BatchUpdateStandardsControlAssociations'
                       and list_contains(json_extract_string(request_parameters,
                           '$.StandardsControlAssociationUpdates[*].AssociationStatus'), 'DISABLED')))
        """,
    ),
    Detection(
        id="securityhub_findings_suppressed",
        title="Security Hub findings suppressed, resolved or archived by a person",
        severity="medium",
        mitre=("T1562.001",),
        description="Detects BatchUpdateFindings setting Workflow.Status to SUPPRESSED or RESOLVED "
                    "by a person or script (not an AWS service), automation rules that suppress or "
                    "resolve findings as they arrive (CreateAutomationRule, BatchUpdateAutomationRules), "
                    "the older UpdateFindings API (medium when it archives), and insights deleted or "
                    "changed (DeleteInsight, UpdateInsight, low). An attacker can close the findings "
                    "their own activity raised.",
        false_positives="Analysts closing triaged findings; automation rules for accepted risks.",
        triage=("List the findings suppressed (details) and check whether they concern the caller's own activity.",
                "Confirm with the security team; set them back to NEW if unexpected."),
        sql="""
            with calls as (
                select
                    *,
                    coalesce(request_parameters->>'$.Workflow.Status', request_parameters->>'$.RecordState') as new_status,
                    list_distinct(coalesce(json_extract_string(request_parameters, '$.Actions[*].FindingFieldsUpdate.Workflow.Status'), [])
                        || coalesce(json_extract_string(request_parameters,
                               '$.UpdateAutomationRulesRequestItems[*].Actions[*].FindingFieldsUpdate.Workflow.Status'), [])) as rule_statuses
                from scoped_events
                where event_source = 'securityhub.amazonaws.com'
                  and event_name in ('BatchUpdateFindings', 'UpdateFindings', 'DeleteInsight', 'UpdateInsight',
                                     'CreateAutomationRule', 'BatchUpdateAutomationRules')
            )
            select
                event_time,
                event_name,
                coalesce(request_parameters->>'$.InsightArn', request_parameters->>'$.RuleName',
                         array_to_string(json_extract_string(request_parameters, '$.FindingIdentifiers[*].Id')[:3], ', '),
                         evasion_denied_target(error_message, response_elements)) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when event_name in ('DeleteInsight', 'UpdateInsight') then 'low'
                     when event_name = 'UpdateFindings' and coalesce(new_status, '') <> 'ARCHIVED' then 'low' end as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                case when event_name = 'BatchUpdateFindings'
                     then concat(coalesce(len(json_extract(request_parameters, '$.FindingIdentifiers[*]')), 0),
                                 ' finding(s) set to ', new_status)
                     when event_name in ('CreateAutomationRule', 'BatchUpdateAutomationRules')
                     then concat('automation rule sets matching findings to ', array_to_string(rule_statuses, '/'))
                     else concat(event_name, coalesce(' (' || new_status || ')', '')) end as summary,
                {'findings': json_extract_string(request_parameters, '$.FindingIdentifiers[*].Id'),
                 'note': request_parameters->>'$.Note.Text', 'new_status': new_status,
                 'rule_statuses': rule_statuses, 'user_agent': user_agent} as details
            from calls
            where (event_name = 'BatchUpdateFindings' and new_status in ('SUPPRESSED', 'RESOLVED')
                   and user_type is distinct from 'AWSService' and invoked_by is null)
               or (event_name in ('CreateAutomationRule', 'BatchUpdateAutomationRules')
                   and (list_contains(rule_statuses, 'SUPPRESSED') or list_contains(rule_statuses, 'RESOLVED')))
               or event_name in ('UpdateFindings', 'DeleteInsight', 'UpdateInsight')
        """,
    ),
    Detection(
        id="macie_disabled",
        title="Macie disabled, paused or its findings muted",
        severity="high",
        mitre=("T1562.001",),
        description="Detects DisableMacie and Macie sessions paused (high); the organization's Macie "
                    "administrator removed, members dropped, findings filters that archive "
                    "automatically (medium); other session changes, classification jobs cancelled "
                    "or paused, findings archived (low). Macie finds sensitive data in S3 and "
                    "raises findings when buckets become public; switching it off or muting it "
                    "hides data exposure.",
        false_positives="Cost reduction; filters for accepted findings set by the security team.",
        triage=("Check the Macie status and findings filters in the account.",
                "Confirm with the security team and restore if unexpected."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(request_parameters->>'$.name', request_parameters->>'$.id', request_parameters->>'$.jobId',
                         request_parameters->>'$.adminAccountId', recipient_account_id) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when event_name = 'DisableMacie' or request_parameters->>'$.status' = 'PAUSED' then null
                     when event_name in ('DisableOrganizationAdminAccount', 'DisassociateFromAdministratorAccount',
                                         'DisassociateFromMasterAccount', 'DisassociateMember', 'DeleteMember',
                                         'CreateFindingsFilter', 'UpdateFindingsFilter') then 'medium'
                     else 'low' end as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                concat(event_name, ' in ', aws_region,
                       case when request_parameters->>'$.status' is not null then ': status ' || (request_parameters->>'$.status')
                            when request_parameters->>'$.jobStatus' is not null then ': job ' || (request_parameters->>'$.jobStatus')
                            when request_parameters->>'$.action' is not null then ': filter action ' || (request_parameters->>'$.action')
                            when request_parameters->>'$.findingPublishingFrequency' is not null
                            then ': findings published every ' || (request_parameters->>'$.findingPublishingFrequency')
                            else '' end) as summary,
                {'request': request_parameters, 'user_agent': user_agent} as details
            from scoped_events
            where event_source in ('macie2.amazonaws.com', 'macie.amazonaws.com')
              and (event_name in ('DisableMacie', 'UpdateMacieSession', 'UpdateMemberSession', 'DisableOrganizationAdminAccount',
                                  'DisassociateFromAdministratorAccount', 'DisassociateFromMasterAccount',
                                  'DisassociateMember', 'DeleteMember', 'ArchiveFindings')
                   or (event_name in ('CreateFindingsFilter', 'UpdateFindingsFilter')
                       and request_parameters->>'$.action' = 'ARCHIVE')
                   or (event_name = 'UpdateClassificationJob'
                       and request_parameters->>'$.jobStatus' in ('CANCELLED', 'USER_PAUSED')))
        """,
    ),
    Detection(
        id="account_left_organization",
        title="Account left or was removed from the AWS organization",
        severity="high",
        mitre=("T1666", "T1562.008"),
        description="Detects LeaveOrganization (high) and RemoveAccountFromOrganization (medium). An "
                    "account outside the organization escapes its service control policies, its "
                    "organization trail and central security services, so an attacker in control "
                    "of it is no longer restricted or watched.",
        false_positives="Planned account transfers between organizations.",
        triage=("Confirm with the organization's administrators whether the move was planned.",
                "Check the account's membership (`aws organizations describe-account`) and, if it "
                "left, whether its own trail and security services still run."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(request_parameters->>'$.accountId', recipient_account_id) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when event_name = 'RemoveAccountFromOrganization' then 'medium' end as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                concat(event_name, ' for account ', coalesce(request_parameters->>'$.accountId', recipient_account_id, '?')) as summary,
                {'user_agent': user_agent, 'error_message': error_message} as details
            from scoped_events
            where event_source = 'organizations.amazonaws.com'
              and event_name in ('LeaveOrganization', 'RemoveAccountFromOrganization')
        """,
    ),
    Detection(
        id="cloudtrail_request_parameters_omitted",
        title="Request parameters left out of CloudTrail as too large",
        severity="medium",
        mitre=("T1562.008",),
        description="Detects events whose requestParameters CloudTrail replaced with "
                    "{\"omitted\": true, \"reason\": \"requestParameters too large\"}. A caller can pad "
                    "a request (for example an IAM policy of about 100 KB with whitespace) so that "
                    "the log shows that the call happened but not what it did. High for IAM, where "
                    "that hides the policy granted; low for read-only calls.",
        false_positives="Genuinely large requests: Glue tables with many columns, big CloudFormation "
                        "or Step Functions definitions.",
        triage=("Read the resource the call changed directly (e.g. `aws iam get-role-policy`, "
                "`get-policy-version`) to see what was written.",
                "Ask the caller why the request was so large; compare originalSize with the usual size."),
        sql="""
            select
                event_time,
                event_name,
                coalesce(resources->>'$[0].ARN', event_source) as resource,
                actor,
                source_ip,
                recipient_account_id as account_id,
                aws_region as region,
                event_id,
                error_code,
                event_time as last_time,
                [event_id] as event_ids,
                case when event_source = 'iam.amazonaws.com' then 'high'
                     when read_only then 'low' end as severity,
                case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end ||
                concat(event_name, ' (', event_source, '): request parameters omitted',
                       coalesce(', original size ' || (request_parameters->>'$.originalSize') || ' bytes', '')) as summary,
                {'reason': request_parameters->>'$.reason', 'original_size': request_parameters->>'$.originalSize',
                 'user_agent': user_agent} as details
            from scoped_events
            where contains(request_parameters::varchar, 'omitted')
              and (request_parameters->>'$.omitted' = 'true'
                   or request_parameters->>'$.reason' = 'requestParameters too large')
        """,
    ),
]


def calls_by_service_chart(con, outcomes, folder, moment):
    """Tampering calls per service and action, split into succeeded and failed."""
    rows = casedb.rows(con, """
        select
            concat(replace(event_source, '.amazonaws.com', ''), ': ', event_name) as call,
            count(*) filter (where error_code is null) as succeeded,
            count(*) filter (where error_code is not null) as failed
        from defense_evasion_calls
        group by call
        order by count(*) desc, call
        limit 25
    """)
    path = charts.stacked_bar_chart(
        [call for call, _, _ in rows],
        [("succeeded", [ok for _, ok, _ in rows], "#8fb0d6"), ("failed (attempt)", [bad for _, _, bad in rows], "#f0a04b")],
        "Calls that can switch off or narrow logging and detection, by service and action", "calls",
        common.new_output_path(folder, "defense_evasion_calls_by_service", ".png", moment))
    return [("Tampering calls by service and action, succeeded and failed", path)]


def findings_by_actor_chart(con, outcomes, folder, moment):
    """Findings per actor, stacked by severity: who is tampering, and how badly."""
    per_actor = {}
    for outcome in outcomes:
        for finding in outcome.findings:
            counts = per_actor.setdefault(finding["actor"] or "(unknown)", dict.fromkeys(charts.SEVERITY_RANK, 0))
            counts[finding["severity"]] += 1
    ranked = sorted(per_actor.items(), key=lambda item: (-sum(item[1].values()), item[0]))[:15]
    severities = [s for s in sorted(charts.SEVERITY_RANK, key=charts.SEVERITY_RANK.get, reverse=True)
                  if any(counts[s] for _, counts in ranked)]
    path = charts.stacked_bar_chart(
        [common.short_identity(actor) for actor, _ in ranked],
        [(severity, [counts[severity] for _, counts in ranked], charts.SEVERITY_COLOURS[severity]) for severity in severities],
        "Tampering findings by actor and severity", "findings",
        common.new_output_path(folder, "defense_evasion_findings_by_actor", ".png", moment))
    return [("Tampering findings by actor and severity", path)]


def main(argv):
    return common.run_cli(__doc__, argv, lambda args: detections.run_detector(
        args, AREA, DETECTIONS, extra_charts=[calls_by_service_chart, findings_by_actor_chart]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
