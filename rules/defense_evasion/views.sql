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

-- How a summary starts: failed calls are reported as attempts, with their error code.
create or replace macro evasion_attempt(error_code) as
    case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end;

-- What a denied call was aimed at, from its error message ("... on resource: ARN because ...");
-- denied calls often carry no request parameters. GuardDuty puts the message in responseElements.
create or replace macro evasion_denied_target(error_message, response_elements) as
    nullif(regexp_extract(coalesce(error_message, response_elements->>'$.message'), 'on resource: ([^ ]+)', 1), '');

-- The trail or event data store a CloudTrail call names (or, when denied, the one its error names).
create or replace macro evasion_trail_target(request_parameters, error_message, response_elements) as
    coalesce(request_parameters->>'$.name', request_parameters->>'$.eventDataStore',
             evasion_denied_target(error_message, response_elements));

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
