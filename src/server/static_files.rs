//! The built browser app (`dist/`): each file sent as compressed at build time (brotli, else
//! gzip, when the browser accepts it), files whose names carry a content hash cached for a
//! year, everything else revalidated on every load, and any path that is not a file answered
//! with the app's first page (the app's own routes).
//!
//! The first page paints before the app's code arrives (a static shell; see `index.html`): the
//! sign-in form, or for a request that carries a session cookie `index-signed-in.html`, which
//! says the person's work is opening. Whether the session is still valid does not matter here:
//! the app asks, and an ended session gets the sign-in page a moment later.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use super::auth::session_token;

/// A hashed file never changes under its name: a new build has new names.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `index.html`, the service worker and the unhashed assets: ask each time (a 304 when unchanged),
/// so a new release reaches everyone on their next load.
const REVALIDATE: &str = "no-cache";

/// The app's first page in its two forms (see the module documentation).
#[derive(Clone)]
struct FirstPages {
    signed_out: PathBuf,
    /// `None` for a build without it (an older one): everyone gets the sign-in form's page.
    signed_in: Option<PathBuf>,
}

impl FirstPages {
    fn in_dist(dist: &Path) -> Self {
        let signed_in = dist.join("index-signed-in.html");
        Self {
            signed_out: dist.join("index.html"),
            signed_in: signed_in.is_file().then_some(signed_in),
        }
    }

    /// Sends the page for this request, compressed as the browser accepts.
    async fn send(self, request: Request) -> Response {
        let file = match &self.signed_in {
            Some(page) if carries_session(request.headers()) => page,
            _ => &self.signed_out,
        };
        let mut response = ServeFile::new(file)
            .precompressed_br()
            .precompressed_gzip()
            .oneshot(request)
            .await
            .map(IntoResponse::into_response)
            .unwrap_or_else(|never| match never {});
        // The same address is sent as two pages: caches must tell them apart.
        response.headers_mut().insert(
            header::VARY,
            HeaderValue::from_static("accept-encoding, cookie"),
        );
        response
    }
}

/// Whether the request has a session cookie (valid or not).
fn carries_session(headers: &HeaderMap) -> bool {
    session_token(headers).is_some_and(|token| !token.is_empty())
}

/// The app's files under `dist`, for the router's fallback.
pub fn router<S: Clone + Send + Sync + 'static>(dist: &Path) -> Router<S> {
    let pages = FirstPages::in_dist(dist);
    let first_page = tower::service_fn(move |request: Request| {
        let pages = pages.clone();
        async move { Ok::<_, std::convert::Infallible>(pages.send(request).await) }
    });
    let files = ServeDir::new(dist)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(first_page.clone());
    let first_page = axum::routing::get_service(first_page);
    Router::new()
        .route("/", first_page.clone())
        .route("/index.html", first_page.clone())
        .route("/index-signed-in.html", first_page)
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
    // The same name is sent in different encodings: caches must tell them apart (the first
    // page says so itself, adding the cookie).
    if !headers.contains_key(header::VARY) {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// The body and `Vary` of `path` asked for with these cookies, from a dist holding `files`.
    async fn first_page(files: &[(&str, &str)], path: &str, cookies: &[&str]) -> (String, String) {
        let dist = tempfile::tempdir().unwrap();
        for (name, body) in files {
            std::fs::write(dist.path().join(name), body).unwrap();
        }
        let mut request = Request::get(path);
        for cookie in cookies {
            request = request.header(header::COOKIE, *cookie);
        }
        let response = router::<()>(dist.path())
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path} {cookies:?}");
        let vary = response.headers()[header::VARY]
            .to_str()
            .unwrap()
            .to_owned();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (String::from_utf8(body.to_vec()).unwrap(), vary)
    }

    #[tokio::test]
    async fn a_request_with_a_session_gets_the_opening_page_and_others_the_sign_in_page() {
        let both = [
            ("index.html", "sign-in form"),
            ("index-signed-in.html", "opening"),
        ];
        for path in [
            "/",
            "/index.html",
            "/teams/6b1a3c1e-7b1f-4e1e-9a55-3f1f5c2f3d1a",
        ] {
            for (cookies, expected) in [
                (&[][..], "sign-in form"),
                (&["mdt_session=abc"][..], "opening"),
                (&["theme=dark; mdt_session=abc; other=1"][..], "opening"),
                (&["theme=dark", "mdt_session=abc"][..], "opening"),
                (&["mdt_session="][..], "sign-in form"),
                (&["not_mdt_session=abc"][..], "sign-in form"),
                (&["mdt_sessionx=abc"][..], "sign-in form"),
            ] {
                let (body, vary) = first_page(&both, path, cookies).await;
                assert_eq!(body, expected, "{path} with {cookies:?}");
                assert_eq!(vary, "accept-encoding, cookie", "{path}");
            }
        }
        // The opening page is never sent by its own name to a request without a session.
        let (body, _) = first_page(&both, "/index-signed-in.html", &[]).await;
        assert_eq!(body, "sign-in form");
        // A build without the opening page: the sign-in page for everyone.
        let (body, _) =
            first_page(&[("index.html", "sign-in form")], "/", &["mdt_session=abc"]).await;
        assert_eq!(body, "sign-in form");
    }

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
