-- Shared views of the compute area (resource hijacking, persistence and execution in compute
-- and serverless).
--
-- compute_events: the events in the window (each rule names the calls it reads, so that filter
-- is pushed into the scan of events), with
--   principal   who acted: the role for role sessions (all sessions of a role are one principal,
--               so a stolen Lambda or ECS role session is judged by the role's history), else
--               the caller's ARN
--   person      true for identities a human uses: IAM users with console or long-term keys,
--               root, IAM Identity Center (AWSReservedSSO_) roles, console sessions
--   attempt     'attempt, <errorCode>: ' for a failed call, '' otherwise
-- compute_history: ALL loaded events (not only the window) with the principal, the baseline
--   for "never before": what each principal did earlier in the data.
create or replace view compute_history as
select
    event_id, event_time, event_source, event_name, error_code, recipient_account_id, aws_region,
    request_parameters, response_elements,
    coalesce(nullif(session_issuer_arn, ''), nullif(user_arn, ''), actor) as principal
from events;

create or replace view compute_events as
select
    *,
    coalesce(nullif(session_issuer_arn, ''), nullif(user_arn, ''), actor) as principal,
    (user_type in ('IAMUser', 'Root')
     or coalesce(session_issuer_name, '') like 'AWSReservedSSO\_%' escape '\'
     or coalesce(session_credential_from_console, false)) as person,
    case when error_code is not null then concat('attempt, ', error_code, ': ') else '' end as attempt
from scoped_events
where true
  and coalesce(user_type, '') <> 'AWSService'
  -- calls AWS services make through service-linked roles (Trusted Advisor checking SES quotas)
  -- are not a principal's choice; instance launches are kept whoever makes them: Auto Scaling
  -- and EC2 Fleet launch the GPU instances of a group or fleet an attacker set up
  and (event_name in ('RunInstances', 'RequestSpotInstances', 'RequestSpotFleet', 'CreateFleet')
       or (invoked_by is null and coalesce(session_issuer_name, '') not like 'AWSServiceRole%'));

-- compute_principal_history: when each principal first appears in ALL the loaded data. A call
-- is a principal's first use when compute_history holds no earlier call of that kind; the days
-- between first_seen and the call say how much of its past the data holds (with a short
-- history everything looks new, so such findings are reported at lower severity).
create or replace view compute_principal_history as
select principal, min(event_time) as first_seen
from (select coalesce(nullif(session_issuer_arn, ''), nullif(user_arn, ''), actor) as principal, event_time
      from events)
group by principal;
