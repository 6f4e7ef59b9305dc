//! The digest of a node's state (`/cluster/digest`), computed at most once per applied
//! index however many callers ask at once, off the state lock and the async workers.

use colonies_raft::StateHandle;

/// The last digest computed, and the applied index it is of.
#[derive(Default)]
pub struct DigestCache(tokio::sync::Mutex<Option<(Option<u64>, String)>>);

impl DigestCache {
    /// The digest of the state as applied now. Callers that arrive while it is computed
    /// wait for that computation instead of starting their own.
    pub async fn get(&self, state: &StateHandle) -> (Option<u64>, String) {
        let mut cached = self.0.lock().await;
        let (applied, point_in_time) = {
            let guard = state.read();
            (guard.last_applied.map(|l| l.index), guard.state.point_in_time())
        };
        if let Some((index, digest)) = cached.as_ref()
            && *index == applied
        {
            return (*index, digest.clone());
        }
        // Hashing a large state takes a while: off the state lock (the copy above is quick)
        // and off the async workers, so applies, heartbeats and requests go on meanwhile.
        let fresh = tokio::task::spawn_blocking(move || (applied, point_in_time.digest()))
            .await
            .unwrap_or_else(|e| (None, format!("digest failed: {e}")));
        *cached = Some(fresh.clone());
        fresh
    }
}
