//! `manifests.hooks`: host commands run before rendering a config and after it. A post-render
//! hook with `withChange: true` reads the config's manifests on stdin and its stdout replaces
//! them; any other hook's output is shown to the user.

use super::manifests::Manifests;
use super::process;
use super::{Context, RenderError};
use crate::config::model::{PostRenderHookItem, RenderHookItem};
use crate::events::Stage;
use crate::hooks::runs_here;

/// Runs the pre-render hooks of one config.
pub fn run_before(hooks: &[RenderHookItem], ctx: &Context) -> Result<(), RenderError> {
    let hosts: Vec<_> = hooks.iter().filter_map(|h| h.host.as_ref()).collect();
    if hosts.is_empty() {
        return Ok(());
    }
    ctx.events
        .info(Stage::Render, "Starting pre-render hooks...");
    for h in hosts {
        if !runs_here(&h.os) {
            continue;
        }
        let out = run_hook(&h.command, h.dir.as_deref(), None)?;
        show(ctx, &out.stdout);
        show(ctx, &out.stderr);
    }
    ctx.events.info(Stage::Render, "Completed pre-render hooks");
    Ok(())
}

/// Runs the post-render hooks of one config over its manifests.
pub fn run_after(
    hooks: &[PostRenderHookItem],
    manifests: Manifests,
    ctx: &Context,
    source: &str,
) -> Result<Manifests, RenderError> {
    let hosts: Vec<_> = hooks.iter().filter_map(|h| h.host.as_ref()).collect();
    if hosts.is_empty() {
        return Ok(manifests);
    }
    ctx.events
        .info(Stage::Render, "Starting post-render hooks...");
    let mut current = manifests;
    for h in hosts {
        if !runs_here(&h.os) {
            continue;
        }
        if h.with_change.unwrap_or(false) {
            let input = current.to_yaml()?;
            let out = run_hook(&h.command, h.dir.as_deref(), Some(&input))?;
            show(ctx, &out.stderr);
            let name = format!("output of post-render hook {:?} ({source})", h.command);
            current = Manifests::parse(&out.stdout, &name)?;
        } else {
            let out = run_hook(&h.command, h.dir.as_deref(), None)?;
            show(ctx, &out.stdout);
            show(ctx, &out.stderr);
        }
    }
    ctx.events
        .info(Stage::Render, "Completed post-render hooks");
    Ok(current)
}

fn run_hook(
    command: &[String],
    dir: Option<&str>,
    stdin: Option<&str>,
) -> Result<process::Output, RenderError> {
    let Some((program, args)) = command.split_first() else {
        return Err(RenderError::Config {
            message: "a render hook has an empty command".to_string(),
        });
    };
    // An unset `dir` means the directory devloop runs in, as Skaffold documents.
    let dir = std::path::PathBuf::from(dir.unwrap_or("."));
    process::run(program, args, &dir, stdin).map_err(|e| RenderError::Hook {
        command: crate::redact::args(command).join(" "),
        source: Box::new(e),
    })
}

fn show(ctx: &Context, text: &str) {
    for line in text.lines() {
        ctx.events.info(Stage::Render, line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::PostRenderHostHook;
    use crate::events::{Event, Events};

    fn hook(cmd: &[&str], with_change: bool) -> PostRenderHookItem {
        PostRenderHookItem {
            host: Some(PostRenderHostHook {
                command: cmd.iter().map(|s| s.to_string()).collect(),
                with_change: Some(with_change),
                ..Default::default()
            }),
        }
    }

    fn texts(list: &std::sync::Mutex<Vec<Event>>) -> Vec<String> {
        list.lock()
            .unwrap()
            .iter()
            .map(|e| match e {
                Event::Message { text, .. } => text.clone(),
                #[allow(unreachable_patterns)]
                _ => String::new(),
            })
            .collect()
    }

    #[test]
    fn with_change_hook_rewrites_and_plain_hook_is_shown() {
        let (events, list) = Events::collect();
        let mut ctx = Context::for_test(std::path::Path::new("."), &[]);
        ctx.events = events;
        let manifests = Manifests::parse("kind: Pod\nmetadata:\n  name: before\n", "t").unwrap();
        let hooks = vec![
            hook(&["sh", "-c", "echo hello from hook"], false),
            hook(&["sed", "s/before/after/"], true),
        ];
        let out = run_after(&hooks, manifests, &ctx, "test").unwrap();
        assert_eq!(out.docs[0]["metadata"]["name"], "after");
        assert_eq!(
            texts(&list),
            [
                "Starting post-render hooks...",
                "hello from hook",
                "Completed post-render hooks"
            ]
        );
    }

    #[test]
    fn failing_hook_is_an_error_with_its_stderr() {
        let ctx = Context::for_test(std::path::Path::new("."), &[]);
        let hooks = vec![hook(&["sh", "-c", "echo nope >&2; exit 1"], true)];
        let err = run_after(&hooks, Manifests::default(), &ctx, "test").unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
