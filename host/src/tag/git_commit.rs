//! `gitCommit`: the tag comes from git in the artifact's context directory — a tag or commit,
//! or the tree hash of the context — with `-dirty` when the context has uncommitted changes.

use super::{GitCommit, GitVariant, TagError, TagInput};
use std::path::Path;
use std::process::Command;

pub(super) fn tag(settings: &GitCommit, input: &TagInput) -> Result<String, TagError> {
    let dir = input.context;
    let reference = match settings.variant {
        GitVariant::Tags => git(dir, &["describe", "--tags", "--always"])?,
        GitVariant::CommitSha => git(dir, &["rev-parse", "HEAD"])?,
        GitVariant::AbbrevCommitSha => git(dir, &["rev-parse", "--short", "HEAD"])?,
        GitVariant::TreeSha | GitVariant::AbbrevTreeSha => {
            let prefix = git(dir, &["rev-parse", "--show-prefix"])?;
            let spec = format!("HEAD:{prefix}");
            if settings.variant == GitVariant::TreeSha {
                git(dir, &["rev-parse", &spec])?
            } else {
                git(dir, &["rev-parse", "--short", &spec])?
            }
        }
    };
    let mut tag = format!("{}{}", settings.prefix, reference);
    if !settings.ignore_changes && is_dirty(dir)? {
        tag.push_str("-dirty");
    }
    Ok(tag)
}

/// Whether the context directory (only it, as Skaffold checks) has uncommitted changes or
/// untracked files.
fn is_dirty(dir: &Path) -> Result<bool, TagError> {
    Ok(!git(dir, &["status", "--porcelain", "--", "."])?.is_empty())
}

fn git(dir: &Path, args: &[&str]) -> Result<String, TagError> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| {
            TagError::Git(format!(
                "cannot run `git` in {}: {e}; install git or choose another tagPolicy",
                dir.display()
            ))
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(TagError::Git(format!(
            "`git {}` failed in {}: {}",
            args.join(" "),
            dir.display(),
            stderr.trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Vars;

    fn run(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }

    fn tag_of(dir: &Path, variant: GitVariant, ignore_changes: bool) -> String {
        let env = Vars::new();
        let input = TagInput {
            image: "app",
            context: dir,
            env: &env,
            input_digest: None,
            now: jiff::Timestamp::UNIX_EPOCH,
        };
        let settings = GitCommit {
            variant,
            prefix: String::new(),
            ignore_changes,
        };
        tag(&settings, &input).unwrap()
    }

    #[test]
    fn clean_dirty_and_tagged() {
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path();
        run(root, &["init", "-q"]);
        std::fs::create_dir(root.join("svc")).unwrap();
        std::fs::write(root.join("svc/a.txt"), "one").unwrap();
        run(root, &["add", "."]);
        run(root, &["commit", "-q", "-m", "first"]);
        let svc = root.join("svc");

        let short = tag_of(&svc, GitVariant::AbbrevCommitSha, false);
        let full = tag_of(&svc, GitVariant::CommitSha, false);
        assert_eq!(full.len(), 40);
        assert!(full.starts_with(&short));
        assert_eq!(tag_of(&svc, GitVariant::Tags, false), short);

        let tree = tag_of(&svc, GitVariant::TreeSha, false);
        let mut expected = Command::new("git");
        expected.args(["rev-parse", "HEAD:svc"]).current_dir(root);
        let expected = String::from_utf8(expected.output().unwrap().stdout).unwrap();
        assert_eq!(tree, expected.trim());

        std::fs::write(root.join("svc/a.txt"), "two").unwrap();
        assert_eq!(
            tag_of(&svc, GitVariant::Tags, false),
            format!("{short}-dirty")
        );
        assert_eq!(tag_of(&svc, GitVariant::Tags, true), short);

        run(root, &["commit", "-q", "-am", "second"]);
        run(root, &["tag", "v1.2.0"]);
        assert_eq!(tag_of(&svc, GitVariant::Tags, false), "v1.2.0");

        // A change outside the context does not make it dirty.
        std::fs::write(root.join("other.txt"), "x").unwrap();
        assert_eq!(tag_of(&svc, GitVariant::Tags, false), "v1.2.0");
    }

    #[test]
    fn outside_a_repository_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let env = Vars::new();
        let input = TagInput {
            image: "app",
            context: dir.path(),
            env: &env,
            input_digest: None,
            now: jiff::Timestamp::UNIX_EPOCH,
        };
        assert!(matches!(
            tag(&GitCommit::default(), &input),
            Err(TagError::Git(_))
        ));
    }
}
