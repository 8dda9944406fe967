//! Fan-out over profiles and regions (being written).
