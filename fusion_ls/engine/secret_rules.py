"""Credential formats with a shape of their own: a prefix, a length, an alphabet.

Each line names where the format is documented: gitleaks' config/gitleaks.toml, detect-secrets'
plugins, secretlint's rule packages, or the provider. The patterns are ours, written from those
formats. A value that matches is a secret wherever it stands, so these need no context; values
without a shape of their own (passwords, hex keys, UUIDs) are found by their context instead
(see redact.py).

Order matters where prefixes overlap: the first rule that matches at a position wins. The
keywords are how redact.py stays fast: a rule is tried only on text holding one of them.

The module is longer than 450 lines because it is a table: one entry per documented format.
"""

from __future__ import annotations

from dataclasses import dataclass

_B = r"(?<![A-Za-z0-9_])"  # starts a token: not glued to a word before it
_E = r"(?![A-Za-z0-9_])"  # ends one
_EH = r"(?![A-Za-z0-9_-])"  # ends one whose alphabet has "-"


@dataclass(frozen=True)
class TokenRule:
    kind: str  # the placeholder's name: [REDACTED:kind]
    pattern: str
    source: str  # where the format is documented
    keywords: tuple[str, ...]  # one of them, lowercased, is in every match: tried first


TOKEN_RULES: tuple[TokenRule, ...] = (
    # -- model providers
    TokenRule(
        "openrouter-key",
        r"sk-or-v1-[A-Za-z0-9]{20,}",
        "OpenRouter keys: sk-or-v1- + 64 hex",
        ("sk-or-",),
    ),
    TokenRule(
        "anthropic-key",
        r"sk-ant-[A-Za-z0-9_-]{20,}",
        "gitleaks anthropic-api-key, -admin-api-key",
        ("sk-ant-",),
    ),
    TokenRule(
        "openai-key",
        _B + r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
        "gitleaks openai-api-key",
        ("sk-",),
    ),
    TokenRule(
        "groq-key",
        _B + r"gsk_[A-Za-z0-9]{52}" + _E,
        "secretlint rule-groq",
        ("gsk_",),
    ),
    TokenRule(
        "perplexity-key",
        _B + r"pplx-[A-Za-z0-9]{48}" + _E,
        "gitleaks perplexity-api-key",
        ("pplx-",),
    ),
    # -- clouds
    TokenRule(
        "aws-access-key",
        r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b",
        "gitleaks aws-access-token",
        ("a3t", "akia", "asia", "abia", "acca", "agpa", "aida", "aroa"),
    ),
    TokenRule(
        "aws-bedrock-key",
        _B + r"ABSK[A-Za-z0-9+/]{109,269}={0,2}",
        "gitleaks aws-amazon-bedrock-api-key-long-lived",
        ("absk",),
    ),
    TokenRule(
        "google-api-key",
        _B + r"AIza[0-9A-Za-z_-]{35}" + _EH,
        "gitleaks gcp-api-key",
        ("aiza",),
    ),
    TokenRule(
        "azure-storage-key",
        r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])",
        "detect-secrets azure_storage_key.py (88 base64)",
        ("==",),
    ),
    TokenRule(
        "azure-ad-client-secret",
        r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])",
        "gitleaks azure-ad-client-secret",
        ("q~",),
    ),
    TokenRule(
        "alibaba-access-key",
        _B + r"LTAI[A-Za-z0-9]{20}" + _E,
        "gitleaks alibaba-access-key-id",
        ("ltai",),
    ),
    TokenRule(
        "digitalocean-token",
        _B + r"do[opr]_v1_[a-f0-9]{64}" + _E,
        "gitleaks digitalocean-pat/-access-token/-refresh-token",
        ("_v1_",),
    ),
    TokenRule(
        "heroku-api-key",
        _B + r"HRKU-AA[0-9A-Za-z_-]{58}" + _EH,
        "gitleaks heroku-api-key-v2",
        ("hrku-",),
    ),
    TokenRule(
        "databricks-token",
        _B + r"dapi[a-f0-9]{32}(?:-\d)?" + _E,
        "gitleaks databricks-api-token; secretlint rule-databricks",
        ("dapi",),
    ),
    TokenRule(
        "vercel-token",
        _B + r"v(?:cp|ci|ca|cr|ck)_[A-Za-z0-9]{20,60}" + _E,
        "secretlint rule-vercel",
        ("vcp_", "vci_", "vca_", "vcr_", "vck_"),
    ),
    TokenRule(
        "cloudflare-token",
        _B + r"cf(?:k|ut|at)_[A-Za-z0-9]{40}[0-9a-f]{8}" + _E,
        "secretlint rule-cloudflare",
        ("cfk_", "cfut_", "cfat_"),
    ),
    TokenRule(
        "openshift-token",
        _B + r"sha256~[A-Za-z0-9_-]{43}" + _EH,
        "gitleaks openshift-user-token",
        ("sha256~",),
    ),
    TokenRule(
        "scalingo-token",
        _B + r"tk-us-[A-Za-z0-9_-]{48}" + _EH,
        "gitleaks scalingo-api-token",
        ("tk-us-",),
    ),
    TokenRule(
        "flyio-token",
        _B + r"fo1_[A-Za-z0-9_-]{43}" + _EH,
        "gitleaks flyio-access-token",
        ("fo1_",),
    ),
    TokenRule(
        "tailscale-key",
        _B + r"tskey-[a-z]{2,20}-[0-9A-Za-z_]{8,40}-[0-9A-Za-z_]{16,60}" + _E,
        "secretlint rule-tailscale",
        ("tskey-",),
    ),
    TokenRule(
        "terraform-token",
        _B + r"[a-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}" + _EH,
        "gitleaks hashicorp-tf-api-token",
        (".atlasv1.",),
    ),
    TokenRule(
        "vault-token",
        _B + r"hv[sbr]\.[A-Za-z0-9_-]{90,300}" + _EH,
        "gitleaks vault-service-token/-batch-token; secretlint rule-hashicorp-vault",
        ("hvs.", "hvb.", "hvr."),
    ),
    TokenRule(
        "pulumi-token",
        _B + r"pul-[a-f0-9]{40}" + _E,
        "gitleaks pulumi-api-token",
        ("pul-",),
    ),
    TokenRule(
        "planetscale-token",
        _B + r"pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_=.-]{32,64}" + _EH,
        "gitleaks planetscale-api-token/-password/-oauth-token",
        ("pscale_",),
    ),
    TokenRule(
        "doppler-token",
        _B + r"dp\.pt\.[A-Za-z0-9]{43}" + _E,
        "gitleaks doppler-api-token",
        ("dp.pt.",),
    ),
    TokenRule(
        "dynatrace-token",
        _B + r"dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}" + _E,
        "gitleaks dynatrace-api-token",
        ("dt0c01.",),
    ),
    TokenRule(
        "infracost-key",
        _B + r"ico-[A-Za-z0-9]{32}" + _E,
        "gitleaks infracost-api-token",
        ("ico-",),
    ),
    TokenRule(
        "prefect-key",
        _B + r"pnu_[A-Za-z0-9]{36}" + _E,
        "gitleaks prefect-api-token",
        ("pnu_",),
    ),
    TokenRule(
        "grafana-token",
        _B
        + r"(?:glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"
        + _E
        + r"|glc_[A-Za-z0-9+/]{32,400}={0,2}|eyJrIjoi[A-Za-z0-9]{70,400}={0,2})",
        "gitleaks grafana-*; secretlint rule-grafana",
        ("glsa_", "glc_", "eyjrijoi"),
    ),
    # -- code hosting and packages
    TokenRule(
        "github-token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
        "gitleaks github-pat/-oauth/-app-token/-refresh-token/-fine-grained-pat",
        ("gh", "github_pat_"),
    ),
    TokenRule(
        "gitlab-token",
        _B + r"(?:gl(?:pat|dt|rt|ft|soat|ffct)-[A-Za-z0-9_-]{20,}|glptt-[0-9a-f]{40}"
        r"|gloas-[A-Za-z0-9_-]{64}|glimt-[A-Za-z0-9_-]{25}|glagent-[A-Za-z0-9_-]{50}"
        r"|glcbt-[0-9a-zA-Z]{1,5}_[A-Za-z0-9_-]{20}|GR1348941[A-Za-z0-9_-]{20})" + _EH,
        "gitleaks gitlab-pat/-deploy-token/-runner-authentication-token/-ptt/-rrt/…",
        ("gl", "gr1348941"),
    ),
    TokenRule(
        "npm-token",
        _B + r"npm_[A-Za-z0-9]{36}" + _E,
        "gitleaks npm-access-token; secretlint rule-npm",
        ("npm_",),
    ),
    TokenRule(
        "pypi-token",
        r"pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,}",
        "gitleaks pypi-upload-token; detect-secrets pypi_token.py",
        ("pypi-",),
    ),
    TokenRule(
        "rubygems-key",
        _B + r"rubygems_[a-f0-9]{48}" + _E,
        "gitleaks rubygems-api-token",
        ("rubygems_",),
    ),
    TokenRule(
        "clojars-token",
        _B + r"CLOJARS_[A-Za-z0-9]{60}" + _E,
        "gitleaks clojars-api-token",
        ("clojars_",),
    ),
    TokenRule(
        "artifactory-key",
        _B + r"(?:AKCp[A-Za-z0-9]{69}|cmVmd[A-Za-z0-9]{59})" + _E,
        "gitleaks artifactory-api-key/-reference-token",
        ("akcp", "cmvmd"),
    ),
    TokenRule(
        "docker-pat",
        _B + r"dckr_pat_[A-Za-z0-9_-]{27}" + _EH,
        "secretlint rule-docker",
        ("dckr_pat_",),
    ),
    TokenRule(
        "sourcegraph-token",
        _B + r"sgp_(?:(?:[a-fA-F0-9]{16}|local)_)?[a-fA-F0-9]{40}" + _E,
        "gitleaks sourcegraph-access-token",
        ("sgp_",),
    ),
    TokenRule(
        "huggingface-token",
        _B + r"(?:hf_|api_org_)[A-Za-z]{34}" + _E,
        "gitleaks huggingface-access-token/-organization-api-token",
        ("hf_", "api_org_"),
    ),
    TokenRule(
        "readme-key",
        _B + r"rdme_[a-z0-9]{70}" + _E,
        "gitleaks readme-api-token",
        ("rdme_",),
    ),
    TokenRule(
        "age-secret-key",
        r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
        "gitleaks age-secret-key",
        ("age-secret-key-1",),
    ),
    TokenRule(
        "onepassword-token",
        _B + r"ops_eyJ[A-Za-z0-9+/]{100,}={0,3}",
        "gitleaks 1password-service-account-token; secretlint rule-1password",
        ("ops_eyj",),
    ),
    # -- payments, messaging, SaaS
    TokenRule(
        "stripe-key",
        _B + r"[rs]k_(?:live|test|prod)_[A-Za-z0-9]{10,99}" + _E,
        "gitleaks stripe-access-token; detect-secrets stripe.py",
        ("k_live_", "k_test_", "k_prod_"),
    ),
    TokenRule(
        "square-token",
        _B
        + r"(?:EAAA[A-Za-z0-9_-]{22,60}|sq0atp-[A-Za-z0-9_-]{22,60}|sq0csp-[A-Za-z0-9_-]{43})"
        + _EH,
        "gitleaks square-access-token; detect-secrets square_oauth.py",
        ("eaaa", "sq0atp-", "sq0csp-"),
    ),
    TokenRule(
        "shopify-token",
        _B + r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}" + _E,
        "gitleaks shopify-*; secretlint rule-shopify",
        ("shpat_", "shpca_", "shppa_", "shpss_"),
    ),
    TokenRule(
        "shippo-token",
        _B + r"shippo_(?:live|test)_[a-fA-F0-9]{40}" + _E,
        "gitleaks shippo-api-token",
        ("shippo_",),
    ),
    TokenRule(
        "easypost-key",
        _B + r"EZ[AT]K[A-Za-z0-9]{54}" + _E,
        "gitleaks easypost-api-token/-test-api-token",
        ("ezak", "eztk"),
    ),
    TokenRule(
        "flutterwave-key",
        _B + r"FLW(?:SECK|PUBK)_TEST-?[a-hA-H0-9]{12,32}(?:-X)?" + _E,
        "gitleaks flutterwave-*",
        ("flwseck_test", "flwpubk_test"),
    ),
    TokenRule(
        "duffel-token",
        _B + r"duffel_(?:test|live)_[A-Za-z0-9_=-]{43}" + _EH,
        "gitleaks duffel-api-token",
        ("duffel_",),
    ),
    TokenRule(
        "twilio-key",
        r"\b(?:SK[0-9a-fA-F]{32}|AC[0-9a-f]{32})\b",
        "gitleaks twilio-api-key; detect-secrets twilio.py",
        ("sk", "ac"),
    ),
    TokenRule(
        "sendgrid-key",
        _B + r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}" + _EH,
        "gitleaks sendgrid-api-token; detect-secrets sendgrid.py",
        ("sg.",),
    ),
    TokenRule(
        "sendinblue-key",
        _B + r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}" + _E,
        "gitleaks sendinblue-api-token",
        ("xkeysib-",),
    ),
    TokenRule(
        "mailgun-key",
        _B + r"(?:pub)?key-[a-f0-9]{32}" + _E,
        "gitleaks mailgun-private-api-token/-pub-key",
        ("key-",),
    ),
    TokenRule(
        "mailgun-signing-key",
        _B + r"[a-f0-9]{32}-[a-f0-9]{8}-[a-f0-9]{8}" + _E,
        "gitleaks mailgun-signing-key",
        ("-",),
    ),
    TokenRule(
        "mailchimp-key",
        _B + r"[0-9a-f]{32}-us[0-9]{1,2}" + _E,
        "gitleaks mailchimp-api-key; detect-secrets mailchimp.py",
        ("-us",),
    ),
    TokenRule(
        "slack-token",
        r"\b(?:xox[abposre]-[A-Za-z0-9-]{10,}|xoxe\.xox[bp]-\d-[A-Za-z0-9]{100,}"
        r"|xapp-\d-[A-Za-z0-9-]{10,})",
        "gitleaks slack-*-token, slack-app-token; secretlint rule-slack",
        ("xox", "xapp-"),
    ),
    TokenRule(
        "slack-webhook",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_+-]{20,}",
        "gitleaks slack-webhook-url",
        ("hooks.slack.com",),
    ),
    TokenRule(
        "discord-webhook",
        r"https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]+",
        "Discord docs: Execute Webhook",
        ("/api/webhooks/",),
    ),
    TokenRule(
        "teams-webhook",
        r"https://[a-z0-9]+\.webhook\.office\.com/webhookb2/[A-Za-z0-9@/-]{60,}",
        "gitleaks microsoft-teams-webhook",
        ("webhook.office.com",),
    ),
    TokenRule(
        "discord-bot-token",
        _B + r"[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}" + _EH,
        "detect-secrets discord.py",
        (".",),
    ),
    TokenRule(
        "telegram-bot-token",
        r"\b\d{5,16}:A[A-Za-z0-9_-]{34}" + _EH,
        "gitleaks telegram-bot-api-token; detect-secrets telegram_token.py",
        (":a",),
    ),
    TokenRule(
        "linear-key",
        _B + r"lin_api_[A-Za-z0-9]{40}" + _E,
        "gitleaks linear-api-key; secretlint rule-linear",
        ("lin_api_",),
    ),
    TokenRule(
        "notion-token",
        _B + r"(?:ntn_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43})" + _E,
        "gitleaks notion-api-token; Notion docs (legacy secret_)",
        ("ntn_", "secret_"),
    ),
    TokenRule(
        "postman-key",
        _B + r"PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}" + _E,
        "gitleaks postman-api-token",
        ("pmak-",),
    ),
    TokenRule(
        "sentry-token",
        _B + r"(?:sntryu_[a-f0-9]{64}" + _E + r"|sntrys_eyJ[A-Za-z0-9+/=_]{40,})",
        "gitleaks sentry-user-token/-org-token",
        ("sntryu_", "sntrys_"),
    ),
    TokenRule(
        "atlassian-token",
        _B + r"ATATT3[A-Za-z0-9_=-]{150,}",
        "gitleaks atlassian-api-token",
        ("atatt3",),
    ),
    TokenRule(
        "figma-token",
        _B + r"figd_[A-Za-z0-9_-]{40,200}" + _EH,
        "secretlint rule-figma",
        ("figd_",),
    ),
    TokenRule(
        "frameio-token",
        _B + r"fio-u-[A-Za-z0-9_=-]{64}" + _EH,
        "gitleaks frameio-api-token",
        ("fio-u-",),
    ),
    TokenRule(
        "newrelic-key",
        _B + r"(?:NRAK-[A-Z0-9]{27}|NRII-[A-Za-z0-9_-]{32}|NRJS-[a-f0-9]{19})" + _EH,
        "gitleaks new-relic-*",
        ("nrak-", "nrii-", "nrjs-"),
    ),
    TokenRule(
        "mapbox-token",
        _B + r"sk\.eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}",
        "gitleaks mapbox-api-token (sk. = secret)",
        ("sk.eyj",),
    ),
    TokenRule(
        "facebook-token",
        _B + r"EAA[MC][A-Za-z0-9]{100,}" + _E,
        "gitleaks facebook-page-access-token",
        ("eaam", "eaac"),
    ),
    TokenRule(
        "django-secret-key",
        _B + r"django-insecure-[a-z0-9!@#$%^&*(\-_=+)]{40,}",
        "Django startproject: SECRET_KEY = 'django-insecure-' + get_random_secret_key()",
        ("django-insecure-",),
    ),
    # -- generic formats
    TokenRule(
        "jwt",
        r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
        "gitleaks jwt (RFC 7519)",
        ("eyj",),
    ),
)
