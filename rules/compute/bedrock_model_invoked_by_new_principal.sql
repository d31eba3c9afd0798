/*
id: bedrock_model_invoked_by_new_principal
title: Bedrock model invoked by a principal that never used Bedrock before
severity: medium
mitre: [T1496]
status: stable
description: >
  Detects InvokeModel, InvokeModelWithResponseStream, Converse and ConverseStream calls by a
  principal with no earlier model invocation in the loaded data (one finding per principal, with
  every call of the first run). "LLMjacking": stolen keys are checked for Bedrock access and then
  resold or used to run large language models on the victim's bill, often thousands of dollars a
  day. Denied invocations are reported as attempts - attackers probe which models the keys may
  call. With less than baseline_days of the principal's history in the data the finding is low.
false_positives: >
  A developer or application starting to use Bedrock; a new model-backed feature deployed under
  a new role.
triage:
  - Check the models and the number of calls (details) and the source IP and user agent against the principal's usual ones.
  - Check whether model access was requested just before (bedrock_model_access_or_logging_changed) and whether invocation logging is on.
  - If not expected, revoke the credentials and review the Bedrock bill.
references:
  - https://docs.aws.amazon.com/bedrock/latest/userguide/logging-using-cloudtrail.html
  - https://hub.prowler.com/check/cloudtrail_threat_detection_llm_jacking
  - https://stratus-red-team.cloud/attack-techniques/AWS/aws.impact.bedrock-invoke-model/
  - https://attack.mitre.org/techniques/T1496/
*/
with calls as (
    select *, coalesce(request_parameters->>'$.modelId', '(not recorded)') as model
    from compute_events
    where event_source = 'bedrock.amazonaws.com'
      and event_name in ('InvokeModel', 'InvokeModelWithResponseStream', 'Converse', 'ConverseStream')
),
firsts as (
    select principal, min(event_time) as first_call
    from compute_history
    where event_source = 'bedrock.amazonaws.com'
      and event_name in ('InvokeModel', 'InvokeModelWithResponseStream', 'Converse', 'ConverseStream')
    group by principal
),
first_run as (
    select c.*
    from calls as c join firsts as f on f.principal = c.principal
    where f.first_call >= (select min(event_time) from calls as w where w.principal = c.principal)
)
select
    list(r.event_id order by r.event_time, r.event_id)[1] as event_id,
    list(r.event_id order by r.event_time, r.event_id) as event_ids,
    array_to_string(list(distinct r.model order by r.model), ', ') as resource,
    concat(case when count(*) filter (where r.error_code is null) = 0
                then concat('attempt, ', list(r.error_code order by r.event_time, r.event_id)[1], ': ') else '' end,
           'first Bedrock model use by ', r.principal, ' in the data: ', count(*), ' call(s) to ',
           array_to_string(list(distinct r.model order by r.model), ', '),
           case when count(*) filter (where r.error_code is not null) > 0
                then concat(', ', count(*) filter (where r.error_code is not null), ' denied or failed') else '' end) as summary,
    {'calls': count(*), 'failed': count(*) filter (where r.error_code is not null),
     'models': list(distinct r.model order by r.model), 'principal_first_seen': any_value(p.first_seen),
     'history_days': date_diff('day', any_value(p.first_seen), min(r.event_time)),
     'user_agents': list(distinct r.user_agent order by r.user_agent)[1:5]} as details,
    case when date_diff('day', any_value(p.first_seen), min(r.event_time)) < getvariable('baseline_days') then 'low' end as severity
from first_run as r
left join compute_principal_history as p on p.principal = r.principal
group by r.principal
