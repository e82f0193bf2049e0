//! A small async layer over IndexedDB: open with object stores, read everything from a store,
//! and write several puts and deletes as one transaction that resolves only when committed.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbOpenDbRequest, IdbRequest, IdbTransaction};

/// IndexedDB is missing or failed; the message says what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct IdbError(pub String);

fn describe(e: JsValue, doing: &str) -> IdbError {
    let detail = e
        .dyn_ref::<web_sys::DomException>()
        .map(|d| format!("{}: {}", d.name(), d.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".into());
    IdbError(format!(
        "This browser's storage failed while {doing} ({detail})."
    ))
}

/// Resolves when `request` succeeds, with its result.
async fn settle(request: &IdbRequest, doing: &str) -> Result<JsValue, IdbError> {
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        let ok = Closure::once_into_js(move |event: web_sys::Event| {
            let result = event
                .target()
                .and_then(|t| t.dyn_into::<IdbRequest>().ok())
                .and_then(|r| r.result().ok())
                .unwrap_or(JsValue::UNDEFINED);
            let _ = resolve.call1(&JsValue::NULL, &result);
        });
        let failed = Closure::once_into_js(move |event: web_sys::Event| {
            let error = event
                .target()
                .and_then(|t| t.dyn_into::<IdbRequest>().ok())
                .and_then(|r| r.error().ok().flatten())
                .map(JsValue::from)
                .unwrap_or(JsValue::UNDEFINED);
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        request.set_onsuccess(Some(ok.unchecked_ref()));
        request.set_onerror(Some(failed.unchecked_ref()));
    });
    JsFuture::from(promise)
        .await
        .map_err(|e| describe(e, doing))
}

/// Resolves when `tx` has committed (rejects if it aborts, e.g. when the disk is full).
async fn committed(tx: &IdbTransaction) -> Result<(), IdbError> {
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        let done = Closure::once_into_js(move || {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let tx_for_error = tx.clone();
        let reject_abort = reject.clone();
        let failed = Closure::once_into_js(move || {
            let error = tx_for_error
                .error()
                .map(JsValue::from)
                .unwrap_or(JsValue::UNDEFINED);
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        let aborted = Closure::once_into_js(move || {
            let _ = reject_abort.call1(&JsValue::NULL, &JsValue::from_str("the write was aborted"));
        });
        tx.set_oncomplete(Some(done.unchecked_ref()));
        tx.set_onerror(Some(failed.unchecked_ref()));
        tx.set_onabort(Some(aborted.unchecked_ref()));
    });
    JsFuture::from(promise)
        .await
        .map(drop)
        .map_err(|e| describe(e, "saving"))
}

fn factory() -> Result<web_sys::IdbFactory, IdbError> {
    web_sys::window()
        .and_then(|w| w.indexed_db().ok().flatten())
        .ok_or_else(|| {
            IdbError("This browser does not offer storage for working offline (IndexedDB); private browsing may be on.".into())
        })
}

/// Opens (creating) database `name` with the given object stores (out-of-line string keys).
pub async fn open(name: &str, stores: &'static [&'static str]) -> Result<IdbDatabase, IdbError> {
    let request: IdbOpenDbRequest = factory()?
        .open_with_u32(name, 1)
        .map_err(|e| describe(e, "opening"))?;
    let upgrade = Closure::once_into_js(move |event: web_sys::Event| {
        let db = event
            .target()
            .and_then(|t| t.dyn_into::<IdbRequest>().ok())
            .and_then(|r| r.result().ok())
            .and_then(|r| r.dyn_into::<IdbDatabase>().ok());
        if let Some(db) = db {
            for store in stores {
                if !db.object_store_names().contains(store) {
                    let _ = db.create_object_store(store);
                }
            }
        }
    });
    request.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    let db = settle(&request, "opening")
        .await?
        .dyn_into::<IdbDatabase>()
        .map_err(|e| describe(e, "opening"))?;
    // When the database is deleted (sign-out, here or in another tab), let go of it at once
    // so the deletion is never blocked by this connection.
    let db_for_close = db.clone();
    let on_change = Closure::once_into_js(move || db_for_close.close());
    db.set_onversionchange(Some(on_change.unchecked_ref()));
    Ok(db)
}

/// Deletes database `name` and everything in it.
pub async fn delete(name: &str) -> Result<(), IdbError> {
    let request = factory()?
        .delete_database(name)
        .map_err(|e| describe(e, "deleting"))?;
    settle(&request, "deleting").await.map(drop)
}

/// One value by key, if present.
pub async fn get(db: &IdbDatabase, store: &str, key: &str) -> Result<Option<JsValue>, IdbError> {
    let tx = db
        .transaction_with_str(store)
        .map_err(|e| describe(e, "reading"))?;
    let request = tx
        .object_store(store)
        .and_then(|s| s.get(&JsValue::from_str(key)))
        .map_err(|e| describe(e, "reading"))?;
    let value = settle(&request, "reading").await?;
    Ok((!value.is_undefined()).then_some(value))
}

/// Every (key, value) of a store.
pub async fn get_all(db: &IdbDatabase, store: &str) -> Result<Vec<(String, JsValue)>, IdbError> {
    let tx = db
        .transaction_with_str(store)
        .map_err(|e| describe(e, "reading"))?;
    let object_store = tx.object_store(store).map_err(|e| describe(e, "reading"))?;
    let keys = object_store
        .get_all_keys()
        .map_err(|e| describe(e, "reading"))?;
    let values = object_store.get_all().map_err(|e| describe(e, "reading"))?;
    let keys: Array = settle(&keys, "reading").await?.unchecked_into();
    let values: Array = settle(&values, "reading").await?.unchecked_into();
    Ok(keys
        .iter()
        .zip(values.iter())
        .filter_map(|(k, v)| k.as_string().map(|k| (k, v)))
        .collect())
}

/// One change inside a [`write`].
pub enum Op {
    Put {
        store: &'static str,
        key: String,
        value: JsValue,
    },
    Delete {
        store: &'static str,
        key: String,
    },
}

/// Applies `ops` in one read-write transaction and waits for the commit. With `strict`, the
/// browser flushes to disk before reporting the commit (used for the outbox of unsent changes).
pub async fn write(
    db: &IdbDatabase,
    stores: &[&'static str],
    ops: Vec<Op>,
    strict: bool,
) -> Result<(), IdbError> {
    let names: Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
    let options = Object::new();
    let durability = if strict { "strict" } else { "default" };
    let _ = Reflect::set(&options, &"durability".into(), &durability.into());
    // `transaction(stores, mode, { durability })` (the options are not in web-sys's stable API).
    let transaction: Function = Reflect::get(db, &"transaction".into())
        .and_then(|f| f.dyn_into::<Function>())
        .map_err(|e| describe(e, "saving"))?;
    let tx: IdbTransaction = transaction
        .call3(db, &names, &"readwrite".into(), &options)
        .and_then(|t| t.dyn_into::<IdbTransaction>())
        .map_err(|e| describe(e, "saving"))?;
    for op in ops {
        let result = match op {
            Op::Put { store, key, value } => tx
                .object_store(store)
                .and_then(|s| s.put_with_key(&value, &JsValue::from_str(&key))),
            Op::Delete { store, key } => tx
                .object_store(store)
                .and_then(|s| s.delete(&JsValue::from_str(&key))),
        };
        if let Err(e) = result {
            let _ = tx.abort();
            return Err(describe(e, "saving"));
        }
    }
    committed(&tx).await
}
