//! An [`Event`] backed by a map: for tests, benchmarks and events read back
//! from text (`proc.name=bash`).

use std::borrow::Cow;
use std::collections::HashMap;

use crate::event::{Event, Field, FieldArg, Value, ValueType};

/// An event whose fields are set by name.
///
/// Fields left unset are derived where Falco derives them: `fd.net` and
/// `fd.ip` from `fd.cip`/`fd.sip`, `fd.snet` from `fd.sip` (and likewise
/// `cnet`, `lnet`, `rnet`), `proc.aname[1]` from `proc.pname`, and
/// `proc.aname` without an index from every `proc.aname[n]` set.
#[derive(Clone, Debug, Default)]
pub struct MapEvent {
    event_type: String,
    fields: HashMap<(Field, FieldArg), Value<'static>>,
}

impl MapEvent {
    pub fn new(event_type: &str) -> MapEvent {
        MapEvent { event_type: event_type.to_string(), fields: HashMap::new() }
    }

    /// Sets a field from text, typed by the field (`proc.pid=42` is a
    /// number, `fd.sip=10.0.0.1` an address, `fd.types=ipv4,file` a list).
    /// Errors name the field when it is unknown or the text does not fit.
    pub fn set(&mut self, name: &str, text: &str) -> Result<&mut MapEvent, String> {
        let (field, arg) = crate::parse_field(name).ok_or_else(|| format!("unknown field '{name}'"))?;
        let bad = |what: &str| format!("{name}: expected {what}, got '{text}'");
        let value = match field.value_type() {
            ValueType::Str => Value::Str(Cow::Owned(text.to_string())),
            ValueType::Int => Value::Int(text.parse().map_err(|_| bad("a number"))?),
            ValueType::Uint | ValueType::AbsTime | ValueType::RelTime => {
                Value::Uint(text.parse().map_err(|_| bad("a number"))?)
            }
            ValueType::Bool => Value::Bool(text.parse().map_err(|_| bad("true or false"))?),
            ValueType::Ip | ValueType::Net => Value::Ip(text.parse().map_err(|_| bad("an IP address"))?),
            ValueType::StrList => {
                Value::List(text.split(',').map(|s| Value::Str(Cow::Owned(s.trim().to_string()))).collect())
            }
        };
        self.fields.insert((field, arg), value);
        Ok(self)
    }

    /// Sets a field to a value as given.
    pub fn set_value(&mut self, field: Field, arg: FieldArg, value: Value<'static>) -> &mut MapEvent {
        self.fields.insert((field, arg), value);
        self
    }

    /// Builds an event from `(field, text)` pairs; see [`MapEvent::set`].
    pub fn from_pairs(event_type: &str, pairs: &[(&str, &str)]) -> Result<MapEvent, String> {
        let mut e = MapEvent::new(event_type);
        for (name, text) in pairs {
            e.set(name, text)?;
        }
        Ok(e)
    }

    fn get(&self, field: Field, arg: &FieldArg) -> Option<Value<'_>> {
        self.fields.get(&(field, arg.clone())).map(borrow)
    }
}

fn borrow<'a>(v: &'a Value<'static>) -> Value<'a> {
    match v {
        Value::Str(s) => Value::Str(Cow::Borrowed(s)),
        Value::List(items) => Value::List(items.iter().map(borrow).collect()),
        other => other.clone(),
    }
}

impl Event for MapEvent {
    fn event_type(&self) -> &str {
        &self.event_type
    }

    fn field(&self, field: Field, arg: &FieldArg) -> Option<Value<'_>> {
        if let Some(v) = self.get(field, arg) {
            return Some(v);
        }
        let none = &FieldArg::None;
        match (field, arg) {
            (Field::FdNet | Field::FdIp, FieldArg::None) => {
                let both: Vec<Value<'_>> =
                    [Field::FdCip, Field::FdSip].iter().filter_map(|f| self.get(*f, none)).collect();
                (!both.is_empty()).then_some(Value::List(both))
            }
            (Field::FdSnet, _) => self.get(Field::FdSip, none),
            (Field::FdCnet, _) => self.get(Field::FdCip, none),
            (Field::FdLnet, _) => self.get(Field::FdLip, none),
            (Field::FdRnet, _) => self.get(Field::FdRip, none),
            (Field::ProcAname, FieldArg::Index(1)) => self.get(Field::ProcPname, none),
            (Field::ProcAname, FieldArg::None) => {
                let mut indexed: Vec<(usize, Value<'_>)> = self
                    .fields
                    .iter()
                    .filter_map(|((f, a), v)| match (f, a) {
                        (Field::ProcAname, FieldArg::Index(i)) => Some((*i, borrow(v))),
                        _ => None,
                    })
                    .collect();
                if !indexed.iter().any(|(i, _)| *i == 1) {
                    indexed.extend(self.get(Field::ProcPname, none).map(|v| (1, v)));
                }
                indexed.sort_by_key(|(i, _)| *i);
                (!indexed.is_empty()).then(|| Value::List(indexed.into_iter().map(|(_, v)| v).collect()))
            }
            _ => None,
        }
    }
}
