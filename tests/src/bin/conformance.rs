//! The conformance server binary: serves [`ferrio_tests::conformance::app`] on
//! `127.0.0.1:$PORT` (default 3000; 0 picks a free port, printed on the first line).

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let listener = ferrio_tests::listen(port)?;
    println!("conformance server listening on http://{}", listener.local_addr()?);
    ferrio_tests::conformance::serve(listener, ferrio_tests::conformance::app().router).await
}
