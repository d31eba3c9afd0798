"""Panther rules that claim what analyze_console_logins.py detects (see panther_agreement.py)."""

MAPPING = {
    "AWS.Console.RootLogin": ("analyze_console_logins", "root_console_login_succeeded"),
    "AWS.Console.LoginWithoutMFA": ("analyze_console_logins", "console_login_succeeded_without_mfa"),
    "AWS.Console.RootLoginFailed": ("analyze_console_logins", "console_login_failed"),
    "AWS.CloudTrail.PasswordSpraying": ("analyze_console_logins", "console_login_failed"),
    "Standard.BruteForceByIP": ("analyze_console_logins", "console_login_failed"),
    "Standard.BruteForceByUser": ("analyze_console_logins", "console_login_failed"),
    "AWS.Unsuccessful.MFA.attempt": ("analyze_console_logins", "console_mfa_failed"),
    "AWS.Console.GetSigninToken.Abuse": ("analyze_console_logins", "console_signin_token_requested"),
    "AWS.CloudTrail.RootPasswordChanged": ("analyze_console_logins", "root_password_changed_or_recovered"),
}

DIFFERENCES = {
    ("AWS.Console.LoginWithoutMFA", "No MFA Login - New User"):
        "Panther looks the user up in its own history (a mock in its test) and skips brand-new users; "
        "the toolkit has no such lookup and reports the sign-in",
    ("AWS.CloudTrail.RootPasswordChanged", "Root Password Change Failed"):
        "reported as a failed attempt (marked failed), as every failed call is",
}
