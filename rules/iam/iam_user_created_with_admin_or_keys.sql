/*
id: iam_user_created_with_admin_or_keys
title: New IAM user given admin rights and/or credentials by its creator
severity: critical
mitre: [T1136.003, T1098.001, T1098.003]
status: stable
description: >
  Detects the create-admin-user chain as one finding: a successful CreateUser followed, by the
  same caller within iam_chain_minutes, by admin rights for the new user (an admin-equivalent
  managed policy, an inline policy granting every action, or an administrative group) and/or
  credentials for it (an access key or console password). Critical when both admin rights and
  credentials were given; high when only one was. Every event of the chain is listed.
false_positives: >
  Administrators creating a new admin by hand; provisioning scripts creating service users with
  keys (high, not critical).
triage:
  - Ask the caller's owner whether they created this user.
  - Look for use of the new user's key or console sign-ins as the user.
  - 'If unexpected: delete the user''s keys and login profile, detach its policies, delete the user, and investigate the caller''s credentials.'
references:
  - https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-create-admin-user/
  - https://attack.mitre.org/techniques/T1136/003/
  - https://attack.mitre.org/techniques/T1098/001/
  - https://attack.mitre.org/techniques/T1098/003/
python: find_create_admin_chain
*/
-- Candidates: every successful CreateUser; find_create_admin_chain looks up what the same caller
-- gave the new user within iam_chain_minutes (its CHAIN_SQL).
select
    event_id,
    actor,
    target_user
from iam_events
where event_name = 'CreateUser'
  and error_code is null
