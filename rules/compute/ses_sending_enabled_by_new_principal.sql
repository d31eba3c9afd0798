/*
id: ses_sending_enabled_by_new_principal
title: SES sending checked, enabled or identities verified by a principal new to SES
severity: medium
mitre: [T1496, T1566]
status: stable
description: >
  Detects SES calls that prepare an account for sending mail - GetSendQuota,
  GetAccountSendingEnabled, UpdateAccountSendingEnabled, PutAccountDetails (production access
  request), VerifyEmailIdentity, VerifyDomainIdentity, CreateEmailIdentity - by a principal with
  no earlier SES call in the loaded data (one finding per principal). Stolen keys are routinely
  checked for SES quota and used to send phishing and spam from the victim's verified domains.
  High when the principal enabled sending, asked for production access or verified an identity.
false_positives: >
  The mail or marketing team's new automation; a developer setting up SES for a new application.
triage:
  - Check what was verified or enabled (details) and whether mail was sent (SendEmail and SendRawEmail are not in CloudTrail; check SES sending statistics).
  - Compare the principal with the identities that normally manage SES.
  - If unexpected, disable sending (aws sesv2 put-account-sending-attributes --no-sending-enabled) and revoke the credentials.
references:
  - https://docs.aws.amazon.com/ses/latest/dg/logging-using-cloudtrail.html
  - https://permiso.io/blog/s/aws-ses-pionage-detecting-ses-abuse/
  - https://www.wiz.io/blog/wiz-discovers-cloud-email-abuse-campaign
  - https://attack.mitre.org/techniques/T1496/
*/
with calls as (
    select *
    from compute_events
    where event_source in ('ses.amazonaws.com', 'email.amazonaws.com')
      and event_name in ('GetSendQuota', 'GetAccountSendingEnabled', 'UpdateAccountSendingEnabled',
                         'PutAccountDetails', 'PutAccountSendingAttributes', 'VerifyEmailIdentity',
                         'VerifyDomainIdentity', 'VerifyEmailAddress', 'CreateEmailIdentity', 'GetAccount')
),
first_calls as (
    select principal, min(event_time) as first_time
    from calls
    group by principal
),
new_to_ses as (
    -- One level of correlation only (Spark cannot resolve c inside a subquery of a subquery);
    -- a left join keeps calls without a principal, as the subquery did.
    select c.*
    from calls as c
    left join first_calls as f on f.principal = c.principal
    where not exists (select 1 from compute_history as h
                      where h.principal = c.principal and h.event_source in ('ses.amazonaws.com', 'email.amazonaws.com')
                        and h.event_time < f.first_time)
)
select
    list(event_id order by event_time, event_id)[1] as event_id,
    list(event_id order by event_time, event_id) as event_ids,
    coalesce(array_to_string(list(distinct coalesce(request_parameters->>'$.emailIdentity', request_parameters->>'$.emailAddress',
                                                    request_parameters->>'$.domain')
                                  order by coalesce(request_parameters->>'$.emailIdentity', request_parameters->>'$.emailAddress',
                                                    request_parameters->>'$.domain')), ', '), 'SES') as resource,
    concat(case when count(*) filter (where error_code is null) = 0 then 'attempt: ' else '' end,
           'first SES calls by ', principal, ' in the data: ', array_to_string(list(distinct event_name order by event_name), ', ')) as summary,
    {'actions': list(distinct event_name order by event_name), 'calls': count(*),
     'failed': count(*) filter (where error_code is not null)} as details,
    case when bool_or(event_name in ('UpdateAccountSendingEnabled', 'PutAccountDetails', 'PutAccountSendingAttributes',
                                     'VerifyEmailIdentity', 'VerifyDomainIdentity', 'VerifyEmailAddress', 'CreateEmailIdentity'))
         then 'high' end as severity
from new_to_ses
group by principal
