//! PLACEHOLDER: the Tencent part of the emulator is being written (see the issue for it).

use axum::Router;

use crate::AppState;

#[derive(Debug, Clone, Default)]
pub struct TencentConfig {}

pub struct TencentState {}

impl TencentState {
    pub fn new(_config: &TencentConfig) -> Self {
        TencentState {}
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
}

pub async fn api() -> &'static str {
    "{}"
}
