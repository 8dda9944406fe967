//! Output renderers (being written).
