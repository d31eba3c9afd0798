/*
id: api_activity_flagged_by_insights
title: Unusual API activity flagged by CloudTrail Insights
severity: low
mitre: [T1526, T1580]
status: stable
description: >
  Detects CloudTrail Insights events: AWS's own measure of an API whose call rate or error rate
  rose far above the account's baseline (one finding per insight, its Start and End records
  together). A sudden rate of GetSecretValue, ListObjects or AccessDenied errors is how discovery
  sweeps and bulk data theft look from the outside; the attributions name the identities and user
  agents behind the rise. Medium for error-rate insights.
false_positives: >
  Deployments, batch jobs and new applications that legitimately raise an API's volume.
triage:
  - 'Read the attributions in details: which identity, user agent and error code drove the rise.'
  - Follow that identity through the insight's time span (analyze_actor.py with SINCE/UNTIL).
references:
  - https://attack.mitre.org/techniques/T1526/
  - https://attack.mitre.org/techniques/T1580/
*/
select
    any_value(record->>'$.insightDetails.eventName') as event_name,
    concat(any_value(record->>'$.insightDetails.eventSource'), ' ',
           any_value(record->>'$.insightDetails.eventName')) as resource,
    coalesce(any_value(list_filter(cast(record->'$.insightDetails.insightContext.attributions' as json[]),
                                   lambda a: a->>'attribute' = 'userIdentityArn')[1]->>'$.insight[0].value'),
             'see details') as actor,
    null as source_ip,
    min(aws_region) as region,
    arg_min(event_id, (event_time, event_id)) as event_id,
    null as error_code,
    list(event_id order by event_time, event_id) as event_ids,
    case when any_value(record->>'$.insightDetails.insightType') = 'ApiErrorRateInsight' then 'medium' end as severity,
    concat('CloudTrail Insights: ', any_value(record->>'$.insightDetails.insightType'), ' for ',
           any_value(record->>'$.insightDetails.eventName'), ', ',
           any_value(record->>'$.insightDetails.insightContext.statistics.insight.average'),
           ' a minute against a baseline of ',
           any_value(record->>'$.insightDetails.insightContext.statistics.baseline.average')) as summary,
    {'insight_type': any_value(record->>'$.insightDetails.insightType'),
     'states': list(record->>'$.insightDetails.state' order by event_time, event_id),
     'attributions': any_value(record->'$.insightDetails.insightContext.attributions')} as details
from scoped_events
where event_type = 'AwsCloudTrailInsight'
group by recipient_account_id, coalesce(shared_event_id, event_id)
