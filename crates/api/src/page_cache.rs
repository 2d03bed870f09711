//! Pages built from the organisation tree, kept by one instance and served again while
//! the tree stays the same.
//!
//! Why: a front-end draws the same organisation pages over and over, while the tree
//! changes a few times a day. Building a page costs a range scan of up to 200 rows and
//! their JSON; serving a kept one costs a hash lookup. Every organisation write raises
//! the tree's version in the database (the `org_tree` migration's triggers), and each
//! request's caller lookup reads that version after the request arrived
//! (`Caller::tree_version`), so a kept page is served only to requests that read the
//! version it was built at: no request sees a page older than a write that committed
//! before it, whichever instance made the write.
//!
//! A page is built after its version was read, so it shows that version or a later
//! one: never older than what its readers must see. Pages of an older version are
//! dropped as soon as a newer one is seen. The cache holds at most `capacity` pages
//! (`UNIONHALL_ORG_PAGE_CACHE_ENTRIES`) and empties itself when full; `0` turns it off.

use actix_web::web::Bytes;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};

/// Page bodies by what was asked (`K`), for one tree version at a time.
pub struct PageCache<K> {
    capacity: usize,
    kept: Mutex<Kept<K>>,
}

struct Kept<K> {
    version: i64,
    pages: HashMap<K, Bytes>,
}

impl<K: Hash + Eq> PageCache<K> {
    pub fn new(capacity: usize) -> Self {
        PageCache {
            capacity,
            kept: Mutex::new(Kept {
                version: i64::MIN,
                pages: HashMap::new(),
            }),
        }
    }

    /// The body built for `key` at tree version `version`, if this instance kept one.
    pub fn get(&self, version: i64, key: &K) -> Option<Bytes> {
        if self.capacity == 0 {
            return None;
        }
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.version != version {
            return None;
        }
        kept.pages.get(key).cloned()
    }

    /// Keeps `body`, built for `key` after tree version `version` was read.
    pub fn put(&self, version: i64, key: K, body: Bytes) {
        if self.capacity == 0 {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if version < kept.version {
            // Read before a change this instance has already seen: useless to keep.
            return;
        }
        if version > kept.version {
            kept.version = version;
            kept.pages.clear();
        }
        if kept.pages.len() >= self.capacity {
            kept.pages.clear();
        }
        kept.pages.insert(key, body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &'static str) -> Bytes {
        Bytes::from_static(text.as_bytes())
    }

    #[test]
    fn a_page_is_served_only_at_the_version_it_was_built_for() {
        let cache = PageCache::new(8);
        cache.put(3, "a", page("a@3"));
        assert_eq!(cache.get(3, &"a"), Some(page("a@3")));
        assert_eq!(cache.get(4, &"a"), None);
        assert_eq!(cache.get(2, &"a"), None);
        assert_eq!(cache.get(3, &"b"), None);
    }

    #[test]
    fn a_newer_version_drops_the_older_pages_and_an_older_one_is_not_kept() {
        let cache = PageCache::new(8);
        cache.put(3, "a", page("a@3"));
        cache.put(4, "b", page("b@4"));
        assert_eq!(cache.get(4, &"a"), None);
        assert_eq!(cache.get(4, &"b"), Some(page("b@4")));
        cache.put(3, "a", page("a@3"));
        assert_eq!(cache.get(3, &"a"), None);
        assert_eq!(cache.get(4, &"a"), None);
    }

    #[test]
    fn a_full_cache_empties_itself_and_zero_capacity_keeps_nothing() {
        let cache = PageCache::new(2);
        cache.put(1, "a", page("a"));
        cache.put(1, "b", page("b"));
        cache.put(1, "c", page("c"));
        assert_eq!(cache.get(1, &"a"), None);
        assert_eq!(cache.get(1, &"c"), Some(page("c")));
        let off = PageCache::new(0);
        off.put(1, "a", page("a"));
        assert_eq!(off.get(1, &"a"), None);
    }
}
