//! Cluster mode in the plugin: starts the cluster adapter
//! (`crates/cluster/`) when `config/phoenix-events.json` has a `cluster`
//! object, and stops it at `plugin_deinit`.
//!
//! Ownership: the adapter (and its `phoenix-cluster` thread) lives in
//! [`CLUSTER`] from `plugin_init` to `plugin_deinit`; it is attached to the
//! kernel before any computer boots and stopped (its thread joined) before
//! the kernel shuts down.
//!
//! Built without the `cargo` feature `cluster`, a `cluster` object is
//! reported and ignored.

use std::sync::Arc;

use phoenix_events_core::kernel::Kernel;

/// What the configuration asks for, read before the kernel starts so that
/// its warnings come out with the others.
pub(super) struct Plan(Inner);

#[cfg(feature = "cluster")]
type Inner = Result<Option<phoenix_events_cluster::Settings>, String>;
#[cfg(not(feature = "cluster"))]
type Inner = bool;

#[cfg(feature = "cluster")]
static CLUSTER: std::sync::Mutex<Option<phoenix_events_cluster::ClusterHandle>> =
    std::sync::Mutex::new(None);

/// Reads the `cluster` object (`None`: absent) of the file `source`.
pub(super) fn plan(
    value: Option<&serde_json::Value>,
    source: &str,
    warnings: &mut Vec<String>,
) -> Plan {
    #[cfg(feature = "cluster")]
    {
        Plan(phoenix_events_cluster::Settings::from_json(
            value, source, warnings,
        ))
    }
    #[cfg(not(feature = "cluster"))]
    {
        let _ = (source, warnings);
        Plan(value.is_some())
    }
}

/// Joins the cluster the plan names (leaving the one of an earlier start
/// first) and attaches it to `kernel`, which no computer uses yet.
pub(super) fn join(kernel: &Arc<Kernel>, plan: Plan) {
    let alone = |reason: String| {
        super::report(&format!(
            "phoenix-events: cluster: {reason}; this emulator runs alone"
        ))
    };
    #[cfg(feature = "cluster")]
    {
        leave();
        let cluster = match plan.0 {
            Ok(None) => None,
            Ok(Some(settings)) => phoenix_events_cluster::ClusterHandle::start(kernel, settings)
                .map_err(alone)
                .ok(),
            Err(reason) => {
                alone(reason);
                None
            }
        };
        *CLUSTER.lock().unwrap_or_else(|e| e.into_inner()) = cluster;
    }
    #[cfg(not(feature = "cluster"))]
    {
        let _ = kernel;
        if plan.0 {
            alone("this build of phoenix-events has no cluster mode (built without the cluster feature)".into());
        }
    }
}

/// Leaves the cluster: says goodbye, joins the thread. Nothing when not in one.
pub(super) fn leave() {
    #[cfg(feature = "cluster")]
    {
        let cluster = CLUSTER.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(cluster) = cluster {
            cluster.stop();
        }
    }
}
