//! Documents with fixed keys, cloned from a template and filled in key order.
//!
//! Every append builds a stored event and its metadata. Inserting key by key hashes each
//! key and grows the map as it goes; cloning a template allocates each part once at its
//! final size, and filling the values in order hashes nothing. (For documents of one or
//! two keys, as in filters and updates, building them directly costs the same.)

use bson::{Bson, Document};

/// A document shape: its keys, in order, with null values.
#[derive(Debug, Clone)]
pub(crate) struct Template(Document);

impl Template {
    /// A template with `keys`, in order.
    pub(crate) fn new(keys: &[&str]) -> Self {
        Self(keys.iter().map(|k| ((*k).to_owned(), Bson::Null)).collect())
    }

    /// A document with the template's keys and `values`, in order.
    pub(crate) fn fill<const N: usize>(&self, values: [Bson; N]) -> Document {
        debug_assert_eq!(self.0.len(), N, "a value for every key of {:?}", self.0.keys().collect::<Vec<_>>());
        let mut doc = self.0.clone();
        for ((_, slot), value) in doc.iter_mut().zip(values) {
            *slot = value;
        }
        doc
    }
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::*;

    #[test]
    fn a_filled_template_is_the_document_built_key_by_key() {
        let t = Template::new(&["b", "a", "c.d"]);
        assert_eq!(
            t.fill([Bson::Int32(1), "x".into(), doc! { "y": 2 }.into()]),
            doc! { "b": 1, "a": "x", "c.d": { "y": 2 } }
        );
    }
}
