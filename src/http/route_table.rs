//! Route tables as data: each route is declared once with its method, path, handler and how it
//! is protected against cross-site requests ([`Guard`]). The same declaration registers the
//! route with actix and lists it in a `&[Route]` the tests walk, so a new state-changing route
//! gets its forged-token and missing-token tests without anyone writing them.

/// How a route is protected against requests forged by another site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Changes nothing (GET).
    Read,
    /// An admin session and the session's CSRF token in the form field `csrf`
    /// ([`PageWriter`](crate::http::admin::session::PageWriter)).
    FormCsrf,
    /// An admin session and the session's CSRF token in the `X-CSRF-Token` header
    /// ([`ApiWriter`](crate::http::admin::session::ApiWriter)).
    HeaderCsrf,
    /// No session yet (login, first-admin setup): a browser's `Origin` must be this server.
    SameOrigin,
    /// No session yet, JSON only (the API login): another site's page cannot send JSON here
    /// without a CORS preflight, which the admin area never answers.
    JsonOnly,
    /// The signed token in the path is the authority (links in mails).
    SignedLink,
    /// The comment's edit token in the `X-Edit-Token` header is the authority (a reader
    /// editing or deleting their own comment).
    EditToken,
    /// A signed-in reader's session token in the `Authorization: Bearer` header is the
    /// authority ([`SignedInReader`](crate::http::reader::SignedInReader)); no cookie is read,
    /// so a request forged by another site carries none.
    ReaderSession,
    /// Anyone may call it and it reads no cookie, so a request forged by another site carries
    /// no authority the attacker lacks; spam defences and rate limits apply instead.
    Anonymous,
}

/// One registered route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Lowercase HTTP method, as in `web::post()`: `get`, `post`, `put`, `patch`, `delete`.
    pub method: &'static str,
    /// The full path pattern, with actix placeholders such as `{id}`.
    pub path: &'static str,
    pub guard: Guard,
}

impl Route {
    /// Whether the route may change state (anything but GET).
    pub fn writes(&self) -> bool {
        self.method != "get"
    }
}

/// Declares a route table: a `pub const $table: &[Route]` (paths prefixed with `$prefix`) and
/// `fn $register(&mut web::ServiceConfig)` registering the same routes (paths relative to the
/// enclosing scope).
///
/// ```ignore
/// route_table! {
///     PAGE_ROUTES, register_pages, "/admin";
///     get "/comments" => pages::queue, Read;
///     post "/comments" => pages::moderate_comments, FormCsrf;
/// }
/// ```
#[macro_export]
macro_rules! route_table {
    ($table:ident, $register:ident, $prefix:literal;
     $( $method:ident $path:literal => $handler:path, $guard:ident; )*) => {
        pub const $table: &[$crate::http::route_table::Route] = &[$(
            $crate::http::route_table::Route {
                method: stringify!($method),
                path: concat!($prefix, $path),
                guard: $crate::http::route_table::Guard::$guard,
            }
        ),*];

        fn $register(cfg: &mut ::actix_web::web::ServiceConfig) {
            $( cfg.route($path, ::actix_web::web::$method().to($handler)); )*
        }
    };
}
