//! `wasi:io/poll` as a plugin sees it: wasmtime-wasi's own `poll` and `pollable.block`, cut
//! at the plugin's deadline. A guest's `sleep` (a monotonic-clock pollable it blocks on) is a
//! host call, so the epoch deadline, which stops wasm code only, would let it run to its end.

use super::sandbox::DeadlinePassed;
use std::future::Future;
use std::time::Instant;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::p2::bindings::io::poll as async_poll;
use wasmtime_wasi::p2::bindings::sync::io::poll;

/// The resource table of a call with the instant its plugin must stop at.
pub struct DeadlinePoll<'a> {
    pub table: &'a mut ResourceTable,
    pub deadline: Instant,
}

/// Selects [`DeadlinePoll`] as the host of `wasi:io/poll`.
pub struct WithDeadline;

impl HasData for WithDeadline {
    type Data<'a> = DeadlinePoll<'a>;
}

/// Replaces the `wasi:io/poll` functions `linker` has (wasmtime-wasi's) with ones that stop
/// at the deadline `deadline_of` gives for a store.
pub fn shadow_poll<T: Send + 'static>(
    linker: &mut Linker<T>,
    deadline_of: fn(&mut T) -> DeadlinePoll<'_>,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let added = poll::add_to_linker::<T, WithDeadline>(linker, deadline_of);
    linker.allow_shadowing(false);
    added
}

/// Runs `wait` (which borrows the call's table) until it ends or the deadline passes; a
/// passed deadline is the error that stops the call.
fn until<R>(
    deadline: Instant,
    wait: impl Future<Output = wasmtime::Result<R>>,
) -> wasmtime::Result<R> {
    let deadline = tokio::time::Instant::from_std(deadline);
    wasmtime_wasi::runtime::in_tokio(async {
        match tokio::time::timeout_at(deadline, wait).await {
            Ok(outcome) => outcome,
            Err(_) => Err(DeadlinePassed.into()),
        }
    })
}

impl poll::Host for DeadlinePoll<'_> {
    fn poll(&mut self, pollables: Vec<Resource<DynPollable>>) -> wasmtime::Result<Vec<u32>> {
        until(
            self.deadline,
            async_poll::Host::poll(&mut *self.table, pollables),
        )
    }
}

impl poll::HostPollable for DeadlinePoll<'_> {
    fn ready(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<bool> {
        // Never waits: it answers whether the pollable is ready now.
        poll::HostPollable::ready(&mut *self.table, pollable)
    }

    fn block(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        until(
            self.deadline,
            async_poll::HostPollable::block(&mut *self.table, pollable),
        )
    }

    fn drop(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        poll::HostPollable::drop(&mut *self.table, pollable)
    }
}
