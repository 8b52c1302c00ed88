//! Image builders: a builder plugin turns an artifact context into an image (loaded into
//! the engine or pushed). `WasmBuilder` is the plugin implementation; the build stage
//! wraps it as one more builder.

use super::bindings::builder::BuilderPre;
use super::bindings::builder::exports::devloop::plugin::build as guest;
use super::engine::Plugin;
use super::error::PluginError;
use super::sandbox::{self, CONTEXT_DIR, PluginState};
use crate::events::Events;
use std::path::Path;
use wasmtime::Store;

/// What to build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildRequest {
    /// Image name without tag.
    pub image: String,
    pub tag: String,
    pub platforms: Vec<String>,
    /// Push to the registry (true) or load into the local engine (false).
    pub push: bool,
    /// `--build-arg`s; a `None` value is taken from the environment by the builder.
    pub build_args: Vec<(String, Option<String>)>,
}

/// What a builder made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltImage {
    /// `name:tag`.
    pub reference: String,
    /// The pushed digest or the loaded image ID, if known.
    pub digest: Option<String>,
}

/// A builder plugin, instantiated afresh (in its own sandbox) for every call.
pub struct WasmBuilder {
    plugin: Plugin,
    pre: BuilderPre<PluginState>,
}

impl WasmBuilder {
    /// Checks that `plugin` is a builder and prepares it for instantiation.
    pub fn new(plugin: Plugin) -> Result<Self, PluginError> {
        let pre = plugin.prepare("builder", BuilderPre::new)?;
        Ok(WasmBuilder { plugin, pre })
    }

    pub fn name(&self) -> &str {
        &self.plugin.name
    }

    /// Builds `request` from the artifact `context` directory.
    pub fn build(
        &self,
        request: &BuildRequest,
        context: &Path,
        events: &Events,
    ) -> Result<BuiltImage, PluginError> {
        let guest_request = to_guest(request);
        let (mut store, runner) = sandbox::new_store(&self.plugin, Some(context), events)?;
        let outcome = self.pre.instantiate(&mut store).and_then(|instance| {
            instance
                .devloop_plugin_build()
                .call_build(&mut store, runner, &guest_request)
        });
        let built = self.finish(&store, outcome)?;
        Ok(BuiltImage {
            reference: built.reference,
            digest: built.digest,
        })
    }

    /// The files (relative to the context) whose change needs a rebuild.
    pub fn dependencies(
        &self,
        request: &BuildRequest,
        context: &Path,
        events: &Events,
    ) -> Result<Vec<String>, PluginError> {
        let guest_request = to_guest(request);
        let (mut store, runner) = sandbox::new_store(&self.plugin, Some(context), events)?;
        let outcome = self.pre.instantiate(&mut store).and_then(|instance| {
            instance
                .devloop_plugin_build()
                .call_dependencies(&mut store, runner, &guest_request)
        });
        self.finish(&store, outcome)
    }

    fn finish<T>(
        &self,
        store: &Store<PluginState>,
        outcome: wasmtime::Result<Result<T, super::bindings::types::PluginError>>,
    ) -> Result<T, PluginError> {
        store.data().flush_output();
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(PluginError::Failed {
                plugin: self.plugin.name.clone(),
                message: e.message,
                hint: e.hint,
            }),
            Err(e) => Err(store.data().classify(e)),
        }
    }
}

fn to_guest(request: &BuildRequest) -> guest::BuildRequest {
    guest::BuildRequest {
        image: request.image.clone(),
        tag: request.tag.clone(),
        context: CONTEXT_DIR.to_string(),
        platforms: request.platforms.clone(),
        push: request.push,
        build_args: request.build_args.clone(),
    }
}
