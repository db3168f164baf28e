//! How routes are declared: one [`Endpoint`] per path, one call per method. Declaring routes
//! through it gives every endpoint the same behaviour (405 in the error shape for other methods,
//! `HEAD` answered as `GET` without the body, RFC 9110 §9.3.2) and lets [`route_table`] list
//! what is served, so the OpenAPI document is checked against the routes themselves.

use std::cell::RefCell;

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, HttpResponse, Responder};

use crate::error::ApiError;

thread_local! {
    /// While [`route_table`] runs: the scope prefixes entered and the routes declared so far.
    static RECORDING: RefCell<Option<Recording>> = const { RefCell::new(None) };
}

#[derive(Default)]
struct Recording {
    prefixes: Vec<String>,
    routes: Vec<(Method, String)>,
}

fn record(method: &Method, path: &str) {
    RECORDING.with(|recording| {
        if let Some(recording) = recording.borrow_mut().as_mut() {
            let full = format!("{}{path}", recording.prefixes.concat());
            recording.routes.push((method.clone(), full));
        }
    });
}

/// Every `(method, path template)` that `configure` serves, in declaration order (`HEAD` only
/// where a route declares its own). Runs `configure` on a throwaway app: actix runs
/// configuration functions at once, so the table is what a server would mount.
pub fn route_table(configure: fn(&mut web::ServiceConfig)) -> Vec<(Method, String)> {
    RECORDING.with(|recording| *recording.borrow_mut() = Some(Recording::default()));
    drop(actix_web::App::new().configure(configure));
    RECORDING.with(|recording| recording.borrow_mut().take().map(|r| r.routes).unwrap_or_default())
}

/// A scope under `prefix` whose unknown paths answer 404 in the JSON error shape; routes that
/// `configure` declares are recorded under the prefix.
pub fn scope(prefix: &str, configure: impl FnOnce(&mut web::ServiceConfig)) -> actix_web::Scope {
    RECORDING.with(|recording| {
        if let Some(recording) = recording.borrow_mut().as_mut() {
            recording.prefixes.push(prefix.to_owned());
        }
    });
    let scope = web::scope(prefix)
        .default_service(web::to(|| async { Err::<HttpResponse, _>(ApiError::RouteNotFound) }))
        .configure(configure);
    RECORDING.with(|recording| {
        if let Some(recording) = recording.borrow_mut().as_mut() {
            recording.prefixes.pop();
        }
    });
    scope
}

/// The routes of one path. Other methods answer 405 in the JSON error shape.
pub struct Endpoint {
    path: String,
    routes: Vec<(Method, actix_web::Route)>,
    /// `HEAD` routes made from `GET` ones, mounted after any declared `HEAD`.
    implied_heads: Vec<actix_web::Route>,
}

/// Starts the routes of `path` (relative to the enclosing scope).
pub fn endpoint(path: &str) -> Endpoint {
    Endpoint { path: path.to_owned(), routes: Vec::new(), implied_heads: Vec::new() }
}

macro_rules! method {
    ($(#[$doc:meta])* $name:ident, $method:ident) => {
        $(#[$doc])*
        pub fn $name<F, Args>(self, handler: F) -> Self
        where
            F: Handler<Args>,
            Args: FromRequest + 'static,
            F::Output: Responder + 'static,
        {
            self.with(Method::$method, handler)
        }
    };
}

impl Endpoint {
    fn with<F, Args>(mut self, method: Method, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        record(&method, &self.path);
        if method == Method::GET {
            self.implied_heads.push(web::head().to(handler.clone()));
        }
        self.routes.push((method.clone(), web::method(method).to(handler)));
        self
    }

    method!(
        /// Serves `GET` (and `HEAD`, unless declared).
        get, GET
    );
    method!(
        /// Serves `POST`.
        post, POST
    );
    method!(
        /// Serves `PUT`.
        put, PUT
    );
    method!(
        /// Serves `PATCH`.
        patch, PATCH
    );
    method!(
        /// Serves `DELETE`.
        delete, DELETE
    );
    method!(
        /// Serves `HEAD` with its own handler.
        head, HEAD
    );
}

impl HttpServiceFactory for Endpoint {
    fn register(self, config: &mut AppService) {
        let mut resource = web::resource(self.path)
            .default_service(web::to(|| async { Err::<HttpResponse, _>(ApiError::MethodNotAllowed) }));
        for (_, route) in self.routes {
            resource = resource.route(route);
        }
        // actix tries a resource's routes in order: a declared HEAD comes first.
        for route in self.implied_heads {
            resource = resource.route(route);
        }
        resource.register(config);
    }
}
