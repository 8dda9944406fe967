//! The request and reply bodies of DescribeKeyPairs, as serde types.

use serde::{Deserialize, Serialize};

#[derive(Debug, Default)]
pub(super) struct Selector {
    pub(super) key_ids: Vec<String>,
    pub(super) filters: Vec<Filter>,
}

#[derive(Debug, Serialize)]
pub(super) struct Filter {
    #[serde(rename = "Name")]
    pub(super) name: &'static str,
    #[serde(rename = "Values")]
    pub(super) values: Vec<String>,
}

impl Filter {
    pub(super) fn new(name: &'static str, value: &str) -> Self {
        Filter {
            name,
            values: vec![value.to_string()],
        }
    }
}

/// Never both KeyIds and Filters: the API refuses the pair.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RequestBody<'a> {
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub(super) key_ids: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub(super) filters: &'a [Filter],
    pub(super) offset: u64,
    pub(super) limit: u32,
}

#[derive(Debug, Deserialize)]
pub(super) struct Envelope<T> {
    #[serde(rename = "Response")]
    pub(super) response: T,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PageResponse {
    /// Set on a refused request: the judge then reads the reply as [`ErrorPart`].
    pub(super) error: Option<ApiError>,
    pub(super) total_count: Option<u64>,
    #[serde(default)]
    pub(super) key_pair_set: Option<Vec<TcKeyPair>>,
    pub(super) request_id: Option<String>,
}

/// Every field is optional in the SDK (`omitnil`): take what comes.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TcKeyPair {
    pub(super) key_id: Option<String>,
    pub(super) key_name: Option<String>,
    /// An int64 in the SDK; accepted as a number or a string.
    pub(super) project_id: Option<serde_json::Value>,
    pub(super) description: Option<String>,
    pub(super) public_key: Option<String>,
    pub(super) associated_instance_ids: Option<Vec<String>>,
    pub(super) created_time: Option<String>,
    pub(super) tags: Option<Vec<Tag>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Tag {
    pub(super) key: String,
    pub(super) value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ErrorPart {
    pub(super) error: Option<ApiError>,
    pub(super) request_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ApiError {
    pub(super) code: String,
    #[serde(default)]
    pub(super) message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_body_never_mixes_key_ids_and_filters() {
        let filters = [Filter::new("key-name", "a")];
        let body = RequestBody {
            key_ids: &[],
            filters: &filters,
            offset: 100,
            limit: 100,
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"Filters":[{"Name":"key-name","Values":["a"]}],"Offset":100,"Limit":100}"#
        );
        let ids = ["skey-12345678".to_string()];
        let body = RequestBody {
            key_ids: &ids,
            filters: &[],
            offset: 0,
            limit: 100,
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"KeyIds":["skey-12345678"],"Offset":0,"Limit":100}"#
        );
    }
}
