//! Store errors. Every variant names the input, file or store it is about.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A record or query field had a bad value. Maps to HTTP 400.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },

    /// A JSON store file (or its journal) could not be parsed. Nothing is
    /// written to it until the user repairs or moves it.
    #[error("store file {path} is corrupt: {message}")]
    Corrupt { path: PathBuf, message: String },

    /// An operating-system error on a store file or directory.
    #[error("store file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A database error, with the store (or URL, password removed) it hit.
    #[error("{store}: {message}")]
    Database { store: String, message: String },

    /// A configuration error (bad environment variable, bad URL).
    #[error("{0}")]
    Config(String),

    /// A backup or restore problem.
    #[error("{0}")]
    Backup(String),

    /// The store's writer stopped (the process is shutting down).
    #[error("store {0} is closed")]
    Closed(String),
}

impl StoreError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> StoreError {
        StoreError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }

    /// True for errors caused by the caller's input (HTTP 4xx).
    pub fn is_client_error(&self) -> bool {
        matches!(self, StoreError::Invalid { .. })
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
