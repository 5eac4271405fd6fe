//! The conformance server binary: serves [`ferrio_tests::conformance::app`] on
//! `127.0.0.1:$PORT` (default 3000; 0 picks a free port, printed on the first line).
//!
//! With `REDIS_URL` set it joins that Redis cluster
//! ([`ferrio_tests::conformance::clustered_app`]), taking forwarded requests at `NODE_ADDR`
//! (default: the bound address), keys prefixed with `CLUSTER_PREFIX` (default `conformance`).

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let listener = ferrio_tests::listen(port)?;
    let app = match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => {
            let addr = match std::env::var("NODE_ADDR").ok().and_then(|a| a.parse().ok()) {
                Some(addr) => addr,
                None => listener.local_addr()?,
            };
            let prefix = std::env::var("CLUSTER_PREFIX").unwrap_or_else(|_| "conformance".into());
            ferrio_tests::conformance::clustered_app(&url, addr, &prefix)
                .await
                .map_err(std::io::Error::other)?
        }
        _ => ferrio_tests::conformance::app(),
    };
    println!("conformance server listening on http://{}", listener.local_addr()?);
    ferrio_tests::conformance::serve(listener, app.router).await
}
