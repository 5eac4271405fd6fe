//! The admin UI test server ([`ferrio_tests::admin_ui`]) on `127.0.0.1:$PORT` (default 3000;
//! 0 picks a free port, printed on the first line). `ADMIN_PASSWORD` is the password of user
//! `admin` (default `changeit`); `ADMIN_UI_DIST` the folder of the UI's files (default the
//! `@socket.io/admin-ui` package installed in `tests/browser/node_modules`).

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let password = std::env::var("ADMIN_PASSWORD").unwrap_or_else(|_| "changeit".to_owned());
    let ui_dir = std::env::var_os("ADMIN_UI_DIST")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(ferrio_tests::admin_ui::default_ui_dir);
    if !ui_dir.join("index.html").is_file() {
        eprintln!("admin-ui: no index.html in {} (run npm ci in tests/browser)", ui_dir.display());
    }
    let (router, _io) =
        ferrio_tests::admin_ui::app(&password, &ui_dir).map_err(std::io::Error::other)?;
    let listener = ferrio_tests::listen(port)?;
    println!("admin UI test server listening on http://{}", listener.local_addr()?);
    ferrio::serve(listener, router).await
}
