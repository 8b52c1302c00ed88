//! The dotted path of every field of the config model (`build.artifacts[].docker.buildArgs`),
//! read from the model's own `Deserialize` impls: a deserializer that offers each struct
//! every field it names and records the paths it is asked for. A field added to the model
//! shows up here without anyone listing it.

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use std::cell::RefCell;
use std::collections::BTreeSet;

/// Every field path of `T`, sorted (`a.b`, `a.list[].c`). An error means the model has a
/// type the tracer cannot offer a valid value for (the walk would have stopped there).
pub fn field_paths<T: de::DeserializeOwned>() -> Result<BTreeSet<String>, String> {
    let out = RefCell::new(BTreeSet::new());
    T::deserialize(Tracer {
        path: String::new(),
        out: &out,
        structs: Vec::new(),
        quiet: false,
    })
    .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

/// A map's fields: none (its keys are the user's data).
const NO_FIELDS: &[&str] = &[];

/// Free-form values that take text where the tracer offers a number elsewhere: an
/// `allow.run` grant is a program name, or a map with its argument patterns.
const TEXT: &[&str] = &[".allow.run[]"];

/// Fields the model accepts only when an alternative is absent: a plugin takes one of
/// `path` and `oci`, so the tracer leaves `oci` out (it is still recorded as a field).
const ABSENT: &[&str] = &[".plugin.oci"];

#[derive(Debug)]
struct TraceError(String);

impl std::fmt::Display for TraceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TraceError {}

impl de::Error for TraceError {
    fn custom<M: std::fmt::Display>(msg: M) -> Self {
        TraceError(msg.to_string())
    }
}

/// A value at `path`: structs become a map of all their fields, options are present, lists
/// hold one element (`path[]`), maps are empty (their keys are the user's data), scalars are
/// zero. A struct met again inside itself (`customTemplate.components[].customTemplate`) is
/// read `quiet`: with every option absent and every list empty, so the walk ends there.
struct Tracer<'a> {
    path: String,
    out: &'a RefCell<BTreeSet<String>>,
    structs: Vec<&'static str>,
    quiet: bool,
}

impl<'a> Tracer<'a> {
    fn child(&self, path: String) -> Tracer<'a> {
        Tracer {
            path,
            out: self.out,
            structs: self.structs.clone(),
            quiet: self.quiet,
        }
    }
}

impl<'de> Deserializer<'de> for Tracer<'_> {
    type Error = TraceError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        // Free-form values (`serde_json::Value`, a port number or name, a duration or size
        // given as a number or text) are leaves; a number is valid for all of them but those
        // that take text.
        if TEXT.iter().any(|suffix| self.path.ends_with(suffix)) {
            return visitor.visit_str("program");
        }
        visitor.visit_u64(1)
    }
    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_bool(false)
    }
    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_i64(0)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_i64(0)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_i64(0)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_i64(0)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_u64(0)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_u64(0)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_u64(0)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_u64(0)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_f64(0.0)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_f64(0.0)
    }
    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_char(' ')
    }
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_str("")
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_str("")
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_bytes(&[])
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_bytes(&[])
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        if self.quiet || ABSENT.iter().any(|suffix| self.path.ends_with(suffix)) {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }
    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_unit()
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        visitor.visit_unit()
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        visitor.visit_newtype_struct(self)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        let element = (!self.quiet).then(|| self.child(format!("{}[]", self.path)));
        visitor.visit_seq(OneElement { element })
    }
    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        self.deserialize_seq(visitor)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        self.deserialize_seq(visitor)
    }
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_map(Fields {
            fields: NO_FIELDS.iter(),
            current: None,
            parent: self,
        })
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TraceError> {
        let mut parent = self;
        parent.quiet |= parent.structs.contains(&name);
        parent.structs.push(name);
        visitor.visit_map(Fields {
            fields: fields.iter(),
            current: None,
            parent,
        })
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, TraceError> {
        Err(TraceError(format!(
            "`{}`: the field tracer does not know enums",
            self.path
        )))
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_str("")
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TraceError> {
        visitor.visit_unit()
    }
}

/// The one element of a traced list.
struct OneElement<'a> {
    element: Option<Tracer<'a>>,
}

impl<'de> SeqAccess<'de> for OneElement<'_> {
    type Error = TraceError;
    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, TraceError> {
        match self.element.take() {
            Some(tracer) => seed.deserialize(tracer).map(Some),
            None => Ok(None),
        }
    }
}

/// Every field of a traced struct, each recorded as it is asked for.
struct Fields<'a> {
    fields: std::slice::Iter<'static, &'static str>,
    current: Option<&'static str>,
    parent: Tracer<'a>,
}

impl<'de> MapAccess<'de> for Fields<'_> {
    type Error = TraceError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TraceError> {
        let Some(field) = self.fields.next() else {
            return Ok(None);
        };
        self.current = Some(field);
        let key: de::value::StrDeserializer<'_, TraceError> = (*field).into_deserializer();
        seed.deserialize(key).map(Some)
    }
    fn next_value_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, TraceError> {
        let field = self.current.take().unwrap_or_default();
        let path = if self.parent.path.is_empty() {
            field.to_string()
        } else {
            format!("{}.{field}", self.parent.path)
        };
        if !self.parent.quiet {
            self.parent.out.borrow_mut().insert(path.clone());
        }
        seed.deserialize(self.parent.child(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::SkaffoldConfig;

    #[test]
    fn every_model_field_is_traced() {
        let fields = field_paths::<SkaffoldConfig>().unwrap();
        for path in [
            "apiVersion",
            "build.artifacts[].docker.buildArgs",
            "build.artifacts[].hooks.before[].command",
            "deploy.helm.releases[].setValues",
            "profiles[].build.artifacts[].image",
            "portForward[].port",
        ] {
            assert!(fields.contains(path), "{path} missing from {fields:#?}");
        }
        // Map keys are the user's data, not fields.
        assert!(
            !fields
                .iter()
                .any(|f| f.starts_with("build.artifacts[].docker.buildArgs."))
        );
    }

    #[test]
    fn dump() {
        for f in field_paths::<SkaffoldConfig>().unwrap() {
            println!("FIELD {f}");
        }
    }
}
