//! PLACEHOLDER: the Huawei part of the emulator is being written (see the issue for it).

use axum::Router;

use crate::AppState;

#[derive(Debug, Clone, Default)]
pub struct HuaweiConfig {}

pub struct HuaweiState {}

impl HuaweiState {
    pub fn new(_config: &HuaweiConfig) -> Self {
        HuaweiState {}
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
}
