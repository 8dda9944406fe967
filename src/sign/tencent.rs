//! PLACEHOLDER: Tencent TC3-HMAC-SHA256 signer (being written).
