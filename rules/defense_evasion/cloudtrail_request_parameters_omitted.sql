/*
id: cloudtrail_request_parameters_omitted
title: Request parameters left out of CloudTrail as too large
severity: medium
mitre: [T1562.008]
status: stable
description: >
  Detects events whose requestParameters CloudTrail replaced with {"omitted": true, "reason":
  "requestParameters too large"}. A caller can pad a request (for example an IAM policy of about
  100 KB with whitespace) so that the log shows that the call happened but not what it did. High
  for IAM, where that hides the policy granted; low for read-only calls.
false_positives: >
  Genuinely large requests: Glue tables with many columns, big CloudFormation or Step Functions
  definitions.
triage:
  - Read the resource the call changed directly (e.g. `aws iam get-role-policy`, `get-policy-version`) to see what was written.
  - Ask the caller why the request was so large; compare originalSize with the usual size.
references:
  - https://attack.mitre.org/techniques/T1562/008/
  - https://github.com/elastic/detection-rules/pull/4788
  - https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
*/
select
    coalesce(resources->>'$[0].ARN', event_source) as resource,
    event_id,
    case when event_source = 'iam.amazonaws.com' then 'high'
         when read_only then 'low' end as severity,
    evasion_attempt(error_code) ||
    concat(event_name, ' (', event_source, '): request parameters omitted',
           coalesce(', original size ' || (request_parameters->>'$.originalSize') || ' bytes', '')) as summary,
    {'reason': request_parameters->>'$.reason', 'original_size': request_parameters->>'$.originalSize',
     'user_agent': user_agent} as details
from scoped_events
where contains(request_parameters::varchar, 'omitted')
  and (request_parameters->>'$.omitted' = 'true'
       or request_parameters->>'$.reason' = 'requestParameters too large')
