//! The device's encrypted copy: the records kept for working offline and the outbox of unsent
//! changes, in IndexedDB, encrypted with AES-GCM (WebCrypto).
//!
//! The data key is random and never stored as it is. It is stored twice, encrypted: once with a
//! key derived from the person's password (PBKDF2-SHA-256), so the copy opens offline with the
//! password, and once with the server's device key for this user, so a reload while signed in
//! and online opens it without asking. In memory the key is a non-extractable `CryptoKey`;
//! locking or signing out drops it. See `docs/hazard-log.md` ("Offline copy").

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use js_sys::{Array, Uint8Array};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, IdbDatabase, SubtleCrypto};

use super::idb::{self, Op};
use crate::core::api::CurrentUser;
use crate::core::sync::{Mutation, Replica, SyncRecord};

/// PBKDF2 rounds for the password key (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).
pub const PBKDF2_ITERATIONS: u32 = 600_000;

const META: &str = "meta";
const RECORDS: &str = "records";
const STORES: &[&str] = &[META, RECORDS];
/// Where the names of the last person to use the app on this device are kept (not secret:
/// they are shown on the unlock screen).
const LAST_USER_KEY: &str = "mdt.last_user";

/// Why the copy could not be opened or written, in words.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VaultError {
    #[error("That password does not open the copy on this device. Check it and try again.")]
    WrongPassword,
    #[error(
        "There is no copy of your work on this device yet. Connect to the internet and sign in."
    )]
    NoCopy,
    #[error("{0}")]
    Storage(String),
}

impl From<idb::IdbError> for VaultError {
    fn from(e: idb::IdbError) -> Self {
        Self::Storage(e.0)
    }
}

fn crypto_error(e: JsValue) -> VaultError {
    let detail = e
        .dyn_ref::<web_sys::DomException>()
        .map(|d| d.name())
        .unwrap_or_else(|| "unknown".into());
    VaultError::Storage(format!(
        "This browser could not encrypt or decrypt the offline copy ({detail})."
    ))
}

/// The keys as stored: the data key encrypted twice (see the module documentation).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyFile {
    salt: Vec<u8>,
    iterations: u32,
    /// The data key encrypted with the password key; missing until the password is typed on
    /// this device (a copy first opened by the server's key alone cannot be opened offline).
    by_password: Option<Vec<u8>>,
    by_server: Vec<u8>,
}

/// Everything but the records, saved as one encrypted value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedState {
    pub user: CurrentUser,
    pub device_id: Uuid,
    pub next_seq: u64,
    pub cursor: u64,
    pub outbox: Vec<Mutation>,
    pub accepted: Vec<(Mutation, u64)>,
    /// When each unsent change was made (for "oldest unsent 5 minutes ago").
    pub queued_at: BTreeMap<Uuid, DateTime<Utc>>,
    /// False when records not kept offline were left out: the next start fetches them again.
    pub complete: bool,
    /// Typing not yet in the outbox (a brief mid-sentence), by form, so a reload or a crash
    /// loses nothing; encrypted like everything else.
    #[serde(default)]
    pub drafts: BTreeMap<String, serde_json::Value>,
    /// Patient records opened while offline, for the audit trail, until reported.
    #[serde(default)]
    pub offline_views: Vec<(Uuid, DateTime<Utc>)>,
}

/// The copy as loaded.
pub struct Loaded {
    pub state: SavedState,
    pub replica: Replica,
    /// The version of each record on disk, so later saves write only what changed.
    pub on_disk: HashMap<Uuid, u64>,
}

/// Who used the app last on this device, for the offline unlock screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastUser {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    /// They signed in through their organisation: the copy opens offline with the offline
    /// passphrase they set on this device, not an account password.
    #[serde(default)]
    pub passphrase: bool,
}

/// The last person to open a copy on this device, if any.
pub fn last_user() -> Option<LastUser> {
    use gloo_storage::{LocalStorage, Storage};
    LocalStorage::get(LAST_USER_KEY).ok()
}

fn remember_user(user: &CurrentUser) {
    use gloo_storage::{LocalStorage, Storage};
    let _ = LocalStorage::set(
        LAST_USER_KEY,
        LastUser {
            user_id: user.user_id,
            name: user.name.clone(),
            email: user.email.clone(),
            passphrase: user.signed_in_through_organisation,
        },
    );
}

fn subtle() -> Result<SubtleCrypto, VaultError> {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.subtle())
        .ok_or_else(|| {
            VaultError::Storage(
                "This browser cannot encrypt (WebCrypto needs a secure connection: https or localhost).".into(),
            )
        })
}

fn random(n: usize) -> Result<Vec<u8>, VaultError> {
    let mut bytes = vec![0u8; n];
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .ok_or_else(|| VaultError::Storage("This browser cannot make random numbers.".into()))?
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(crypto_error)?;
    Ok(bytes)
}

fn usages(list: &[&str]) -> JsValue {
    list.iter()
        .map(|u| JsValue::from_str(u))
        .collect::<Array>()
        .into()
}

async fn await_key(promise: Result<js_sys::Promise, JsValue>) -> Result<CryptoKey, VaultError> {
    JsFuture::from(promise.map_err(crypto_error)?)
        .await
        .map_err(crypto_error)?
        .dyn_into::<CryptoKey>()
        .map_err(crypto_error)
}

/// An AES-GCM key from raw bytes (non-extractable).
async fn import_aes(raw: &[u8]) -> Result<CryptoKey, VaultError> {
    let data = Uint8Array::from(raw);
    await_key(subtle()?.import_key_with_str(
        "raw",
        &data,
        "AES-GCM",
        false,
        &usages(&["encrypt", "decrypt"]),
    ))
    .await
}

/// The password key: PBKDF2-SHA-256 over the password and a per-device salt.
async fn password_key(
    password: &str,
    salt: &[u8],
    iterations: u32,
) -> Result<CryptoKey, VaultError> {
    let subtle = subtle()?;
    let material = await_key(subtle.import_key_with_str(
        "raw",
        &Uint8Array::from(password.as_bytes()),
        "PBKDF2",
        false,
        &usages(&["deriveKey"]),
    ))
    .await?;
    let params = web_sys::Pbkdf2Params::new(
        "PBKDF2",
        &"SHA-256".into(),
        iterations,
        &Uint8Array::from(salt),
    );
    let derived = web_sys::AesDerivedKeyParams::new("AES-GCM", 256);
    await_key(subtle.derive_key_with_object_and_object(
        &params,
        &material,
        &derived,
        false,
        &usages(&["encrypt", "decrypt"]),
    ))
    .await
}

/// AES-GCM with a random 96-bit nonce; `aad` binds the ciphertext to where it is stored.
async fn seal(key: &CryptoKey, aad: &str, plain: &[u8]) -> Result<Vec<u8>, VaultError> {
    let iv = random(12)?;
    let params = web_sys::AesGcmParams::new("AES-GCM", &Uint8Array::from(iv.as_slice()));
    params.set_additional_data(&Uint8Array::from(aad.as_bytes()));
    let sealed = JsFuture::from(
        subtle()?
            .encrypt_with_object_and_u8_array(&params, key, plain)
            .map_err(crypto_error)?,
    )
    .await
    .map_err(crypto_error)?;
    let mut out = iv;
    out.extend(Uint8Array::new(&sealed).to_vec());
    Ok(out)
}

/// Opens what [`seal`] made; fails on a wrong key or any tampering.
async fn open_sealed(key: &CryptoKey, aad: &str, sealed: &[u8]) -> Result<Vec<u8>, JsValue> {
    if sealed.len() < 12 + 16 {
        return Err(JsValue::from_str("too short"));
    }
    let params = web_sys::AesGcmParams::new("AES-GCM", &Uint8Array::from(&sealed[..12]));
    params.set_additional_data(&Uint8Array::from(aad.as_bytes()));
    let plain = JsFuture::from(
        subtle()
            .map_err(|e| JsValue::from_str(&e.to_string()))?
            .decrypt_with_object_and_u8_array(&params, key, &sealed[12..])?,
    )
    .await?;
    Ok(Uint8Array::new(&plain).to_vec())
}

fn hex(s: &str) -> Option<Vec<u8>> {
    s.len()
        .is_multiple_of(2)
        .then(|| {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
                .collect()
        })
        .flatten()
}

fn database_name(user_id: Uuid) -> String {
    format!("mdt-copy-{user_id}")
}

/// The open, unlocked copy.
#[derive(Clone)]
pub struct Vault {
    db: IdbDatabase,
    key: CryptoKey,
}

impl Vault {
    async fn key_file(db: &IdbDatabase) -> Result<Option<KeyFile>, VaultError> {
        Ok(idb::get(db, META, "keys")
            .await?
            .and_then(|v| v.as_string())
            .and_then(|s| serde_json::from_str(&s).ok()))
    }

    async fn write_key_file(db: &IdbDatabase, keys: &KeyFile) -> Result<(), VaultError> {
        let text = serde_json::to_string(keys).map_err(|e| VaultError::Storage(e.to_string()))?;
        idb::write(
            db,
            &[META],
            vec![Op::Put {
                store: META,
                key: "keys".into(),
                value: JsValue::from_str(&text),
            }],
            true,
        )
        .await?;
        Ok(())
    }

    /// Opens the copy with the password alone (offline, or unlocking after the idle lock).
    pub async fn open_with_password(user_id: Uuid, password: &str) -> Result<Self, VaultError> {
        let db = idb::open(&database_name(user_id), STORES).await?;
        let keys = Self::key_file(&db).await?.ok_or(VaultError::NoCopy)?;
        let by_password = keys.by_password.as_ref().ok_or(VaultError::NoCopy)?;
        let kek = password_key(password, &keys.salt, keys.iterations).await?;
        let raw = open_sealed(&kek, "data-key", by_password)
            .await
            .map_err(|_| VaultError::WrongPassword)?;
        let key = import_aes(&raw).await?;
        Ok(Self { db, key })
    }

    /// Opens (or first creates) the copy for a signed-in session with the server's device key.
    /// With the password (just typed at sign-in), also stores the data key under it, so the
    /// copy opens offline next time.
    pub async fn open_signed_in(
        user: &CurrentUser,
        device_key_hex: &str,
        password: Option<&str>,
    ) -> Result<Self, VaultError> {
        let server_raw = hex(device_key_hex)
            .filter(|k| k.len() == 32)
            .ok_or_else(|| VaultError::Storage("The server sent a bad device key.".into()))?;
        let server_key = import_aes(&server_raw).await?;
        let db = idb::open(&database_name(user.user_id), STORES).await?;
        let existing = Self::key_file(&db).await?;
        let opened = match &existing {
            Some(keys) => open_sealed(&server_key, "data-key", &keys.by_server)
                .await
                .ok(),
            None => None,
        };
        let (raw, mut keys) = match (opened, existing) {
            (Some(raw), Some(keys)) => (raw, keys),
            // No copy yet, or one made under an older device key: start a new copy.
            (_, old) => {
                if old.is_some() {
                    drop(db);
                    idb::delete(&database_name(user.user_id)).await?;
                    return Box::pin(Self::open_signed_in(user, device_key_hex, password)).await;
                }
                let raw = random(32)?;
                let keys = KeyFile {
                    salt: random(16)?,
                    iterations: PBKDF2_ITERATIONS,
                    by_password: None,
                    by_server: seal(&server_key, "data-key", &raw).await?,
                };
                (raw, keys)
            }
        };
        if let Some(password) = password {
            let kek = password_key(password, &keys.salt, keys.iterations).await?;
            keys.by_password = Some(seal(&kek, "data-key", &raw).await?);
        }
        Self::write_key_file(&db, &keys).await?;
        remember_user(user);
        let key = import_aes(&raw).await?;
        Ok(Self { db, key })
    }

    /// Whether a copy that opens with a password exists on this device for `user_id`.
    pub async fn opens_offline(user_id: Uuid) -> bool {
        let Ok(db) = idb::open(&database_name(user_id), STORES).await else {
            return false;
        };
        Self::key_file(&db)
            .await
            .ok()
            .flatten()
            .is_some_and(|k| k.by_password.is_some())
    }

    /// Reads the whole copy, if one was saved.
    pub async fn load(&self) -> Result<Option<Loaded>, VaultError> {
        let Some(sealed) = idb::get(&self.db, META, "state").await? else {
            return Ok(None);
        };
        let bytes = open_sealed(&self.key, "state", &Uint8Array::new(&sealed).to_vec())
            .await
            .map_err(|_| {
                VaultError::Storage(
                    "The copy on this device is damaged; it will be fetched again.".into(),
                )
            })?;
        let state: SavedState = serde_json::from_slice(&bytes)
            .map_err(|_| VaultError::Storage("The copy on this device is from another version of the app; it will be fetched again.".into()))?;
        let mut replica = Replica::new(state.device_id);
        replica.next_seq = state.next_seq;
        replica.cursor = state.cursor;
        replica.outbox = state.outbox.clone();
        replica.accepted = state.accepted.clone();
        let mut on_disk = HashMap::new();
        for (key, value) in idb::get_all(&self.db, RECORDS).await? {
            let sealed = Uint8Array::new(&value).to_vec();
            // A record that does not open is skipped; the next full sync brings it back.
            let Ok(bytes) = open_sealed(&self.key, &format!("record:{key}"), &sealed).await else {
                continue;
            };
            if let Ok(record) = serde_json::from_slice::<SyncRecord>(&bytes) {
                on_disk.insert(record.id, record.version);
                replica.hold(record);
            }
        }
        Ok(Some(Loaded {
            state,
            replica,
            on_disk,
        }))
    }

    /// Saves the state (outbox, cursor) and record changes in one transaction. `strict` makes
    /// the browser flush to disk before this returns (for unsent changes).
    pub async fn save(
        &self,
        state: &SavedState,
        put: &[&SyncRecord],
        delete: &[Uuid],
        strict: bool,
    ) -> Result<(), VaultError> {
        let text = serde_json::to_vec(state).map_err(|e| VaultError::Storage(e.to_string()))?;
        let mut ops = vec![Op::Put {
            store: META,
            key: "state".into(),
            value: Uint8Array::from(seal(&self.key, "state", &text).await?.as_slice()).into(),
        }];
        for record in put {
            let key = record.id.to_string();
            let bytes =
                serde_json::to_vec(record).map_err(|e| VaultError::Storage(e.to_string()))?;
            let sealed = seal(&self.key, &format!("record:{key}"), &bytes).await?;
            ops.push(Op::Put {
                store: RECORDS,
                key,
                value: Uint8Array::from(sealed.as_slice()).into(),
            });
        }
        for id in delete {
            ops.push(Op::Delete {
                store: RECORDS,
                key: id.to_string(),
            });
        }
        idb::write(&self.db, STORES, ops, strict).await?;
        Ok(())
    }

    /// Closes the database (before deleting it).
    pub fn close(&self) {
        self.db.close();
    }
}

/// Deletes the user's copy from this device (sign-out).
pub async fn destroy(user_id: Uuid) -> Result<(), VaultError> {
    idb::delete(&database_name(user_id)).await?;
    use gloo_storage::{LocalStorage, Storage};
    if last_user().is_some_and(|u| u.user_id == user_id) {
        LocalStorage::delete(LAST_USER_KEY);
    }
    Ok(())
}

thread_local! {
    /// Resolving this ends the tab's hold on the app lock.
    static TAB_LOCK: std::cell::RefCell<Option<js_sys::Function>> = const { std::cell::RefCell::new(None) };
}

/// Claims the app for this tab (Web Locks API): one tab at a time works on a person's copy and
/// sends their changes, so two tabs never number changes from the same device twice. Returns
/// false when another tab holds it. Browsers without Web Locks get true.
pub async fn claim_tab(user_id: Uuid) -> bool {
    use js_sys::{Function, Object, Promise, Reflect};
    use wasm_bindgen::closure::Closure;
    if TAB_LOCK.with(|held| held.borrow().is_some()) {
        return true;
    }
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else {
        return true;
    };
    let locks = Reflect::get(&navigator, &"locks".into()).unwrap_or(JsValue::UNDEFINED);
    let Some(request) = Reflect::get(&locks, &"request".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
    else {
        return true;
    };
    let name = JsValue::from_str(&format!("mdt-app-{user_id}"));
    let options = Object::new();
    let _ = Reflect::set(&options, &"ifAvailable".into(), &JsValue::TRUE);
    let claimed = Promise::new(&mut |resolve: Function, _reject: Function| {
        let resolve_on_error = resolve.clone();
        let granted = Closure::once_into_js(move |lock: JsValue| -> JsValue {
            if lock.is_null() {
                let _ = resolve.call1(&JsValue::NULL, &JsValue::FALSE);
                return JsValue::UNDEFINED;
            }
            let _ = resolve.call1(&JsValue::NULL, &JsValue::TRUE);
            // Held until released (sign-out) or the tab closes.
            Promise::new(&mut |release: Function, _| {
                TAB_LOCK.with(|held| *held.borrow_mut() = Some(release));
            })
            .into()
        });
        if request.call3(&locks, &name, &options, &granted).is_err() {
            let _ = resolve_on_error.call1(&JsValue::NULL, &JsValue::TRUE);
        }
    });
    JsFuture::from(claimed)
        .await
        .map(|v| v.as_bool().unwrap_or(true))
        .unwrap_or(true)
}

/// Lets another tab have the app (at sign-out).
pub fn release_tab() {
    TAB_LOCK.with(|held| {
        if let Some(release) = held.borrow_mut().take() {
            let _ = release.call0(&JsValue::NULL);
        }
    });
}

/// Asks the browser not to clear the copy under storage pressure (best effort; the answer is
/// not needed).
pub fn ask_for_persistent_storage() {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().storage().persist();
    }
}

/// Removes the unencrypted copies older versions of the app kept in localStorage.
pub fn forget_unencrypted_copies() {
    let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) else {
        return;
    };
    let keys: Vec<String> = (0..storage.length().unwrap_or(0))
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|k| k.starts_with("mdt.replica."))
        .collect();
    for key in keys {
        let _ = storage.remove_item(&key);
    }
}
