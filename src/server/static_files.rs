//! The built browser app (`dist/`): each file sent as compressed at build time (brotli, else
//! gzip, when the browser accepts it), files whose names carry a content hash cached for a
//! year, everything else revalidated on every load, and any path that is not a file answered
//! with `index.html` (the app's own routes).

use std::path::Path;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};

/// A hashed file never changes under its name: a new build has new names.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `index.html`, the service worker and the unhashed assets: ask each time (a 304 when unchanged),
/// so a new release reaches everyone on their next load.
const REVALIDATE: &str = "no-cache";

/// The app's files under `dist`, for the router's fallback.
pub fn router<S: Clone + Send + Sync + 'static>(dist: &Path) -> Router<S> {
    let index = ServeFile::new(dist.join("index.html"))
        .precompressed_br()
        .precompressed_gzip();
    let files = ServeDir::new(dist)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(index);
    Router::new()
        .fallback_service(files)
        .layer(axum::middleware::from_fn(cache_policy))
}

/// Whether a file name carries Trunk's content hash: `name-<hex digits>` before the
/// extension (`app-b2c90e6d25a7e706.css`, `mdt-web-be88796753f60311_bg.wasm`). Trunk writes
/// its 64-bit hash without leading zeros, so it has 16 digits or fewer (15 in one build of 16);
/// 12 is the fewest taken as a hash (fewer happens once in 65,536 builds, and then the file
/// is only not cached for long), so a plain name like `logo-face.svg` is never cached for ever.
pub fn is_fingerprinted(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let Some(dash) = name.rfind('-') else {
        return false;
    };
    let rest = &name.as_bytes()[dash + 1..];
    let digits = rest.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    (12..=16).contains(&digits) && matches!(rest.get(digits), Some(b'.' | b'_'))
}

/// Sets how long a response may be cached. A hashed name that is not a file (an old build's
/// wasm, say) is a 404, never `index.html` cached for a year under that name.
async fn cache_policy(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let fingerprinted = is_fingerprinted(&path);
    let fell_back_to_index = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"))
        && !path.ends_with(".html");
    if fingerprinted && fell_back_to_index {
        return (
            StatusCode::NOT_FOUND,
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
            Body::from("Not found"),
        )
            .into_response();
    }
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if fingerprinted { IMMUTABLE } else { REVALIDATE }),
    );
    // The same name is sent in different encodings: caches must tell them apart.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_told_from_plain_ones() {
        for hashed in [
            "/app-b2c90e6d25a7e706.css",
            "/mdt-web-be88796753f60311_bg.wasm",
            "/mdt-web-be88796753f60311.js",
            "/boot-64d77ae44dc918a5.js",
            // Trunk drops a hash's leading zeros: 15 digits in one build of 16 (this broke a
            // release build once the splitting script expected exactly 16).
            "/app-b2c90e6d25a7e70.css",
            "/mdt-web-63d4665ba511f27_bg.wasm",
            "/mdt-web-chunk_12-63d4665ba511f27.wasm",
            "/mdt-web-3d4665ba511f.js",
        ] {
            assert!(is_fingerprinted(hashed), "{hashed}");
        }
        for plain in [
            "/",
            "/index.html",
            "/sw.js",
            "/assets/favicons/favicon.ico",
            "/teams/6b1a3c1e-7b1f-4e1e-9a55-3f1f5c2f3d1a",
            "/app-b2c90e6d25a.css",
            "/assets/nhs-logo-face.svg",
            "/app-b2c90e6d25a7e706f.css",
            "/app-b2c90e6d25a7e7zz.css",
            "/app-b2c90e6d25a7e706",
            "/-",
        ] {
            assert!(!is_fingerprinted(plain), "{plain}");
        }
    }
}
