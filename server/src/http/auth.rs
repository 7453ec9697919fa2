//! API-key authentication, as one middleware over every API route.
//!
//! The scope a request needs follows from its method — `GET`, `HEAD` and
//! `OPTIONS` need `read`, every other method `write` — except for the few
//! routes in [`ADMIN_ROUTES`] (bulk deletes and overwrites) that need
//! `admin`, and the [`OPEN_ROUTES`] (probes) that need nothing. A route
//! added later is therefore protected without being listed anywhere.
//!
//! Keys travel as `Authorization: Bearer <key>` and are never logged. No key
//! → 401 with `WWW-Authenticate: Bearer`; a key without the scope → 403.
//! On by default when `APP_ENV` is `production` or `staging`
//! (`AUTH_ENABLED` overrides).

use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{
    apikeys::{Scope, Verifier},
    problem::Problem,
    state::AppState,
};

/// Routes anyone may call (liveness and readiness probes).
pub const OPEN_ROUTES: [&str; 2] = ["/health", "/health/ready"];

/// Routes that need the `admin` scope: they delete or overwrite data in
/// bulk.
pub const ADMIN_ROUTES: [(Method, &str); 5] = [
    (Method::POST, "/seeder/generate"),
    (Method::POST, "/seeder/append"),
    (Method::POST, "/seeder/phase2-enrichment"),
    (Method::DELETE, "/seeder/data"),
    (Method::PATCH, "/config/ai"),
];

/// The scope `method route` needs; `None` for an open route.
pub fn required_scope(method: &Method, route: &str) -> Option<Scope> {
    if OPEN_ROUTES.contains(&route) {
        return None;
    }
    if ADMIN_ROUTES.iter().any(|(m, r)| m == method && *r == route) {
        return Some(Scope::Admin);
    }
    Some(match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => Scope::Read,
        _ => Scope::Write,
    })
}

/// The middleware; does nothing when authentication is off.
pub async fn require_api_key(
    State((state, verifier)): State<(AppState, Verifier)>,
    request: Request,
    next: Next,
) -> Response {
    if !state.settings.auth_enabled {
        return next.run(request).await;
    }
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_default();
    let Some(needed) = required_scope(request.method(), &route) else {
        return next.run(request).await;
    };
    let Some(key) = bearer(&request) else {
        return unauthorized("This route needs an API key: send `Authorization: Bearer <key>`.");
    };
    match verifier.scope_of(&state.db, key).await {
        Err(error) => {
            Problem::database(&error, "The API key could not be checked.").into_response()
        }
        Ok(None) => unauthorized("The API key is unknown, revoked or malformed."),
        Ok(Some(scope)) if scope < needed => Problem::forbidden(format!(
            "This route needs an API key with scope '{needed}'; this key has '{scope}'."
        ))
        .with_extension("required_scope", needed.as_str())
        .into_response(),
        Ok(Some(_)) => next.run(request).await,
    }
}

fn bearer(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

fn unauthorized(detail: &str) -> Response {
    let mut response =
        Problem::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", detail).into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_follows_the_method_unless_listed() {
        assert_eq!(
            required_scope(&Method::GET, "/analytics/kpis"),
            Some(Scope::Read)
        );
        assert_eq!(required_scope(&Method::POST, "/jobs"), Some(Scope::Write));
        assert_eq!(
            required_scope(&Method::PATCH, "/anything/new"),
            Some(Scope::Write)
        );
        assert_eq!(
            required_scope(&Method::DELETE, "/seeder/data"),
            Some(Scope::Admin)
        );
        assert_eq!(required_scope(&Method::GET, "/health"), None);
        assert_eq!(
            required_scope(&Method::GET, "/seeder/status"),
            Some(Scope::Read)
        );
    }
}
