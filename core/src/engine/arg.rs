//! The values of an update document, borrowed from a command the caller keeps or from one
//! the engine owns.
//!
//! [`Engine::execute`](super::Engine::execute) borrows its command, so every value an
//! update places in a document is cloned; [`Engine::execute_owned`](super::Engine::execute_owned)
//! owns it, so the values are moved out instead (a `$push` of an event document then copies
//! nothing). Both run the same code: an [`Arg`] is read with [`Arg::get`] and placed with
//! [`Arg::take`], at most once per command.

use bson::{document, Bson, Document};

/// A value of an update document.
#[derive(Debug)]
pub(crate) enum Arg<'a, T: ?Sized> {
    /// In a command the caller keeps: placing it clones it.
    Shared(&'a T),
    /// In a command the engine owns: placing it moves it out, leaving the default behind.
    Owned(&'a mut T),
}

impl<T: ?Sized> Arg<'_, T> {
    /// The value.
    pub(crate) fn get(&self) -> &T {
        match self {
            Arg::Shared(value) => value,
            Arg::Owned(value) => value,
        }
    }
}

impl<T: Clone + Default> Arg<'_, T> {
    /// The value, to be placed in a document: a clone, or the value itself. Call it once:
    /// an owned argument is left as `T::default()`.
    pub(crate) fn take(&mut self) -> T {
        match self {
            Arg::Shared(value) => (*value).clone(),
            Arg::Owned(value) => std::mem::take(*value),
        }
    }
}

impl<'a> Arg<'a, Document> {
    /// The fields of the document, in order.
    pub(crate) fn into_fields(self) -> Fields<'a> {
        match self {
            Arg::Shared(doc) => Fields::Shared(doc.iter()),
            Arg::Owned(doc) => Fields::Owned(doc.iter_mut()),
        }
    }
}

impl<'a> Arg<'a, Bson> {
    /// The fields of the value if it is a document (none otherwise).
    pub(crate) fn into_fields(self) -> Fields<'a> {
        match self {
            Arg::Shared(Bson::Document(doc)) => Fields::Shared(doc.iter()),
            Arg::Owned(Bson::Document(doc)) => Fields::Owned(doc.iter_mut()),
            _ => Fields::None,
        }
    }

    /// The array held by field `key` of the value, if it is a document with one.
    pub(crate) fn into_array_field(self, key: &str) -> Option<Arg<'a, Vec<Bson>>> {
        match self {
            Arg::Shared(Bson::Document(doc)) => match doc.get(key) {
                Some(Bson::Array(items)) => Some(Arg::Shared(items)),
                _ => None,
            },
            Arg::Owned(Bson::Document(doc)) => match doc.get_mut(key) {
                Some(Bson::Array(items)) => Some(Arg::Owned(items)),
                _ => None,
            },
            _ => None,
        }
    }
}

/// The fields of a document argument, each an argument itself.
pub(crate) enum Fields<'a> {
    Shared(document::Iter<'a>),
    Owned(document::IterMut<'a>),
    None,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a str, Arg<'a, Bson>);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Fields::Shared(fields) => fields.next().map(|(key, value)| (key.as_str(), Arg::Shared(value))),
            Fields::Owned(fields) => fields.next().map(|(key, value)| (key.as_str(), Arg::Owned(value))),
            Fields::None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    fn take_all(arg: Arg<'_, Document>) -> (Bson, Vec<Bson>) {
        let mut fields = arg.into_fields();
        let (key, mut a) = fields.next().expect("field a");
        assert_eq!(key, "a");
        assert_eq!(a.get(), &Bson::Document(doc! { "x": 1 }));
        let (_, e) = fields.next().expect("field e");
        let mut each = e.into_array_field("$each").expect("an array");
        assert!(fields.next().is_none());
        (a.take(), each.take())
    }

    #[test]
    fn shared_arguments_clone_and_owned_ones_move() {
        let original = doc! { "a": { "x": 1 }, "e": { "$each": [1, 2] } };
        let taken = (Bson::Document(doc! { "x": 1 }), vec![Bson::Int32(1), Bson::Int32(2)]);
        assert_eq!(take_all(Arg::Shared(&original)), taken);
        let mut owned = original.clone();
        assert_eq!(take_all(Arg::Owned(&mut owned)), taken);
        assert_eq!(owned, doc! { "a": null, "e": { "$each": [] } }, "moved out");
        assert!(Arg::Shared(&Bson::Int32(1)).into_fields().next().is_none());
        assert!(Arg::Shared(&Bson::Int32(1)).into_array_field("$each").is_none());
    }
}
