//! Long-polling executors waiting on the leader for work of their type (design note 6).
//!
//! Waiters park on a `Notify` per (colony, executortype); a process that becomes ready
//! wakes the waiters of its key, which then race to assign through the state machine (only
//! one can win each process). Nothing about a waiter is replicated: after a failover
//! executors simply wait on the new leader.

use colonies_statemachine::Event;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, broadcast};

type Key = (String, String);

#[derive(Clone, Default)]
pub struct Waiters {
    keys: Arc<Mutex<HashMap<Key, Arc<Notify>>>>,
}

impl Waiters {
    /// Starts listening to the state machine's events.
    pub fn start(mut events: broadcast::Receiver<Event>) -> Waiters {
        let waiters = Waiters::default();
        let listener = waiters.clone();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(Event::Ready { colonyname, executortype, .. }) => listener.wake(&colonyname, &executortype),
                    Ok(Event::Changed { .. } | Event::ChannelAppended { .. }) => {}
                    // Every node applies it, so each node's log shows each timeout once.
                    Ok(Event::TimedOut { processid, colonyname, executortype, retries, waited, requeued }) => {
                        let limit = if waited { "maxwaittime" } else { "maxexectime" };
                        tracing::info!(%processid, %colonyname, %executortype, retries, limit, requeued, "a process timed out");
                    }
                    // Missed events: wake everyone, each re-checks the queue.
                    Err(broadcast::error::RecvError::Lagged(_)) => listener.wake_all(),
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        waiters
    }

    /// The `Notify` that wakes waiters for work of this colony and type.
    pub fn notify(&self, colonyname: &str, executortype: &str) -> Arc<Notify> {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.entry((colonyname.to_string(), executortype.to_string())).or_default().clone()
    }

    fn wake(&self, colonyname: &str, executortype: &str) {
        let keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(notify) = keys.get(&(colonyname.to_string(), executortype.to_string())) {
            notify.notify_waiters();
        }
    }

    /// Wakes every waiter, each to re-check the queue.
    pub fn wake_all(&self) {
        let keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        for notify in keys.values() {
            notify.notify_waiters();
        }
    }
}
