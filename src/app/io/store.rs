//! The browser's IndexedDB as the run store: one record per run (what it is, its metrics
//! history, as JSON) and its latest checkpoint (bytes). Works in the page and in the workers, so
//! the worker saves at each epoch's end and the page lists, reopens and deletes.

use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    IdbDatabase, IdbFactory, IdbObjectStore, IdbOpenDbRequest, IdbRequest, IdbTransaction,
    IdbTransactionMode,
};

use crate::app::worker::protocol::RunRecord;
use crate::app::worker::record::decode_record;

const DB: &str = "mnist-lab";
const VERSION: u32 = 1;
const RUNS: &str = "runs";
const CHECKPOINTS: &str = "checkpoints";

/// Name for the DOM event the page fires on `window` whenever the stored runs change, so the run
/// list refreshes without polling.
pub const RUNS_CHANGED: &str = "mnist-lab-runs-changed";

/// Tells the run list that the store changed (page side; a no-op in a worker).
pub fn announce_change() {
    if let Some(w) = web_sys::window()
        && let Ok(e) = web_sys::Event::new(RUNS_CHANGED)
    {
        let _ = w.dispatch_event(&e);
    }
}

/// A sentence for a failed store operation; a full disk says so and says what to do.
fn describe(e: &JsValue) -> String {
    let name = Reflect::get(e, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default();
    let message = Reflect::get(e, &"message".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    if name == "QuotaExceededError" {
        "the browser's storage for this site is full (quota exceeded): delete old runs in the run list so checkpoints can be saved".into()
    } else if name.is_empty() {
        format!("browser storage failed: {message}")
    } else {
        format!("browser storage failed ({name}): {message}")
    }
}

/// Waits for a request's `success` (its result) or `error`.
async fn request(req: &IdbRequest) -> Result<JsValue, String> {
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        let r = req.clone();
        let ok = Closure::once_into_js(move || {
            let _ = resolve.call1(&JsValue::NULL, &r.result().unwrap_or(JsValue::UNDEFINED));
        });
        let r = req.clone();
        let err = Closure::once_into_js(move || {
            let _ = reject.call1(
                &JsValue::NULL,
                &r.error().ok().flatten().map(JsValue::from).unwrap_or(JsValue::UNDEFINED),
            );
        });
        req.set_onsuccess(Some(ok.unchecked_ref()));
        req.set_onerror(Some(err.unchecked_ref()));
    });
    JsFuture::from(promise).await.map_err(|e| describe(&e))
}

/// Waits for a transaction to commit; a quota error surfaces here.
async fn committed(tx: &IdbTransaction) -> Result<(), String> {
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        let ok = Closure::once_into_js(move || {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let t = tx.clone();
        let err = Closure::once_into_js(move || {
            let _ = reject
                .call1(&JsValue::NULL, &t.error().map(JsValue::from).unwrap_or(JsValue::UNDEFINED));
        });
        tx.set_oncomplete(Some(ok.unchecked_ref()));
        // A failed request (a full disk) aborts the transaction: `abort` always follows `error`,
        // and a use-once callback must not be called twice.
        tx.set_onabort(Some(err.unchecked_ref()));
    });
    JsFuture::from(promise).await.map(|_| ()).map_err(|e| describe(&e))
}

async fn open() -> Result<IdbDatabase, String> {
    let factory: IdbFactory = Reflect::get(&js_sys::global(), &"indexedDB".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or("this browser has no IndexedDB (private mode?): runs cannot be kept")?;
    let open: IdbOpenDbRequest = factory.open_with_u32(DB, VERSION).map_err(|e| describe(&e))?;
    let upgrade = {
        let o = open.clone();
        Closure::once_into_js(move || {
            if let Ok(db) = o.result().and_then(|d| d.dyn_into::<IdbDatabase>()) {
                // Version 1 is the only schema: an upgrade always starts from an empty database.
                for store in [RUNS, CHECKPOINTS] {
                    let _ = db.create_object_store(store);
                }
            }
        })
    };
    open.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    let db = request(&open).await?;
    db.dyn_into().map_err(|_| "IndexedDB returned something that is not a database".to_string())
}

fn transaction(db: &IdbDatabase, mode: IdbTransactionMode) -> Result<IdbTransaction, String> {
    let names = Array::of2(&RUNS.into(), &CHECKPOINTS.into());
    db.transaction_with_str_sequence_and_mode(&names, mode).map_err(|e| describe(&e))
}

fn object_store(tx: &IdbTransaction, name: &str) -> Result<IdbObjectStore, String> {
    tx.object_store(name).map_err(|e| describe(&e))
}

/// Saves a run's record and, when given, its latest checkpoint (replacing the previous one).
pub async fn save(record: &RunRecord, checkpoint: Option<&[u8]>) -> Result<(), String> {
    let db = open().await?;
    let tx = transaction(&db, IdbTransactionMode::Readwrite)?;
    let json = serde_json::to_string(record).map_err(|e| e.to_string())?;
    let key = JsValue::from_str(&record.id);
    object_store(&tx, RUNS)?
        .put_with_key(&JsValue::from_str(&json), &key)
        .map_err(|e| describe(&e))?;
    if let Some(bytes) = checkpoint {
        let array = Uint8Array::from(bytes);
        object_store(&tx, CHECKPOINTS)?.put_with_key(&array, &key).map_err(|e| describe(&e))?;
    }
    let result = committed(&tx).await;
    db.close();
    result
}

/// A stored record this page cannot read: its key and why, so the run list can show it with
/// Delete instead of hiding it (and its checkpoint's storage).
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    /// The run's id (its key in the store).
    pub id: String,
    /// Why it cannot be read.
    pub reason: String,
}

/// Every stored run, newest first, and the records that cannot be read.
pub async fn list_all() -> Result<(Vec<RunRecord>, Vec<Unreadable>), String> {
    let db = open().await?;
    let tx = transaction(&db, IdbTransactionMode::Readonly)?;
    let runs_store = object_store(&tx, RUNS)?;
    // Both in key order, so the n-th key belongs to the n-th value.
    let keys = request(&runs_store.get_all_keys().map_err(|e| describe(&e))?).await?;
    let all = request(&runs_store.get_all().map_err(|e| describe(&e))?).await?;
    db.close();
    let (mut runs, mut unreadable) = (Vec::new(), Vec::new());
    for (key, value) in Array::from(&keys).iter().zip(Array::from(&all).iter()) {
        let id = key.as_string().unwrap_or_else(|| format!("{key:?}"));
        let decoded = match value.as_string() {
            Some(text) => decode_record(&text),
            None => Err("not a text record".into()),
        };
        match decoded {
            Ok(r) => runs.push(r),
            Err(reason) => unreadable.push(Unreadable { id, reason }),
        }
    }
    runs.sort_by(|a, b| b.updated_ms.total_cmp(&a.updated_ms));
    Ok((runs, unreadable))
}

/// Every readable stored run, newest first.
pub async fn list() -> Result<Vec<RunRecord>, String> {
    Ok(list_all().await?.0)
}

/// One run's record and its checkpoint (if an epoch has finished).
pub async fn load(id: &str) -> Result<(RunRecord, Option<Vec<u8>>), String> {
    let db = open().await?;
    let tx = transaction(&db, IdbTransactionMode::Readonly)?;
    let key = JsValue::from_str(id);
    let record = request(&object_store(&tx, RUNS)?.get(&key).map_err(|e| describe(&e))?).await?;
    let bytes =
        request(&object_store(&tx, CHECKPOINTS)?.get(&key).map_err(|e| describe(&e))?).await?;
    db.close();
    let record = record
        .as_string()
        .ok_or_else(|| format!("run {id} is not in this browser's storage (deleted?)"))?;
    let record = decode_record(&record).map_err(|e| format!("run {id} cannot be read: {e}"))?;
    let bytes = if bytes.is_undefined() || bytes.is_null() {
        None
    } else {
        Some(Uint8Array::new(&bytes).to_vec())
    };
    Ok((record, bytes))
}

/// Deletes a run and its checkpoint.
pub async fn delete(id: &str) -> Result<(), String> {
    let db = open().await?;
    let tx = transaction(&db, IdbTransactionMode::Readwrite)?;
    let key = JsValue::from_str(id);
    object_store(&tx, RUNS)?.delete(&key).map_err(|e| describe(&e))?;
    object_store(&tx, CHECKPOINTS)?.delete(&key).map_err(|e| describe(&e))?;
    let result = committed(&tx).await;
    db.close();
    result
}

/// `(used, quota)` bytes of this site's storage, when the browser tells.
pub async fn usage() -> Option<(f64, f64)> {
    let storage = Reflect::get(
        &Reflect::get(&js_sys::global(), &"navigator".into()).ok()?,
        &"storage".into(),
    )
    .ok()?;
    let estimate: Function = Reflect::get(&storage, &"estimate".into()).ok()?.dyn_into().ok()?;
    let promise: Promise = estimate.call0(&storage).ok()?.dyn_into().ok()?;
    let e = JsFuture::from(promise).await.ok()?;
    let used = Reflect::get(&e, &"usage".into()).ok()?.as_f64()?;
    let quota = Reflect::get(&e, &"quota".into()).ok()?.as_f64()?;
    Some((used, quota))
}
