//! Where a field of a resolved config was written. Profiles are applied to the typed model,
//! which keeps no positions, so a field is looked for where it could have come from, last
//! applied first: the active profiles' patches and sections (the last active profile first),
//! then the config document itself.

use crate::config::node::{Node, Pos, Value};

/// One step of a path into a config: a mapping key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// The position of the field at `path` of a config whose document is `doc` and whose active
/// profiles are `profiles` (in the order they were applied); None when it was not written
/// anywhere (a default).
pub fn position(doc: &Node, profiles: &[String], path: &[Step]) -> Option<Pos> {
    for name in profiles.iter().rev() {
        let Some(profile) = items(doc.get("profiles"))
            .iter()
            .find(|p| p.get("name").and_then(Node::as_str) == Some(name.as_str()))
        else {
            continue;
        };
        for patch in items(profile.get("patches")).iter().rev() {
            if let Some(pos) = in_patch(patch, path) {
                return Some(pos);
            }
        }
        if let Some(pos) = find(profile, path) {
            return Some(pos);
        }
    }
    find(doc, path)
}

/// The position of `path` in a patch that writes it or something above it: inside the
/// patch's `value` when it is there, else the patch itself.
fn in_patch(patch: &Node, path: &[Step]) -> Option<Pos> {
    let target = patch.get("path")?.as_str()?;
    let steps: Vec<&str> = target.split('/').skip(1).collect();
    if steps.len() > path.len() {
        return None;
    }
    for (written, step) in steps.iter().zip(path) {
        let written = written.replace("~1", "/").replace("~0", "~");
        let same = match step {
            Step::Key(k) => *k == written,
            // `-` appends: the field is in the last element, whichever index that has.
            Step::Index(i) => written == "-" || written.parse::<usize>().ok() == Some(*i),
        };
        if !same {
            return None;
        }
    }
    let rest = &path[steps.len()..];
    patch
        .get("value")
        .and_then(|value| find(value, rest))
        .or(Some(patch.pos))
        .filter(Pos::is_known)
}

/// The position of the key (or list item) at the end of `path` below `node`.
fn find(node: &Node, path: &[Step]) -> Option<Pos> {
    let mut current = node;
    let mut pos = node.pos;
    for step in path {
        match (step, &current.value) {
            (Step::Key(k), Value::Map(entries)) => {
                let (key, value) = entries.iter().find(|(key, _)| key.name == *k)?;
                pos = key.pos;
                current = value;
            }
            (Step::Index(i), Value::Seq(list)) => {
                current = list.get(*i)?;
                pos = current.pos;
            }
            _ => return None,
        }
    }
    Some(pos).filter(Pos::is_known)
}

fn items(node: Option<&Node>) -> &[Node] {
    match node.map(|n| &n.value) {
        Some(Value::Seq(items)) => items,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::node::parse_documents;

    fn key(k: &str) -> Step {
        Step::Key(k.to_string())
    }

    const DOC: &str = "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  - image: a\n    hooks: {}\nprofiles:\n- name: p\n  build:\n    artifacts:\n    - image: b\n      hooks: {}\n- name: q\n  patches:\n  - op: add\n    path: /build/artifacts/0\n    value:\n      image: c\n      hooks: {}\n  - op: add\n    path: /deploy/kubectl/hooks\n    value: {}\n";

    #[test]
    fn the_last_profile_that_wrote_a_field_wins_then_the_document() {
        let doc = parse_documents(DOC).unwrap().remove(0);
        let path = [key("build"), key("artifacts"), Step::Index(0), key("hooks")];
        let at = |profiles: &[&str]| {
            let names: Vec<String> = profiles.iter().map(|p| p.to_string()).collect();
            position(&doc, &names, &path).map(|p| (p.line, p.column))
        };
        assert_eq!(at(&[]), Some((6, 5)));
        assert_eq!(at(&["p"]), Some((12, 7)));
        assert_eq!(at(&["p", "q"]), Some((19, 7)));
        // A patch that writes the field's parent points at the patch when its value does
        // not hold the field.
        let deep = [key("deploy"), key("kubectl"), key("hooks"), key("before")];
        let names = vec!["q".to_string()];
        assert_eq!(
            position(&doc, &names, &deep).map(|p| (p.line, p.column)),
            Some((20, 5))
        );
        // A default nobody wrote has no position.
        assert_eq!(position(&doc, &[], &[key("deploy")]), None);
    }
}
