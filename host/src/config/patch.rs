//! JSON patches (RFC 6902: add, remove, replace, move, copy, test) as profiles use them,
//! applied to a config in its JSON form. Paths are JSON pointers (`/build/artifacts/0`,
//! `-` appends to a list, `~1` and `~0` escape `/` and `~`).

use serde_json::Value;

/// Why a patch could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchError {
    #[error("unknown op `{0}`; expected add, remove, replace, move, copy or test")]
    UnknownOp(String),
    #[error("path `{0}` does not exist in the config")]
    NoSuchPath(String),
    #[error("path `{0}` is not a valid JSON pointer (it must start with `/`)")]
    BadPointer(String),
    #[error("`{op}` needs a `{field}`")]
    Missing { op: String, field: &'static str },
    #[error("test failed: the value at `{path}` is {actual}, not {expected}")]
    TestFailed {
        path: String,
        actual: String,
        expected: String,
    },
    #[error("cannot move `{0}` into itself")]
    MoveIntoChild(String),
}

/// One operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation<'a> {
    /// `add`, `remove`, `replace` (the default when empty), `move`, `copy` or `test`.
    pub op: &'a str,
    pub path: &'a str,
    pub from: Option<&'a str>,
    pub value: Option<&'a Value>,
}

fn tokens(pointer: &str) -> Result<Vec<String>, PatchError> {
    if pointer.is_empty() {
        return Ok(vec![]);
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(PatchError::BadPointer(pointer.to_string()));
    };
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn get<'v>(doc: &'v Value, pointer: &str) -> Result<&'v Value, PatchError> {
    let mut current = doc;
    for token in tokens(pointer)? {
        current = match current {
            Value::Object(map) => map.get(&token),
            Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        }
        .ok_or_else(|| PatchError::NoSuchPath(pointer.to_string()))?;
    }
    Ok(current)
}

/// The parent container of `pointer` and the last token.
fn parent<'v>(doc: &'v mut Value, pointer: &str) -> Result<(&'v mut Value, String), PatchError> {
    let mut toks = tokens(pointer)?;
    let Some(last) = toks.pop() else {
        return Err(PatchError::NoSuchPath(pointer.to_string()));
    };
    let mut current = doc;
    for token in toks {
        current = match current {
            Value::Object(map) => map.get_mut(&token),
            Value::Array(items) => token
                .parse::<usize>()
                .ok()
                .and_then(move |i| items.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| PatchError::NoSuchPath(pointer.to_string()))?;
    }
    Ok((current, last))
}

fn add(doc: &mut Value, pointer: &str, value: Value) -> Result<(), PatchError> {
    if pointer.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (container, last) = parent(doc, pointer)?;
    match container {
        Value::Object(map) => {
            map.insert(last, value);
            Ok(())
        }
        Value::Array(items) => {
            let index = if last == "-" {
                items.len()
            } else {
                last.parse::<usize>()
                    .ok()
                    .filter(|i| *i <= items.len())
                    .ok_or_else(|| PatchError::NoSuchPath(pointer.to_string()))?
            };
            items.insert(index, value);
            Ok(())
        }
        _ => Err(PatchError::NoSuchPath(pointer.to_string())),
    }
}

fn remove(doc: &mut Value, pointer: &str) -> Result<Value, PatchError> {
    let (container, last) = parent(doc, pointer)?;
    match container {
        Value::Object(map) => map
            .shift_remove(&last)
            .ok_or_else(|| PatchError::NoSuchPath(pointer.to_string())),
        Value::Array(items) => {
            let index = last
                .parse::<usize>()
                .ok()
                .filter(|i| *i < items.len())
                .ok_or_else(|| PatchError::NoSuchPath(pointer.to_string()))?;
            Ok(items.remove(index))
        }
        _ => Err(PatchError::NoSuchPath(pointer.to_string())),
    }
}

fn replace(doc: &mut Value, pointer: &str, value: Value) -> Result<(), PatchError> {
    if pointer.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (container, last) = parent(doc, pointer)?;
    let slot = match container {
        Value::Object(map) => map.get_mut(&last),
        Value::Array(items) => last.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
        _ => None,
    }
    .ok_or_else(|| PatchError::NoSuchPath(pointer.to_string()))?;
    *slot = value;
    Ok(())
}

/// Applies one operation to `doc`; on error `doc` is unchanged.
pub fn apply(doc: &mut Value, op: &Operation) -> Result<(), PatchError> {
    let name = if op.op.is_empty() { "replace" } else { op.op };
    let need_value = || {
        op.value.cloned().ok_or(PatchError::Missing {
            op: name.to_string(),
            field: "value",
        })
    };
    let need_from = || {
        op.from.ok_or(PatchError::Missing {
            op: name.to_string(),
            field: "from",
        })
    };
    // Work on a copy so a failing operation leaves nothing half-applied.
    let mut work = doc.clone();
    match name {
        "add" => add(&mut work, op.path, need_value()?)?,
        "remove" => {
            remove(&mut work, op.path)?;
        }
        "replace" => replace(&mut work, op.path, need_value()?)?,
        "move" => {
            let from = need_from()?;
            if op.path.starts_with(&format!("{from}/")) {
                return Err(PatchError::MoveIntoChild(from.to_string()));
            }
            let value = remove(&mut work, from)?;
            add(&mut work, op.path, value)?;
        }
        "copy" => {
            let value = get(&work, need_from()?)?.clone();
            add(&mut work, op.path, value)?;
        }
        "test" => {
            let expected = need_value()?;
            let actual = get(&work, op.path)?;
            if *actual != expected {
                return Err(PatchError::TestFailed {
                    path: op.path.to_string(),
                    actual: actual.to_string(),
                    expected: expected.to_string(),
                });
            }
        }
        other => return Err(PatchError::UnknownOp(other.to_string())),
    }
    *doc = work;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(
        doc: &mut Value,
        op: &str,
        path: &str,
        from: Option<&str>,
        value: Option<Value>,
    ) -> Result<(), PatchError> {
        apply(
            doc,
            &Operation {
                op,
                path,
                from,
                value: value.as_ref(),
            },
        )
    }

    #[test]
    fn add_inserts_appends_and_sets_keys() {
        let mut doc = json!({"a": [1, 3]});
        run(&mut doc, "add", "/a/1", None, Some(json!(2))).unwrap();
        run(&mut doc, "add", "/a/-", None, Some(json!(4))).unwrap();
        run(&mut doc, "add", "/b~1c", None, Some(json!("x"))).unwrap();
        assert_eq!(doc, json!({"a": [1, 2, 3, 4], "b/c": "x"}));
        assert_eq!(
            run(&mut doc, "add", "/a/9", None, Some(json!(0))),
            Err(PatchError::NoSuchPath("/a/9".into()))
        );
    }

    #[test]
    fn remove_replace_move_copy() {
        let mut doc = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        run(&mut doc, "remove", "/a/b", None, None).unwrap();
        run(&mut doc, "", "/a/c", None, Some(json!(5))).unwrap();
        run(&mut doc, "move", "/m", Some("/a/c"), None).unwrap();
        run(&mut doc, "copy", "/l/-", Some("/m"), None).unwrap();
        assert_eq!(doc, json!({"a": {}, "l": [1, 2, 5], "m": 5}));
        assert_eq!(
            run(&mut doc, "replace", "/missing", None, Some(json!(1))),
            Err(PatchError::NoSuchPath("/missing".into()))
        );
        assert_eq!(
            run(&mut doc, "move", "/a/x", Some("/a"), None),
            Err(PatchError::MoveIntoChild("/a".into()))
        );
    }

    #[test]
    fn test_op_passes_or_fails_without_changing_anything() {
        let mut doc = json!({"a": "x"});
        run(&mut doc, "test", "/a", None, Some(json!("x"))).unwrap();
        let err = run(&mut doc, "test", "/a", None, Some(json!("y"))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "test failed: the value at `/a` is \"x\", not \"y\""
        );
        assert_eq!(doc, json!({"a": "x"}));
        assert_eq!(
            run(&mut doc, "frobnicate", "/a", None, None),
            Err(PatchError::UnknownOp("frobnicate".into()))
        );
        assert_eq!(
            run(&mut doc, "add", "/a", None, None),
            Err(PatchError::Missing {
                op: "add".into(),
                field: "value"
            })
        );
    }
}
