//! Cross-origin calls from browsers (ColonyOS's web UI and its JavaScript SDKs call `/api`
//! from a page served elsewhere). The original answers CORS for any origin, preflights
//! included (§1.1); `--cors-origins` restricts that to a list. The `/pubsub` websocket
//! checks the same list, since browsers send websockets no preflight.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may cache a preflight's answer: 12 hours, as the original.
pub const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(12 * 60 * 60);

/// The origins whose pages may call the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// Any origin, as the original (the default).
    Any,
    /// Only these (`scheme://host[:port]`, as browsers send them in `Origin`).
    Only(Vec<HeaderValue>),
}

impl AllowedOrigins {
    /// From `--cors-origins`: empty or `*` allows any origin.
    pub fn from_list(origins: &[String]) -> AllowedOrigins {
        if origins.is_empty() || origins.iter().any(|o| o == "*") {
            return AllowedOrigins::Any;
        }
        AllowedOrigins::Only(
            origins.iter().map(|o| HeaderValue::from_str(o).expect("checked by parse_origin")).collect(),
        )
    }

    /// Whether a request with these headers may be served: calls without an `Origin`
    /// (the CLI, the SDKs, peers) always may.
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        match (self, headers.get(header::ORIGIN)) {
            (AllowedOrigins::Any, _) | (_, None) => true,
            (AllowedOrigins::Only(list), Some(origin)) => list.contains(origin),
        }
    }

    /// The layer that answers preflights and adds the CORS headers, with the methods,
    /// headers and cache time the original sends.
    pub fn layer(&self) -> CorsLayer {
        let origins = match self {
            AllowedOrigins::Any => AllowOrigin::any(),
            AllowedOrigins::Only(list) => AllowOrigin::list(list.clone()),
        };
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
                Method::HEAD,
                Method::OPTIONS,
            ])
            .allow_headers([HeaderName::from_static("origin"), header::CONTENT_LENGTH, header::CONTENT_TYPE])
            .max_age(PREFLIGHT_MAX_AGE)
    }
}

/// Parses one entry of `--cors-origins`: `*`, or an origin as browsers send it
/// (`http://host:port`, no path, no trailing slash).
pub fn parse_origin(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text == "*" {
        return Ok(text.into());
    }
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"))
        .ok_or_else(|| format!("origin {text:?} does not start with http:// or https://"))?;
    if rest.is_empty() || rest.contains('/') {
        return Err(format!("origin {text:?} must be scheme://host[:port], without a path or a trailing /"));
    }
    HeaderValue::from_str(text).map_err(|_| format!("origin {text:?} holds characters a header cannot carry"))?;
    Ok(text.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_origin(origin: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        headers
    }

    #[test]
    fn origins_parse_and_bad_ones_are_explained() {
        assert_eq!(parse_origin(" https://ui.example.org:8080 ").unwrap(), "https://ui.example.org:8080");
        assert_eq!(parse_origin("*").unwrap(), "*");
        assert!(parse_origin("ui.example.org").unwrap_err().contains("http:// or https://"));
        assert!(parse_origin("http://ui.example.org/").unwrap_err().contains("trailing"));
        assert!(parse_origin("http://").unwrap_err().contains("scheme://host"));
        assert!(parse_origin("http://a\u{7f}b").unwrap_err().contains("header"));
    }

    #[test]
    fn any_is_the_default_and_a_list_admits_only_its_origins() {
        assert_eq!(AllowedOrigins::from_list(&[]), AllowedOrigins::Any);
        assert_eq!(AllowedOrigins::from_list(&["http://a".into(), "*".into()]), AllowedOrigins::Any);
        let only = AllowedOrigins::from_list(&["http://a:1".into()]);
        assert!(only.admits(&with_origin("http://a:1")));
        assert!(!only.admits(&with_origin("http://a:2")));
        assert!(only.admits(&HeaderMap::new()), "calls without an Origin are not from a browser page");
        assert!(AllowedOrigins::Any.admits(&with_origin("http://anything")));
    }
}
