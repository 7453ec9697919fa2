//! The dashboard's static files, embedded in the binary.
//!
//! Each file is served at `/ui/static/<hash>/<name>`, where `<hash>` is the
//! first 12 hex digits of the SHA-256 of its bytes: a URL names exactly one
//! content, so it is cached as `immutable` for a year, and a new build with
//! changed files gets new URLs. A request with an outdated hash still gets
//! the current file, but revalidated (`no-cache`) instead of immutable.
//! `ETag` is the hash; a matching `If-None-Match` gets 304.

use std::sync::LazyLock;

use axum::{
    extract::Path,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use sha2::{Digest, Sha256};

use crate::{problem::Problem, state::AppState};

/// One embedded file.
#[derive(Debug)]
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!("static/", $name)),
        }
    };
}

/// Every static file. Vendored libraries keep their version in the name and
/// their licence beside them.
static ASSETS: &[Asset] = &[
    asset!("dashboard.css", "text/css; charset=utf-8"),
    asset!("dashboard.js", "text/javascript; charset=utf-8"),
    asset!("charts.js", "text/javascript; charset=utf-8"),
    asset!("pages/overview.js", "text/javascript; charset=utf-8"),
    asset!("pages/forecast.js", "text/javascript; charset=utf-8"),
    asset!("pages/backtest.js", "text/javascript; charset=utf-8"),
    asset!("pages/registry.js", "text/javascript; charset=utf-8"),
    asset!("pages/jobs.js", "text/javascript; charset=utf-8"),
    asset!("pages/scenarios.js", "text/javascript; charset=utf-8"),
    asset!("pages/knowledge.js", "text/javascript; charset=utf-8"),
    asset!("pages/showcase.js", "text/javascript; charset=utf-8"),
    asset!(
        "vendor/uplot-1.6.32.iife.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("vendor/uplot-1.6.32.min.css", "text/css; charset=utf-8"),
    asset!("vendor/uplot-LICENSE", "text/plain; charset=utf-8"),
    asset!(
        "vendor/htmx-2.0.11.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("vendor/htmx-LICENSE", "text/plain; charset=utf-8"),
];

/// The content hash of each entry of [`ASSETS`], computed once.
static HASHES: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| hex::encode(&Sha256::digest(asset.bytes)[..6]))
        .collect()
});

fn find(name: &str) -> Option<(&'static Asset, &'static str)> {
    ASSETS
        .iter()
        .zip(HASHES.iter())
        .find(|(asset, _)| asset.name == name)
        .map(|(asset, hash)| (asset, hash.as_str()))
}

/// The URL of the static file `name` (a name that is not embedded gets a
/// URL that answers 404, which the browser tests report).
pub(super) fn url(name: &str) -> String {
    let hash = find(name).map_or("missing", |(_, hash)| hash);
    format!("/ui/static/{hash}/{name}")
}

/// `GET /ui/static/{hash}/{*name}`.
pub(super) fn router() -> Router<AppState> {
    Router::new().route("/ui/static/{hash}/{*name}", get(serve))
}

async fn serve(
    Path((hash, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (asset, current) =
        find(&name).ok_or_else(|| Problem::not_found(format!("No static file {name}.")))?;
    let etag = format!("\"{current}\"");
    let cache = if hash == current {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let headers_out = [
        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        (
            header::ETAG,
            HeaderValue::from_str(&etag).map_err(Problem::internal)?,
        ),
    ];
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag));
    if fresh {
        return Ok((StatusCode::NOT_MODIFIED, headers_out).into_response());
    }
    Ok((
        headers_out,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        )],
        asset.bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_distinct_content_url() {
        let urls: Vec<String> = ASSETS.iter().map(|asset| url(asset.name)).collect();
        for (asset, url) in ASSETS.iter().zip(&urls) {
            let hash = hex::encode(&Sha256::digest(asset.bytes)[..6]);
            assert_eq!(url, &format!("/ui/static/{hash}/{}", asset.name));
        }
        let mut unique = urls.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), urls.len());
        assert_eq!(url("nope.js"), "/ui/static/missing/nope.js");
    }

    #[test]
    fn vendored_libraries_ship_with_their_licences() {
        for licence in ["vendor/uplot-LICENSE", "vendor/htmx-LICENSE"] {
            let (asset, _) = find(licence).expect("licence embedded");
            assert!(std::str::from_utf8(asset.bytes)
                .unwrap()
                .contains("Permission"));
        }
    }
}
