//! The sandbox one plugin call runs in: a fresh `Store` whose state holds the WASI context
//! (read-only context preopen, private scratch directory, only the allowed environment,
//! no network), the memory limiter, bounded stdout/stderr, and what the `runner` needs.

use super::bindings::{RunnerHandle, host, types};
use super::deadline::DeadlinePoll;
use super::engine::{EPOCH_TICK, Plugin};
use super::error::PluginError;
use super::run;
use super::scratch::{self, Scratch, ScratchFull};
use crate::events::{Event, Events, Level, Stage};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use wasmtime::component::{Resource, ResourceTable};
use wasmtime::{ResourceLimiter, Store, Trap, UpdateDeadline, WasmBacktrace};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

/// Where the plugin sees its inputs.
pub const CONTEXT_DIR: &str = "/context";
pub const SCRATCH_DIR: &str = "/scratch";

/// How much a plugin may print on its own stdout and stderr (each).
pub const STDIO_LIMIT: usize = 1024 * 1024;

/// How many log and progress messages one call may send; the rest are dropped, with one
/// warning, so a plugin cannot drown the user's terminal or the event stream.
pub const MESSAGE_LIMIT: usize = 10_000;

/// The store's state for one call.
pub struct PluginState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryLimiter,
    /// Log and progress messages sent in this call.
    messages: usize,
    pub(crate) call: CallState,
}

/// What the runner's methods work with.
pub struct CallState {
    pub plugin: String,
    pub events: Events,
    pub allow: super::spec::Allow,
    /// The artifact context on the host, if the call has one.
    pub context: Option<PathBuf>,
    pub scratch: Scratch,
    pub config_json: String,
    pub deadline: Instant,
    pub timeout: Duration,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

/// Denies memory growth past the plugin's limit and remembers that it did, so the error
/// names the limit rather than whatever the guest did after its allocation failed. The limit
/// bounds all linear memories of the store together: a component made of many core
/// instances gets no more than one with a single memory.
#[derive(Debug, Default)]
struct MemoryLimiter {
    limit: usize,
    /// Bytes of every linear memory of the store (wasm memories never shrink).
    total: usize,
    hit: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current);
        match self.total.checked_add(growth) {
            Some(total) if total <= self.limit => {
                self.total = total;
                Ok(true)
            }
            _ => {
                self.hit = true;
                Ok(false)
            }
        }
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A store ready for one call of `plugin`, with the `runner` resource to hand it.
pub fn new_store(
    plugin: &Plugin,
    context: Option<&std::path::Path>,
    events: &Events,
) -> Result<(Store<PluginState>, Resource<RunnerHandle>), PluginError> {
    let setup = |message: String| PluginError::Setup {
        plugin: plugin.name.clone(),
        message,
    };
    let spec = &plugin.spec;
    let scratch = Scratch::new(spec.scratch() as u64)
        .map_err(|e| setup(format!("cannot create its scratch directory: {e}")))?;
    let stdout = MemoryOutputPipe::new(STDIO_LIMIT);
    let stderr = MemoryOutputPipe::new(STDIO_LIMIT);
    let mut wasi = WasiCtx::builder();
    wasi.stdout(stdout.clone()).stderr(stderr.clone());
    // Networking stays off: the builder grants no socket addresses and no name lookups.
    wasi.allow_ip_name_lookup(false)
        .allow_tcp(false)
        .allow_udp(false);
    for name in &spec.allow.env {
        match std::env::var(name) {
            Ok(value) => {
                wasi.env(name, value);
            }
            Err(std::env::VarError::NotPresent) => {}
            // A WASI environment holds text only; passing it lossily would hand the plugin a
            // different value than the user set.
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(setup(format!(
                    "the environment variable `{name}` (allow.env) is set but its value is not \
                     UTF-8; set it to UTF-8 text or leave it unset"
                )));
            }
        }
    }
    if let Some(dir) = context {
        wasi.preopened_dir(dir, CONTEXT_DIR, FsPerms::ReadOnly)
            .map_err(|e| {
                setup(format!(
                    "cannot open the context directory {}: {e:#}",
                    dir.display()
                ))
            })?;
    }
    wasi.preopened_dir(scratch.path(), SCRATCH_DIR, FsPerms::ReadWrite)
        .map_err(|e| setup(format!("cannot open its scratch directory: {e:#}")))?;
    let config_json = spec
        .config
        .as_ref()
        .map(|v| v.to_string())
        .unwrap_or_else(|| "{}".to_string());
    let timeout = spec.timeout();
    let state = PluginState {
        wasi: wasi.build(),
        table: ResourceTable::new(),
        limiter: MemoryLimiter {
            limit: spec.memory(),
            total: 0,
            hit: false,
        },
        messages: 0,
        call: CallState {
            plugin: plugin.name.clone(),
            events: events.clone(),
            allow: spec.allow.clone(),
            context: context.map(|p| p.to_path_buf()),
            scratch,
            config_json,
            deadline: Instant::now() + timeout,
            timeout,
            stdout,
            stderr,
        },
    };
    let mut store = Store::new(plugin.engine.engine(), state);
    store.limiter(|s| &mut s.limiter);
    store.set_epoch_deadline(next_check(timeout));
    store.epoch_deadline_callback(|mut store| store.data_mut().checkpoint());
    let runner = store
        .data_mut()
        .table
        .push(RunnerHandle)
        .map_err(|e| setup(format!("cannot create its runner: {e}")))?;
    Ok((store, runner))
}

/// Stops a call from the host side (a program it ran, an image operation or a sleep
/// outlived the plugin's deadline).
#[derive(Debug, thiserror::Error)]
#[error("the plugin's deadline passed while the host was still working or waiting for it")]
pub struct DeadlinePassed;

/// Epoch ticks until the next look at a running plugin: the scratch check's period, or
/// sooner when the deadline comes first.
fn next_check(left: Duration) -> u64 {
    let period = scratch::CHECK_EVERY.as_millis() / EPOCH_TICK.as_millis();
    (left.as_millis() / EPOCH_TICK.as_millis()).clamp(1, period.max(1)) as u64
}

impl PluginState {
    /// Runs while the plugin's code runs, every few ticks: stops it at its deadline or once
    /// its scratch directory holds more than its limit.
    fn checkpoint(&mut self) -> wasmtime::Result<UpdateDeadline> {
        let left = self.call.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(DeadlinePassed.into());
        }
        self.call.scratch.check()?;
        Ok(UpdateDeadline::Continue(next_check(left)))
    }

    /// The call's table and deadline, for `wasi:io/poll`.
    pub(crate) fn deadline_poll(&mut self) -> DeadlinePoll<'_> {
        DeadlinePoll {
            table: &mut self.table,
            deadline: self.call.deadline,
        }
    }

    /// Sends what the plugin printed to the user as debug events.
    pub fn flush_output(&self) {
        for (pipe, stream) in [(&self.call.stdout, "stdout"), (&self.call.stderr, "stderr")] {
            let bytes = pipe.contents();
            for line in String::from_utf8_lossy(&bytes).lines() {
                self.call.events.send(Event::message(
                    Stage::Plugin,
                    Level::Debug,
                    format!("[{}] {stream}: {line}", self.call.plugin),
                ));
            }
        }
    }

    /// Turns a failed call into the error the user sees: which limit it hit, or the trap
    /// with the guest's own panic message and backtrace.
    pub fn classify(&self, err: wasmtime::Error) -> PluginError {
        let plugin = self.call.plugin.clone();
        if err.downcast_ref::<Trap>() == Some(&Trap::Interrupt)
            || err.downcast_ref::<DeadlinePassed>().is_some()
        {
            return PluginError::Timeout {
                plugin,
                limit: self.call.timeout,
            };
        }
        if let Some(full) = err.downcast_ref::<ScratchFull>() {
            return PluginError::ScratchLimit {
                plugin,
                limit: full.limit,
            };
        }
        if self.limiter.hit {
            return PluginError::MemoryLimit {
                plugin,
                limit: self.limiter.limit,
            };
        }
        if self.call.stdout.contents().len() >= STDIO_LIMIT
            || self.call.stderr.contents().len() >= STDIO_LIMIT
        {
            return PluginError::OutputLimit {
                plugin,
                limit: STDIO_LIMIT,
            };
        }
        // The trap itself, then the guest's own words (a Rust panic message lands on
        // stderr), then where in the guest it happened; not the host's stack.
        let mut message = match err.downcast_ref::<Trap>() {
            Some(trap) => trap.to_string(),
            None => format!("{:#}", err.root_cause()),
        };
        let stderr = self.call.stderr.contents();
        let stderr = String::from_utf8_lossy(&stderr);
        let tail: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .rev()
            .take(20)
            .collect();
        if !tail.is_empty() {
            message.push_str("\nplugin stderr:");
            for line in tail.iter().rev() {
                message.push_str("\n  ");
                message.push_str(line);
            }
        }
        if let Some(trace) = err.downcast_ref::<WasmBacktrace>() {
            message.push_str("\nplugin backtrace:\n");
            let trace = trace.to_string();
            let frames = trace
                .split_once('\n')
                .map(|(_, frames)| frames)
                .unwrap_or(&trace);
            message.push_str(frames.trim_end());
        }
        PluginError::Trapped { plugin, message }
    }

    /// A log or progress message of the plugin, up to [`MESSAGE_LIMIT`] per call.
    fn message(&mut self, level: Level, text: impl FnOnce() -> String) {
        self.messages += 1;
        if self.messages <= MESSAGE_LIMIT {
            self.event(level, text());
        } else if self.messages == MESSAGE_LIMIT + 1 {
            self.event(
                Level::Warn,
                format!(
                    "sent more than {MESSAGE_LIMIT} messages in one call; the rest are dropped"
                ),
            );
        }
    }

    fn event(&self, level: Level, text: String) {
        self.call.events.send(Event::message(
            Stage::Plugin,
            level,
            format!("[{}] {text}", self.call.plugin),
        ));
    }
}

impl types::Host for PluginState {}
impl host::Host for PluginState {}

impl host::HostRunner for PluginState {
    fn log(
        &mut self,
        _runner: Resource<RunnerHandle>,
        level: types::Severity,
        message: String,
    ) -> wasmtime::Result<()> {
        let level = match level {
            types::Severity::Debug => Level::Debug,
            types::Severity::Info => Level::Info,
            types::Severity::Warning => Level::Warn,
            types::Severity::Error => Level::Error,
        };
        self.message(level, || bounded(message));
        Ok(())
    }

    fn progress(
        &mut self,
        _runner: Resource<RunnerHandle>,
        message: String,
        done: Option<u64>,
        total: Option<u64>,
    ) -> wasmtime::Result<()> {
        let step = match (done, total) {
            (Some(d), Some(t)) => format!(" ({d}/{t})"),
            (Some(d), None) => format!(" ({d})"),
            _ => String::new(),
        };
        self.message(Level::Info, || format!("{}{step}", bounded(message)));
        Ok(())
    }

    fn config(&mut self, _runner: Resource<RunnerHandle>) -> wasmtime::Result<String> {
        Ok(self.call.config_json.clone())
    }

    fn context_dir(&mut self, _runner: Resource<RunnerHandle>) -> wasmtime::Result<String> {
        Ok(CONTEXT_DIR.to_string())
    }

    fn scratch_dir(&mut self, _runner: Resource<RunnerHandle>) -> wasmtime::Result<String> {
        Ok(SCRATCH_DIR.to_string())
    }

    fn run(
        &mut self,
        _runner: Resource<RunnerHandle>,
        cmd: types::Command,
    ) -> wasmtime::Result<Result<types::CommandOutput, types::PluginError>> {
        run::run(&self.call, cmd)
    }

    fn load_image(
        &mut self,
        _runner: Resource<RunnerHandle>,
        tarball: String,
    ) -> wasmtime::Result<Result<String, types::PluginError>> {
        run::load_image(&self.call, &tarball)
    }

    fn push_image(
        &mut self,
        _runner: Resource<RunnerHandle>,
        image: String,
    ) -> wasmtime::Result<Result<String, types::PluginError>> {
        run::push_image(&self.call, &image)
    }

    fn drop(&mut self, runner: Resource<RunnerHandle>) -> wasmtime::Result<()> {
        self.table.delete(runner)?;
        Ok(())
    }
}

/// Log lines from a plugin are cut at 4 KiB so one call cannot flood the terminal.
fn bounded(mut text: String) -> String {
    const MAX: usize = 4096;
    if text.len() > MAX {
        let mut end = MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str(" [cut]");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two memories of 40 MiB each do not fit a 64 MiB limit, though each alone would.
    #[test]
    fn the_memory_limit_bounds_all_memories_together() {
        let mib = 1 << 20;
        let mut limiter = MemoryLimiter {
            limit: 64 * mib,
            ..Default::default()
        };
        assert!(limiter.memory_growing(0, 40 * mib, None).unwrap());
        assert!(!limiter.hit);
        assert!(!limiter.memory_growing(0, 40 * mib, None).unwrap());
        assert!(limiter.hit);
        // Growing the first memory within what is left still works.
        assert!(limiter.memory_growing(40 * mib, 60 * mib, None).unwrap());
        assert!(!limiter.memory_growing(60 * mib, 65 * mib, None).unwrap());
    }
}
