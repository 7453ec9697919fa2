//! Process state of the demo: the one-pipeline-at-a-time lock and the
//! single-slot HITL relay. Both are per database, so several apps in one
//! process (the test suite) do not share them; one server has one.

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex},
};

use tokio::sync::{oneshot, OwnedMutexGuard};

use super::schemas::HitlDecision;
use crate::state::AppState;

/// A decision relayed to the waiting pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayedDecision {
    /// Approved or rejected.
    pub decision: HitlDecision,
    /// The operator's reason.
    pub reason: Option<String>,
}

/// Outcome of relaying a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayOutcome {
    /// Delivered to the pipeline.
    Applied,
    /// No pending action with this id.
    NotPending,
    /// The action was already decided.
    AlreadyDecided,
}

#[derive(Debug)]
struct Slot {
    action_id: String,
    sender: Option<oneshot::Sender<RelayedDecision>>,
}

/// Lock and relay of one database.
#[derive(Debug, Default)]
pub struct DemoRuntime {
    lock: Arc<tokio::sync::Mutex<()>>,
    slot: Mutex<Option<Slot>>,
}

static RUNTIMES: LazyLock<Mutex<HashMap<String, Arc<DemoRuntime>>>> = LazyLock::new(Mutex::default);

/// The runtime of `state`'s database.
pub fn of(state: &AppState) -> Arc<DemoRuntime> {
    let mut map = RUNTIMES.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(state.settings.database_url.clone())
        .or_default()
        .clone()
}

impl DemoRuntime {
    /// Takes the pipeline lock without waiting; `None` while a run holds it.
    pub fn try_start(&self) -> Option<OwnedMutexGuard<()>> {
        self.lock.clone().try_lock_owned().ok()
    }

    /// Registers a pending action (replacing any stale one); the receiver
    /// gets the operator's decision.
    pub fn register(&self, action_id: &str) -> oneshot::Receiver<RelayedDecision> {
        let (sender, receiver) = oneshot::channel();
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(Slot {
            action_id: action_id.to_owned(),
            sender: Some(sender),
        });
        receiver
    }

    /// Relays a decision for `action_id`.
    pub fn decide(&self, action_id: &str, decision: RelayedDecision) -> RelayOutcome {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        match slot.as_mut() {
            Some(pending) if pending.action_id == action_id => match pending.sender.take() {
                Some(sender) => {
                    // A pipeline that stopped waiting has dropped the
                    // receiver; the decision is then simply not used.
                    let _ = sender.send(decision);
                    RelayOutcome::Applied
                }
                None => RelayOutcome::AlreadyDecided,
            },
            _ => RelayOutcome::NotPending,
        }
    }

    /// Ends the wait (after the step, whatever happened): an undecided
    /// action is no longer pending; a decided one stays known as decided
    /// (a repeated decision is a conflict, not a missing action) until the
    /// next registration replaces it.
    pub fn clear(&self) {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        if slot
            .as_ref()
            .is_some_and(|pending| pending.sender.is_some())
        {
            *slot = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approve() -> RelayedDecision {
        RelayedDecision {
            decision: HitlDecision::Approved,
            reason: None,
        }
    }

    #[test]
    fn lock_is_exclusive_and_released_on_drop() {
        let runtime = DemoRuntime::default();
        let guard = runtime.try_start().unwrap();
        assert!(runtime.try_start().is_none());
        drop(guard);
        assert!(runtime.try_start().is_some());
    }

    #[tokio::test]
    async fn relay_applies_once_then_conflicts() {
        let runtime = DemoRuntime::default();
        assert_eq!(runtime.decide("a", approve()), RelayOutcome::NotPending);
        let receiver = runtime.register("a");
        assert_eq!(runtime.decide("b", approve()), RelayOutcome::NotPending);
        assert_eq!(runtime.decide("a", approve()), RelayOutcome::Applied);
        assert_eq!(runtime.decide("a", approve()), RelayOutcome::AlreadyDecided);
        assert_eq!(receiver.await.unwrap(), approve());
        // A new registration replaces the stale slot.
        let _receiver = runtime.register("c");
        assert_eq!(runtime.decide("a", approve()), RelayOutcome::NotPending);
        runtime.clear();
        assert_eq!(runtime.decide("c", approve()), RelayOutcome::NotPending);
        // Once the step that waited has ended, a decided action is still a
        // conflict (the operator's repeat races the step's end).
        let _receiver = runtime.register("d");
        assert_eq!(runtime.decide("d", approve()), RelayOutcome::Applied);
        runtime.clear();
        assert_eq!(runtime.decide("d", approve()), RelayOutcome::AlreadyDecided);
    }
}
