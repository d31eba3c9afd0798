"""Panther rules that claim what analyze_iam.py detects (see panther_agreement.py)."""

MAPPING = {
    "AWS.IAM.CreateUser": ("analyze_iam", "iam_user_created"),
    "AWS.IAM.Backdoor.User.Keys": ("analyze_iam", "access_key_created_for_another_user"),
    "AWS.CloudTrail.RootAccessKeyCreated": ("analyze_iam", "root_access_key_created"),
    "AWS.CloudTrail.LoginProfileCreatedOrModified": ("analyze_iam", "login_profile_set_for_another_user"),
    "AWS.User.Login.Profile.Modified": ("analyze_iam", "login_profile_set_for_another_user"),
    "AWS.IAM.AttachAdminUserPolicy": ("analyze_iam", "admin_policy_attached"),
    "AWS.IAM.AttachAdminRolePolicy": ("analyze_iam", "admin_policy_attached"),
    "AWS.IAM.BackdoorRole": ("analyze_iam", "role_trust_granted_to_outside_principal"),
    "AWS.Suspicious.SAML.Activity": ("analyze_iam", "identity_provider_changed"),
    "AWS.CloudTrail.IAMCompromisedKeyQuarantine": ("analyze_iam", "access_key_quarantined_by_aws"),
    "AWS.IAM.AccessKeyCompromised": ("analyze_iam", "access_key_quarantined_by_aws"),
}

_SESSION_NAME = ("a role session (assumed-role/IAM/alice) changed IAM user alice's password. Panther treats an "
                 "ARN ending in /alice as alice herself; whoever calls AssumeRole chooses the session name, so "
                 "the toolkit treats only an IAM user acting on itself as self, and reports this at medium")

DIFFERENCES = {
    ("AWS.CloudTrail.LoginProfileCreatedOrModified", "ChangeOwnPassword"): _SESSION_NAME,
    ("AWS.User.Login.Profile.Modified", "ChangeOwnPassword"): _SESSION_NAME,
    ("AWS.User.Login.Profile.Modified", "User changed password for other reset required"):
        "whoever sets another user's password with passwordResetRequired can still sign in as that user once "
        "and choose the next password; reported at medium instead of dropped",
}
