//! The command tree (being written).
