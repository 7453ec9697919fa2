//! The accept loop: HTTP/1.1 connections (with upgrades, for WebSockets)
//! served by hyper with a header read timeout, and a graceful shutdown that
//! lets in-flight requests finish within a grace period.
//!
//! `axum::serve` cannot set hyper's header read timeout, so a client that
//! opens connections and never finishes its headers (slowloris) would hold
//! them forever; here such a connection (and an idle keep-alive one) is
//! closed after `HEADER_READ_TIMEOUT_SECONDS`.

use std::{future::Future, sync::Arc, time::Duration};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::watch, task::JoinSet};

/// Connection settings of [`serve`].
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Longest time a client may take to send a request's headers (and the
    /// longest a keep-alive connection may sit idle).
    pub header_read_timeout: Duration,
    /// How long in-flight requests may run after shutdown was requested.
    pub shutdown_grace: Duration,
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops
/// accepting, asks every connection to close after its current request,
/// and waits up to the grace period for them.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        // Out of file descriptors and the like: back off
                        // instead of spinning.
                        tracing::warn!(%error, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(app.clone());
                let builder = builder.clone();
                let mut stopped = stopped.clone();
                connections.spawn(async move {
                    let connection = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .with_upgrades();
                    tokio::pin!(connection);
                    tokio::select! {
                        _ = connection.as_mut() => return,
                        _ = stopped.wait_for(|stop| *stop) => {}
                    }
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            remaining = connections.len(),
            "grace period over; closing the remaining connections"
        );
        connections.shutdown().await;
    }
    Ok(())
}
