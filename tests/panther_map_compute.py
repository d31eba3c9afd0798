"""Panther rules that claim what analyze_compute.py detects (see panther_agreement.py)."""

MAPPING = {
    "AWS.EC2.LaunchUnusualEC2Instances": ("analyze_compute", "instances_launched_for_hijacking"),
    "AWS.EC2.Startup.Script.Change": ("analyze_compute", "instance_user_data_modified"),
    "AWS.Potential.Backdoor.Lambda": ("analyze_compute", "lambda_function_exposed"),
    "AWS.CloudTrail.SES.CheckSendQuota": ("analyze_compute", "ses_sending_enabled_by_new_principal"),
    "AWS.Bedrock.DeleteModelInvocationLoggingConfiguration": ("analyze_compute", "bedrock_model_access_or_logging_changed"),
    "AWS.SSM.DistributedCommand": ("analyze_compute", "ssm_command_or_session_started"),
    "AWS.EC2.MultiInstanceConnect": ("analyze_compute", "instance_ssh_key_pushed"),
    "AWS.Lambda.UpdateFunctionCode": ("analyze_compute", "lambda_function_modified_by_new_principal"),
    "AWS.Lambda.UpdateFunctionConfiguration": ("analyze_compute", "lambda_function_modified_by_new_principal"),
}

_ATTEMPT = "reported as a failed attempt (marked failed), as every failed call is"
_FIRST_IN_DATA = ("the data holds no earlier deployment of the function, so the change is reported; a role with "
                  "no history gets low severity. Panther decides 'normal CI/CD' from the identity type; the "
                  "toolkit from who deployed the function before")

DIFFERENCES = {
    ("AWS.Potential.Backdoor.Lambda", "Lambda Add Permission Event"):
        "the record has no principal; the toolkit reports permissions granted to everyone or another account, "
        "not every AddPermission",
    ("AWS.Potential.Backdoor.Lambda", "Lambda Add Permission Event v2"):
        "the record has no principal; the toolkit reports permissions granted to everyone or another account, "
        "not every AddPermission",
    ("AWS.SSM.DistributedCommand", "Single Command Send, Many Cached IDs"):
        "Panther counts instances across calls in its cache (a mock in its test); the toolkit counts the "
        "instances of one call, and this principal's first command is earlier in the same records",
    ("AWS.EC2.MultiInstanceConnect", "Public SSH Key Not Sent Successfully"): _ATTEMPT,
    ("AWS.Lambda.UpdateFunctionCode", "AssumedRole Updates Lambda Code (Normal CI/CD)"): _FIRST_IN_DATA,
    ("AWS.Lambda.UpdateFunctionConfiguration", "AssumedRole Updates Lambda Configuration with Layers (Normal CI/CD)"):
        _FIRST_IN_DATA,
}
