//! Image builders: turn the artifact context into an image, loaded or pushed.

use crate::bindings::builder::exports::devloop::plugin::build as raw;
use crate::runner::{RawError, RawRunner, Runner};
use crate::{Describe, Error};

/// What to build; `context` is the artifact context as the plugin sees it (read-only).
#[derive(Debug, Clone)]
pub struct BuildRequest {
    pub image: String,
    pub tag: String,
    pub context: String,
    pub platforms: Vec<String>,
    /// Push to the registry (true) or load into the local engine (false).
    pub push: bool,
    pub build_args: Vec<(String, Option<String>)>,
}

impl BuildRequest {
    /// `image:tag`.
    pub fn reference(&self) -> String {
        format!("{}:{}", self.image, self.tag)
    }
}

/// What was built.
#[derive(Debug, Clone)]
pub struct BuiltImage {
    pub reference: String,
    pub digest: Option<String>,
}

/// An image builder.
pub trait Builder: Describe {
    fn build(runner: &Runner, request: BuildRequest) -> Result<BuiltImage, Error>;
    /// Files, relative to the context, whose change needs a rebuild.
    fn dependencies(runner: &Runner, request: BuildRequest) -> Result<Vec<String>, Error>;
}

fn from_raw(r: raw::BuildRequest) -> BuildRequest {
    BuildRequest {
        image: r.image,
        tag: r.tag,
        context: r.context,
        platforms: r.platforms,
        push: r.push,
        build_args: r.build_args,
    }
}

#[doc(hidden)]
pub fn __build<T: Builder>(
    runner: &RawRunner,
    request: raw::BuildRequest,
) -> Result<raw::BuiltImage, RawError> {
    let built = T::build(&Runner::new(runner), from_raw(request))?;
    Ok(raw::BuiltImage {
        reference: built.reference,
        digest: built.digest,
    })
}

#[doc(hidden)]
pub fn __dependencies<T: Builder>(
    runner: &RawRunner,
    request: raw::BuildRequest,
) -> Result<Vec<String>, RawError> {
    Ok(T::dependencies(&Runner::new(runner), from_raw(request))?)
}

/// Exports `$ty` (a `Builder`) as the plugin's builder world.
#[macro_export]
macro_rules! export_builder {
    ($ty:ty) => {
        #[doc(hidden)]
        pub struct __DevloopBuilder;

        impl $crate::__bindings::builder::exports::devloop::plugin::metadata::Guest
            for __DevloopBuilder
        {
            fn describe() -> $crate::__bindings::builder::exports::devloop::plugin::metadata::Info {
                let i = $crate::__info::<$ty>(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
                $crate::__bindings::builder::exports::devloop::plugin::metadata::Info {
                    name: i.name,
                    version: i.version,
                    description: i.description,
                    wants_run: i.wants_run,
                    wants_env: i.wants_env,
                }
            }
        }

        impl $crate::__bindings::builder::exports::devloop::plugin::build::Guest
            for __DevloopBuilder
        {
            fn build(
                runner: &$crate::__bindings::builder::devloop::plugin::host::Runner,
                request: $crate::__bindings::builder::exports::devloop::plugin::build::BuildRequest,
            ) -> Result<
                $crate::__bindings::builder::exports::devloop::plugin::build::BuiltImage,
                $crate::__bindings::builder::devloop::plugin::types::PluginError,
            > {
                $crate::builder::__build::<$ty>(runner, request)
            }

            fn dependencies(
                runner: &$crate::__bindings::builder::devloop::plugin::host::Runner,
                request: $crate::__bindings::builder::exports::devloop::plugin::build::BuildRequest,
            ) -> Result<
                Vec<String>,
                $crate::__bindings::builder::devloop::plugin::types::PluginError,
            > {
                $crate::builder::__dependencies::<$ty>(runner, request)
            }
        }

        $crate::__bindings::builder::export_builder_world!(
            __DevloopBuilder with_types_in $crate::__bindings::builder
        );
    };
}
