/*
id: bedrock_model_access_or_logging_changed
title: Bedrock model access requested or model invocation logging removed
severity: medium
mitre: [T1496, T1562.008]
status: stable
description: >
  Detects calls that open Bedrock models to an account - PutUseCaseForModelAccess,
  CreateFoundationModelAgreement, PutFoundationModelEntitlement (medium) - and
  DeleteModelInvocationLoggingConfiguration, which stops the record of prompts and responses
  (high). In LLMjacking, attackers with stolen keys enable the models they want (the account
  owner never asked for them) and remove invocation logging so the use cannot be reviewed.
  One finding per principal.
false_positives: >
  A team enabling a model for a new project from the Bedrock console; logging configuration
  rebuilt by infrastructure-as-code.
triage:
  - Check the models enabled (details) and whether the principal then invoked them.
  - Re-enable model invocation logging and remove model access nobody asked for.
  - Review the principal's credentials: where they were used from, and since when.
references:
  - https://docs.aws.amazon.com/bedrock/latest/userguide/model-access.html
  - https://docs.aws.amazon.com/bedrock/latest/userguide/model-invocation-logging.html
  - https://elastic.github.io/detection-rules-explorer/rules/a17f2e5f-de52-49e8-9d86-ccfe91cd54d4
  - https://attack.mitre.org/techniques/T1496/
*/
select
    list(event_id order by event_time, event_id)[1] as event_id,
    list(event_id order by event_time, event_id) as event_ids,
    coalesce(array_to_string(list(distinct request_parameters->>'$.modelId' order by request_parameters->>'$.modelId'), ', '),
             'Bedrock') as resource,
    concat(case when count(*) filter (where error_code is null) = 0 then 'attempt: ' else '' end,
           array_to_string(list(distinct event_name order by event_name), ', '),
           coalesce(' for ' || nullif(array_to_string(list(distinct request_parameters->>'$.modelId'
                                                         order by request_parameters->>'$.modelId'), ', '), ''), '')) as summary,
    {'actions': list(distinct event_name order by event_name),
     'models': list(distinct request_parameters->>'$.modelId' order by request_parameters->>'$.modelId'),
     'failed': count(*) filter (where error_code is not null)} as details,
    case when bool_or(event_name = 'DeleteModelInvocationLoggingConfiguration') then 'high' end as severity
from compute_events
where event_source = 'bedrock.amazonaws.com'
  and event_name in ('PutUseCaseForModelAccess', 'CreateFoundationModelAgreement', 'PutFoundationModelEntitlement',
                     'DeleteModelInvocationLoggingConfiguration')
group by principal
