//! Single sign-on through a person's organisation: OpenID Connect's authorisation code flow
//! with PKCE, `state` and `nonce`, as NHS Care Identity Service 2 and Microsoft Entra ID run it.
//!
//! Every check of the provider's answer is the `openidconnect` crate's: discovery (the issuer
//! must match exactly), the ID token's signature against the provider's published keys (looked
//! up again once when a token names a key we have not seen: the provider rotated them), issuer,
//! audience, expiry, nonce, and an allow-list of asymmetric algorithms (never `none`, never an
//! HMAC). This module adds what the library leaves to its caller: the issue time (not in the
//! future, not stale), `acr` when the administrator asks for one, the state being ours, unused
//! and come back to the browser that started it, and the provider's word on the email.
//!
//! A person is linked to the provider's stable subject (`iss`, `sub`), never to an email alone;
//! the first sign-in links or makes an account only as [`Newcomer::decide`] allows. Every
//! sign-in and refusal is recorded ([`store::record_sign_in`]), refusals count against the
//! client's address like wrong passwords, and a disabled account is never let in.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenVerifier, CoreJsonWebKey, CoreJsonWebKeySet,
    CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRsaPrivateSigningKey,
};
use openidconnect::{
    reqwest, AuthenticationContextClass, AuthorizationCode, ClaimsVerificationError, ClientId,
    ClientSecret, CsrfToken, IssuerUrl, JsonWebKey, JsonWebKeyId, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, PrivateSigningKey, RedirectUrl, Scope, SignatureVerificationError,
    TokenResponse,
};
use serde::Deserialize;

use super::auth::{self, ClientAddress};
use super::error::{ApiJson, Error};
use super::store::{self, FlowRow, ProviderRow, SignInEvent, FLOW_LIFETIME};
use super::AppState;
use crate::core::sign_in::{
    domain_allowed, FirstSignIn, Newcomer, Refusal, SignInOption, SignInOptions,
};

/// The cookie that ties a sign-in under way to the browser that started it. `Lax`, so the
/// provider's redirect back (a cross-site navigation) carries it; only `/api/sso` sees it.
const FLOW_COOKIE: &str = "mdt_sso_flow";
/// Allowed difference between the provider's clock and ours.
pub const CLOCK_SKEW: Duration = Duration::seconds(60);
/// How long a provider's discovery document is kept before it is fetched again.
const DISCOVERY_KEPT: std::time::Duration = std::time::Duration::from_secs(3600);
/// The provider's keys are fetched again at most this often, when a token names a key we do
/// not have (so a flood of forged tokens cannot make us hammer the provider).
const KEYS_REFETCH_AFTER: std::time::Duration = std::time::Duration::from_secs(60);
/// How long any request to a provider may take.
const PROVIDER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The ID token signing algorithms accepted: asymmetric only.
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 8] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
];
/// The algorithm of our `private_key_jwt` client assertions (CIS2 requires RS512).
const ASSERTION_ALG: CoreJwsSigningAlgorithm = CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512;

/// The single sign-on routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/sign-in/options", get(options))
        .route("/api/sso/{provider}/start", get(start))
        .route("/api/sso/callback", get(callback))
        .route("/api/sso/jwks.json", get(jwks))
}

/// What this server has learnt about each provider (discovery and keys), shared by requests.
pub struct Providers {
    http: reqwest::Client,
    found: Mutex<HashMap<String, Discovered>>,
}

#[derive(Clone)]
struct Discovered {
    metadata: CoreProviderMetadata,
    fetched: Instant,
    /// When a token naming an unknown key last made us fetch the keys again.
    keys_refetched: Option<Instant>,
}

impl Default for Providers {
    fn default() -> Self {
        Self {
            http: reqwest::Client::builder()
                // Following a redirect would let a provider's answer send us anywhere.
                .redirect(reqwest::redirect::Policy::none())
                .timeout(PROVIDER_TIMEOUT)
                .build()
                .expect("the HTTP client builds"),
            found: Mutex::new(HashMap::new()),
        }
    }
}

fn cache_key(provider: &ProviderRow) -> String {
    format!(
        "{}\n{}\n{}",
        provider.settings.id, provider.settings.issuer, provider.settings.client_id
    )
}

impl Providers {
    /// The provider's discovery document and keys, fetched when not known or stale.
    async fn discover(&self, provider: &ProviderRow) -> Result<CoreProviderMetadata, String> {
        let key = cache_key(provider);
        if let Some(found) = self.found.lock().expect("lock").get(&key) {
            if found.fetched.elapsed() < DISCOVERY_KEPT {
                return Ok(found.metadata.clone());
            }
        }
        let issuer = IssuerUrl::new(provider.settings.issuer.clone()).map_err(|e| e.to_string())?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| format!("discovery: {}", error_chain(&e)))?;
        let mut found = self.found.lock().expect("lock");
        let keys_refetched = found.get(&key).and_then(|known| known.keys_refetched);
        found.insert(
            key,
            Discovered {
                metadata: metadata.clone(),
                fetched: Instant::now(),
                keys_refetched,
            },
        );
        Ok(metadata)
    }

    /// Fetches the provider's keys again (it may have rotated them), unless a token naming an
    /// unknown key made us do so within [`KEYS_REFETCH_AFTER`]; the updated metadata, or
    /// `None` when too soon.
    async fn refetch_keys(&self, provider: &ProviderRow) -> Option<CoreProviderMetadata> {
        let key = cache_key(provider);
        let mut metadata = {
            let found = self.found.lock().expect("lock");
            let known = found.get(&key)?;
            if known
                .keys_refetched
                .is_some_and(|at| at.elapsed() < KEYS_REFETCH_AFTER)
            {
                return None;
            }
            known.metadata.clone()
        };
        let keys = CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), &self.http)
            .await
            .map_err(|e| tracing::warn!(provider = %provider.settings.id, "fetching keys: {}", error_chain(&e)))
            .ok()?;
        metadata = metadata.set_jwks(keys);
        let mut found = self.found.lock().expect("lock");
        if let Some(known) = found.get_mut(&key) {
            known.metadata = metadata.clone();
            known.keys_refetched = Some(Instant::now());
        }
        Some(metadata)
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The ways to sign in through an organisation, for the sign-in page (no secrets).
async fn options(State(state): State<AppState>) -> Result<ApiJson<SignInOptions>, Error> {
    let providers = state.store.read(store::providers).await?;
    Ok(ApiJson(SignInOptions {
        providers: providers
            .into_iter()
            .map(|p| SignInOption {
                id: p.settings.id,
                label: p.settings.label,
            })
            .collect(),
    }))
}

fn redirect_uri(state: &AppState) -> Option<RedirectUrl> {
    let base = state.config.public_url.as_deref()?.trim_end_matches('/');
    RedirectUrl::new(format!("{base}/api/sso/callback")).ok()
}

fn flow_cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{FLOW_COOKIE}={value}; HttpOnly; SameSite=Lax; Path=/api/sso; Max-Age={max_age}{secure}"
    ))
    .expect("cookie is ASCII")
}

/// A refusal on its way to the person and the sign-in record.
struct Refused {
    refusal: Refusal,
    /// Which check failed, for the record (never shown).
    detail: String,
    email: Option<String>,
    user_id: Option<uuid::Uuid>,
}

impl Refused {
    fn new(refusal: Refusal, detail: impl Into<String>) -> Self {
        Self {
            refusal,
            detail: detail.into(),
            email: None,
            user_id: None,
        }
    }
}

/// Starts a sign-in through `provider`: remembers the state, nonce and PKCE verifier, ties
/// them to this browser, and sends the browser to the provider.
async fn start(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Path(provider_id): Path<String>,
) -> Result<Response, Error> {
    let id = provider_id.clone();
    let provider = state
        .store
        .read(move |db| store::provider(db, &id))
        .await?
        .ok_or(Error::NotFound)?;
    let label = provider.settings.label.clone();
    match begin(&state, address, provider).await {
        Ok(response) => Ok(response),
        Err(refused) => refuse(&state, address, &provider_id, &label, refused).await,
    }
}

async fn begin(
    state: &AppState,
    address: Option<std::net::IpAddr>,
    provider: ProviderRow,
) -> Result<Response, Refused> {
    if too_many_failures(state, address).await {
        return Err(Refused::new(Refusal::TooManyAttempts, "address limit"));
    }
    let redirect = redirect_uri(state).ok_or_else(|| {
        Refused::new(
            Refusal::ProviderUnavailable,
            "the server has no --public-url, so it has no address to come back to",
        )
    })?;
    let metadata = state
        .sso
        .discover(&provider)
        .await
        .map_err(|e| Refused::new(Refusal::ProviderUnavailable, e))?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(provider.settings.client_id.clone()),
        None,
    )
    .set_redirect_uri(redirect);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in provider.settings.scopes.split_whitespace() {
        if scope != "openid" {
            request = request.add_scope(Scope::new(scope.to_owned()));
        }
    }
    for acr in provider
        .settings
        .acr_values
        .iter()
        .flat_map(|a| a.split_whitespace())
    {
        request = request.add_auth_context_value(AuthenticationContextClass::new(acr.to_owned()));
    }
    let (url, csrf, nonce) = request.url();
    let browser = auth::random_token();
    let flow = FlowRow {
        state_hash: auth::token_hash(csrf.secret()),
        provider_id: provider.settings.id.clone(),
        browser_hash: auth::token_hash(&browser),
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        created_at: Utc::now(),
    };
    state
        .store
        .write(move |db| store::insert_flow(db, &flow))
        .await
        .map_err(|e| {
            Refused::new(
                Refusal::ProviderUnavailable,
                format!("storing the flow: {e}"),
            )
        })?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(
        LOCATION,
        HeaderValue::from_str(url.as_str()).map_err(|_| {
            Refused::new(
                Refusal::ProviderUnavailable,
                "authorisation address is not a header value",
            )
        })?,
    );
    headers.insert(
        SET_COOKIE,
        flow_cookie(state, &browser, FLOW_LIFETIME.num_seconds()),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// What the provider sends the browser back with.
#[derive(Debug, Deserialize)]
struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    /// RFC 9207: the issuer that answered, when the provider says.
    iss: Option<String>,
    error: Option<String>,
}

/// The provider's answer: checks everything, links or makes the account as allowed, and
/// signs the person in; or says in words why not.
async fn callback(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Query(params): Query<CallbackParams>,
) -> Result<Response, Error> {
    // The flow is taken (used up) first, whatever happens next.
    let flow = match params.state.as_deref() {
        Some(s) if !s.is_empty() && s.len() <= 512 => {
            let hash = auth::token_hash(s);
            state
                .store
                .write(move |db| store::take_flow(db, &hash))
                .await?
        }
        _ => None,
    };
    let provider = match &flow {
        Some(flow) => {
            let id = flow.provider_id.clone();
            state.store.read(move |db| store::provider(db, &id)).await?
        }
        None => None,
    };
    let (provider_id, label) = provider.as_ref().map_or_else(
        || ("unknown".to_owned(), "your organisation".to_owned()),
        |p| (p.settings.id.clone(), p.settings.label.clone()),
    );
    let result = match (flow, provider) {
        (Some(flow), Some(provider)) => {
            finish(&state, address, &headers, &params, flow, provider).await
        }
        (Some(_), None) => Err(Refused::new(
            Refusal::FlowUnknown,
            "the provider was removed while signing in",
        )),
        (None, _) => Err(Refused::new(
            Refusal::FlowUnknown,
            "state unknown, already used or expired",
        )),
    };
    let mut response = match result {
        Ok(response) => response,
        Err(refused) => refuse(&state, address, &provider_id, &label, refused).await?,
    };
    response
        .headers_mut()
        .append(SET_COOKIE, flow_cookie(&state, "", 0));
    Ok(response)
}

async fn finish(
    state: &AppState,
    address: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    params: &CallbackParams,
    flow: FlowRow,
    provider: ProviderRow,
) -> Result<Response, Refused> {
    let browser_ok = auth::cookie_value(headers, FLOW_COOKIE)
        .is_some_and(|value| auth::token_hash(&value) == flow.browser_hash);
    if !browser_ok {
        return Err(Refused::new(
            Refusal::FlowUnknown,
            "came back to a browser that did not start the sign-in",
        ));
    }
    if Utc::now() - flow.created_at > FLOW_LIFETIME {
        return Err(Refused::new(
            Refusal::FlowUnknown,
            "took longer than 10 minutes",
        ));
    }
    if too_many_failures(state, address).await {
        return Err(Refused::new(Refusal::TooManyAttempts, "address limit"));
    }
    if let Some(error) = &params.error {
        return Err(Refused::new(
            Refusal::ProviderRefused,
            format!(
                "provider error: {}",
                error.chars().take(100).collect::<String>()
            ),
        ));
    }
    if let Some(iss) = &params.iss {
        if iss != &provider.settings.issuer {
            return Err(Refused::new(
                Refusal::TokenRejected,
                "the iss parameter names another issuer (mix-up)",
            ));
        }
    }
    let code = params
        .code
        .clone()
        .filter(|c| !c.is_empty() && c.len() <= 2048)
        .ok_or_else(|| Refused::new(Refusal::ProviderRefused, "no code"))?;
    let redirect = redirect_uri(state)
        .ok_or_else(|| Refused::new(Refusal::ProviderUnavailable, "no --public-url"))?;
    let metadata = state
        .sso
        .discover(&provider)
        .await
        .map_err(|e| Refused::new(Refusal::ProviderUnavailable, e))?;
    let token_endpoint = metadata
        .token_endpoint()
        .cloned()
        .ok_or_else(|| Refused::new(Refusal::ProviderUnavailable, "no token endpoint"))?;
    let client = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(provider.settings.client_id.clone()),
        provider.client_secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(redirect);
    let mut request = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| Refused::new(Refusal::ProviderUnavailable, e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()));
    if let Some(pem) = &provider.private_key_pem {
        let assertion =
            client_assertion(pem, &provider.settings.client_id, token_endpoint.as_str())
                .map_err(|e| Refused::new(Refusal::ProviderUnavailable, e))?;
        request = request
            .add_extra_param(
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )
            .add_extra_param("client_assertion", assertion);
    }
    let tokens = request.request_async(&state.sso.http).await.map_err(|e| {
        // The provider refusing the code (used, expired, not ours) says so in its answer.
        Refused::new(
            Refusal::ProviderRefused,
            format!("token request: {}", error_chain(&e)),
        )
    })?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| Refused::new(Refusal::TokenRejected, "no ID token in the answer"))?;
    let nonce = Nonce::new(flow.nonce.clone());
    let claims = match check_id_token(&provider, &metadata, id_token, &nonce) {
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => match state.sso.refetch_keys(&provider).await {
            // The provider may have rotated its keys since we fetched them: look once more.
            Some(fresh) => check_id_token(&provider, &fresh, id_token, &nonce),
            None => Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )),
        },
        other => other,
    }
    .map_err(|e| {
        Refused::new(
            Refusal::TokenRejected,
            format!("ID token: {}", error_chain(&e)),
        )
    })?;
    let issuer = claims.issuer().to_string();
    let subject = claims.subject().to_string();
    if subject.is_empty() || subject.len() > 255 {
        return Err(Refused::new(
            Refusal::TokenRejected,
            "subject empty or too long",
        ));
    }
    if claims.email_verified() == Some(false) {
        let mut refused = Refused::new(Refusal::NoVerifiedEmail, "email_verified is false");
        refused.email = claims.email().map(|e| e.to_string());
        return Err(refused);
    }
    let email = if provider.settings.email_claim == "email" {
        claims.email().map(|e| e.to_string())
    } else {
        verified_claim(&id_token.to_string(), &provider.settings.email_claim)
    }
    .map(|e| e.trim().to_owned())
    .filter(|e| crate::core::validation::email("email", e).is_ok());
    let name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.to_string())
        .filter(|n| crate::core::validation::required_text("name", "name", n, 200).is_ok());
    let user = link(state, &provider, &issuer, &subject, email, name).await?;
    let how = format!("sso:{}", provider.settings.id);
    let cookie = auth::begin_session(state, &user, &how, headers, address, None)
        .await
        .map_err(|e| {
            Refused::new(
                Refusal::ProviderUnavailable,
                format!("starting the session: {e}"),
            )
        })?;
    tracing::info!(user = %user.id, provider = %provider.settings.id, "signed in through a provider");
    // A page, not a redirect: the browser then loads the app as a same-site navigation, so
    // the SameSite=Strict session cookie goes with it.
    let mut response = (
        StatusCode::OK,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
        ],
        SIGNED_IN_PAGE,
    )
        .into_response();
    response.headers_mut().insert(SET_COOKIE, cookie);
    Ok(response)
}

/// Checks an ID token with the library: signature (asymmetric algorithms only), issuer,
/// audience, expiry with [`CLOCK_SKEW`], nonce, an issue time neither in the future nor older
/// than a sign-in may take, and the `acr` the administrator asked for.
fn check_id_token<'t>(
    provider: &ProviderRow,
    metadata: &CoreProviderMetadata,
    id_token: &'t openidconnect::core::CoreIdToken,
    nonce: &Nonce,
) -> Result<&'t openidconnect::core::CoreIdTokenClaims, ClaimsVerificationError> {
    let wanted_acr: Vec<String> = provider
        .settings
        .acr_values
        .iter()
        .flat_map(|a| a.split_whitespace())
        .map(str::to_owned)
        .collect();
    let verifier: CoreIdTokenVerifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(provider.settings.client_id.clone()),
        metadata.issuer().clone(),
        metadata.jwks().clone(),
    )
    .set_allowed_algs(ALLOWED_ALGS)
    .set_time_fn(|| Utc::now() - CLOCK_SKEW)
    .set_issue_time_verifier_fn(|iat: DateTime<Utc>| {
        let now = Utc::now();
        if iat > now + CLOCK_SKEW {
            Err(format!("issued in the future ({iat})"))
        } else if iat < now - FLOW_LIFETIME - CLOCK_SKEW {
            Err(format!("issued too long ago ({iat})"))
        } else {
            Ok(())
        }
    })
    .set_auth_context_verifier_fn(move |acr: Option<&AuthenticationContextClass>| {
        if wanted_acr.is_empty() || acr.is_some_and(|a| wanted_acr.iter().any(|w| w == a.as_str()))
        {
            Ok(())
        } else {
            Err(format!(
                "acr {:?} is not one asked for",
                acr.map(|a| a.as_str())
            ))
        }
    });
    id_token.claims(&verifier, nonce)
}

/// A claim of an ID token the library has already verified (its payload is read again for
/// a claim the library has no field for, such as Entra ID's `upn`).
fn verified_claim(verified_token: &str, claim: &str) -> Option<String> {
    let payload = verified_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    json.get(claim)?.as_str().map(str::to_owned)
}

/// Our `private_key_jwt` assertion: signed with our key, for this token endpoint, used once.
fn client_assertion(pem: &str, client_id: &str, audience: &str) -> Result<String, String> {
    let key = signing_key(pem)?;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let kid = key
        .as_verification_key()
        .key_id()
        .map(|k| k.as_str().to_owned());
    let header = serde_json::json!({"alg": "RS512", "typ": "JWT", "kid": kid});
    let now = Utc::now().timestamp();
    let claims = serde_json::json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": uuid::Uuid::new_v4().to_string(),
        "iat": now,
        "exp": now + 300,
    });
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = key
        .sign(&ASSERTION_ALG, signing_input.as_bytes())
        .map_err(|e| format!("signing the client assertion: {e}"))?;
    Ok(format!("{signing_input}.{}", b64(&signature)))
}

/// The key of `private_key_jwt` from its PEM (PKCS#1 or PKCS#8), with a key id derived from
/// its public half, so a new key gets a new id.
pub fn signing_key(pem: &str) -> Result<CoreRsaPrivateSigningKey, String> {
    use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, EncodeRsaPublicKey};
    use rsa::pkcs8::DecodePrivateKey;
    let key = rsa::RsaPrivateKey::from_pkcs1_pem(pem)
        .or_else(|_| rsa::RsaPrivateKey::from_pkcs8_pem(pem))
        .map_err(|_| "the private key is not an RSA key in PEM (PKCS#1 or PKCS#8)".to_owned())?;
    let public = key
        .to_public_key()
        .to_pkcs1_der()
        .map_err(|e| e.to_string())?;
    let kid = auth::sha256_hex(public.as_bytes())[..16].to_owned();
    let pkcs1 = key
        .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
        .map_err(|e| e.to_string())?;
    CoreRsaPrivateSigningKey::from_pem(&pkcs1, Some(JsonWebKeyId::new(kid)))
}

/// The public keys of our `private_key_jwt` assertions, for providers to fetch (the JWKS URL
/// given when registering with CIS2).
async fn jwks(State(state): State<AppState>) -> Result<Response, Error> {
    let providers = state.store.read(store::providers).await?;
    let mut keys: Vec<CoreJsonWebKey> = Vec::new();
    for pem in providers
        .iter()
        .filter_map(|p| p.private_key_pem.as_deref())
    {
        if let Ok(key) = signing_key(pem) {
            let public = key.as_verification_key();
            if !keys.contains(&public) {
                keys.push(public);
            }
        }
    }
    let body = serde_json::to_string(&CoreJsonWebKeySet::new(keys))
        .map_err(|e| Error::Internal(e.into()))?;
    Ok((
        [
            (CONTENT_TYPE, "application/jwk-set+json"),
            (CACHE_CONTROL, "max-age=300"),
        ],
        body,
    )
        .into_response())
}

/// Finds the account linked to the subject, or links or makes one as [`Newcomer::decide`]
/// allows, in one transaction (so two first sign-ins at once link once).
async fn link(
    state: &AppState,
    provider: &ProviderRow,
    issuer: &str,
    subject: &str,
    email: Option<String>,
    name: Option<String>,
) -> Result<store::UserRow, Refused> {
    let decide = {
        let (issuer, subject, email) = (issuer.to_owned(), subject.to_owned(), email.clone());
        let provider = provider.settings.clone();
        move |db: &dyn store::Db| -> Result<Result<Option<store::UserRow>, Refused>, Error> {
            let now = Utc::now();
            if let Some(user) = store::linked_user(db, &issuer, &subject)? {
                if user.disabled {
                    let mut refused =
                        Refused::new(Refusal::AccountDisabled, "linked account disabled");
                    refused.user_id = Some(user.id);
                    refused.email = Some(user.email);
                    return Ok(Err(refused));
                }
                store::touch_identity(db, &issuer, &subject, now)?;
                return Ok(Ok(Some(user)));
            }
            let Some(email) = email.clone() else {
                return Ok(Err(Refused::new(
                    Refusal::NoVerifiedEmail,
                    format!("no usable {} claim", provider.email_claim),
                )));
            };
            let account = store::any_user_by_email(db, &email)?;
            let invited_here = match &account {
                Some(user) => {
                    store::invitation(db, user.id)?.as_deref() == Some(provider.id.as_str())
                }
                None => false,
            };
            let newcomer = Newcomer {
                account_exists: account.is_some(),
                account_disabled: account.as_ref().is_some_and(|u| u.disabled),
                invited_here,
                domain_allowed: domain_allowed(&email, &provider.domains),
            };
            match (newcomer.decide(), account) {
                (FirstSignIn::LinkAccount, Some(user)) => {
                    store::link_identity(db, &issuer, &subject, user.id, &provider.id, now)?;
                    Ok(Ok(Some(user)))
                }
                (FirstSignIn::MakeAccount, _) => Ok(Ok(None)),
                (FirstSignIn::Refuse(refusal), account) => {
                    let mut refused = Refused::new(refusal, "first sign-in not allowed");
                    refused.email = Some(email);
                    refused.user_id = account.map(|u| u.id);
                    Ok(Err(refused))
                }
                (FirstSignIn::LinkAccount, None) => Ok(Ok(None)),
            }
        }
    };
    let unavailable =
        |e: Error| Refused::new(Refusal::ProviderUnavailable, format!("database: {e}"));
    if let Some(user) = state
        .store
        .write(decide.clone())
        .await
        .map_err(unavailable)??
    {
        return Ok(user);
    }
    // A new account for them (the domain is allowed), then linked, again deciding afresh.
    let email = email.unwrap_or_default();
    let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
    let store = state.store.clone();
    let made = tokio::task::spawn_blocking(move || {
        super::demo::add_user_without_password(
            &store,
            &super::demo::NewUser {
                email: &email,
                name: &name,
                role: crate::core::entities::Role::Other,
                password: "",
            },
            Utc::now(),
        )
    })
    .await
    .map_err(|e| Refused::new(Refusal::ProviderUnavailable, e.to_string()))?;
    if let Err(e) = made {
        // Someone else's sign-in made it a moment ago: link to it below.
        tracing::info!("a first sign-in's account was already made: {e}");
    }
    match state.store.write(decide).await.map_err(unavailable)?? {
        Some(user) => Ok(user),
        None => Err(Refused::new(
            Refusal::ProviderUnavailable,
            "the new account could not be linked",
        )),
    }
}

async fn too_many_failures(state: &AppState, address: Option<std::net::IpAddr>) -> bool {
    let Some(ip) = address else { return false };
    let key = auth::address_key(ip);
    state
        .store
        .read(move |db| store::failures_since(db, &key, Utc::now() - auth::ATTEMPT_WINDOW))
        .await
        .is_ok_and(|n| n >= auth::ADDRESS_ATTEMPTS as u64)
}

/// Records the refusal (and counts it against the address), then tells the person in words.
async fn refuse(
    state: &AppState,
    address: Option<std::net::IpAddr>,
    provider_id: &str,
    label: &str,
    refused: Refused,
) -> Result<Response, Error> {
    tracing::warn!(provider = %provider_id, reason = %refused.detail, "single sign-on refused");
    let event = SignInEvent {
        at: Utc::now(),
        user_id: refused.user_id,
        email: refused.email.clone(),
        how: format!("sso:{provider_id}"),
        outcome: "refused".into(),
        reason: format!("{}: {}", refused.refusal.code(), refused.detail)
            .chars()
            .take(500)
            .collect(),
        address: address.map(|a| a.to_string()),
    };
    let counts = refused.refusal != Refusal::TooManyAttempts;
    state.metrics.sign_in_refused(refused.refusal.code());
    state
        .store
        .write(move |db| {
            store::record_sign_in(db, &event)?;
            if let (Some(ip), true) = (address, counts) {
                let now = Utc::now();
                store::record_failure(db, &[&auth::address_key(ip)], now, auth::ATTEMPT_WINDOW)?;
            }
            Ok(())
        })
        .await?;
    let (heading, text) = refused.refusal.message(label);
    let status = match refused.refusal {
        Refusal::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
        Refusal::ProviderUnavailable => StatusCode::BAD_GATEWAY,
        Refusal::NotAllowed | Refusal::AccountDisabled => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    };
    Ok((
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
        ],
        refusal_page(heading, &text),
    )
        .into_response())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn refusal_page(heading: &str, text: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{h} – MDT</title><link rel=\"stylesheet\" href=\"/answer.css\"></head><body><main class=\"page\" id=\"main-content\"><h1>{h}</h1><p>{t}</p><p><a href=\"/\">Go back to sign in</a></p></main></body></html>",
        h = escape(heading),
        t = escape(text),
    )
}

/// Shown for a moment after a sign-in through a provider: the app opens from here.
const SIGNED_IN_PAGE: &str = "<!doctype html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url=/\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Signed in – MDT</title><link rel=\"stylesheet\" href=\"/answer.css\"></head><body><main class=\"page\" id=\"main-content\"><h1>You are signed in</h1><p><a href=\"/\">Open the MDT app</a></p></main></body></html>";

/// The user agent of a request, shortened, for the list of where a person is signed in.
pub(crate) fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().filter(|c| !c.is_control()).take(300).collect())
}
