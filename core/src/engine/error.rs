//! The engine's internal error: a server error code and message, as MongoDB reports it.

use crate::command::{codes, Reply};

/// Error codes the engine answers with that core does not react to (so they are not in
/// [`crate::command::codes`]). Names and numbers are MongoDB's `ErrorCodes`.
pub(crate) mod code {
    /// `FailedToParse`: an unknown update modifier, a modifier whose argument is not a document.
    pub(crate) const FAILED_TO_PARSE: i32 = 9;
    /// `CannotBackfillArray`: `$set` on `a.<huge index>`.
    pub(crate) const CANNOT_BACKFILL_ARRAY: i32 = 10;
    /// `DollarPrefixedFieldName`: a top-level `$` name in a replacement document.
    pub(crate) const DOLLAR_PREFIXED_FIELD_NAME: i32 = 52;
    /// `InvalidIdField`: an upserted document whose `_id` is an array, a regex or undefined.
    pub(crate) const INVALID_ID_FIELD: i32 = 53;
    /// `EmptyFieldName`: an update path with an empty part.
    pub(crate) const EMPTY_FIELD_NAME: i32 = 56;
    /// `NotExactValueField`: a replacement upsert whose query has equality on a part of
    /// `_id` (`_id.x`) instead of the whole `_id`.
    pub(crate) const NOT_EXACT_VALUE_FIELD: i32 = 111;
    /// `CannotCreateIndex`: an invalid key pattern.
    pub(crate) const CANNOT_CREATE_INDEX: i32 = 67;
    /// `CannotIndexParallelArrays`: a compound index over two array fields of one document.
    pub(crate) const CANNOT_INDEX_PARALLEL_ARRAYS: i32 = 171;
    /// `InvalidIndexSpecificationOption`: `unique` on the `_id` index.
    pub(crate) const INVALID_INDEX_SPECIFICATION_OPTION: i32 = 197;
    /// `Location15974`: a sort value that is not a number.
    pub(crate) const ILLEGAL_SORT_KEY: i32 = 15974;
    /// `Location15975`: a sort number other than 1 or -1.
    pub(crate) const BAD_SORT_ORDER: i32 = 15975;
    /// `Location40352`: a sort path with an empty part, or starting with `$`.
    pub(crate) const INVALID_SORT_PATH: i32 = 40352;
    /// A projection path that collides with another one (`a` and `a.b`).
    pub(crate) const PROJECTION_PATH_COLLISION: i32 = 31250;
    /// An inclusion in an exclusion projection.
    pub(crate) const INCLUSION_IN_EXCLUSION_PROJECTION: i32 = 31253;
    /// An exclusion in an inclusion projection.
    pub(crate) const EXCLUSION_IN_INCLUSION_PROJECTION: i32 = 31254;
}

/// A command failure: the code and message the server would answer with.
///
/// Code 11000 becomes [`Reply::DuplicateKey`], every other code [`Reply::ServerError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EngineError {
    pub(crate) code: i32,
    pub(crate) message: String,
}

/// The result of an engine step.
pub(crate) type EngineResult<T> = Result<T, EngineError>;

impl EngineError {
    /// An error with `code` and `message`.
    pub(crate) fn new(code: i32, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// 2 BadValue.
    pub(crate) fn bad_value(message: impl Into<String>) -> Self {
        Self::new(codes::BAD_VALUE, message)
    }

    /// 238 NotImplemented: MongoDB has the feature, this engine does not.
    pub(crate) fn not_implemented(what: impl std::fmt::Display) -> Self {
        Self::new(codes::NOT_IMPLEMENTED, format!("{what} is not implemented by the in-memory engine"))
    }

    /// 11000 duplicate key.
    pub(crate) fn duplicate_key(message: impl Into<String>) -> Self {
        Self::new(codes::DUPLICATE_KEY, message)
    }

    /// The reply a client sees.
    pub(crate) fn into_reply(self) -> Reply {
        if self.code == codes::DUPLICATE_KEY {
            Reply::DuplicateKey { message: self.message }
        } else {
            Reply::ServerError { code: self.code, message: self.message }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_key_becomes_its_own_reply() {
        assert_eq!(
            EngineError::duplicate_key("E11000 x").into_reply(),
            Reply::DuplicateKey { message: "E11000 x".into() }
        );
        assert_eq!(
            EngineError::bad_value("nope").into_reply(),
            Reply::ServerError { code: codes::BAD_VALUE, message: "nope".into() }
        );
    }
}
