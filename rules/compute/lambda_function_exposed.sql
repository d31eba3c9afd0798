/*
id: lambda_function_exposed
title: Lambda function opened to everyone or another account, or given a public URL
severity: high
mitre: [T1546, T1098]
status: stable
description: >
  Detects AddPermission calls whose principal is * or another account (anyone, or the other
  account, may then invoke or change the function), and CreateFunctionUrlConfig /
  UpdateFunctionUrlConfig with AuthType NONE, or AddPermission with FunctionUrlAuthType NONE (a
  public HTTPS endpoint that runs the function without signing). A function reachable from
  outside is a backdoor that runs with the function's role. Permissions for AWS services (such
  as s3.amazonaws.com) limited by SourceAccount or SourceArn are not reported.
false_positives: >
  Public webhooks and APIs deliberately served from function URLs; cross-account invocation in
  an organisation.
triage:
  - Read the statement added (details) and which function it opens; check the function's code and role.
  - Remove the permission (aws lambda remove-permission) or the URL if nobody planned it.
  - Check the function's invocations from outside the account since the change.
references:
  - https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html
  - https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html
  - https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.lambda-backdoor-function/
  - https://attack.mitre.org/techniques/T1546/
*/
with calls as (
    select
        *,
        regexp_extract(coalesce(request_parameters->>'$.functionName', ''), '([^:]+)$', 1) as function_name,
        request_parameters->>'$.principal' as grantee,
        upper(coalesce(request_parameters->>'$.authType', request_parameters->>'$.functionUrlAuthType', '')) as auth_type
    from compute_events
    where event_source = 'lambda.amazonaws.com'
      and (event_name like 'AddPermission%' or event_name like 'CreateFunctionUrlConfig%'
           or event_name like 'UpdateFunctionUrlConfig%')
),
judged as (
    select
        *,
        case
            when auth_type = 'NONE' then 'public function URL (AuthType NONE)'
            when grantee = '*' and (request_parameters->>'$.sourceAccount') is null
                 and (request_parameters->>'$.sourceArn') is null
                 and (request_parameters->>'$.principalOrgID') is null then 'anyone (principal *)'
            when grantee = '*' then 'principal * narrowed by a condition'
            when regexp_extract(coalesce(grantee, ''), '([0-9]{12})', 1) not in ('', recipient_account_id)
                 then concat('account ', regexp_extract(grantee, '([0-9]{12})', 1))
        end as opened_to
    from calls
)
select
    event_id,
    concat('Lambda ', function_name) as resource,
    concat(attempt, 'Lambda function ', function_name, ' opened to ', opened_to,
           coalesce(' for ' || (request_parameters->>'$.action'), '')) as summary,
    {'principal': grantee, 'action': request_parameters->>'$.action', 'auth_type': nullif(auth_type, ''),
     'source_account': request_parameters->>'$.sourceAccount', 'source_arn': request_parameters->>'$.sourceArn',
     'statement_id': request_parameters->>'$.statementId', 'user_agent': user_agent} as details,
    case when opened_to = 'principal * narrowed by a condition' then 'low' end as severity
from judged
where opened_to is not null
