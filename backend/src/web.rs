//! One origin for the browser: the built frontend and the gRPC services.
//!
//! * `/bank.v1.Lab/*` and `/bank.v1.Customer/*`: gRPC, reachable both as
//!   grpc-web (HTTP/1.1, what browsers speak, through tonic-web) and as
//!   native gRPC (HTTP/2), over every lab of the server ([`Labs`]; each
//!   call names its lab in the `x-lab-id` header). `Customer` is the
//!   [`Gateway`] into a lab's cluster; the branches' `Replica` and `Admin` services are not served
//!   here (browsers have no business with them).
//! * everything else: static files from the frontend's `dist/` directory
//!   (gzip-compressed when the browser accepts it), with `index.html` for
//!   unknown paths so the single-page app handles them.
//!
//! In production the page and the services share this origin, so no CORS
//! is needed; only the origins given as `dev_origins` (the `trunk serve`
//! development server) are allowed cross-origin.

use std::future::Future;
use std::path::{Path, PathBuf};

use axum::response::Html;
use axum::Router;
use bank_proto::customer_server::CustomerServer;
use bank_proto::lab_server::LabServer;
use http::{HeaderName, HeaderValue, Method};
use tokio::net::TcpListener;
use tonic_web::GrpcWebLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};

use crate::lab::gateway::Gateway;
use crate::lab::registry::Labs;
use crate::lab::service::LabService;

/// The page shown when the frontend has not been built.
const NOT_BUILT: &str = r#"<!doctype html><meta charset="utf-8"><title>bank-sim</title>
<body style="font: 18px system-ui; max-width: 40em; margin: 3em auto">
<h1>bank-sim</h1><p>The cluster and its gRPC services are running, but the visualizer has not
been built. Build and serve it with <code>cargo xtask serve</code>, or pass the directory of a
<code>trunk build</code> with <code>bank serve --dist DIR</code>.</p></body>"#;

/// The whole web application for `labs`, with static files from `dist`.
pub fn router(labs: Labs, dist: &Path, dev_origins: &[HeaderValue]) -> Router {
    let grpc = tonic::service::Routes::new(LabServer::new(LabService::new(labs.clone())))
        .add_service(CustomerServer::new(Gateway::new(labs)))
        .prepare()
        .into_axum_router()
        // grpc-web on the gRPC routes only: as a layer over everything it
        // would answer 400 to ordinary page requests.
        .route_layer(GrpcWebLayer::new());

    let app = if dist.join("index.html").is_file() {
        let files = ServeDir::new(dist).fallback(ServeFile::new(dist.join("index.html")));
        let files = tower::ServiceBuilder::new().layer(CompressionLayer::new()).service(files);
        grpc.fallback_service(files)
    } else {
        // `bank serve` says so once, with how to build it.
        tracing::debug!("{} has no index.html: serving a placeholder page", dist.display());
        grpc.fallback(|| async { Html(NOT_BUILT) })
    };

    if dev_origins.is_empty() {
        app
    } else {
        app.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(dev_origins.iter().cloned()))
                .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
                .allow_headers(tower_http::cors::Any)
                .expose_headers([
                    HeaderName::from_static("grpc-status"),
                    HeaderName::from_static("grpc-message"),
                    HeaderName::from_static("grpc-status-details-bin"),
                ]),
        )
    }
}

/// Where `bank serve` looks for the built frontend by default.
pub fn default_dist() -> PathBuf {
    PathBuf::from("dist")
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
