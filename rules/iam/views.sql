-- IAM events, normalised once. Over all data (a group's admin policy or a customer policy's
-- document may be recorded before the window); iam_events is the part inside the window.
--
-- target_user / target_role / target_group: what the call acts on, as the request names it;
-- NULL when the request names no user, which means the caller itself (a key CreateAccessKey
-- makes without userName is the caller's own, whatever responseElements.accessKey.userName
-- echoes). A denied call often has requestParameters null; its errorMessage still names the
-- target ("... on resource: user bob because ..."). Root's own MFA calls name the user
-- "AWS ROOT USER": that is root itself.
-- caller_user: the caller's own IAM user name (IAM users only). IAM names are not
-- distinguished by case, so they are compared lower-cased on purpose.

create or replace view iam_events_all as
select
    *,
    case
        when request_parameters->>'$.userName' = 'AWS ROOT USER' then null
        else coalesce(
            request_parameters->>'$.userName',
            nullif(regexp_extract(error_message,
                'on resource: (?:user |arn:aws[a-z-]*:iam::[0-9]*:user/(?:[^ ]*/)?)([^ /]+)', 1), ''))
    end as target_user,
    coalesce(
        request_parameters->>'$.roleName',
        nullif(regexp_extract(error_message,
            'on resource: (?:role |arn:aws[a-z-]*:iam::[0-9]*:role/(?:[^ ]*/)?)([^ /]+)', 1), '')) as target_role,
    coalesce(
        request_parameters->>'$.groupName',
        nullif(regexp_extract(error_message,
            'on resource: (?:group |arn:aws[a-z-]*:iam::[0-9]*:group/(?:[^ ]*/)?)([^ /]+)', 1), '')) as target_group,
    case
        when user_type = 'IAMUser'
        then coalesce(nullif(regexp_extract(user_arn, ':user/(?:.*/)?([^/]+)$', 1), ''), user_name)
    end as caller_user,
    case
        when user_type = 'AssumedRole' then nullif(regexp_extract(user_arn, '/([^/]+)$', 1), '')
    end as session_name,
    case
        when target_user is null then false
        when caller_user is not null then lower(target_user) <> lower(caller_user)
        else true
    end as targets_other_user
from events
where event_source = 'iam.amazonaws.com';

create or replace view iam_events as
select *
from iam_events_all
where in_window(event_time);

-- Trust policies written (CreateRole, UpdateAssumeRolePolicy), the document as recorded, for the
-- two Python rules that read them. Malformed-document failures are principal enumeration
-- (principals_enumerated_via_trust_policy), not trust changes. CloudTrail replaces
-- requestParameters that are too large with {"omitted": true, "reason": ...}: omitted_note says so.
create or replace view iam_trust_policy_writes as
select
    event_id,
    event_name,
    recipient_account_id as account_id,
    target_role,
    coalesce(request_parameters->>'$.policyDocument', request_parameters->>'$.assumeRolePolicyDocument') as policy_document,
    case when request_parameters->>'$.omitted' = 'true'
         then concat('CloudTrail omitted requestParameters (', coalesce(request_parameters->>'$.reason', 'no reason given'),
                     ', original size ', coalesce(request_parameters->>'$.originalSize', '?'), ' bytes)')
    end as omitted_note
from iam_events
where event_name in ('UpdateAssumeRolePolicy', 'CreateRole')
  and coalesce(error_code, '') not like 'MalformedPolicyDocument%';
