//! The JSON-file backend, the documented default (`.cavra/api/*.json`).
//!
//! Layout: the store file keeps the documented shape (`{"sessions":[…],
//! "decisions":[…]}` and so on), keys sorted. Beside it live two files:
//!
//! - `<file>.lock`: an advisory lock (`flock`). Writers hold it exclusively,
//!   readers shared, so a hook process and the API server never lose each
//!   other's writes.
//! - `<file>.wal`: an append-only journal. An acknowledged write is one
//!   JSON line in the journal, fsynced. Appending is cheap; rewriting the
//!   whole store per write is not. When the journal grows past half the
//!   store file (or 256 KiB), the writer folds it into the store file:
//!   write a temporary file, fsync, rename, fsync the directory, then
//!   truncate the journal. Replaying a journal line is idempotent, so a
//!   crash at any point loses no acknowledged write and never leaves the
//!   store file half-written. A torn last line (a writer killed
//!   mid-append, never acknowledged) is ignored and cut off by the next
//!   writer.
//!
//! Writes from many tasks in one process are grouped: a writer thread takes
//! every request waiting in its queue and commits them with one append and
//! one fsync.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use serde_json::{Map, Value};

use crate::error::{Result, StoreError};
use crate::kinds::{Kind, StoreName};
use crate::query::{Page, Query};
use crate::records::{PutContext, Record, canonical, plan_put, session_of, text};

/// Fold the journal into the store file once it exceeds this many bytes
/// and half the store file's size.
const COMPACT_MIN_BYTES: u64 = 256 * 1024;
/// Most requests grouped into one commit.
const MAX_GROUP: usize = 512;

#[derive(Clone)]
pub struct JsonStore {
    inner: Arc<Inner>,
}

struct Inner {
    name: StoreName,
    path: PathBuf,
    journal: PathBuf,
    lock: PathBuf,
    state: Mutex<State>,
    tx: Mutex<Option<mpsc::Sender<Request>>>,
}

enum Request {
    Put {
        records: Vec<(Kind, Record)>,
        raw: bool,
        reply: tokio::sync::oneshot::Sender<Result<Vec<Record>>>,
    },
    Compact {
        reply: tokio::sync::oneshot::Sender<Result<()>>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct FileSig {
    len: u64,
    modified: Option<SystemTime>,
    ino: u64,
}

#[derive(Default)]
struct Collection {
    records: Vec<Record>,
    index: HashMap<String, usize>,
    /// Each record's indexed column values (the kind's `columns`), so a
    /// scan compares strings instead of looking fields up in maps.
    cols: Vec<Box<[Option<Box<str>>]>>,
}

#[derive(Default)]
struct State {
    loaded: bool,
    main_sig: Option<FileSig>,
    journal_ino: u64,
    journal_pos: u64,
    collections: HashMap<Kind, Collection>,
    /// Top-level keys of the store file that are not ours; kept on rewrite.
    extra: Map<String, Value>,
    decisions_per_session: HashMap<String, usize>,
}

fn sig(path: &Path) -> Result<Option<FileSig>> {
    match fs::metadata(path) {
        Ok(m) => {
            use std::os::unix::fs::MetadataExt;
            Ok(Some(FileSig {
                len: m.len(),
                modified: m.modified().ok(),
                ino: m.ino(),
            }))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::io(path, e)),
    }
}

pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Opens one of the store's own files for writing: never through a
/// symbolic link, only a regular file ([`crate::fsx::open_regular`]); a new
/// one is private to the user (0600).
fn open_own(path: &Path, create: bool, append: bool) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    crate::fsx::open_regular(
        path,
        OpenOptions::new()
            .create(create)
            .append(append)
            .write(true)
            .truncate(false)
            .mode(0o600),
    )
}

pub(crate) fn fsync_dir(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}

impl State {
    fn coll(&mut self, kind: Kind) -> &mut Collection {
        self.collections.entry(kind).or_default()
    }

    fn get(&self, kind: Kind, key: &str) -> Option<&Record> {
        let c = self.collections.get(&kind)?;
        c.records.get(*c.index.get(key)?)
    }

    fn put(&mut self, kind: Kind, record: Record) {
        let key = text(&record, kind.spec().key).unwrap_or_default();
        if kind == Kind::Decision {
            let new_sid = text(&record, "session_id").unwrap_or_default();
            let old_sid = self.get(kind, &key).and_then(|old| text(old, "session_id"));
            if let Some(old_sid) = old_sid
                && let Some(n) = self.decisions_per_session.get_mut(&old_sid)
            {
                *n = n.saturating_sub(1);
            }
            *self.decisions_per_session.entry(new_sid).or_default() += 1;
        }
        let cols: Box<[Option<Box<str>>]> = kind
            .spec()
            .columns
            .iter()
            .map(|col| text(&record, col.name).map(String::into_boxed_str))
            .collect();
        let c = self.coll(kind);
        match c.index.get(&key) {
            Some(&i) => {
                if let Some(slot) = c.records.get_mut(i) {
                    *slot = record;
                }
                if let Some(slot) = c.cols.get_mut(i) {
                    *slot = cols;
                }
            }
            None => {
                c.index.insert(key, c.records.len());
                c.records.push(record);
                c.cols.push(cols);
            }
        }
    }

    fn has_decisions(&self, sid: &str) -> bool {
        self.decisions_per_session.get(sid).is_some_and(|n| *n > 0)
    }

    fn reset(&mut self) {
        *self = State::default();
    }
}

impl JsonStore {
    /// Opens (lazily: nothing is read or created until first use) the JSON
    /// store `name` at `path`.
    pub fn open(name: StoreName, path: PathBuf) -> JsonStore {
        let inner = Arc::new(Inner {
            name,
            journal: sibling(&path, ".wal"),
            lock: sibling(&path, ".lock"),
            path,
            state: Mutex::new(State::default()),
            tx: Mutex::new(None),
        });
        JsonStore { inner }
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn sender(&self) -> Result<mpsc::Sender<Request>> {
        let mut guard = self.inner.tx.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = guard.as_ref() {
            return Ok(tx.clone());
        }
        let (tx, rx) = mpsc::channel::<Request>();
        let weak = Arc::downgrade(&self.inner);
        std::thread::Builder::new()
            .name(format!("cavra-json-{}", self.inner.name.as_str()))
            .spawn(move || writer_loop(weak, rx))
            .map_err(|e| StoreError::io(&self.inner.path, e))?;
        *guard = Some(tx.clone());
        Ok(tx)
    }

    /// Upserts normalized records (merging as documented); returns them as
    /// stored. `raw` skips merging (imports and restores).
    pub async fn put(&self, records: Vec<(Kind, Record)>, raw: bool) -> Result<Vec<Record>> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.sender()?
            .send(Request::Put {
                records,
                raw,
                reply,
            })
            .map_err(|_| StoreError::Closed(self.inner.name.as_str().into()))?;
        rx.await
            .map_err(|_| StoreError::Closed(self.inner.name.as_str().into()))?
    }

    /// Folds the journal into the store file, so the file alone holds
    /// every record (used on shutdown and before a backup).
    pub async fn compact(&self) -> Result<()> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.sender()?
            .send(Request::Compact { reply })
            .map_err(|_| StoreError::Closed(self.inner.name.as_str().into()))?;
        rx.await
            .map_err(|_| StoreError::Closed(self.inner.name.as_str().into()))?
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&State) -> T + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut state = inner.lock_state();
            let lock = inner.file_lock(false)?;
            let r = inner.refresh(&mut state, false);
            drop(lock);
            r?;
            Ok(f(&state))
        })
        .await
        .map_err(|e| StoreError::Database {
            store: self.inner.name.as_str().into(),
            message: e.to_string(),
        })?
    }

    pub async fn get(&self, kind: Kind, id: &str) -> Result<Option<Value>> {
        let id = id.to_string();
        self.read(move |s| {
            let spec = kind.spec();
            if let Some(r) = s.get(kind, &id) {
                return Some(canonical(Value::Object(r.clone())));
            }
            // Several records may share the name: the one with the
            // smallest key (bytewise), as the SQL backends pick it.
            let alt = spec.alt_key?;
            let c = s.collections.get(&kind)?;
            c.records
                .iter()
                .filter(|r| text(r, alt).as_deref() == Some(id.as_str()))
                .min_by(|a, b| text(a, spec.key).cmp(&text(b, spec.key)))
                .map(|r| canonical(Value::Object(r.clone())))
        })
        .await
    }

    pub async fn list(&self, q: Query) -> Result<Page> {
        self.read(move |s| {
            let spec = q.kind.spec();
            let empty = Collection::default();
            let c = s.collections.get(&q.kind).unwrap_or(&empty);
            let pos = |name: &str| spec.columns.iter().position(|col| col.name == name);
            let filter_cols: Vec<Option<usize>> =
                q.filters.iter().map(|f| pos(f.def.field)).collect();
            let cell = |i: usize, ci: usize| -> Option<&str> {
                c.cols
                    .get(i)
                    .and_then(|row| row.get(ci))
                    .and_then(|v| v.as_deref())
            };
            let mut matched: Vec<usize> = (0..c.records.len())
                .filter(|&i| {
                    q.filters.iter().zip(&filter_cols).all(|(f, ci)| match ci {
                        Some(ci) => f.matches_text(cell(i, *ci)),
                        None => c.records.get(i).is_some_and(|r| f.matches(r)),
                    })
                })
                .collect();
            let order: Vec<(usize, bool)> = spec
                .order
                .iter()
                .filter_map(|(name, desc)| pos(name).map(|ci| (ci, *desc)))
                .chain(pos(spec.key).map(|ci| (ci, false)))
                .collect();
            let cmp = |a: &usize, b: &usize| {
                for (ci, desc) in &order {
                    let o = cell(*a, *ci).cmp(&cell(*b, *ci));
                    let o = if *desc { o.reverse() } else { o };
                    if o.is_ne() {
                        return o;
                    }
                }
                std::cmp::Ordering::Equal
            };
            let offset = usize::try_from(q.offset).unwrap_or(usize::MAX);
            let limit = usize::try_from(q.limit).unwrap_or(0);
            let need = offset.saturating_add(limit);
            if need > 0 && need < matched.len() {
                matched.select_nth_unstable_by(need - 1, cmp);
                if let Some(prefix) = matched.get_mut(..need) {
                    prefix.sort_by(cmp);
                }
            } else {
                matched.sort_by(cmp);
            }
            let total = matched.len() as i64;
            let items = matched
                .into_iter()
                .skip(offset)
                .take(limit)
                .filter_map(|i| c.records.get(i))
                .map(|r| canonical(Value::Object(r.clone())))
                .collect();
            Page {
                items,
                total,
                limit: q.limit,
                offset: q.offset,
            }
        })
        .await
    }

    /// Every record of `kind`, in file order.
    pub async fn export(&self, kind: Kind) -> Result<Vec<Record>> {
        self.read(move |s| {
            s.collections
                .get(&kind)
                .map(|c| c.records.clone())
                .unwrap_or_default()
        })
        .await
    }

    /// Number of records of `kind`.
    pub async fn count(&self, kind: Kind) -> Result<i64> {
        self.read(move |s| {
            s.collections
                .get(&kind)
                .map(|c| c.records.len() as i64)
                .unwrap_or(0)
        })
        .await
    }

    /// Reads the store from disk and reports any corruption (used by
    /// `ops stores` and start-up checks).
    pub async fn check(&self) -> Result<()> {
        self.read(|_| ()).await
    }
}

impl Inner {
    fn lock_state(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => {
                let mut g = poisoned.into_inner();
                g.reset();
                g
            }
        }
    }

    /// Takes the cross-process lock. A shared lock on a store whose
    /// directory does not exist yet is skipped (there is nothing to read).
    fn file_lock(&self, exclusive: bool) -> Result<Option<File>> {
        if exclusive {
            if let Some(dir) = self.lock.parent()
                && !dir.as_os_str().is_empty()
            {
                fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
            }
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(&self.lock)
                .map_err(|e| StoreError::io(&self.lock, e))?;
            file.lock().map_err(|e| StoreError::io(&self.lock, e))?;
            return Ok(Some(file));
        }
        // Readers: an existing lock file is opened read-only (a read-only
        // directory can still be read); a missing one is created when
        // possible, else there is no writer to wait for.
        let file = match File::open(&self.lock) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&self.lock)
                {
                    Ok(f) => f,
                    Err(_) => return Ok(None),
                }
            }
            Err(e) => return Err(StoreError::io(&self.lock, e)),
        };
        file.lock_shared()
            .map_err(|e| StoreError::io(&self.lock, e))?;
        Ok(Some(file))
    }

    /// Brings `state` up to date with the files. With `writer`, a torn
    /// journal tail is cut off.
    fn refresh(&self, state: &mut State, writer: bool) -> Result<()> {
        let main_sig = sig(&self.path)?;
        if !state.loaded || main_sig != state.main_sig {
            self.load_main(state)?;
            state.main_sig = main_sig;
            state.journal_pos = 0;
            state.journal_ino = 0;
            state.loaded = true;
        }
        let Some(jsig) = sig(&self.journal)? else {
            state.journal_pos = 0;
            state.journal_ino = 0;
            return Ok(());
        };
        if jsig.ino != state.journal_ino || jsig.len < state.journal_pos {
            // Another process folded the journal and started a new one
            // without us seeing the store file change: reload everything.
            if state.journal_pos > 0 {
                self.load_main(state)?;
                state.main_sig = sig(&self.path)?;
            }
            state.journal_pos = 0;
            state.journal_ino = jsig.ino;
        }
        if jsig.len == state.journal_pos {
            return Ok(());
        }
        let mut f = File::open(&self.journal).map_err(|e| StoreError::io(&self.journal, e))?;
        f.seek(SeekFrom::Start(state.journal_pos))
            .map_err(|e| StoreError::io(&self.journal, e))?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)
            .map_err(|e| StoreError::io(&self.journal, e))?;
        let complete = buf.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let (lines, _torn) = buf.split_at(complete);
        for (n, line) in lines.split(|b| *b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let entry: Value = serde_json::from_slice(line).map_err(|e| StoreError::Corrupt {
                path: self.journal.clone(),
                message: format!("entry {} after byte {}: {e}", n + 1, state.journal_pos),
            })?;
            apply_entry(state, &entry).map_err(|message| StoreError::Corrupt {
                path: self.journal.clone(),
                message,
            })?;
        }
        state.journal_pos += complete as u64;
        if writer && complete < buf.len() {
            // A torn tail from a writer that died mid-append (its write was
            // never acknowledged): cut it off before appending after it.
            let f = open_own(&self.journal, false, false)
                .map_err(|e| StoreError::io(&self.journal, e))?;
            f.set_len(state.journal_pos)
                .and_then(|_| f.sync_data())
                .map_err(|e| StoreError::io(&self.journal, e))?;
        }
        Ok(())
    }

    fn load_main(&self, state: &mut State) -> Result<()> {
        let decisions_index_reset = State::default();
        *state = decisions_index_reset;
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::io(&self.path, e)),
        };
        let corrupt = |message: String| StoreError::Corrupt {
            path: self.path.clone(),
            message,
        };
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(corrupt(
                "the file is empty; a store file holds a JSON object (move it away to start afresh)"
                    .into(),
            ));
        }
        let doc: Value = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        let Value::Object(map) = doc else {
            return Err(corrupt("the top level is not a JSON object".into()));
        };
        for (key, value) in map {
            let kind = self
                .name
                .kinds()
                .iter()
                .copied()
                .find(|k| k.spec().collection == key);
            let Some(kind) = kind else {
                state.extra.insert(key, value);
                continue;
            };
            let Value::Array(items) = value else {
                return Err(corrupt(format!("\"{key}\" is not a list")));
            };
            let spec = kind.spec();
            for (i, item) in items.into_iter().enumerate() {
                let Value::Object(record) = item else {
                    return Err(corrupt(format!("{key}[{i}] is not an object")));
                };
                if text(&record, spec.key).is_none() {
                    return Err(corrupt(format!("{key}[{i}] has no {}", spec.key)));
                }
                state.put(kind, record);
            }
        }
        Ok(())
    }

    fn append(&self, state: &mut State, lines: &[u8]) -> Result<()> {
        let existed = self.journal.exists();
        let mut f =
            open_own(&self.journal, true, true).map_err(|e| StoreError::io(&self.journal, e))?;
        let before = f
            .metadata()
            .map_err(|e| StoreError::io(&self.journal, e))?
            .len();
        let written = f.write_all(lines).and_then(|_| f.sync_data());
        if let Err(e) = written {
            // Leave no partial entry behind (disk full, I/O error).
            let _ = f.set_len(before);
            let _ = f.sync_data();
            return Err(StoreError::io(&self.journal, e));
        }
        if !existed {
            fsync_dir(&self.journal)?;
        }
        state.journal_pos = before + lines.len() as u64;
        if let Some(s) = sig(&self.journal)? {
            state.journal_ino = s.ino;
        }
        Ok(())
    }

    fn document(&self, state: &State) -> Result<Vec<u8>> {
        let mut doc = state.extra.clone();
        for kind in self.name.kinds() {
            let items: Vec<Value> = state
                .collections
                .get(kind)
                .map(|c| {
                    c.records
                        .iter()
                        .map(|r| canonical(Value::Object(r.clone())))
                        .collect()
                })
                .unwrap_or_default();
            doc.insert(kind.spec().collection.into(), Value::Array(items));
        }
        let mut bytes = serde_json::to_vec_pretty(&canonical(Value::Object(doc))).map_err(|e| {
            StoreError::Database {
                store: self.name.as_str().into(),
                message: e.to_string(),
            }
        })?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Writes the whole store file atomically and empties the journal.
    fn compact(&self, state: &mut State) -> Result<()> {
        let bytes = self.document(state)?;
        // The store keeps the permissions it has (a `chmod 600` survives
        // the fold); a new one is private to the user.
        let mode = crate::fsx::existing_mode(&self.path, 0o600);
        crate::fsx::replace_file(&self.path, &bytes, mode, true)
            .map_err(|(p, e)| StoreError::io(&p, e))?;
        fsync_dir(&self.path)?;
        if self.journal.exists() {
            let f = open_own(&self.journal, false, false)
                .map_err(|e| StoreError::io(&self.journal, e))?;
            f.set_len(0)
                .and_then(|_| f.sync_data())
                .map_err(|e| StoreError::io(&self.journal, e))?;
        }
        state.main_sig = sig(&self.path)?;
        state.journal_pos = 0;
        Ok(())
    }

    fn journal_len(&self) -> u64 {
        fs::metadata(&self.journal).map(|m| m.len()).unwrap_or(0)
    }
}

/// Applies one journal line `{"w":[[kind, record], …]}`.
fn apply_entry(state: &mut State, entry: &Value) -> std::result::Result<(), String> {
    let writes = entry
        .get("w")
        .and_then(Value::as_array)
        .ok_or("entry has no \"w\" list")?;
    for w in writes {
        let (kind, record) = match w.as_array().map(Vec::as_slice) {
            Some([Value::String(k), Value::Object(r)]) => (k, r),
            _ => return Err("write is not [kind, record]".into()),
        };
        let kind = Kind::parse(kind).ok_or_else(|| format!("unknown record kind {kind:?}"))?;
        if text(record, kind.spec().key).is_none() {
            return Err(format!(
                "{} record without {}",
                kind.as_str(),
                kind.spec().key
            ));
        }
        state.put(kind, record.clone());
    }
    Ok(())
}

fn context(state: &State, kind: Kind, record: &Record) -> PutContext {
    let key = text(record, kind.spec().key).unwrap_or_default();
    let existing = state.get(kind, &key).cloned();
    let mut ctx = PutContext {
        existing,
        ..PutContext::default()
    };
    if let Some(sid) = session_of(kind, record) {
        ctx.session_has_decisions = state.has_decisions(&sid);
        if kind == Kind::Decision {
            ctx.session = state.get(Kind::Session, &sid).cloned();
            if let Some(old_sid) = ctx.existing.as_ref().and_then(|e| text(e, "session_id"))
                && old_sid != sid
            {
                ctx.old_session = state.get(Kind::Session, &old_sid).cloned();
            }
        }
    }
    ctx
}

fn writer_loop(inner: std::sync::Weak<Inner>, rx: mpsc::Receiver<Request>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        let Some(inner) = inner.upgrade() else { return };
        commit(&inner, batch);
    }
}

type PutReply = tokio::sync::oneshot::Sender<Result<Vec<Record>>>;
/// One queued upsert: its records, whether it is a raw import, its reply.
type PendingPut = (Vec<(Kind, Record)>, bool, PutReply);

fn commit(inner: &Inner, batch: Vec<Request>) {
    let mut state = inner.lock_state();
    let mut puts: Vec<PendingPut> = Vec::new();
    let mut compacts = Vec::new();
    for req in batch {
        match req {
            Request::Put {
                records,
                raw,
                reply,
            } => puts.push((records, raw, reply)),
            Request::Compact { reply } => compacts.push(reply),
        }
    }
    let lock = match inner.file_lock(true) {
        Ok(l) => l,
        Err(e) => return fail_all(inner, puts, compacts, &e),
    };
    if let Err(e) = inner.refresh(&mut state, true) {
        drop(lock);
        return fail_all(inner, puts, compacts, &e);
    }
    let mut lines = Vec::new();
    let mut results = Vec::with_capacity(puts.len());
    for (records, raw, reply) in puts {
        let mut stored = Vec::new();
        let mut writes = Vec::new();
        for (kind, record) in records {
            let planned = if raw {
                vec![(kind, record)]
            } else {
                let ctx = context(&state, kind, &record);
                plan_put(kind, record, ctx)
            };
            for (i, (k, r)) in planned.into_iter().enumerate() {
                if i == 0 {
                    stored.push(r.clone());
                }
                state.put(k, r.clone());
                writes.push(Value::Array(vec![
                    Value::String(k.as_str().into()),
                    Value::Object(r),
                ]));
            }
        }
        let mut entry = Map::new();
        entry.insert("w".into(), Value::Array(writes));
        match serde_json::to_vec(&Value::Object(entry)) {
            Ok(mut line) => {
                line.push(b'\n');
                lines.extend_from_slice(&line);
                results.push((reply, Ok(stored)));
            }
            Err(e) => results.push((
                reply,
                Err(StoreError::Database {
                    store: inner.name.as_str().into(),
                    message: e.to_string(),
                }),
            )),
        }
    }
    let mut outcome = Ok(());
    if !lines.is_empty() {
        outcome = inner.append(&mut state, &lines);
    }
    if outcome.is_ok() {
        let jlen = inner.journal_len();
        let main_len = state.main_sig.map_or(0, |s| s.len);
        let due = jlen > COMPACT_MIN_BYTES && jlen > main_len / 2;
        if !compacts.is_empty() || due {
            // The puts are durable in the journal already: a fold that
            // fails (a full disk has room for a line but not for the whole
            // file) fails only the requests that asked for it. Reporting
            // the puts as failed would have a client retry, and store twice,
            // writes it can already read back.
            if let Err(e) = inner.compact(&mut state) {
                // The file on disk may have changed under the fold:
                // reload it next time.
                state.reset();
                drop(lock);
                let msg = e.to_string();
                for (reply, r) in results {
                    let _ = reply.send(r);
                }
                for reply in compacts {
                    let _ = reply.send(Err(clone_err(inner, &msg, &e)));
                }
                return;
            }
        }
    }
    drop(lock);
    match outcome {
        Ok(()) => {
            for (reply, r) in results {
                let _ = reply.send(r);
            }
            for reply in compacts {
                let _ = reply.send(Ok(()));
            }
        }
        Err(e) => {
            // Memory may now hold writes the disk does not: reload next time.
            state.reset();
            let msg = e.to_string();
            for (reply, _) in results {
                let _ = reply.send(Err(clone_err(inner, &msg, &e)));
            }
            for reply in compacts {
                let _ = reply.send(Err(clone_err(inner, &msg, &e)));
            }
        }
    }
}

fn clone_err(inner: &Inner, msg: &str, e: &StoreError) -> StoreError {
    match e {
        StoreError::Io { path, source } => StoreError::Io {
            path: path.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        StoreError::Corrupt { path, message } => StoreError::Corrupt {
            path: path.clone(),
            message: message.clone(),
        },
        _ => StoreError::Database {
            store: inner.name.as_str().into(),
            message: msg.into(),
        },
    }
}

fn fail_all(
    inner: &Inner,
    puts: Vec<PendingPut>,
    compacts: Vec<tokio::sync::oneshot::Sender<Result<()>>>,
    e: &StoreError,
) {
    let msg = e.to_string();
    for (_, _, reply) in puts {
        let _ = reply.send(Err(clone_err(inner, &msg, e)));
    }
    for reply in compacts {
        let _ = reply.send(Err(clone_err(inner, &msg, e)));
    }
}
