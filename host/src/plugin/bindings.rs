//! Host bindings generated from `wit/plugin.wit`, one module per world. The `host` and
//! `types` interfaces are generated once (with the transformer world) and shared.

/// The host's side of the `runner` resource: the call's state lives in the store, so the
/// resource itself carries nothing.
pub struct RunnerHandle;

pub mod transformer {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "devloop:plugin/transformer",
        with: {
            "devloop:plugin/host.runner": super::RunnerHandle,
        },
        imports: { default: trappable },
    });
}

pub mod tester {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "devloop:plugin/tester",
        with: {
            "devloop:plugin/host": super::transformer::devloop::plugin::host,
            "devloop:plugin/types": super::transformer::devloop::plugin::types,
        },
        imports: { default: trappable },
    });
}

pub mod builder {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "devloop:plugin/builder",
        with: {
            "devloop:plugin/host": super::transformer::devloop::plugin::host,
            "devloop:plugin/types": super::transformer::devloop::plugin::types,
        },
        imports: { default: trappable },
    });
}

pub use transformer::devloop::plugin::host;
pub use transformer::devloop::plugin::types;
