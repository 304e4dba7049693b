//! Planning one group of writes, with no IO: which stored records the
//! group needs, and the final state of every record it touches. Both SQL
//! writers (SQLite on its own thread, PostgreSQL on a task) read what
//! [`needs`] and [`moved_from`] name, then call [`plan`] and write what it
//! returns, in one transaction.
//!
//! Merges are planned in memory over the cache, so several decisions of
//! one session in one group chain correctly.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::kinds::Kind;
use crate::records::{PutContext, Record, plan_put, session_of, text};

/// The requests of one group: each is records to upsert, and whether they
/// are stored exactly as given (imports) rather than merged.
pub(crate) type Work = Vec<(Vec<(Kind, Record)>, bool)>;

/// Stored records by (kind, key); `None` means known to be absent.
pub(crate) type Cache = HashMap<(Kind, String), Option<Record>>;

/// What a group reads before planning.
#[derive(Default)]
pub(crate) struct Needs {
    /// Records by key, per kind.
    pub records: HashMap<Kind, BTreeSet<String>>,
    /// Sessions whose "has stored decisions" is needed.
    pub has_decisions: BTreeSet<String>,
}

/// The records and session facts `work` needs (imports need none).
pub(crate) fn needs(work: &Work) -> Needs {
    let mut n = Needs::default();
    for (records, raw) in work {
        if *raw {
            continue;
        }
        for (kind, r) in records {
            let key = text(r, kind.spec().key).unwrap_or_default();
            n.records.entry(*kind).or_default().insert(key);
            if let Some(sid) = session_of(*kind, r) {
                n.has_decisions.insert(sid.clone());
                if *kind == Kind::Decision {
                    n.records.entry(Kind::Session).or_default().insert(sid);
                }
            }
        }
    }
    n
}

/// The sessions that stored decisions of the group belong to now: a
/// replaced decision that moves to another session leaves its old session,
/// whose counts must be rebuilt too.
pub(crate) fn moved_from(needs: &Needs, cache: &Cache) -> BTreeSet<String> {
    needs
        .records
        .get(&Kind::Decision)
        .map(|keys| {
            keys.iter()
                .filter_map(|k| cache.get(&(Kind::Decision, k.clone())).cloned().flatten())
                .filter_map(|d| text(&d, "session_id"))
                .collect()
        })
        .unwrap_or_default()
}

/// What a group writes.
pub(crate) struct Plan {
    /// Per request, the records as stored (the reply).
    pub replies: Vec<Vec<Record>>,
    /// The final state of every touched record, per kind, keys distinct.
    pub writes: Vec<(Kind, Vec<Record>)>,
}

/// Plans every request of `work` over `cache` (which must hold what
/// [`needs`] and [`moved_from`] named) and `has` (the sessions that have
/// stored decisions).
pub(crate) fn plan(work: Work, cache: &mut Cache, mut has: HashSet<String>) -> Plan {
    let mut touched: Vec<(Kind, String)> = Vec::new();
    let mut touched_set: HashSet<(Kind, String)> = HashSet::new();
    let mut replies = Vec::with_capacity(work.len());
    for (records, raw) in work {
        let mut stored = Vec::new();
        for (kind, record) in records {
            let key = text(&record, kind.spec().key).unwrap_or_default();
            let planned = if raw {
                vec![(kind, record)]
            } else {
                let mut ctx = PutContext {
                    existing: cache.get(&(kind, key.clone())).cloned().flatten(),
                    ..PutContext::default()
                };
                if let Some(sid) = session_of(kind, &record) {
                    ctx.session_has_decisions = has.contains(&sid);
                    if kind == Kind::Decision {
                        ctx.session = cache.get(&(Kind::Session, sid.clone())).cloned().flatten();
                        if let Some(old_sid) =
                            ctx.existing.as_ref().and_then(|e| text(e, "session_id"))
                            && old_sid != sid
                        {
                            ctx.old_session =
                                cache.get(&(Kind::Session, old_sid)).cloned().flatten();
                        }
                    }
                }
                plan_put(kind, record, ctx)
            };
            for (i, (k, r)) in planned.into_iter().enumerate() {
                if i == 0 {
                    stored.push(r.clone());
                }
                if k == Kind::Decision
                    && let Some(sid) = text(&r, "session_id")
                {
                    has.insert(sid);
                }
                let rk = text(&r, k.spec().key).unwrap_or_default();
                cache.insert((k, rk.clone()), Some(r));
                if touched_set.insert((k, rk.clone())) {
                    touched.push((k, rk));
                }
            }
        }
        replies.push(stored);
    }
    let mut writes: Vec<(Kind, Vec<Record>)> = Vec::new();
    for (k, key) in touched {
        let Some(Some(r)) = cache.remove(&(k, key)) else {
            continue;
        };
        match writes.iter_mut().find(|(wk, _)| *wk == k) {
            Some((_, v)) => v.push(r),
            None => writes.push((k, vec![r])),
        }
    }
    Plan { replies, writes }
}
