-- Sign-in events, normalised once: a ConsoleLogin failure has responseElements.ConsoleLogin
-- "Failure" and errorMessage "Failed authentication" but often no errorCode; MFAUsed is
-- "Yes"/"No"; failed sign-ins carry no userIdentity.arn. Over all data (baselines need
-- history before the window); console_logins is the part inside the run's window.

create or replace view console_logins_all as
select
    *,
    coalesce(response_elements->>'$.ConsoleLogin' = 'Success', false) and error_code is null as succeeded,
    coalesce(response_elements->>'$.ConsoleLogin' = 'Failure', false)
        or coalesce(error_message = 'Failed authentication', false)
        or error_code is not null as failed,
    lower(additional_event_data->>'$.MFAUsed') as mfa_used,
    coalesce(user_arn, concat(recipient_account_id, ':', coalesce(user_name, principal_id, user_type))) as login_identity,
    coalesce(user_name, regexp_extract(user_arn, '([^/:]+)$', 1), user_type, '(unknown)') as signin_user,
    coalesce(user_type in ('AssumedRole', 'FederatedUser'), false)
        or coalesce(user_arn like '%:assumed-role/AWSReservedSSO%', false)
        or additional_event_data->>'$.SamlProviderArn' is not null as federated
from events
where event_source = 'signin.amazonaws.com'
  and event_name = 'ConsoleLogin';

create or replace view console_logins as
select *
from console_logins_all
where in_window(event_time);
