//! PLACEHOLDER: the Nova part of the emulator is being written (see the issue for it).

use axum::Router;

use crate::AppState;

#[derive(Debug, Clone, Default)]
pub struct NovaConfig {}

pub struct NovaState {}

impl NovaState {
    pub fn new(_config: &NovaConfig) -> Self {
        NovaState {}
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
}

pub async fn versions_root() -> &'static str {
    "{}"
}
