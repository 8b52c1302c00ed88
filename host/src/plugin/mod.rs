//! WebAssembly plugins: builders, testers and manifest transformers written against the
//! `devloop:plugin` WIT package (`wit/plugin.wit`) and run by wasmtime in a sandbox.
//!
//! A plugin is just another implementation of a stage: `WasmTransformer` implements the
//! render stage's `transform::Transformer`; the build and test stages wrap `WasmBuilder` and
//! `WasmTester` as one more `build::Builder` and `test::Tester`. Everything a plugin may
//! touch comes from its `PluginSpec` (the config entry): a read-only context, a scratch
//! directory, programs named one by one, environment variables named one by one, a CPU
//! deadline and a memory bound. One `PluginEngine` per process compiles components once and
//! caches them on disk. A component comes from a file (`path:`) or from an OCI registry
//! (`oci:`), fetched once per run into a local store (`fetch`, `store`); `publish` pushes
//! one to a registry.

mod bindings;
pub mod builder;
mod cache;
mod deadline;
mod engine;
mod engine_ops;
mod error;
mod fetch;
pub mod inspect;
pub mod publish;
mod run;
mod sandbox;
mod scratch;
mod spec;
mod store;
pub mod tester;
pub mod transformer;

pub use builder::{BuildRequest, BuiltImage, WasmBuilder};
pub use engine::{LoadTimings, Plugin, PluginEngine};
pub use error::PluginError;
pub use fetch::{FetchError, Fetched};
pub use spec::{Allow, ArgsGrant, PluginSource, PluginSpec, RunGrant};
pub use store::PluginStore;
pub use tester::{TestCase, TestOutcome, TestReport, WasmTester};
pub use transformer::WasmTransformer;
