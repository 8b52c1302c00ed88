//! `docs/fields.md`: the table of every field of the model with its status, generated from
//! [`super::status::FIELDS`] and the model's own field list. The test fails when the
//! committed file differs; `DEVLOOP_BLESS=1` rewrites it.

use super::status::{PROFILE_SECTIONS, Status, status_of};
use super::{COMMAND_STAGES, Stage};
use crate::config::model::SkaffoldConfig;

fn stages(list: &[Stage]) -> String {
    list.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
}

/// The whole document.
fn generate() -> Result<String, String> {
    let paths = super::paths::field_paths::<SkaffoldConfig>()?;
    let mut out = String::from(
        "# skaffold.yaml fields\n\n\
         <!-- Generated from host/src/config/fields/status.rs; do not edit. Rewrite with\n     \
         DEVLOOP_BLESS=1 cargo test -p kubectl-devloop --lib config::fields::table -->\n\n\
         What devloop does with every field of Skaffold's `skaffold/v4beta14` schema (older\n\
         versions are upgraded to it first), after profiles are applied:\n\n\
         - **done**: carried out as Skaffold does.\n\
         - **error**: refused, at the field's file, line and column, by the commands that run\n  \
         the stage named (the note says what to do instead). A refused field covers the fields\n  \
         below it, which are not listed.\n\
         - **error when true**: a switch refused as above only when it is set to `true`.\n\
         - **warning**: only affects something devloop does another way; the commands that run\n  \
         the stage named show a one-line warning at the field's position and go on.\n\n\
         A command refuses only the fields of the stages it runs, as Skaffold users expect:\n\
         `render` does not refuse `build.cluster`. `diagnose` and `fix` print the config and\n\
         refuse nothing. Remote `requires` are refused while the configs are read, by every\n\
         command.\n\n\
         | Command | Stages |\n| --- | --- |\n",
    );
    for (command, list) in COMMAND_STAGES {
        out.push_str(&format!("| `{command}` | {} |\n", stages(list)));
    }
    out.push_str("\n| Field | Status | Note |\n| --- | --- | --- |\n");
    let mut covered: Option<String> = None;
    for path in &paths {
        if let Some(prefix) = &covered {
            if path.starts_with(prefix.as_str()) {
                continue;
            }
            covered = None;
        }
        if let Some(rest) = path.strip_prefix("profiles[].")
            && PROFILE_SECTIONS.iter().any(|s| rest.starts_with(s))
        {
            if PROFILE_SECTIONS.contains(&rest) {
                out.push_str(&format!(
                    "| `{path}` | done | applied onto the config; each field then has the status of `{rest}` |\n"
                ));
            }
            continue;
        }
        let field = status_of(path).ok_or_else(|| format!("`{path}` has no status"))?;
        let status = match field.status {
            Status::Done => "done".to_string(),
            Status::Refused(list) => {
                covered = Some(format!("{path}."));
                format!("error: {}", stages(list))
            }
            Status::RefusedWhenTrue(list) => format!("error when true: {}", stages(list)),
            Status::Warned(list) => {
                covered = Some(format!("{path}."));
                format!("warning: {}", stages(list))
            }
        };
        let note = match (field.what, field.note) {
            ("", note) => note.to_string(),
            (what, note) => format!("{what}: {note}"),
        };
        out.push_str(&format!(
            "| `{path}` | {status} | {} |\n",
            note.replace('|', "\\|")
        ));
    }
    Ok(out)
}

#[test]
fn the_committed_table_is_the_generated_one() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/fields.md");
    let generated = generate().unwrap();
    if std::env::var_os("DEVLOOP_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is not the table generated from config/fields/status.rs; run \
         DEVLOOP_BLESS=1 cargo test -p kubectl-devloop --lib config::fields::table",
        path.display()
    );
}
