//! Request signers, as pure functions of (request, credentials, time): no clock, no I/O, so they
//! can be tested byte for byte against the clouds' published examples and official-SDK vectors.

pub mod huawei;
pub mod tencent;
