//! PLACEHOLDER: Huawei SDK-HMAC-SHA256 signer (being written).
