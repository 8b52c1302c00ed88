//! Test runners: run checks against a built image and report per-case results.

use crate::bindings::tester::exports::devloop::plugin::test as raw;
use crate::runner::{RawRunner, Runner};
use crate::{Describe, Error};

/// What a test case came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    Skipped,
}

/// One test case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCase {
    pub name: String,
    pub outcome: Outcome,
    pub message: Option<String>,
    pub duration_ms: Option<u64>,
}

/// What to test: the built image and its context (as the plugin sees it).
#[derive(Debug, Clone)]
pub struct TestRequest {
    pub image: String,
    pub context: String,
}

/// The cases and a one-line summary.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub cases: Vec<TestCase>,
    pub summary: String,
}

/// A test runner.
pub trait Tester: Describe {
    fn test(runner: &Runner, request: TestRequest) -> Result<Report, Error>;
}

#[doc(hidden)]
pub fn __test<T: Tester>(
    runner: &RawRunner,
    request: raw::TestRequest,
) -> Result<raw::Report, crate::runner::RawError> {
    let report = T::test(
        &Runner::new(runner),
        TestRequest {
            image: request.image,
            context: request.context,
        },
    )?;
    Ok(raw::Report {
        cases: report
            .cases
            .into_iter()
            .map(|c| raw::TestCase {
                name: c.name,
                outcome: match c.outcome {
                    Outcome::Passed => raw::Outcome::Passed,
                    Outcome::Failed => raw::Outcome::Failed,
                    Outcome::Skipped => raw::Outcome::Skipped,
                },
                message: c.message,
                duration_ms: c.duration_ms,
            })
            .collect(),
        summary: report.summary,
    })
}

/// Exports `$ty` (a `Tester`) as the plugin's tester world.
#[macro_export]
macro_rules! export_tester {
    ($ty:ty) => {
        #[doc(hidden)]
        pub struct __DevloopTester;

        impl $crate::__bindings::tester::exports::devloop::plugin::metadata::Guest
            for __DevloopTester
        {
            fn describe() -> $crate::__bindings::tester::exports::devloop::plugin::metadata::Info {
                let i = $crate::__info::<$ty>(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
                $crate::__bindings::tester::exports::devloop::plugin::metadata::Info {
                    name: i.name,
                    version: i.version,
                    description: i.description,
                    wants_run: i.wants_run,
                    wants_env: i.wants_env,
                }
            }
        }

        impl $crate::__bindings::tester::exports::devloop::plugin::test::Guest for __DevloopTester {
            fn test(
                runner: &$crate::__bindings::tester::devloop::plugin::host::Runner,
                request: $crate::__bindings::tester::exports::devloop::plugin::test::TestRequest,
            ) -> Result<
                $crate::__bindings::tester::exports::devloop::plugin::test::Report,
                $crate::__bindings::tester::devloop::plugin::types::PluginError,
            > {
                $crate::tester::__test::<$ty>(runner, request)
            }
        }

        $crate::__bindings::tester::export_tester_world!(
            __DevloopTester with_types_in $crate::__bindings::tester
        );
    };
}
