//! A fresh PostgreSQL database per test on the local service
//! (`TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`),
//! shared by the multi-process tests.

use sqlx::Connection;

/// The admin URL of the PostgreSQL service.
pub(crate) fn admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn database_url(name: &str) -> String {
    let admin = admin_url();
    let (base, query) = match admin.split_once('?') {
        Some((base, query)) => (base.to_owned(), Some(query.to_owned())),
        None => (admin.clone(), None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(slash) => base[..scheme_end + slash].to_owned(),
        None => base,
    };
    match query {
        Some(query) => format!("{root}/{name}?{query}"),
        None => format!("{root}/{name}"),
    }
}

/// A fresh database, dropped (with its connections) when this goes away.
pub(crate) struct TempDatabase {
    name: String,
    /// Its URL.
    pub(crate) url: String,
}

impl TempDatabase {
    /// Creates it.
    pub(crate) async fn create() -> Self {
        let name = format!("forecastlab_workers_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url())
            .await
            .expect("PostgreSQL must be reachable for the worker process tests");
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .expect("create database");
        Self {
            url: database_url(&name),
            name,
        }
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url()).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut admin)
                            .await;
                }
            });
        })
        .join();
    }
}
