//! A YAML document as a tree whose every node remembers where it was written (line and column
//! in the user's file). Upgrades between schema versions move nodes around this tree, so an
//! error found later — an unknown field, a wrong type — still points into the original file.
//! The tree is also a serde `Deserializer`, which is how the typed model is read from it.

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;

/// A line/column position (1-based) in the source file; `0:0` when the node was made by an
/// upgrade step rather than read from the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pos {
    pub line: u64,
    pub column: u64,
}

impl Pos {
    pub fn is_known(&self) -> bool {
        self.line > 0
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

/// The value of a node. Mapping keys are kept as strings (YAML scalars of any kind are
/// stringified) in file order.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A mapping key with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub pos: Pos,
}

impl Node {
    pub fn new(value: Value, pos: Pos) -> Node {
        Node { value, pos }
    }

    /// A node made by an upgrade step; it takes the position of the node it replaces.
    pub fn synthetic(value: Value, pos: Pos) -> Node {
        Node { value, pos }
    }

    pub fn str(text: impl Into<String>, pos: Pos) -> Node {
        Node::new(Value::Str(text.into()), pos)
    }

    pub fn empty_map(pos: Pos) -> Node {
        Node::new(Value::Map(Vec::new()), pos)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Vec<(Key, Node)>> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Vec<(Key, Node)>> {
        match &mut self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq_mut(&mut self) -> Option<&mut Vec<Node>> {
        match &mut self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.as_map_mut()?
            .iter_mut()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    /// Removes `key` and returns its key and value, if this is a mapping holding it.
    pub fn remove(&mut self, key: &str) -> Option<(Key, Node)> {
        let map = self.as_map_mut()?;
        let index = map.iter().position(|(k, _)| k.name == key)?;
        Some(map.remove(index))
    }

    /// Sets `key` (replacing an existing entry in place, else appending).
    pub fn set(&mut self, key: Key, value: Node) {
        if let Some(map) = self.as_map_mut() {
            if let Some(slot) = map.iter_mut().find(|(k, _)| k.name == key.name) {
                slot.1 = value;
            } else {
                map.push((key, value));
            }
        }
    }

    /// The child mapping under `key`, created (at this node's position) when missing.
    /// Returns `None` if this node is not a mapping or the child is not a mapping.
    pub fn entry_map(&mut self, key: &str) -> Option<&mut Node> {
        let pos = self.pos;
        let map = self.as_map_mut()?;
        if !map.iter().any(|(k, _)| k.name == key) {
            map.push((
                Key {
                    name: key.to_string(),
                    pos,
                },
                Node::empty_map(pos),
            ));
        }
        let node = map
            .iter_mut()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)?;
        if matches!(node.value, Value::Null) {
            node.value = Value::Map(Vec::new());
        }
        node.as_map().is_some().then_some(node)
    }

    /// Converts to a JSON value (positions dropped).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Str(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// Builds a tree from a JSON value; every node gets position `pos`.
    pub fn from_json(value: &serde_json::Value, pos: Pos) -> Node {
        let v = match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or_default()),
            },
            serde_json::Value::String(s) => Value::Str(s.clone()),
            serde_json::Value::Array(items) => {
                Value::Seq(items.iter().map(|i| Node::from_json(i, pos)).collect())
            }
            serde_json::Value::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| {
                        (
                            Key {
                                name: k.clone(),
                                pos,
                            },
                            Node::from_json(v, pos),
                        )
                    })
                    .collect(),
            ),
        };
        Node::new(v, pos)
    }

    /// Short description of the node's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// Reading the YAML text: positions come from serde-saphyr's `Spanned`.
struct RawValue(Value);

struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<KeyText, E> {
                Ok(KeyText(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

fn pos_of(loc: &serde_saphyr::Location) -> Pos {
    Pos {
        line: loc.line(),
        column: loc.column(),
    }
}

fn spanned_node(s: serde_saphyr::Spanned<RawValue>) -> Node {
    Node::new(s.value.0, pos_of(&s.referenced))
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawValue, E> {
                Ok(RawValue(Value::Null))
            }
            fn visit_none<E: de::Error>(self) -> Result<RawValue, E> {
                Ok(RawValue(Value::Null))
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<RawValue, D2::Error> {
                RawValue::deserialize(d)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawValue, E> {
                Ok(RawValue(Value::Bool(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawValue, E> {
                Ok(RawValue(Value::Int(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawValue, E> {
                Ok(RawValue(match i64::try_from(v) {
                    Ok(i) => Value::Int(i),
                    Err(_) => Value::Float(v as f64),
                }))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawValue, E> {
                Ok(RawValue(match i64::try_from(v) {
                    Ok(i) => Value::Int(i),
                    Err(_) => Value::Float(v as f64),
                }))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawValue, E> {
                Ok(RawValue(match i64::try_from(v) {
                    Ok(i) => Value::Int(i),
                    Err(_) => Value::Float(v as f64),
                }))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawValue, E> {
                Ok(RawValue(Value::Float(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawValue, E> {
                Ok(RawValue(Value::Str(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<RawValue, E> {
                Ok(RawValue(Value::Str(v)))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RawValue, E> {
                Ok(RawValue(Value::Str(
                    String::from_utf8_lossy(v).into_owned(),
                )))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<serde_saphyr::Spanned<RawValue>>()? {
                    items.push(spanned_node(item));
                }
                Ok(RawValue(Value::Seq(items)))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
                let mut entries: Vec<(Key, Node)> = Vec::new();
                while let Some(key) = map.next_key::<serde_saphyr::Spanned<KeyText>>()? {
                    let value = spanned_node(map.next_value::<serde_saphyr::Spanned<RawValue>>()?);
                    let key = Key {
                        name: key.value.0,
                        pos: pos_of(&key.referenced),
                    };
                    if entries.iter().any(|(k, _)| k.name == key.name) {
                        return Err(de::Error::custom(format!(
                            "duplicate key `{}` at {}",
                            key.name, key.pos
                        )));
                    }
                    entries.push((key, value));
                }
                Ok(RawValue(Value::Map(entries)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A YAML syntax error with its position.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub pos: Option<Pos>,
    pub message: String,
}

fn parse_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    // kubectl (and Go's YAML) read `0644` as octal; so does devloop.
    options.legacy_octal_numbers = true;
    // Skaffold reads configs with Go's yaml.v3: `yes`/`on`/`y` are strings, except where a
    // boolean is expected (see `deserialize_bool`).
    options.strict_booleans = true;
    options.with_snippet = false;
    options
}

/// YAML 1.1 spellings yaml.v3 still accepts for a boolean field.
fn yaml11_bool(text: &str) -> Option<bool> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// How deeply YAML may nest. Configs need a handful of levels; the limit keeps every
/// recursive walk over the tree far from the end of the stack.
pub const MAX_DEPTH: usize = 48;

/// Parses every YAML document of `text`. Empty documents are dropped.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, SyntaxError> {
    // The parser recurses once per nesting level before its own limits stop it; a thread
    // with a generous stack makes hostile input fail with an error instead of a crash.
    let parsed = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("yaml-parse".into())
            .stack_size(64 << 20)
            .spawn_scoped(scope, || parse_on_this_thread(text))
            .map(|handle| handle.join())
    });
    let docs = match parsed {
        Ok(Ok(result)) => result?,
        Ok(Err(_)) => {
            return Err(SyntaxError {
                pos: None,
                message: "the YAML parser failed on this input".into(),
            });
        }
        Err(_) => parse_on_this_thread(text)?,
    };
    for doc in &docs {
        if let Some(pos) = too_deep(doc, 0) {
            return Err(SyntaxError {
                pos: Some(pos),
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
    }
    Ok(docs)
}

/// The position of the first node nested deeper than [`MAX_DEPTH`].
fn too_deep(node: &Node, depth: usize) -> Option<Pos> {
    if depth > MAX_DEPTH {
        return Some(node.pos);
    }
    match &node.value {
        Value::Seq(items) => items.iter().find_map(|n| too_deep(n, depth + 1)),
        Value::Map(entries) => entries.iter().find_map(|(_, n)| too_deep(n, depth + 1)),
        _ => None,
    }
}

fn parse_on_this_thread(text: &str) -> Result<Vec<Node>, SyntaxError> {
    let docs: Vec<Option<serde_saphyr::Spanned<RawValue>>> =
        serde_saphyr::from_multiple_with_options(text, parse_options()).map_err(|e| {
            let pos = e.location().map(|l| pos_of(&l)).filter(Pos::is_known);
            SyntaxError {
                pos,
                message: first_line(&e.to_string()),
            }
        })?;
    Ok(docs
        .into_iter()
        .flatten()
        .map(spanned_node)
        .filter(|n| !matches!(n.value, Value::Null))
        .collect())
}

/// serde-saphyr's message without its own "at line x column y" suffix (devloop prints the
/// position as `file:line:column:` in front).
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or(message);
    if line.contains("budget breached: Depth") || line.contains("recursion limit exceeded") {
        return "the YAML nests too deeply".into();
    }
    if line.contains("recursive references") {
        return "an alias refers to the node that contains it".into();
    }
    match line.find(" at line ") {
        Some(i) => line[..i].to_string(),
        None => line.to_string(),
    }
}

/// An error found while reading the typed model out of a tree.
#[derive(Debug, Clone, PartialEq)]
pub struct DeError {
    pub pos: Option<Pos>,
    pub message: String,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            pos: None,
            message: msg.to_string(),
        }
    }

    fn invalid_type(unexp: de::Unexpected, exp: &dyn de::Expected) -> Self {
        DeError {
            pos: None,
            message: format!(
                "invalid type: {}, expected {}",
                describe_unexpected(&unexp),
                humanize_expected(&exp.to_string())
            ),
        }
    }

    fn invalid_value(unexp: de::Unexpected, exp: &dyn de::Expected) -> Self {
        DeError {
            pos: None,
            message: format!(
                "invalid value: {}, expected {}",
                describe_unexpected(&unexp),
                humanize_expected(&exp.to_string())
            ),
        }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let best = expected
            .iter()
            .map(|e| (strsim::jaro_winkler(field, e), *e))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let message = match best {
            Some((_, e)) => format!("unknown field `{field}`, did you mean `{e}`?"),
            None if expected.is_empty() => format!("unknown field `{field}`, none allowed here"),
            None => format!(
                "unknown field `{field}`, expected one of {}",
                expected
                    .iter()
                    .map(|e| format!("`{e}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        DeError { pos: None, message }
    }
}

/// YAML words for serde's description of a found value.
fn describe_unexpected(unexp: &de::Unexpected) -> String {
    match unexp {
        de::Unexpected::Seq => "a list".into(),
        de::Unexpected::Map => "a mapping".into(),
        de::Unexpected::Unit => "null".into(),
        other => other.to_string(),
    }
}

/// YAML words for serde's description of what was expected (`i64` → `an integer`).
fn humanize_expected(expected: &str) -> String {
    match expected {
        "i8" | "i16" | "i32" | "i64" | "i128" | "u8" | "u16" | "u32" | "u64" | "u128" => {
            "an integer".into()
        }
        "f32" | "f64" => "a number".into(),
        "a sequence" => "a list".into(),
        "a map" => "a mapping".into(),
        other => match other.strip_prefix("struct ") {
            Some(name) => format!("a mapping ({name})"),
            None => other.to_string(),
        },
    }
}

impl DeError {
    fn at(mut self, pos: Pos) -> Self {
        if self.pos.is_none() && pos.is_known() {
            self.pos = Some(pos);
        }
        self
    }
}

/// Reads a typed value out of a tree.
pub fn from_node<T: de::DeserializeOwned>(node: &Node) -> Result<T, DeError> {
    T::deserialize(NodeDe { node }).map_err(|e| e.at(node.pos))
}

struct NodeDe<'a> {
    node: &'a Node,
}

impl NodeDe<'_> {
    fn invalid(&self, exp: &dyn de::Expected) -> DeError {
        let unexp = match &self.node.value {
            Value::Null => de::Unexpected::Unit,
            Value::Bool(b) => de::Unexpected::Bool(*b),
            Value::Int(i) => de::Unexpected::Signed(*i),
            Value::Float(f) => de::Unexpected::Float(*f),
            Value::Str(s) => de::Unexpected::Str(s),
            Value::Seq(_) => de::Unexpected::Seq,
            Value::Map(_) => de::Unexpected::Map,
        };
        <DeError as de::Error>::invalid_type(unexp, exp).at(self.node.pos)
    }
}

impl<'de, 'a> Deserializer<'de> for NodeDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let pos = self.node.pos;
        let result = match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str(s) => visitor.visit_str(s),
            Value::Seq(items) => visitor.visit_seq(SeqDe { iter: items.iter() }),
            Value::Map(entries) => visitor.visit_map(MapDe {
                iter: entries.iter(),
                value: None,
                skip_null: false,
            }),
        };
        result.map_err(|e| e.at(pos))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let pos = self.node.pos;
        match &self.node.value {
            // Go's YAML reads `key:` (null) as the zero value: an empty struct.
            Value::Null => visitor
                .visit_map(MapDe {
                    iter: [].iter(),
                    value: None,
                    skip_null: true,
                })
                .map_err(|e| e.at(pos)),
            Value::Map(entries) => visitor
                .visit_map(MapDe {
                    iter: entries.iter(),
                    value: None,
                    skip_null: true,
                })
                .map_err(|e| e.at(pos)),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let pos = self.node.pos;
        match &self.node.value {
            Value::Null => visitor.visit_seq(SeqDe { iter: [].iter() }),
            Value::Seq(items) => visitor.visit_seq(SeqDe { iter: items.iter() }),
            _ => Err(self.invalid(&visitor)),
        }
        .map_err(|e| e.at(pos))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let pos = self.node.pos;
        match &self.node.value {
            Value::Null => visitor.visit_map(MapDe {
                iter: [].iter(),
                value: None,
                skip_null: false,
            }),
            Value::Map(entries) => visitor.visit_map(MapDe {
                iter: entries.iter(),
                value: None,
                skip_null: false,
            }),
            _ => Err(self.invalid(&visitor)),
        }
        .map_err(|e| e.at(pos))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let value = match &self.node.value {
            Value::Bool(b) => Some(*b),
            Value::Str(s) => yaml11_bool(s),
            _ => None,
        };
        match value {
            Some(b) => visitor.visit_bool(b),
            None => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.value {
            Value::Int(i) => visitor
                .visit_i64(i)
                .map_err(|e: DeError| e.at(self.node.pos)),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Str(s) => visitor.visit_str(s),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Str(s) => visitor
                .visit_enum(s.as_str().into_deserializer())
                .map_err(|e: DeError| e.at(self.node.pos)),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit unit_struct
        tuple tuple_struct identifier
    }
}

struct SeqDe<'a> {
    iter: std::slice::Iter<'a, Node>,
}

impl<'de> de::SeqAccess<'de> for SeqDe<'_> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.iter.next() {
            Some(node) => seed
                .deserialize(NodeDe { node })
                .map(Some)
                .map_err(|e| e.at(node.pos)),
            None => Ok(None),
        }
    }
}

struct MapDe<'a> {
    iter: std::slice::Iter<'a, (Key, Node)>,
    value: Option<&'a Node>,
    /// Struct fields set to null are treated as absent (Go's zero value).
    skip_null: bool,
}

impl<'de> de::MapAccess<'de> for MapDe<'_> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        loop {
            match self.iter.next() {
                Some((key, value)) => {
                    if self.skip_null && matches!(value.value, Value::Null) {
                        continue;
                    }
                    self.value = Some(value);
                    let de: de::value::StrDeserializer<DeError> =
                        key.name.as_str().into_deserializer();
                    return seed.deserialize(de).map(Some).map_err(|e| e.at(key.pos));
                }
                None => return Ok(None),
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.value.take() {
            Some(node) => seed
                .deserialize(NodeDe { node })
                .map_err(|e| e.at(node.pos)),
            None => Err(de::Error::custom("value requested before key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Small {
        #[serde(rename = "artifacts", default)]
        artifacts: Vec<String>,
        #[serde(default)]
        flag: Option<bool>,
    }

    #[test]
    fn positions_are_one_based_lines_and_columns() {
        let docs = parse_documents("a:\n  b: [1, x]\n---\n- c\n").unwrap();
        assert_eq!(docs.len(), 2);
        let b = docs[0].get("a").unwrap().get("b").unwrap();
        assert_eq!(b.pos, Pos { line: 2, column: 6 });
        match &b.value {
            Value::Seq(items) => assert_eq!(
                items[1].pos,
                Pos {
                    line: 2,
                    column: 10
                }
            ),
            other => panic!("expected a list, got {other:?}"),
        }
        let key_pos = docs[0].as_map().unwrap()[0].0.pos;
        assert_eq!(key_pos, Pos { line: 1, column: 1 });
    }

    #[test]
    fn unknown_field_names_key_position_and_suggestion() {
        let docs = parse_documents("flag: true\nartifcts: []\n").unwrap();
        let err = from_node::<Small>(&docs[0]).unwrap_err();
        assert_eq!(err.pos, Some(Pos { line: 2, column: 1 }));
        assert_eq!(
            err.message,
            "unknown field `artifcts`, did you mean `artifacts`?"
        );
    }

    #[test]
    fn wrong_type_names_value_position() {
        let docs = parse_documents("flag: yes please\n").unwrap();
        let err = from_node::<Small>(&docs[0]).unwrap_err();
        assert_eq!(err.pos, Some(Pos { line: 1, column: 7 }));
        assert_eq!(
            err.message,
            "invalid type: string \"yes please\", expected a boolean"
        );
    }

    #[test]
    fn null_struct_field_is_absent() {
        let docs = parse_documents("flag:\nartifacts:\n").unwrap();
        let small: Small = from_node(&docs[0]).unwrap();
        assert_eq!(
            small,
            Small {
                artifacts: vec![],
                flag: None
            }
        );
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let err = parse_documents("a: 1\na: 2\n").unwrap_err();
        assert!(err.message.contains("duplicate"), "{}", err.message);
    }

    #[test]
    fn yaml11_booleans_are_strings_except_for_boolean_fields() {
        let docs = parse_documents("flag: yes\ny: on\n").unwrap();
        assert_eq!(docs[0].as_map().unwrap()[1].0.name, "y");
        assert_eq!(docs[0].get("y").unwrap().value, Value::Str("on".into()));
        let docs = parse_documents("flag: yes\n").unwrap();
        let small: Small = from_node(&docs[0]).unwrap();
        assert_eq!(small.flag, Some(true));
    }

    #[test]
    fn octal_reads_as_kubectl_reads_it() {
        let docs = parse_documents("mode: 0644\n").unwrap();
        assert_eq!(docs[0].get("mode").unwrap().value, Value::Int(420));
    }
}
