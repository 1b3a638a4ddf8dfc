//! Everything outside the API: the packed SDK and the dashboard's files (its `index.html` for
//! the routes the app handles in the browser).

use crate::error::Error;
use crate::{AppState, headers};

/// The packed SDK packages `/sdk/` serves (from `Config::sdk_dir`).
pub const SDK_TARBALLS: [&str; 2] = ["authstack-client.tgz", "authstack-react.tgz"];

/// Paths outside the API: the packed SDK, the dashboard's files, and its `index.html` for the routes the app
/// handles in the browser. API paths (and everything without a dashboard) are a JSON 404.
pub async fn dashboard(
    axum::extract::State(app): axum::extract::State<AppState>,
    request: axum::http::Request<axum::body::Body>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    use tower::ServiceExt;
    let path = request.uri().path();
    // `//assets` would make the file service redirect to `//assets/`, a protocol-relative URL
    // that browsers read as another host.
    let api = headers::is_api(path) || path.starts_with("/sdk/") || path.starts_with("//");
    let read = matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    if let (Some(dir), Some(name), true) = (&app.config.sdk_dir, path.strip_prefix("/sdk/"), read)
        && SDK_TARBALLS.contains(&name)
        && dir.join(name).is_file()
    {
        return match tower_http::services::ServeFile::new(dir.join(name))
            .oneshot(request)
            .await
        {
            Ok(response) => response.into_response(),
            Err(err) => Error::Internal(anyhow::anyhow!("serving the SDK: {err}")).into_response(),
        };
    }
    match &app.config.dashboard_dir {
        Some(dir) if !api && read => {
            let index = tower_http::services::ServeFile::new(dir.join("index.html"));
            match tower_http::services::ServeDir::new(dir)
                .fallback(index)
                .oneshot(request)
                .await
            {
                Ok(response) => response.into_response(),
                Err(err) => {
                    Error::Internal(anyhow::anyhow!("serving the dashboard: {err}")).into_response()
                }
            }
        }
        _ => Error::NotFound("route").into_response(),
    }
}
