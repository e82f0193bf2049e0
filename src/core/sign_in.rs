//! Ways in: the rules of single sign-on through a person's organisation (OpenID Connect, as NHS
//! Care Identity Service 2 and Microsoft Entra ID speak it) that do not need the network.
//!
//! The server checks tokens with a library ([`crate::server::sso`]); this module holds what a
//! site administrator sets for each provider and checks it, decides whether a first sign-in may
//! make or link an account, and says each refusal in words a person can act on. It is shared
//! with the app, which shows the providers on the sign-in page and the Accounts page.

use serde::{Deserialize, Serialize};

use super::validation::{self, ValidationError};

/// The longest provider name shown on a button ("Sign in with …").
pub const MAX_LABEL: usize = 60;
/// The most email domains one provider may be trusted for.
pub const MAX_DOMAINS: usize = 50;

/// A way to sign in through an organisation, as the sign-in page offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInOption {
    /// Short name in addresses (`/api/sso/{id}/start`).
    pub id: String,
    /// Whom the button names: "NHS Care Identity", "Northshire Council".
    pub label: String,
}

/// Everything the sign-in page needs to know before anyone has signed in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInOptions {
    pub providers: Vec<SignInOption>,
}

/// How the app proves who it is to a provider when it swaps a sign-in's code for tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthentication {
    /// A shared secret (`client_secret_basic`): Entra ID's usual set-up.
    Secret,
    /// A short-lived assertion signed with the app's own private key (`private_key_jwt`): what
    /// CIS2 requires. The public half is published at `/api/sso/jwks.json`.
    PrivateKeyJwt,
}

/// A provider as a site administrator set it up, without its secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderSettings {
    pub id: String,
    pub label: String,
    /// The provider's issuer: its discovery document is at
    /// `{issuer}/.well-known/openid-configuration` and must name exactly this issuer.
    pub issuer: String,
    pub client_id: String,
    pub client_authentication: ClientAuthentication,
    /// Space-separated scopes asked for; `openid` is always among them.
    pub scopes: String,
    /// The ID token claim that holds the person's email address (`email`; Entra ID's
    /// `preferred_username` or `upn` where email is not released).
    pub email_claim: String,
    /// Asked for as `acr_values` (CIS2: `AAL3_ANY` for a smartcard or another strong way in).
    pub acr_values: Option<String>,
    /// Email domains whose people may make an account by signing in here for the first time
    /// (lower case, no `@`). Anyone else needs an invitation from a site administrator.
    pub domains: Vec<String>,
}

impl ProviderSettings {
    /// Checks what an administrator typed, field by field, in words they can act on.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 32
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !id_ok {
            return Err(ValidationError::field(
                "id",
                "Enter a short name of up to 32 lower-case letters, digits and hyphens, like nhs-cis2",
            ));
        }
        validation::required_text(
            "label",
            "the name people see on the button",
            &self.label,
            MAX_LABEL,
        )?;
        if self.label.chars().any(char::is_control) {
            return Err(ValidationError::field(
                "label",
                "Enter the name on the button on one line",
            ));
        }
        if !issuer_is_acceptable(&self.issuer) {
            return Err(ValidationError::field(
                "issuer",
                "Enter the provider's issuer address, starting https:// (http:// only on this computer, for testing)",
            ));
        }
        validation::required_text(
            "client_id",
            "the client id the provider gave you",
            &self.client_id,
            200,
        )?;
        if !self.scopes.split_whitespace().any(|s| s == "openid")
            || self.scopes.len() > 500
            || self.scopes.chars().any(|c| c.is_control())
        {
            return Err(ValidationError::field(
                "scopes",
                "Enter the scopes separated by spaces, including openid",
            ));
        }
        let claim_ok = !self.email_claim.is_empty()
            && self.email_claim.len() <= 64
            && self
                .email_claim
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == ':');
        if !claim_ok {
            return Err(ValidationError::field(
                "email_claim",
                "Enter the name of the claim that holds the email address, like email",
            ));
        }
        if let Some(acr) = &self.acr_values {
            if acr.len() > 200 || acr.chars().any(|c| c.is_control()) {
                return Err(ValidationError::field(
                    "acr_values",
                    "Enter the acr values separated by spaces, like AAL3_ANY",
                ));
            }
        }
        if self.domains.len() > MAX_DOMAINS {
            return Err(ValidationError::field(
                "domains",
                format!("Enter at most {MAX_DOMAINS} email domains"),
            ));
        }
        if let Some(bad) = self.domains.iter().find(|d| !domain_is_acceptable(d)) {
            return Err(ValidationError::field(
                "domains",
                format!("\"{bad}\" is not an email domain: enter domains like northshire.gov.uk, without @"),
            ));
        }
        Ok(())
    }
}

/// An issuer address the server may fetch: `https://`, or `http://` to this computer only
/// (a test provider). Never a fragment or query, which discovery cannot carry.
pub fn issuer_is_acceptable(issuer: &str) -> bool {
    let rest = if let Some(rest) = issuer.strip_prefix("https://") {
        rest
    } else if let Some(rest) = issuer.strip_prefix("http://") {
        let loopback = ["127.0.0.1", "localhost", "[::1]"].iter().any(|host| {
            rest.strip_prefix(host)
                .is_some_and(|after| after.is_empty() || after.starts_with([':', '/']))
        });
        if !loopback {
            return false;
        }
        rest
    } else {
        return false;
    };
    !rest.is_empty()
        && issuer.len() <= 300
        && !issuer.contains(['?', '#', ' '])
        && !issuer.chars().any(|c| c.is_control())
}

fn domain_is_acceptable(domain: &str) -> bool {
    !domain.is_empty()
        && domain.len() <= 253
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
}

/// Domains as an administrator typed them (commas or spaces, any case, an `@` or not), tidied.
pub fn parse_domains(text: &str) -> Vec<String> {
    let mut domains: Vec<String> = text
        .split([',', ' ', '\n', ';'])
        .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
        .filter(|d| !d.is_empty())
        .collect();
    domains.sort();
    domains.dedup();
    domains
}

/// Whether `email`'s domain is exactly one of `domains` (a subdomain is another organisation).
pub fn domain_allowed(email: &str, domains: &[String]) -> bool {
    email
        .rsplit_once('@')
        .is_some_and(|(_, domain)| domains.iter().any(|d| d.eq_ignore_ascii_case(domain)))
}

/// What a person who has no link to this provider yet may do on signing in through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstSignIn {
    /// Link the provider's subject to the existing account with that email.
    LinkAccount,
    /// Make a new account (and directory entry) for them.
    MakeAccount,
    /// Refuse: nobody allowed it.
    Refuse(Refusal),
}

/// What the server knows about a person signing in through a provider for the first time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Newcomer {
    /// An account with the token's email exists.
    pub account_exists: bool,
    /// That account is disabled.
    pub account_disabled: bool,
    /// A site administrator invited that account to sign in through this provider.
    pub invited_here: bool,
    /// The email's domain is one the provider is trusted for.
    pub domain_allowed: bool,
}

impl Newcomer {
    /// Links only when an administrator allowed it, by domain or by invitation; never on a
    /// matching email alone.
    pub fn decide(self) -> FirstSignIn {
        if self.account_disabled {
            return FirstSignIn::Refuse(Refusal::AccountDisabled);
        }
        match (
            self.account_exists,
            self.invited_here || self.domain_allowed,
        ) {
            (_, false) => FirstSignIn::Refuse(Refusal::NotAllowed),
            (true, true) => FirstSignIn::LinkAccount,
            (false, true) => FirstSignIn::MakeAccount,
        }
    }
}

/// Why a sign-in through an organisation was refused. Each says what happened and what to do;
/// the detail (which check failed) goes to the sign-in record, not to the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// Nobody allowed this person's email domain or invited them.
    NotAllowed,
    /// Their account here is disabled.
    AccountDisabled,
    /// The provider did not release an email address, or says it is not verified.
    NoVerifiedEmail,
    /// The provider's answer failed a check (signature, issuer, audience, time, nonce…).
    TokenRejected,
    /// The sign-in was not started here, was already used, or took too long.
    FlowUnknown,
    /// The person cancelled, or the provider refused them.
    ProviderRefused,
    /// The provider could not be reached or answered nonsense.
    ProviderUnavailable,
    /// Too many failed sign-ins from this address lately.
    TooManyAttempts,
}

impl Refusal {
    /// The heading and the sentence a person sees.
    pub fn message(self, provider: &str) -> (&'static str, String) {
        match self {
            Self::NotAllowed => (
                "You do not have an account here yet",
                format!(
                    "{provider} says who you are, but nobody has allowed your organisation's email addresses here or invited you. Ask your MDT coordinator or practice manager to ask the site administrator to invite you."
                ),
            ),
            Self::AccountDisabled => (
                "Your account is switched off",
                "A site administrator has switched your account off. Ask them to switch it back on if you still need it.".to_owned(),
            ),
            Self::NoVerifiedEmail => (
                "Your email address could not be confirmed",
                format!(
                    "{provider} did not confirm an email address for you, so we cannot tell which account is yours. Ask your organisation's IT service desk to check your email address is verified, then try again."
                ),
            ),
            Self::TokenRejected => (
                "Your sign-in could not be checked",
                format!(
                    "The answer from {provider} did not pass our checks, so you are not signed in. Try again; if it happens again, tell the site administrator the time it happened."
                ),
            ),
            Self::FlowUnknown => (
                "That sign-in has expired",
                "The sign-in was already used, took longer than 10 minutes, or was started in another browser. Go back and choose the sign-in button again.".to_owned(),
            ),
            Self::ProviderRefused => (
                "You are not signed in",
                format!("{provider} did not sign you in (you may have cancelled). Go back and try again."),
            ),
            Self::ProviderUnavailable => (
                "The sign-in service is not answering",
                format!(
                    "We could not reach {provider}. Try again in a few minutes, or sign in with your email address and password if you have one."
                ),
            ),
            Self::TooManyAttempts => (
                "Too many attempts",
                "There have been too many failed sign-ins from here. Wait 15 minutes, then try again.".to_owned(),
            ),
        }
    }

    /// A short code for the sign-in record.
    pub fn code(self) -> &'static str {
        match self {
            Self::NotAllowed => "not_allowed",
            Self::AccountDisabled => "account_disabled",
            Self::NoVerifiedEmail => "no_verified_email",
            Self::TokenRejected => "token_rejected",
            Self::FlowUnknown => "flow_unknown",
            Self::ProviderRefused => "provider_refused",
            Self::ProviderUnavailable => "provider_unavailable",
            Self::TooManyAttempts => "too_many_attempts",
        }
    }
}

/// How people sign in here, as the Accounts page shows and changes it (no secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInSettings {
    /// Every password account must use a second factor (site administrators always must).
    pub second_factor_required: bool,
    pub providers: Vec<ProviderSettings>,
    /// What to register with providers as the redirect URI (`None`: the server has no
    /// `--public-url`, so single sign-on cannot work yet).
    pub redirect_uri: Option<String>,
    /// Where providers fetch the public key of `private_key_jwt` client authentication.
    pub jwks_uri: Option<String>,
}

/// The second-factor rule, as the Accounts page sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecondFactorRule {
    pub required: bool,
}

/// A provider added or changed on the Accounts page. A secret or key left out keeps the one
/// stored (so an administrator can change the domains without the secret to hand).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderUpdate {
    pub settings: ProviderSettings,
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The RSA private key (PEM) for `private_key_jwt`.
    #[serde(default)]
    pub private_key_pem: Option<String>,
}

/// One of a person's sessions, as the "Where you are signed in" page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Names the session for ending it: a short, non-secret part of its stored hash.
    pub id: String,
    /// "Chrome on Android", from the browser's own description.
    pub device: String,
    /// "Password and authenticator app", "Through NHS Care Identity".
    pub how: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: chrono::DateTime<chrono::Utc>,
    /// The session of the request that asked.
    pub current: bool,
}

/// How a session began, in words: `how` as the server keeps it (`password`, `password+totp`,
/// `password+recovery code`, `sso:{provider}`), with the provider's name when known.
pub fn describe_sign_in(how: Option<&str>, provider_label: Option<&str>) -> String {
    match how {
        Some("password") => "Password".into(),
        Some("password+totp") => "Password and authenticator app".into(),
        Some("password+recovery code") => "Password and a recovery code".into(),
        Some(other) if other.starts_with("sso:") => format!(
            "Through {}",
            provider_label.unwrap_or_else(|| other.trim_start_matches("sso:"))
        ),
        _ => "Not recorded".into(),
    }
}

/// A browser's description (`User-Agent`) in a few words a person recognises: the browser and
/// the system, "Chrome on Android". Anything unrecognised is "Another browser".
pub fn describe_device(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.filter(|u| !u.trim().is_empty()) else {
        return "Unknown browser".into();
    };
    let browser = if ua.contains("Edg/") || ua.contains("EdgA/") || ua.contains("EdgiOS/") {
        "Edge"
    } else if ua.contains("SamsungBrowser/") {
        "Samsung Internet"
    } else if ua.contains("Firefox/") || ua.contains("FxiOS/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("CriOS/") || ua.contains("Chromium/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else {
        "Another browser"
    };
    let system = if ua.contains("Android") {
        "Android"
    } else if ua.contains("iPhone") {
        "iPhone"
    } else if ua.contains("iPad") {
        "iPad"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        "Mac"
    } else if ua.contains("CrOS") {
        "Chromebook"
    } else if ua.contains("Linux") {
        "Linux"
    } else {
        return browser.into();
    };
    format!("{browser} on {system}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ProviderSettings {
        ProviderSettings {
            id: "nhs-cis2".into(),
            label: "NHS Care Identity".into(),
            issuer: "https://am.nhsidentity.spineservices.nhs.uk/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare".into(),
            client_id: "mdt-app".into(),
            client_authentication: ClientAuthentication::PrivateKeyJwt,
            scopes: "openid email profile".into(),
            email_claim: "email".into(),
            acr_values: Some("AAL3_ANY".into()),
            domains: vec!["nhs.net".into()],
        }
    }

    #[test]
    fn a_cis2_like_provider_is_accepted() {
        assert_eq!(settings().validate(), Ok(()));
    }

    /// A change that spoils one field.
    type Spoil = fn(&mut ProviderSettings);

    #[test]
    fn each_bad_field_is_named() {
        let cases: Vec<(&str, Spoil)> = vec![
            ("id", |s: &mut ProviderSettings| s.id = "NHS CIS2".into()),
            ("id", |s| s.id = "x".repeat(33)),
            ("label", |s| s.label = " ".into()),
            ("label", |s| s.label = "a\nb".into()),
            ("issuer", |s| s.issuer = "http://idp.example.com".into()),
            ("issuer", |s| {
                s.issuer = "https://idp.example.com/?x=1".into()
            }),
            ("issuer", |s| s.issuer = "ftp://idp".into()),
            ("client_id", |s| s.client_id = String::new()),
            ("scopes", |s| s.scopes = "email profile".into()),
            ("email_claim", |s| s.email_claim = "e mail".into()),
            ("acr_values", |s| s.acr_values = Some("a\nb".into())),
            ("domains", |s| s.domains = vec!["@nhs.net".into()]),
            ("domains", |s: &mut ProviderSettings| {
                s.domains = vec!["localhost".into()]
            }),
            ("domains", |s: &mut ProviderSettings| {
                s.domains = vec!["a.b".into(); MAX_DOMAINS + 1]
            }),
        ];
        for (field, change) in cases {
            let mut s = settings();
            change(&mut s);
            let error = s.validate().expect_err(field);
            assert_eq!(error.field.as_deref(), Some(field), "{s:?}");
        }
    }

    #[test]
    fn plain_http_is_only_for_this_computer() {
        assert!(issuer_is_acceptable("http://127.0.0.1:9000"));
        assert!(issuer_is_acceptable("http://localhost:9000/oidc"));
        assert!(issuer_is_acceptable("http://[::1]:9000"));
        assert!(!issuer_is_acceptable("http://127.0.0.1.evil.example"));
        assert!(!issuer_is_acceptable("http://10.0.0.1"));
        assert!(!issuer_is_acceptable("https://"));
    }

    #[test]
    fn domains_are_tidied_and_matched_exactly() {
        let domains = parse_domains("Northshire.gov.uk, @nhs.net  nhs.net;");
        assert_eq!(domains, vec!["nhs.net", "northshire.gov.uk"]);
        assert!(domain_allowed("sam@NHS.net", &domains));
        assert!(!domain_allowed("sam@evil.nhs.net", &domains));
        assert!(!domain_allowed("sam@nhs.net.evil.example", &domains));
        assert!(!domain_allowed("no-at-sign", &domains));
    }

    /// Every combination: a link or a new account needs an administrator's say-so, and a
    /// disabled account is never let in.
    #[test]
    fn a_first_sign_in_needs_an_administrators_say_so() {
        for bits in 0..16u8 {
            let n = Newcomer {
                account_exists: bits & 1 != 0,
                account_disabled: bits & 1 != 0 && bits & 2 != 0,
                invited_here: bits & 4 != 0,
                domain_allowed: bits & 8 != 0,
            };
            let expected = if n.account_disabled {
                FirstSignIn::Refuse(Refusal::AccountDisabled)
            } else if !(n.invited_here || n.domain_allowed) {
                FirstSignIn::Refuse(Refusal::NotAllowed)
            } else if n.account_exists {
                FirstSignIn::LinkAccount
            } else {
                FirstSignIn::MakeAccount
            };
            assert_eq!(n.decide(), expected, "{n:?}");
        }
    }

    #[test]
    fn every_refusal_says_what_to_do() {
        for r in [
            Refusal::NotAllowed,
            Refusal::AccountDisabled,
            Refusal::NoVerifiedEmail,
            Refusal::TokenRejected,
            Refusal::FlowUnknown,
            Refusal::ProviderRefused,
            Refusal::ProviderUnavailable,
            Refusal::TooManyAttempts,
        ] {
            let (heading, text) = r.message("Northshire Council");
            assert!(!heading.is_empty() && text.len() > 40, "{r:?}");
            assert!(!r.code().is_empty());
        }
        assert!(Refusal::NotAllowed
            .message("Northshire Council")
            .1
            .contains("invite"));
    }

    #[test]
    fn devices_and_ways_in_are_said_in_words() {
        let cases = [
            ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome on Android"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Safari on iPhone"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Mac"),
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", "Chrome on Linux"),
            ("curl/8.5.0", "Another browser"),
        ];
        for (ua, expected) in cases {
            assert_eq!(describe_device(Some(ua)), expected, "{ua}");
        }
        assert_eq!(describe_device(None), "Unknown browser");
        assert_eq!(
            describe_sign_in(Some("password+totp"), None),
            "Password and authenticator app"
        );
        assert_eq!(
            describe_sign_in(Some("sso:nhs-cis2"), Some("NHS Care Identity")),
            "Through NHS Care Identity"
        );
        assert_eq!(describe_sign_in(Some("sso:gone"), None), "Through gone");
        assert_eq!(describe_sign_in(None, None), "Not recorded");
    }
}
