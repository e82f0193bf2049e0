//! Request and response bodies of the JSON API that are not part of sync.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::directory::Role;

/// Sign-in form.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    pub email: String,
    pub password: String,
}

/// The password was right, and a second factor is needed before a session begins: the
/// answer to a sign-in (`202 Accepted`) for an account that has one, or must set one up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactorNeeded {
    /// Names this sign-in while it waits (a random token, good for 10 minutes and 5 tries).
    pub pending: String,
    /// No second factor yet, and one is required: set one up first.
    pub set_up: bool,
}

/// A code for a waiting sign-in: six digits from the authenticator app, or a recovery code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecondFactorCode {
    pub pending: String,
    pub code: String,
}

/// Asks for a new authenticator secret for a waiting sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecondFactorSetUpRequest {
    pub pending: String,
}

/// What an authenticator app needs: the QR code to scan, and the same key as text to type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactorSetUp {
    /// The key in base32, in groups of four.
    pub secret: String,
    /// The `otpauth://totp/…` address the QR code holds.
    pub uri: String,
    /// The QR code as SVG markup (made by the server from `uri`).
    pub qr_svg: String,
}

/// A second factor set up: the session has begun, and these recovery codes are shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondFactorReady {
    pub user: CurrentUser,
    pub recovery_codes: Vec<String>,
}

/// The signed-in user, as the app needs to know them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurrentUser {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    /// The user's own entry in the directory: team membership is by person.
    pub person_id: Uuid,
    /// May manage accounts (the Accounts page). Gives no access to patient data.
    #[serde(default)]
    pub site_admin: bool,
    /// This session began with single sign-on through the person's organisation, not a
    /// password: the app asks for an offline passphrase to protect the device's copy.
    #[serde(default)]
    pub signed_in_through_organisation: bool,
}

/// An account as a site administrator sees it: nothing about teams or patients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub site_admin: bool,
    pub created_at: DateTime<Utc>,
    /// When a live session of theirs was last used (`None`: no session now).
    pub last_active: Option<DateTime<Utc>>,
}

/// A site administrator's form for a new account; the password is a first password the
/// administrator passes on, which the person should change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Ignored when `sso` is given.
    pub password: String,
    /// No password: they sign in only through this single sign-on provider, invited to it
    /// whatever their email domain.
    #[serde(default)]
    pub sso: Option<String>,
}

/// A new password set by a site administrator (ends the account's sessions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    pub password: String,
}

/// Every error body the API sends: a sentence a person can act on, never internals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub error: String,
}

/// Finding a colleague who already has an account, by their exact sign-in email, so a
/// coordinator can add them to a team without seeing the whole user list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColleagueLookup {
    pub email: String,
}

/// The colleague found: enough to add them as a member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Colleague {
    pub person_id: Uuid,
    pub name: String,
}

/// Which of a team's coordinator and members have no account: a coordinator keeps their
/// availability and acts for them, and nobody waits on them to answer in the app.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembersWithoutAccounts {
    pub person_ids: Vec<Uuid>,
}

/// The server's half of the key that opens this user's offline copy on a device (see
/// `docs/hazard-log.md`, "Offline copy"). Sent only to a signed-in session, so a stolen laptop
/// without the password or a live session cannot read the copy. 32 bytes, hex.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceKey {
    pub device_key: String,
}

/// Whether the server sends email, and what the signed-in person chose to receive
/// (`GET /api/email`, and the answer of `PUT /api/email/preferences`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailSettings {
    pub on: bool,
    pub preferences: super::mail::MailPreferences,
}

/// What the coordinator chases by email (`POST /api/chase`): a missing brief (by its agenda
/// item) or an overdue action, one of the two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChaseBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_id: Option<Uuid>,
}

/// Whom a chase went to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChaseSent {
    pub to: String,
}
