//! Real parts for the single sign-on tests: npm's `oidc-provider` (tests/oidc/provider.mjs) on
//! loopback; in front of it a proxy that passes everything through but can change the ID
//! token in the token endpoint's answer (an attacker between us and the provider, or a
//! provider gone wrong) and add keys to its published key set (a key rotation); the app's
//! server over real HTTP; and a cookie-keeping client that walks the provider's sign-in pages
//! as a browser would. Synthetic people only.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use base64::Engine;
use openidconnect::core::{CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey};
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use serde_json::{json, Value};

use mdt::core::sign_in::{ClientAuthentication, ProviderSettings};
use mdt::server::store::{self, ProviderRow, Store};
use mdt::server::{app, AppState, Config};

use super::TestDatabase;

/// The client secret of the provider's `client_secret_basic` client (a test value).
pub const BASIC_SECRET: &str = "synthetic-test-secret-0123456789";
/// The email domain both test providers are trusted for.
pub const ALLOWED_DOMAIN: &str = "northshire.example";

/// How an ID token on its way back is changed.
#[derive(Debug, Clone)]
pub enum Tamper {
    /// One byte of the signature changed.
    BadSignature,
    /// Signed with a key the provider never published, under the provider's key id.
    OtherKeySameKid,
    /// Signed with another provider's key, under that key's own id.
    OtherKeyOwnKid,
    /// Claims changed (and the token signed again with the provider's own key).
    Claims(fn(&mut serde_json::Map<String, Value>)),
    /// `alg: none`, no signature.
    AlgNone,
    /// HS256 with the provider's public key as the HMAC secret.
    Hs256WithPublicKey,
    /// Signed with a new key of the provider's (published from now on: a rotation).
    RotatedKey,
}

/// What the proxy does to what passes through it.
#[derive(Default)]
pub struct ProxyControl {
    pub tamper: Option<Tamper>,
    /// Keys added to the provider's published set.
    pub extra_keys: Vec<Value>,
}

struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    control: Arc<Mutex<ProxyControl>>,
    keys: Arc<Keys>,
}

/// Keys the proxy signs with.
pub struct Keys {
    /// The provider's own signing key and its id.
    pub provider: CoreRsaPrivateSigningKey,
    pub provider_kid: String,
    pub provider_public_pem: String,
    /// A key of "another provider".
    pub other: CoreRsaPrivateSigningKey,
    /// The provider's next key (a rotation).
    pub rotated: CoreRsaPrivateSigningKey,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

fn sign_rs256(key: &CoreRsaPrivateSigningKey, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = key
        .sign(
            &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            input.as_bytes(),
        )
        .unwrap();
    format!("{input}.{}", b64(&signature))
}

fn tampered(token: &str, tamper: &Tamper, keys: &Keys) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let header: Value = serde_json::from_slice(&unb64(parts[0])).unwrap();
    let mut claims: Value = serde_json::from_slice(&unb64(parts[1])).unwrap();
    let with_kid = |kid: &str| {
        let mut h = header.clone();
        h["kid"] = json!(kid);
        h["alg"] = json!("RS256");
        h
    };
    match tamper {
        Tamper::BadSignature => {
            let mut signature = unb64(parts[2]);
            signature[10] ^= 0x01;
            format!("{}.{}.{}", parts[0], parts[1], b64(&signature))
        }
        Tamper::OtherKeySameKid => sign_rs256(&keys.other, &with_kid(&keys.provider_kid), &claims),
        Tamper::OtherKeyOwnKid => sign_rs256(&keys.other, &with_kid("another-provider"), &claims),
        Tamper::RotatedKey => sign_rs256(&keys.rotated, &with_kid("rotated-key"), &claims),
        Tamper::Claims(change) => {
            change(claims.as_object_mut().unwrap());
            sign_rs256(&keys.provider, &with_kid(&keys.provider_kid), &claims)
        }
        Tamper::AlgNone => {
            let h = json!({"alg": "none", "typ": "JWT"});
            format!("{}.{}.", b64(h.to_string().as_bytes()), parts[1])
        }
        Tamper::Hs256WithPublicKey => {
            use hmac::{Hmac, Mac};
            let h = json!({"alg": "HS256", "typ": "JWT", "kid": keys.provider_kid});
            let input = format!("{}.{}", b64(h.to_string().as_bytes()), parts[1]);
            let mut mac =
                Hmac::<sha2::Sha256>::new_from_slice(keys.provider_public_pem.as_bytes()).unwrap();
            mac.update(input.as_bytes());
            format!("{input}.{}", b64(&mac.finalize().into_bytes()))
        }
    }
}

/// Passes a request on to the provider, changing the token endpoint's ID token and the key
/// set as told.
async fn forward(State(state): State<Arc<ProxyState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let mut outgoing = state
        .http
        .request(parts.method.clone(), format!("{}{path}", state.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        // The Host header goes through unchanged: the provider builds its endpoints' addresses
        // from it, and they must all lead through the proxy.
        if name != "content-length" {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = match outgoing.send().await {
        Ok(answer) => answer,
        Err(e) => panic!("the proxy could not reach the provider: {e:?}"),
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let mut bytes = answer.bytes().await.unwrap().to_vec();
    {
        let control = state.control.lock().unwrap();
        if parts.uri.path() == "/token" && status.is_success() {
            if let Some(tamper) = &control.tamper {
                let mut json: Value = serde_json::from_slice(&bytes).unwrap();
                let token = json["id_token"].as_str().unwrap().to_owned();
                json["id_token"] = json!(tampered(&token, tamper, &state.keys));
                bytes = serde_json::to_vec(&json).unwrap();
            }
        }
        if parts.uri.path() == "/jwks" && status.is_success() && !control.extra_keys.is_empty() {
            let mut json: Value = serde_json::from_slice(&bytes).unwrap();
            json["keys"]
                .as_array_mut()
                .unwrap()
                .extend(control.extra_keys.iter().cloned());
            bytes = serde_json::to_vec(&json).unwrap();
        }
    }
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    for (name, value) in &headers {
        if name != "content-length" && name != "transfer-encoding" {
            response.headers_mut().append(name, value.clone());
        }
    }
    response
}

/// One provider process, the proxy in front of it, and the app's server, for one test.
pub struct Rig {
    pub place: TestDatabase,
    pub store: Store,
    /// The app's address (`http://127.0.0.1:port`).
    pub app_url: String,
    /// The provider's issuer (the proxy's address).
    pub issuer: String,
    pub control: Arc<Mutex<ProxyControl>>,
    pub keys: Arc<Keys>,
    /// The public key (JWK) of the app's `private_key_jwt` key.
    pub client_public_jwk: Value,
    provider: Child,
}

impl Drop for Rig {
    fn drop(&mut self) {
        let _ = self.provider.kill();
        let _ = self.provider.wait();
    }
}

fn new_rsa_key(kid: &str) -> (CoreRsaPrivateSigningKey, String) {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
    let pem = key.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    (
        CoreRsaPrivateSigningKey::from_pem(&pem, Some(JsonWebKeyId::new(kid.into()))).unwrap(),
        pem.to_string(),
    )
}

/// The synthetic people the provider knows, by login (their stable subject).
pub fn people() -> Value {
    json!({
        "alice": {"email": format!("alice.synthetic@{ALLOWED_DOMAIN}"), "email_verified": true, "name": "Alice Synthetic"},
        "bob": {"email": "bob.synthetic@elsewhere.example", "email_verified": true, "name": "Bob Synthetic"},
        "una": {"email": format!("una.synthetic@{ALLOWED_DOMAIN}"), "email_verified": false, "name": "Una Synthetic"},
        "dan": {"email": format!("dan.synthetic@{ALLOWED_DOMAIN}"), "email_verified": true, "name": "Dan Synthetic"},
        "nomail": {"name": "No Mail"},
    })
}

impl Rig {
    /// Starts everything: the server (configured with two providers, `basic` and `jwt`), the
    /// proxy and the provider.
    pub async fn start() -> Self {
        let root = env!("CARGO_MANIFEST_DIR");
        assert!(
            std::path::Path::new(root)
                .join("node_modules/oidc-provider")
                .is_dir(),
            "npm's oidc-provider is not installed: run ./scripts/test.sh (or npm ci) first"
        );
        let place = TestDatabase::new();
        let store = place.open();
        let app_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let app_url = format!("http://{}", app_listener.local_addr().unwrap());
        let proxy_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", proxy_listener.local_addr().unwrap());

        // The app's private_key_jwt key, and the provider told its public half.
        let (_, client_pem) = new_rsa_key("unused");
        let client_key = mdt::server::sso::signing_key(&client_pem).unwrap();
        let client_public_jwk = serde_json::to_value(client_key.as_verification_key()).unwrap();
        let config = json!({
            "port": 0,
            "issuer": issuer,
            "redirect_uri": format!("{app_url}/api/sso/callback"),
            "secret": BASIC_SECRET,
            "client_jwk": client_public_jwk,
            "users": people(),
        });
        let (provider, ready) = spawn_provider(&config).await;
        let provider_pem = ready["signing_key_pem"].as_str().unwrap();
        let provider_kid = ready["kid"].as_str().unwrap().to_owned();
        let provider_key = CoreRsaPrivateSigningKey::from_pem(
            provider_pem,
            Some(JsonWebKeyId::new(provider_kid.clone())),
        )
        .unwrap();
        let provider_public_pem = {
            use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPublicKey};
            rsa::RsaPrivateKey::from_pkcs1_pem(provider_pem)
                .unwrap()
                .to_public_key()
                .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
                .unwrap()
        };
        let keys = Arc::new(Keys {
            provider: provider_key,
            provider_kid,
            provider_public_pem,
            other: new_rsa_key("another-provider").0,
            rotated: new_rsa_key("rotated-key").0,
        });

        let control = Arc::new(Mutex::new(ProxyControl::default()));
        let proxy = axum::Router::new()
            .fallback(forward)
            .with_state(Arc::new(ProxyState {
                upstream: format!("http://127.0.0.1:{}", ready["port"]),
                http: reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap(),
                control: control.clone(),
                keys: keys.clone(),
            }));
        tokio::spawn(async move { axum::serve(proxy_listener, proxy).await.unwrap() });

        let settings = |id: &str, label: &str, client_id: &str, how| ProviderSettings {
            id: id.into(),
            label: label.into(),
            issuer: issuer.clone(),
            client_id: client_id.into(),
            client_authentication: how,
            scopes: "openid email profile".into(),
            email_claim: "email".into(),
            acr_values: None,
            domains: vec![ALLOWED_DOMAIN.into()],
        };
        let basic = ProviderRow {
            settings: settings(
                "basic",
                "Northshire Council",
                "mdt-basic",
                ClientAuthentication::Secret,
            ),
            client_secret: Some(BASIC_SECRET.into()),
            private_key_pem: None,
        };
        let jwt = ProviderRow {
            settings: settings(
                "jwt",
                "NHS Care Identity",
                "mdt-jwt",
                ClientAuthentication::PrivateKeyJwt,
            ),
            client_secret: None,
            private_key_pem: Some(client_pem),
        };
        for row in [basic, jwt] {
            row.settings.validate().unwrap();
            store
                .write_blocking(|db| store::put_provider(db, &row, chrono::Utc::now()))
                .unwrap();
        }
        let state = AppState::new(
            store.clone(),
            Config {
                public_url: Some(app_url.clone()),
                ..Config::default()
            },
        );
        let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(app_listener, service).await.unwrap() });
        Self {
            place,
            store,
            app_url,
            issuer,
            control,
            keys,
            client_public_jwk,
            provider,
        }
    }

    /// A new browser: keeps cookies, follows no redirect by itself.
    pub fn browser() -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap()
    }

    /// Starts a sign-in through `provider` in `browser` and signs in at the provider as
    /// `login`; the callback address the provider sends the browser back to (not yet visited).
    pub async fn to_callback(
        &self,
        browser: &reqwest::Client,
        provider: &str,
        login: &str,
    ) -> String {
        let start = browser
            .get(format!("{}/api/sso/{provider}/start", self.app_url))
            .send()
            .await
            .unwrap();
        assert_eq!(start.status(), 303, "{}", start.text().await.unwrap());
        let callback = format!("{}/api/sso/callback", self.app_url);
        walk_to_callback(browser, location(&start), &callback, &self.issuer, login).await
    }

    /// Visits the callback address in `browser`: (status, body, whether a session began).
    pub async fn finish(&self, browser: &reqwest::Client, callback: &str) -> (u16, String, bool) {
        let answer = browser.get(callback).send().await.unwrap();
        let status = answer.status().as_u16();
        let session_cookie = answer
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("mdt_session=") && !v.starts_with("mdt_session=;"))
            .map(str::to_owned);
        // A session begun through a provider lasts no longer than any other, whatever the
        // provider's tokens say.
        if let Some(cookie) = &session_cookie {
            let limit = mdt::server::auth::ABSOLUTE_TIMEOUT.num_seconds();
            assert!(cookie.contains(&format!("Max-Age={limit}")), "{cookie}");
            assert!(
                cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
                "{cookie}"
            );
        }
        let session = session_cookie.is_some();
        (status, answer.text().await.unwrap(), session)
    }

    /// A whole sign-in: (status, body, whether a session began).
    pub async fn sign_in(
        &self,
        browser: &reqwest::Client,
        provider: &str,
        login: &str,
    ) -> (u16, String, bool) {
        let callback = self.to_callback(browser, provider, login).await;
        self.finish(browser, &callback).await
    }

    /// The newest sign-in record.
    pub fn last_event(&self) -> store::SignInEvent {
        self.store
            .read_blocking(|db| store::sign_in_events(db, 1))
            .unwrap()
            .pop()
            .expect("a sign-in was recorded")
    }

    /// Forgets failures counted against loopback (so a long list of refusals in one test
    /// does not reach the address limit, which has a test of its own).
    pub fn forget_failures(&self) {
        self.store
            .write_blocking(|db| store::clear_failures(db, "address:127.0.0.1"))
            .unwrap();
    }

    pub fn set_tamper(&self, tamper: Option<Tamper>) {
        self.control.lock().unwrap().tamper = tamper;
    }
}

/// Starts tests/oidc/provider.mjs with `config`: the process, and what it says when it
/// listens (its port, signing key and key id).
async fn spawn_provider(config: &Value) -> (Child, Value) {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut provider = Command::new("node")
        .arg(format!("{root}/tests/oidc/provider.mjs"))
        .arg(config.to_string())
        .current_dir(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node runs");
    let stdout = provider.stdout.take().unwrap();
    let first_line = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut reader = std::io::BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        // Whatever else it prints is read and dropped: a closed pipe would stop it.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        line
    });
    // Detects a provider that never starts (it answers in well under a second).
    let line = tokio::time::timeout(Duration::from_secs(60), first_line)
        .await
        .expect("the OpenID provider started")
        .unwrap();
    let ready = serde_json::from_str(&line).expect("the provider says where it is");
    (provider, ready)
}

/// Walks a browser from the provider's authorisation address `first` through its pages,
/// signing in as `login`, to the app's callback (an address starting `callback`), which it
/// returns without visiting. A bounded walk: authorise, the login page, the login, resume,
/// back to the app.
async fn walk_to_callback(
    browser: &reqwest::Client,
    first: String,
    callback: &str,
    issuer: &str,
    login: &str,
) -> String {
    let mut next = first;
    for _ in 0..10 {
        if next.starts_with(callback) {
            return next;
        }
        let answer = browser.get(&next).send().await.unwrap();
        if answer.status().is_redirection() {
            next = absolute(issuer, &location(&answer));
            continue;
        }
        assert_eq!(answer.status(), 200, "{next}");
        assert!(next.contains("/interaction/"), "{next}");
        let login_answer = browser
            .post(&next)
            .form(&[("prompt", "login"), ("login", login), ("password", "any")])
            .send()
            .await
            .unwrap();
        assert!(
            login_answer.status().is_redirection(),
            "{}",
            login_answer.status()
        );
        next = absolute(issuer, &location(&login_answer));
    }
    panic!("the provider never sent the browser back");
}

fn location(answer: &reqwest::Response) -> String {
    answer
        .headers()
        .get("location")
        .expect("a redirect has a location")
        .to_str()
        .unwrap()
        .to_owned()
}

fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http") {
        location.to_owned()
    } else {
        format!("{base}{location}")
    }
}

/// Signs people in through a real OpenID provider for the tests that run "every way in"
/// (`MDT_TEST_WAY_IN=organisation`): the app served over HTTP on the harness's store, and a
/// provider that knows everyone by their email.
pub struct WayInThroughOrganisation {
    pub app_url: String,
    provider: Child,
}

impl Drop for WayInThroughOrganisation {
    fn drop(&mut self) {
        let _ = self.provider.kill();
        let _ = self.provider.wait();
    }
}

/// The provider id the harness sets up.
pub const HARNESS_PROVIDER: &str = "test-organisation";

impl WayInThroughOrganisation {
    /// Serves the app on `store` and starts the provider.
    pub async fn start(store: &Store) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let app_url = format!("http://{}", listener.local_addr().unwrap());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let issuer = format!("http://127.0.0.1:{port}");
        let (_, client_pem) = new_rsa_key("unused");
        let client_key = mdt::server::sso::signing_key(&client_pem).unwrap();
        let config = json!({
            "port": port,
            "issuer": issuer,
            "redirect_uri": format!("{app_url}/api/sso/callback"),
            "secret": BASIC_SECRET,
            "client_jwk": serde_json::to_value(client_key.as_verification_key()).unwrap(),
            "users": "any",
        });
        let (provider, ready) = spawn_provider(&config).await;
        assert!(ready["signing_key_pem"].is_string(), "{ready}");
        let row = ProviderRow {
            settings: ProviderSettings {
                id: HARNESS_PROVIDER.into(),
                label: "Test Organisation".into(),
                issuer,
                client_id: "mdt-jwt".into(),
                client_authentication: ClientAuthentication::PrivateKeyJwt,
                scopes: "openid email profile".into(),
                email_claim: "email".into(),
                acr_values: None,
                domains: vec![],
            },
            client_secret: None,
            private_key_pem: Some(client_pem),
        };
        let put = store.clone();
        tokio::task::spawn_blocking(move || {
            put.write_blocking(|db| store::put_provider(db, &row, chrono::Utc::now()))
        })
        .await
        .unwrap()
        .unwrap();
        let state = AppState::new(
            store.clone(),
            Config {
                public_url: Some(app_url.clone()),
                ..Config::default()
            },
        );
        let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });
        Self { app_url, provider }
    }

    /// Signs `email` in through the provider (invited to it, so the first sign-in links to
    /// their account): the `mdt_session=…` cookie.
    pub async fn sign_in(&self, store: &Store, email: &str) -> String {
        let (invite, who) = (store.clone(), email.to_owned());
        tokio::task::spawn_blocking(move || {
            invite.write_blocking(|db| store::set_invitation(db, &who, Some(HARNESS_PROVIDER)))
        })
        .await
        .unwrap()
        .unwrap();
        let browser = Rig::browser();
        let start = browser
            .get(format!("{}/api/sso/{HARNESS_PROVIDER}/start", self.app_url))
            .send()
            .await
            .unwrap();
        assert_eq!(start.status(), 303);
        let first = location(&start);
        let issuer = first.split("/auth").next().unwrap().to_owned();
        let callback = format!("{}/api/sso/callback", self.app_url);
        let back = walk_to_callback(&browser, first, &callback, &issuer, email).await;
        let answer = browser.get(&back).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
        answer
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("mdt_session="))
            .and_then(|v| v.split(';').next())
            .expect("a session cookie")
            .to_owned()
    }
}
