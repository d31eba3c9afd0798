/*
id: lambda_function_modified_by_new_principal
title: Lambda function code or configuration changed outside its usual deployer
severity: high
mitre: [T1525, T1546]
status: stable
description: >
  Detects UpdateFunctionCode and UpdateFunctionConfiguration by a principal that had not
  created or updated that function earlier in the loaded data. Overwriting a function's code,
  or adding a layer, environment variables or a new role, runs the attacker's code with the
  function's permissions every time it is invoked - a backdoor that survives key rotation.
  High when other principals deployed the function before (this one never did). When the data
  holds no earlier deployment of the function at all, medium for a person (IAM user, root,
  Identity Center or console session) and low for a role, which is how pipelines deploy. The
  deploy role updating its own function is not reported.
false_positives: >
  A new CI/CD role or an engineer hot-fixing a function by hand; the first deployment inside the
  data of a function created before it.
triage:
  - Compare details.code_sha256 and the layers, role and environment with the previous deployment; download the current code (aws lambda get-function).
  - Check who usually deploys the function (details.earlier_deployers) and ask them.
  - Restore the previous version and review the function's role for what the new code could reach.
references:
  - https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html
  - https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.lambda-overwrite-code/
  - https://attack.mitre.org/techniques/T1525/
*/
with deploys as (
    select
        *,
        regexp_extract(coalesce(request_parameters->>'$.functionName', response_elements->>'$.functionName', ''),
                       '([^:]+)$', 1) as function_name
    from compute_events
    where event_source = 'lambda.amazonaws.com'
      and (event_name like 'UpdateFunctionCode%' or event_name like 'UpdateFunctionConfiguration%')
),
history as (
    select
        principal, event_time, event_id,
        regexp_extract(coalesce(request_parameters->>'$.functionName', response_elements->>'$.functionName', ''),
                       '([^:]+)$', 1) as function_name
    from compute_history
    where event_source = 'lambda.amazonaws.com' and error_code is null
      and (event_name like 'CreateFunction%' or event_name like 'UpdateFunctionCode%'
           or event_name like 'UpdateFunctionConfiguration%')
),
earlier as (
    select d.event_id, list(distinct h.principal order by h.principal) as earlier_deployers
    from deploys as d
    join history as h
      on h.function_name = d.function_name
     and (h.event_time < d.event_time or (h.event_time = d.event_time and h.event_id < d.event_id))
    group by d.event_id
),
judged as (
    select d.*, coalesce(e.earlier_deployers, []) as earlier_deployers
    from deploys as d
    left join earlier as e on e.event_id = d.event_id
)
select
    event_id,
    concat('Lambda ', function_name) as resource,
    concat(attempt, 'Lambda function ', function_name, ' ',
           case when event_name like 'UpdateFunctionCode%' then 'code replaced' else 'configuration changed' end,
           case when len(earlier_deployers) > 0
                then concat(' by ', principal, ', which never deployed it before (earlier: ', array_to_string(earlier_deployers[1:3], ', '), ')')
                else concat(' by ', principal, '; no earlier deployment of it in the data') end) as summary,
    {'earlier_deployers': earlier_deployers, 'code_sha256': response_elements->>'$.codeSha256',
     'layers': request_parameters->'$.layers', 'role': request_parameters->>'$.role',
     'environment_changed': (request_parameters->'$.environment') is not null, 'user_agent': user_agent} as details,
    case when len(earlier_deployers) > 0 then null when person then 'medium' else 'low' end as severity
from judged
where not list_contains(earlier_deployers, principal)
